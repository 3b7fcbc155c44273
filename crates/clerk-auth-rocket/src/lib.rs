//! Clerk request authentication for Rocket 0.5: a fairing and request guards over
//! [`clerk_auth_core`].
//!
//! - [`ClerkAuth`], a fairing: manages the [`Options`], decides every request once (signed in,
//!   signed out with Clerk's reason, or a handshake) and writes the result onto the response:
//!   a `307` redirect with all the state's headers when the state carries `location`, a `500`
//!   JSON error when the request cannot be decided, otherwise the state's headers (`set-cookie`,
//!   the `x-clerk-auth-*` debug headers) added to the application's response.
//! - [`SignedIn`], a request guard for protected routes: refuses with `401` (signed out) or `503`
//!   (the keys could not be obtained) and the JSON body `{"status","reason","message"}`.
//!   `Option<SignedIn>` gives `None` instead of refusing.
//! - [`AuthState`], a request guard that never refuses: the state, whatever it is.
//! - [`Require<R>`](Require), a request guard requiring the role, permission, feature, plan or
//!   recent verification a [`Requirement`] type names (`403` otherwise).
//! - [`ClerkWebhook`], a data guard: a Clerk webhook whose Svix signature it verified with the
//!   managed [`WebhookVerifier`](clerk_auth_core::webhook::WebhookVerifier) (`400` JSON
//!   otherwise, through [`ClerkWebhookError`]).
//!
//! The guards dereference to the core's [`RequestState`]: `user_id()`, `session_id()`,
//! `org_id()`, `org_role()`, `org_slug()`, `has(...)`, `session()`, `machine()`, `status()`,
//! `reason()`, `auth_json()`, the same calls as in the actix-web and warp adapters.
//!
//! # Quick start
//!
//! ```no_run
//! use clerk_auth_core::Has;
//! use clerk_auth_rocket::{AuthState, ClerkAuth, Require, Requirement, SignedIn};
//! use rocket::{get, routes};
//!
//! #[get("/api/me")]
//! fn me(auth: SignedIn<'_>) -> String {
//!     auth.auth_json().to_string()
//! }
//!
//! /// What `/admin` requires, named by a type for the `Require` guard.
//! struct OrgAdmin;
//!
//! impl Requirement for OrgAdmin {
//!     fn requirement() -> Has {
//!         Has::role("org:admin")
//!     }
//! }
//!
//! // Runs only for an `org:admin` (403 otherwise).
//! #[get("/admin")]
//! fn admin(auth: Require<'_, OrgAdmin>) -> String {
//!     format!("welcome, admin of {:?}", auth.org_slug())
//! }
//!
//! #[get("/")]
//! fn index(auth: AuthState<'_>, user: Option<SignedIn<'_>>) -> String {
//!     match user.as_ref().and_then(|u| u.session()) {
//!         Some(session) => format!("hello {:?}", session.user_id),
//!         None => format!("signed out: {:?}", auth.reason().map(|r| r.to_string())),
//!     }
//! }
//!
//! #[rocket::launch]
//! fn rocket() -> _ {
//!     // clerk-auth logs through `tracing`: key-set outages and other warnings while serving.
//!     tracing_subscriber::fmt()
//!         .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
//!         .init();
//!     // Reads CLERK_SECRET_KEY, CLERK_PUBLISHABLE_KEY, ... A bad configuration, or a secret key
//!     // Clerk refuses, aborts the launch (see "Self-check at startup" below).
//!     rocket::build()
//!         .attach(ClerkAuth::from_env())
//!         .mount("/", routes![me, admin, index])
//! }
//! ```
//!
//! # Self-check at startup
//!
//! On ignite, the fairing runs the core's [self-check](mod@clerk_auth_core::self_check) on a
//! blocking thread: it proves the configuration, fetches Clerk's key set (so the first requests
//! find the keys cached) and logs each finding, naming the environment variable to fix (through
//! `tracing`, target `clerk_auth`, and through Rocket's logger when no `tracing` subscriber
//! takes it). Only what makes authentication
//! impossible aborts the launch: a configuration that does not build, or a secret key the
//! Backend API refuses (`CLERK_SECRET_KEY`). Anything else, say a key set that cannot be fetched
//! right now (`CLERK_API_URL`), is a loud warning: Rocket launches, requests with session tokens
//! are signed out (`503` on protected routes) until the keys load, and a background thread
//! retries.
//!
//! The check adds at most the key-set fetch budget (3.5 s by default) to the launch. With a PEM
//! key (`CLERK_JWT_KEY`) nothing is fetched. Turn it off with
//! [`ClerkAuth::self_check`]`(false)`:
//!
//! ```no_run
//! use clerk_auth_rocket::ClerkAuth;
//!
//! #[rocket::launch]
//! fn rocket() -> _ {
//!     // No key-set fetch at launch: the first request with a session token fetches it.
//!     rocket::build().attach(ClerkAuth::from_env().self_check(false))
//! }
//! ```
//!
//! # How it fits Rocket
//!
//! - The decision is memoised per request (`Request::local_cache_async`): the fairing computes
//!   it in `on_request` and every guard reuses it.
//! - The decision never blocks the async executor. It runs without network IO; only when the
//!   core needs IO (a key-set fetch, a handshake nonce, a server-side refresh) does it rerun on
//!   a blocking thread (`spawn_blocking`), from an owned copy of the request.
//! - A fairing cannot answer a request itself, so for a redirect or a failed decision the
//!   fairing rewrites the request to an internal route ([`INTERRUPT_PATH`], mounted by the
//!   fairing and ranked first) and writes the answer in `on_response`. No application handler
//!   or guard runs for such a request.
//! - The guards are [`Sentinel`](rocket::Sentinel)s: a route that uses them while the fairing is
//!   not attached aborts the launch, not each request.
//! - When [`SignedIn`] or [`Require`] refuses, the fairing answers: `401`/`403`/`503` with the
//!   rejection JSON (`application/json`) and the debug headers. The guard fails with an internal
//!   status that only the fairing's own catcher answers, so your catchers never run for it and
//!   need not know about Clerk, and the `401`s your own routes and catchers answer are left
//!   alone (also where a handler took `Option<SignedIn>`).
//!
//! # API routes
//!
//! `ClerkAuth::new(options).api_prefix("/api")` ([`ClerkAuth::api_prefix`]) marks the requests
//! under `/api` as API requests: never redirected, even a document request. A request that would
//! get the handshake is signed out instead, and [`SignedIn`] refuses it with `401`,
//! `WWW-Authenticate: Bearer error="invalid_token"` and the JSON body (a key-set outage stays
//! `503`). The fairing decides before routing, so API routes are chosen by path prefix.
//!
//! # Guides
//!
//! [Getting started with Rocket][getting-started] (step by step, with the dependency block to
//! copy), [the auth object and authorization][auth-object], [webhooks][webhooks],
//! [testing your handlers][testing] and [troubleshooting][troubleshooting]: the guides are in the
//! [repository's `docs/`](https://github.com/clerk-auth/clerk-auth/tree/main/docs).
//!
//! [getting-started]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/getting-started-rocket.md
//! [auth-object]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/auth-object.md
//! [webhooks]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/webhooks.md
//! [testing]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/testing.md
//! [troubleshooting]: https://github.com/clerk-auth/clerk-auth/blob/main/docs/troubleshooting.md
//!
//! # Features
//!
//! None. Tests use `clerk-auth-core`'s `testing` feature (key pair, token minter, a local Backend
//! API emulator).
//!
//! # Security notes
//!
//! - Tokens and keys are never logged; [`RequestState`]'s `Debug` hides the token.
//! - Debug headers (`x-clerk-auth-status`, `-reason`, `-message`) are on by default; turn them
//!   off with `Options::builder().debug_headers(false)` if you do not want clients to see why
//!   they are signed out.
//! - Requests arrive in origin form: the core derives the request's public URL from `Host`,
//!   `X-Forwarded-Host` and `X-Forwarded-Proto`, as Clerk does. Behind a proxy, make sure
//!   those headers are set (and not forwarded from clients) by your proxy.
//! - Header values that are not UTF-8: Rocket drops the whole header before any fairing or guard
//!   runs (it logs `Header '…' contains invalid UTF-8`), so the request is decided **without
//!   it**. A `Cookie` header with one such byte anywhere (say another application's
//!   `theme=caf\xe9` cookie next to `__session`) means no cookie at all: signed out,
//!   `session-token-and-uat-missing`. An `Authorization` header with one means no header token:
//!   the cookie flow runs. actix-web and warp hand the bytes over instead; the core reads them as
//!   Latin-1, so there the odd value matches nothing and the rest of the header still counts. See
//!   `docs/troubleshooting.md`.
//!
//! [`Options`]: clerk_auth_core::Options
//! [`RequestState`]: clerk_auth_core::RequestState

#![cfg_attr(docsrs, feature(doc_cfg))]

mod fairing;
mod guard;
mod require;
mod webhook;

pub use fairing::{ClerkAuth, INTERRUPT_PATH};
pub use guard::{AuthError, AuthState, SignedIn};
pub use require::{Require, Requirement};
pub use webhook::{ClerkWebhook, ClerkWebhookError};

pub use clerk_auth_core;

// The Rocket guide in `docs/` is compiled as a doctest of this crate.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/getting-started-rocket.md")]
struct GettingStartedRocketDoc;
