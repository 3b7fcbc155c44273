//! Clerk request authentication for axum 0.8 and any tower service: a thin adapter over
//! [`clerk_auth_core`].
//!
//! - [`ClerkLayer`], a tower [`Layer`](tower::Layer), decides every request once (exactly as
//!   Clerk's backend SDK does), answers handshake redirects (`307` with all the state's headers)
//!   and undecidable requests (`500` JSON) itself, stores the decision in the request extensions
//!   and adds the state's headers (`set-cookie` from a handshake or refresh, debug headers) to
//!   every other response.
//! - [`SignedIn`] requires a signed-in request (`401` JSON when signed out, `503` when the keys
//!   could not be obtained); `Option<SignedIn>` is `None` instead; [`AuthState`] never refuses.
//!   All three deref to the core's [`RequestState`](clerk_auth_core::RequestState)
//!   (`user_id()`, `org_id()`, `has(..)`, `session()`, `machine()`, `auth_json()`, …).
//! - [`RequireLayer`], a route layer, requires a role, permission, feature, plan or recent
//!   verification (`403` `{"status":"forbidden"}`, or Clerk's reverification error).
//! - [`ClerkWebhook`] extracts a Clerk webhook whose Svix signature it verified with the router
//!   state's [`WebhookVerifier`](clerk_auth_core::webhook::WebhookVerifier) (`400` JSON
//!   otherwise).
//!
//! # Quick start
//!
//! ```no_run
//! use axum::routing::get;
//! use axum::{Json, Router};
//! use clerk_auth_axum::clerk_auth_core::Has;
//! use clerk_auth_axum::{AuthState, ClerkLayer, RequireLayer, SignedIn};
//!
//! // Protected: a signed-out request never gets here (401 JSON, or 503 when Clerk's keys are
//! // unreachable).
//! async fn me(user: SignedIn) -> Json<serde_json::Value> {
//!     Json(user.auth_json())
//! }
//!
//! // Behind the `RequireLayer` of its route: runs only for an `org:admin` (403 otherwise).
//! async fn admin(user: SignedIn) -> String {
//!     format!("welcome, admin of {:?}", user.org_slug())
//! }
//!
//! // Optional: `None` for a signed-out visitor.
//! async fn hello(user: Option<SignedIn>) -> String {
//!     format!("hello {}", user.as_ref().and_then(|u| u.user_id()).unwrap_or("stranger"))
//! }
//!
//! // Public: runs for everyone.
//! async fn home(auth: AuthState) -> String {
//!     format!("signed in: {}", auth.is_signed_in())
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // clerk-auth logs through `tracing`: the self-check's findings, key-set outages, warnings.
//!     tracing_subscriber::fmt()
//!         .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
//!         .init();
//!     // CLERK_SECRET_KEY, CLERK_PUBLISHABLE_KEY, … A bad configuration fails here.
//!     let clerk = ClerkLayer::from_env()?;
//!     // Fetches the key set now; a secret key Clerk refuses stops here, warnings are logged.
//!     let report = clerk_auth_axum::self_check(clerk.options()).await?;
//!     if !report.is_ok() {
//!         eprintln!("{report}");
//!         std::process::exit(1);
//!     }
//!
//!     let admin = Router::new()
//!         .route("/admin", get(admin))
//!         .route_layer(RequireLayer::new(Has::role("org:admin")));
//!     let app = Router::new()
//!         .route("/api/me", get(me))
//!         .merge(admin)
//!         .route("/hello", get(hello))
//!         .fallback(home)
//!         .layer(clerk);
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! # Protecting a group of routes
//!
//! The layer refuses nothing by itself: a handler is protected when it takes [`SignedIn`]. To
//! protect every route of a router whatever its handlers take, add axum's
//! `middleware::from_extractor::<SignedIn>()` as a route layer inside the `ClerkLayer`:
//!
//! ```no_run
//! use axum::middleware::from_extractor;
//! use axum::routing::get;
//! use axum::Router;
//! use clerk_auth_axum::{ClerkLayer, SignedIn};
//!
//! fn app(clerk: ClerkLayer) -> Router {
//!     let dashboard = Router::new()
//!         .route("/dashboard", get(|| async { "only signed-in users see this" }))
//!         .route("/settings", get(|| async { "and this" }))
//!         .route_layer(from_extractor::<SignedIn>());
//!     Router::new()
//!         .merge(dashboard)
//!         .route("/", get(|| async { "everyone sees this" }))
//!         .layer(clerk)
//! }
//! ```
//!
//! # Any tower service
//!
//! [`ClerkLayer`] wraps any `Service<http::Request<B>>` whose response body is an
//! [`http_body::Body`] of [`Bytes`](bytes::Bytes) (hyper, tonic, tower-based frameworks); the
//! decision is in the request extensions as an [`AuthState`]. With hyper alone:
//!
//! ```no_run
//! use std::convert::Infallible;
//!
//! use bytes::Bytes;
//! use clerk_auth_axum::{AuthState, ClerkLayer};
//! use http_body_util::Full;
//! use hyper::body::Incoming;
//! use hyper_util::rt::TokioIo;
//! use hyper_util::service::TowerToHyperService;
//! use tower::Layer;
//!
//! async fn hello(request: http::Request<Incoming>) -> Result<http::Response<Full<Bytes>>, Infallible> {
//!     // Always there behind the layer.
//!     let auth = request.extensions().get::<AuthState>();
//!     let user = auth.and_then(|auth| auth.signed_in());
//!     let text = match user.as_ref().and_then(|user| user.user_id()) {
//!         Some(id) => format!("hello {id}"),
//!         None => "hello stranger".to_owned(),
//!     };
//!     Ok(http::Response::new(Full::new(Bytes::from(text))))
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let service = ClerkLayer::from_env()?.layer(tower::service_fn(hello));
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     loop {
//!         let (stream, _) = listener.accept().await?;
//!         let service = TowerToHyperService::new(service.clone());
//!         tokio::spawn(async move {
//!             let http = hyper::server::conn::http1::Builder::new();
//!             let _ = http.serve_connection(TokioIo::new(stream), service).await;
//!         });
//!     }
//! }
//! ```
//!
//! # Self-check at startup
//!
//! Before serving, [`self_check`](fn@self_check)`(clerk.options()).await` runs the core's
//! [self-check](mod@clerk_auth_core::self_check) on tokio's blocking pool: it proves the
//! configuration, fetches Clerk's key set (so the first requests find the keys cached) and logs
//! each finding through `tracing`, naming the environment variable to fix. Only what makes
//! authentication impossible is an error ([`SelfCheckReport::is_ok`] is `false`; a secret key the
//! Backend API refuses, say): do not serve. Anything else is a warning: serve; the key set is
//! retried in the background. The quick start above shows the call; the findings are `tracing`
//! events, seen through a subscriber (the quick start installs `tracing-subscriber`'s).
//!
//! # API routes
//!
//! Give a JSON API's router [`ClerkLayer::api`] (`ClerkLayer::new(options).api()`) instead of
//! the plain layer: it never redirects, even a document request; a request that would get the
//! handshake is signed out instead, and [`SignedIn`] refuses it with `401`,
//! `WWW-Authenticate: Bearer error="invalid_token"` and the JSON body (a key-set outage stays
//! `503`). Put the API router and the pages' router side by side (`merge`), each with its own
//! layer: a layer inside another one does not decide again.
//!
//! # How it runs
//!
//! The decision runs inline when it needs no network IO (a PEM key, keys already cached, no
//! token). When it needs a key-set fetch, a handshake nonce or a server-side refresh, the request
//! is copied once and decided on tokio's blocking pool (`spawn_blocking`): an executor thread
//! never blocks on IO, and other requests keep being served while a fetch is in flight. The
//! layer needs a tokio runtime for that (axum's and hyper-util's servers run on one); polled
//! elsewhere, such a request is answered `500`.
//!
//! # Guides
//!
//! [Getting started with axum][getting-started] (step by step, with the dependency block to
//! copy), [the auth object and authorization][auth-object], [webhooks][webhooks],
//! [testing your handlers][testing] and [troubleshooting][troubleshooting]: the guides are in the
//! [repository's `docs/`](https://github.com/clerk-auth/clerk-auth/tree/main/docs).
//!
//! [getting-started]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/getting-started-axum.md
//! [auth-object]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/auth-object.md
//! [webhooks]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/webhooks.md
//! [testing]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/testing.md
//! [troubleshooting]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/troubleshooting.md
//!
//! # Features
//!
//! None of its own. The crate depends on `axum-core` (the extractor traits), not on `axum`
//! itself, so a tower stack without axum pulls no router. The test kit (key pair, token minter,
//! Backend API emulator) is `clerk-auth-core`'s `testing` feature.
//!
//! # Security notes
//!
//! - Wrap every route that uses an extractor: without the layer, [`SignedIn`], `Option<SignedIn>`
//!   and [`AuthState`] answer `500` ([`ClerkRejection::LayerMissing`]); a request is never treated
//!   as signed in, or signed out, by accident.
//! - Tokens and keys are never logged and never appear in a response body.
//! - The debug headers (`x-clerk-auth-status`, `-reason`, `-message`) are on by default and
//!   tell a client why it is signed out; turn them off with
//!   `Options::builder().debug_headers(false)` if you prefer not to.
//! - Like Clerk's SDKs, the core trusts `x-forwarded-host` / `x-forwarded-proto` for the request's
//!   public URL (handshake redirects, origin checks): run behind a proxy that sets or strips them.

#![warn(missing_docs)]

mod extract;
mod layer;
mod rejection;
mod require;
mod self_check;
mod webhook;

pub use clerk_auth_core;
pub use clerk_auth_core::SelfCheckReport;
pub use extract::{AuthState, SignedIn};
pub use layer::{ClerkLayer, ClerkService};
pub use rejection::ClerkRejection;
pub use require::{RequireLayer, RequireService};
pub use self_check::self_check;
pub use webhook::{ClerkWebhook, ClerkWebhookError};

// The axum guide in `docs/` is compiled as a doctest of this crate.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/getting-started-axum.md")]
struct GettingStartedAxumDoc;
