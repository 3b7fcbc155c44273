//! The conformance suite's runner: the core's committed decision vectors
//! (`crates/clerk-auth-vectors/vectors/*.json`), each sent over real HTTP to a framework's
//! example server started on 127.0.0.1 with the vector's configuration.
//!
//! A vector's expected state maps to HTTP as every adapter must answer it (decision 11): a state
//! with `location` is a `307` carrying the state's headers; a request the core cannot decide is a
//! `500`; otherwise the public page answers `200` with the state's headers, and its body says who
//! is signed in.

// Test support: a broken harness must fail the test run loudly.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use clerk_auth_core::{ConfigError, Options};
use clerk_auth_vectors::vectors::{Prepared, Vector};

/// The headers an adapter must reproduce exactly; others (date, content-type, server, …) are the
/// framework's own.
const AUTH_HEADERS: &[&str] = &[
    "location",
    "set-cookie",
    "cache-control",
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "x-clerk-auth-status",
    "x-clerk-auth-reason",
    "x-clerk-auth-message",
];

/// Every committed vector that can be sent over HTTP, prepared (tokens minted, emulator started).
pub fn prepared_vectors() -> Vec<Prepared> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/clerk-auth-vectors/vectors"
    );
    let vectors = Vector::load_dir(dir).unwrap_or_else(|e| panic!("vectors: {e}"));
    vectors
        .iter()
        .filter(|v| !v.core_only)
        .map(|v| {
            v.prepare(None)
                .unwrap_or_else(|e| panic!("{}: {e}", v.name))
        })
        .collect()
}

/// The options a vector configures, on the vector's fixed clock.
pub fn options_for(prepared: &Prepared) -> Result<Options, ConfigError> {
    prepared.options()
}

/// A listener on 127.0.0.1 with a free port.
pub fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"))
}

/// Waits until something accepts connections on `port` (at most 10 s).
pub fn wait_ready(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "server on port {port} never came up"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// An HTTP response, as read off the wire.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers in order, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body bytes (as sent; chunk framing is left in).
    pub body: String,
}

/// Sends `prepared`'s request to 127.0.0.1:`port` over HTTP/1.1 (`Connection: close`), with the
/// vector's URL split into `Host` and the request target, and `X-Forwarded-Proto: https` for an
/// `https` URL that does not say otherwise.
pub fn send(prepared: &Prepared, port: u16) -> Response {
    let req = &prepared.request;
    let (scheme, rest) = req
        .url
        .split_once("://")
        .unwrap_or(("http", req.url.as_str()));
    let (authority, target) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let has = |name: &str| {
        req.headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(name))
    };
    let mut text = format!("{} {target} HTTP/1.1\r\n", req.method);
    if !has("host") {
        text.push_str(&format!("host: {authority}\r\n"));
    }
    if scheme == "https" && !has("x-forwarded-proto") {
        text.push_str("x-forwarded-proto: https\r\n");
    }
    for (k, v) in &req.headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str("connection: close\r\ncontent-length: 0\r\n\r\n");
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("connect: {e}"));
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    stream
        .write_all(text.as_bytes())
        .unwrap_or_else(|e| panic!("write: {e}"));
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("read: {e}"));
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Response {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// Checks a response against the vector's expectation; `Err` says what differs.
pub fn check(prepared: &Prepared, response: &Response) -> Result<(), String> {
    let expect = &prepared.expect;
    let mut problems = Vec::new();
    let want_location = expect
        .headers
        .as_ref()
        .is_some_and(|h| h.iter().any(|(k, _)| k == "location"));
    let want_status = match expect.status.as_str() {
        "error" => 500,
        _ if want_location => 307,
        _ => 200,
    };
    if response.status != want_status {
        problems.push(format!(
            "HTTP status {} (want {want_status})",
            response.status
        ));
    }
    if want_status != 500 {
        let got: Vec<(String, String)> = response
            .headers
            .iter()
            .filter(|(k, _)| AUTH_HEADERS.contains(&k.as_str()))
            .cloned()
            .collect();
        let header = |name: &str| -> Vec<&str> {
            got.iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        match &expect.headers {
            Some(want) => {
                for name in AUTH_HEADERS {
                    let mut w: Vec<&str> = want
                        .iter()
                        .filter(|(k, _)| k == name)
                        .map(|(_, v)| v.as_str())
                        .collect();
                    // A response carrying the state's cookies is never stored by a shared cache:
                    // the adapters replace a `Cache-Control` that does not say `no-store` with
                    // `private, no-store` (`RequestState::cache_control`).
                    if *name == "cache-control"
                        && want.iter().any(|(k, _)| k == "set-cookie")
                        && !w.iter().any(|v| {
                            v.split(',')
                                .any(|d| d.trim().eq_ignore_ascii_case("no-store"))
                        })
                    {
                        w = vec!["private, no-store"];
                    }
                    let g = header(name);
                    if w != g {
                        problems.push(format!("header {name}: got {g:?}, want {w:?}"));
                    }
                }
            }
            None => {
                if expect.status != "signed-in" {
                    let status = header("x-clerk-auth-status");
                    if status != [expect.status.as_str()] {
                        problems.push(format!(
                            "x-clerk-auth-status: got {status:?}, want {:?}",
                            expect.status
                        ));
                    }
                    if let Some(reason) = &expect.reason {
                        if header("x-clerk-auth-reason") != [reason.as_str()] {
                            problems.push(format!(
                                "x-clerk-auth-reason: got {:?}, want {reason:?}",
                                header("x-clerk-auth-reason")
                            ));
                        }
                    }
                }
            }
        }
        // A HEAD answer has no body to read.
        if want_status == 200 && prepared.request.method != "HEAD" {
            let want_body = match (&expect.status[..], &expect.user_id) {
                ("signed-in", Some(user)) => format!("signed-in {user}"),
                ("signed-in", None) => "signed-in".to_owned(),
                _ => "signed-out".to_owned(),
            };
            if !response.body.contains(&want_body) {
                problems.push(format!("body lacks {want_body:?}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// A shutdown signal for a server started by [`serve_in_thread`].
pub type ShutdownSignal = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Runs `serve` on its own thread and Tokio runtime; the returned stopper signals shutdown and
/// waits for the server to end.
pub fn serve_in_thread<Fut>(
    serve: impl FnOnce(ShutdownSignal) -> Fut + Send + 'static,
) -> Box<dyn FnOnce()>
where
    Fut: std::future::Future,
{
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(serve(Box::pin(async move {
            let _ = rx.await;
        })));
    });
    Box::new(move || {
        let _ = tx.send(());
        let _ = thread.join();
    })
}

/// Runs every vector through a framework: `start` serves the example with the given options on
/// the given listener and returns a stopper.
pub fn run_all(framework: &str, mut start: impl FnMut(Options, TcpListener) -> Box<dyn FnOnce()>) {
    let vectors = prepared_vectors();
    assert!(vectors.len() >= 40, "only {} vectors", vectors.len());
    let mut failures = Vec::new();
    for prepared in &vectors {
        let options = match options_for(prepared) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{}: options: {e}", prepared.vector.name));
                continue;
            }
        };
        let listener = listener();
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let stop = start(options, listener);
        wait_ready(port);
        let response = send(prepared, port);
        stop();
        if let Err(problem) = check(prepared, &response) {
            failures.push(format!(
                "{} [{}]: {problem}",
                prepared.vector.name, prepared.vector.spec
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{framework}: {} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
    println!("{framework}: {} vectors passed over HTTP", vectors.len());
}

/// What the contract's authorization routes must answer (`/api/org-admin`, `/api/reverify`):
/// one request each, sent over HTTP to a framework's example server by [`run_authorization`].
struct AuthorizationCase {
    path: &'static str,
    /// The bearer token, if any.
    token: Option<String>,
    status: u16,
    /// The exact body, or `None` to check the JSON's `status`/`userId` by the status code.
    body: Option<&'static str>,
}

/// `/api/org-admin`'s refusal without the role.
pub const FORBIDDEN_BODY: &str = r#"{"status":"forbidden"}"#;

/// `/api/reverify`'s refusal without a recent enough verification (Clerk's own body).
pub const REVERIFY_BODY: &str = r#"{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"strict"}}}"#;

/// Runs the contract's authorization routes through a framework, over HTTP: signed out `401`
/// (`{"status":"signed-out",…}`), signed in without the role `403` `{"status":"forbidden"}`,
/// without a recent enough verification `403` with exactly Clerk's reverification error, and
/// `200` with the auth object's JSON otherwise. `start` serves the example as for [`run_all`].
pub fn run_authorization(
    framework: &str,
    mut start: impl FnMut(Options, TcpListener) -> Box<dyn FnOnce()>,
) {
    use clerk_auth_core::testing::{FixedClock, KeyPair, TokenMinter};

    let now = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let keys = KeyPair::shared();
    let options = Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_live_conformance_authorization")
        .jwt_key(keys.public_pem())
        .api_url("http://127.0.0.1:9")
        .clock(std::sync::Arc::new(FixedClock::new(now)))
        .build()
        .expect("options");
    // An organization member with `role`, first factor verified `minutes` ago.
    let session = |role: &str, minutes: i64| {
        Some(
            TokenMinter::new(keys)
                .issued_at(now)
                .claim("org_id", serde_json::json!("org_1"))
                .claim("org_role", serde_json::json!(role))
                .claim("fva", serde_json::json!([minutes, -1]))
                .mint(),
        )
    };
    let case = |path, token, status, body| AuthorizationCase {
        path,
        token,
        status,
        body,
    };
    let cases = [
        case("/api/org-admin", None, 401, None),
        case(
            "/api/org-admin",
            session("org:member", 1),
            403,
            Some(FORBIDDEN_BODY),
        ),
        case("/api/org-admin", session("org:admin", 1), 200, None),
        case("/api/reverify", None, 401, None),
        case(
            "/api/reverify",
            session("org:member", 10),
            403,
            Some(REVERIFY_BODY),
        ),
        case("/api/reverify", session("org:member", 9), 200, None),
    ];

    let listener = listener();
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let stop = start(options, listener);
    wait_ready(port);
    let agent = clerk_auth_vectors::client::agent();
    let mut failures = Vec::new();
    for c in &cases {
        let bearer = c.token.as_ref().map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = bearer
            .as_deref()
            .map(|b| vec![("authorization", b)])
            .unwrap_or_default();
        let url = format!("http://127.0.0.1:{port}{}", c.path);
        let reply = clerk_auth_vectors::client::get(&agent, &url, &headers);
        let json = reply.json();
        let body_ok = match (c.body, c.status) {
            (Some(want), _) => reply.body == want,
            (None, 401) => json["status"] == "signed-out",
            (None, _) => json["userId"] == "user_2test" && json["tokenType"] == "session_token",
        };
        let json_type = reply.header("content-type") == Some("application/json");
        if reply.status != c.status || !body_ok || !json_type {
            failures.push(format!(
                "{} ({}): {} {:?} {:?}",
                c.path,
                if c.token.is_some() {
                    "token"
                } else {
                    "no token"
                },
                reply.status,
                reply.header("content-type"),
                reply.body
            ));
        }
    }
    stop();
    assert!(
        failures.is_empty(),
        "{framework}: authorization routes:\n{}",
        failures.join("\n")
    );
}
