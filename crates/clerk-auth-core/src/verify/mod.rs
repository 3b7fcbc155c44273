//! Token verification (§3): the [`TokenVerifier`] seam, the check pipeline, key sources and caches.

use std::fmt;
use std::sync::Arc;

use crate::error::TokenVerificationError;
use crate::token::Jwt;

pub mod cache;
pub mod jwks;
pub mod key;
pub mod pem;
pub mod pipeline;

pub use jwks::{JwksConfig, JwksVerifier};
pub use key::{JwsAlgorithm, KeyError, VerificationKey};
pub use pem::PemVerifier;
pub use pipeline::{
    is_non_session_category, verify_jwt, Verifier, VerifyOptions, DEFAULT_CLOCK_SKEW,
    IGNORE_CATEGORY, M2M_CATEGORY, SESSION_CATEGORY, TEMPLATE_CATEGORY,
};

/// Where verification keys come from: the seam for custom key sources.
///
/// The core checks `typ` and `alg` itself, then asks the verifier for the key and checks the
/// signature and every claim with it; a verifier only finds keys.
pub trait TokenVerifier: Send + Sync + fmt::Debug {
    /// The key that should have signed `jwt`. May block (a network fetch) unless
    /// [`needs_io`](Self::needs_io) returned `false` just before.
    fn key(&self, jwt: &Jwt) -> Result<Arc<VerificationKey>, TokenVerificationError>;

    /// Whether [`key`](Self::key) would do network IO for `jwt` right now. Must not block.
    /// Async adapters call this first and move the call to a blocking thread only when it says
    /// `true`. Defaults to `false` (keys held in memory).
    fn needs_io(&self, jwt: &Jwt) -> bool {
        let _ = jwt;
        false
    }
}
