//! Hostile values and the requests that carry them to every place a value from the request or
//! from an unverified token is shown (decision 15), shared by `untrusted_text.rs` and
//! `untrusted_text_logs.rs`.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::time::{Duration, SystemTime};

use clerk_auth_core::org_sync::OrganizationSyncOptions;
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::OwnedRequest;
use clerk_auth_core::{Options, OptionsBuilder};
use serde_json::json;

pub const PK: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
pub const URL: &str = "https://app.example.com/dashboard";

/// What an attacker would like a log line to start with, and what would give it away.
pub const FORGED: &str = "ERROR clerk_auth: forged";

/// A value that tries everything at once: line breaks followed by a forged log line, an ANSI
/// escape, a Unicode line separator, a bidi override, a NUL, then 10 KB of padding.
pub fn hostile() -> String {
    format!(
        "\n{FORGED}\r\n{FORGED} again\u{1b}[2J\u{1b}[31mred\u{2028}{FORGED} by U+2028\u{202e}desrever\0{}",
        "A".repeat(10_000)
    )
}

/// A piece of the padding long enough that finding it means a value was not cut.
pub fn padding_run() -> String {
    "A".repeat(200)
}

/// Options verifying with the shared key (no network), with the clock of this machine.
pub fn builder() -> OptionsBuilder {
    Options::builder()
        .publishable_key(PK)
        .secret_key("sk_live_hostile")
        .jwt_key(KeyPair::shared().public_pem())
}

pub fn minter() -> TokenMinter<'static> {
    TokenMinter::new(KeyPair::shared()).issued_at(SystemTime::now())
}

/// A document request (eligible for a handshake).
pub fn document(url: &str) -> TestRequest {
    TestRequest::get(url).header("sec-fetch-dest", "document")
}

/// Every path a hostile value can take into a message, a trace step or a log line, each with
/// options of its own (so that once-a-minute warnings fire for each).
pub fn hostile_requests() -> Vec<(&'static str, Options, OwnedRequest)> {
    let h = hostile();
    let plain = || builder().build().unwrap();
    let bearer = |t: &str| TestRequest::get(URL).bearer(t).build();
    let suffix = plain().cookie_suffix().unwrap().to_owned();
    let expired_foreign = minter()
        .issued_at(SystemTime::now() - Duration::from_secs(120))
        .iss(&format!("https://clerk.other.com{h}"))
        .mint();
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    vec![
        (
            "typ",
            plain(),
            bearer(&minter().header("typ", json!(h)).mint()),
        ),
        (
            "typ (not a string)",
            plain(),
            bearer(&minter().header("typ", json!([h])).mint()),
        ),
        (
            "alg",
            plain(),
            bearer(&minter().header("alg", json!(h)).mint()),
        ),
        ("kid", plain(), bearer(&minter().kid(&h).mint())),
        (
            "cat",
            plain(),
            bearer(&minter().header("cat", json!(h)).mint()),
        ),
        (
            "sub",
            plain(),
            bearer(&minter().claim("sub", json!({ "x": h })).mint()),
        ),
        (
            "azp",
            builder()
                .authorized_parties(["https://app.example.com"])
                .build()
                .unwrap(),
            bearer(&minter().azp(&h).mint()),
        ),
        (
            "aud",
            builder().audience(["api"]).build().unwrap(),
            bearer(&minter().claim("aud", json!(h)).mint()),
        ),
        (
            "iss",
            builder().verify_issuer(true).build().unwrap(),
            bearer(&minter().iss(&h).mint()),
        ),
        (
            "exp",
            plain(),
            bearer(&minter().claim("exp", json!(h)).mint()),
        ),
        (
            "iat of a cookie token",
            plain(),
            document(URL)
                .cookie("__session", &minter().claim("iat", json!(1e300)).mint())
                .cookie("__client_uat", &now.to_string())
                .build(),
        ),
        (
            "handshake-loop post-mortem (iss with CR/LF)",
            plain(),
            document(URL)
                .cookie("__session", &expired_foreign)
                .cookie(&format!("__session_{suffix}"), &expired_foreign)
                .cookie(&format!("__client_uat_{suffix}"), &(now - 200).to_string())
                .cookie("__clerk_redirect_count", "3")
                .build(),
        ),
        (
            "request headers (sec-fetch-dest, accept, x-forwarded-host) and method",
            plain(),
            TestRequest::new(format!("GET{h}"), URL)
                .header("sec-fetch-dest", &h)
                .header("accept", &h)
                .header("x-forwarded-host", &h)
                .cookie("__client_uat", "1")
                .build(),
        ),
        (
            "URL path and handshake token in the query",
            plain(),
            document(&format!(
                "{URL}/{}?__clerk_handshake=%0A{}",
                "p%0A".repeat(3_000),
                FORGED.replace(' ', "%20")
            ))
            .build(),
        ),
        (
            "organization slug",
            builder()
                .organization_sync(OrganizationSyncOptions {
                    organization_patterns: vec!["/orgs/:slug".to_owned()],
                    personal_account_patterns: Vec::new(),
                })
                .build()
                .unwrap(),
            document(&format!(
                "https://app.example.com/orgs/%0A{}{}",
                FORGED.replace(' ', "%20"),
                "s".repeat(10_000)
            ))
            .cookie("__session", &minter().mint())
            .cookie("__client_uat", "1")
            .build(),
        ),
    ]
}

/// Asserts that `text` is made of lines that all start as `line_start` says, none longer than
/// `max_line` bytes, with no character that could break or hide a line, and no long run of the
/// hostile padding.
#[track_caller]
pub fn assert_inert_lines(
    what: &str,
    text: &str,
    max_line: usize,
    line_start: impl Fn(&str) -> bool,
) {
    for bad in ['\r', '\u{1b}', '\u{2028}', '\u{2029}', '\u{202e}', '\0'] {
        assert!(
            !text.contains(bad),
            "{what}: {bad:?} reached the output:\n{text}"
        );
    }
    assert!(
        !text.contains(&padding_run()),
        "{what}: a 10 KB value was not cut:\n{text:.2000}"
    );
    for line in text.lines() {
        assert!(
            line_start(line),
            "{what}: a line begins with text the attacker chose: {line:.300}"
        );
        assert!(
            !line.starts_with(FORGED) && !line.trim_start().starts_with(FORGED),
            "{what}: forged line: {line:.300}"
        );
        assert!(
            line.len() <= max_line,
            "{what}: a line of {} bytes: {line:.300}…",
            line.len()
        );
    }
}
