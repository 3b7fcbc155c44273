//! Decisions deferred to a blocking thread are bounded per instance: over the bound, the request
//! is answered at once (signed out, `503`, `Retry-After: 1`) instead of waiting.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::result_large_err
)]

use clerk_auth_core::testing::server::BackendApiServer;
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::{try_authenticate_request, AuthStatus, Interrupt, Options};

fn options(server: &BackendApiServer, max: usize) -> Options {
    server
        .options_builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .max_deferred_decisions(max)
        .build()
        .unwrap()
}

#[test]
fn over_the_bound_a_request_is_refused_with_503_and_retry_after() {
    let key = KeyPair::shared();
    let server = BackendApiServer::start("sk_live_deferred").unwrap();
    server.set_keys(vec![key.jwk("ins_2test")]);
    let options = options(&server, 2);
    let token = TokenMinter::new(key)
        .issued_at(std::time::SystemTime::now())
        .mint();
    let request = TestRequest::get("https://app.example.com/api/me")
        .bearer(&token)
        .build();
    // Cold keys: the decision needs IO, and is captured while places are free.
    let capture = |options: &Options| match try_authenticate_request(&request, options) {
        Err(Interrupt::WouldBlock(deferred)) => Ok(deferred),
        Ok(state) => Err(state),
        Err(Interrupt::Failed(e)) => panic!("{e}"),
    };
    let first = capture(&options).unwrap();
    let second = capture(&options).unwrap();
    let refused = capture(&options).unwrap_err();
    assert_eq!(refused.status(), AuthStatus::SignedOut);
    assert_eq!(
        refused.reason().map(ToString::to_string).as_deref(),
        Some("backend-api-budget-exhausted")
    );
    assert!(refused.is_unavailable());
    let rejection = refused.rejection().unwrap();
    assert_eq!(rejection.status, 503);
    assert_eq!(rejection.headers.get("retry-after").unwrap(), "1");
    assert_eq!(
        refused.headers().get("x-clerk-auth-reason").unwrap(),
        "backend-api-budget-exhausted"
    );
    // Answered as an API, still 503 with Retry-After, and no challenge.
    let api = refused.into_api().rejection().unwrap();
    assert_eq!(api.status, 503);
    assert_eq!(api.headers.get("retry-after").unwrap(), "1");
    assert!(api.headers.get("www-authenticate").is_none());
    assert_eq!(server.jwks_fetches(), 0, "a refusal makes no call");

    // A run frees its place when it returns; a dropped one (a cancelled task) too. The keys are
    // cached after the run, so a handshake nonce (a Backend API call) needs the places now.
    assert!(first.run().unwrap().is_signed_in());
    drop(second);
    let nonce = TestRequest::get("https://app.example.com/dashboard")
        .header("sec-fetch-dest", "document")
        .cookie("__clerk_handshake_nonce", "nonce_deferred")
        .build();
    let capture_nonce = |options: &Options| match try_authenticate_request(&nonce, options) {
        Err(Interrupt::WouldBlock(deferred)) => Ok(deferred),
        Ok(state) => Err(state),
        Err(Interrupt::Failed(e)) => panic!("{e}"),
    };
    let a = capture_nonce(&options).unwrap();
    let b = capture_nonce(&options).unwrap();
    let refused = capture_nonce(&options).unwrap_err();
    assert_eq!(
        refused.reason().unwrap().as_str(),
        "backend-api-budget-exhausted"
    );
    drop((a, b));
    assert!(capture_nonce(&options).is_ok());
    // Another instance has places of its own.
    let other = self::options(&server, 1);
    assert!(capture(&other).is_ok());
}
