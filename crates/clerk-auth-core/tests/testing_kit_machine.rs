//! The testing kit mints machine tokens in their JWT forms, and the decision accepts them where
//! the options accept them: what `docs/testing.md` shows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::SystemTime;

use clerk_auth_core::testing::{KeyPair, TestRequest, TokenMinter};
use clerk_auth_core::{authenticate_request, AcceptsToken, Options, TokenType};

fn options(accepts: impl Into<AcceptsToken>) -> Options {
    Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_live_kit")
        .jwt_key(KeyPair::shared().public_pem())
        .accepts_token(accepts)
        .build()
        .unwrap()
}

fn minter() -> TokenMinter<'static> {
    TokenMinter::new(KeyPair::shared()).issued_at(SystemTime::now())
}

fn decide(options: &Options, token: &str) -> clerk_auth_core::RequestState {
    let request = TestRequest::get("https://api.example.com/data")
        .bearer(token)
        .build();
    authenticate_request(&request, options).unwrap()
}

#[test]
fn an_m2m_jwt_from_the_kit_is_an_authenticated_machine() {
    let options = options(vec![TokenType::M2mToken, TokenType::OauthToken]);
    let state = decide(&options, &minter().m2m().mint());
    assert!(state.is_signed_in(), "{:?}", state.reason());
    assert_eq!(state.token_type(), Some(TokenType::M2mToken));
    let machine = state.machine().unwrap();
    assert_eq!(machine.subject, "mch_2test");
    assert_eq!(machine.id, "mt_2test");
    assert_eq!(machine.scopes, ["mch_2other"]);
}

#[test]
fn an_oauth_jwt_from_the_kit_is_an_authenticated_machine_with_its_client() {
    let options = options(vec![TokenType::M2mToken, TokenType::OauthToken]);
    let state = decide(&options, &minter().oauth().mint());
    assert!(state.is_signed_in(), "{:?}", state.reason());
    assert_eq!(state.token_type(), Some(TokenType::OauthToken));
    let machine = state.machine().unwrap();
    assert_eq!(machine.client_id.as_deref(), Some("client_2test"));
    assert_eq!(machine.scopes, ["profile", "email"]);
}

#[test]
fn a_machine_jwt_where_only_session_tokens_are_accepted_is_a_type_mismatch() {
    let options = options(TokenType::SessionToken);
    let state = decide(&options, &minter().m2m().mint());
    assert!(!state.is_signed_in());
    assert_eq!(
        state.reason().map(ToString::to_string).as_deref(),
        Some("token-type-mismatch")
    );
}
