//! Token verification: the [`TokenVerifier`] seam, the check pipeline, key sources and caches.

use std::fmt;
use std::sync::Arc;

use crate::error::TokenVerificationError;
use crate::token::Jwt;

pub(crate) mod cache;
mod checks;
pub(crate) mod jwks;
mod key;
mod pem;
pub(crate) mod pipeline;

pub use jwks::{JwksConfig, JwksVerifier};
pub use key::{JwsAlgorithm, KeyError, VerificationKey};
pub use pem::PemVerifier;
pub use pipeline::{Verifier, VerifyOptions, DEFAULT_CLOCK_SKEW};

/// Where verification keys come from: the seam for custom key sources.
///
/// The core asks the verifier for the key, then checks `typ`, `alg`, the signature and every
/// claim with it, in Clerk's order: a verifier only finds keys, and cannot loosen a check. Its
/// errors become the signed-out reason (`jwk-kid-mismatch`, `jwk-remote-failed-to-load`, …; the
/// outage reasons are answered `503` by the adapters).
///
/// # A complete custom key source
///
/// Keys held in memory by `kid` (for example loaded from a secrets manager at start-up), used by
/// the decision exactly like the built-in sources:
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Arc;
///
/// use clerk_auth_core::testing::{KeyPair, TokenMinter};
/// use clerk_auth_core::{authenticate_request, Jwt, Options, TokenVerificationError, TokenVerificationErrorReason, TokenVerifier, VerificationKey};
/// use clerk_auth_core::testing::TestRequest;
///
/// #[derive(Debug)]
/// struct StaticKeys(HashMap<String, Arc<VerificationKey>>);
///
/// impl TokenVerifier for StaticKeys {
///     fn key(&self, jwt: &Jwt) -> Result<Arc<VerificationKey>, TokenVerificationError> {
///         jwt.kid()
///             .and_then(|kid| self.0.get(kid))
///             .cloned()
///             .ok_or_else(|| {
///                 TokenVerificationError::new(
///                     TokenVerificationErrorReason::JwkKidMismatch,
///                     "Unable to find a signing key that matches the token's kid.",
///                 )
///             })
///     }
/// }
///
/// // The key pair stands in for the issuer; a real source would load public keys.
/// let issuer = KeyPair::shared();
/// let key = VerificationKey::from_pem(&issuer.public_pem()).expect("a PEM public key");
/// let source = StaticKeys(HashMap::from([("ins_main".to_owned(), Arc::new(key))]));
///
/// let options = Options::builder()
///     .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
///     .secret_key("sk_live_unused_here")
///     .token_verifier(Arc::new(source))
///     .build()
///     .expect("valid options");
///
/// let token = TokenMinter::new(issuer)
///     .kid("ins_main")
///     .issued_at(std::time::SystemTime::now())
///     .mint();
/// let request = TestRequest::get("https://app.example.com/api/me").bearer(&token).build();
/// let state = authenticate_request(&request, &options).expect("decided");
/// assert!(state.is_signed_in());
///
/// let other = TokenMinter::new(issuer).kid("ins_other").mint();
/// let request = TestRequest::get("https://app.example.com/api/me").bearer(&other).build();
/// let state = authenticate_request(&request, &options).expect("decided");
/// assert_eq!(state.reason().map(|r| r.to_string()).as_deref(), Some("jwk-kid-mismatch"));
/// ```
pub trait TokenVerifier: Send + Sync + fmt::Debug {
    /// The key that should have signed `jwt`. May block (a network fetch, or waiting for a fetch
    /// in progress): the core calls it only from [`authenticate_request`](crate::authenticate_request),
    /// which async adapters run on a blocking thread.
    fn key(&self, jwt: &Jwt) -> Result<Arc<VerificationKey>, TokenVerificationError>;

    /// The key for `jwt` if it can be had **without any network IO and without waiting** on a
    /// fetch in progress; `None` when it cannot ("would block"). Must never block: async
    /// adapters call it on their executor threads, through
    /// [`try_authenticate_request`](crate::try_authenticate_request), and rerun the decision on a
    /// blocking thread only when it answers `None`.
    ///
    /// Decide and take in one step (under the same lock, if the source has one): answering
    /// "no IO needed" and then fetching in a second call would let the answer go stale in
    /// between. The default calls [`key`](Self::key), which is right for keys held in memory
    /// (a PEM key, a static map); a source that fetches keys must override it.
    fn try_key(&self, jwt: &Jwt) -> Option<Result<Arc<VerificationKey>, TokenVerificationError>> {
        Some(self.key(jwt))
    }

    /// Fetches the keys now, if this source fetches them over the network, so that the first
    /// requests find them cached: the start-up [self-check](mod@crate::self_check) calls it (and its
    /// background retry, until it succeeds). Blocks for as long as the fetch takes: call it from a
    /// blocking thread.
    ///
    /// Returns `None` when there is nothing to warm (keys held in memory, as with a PEM key: the
    /// default), `Some(Ok(n))` with the number of usable keys fetched, or `Some(Err(_))` with why
    /// they could not be fetched. The built-in key set ([`JwksVerifier`]) implements it with
    /// [`JwksVerifier::refresh`]; a custom source that fetches keys should implement it too.
    fn warm_up(&self) -> Option<Result<usize, TokenVerificationError>> {
        None
    }
}
