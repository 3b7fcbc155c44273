//! The key-set cache of a [`JwksVerifier`](super::JwksVerifier): its state, the plan a lookup
//! follows under the lock (use the keys, wait for the running fetch, or fetch), the single flight
//! and the background refresh thread, and how a fetch's outcome is stored.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{failed_to_load, kid_mismatch, JwksConfig, VerificationKey};
use crate::error::TokenVerificationError;
use crate::http::BapiHttp;

/// Keys from one successful fetch.
pub(super) struct KeySet {
    pub(super) keys: HashMap<String, Arc<VerificationKey>>,
    fetched_at: Instant,
}

/// The last failed fetch (cleared by a success).
pub(super) struct Failure {
    at: Instant,
    pub(super) error: TokenVerificationError,
    /// Network, 5xx, 429, unreadable body: the stale grace applies.
    transient: bool,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) keys: Option<KeySet>,
    pub(super) failure: Option<Failure>,
    pub(super) refreshing: bool,
    last_attempt: Option<Instant>,
    /// Incremented when a fetch ends (waiters use it to see that "their" fetch finished).
    pub(super) generation: u64,
}

pub(super) enum Plan {
    Ready(Result<Arc<VerificationKey>, TokenVerificationError>),
    /// The key is usable now; start a background refresh (ahead of the TTL, or past it while
    /// an outage's stale grace lasts).
    ReadyRefresh(Arc<VerificationKey>),
    Wait,
    Fetch,
}

/// What the verifier and its background refresh thread share.
pub(super) struct Shared {
    pub(super) config: JwksConfig,
    pub(super) http: BapiHttp,
    pub(super) url: String,
    /// `url` without userinfo: what messages and logs show (decision 15).
    pub(super) shown_url: String,
    pub(super) state: Mutex<State>,
    pub(super) done: Condvar,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the fetch running at `generation` has ended.
    pub(super) fn wait<'a>(
        &'a self,
        st: MutexGuard<'a, State>,
        generation: u64,
    ) -> MutexGuard<'a, State> {
        self.done
            .wait_while(st, |s| s.refreshing && s.generation == generation)
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Decides, under the lock and without IO, what a key lookup for `kid` must do now.
    /// `may_fetch` is false once this lookup has already fetched or waited.
    pub(super) fn plan(&self, st: &State, kid: &str, now: Instant, may_fetch: bool) -> Plan {
        let cfg = &self.config;
        let backed_off = st
            .failure
            .as_ref()
            .is_none_or(|f| elapsed(f.at, cfg.failure_backoff, now));
        if let Some(ks) = &st.keys {
            if !elapsed(ks.fetched_at, cfg.ttl, now) {
                if let Some(key) = ks.keys.get(kid) {
                    // Refresh ahead of the TTL, in the background: no request waits on a
                    // routine refresh.
                    let ahead = !st.refreshing
                        && backed_off
                        && elapsed(ks.fetched_at, refresh_ahead_after(cfg), now);
                    return if ahead {
                        Plan::ReadyRefresh(Arc::clone(key))
                    } else {
                        Plan::Ready(Ok(Arc::clone(key)))
                    };
                }
                if may_fetch {
                    if st.refreshing {
                        // The running fetch may bring this kid.
                        return Plan::Wait;
                    }
                    let cooled = st
                        .last_attempt
                        .is_none_or(|t| elapsed(t, cfg.kid_miss_cooldown, now));
                    if cooled && backed_off {
                        return Plan::Fetch;
                    }
                }
                // Decision 12: when the last fetch failed, the kid may be a rotated key the
                // failed fetch would have brought: report the fetch failure, not the kid.
                return Plan::Ready(Err(match &st.failure {
                    Some(f) => f.error.clone(),
                    None => kid_mismatch(kid),
                }));
            }
        }

        // No keys, or expired keys: stale keys serve only while a transient outage's grace lasts,
        // and a refresh is retried in the background meanwhile.
        if let (Some(ks), Some(failure)) = (&st.keys, &st.failure) {
            let usable_until = cfg.ttl.saturating_add(cfg.stale_grace);
            if failure.transient && !elapsed(ks.fetched_at, usable_until, now) {
                if let Some(key) = ks.keys.get(kid) {
                    return if may_fetch && !st.refreshing && backed_off {
                        Plan::ReadyRefresh(Arc::clone(key))
                    } else {
                        Plan::Ready(Ok(Arc::clone(key)))
                    };
                }
            }
        }
        if may_fetch && !st.refreshing && backed_off {
            return Plan::Fetch;
        }
        if may_fetch && st.refreshing {
            return Plan::Wait;
        }
        Plan::Ready(Err(match &st.failure {
            Some(f) => f.error.clone(),
            None => failed_to_load(format!("Error loading Clerk JWKS from {}", self.shown_url)),
        }))
    }

    /// Marks a fetch as running (the single flight), under the lock.
    pub(super) fn begin_fetch(&self, st: &mut State, now: Instant) {
        st.refreshing = true;
        st.last_attempt = Some(now);
    }

    /// Starts a background refresh on a thread of its own, so that no request waits for it.
    /// Called under the lock; at most one fetch runs at a time.
    pub(super) fn spawn_refresh(self: &Arc<Self>, st: &mut State, now: Instant) {
        self.begin_fetch(st, now);
        let shared = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name(REFRESH_THREAD_NAME.to_owned())
            .spawn(move || {
                // The outcome is stored in the cache; failures are logged there.
                let _ = shared.fetch_and_store(now);
            });
        if let Err(e) = spawned {
            tracing::warn!(target: "clerk_auth", error = %e, "Clerk: could not start the key-set refresh thread; the next request that needs the keys will fetch them");
            st.refreshing = false;
        }
    }

    /// Runs the fetch marked by [`begin_fetch`](Self::begin_fetch) (without the lock), stores its
    /// outcome and wakes the waiters.
    pub(super) fn fetch_and_store(&self, now: Instant) -> Result<usize, TokenVerificationError> {
        let mut guard = FlightGuard {
            shared: self,
            armed: true,
        };
        tracing::debug!(target: "clerk_auth", url = %self.shown_url, "fetching Clerk JWKS");
        let outcome = self.fetch(now);
        guard.armed = false;
        let label = match &outcome {
            Ok(_) => "ok",
            Err(failure) => failure.outcome,
        };
        metrics::counter!(crate::telemetry::JWKS_FETCHES, "outcome" => label).increment(1);

        let mut st = self.lock();
        st.refreshing = false;
        st.generation = st.generation.wrapping_add(1);
        let result = match outcome {
            Ok(keys) => {
                let count = keys.len();
                tracing::debug!(url = %self.shown_url, keys = count, "loaded Clerk JWKS");
                st.keys = Some(KeySet {
                    keys,
                    fetched_at: now,
                });
                st.failure = None;
                Ok(count)
            }
            Err(failure) => {
                tracing::warn!(
                    url = %self.shown_url,
                    reason = %failure.error.reason,
                    message = %failure.error.message,
                    transient = failure.transient,
                    "failed to load Clerk JWKS"
                );
                if !failure.transient {
                    // A refusal: expired keys must not be revived by a later transient failure.
                    let expired = st
                        .keys
                        .as_ref()
                        .is_some_and(|ks| elapsed(ks.fetched_at, self.config.ttl, Instant::now()));
                    if expired {
                        st.keys = None;
                    }
                }
                let error = failure.error.clone();
                st.failure = Some(Failure {
                    at: Instant::now(),
                    error: failure.error,
                    transient: failure.transient,
                });
                Err(error)
            }
        };
        self.done.notify_all();
        result
    }
}

/// After a fetch that succeeded: `kid`'s key from it (whatever the TTL), or `jwk-kid-mismatch`.
pub(super) fn key_of_last_fetch(
    st: &State,
    kid: &str,
) -> Option<Result<Arc<VerificationKey>, TokenVerificationError>> {
    let ks = st.keys.as_ref()?;
    Some(
        ks.keys
            .get(kid)
            .map(Arc::clone)
            .ok_or_else(|| kid_mismatch(kid)),
    )
}

/// Ends the flight if the fetch unwinds, so waiters are never stuck.
struct FlightGuard<'a> {
    shared: &'a Shared,
    armed: bool,
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut st = self.shared.lock();
            st.refreshing = false;
            st.generation = st.generation.wrapping_add(1);
            self.shared.done.notify_all();
        }
    }
}

/// The name of the thread a background refresh runs on.
const REFRESH_THREAD_NAME: &str = "clerk-auth-jwks-refresh";

/// How long after a fetch its keys are refreshed ahead, in the background.
fn refresh_ahead_after(cfg: &JwksConfig) -> Duration {
    cfg.ttl.saturating_mul(cfg.refresh_at_percent.min(100)) / 100
}

/// Whether at least `d` has passed from `since` to `now`.
fn elapsed(since: Instant, d: Duration, now: Instant) -> bool {
    now.saturating_duration_since(since) >= d
}
