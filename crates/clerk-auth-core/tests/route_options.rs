//! Options for one route ([`Options::with_accepts_token`], [`Options::with_pending_sessions`]):
//! other token types and pending sessions on a route, sharing the instance's key set, verified-token
//! cache and machine-token cache; a token verified on one route is still checked against the
//! other route's token types.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use clerk_auth_core::testing::server::{BackendApiServer, Endpoint};
use clerk_auth_core::testing::{FixedClock, KeyPair, TestRequest, TokenMinter};
use clerk_auth_core::{
    authenticate_request, Auth, AuthErrorReason, Options, Reason, RequestState, TokenType,
};
use serde_json::json;

const PK: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
const NOW: u64 = 1_700_000_000;
const KID: &str = "ins_route";

/// An instance on the emulator's key set (session tokens only) and the emulator.
fn instance() -> (Options, BackendApiServer) {
    let server = BackendApiServer::start("sk_live_route_options").unwrap();
    server.set_keys(vec![KeyPair::shared().jwk(KID)]);
    server.set_machine_token(
        Endpoint::ApiKeyVerify,
        "ak_route",
        json!({"id": "ak_id", "subject": "user_7", "scopes": [], "name": "ci"}),
    );
    let options = server
        .options_builder()
        .publishable_key(PK)
        .clock(Arc::new(FixedClock::at_unix(NOW)))
        .build()
        .unwrap();
    (options, server)
}

fn minter() -> TokenMinter<'static> {
    TokenMinter::new(KeyPair::shared())
        .kid(KID)
        .issued_at(UNIX_EPOCH + Duration::from_secs(NOW))
}

fn decide(options: &Options, token: &str) -> RequestState {
    let request = TestRequest::get("https://app.example.com/api/x")
        .bearer(token)
        .build();
    authenticate_request(&request, options).unwrap()
}

fn mismatch() -> Option<Reason> {
    Some(Reason::Auth(AuthErrorReason::TokenTypeMismatch))
}

#[test]
fn two_routes_share_one_key_set_and_one_verified_token_cache() {
    let (options, server) = instance();
    let api = options
        .with_accepts_token(vec![TokenType::SessionToken, TokenType::ApiKey])
        .unwrap();
    let session = minter().mint();

    assert!(decide(&options, &session).is_signed_in());
    assert_eq!(server.jwks_fetches(), 1);
    // The API route finds the key set (and the verified token) of the instance: no second fetch.
    assert!(decide(&api, &session).is_signed_in());
    let other = minter().subject("user_other").mint();
    assert_eq!(
        decide(&api, &other).session().unwrap().user_id.as_deref(),
        Some("user_other")
    );
    assert_eq!(server.jwks_fetches(), 1);

    // The API key is accepted on the API route only.
    let key = decide(&api, "ak_route");
    assert!(key.is_signed_in());
    assert_eq!(key.machine().unwrap().user_id.as_deref(), Some("user_7"));
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), 1);
    assert!(!decide(&options, "ak_route").is_signed_in());
    // The machine-token answer is cached by the instance: the API route asks once.
    assert!(decide(&api, "ak_route").is_signed_in());
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), 1);
}

#[test]
fn a_cached_token_is_checked_against_the_routes_token_types() {
    let (options, _server) = instance();
    let session = minter().mint();
    // Verified, and cached, on a session route.
    assert!(decide(&options, &session).is_signed_in());

    let api_key_only = options.with_accepts_token(TokenType::ApiKey).unwrap();
    let state = decide(&api_key_only, &session);
    assert!(!state.is_signed_in());
    assert_eq!(state.reason().cloned(), mismatch());
    assert_eq!(state.token_type(), Some(TokenType::ApiKey));

    let machines = options
        .with_accepts_token(vec![TokenType::ApiKey, TokenType::M2mToken])
        .unwrap();
    let state = decide(&machines, &session);
    assert!(!state.is_signed_in());
    assert!(matches!(state.auth(), Auth::InvalidToken));

    // And the instance still signs it in.
    assert!(decide(&options, &session).is_signed_in());
}

#[test]
fn a_machine_jwt_verified_on_a_machine_route_is_no_session_elsewhere() {
    let (options, _server) = instance();
    let m2m = minter()
        .subject("mch_1")
        .category(Some("cl_B7d4PD333AAA"))
        .without_claim("sid")
        .mint();
    let machines = options.with_accepts_token(TokenType::M2mToken).unwrap();
    let state = decide(&machines, &m2m);
    assert!(state.is_signed_in(), "{state:?}");
    assert_eq!(
        state.machine().unwrap().machine_id.as_deref(),
        Some("mch_1")
    );

    let state = decide(&options, &m2m);
    assert!(!state.is_signed_in());
    assert_eq!(state.reason().cloned(), mismatch());
    assert!(decide(&machines, &m2m).is_signed_in());
}

#[test]
fn a_route_can_accept_pending_sessions() {
    let (options, _server) = instance();
    let pending = minter().claim("sts", json!("pending")).mint();
    let onboarding = options.with_pending_sessions(true);

    assert!(!decide(&options, &pending).is_signed_in());
    let state = decide(&onboarding, &pending);
    assert!(state.is_signed_in());
    assert_eq!(
        state.session().unwrap().session_status.as_deref(),
        Some("pending")
    );
    // The verified token is cached, the instance's own treatment still applies.
    let state = decide(&options, &pending);
    assert!(!state.is_signed_in());
    assert!(matches!(
        state.auth(),
        Auth::SignedOutSession { pending: true }
    ));
}
