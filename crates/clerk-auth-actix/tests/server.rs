//! The adapter through a real actix-web server on loopback and real HTTP (ureq, no redirects
//! followed, 4xx/5xx returned as responses).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use actix_web::{web, HttpResponse};
use clerk_auth_actix::{AuthState, ClerkAuth, ClerkAuthError, SignedIn};
use clerk_auth_core::testing::server::{BackendApiServer, CannedResponse, Endpoint};
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::{authenticate_request, ConfigError, Has, Options, OptionsBuilder};
use clerk_auth_vectors::client::{agent, get};
use serde_json::json;

mod support;

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
const SECRET: &str = "sk_live_actix_tests";

// ---- server and client ------------------------------------------------------------------

/// The test app's server and how many times its public handler ran.
struct Server {
    base: String,
    hits: Arc<AtomicUsize>,
    _server: support::Server,
}

/// Starts the test app on 127.0.0.1:0: `/api/me` (SignedIn), `/admin` (SignedIn + role),
/// `/optional` (Option<SignedIn>), `/fail` (a handler error), `/cookie` (sets its own cookie),
/// every other path public (AuthState); `/v1/...` the same routes under the API middleware
/// (`ClerkAuth::api`); `/cold/...` wrapped by a second middleware with `cold` options; `/bare/...`
/// not wrapped at all.
fn start(options: Options, cold: Option<Options>, workers: usize) -> Server {
    let hits = Arc::new(AtomicUsize::new(0));
    let app_hits = Arc::clone(&hits);
    let server = support::serve(workers, move |cfg| {
        cfg.app_data(web::Data::from(Arc::clone(&app_hits)))
            .service(
                web::scope("/bare")
                    .route("/me", web::to(me))
                    .route("/state", web::to(public))
                    .route("/optional", web::to(optional)),
            );
        if let Some(cold) = &cold {
            cfg.service(
                web::scope("/cold")
                    .wrap(ClerkAuth::new(cold.clone()))
                    .route("/me", web::to(me)),
            );
        }
        cfg.service(
            web::scope("/v1")
                .wrap(ClerkAuth::new(options.clone()).api())
                .route("/api/me", web::to(me))
                .route("/optional", web::to(optional))
                .default_service(web::to(public)),
        )
        .service(
            web::scope("")
                .wrap(ClerkAuth::new(options.clone()))
                .route("/api/me", web::to(me))
                .route("/admin", web::to(admin))
                .route("/optional", web::to(optional))
                .route("/fail", web::to(fail))
                .route("/cookie", web::to(cookie))
                .service(
                    web::scope("/inner")
                        .wrap_fn(|_, _| {
                            std::future::ready(Err::<actix_web::dev::ServiceResponse, _>(
                                actix_web::error::ErrorConflict("inner"),
                            ))
                        })
                        .default_service(web::to(public)),
                )
                .default_service(web::to(public)),
        );
    });
    Server {
        base: server.base.clone(),
        hits,
        _server: server,
    }
}

async fn me(user: SignedIn) -> HttpResponse {
    HttpResponse::Ok().json(user.auth_json())
}

async fn admin(user: SignedIn) -> HttpResponse {
    if user.has(&Has::role("org:admin")) {
        HttpResponse::Ok().json(user.auth_json())
    } else {
        HttpResponse::Forbidden().json(json!({"status": "forbidden"}))
    }
}

async fn optional(user: Option<SignedIn>) -> String {
    match user {
        Some(u) => format!("some {}", u.user_id().unwrap_or("machine")),
        None => "none".to_owned(),
    }
}

async fn fail(_auth: AuthState) -> Result<HttpResponse, actix_web::Error> {
    Err(actix_web::error::ErrorBadRequest("boom"))
}

async fn cookie(_auth: AuthState) -> HttpResponse {
    HttpResponse::Ok()
        .append_header(("set-cookie", "app=1"))
        .finish()
}

async fn public(auth: AuthState, hits: web::Data<AtomicUsize>) -> HttpResponse {
    hits.fetch_add(1, Ordering::SeqCst);
    let who = match auth.session().and_then(|s| s.user_id.as_deref()) {
        Some(u) => format!("signed-in {u}"),
        None => "signed-out".to_owned(),
    };
    HttpResponse::Ok().content_type("text/html").body(who)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn pem_options(keys: &KeyPair) -> OptionsBuilder {
    Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key(SECRET)
        .jwt_key(keys.public_pem())
}

fn token(keys: &KeyPair) -> String {
    TokenMinter::new(keys)
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(600))
        .mint()
}

fn jwks_options(api: &BackendApiServer) -> OptionsBuilder {
    Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key(api.secret())
        .api_url(api.url())
}

// ---- tests ------------------------------------------------------------------------------

#[test]
fn missing_token_is_401_json_with_debug_headers() {
    let keys = KeyPair::shared();
    let server = start(pem_options(keys).build().unwrap(), None, 1);
    let res = get(&agent(), &format!("{}/api/me", server.base), &[]);
    assert_eq!(res.status, 401);
    assert_eq!(res.header("content-type"), Some("application/json"));
    let body = res.json();
    assert_eq!(body["status"], "signed-out");
    assert_eq!(body["reason"], "session-token-and-uat-missing");
    assert_eq!(res.header("x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(
        res.header("x-clerk-auth-reason"),
        Some("session-token-and-uat-missing")
    );
}

#[test]
fn bad_token_is_401_and_good_token_is_200() {
    let keys = KeyPair::shared();
    let server = start(pem_options(keys).build().unwrap(), None, 1);
    let agent = agent();
    let url = format!("{}/api/me", server.base);

    let foreign = token(KeyPair::shared_other());
    let res = get(&agent, &url, &[("authorization", &bearer(&foreign))]);
    assert_eq!(res.status, 401);
    let body = res.json();
    assert_eq!(body["status"], "signed-out");
    assert_eq!(body["reason"], "token-invalid-signature");
    assert!(!res.body.contains(&foreign), "the token is never echoed");
    assert_eq!(
        res.header("x-clerk-auth-reason"),
        Some("token-invalid-signature")
    );

    let res = get(&agent, &url, &[("authorization", &bearer("not.a.jwt"))]);
    assert_eq!(res.status, 401);

    let good = token(keys);
    let res = get(&agent, &url, &[("authorization", &bearer(&good))]);
    assert_eq!(res.status, 200, "{}", res.body);
    let body = res.json();
    assert_eq!(body["userId"], "user_2test");
    assert_eq!(body["sessionId"], "sess_2test");
    assert_eq!(
        res.header("x-clerk-auth-status"),
        None,
        "no debug headers when signed in"
    );

    // has(): the role check reaches the session.
    let res = get(
        &agent,
        &format!("{}/admin", server.base),
        &[("authorization", &bearer(&good))],
    );
    assert_eq!(res.status, 403);
    let admin = TokenMinter::new(keys)
        .issued_at(SystemTime::now())
        .claim("org_id", json!("org_1"))
        .claim("org_role", json!("org:admin"))
        .mint();
    let res = get(
        &agent,
        &format!("{}/admin", server.base),
        &[("authorization", &bearer(&admin))],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["orgRole"], "org:admin");

    // The public page runs for everyone and sees the state.
    let res = get(
        &agent,
        &format!("{}/anything", server.base),
        &[("authorization", &bearer(&good))],
    );
    assert_eq!(
        (res.status, res.body.as_str()),
        (200, "signed-in user_2test")
    );
    let res = get(&agent, &format!("{}/", server.base), &[]);
    assert_eq!((res.status, res.body.as_str()), (200, "signed-out"));
    assert_eq!(res.header("x-clerk-auth-status"), Some("signed-out"));
}

#[test]
fn optional_extractor_is_none_when_signed_out() {
    let keys = KeyPair::shared();
    let server = start(pem_options(keys).build().unwrap(), None, 1);
    let agent = agent();
    let url = format!("{}/optional", server.base);
    assert_eq!(get(&agent, &url, &[]).body, "none");
    let foreign = token(KeyPair::shared_other());
    let res = get(&agent, &url, &[("authorization", &bearer(&foreign))]);
    assert_eq!((res.status, res.body.as_str()), (200, "none"));
    assert_eq!(res.header("x-clerk-auth-status"), Some("signed-out"));
    let res = get(&agent, &url, &[("authorization", &bearer(&token(keys)))]);
    assert_eq!((res.status, res.body.as_str()), (200, "some user_2test"));
}

#[test]
fn handshake_is_307_with_exactly_the_states_headers() {
    let keys = KeyPair::shared();
    let options = pem_options(keys).build().unwrap();
    let server = start(options.clone(), None, 1);
    let host = server.base.trim_start_matches("http://").to_owned();
    let sent = [("cookie", "__client_uat=1"), ("sec-fetch-dest", "document")];
    let res = get(&agent(), &format!("{}/dashboard?x=1", server.base), &sent);
    assert_eq!(res.status, 307);
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        0,
        "the handler does not run"
    );
    let location = res.header("location").unwrap();
    assert!(
        location.starts_with("https://clerk.example.com/v1/client/handshake?"),
        "{location}"
    );
    assert!(
        location.contains(&format!(
            "redirect_url=http%3A%2F%2F{}%2Fdashboard%3Fx%3D1",
            host.replace(':', "%3A")
        )),
        "{location}"
    );
    let cookies = res.header_all("set-cookie");
    assert_eq!(cookies.len(), 1);
    assert!(
        cookies[0].starts_with("__clerk_redirect_count=1;"),
        "{cookies:?}"
    );
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.header("x-clerk-auth-status"), Some("handshake"));

    // Exactly the core's headers for the same request (plus the server's own).
    let mut expected = TestRequest::get("/dashboard?x=1").header("host", &host);
    for (n, v) in sent {
        expected = expected.header(n, v);
    }
    let state = authenticate_request(&expected.build(), &options).unwrap();
    let mut want: Vec<(String, String)> = state
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let mut got: Vec<(String, String)> = res
        .headers
        .iter()
        .filter(|(n, _)| !matches!(n.as_str(), "content-length" | "date"))
        .cloned()
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
}

#[test]
fn key_set_outage_is_503() {
    let api = BackendApiServer::start(SECRET).unwrap();
    api.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::json(500, &json!({"errors": []}))),
    );
    let options = jwks_options(&api)
        .jwks_max_attempts(1)
        .jwks_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let server = start(options, None, 1);
    let res = get(
        &agent(),
        &format!("{}/api/me", server.base),
        &[("authorization", &bearer(&token(KeyPair::shared())))],
    );
    assert_eq!(res.status, 503, "{}", res.body);
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.json()["reason"], "jwk-remote-failed-to-load");
    assert_eq!(
        res.header("x-clerk-auth-reason"),
        Some("jwk-remote-failed-to-load")
    );
    assert!(api.jwks_fetches() >= 1);
    // The same outage on an API route: still 503, and no challenge (the credential is not at fault).
    let res = get(
        &agent(),
        &format!("{}/v1/api/me", server.base),
        &[("authorization", &bearer(&token(KeyPair::shared())))],
    );
    assert_eq!(res.status, 503, "{}", res.body);
    assert_eq!(res.json()["reason"], "jwk-remote-failed-to-load");
    assert_eq!(res.header("www-authenticate"), None);
}

#[test]
fn debug_headers_can_be_turned_off() {
    let keys = KeyPair::shared();
    let server = start(
        pem_options(keys).debug_headers(false).build().unwrap(),
        None,
        1,
    );
    let res = get(&agent(), &format!("{}/api/me", server.base), &[]);
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["reason"], "session-token-and-uat-missing");
    assert!(
        res.headers
            .iter()
            .all(|(n, _)| !n.starts_with("x-clerk-auth")),
        "{:?}",
        res.headers
    );
}

#[test]
fn missing_configuration_and_missing_middleware_fail_clearly() {
    let err = Options::from_env_with(|_| None)
        .map(ClerkAuth::new)
        .unwrap_err();
    assert!(matches!(err, ConfigError::MissingPublishableKey));
    assert!(err.to_string().contains("CLERK_PUBLISHABLE_KEY"));
    let err =
        Options::from_env_with(|n| (n == "CLERK_PUBLISHABLE_KEY").then(|| PK_LIVE.to_owned()))
            .unwrap_err();
    assert!(err.to_string().contains("CLERK_SECRET_KEY"), "{err}");

    let keys = KeyPair::shared();
    let server = start(pem_options(keys).build().unwrap(), None, 1);
    let agent = agent();
    let good = bearer(&token(keys));
    for path in ["/bare/me", "/bare/state"] {
        let res = get(
            &agent,
            &format!("{}{path}", server.base),
            &[("authorization", &good)],
        );
        assert_eq!(res.status, 500, "{path}");
        assert_eq!(res.json()["status"], "error");
        assert!(res.json()["message"]
            .as_str()
            .unwrap()
            .contains("ClerkAuth middleware"));
    }
    let res = get(
        &agent,
        &format!("{}/bare/optional", server.base),
        &[("authorization", &good)],
    );
    assert_eq!(res.body, "none", "never signed in without the middleware");
    assert_eq!(
        ClerkAuthError::MiddlewareMissing.to_string(),
        "the ClerkAuth middleware does not wrap this route"
    );
}

#[test]
fn undecidable_request_is_500_json_and_the_server_keeps_serving() {
    let keys = KeyPair::shared();
    // A development instance: a handshake token that fails verification cannot be decided.
    let options = Options::builder()
        .publishable_key("pk_test_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA")
        .secret_key("sk_test_actix")
        .jwt_key(keys.public_pem())
        .build()
        .unwrap();
    let server = start(options, None, 1);
    let agent = agent();
    let bad = KeyPair::shared_other().sign(
        json!({"alg": "RS256", "typ": "JWT"}),
        json!({"handshake": []}),
    );
    let res = get(
        &agent,
        &format!("{}/page?__clerk_handshake={bad}", server.base),
        &[],
    );
    assert_eq!(res.status, 500);
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.json()["status"], "error");
    assert!(!res.body.contains(&bad));
    assert_eq!(server.hits.load(Ordering::SeqCst), 0);
    let res = get(
        &agent,
        &format!("{}/api/me", server.base),
        &[("authorization", &bearer(&token(keys)))],
    );
    assert_eq!(res.status, 200);
}

#[test]
fn resolved_handshake_appends_every_cookie_and_handler_headers_survive() {
    // The nonce is resolved over the Backend API: the decision runs on the blocking pool.
    let keys = KeyPair::shared();
    let api = BackendApiServer::start(SECRET).unwrap();
    let session = token(keys);
    api.set_handshake_payload(
        "nonce_1",
        vec![
            format!("__session={session}; Path=/"),
            "__client_uat=1700000000; Path=/".to_owned(),
        ],
    );
    let options = pem_options(keys).api_url(api.url()).build().unwrap();
    let server = start(options, None, 1);
    let agent = agent();
    let res = get(
        &agent,
        &format!("{}/cookie?__clerk_handshake_nonce=nonce_1", server.base),
        &[],
    );
    assert_eq!(res.status, 200, "{:?}", res.headers);
    let cookies = res.header_all("set-cookie");
    assert_eq!(cookies.len(), 3, "{cookies:?}");
    assert_eq!(cookies[0], "app=1", "the handler's own header comes first");
    assert!(cookies[1].starts_with("__session="));
    assert!(cookies[2].starts_with("__client_uat=1700000000"));
    assert_eq!(res.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(api.hits(Endpoint::HandshakePayload), 1);

    // A handler error keeps the state's headers.
    let res = get(&agent, &format!("{}/fail", server.base), &[]);
    assert_eq!(res.status, 400);
    assert_eq!(res.body, "boom");
    assert_eq!(res.header("x-clerk-auth-status"), Some("signed-out"));
    // So does an error from an inner service.
    let res = get(&agent, &format!("{}/inner/x", server.base), &[]);
    assert_eq!((res.status, res.body.as_str()), (409, "inner"));
    assert_eq!(res.header("x-clerk-auth-status"), Some("signed-out"));
}

#[test]
fn a_key_fetch_in_flight_does_not_block_other_requests() {
    let keys = KeyPair::shared();
    let api = BackendApiServer::start(SECRET).unwrap();
    api.set_keys(vec![keys.jwk("ins_2test")]);
    let warm = jwks_options(&api).build().unwrap();
    let cold = jwks_options(&api)
        .jwks_timeout(Duration::from_secs(5))
        .jwks_fetch_budget(Duration::from_secs(6))
        .build()
        .unwrap();
    // One worker: a blocked worker would stall everything.
    let server = start(warm, Some(cold), 1);
    let good = bearer(&token(keys));
    let me = format!("{}/api/me", server.base);

    // Warm the cache and 50 keep-alive connections.
    let agents: Vec<ureq::Agent> = (0..50).map(|_| agent()).collect();
    for a in &agents {
        assert_eq!(get(a, &me, &[("authorization", &good)]).status, 200);
    }
    assert_eq!(api.jwks_fetches(), 1);

    api.set_delay(Endpoint::Jwks, Duration::from_secs(2));
    let cold_url = format!("{}/cold/me", server.base);
    let cold_auth = good.clone();
    let cold_started = Instant::now();
    let cold_req = thread::spawn(move || {
        let res = get(&agent(), &cold_url, &[("authorization", &cold_auth)]);
        (res.status, Instant::now())
    });
    // Wait until the cold request's fetch is on the wire.
    while api.jwks_fetches() < 2 {
        assert!(
            cold_started.elapsed() < Duration::from_secs(1),
            "the cold fetch never started"
        );
        thread::sleep(Duration::from_millis(5));
    }

    let barrier = Arc::new(std::sync::Barrier::new(agents.len()));
    let started = Instant::now();
    let threads: Vec<_> = agents
        .into_iter()
        .map(|a| {
            let (me, good, barrier) = (me.clone(), good.clone(), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                let res = get(&a, &me, &[("authorization", &good)]);
                (res.status, Instant::now())
            })
        })
        .collect();
    let done: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let last = done.iter().map(|(_, t)| *t).max().unwrap();
    assert!(done.iter().all(|(s, _)| *s == 200));
    let took = last.duration_since(started);
    assert!(
        // Waiting on the 2 s fetch would take well over a second; room for a loaded machine.
        took < Duration::from_millis(1000),
        "50 cached requests took {took:?}"
    );
    assert!(
        !cold_req.is_finished(),
        "the cold request is still waiting for its fetch"
    );

    let (status, finished) = cold_req.join().unwrap();
    assert_eq!(status, 200);
    assert!(finished.duration_since(cold_started) >= Duration::from_secs(2));
    assert!(finished > last);
}

#[test]
fn decisions_waiting_on_the_backend_api_are_bounded_per_instance() {
    let keys = KeyPair::shared();
    let api = BackendApiServer::start(SECRET).unwrap();
    api.set_keys(vec![keys.jwk("ins_2test")]);
    api.set_delay(Endpoint::Jwks, Duration::from_millis(1500));
    let warm = pem_options(keys).build().unwrap();
    let cold = jwks_options(&api)
        .jwks_timeout(Duration::from_secs(5))
        .jwks_fetch_budget(Duration::from_secs(6))
        .max_deferred_decisions(1)
        .build()
        .unwrap();
    let server = start(warm, Some(cold), 2);
    let good = bearer(&token(keys));
    let cold_url = format!("{}/cold/me", server.base);

    // The first cold request takes the instance's only place and waits for the key set.
    let first = {
        let (url, auth) = (cold_url.clone(), good.clone());
        thread::spawn(move || get(&agent(), &url, &[("authorization", &auth)]).status)
    };
    let started = Instant::now();
    while api.jwks_fetches() < 1 {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "no fetch started"
        );
        thread::sleep(Duration::from_millis(5));
    }
    // Meanwhile every other request that would have to wait is refused at once.
    for _ in 0..5 {
        let res = get(&agent(), &cold_url, &[("authorization", &good)]);
        assert_eq!(res.status, 503, "{}", res.body);
        assert_eq!(res.header("retry-after"), Some("1"));
        assert_eq!(
            res.header("x-clerk-auth-reason"),
            Some("backend-api-budget-exhausted")
        );
        let body: serde_json::Value = serde_json::from_str(&res.body).unwrap();
        assert_eq!(body["reason"], "backend-api-budget-exhausted");
    }
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "refusals waited"
    );
    assert_eq!(first.join().unwrap(), 200);
    // The place is free again, and the keys are cached: answered inline.
    let res = get(&agent(), &cold_url, &[("authorization", &good)]);
    assert_eq!(res.status, 200);
    assert_eq!(api.jwks_fetches(), 1);
}

#[test]
fn api_routes_answer_401_where_pages_get_307() {
    let keys = KeyPair::shared();
    let server = start(pem_options(keys).build().unwrap(), None, 1);
    let agent = agent();
    let sent = [("cookie", "__client_uat=1"), ("sec-fetch-dest", "document")];

    // A page: the handshake redirect.
    let page = get(&agent, &format!("{}/api/me", server.base), &sent);
    assert_eq!(page.status, 307);
    assert!(page.header("location").is_some());
    assert_eq!(page.header("www-authenticate"), None);

    // The same request on an API route: 401 with the challenge, never a redirect.
    let api = get(&agent, &format!("{}/v1/api/me", server.base), &sent);
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

    // Public and optional API routes run, signed out, without a redirect or a challenge.
    for path in ["/v1/optional", "/v1/anything"] {
        let res = get(&agent, &format!("{}{path}", server.base), &sent);
        assert_eq!(res.status, 200, "{path}");
        assert_eq!(res.header("location"), None, "{path}");
        assert_eq!(res.header("www-authenticate"), None, "{path}");
    }

    // A valid Bearer token: 200.
    let good = bearer(&token(keys));
    let res = get(
        &agent,
        &format!("{}/v1/api/me", server.base),
        &[("authorization", &good)],
    );
    assert_eq!(res.status, 200, "{}", res.body);
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
