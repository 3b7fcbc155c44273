//! Who may manage billing, decided without a framework: a token in the `Authorization` header,
//! the same token in a browser's cookies, and no token at all.
use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clerk_auth_core::testing::{FixedClock, KeyPair, TestRequest, TokenMinter};
use clerk_auth_core::{authenticate_request, ConfigError, Has, Options, RequestState};
use serde_json::json;

/// Options that trust the test key pair, at a fixed time.
fn test_options(now: SystemTime) -> Result<Options, ConfigError> {
    Options::builder()
        // A production key (for clerk.example.com): no development-instance handshake.
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        // Required, never used here: tokens are verified with `jwt_key`, without the network.
        .secret_key("sk_live_unused")
        .jwt_key(KeyPair::shared().public_pem())
        .clock(Arc::new(FixedClock::new(now)))
        .build()
}

/// The logic of an "org admin" handler, kept free of the framework.
fn can_manage_billing(state: &RequestState) -> bool {
    state
        .session()
        .is_some_and(|s| s.has(&Has::permission("org:billing:manage")))
}

#[test]
fn a_member_with_the_permission_can_manage_billing() -> Result<(), Box<dyn Error>> {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let options = test_options(now)?;
    let token = TokenMinter::new(KeyPair::shared())
        .issued_at(now) // iat = now, nbf = now - 10 s, exp = now + 60 s
        .subject("user_123") // defaults: sub user_2test, sid sess_2test
        .claim("org_id", json!("org_1"))
        .claim("org_role", json!("org:billing"))
        .claim("org_permissions", json!(["org:billing:manage"]))
        .mint();

    // The token in the Authorization header, as an API client sends it.
    let request = TestRequest::post("https://app.example.com/billing")
        .bearer(&token)
        .build();
    let state = authenticate_request(&request, &options)?;
    assert!(can_manage_billing(&state));
    assert_eq!(
        state.session().and_then(|s| s.user_id.as_deref()),
        Some("user_123")
    );

    // The same token as a browser sends it: the `__session` and `__client_uat` cookies.
    let request = TestRequest::get("https://app.example.com/billing")
        .cookie("__session", &token)
        .cookie("__client_uat", "1")
        .build();
    assert!(can_manage_billing(&authenticate_request(
        &request, &options
    )?));
    Ok(())
}

#[test]
fn a_request_without_a_token_is_signed_out() -> Result<(), Box<dyn Error>> {
    let options = test_options(UNIX_EPOCH + Duration::from_secs(1_700_000_000))?;
    let request = TestRequest::get("https://app.example.com/billing").build();
    let state = authenticate_request(&request, &options)?;
    assert!(!can_manage_billing(&state));
    assert_eq!(state.rejection().map(|r| r.status), Some(401));
    Ok(())
}
