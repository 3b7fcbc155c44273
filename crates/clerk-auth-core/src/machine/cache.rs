//! The answer cache: positive Backend API answers for opaque machine tokens, per instance, for a
//! short TTL (see the [module documentation](super)).

use super::*;

/// A SHA-256 digest of the kind and the token: the caches never hold the token itself.
pub(super) type CacheKey = Digest;

pub(super) fn cache_key(kind: TokenType, token: &str) -> CacheKey {
    Digest::new(kind.as_str(), token)
}

/// A positive Backend API answer.
#[derive(Debug)]
pub(super) struct CachedAnswer {
    pub(super) auth: MachineAuth,
    /// The token's `expiration` (Unix milliseconds), when the answer had one.
    pub(super) expires_at_ms: Option<f64>,
}

impl CachedAnswer {
    pub(super) fn is_live(&self, now_ms: f64) -> bool {
        self.expires_at_ms.is_none_or(|exp| exp > now_ms)
    }
}

/// Positive Backend API answers for opaque machine tokens, per [`Options`](crate::Options) instance: a short TTL,
/// bounded, and the flights (one call in flight per token, cache on or off). See the
/// [module documentation](self).
pub(crate) struct MachineTokenCache {
    cache: Option<Cache<CacheKey, Arc<CachedAnswer>, foldhash::fast::RandomState>>,
    ttl: Duration,
    pub(super) flights: SingleFlight<Outcome>,
}

impl MachineTokenCache {
    /// A cache keeping answers for `ttl`, at most `capacity` of them; either zero turns it off.
    pub(crate) fn new(ttl: Duration, capacity: u64) -> Self {
        let cache = (!ttl.is_zero() && capacity > 0).then(|| {
            Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build_with_hasher(foldhash::fast::RandomState::default())
        });
        Self {
            cache,
            ttl,
            flights: SingleFlight::default(),
        }
    }

    /// The configured time to live.
    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The cached answer, if any and still live.
    pub(super) fn fresh(&self, key: &CacheKey, now_ms: f64) -> Option<MachineAuth> {
        let cache = self.cache.as_ref()?;
        let hit = cache.get(key)?;
        if hit.is_live(now_ms) {
            Some(hit.auth.clone())
        } else {
            cache.invalidate(key);
            None
        }
    }

    /// Keeps a positive answer for the TTL (nothing when the cache is off).
    pub(super) fn insert(&self, key: CacheKey, answer: CachedAnswer) {
        if let Some(cache) = &self.cache {
            cache.insert(key, Arc::new(answer));
        }
    }
}

impl fmt::Debug for MachineTokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MachineTokenCache")
            .field("ttl", &self.ttl)
            .field("entries", &self.cache.as_ref().map(Cache::entry_count))
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn cache_keys_separate_kinds_and_tokens() {
        let a = cache_key(TokenType::ApiKey, "ak_1");
        assert!(a == cache_key(TokenType::ApiKey, "ak_1"));
        assert!(a != cache_key(TokenType::M2mToken, "ak_1"));
        assert!(a != cache_key(TokenType::ApiKey, "ak_2"));
    }

    #[test]
    pub(super) fn cache_honours_expiration() {
        let cache = MachineTokenCache::new(Duration::from_secs(60), 10);
        let key = cache_key(TokenType::ApiKey, "ak_1");
        let body = serde_json::json!({"id": "ak_id", "subject": "user_1", "scopes": []});
        assert!(cache.fresh(&key, 0.0).is_none());
        cache.insert(
            key,
            CachedAnswer {
                auth: MachineAuth::from_api_key_response(&body).unwrap(),
                expires_at_ms: Some(1_000.0),
            },
        );
        assert_eq!(cache.fresh(&key, 999.0).unwrap().subject, "user_1");
        assert!(cache.fresh(&key, 1_000.0).is_none());
        assert!(
            cache.fresh(&key, 0.0).is_none(),
            "an expired entry is dropped"
        );
    }

    #[test]
    pub(super) fn zero_ttl_turns_the_cache_off() {
        let cache = MachineTokenCache::new(Duration::ZERO, 10);
        assert!(cache.cache.is_none());
        assert_eq!(cache.ttl(), Duration::ZERO);
    }
}
