//! Machine-token verification through the decision, over real HTTP against the Backend API
//! emulator: the requests Clerk's SDK sends, the error mapping (§5.5), the key-set outage class,
//! JWT forms and non-blocking mode, and secret redaction.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use clerk_auth_core::testing::server::{BackendApiServer, Endpoint};
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{FixedClock, KeyPair, TokenMinter};
use clerk_auth_core::OwnedRequest;
use clerk_auth_core::{
    authenticate_request, try_authenticate_request, AcceptsToken, Auth, BackendApi, HttpBackendApi,
    Interrupt, Options, OptionsBuilder, RequestState, TokenType,
};
use serde_json::{json, Value};

const SECRET: &str = "sk_test_machine_verify";
const MACHINE_SECRET: &str = "ak_machine_secret_verify";
const PK: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
const NOW: u64 = 1_700_000_000;

fn resource(id: &str, subject: &str) -> Value {
    json!({
        "id": id, "subject": subject, "scopes": ["read"], "claims": null, "revoked": false,
        "revocation_reason": null, "expired": false, "expiration": null,
        "created_at": 1, "updated_at": 1, "client_id": "client_1", "name": "key",
    })
}

fn builder(server: &BackendApiServer, accepts: AcceptsToken) -> OptionsBuilder {
    Options::builder()
        .secret_key(server.secret())
        .publishable_key(PK)
        .api_url(server.url())
        .accepts_token(accepts)
        .clock(Arc::new(FixedClock::at_unix(NOW)))
}

fn request(token: &str) -> OwnedRequest {
    TestRequest::get("https://api.example.com/data")
        .bearer(token)
        .build()
}

fn decide(options: &Options, token: &str) -> RequestState {
    authenticate_request(&request(token), options).unwrap()
}

#[test]
fn opaque_tokens_are_verified_with_clerks_requests() {
    let server = BackendApiServer::start(SECRET).unwrap();
    server.set_machine_secret_key(Some(MACHINE_SECRET));
    server.set_machine_token(Endpoint::ApiKeyVerify, "ak_1", resource("ak_id", "org_1"));
    server.set_machine_token(Endpoint::M2mTokenVerify, "mt_1", resource("mt_id", "mch_1"));
    server.set_machine_token(
        Endpoint::OAuthTokenVerify,
        "oat_1",
        resource("oat_id", "user_1"),
    );
    let options = builder(&server, AcceptsToken::Any)
        .machine_secret_key(MACHINE_SECRET)
        .build()
        .unwrap();

    for (token, endpoint, field, kind) in [
        ("ak_1", Endpoint::ApiKeyVerify, "secret", TokenType::ApiKey),
        (
            "mt_1",
            Endpoint::M2mTokenVerify,
            "token",
            TokenType::M2mToken,
        ),
        (
            "oat_1",
            Endpoint::OAuthTokenVerify,
            "access_token",
            TokenType::OauthToken,
        ),
    ] {
        let state = decide(&options, token);
        assert!(state.is_signed_in(), "{token}: {state:?}");
        assert_eq!(state.token_type(), Some(kind));
        assert_eq!(state.token(), Some(token));
        assert!(state.headers().is_empty());
        assert!(matches!(state.auth(), Auth::Machine(m) if m.token_type == kind));
        assert!(state.rejection().is_none());
        let sent = server.last_request(endpoint).unwrap();
        assert_eq!(sent.method, "POST");
        assert!(sent.authorized);
        assert_eq!(sent.json(), Some(json!({ field: token })));
        assert_eq!(sent.header("clerk-api-version"), Some("2026-05-12"));
        assert_eq!(sent.header("content-type"), Some("application/json"));
    }
    assert_eq!(
        server.last_request(Endpoint::M2mTokenVerify).unwrap().path,
        "/m2m_tokens/verify"
    );
    let machine = decide(&options, "ak_1");
    let auth = machine.machine().unwrap();
    assert_eq!(auth.org_id.as_deref(), Some("org_1"));
    assert_eq!(auth.user_id, None);
    assert_eq!(machine.auth_json()["tokenType"], "api_key");
}

#[test]
fn the_m2m_endpoint_gets_the_machine_secret_key() {
    let server = BackendApiServer::start("sk_test_emulator_only").unwrap();
    server.set_machine_secret_key(Some(MACHINE_SECRET));
    server.set_machine_token(Endpoint::M2mTokenVerify, "mt_1", resource("mt_id", "mch_1"));
    // The instance secret key is wrong; only the machine secret key is accepted.
    let options = Options::builder()
        .secret_key("sk_test_wrong")
        .machine_secret_key(MACHINE_SECRET)
        .api_url(server.url())
        .accepts_token(AcceptsToken::Only(TokenType::M2mToken))
        .build()
        .unwrap();
    assert!(decide(&options, "mt_1").is_signed_in());

    // Without the machine secret key, the secret key is used (and refused here).
    let options = Options::builder()
        .secret_key("sk_test_wrong")
        .api_url(server.url())
        .accepts_token(AcceptsToken::Only(TokenType::M2mToken))
        .build()
        .unwrap();
    assert_eq!(
        decide(&options, "mt_1").reason().unwrap().as_str(),
        "secret-key-invalid"
    );
}

#[test]
fn a_bad_secret_key_is_secret_key_invalid_and_a_503() {
    let server = BackendApiServer::start(SECRET).unwrap();
    server.set_machine_token(Endpoint::ApiKeyVerify, "ak_1", resource("ak_id", "user_1"));
    let options = Options::builder()
        .secret_key("sk_test_not_the_right_one")
        .api_url(server.url())
        .accepts_token(AcceptsToken::Only(TokenType::ApiKey))
        .build()
        .unwrap();
    let state = decide(&options, "ak_1");
    assert_eq!(state.reason().unwrap().as_str(), "secret-key-invalid");
    assert_eq!(
        state.message(),
        Some("The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct. (code=secret-key-invalid, status=401)")
    );
    assert_eq!(state.token_type(), Some(TokenType::ApiKey));
    assert!(matches!(
        state.auth(),
        Auth::UnauthenticatedMachine(TokenType::ApiKey)
    ));
    assert!(state.is_key_set_outage());
    assert_eq!(state.rejection().unwrap().status, 503);
    assert_eq!(state.headers()["x-clerk-auth-reason"], "secret-key-invalid");
    assert!(!state
        .message()
        .unwrap()
        .contains("sk_test_not_the_right_one"));
}

#[test]
fn an_unknown_token_is_token_invalid_with_clerks_404_message() {
    let server = BackendApiServer::start(SECRET).unwrap();
    let options = builder(&server, AcceptsToken::Any).build().unwrap();
    for (token, message) in [
        (
            "ak_nope",
            "API key not found (code=token-invalid, status=404)",
        ),
        (
            "mt_nope",
            "Machine token not found (code=token-invalid, status=404)",
        ),
        (
            "oat_nope",
            "OAuth token not found (code=token-invalid, status=404)",
        ),
    ] {
        let state = decide(&options, token);
        assert_eq!(state.reason().unwrap().as_str(), "token-invalid");
        assert_eq!(state.message(), Some(message));
        assert_eq!(state.rejection().unwrap().status, 401);
        assert_eq!(state.headers()["x-clerk-auth-message"], message);
    }
}

#[test]
fn a_slow_backend_api_is_an_unexpected_error() {
    let server = BackendApiServer::start(SECRET).unwrap();
    server.set_machine_token(Endpoint::ApiKeyVerify, "ak_1", resource("ak_id", "user_1"));
    server.set_delay(Endpoint::ApiKeyVerify, Duration::from_secs(2));
    let options = builder(&server, AcceptsToken::Only(TokenType::ApiKey))
        .backend_api_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let state = decide(&options, "ak_1");
    assert_eq!(state.reason().unwrap().as_str(), "unexpected-error");
    assert_eq!(
        state.message(),
        Some("Unexpected error (code=unexpected-error, status=n/a)")
    );
}

#[test]
fn an_oversized_opaque_token_is_refused_without_a_call() {
    let server = BackendApiServer::start(SECRET).unwrap();
    let options = builder(&server, AcceptsToken::Only(TokenType::ApiKey))
        .build()
        .unwrap();
    let token = format!("ak_{}", "a".repeat(16 * 1024));
    let state = decide(&options, &token);
    assert_eq!(state.reason().unwrap().as_str(), "token-invalid");
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), 0);
}

fn m2m_jwt(keys: &KeyPair) -> String {
    TokenMinter::new(keys)
        .issued_at(std::time::UNIX_EPOCH + Duration::from_secs(NOW))
        .kid("ins_machine")
        .subject("mch_1")
        .category(Some("cl_B7d4PD333AAA"))
        .without_claim("sid")
        .mint()
}

#[test]
fn machine_jwts_are_verified_locally_and_non_blocking_follows_the_key_source() {
    let keys = KeyPair::shared();
    let server = BackendApiServer::start(SECRET).unwrap();
    server.set_keys(vec![keys.jwk("ins_machine")]);
    let token = m2m_jwt(keys);

    // Key set over HTTP: the first verification needs IO.
    let options = builder(&server, AcceptsToken::Only(TokenType::M2mToken))
        .build()
        .unwrap();
    assert!(matches!(
        try_authenticate_request(&request(&token), &options),
        Err(Interrupt::WouldBlock(_))
    ));
    let state = decide(&options, &token);
    assert!(state.is_signed_in(), "{state:?}");
    assert_eq!(
        state.machine().unwrap().machine_id.as_deref(),
        Some("mch_1")
    );
    assert_eq!(server.hits(Endpoint::M2mTokenVerify), 0);
    // Keys now cached: no IO.
    assert!(try_authenticate_request(&request(&token), &options)
        .unwrap()
        .is_signed_in());

    // PEM key: never IO.
    let options = builder(&server, AcceptsToken::Only(TokenType::M2mToken))
        .jwt_key(keys.public_pem())
        .build()
        .unwrap();
    assert!(try_authenticate_request(&request(&token), &options)
        .unwrap()
        .is_signed_in());
}

#[test]
fn a_custom_backend_api_without_machine_support_is_an_unexpected_error() {
    #[derive(Debug)]
    struct NoMachines;
    impl BackendApi for NoMachines {
        fn handshake_payload(
            &self,
            _nonce: &str,
        ) -> Result<Vec<String>, clerk_auth_core::bapi::BapiError> {
            Ok(Vec::new())
        }
        fn refresh_session(
            &self,
            _session_id: &str,
            _request: &clerk_auth_core::bapi::RefreshRequest,
        ) -> Result<Vec<String>, clerk_auth_core::bapi::BapiError> {
            Ok(Vec::new())
        }
    }
    let options = Options::builder()
        .secret_key(SECRET)
        .accepts_token(AcceptsToken::Only(TokenType::ApiKey))
        .backend_api(Arc::new(NoMachines))
        .build()
        .unwrap();
    let state = decide(&options, "ak_1");
    assert_eq!(
        state.message(),
        Some("Unexpected error (code=unexpected-error, status=n/a)")
    );
}

#[test]
fn secrets_never_print() {
    let api = HttpBackendApi::new(
        "https://api.clerk.com",
        "v1",
        "sk_test_hidden",
        Duration::from_secs(1),
    )
    .with_machine_secret_key("ak_machine_hidden");
    let text = format!("{api:?}");
    assert!(!text.contains("sk_test_hidden"), "{text}");
    assert!(!text.contains("ak_machine_hidden"), "{text}");
    assert!(text.contains("[redacted]"));

    let server = BackendApiServer::start(SECRET).unwrap();
    server.set_machine_token(
        Endpoint::ApiKeyVerify,
        "ak_visible_secret",
        resource("ak_id", "user_1"),
    );
    let options = builder(&server, AcceptsToken::Only(TokenType::ApiKey))
        .machine_secret_key("ak_machine_hidden")
        .build()
        .unwrap();
    assert!(!format!("{options:?}").contains("ak_machine_hidden"));
    let state = decide(&options, "ak_visible_secret");
    assert!(!format!("{state:?}").contains("ak_visible_secret"));
}
