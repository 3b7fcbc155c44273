//! Signing webhooks as Clerk (Svix) does, to test a webhook handler without Svix.
//!
//! ```
//! use clerk_auth_core::testing::webhooks;
//! use clerk_auth_core::webhook::WebhookVerifier;
//!
//! let secret = webhooks::generate_secret();
//! let verifier = WebhookVerifier::builder().signing_secret(secret.as_str()).build()?;
//! let body = webhooks::event_payload("user.created", serde_json::json!({"id": "user_1", "object": "user"}));
//! let request = webhooks::request(&secret, "msg_1", webhooks::unix_now(), &body);
//! let event = verifier.verify(&request, request.body()).unwrap();
//! assert_eq!(event.data_id(), Some("user_1"));
//! # Ok::<(), clerk_auth_core::ConfigError>(())
//! ```

use std::time::SystemTime;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;
use serde_json::{json, Value};

use crate::webhook::secret::SigningKey;

/// The `svix-signature` value for a delivery: `v1,<standard base64 of HMAC-SHA256(key,
/// "{id}.{timestamp}.{body}")>`, the key being `secret` (`whsec_` optional) base64-decoded.
///
/// # Panics
/// If `secret` does not decode (test-only code).
#[allow(clippy::expect_used)]
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = SigningKey::decode(secret).expect("a webhook signing secret that decodes");
    let timestamp = timestamp.to_string();
    let signature = key
        .sign(&[id.as_bytes(), b".", timestamp.as_bytes(), b".", body])
        .expect("HMAC-SHA256");
    format!("v1,{signature}")
}

/// The headers of a signed delivery, as Clerk sends them: `svix-id`, `svix-timestamp`,
/// `svix-signature` (see [`sign`]).
///
/// # Panics
/// If `secret` does not decode (test-only code).
pub fn headers(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    named_headers(
        ["svix-id", "svix-timestamp", "svix-signature"],
        secret,
        id,
        timestamp,
        body,
    )
}

/// Like [`headers`], with the Standard Webhooks names `webhook-id`, `webhook-timestamp`,
/// `webhook-signature`.
///
/// # Panics
/// If `secret` does not decode (test-only code).
pub fn standard_headers(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    named_headers(
        ["webhook-id", "webhook-timestamp", "webhook-signature"],
        secret,
        id,
        timestamp,
        body,
    )
}

fn named_headers(
    [id_name, timestamp_name, signature_name]: [&'static str; 3],
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    vec![
        (id_name, id.to_owned()),
        (timestamp_name, timestamp.to_string()),
        (signature_name, sign(secret, id, timestamp, body)),
    ]
}

/// A signed `POST /api/webhooks/clerk` with `content-type: application/json`, the [`headers`]
/// and `body`: hand it to [`WebhookVerifier::verify`](crate::WebhookVerifier::verify) with
/// `request.body()`, or send its parts to a test server.
///
/// # Panics
/// If `secret` does not decode (test-only code).
#[allow(clippy::expect_used)]
pub fn request(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> http::Request<Vec<u8>> {
    let mut builder = http::Request::post("/api/webhooks/clerk")
        .header(http::header::CONTENT_TYPE, "application/json");
    for (name, value) in headers(secret, id, timestamp, body) {
        builder = builder.header(name, value);
    }
    builder
        .body(body.to_vec())
        .expect("a request of valid header names and values")
}

/// A fresh random signing secret in Clerk's form: `whsec_` and 24 random bytes in base64.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// The current time in Unix seconds (the system clock), for [`sign`] with a verifier on the
/// system clock.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A Clerk-shaped event body: `{"type", "object": "event", "data", "event_attributes":
/// {"http_request": {"client_ip": "127.0.0.1", "user_agent": "clerk-auth-test"}},
/// "instance_id": "ins_test", "timestamp": 1733212345000}`.
pub fn event_payload(event_type: &str, data: Value) -> Vec<u8> {
    json!({
        "type": event_type,
        "object": "event",
        "data": data,
        "event_attributes": {"http_request": {"client_ip": "127.0.0.1", "user_agent": "clerk-auth-test"}},
        "instance_id": "ins_test",
        "timestamp": 1_733_212_345_000_i64,
    })
    .to_string()
    .into_bytes()
}
