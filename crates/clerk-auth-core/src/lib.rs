//! Framework-agnostic Clerk request authentication.
//!
//! `clerk-auth-core` decides, from a read-only view of an HTTP request and the configured options,
//! whether the request is signed in, signed out (with Clerk's reason) or needs a handshake,
//! exactly as Clerk's backend SDK does.

#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod bapi;
pub mod clock;
mod decide;
pub mod error;
mod handshake;
mod http;
pub mod options;
pub mod org_sync;
pub mod publishable_key;
pub mod request;
pub mod state;
#[cfg(feature = "testing")]
pub mod testing;
pub mod token;
pub mod verify;

pub use clock::{Clock, SystemClock};
pub use error::{
    ConfigError, TokenCarrier, TokenVerificationError, TokenVerificationErrorAction,
    TokenVerificationErrorReason,
};
pub use token::Jwt;
pub use verify::{TokenVerifier, VerificationKey};
