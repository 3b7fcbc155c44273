//! The decision vectors through the warp example server, over HTTP.

use clerk_auth_conformance::run_all;
use clerk_auth_examples::Example;

#[test]
fn warp_conformance() {
    run_all("warp", |options, listener| {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(clerk_auth_examples::warp::serve_until(
                Example::with_options(options),
                listener,
                async {
                    let _ = rx.await;
                },
            ))
        });
        Box::new(move || {
            let _ = tx.send(());
            let _ = thread.join();
        })
    });
}
