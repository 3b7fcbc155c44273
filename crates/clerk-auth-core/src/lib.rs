//! Framework-agnostic Clerk request authentication.
//!
//! `clerk-auth-core` decides, from a read-only view of an HTTP request and the configured options,
//! whether the request is signed in, signed out (with Clerk's reason) or needs a handshake,
//! exactly as Clerk's backend SDK (`@clerk/backend`'s `authenticateRequest`) does.
//!
//! Most applications use it through an adapter, which turns the decision into its framework's
//! idiom: [`clerk-auth-actix`](https://docs.rs/clerk-auth-actix) (middleware and extractors),
//! [`clerk-auth-rocket`](https://docs.rs/clerk-auth-rocket) (fairing and guards),
//! [`clerk-auth-warp`](https://docs.rs/clerk-auth-warp) (filters),
//! [`clerk-auth-axum`](https://docs.rs/clerk-auth-axum) (a tower layer and extractors, for axum and
//! any tower service). Use the core directly to support another framework, to decide in a test
//! without a server, or to plug in your own key source.
//!
//! # Quick start
//!
//! Configure once at start-up ([`Options::from_env`] reads Clerk's `CLERK_*` variables; a bad
//! configuration fails here, never per request), then decide each request:
//!
//! ```
//! use clerk_auth_core::{authenticate_request, AuthStatus, Options};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // In a server: `Options::from_env()?`. A bad configuration is an error here, naming the
//!     // variable to fix.
//!     let options = Options::builder()
//!         .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
//!         .secret_key("sk_live_…")
//!         .build()?;
//!
//!     // Any `http::Request` is a request view; adapters implement `RequestView` for theirs.
//!     let request = http::Request::get("https://app.example.com/api/me")
//!         .header("authorization", "Bearer not-a-token")
//!         .body(())?;
//!     let state = authenticate_request(&request, &options)?;
//!     assert_eq!(state.status(), AuthStatus::SignedOut);
//!     println!("{:?}: {:?}", state.reason(), state.message());
//!     Ok(())
//! }
//! ```
//!
//! The [`RequestState`] says what to answer: [`user_id`](SessionAuth::user_id) and
//! [`has()`](SessionAuth::has) on a signed-in session, the reason on a signed-out one, and the
//! headers to add (a handshake's `location` and cookies). In an async server, decide with
//! [`try_authenticate_request`], which never does network IO and hands back a [`Deferred`] to run
//! on the blocking pool when it would.
//!
//! # Where things are
//!
//! | you want to | look at |
//! |---|---|
//! | configure | [`Options`], [`OptionsBuilder`], [`options`] (the variables, defaults) |
//! | decide a request | [`authenticate_request`], [`try_authenticate_request`], [`RequestView`], [`OwnedRequest`] |
//! | read the result | [`RequestState`], [`SessionAuth`], [`MachineAuth`], [`Has`], [`state`] (reasons, debug headers) |
//! | verify with your own keys | [`TokenVerifier`], [`VerificationKey`], [`verify`] |
//! | verify Clerk webhooks | [`WebhookVerifier`], [`webhook`] |
//! | see why | [`explain_request`], [`self_check`](crate::self_check()) |
//! | test your handlers | the `testing` module (feature `testing`): keys, tokens, a clock, a request builder, a local Backend API |
//!
//! The guides (getting started per framework, the auth object, testing, operations,
//! troubleshooting, migrating from clerk-rs) are in the
//! [repository's `docs/`](https://github.com/clerk-auth/clerk-auth/tree/main/docs).

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod bapi;
mod bound;
mod budget;
pub mod clock;
mod decide;
mod deferred;
mod diagnostics;
pub mod error;
pub mod explain;
#[cfg(fuzzing)]
pub mod fuzzing;
mod handshake;
mod http;
mod js;
pub mod machine;
pub mod options;
pub mod org_sync;
pub mod publishable_key;
pub mod request;
pub mod self_check;
pub mod state;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
mod text;
pub mod token;
mod trace;
pub mod verify;
pub mod webhook;

pub use bapi::{BackendApi, HttpBackendApi};
pub use bound::DEFAULT_MAX_DEFERRED_DECISIONS;
pub use budget::BackendApiBudget;
pub use clock::{Clock, SystemClock};
pub use decide::{authenticate_request, try_authenticate_request, AuthenticateError, Interrupt};
pub use deferred::Deferred;
pub use error::{
    ConfigError, TokenCarrier, TokenVerificationError, TokenVerificationErrorAction,
    TokenVerificationErrorReason,
};
pub use explain::{explain_request, Explanation, Step};
pub use options::{AcceptsToken, Options, OptionsBuilder};
pub use org_sync::{OrganizationSyncOptions, OrganizationSyncTarget};
pub use request::{OwnedRequest, RequestView};
pub use self_check::{self_check, Finding, SelfCheckReport, Severity};
pub use state::{Auth, AuthErrorReason, AuthStatus, Reason, RefreshError, RequestState};
pub use token::Jwt;
pub use token::{Has, MachineAuth, Reverification, SessionAuth, TokenType};
pub use verify::{
    JwsAlgorithm, PemVerifier, TokenVerifier, VerificationKey, Verifier, VerifyOptions,
};
pub use webhook::{WebhookError, WebhookEvent, WebhookVerifier};

// The guides in `docs/` are compiled and run as doctests of this crate.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/auth-object.md")]
struct AuthObjectDoc;
#[cfg(doctest)]
#[doc = include_str!("../../../docs/custom-verifier.md")]
struct CustomVerifierDoc;
#[cfg(doctest)]
#[doc = include_str!("../../../docs/operations.md")]
struct OperationsDoc;
#[cfg(doctest)]
#[doc = include_str!("../../../docs/troubleshooting.md")]
struct TroubleshootingDoc;
