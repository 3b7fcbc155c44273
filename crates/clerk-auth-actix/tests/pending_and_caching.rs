//! Through a real actix-web server on loopback, over real HTTP: pending sessions are refused by
//! `SignedIn` unless the options accept them (decision 16), and a response carrying the state's
//! `set-cookie` (a refresh answered by the Backend API emulator) is `Cache-Control: private,
//! no-store` unless the handler already said `no-store`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, SystemTime};

use actix_web::{web, HttpResponse};
use clerk_auth_actix::{AuthState, ClerkAuth, SignedIn};
use clerk_auth_core::testing::server::{BackendApiServer, Endpoint, RefreshResponse};
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::{Options, OptionsBuilder};
use clerk_auth_vectors::client::{agent, get};
use serde_json::json;
use support::{serve, Server};

mod support;

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
/// The cookie suffix of `PK_LIVE`.
const SUFFIX: &str = "naoXFJnI";
const SECRET: &str = "sk_live_actix_pending_caching";

/// `/api/me` (SignedIn), `/optional` (Option<SignedIn>), `/public` (a handler answering
/// `Cache-Control: public, max-age=60`), `/no-store` (one answering `no-store`).
fn start(options: Options) -> Server {
    serve(1, move |cfg| {
        cfg.service(
            web::scope("")
                .wrap(ClerkAuth::new(options.clone()))
                .route("/api/me", web::to(me))
                .route("/optional", web::to(optional))
                .route("/public", web::to(public))
                .route("/no-store", web::to(no_store)),
        );
    })
}

async fn me(user: SignedIn) -> HttpResponse {
    HttpResponse::Ok().json(user.auth_json())
}

async fn optional(user: Option<SignedIn>) -> String {
    match user {
        Some(u) => format!("some {}", u.user_id().unwrap_or("machine")),
        None => "none".to_owned(),
    }
}

async fn public(auth: AuthState) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=60"))
        .body(format!("signed-in {}", auth.is_signed_in()))
}

async fn no_store(auth: AuthState) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .body(format!("signed-in {}", auth.is_signed_in()))
}

fn pem_options() -> OptionsBuilder {
    Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key(SECRET)
        .jwt_key(KeyPair::shared().public_pem())
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

    let server = start(pem_options().build().unwrap());
    let res = get(
        &agent,
        &format!("{}/api/me", server.base),
        &[("authorization", &pending)],
    );
    assert_eq!(res.status, 401, "{}", res.body);
    assert_eq!(
        res.json(),
        json!({"status": "signed-out", "reason": null, "message": ""})
    );
    let res = get(
        &agent,
        &format!("{}/optional", server.base),
        &[("authorization", &pending)],
    );
    assert_eq!((res.status, res.body.as_str()), (200, "none"));
    let res = get(
        &agent,
        &format!("{}/api/me", server.base),
        &[("authorization", &active)],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    drop(server);

    let server = start(pem_options().accept_pending_sessions(true).build().unwrap());
    let res = get(
        &agent,
        &format!("{}/api/me", server.base),
        &[("authorization", &pending)],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["sessionStatus"], "pending");
    assert_eq!(res.json()["userId"], "user_2test");
    let res = get(
        &agent,
        &format!("{}/optional", server.base),
        &[("authorization", &pending)],
    );
    assert_eq!((res.status, res.body.as_str()), (200, "some user_2test"));
}

#[test]
fn a_refreshed_session_is_never_stored_by_a_shared_cache() {
    let api = BackendApiServer::start(SECRET).unwrap();
    api.set_refresh_response(RefreshResponse::Cookies(vec![
        format!("__session={}; Path=/", token("active")),
        "__client_uat=1700000001; Path=/".to_owned(),
    ]));
    let server = start(pem_options().api_url(api.url()).build().unwrap());
    let agent = agent();
    let expired = TokenMinter::new(KeyPair::shared())
        .issued_at(SystemTime::now() - Duration::from_secs(120))
        .mint();
    let refresh = format!("__session={expired}; __client_uat=1; __refresh_{SUFFIX}=rt");

    // The handler said `public, max-age=60`: replaced.
    let res = get(
        &agent,
        &format!("{}/public", server.base),
        &[("cookie", &refresh)],
    );
    assert_eq!((res.status, res.body.as_str()), (200, "signed-in true"));
    assert_eq!(res.header_all("set-cookie").len(), 2, "{:?}", res.headers);
    assert_eq!(res.header_all("cache-control"), ["private, no-store"]);
    // The handler said `no-store`: kept as it is.
    let res = get(
        &agent,
        &format!("{}/no-store", server.base),
        &[("cookie", &refresh)],
    );
    assert_eq!((res.status, res.body.as_str()), (200, "signed-in true"));
    assert_eq!(res.header_all("set-cookie").len(), 2);
    assert_eq!(res.header_all("cache-control"), ["no-store"]);
    assert_eq!(api.hits(Endpoint::SessionRefresh), 2);

    // No cookie set by the state: the handler's caching stands.
    let fresh = format!("__session={}; __client_uat=1", token("active"));
    let res = get(
        &agent,
        &format!("{}/public", server.base),
        &[("cookie", &fresh)],
    );
    assert_eq!((res.status, res.body.as_str()), (200, "signed-in true"));
    assert!(res.header_all("set-cookie").is_empty());
    assert_eq!(res.header_all("cache-control"), ["public, max-age=60"]);
}

/// actix-web hands the adapter header bytes as they are: a `Cookie` header with a byte that is
/// not UTF-8 still carries its session cookie (the core reads bytes as Latin-1). Rocket drops such
/// a header instead (see the Rocket adapter's documentation and tests).
#[test]
fn a_cookie_header_that_is_not_utf8_still_counts() {
    use std::io::{Read, Write};

    let server = start(pem_options().build().unwrap());
    let mut cookie = format!("__session={}; __client_uat=1", token("active")).into_bytes();
    cookie.extend_from_slice(b"; theme=caf\xe9");
    let addr = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = b"GET /api/me HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ".to_vec();
    request.extend_from_slice(&cookie);
    request.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    stream.write_all(&request).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("user_2test"), "{text}");
}
