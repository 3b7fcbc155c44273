//! Tokens no honest issuer would make are rejected, each with its reason.
use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clerk_auth_core::testing::{FixedClock, KeyPair, TestRequest, TokenMinter};
use clerk_auth_core::{authenticate_request, ConfigError, Options};

/// Options that trust the test key pair, at a fixed time.
fn test_options(now: SystemTime) -> Result<Options, ConfigError> {
    Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_live_unused")
        .jwt_key(KeyPair::shared().public_pem())
        .clock(Arc::new(FixedClock::new(now)))
        .build()
}

/// Why a request bearing `token` is signed out (`None`: it is signed in).
fn reason_for(token: &str, options: &Options) -> Result<Option<String>, Box<dyn Error>> {
    let request = TestRequest::get("https://app.example.com/api")
        .bearer(token)
        .build();
    let state = authenticate_request(&request, options)?;
    Ok(state.reason().map(|r| r.to_string()))
}

#[test]
fn tokens_no_honest_issuer_would_make_are_rejected() -> Result<(), Box<dyn Error>> {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let options = test_options(now)?;

    let forged = TokenMinter::new(KeyPair::shared_other())
        .issued_at(now)
        .mint();
    assert_eq!(
        reason_for(&forged, &options)?.as_deref(),
        Some("token-invalid-signature")
    );

    let template = TokenMinter::new(KeyPair::shared())
        .issued_at(now)
        .category(Some("cl_B7d4PD222AAA")) // a JWT template's category
        .mint();
    assert_eq!(
        reason_for(&template, &options)?.as_deref(),
        Some("token-type-mismatch")
    );

    let no_sub = TokenMinter::new(KeyPair::shared())
        .issued_at(now)
        .without_claim("sub")
        .mint();
    assert_eq!(
        reason_for(&no_sub, &options)?.as_deref(),
        Some("token-verification-failed")
    );
    Ok(())
}
