//! Framework-agnostic Clerk request authentication.
//!
//! `clerk-auth-core` decides, from a read-only view of an HTTP request and the configured options,
//! whether the request is signed in, signed out (with Clerk's reason) or needs a handshake,
//! exactly as Clerk's backend SDK does.

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
