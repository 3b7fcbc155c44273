//! The decision vectors through the actix-web example server, over HTTP.

use clerk_auth_conformance::run_all;
use clerk_auth_examples::Example;

#[test]
fn actix_conformance() {
    run_all("actix-web", |options, listener| {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(clerk_auth_examples::actix::serve_until(
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
