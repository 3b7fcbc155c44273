//! A real axum server on 127.0.0.1:0 running a small app behind `ClerkLayer`, and a key set on
//! loopback whose fetches the test holds and releases. The client is
//! `clerk_auth_vectors::client`.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::http::StatusCode;
use axum::middleware::from_extractor;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use clerk_auth_axum::{AuthState, ClerkLayer, SignedIn};
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::{Has, Options, OptionsBuilder};
use serde_json::{json, Value};
use tokio::sync::Semaphore;

pub const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";

/// Options verifying with the PEM of `keys` (networkless).
pub fn pem_options(keys: &KeyPair) -> OptionsBuilder {
    Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key("sk_live_adapter_tests")
        .jwt_key(keys.public_pem())
        .api_url("http://127.0.0.1:9")
}

/// A session token of `keys` for `user_2axum`, valid for ten minutes.
pub fn token(keys: &KeyPair) -> String {
    TokenMinter::new(keys)
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(600))
        .subject("user_2axum")
        .mint()
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn me(user: SignedIn) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "application/json")],
        user.auth_json_string(),
    )
}

async fn admin(user: SignedIn) -> Response {
    if user.has(&Has::role("org:admin")) {
        Json(user.auth_json()).into_response()
    } else {
        (StatusCode::FORBIDDEN, Json(json!({"status": "forbidden"}))).into_response()
    }
}

async fn optional(user: Option<SignedIn>) -> String {
    match user {
        Some(user) => format!("some {}", user.user_id().unwrap_or("machine")),
        None => "none".to_owned(),
    }
}

async fn public(auth: AuthState) -> Html<String> {
    Html(match auth.session().and_then(|s| s.user_id.as_deref()) {
        Some(user) if auth.is_signed_in() => format!("signed-in {user}"),
        _ => "signed-out".to_owned(),
    })
}

async fn status(auth: AuthState) -> String {
    auth.status().to_string()
}

/// A handler that sets its own cookie and caching.
async fn cookie(auth: AuthState) -> impl IntoResponse {
    let body = format!("signed-in {}", auth.is_signed_in());
    (
        [(SET_COOKIE, "app=1"), (CACHE_CONTROL, "public, max-age=60")],
        body,
    )
}

async fn no_store(auth: AuthState) -> impl IntoResponse {
    let body = format!("signed-in {}", auth.is_signed_in());
    ([(CACHE_CONTROL, "no-store")], body)
}

/// The app, every route any method:
/// - behind `ClerkLayer`: `/api/me` (`SignedIn`), `/api/admin` (`SignedIn` + `has`),
///   `/api/optional` (`Option<SignedIn>`), `/cookie` (its own `set-cookie` and
///   `Cache-Control: public, max-age=60`), `/no-store`, `/group/*` (protected as a group by
///   `from_extractor::<SignedIn>`, handlers that take nothing), every other path the public page
///   (`AuthState`);
/// - behind `ClerkLayer::api()`, side by side: `/v1/api/me`, `/v1/api/optional`, `/v1/state`;
/// - behind both (an API layer inside the page layer): `/nested/me`;
/// - behind none: `/bare/me`, `/bare/state`, `/bare/optional`.
pub fn app(options: Options) -> Router {
    let group = Router::new()
        .route("/group/a", any(|| async { "group a" }))
        .route("/group/b", any(|| async { "group b" }))
        .route_layer(from_extractor::<SignedIn>());
    let nested = Router::new()
        .route("/nested/me", any(me))
        .layer(ClerkLayer::new(options.clone()).api());
    let pages = Router::new()
        .route("/api/me", any(me))
        .route("/api/admin", any(admin))
        .route("/api/optional", any(optional))
        .route("/cookie", any(cookie))
        .route("/no-store", any(no_store))
        .merge(group)
        .merge(nested)
        .fallback(public)
        .layer(ClerkLayer::new(options.clone()));
    let api = Router::new()
        .route("/v1/api/me", any(me))
        .route("/v1/api/optional", any(optional))
        .route("/v1/state", any(status))
        .layer(ClerkLayer::new(options).api());
    let bare = Router::new()
        .route("/bare/me", get(me))
        .route("/bare/state", get(status))
        .route("/bare/optional", get(optional));
    pages.merge(api).merge(bare)
}

pub struct Server {
    pub base: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves [`app`] on a runtime with ONE worker thread, so a blocked executor would show.
    pub fn start(options: Options) -> Self {
        Self::serve(app(options), Some(1))
    }

    /// Serves `router` with `workers` worker threads (tokio's default when `None`).
    pub fn serve(router: Router, workers: Option<usize>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let mut rt = tokio::runtime::Builder::new_multi_thread();
            if let Some(workers) = workers {
                rt.worker_threads(workers);
            }
            let rt = rt.enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Self {
            base,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Clerk's key set (`GET /v1/jwks`) on loopback, answering the first `free` fetches at once and
/// holding every later one until the test [`release`](Self::release)s it: a fetch in flight for
/// as long as the test needs, without a timer.
pub struct HeldKeySet {
    pub url: String,
    state: Arc<KeySetState>,
    arrived: Mutex<mpsc::Receiver<usize>>,
    _server: Server,
}

struct KeySetState {
    keys: Mutex<Vec<Value>>,
    fetches: AtomicUsize,
    free: usize,
    gate: Semaphore,
    arrived: Mutex<mpsc::Sender<usize>>,
}

impl HeldKeySet {
    /// Serves `keys`; the first `free` fetches are answered at once.
    pub fn start(keys: Vec<Value>, free: usize) -> Self {
        let (tx, arrived) = mpsc::channel();
        let state = Arc::new(KeySetState {
            keys: Mutex::new(keys),
            fetches: AtomicUsize::new(0),
            free,
            gate: Semaphore::new(0),
            arrived: Mutex::new(tx),
        });
        let served = Arc::clone(&state);
        let router = Router::new().route(
            "/v1/jwks",
            get(move || {
                let state = Arc::clone(&served);
                async move {
                    let n = state.fetches.fetch_add(1, Ordering::SeqCst) + 1;
                    let _ = state.arrived.lock().unwrap().send(n);
                    if n > state.free {
                        state.gate.acquire().await.unwrap().forget();
                    }
                    let keys = state.keys.lock().unwrap().clone();
                    Json(json!({ "keys": keys }))
                }
            }),
        );
        let server = Server::serve(router, Some(1));
        Self {
            url: server.base.clone(),
            state,
            arrived: Mutex::new(arrived),
            _server: server,
        }
    }

    /// Options fetching this key set (a fetch may be held: generous timeouts).
    pub fn options(&self) -> OptionsBuilder {
        Options::builder()
            .publishable_key(PK_LIVE)
            .secret_key("sk_live_held_key_set")
            .api_url(&self.url)
            .jwks_kid_miss_cooldown(Duration::ZERO)
            .jwks_timeout(Duration::from_secs(30))
            .jwks_fetch_budget(Duration::from_secs(31))
    }

    pub fn add_key(&self, key: Value) {
        self.state.keys.lock().unwrap().push(key);
    }

    /// Fetches so far (answered or held).
    pub fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }

    /// Waits until fetch number `n` has arrived (it may be held).
    pub fn wait_for_fetch(&self, n: usize) {
        let arrived = self.arrived.lock().unwrap();
        while self.fetches() < n {
            arrived
                .recv_timeout(Duration::from_secs(20))
                .expect("the fetch never arrived");
        }
    }

    /// Lets every held fetch, and all later ones, through.
    pub fn release(&self) {
        self.state.gate.add_permits(Semaphore::MAX_PERMITS / 2);
    }
}
