//! Clerk request authentication for warp: filters over [`clerk_auth_core`].
//!
//! The core decides everything (signed in, signed out with Clerk's reason, or a handshake); this
//! crate hands warp's request to it and turns the decision into replies:
//!
//! - [`auth_state`] extracts an [`AuthState`] (never rejects a signed-out request);
//! - [`signed_in`] extracts [`SignedIn`] or rejects with [`ClerkRejection::Unauthorized`];
//!   [`optional_signed_in`] extracts `Option<SignedIn>`;
//! - [`recover`] answers our rejections: `307` with the state's headers for a handshake, `401` or
//!   `503` with Clerk's JSON `{"status","reason","message"}` on a protected route, `500` for a
//!   request that cannot be decided. It hands every other rejection back unchanged;
//! - [`with_auth`] wraps your whole route tree: every reply gets the state's headers
//!   (`set-cookie` from a handshake or a refresh, the debug headers), and the rejections left
//!   unanswered are recovered; [`AuthState::reply`] / [`SignedIn::reply`] do it for one reply;
//! - [`require`] extracts [`SignedIn`] for a request with a role, permission, feature, plan or
//!   recent verification, or rejects (`403` `{"status":"forbidden"}`, or Clerk's reverification
//!   error);
//! - [`webhook()`](fn@webhook) extracts a Clerk webhook whose Svix signature it verified with a
//!   [`WebhookVerifier`](clerk_auth_core::webhook::WebhookVerifier), or rejects with a
//!   [`ClerkWebhookError`] (`400` JSON from [`recover`]).
//!
//! # Quick start
//!
//! ```no_run
//! use clerk_auth_core::{Has, Options};
//! use clerk_auth_warp::{auth_state, recover, require, signed_in, with_auth, AuthState, SignedIn};
//! use warp::Filter;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // clerk-auth logs through `tracing`: the self-check's findings, key-set outages, warnings.
//!     tracing_subscriber::fmt()
//!         .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
//!         .init();
//!     // CLERK_SECRET_KEY, CLERK_PUBLISHABLE_KEY, ...: a missing or bad key fails here, at start-up.
//!     let options = Options::from_env()?;
//!     // Fetches the key set now; a secret key Clerk refuses stops here, warnings are logged.
//!     let report = clerk_auth_warp::self_check(&options).await?;
//!     if !report.is_ok() {
//!         eprintln!("{report}");
//!         std::process::exit(1);
//!     }
//!
//!     // Protected: 200 for a signed-in request, 401/503 JSON (from `recover`) otherwise.
//!     let me = warp::path!("api" / "me")
//!         .and(signed_in(options.clone()))
//!         .map(|user: SignedIn| warp::reply::json(&user.user_id()));
//!     // Authorized: 403 without the role.
//!     let admin = warp::path!("api" / "org-admin")
//!         .and(require(options.clone(), Has::role("org:admin")))
//!         .map(|user: SignedIn| warp::reply::json(&user.auth_json()));
//!     // Public: runs for everyone, says who is signed in.
//!     let home = auth_state(options).map(|auth: AuthState| {
//!         if auth.is_signed_in() { "signed in" } else { "signed out" }
//!     });
//!
//!     // `recover` right after the protected routes: a refused `/api/me` is answered 401 there,
//!     // instead of falling through to the public route. `with_auth` puts the state's headers
//!     // (a refresh's `set-cookie`) on every reply.
//!     let routes = with_auth(me.or(admin).recover(recover).or(home));
//!
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     warp::serve(routes).incoming(listener).run().await;
//!     Ok(())
//! }
//! ```
//!
//! # Self-check at startup
//!
//! Before serving, [`self_check`](fn@self_check)`(&options).await` runs the core's
//! [self-check](mod@clerk_auth_core::self_check) on tokio's blocking pool: it proves the
//! configuration, fetches Clerk's key set (so the first requests find the keys cached) and logs
//! each finding through `tracing`, naming the environment variable to fix. Only what makes
//! authentication impossible is an error ([`SelfCheckReport::is_ok`] is `false`; a secret key the
//! Backend API refuses, say): do not serve. Anything else is a warning: serve; the key set is
//! retried in the background. The quick start above shows the call; the findings are `tracing`
//! events, seen through a subscriber (the quick start installs `tracing-subscriber`'s).
//!
//! # How it runs
//!
//! The decision runs on the executor and never blocks: when it needs network IO (fetching
//! Clerk's key set on a cold cache or an unknown `kid`, a handshake nonce, a server-side refresh),
//! and only then, it moves to tokio's blocking pool (`spawn_blocking`). Requests whose keys are
//! cached never wait on a fetch.
//!
//! Each filter decides when it is reached: put path and method filters first, and use one
//! clerk-auth filter per route. warp 0.4 gives filters no borrowed access to the request, so the
//! adapter clones the header map once per decision (reference-counted values, not the bytes).
//!
//! # Routing and rejections
//!
//! warp tries the next route of an `or` when one rejects. A refused protected route must
//! therefore be answered before a catch-all route can take the request: apply
//! `.recover(clerk_auth_warp::recover)` to the protected routes before `or`-ing the public ones
//! (as above), or have every route run an [`auth_state`]-based filter. An unrecovered
//! [`ClerkRejection`] is answered `500` by warp.
//!
//! # API routes
//!
//! The filters of [`api`] (`api::signed_in`, `api::optional_signed_in`, `api::auth_state`,
//! `api::require`) never lead to a redirect, even for a document request: a request that would
//! get the handshake is signed out instead, and [`recover`] answers a refused `api::signed_in` with `401`,
//! `WWW-Authenticate: Bearer error="invalid_token"` and the JSON body (a key-set outage stays
//! `503`). Use them on JSON APIs; pages keep the handshake.
//!
//! # Guides
//!
//! [Getting started with warp][getting-started] (step by step, with the dependency block to
//! copy), [the auth object and authorization][auth-object], [webhooks][webhooks],
//! [testing your handlers][testing] and [troubleshooting][troubleshooting]: the guides are in the
//! [repository's `docs/`](https://github.com/clerk-auth/clerk-auth/tree/main/docs).
//!
//! [getting-started]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/getting-started-warp.md
//! [auth-object]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/auth-object.md
//! [webhooks]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/webhooks.md
//! [testing]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/testing.md
//! [troubleshooting]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/troubleshooting.md
//!
//! # Features
//!
//! None of its own. Serving needs warp's `server` feature (warp 0.4 moved `warp::serve` behind
//! it). The test kit (key pair, token minter, Backend API emulator) is
//! `clerk-auth-core`'s `testing` feature.
//!
//! # Security notes
//!
//! - Tokens and keys are never logged, and the rejection bodies never contain them.
//! - The debug headers (`x-clerk-auth-status`, `-reason`, `-message`) say why a request is signed
//!   out. They are on by default, as in Clerk's SDKs; turn them off with
//!   `Options::builder().debug_headers(false)`.
//! - The request URL is resolved against the `Host` header with the `http` scheme unless
//!   `x-forwarded-proto` says otherwise: behind TLS termination, have the proxy set it (it decides
//!   the handshake's redirect URL and the cross-origin checks).
//! - Wrap the route tree with [`with_auth`] (or answer every reply with [`AuthState::reply`] /
//!   [`SignedIn::reply`]): a handshake or a refresh sets cookies the browser needs.

pub mod api;
mod filter;
mod reply;
mod self_check;
mod webhook;
mod wrap;

pub use clerk_auth_core::SelfCheckReport;
pub use filter::{auth_state, optional_signed_in, require, signed_in};
pub use reply::{recover, AuthReply, AuthState, ClerkRejection, SignedIn};
pub use self_check::self_check;
pub use webhook::{webhook, ClerkWebhookError};
pub use wrap::with_auth;

// The warp guide in `docs/` is compiled as a doctest of this crate.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/getting-started-warp.md")]
struct GettingStartedWarpDoc;
