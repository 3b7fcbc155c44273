//! Clerk request authentication for actix-web 4: a thin adapter over [`clerk_auth_core`].
//!
//! - [`ClerkAuth`], the middleware, decides every request once (exactly as Clerk's backend SDK
//!   does), answers handshake redirects (`307` with all the state's headers) and undecidable
//!   requests (`500` JSON) itself, and adds the state's headers (`set-cookie` from a handshake
//!   or refresh, debug headers) to every other response.
//! - [`SignedIn`] requires a signed-in request (`401` JSON when signed out, `503` when the keys
//!   could not be obtained); `Option<SignedIn>` is `None` instead; [`AuthState`] never refuses.
//!   All three deref to the core's [`RequestState`](clerk_auth_core::RequestState)
//!   (`user_id()`, `org_id()`, `has(..)`, `session()`, `machine()`, `auth_json()`, …).
//! - [`Require`] requires a role, permission, feature, plan or recent verification on a scope or
//!   resource (`403` `{"status":"forbidden"}`, or Clerk's reverification error).
//! - [`ClerkWebhook`] extracts a Clerk webhook whose Svix signature it verified with the app's
//!   [`WebhookVerifier`](clerk_auth_core::webhook::WebhookVerifier) (`400` JSON otherwise).
//!
//! # Quick start
//!
//! ```no_run
//! use actix_web::{web, App, HttpResponse, HttpServer};
//! use clerk_auth_actix::clerk_auth_core::Has;
//! use clerk_auth_actix::{AuthState, ClerkAuth, Require, SignedIn};
//!
//! async fn me(user: SignedIn) -> HttpResponse {
//!     HttpResponse::Ok().json(user.auth_json())
//! }
//!
//! // Behind `Require`: runs only for an `org:admin` (403 otherwise).
//! async fn admin(user: SignedIn) -> HttpResponse {
//!     HttpResponse::Ok().body(format!("welcome, admin of {:?}", user.org_slug()))
//! }
//!
//! async fn home(auth: AuthState) -> String {
//!     format!("signed in: {}", auth.is_signed_in())
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // clerk-auth logs through `tracing`: the self-check's findings, key-set outages, warnings.
//!     tracing_subscriber::fmt()
//!         .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
//!         .init();
//!     // CLERK_SECRET_KEY, CLERK_PUBLISHABLE_KEY, … A bad configuration fails here.
//!     let clerk = ClerkAuth::from_env()?;
//!     // Fetches the key set now; a secret key Clerk refuses stops here, warnings are logged.
//!     let report = clerk_auth_actix::self_check(clerk.options()).await?;
//!     if !report.is_ok() {
//!         eprintln!("{report}");
//!         std::process::exit(1);
//!     }
//!     HttpServer::new(move || {
//!         App::new()
//!             .wrap(clerk.clone())
//!             .route("/api/me", web::get().to(me))
//!             .service(
//!                 web::resource("/admin")
//!                     .wrap(Require::new(Has::role("org:admin")))
//!                     .to(admin),
//!             )
//!             .default_service(web::to(home))
//!     })
//!     .bind(("127.0.0.1", 3000))?
//!     .run()
//!     .await?;
//!     Ok(())
//! }
//! ```
//!
//! # Self-check at startup
//!
//! Before the server starts, [`self_check`](fn@self_check)`(clerk.options()).await` runs the
//! core's [self-check](mod@clerk_auth_core::self_check) on actix's blocking pool: it proves the
//! configuration, fetches Clerk's key set (so the first requests find the keys cached) and logs
//! each finding through `tracing`, naming the environment variable to fix. Only what makes
//! authentication impossible is an error ([`SelfCheckReport::is_ok`] is `false`; a secret key the
//! Backend API refuses, say): do not start. Anything else is a warning: start; the key set is
//! retried in the background. The quick start above shows the call; the findings are `tracing`
//! events, seen through a subscriber (the quick start installs `tracing-subscriber`'s).
//!
//! # API routes
//!
//! Wrap a JSON API's scope with [`ClerkAuth::api`] (`ClerkAuth::new(options).api()`) instead of
//! the plain middleware: it never redirects, even a document request; a request that would get
//! the handshake is signed out instead, and [`SignedIn`] refuses it with `401`,
//! `WWW-Authenticate: Bearer error="invalid_token"` and the JSON body (a key-set outage stays
//! `503`). Put the API scope and the pages' scope side by side, each with its own middleware.
//!
//! # Guides
//!
//! [Getting started with actix-web][getting-started] (step by step, with the dependency block to
//! copy), [the auth object and authorization][auth-object], [webhooks][webhooks],
//! [testing your handlers][testing] and [troubleshooting][troubleshooting]: the guides are in the
//! [repository's `docs/`](https://github.com/clerk-auth/clerk-auth/tree/main/docs).
//!
//! [getting-started]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/getting-started-actix.md
//! [auth-object]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/auth-object.md
//! [webhooks]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/webhooks.md
//! [testing]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/testing.md
//! [troubleshooting]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/troubleshooting.md
//!
//! # Features
//!
//! None of its own. actix-web is used with `default-features = false, features = ["macros"]`;
//! enable the actix-web features your app needs in your own `Cargo.toml`.
//!
//! # Blocking
//!
//! The decision runs inline when it needs no network IO (a PEM key, keys already cached, no
//! token). When it needs a key-set fetch, a handshake nonce or a server-side refresh, the request
//! is copied once and decided on actix's blocking thread pool (`web::block`): a worker never
//! blocks on IO, and other requests keep being served while a fetch is in flight.
//!
//! # Security notes
//!
//! - Wrap every route that uses an extractor: without the middleware, [`SignedIn`] and
//!   [`AuthState`] answer `500` ([`ClerkAuthError::MiddlewareMissing`]) and
//!   `Option<SignedIn>` is `None`; a request is never treated as signed in by accident.
//! - Tokens and keys are never logged and never appear in a response body.
//! - The debug headers (`x-clerk-auth-status`, `-reason`, `-message`) are on by default and
//!   tell a client why it is signed out; turn them off with
//!   `Options::builder().debug_headers(false)` if you prefer not to.
//! - Like Clerk's SDKs, the core trusts `x-forwarded-host` / `x-forwarded-proto` for the request's
//!   public URL (handshake redirects, origin checks): run behind a proxy that sets or strips them.

mod error;
mod extract;
mod middleware;
mod require;
mod self_check;
mod webhook;

pub use clerk_auth_core;
pub use clerk_auth_core::SelfCheckReport;
pub use error::ClerkAuthError;
pub use extract::{AuthState, SignedIn};
pub use middleware::{ActixRequest, ClerkAuth, ClerkAuthMiddleware};
pub use require::{Require, RequireMiddleware};
pub use self_check::self_check;
pub use webhook::{ClerkWebhook, ClerkWebhookError};

// The actix-web guide in `docs/` is compiled as a doctest of this crate.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/getting-started-actix.md")]
struct GettingStartedActixDoc;
