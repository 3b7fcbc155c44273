//! The verified-token cache (decision 8): per [`Verifier`](super::pipeline::Verifier), bounded,
//! keyed by the exact token.
//!
//! An entry is only written after the full verification succeeded. Its time claims are kept
//! alongside, so that every hit re-checks `exp`, `nbf` and `iat` against the current time with the
//! caller's clock skew: a cached token can never outlive its validity.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

use crate::token::Jwt;

use super::pipeline::TimeClaims;

/// The default number of tokens kept.
pub const DEFAULT_CAPACITY: u64 = 10_000;

/// How long an entry may stay at most, whatever its `exp` (dead entries leave on their own).
const ENTRY_TTL: Duration = Duration::from_secs(10 * 60);

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
    cache: Cache<Box<str>, Arc<CachedToken>, foldhash::fast::RandomState>,
}

impl VerifiedCache {
    /// An empty cache holding at most `capacity` tokens.
    pub(crate) fn new(capacity: u64) -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ENTRY_TTL)
                .build_with_hasher(foldhash::fast::RandomState::default()),
        }
    }

    /// The entry for exactly `token`, if verified before.
    pub(crate) fn get(&self, token: &str) -> Option<Arc<CachedToken>> {
        self.cache.get(token)
    }

    /// Records a verified token.
    pub(crate) fn insert(&self, jwt: Arc<Jwt>, times: TimeClaims) -> Arc<CachedToken> {
        let key: Box<str> = jwt.as_str().into();
        let entry = Arc::new(CachedToken {
            jwt,
            times,
            session: std::sync::OnceLock::new(),
        });
        self.cache.insert(key, Arc::clone(&entry));
        entry
    }

    /// An approximate number of entries.
    pub(crate) fn len(&self) -> u64 {
        self.cache.entry_count()
    }
}

impl fmt::Debug for VerifiedCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedCache")
            .field("entries", &self.cache.entry_count())
            .finish_non_exhaustive()
    }
}
