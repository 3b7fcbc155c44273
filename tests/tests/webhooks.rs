//! Every example server's `POST /api/webhooks/clerk`, over HTTP: the shared webhook scenarios
//! (`clerk_auth_vectors::webhooks`) against each framework's example, configured from its
//! environment (`CLERK_WEBHOOK_SIGNING_SECRET` set, or not: `500` naming it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use clerk_auth_conformance::{listener, serve_in_thread, wait_ready};
use clerk_auth_core::testing::KeyPair;
use clerk_auth_examples::Example;
use clerk_auth_vectors::client::{agent, get, post};
use clerk_auth_vectors::webhooks::SECRET;

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";

#[derive(Clone, Copy)]
enum Framework {
    Actix,
    Rocket,
    Warp,
    Axum,
}

/// The example's configuration from an environment of `CLERK_*` variables: networkless keys, and
/// the webhook signing secret when `with_secret`.
fn example(with_secret: bool) -> Example {
    let pem = KeyPair::shared().public_pem();
    Example::from_lookup(|name| match name {
        "CLERK_SECRET_KEY" => Some("sk_live_conformance_webhooks".to_owned()),
        "CLERK_PUBLISHABLE_KEY" => Some(PK_LIVE.to_owned()),
        "CLERK_JWT_KEY" => Some(pem.clone()),
        "CLERK_API_URL" => Some("http://127.0.0.1:9".to_owned()),
        "CLERK_WEBHOOK_SIGNING_SECRET" if with_secret => Some(SECRET.to_owned()),
        _ => None,
    })
    .unwrap()
}

/// Starts `framework`'s example (once per test binary and configuration); its base URL.
fn base(framework: Framework, with_secret: bool) -> String {
    static SERVERS: [OnceLock<String>; 8] = [const { OnceLock::new() }; 8];
    let slot = framework as usize * 2 + usize::from(with_secret);
    SERVERS[slot]
        .get_or_init(|| {
            let example = example(with_secret);
            let listener = listener();
            let port = listener.local_addr().unwrap().port();
            // Rocket binds the port itself: free it here, so that `wait_ready` waits for Rocket.
            let listener = match framework {
                Framework::Rocket => {
                    drop(listener);
                    None
                }
                _ => Some(listener),
            };
            // Never stopped: the servers run until the test process ends (the stopper is
            // dropped unused, and the server ignores its shutdown signal).
            let forever = std::future::pending::<()>();
            let _ = serve_in_thread(move |_| async move {
                let served = match (framework, listener) {
                    (Framework::Actix, Some(listener)) => {
                        clerk_auth_examples::actix::serve_until(example, listener, forever).await
                    }
                    (Framework::Warp, Some(listener)) => {
                        clerk_auth_examples::warp::serve_until(example, listener, forever).await
                    }
                    (Framework::Axum, Some(listener)) => {
                        clerk_auth_examples::axum::serve_until(example, listener, forever).await
                    }
                    // The binary's own path.
                    _ => clerk_auth_examples::rocket::run(example, port).await,
                };
                served.unwrap();
            });
            wait_ready(port);
            format!("http://127.0.0.1:{port}")
        })
        .clone()
}

fn hook(framework: Framework, with_secret: bool) -> String {
    format!("{}/api/webhooks/clerk", base(framework, with_secret))
}

macro_rules! framework {
    ($module:ident, $framework:expr) => {
        mod $module {
            use super::*;

            clerk_auth_vectors::webhook_scenarios! {
                verified: hook($framework, true),
                unconfigured: hook($framework, false),
            }

            /// The contract's other routes are untouched: the webhook path answers other
            /// methods with the public page, and `/api/me` still wants a session.
            #[test]
            fn the_other_routes_are_as_before() {
                let base = base($framework, true);
                let page = get(&agent(), &format!("{base}/api/webhooks/clerk"), &[]);
                assert_eq!(page.status, 200);
                assert!(page.body.contains("signed-out"), "{}", page.body);
                let me = get(&agent(), &format!("{base}/api/me"), &[]);
                assert_eq!(me.status, 401);
                // A delivery to a path that is not exactly the route is the public page too.
                let slash = post(&agent(), &format!("{base}/api/webhooks/clerk/"), &[], b"{}");
                assert_eq!(slash.status, 200);
                assert!(slash.body.contains("signed-out"), "{}", slash.body);
            }
        }
    };
}

framework!(actix, Framework::Actix);
framework!(rocket, Framework::Rocket);
framework!(warp, Framework::Warp);
framework!(axum, Framework::Axum);

#[test]
fn a_signing_secret_that_does_not_decode_stops_the_example_naming_the_variable() {
    let error = Example::from_lookup(|name| {
        (name == "CLERK_WEBHOOK_SIGNING_SECRET").then(|| "whsec_not base64!".to_owned())
    })
    .err()
    .expect("a configuration error");
    assert_eq!(error.variable(), "CLERK_WEBHOOK_SIGNING_SECRET");
    assert!(!error.to_string().contains("not base64!"), "{error}");
}
