//! What webhook verification logs: the reason of a refusal, never the secret, a signature or the
//! body. A binary of its own: `tracing` caches callsite interest process-wide, so tests of other
//! binaries running without a subscriber cannot hide the events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use clerk_auth_core::testing::logs::capture_logs;
use clerk_auth_core::testing::{webhooks, FixedClock};
use clerk_auth_core::WebhookVerifier;

#[test]
fn refusals_log_their_reason_and_nothing_secret() {
    let secret = webhooks::generate_secret();
    let now = 1_733_212_345;
    let verifier = WebhookVerifier::builder()
        .signing_secret(secret.as_str())
        .clock(Arc::new(FixedClock::at_unix(now as u64)))
        .build()
        .unwrap();
    let body = br#"{"type":"user.created","data":{"first_name":"Bodytext-Marker"}}"#;
    let good = webhooks::request(&secret, "msg_1", now, body);
    let signature = good.headers()["svix-signature"]
        .to_str()
        .unwrap()
        .to_owned();
    let ((), logs) = capture_logs(tracing::Level::TRACE, || {
        assert!(verifier.verify(&good, body).is_ok());
        assert!(verifier.verify(&good, &body[1..]).is_err());
        let not_json = b"Bodytext-Marker";
        let signed = webhooks::request(&secret, "msg_1", now, not_json);
        assert!(verifier.verify(&signed, not_json).is_err());
    });
    assert!(logs.contains("webhook refused"), "{logs}");
    assert!(logs.contains("webhook-signature-mismatch"), "{logs}");
    assert!(logs.contains("webhook-payload-invalid"), "{logs}");
    for s in [
        secret.as_str(),
        &secret["whsec_".len()..][..12],
        &signature[3..15],
        "Bodytext-Marker",
    ] {
        assert!(!logs.contains(s), "{s:.8}… is logged: {logs}");
    }
}
