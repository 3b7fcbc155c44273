//! A development `__clerk_handshake` value that does not verify keeps its `500` (the contract,
//! [`AuthenticateError::HandshakeTokenInvalid`]) on every request, but is logged at most once a
//! minute per instance: any client can send one, and must not flood the error log. In a binary of
//! its own (the log capture is per thread and `tracing` caches callsite interest per process).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clerk_auth_core::testing::logs::capture_logs;
use clerk_auth_core::testing::KeyPair;
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::OwnedRequest;
use clerk_auth_core::{
    authenticate_request, try_authenticate_request, AuthenticateError, Interrupt, Options,
};
use serde_json::json;

const PK_TEST: &str = "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k";
const LINE: &str = "the request could not be decided";

fn options() -> Options {
    Options::builder()
        .publishable_key(PK_TEST)
        .secret_key("sk_test_undecidable_log")
        .jwt_key(KeyPair::shared().public_pem())
        .build()
        .unwrap()
}

/// A handshake token signed by another key: it does not verify on this development instance.
fn bad_handshake_request() -> OwnedRequest {
    let forged = KeyPair::shared_other().sign(
        json!({"alg": "RS256", "typ": "JWT", "kid": "ins_2test"}),
        json!({"handshake": ["__session=x; Path=/"]}),
    );
    TestRequest::get(format!(
        "https://app.example.com/dashboard?__clerk_handshake={forged}"
    ))
    .header("sec-fetch-dest", "document")
    .build()
}

#[test]
fn a_bad_development_handshake_token_is_a_500_every_time_but_logged_once_a_minute() {
    let request = bad_handshake_request();
    let (first, second) = (options(), options());
    let ((), logs) = capture_logs(tracing::Level::WARN, || {
        for i in 0..50 {
            let options = if i < 25 { &first } else { &second };
            let blocking = authenticate_request(&request, options);
            assert!(
                matches!(blocking, Err(AuthenticateError::HandshakeTokenInvalid(_))),
                "{blocking:?}"
            );
            let inline = try_authenticate_request(&request, options);
            assert!(
                matches!(
                    inline,
                    Err(Interrupt::Failed(AuthenticateError::HandshakeTokenInvalid(
                        _
                    )))
                ),
                "{inline:?}"
            );
        }
    });
    // 100 undecidable requests on two instances: one error line per instance.
    let lines: Vec<&str> = logs.lines().filter(|l| l.contains(LINE)).collect();
    assert_eq!(lines.len(), 2, "{logs}");
    assert!(lines.iter().all(|l| l.contains("ERROR")), "{logs}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains("Handshake token verification failed")),
        "{logs}"
    );
}
