//! The verified-token cache (decision 8): per [`Verifier`](super::pipeline::Verifier), bounded,
//! keyed by the exact token.
//!
//! An entry is only written after the full verification succeeded. Its time claims are kept
//! alongside, so that every hit re-checks `exp`, `nbf` and `iat` against the current time with the
//! caller's clock skew: a cached token can never outlive its validity.
//!
//! The store is `quick_cache` (S3-FIFO eviction, sharded locks): most tokens a service sees are
//! new (Clerk's session tokens live 60 seconds), so inserting into a full cache is the common
//! case, and it must cost next to nothing beside the signature check. Entries of expired tokens
//! are not removed on a timer: they are evicted like any other entry as new tokens come, and a
//! hit on one fails the time re-check.

use std::fmt;
use std::sync::Arc;

use quick_cache::sync::Cache;

use crate::token::Jwt;

use super::checks::TimeClaims;

/// The default number of tokens kept: 4 096 (about 3.1 KB each with the session auth object:
/// about 12 MiB when full).
pub(crate) const DEFAULT_CAPACITY: u64 = 4_096;

/// A verified token and its time claims.
#[derive(Debug)]
pub(crate) struct CachedToken {
    pub(crate) jwt: Arc<Jwt>,
    pub(crate) times: TimeClaims,
    /// The session auth object built from the claims, once (`None`: the claims are malformed).
    pub(crate) session: std::sync::OnceLock<Option<Arc<crate::token::auth::SessionAuth>>>,
}

/// Verified tokens by their exact text.
#[derive(Clone)]
pub(crate) struct VerifiedCache {
    cache: Arc<Cache<TokenKey, Arc<CachedToken>>>,
}

/// The key of an entry: the token's text, shared with the entry's decoded token (no copy).
#[derive(Clone)]
struct TokenKey(Arc<Jwt>);

/// A token looked up by its text.
struct TokenRef<'a>(&'a str);

/// How the cache hashes a token: its length and its last [`HASHED_TAIL`] bytes, the end of the
/// signature, rather than the whole text (about 1 KB, hashed on every lookup and insert). Only
/// verified tokens become entries, and no client can choose the signature of one, so no client
/// can make many entries share a hash; a forged token whose end matches an entry's costs one
/// more comparison of the two texts.
fn hash_token<H: std::hash::Hasher>(token: &str, state: &mut H) {
    let bytes = token.as_bytes();
    state.write_usize(bytes.len());
    state.write(
        bytes
            .get(bytes.len().saturating_sub(HASHED_TAIL)..)
            .unwrap_or_default(),
    );
}

/// Bytes of a token's end that its hash covers (24 bytes of signature).
const HASHED_TAIL: usize = 32;

impl std::hash::Hash for TokenKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        hash_token(self.0.as_str(), state);
    }
}

impl std::hash::Hash for TokenRef<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        hash_token(self.0, state);
    }
}

impl PartialEq for TokenKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl Eq for TokenKey {}

impl quick_cache::Equivalent<TokenKey> for TokenRef<'_> {
    fn equivalent(&self, key: &TokenKey) -> bool {
        self.0 == key.0.as_str()
    }
}

impl VerifiedCache {
    /// An empty cache holding at most `capacity` tokens.
    pub(crate) fn new(capacity: u64) -> Self {
        let capacity = usize::try_from(capacity).unwrap_or(usize::MAX).max(1);
        Self {
            cache: Arc::new(Cache::new(capacity)),
        }
    }

    /// The entry for exactly `token`, if verified before.
    pub(crate) fn get(&self, token: &str) -> Option<Arc<CachedToken>> {
        self.cache.get(&TokenRef(token))
    }

    /// Records a verified token.
    pub(crate) fn insert(&self, jwt: Arc<Jwt>, times: TimeClaims) -> Arc<CachedToken> {
        let key = TokenKey(Arc::clone(&jwt));
        let entry = Arc::new(CachedToken {
            jwt,
            times,
            session: std::sync::OnceLock::new(),
        });
        self.cache.insert(key, Arc::clone(&entry));
        entry
    }

    /// The number of entries.
    pub(crate) fn len(&self) -> u64 {
        u64::try_from(self.cache.len()).unwrap_or(u64::MAX)
    }
}

impl fmt::Debug for VerifiedCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedCache")
            .field("entries", &self.cache.len())
            .finish_non_exhaustive()
    }
}
