//! What the explanation and the clock-skew detector write to `tracing`. One test in a binary of
//! its own: `tracing` caches callsite interest process-wide, so thread-local subscribers of
//! different levels in concurrent tests would race.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, SystemTime};

use clerk_auth_core::testing::logs::capture_logs;
use clerk_auth_core::testing::server::BackendApiServer;
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::{authenticate_request, explain_request};

const PK: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
const URL: &str = "https://app.example.com/api/me";

/// The number in `text` right after `prefix`, up to the next space.
fn number_after(text: &str, prefix: &str) -> i64 {
    let word = text
        .split(prefix)
        .nth(1)
        .and_then(|r| r.split([' ', ')', '\n']).next())
        .unwrap_or_else(|| panic!("no {prefix:?} in {text}"));
    word.parse()
        .unwrap_or_else(|_| panic!("{word:?} after {prefix:?} is not a number in {text}"))
}

#[test]
fn explanations_and_skew_warnings_in_tracing() {
    let key = KeyPair::shared();
    let server = BackendApiServer::start("sk_test_skew").unwrap();
    server.set_keys(vec![key.jwk("ins_2test")]);
    let options = server
        .options_builder()
        .publishable_key(PK)
        .build()
        .unwrap();
    let fresh = TokenMinter::new(key).issued_at(SystemTime::now()).mint();

    // 1. At DEBUG, every decision carries its steps; never a token.
    let ((), logs) = capture_logs(tracing::Level::DEBUG, || {
        let state =
            authenticate_request(&TestRequest::get(URL).bearer(&fresh).build(), &options).unwrap();
        assert!(state.is_signed_in());
    });
    assert!(
        logs.contains("Clerk explain: token in the Authorization header"),
        "{logs}"
    );
    assert!(logs.contains("Clerk explain: signed-in"), "{logs}");
    assert!(
        logs.contains("key not in memory: fetched from the key source"),
        "{logs}"
    );
    assert!(!logs.contains(&fresh[..24]), "a token reached the logs");

    // 2. At INFO, nothing of the explanation is recorded or written.
    let ((), logs) = capture_logs(tracing::Level::INFO, || {
        let _ =
            authenticate_request(&TestRequest::get(URL).bearer(&fresh).build(), &options).unwrap();
    });
    assert!(!logs.contains("Clerk explain"));

    // 3. The Backend API's clock, like the issuer's, runs 120 s ahead of this machine's. The
    //    offset is reported within a second, in the explanation and in one warning, however
    //    many requests fail.
    server.set_clock_offset(120);
    let options = server
        .options_builder()
        .publishable_key(PK)
        .build()
        .unwrap();
    let ahead = TokenMinter::new(key)
        .issued_at(SystemTime::now() + Duration::from_secs(120))
        .mint();
    let request = TestRequest::get(URL).bearer(&ahead).build();
    let ((), logs) = capture_logs(tracing::Level::WARN, || {
        let e = explain_request(&request, &options);
        let step = e.steps().iter().find(|s| s.rule() == "clock").unwrap();
        let from_api = number_after(step.detail(), "Backend API Date - now = ");
        assert!((119..=121).contains(&from_api), "{e}");
        let about = number_after(step.detail(), "about ");
        assert!((119..=121).contains(&about), "{e}");
        assert!(step.detail().contains("s ahead of this server's"), "{e}");
        for _ in 0..5 {
            let state = authenticate_request(&request, &options).unwrap();
            assert_eq!(
                state.reason().map(|r| r.to_string()).as_deref(),
                Some("session-token-nbf")
            );
        }
    });
    assert_eq!(
        logs.matches("the clocks disagree").count(),
        1,
        "one warning expected:\n{logs}"
    );
    let offset = number_after(&logs, "offset_seconds=");
    assert!((119..=121).contains(&offset), "{logs}");
    assert!(!logs.contains(&ahead[..24]), "a token reached the logs");

    // 4. A stale token (minted 102 s ago, expired 42 s ago: an idle tab) is no evidence of
    //    skew: the explanation says it expired, and nothing warns about the clock. Keys from a
    //    PEM, so no Backend API `Date` is known either.
    let options = clerk_auth_core::Options::builder()
        .publishable_key(PK)
        .secret_key("sk_test_unused")
        .jwt_key(key.public_pem())
        .build()
        .unwrap();
    let stale = TokenMinter::new(key)
        .issued_at(SystemTime::now() - Duration::from_secs(102))
        .mint();
    let request = TestRequest::get(URL).bearer(&stale).build();
    let ((), logs) = capture_logs(tracing::Level::WARN, || {
        let e = explain_request(&request, &options);
        let step = e.steps().iter().find(|s| s.rule() == "clock").unwrap();
        let ago = number_after(step.detail(), "the token expired ");
        assert!((41..=43).contains(&ago), "{e}");
        assert!(!step.detail().contains("clock is about"), "{e}");
        for _ in 0..5 {
            let state = authenticate_request(&request, &options).unwrap();
            assert!(!state.is_signed_in());
        }
    });
    assert!(!logs.contains("the clocks disagree"), "{logs}");
}
