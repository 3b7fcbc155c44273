//! The explanation of each scenario family, asserted on its key lines; the clock-skew detector
//! and the handshake-loop post-mortem. (What reaches `tracing` is tested in `explain_tracing.rs`,
//! a binary of its own: `tracing` caches callsite interest process-wide.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{FixedClock, KeyPair, TokenMinter};
use clerk_auth_core::{explain_request, Explanation, Options, OptionsBuilder};

const PK: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
const PK_DEV: &str = "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k";
const NOW: u64 = 1_700_000_000;
const URL: &str = "https://app.example.com/dashboard";

fn at(offset: i64) -> SystemTime {
    let base = UNIX_EPOCH + Duration::from_secs(NOW);
    if offset >= 0 {
        base + Duration::from_secs(offset.unsigned_abs())
    } else {
        base - Duration::from_secs(offset.unsigned_abs())
    }
}

fn builder(pk: &str) -> OptionsBuilder {
    Options::builder()
        .publishable_key(pk)
        .secret_key(if pk == PK { "sk_live_x" } else { "sk_test_x" })
        .jwt_key(KeyPair::shared().public_pem())
        .clock(Arc::new(FixedClock::at_unix(NOW)))
}

fn options() -> Options {
    builder(PK).build().unwrap()
}

fn token(issued: i64) -> String {
    TokenMinter::new(KeyPair::shared())
        .issued_at(at(issued))
        .mint()
}

/// Asserts that a step of `rule` contains `needle`; shows the whole explanation otherwise.
#[track_caller]
fn assert_step(e: &Explanation, rule: &str, needle: &str) {
    assert!(
        e.steps()
            .iter()
            .any(|s| s.rule() == rule && s.detail().contains(needle)),
        "no [{rule}] step containing {needle:?} in:\n{e}"
    );
}

#[track_caller]
fn assert_no_step(e: &Explanation, rule: &str, needle: &str) {
    assert!(
        !e.steps()
            .iter()
            .any(|s| s.rule() == rule && s.detail().contains(needle)),
        "unexpected [{rule}] step containing {needle:?} in:\n{e}"
    );
}

fn outcome(e: &Explanation) -> &str {
    let last = e.steps().last().expect("an outcome step");
    assert_eq!(last.rule(), "outcome");
    last.detail()
}

fn document(url: &str) -> TestRequest {
    TestRequest::get(url).header("sec-fetch-dest", "document")
}

/// The offset the clock step reports, as a signed number of seconds (issuer ahead = positive).
fn reported_offset(e: &Explanation) -> i64 {
    let step = e
        .steps()
        .iter()
        .find(|s| s.rule() == "clock")
        .unwrap_or_else(|| panic!("no clock step in:\n{e}"));
    let text = step.detail();
    let after = text.split("about ").nth(1).expect("an offset");
    let (number, rest) = after.split_once(" s ").expect("seconds");
    let n: i64 = number.parse().expect("a number");
    if rest.starts_with("ahead") {
        n
    } else {
        -n
    }
}

// ---- signed in ---------------------------------------------------------------------------------

#[test]
fn signed_in_by_header() {
    let options = options();
    let t = token(0);
    let request = TestRequest::get(URL).bearer(&t).build();
    let e = explain_request(&request, &options);
    assert!(e.outcome().unwrap().is_signed_in());
    assert_step(&e, "request", "GET https://app.example.com/dashboard");
    assert_step(
        &e,
        "§2.1",
        &format!(
            "token in the Authorization header: {}… ({} bytes), read as session_token",
            &t[..8],
            t.len()
        ),
    );
    assert_step(
        &e,
        "§3.2",
        "verified-token cache miss; alg \"RS256\", kid \"ins_2test\": key in memory",
    );
    assert_step(
        &e,
        "§3.3",
        "exp 1700000060 (in 60 s) against now 1700000000 with a 5 s skew: ok",
    );
    assert_step(&e, "§3.3", "nbf 1699999990 (10 s ago)");
    assert_step(&e, "§3.3", "iat 1700000000 (in 0 s)");
    assert_step(&e, "§3.3", "azp \"http://localhost:3000\": not checked");
    assert_eq!(outcome(&e), "signed-in; token type session_token");

    // The same token again: the cache answers, and the explanation says so.
    let e = explain_request(&request, &options);
    assert_step(&e, "§3.2", "verified-token cache hit");
}

#[test]
fn signed_in_by_cookie_unsuffixed() {
    let options = options();
    let t = token(0);
    let request = TestRequest::get(URL)
        .cookie("__session", &t)
        .cookie("__client_uat", &(NOW - 10).to_string())
        .build();
    let e = explain_request(&request, &options);
    assert_step(
        &e,
        "§2.1",
        "no token in the Authorization header: cookie flow",
    );
    assert_step(&e, "§1.5", "unsuffixed names: rule 3");
    assert_step(&e, "§2.3", &format!("cookies: __session {}…", &t[..8]));
    assert_step(&e, "§2.3", "__client_uat = 1699999990");
    assert_step(
        &e,
        "§2.3 step 10",
        "iat 1700000000 against __client_uat 1699999990: ok",
    );
    assert!(outcome(&e).starts_with("signed-in"), "{e}");
}

#[test]
fn signed_in_by_cookie_suffixed_names_the_rule() {
    let options = options();
    let suffix = options.cookie_suffix().unwrap().to_owned();
    let other = TokenMinter::new(KeyPair::shared())
        .issued_at(at(0))
        .iss("https://clerk.other.com")
        .mint();
    let t = token(0);
    let request = TestRequest::get(URL)
        .cookie("__session", &other)
        .cookie(&format!("__session_{suffix}"), &t)
        .cookie(&format!("__client_uat_{suffix}"), &(NOW - 10).to_string())
        .build();
    let e = explain_request(&request, &options);
    assert_step(
        &e,
        "§1.5",
        "suffixed names: rule 2, the unsuffixed __session was issued by another instance",
    );
    assert_step(
        &e,
        "§2.3",
        &format!("cookies: __session_<suffix> {}…", &t[..8]),
    );
    assert!(outcome(&e).starts_with("signed-in"), "{e}");
}

// ---- handshakes --------------------------------------------------------------------------------

#[test]
fn handshake_client_uat_without_session_token() {
    let request = document(URL)
        .cookie("__client_uat", &NOW.to_string())
        .build();
    let e = explain_request(&request, &options());
    assert_step(
        &e,
        "§2.3",
        "cookies: __session absent; __client_uat = 1700000000",
    );
    assert_step(
        &e,
        "§2.4",
        "client-uat-but-no-session-token: handshake eligibility: GET with sec-fetch-dest \"document\"",
    );
    assert_step(&e, "§2.4", ": eligible");
    assert_step(
        &e,
        "§2.5",
        "redirect loop counter 0 < 3: handshake, the counter cookie becomes 1",
    );
    assert_eq!(
        outcome(&e),
        "handshake; reason client-uat-but-no-session-token; token type session_token; Location https://clerk.example.com/v1/client/handshake (query not shown)"
    );
}

#[test]
fn not_eligible_requests_are_signed_out_and_say_why() {
    let request = TestRequest::post(URL)
        .cookie("__client_uat", &NOW.to_string())
        .build();
    let e = explain_request(&request, &options());
    assert_step(
        &e,
        "§2.4",
        "POST with sec-fetch-dest \"\" and accept \"\": not eligible",
    );
    assert_no_step(&e, "§2.5", "");
    assert_eq!(
        outcome(&e),
        "signed-out; reason client-uat-but-no-session-token; token type session_token"
    );
}

#[test]
fn handshake_session_token_iat_before_client_uat() {
    let t = TokenMinter::new(KeyPair::shared())
        .issued_at(at(-30))
        .mint();
    let request = document(URL)
        .cookie("__session", &t)
        .cookie("__client_uat", &NOW.to_string())
        .build();
    let e = explain_request(&request, &options());
    assert_step(
        &e,
        "§2.3 step 10",
        "iat 1699999970 against __client_uat 1700000000: issued before the client's last update: handshake",
    );
    assert!(
        outcome(&e).starts_with("handshake; reason session-token-iat-before-client-uat"),
        "{e}"
    );
}

#[test]
fn handshake_session_token_expired_explains_the_refresh() {
    let t = token(-120);
    let request = document(URL)
        .cookie("__session", &t)
        .cookie("__client_uat", &(NOW - 200).to_string())
        .build();
    let e = explain_request(&request, &options());
    assert_step(
        &e,
        "§3.3",
        "exp 1699999940 (60 s ago) against now 1700000000 with a 5 s skew: fails (token-expired)",
    );
    assert_step(
        &e,
        "§3.3",
        "verification failed: token-expired: JWT is expired.",
    );
    assert_step(
        &e,
        "§2.8",
        "expired token: refresh non-eligible-no-refresh-cookie",
    );
    assert!(
        outcome(&e).starts_with(
            "handshake; reason session-token-expired-refresh-non-eligible-no-refresh-cookie"
        ),
        "{e}"
    );
}

#[test]
fn handshake_dev_browser_missing() {
    let options = builder(PK_DEV).build().unwrap();
    let e = explain_request(&document(URL).build(), &options);
    assert_step(&e, "§2.4", "dev-browser-missing: handshake eligibility");
    assert!(
        outcome(&e).starts_with("handshake; reason dev-browser-missing"),
        "{e}"
    );
}

#[test]
fn loop_guard_names_another_instance_when_the_cookie_says_so() {
    let options = options();
    let suffix = options.cookie_suffix().unwrap().to_owned();
    // The browser's session cookies come from another instance, and they are expired.
    let foreign = TokenMinter::new(KeyPair::shared())
        .issued_at(at(-120))
        .iss("https://clerk.other.com")
        .mint();
    let request = document(URL)
        .cookie("__session", &foreign)
        .cookie(&format!("__session_{suffix}"), &foreign)
        .cookie(&format!("__client_uat_{suffix}"), &(NOW - 200).to_string())
        .cookie("__clerk_redirect_count", "3")
        .build();
    let e = explain_request(&request, &options);
    assert_step(
        &e,
        "§2.5",
        "redirect loop counter 3 >= 3: the loop guard trips, signed out. Most likely cause: keys of another instance: the session cookie was issued by clerk.other.com, but CLERK_PUBLISHABLE_KEY is for clerk.example.com",
    );
    assert!(outcome(&e).starts_with("signed-out"), "{e}");
}

#[test]
fn loop_guard_names_clock_skew_with_the_offset() {
    // The issuer's clock runs 120 s ahead: every fresh token is "not active yet" here.
    let t = token(120);
    let request = document(URL)
        .cookie("__session", &t)
        .cookie("__client_uat", &(NOW - 10).to_string())
        .cookie("__clerk_redirect_count", "3")
        .build();
    let e = explain_request(&request, &options());
    assert_step(
        &e,
        "§2.5",
        "Most likely cause: clock skew: the issuer's clock is about 120 s ahead of this server's",
    );
    assert!(
        outcome(&e).starts_with("signed-out; reason session-token-nbf"),
        "{e}"
    );
}

#[test]
fn loop_guard_without_evidence_falls_back_to_clerks_diagnosis() {
    let request = document(URL)
        .cookie("__client_uat", &NOW.to_string())
        .cookie("__clerk_redirect_count", "3")
        .build();
    let e = explain_request(&request, &options());
    assert_step(&e, "§2.5", "Most likely cause: instance keys");
}

// ---- verification failures ---------------------------------------------------------------------

#[test]
fn invalid_signature() {
    let forged = TokenMinter::new(KeyPair::shared_other())
        .issued_at(at(0))
        .mint();
    let e = explain_request(&TestRequest::get(URL).bearer(&forged).build(), &options());
    assert_step(&e, "§3.3", "verification failed: token-invalid-signature");
    assert!(
        outcome(&e).starts_with("signed-out; reason token-invalid-signature"),
        "{e}"
    );
}

#[test]
fn authorized_party_mismatch_shows_both_sides() {
    let options = builder(PK)
        .authorized_parties(["https://app.example.com"])
        .build()
        .unwrap();
    let e = explain_request(&TestRequest::get(URL).bearer(&token(0)).build(), &options);
    assert_step(
        &e,
        "§3.3",
        "azp \"http://localhost:3000\" against [https://app.example.com]: fails (token-invalid-authorized-parties)",
    );
    assert!(
        outcome(&e).starts_with("signed-out; reason token-invalid-authorized-parties"),
        "{e}"
    );
}

#[test]
fn undecodable_token() {
    let e = explain_request(
        &TestRequest::get(URL).bearer("not-a-jwt-at-all").build(),
        &options(),
    );
    assert_step(&e, "§3.1", "not-a-jw… (16 bytes) does not decode");
    assert!(
        outcome(&e).starts_with("signed-out; reason token-invalid"),
        "{e}"
    );
}

#[test]
fn header_token_of_the_wrong_category() {
    let t = TokenMinter::new(KeyPair::shared())
        .issued_at(at(0))
        .category(Some("cl_B7d4PD222AAA"))
        .mint();
    let e = explain_request(&TestRequest::get(URL).bearer(&t).build(), &options());
    assert_step(
        &e,
        "§3.8",
        "category \"cl_B7d4PD222AAA\": not a session token",
    );
}

#[test]
fn explanation_and_state_agree_with_authenticate_request() {
    let options = options();
    for request in [
        TestRequest::get(URL).bearer(&token(0)).build(),
        TestRequest::get(URL).bearer(&token(-500)).build(),
        document(URL).cookie("__client_uat", "1").build(),
        TestRequest::get(URL).build(),
    ] {
        let explained = explain_request(&request, &options).into_outcome().unwrap();
        let direct = clerk_auth_core::authenticate_request(&request, &options).unwrap();
        assert_eq!(explained.status(), direct.status());
        assert_eq!(explained.reason(), direct.reason());
        assert_eq!(explained.headers(), direct.headers());
    }
}

// ---- the clock-skew detector -------------------------------------------------------------------

#[test]
fn skew_from_a_token_minted_ahead() {
    let e = explain_request(
        &TestRequest::get(URL).bearer(&token(120)).build(),
        &options(),
    );
    assert_eq!(reported_offset(&e), 120, "{e}");
    assert_step(&e, "clock", "token-not-active-yet: the issuer's clock is about 120 s ahead of this server's (token iat - now = +120 s)");
}

#[test]
fn a_stale_token_is_not_taken_for_skew() {
    // Minted 102 s ago, expired 42 s ago: an idle tab, whatever the clocks. Nothing in the token
    // can tell a clock running behind from an old token, so no skew is reported.
    let e = explain_request(
        &TestRequest::get(URL).bearer(&token(-102)).build(),
        &options(),
    );
    assert_step(
        &e,
        "clock",
        "token-expired: the token expired 42 s ago: a stale token (an idle tab, a late retry), not evidence of clock skew",
    );
    assert_no_step(&e, "clock", "clock is about");
}

#[test]
fn an_old_expiry_is_not_taken_for_skew() {
    let e = explain_request(
        &TestRequest::get(URL).bearer(&token(-3600)).build(),
        &options(),
    );
    assert_step(&e, "clock", "the token expired 3540 s ago");
    assert_no_step(&e, "clock", "clock is about");
}

#[test]
fn a_stale_cookie_in_a_loop_is_not_blamed_on_the_clock() {
    // A tab idle for a while: its session cookie expired 42 s ago, and the loop guard trips.
    let request = document(URL)
        .cookie("__session", &token(-102))
        .cookie("__client_uat", &(NOW - 200).to_string())
        .cookie("__clerk_redirect_count", "3")
        .build();
    let e = explain_request(&request, &options());
    assert_step(&e, "§2.5", "Most likely cause: instance keys");
    assert_no_step(&e, "§2.5", "clock skew");
}

#[test]
fn the_iat_check_alone_reports_skew() {
    let t = TokenMinter::new(KeyPair::shared())
        .issued_at(at(30))
        .claim("nbf", serde_json::json!(NOW - 10))
        .mint();
    let e = explain_request(&TestRequest::get(URL).bearer(&t).build(), &options());
    assert_step(&e, "§3.3", "fails (token-iat-in-the-future)");
    assert_eq!(reported_offset(&e), 30, "{e}");
}

#[test]
fn hostile_header_values_are_shortened_and_escaped() {
    let kid = format!("{}\nFAKE LOG LINE", "k".repeat(500));
    let t = TokenMinter::new(KeyPair::shared())
        .issued_at(at(0))
        .kid(&kid)
        .header("alg", serde_json::json!("x".repeat(400)))
        .mint();
    let e = explain_request(&TestRequest::get(URL).bearer(&t).build(), &options());
    let step = e
        .steps()
        .iter()
        .find(|s| s.rule() == "§3.2")
        .expect("a key step");
    // Decision 15: 128 characters at most (the cut marked `...`), escaped.
    assert!(step.detail().len() < 500, "{}", step.detail());
    assert!(step
        .detail()
        .contains(&format!("kid \"{}...\"", "k".repeat(125))));
    assert!(step
        .detail()
        .contains(&format!("alg \"{}...\"", "x".repeat(125))));
    assert!(!e.to_string().contains("\nFAKE LOG LINE"));
}
