//! Tests that need Clerk's Backend API, against the kit's local emulator: the key set is fetched
//! once, a refused secret key is an outage, and an opaque API key is checked by the Backend API.
use std::error::Error;
use std::time::SystemTime;

use clerk_auth_core::testing::server::{BackendApiServer, Endpoint};
use clerk_auth_core::testing::{KeyPair, TestRequest, TokenMinter};
use clerk_auth_core::{authenticate_request, Options, TokenType};
use serde_json::json;

#[test]
fn the_key_set_is_fetched_once() -> Result<(), Box<dyn Error>> {
    let server = BackendApiServer::start("sk_live_emulator")?;
    server.set_keys(vec![KeyPair::shared().jwk("ins_2test")]);
    let options = Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key(server.secret())
        .api_url(server.url())
        .build()?;

    let token = TokenMinter::new(KeyPair::shared())
        .kid("ins_2test")
        .issued_at(SystemTime::now())
        .mint();
    let request = TestRequest::get("https://app.example.com/api/me")
        .bearer(&token)
        .build();
    assert!(authenticate_request(&request, &options)?.is_signed_in());
    assert!(authenticate_request(&request, &options)?.is_signed_in());
    assert_eq!(server.hits(Endpoint::Jwks), 1); // the key set is cached
    Ok(())
}

#[test]
fn a_refused_secret_key_is_an_outage() -> Result<(), Box<dyn Error>> {
    let server = BackendApiServer::start("sk_live_emulator")?;
    server.set_keys(vec![KeyPair::shared().jwk("ins_2test")]);
    let options = Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_live_wrong") // the Backend API refuses it
        .api_url(server.url())
        .build()?;

    let token = TokenMinter::new(KeyPair::shared())
        .kid("ins_2test")
        .issued_at(SystemTime::now())
        .mint();
    let request = TestRequest::get("https://app.example.com/api/me")
        .bearer(&token)
        .build();
    let state = authenticate_request(&request, &options)?;
    assert!(state.is_key_set_outage());
    assert_eq!(state.rejection().map(|r| r.status), Some(503));
    Ok(())
}

#[test]
fn an_opaque_api_key_is_checked_by_the_backend_api() -> Result<(), Box<dyn Error>> {
    let server = BackendApiServer::start("sk_live_emulator")?;
    // What the Backend API answers for this key; any other key gets `404`.
    server.set_machine_token(
        Endpoint::ApiKeyVerify,
        "ak_live_test_key",
        json!({"id": "ak_1", "subject": "user_123", "scopes": ["read"]}),
    );
    let options = Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key(server.secret())
        .api_url(server.url())
        .accepts_token(TokenType::ApiKey)
        .build()?;

    let request = TestRequest::get("https://api.example.com/data")
        .bearer("ak_live_test_key")
        .build();
    let state = authenticate_request(&request, &options)?;
    assert_eq!(state.token_type(), Some(TokenType::ApiKey));
    assert_eq!(
        state.machine().and_then(|m| m.user_id.as_deref()),
        Some("user_123")
    );

    let request = TestRequest::get("https://api.example.com/data")
        .bearer("ak_unknown")
        .build();
    assert!(!authenticate_request(&request, &options)?.is_signed_in());
    Ok(())
}
