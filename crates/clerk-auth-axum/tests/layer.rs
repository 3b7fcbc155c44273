//! The layer and the extractors through a real axum server on 127.0.0.1 and real HTTP (ureq, no
//! redirects followed, 4xx/5xx returned as responses).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Barrier};
use std::time::{Duration, SystemTime};

use clerk_auth_axum::ClerkLayer;
use clerk_auth_core::testing::server::{BackendApiServer, CannedResponse, Endpoint};
use clerk_auth_core::testing::{KeyPair, TestRequest, TokenMinter};
use clerk_auth_core::{try_authenticate_request, ConfigError, Options};
use clerk_auth_vectors::client::{agent, get, request};
use common::{bearer, pem_options, token, HeldKeySet, Server, PK_LIVE};
use serde_json::json;

const DEBUG_HEADERS: [&str; 3] = [
    "x-clerk-auth-status",
    "x-clerk-auth-reason",
    "x-clerk-auth-message",
];
const CHALLENGE: &str = r#"Bearer error="invalid_token""#;

#[test]
fn missing_bad_and_good_tokens() {
    let keys = KeyPair::shared();
    let server = Server::start(pem_options(keys).build().unwrap());
    let agent = agent();

    let missing = get(&agent, &server.url("/api/me"), &[]);
    assert_eq!(missing.status, 401);
    assert_eq!(missing.header("content-type"), Some("application/json"));
    assert_eq!(
        missing.json(),
        json!({"status": "signed-out", "reason": "session-token-and-uat-missing", "message": ""})
    );
    assert_eq!(missing.header_all("x-clerk-auth-status"), ["signed-out"]);
    assert_eq!(
        missing.header("x-clerk-auth-reason"),
        Some("session-token-and-uat-missing")
    );
    assert_eq!(
        missing.header("www-authenticate"),
        None,
        "pages get no challenge"
    );

    let foreign = token(KeyPair::shared_other());
    let bad = get(
        &agent,
        &server.url("/api/me"),
        &[("authorization", &bearer(&foreign))],
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
        &[("authorization", &bearer(&good_token))],
    );
    assert_eq!(good.status, 200, "{}", good.body);
    assert_eq!(good.json()["userId"], "user_2axum");
    assert_eq!(good.json()["tokenType"], "session_token");
    assert_eq!(
        good.header("x-clerk-auth-status"),
        None,
        "signed-in has no debug headers"
    );

    // The public page runs for everyone and carries the state's headers.
    let public = get(&agent, &server.url("/anything?x=1"), &[]);
    assert_eq!((public.status, public.body.as_str()), (200, "signed-out"));
    assert_eq!(public.header("x-clerk-auth-status"), Some("signed-out"));
    assert!(public
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let public = get(
        &agent,
        &server.url("/"),
        &[("authorization", &bearer(&good_token))],
    );
    assert_eq!(public.body, "signed-in user_2axum");

    // Any method.
    let post = request(
        &agent,
        "POST",
        &server.url("/api/me"),
        &[("authorization", &bearer(&good_token))],
    );
    assert_eq!(post.status, 200);
}

#[test]
fn signed_in_accessors_and_has() {
    let keys = KeyPair::shared();
    let server = Server::start(pem_options(keys).build().unwrap());
    let agent = agent();
    let member = TokenMinter::new(keys)
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(600))
        .claim("org_id", json!("org_2a"))
        .claim("org_role", json!("org:member"))
        .mint();
    let admin = TokenMinter::new(keys)
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(600))
        .claim("org_id", json!("org_2a"))
        .claim("org_slug", json!("acme"))
        .claim("org_role", json!("org:admin"))
        .mint();

    let res = get(
        &agent,
        &server.url("/api/admin"),
        &[("authorization", &bearer(&member))],
    );
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(res.json(), json!({"status": "forbidden"}));
    let res = get(
        &agent,
        &server.url("/api/admin"),
        &[("authorization", &bearer(&admin))],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    let body = res.json();
    assert_eq!(body["orgId"], "org_2a");
    assert_eq!(body["orgRole"], "org:admin");
    assert_eq!(body["orgSlug"], "acme");
    let res = get(&agent, &server.url("/api/admin"), &[]);
    assert_eq!(res.status, 401);
}

#[test]
fn optional_extractor_gives_none_when_signed_out() {
    let keys = KeyPair::shared();
    let server = Server::start(pem_options(keys).build().unwrap());
    let agent = agent();

    let none = get(&agent, &server.url("/api/optional"), &[]);
    assert_eq!((none.status, none.body.as_str()), (200, "none"));
    assert_eq!(
        none.header("x-clerk-auth-status"),
        Some("signed-out"),
        "the layer adds them"
    );

    let foreign = bearer(&token(KeyPair::shared_other()));
    let none = get(
        &agent,
        &server.url("/api/optional"),
        &[("authorization", &foreign)],
    );
    assert_eq!((none.status, none.body.as_str()), (200, "none"));

    let some = get(
        &agent,
        &server.url("/api/optional"),
        &[("authorization", &bearer(&token(keys)))],
    );
    assert_eq!((some.status, some.body.as_str()), (200, "some user_2axum"));
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
        ("user-agent", "clerk-auth-axum-tests"),
    ];

    for path in ["/", "/api/me", "/api/optional?a=b", "/group/a"] {
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

        // Exactly the core's headers for the same request, and nothing else of note.
        let host = server.base.trim_start_matches("http://");
        let mut expected = TestRequest::get(path).header("host", host);
        for (name, value) in request_headers {
            expected = expected.header(name, value);
        }
        let state = try_authenticate_request(&expected.build(), &options).unwrap();
        assert!(!state.headers().is_empty());
        res.only_state_headers(&state)
            .unwrap_or_else(|problem| panic!("{path}: {problem}"));
    }
}

#[test]
fn key_set_outage_is_a_503() {
    let emulator = BackendApiServer::start("sk_live_axum_outage").unwrap();
    emulator.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::json(500, &json!({"error": "down"}))),
    );
    let options = Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key(emulator.secret())
        .api_url(emulator.url())
        .jwks_max_attempts(1)
        .build()
        .unwrap();
    let server = Server::start(options);
    let good = bearer(&token(KeyPair::shared()));
    for path in ["/api/me", "/v1/api/me"] {
        let res = get(&agent(), &server.url(path), &[("authorization", &good)]);
        assert_eq!(res.status, 503, "{path}: {}", res.body);
        assert_eq!(res.header("content-type"), Some("application/json"));
        let body = res.json();
        assert_eq!(body["status"], "signed-out");
        assert_eq!(body["reason"], "jwk-remote-failed-to-load");
        assert_eq!(
            res.header("x-clerk-auth-reason"),
            Some("jwk-remote-failed-to-load")
        );
        // Not the client's fault: no challenge, even on an API route.
        assert_eq!(res.header("www-authenticate"), None, "{path}");
    }
    assert!(emulator.jwks_fetches() >= 1);
}

#[test]
fn debug_headers_can_be_turned_off() {
    let keys = KeyPair::shared();
    let server = Server::start(pem_options(keys).debug_headers(false).build().unwrap());
    let agent = agent();
    for (path, want) in [("/api/me", 401), ("/", 200)] {
        let res = get(&agent, &server.url(path), &[]);
        assert_eq!(res.status, want, "{path}");
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
    let err = Options::from_env_with(|_| None)
        .map(ClerkLayer::new)
        .unwrap_err();
    assert!(matches!(err, ConfigError::MissingPublishableKey));
    assert!(err.to_string().contains("CLERK_PUBLISHABLE_KEY"), "{err}");
    let err =
        Options::from_env_with(|n| (n == "CLERK_PUBLISHABLE_KEY").then(|| PK_LIVE.to_owned()))
            .unwrap_err();
    assert!(err.to_string().contains("CLERK_SECRET_KEY"), "{err}");
}

#[test]
fn extractors_without_the_layer_are_a_500_naming_it() {
    let keys = KeyPair::shared();
    let server = Server::start(pem_options(keys).build().unwrap());
    let agent = agent();
    let good = bearer(&token(keys));
    // `SignedIn`, `AuthState` and `Option<SignedIn>` alike: never signed in, never signed out.
    for path in ["/bare/me", "/bare/state", "/bare/optional"] {
        let res = get(&agent, &server.url(path), &[("authorization", &good)]);
        assert_eq!(res.status, 500, "{path}: {}", res.body);
        assert_eq!(res.header("content-type"), Some("application/json"));
        assert_eq!(
            res.json(),
            json!({"status": "error", "message": "ClerkLayer does not wrap this route"}),
            "{path}"
        );
        assert_eq!(
            res.header("x-clerk-auth-status"),
            None,
            "{path}: nothing decided"
        );
    }
}

#[test]
fn undecidable_request_is_a_500_and_the_server_keeps_serving() {
    let keys = KeyPair::shared();
    // A development instance: a handshake token that fails verification cannot be decided.
    let options = Options::builder()
        .publishable_key("pk_test_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA")
        .secret_key("sk_test_axum")
        .jwt_key(keys.public_pem())
        .build()
        .unwrap();
    let server = Server::start(options);
    let agent = agent();
    let bad = KeyPair::shared_other().sign(
        json!({"alg": "RS256", "typ": "JWT"}),
        json!({"handshake": []}),
    );
    for path in ["/page", "/api/me", "/v1/state"] {
        let res = get(
            &agent,
            &server.url(&format!("{path}?__clerk_handshake={bad}")),
            &[],
        );
        assert_eq!(res.status, 500, "{path}");
        assert_eq!(res.header("content-type"), Some("application/json"));
        assert_eq!(res.json()["status"], "error");
        assert!(!res.body.contains(&bad), "the body never echoes the token");
    }
    let res = get(
        &agent,
        &server.url("/api/me"),
        &[("authorization", &bearer(&token(keys)))],
    );
    assert_eq!(res.status, 200);
}

#[test]
fn resolved_handshake_runs_the_handler_and_appends_every_set_cookie() {
    // Production nonce handshake: the payload is fetched from the Backend API (network IO, so the
    // decision moves to the blocking pool) and its directives become several `set-cookie`.
    let keys = KeyPair::shared();
    let emulator = BackendApiServer::start("sk_live_axum_handshake").unwrap();
    let directives = vec![
        format!("__session={}; Path=/; SameSite=Lax; Secure", token(keys)),
        "__client_uat=1700000000; Path=/; SameSite=Lax; Secure".to_owned(),
        "__clerk_handshake_nonce=; Path=/; Max-Age=0".to_owned(),
    ];
    emulator.set_handshake_payload("nonce_axum", directives.clone());
    let options = pem_options(keys)
        .secret_key(emulator.secret())
        .api_url(emulator.url())
        .build()
        .unwrap();
    let server = Server::start(options);
    let nonce = [("cookie", "__clerk_handshake_nonce=nonce_axum")];

    let res = get(&agent(), &server.url("/dashboard"), &nonce);
    assert_eq!(
        (res.status, res.body.as_str()),
        (200, "signed-in user_2axum")
    );
    assert_eq!(res.header_all("set-cookie"), directives);
    assert_eq!(res.header("access-control-allow-origin"), Some("null"));
    assert_eq!(res.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(emulator.hits(Endpoint::HandshakePayload), 1);

    // The protected route gets the same state and the same headers.
    let res = get(&agent(), &server.url("/api/me"), &nonce);
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["userId"], "user_2axum");
    assert_eq!(res.header_all("set-cookie"), directives);

    // The handler's own cookie comes first; its caching gives way to the state's cookies.
    let res = get(&agent(), &server.url("/cookie"), &nonce);
    assert_eq!(res.status, 200);
    let cookies = res.header_all("set-cookie");
    assert_eq!(cookies.len(), 4, "{cookies:?}");
    assert_eq!(cookies[0], "app=1");
    assert_eq!(cookies[1..], directives);
    assert_eq!(res.header_all("cache-control"), ["private, no-store"]);
}

#[test]
fn api_layer_answers_401_where_pages_get_307() {
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
    assert_eq!(api.header("www-authenticate"), Some(CHALLENGE));
    assert_eq!(api.header("content-type"), Some("application/json"));
    assert_eq!(
        api.json(),
        json!({"status": "signed-out", "reason": "client-uat-but-no-session-token", "message": ""})
    );
    assert_eq!(api.header("location"), None);
    assert_eq!(api.header("cache-control"), None);
    assert!(api.header_all("set-cookie").is_empty(), "{:?}", api.headers);
    assert_eq!(api.header_all("x-clerk-auth-status"), ["signed-out"]);
    assert_eq!(
        api.header("x-clerk-auth-reason"),
        Some("client-uat-but-no-session-token")
    );

    // The optional and public API routes run, signed out, without a challenge.
    let res = get(&agent, &server.url("/v1/api/optional"), &sent);
    assert_eq!((res.status, res.body.as_str()), (200, "none"));
    let res = get(&agent, &server.url("/v1/state"), &sent);
    assert_eq!((res.status, res.body.as_str()), (200, "signed-out"));
    assert_eq!(res.header("www-authenticate"), None);
    assert_eq!(res.header("x-clerk-auth-status"), Some("signed-out"));

    // A valid Bearer token: 200.
    let good = bearer(&token(keys));
    let res = get(
        &agent,
        &server.url("/v1/api/me"),
        &[("authorization", &good)],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["userId"], "user_2axum");
    assert_eq!(res.header("www-authenticate"), None);

    // No token at all: 401 with the challenge on the API route, without it on the page.
    let res = get(&agent, &server.url("/v1/api/me"), &[]);
    assert_eq!(
        (res.status, res.header("www-authenticate")),
        (401, Some(CHALLENGE))
    );
    let res = get(&agent, &server.url("/api/me"), &[]);
    assert_eq!((res.status, res.header("www-authenticate")), (401, None));
}

#[test]
fn an_api_layer_inside_the_page_layer_reuses_its_decision() {
    let keys = KeyPair::shared();
    let server = Server::start(pem_options(keys).build().unwrap());
    let agent = agent();

    // Decided once: the page layer's headers, once; the inner API layer adds the challenge.
    let res = get(&agent, &server.url("/nested/me"), &[]);
    assert_eq!(res.status, 401);
    assert_eq!(res.header("www-authenticate"), Some(CHALLENGE));
    assert_eq!(res.header_all("x-clerk-auth-status"), ["signed-out"]);
    assert_eq!(
        res.header_all("x-clerk-auth-reason"),
        ["session-token-and-uat-missing"]
    );

    let res = get(
        &agent,
        &server.url("/nested/me"),
        &[("authorization", &bearer(&token(keys)))],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["userId"], "user_2axum");
}

#[test]
fn a_group_of_routes_is_protected_by_from_extractor() {
    let keys = KeyPair::shared();
    let server = Server::start(pem_options(keys).build().unwrap());
    let agent = agent();
    for path in ["/group/a", "/group/b"] {
        let res = get(&agent, &server.url(path), &[]);
        assert_eq!(res.status, 401, "{path}");
        assert_eq!(res.json()["reason"], "session-token-and-uat-missing");
        assert_eq!(res.header_all("x-clerk-auth-status"), ["signed-out"]);
    }
    let res = get(
        &agent,
        &server.url("/group/b"),
        &[("authorization", &bearer(&token(keys)))],
    );
    assert_eq!((res.status, res.body.as_str()), (200, "group b"));
    // Outside the group, the public page.
    let res = get(&agent, &server.url("/group/c"), &[]);
    assert_eq!((res.status, res.body.as_str()), (200, "signed-out"));
}

/// A key-set fetch in flight (held by the key set until the test lets it go) does not hold up
/// requests whose key is cached, on a server with ONE executor thread: the fetch waits on the
/// blocking pool, not on the executor.
#[test]
fn a_key_fetch_in_flight_does_not_block_other_requests() {
    let warm_keys = KeyPair::shared();
    let cold_keys = KeyPair::shared_other();
    let key_set = HeldKeySet::start(vec![warm_keys.jwk("kid_warm")], 1);
    let server = Server::start(key_set.options().build().unwrap());
    let url = server.url("/api/me");
    let warm = |n: usize| {
        TokenMinter::new(warm_keys)
            .kid("kid_warm")
            .issued_at(SystemTime::now())
            .ttl(Duration::from_secs(600))
            .subject(&format!("user_{n}"))
            .mint()
    };

    // Warm the key cache.
    let first = get(&agent(), &url, &[("authorization", &bearer(&warm(0)))]);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(key_set.fetches(), 1);

    // A token of an unknown kid: its fetch arrives, and is held.
    key_set.add_key(cold_keys.jwk("kid_cold"));
    let cold_token = TokenMinter::new(cold_keys)
        .kid("kid_cold")
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(600))
        .mint();
    let cold = {
        let url = url.clone();
        std::thread::spawn(move || get(&agent(), &url, &[("authorization", &bearer(&cold_token))]))
    };
    key_set.wait_for_fetch(2);

    // 50 concurrent requests with distinct tokens (no verified-token cache hit) and the cached
    // kid are all answered while that fetch is held.
    let barrier = Arc::new(Barrier::new(50));
    let workers: Vec<_> = (1..=50)
        .map(|n| {
            let (url, barrier, token) = (url.clone(), Arc::clone(&barrier), warm(n));
            std::thread::spawn(move || {
                let agent = agent();
                barrier.wait();
                let res = get(&agent, &url, &[("authorization", &bearer(&token))]);
                (res.status, res.json()["userId"].clone())
            })
        })
        .collect();
    for (n, worker) in (1..=50).zip(workers) {
        assert_eq!(worker.join().unwrap(), (200, json!(format!("user_{n}"))));
    }
    assert!(!cold.is_finished(), "the cold request waits for its fetch");
    assert_eq!(key_set.fetches(), 2);

    key_set.release();
    let res = cold.join().unwrap();
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(key_set.fetches(), 2);
}

/// Over the instance's bound on decisions waiting for the network, a request is answered `503`
/// with `Retry-After: 1` at once instead of queueing on the blocking pool.
#[test]
fn decisions_waiting_on_the_network_are_bounded() {
    let keys = KeyPair::shared();
    let key_set = HeldKeySet::start(vec![keys.jwk("ins_1")], 0);
    let options = key_set.options().max_deferred_decisions(1).build().unwrap();
    let server = Server::start(options);
    let good = bearer(
        &TokenMinter::new(keys)
            .kid("ins_1")
            .issued_at(SystemTime::now())
            .ttl(Duration::from_secs(600))
            .mint(),
    );

    // The first request takes the only place and waits for the (held) key set.
    let first = {
        let (url, good) = (server.url("/api/me"), good.clone());
        std::thread::spawn(move || get(&agent(), &url, &[("authorization", &good)]).status)
    };
    key_set.wait_for_fetch(1);
    for _ in 0..3 {
        let res = get(
            &agent(),
            &server.url("/api/me"),
            &[("authorization", &good)],
        );
        assert_eq!(res.status, 503, "{}", res.body);
        assert_eq!(res.header("retry-after"), Some("1"));
        assert_eq!(res.json()["reason"], "backend-api-budget-exhausted");
        assert_eq!(
            res.header("x-clerk-auth-reason"),
            Some("backend-api-budget-exhausted")
        );
    }
    assert_eq!(key_set.fetches(), 1, "the refused requests fetched nothing");

    key_set.release();
    assert_eq!(first.join().unwrap(), 200);
    // The place is free again and the keys are cached: answered inline.
    let res = get(
        &agent(),
        &server.url("/api/me"),
        &[("authorization", &good)],
    );
    assert_eq!(res.status, 200);
    assert_eq!(key_set.fetches(), 1);
}
