//! Through a real Rocket server, over real HTTP: pending sessions are refused by `SignedIn`
//! unless the options accept them (decision 16); a response carrying the state's `set-cookie`
//! (a refresh answered by the Backend API emulator) is `Cache-Control: private, no-store` unless
//! the handler already said `no-store`; a header value that is not UTF-8 is dropped by Rocket
//! before the decision sees it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime};

use clerk_auth_core::testing::server::{BackendApiServer, Endpoint, RefreshResponse};
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::{Options, OptionsBuilder};
use clerk_auth_rocket::AuthState;
use clerk_auth_vectors::client::{agent, get};
use rocket::http::Header;
use rocket::{get, routes, Responder};
use serde_json::json;
use support::{app_without_self_check, serve};

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
/// The cookie suffix of `PK_LIVE`.
const SUFFIX: &str = "naoXFJnI";
const SECRET: &str = "sk_live_rocket_pending_caching";

#[derive(Responder)]
struct Cached {
    body: String,
    cache_control: Header<'static>,
}

#[get("/public")]
fn public(auth: AuthState<'_>) -> Cached {
    Cached {
        body: format!("signed-in {}", auth.is_signed_in()),
        cache_control: Header::new("Cache-Control", "public, max-age=60"),
    }
}

#[get("/no-store")]
fn no_store(auth: AuthState<'_>) -> Cached {
    Cached {
        body: format!("signed-in {}", auth.is_signed_in()),
        cache_control: Header::new("Cache-Control", "no-store"),
    }
}

fn pem_options() -> OptionsBuilder {
    Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key(SECRET)
        .jwt_key(KeyPair::shared().public_pem())
        .api_url("http://127.0.0.1:9")
}

fn token(status: &str) -> String {
    TokenMinter::new(KeyPair::shared())
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(600))
        .claim("sts", json!(status))
        .mint()
}

fn serve_app(options: Options) -> support::Server {
    let (rocket, _) = app_without_self_check(options);
    serve(rocket.mount("/", routes![public, no_store]))
}

#[test]
fn a_pending_session_is_refused_unless_the_options_accept_it() {
    let agent = agent();
    let pending = format!("Bearer {}", token("pending"));
    let active = format!("Bearer {}", token("active"));

    let server = serve_app(pem_options().build().unwrap());
    let reply = get(
        &agent,
        &format!("{}/api/me", server.base),
        &[("authorization", &pending)],
    );
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(
        reply.json(),
        json!({"status": "signed-out", "reason": null, "message": ""})
    );
    let reply = get(
        &agent,
        &format!("{}/optional", server.base),
        &[("authorization", &pending)],
    );
    assert_eq!((reply.status, reply.body.as_str()), (200, "none"));
    let reply = get(
        &agent,
        &format!("{}/api/me", server.base),
        &[("authorization", &active)],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    drop(server);

    let server = serve_app(pem_options().accept_pending_sessions(true).build().unwrap());
    let reply = get(
        &agent,
        &format!("{}/api/me", server.base),
        &[("authorization", &pending)],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["sessionStatus"], "pending");
    assert_eq!(reply.json()["userId"], "user_2test");
    let reply = get(
        &agent,
        &format!("{}/optional", server.base),
        &[("authorization", &pending)],
    );
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "some user_2test")
    );
}

#[test]
fn a_refreshed_session_is_never_stored_by_a_shared_cache() {
    let api = BackendApiServer::start(SECRET).unwrap();
    api.set_refresh_response(RefreshResponse::Cookies(vec![
        format!("__session={}; Path=/", token("active")),
        "__client_uat=1700000001; Path=/".to_owned(),
    ]));
    let server = serve_app(pem_options().api_url(api.url()).build().unwrap());
    let agent = agent();
    let expired = TokenMinter::new(KeyPair::shared())
        .issued_at(SystemTime::now() - Duration::from_secs(120))
        .mint();
    let refresh = format!("__session={expired}; __client_uat=1; __refresh_{SUFFIX}=rt");

    // The handler said `public, max-age=60`: replaced.
    let reply = get(
        &agent,
        &format!("{}/public", server.base),
        &[("cookie", &refresh)],
    );
    assert_eq!((reply.status, reply.body.as_str()), (200, "signed-in true"));
    assert_eq!(
        reply.header_all("set-cookie").len(),
        2,
        "{:?}",
        reply.headers
    );
    assert_eq!(reply.header_all("cache-control"), ["private, no-store"]);
    // The handler said `no-store`: kept as it is.
    let reply = get(
        &agent,
        &format!("{}/no-store", server.base),
        &[("cookie", &refresh)],
    );
    assert_eq!((reply.status, reply.body.as_str()), (200, "signed-in true"));
    assert_eq!(reply.header_all("set-cookie").len(), 2);
    assert_eq!(reply.header_all("cache-control"), ["no-store"]);
    assert_eq!(api.hits(Endpoint::SessionRefresh), 2);

    // No cookie set by the state: the handler's caching stands.
    let fresh = format!("__session={}; __client_uat=1", token("active"));
    let reply = get(
        &agent,
        &format!("{}/public", server.base),
        &[("cookie", &fresh)],
    );
    assert_eq!((reply.status, reply.body.as_str()), (200, "signed-in true"));
    assert!(reply.header_all("set-cookie").is_empty());
    assert_eq!(reply.header_all("cache-control"), ["public, max-age=60"]);
}

/// Sends `GET path` with a raw `Cookie` header (any bytes) and returns the status and the
/// `x-clerk-auth-reason` header.
fn raw_get(server: &support::Server, path: &str, cookie: &[u8]) -> (u16, Option<String>) {
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ").into_bytes();
    request.extend_from_slice(cookie);
    request.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    stream.write_all(&request).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
    let reason = text
        .lines()
        .find_map(|l| l.strip_prefix("x-clerk-auth-reason: "))
        .map(str::to_owned);
    (status, reason)
}

#[test]
fn rocket_drops_a_header_that_is_not_utf8_and_the_request_is_decided_without_it() {
    let server = serve_app(pem_options().build().unwrap());
    let session = format!("__session={}; __client_uat=1", token("active"));

    // The cookies as sent: signed in.
    let (status, reason) = raw_get(&server, "/api/me", session.as_bytes());
    assert_eq!((status, reason), (200, None));

    // The same Cookie header with one more cookie holding a byte that is not UTF-8: Rocket drops
    // the whole header, so the decision sees no cookie at all (actix-web and warp would still
    // read the session cookie: the core reads header bytes as Latin-1).
    let mut cookie = session.into_bytes();
    cookie.extend_from_slice(b"; theme=caf\xe9");
    let (status, reason) = raw_get(&server, "/api/me", &cookie);
    assert_eq!(status, 401);
    assert_eq!(reason.as_deref(), Some("session-token-and-uat-missing"));
}
