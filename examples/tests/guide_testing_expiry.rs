//! Expiry: a token is accepted until the clock passes its `exp` and the allowed clock skew.
use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use clerk_auth_core::testing::{FixedClock, KeyPair, TestRequest, TokenMinter};
use clerk_auth_core::{authenticate_request, Options};

#[test]
fn a_token_expires_after_its_lifetime_and_the_clock_skew() -> Result<(), Box<dyn Error>> {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    // Keep a handle on the clock to move time.
    let clock = Arc::new(FixedClock::new(now));
    let options = Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_live_unused")
        .jwt_key(KeyPair::shared().public_pem())
        .clock(clock.clone())
        .build()?;
    let token = TokenMinter::new(KeyPair::shared()).issued_at(now).mint();
    let request = TestRequest::get("https://app.example.com/api/me")
        .bearer(&token)
        .build();
    assert!(authenticate_request(&request, &options)?.is_signed_in());

    clock.advance(Duration::from_secs(64)); // 4 s past exp: within the 5 s skew
    assert!(authenticate_request(&request, &options)?.is_signed_in());

    clock.advance(Duration::from_secs(2)); // 6 s past exp: expired
    let state = authenticate_request(&request, &options)?;
    assert!(!state.is_signed_in());
    assert!(state
        .reason()
        .is_some_and(|r| r.to_string().starts_with("session-token-expired-refresh-")));
    Ok(())
}
