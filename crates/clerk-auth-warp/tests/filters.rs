//! The filters through a real warp server and real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime};

use clerk_auth_core::testing::server::{BackendApiServer, CannedResponse, Endpoint};
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::{try_authenticate_request, ConfigError, Options};
use clerk_auth_vectors::client::{agent, get};
use common::{pem_options, Server, PK_LIVE};
use serde_json::json;

fn token(keys: &KeyPair) -> String {
    TokenMinter::new(keys)
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(600))
        .subject("user_2warp")
        .mint()
}

const DEBUG_HEADERS: [&str; 3] = [
    "x-clerk-auth-status",
    "x-clerk-auth-reason",
    "x-clerk-auth-message",
];

#[test]
fn missing_bad_and_good_tokens() {
    let keys = KeyPair::shared();
    let server = Server::start(pem_options(keys).build().unwrap());
    let agent = agent();

    let missing = get(&agent, &server.url("/api/me"), &[]);
    assert_eq!(missing.status, 401);
    assert_eq!(missing.header("content-type"), Some("application/json"));
    let body = missing.json();
    assert_eq!(body["status"], "signed-out");
    assert_eq!(body["reason"], "session-token-and-uat-missing");
    assert_eq!(missing.header("x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(
        missing.header("x-clerk-auth-reason"),
        Some("session-token-and-uat-missing")
    );

    let foreign = token(KeyPair::shared_other());
    let bad = get(
        &agent,
        &server.url("/api/me"),
        &[("authorization", &format!("Bearer {foreign}"))],
    );
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["status"], "signed-out");
    assert!(
        !bad.body.contains(&foreign),
        "the body never echoes the token"
    );
    assert_eq!(bad.header("x-clerk-auth-status"), Some("signed-out"));

    let good_token = token(keys);
    let good = get(
        &agent,
        &server.url("/api/me"),
        &[("authorization", &format!("Bearer {good_token}"))],
    );
    assert_eq!(good.status, 200, "{}", good.body);
    let body = good.json();
    assert_eq!(body["userId"], "user_2warp");
    assert_eq!(body["tokenType"], "session_token");
    assert_eq!(
        good.header("x-clerk-auth-status"),
        None,
        "signed-in has no debug headers"
    );

    // The public route runs for everyone and carries the state's headers.
    let public = get(&agent, &server.url("/anything?x=1"), &[]);
    assert_eq!(public.status, 200);
    assert_eq!(public.body, "signed-out");
    assert_eq!(public.header("x-clerk-auth-status"), Some("signed-out"));
    assert!(public
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let public = get(
        &agent,
        &server.url("/"),
        &[("authorization", &format!("Bearer {good_token}"))],
    );
    assert_eq!(public.body, "signed-in user_2warp");

    // Any method.
    let post = agent
        .post(server.url("/api/me"))
        .header("authorization", &format!("Bearer {good_token}"))
        .send_empty()
        .unwrap();
    assert_eq!(post.status(), 200);
}

#[test]
fn optional_filter_gives_none_when_signed_out() {
    let keys = KeyPair::shared();
    let server = Server::start(pem_options(keys).build().unwrap());
    let agent = agent();

    let none = get(&agent, &server.url("/api/optional"), &[]);
    assert_eq!(none.status, 200);
    assert_eq!(none.body, "none");

    let foreign = token(KeyPair::shared_other());
    let none = get(
        &agent,
        &server.url("/api/optional"),
        &[("authorization", &format!("Bearer {foreign}"))],
    );
    assert_eq!((none.status, none.body.as_str()), (200, "none"));

    let some = get(
        &agent,
        &server.url("/api/optional"),
        &[("authorization", &format!("Bearer {}", token(keys)))],
    );
    assert_eq!((some.status, some.body.as_str()), (200, "some user_2warp"));
}

#[test]
fn handshake_is_a_307_with_exactly_the_state_headers() {
    let keys = KeyPair::shared();
    let options = pem_options(keys).build().unwrap();
    let server = Server::start(options.clone());
    let agent = agent();
    let request_headers = [
        ("cookie", "__client_uat=1"),
        ("sec-fetch-dest", "document"),
        ("accept", "text/html"),
        ("user-agent", "clerk-auth-warp-tests"),
    ];

    for path in ["/", "/api/me", "/api/optional?a=b"] {
        let res = get(&agent, &server.url(path), &request_headers);
        assert_eq!(res.status, 307, "{path}");
        let location = res.header("location").unwrap();
        assert!(
            location.starts_with("https://clerk.example.com/v1/client/handshake?"),
            "{location}"
        );
        let set_cookie = res.header_all("set-cookie");
        assert_eq!(set_cookie.len(), 1);
        assert!(
            set_cookie[0].starts_with("__clerk_redirect_count=1;"),
            "{set_cookie:?}"
        );
        assert_eq!(res.header("x-clerk-auth-status"), Some("handshake"));
        assert_eq!(res.header("cache-control"), Some("no-store"));

        // Exactly the core's headers for the same request.
        let host = server.base.trim_start_matches("http://");
        let mut expected = TestRequest::get(path).header("host", host);
        for (name, value) in request_headers {
            expected = expected.header(name, value);
        }
        let state = try_authenticate_request(&expected.build(), &options).unwrap();
        assert!(!state.headers().is_empty());
        for name in state.headers().keys() {
            let want: Vec<&str> = state
                .headers()
                .get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap())
                .collect();
            assert_eq!(res.header_all(name.as_str()), want, "{path} {name}");
        }
        let ours: Vec<&str> = state.headers().keys().map(|n| n.as_str()).collect();
        for (name, _) in &res.headers {
            assert!(
                ours.contains(&name.as_str())
                    || ["content-length", "date", "transfer-encoding"].contains(&name.as_str()),
                "unexpected header {name}"
            );
        }
    }
}

fn jwks_options(server: &BackendApiServer) -> clerk_auth_core::OptionsBuilder {
    Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key(server.secret())
        .api_url(server.url())
        .api_version("v1")
}

#[test]
fn key_set_outage_is_a_503() {
    let emulator = BackendApiServer::start("sk_live_warp_outage").unwrap();
    emulator.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::json(500, &json!({"error": "down"}))),
    );
    let server = Server::start(
        jwks_options(&emulator)
            .jwks_max_attempts(1)
            .build()
            .unwrap(),
    );
    let res = get(
        &agent(),
        &server.url("/api/me"),
        &[(
            "authorization",
            &format!("Bearer {}", token(KeyPair::shared())),
        )],
    );
    assert_eq!(res.status, 503, "{}", res.body);
    let body = res.json();
    assert_eq!(body["status"], "signed-out");
    assert_eq!(body["reason"], "jwk-remote-failed-to-load");
    assert_eq!(
        res.header("x-clerk-auth-reason"),
        Some("jwk-remote-failed-to-load")
    );
    assert!(emulator.jwks_fetches() >= 1);
    // The same outage through the API filters: still 503, and no challenge.
    let res = get(
        &agent(),
        &server.url("/v1/api/me"),
        &[(
            "authorization",
            &format!("Bearer {}", token(KeyPair::shared())),
        )],
    );
    assert_eq!(res.status, 503, "{}", res.body);
    assert_eq!(res.json()["reason"], "jwk-remote-failed-to-load");
    assert_eq!(res.header("www-authenticate"), None);
}

#[test]
fn debug_headers_can_be_turned_off() {
    let keys = KeyPair::shared();
    let server = Server::start(pem_options(keys).debug_headers(false).build().unwrap());
    let agent = agent();
    for path in ["/api/me", "/"] {
        let res = get(&agent, &server.url(path), &[]);
        assert!(res.status == 401 || res.status == 200);
        for name in DEBUG_HEADERS {
            assert_eq!(res.header(name), None, "{path} {name}");
        }
    }
    // The handshake still redirects, without debug headers.
    let res = get(
        &agent,
        &server.url("/"),
        &[("cookie", "__client_uat=1"), ("sec-fetch-dest", "document")],
    );
    assert_eq!(res.status, 307);
    assert!(res.header("location").is_some());
    for name in DEBUG_HEADERS {
        assert_eq!(res.header(name), None, "{name}");
    }
}

#[test]
fn missing_configuration_fails_before_serving() {
    // The filters take built `Options`: a missing key fails when the options are built, never
    // per request.
    let err = Options::from_env_with(|_| None).unwrap_err();
    assert!(matches!(
        err,
        ConfigError::MissingPublishableKey | ConfigError::MissingSecretKey
    ));
    assert!(err.to_string().contains("CLERK_"), "{err}");
    let err = Options::builder()
        .publishable_key(PK_LIVE)
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::MissingSecretKey));
    assert!(
        err.to_string()
            .starts_with("a secret key (CLERK_SECRET_KEY) is required: "),
        "{err}"
    );
}

#[test]
fn cached_keys_never_wait_on_a_slow_fetch() {
    let warm_keys = KeyPair::shared();
    let cold_keys = KeyPair::shared_other();
    let emulator = BackendApiServer::start("sk_live_warp_nonblocking").unwrap();
    emulator.set_keys(vec![warm_keys.jwk("kid_warm")]);
    let options = jwks_options(&emulator)
        .jwks_kid_miss_cooldown(Duration::ZERO)
        .jwks_timeout(Duration::from_secs(4))
        .jwks_fetch_budget(Duration::from_secs(5))
        .build()
        .unwrap();
    let server = Server::start(options);
    let url = server.url("/api/me");

    // Warm the key cache.
    let warm = |n: usize| {
        TokenMinter::new(warm_keys)
            .kid("kid_warm")
            .issued_at(SystemTime::now())
            .ttl(Duration::from_secs(600))
            .subject(&format!("user_{n}"))
            .mint()
    };
    let first = get(
        &agent(),
        &url,
        &[("authorization", &format!("Bearer {}", warm(0)))],
    );
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(emulator.jwks_fetches(), 1);

    // The next fetch takes 2 s and brings the cold key.
    emulator.set_delay(Endpoint::Jwks, Duration::from_secs(2));
    emulator.add_key(cold_keys.jwk("kid_cold"));
    let cold_token = TokenMinter::new(cold_keys)
        .kid("kid_cold")
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(600))
        .mint();
    let cold_done = Arc::new(AtomicBool::new(false));
    let cold = {
        let (url, done) = (url.clone(), Arc::clone(&cold_done));
        std::thread::spawn(move || {
            let started = Instant::now();
            let res = get(
                &agent(),
                &url,
                &[("authorization", &format!("Bearer {cold_token}"))],
            );
            done.store(true, Ordering::SeqCst);
            (res.status, res.body, started.elapsed())
        })
    };
    let waited = Instant::now();
    while emulator.jwks_fetches() < 2 {
        assert!(
            waited.elapsed() < Duration::from_secs(5),
            "the cold fetch never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }

    // 50 concurrent requests with distinct tokens (no verified-token cache hit) and a cached kid.
    let tokens: Vec<String> = (1..=50).map(warm).collect();
    let barrier = Arc::new(Barrier::new(51));
    let workers: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            let (url, barrier) = (url.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let agent = agent();
                barrier.wait();
                let started = Instant::now();
                let res = get(
                    &agent,
                    &url,
                    &[("authorization", &format!("Bearer {token}"))],
                );
                (res.status, started.elapsed())
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    let results: Vec<(u16, Duration)> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let all = started.elapsed();
    assert!(
        !cold_done.load(Ordering::SeqCst),
        "the cold request finished first"
    );
    let slowest = results.iter().map(|r| r.1).max().unwrap();
    assert!(results.iter().all(|r| r.0 == 200), "{results:?}");
    eprintln!("50 cached-key requests: all done in {all:?}, slowest {slowest:?}");
    // Waiting on the 2 s fetch would take well over a second; the bound leaves room for a
    // loaded machine (a timing is a second check: the cold request is still running).
    assert!(all < Duration::from_millis(1000), "all done in {all:?}");

    let (status, body, elapsed) = cold.join().unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(elapsed >= Duration::from_millis(1500), "{elapsed:?}");
    assert_eq!(emulator.jwks_fetches(), 2);
}

#[test]
fn resolved_handshake_runs_the_handler_and_appends_every_set_cookie() {
    // Production nonce handshake: the payload is fetched from the Backend API (network IO, so the
    // decision moves to the blocking pool) and its directives become several `set-cookie`.
    let keys = KeyPair::shared();
    let emulator = BackendApiServer::start("sk_live_warp_handshake").unwrap();
    let session = token(keys);
    let directives = vec![
        format!("__session={session}; Path=/; SameSite=Lax; Secure"),
        "__client_uat=1700000000; Path=/; SameSite=Lax; Secure".to_owned(),
        "__clerk_handshake_nonce=; Path=/; Max-Age=0".to_owned(),
    ];
    emulator.set_handshake_payload("nonce_warp", directives.clone());
    let options = jwks_options(&emulator)
        .jwt_key(keys.public_pem())
        .build()
        .unwrap();
    let server = Server::start(options);

    let res = get(
        &agent(),
        &server.url("/dashboard"),
        &[("cookie", "__clerk_handshake_nonce=nonce_warp")],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body, "signed-in user_2warp");
    assert_eq!(res.header_all("set-cookie"), directives);
    assert_eq!(res.header("access-control-allow-origin"), Some("null"));
    assert_eq!(res.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(emulator.hits(Endpoint::HandshakePayload), 1);

    // The protected route gets the same state and the same headers.
    let res = get(
        &agent(),
        &server.url("/api/me"),
        &[("cookie", "__clerk_handshake_nonce=nonce_warp")],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["userId"], "user_2warp");
    assert_eq!(res.header_all("set-cookie"), directives);
}

#[test]
fn api_filters_answer_401_where_pages_get_307() {
    let keys = KeyPair::shared();
    let server = Server::start(pem_options(keys).build().unwrap());
    let agent = agent();
    let sent = [("cookie", "__client_uat=1"), ("sec-fetch-dest", "document")];

    // A page: the handshake redirect.
    let page = get(&agent, &server.url("/api/me"), &sent);
    assert_eq!(page.status, 307);
    assert!(page.header("location").is_some());
    assert_eq!(page.header("www-authenticate"), None);

    // The same request on an API route: 401 with the challenge, never a redirect.
    let api = get(&agent, &server.url("/v1/api/me"), &sent);
    assert_eq!(api.status, 401, "{:?}", api.headers);
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
        "{:?}",
        api.headers
    );
    assert_eq!(api.header("x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(
        api.header("x-clerk-auth-reason"),
        Some("client-uat-but-no-session-token")
    );

    // The optional and public API filters run, signed out, without a challenge.
    let res = get(&agent, &server.url("/v1/api/optional"), &sent);
    assert_eq!((res.status, res.body.as_str()), (200, "none"));
    let res = get(&agent, &server.url("/v1/state"), &sent);
    assert_eq!((res.status, res.body.as_str()), (200, "signed-out"));
    assert_eq!(res.header("www-authenticate"), None);
    assert_eq!(res.header("x-clerk-auth-status"), Some("signed-out"));

    // A valid Bearer token: 200.
    let good = format!("Bearer {}", token(keys));
    let res = get(
        &agent,
        &server.url("/v1/api/me"),
        &[("authorization", &good)],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["userId"], "user_2warp");
    assert_eq!(res.header("www-authenticate"), None);

    // No token at all: 401 with the challenge (the page route has none).
    let res = get(&agent, &server.url("/v1/api/me"), &[]);
    assert_eq!(res.status, 401);
    assert_eq!(
        res.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token""#)
    );
    assert_eq!(res.json()["reason"], "session-token-and-uat-missing");
    let res = get(&agent, &server.url("/api/me"), &[]);
    assert_eq!(res.status, 401);
    assert_eq!(res.header("www-authenticate"), None);
}
