//! The decision vectors and the contract's authorization routes through the axum example server,
//! over HTTP.

use std::net::TcpListener;

use clerk_auth_conformance::{listener, run_all, run_authorization, serve_in_thread, wait_ready};
use clerk_auth_core::testing::KeyPair;
use clerk_auth_core::Options;
use clerk_auth_examples::Example;
use clerk_auth_vectors::client::{agent, get};

fn start(options: Options, listener: TcpListener) -> Box<dyn FnOnce()> {
    serve_in_thread(move |shutdown| {
        clerk_auth_examples::axum::serve_until(Example::with_options(options), listener, shutdown)
    })
}

#[test]
fn axum_conformance() {
    run_all("axum", start);
}

#[test]
fn axum_authorization() {
    run_authorization("axum", start);
}

/// The contract's routes are exact raw paths (`Route::of`): a trailing slash or a
/// percent-encoded letter is the public page, as on the other servers.
#[test]
fn axum_routes_are_exact_paths() {
    let options = Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_live_conformance_axum")
        .jwt_key(KeyPair::shared().public_pem())
        .build()
        .expect("options");
    let listener = listener();
    let port = listener.local_addr().expect("address").port();
    let stop = serve_in_thread(move |shutdown| {
        clerk_auth_examples::axum::serve_until(Example::with_options(options), listener, shutdown)
    });
    wait_ready(port);
    let agent = agent();
    let base = format!("http://127.0.0.1:{port}");
    for (path, status) in [
        ("/api/me", 401),
        ("/api/org-admin", 401),
        ("/api/reverify", 401),
        ("/api/reverify/", 200),
        ("/api/me/", 200),
        ("/api/%6De", 200),
        ("/API/me", 200),
    ] {
        let res = get(&agent, &format!("{base}{path}"), &[]);
        assert_eq!(res.status, status, "{path}");
        if status == 200 {
            assert!(res.body.contains("signed-out"), "{path}: {}", res.body);
        }
    }
    stop();
}
