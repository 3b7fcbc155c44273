//! Decision 12 over real HTTP against the Backend API emulator: an opaque machine token whose
//! Backend API answer could not be had (network error, timeout, 5xx, 429, a redirect, a body that
//! is not the expected JSON) is signed out with Clerk's `unexpected-error` but answered `503`, not
//! `401`; definitive answers keep their mapping. And Backend API paths encode a path segment only
//! where needed (the refresh path's exact bytes).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use clerk_auth_core::bapi::RefreshRequest;
use clerk_auth_core::testing::server::{BackendApiServer, CannedResponse, Endpoint};
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::{
    authenticate_request, AcceptsToken, AuthStatus, BackendApi, HttpBackendApi, Options,
    RequestState, TokenType,
};
use serde_json::{json, Value};

const SECRET: &str = "sk_test_backend_api_failures";
const PK: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";

fn resource(subject: &str) -> Value {
    json!({
        "id": "id_1", "subject": subject, "scopes": ["read"], "claims": null, "revoked": false,
        "revocation_reason": null, "expired": false, "expiration": null,
        "created_at": 1, "updated_at": 1, "client_id": "client_1", "name": "key",
    })
}

/// The three opaque kinds: endpoint, a token the emulator knows, and the token type.
const KINDS: [(Endpoint, &str, TokenType); 3] = [
    (Endpoint::ApiKeyVerify, "ak_failures", TokenType::ApiKey),
    (Endpoint::M2mTokenVerify, "mt_failures", TokenType::M2mToken),
    (
        Endpoint::OAuthTokenVerify,
        "oat_failures",
        TokenType::OauthToken,
    ),
];

fn server() -> BackendApiServer {
    let server = BackendApiServer::start(SECRET).unwrap();
    for (endpoint, token, _) in KINDS {
        server.set_machine_token(endpoint, token, resource("user_1"));
    }
    server
}

fn options(api_url: &str, timeout: Duration) -> Options {
    Options::builder()
        .secret_key(SECRET)
        .publishable_key(PK)
        .api_url(api_url)
        .accepts_token(AcceptsToken::Any)
        .backend_api_timeout(timeout)
        .build()
        .unwrap()
}

fn decide(options: &Options, token: &str) -> RequestState {
    let request = TestRequest::get("https://api.example.com/data")
        .bearer(token)
        .build();
    authenticate_request(&request, options).unwrap()
}

/// The state of a Backend API outage: Clerk's reason and message, answered 503 without
/// `Retry-After` or a challenge.
fn assert_outage(state: &RequestState, kind: TokenType, status: Option<u16>, what: &str) {
    assert_eq!(state.status(), AuthStatus::SignedOut, "{what}");
    assert_eq!(
        state.reason().unwrap().as_str(),
        "unexpected-error",
        "{what}"
    );
    let status = status.map_or("n/a".to_owned(), |s| s.to_string());
    assert_eq!(
        state.message(),
        Some(format!("Unexpected error (code=unexpected-error, status={status})").as_str()),
        "{what}"
    );
    assert_eq!(state.token_type(), Some(kind), "{what}");
    assert!(state.is_unavailable(), "{what}");
    assert!(!state.is_key_set_outage(), "{what}");
    let rejection = state.rejection().unwrap();
    assert_eq!(rejection.status, 503, "{what}");
    assert!(
        rejection.headers.is_empty(),
        "{what}: {:?}",
        rejection.headers
    );
    let api = state.clone().into_api().rejection().unwrap();
    assert_eq!(api.status, 503, "{what}");
    assert!(api.headers.is_empty(), "{what}: no challenge on a 503");
    let body: Value = serde_json::from_str(&rejection.body).unwrap();
    assert_eq!(body["reason"], "unexpected-error", "{what}");
}

/// Every canned failure, for every kind: a 503 after exactly one call; and once the Backend API
/// answers again, the token is verified (an outage is never remembered as a refusal).
fn check_canned(canned: &CannedResponse, status: Option<u16>, what: &str) {
    let server = server();
    let options = options(&server.url(), Duration::from_secs(3));
    for (endpoint, token, kind) in KINDS {
        server.respond_with(endpoint, Some(canned.clone()));
        let state = decide(&options, token);
        assert_outage(&state, kind, status, &format!("{what} ({kind})"));
        assert_eq!(server.hits(endpoint), 1, "{what} ({kind}): one call");
        server.respond_with(endpoint, None);
        let state = decide(&options, token);
        assert!(state.is_signed_in(), "{what} ({kind}) recovers: {state:?}");
        assert_eq!(server.hits(endpoint), 2, "{what} ({kind})");
    }
}

#[test]
fn a_5xx_answer_is_a_503_unexpected_error() {
    check_canned(
        &CannedResponse::bapi_error(500, "internal_error", "boom"),
        Some(500),
        "500",
    );
    check_canned(&CannedResponse::garbage(502), Some(502), "502 garbage");
    check_canned(
        &CannedResponse::bapi_error(503, "unexpected_error", "down"),
        Some(503),
        "503",
    );
}

#[test]
fn a_429_answer_is_a_503_unexpected_error() {
    check_canned(
        &CannedResponse::bapi_error(429, "too_many_requests", "slow down"),
        Some(429),
        "429",
    );
}

#[test]
fn a_redirect_is_a_503_and_is_not_followed() {
    let server = server();
    // The redirect points at the same emulator's real endpoint: following it would sign in.
    for status in [301, 302, 307, 308] {
        let target = format!("{}/api_keys/verify", server.url());
        server.respond_with(
            Endpoint::ApiKeyVerify,
            Some(CannedResponse::redirect(status, &target)),
        );
        let options = options(&server.url(), Duration::from_secs(3));
        server.reset_hits();
        let state = decide(&options, "ak_failures");
        assert_outage(&state, TokenType::ApiKey, Some(status), "redirect");
        assert_eq!(
            server.hits(Endpoint::ApiKeyVerify),
            1,
            "{status}: not followed"
        );
    }
    server.respond_with(Endpoint::ApiKeyVerify, None);
    check_canned(
        &CannedResponse::redirect(302, "https://elsewhere.example/"),
        Some(302),
        "redirect elsewhere",
    );
}

#[test]
fn an_unparseable_or_unexpected_body_is_a_503_unexpected_error() {
    check_canned(&CannedResponse::garbage(200), None, "200 not JSON");
    check_canned(
        &CannedResponse::json(200, &json!(["not", "an", "object"])),
        None,
        "200 JSON array",
    );
    check_canned(
        &CannedResponse::json(200, &json!({"id": 5, "subject": null})),
        None,
        "200 without the resource's fields",
    );
}

#[test]
fn a_timeout_is_a_503_unexpected_error() {
    let server = server();
    let options = options(&server.url(), Duration::from_millis(200));
    for (endpoint, token, kind) in KINDS {
        server.set_delay(endpoint, Duration::from_secs(2));
        let state = decide(&options, token);
        assert_outage(&state, kind, None, "timeout");
        server.set_delay(endpoint, Duration::ZERO);
    }
}

#[test]
fn a_network_error_is_a_503_unexpected_error() {
    // A port that was just listening and is closed now: the connection is refused.
    let closed = {
        let gone = BackendApiServer::start(SECRET).unwrap();
        gone.url()
    };
    let options = options(&closed, Duration::from_secs(2));
    for (_, token, kind) in KINDS {
        let state = decide(&options, token);
        assert_outage(&state, kind, None, "connection refused");
    }
}

#[test]
fn definitive_answers_keep_their_mapping() {
    let server = server();
    let options = options(&server.url(), Duration::from_secs(3));

    // 404: token-invalid, 401.
    let state = decide(&options, "ak_unknown");
    assert_eq!(state.reason().unwrap().as_str(), "token-invalid");
    assert!(!state.is_unavailable());
    assert_eq!(state.rejection().unwrap().status, 401);

    // Another 4xx: unexpected-error, but the client's fault: 401.
    for status in [400, 403, 422] {
        server.respond_with(
            Endpoint::ApiKeyVerify,
            Some(CannedResponse::bapi_error(
                status,
                "form_param_invalid",
                "bad",
            )),
        );
        let state = decide(&options, "ak_failures");
        assert_eq!(state.reason().unwrap().as_str(), "unexpected-error");
        assert_eq!(
            state.message(),
            Some(format!("Unexpected error (code=unexpected-error, status={status})").as_str())
        );
        assert!(!state.is_unavailable(), "{status}");
        assert_eq!(state.rejection().unwrap().status, 401, "{status}");
    }

    // 401: the secret key is refused, a 503 as a key-set outage (Clerk's first error message).
    server.respond_with(
        Endpoint::ApiKeyVerify,
        Some(CannedResponse::bapi_error(
            401,
            "clerk_key_invalid",
            "Invalid key",
        )),
    );
    let state = decide(&options, "ak_failures");
    assert_eq!(state.reason().unwrap().as_str(), "secret-key-invalid");
    assert!(state.is_key_set_outage());
    assert_eq!(state.rejection().unwrap().status, 503);
    assert_eq!(state.rejection().unwrap().headers.get("retry-after"), None);
}

// ---- path encoding ------------------------------------------------------------------------

fn refresh_request() -> RefreshRequest {
    RefreshRequest {
        format: "cookie",
        expired_token: "expired".to_owned(),
        refresh_token: "refresh".to_owned(),
        request_origin: "https://app.example.com".to_owned(),
        request_headers: BTreeMap::new(),
        suffixed_cookies: false,
    }
}

#[test]
fn the_refresh_path_encodes_a_session_id_only_where_needed() {
    let server = BackendApiServer::start(SECRET).unwrap();
    let api = HttpBackendApi::new(&server.url(), "v1", SECRET, Duration::from_secs(3));
    for (sid, path) in [
        ("sess_2abcXYZ09", "/v1/sessions/sess_2abcXYZ09/refresh"),
        ("sess_-._~", "/v1/sessions/sess_-._~/refresh"),
        ("a/b", "/v1/sessions/a%2Fb/refresh"),
        ("50%", "/v1/sessions/50%25/refresh"),
        ("a b", "/v1/sessions/a%20b/refresh"),
        ("q?x#y", "/v1/sessions/q%3Fx%23y/refresh"),
        ("sessé€", "/v1/sessions/sess%C3%A9%E2%82%AC/refresh"),
        ("..", "/v1/sessions/%2E%2E/refresh"),
        (".", "/v1/sessions/%2E/refresh"),
    ] {
        // The emulator answers 404 (no refresh programmed): the path is what matters here.
        let _ = api.refresh_session(sid, &refresh_request());
        let last = server
            .last_request(Endpoint::SessionRefresh)
            .unwrap_or_else(|| panic!("{sid:?} reached the refresh route"));
        assert_eq!(last.path, path, "{sid:?}");
        assert_eq!(last.param("sid"), Some(sid), "{sid:?} decodes back");
    }
    assert_eq!(server.unrouted_hits(), 0);
    assert_eq!(server.hits(Endpoint::SessionRefresh), 9);
}

#[test]
fn the_decisions_refresh_sends_the_session_id_as_is() {
    let keys = KeyPair::shared();
    let server = BackendApiServer::start(SECRET).unwrap();
    server.set_keys(vec![keys.jwk("ins_2test")]);
    let options = Options::builder()
        .secret_key(SECRET)
        .publishable_key(PK)
        .api_url(server.url())
        .build()
        .unwrap();
    let now = std::time::SystemTime::now();
    let expired = TokenMinter::new(keys)
        .kid("ins_2test")
        .sid("sess_2xYz-._~09")
        .issued_at(now - Duration::from_secs(600))
        .ttl(Duration::from_secs(60))
        .mint();
    let suffix = options.cookie_suffix().unwrap().to_owned();
    let request = TestRequest::get("https://app.example.com/dashboard")
        .cookie("__session", &expired)
        .cookie("__client_uat", "1")
        .cookie(&format!("__refresh_{suffix}"), "refresh_1")
        .build();
    let _ = authenticate_request(&request, &options).unwrap();
    let last = server.last_request(Endpoint::SessionRefresh).unwrap();
    assert_eq!(last.path, "/v1/sessions/sess_2xYz-._~09/refresh");
}
