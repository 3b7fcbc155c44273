//! The webhook scenarios every adapter and every example server must pass over real HTTP
//! (`POST` a delivery to a webhook route, check the answer), shared so that each suite runs the
//! same ones: [`webhook_scenarios!`](crate::webhook_scenarios) declares them as tests.
//!
//! A route under test verifies with [`SECRET`] (the body limit left at its 1 MiB default) and
//! answers a verified event `200` with [`answer`]'s JSON, as the examples' contract says:
//! `{"type":"<event type>","id":"<svix-id>","dataId":<data.id or null>}`. An *unconfigured*
//! route has no signing secret.
//!
//! Timestamps are the system clock's now (and ±10 minutes for the window): the servers verify
//! on the system clock, and no scenario waits for time to pass.

// Test tooling: a failed expectation is the test's failure.
#![allow(clippy::panic)]

use clerk_auth_core::testing::webhooks::{event_payload, headers, standard_headers, unix_now};
use clerk_auth_core::WebhookEvent;
use serde_json::json;

use crate::client::{agent, post, post_chunked, Reply};

/// The signing secret of the routes under test.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Another secret: deliveries signed with it are refused.
const OTHER_SECRET: &str = "whsec_dGhlIHdyb25nIHNlY3JldCBmb3IgdGVzdHM=";

/// The verifiers' default body limit.
const LIMIT: usize = 1024 * 1024;

/// The JSON a route under test answers a verified event with:
/// `{"type","id","dataId"}`.
pub fn answer(event: &WebhookEvent) -> String {
    json!({
        "type": event.event_type.as_str(),
        "id": event.message_id,
        "dataId": event.data_id(),
    })
    .to_string()
}

/// Posts `body` with the `headers` given, as `content-type: application/json`.
pub fn deliver(url: &str, headers: &[(&str, String)], body: &[u8]) -> Reply {
    post(&agent(), url, &with_json(headers), body)
}

fn with_json<'a>(headers: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    let mut all: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    all.push(("content-type", "application/json"));
    all
}

/// Posts `body` signed with [`SECRET`] now, as Clerk does.
pub fn deliver_signed(url: &str, id: &str, body: &[u8]) -> Reply {
    deliver(url, &headers(SECRET, id, unix_now(), body), body)
}

/// A `user.created` event for `user_id`.
fn user_created(user_id: &str) -> Vec<u8> {
    event_payload("user.created", json!({"id": user_id, "object": "user"}))
}

/// A `user.created` event padded with a `padding` string to exactly `len` bytes.
fn event_of_len(len: usize) -> Vec<u8> {
    let empty = event_payload(
        "user.created",
        json!({"id": "user_big", "object": "user", "padding": ""}),
    );
    let padding = "x".repeat(len.saturating_sub(empty.len()));
    let body = event_payload(
        "user.created",
        json!({"id": "user_big", "object": "user", "padding": padding}),
    );
    assert_eq!(body.len(), len, "the padded event's length");
    body
}

/// Asserts a `200` with the event's [`answer`].
pub fn assert_accepted(reply: &Reply, id: &str, data_id: &str, what: &str) {
    assert_eq!(reply.status, 200, "{what}: {}", reply.body);
    assert_eq!(
        reply.json(),
        json!({"type": "user.created", "id": id, "dataId": data_id}),
        "{what}"
    );
}

/// Asserts a `400` `{"status":"webhook-invalid","reason":reason,"message":message}`, as JSON.
pub fn assert_refused(reply: &Reply, reason: &str, message: &str, what: &str) {
    assert_eq!(reply.status, 400, "{what}: {}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{what}"
    );
    assert_eq!(
        reply.json(),
        json!({"status": "webhook-invalid", "reason": reason, "message": message}),
        "{what}"
    );
}

const MISMATCH: &str = "Unable to verify incoming webhook: No matching signature found";

/// Asserts a `400` `webhook-payload-too-large` for the default 1 MiB limit.
fn assert_too_large(reply: &Reply, what: &str) {
    assert_refused(
        reply,
        "webhook-payload-too-large",
        "Unable to verify incoming webhook: Payload is larger than the limit of 1048576 bytes",
        what,
    );
}

/// Delivers a signed `user.created` for `user_id` with the id `id`, asserts it is accepted, and
/// gives the reply (for more checks).
pub fn accepted_user_created(url: &str, id: &str, user_id: &str, what: &str) -> Reply {
    let reply = deliver_signed(url, id, &user_created(user_id));
    assert_accepted(&reply, id, user_id, what);
    reply
}

/// Delivers a signed body that is not JSON, asserts `400` `webhook-payload-invalid`, and gives
/// the reply.
pub fn refused_non_json(url: &str, what: &str) -> Reply {
    let reply = deliver_signed(url, "msg_text", b"not json at all");
    assert_refused(
        &reply,
        "webhook-payload-invalid",
        "Unable to verify incoming webhook: Payload is not valid JSON",
        what,
    );
    reply
}

/// A delivery signed as Clerk signs it: `200` with the event's type, the `svix-id` and `data.id`.
pub fn a_valid_event_is_answered_200(url: &str) {
    accepted_user_created(url, "msg_valid", "user_1", "valid");

    // An event type clerk-auth does not know, with a non-ASCII body: verified all the same.
    let body = event_payload("future.event", json!({"id": "x_1", "name": "Zoë ✓"}));
    let reply = deliver_signed(url, "msg_future", &body);
    assert_eq!(reply.status, 200, "unknown type: {}", reply.body);
    assert_eq!(
        reply.json(),
        json!({"type": "future.event", "id": "msg_future", "dataId": "x_1"})
    );
}

/// The Standard Webhooks header names (`webhook-id`, …) are read when no `svix-*` header is sent.
pub fn the_standard_webhooks_headers_are_accepted(url: &str) {
    let body = user_created("user_std");
    let reply = deliver(
        url,
        &standard_headers(SECRET, "msg_std", unix_now(), &body),
        &body,
    );
    assert_accepted(&reply, "msg_std", "user_std", "standard headers");
}

/// A 600 KiB event (over actix-web's 256 KiB and Rocket's 8 KiB defaults) is accepted.
pub fn a_600_kib_event_is_accepted(url: &str) {
    let body = event_of_len(600 * 1024);
    let reply = deliver_signed(url, "msg_600k", &body);
    assert_accepted(&reply, "msg_600k", "user_big", "600 KiB");
}

/// A body of exactly 1 MiB is accepted; 1 MiB + 1 byte is refused, `webhook-payload-too-large`.
pub fn the_limit_is_1_mib(url: &str) {
    let body = event_of_len(LIMIT);
    let reply = deliver_signed(url, "msg_1m", &body);
    assert_accepted(&reply, "msg_1m", "user_big", "exactly 1 MiB");

    let body = event_of_len(LIMIT + 1);
    assert_too_large(&deliver_signed(url, "msg_1m1", &body), "1 MiB + 1");
}

/// Sent chunked, without `content-length`, the body is bounded all the same: 1 MiB + 1 byte is
/// refused, a small event is accepted.
pub fn a_chunked_body_is_bounded_too(url: &str) {
    let small = user_created("user_chunked");
    let hs = headers(SECRET, "msg_chunked", unix_now(), &small);
    let reply = post_chunked(&agent(), url, &with_json(&hs), &small);
    assert_accepted(&reply, "msg_chunked", "user_chunked", "chunked");

    let big = event_of_len(LIMIT + 1);
    let hs = headers(SECRET, "msg_chunked_big", unix_now(), &big);
    let reply = post_chunked(&agent(), url, &with_json(&hs), &big);
    assert_too_large(&reply, "chunked 1 MiB + 1");
}

/// Signed with another secret, or with one byte of the body changed: `400`
/// `webhook-signature-mismatch`. The answer never repeats the signature or the body.
pub fn a_bad_signature_is_refused(url: &str) {
    let body = user_created("user_secret_value");
    let hs = headers(OTHER_SECRET, "msg_other", unix_now(), &body);
    let reply = deliver(url, &hs, &body);
    assert_refused(
        &reply,
        "webhook-signature-mismatch",
        MISMATCH,
        "other secret",
    );
    let signature = &hs[2].1;
    assert!(
        !reply.body.contains(&signature[3..]),
        "the signature echoed"
    );
    assert!(!reply.body.contains("user_secret_value"), "the body echoed");

    // One byte changed, or a trailing newline added, after signing.
    let hs = headers(SECRET, "msg_changed", unix_now(), &body);
    let changed =
        String::from_utf8_lossy(&body).replacen("user_secret_value", "user_secret_valuf", 1);
    let reply = deliver(url, &hs, changed.as_bytes());
    assert_refused(
        &reply,
        "webhook-signature-mismatch",
        MISMATCH,
        "changed byte",
    );
    let newline = [body.as_slice(), b"\n"].concat();
    let reply = deliver(url, &hs, &newline);
    assert_refused(
        &reply,
        "webhook-signature-mismatch",
        MISMATCH,
        "trailing newline",
    );

    // The signature of another message id.
    let mut hs = headers(SECRET, "msg_a", unix_now(), &body);
    hs[0].1 = "msg_b".to_owned();
    let reply = deliver(url, &hs, &body);
    assert_refused(
        &reply,
        "webhook-signature-mismatch",
        MISMATCH,
        "id mismatch",
    );
}

/// Missing or blank headers: `400` `webhook-headers-missing`, the message listing the missing
/// names in order.
pub fn missing_headers_are_named(url: &str) {
    let body = user_created("user_1");
    let reply = deliver(url, &[], &body);
    assert_refused(
        &reply,
        "webhook-headers-missing",
        "Missing required webhook headers: svix-id, svix-timestamp, svix-signature",
        "no headers",
    );

    let all = headers(SECRET, "msg_1", unix_now(), &body);
    let reply = deliver(url, &all[..1], &body);
    assert_refused(
        &reply,
        "webhook-headers-missing",
        "Missing required webhook headers: svix-timestamp, svix-signature",
        "only svix-id",
    );

    let mut blank = all.clone();
    blank[2].1 = "   ".to_owned();
    let reply = deliver(url, &blank, &body);
    assert_refused(
        &reply,
        "webhook-headers-missing",
        "Missing required webhook headers: svix-signature",
        "blank svix-signature",
    );
}

/// Ten minutes early or late: `400`, too old / too new.
pub fn timestamps_outside_the_window_are_refused(url: &str) {
    let body = user_created("user_1");
    for (offset, reason, message) in [
        (
            -600,
            "webhook-timestamp-too-old",
            "Unable to verify incoming webhook: Message timestamp too old",
        ),
        (
            600,
            "webhook-timestamp-too-new",
            "Unable to verify incoming webhook: Message timestamp too new",
        ),
    ] {
        let hs = headers(SECRET, "msg_time", unix_now() + offset, &body);
        let reply = deliver(url, &hs, &body);
        assert_refused(&reply, reason, message, reason);
    }
}

/// The body is parsed only after its signature verifies: a body that is not JSON is
/// `webhook-payload-invalid` when signed, `webhook-signature-mismatch` when not.
pub fn the_body_is_parsed_only_after_verification(url: &str) {
    refused_non_json(url, "signed non-JSON");
    let body = b"not json at all".as_slice();

    let hs = headers(OTHER_SECRET, "msg_text", unix_now(), body);
    let reply = deliver(url, &hs, body);
    assert_refused(
        &reply,
        "webhook-signature-mismatch",
        MISMATCH,
        "unsigned non-JSON",
    );
}

/// A route without a signing secret answers `500` JSON naming `CLERK_WEBHOOK_SIGNING_SECRET`,
/// even to a well-signed delivery.
pub fn no_secret_is_a_500_naming_the_variable(unconfigured_url: &str) {
    let reply = deliver_signed(unconfigured_url, "msg_1", &user_created("user_1"));
    assert_eq!(reply.status, 500, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    assert_eq!(body["status"], "error");
    assert_eq!(body["reason"], "webhook-secret-missing");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("CLERK_WEBHOOK_SIGNING_SECRET"),
        "{message}"
    );
}

/// Declares one `#[test]` per scenario of [`webhooks`](crate::webhooks), against the URL of a
/// route verifying with [`SECRET`] and the URL of a route without a secret (each expression is
/// evaluated in every test).
///
/// ```no_run
/// # /// The base URL of the server under test (started once per test binary, say).
/// # fn base() -> String { String::new() }
/// clerk_auth_vectors::webhook_scenarios! {
///     verified: format!("{}/api/webhooks/clerk", base()),
///     unconfigured: format!("{}/unconfigured/api/webhooks/clerk", base()),
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! webhook_scenarios {
    (verified: $verified:expr, unconfigured: $unconfigured:expr $(,)?) => {
        $crate::webhook_scenarios!(@tests $verified;
            a_valid_event_is_answered_200,
            the_standard_webhooks_headers_are_accepted,
            a_600_kib_event_is_accepted,
            the_limit_is_1_mib,
            a_chunked_body_is_bounded_too,
            a_bad_signature_is_refused,
            missing_headers_are_named,
            timestamps_outside_the_window_are_refused,
            the_body_is_parsed_only_after_verification,
        );
        #[test]
        fn no_secret_is_a_500_naming_the_variable() {
            $crate::webhooks::no_secret_is_a_500_naming_the_variable(&$unconfigured);
        }
    };
    (@tests $verified:expr; $($name:ident,)*) => {
        $(
            #[test]
            fn $name() {
                $crate::webhooks::$name(&$verified);
            }
        )*
    };
}
