//! Through a real warp server, over real HTTP: pending sessions are refused by `signed_in` unless
//! the options accept them (decision 16), and a reply carrying the state's `set-cookie` (a
//! refresh answered by the Backend API emulator) is `Cache-Control: private, no-store` unless
//! the handler already said `no-store`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, SystemTime};

use clerk_auth_core::testing::server::{BackendApiServer, Endpoint, RefreshResponse};
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::Options;
use clerk_auth_vectors::client::{agent, get};
use clerk_auth_warp::{auth_state, recover, AuthState};
use common::{pem_options, Server};
use serde_json::json;
use warp::Filter;

/// The cookie suffix of `common::PK_LIVE`.
const SUFFIX: &str = "naoXFJnI";

/// The common app plus `/public` (a reply with `Cache-Control: public, max-age=60`) and
/// `/no-store` (one with `no-store`).
fn start(options: Options) -> Server {
    let cached = |value: &'static str| {
        move |auth: AuthState| {
            let body = format!("signed-in {}", auth.is_signed_in());
            auth.reply(warp::reply::with_header(body, "cache-control", value))
        }
    };
    let public = warp::path!("public")
        .and(auth_state(options.clone()))
        .map(cached("public, max-age=60"));
    let no_store = warp::path!("no-store")
        .and(auth_state(options.clone()))
        .map(cached("no-store"));
    let routes = public
        .or(no_store)
        .recover(recover)
        .or(common::app(options));
    Server::serve(routes, Some(1))
}

fn token(status: &str) -> String {
    TokenMinter::new(KeyPair::shared())
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(600))
        .claim("sts", json!(status))
        .mint()
}

#[test]
fn a_pending_session_is_refused_unless_the_options_accept_it() {
    let agent = agent();
    let pending = format!("Bearer {}", token("pending"));
    let active = format!("Bearer {}", token("active"));

    let server = start(pem_options(KeyPair::shared()).build().unwrap());
    let reply = get(
        &agent,
        &server.url("/api/me"),
        &[("authorization", &pending)],
    );
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(
        reply.json(),
        json!({"status": "signed-out", "reason": null, "message": ""})
    );
    let reply = get(
        &agent,
        &server.url("/api/optional"),
        &[("authorization", &pending)],
    );
    assert_eq!((reply.status, reply.body.as_str()), (200, "none"));
    let reply = get(
        &agent,
        &server.url("/v1/api/me"),
        &[("authorization", &pending)],
    );
    assert_eq!(reply.status, 401, "{}", reply.body);
    let reply = get(
        &agent,
        &server.url("/api/me"),
        &[("authorization", &active)],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    drop(server);

    let options = pem_options(KeyPair::shared())
        .accept_pending_sessions(true)
        .build()
        .unwrap();
    let server = start(options);
    let reply = get(
        &agent,
        &server.url("/api/me"),
        &[("authorization", &pending)],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["sessionStatus"], "pending");
    assert_eq!(reply.json()["userId"], "user_2test");
    let reply = get(
        &agent,
        &server.url("/api/optional"),
        &[("authorization", &pending)],
    );
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "some user_2test")
    );
}

#[test]
fn a_refreshed_session_is_never_stored_by_a_shared_cache() {
    let api = BackendApiServer::start("sk_live_adapter_tests").unwrap();
    api.set_refresh_response(RefreshResponse::Cookies(vec![
        format!("__session={}; Path=/", token("active")),
        "__client_uat=1700000001; Path=/".to_owned(),
    ]));
    let options = pem_options(KeyPair::shared())
        .api_url(api.url())
        .build()
        .unwrap();
    let server = start(options);
    let agent = agent();
    let expired = TokenMinter::new(KeyPair::shared())
        .issued_at(SystemTime::now() - Duration::from_secs(120))
        .mint();
    let refresh = format!("__session={expired}; __client_uat=1; __refresh_{SUFFIX}=rt");

    // The handler said `public, max-age=60`: replaced.
    let reply = get(&agent, &server.url("/public"), &[("cookie", &refresh)]);
    assert_eq!((reply.status, reply.body.as_str()), (200, "signed-in true"));
    assert_eq!(
        reply.header_all("set-cookie").len(),
        2,
        "{:?}",
        reply.headers
    );
    assert_eq!(reply.header_all("cache-control"), ["private, no-store"]);
    // The handler said `no-store`: kept as it is.
    let reply = get(&agent, &server.url("/no-store"), &[("cookie", &refresh)]);
    assert_eq!((reply.status, reply.body.as_str()), (200, "signed-in true"));
    assert_eq!(reply.header_all("set-cookie").len(), 2);
    assert_eq!(reply.header_all("cache-control"), ["no-store"]);
    assert_eq!(api.hits(Endpoint::SessionRefresh), 2);

    // No cookie set by the state: the handler's caching stands.
    let fresh = format!("__session={}; __client_uat=1", token("active"));
    let reply = get(&agent, &server.url("/public"), &[("cookie", &fresh)]);
    assert_eq!((reply.status, reply.body.as_str()), (200, "signed-in true"));
    assert!(reply.header_all("set-cookie").is_empty());
    assert_eq!(reply.header_all("cache-control"), ["public, max-age=60"]);
}
