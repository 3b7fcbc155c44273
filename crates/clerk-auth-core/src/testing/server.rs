//! A local emulator of Clerk's Backend API, for tests: real HTTP on `127.0.0.1`, no mocks.
//!
//! [`BackendApiServer`] listens on an ephemeral port, answers each request on its own thread
//! (so concurrent tests and slow answers do not queue behind each other) and stops when dropped.
//! Point the code under test at [`url()`](BackendApiServer::url) as its API URL and use
//! [`secret()`](BackendApiServer::secret) as its secret key.
//!
//! Like Clerk, every route requires `Authorization: Bearer <secret>`; a wrong or missing secret
//! gets `401` with a `clerk_key_invalid` error. `POST /m2m_tokens/verify` also accepts the
//! machine secret key set with [`set_machine_secret_key`](BackendApiServer::set_machine_secret_key).
//! Routes ([`Endpoint`]):
//!
//! | Endpoint | Request | Answer |
//! |---|---|---|
//! | [`Endpoint::Jwks`] | `GET /v1/jwks` | `{"keys":[…]}` from [`set_keys`](BackendApiServer::set_keys) |
//! | [`Endpoint::HandshakePayload`] | `GET /v1/clients/handshake_payload?nonce=N` | `{"directives":[…]}` from [`set_handshake_payload`](BackendApiServer::set_handshake_payload); unknown nonce → `404` |
//! | [`Endpoint::SessionRefresh`] | `POST /v1/sessions/{sid}/refresh` | [`set_refresh_response`](BackendApiServer::set_refresh_response): `{"cookies":[…]}` or a Clerk error |
//! | [`Endpoint::M2mTokenVerify`] | `POST /m2m_tokens/verify` `{"token"}` | the object set by [`set_machine_token`](BackendApiServer::set_machine_token); unknown → `404` |
//! | [`Endpoint::ApiKeyVerify`] | `POST /api_keys/verify` `{"secret"}` | same |
//! | [`Endpoint::OAuthTokenVerify`] | `POST /oauth_applications/access_tokens/verify` `{"access_token"}` | same |
//!
//! Adding a route takes an [`Endpoint`] variant, its method, path pattern and handler function.
//!
//! Every endpoint can be slowed down ([`set_delay`](BackendApiServer::set_delay)) or made to
//! answer a canned response ([`respond_with`](BackendApiServer::respond_with): an error, a body
//! that is not JSON, a redirect), counts its hits
//! ([`hits`](BackendApiServer::hits)) and records its last request
//! ([`last_request`](BackendApiServer::last_request)).
//!
//! ```no_run
//! use clerk_auth_core::testing::server::{BackendApiServer, CannedResponse, Endpoint};
//!
//! let server = BackendApiServer::start("sk_test_emulator").unwrap();
//! server.set_keys(vec![serde_json::json!({"kid": "ins_1", "kty": "RSA", "n": "…", "e": "AQAB"})]);
//! // … verify tokens against server.url() …
//! assert_eq!(server.hits(Endpoint::Jwks), 1);
//!
//! // Simulate an outage.
//! server.respond_with(Endpoint::Jwks, Some(CannedResponse::bapi_error(503, "unexpected_error", "down")));
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

/// A Backend API route served by [`BackendApiServer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `GET /v1/jwks`: the instance's key set.
    Jwks,
    /// `GET /v1/clients/handshake_payload?nonce=N`: the cookie directives of a handshake nonce.
    HandshakePayload,
    /// `POST /v1/sessions/{sid}/refresh`: server-side session refresh.
    SessionRefresh,
    /// `POST /m2m_tokens/verify` (no version segment), body `{"token"}`.
    M2mTokenVerify,
    /// `POST /api_keys/verify` (no version segment), body `{"secret"}`.
    ApiKeyVerify,
    /// `POST /oauth_applications/access_tokens/verify` (no version segment), body `{"access_token"}`.
    OAuthTokenVerify,
}

impl Endpoint {
    /// Every endpoint, in routing order.
    pub const ALL: &'static [Endpoint] = &[
        Self::Jwks,
        Self::HandshakePayload,
        Self::SessionRefresh,
        Self::M2mTokenVerify,
        Self::ApiKeyVerify,
        Self::OAuthTokenVerify,
    ];

    /// The HTTP method.
    pub const fn method(self) -> &'static str {
        match self {
            Self::Jwks | Self::HandshakePayload => "GET",
            Self::SessionRefresh
            | Self::M2mTokenVerify
            | Self::ApiKeyVerify
            | Self::OAuthTokenVerify => "POST",
        }
    }

    /// The path pattern; `{name}` matches one path segment.
    pub const fn path(self) -> &'static str {
        match self {
            Self::Jwks => "/v1/jwks",
            Self::HandshakePayload => "/v1/clients/handshake_payload",
            Self::SessionRefresh => "/v1/sessions/{sid}/refresh",
            Self::M2mTokenVerify => "/m2m_tokens/verify",
            Self::ApiKeyVerify => "/api_keys/verify",
            Self::OAuthTokenVerify => "/oauth_applications/access_tokens/verify",
        }
    }

    /// The function answering this endpoint (after the secret, delay and canned-response checks).
    fn handler(self) -> Handler {
        match self {
            Self::Jwks => handle_jwks,
            Self::HandshakePayload => handle_handshake_payload,
            Self::SessionRefresh => handle_session_refresh,
            Self::M2mTokenVerify | Self::ApiKeyVerify | Self::OAuthTokenVerify => {
                handle_machine_verify
            }
        }
    }

    /// The path parameters if `path` matches this endpoint's pattern.
    fn match_path(self, path: &str) -> Option<Vec<(String, String)>> {
        let mut params = Vec::new();
        let mut want = self.path().split('/');
        let mut got = path.split('/');
        loop {
            match (want.next(), got.next()) {
                (None, None) => return Some(params),
                (Some(w), Some(g)) => {
                    if let Some(name) = w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                        if g.is_empty() {
                            return None;
                        }
                        params.push((name.to_owned(), percent_decode(g)));
                    } else if w != g {
                        return None;
                    }
                }
                _ => return None,
            }
        }
    }
}

type Handler = fn(&Shared, Endpoint, &RecordedRequest) -> CannedResponse;

/// A response the server sends as is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CannedResponse {
    /// The HTTP status.
    pub status: u16,
    /// The body (sent with `Content-Type: application/json`, whatever it holds).
    pub body: String,
    /// Headers sent besides `Content-Type` and `Date` (for example `Location`).
    pub headers: Vec<(String, String)>,
}

impl CannedResponse {
    /// A JSON response.
    pub fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            body: body.to_string(),
            headers: Vec::new(),
        }
    }

    /// A redirect (`status` is a `3xx`) to `location`, as a misconfigured proxy or load balancer
    /// might answer. The clients under test must not follow it.
    pub fn redirect(status: u16, location: &str) -> Self {
        Self {
            status,
            body: String::new(),
            headers: vec![("Location".to_owned(), location.to_owned())],
        }
    }

    /// A Clerk API error: `{"errors":[{"code","message","long_message"}],"clerk_trace_id"}`.
    pub fn bapi_error(status: u16, code: &str, message: &str) -> Self {
        Self::json(
            status,
            &json!({
                "errors": [{"code": code, "message": message, "long_message": message, "meta": {}}],
                "clerk_trace_id": "emulator",
            }),
        )
    }

    /// A body that is not JSON (as a misconfigured proxy might send).
    pub fn garbage(status: u16) -> Self {
        Self {
            status,
            body: "<html><body>502 Bad Gateway</body></html>".to_owned(),
            headers: Vec::new(),
        }
    }
}

/// What `POST /v1/sessions/{sid}/refresh` answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshResponse {
    /// `200 {"cookies":[…]}` with these `Set-Cookie` directives.
    Cookies(Vec<String>),
    /// A Clerk error with this status and `errors[0].code`.
    Error {
        /// The HTTP status.
        status: u16,
        /// `errors[0].code`, for example `unexpected_error`.
        code: String,
    },
}

/// A request the server received (the `Authorization` header is not kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// The path parameters (e.g. `sid`).
    pub params: Vec<(String, String)>,
    /// The headers other than `Authorization`, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8).
    pub body: String,
    /// Whether the request carried the right bearer secret.
    pub authorized: bool,
}

impl RecordedRequest {
    /// The first query value named `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        find(&self.query, name)
    }

    /// The path parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        find(&self.params, name)
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        find(&self.headers, &name)
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
}

fn find<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[derive(Default)]
struct EndpointState {
    hits: usize,
    delay: Duration,
    canned: Option<CannedResponse>,
    last: Option<RecordedRequest>,
}

struct State {
    endpoints: HashMap<Endpoint, EndpointState>,
    keys: Vec<Value>,
    handshake: HashMap<String, Vec<String>>,
    refresh: RefreshResponse,
    machine: HashMap<(Endpoint, String), Value>,
    machine_secret: Option<String>,
    unrouted: usize,
    /// Seconds added to the `Date` header of every answer (a skewed server clock).
    clock_offset: i64,
}

struct Shared {
    secret: String,
    state: Mutex<State>,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn with_endpoint<R>(&self, endpoint: Endpoint, f: impl FnOnce(&mut EndpointState) -> R) -> R {
        f(self.lock().endpoints.entry(endpoint).or_default())
    }
}

/// A local Backend API emulator on `127.0.0.1:<ephemeral port>`; stops on drop.
/// See the [module documentation](self).
pub struct BackendApiServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
}

impl fmt::Debug for BackendApiServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendApiServer")
            .field("url", &self.url())
            .field("secret", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl BackendApiServer {
    /// Starts a server that accepts `secret` as its bearer secret key. It has no keys until
    /// [`set_keys`](Self::set_keys); the refresh endpoint answers `404` until programmed.
    pub fn start(secret: &str) -> io::Result<Self> {
        let server = tiny_http::Server::http("127.0.0.1:0").map_err(io::Error::other)?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| io::Error::other("the server is not listening on an IP address"))?;
        let shared = Arc::new(Shared {
            secret: secret.to_owned(),
            state: Mutex::new(State {
                endpoints: HashMap::new(),
                keys: Vec::new(),
                handshake: HashMap::new(),
                refresh: RefreshResponse::Error {
                    status: 404,
                    code: "resource_not_found".to_owned(),
                },
                machine: HashMap::new(),
                machine_secret: None,
                unrouted: 0,
                clock_offset: 0,
            }),
            stop: AtomicBool::new(false),
        });
        let acceptor_shared = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name("clerk-bapi-emulator".to_owned())
            .spawn(move || accept_loop(&server, &acceptor_shared))?;
        Ok(Self {
            shared,
            addr,
            acceptor: Some(acceptor),
        })
    }

    /// The base URL, `http://127.0.0.1:PORT` (use it as the API URL, with API version `v1`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The accepted bearer secret key.
    pub fn secret(&self) -> &str {
        &self.shared.secret
    }

    /// Replaces the key set served at `GET /v1/jwks` (a rotation); an empty list serves
    /// `{"keys":[]}`. Each key is a JWK object, e.g. from `KeyPair::jwk`.
    pub fn set_keys(&self, keys: Vec<Value>) {
        self.shared.lock().keys = keys;
    }

    /// Adds a key to the served key set.
    pub fn add_key(&self, key: Value) {
        self.shared.lock().keys.push(key);
    }

    /// Sets the directives `GET /v1/clients/handshake_payload?nonce=<nonce>` returns.
    pub fn set_handshake_payload(&self, nonce: &str, directives: Vec<String>) {
        self.shared
            .lock()
            .handshake
            .insert(nonce.to_owned(), directives);
    }

    /// Sets what `POST /v1/sessions/{sid}/refresh` answers (for any `sid`).
    pub fn set_refresh_response(&self, response: RefreshResponse) {
        self.shared.lock().refresh = response;
    }

    /// Makes the machine-token verify `endpoint` ([`Endpoint::M2mTokenVerify`],
    /// [`Endpoint::ApiKeyVerify`] or [`Endpoint::OAuthTokenVerify`]) answer `200` with `resource`
    /// (Clerk's snake_case JSON object) for `token`; other tokens get `404`.
    pub fn set_machine_token(&self, endpoint: Endpoint, token: &str, resource: Value) {
        self.shared
            .lock()
            .machine
            .insert((endpoint, token.to_owned()), resource);
    }

    /// Forgets `token` at the machine-token verify `endpoint`: it is answered `404` again (as
    /// Clerk's Backend API answers for a deleted token).
    pub fn remove_machine_token(&self, endpoint: Endpoint, token: &str) {
        self.shared
            .lock()
            .machine
            .remove(&(endpoint, token.to_owned()));
    }

    /// Makes `POST /m2m_tokens/verify` also accept `Bearer <machine_secret_key>` (Clerk's machine
    /// secret keys); `None` accepts the instance secret key only.
    pub fn set_machine_secret_key(&self, machine_secret_key: Option<&str>) {
        self.shared.lock().machine_secret = machine_secret_key.map(str::to_owned);
    }

    /// Options that use this server as their Backend API: its secret key and URL (add the
    /// publishable key and anything else).
    pub fn options_builder(&self) -> crate::OptionsBuilder {
        crate::Options::builder()
            .secret_key(self.secret())
            .api_url(self.url())
    }

    /// Shifts the `Date` header of every answer by `seconds` (positive: the emulated Backend API's
    /// clock is ahead of this machine's), to exercise the clock-skew detector.
    pub fn set_clock_offset(&self, seconds: i64) {
        self.shared.lock().clock_offset = seconds;
    }

    /// Delays every answer of `endpoint` by `delay` (zero to stop delaying).
    pub fn set_delay(&self, endpoint: Endpoint, delay: Duration) {
        self.shared.with_endpoint(endpoint, |e| e.delay = delay);
    }

    /// Makes `endpoint` answer `response` (after the secret check) instead of its normal
    /// answer; `None` restores the normal answer.
    pub fn respond_with(&self, endpoint: Endpoint, response: Option<CannedResponse>) {
        self.shared.with_endpoint(endpoint, |e| e.canned = response);
    }

    /// How many requests `endpoint` received (including rejected ones), since the start or
    /// the last [`reset_hits`](Self::reset_hits).
    pub fn hits(&self, endpoint: Endpoint) -> usize {
        self.shared.with_endpoint(endpoint, |e| e.hits)
    }

    /// Shorthand for `hits(Endpoint::Jwks)`.
    pub fn jwks_fetches(&self) -> usize {
        self.hits(Endpoint::Jwks)
    }

    /// Requests that matched no endpoint (answered `404`).
    pub fn unrouted_hits(&self) -> usize {
        self.shared.lock().unrouted
    }

    /// Sets every hit counter to zero.
    pub fn reset_hits(&self) {
        let mut state = self.shared.lock();
        state.unrouted = 0;
        for e in state.endpoints.values_mut() {
            e.hits = 0;
        }
    }

    /// The last request `endpoint` received.
    pub fn last_request(&self, endpoint: Endpoint) -> Option<RecordedRequest> {
        self.shared.with_endpoint(endpoint, |e| e.last.clone())
    }
}

impl Drop for BackendApiServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(server: &tiny_http::Server, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match server.recv_timeout(Duration::from_millis(20)) {
            Ok(Some(request)) => {
                let shared = Arc::clone(shared);
                let spawned = thread::Builder::new()
                    .name("clerk-bapi-emulator-request".to_owned())
                    .spawn(move || handle(&shared, request));
                if spawned.is_err() {
                    // Out of threads: the request is dropped (the client sees a closed connection).
                    continue;
                }
            }
            Ok(None) => {}
            // An accept error (e.g. too many open files): back off instead of spinning.
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

const MAX_REQUEST_BODY: u64 = 1024 * 1024;

fn handle(shared: &Shared, mut request: tiny_http::Request) {
    let url = request.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    let method = request.method().as_str().to_owned();
    let mut bearer = None;
    let mut headers = Vec::new();
    for h in request.headers() {
        let name = h.field.as_str().as_str().to_ascii_lowercase();
        let value = h.value.as_str().to_owned();
        if name == "authorization" {
            bearer = value.strip_prefix("Bearer ").map(str::to_owned);
        } else {
            headers.push((name, value));
        }
    }
    let mut raw = Vec::new();
    let _ = request
        .as_reader()
        .take(MAX_REQUEST_BODY)
        .read_to_end(&mut raw);

    let routed = Endpoint::ALL.iter().find_map(|&e| {
        if e.method() != method {
            return None;
        }
        e.match_path(path).map(|params| (e, params))
    });
    let Some((endpoint, params)) = routed else {
        shared.lock().unrouted += 1;
        respond(
            shared,
            request,
            &CannedResponse::bapi_error(404, "resource_not_found", "not found"),
        );
        return;
    };

    let authorized = bearer.as_deref().is_some_and(|b| {
        b == shared.secret
            || (endpoint == Endpoint::M2mTokenVerify
                && shared.lock().machine_secret.as_deref() == Some(b))
    });
    let recorded = RecordedRequest {
        method,
        path: path.to_owned(),
        query: form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        params,
        headers,
        body: String::from_utf8_lossy(&raw).into_owned(),
        authorized,
    };
    let (delay, canned) = shared.with_endpoint(endpoint, |e| {
        e.hits += 1;
        e.last = Some(recorded.clone());
        (e.delay, e.canned.clone())
    });

    let deadline = Instant::now() + delay;
    while Instant::now() < deadline {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        thread::sleep(
            deadline
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(10)),
        );
    }

    let response = if !authorized {
        CannedResponse::bapi_error(
            401,
            "clerk_key_invalid",
            "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.",
        )
    } else if let Some(canned) = canned {
        canned
    } else {
        (endpoint.handler())(shared, endpoint, &recorded)
    };
    respond(shared, request, &response);
}

fn respond(shared: &Shared, request: tiny_http::Request, response: &CannedResponse) {
    let mut out =
        tiny_http::Response::from_string(response.body.clone()).with_status_code(response.status);
    if let Ok(h) = tiny_http::Header::from_bytes("Content-Type", "application/json") {
        out.add_header(h);
    }
    for (name, value) in &response.headers {
        if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            out.add_header(h);
        }
    }
    let offset = shared.lock().clock_offset;
    let now = SystemTime::now();
    let date = if offset >= 0 {
        now.checked_add(Duration::from_secs(offset.unsigned_abs()))
    } else {
        now.checked_sub(Duration::from_secs(offset.unsigned_abs()))
    };
    if let Some(h) = date.and_then(|d| {
        tiny_http::Header::from_bytes("Date", httpdate::fmt_http_date(d).as_bytes()).ok()
    }) {
        out.add_header(h);
    }
    // The client may have given up (a timeout test): ignore write errors.
    let _ = request.respond(out);
}

fn handle_jwks(shared: &Shared, _: Endpoint, _req: &RecordedRequest) -> CannedResponse {
    let keys = shared.lock().keys.clone();
    CannedResponse::json(200, &json!({ "keys": keys }))
}

fn handle_handshake_payload(shared: &Shared, _: Endpoint, req: &RecordedRequest) -> CannedResponse {
    let directives = req
        .query_param("nonce")
        .and_then(|nonce| shared.lock().handshake.get(nonce).cloned());
    match directives {
        Some(directives) => CannedResponse::json(200, &json!({ "directives": directives })),
        None => {
            CannedResponse::bapi_error(404, "resource_not_found", "Handshake payload not found")
        }
    }
}

fn handle_session_refresh(shared: &Shared, _: Endpoint, _req: &RecordedRequest) -> CannedResponse {
    match shared.lock().refresh.clone() {
        RefreshResponse::Cookies(cookies) => {
            CannedResponse::json(200, &json!({ "cookies": cookies }))
        }
        RefreshResponse::Error { status, code } => {
            CannedResponse::bapi_error(status, &code, "Session refresh failed")
        }
    }
}

fn handle_machine_verify(
    shared: &Shared,
    endpoint: Endpoint,
    req: &RecordedRequest,
) -> CannedResponse {
    let (field, what) = match endpoint {
        Endpoint::ApiKeyVerify => ("secret", "API key"),
        Endpoint::OAuthTokenVerify => ("access_token", "OAuth token"),
        _ => ("token", "Machine token"),
    };
    let token = req
        .json()
        .and_then(|b| b.get(field).and_then(Value::as_str).map(str::to_owned));
    let resource = token.and_then(|t| shared.lock().machine.get(&(endpoint, t)).cloned());
    match resource {
        Some(resource) => CannedResponse::json(200, &resource),
        None => CannedResponse::bapi_error(404, "resource_not_found", &format!("{what} not found")),
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}
