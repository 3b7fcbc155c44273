//! A route that accepts machine tokens: M2M and OAuth tokens in their JWT forms, verified with
//! the test key pair, and a session token refused there.
use std::error::Error;
use std::time::SystemTime;

use clerk_auth_core::testing::{KeyPair, TestRequest, TokenMinter};
use clerk_auth_core::{authenticate_request, ConfigError, Options, RequestState, TokenType};

/// Options that accept M2M and OAuth tokens (and no session tokens).
fn machine_options() -> Result<Options, ConfigError> {
    Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_live_unused")
        .jwt_key(KeyPair::shared().public_pem())
        .accepts_token(vec![TokenType::M2mToken, TokenType::OauthToken])
        .build()
}

/// Decides a request bearing `token`.
fn decide(token: &str) -> Result<RequestState, Box<dyn Error>> {
    let request = TestRequest::get("https://api.example.com/data")
        .bearer(token)
        .build();
    Ok(authenticate_request(&request, &machine_options()?)?)
}

#[test]
fn an_m2m_token_is_a_signed_in_machine() -> Result<(), Box<dyn Error>> {
    let m2m = TokenMinter::new(KeyPair::shared())
        .issued_at(SystemTime::now())
        .m2m()
        .mint();
    let state = decide(&m2m)?;
    assert_eq!(state.token_type(), Some(TokenType::M2mToken));
    assert_eq!(
        state.machine().map(|m| m.subject.as_str()),
        Some("mch_2test")
    );
    Ok(())
}

#[test]
fn an_oauth_token_carries_its_client() -> Result<(), Box<dyn Error>> {
    let oauth = TokenMinter::new(KeyPair::shared())
        .issued_at(SystemTime::now())
        .oauth()
        .mint();
    let state = decide(&oauth)?;
    assert_eq!(state.token_type(), Some(TokenType::OauthToken));
    assert_eq!(
        state.machine().and_then(|m| m.client_id.as_deref()),
        Some("client_2test")
    );
    Ok(())
}

#[test]
fn a_session_token_is_refused_where_only_machine_tokens_are_accepted() -> Result<(), Box<dyn Error>>
{
    let session = TokenMinter::new(KeyPair::shared())
        .issued_at(SystemTime::now())
        .mint();
    let state = decide(&session)?;
    assert!(!state.is_signed_in());
    assert_eq!(
        state.reason().map(|r| r.to_string()).as_deref(),
        Some("token-type-mismatch")
    );
    Ok(())
}
