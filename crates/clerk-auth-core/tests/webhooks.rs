//! Webhook verification through the core (§9): signatures, headers, the timestamp window,
//! payloads, limits, configuration, and that nothing secret is ever shown (logs: `webhook_logs.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use clerk_auth_core::testing::{webhooks, FixedClock};
use clerk_auth_core::webhook::{
    DeletedObjectData, EventType, OrganizationMembershipData, PayloadProblem, UserData,
    WebhookErrorReason, WebhookVerifier, DEFAULT_MAX_BODY_BYTES,
};
use clerk_auth_core::{ConfigError, WebhookError, WebhookEvent};
use serde::Deserialize;
use serde_json::{json, Value};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW: i64 = 1_733_212_345;
const ID: &str = "msg_2bTy3Sb0bbvQ3Z4zJVhY3n9i2Vw";

type Headers = Vec<(&'static str, String)>;

fn verifier_at(now: i64) -> WebhookVerifier {
    WebhookVerifier::builder()
        .signing_secret(SECRET)
        .clock(Arc::new(FixedClock::at_unix(now as u64)))
        .build()
        .unwrap()
}

fn verifier() -> WebhookVerifier {
    verifier_at(NOW)
}

fn user_body() -> Vec<u8> {
    webhooks::event_payload(
        "user.created",
        json!({"id": "user_1", "object": "user", "first_name": "Ada"}),
    )
}

fn signed(body: &[u8]) -> Headers {
    webhooks::headers(SECRET, ID, NOW, body)
}

fn verify_with(
    v: &WebhookVerifier,
    headers: &[(&str, String)],
    body: &[u8],
) -> Result<WebhookEvent, WebhookError> {
    v.verify_headers(
        |name| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_bytes())
        },
        body,
    )
}

fn verify(headers: &[(&str, String)], body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    verify_with(&verifier(), headers, body)
}

/// Verifies header values given as raw bytes (as they come off the wire).
fn verify_raw(headers: &[(&str, Vec<u8>)], body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    verifier().verify_headers(
        |name| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_slice())
        },
        body,
    )
}

/// `headers` as raw bytes, `edit` applied to each value.
fn raw(headers: Headers, edit: impl Fn(&str, Vec<u8>) -> Vec<u8>) -> Vec<(&'static str, Vec<u8>)> {
    headers
        .into_iter()
        .map(|(n, v)| (n, edit(n, v.into_bytes())))
        .collect()
}

fn set(headers: &mut Headers, name: &str, value: &str) {
    headers.iter_mut().find(|(n, _)| *n == name).unwrap().1 = value.to_owned();
}

#[track_caller]
fn assert_refused(
    result: Result<WebhookEvent, WebhookError>,
    reason: WebhookErrorReason,
    message: &str,
) {
    let err = result.unwrap_err();
    assert_eq!(err.reason(), reason, "{err}");
    assert_eq!(err.message(), message);
    assert_eq!(err.status(), 400);
    let body: Value = serde_json::from_str(&err.body_json()).unwrap();
    assert_eq!(
        body,
        json!({"status": "webhook-invalid", "reason": reason.as_str(), "message": message})
    );
}

const MISMATCH: &str = "Unable to verify incoming webhook: No matching signature found";

#[track_caller]
fn assert_mismatch(result: Result<WebhookEvent, WebhookError>) {
    assert_refused(result, WebhookErrorReason::SignatureMismatch, MISMATCH);
}

#[test]
fn a_valid_delivery_gives_the_event() {
    let body = user_body();
    let event = verify(&signed(&body), &body).unwrap();
    assert_eq!(event.message_id, ID);
    assert_eq!(event.event_type, EventType::UserCreated);
    assert_eq!(event.object.as_deref(), Some("event"));
    assert_eq!(event.instance_id.as_deref(), Some("ins_test"));
    assert_eq!(event.timestamp, Some(1_733_212_345_000));
    assert_eq!(event.data_id(), Some("user_1"));
    assert_eq!(event.client_ip(), Some("127.0.0.1"));
    assert_eq!(event.user_agent(), Some("clerk-auth-test"));
    assert_eq!(event.data["first_name"], "Ada");

    // The same through a request view.
    let request = webhooks::request(SECRET, ID, NOW, &body);
    assert_eq!(verifier().verify(&request, request.body()).unwrap(), event);
    let dynamic: &dyn clerk_auth_core::RequestView = &request;
    assert_eq!(verifier().verify(dynamic, &body).unwrap(), event);
}

/// Svix's published example: secret `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`, id
/// `msg_p5jXN8AQM9LWM0D4loKWxJek`, timestamp 1614265330, body `{"test": 2432232314}`. The
/// expected value was computed independently with Python:
/// `base64.b64encode(hmac.new(base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
/// b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}', hashlib.sha256).digest())`.
#[test]
fn the_signature_matches_an_independent_computation() {
    let body = br#"{"test": 2432232314}"#;
    let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    assert_eq!(
        webhooks::sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body),
        expected
    );
    let headers = vec![
        ("svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek".to_owned()),
        ("svix-timestamp", "1614265330".to_owned()),
        ("svix-signature", expected.to_owned()),
    ];
    // The signature holds; the body is then refused for not being a Clerk event (no `type`).
    let err = verify_with(&verifier_at(1_614_265_330), &headers, body).unwrap_err();
    assert_eq!(
        err,
        WebhookError::PayloadInvalid(PayloadProblem::NoEventType)
    );
}

/// A non-ASCII (multibyte UTF-8) body. Expected signature computed with Python:
/// `base64.b64encode(hmac.new(base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
/// "msg_2bTy3Sb0bbvQ3Z4zJVhY3n9i2Vw.1733212345.".encode() + BODY.encode(), hashlib.sha256).digest())`.
#[test]
fn a_non_ascii_body_verifies_byte_for_byte() {
    let body = r#"{"type":"user.created","object":"event","data":{"id":"user_29w83sxmDNGwOuEthce5gg56FcC","object":"user","first_name":"Zoë","last_name":"Ünïcødé 日本"}}"#;
    let expected = "v1,VNpa7ZqqDxU19Ic323SiGMTiE3GaMrQ/UMKA0sjR3xo=";
    assert_eq!(webhooks::sign(SECRET, ID, NOW, body.as_bytes()), expected);
    let mut headers = signed(body.as_bytes());
    set(&mut headers, "svix-signature", expected);
    let event = verify(&headers, body.as_bytes()).unwrap();
    let user = event.user().unwrap().unwrap();
    assert_eq!(user.first_name.as_deref(), Some("Zoë"));
    assert_eq!(user.last_name.as_deref(), Some("Ünïcødé 日本"));
}

#[test]
fn any_matching_v1_signature_of_several_is_enough() {
    let body = user_body();
    let good = webhooks::sign(SECRET, ID, NOW, &body);
    let other = webhooks::sign(&webhooks::generate_secret(), ID, NOW, &body);
    let good_sig = good.strip_prefix("v1,").unwrap();
    for list in [
        format!("{other} {good}"),
        format!("{good} {other}"),
        format!("v2,{good_sig} {other}  {good}"),
        format!("v1a,x v1,{good_sig}"),
    ] {
        let mut headers = signed(&body);
        set(&mut headers, "svix-signature", &list);
        assert!(verify(&headers, &body).is_ok(), "{list:.20}");
    }
}

#[test]
fn only_v1_signatures_count() {
    let body = user_body();
    let good = webhooks::sign(SECRET, ID, NOW, &body);
    let sig = good.strip_prefix("v1,").unwrap();
    for list in [
        format!("v2,{sig}"),
        format!("v1a,{sig}"),
        format!("V1,{sig}"),
        format!("v1a,{sig} v0,{sig}"),
        sig.to_owned(),
        format!("v1,{sig},"),
        format!("v1, {sig}"),
    ] {
        let mut headers = signed(&body);
        set(&mut headers, "svix-signature", &list);
        assert_mismatch(verify(&headers, &body));
    }
}

#[test]
fn another_secret_does_not_verify() {
    let body = user_body();
    let headers = webhooks::headers(&webhooks::generate_secret(), ID, NOW, &body);
    assert_mismatch(verify(&headers, &body));
}

#[test]
fn any_one_changed_byte_of_the_body_is_refused() {
    let body = user_body();
    let headers = signed(&body);
    for i in 0..body.len() {
        let mut changed = body.clone();
        changed[i] ^= 0x01;
        assert_mismatch(verify(&headers, &changed));
    }
}

#[test]
fn a_trailing_newline_is_a_different_body() {
    let body = user_body();
    let headers = signed(&body);
    let mut with_newline = body.clone();
    with_newline.push(b'\n');
    assert_mismatch(verify(&headers, &with_newline));
    // And the reverse: signed with the newline, sent without.
    assert_mismatch(verify(&signed(&with_newline), &body));
}

#[test]
fn the_id_is_signed() {
    let body = user_body();
    let mut headers = signed(&body);
    set(&mut headers, "svix-id", "msg_other");
    assert_mismatch(verify(&headers, &body));
}

#[test]
fn the_timestamp_is_signed() {
    let body = user_body();
    let mut headers = signed(&body);
    set(&mut headers, "svix-timestamp", &(NOW + 1).to_string());
    assert_mismatch(verify(&headers, &body));
}

#[test]
fn the_window_is_five_minutes_both_ways() {
    let body = user_body();
    let at = |ts: i64| verify(&webhooks::headers(SECRET, ID, ts, &body), &body);
    assert!(at(NOW - 300).is_ok());
    assert!(at(NOW + 300).is_ok());
    assert_refused(
        at(NOW - 301),
        WebhookErrorReason::TimestampTooOld,
        "Unable to verify incoming webhook: Message timestamp too old",
    );
    assert_refused(
        at(NOW + 301),
        WebhookErrorReason::TimestampTooNew,
        "Unable to verify incoming webhook: Message timestamp too new",
    );
    assert_eq!(
        at(NOW - 301).unwrap_err(),
        WebhookError::TimestampTooOld {
            timestamp: NOW - 301,
            now: NOW
        }
    );
}

#[test]
fn the_window_follows_the_clock() {
    let body = user_body();
    let clock = Arc::new(FixedClock::at_unix(NOW as u64));
    let v = WebhookVerifier::builder()
        .signing_secret(SECRET)
        .clock(clock.clone())
        .build()
        .unwrap();
    let headers = signed(&body);
    assert!(verify_with(&v, &headers, &body).is_ok());
    // A replay 300.999 s later is still in (whole seconds), 301 s later it is not.
    clock.advance(Duration::from_millis(300_999));
    assert!(verify_with(&v, &headers, &body).is_ok());
    clock.advance(Duration::from_millis(1));
    assert_eq!(
        verify_with(&v, &headers, &body).unwrap_err().reason(),
        WebhookErrorReason::TimestampTooOld
    );
}

#[test]
fn a_fractional_timestamp_is_read_as_its_integer() {
    let body = user_body();
    let mut headers = signed(&body);
    set(&mut headers, "svix-timestamp", &format!("{NOW}.678"));
    assert_eq!(verify(&headers, &body).unwrap().message_id, ID);
    for text in [
        format!(" {NOW}\t"),
        format!("+{NOW}"),
        format!("{NOW}abc"),
        format!("{NOW}e3"),
    ] {
        set(&mut headers, "svix-timestamp", &text);
        assert!(verify(&headers, &body).is_ok(), "{text:?}");
    }
}

#[test]
fn a_timestamp_without_leading_digits_is_invalid() {
    let body = user_body();
    for text in [
        "abc",
        "-",
        "+",
        ".5",
        "x1733212345",
        "- 1733212345",
        "\u{661}",
    ] {
        let mut headers = signed(&body);
        set(&mut headers, "svix-timestamp", text);
        assert_refused(
            verify(&headers, &body),
            WebhookErrorReason::TimestampInvalid,
            "Unable to verify incoming webhook: Invalid Signature Headers",
        );
    }
}

#[test]
fn extreme_timestamps_are_outside_the_window() {
    let body = user_body();
    for (text, reason) in [
        ("0", WebhookErrorReason::TimestampTooOld),
        ("-1733212345", WebhookErrorReason::TimestampTooOld),
        ("0x6750d6b9", WebhookErrorReason::TimestampTooOld),
        (
            "99999999999999999999999999",
            WebhookErrorReason::TimestampTooNew,
        ),
        (
            "-99999999999999999999999999",
            WebhookErrorReason::TimestampTooOld,
        ),
        ("1733212345000", WebhookErrorReason::TimestampTooNew),
    ] {
        let mut headers = signed(&body);
        set(&mut headers, "svix-timestamp", text);
        assert_eq!(
            verify(&headers, &body).unwrap_err().reason(),
            reason,
            "{text}"
        );
    }
}

#[test]
fn missing_headers_are_listed_in_order() {
    let body = user_body();
    let names = ["svix-id", "svix-timestamp", "svix-signature"];
    for mask in 1u8..8 {
        let missing: Vec<&str> = (0..3)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| names[i])
            .collect();
        let expected = format!("Missing required webhook headers: {}", missing.join(", "));
        // Absent.
        let absent: Headers = signed(&body)
            .into_iter()
            .filter(|(n, _)| !missing.contains(n))
            .collect();
        assert_refused(
            verify(&absent, &body),
            WebhookErrorReason::HeadersMissing,
            &expected,
        );
        // Present but blank: JavaScript's trim of the value Node.js reads (Latin-1 bytes), so
        // spaces, tabs, CR/LF, vertical tab, form feed and the no-break space 0xA0.
        for blank in [&b""[..], b" ", b"\t \r\n", b"\x0b\x0c", b"\xa0", b" \xa0\t"] {
            let headers = raw(signed(&body), |n, v| {
                if missing.contains(&n) {
                    blank.to_vec()
                } else {
                    v
                }
            });
            assert_refused(
                verify_raw(&headers, &body),
                WebhookErrorReason::HeadersMissing,
                &expected,
            );
        }
    }
}

#[test]
fn header_values_are_trimmed() {
    let body = user_body();
    let headers = raw(signed(&body), |_, v| {
        [&b" \t\xa0"[..], &v, b"\xa0 \t"].concat()
    });
    assert_eq!(verify_raw(&headers, &body).unwrap().message_id, ID);
    // UTF-8 white space is not Latin-1 white space: "\u{a0}" sent as UTF-8 (C2 A0) reads as
    // "\u{c2}\u{a0}", which JavaScript does not trim (so the id, here, is not the signed one).
    let headers = raw(signed(&body), |n, v| {
        if n == "svix-id" {
            [&v[..], "\u{a0}".as_bytes()].concat()
        } else {
            v
        }
    });
    assert_mismatch(verify_raw(&headers, &body));
}

#[test]
fn header_bytes_are_read_as_latin1_like_node() {
    // Node.js reads the header byte 0xFF as U+00FF and signs it as UTF-8 (C3 BF).
    let body = user_body();
    let headers = webhooks::headers(SECRET, "msg_\u{ff}", NOW, &body);
    let headers = raw(headers, |n, v| {
        if n == "svix-id" {
            b"msg_\xff".to_vec()
        } else {
            v
        }
    });
    let event = verify_raw(&headers, &body).unwrap();
    assert_eq!(event.message_id, "msg_\u{ff}");
}

#[test]
fn a_body_that_is_not_json_is_refused_after_its_signature() {
    for body in [
        &b"not json"[..],
        b"",
        b"{\"type\":\"user.created\"",
        b"\xff\xfe",
        b"{\"type\":\"a\"} x",
    ] {
        assert_refused(
            verify(&signed(body), body),
            WebhookErrorReason::PayloadInvalid,
            "Unable to verify incoming webhook: Payload is not valid JSON",
        );
        // Unsigned garbage is a signature mismatch, not a payload error: the body is not read.
        assert_mismatch(verify(&signed(b"other"), body));
    }
}

#[test]
fn json_without_a_string_type_is_refused() {
    for body in [
        "{}",
        r#"{"type":5}"#,
        r#"{"type":null,"data":{}}"#,
        r#"{"type":["user.created"]}"#,
        "[]",
        r#""user.created""#,
        "null",
        "42",
    ] {
        assert_refused(
            verify(&signed(body.as_bytes()), body.as_bytes()),
            WebhookErrorReason::PayloadInvalid,
            "Unable to verify incoming webhook: Payload is not a JSON object with a string type",
        );
    }
}

#[test]
fn the_body_limit_is_inclusive_and_checked_first() {
    let body = user_body();
    let limit = body.len();
    let v = WebhookVerifier::builder()
        .signing_secret(SECRET)
        .max_body_bytes(limit)
        .clock(Arc::new(FixedClock::at_unix(NOW as u64)))
        .build()
        .unwrap();
    assert_eq!(v.max_body_bytes(), limit);
    assert!(verify_with(&v, &signed(&body), &body).is_ok());
    let mut over = body.clone();
    over.push(b' ');
    let err = verify_with(&v, &signed(&over), &over).unwrap_err();
    assert_eq!(
        err,
        WebhookError::PayloadTooLarge {
            len: limit + 1,
            limit
        }
    );
    assert_refused(
        Err(err),
        WebhookErrorReason::PayloadTooLarge,
        &format!(
            "Unable to verify incoming webhook: Payload is larger than the limit of {limit} bytes"
        ),
    );
    // Before the headers are even looked at.
    assert_eq!(
        verify_with(&v, &[], &over).unwrap_err().reason(),
        WebhookErrorReason::PayloadTooLarge
    );
}

#[test]
fn the_default_limit_is_one_mebibyte() {
    assert_eq!(DEFAULT_MAX_BODY_BYTES, 1024 * 1024);
    let event = |len: usize| {
        let mut body = br#"{"type":"user.created","data":{"pad":""#.to_vec();
        let tail = br#""}}"#;
        body.resize(len - tail.len(), b'x');
        body.extend_from_slice(tail);
        assert_eq!(body.len(), len);
        body
    };
    let exact = event(DEFAULT_MAX_BODY_BYTES);
    assert!(verify(&signed(&exact), &exact).is_ok());
    let over = event(DEFAULT_MAX_BODY_BYTES + 1);
    assert_eq!(
        verify(&signed(&over), &over).unwrap_err().reason(),
        WebhookErrorReason::PayloadTooLarge
    );
}

#[test]
fn standard_webhooks_header_names_are_accepted() {
    let body = user_body();
    let headers = webhooks::standard_headers(SECRET, ID, NOW, &body);
    assert_eq!(verify(&headers, &body).unwrap().message_id, ID);

    // Missing ones are then named by that convention.
    let partial: Headers = headers
        .into_iter()
        .filter(|(n, _)| *n == "webhook-id")
        .collect();
    assert_refused(
        verify(&partial, &body),
        WebhookErrorReason::HeadersMissing,
        "Missing required webhook headers: webhook-timestamp, webhook-signature",
    );
}

#[test]
fn svix_headers_win_and_are_not_mixed_with_standard_ones() {
    let body = user_body();
    let mut both = signed(&body);
    both.extend(webhooks::standard_headers(
        &webhooks::generate_secret(),
        "msg_x",
        1,
        &body,
    ));
    assert!(verify(&both, &body).is_ok());

    let mut both = webhooks::headers(&webhooks::generate_secret(), ID, NOW, &body);
    both.extend(webhooks::standard_headers(SECRET, ID, NOW, &body));
    assert_mismatch(verify(&both, &body));

    let mut mixed: Headers = signed(&body)
        .into_iter()
        .filter(|(n, _)| *n != "svix-signature")
        .collect();
    mixed.extend(webhooks::standard_headers(SECRET, ID, NOW, &body));
    assert_refused(
        verify(&mixed, &body),
        WebhookErrorReason::HeadersMissing,
        "Missing required webhook headers: svix-signature",
    );
}

#[test]
fn an_unknown_event_type_verifies_and_parses() {
    let body = webhooks::event_payload(
        "session.pending",
        json!({"id": "sess_1", "object": "session"}),
    );
    let event = verify(&signed(&body), &body).unwrap();
    assert_eq!(
        event.event_type,
        EventType::Other("session.pending".to_owned())
    );
    assert_eq!(event.event_type.as_str(), "session.pending");
    assert!(!event.event_type.is_known());
    assert_eq!(event.session().unwrap().unwrap().id, "sess_1");
}

#[test]
fn a_secret_without_the_prefix_is_the_same_key() {
    let bare = SECRET.strip_prefix("whsec_").unwrap();
    let v = WebhookVerifier::builder()
        .signing_secret(bare)
        .clock(Arc::new(FixedClock::at_unix(NOW as u64)))
        .build()
        .unwrap();
    let body = user_body();
    assert!(verify_with(&v, &signed(&body), &body).is_ok());
    assert!(verify_with(&v, &webhooks::headers(bare, ID, NOW, &body), &body).is_ok());
}

#[test]
fn an_undecodable_secret_is_a_start_up_error_naming_the_variable() {
    for secret in [
        "whsec_not base64!",
        "whsec_",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
        "sk_test_abc",
    ] {
        let from_env = WebhookVerifier::from_env_with(|name| {
            (name == "CLERK_WEBHOOK_SIGNING_SECRET").then(|| secret.to_owned())
        })
        .unwrap_err();
        let from_builder = WebhookVerifier::builder()
            .signing_secret(secret)
            .build()
            .unwrap_err();
        for err in [from_env, from_builder] {
            assert!(
                matches!(err, ConfigError::InvalidWebhookSecret(_)),
                "{secret}: {err:?}"
            );
            assert_eq!(err.variable(), "CLERK_WEBHOOK_SIGNING_SECRET");
            let text = err.to_string();
            assert!(text.contains("CLERK_WEBHOOK_SIGNING_SECRET"), "{text}");
            let report = clerk_auth_core::self_check::SelfCheckReport::from_config_error(&err);
            let finding = &report.findings()[0];
            assert!(finding.is_error());
            assert_eq!(finding.variable(), "CLERK_WEBHOOK_SIGNING_SECRET");
            assert!(
                finding.message().contains("does not decode"),
                "{}",
                finding.message()
            );
            assert!(
                !text.contains(secret.trim_start_matches("whsec_")) || secret == "whsec_",
                "{text}"
            );
        }
    }
}

#[test]
fn a_missing_secret_is_a_start_up_error_unless_allowed() {
    let clerk = "Missing webhook signing secret. Set the CLERK_WEBHOOK_SIGNING_SECRET environment \
                 variable with the webhook secret from the Clerk Dashboard.";
    for value in [None, Some(String::new())] {
        let err = WebhookVerifier::from_env_with(|_| value.clone()).unwrap_err();
        assert_eq!(err, ConfigError::MissingWebhookSecret);
        assert_eq!(err.to_string(), clerk);
        assert_eq!(err.variable(), "CLERK_WEBHOOK_SIGNING_SECRET");
        let report = clerk_auth_core::self_check::SelfCheckReport::from_config_error(&err);
        assert_eq!(
            report.findings()[0].variable(),
            "CLERK_WEBHOOK_SIGNING_SECRET"
        );
        assert!(report.findings()[0]
            .message()
            .contains("no webhook signing secret"));
    }
    assert_eq!(
        WebhookVerifier::builder().build().unwrap_err(),
        ConfigError::MissingWebhookSecret
    );

    // The example servers start without one and answer 500 naming the variable.
    let unconfigured = clerk_auth_core::webhook::WebhookVerifierBuilder::from_env_with(|_| None)
        .unwrap()
        .allow_missing_secret()
        .build()
        .unwrap();
    assert!(!unconfigured.has_signing_secret());
    let body = user_body();
    let err = verify_with(&unconfigured, &signed(&body), &body).unwrap_err();
    assert_eq!(err, WebhookError::SecretMissing);
    assert_eq!(err.reason().as_str(), "webhook-secret-missing");
    assert_eq!(err.status(), 500);
    assert_eq!(err.message(), clerk);
    let json: Value = serde_json::from_str(&err.body_json()).unwrap();
    assert_eq!(
        json,
        json!({"status": "error", "reason": "webhook-secret-missing", "message": clerk})
    );

    // Allowing a missing secret does not excuse a bad one.
    assert!(WebhookVerifier::builder()
        .allow_missing_secret()
        .signing_secret("whsec_!")
        .build()
        .is_err());
}

#[test]
fn debug_and_errors_never_show_the_secret_signature_or_body() {
    let body = webhooks::event_payload(
        "user.created",
        json!({"id": "user_1", "object": "user", "first_name": "Bodytext-Marker"}),
    );
    let headers = signed(&body);
    let signature = headers[2].1.clone();
    let secrets = [
        SECRET.to_owned(),
        SECRET["whsec_".len()..][..12].to_owned(),
        signature[3..15].to_owned(),
        "Bodytext-Marker".to_owned(),
    ];
    let builder = WebhookVerifier::builder().signing_secret(SECRET);
    let v = verifier();
    let event = verify(&headers, &body).unwrap();
    let mut bad = headers.clone();
    set(
        &mut bad,
        "svix-signature",
        &format!("{signature} v1,{}", &signature[3..]),
    );
    {
        let errors = [
            verify(&bad, &body[..body.len() - 1]).unwrap_err(),
            verify(&signed(b"Bodytext-Marker"), b"Bodytext-Marker").unwrap_err(),
            verify(&signed(b"[\"Bodytext-Marker\"]"), b"[\"Bodytext-Marker\"]").unwrap_err(),
        ];
        let mut texts = vec![
            format!("{builder:?}"),
            format!("{v:?}"),
            format!("{v:#?}"),
            format!("{event:?}"),
        ];
        for e in &errors {
            texts.extend([format!("{e:?}"), e.to_string(), e.body_json()]);
        }
        let data_err = event.data_as::<u64>().unwrap_err();
        texts.extend([format!("{data_err:?}"), data_err.to_string()]);
        for text in texts {
            for s in &secrets {
                assert!(!text.contains(s.as_str()), "{s:.8}… shows in {text}");
            }
        }
    }
}

#[test]
fn data_as_reads_any_shape() {
    #[derive(Deserialize)]
    struct Mine {
        id: String,
        first_name: String,
    }
    let body = user_body();
    let event = verify(&signed(&body), &body).unwrap();
    let mine: Mine = event.data_as().unwrap();
    assert_eq!(
        (mine.id.as_str(), mine.first_name.as_str()),
        ("user_1", "Ada")
    );
    let err = event.data_as::<Vec<String>>().unwrap_err();
    assert!(err.to_string().contains("Vec"), "{err}");
}

#[test]
fn typed_user_data_keeps_unknown_fields() {
    let body = webhooks::event_payload(
        "user.updated",
        json!({
            "id": "user_1",
            "object": "user",
            "first_name": "Ada",
            "primary_email_address_id": "idn_1",
            "email_addresses": [{"id": "idn_1", "email_address": "ada@example.com", "linked_to": []}],
            "public_metadata": {"plan": "pro"},
            "private_metadata": null,
            "created_at": 1_733_212_345_000_i64,
            "two_factor_enabled": true,
            "brand_new_field": {"x": 1}
        }),
    );
    let event = verify(&signed(&body), &body).unwrap();
    let user: UserData = event.user().unwrap().unwrap();
    assert_eq!(user, event.data_as::<UserData>().unwrap());
    assert_eq!(user.primary_email_address(), Some("ada@example.com"));
    assert_eq!(user.public_metadata["plan"], "pro");
    assert!(user.private_metadata.is_empty());
    assert_eq!(user.created_at, Some(1_733_212_345_000));
    assert_eq!(user.extra["two_factor_enabled"], true);
    assert_eq!(user.extra["brand_new_field"], json!({"x": 1}));
    assert_eq!(
        serde_json::to_value(&user).unwrap()["brand_new_field"],
        json!({"x": 1})
    );
    assert!(event.deleted().is_none() && event.organization().is_none());
}

#[test]
fn typed_deleted_data_keeps_unknown_fields() {
    let body = webhooks::event_payload(
        "user.deleted",
        json!({"id": "user_1", "object": "user", "deleted": true, "external_id": "42"}),
    );
    let event = verify(&signed(&body), &body).unwrap();
    assert_eq!(event.event_type, EventType::UserDeleted);
    assert!(event.user().is_none());
    let deleted: DeletedObjectData = event.deleted().unwrap().unwrap();
    assert_eq!(deleted.id.as_deref(), Some("user_1"));
    assert_eq!(deleted.object.as_deref(), Some("user"));
    assert!(deleted.deleted);
    assert_eq!(deleted.extra["external_id"], "42");
}

#[test]
fn typed_membership_and_organization_data() {
    let body = webhooks::event_payload(
        "organizationMembership.created",
        json!({
            "id": "orgmem_1",
            "object": "organization_membership",
            "role": "org:admin",
            "permissions": ["org:sys_memberships:manage"],
            "organization": {"id": "org_1", "object": "organization", "name": "Acme", "slug": "acme", "logo": "x"},
            "public_user_data": {"user_id": "user_1", "identifier": "ada@example.com", "has_image": false},
            "public_metadata": {}
        }),
    );
    let event = verify(&signed(&body), &body).unwrap();
    assert_eq!(event.event_type, EventType::OrganizationMembershipCreated);
    let m: OrganizationMembershipData = event.organization_membership().unwrap().unwrap();
    assert_eq!(m.role.as_deref(), Some("org:admin"));
    assert_eq!(m.organization.slug.as_deref(), Some("acme"));
    assert_eq!(m.organization.extra["logo"], "x");
    assert_eq!(m.public_user_data.user_id, "user_1");
    assert!(event.organization().is_none() && event.user().is_none());

    let body = webhooks::event_payload(
        "organization.created",
        json!({"id": "org_1", "object": "organization", "name": "Acme"}),
    );
    let event = verify(&signed(&body), &body).unwrap();
    assert_eq!(
        event.organization().unwrap().unwrap().name.as_deref(),
        Some("Acme")
    );

    // Data of the right kind that does not fit is an error, not None.
    let body = webhooks::event_payload("organization.created", json!({"object": "organization"}));
    let event = verify(&signed(&body), &body).unwrap();
    let err = event.organization().unwrap().unwrap_err();
    assert!(
        err.detail().contains("missing field `id`"),
        "{}",
        err.detail()
    );
}

#[test]
fn hostile_headers_and_bodies_never_panic() {
    let v = verifier();
    let bodies: [&[u8]; 5] = [b"", b"\0", b"{\"type\":\"x\"}", &[0xff; 300], &[b'['; 5000]];
    let values = [
        "",
        ",",
        "v1,",
        ",,,,",
        "v1,,,",
        " v1 ",
        "v1,\u{0}",
        "\u{ffff}",
        "-",
        "9".repeat(400).leak(),
        "v1,".repeat(2000).leak(),
        "1733212345",
        "msg_1",
    ];
    for body in bodies {
        for id in values {
            for ts in values {
                for sig in values {
                    let headers = vec![
                        ("svix-id", id.to_owned()),
                        ("svix-timestamp", ts.to_owned()),
                        ("svix-signature", sig.to_owned()),
                    ];
                    let _ = verify_with(&v, &headers, body);
                }
            }
        }
        // A signed deep-nesting body: refused as invalid JSON, without a stack overflow.
        let _ = verify_with(&v, &signed(body), body);
    }
    let deep = [b'['; 5000];
    assert_eq!(
        verify(&signed(&deep), &deep).unwrap_err(),
        WebhookError::PayloadInvalid(PayloadProblem::NotJson)
    );
}
