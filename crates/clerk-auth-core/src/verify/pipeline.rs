//! The verification pipeline: Clerk's `verifyToken` and `verifyJwt` with their exact
//! check order and messages, the handshake-token check, token categories, and the
//! per-instance [`Verifier`] with its verified-token cache (decision 8).
//!
//! Messages show a token's values as Clerk's do (`JSON.stringify`), bounded and escaped
//! (decision 15), so a hostile value can neither bloat nor break the
//! `x-clerk-auth-message` header, the JSON body or a log line.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::error::{TokenVerificationError, TokenVerificationErrorReason};
use crate::token::Jwt;

use super::cache::{CachedToken, VerifiedCache, DEFAULT_CAPACITY};
pub(crate) use super::checks::verify_jwt;
use super::checks::*;
pub(crate) use super::checks::{describe_claim_checks, unix_ms};
pub use super::checks::{VerifyOptions, DEFAULT_CLOCK_SKEW};
use super::key::SignatureFailure;
use super::{TokenVerifier, VerificationKey};

/// `cat` of a session token (also stamped on handshake tokens).
pub(crate) const SESSION_CATEGORY: &str = "cl_B7d4PD111AAA";
/// `cat` of a JWT-template token.
pub(crate) const TEMPLATE_CATEGORY: &str = "cl_B7d4PD222AAA";
/// `cat` of a machine-to-machine JWT.
pub(crate) const M2M_CATEGORY: &str = "cl_B7d4PD333AAA";
/// `cat` that carries no class information ("ignore").
pub(crate) const IGNORE_CATEGORY: &str = "cl_I7d4PD111III";

/// Clerk's `isNonSessionJwtCategory`: a category is present and is neither the session nor the
/// ignore category. An absent category is a session token (tokens from before the rollout).
pub(crate) fn is_non_session_category(cat: Option<&str>) -> bool {
    matches!(cat, Some(c) if c != SESSION_CATEGORY && c != IGNORE_CATEGORY)
}

/// The handshake JWT's checks once its key is known: `typ`, `alg`, category, signature.
fn check_handshake_token(
    jwt: Jwt,
    key: &VerificationKey,
) -> Result<Arc<Jwt>, TokenVerificationError> {
    check_header_type(&jwt, None)?;
    check_header_algorithm(&jwt)?;
    if is_non_session_category(jwt.category())
        || jwt.header_param("cat").is_some_and(|c| !c.is_string())
    {
        return Err(ensure_clerk_jwt(
            TokenVerificationErrorReason::TokenInvalid,
            "Invalid handshake token category.",
        ));
    }
    match key.check_signature(&jwt) {
        Ok(()) => Ok(Arc::new(jwt)),
        Err(SignatureFailure::Unverifiable(detail)) => Err(error(
            TokenVerificationErrorReason::TokenVerificationFailed,
            format!("Error verifying handshake token. Error: {detail}"),
        )),
        Err(SignatureFailure::Mismatch) => Err(error(
            TokenVerificationErrorReason::TokenInvalidSignature,
            "Handshake signature is invalid.",
        )),
    }
}

/// A blocking call's source answered "would block": [`TokenVerifier::try_key`] is never asked
/// in blocking mode, so this only reports a broken invariant, failing closed.
fn would_block_error() -> TokenVerificationError {
    error(
        TokenVerificationErrorReason::JwkFailedToResolve,
        "The key source asked to block in a blocking call.",
    )
}

struct Inner {
    source: Arc<dyn TokenVerifier>,
    options: VerifyOptions,
    clock: Arc<dyn Clock>,
    cache: Option<VerifiedCache>,
}

/// The per-instance session-token verifier: key source + options + clock + verified-token cache
/// (decision 8). Cheap to clone (an `Arc` inside); `Send + Sync`.
///
/// The cache is keyed by the exact token and is on by default (4 096 tokens). Every hit
/// re-checks `exp`, `nbf` and `iat` against the clock with the skew asked for, so a cached token
/// is never accepted past its expiry. Everything else that decides the verdict (keys, authorized
/// parties, audience, issuer) is fixed for the life of the verifier.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

impl Verifier {
    /// A verifier with the verified-token cache on (bounded to 4 096 tokens).
    pub fn new(
        source: Arc<dyn TokenVerifier>,
        options: VerifyOptions,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self::build(source, options, clock, Some(DEFAULT_CAPACITY))
    }

    fn build(
        source: Arc<dyn TokenVerifier>,
        options: VerifyOptions,
        clock: Arc<dyn Clock>,
        capacity: Option<u64>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                source,
                options,
                clock,
                cache: capacity.filter(|c| *c > 0).map(VerifiedCache::new),
            }),
        }
    }

    /// The same verifier without a verified-token cache: every call verifies the signature.
    pub fn without_cache(self) -> Self {
        self.with_cache_capacity(0)
    }

    /// The same verifier with a fresh cache of at most `capacity` tokens (0 turns it off).
    pub fn with_cache_capacity(self, capacity: u64) -> Self {
        let inner = &self.inner;
        Self::build(
            Arc::clone(&inner.source),
            inner.options.clone(),
            Arc::clone(&inner.clock),
            Some(capacity),
        )
    }

    /// The verification options.
    pub fn options(&self) -> &VerifyOptions {
        &self.inner.options
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The key source.
    pub fn source(&self) -> &Arc<dyn TokenVerifier> {
        &self.inner.source
    }

    /// Whether the verified-token cache is on.
    pub fn has_cache(&self) -> bool {
        self.inner.cache.is_some()
    }

    /// Clerk's `verifyToken`: decode, reject the M2M category (`token-invalid`, "Invalid
    /// session token category."), get the key from the source, then Clerk's `verifyJwt` checks in order. Cached by
    /// exact token; a hit re-checks `exp`, `nbf` and `iat` with the configured skew.
    pub fn verify_token(&self, token: &str) -> Result<Arc<Jwt>, TokenVerificationError> {
        self.verify_token_with_skew(token, self.inner.options.clock_skew)
    }

    /// [`verify_token`](Self::verify_token) with another clock skew (the development handshake
    /// re-verifies with 24 hours).
    pub fn verify_token_with_skew(
        &self,
        token: &str,
        skew: Duration,
    ) -> Result<Arc<Jwt>, TokenVerificationError> {
        self.verify_token_with(token, skew, true)
            .unwrap_or_else(|| Err(would_block_error()))
    }

    /// [`verify_token_with_skew`](Self::verify_token_with_skew); with `may_block` false, `None`
    /// when the key cannot be had without IO.
    pub(crate) fn verify_token_with(
        &self,
        token: &str,
        skew: Duration,
        may_block: bool,
    ) -> Option<Result<Arc<Jwt>, TokenVerificationError>> {
        let inner = &*self.inner;
        if let Some(cache) = &inner.cache {
            if let Some(hit) = cache.get(token) {
                let now = unix_ms(inner.clock.now());
                return Some(
                    hit.times
                        .recheck(now, duration_ms(skew))
                        .map(|()| Arc::clone(&hit.jwt)),
                );
            }
        }
        match Jwt::decode(token) {
            Ok(jwt) => self.verify_decoded_with(Arc::new(jwt), skew, may_block),
            Err(e) => Some(Err(e)),
        }
    }

    /// [`verify_token`](Self::verify_token) for a token the caller already decoded (the decision
    /// decodes a cookie token once per request and reuses it).
    pub fn verify_decoded(&self, jwt: Arc<Jwt>) -> Result<Arc<Jwt>, TokenVerificationError> {
        if let Some(cache) = &self.inner.cache {
            if let Some(hit) = cache.get(jwt.as_str()) {
                let now = unix_ms(self.inner.clock.now());
                hit.times
                    .recheck(now, duration_ms(self.inner.options.clock_skew))?;
                return Ok(Arc::clone(&hit.jwt));
            }
        }
        self.verify_decoded_with_skew(jwt, self.inner.options.clock_skew)
    }

    /// The verified-cache entry for exactly `token`, if any (one lookup per request).
    pub(crate) fn cached(&self, token: &str) -> Option<Arc<CachedToken>> {
        self.inner.cache.as_ref().and_then(|c| c.get(token))
    }

    /// Verifies a decoded token for the decision, reusing the cache entry the request already
    /// looked up: a hit only re-checks the times. With `may_block` false, takes the key without
    /// IO ([`TokenVerifier::try_key`]) and answers `None` when that would block.
    pub(crate) fn verify_for_request(
        &self,
        jwt: Arc<Jwt>,
        entry: Option<Arc<CachedToken>>,
        may_block: bool,
    ) -> Option<Result<Verified, TokenVerificationError>> {
        let inner = &*self.inner;
        if let Some(entry) = entry {
            let now = unix_ms(inner.clock.now());
            if let Err(e) = entry
                .times
                .recheck(now, duration_ms(inner.options.clock_skew))
            {
                return Some(Err(e));
            }
            return Some(Ok(Verified {
                jwt: Arc::clone(&entry.jwt),
                entry: Some(entry),
            }));
        }
        self.verify_decoded_entry(jwt, inner.options.clock_skew, may_block)
    }

    /// The key for `jwt` from the source: blocking ([`TokenVerifier::key`]), or without IO
    /// ([`TokenVerifier::try_key`], `None` when that would block).
    pub(crate) fn take_key(
        &self,
        jwt: &Jwt,
        may_block: bool,
    ) -> Option<Result<Arc<VerificationKey>, TokenVerificationError>> {
        if may_block {
            Some(self.inner.source.key(jwt))
        } else {
            self.inner.source.try_key(jwt)
        }
    }

    fn verify_decoded_with_skew(
        &self,
        jwt: Arc<Jwt>,
        skew: Duration,
    ) -> Result<Arc<Jwt>, TokenVerificationError> {
        self.verify_decoded_with(jwt, skew, true)
            .unwrap_or_else(|| Err(would_block_error()))
    }

    /// [`verify_decoded_entry`](Self::verify_decoded_entry), the token only.
    fn verify_decoded_with(
        &self,
        jwt: Arc<Jwt>,
        skew: Duration,
        may_block: bool,
    ) -> Option<Result<Arc<Jwt>, TokenVerificationError>> {
        Some(
            self.verify_decoded_entry(jwt, skew, may_block)?
                .map(|v| v.jwt),
        )
    }

    /// The verification itself, with the cache entry it wrote; `None` only when `may_block` is
    /// false and the key cannot be had without IO.
    fn verify_decoded_entry(
        &self,
        jwt: Arc<Jwt>,
        skew: Duration,
        may_block: bool,
    ) -> Option<Result<Verified, TokenVerificationError>> {
        let inner = &*self.inner;
        if jwt.category() == Some(M2M_CATEGORY) {
            return Some(Err(ensure_clerk_jwt(
                TokenVerificationErrorReason::TokenInvalid,
                "Invalid session token category.",
            )));
        }
        let key = match self.take_key(&jwt, may_block)? {
            Ok(key) => key,
            Err(e) => return Some(Err(e)),
        };
        let times = match verify_jwt_with_skew(&jwt, &key, &inner.options, skew, inner.clock.now())
        {
            Ok(times) => times,
            Err(e) => return Some(Err(e)),
        };
        let entry = inner
            .cache
            .as_ref()
            .map(|cache| cache.insert(Arc::clone(&jwt), times));
        Some(Ok(Verified { jwt, entry }))
    }

    /// The handshake JWT check: decode, key from the source, `typ` absent or `JWT`, `alg`
    /// one of RS256/RS384/RS512, `cat` absent, session or ignore (else `token-invalid`, "Invalid
    /// handshake token category."), then the signature only. No time, `sub` or `azp` checks;
    /// never cached.
    pub fn verify_handshake_token(&self, token: &str) -> Result<Arc<Jwt>, TokenVerificationError> {
        self.verify_handshake_token_with(token, true)
            .unwrap_or_else(|| Err(would_block_error()))
    }

    /// [`verify_handshake_token`](Self::verify_handshake_token); with `may_block` false, `None`
    /// when the key cannot be had without IO.
    pub(crate) fn verify_handshake_token_with(
        &self,
        token: &str,
        may_block: bool,
    ) -> Option<Result<Arc<Jwt>, TokenVerificationError>> {
        let jwt = match Jwt::decode(token) {
            Ok(jwt) => jwt,
            Err(e) => return Some(Err(e)),
        };
        let key = match self.take_key(&jwt, may_block)? {
            Ok(key) => key,
            Err(e) => return Some(Err(e)),
        };
        Some(check_handshake_token(jwt, &key))
    }

    /// Non-blocking [`verify_token`](Self::verify_token): the same verdict when it can be had
    /// without network IO (a cache hit, or a key the source holds in memory), `None` when
    /// verifying would need IO or would wait on a fetch in progress
    /// ([`TokenVerifier::try_key`]). Never blocks.
    pub fn try_verify_token(
        &self,
        token: &str,
    ) -> Option<Result<Arc<Jwt>, TokenVerificationError>> {
        self.verify_token_with(token, self.inner.options.clock_skew, false)
    }

    /// The decoded token: from the verified cache when present (cheap), else [`Jwt::decode`].
    /// Verifies nothing.
    pub fn decode(&self, token: &str) -> Result<Arc<Jwt>, TokenVerificationError> {
        if let Some(hit) = self.inner.cache.as_ref().and_then(|c| c.get(token)) {
            return Ok(Arc::clone(&hit.jwt));
        }
        Jwt::decode(token).map(Arc::new)
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("Verifier")
            .field("source", &inner.source)
            .field("options", &inner.options)
            .field("clock", &inner.clock)
            .field(
                "cached_tokens",
                &inner.cache.as_ref().map(VerifiedCache::len),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories() {
        assert!(!is_non_session_category(None));
        assert!(!is_non_session_category(Some(SESSION_CATEGORY)));
        assert!(!is_non_session_category(Some(IGNORE_CATEGORY)));
        assert!(is_non_session_category(Some(TEMPLATE_CATEGORY)));
        assert!(is_non_session_category(Some(M2M_CATEGORY)));
        assert!(is_non_session_category(Some("")));
    }

    #[test]
    fn fractional_seconds_truncate_toward_zero() {
        assert_eq!(seconds_to_ms(1.9), 1000.0);
        assert_eq!(seconds_to_ms(-1.9), -1000.0);
        assert_eq!(seconds_to_ms(1e300), 1e303);
    }
}

/// A token verified for one request, with its cache entry when the cache holds it.
#[derive(Clone, Debug)]
pub(crate) struct Verified {
    pub(crate) jwt: Arc<Jwt>,
    pub(crate) entry: Option<Arc<CachedToken>>,
}

impl Verified {
    /// The session auth object, built once per cached token.
    pub(crate) fn session(&self) -> Option<Arc<crate::token::auth::SessionAuth>> {
        let build = || {
            crate::token::auth::SessionAuth::from_jwt(Arc::clone(&self.jwt))
                .ok()
                .map(Arc::new)
        };
        match &self.entry {
            Some(entry) => entry.session.get_or_init(build).clone(),
            None => build(),
        }
    }
}
