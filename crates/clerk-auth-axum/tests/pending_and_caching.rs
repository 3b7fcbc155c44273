//! Through a real axum server, over real HTTP: pending sessions are refused by `SignedIn` unless
//! the options accept them (decision 16); a response carrying the state's `set-cookie` (a refresh
//! answered by the Backend API emulator) is `Cache-Control: private, no-store` unless the handler
//! already said `no-store`; header bytes reach the core as they are.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::time::{Duration, SystemTime};

use clerk_auth_core::testing::server::{BackendApiServer, Endpoint, RefreshResponse};
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_vectors::client::{agent, get};
use common::{pem_options, Server};
use serde_json::json;

/// The cookie suffix of `common::PK_LIVE`.
const SUFFIX: &str = "naoXFJnI";

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

    let server = Server::start(pem_options(KeyPair::shared()).build().unwrap());
    for path in ["/api/me", "/v1/api/me"] {
        let res = get(&agent, &server.url(path), &[("authorization", &pending)]);
        assert_eq!(res.status, 401, "{path}: {}", res.body);
        assert_eq!(
            res.json(),
            json!({"status": "signed-out", "reason": null, "message": ""})
        );
    }
    let res = get(
        &agent,
        &server.url("/api/optional"),
        &[("authorization", &pending)],
    );
    assert_eq!((res.status, res.body.as_str()), (200, "none"));
    let res = get(
        &agent,
        &server.url("/api/me"),
        &[("authorization", &active)],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    drop(server);

    let options = pem_options(KeyPair::shared())
        .accept_pending_sessions(true)
        .build()
        .unwrap();
    let server = Server::start(options);
    let res = get(
        &agent,
        &server.url("/api/me"),
        &[("authorization", &pending)],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["sessionStatus"], "pending");
    assert_eq!(res.json()["userId"], "user_2test");
    let res = get(
        &agent,
        &server.url("/api/optional"),
        &[("authorization", &pending)],
    );
    assert_eq!((res.status, res.body.as_str()), (200, "some user_2test"));
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
    let server = Server::start(options);
    let agent = agent();
    let expired = TokenMinter::new(KeyPair::shared())
        .issued_at(SystemTime::now() - Duration::from_secs(120))
        .mint();
    let refresh = format!("__session={expired}; __client_uat=1; __refresh_{SUFFIX}=rt");

    // The handler said `public, max-age=60`: replaced.
    let res = get(&agent, &server.url("/cookie"), &[("cookie", &refresh)]);
    assert_eq!((res.status, res.body.as_str()), (200, "signed-in true"));
    assert_eq!(res.header_all("set-cookie").len(), 3, "{:?}", res.headers);
    assert_eq!(res.header_all("cache-control"), ["private, no-store"]);
    // The handler said `no-store`: kept as it is.
    let res = get(&agent, &server.url("/no-store"), &[("cookie", &refresh)]);
    assert_eq!((res.status, res.body.as_str()), (200, "signed-in true"));
    assert_eq!(res.header_all("set-cookie").len(), 2);
    assert_eq!(res.header_all("cache-control"), ["no-store"]);
    assert_eq!(api.hits(Endpoint::SessionRefresh), 2);

    // No cookie set by the state: the handler's caching stands.
    let fresh = format!("__session={}; __client_uat=1", token("active"));
    let res = get(&agent, &server.url("/cookie"), &[("cookie", &fresh)]);
    assert_eq!((res.status, res.body.as_str()), (200, "signed-in true"));
    assert_eq!(res.header_all("set-cookie"), ["app=1"]);
    assert_eq!(res.header_all("cache-control"), ["public, max-age=60"]);
}

/// hyper hands the layer header bytes as they are: a `Cookie` header with a byte that is not
/// UTF-8 still carries its session cookie (the core reads bytes as Latin-1).
#[test]
fn a_cookie_header_that_is_not_utf8_still_counts() {
    let server = Server::start(pem_options(KeyPair::shared()).build().unwrap());
    let mut request = b"GET /api/me HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ".to_vec();
    request.extend_from_slice(format!("__session={}; __client_uat=1", token("active")).as_bytes());
    request.extend_from_slice(b"; theme=caf\xe9\r\nConnection: close\r\n\r\n");
    let mut stream =
        std::net::TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(&request).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("user_2test"), "{text}");
}
