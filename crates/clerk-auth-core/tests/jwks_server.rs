//! The Backend API emulator of the test kit (`testing::server`), exercised with a plain HTTP client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use clerk_auth_core::testing::server::{
    BackendApiServer, CannedResponse, Endpoint, RefreshResponse,
};
use serde_json::{json, Value};

const SECRET: &str = "sk_test_emulator";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into()
}

fn get(server: &BackendApiServer, path: &str, secret: &str) -> (u16, Value) {
    let mut r = agent()
        .get(format!("{}{path}", server.url()))
        .header("Authorization", format!("Bearer {secret}"))
        .call()
        .unwrap();
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn post(server: &BackendApiServer, path: &str, body: &Value) -> (u16, Value) {
    let mut r = agent()
        .post(format!("{}{path}", server.url()))
        .header("Authorization", format!("Bearer {SECRET}"))
        .send_json(body)
        .unwrap();
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[test]
fn jwks_requires_the_secret() {
    let server = BackendApiServer::start(SECRET).unwrap();
    assert!(server.url().starts_with("http://127.0.0.1:"));
    assert_eq!(server.secret(), SECRET);
    server.set_keys(vec![
        json!({"kid": "ins_1", "kty": "RSA", "n": "AQAB", "e": "AQAB"}),
    ]);

    let (status, body) = get(&server, "/v1/jwks", SECRET);
    assert_eq!(status, 200);
    assert_eq!(body["keys"][0]["kid"], "ins_1");

    let (status, body) = get(&server, "/v1/jwks", "sk_test_other");
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["code"], "clerk_key_invalid");
    assert_eq!(server.jwks_fetches(), 2);
    assert!(!server.last_request(Endpoint::Jwks).unwrap().authorized);
    assert!(!format!("{server:?}").contains(SECRET));
}

#[test]
fn canned_responses_and_reset() {
    let server = BackendApiServer::start(SECRET).unwrap();
    server.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::bapi_error(500, "unexpected_error", "x")),
    );
    assert_eq!(get(&server, "/v1/jwks", SECRET).0, 500);
    server.respond_with(Endpoint::Jwks, Some(CannedResponse::garbage(200)));
    assert_eq!(get(&server, "/v1/jwks", SECRET), (200, Value::Null));
    server.respond_with(Endpoint::Jwks, None);
    assert_eq!(get(&server, "/v1/jwks", SECRET), (200, json!({"keys": []})));
    assert_eq!(server.hits(Endpoint::Jwks), 3);
    server.reset_hits();
    assert_eq!(server.hits(Endpoint::Jwks), 0);

    assert_eq!(get(&server, "/v1/nope", SECRET).0, 404);
    assert_eq!(server.unrouted_hits(), 1);
}

#[test]
fn handshake_payload_by_nonce() {
    let server = BackendApiServer::start(SECRET).unwrap();
    server.set_handshake_payload("n1", vec!["__session=abc; Path=/".into()]);
    let (status, body) = get(&server, "/v1/clients/handshake_payload?nonce=n1", SECRET);
    assert_eq!(status, 200);
    assert_eq!(body, json!({"directives": ["__session=abc; Path=/"]}));
    let (status, _) = get(&server, "/v1/clients/handshake_payload?nonce=n2", SECRET);
    assert_eq!(status, 404);
    assert_eq!(server.hits(Endpoint::HandshakePayload), 2);
    let last = server.last_request(Endpoint::HandshakePayload).unwrap();
    assert_eq!(last.query_param("nonce"), Some("n2"));
}

#[test]
fn session_refresh_is_programmable_and_recorded() {
    let server = BackendApiServer::start(SECRET).unwrap();
    let body = json!({"format": "cookie", "expired_token": "t", "refresh_token": "r"});
    assert_eq!(
        post(
            &server,
            "/v1/sessions/sess_1/refresh?suffixed_cookies=true",
            &body
        )
        .0,
        404
    );

    server.set_refresh_response(RefreshResponse::Cookies(vec!["__session=new".into()]));
    let (status, answer) = post(
        &server,
        "/v1/sessions/sess_1/refresh?suffixed_cookies=true",
        &body,
    );
    assert_eq!(
        (status, answer),
        (200, json!({"cookies": ["__session=new"]}))
    );
    let last = server.last_request(Endpoint::SessionRefresh).unwrap();
    assert_eq!(last.param("sid"), Some("sess_1"));
    assert_eq!(last.query_param("suffixed_cookies"), Some("true"));
    assert_eq!(last.json(), Some(body.clone()));

    server.set_refresh_response(RefreshResponse::Error {
        status: 422,
        code: "session_not_refreshable".into(),
    });
    let (status, answer) = post(&server, "/v1/sessions/sess_2/refresh", &body);
    assert_eq!(status, 422);
    assert_eq!(answer["errors"][0]["code"], "session_not_refreshable");
    assert_eq!(server.hits(Endpoint::SessionRefresh), 3);
}

#[test]
fn concurrent_slow_requests_do_not_queue() {
    let server = std::sync::Arc::new(BackendApiServer::start(SECRET).unwrap());
    server.set_delay(Endpoint::Jwks, Duration::from_millis(300));
    let start = std::time::Instant::now();
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let server = server.clone();
            std::thread::spawn(move || get(&server, "/v1/jwks", SECRET).0)
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 200);
    }
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(server.jwks_fetches(), 16);
}

#[test]
fn machine_token_verify_routes() {
    let server = BackendApiServer::start(SECRET).unwrap();
    server.set_machine_token(
        Endpoint::ApiKeyVerify,
        "ak_1",
        json!({"id": "key_1", "subject": "user_1"}),
    );
    let (status, body) = post(&server, "/api_keys/verify", &json!({"secret": "ak_1"}));
    assert_eq!((status, body["id"].clone()), (200, json!("key_1")));
    let (status, _) = post(&server, "/api_keys/verify", &json!({"secret": "ak_2"}));
    assert_eq!(status, 404);
    // Tokens are per endpoint.
    let (status, _) = post(&server, "/m2m_tokens/verify", &json!({"token": "ak_1"}));
    assert_eq!(status, 404);
    let (status, body) = post(
        &server,
        "/oauth_applications/access_tokens/verify",
        &json!({"access_token": "oat_1"}),
    );
    assert_eq!(status, 404);
    assert_eq!(body["errors"][0]["message"], "OAuth token not found");
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), 2);
    assert_eq!(server.hits(Endpoint::M2mTokenVerify), 1);
}
