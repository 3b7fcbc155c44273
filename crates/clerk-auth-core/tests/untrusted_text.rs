//! Untrusted text is bounded and inert (decision 15): values from an unverified token or from the
//! request reach the signed-out message, the `x-clerk-auth-message` header, the JSON body and the
//! explanation cut to 128 characters and escaped, at most 512 bytes each; messages to clients
//! carry neither a URL's userinfo nor a transport library's error text. (What reaches `tracing`
//! is tested in `untrusted_text_logs.rs`, a binary of its own.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod hostile_support;

use std::net::TcpListener;

use clerk_auth_core::state::X_CLERK_AUTH_MESSAGE;
use clerk_auth_core::testing::server::{BackendApiServer, CannedResponse, Endpoint};
use clerk_auth_core::testing::KeyPair;
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::OwnedRequest;
use clerk_auth_core::{authenticate_request, explain_request, AcceptsToken, Options, RequestState};
use hostile_support::*;
use serde_json::json;

/// The most bytes a hostile value takes in any output.
const MAX_VALUE_BYTES: usize = 512;

/// A 9 000-character value with line breaks, an ANSI escape and a forged log line in front.
fn long_hostile() -> String {
    format!("\r\n{FORGED}\u{1b}[31m{}", "t".repeat(9_000))
}

/// Decides the request and checks what a client sees of the message: the header is there (a
/// cut value must not make it vanish), equals the message, and it and the JSON body carry no
/// control character. Returns the message.
#[track_caller]
fn client_message(request: &OwnedRequest, options: &Options) -> String {
    let state = authenticate_request(request, options).unwrap();
    assert!(!state.is_signed_in());
    let message = state.message().unwrap().to_owned();
    let header = state
        .headers()
        .get(X_CLERK_AUTH_MESSAGE)
        .unwrap_or_else(|| panic!("no x-clerk-auth-message for {message:.200}"))
        .to_str()
        .unwrap();
    assert_eq!(header, message);
    assert!(!message.chars().any(char::is_control), "{message:?}");
    let body = rejection_body(&state);
    assert_eq!(body["message"], json!(message));
    message
}

fn rejection_body(state: &RequestState) -> serde_json::Value {
    serde_json::from_str(&state.rejection().unwrap().body).unwrap()
}

#[test]
fn a_9000_character_typ_alg_or_iss_gives_a_message_of_at_most_512_bytes() {
    let v = long_hostile();
    let bearer = |t: &str| TestRequest::get(URL).bearer(t).build();
    let cases = [
        (
            "typ",
            builder().build().unwrap(),
            minter().header("typ", json!(v)).mint(),
            "Invalid JWT type \"\\r\\nERROR clerk_auth: forged\\u001b[31mttt",
        ),
        (
            "alg",
            builder().build().unwrap(),
            minter().header("alg", json!(v)).mint(),
            "Invalid JWT algorithm \"\\r\\nERROR clerk_auth: forged\\u001b[31mttt",
        ),
        (
            "iss",
            builder().verify_issuer(true).build().unwrap(),
            minter().iss(&v).mint(),
            "Invalid JWT issuer claim (iss) \"\\r\\nERROR clerk_auth: forged\\u001b[31mttt",
        ),
    ];
    for (what, options, token, start) in cases {
        let message = client_message(&bearer(&token), &options);
        assert!(
            message.len() <= MAX_VALUE_BYTES,
            "{what}: {} bytes",
            message.len()
        );
        assert!(message.starts_with(start), "{what}: {message}");
        // The cut is marked inside the quotes; Clerk's wording follows.
        assert!(message.contains("ttt...\"."), "{what}: {message}");
        assert!(!message.contains(&"t".repeat(200)), "{what}: not cut");
    }
    // A value that is not a string is cut all the same.
    let token = minter().header("typ", json!([v])).mint();
    let message = client_message(&bearer(&token), &builder().build().unwrap());
    assert!(message.len() <= MAX_VALUE_BYTES, "{} bytes", message.len());
    assert!(
        message.starts_with("Invalid JWT type [\"\\r\\nERROR"),
        "{message}"
    );
}

#[test]
fn short_values_keep_clerks_exact_message() {
    let token = minter().header("typ", json!("JOSE")).mint();
    let message = client_message(
        &TestRequest::get(URL).bearer(&token).build(),
        &builder().build().unwrap(),
    );
    assert_eq!(
        message,
        "Invalid JWT type \"JOSE\". Expected \"JWT\". Make sure that this is a valid Clerk generate JWT. (reason=token-invalid, token-carrier=header)"
    );
}

#[test]
fn a_9000_character_kid_takes_at_most_512_bytes_of_the_message() {
    let server = BackendApiServer::start("sk_test_untrusted_kid").unwrap();
    server.set_keys(vec![KeyPair::shared().jwk("ins_1")]);
    let options = server
        .options_builder()
        .publishable_key(PK)
        .build()
        .unwrap();
    let message_for = |kid: &str| {
        let token = minter().kid(kid).mint();
        client_message(&TestRequest::get(URL).bearer(&token).build(), &options)
    };
    // Clerk's wording around a one-character kid.
    let baseline = message_for("k");
    assert!(baseline.contains("kid='k'"), "{baseline}");
    let message = message_for(&long_hostile());
    assert!(
        message.len() <= baseline.len() - 1 + MAX_VALUE_BYTES,
        "{} bytes: {message}",
        message.len()
    );
    assert!(
        message.contains("kid='\\r\\nERROR clerk_auth: forged\\u{1b}[31mttt"),
        "{message}"
    );
    assert!(
        message.contains("ttt...' of the provided session token"),
        "{message}"
    );
}

#[test]
fn a_machine_token_echoes_its_values_bounded() {
    let options = builder().accepts_token(AcceptsToken::Any).build().unwrap();
    let token = minter()
        .subject("mch_hostile")
        .category(Some("cl_B7d4PD333AAA"))
        .header("alg", json!(long_hostile()))
        .mint();
    let message = client_message(&TestRequest::get(URL).bearer(&token).build(), &options);
    assert!(
        message.starts_with("Invalid JWT algorithm \"\\r\\nERROR clerk_auth: forged"),
        "{message}"
    );
    assert!(message.len() <= MAX_VALUE_BYTES, "{} bytes", message.len());
}

/// A port nobody listens on: connections are refused at once.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn key_set_failures_show_neither_userinfo_nor_transport_errors() {
    let token = minter().kid("ins_1").mint();
    let request = TestRequest::get(URL).bearer(&token).build();

    // A network failure: the message names the URL (without its userinfo), not ureq's text.
    let port = closed_port();
    let options = Options::builder()
        .publishable_key(PK)
        .secret_key("sk_test_untrusted_userinfo")
        .api_url(format!("http://clerk-user:s3cret-pass@127.0.0.1:{port}"))
        .jwks_max_attempts(1)
        .build()
        .unwrap();
    let state = authenticate_request(&request, &options).unwrap();
    assert!(state.is_key_set_outage(), "{:?}", state.reason());
    let message = state.message().unwrap();
    assert!(
        message.starts_with(&format!(
            "Error loading Clerk JWKS from http://127.0.0.1:{port}/v1/jwks Contact support@clerk.com"
        )),
        "{message}"
    );
    let body = rejection_body(&state).to_string();
    for leak in [
        "s3cret",
        "clerk-user",
        "refused",
        "network error",
        "io:",
        "timed out",
    ] {
        assert!(!message.contains(leak), "{leak:?} in {message}");
        assert!(!body.contains(leak), "{leak:?} in {body}");
    }

    // A machine token in JWT form whose key cannot be fetched: the same clean message.
    let options = Options::builder()
        .publishable_key(PK)
        .secret_key("sk_test_untrusted_userinfo")
        .api_url(format!("http://clerk-user:s3cret-pass@127.0.0.1:{port}"))
        .jwks_max_attempts(1)
        .accepts_token(AcceptsToken::Any)
        .build()
        .unwrap();
    let m2m = minter()
        .subject("mch_1")
        .category(Some("cl_B7d4PD333AAA"))
        .kid("ins_1")
        .mint();
    let state =
        authenticate_request(&TestRequest::get(URL).bearer(&m2m).build(), &options).unwrap();
    let message = state.message().unwrap();
    assert!(
        message.starts_with(&format!(
            "Error loading Clerk JWKS from http://127.0.0.1:{port}/v1/jwks"
        )),
        "{message}"
    );
    for leak in ["s3cret", "clerk-user", "refused", "network error", "io:"] {
        assert!(!message.contains(leak), "{leak:?} in {message}");
    }

    // An error status from the emulator: the same URL form, Clerk's `code=` wording.
    let server = BackendApiServer::start("sk_test_untrusted_status").unwrap();
    server.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::bapi_error(503, "unexpected_error", "down")),
    );
    let options = server
        .options_builder()
        .publishable_key(PK)
        .jwks_max_attempts(1)
        .build()
        .unwrap();
    let state = authenticate_request(&request, &options).unwrap();
    assert_eq!(
        state.message(),
        Some(
            format!(
                "Error loading Clerk JWKS from {}/v1/jwks with code=503 Contact support@clerk.com (reason=jwk-remote-failed-to-load, token-carrier=header)",
                server.url()
            )
            .as_str()
        )
    );
}

#[test]
fn explanations_of_hostile_requests_are_one_line_per_step() {
    for (what, options, request) in hostile_requests() {
        let e = explain_request(&request, &options);
        let text = e.to_string();
        // Every line is a numbered step: `NN. [rule] detail`.
        assert_inert_lines(what, &text, 2_048, |line| {
            let line = line.trim_start();
            line.split_once(". [")
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        });
        assert_eq!(
            text.lines().count(),
            e.steps().len(),
            "{what}:\n{text:.3000}"
        );
        // The value did reach the explanation (escaped), except where the URL shows it
        // percent-encoded or the value is a number.
        let encoded = ["iat of a cookie token", "URL path", "organization slug"];
        if !encoded.iter().any(|p| what.starts_with(p)) {
            assert!(
                text.contains(&format!("\\n{FORGED}")),
                "{what}:\n{text:.3000}"
            );
        }
        // The same decision as without the explanation, and an inert message.
        let direct = authenticate_request(&request, &options);
        let explained = e.outcome();
        match (direct, explained) {
            (Ok(direct), Ok(explained)) => {
                assert_eq!(direct.reason(), explained.reason(), "{what}");
                if let Some(m) = direct.message() {
                    assert!(!m.chars().any(char::is_control), "{what}: {m:?}");
                    assert!(m.len() <= 2 * MAX_VALUE_BYTES, "{what}: {} bytes", m.len());
                }
            }
            (direct, explained) => panic!("{what}: {direct:?} / {explained:?}"),
        }
    }
}

#[test]
fn the_loop_post_mortem_shows_an_unverified_issuer_escaped() {
    let (_, options, request) = hostile_requests()
        .into_iter()
        .find(|(what, ..)| what.starts_with("handshake-loop"))
        .unwrap();
    let e = explain_request(&request, &options);
    let step = e
        .steps()
        .iter()
        .find(|s| s.rule() == "§2.5")
        .unwrap_or_else(|| panic!("no loop step in:\n{e}"));
    assert!(
        step.detail().contains(
            "keys of another instance: the session cookie was issued by clerk.other.com\\n"
        ),
        "{}",
        step.detail()
    );
    assert!(!step.detail().contains('\n'));
}
