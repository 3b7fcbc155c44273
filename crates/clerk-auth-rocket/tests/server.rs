//! The fairing and guards through a real Rocket server and real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use clerk_auth_core::testing::server::{BackendApiServer, CannedResponse, Endpoint};
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::{authenticate_request, Options, OptionsBuilder};
use clerk_auth_vectors::client::{agent, get, request};
use serde_json::json;
use support::{app, app_without_self_check, assert_state_headers, expected, serve};

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";

fn pem_options() -> OptionsBuilder {
    Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key("sk_live_rocket_tests")
        .jwt_key(KeyPair::shared().public_pem())
        .api_url("http://127.0.0.1:9")
}

fn token(keys: &KeyPair) -> String {
    TokenMinter::new(keys)
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(3600))
        .mint()
}

const DEBUG_HEADERS: [&str; 3] = [
    "x-clerk-auth-status",
    "x-clerk-auth-reason",
    "x-clerk-auth-message",
];

#[test]
fn missing_token_is_401_json_with_debug_headers() {
    let options = pem_options().build().unwrap();
    let (rocket, _) = app(options.clone());
    let server = serve(rocket);
    let reply = get(&agent(), &format!("{}/api/me", server.base), &[]);
    let want = expected(&options, &server, "/api/me", &[]);
    let rejection = want.rejection().unwrap();
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.body, rejection.body);
    assert_eq!(
        reply.json(),
        json!({"status": "signed-out", "reason": "session-token-and-uat-missing", "message": ""})
    );
    assert_eq!(reply.header("x-clerk-auth-status"), Some("signed-out"));
    assert_state_headers(&reply, &want);
}

#[test]
fn bad_token_is_401_with_the_reason() {
    let options = pem_options().build().unwrap();
    let (rocket, _) = app(options.clone());
    let server = serve(rocket);
    let bearer = format!("Bearer {}", token(KeyPair::shared_other()));
    let headers = [("Authorization", bearer.as_str())];
    let reply = get(&agent(), &format!("{}/api/me", server.base), &headers);
    let want = expected(&options, &server, "/api/me", &headers);
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.body, want.rejection().unwrap().body);
    assert_eq!(reply.json()["status"], "signed-out");
    assert!(reply.json()["reason"]
        .as_str()
        .unwrap()
        .starts_with("token-"));
    assert_state_headers(&reply, &want);
}

#[test]
fn good_token_is_200_with_the_auth_object() {
    let options = pem_options().build().unwrap();
    let (rocket, _) = app(options.clone());
    let server = serve(rocket);
    let bearer = format!("Bearer {}", token(KeyPair::shared()));
    let headers = [("Authorization", bearer.as_str())];
    let reply = get(&agent(), &format!("{}/api/me", server.base), &headers);
    let want = expected(&options, &server, "/api/me", &headers);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, want.auth_json().to_string());
    assert_eq!(reply.json()["userId"], "user_2test");
    assert_eq!(reply.json()["sessionId"], "sess_2test");
    for name in DEBUG_HEADERS {
        assert_eq!(reply.header(name), None, "{name}");
    }
}

#[test]
fn optional_guard_gives_none_when_not_signed_in() {
    let (rocket, _) = app(pem_options().build().unwrap());
    let server = serve(rocket);
    let agent = agent();
    let url = format!("{}/optional", server.base);

    let reply = get(&agent, &url, &[]);
    assert_eq!((reply.status, reply.body.as_str()), (200, "none"));
    assert_eq!(reply.header("x-clerk-auth-status"), Some("signed-out"));

    let bad = format!("Bearer {}", token(KeyPair::shared_other()));
    let reply = get(&agent, &url, &[("Authorization", &bad)]);
    assert_eq!((reply.status, reply.body.as_str()), (200, "none"));

    let good = format!("Bearer {}", token(KeyPair::shared()));
    let reply = get(&agent, &url, &[("Authorization", &good)]);
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "some user_2test")
    );
}

#[test]
fn auth_state_never_refuses() {
    let (rocket, hits) = app(pem_options().build().unwrap());
    let server = serve(rocket);
    let reply = get(&agent(), &format!("{}/state", server.base), &[]);
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "signed-out false")
    );
    assert_eq!(
        reply.header("x-clerk-auth-reason"),
        Some("session-token-and-uat-missing")
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[test]
fn handshake_is_307_with_exact_headers_and_no_handler_runs() {
    let options = pem_options().build().unwrap();
    let (rocket, hits) = app(options.clone());
    let server = serve(rocket);
    let agent = agent();
    let headers = [("Cookie", "__client_uat=1"), ("Sec-Fetch-Dest", "document")];
    let want = expected(&options, &server, "/plain?x=1", &headers);

    let reply = get(&agent, &format!("{}/plain?x=1", server.base), &headers);
    assert_eq!(reply.status, 307);
    assert!(reply.body.is_empty());
    let location = reply.header("location").unwrap();
    assert!(
        location.starts_with("https://clerk.example.com/v1/client/handshake?"),
        "{location}"
    );
    assert!(
        location.contains("redirect_url=http%3A%2F%2F127.0.0.1%3A"),
        "{location}"
    );
    assert_eq!(
        reply.header_all("set-cookie"),
        ["__clerk_redirect_count=1; SameSite=Lax; HttpOnly; Max-Age=2"]
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("x-clerk-auth-status"), Some("handshake"));
    assert_eq!(
        reply.header("x-clerk-auth-reason"),
        Some("client-uat-but-no-session-token")
    );
    assert_eq!(reply.header("content-type"), None);
    assert_state_headers(&reply, &want);
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no handler ran");

    // Only GET requests are eligible for a handshake: a POST runs as signed-out.
    let reply = request(&agent, "POST", &format!("{}/plain", server.base), &headers);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // The internal route is not reachable for a request that is not interrupted.
    let reply = get(
        &agent,
        &format!("{}{}", server.base, clerk_auth_rocket::INTERRUPT_PATH),
        &[],
    );
    assert_eq!(reply.status, 404);
}

#[test]
fn key_set_outage_is_503() {
    let emulator = BackendApiServer::start("sk_live_outage").unwrap();
    emulator.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::json(500, &json!({"errors": []}))),
    );
    let options = Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key(emulator.secret())
        .api_url(emulator.url())
        .jwks_max_attempts(1)
        .build()
        .unwrap();
    // The request itself meets the outage: no fetch at launch.
    let (rocket, _) = app_without_self_check(options);
    let server = serve(rocket);
    let bearer = format!("Bearer {}", token(KeyPair::shared()));
    let reply = get(
        &agent(),
        &format!("{}/api/me", server.base),
        &[("Authorization", &bearer)],
    );
    assert_eq!(reply.status, 503, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.json()["status"], "signed-out");
    assert_eq!(reply.json()["reason"], "jwk-remote-failed-to-load");
    assert_eq!(
        reply.header("x-clerk-auth-reason"),
        Some("jwk-remote-failed-to-load")
    );
    assert!(emulator.jwks_fetches() >= 1);
    // The same outage on an API route: still 503, and no challenge (the credential is not at fault).
    let res = get(
        &agent(),
        &format!("{}/v1/api/me", server.base),
        &[("Authorization", &bearer)],
    );
    assert_eq!(res.status, 503, "{res:?}");
    assert_eq!(res.json()["reason"], "jwk-remote-failed-to-load");
    assert_eq!(res.header("www-authenticate"), None);
}

#[test]
fn debug_headers_can_be_switched_off() {
    let (rocket, _) = app(pem_options().debug_headers(false).build().unwrap());
    let server = serve(rocket);
    let reply = get(&agent(), &format!("{}/api/me", server.base), &[]);
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["reason"], "session-token-and-uat-missing");
    for name in DEBUG_HEADERS {
        assert_eq!(reply.header(name), None, "{name}");
    }
}

#[test]
fn undecidable_request_is_500_json_and_no_handler_runs() {
    let options = pem_options()
        .is_satellite(true)
        .domain("satellite.example.com")
        .sign_in_url("https://satellite.example.com/sign-in")
        .build()
        .unwrap();
    let (rocket, hits) = app(options.clone());
    let server = serve(rocket);
    let headers = [("Origin", "https://satellite.example.com")];
    let reply = get(&agent(), &format!("{}/state", server.base), &headers);
    let error = authenticate_request(
        &TestRequest::get("/state")
            .header("origin", "https://satellite.example.com")
            .build(),
        &options,
    )
    .unwrap_err();
    assert_eq!(reply.status, 500);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.body, error.to_json());
    assert_eq!(reply.json()["status"], "error");
    assert_eq!(hits.load(Ordering::SeqCst), 0);

    // The server keeps serving.
    let reply = get(&agent(), &format!("{}/state", server.base), &[]);
    assert_eq!(reply.status, 200);
}

#[test]
fn resolved_handshake_keeps_every_set_cookie() {
    // Production handshake nonce: the directives come from the Backend API (network IO, so the
    // decision runs on a blocking thread), several set-cookie headers on a 200.
    let emulator = BackendApiServer::start("sk_live_nonce").unwrap();
    let session = token(KeyPair::shared());
    let directives = vec![
        format!("__session={session}; Path=/; SameSite=Lax"),
        "__client_uat=1700000000; Path=/; SameSite=Lax".to_owned(),
        "__clerk_handshake_nonce=; Path=/; Max-Age=0".to_owned(),
    ];
    emulator.set_handshake_payload("nonce-1", directives.clone());
    let options = pem_options()
        .secret_key(emulator.secret())
        .api_url(emulator.url())
        .build()
        .unwrap();
    let (rocket, hits) = app(options);
    let server = serve(rocket);
    let reply = get(
        &agent(),
        &format!("{}/state", server.base),
        &[("Cookie", "__clerk_handshake_nonce=nonce-1")],
    );
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "signed-in true"),
        "{reply:?}"
    );
    assert_eq!(reply.header_all("set-cookie"), directives);
    assert_eq!(reply.header("access-control-allow-origin"), Some("null"));
    assert_eq!(
        reply.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(emulator.hits(Endpoint::HandshakePayload), 1);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[test]
fn dev_handshake_token_redirects_any_method_with_every_set_cookie() {
    // A development instance resolving a handshake token from the query: `307` to the clean URL
    // with the handshake's set-cookie directives, on any method, and the handler never runs.
    let options = Options::builder()
        .publishable_key("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_test_rocket_tests")
        .jwt_key(KeyPair::shared().public_pem())
        .api_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    let (rocket, hits) = app(options.clone());
    let server = serve(rocket);
    let session = token(KeyPair::shared());
    let directives = vec![
        format!("__session={session}; Path=/; SameSite=Lax"),
        "__client_uat=1700000000; Path=/; SameSite=Lax".to_owned(),
    ];
    let handshake = KeyPair::shared().sign(
        json!({"alg": "RS256", "typ": "JWT", "kid": "ins_2test"}),
        json!({"handshake": directives}),
    );
    let path = format!("/plain?a=1&__clerk_handshake={handshake}");
    let want = expected(&options, &server, &path, &[]);
    assert_eq!(want.headers().get_all("set-cookie").iter().count(), 2);
    for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"] {
        let reply = request(&agent(), method, &format!("{}{path}", server.base), &[]);
        assert_eq!(reply.status, 307, "{method}: {reply:?}");
        assert_eq!(reply.header_all("set-cookie"), directives, "{method}");
        assert_eq!(
            reply.header("location"),
            Some(format!("{}/plain?a=1", server.base).as_str())
        );
        assert_state_headers(&reply, &want);
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no handler ran");
}

#[test]
fn api_prefix_answers_401_where_pages_get_307() {
    let options = pem_options().build().unwrap();
    let (rocket, hits) = app(options);
    let server = serve(rocket);
    let agent = agent();
    let sent = [("Cookie", "__client_uat=1"), ("Sec-Fetch-Dest", "document")];

    // A page: the handshake redirect.
    let page = get(&agent, &format!("{}/api/me", server.base), &sent);
    assert_eq!(page.status, 307);
    assert!(page.header("location").is_some());
    assert_eq!(page.header("www-authenticate"), None);

    // The same request under the API prefix: 401 with the challenge, never a redirect.
    let api = get(&agent, &format!("{}/v1/api/me", server.base), &sent);
    assert_eq!(api.status, 401, "{api:?}");
    assert_eq!(
        api.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token""#)
    );
    assert_eq!(api.header("content-type"), Some("application/json"));
    assert_eq!(
        api.json(),
        json!({"status": "signed-out", "reason": "client-uat-but-no-session-token", "message": ""})
    );
    assert_eq!(api.header("location"), None);
    assert_eq!(api.header("cache-control"), None);
    assert!(
        api.header_all("set-cookie")
            .iter()
            .all(|c| !c.starts_with("__clerk_redirect_count")),
        "{api:?}"
    );
    assert_eq!(api.header("x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(
        api.header("x-clerk-auth-reason"),
        Some("client-uat-but-no-session-token")
    );

    // Handlers that do not require a session run, signed out, without a challenge.
    let res = get(&agent, &format!("{}/v1/optional", server.base), &sent);
    assert_eq!((res.status, res.body.as_str()), (200, "none"));
    assert_eq!(res.header("www-authenticate"), None);
    let res = get(&agent, &format!("{}/v1/state", server.base), &sent);
    assert_eq!((res.status, res.body.as_str()), (200, "signed-out false"));
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // The prefix is matched by segment on the decoded path, as the router matches.
    let res = get(&agent, &format!("{}/v%31/api/me", server.base), &sent);
    assert_eq!(res.status, 401, "{res:?}");
    let res = get(&agent, &format!("{}/v1x/api/me", server.base), &sent);
    assert_eq!(res.status, 307, "not under the prefix");

    // A valid Bearer token: 200.
    let bearer = format!("Bearer {}", token(KeyPair::shared()));
    let res = get(
        &agent,
        &format!("{}/v1/api/me", server.base),
        &[("Authorization", &bearer)],
    );
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.json()["userId"], "user_2test");
    assert_eq!(res.header("www-authenticate"), None);

    // No token at all: 401 with the challenge (the page route has none).
    let res = get(&agent, &format!("{}/v1/api/me", server.base), &[]);
    assert_eq!(res.status, 401);
    assert_eq!(
        res.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token""#)
    );
    assert_eq!(res.json()["reason"], "session-token-and-uat-missing");
    let res = get(&agent, &format!("{}/api/me", server.base), &[]);
    assert_eq!(res.status, 401);
    assert_eq!(res.header("www-authenticate"), None);
}
