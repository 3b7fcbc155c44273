//! The Backend API budget of one configured instance (decision 13).
//!
//! Some values a client chooses freely make the decision call the Backend API: a handshake nonce
//! (`__clerk_handshake_nonce`) and an opaque machine token (`ak_…`, `mt_…`, `oat_…`). Without a
//! bound, a client sending random values spends the instance's Backend API rate limit, and every
//! request of the flood holds a blocking thread for a round trip. The budget bounds that spend:
//!
//! 1. **One call in flight per distinct value**: concurrent requests with the same value share one
//!    call and its answer.
//! 2. **A negative cache** for definitive refusals (not found, revoked, expired): a refused value
//!    presented again within [`BackendApiBudget::negative_cache_ttl`] (default 10 s) is refused
//!    again without a call.
//! 3. **A budget for values never seen before**: at most
//!    [`max_in_flight`](BackendApiBudget::max_in_flight) calls at once (default 8) and a token
//!    bucket of [`rate_per_second`](BackendApiBudget::rate_per_second) (default 20) with a
//!    [`burst`](BackendApiBudget::burst) of 40. A call that would exceed either does not wait: it
//!    is **over budget**, and no call is made. "Seen before" means a positive answer within
//!    [`seen_before_memory`](BackendApiBudget::seen_before_memory) (default 1 hour, much longer
//!    than the 5-second answer cache), so re-verifying a known API key never competes with a
//!    flood of random ones.
//!
//! Over budget, a machine token is answered `503` with reason `backend-api-budget-exhausted` and
//! `Retry-After: 1`; a handshake nonce is treated as one that could not be resolved (Clerk's path:
//! the flow goes on without the handshake payload). One warning per minute says so, and the
//! `clerk_auth_warnings_total{condition="backend-api-budget"}` counter counts every occurrence.
//!
//! Both memories hold SHA-256 digests, never the values; both are bounded
//! ([`MEMORY_CAPACITY`] entries each). Everything here belongs to one [`Options`](crate::Options)
//! instance: nothing is process-global.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use moka::sync::Cache;

use crate::bapi::{BackendApi, BapiError};
use crate::diagnostics::{Condition, Diagnostics};

/// How many digests each memory (refusals, values seen before) holds at most.
const MEMORY_CAPACITY: u64 = 10_000;

/// The Backend API budget of an instance (decision 13), set with
/// [`OptionsBuilder::backend_api_budget`](crate::OptionsBuilder::backend_api_budget).
///
/// It bounds the Backend API calls that values chosen by clients (handshake nonces, opaque machine
/// tokens) can cause; see the [`machine`](crate::machine) module documentation and
/// `docs/operations.md` for the whole picture. The defaults suit one instance of a service
/// talking to Clerk's production Backend API:
///
/// | setting | default |
/// |---|---|
/// | [`max_in_flight`](Self::max_in_flight) | 8 calls |
/// | [`rate_per_second`](Self::rate_per_second) | 20 calls per second |
/// | [`burst`](Self::burst) | 40 calls |
/// | [`negative_cache_ttl`](Self::negative_cache_ttl) | 10 s |
/// | [`seen_before_memory`](Self::seen_before_memory) | 1 hour |
///
/// ```
/// use std::time::Duration;
/// use clerk_auth_core::{BackendApiBudget, Options};
///
/// let options = Options::builder()
///     .secret_key("sk_live_xxx")
///     .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
///     .backend_api_budget(
///         BackendApiBudget::default()
///             .with_rate_per_second(50)
///             .with_burst(100)
///             .with_negative_cache_ttl(Duration::from_secs(30)),
///     )
///     .build()?;
/// # let _ = options;
/// # Ok::<(), clerk_auth_core::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendApiBudget {
    max_in_flight: usize,
    rate_per_second: u32,
    burst: u32,
    negative_cache_ttl: Duration,
    seen_before_memory: Duration,
}

impl Default for BackendApiBudget {
    fn default() -> Self {
        Self {
            max_in_flight: 8,
            rate_per_second: 20,
            burst: 40,
            negative_cache_ttl: Duration::from_secs(10),
            seen_before_memory: Duration::from_secs(60 * 60),
        }
    }
}

impl BackendApiBudget {
    /// At most this many calls for values never seen before run at once; one more is over budget
    /// (it does not wait). Defaults to 8; zero makes every new value over budget.
    #[must_use]
    pub fn with_max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max;
        self
    }

    /// The token bucket's refill rate for values never seen before, in calls per second. Defaults
    /// to 20; zero never refills (only the burst is ever spent).
    #[must_use]
    pub fn with_rate_per_second(mut self, rate: u32) -> Self {
        self.rate_per_second = rate;
        self
    }

    /// The token bucket's capacity (it starts full): how many calls for new values may be made
    /// at once after a quiet period. Defaults to 40.
    #[must_use]
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst;
        self
    }

    /// How long a definitive refusal (not found, revoked, expired) is remembered, so that the
    /// same value is refused again without a call. Defaults to 10 s; zero turns the negative cache
    /// off. The trade-off: a token created in Clerk after it was presented and refused here is
    /// accepted by this instance at most this much later.
    #[must_use]
    pub fn with_negative_cache_ttl(mut self, ttl: Duration) -> Self {
        self.negative_cache_ttl = ttl;
        self
    }

    /// How long a positive answer makes a value "seen before", exempt from the in-flight bound
    /// and the token bucket. Defaults to 1 hour; zero exempts nothing.
    #[must_use]
    pub fn with_seen_before_memory(mut self, memory: Duration) -> Self {
        self.seen_before_memory = memory;
        self
    }

    /// The in-flight bound for new values.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// The token bucket's rate, in calls per second.
    pub fn rate_per_second(&self) -> u32 {
        self.rate_per_second
    }

    /// The token bucket's capacity.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The negative cache's time to live.
    pub fn negative_cache_ttl(&self) -> Duration {
        self.negative_cache_ttl
    }

    /// How long a positive answer is remembered.
    pub fn seen_before_memory(&self) -> Duration {
        self.seen_before_memory
    }
}

/// A SHA-256 digest of a domain (what the value is: a token kind, `nonce`) and a value: the
/// memories never hold the value itself.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Digest([u8; 32]);

impl Digest {
    pub(crate) fn new(domain: &str, value: &str) -> Self {
        let mut hasher = openssl::sha::Sha256::new();
        hasher.update(domain.as_bytes());
        hasher.update(b"\0");
        hasher.update(value.as_bytes());
        Self(hasher.finish())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Digest([redacted])")
    }
}

/// A definitive refusal, as remembered by the negative cache (the message and status to answer
/// again; never the value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) message: Cow<'static, str>,
    pub(crate) status: Option<u16>,
}

/// A token bucket: `tokens` available at `at`.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The runtime state of one instance's budget (held by [`Options`](crate::Options)).
pub(crate) struct Budget {
    config: BackendApiBudget,
    bucket: Mutex<Bucket>,
    in_flight: AtomicUsize,
    refused: Option<Cache<Digest, Refusal, foldhash::fast::RandomState>>,
    seen: Option<Cache<Digest, (), foldhash::fast::RandomState>>,
    nonces: SingleFlight<NonceOutcome>,
}

impl fmt::Debug for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Budget")
            .field("config", &self.config)
            .field("in_flight", &self.in_flight.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

fn memory<V: Clone + Send + Sync + 'static>(
    ttl: Duration,
) -> Option<Cache<Digest, V, foldhash::fast::RandomState>> {
    (!ttl.is_zero()).then(|| {
        Cache::builder()
            .max_capacity(MEMORY_CAPACITY)
            .time_to_live(ttl)
            .build_with_hasher(foldhash::fast::RandomState::default())
    })
}

impl Budget {
    pub(crate) fn new(config: BackendApiBudget) -> Self {
        Self {
            bucket: Mutex::new(Bucket {
                tokens: f64::from(config.burst),
                at: Instant::now(),
            }),
            in_flight: AtomicUsize::new(0),
            refused: memory(config.negative_cache_ttl),
            seen: memory(config.seen_before_memory),
            nonces: SingleFlight::default(),
            config,
        }
    }

    /// The configuration.
    pub(crate) fn config(&self) -> &BackendApiBudget {
        &self.config
    }

    /// The remembered refusal of `digest`, if any.
    pub(crate) fn refusal(&self, digest: &Digest) -> Option<Refusal> {
        self.refused.as_ref()?.get(digest)
    }

    /// Remembers a definitive refusal of `digest` (and forgets that it was seen before).
    pub(crate) fn refuse(&self, digest: Digest, refusal: Refusal) {
        if let Some(seen) = &self.seen {
            seen.invalidate(&digest);
        }
        if let Some(refused) = &self.refused {
            refused.insert(digest, refusal);
        }
    }

    /// Remembers a positive answer for `digest`: it is "seen before" for the configured memory.
    pub(crate) fn remember(&self, digest: Digest) {
        if let Some(seen) = &self.seen {
            seen.insert(digest, ());
        }
    }

    /// Whether `digest` had a positive answer within the memory.
    pub(crate) fn is_known(&self, digest: &Digest) -> bool {
        self.seen
            .as_ref()
            .is_some_and(|seen| seen.contains_key(digest))
    }

    fn lock_bucket(&self) -> MutexGuard<'_, Bucket> {
        self.bucket.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Refills the bucket for the time elapsed since its last update.
    fn refill(&self, bucket: &mut Bucket, now: Instant) {
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * f64::from(self.config.rate_per_second))
            .min(f64::from(self.config.burst));
        bucket.at = now;
    }

    /// Admits one call for `digest`, or `None` when it is over budget (nothing is waited for).
    /// A value seen before is always admitted; a new value takes an in-flight slot (released
    /// when the permit drops) and a token from the bucket.
    pub(crate) fn admit(&self, digest: &Digest) -> Option<Permit<'_>> {
        if self.is_known(digest) {
            return Some(Permit { slot: None });
        }
        let max = self.config.max_in_flight;
        self.in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        let permit = Permit {
            slot: Some(&self.in_flight),
        };
        let mut bucket = self.lock_bucket();
        self.refill(&mut bucket, Instant::now());
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Some(permit)
        } else {
            None // The permit drops here and frees its slot.
        }
    }

    /// Whether a call for `digest` would certainly be over budget right now: not seen before, and
    /// the in-flight bound or the bucket is exhausted. Takes nothing (for non-blocking mode,
    /// which must decide without spending the budget of the blocking rerun).
    pub(crate) fn certainly_over(&self, digest: &Digest) -> bool {
        if self.is_known(digest) {
            return false;
        }
        if self.in_flight.load(Ordering::Acquire) >= self.config.max_in_flight {
            return true;
        }
        let mut bucket = self.lock_bucket();
        self.refill(&mut bucket, Instant::now());
        bucket.tokens < 1.0
    }

    /// Counts one over-budget occurrence and warns at most once a minute.
    pub(crate) fn report_over_budget(diagnostics: &Diagnostics, what: &'static str) {
        if diagnostics.should_warn(Condition::BackendApiBudget) {
            tracing::warn!(target: "clerk_auth", what, "Clerk: the Backend API budget of this instance is exhausted; requests with new values are refused without a call (see BackendApiBudget)");
        }
    }

    /// The directives of Clerk's handshake payload for `nonce`, within the budget.
    /// Any failure, a remembered refusal and an over-budget nonce give no directives (Clerk's
    /// path: the flow goes on without them). `None` when the answer needs a call and `may_block`
    /// is false.
    pub(crate) fn handshake_payload(
        &self,
        api: &dyn BackendApi,
        nonce: &str,
        diagnostics: &Diagnostics,
        may_block: bool,
    ) -> Option<Vec<String>> {
        let digest = Digest::new("nonce", nonce);
        if self.refusal(&digest).is_some() {
            tracing::debug!(target: "clerk_auth", "Clerk: handshake nonce refused recently; not asking again");
            return Some(Vec::new());
        }
        if !may_block {
            if !self.nonces.is_running(&digest) && self.certainly_over(&digest) {
                Self::report_over_budget(diagnostics, "handshake nonce");
                return Some(Vec::new());
            }
            return None;
        }
        let outcome = self.nonces.run(digest, || {
            if self.refusal(&digest).is_some() {
                return NonceOutcome::Unresolved;
            }
            let Some(permit) = self.admit(&digest) else {
                return NonceOutcome::OverBudget;
            };
            let answer = api.handshake_payload(nonce);
            drop(permit);
            match answer {
                Ok(directives) => NonceOutcome::Resolved(directives),
                Err(BapiError::Status { status: 404, .. }) => {
                    tracing::debug!(target: "clerk_auth", "Clerk: handshake nonce not found by the Backend API");
                    self.refuse(
                        digest,
                        Refusal {
                            message: Cow::Borrowed("Handshake payload not found"),
                            status: Some(404),
                        },
                    );
                    NonceOutcome::Unresolved
                }
                Err(e) => {
                    tracing::warn!(target: "clerk_auth", error = %e, "Clerk: failed to fetch the handshake payload");
                    NonceOutcome::Unresolved
                }
            }
        });
        Some(match outcome {
            Some(NonceOutcome::Resolved(directives)) => directives,
            Some(NonceOutcome::OverBudget) => {
                Self::report_over_budget(diagnostics, "handshake nonce");
                Vec::new()
            }
            Some(NonceOutcome::Unresolved) | None => Vec::new(),
        })
    }
}

/// What one handshake-payload flight produced.
#[derive(Clone, Debug)]
enum NonceOutcome {
    Resolved(Vec<String>),
    Unresolved,
    OverBudget,
}

/// An admitted call: frees its in-flight slot (if it took one) when dropped.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    slot: Option<&'a AtomicUsize>,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            slot.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

// ---- Single flight --------------------------------------------------------------------------

/// One call in flight per distinct value: the first caller (the leader) runs the call, later
/// callers with the same digest wait for its outcome and share it. Nothing is kept once the call
/// ends.
pub(crate) struct SingleFlight<T> {
    flights: Mutex<HashMap<Digest, Arc<Flight<T>>>>,
}

impl<T> Default for SingleFlight<T> {
    fn default() -> Self {
        Self {
            flights: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> fmt::Debug for SingleFlight<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SingleFlight").finish_non_exhaustive()
    }
}

struct Flight<T> {
    slot: Mutex<Slot<T>>,
    done: Condvar,
}

enum Slot<T> {
    Running,
    Done(T),
    /// The leader went away without an outcome (its call panicked).
    Abandoned,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl<T: Clone> SingleFlight<T> {
    /// Whether a call for `digest` is running.
    pub(crate) fn is_running(&self, digest: &Digest) -> bool {
        lock(&self.flights).contains_key(digest)
    }

    /// The outcome of `call` for `digest`, run by this caller or shared with the caller already
    /// running it. `None` only when that other caller's call panicked.
    pub(crate) fn run(&self, digest: Digest, call: impl FnOnce() -> T) -> Option<T> {
        let (flight, leader) = {
            let mut flights = lock(&self.flights);
            match flights.get(&digest) {
                Some(flight) => (Arc::clone(flight), false),
                None => {
                    let flight = Arc::new(Flight {
                        slot: Mutex::new(Slot::Running),
                        done: Condvar::new(),
                    });
                    flights.insert(digest, Arc::clone(&flight));
                    (flight, true)
                }
            }
        };
        if !leader {
            let mut slot = lock(&flight.slot);
            while matches!(*slot, Slot::Running) {
                slot = flight.done.wait(slot).unwrap_or_else(|e| e.into_inner());
            }
            return match &*slot {
                Slot::Done(value) => Some(value.clone()),
                _ => None,
            };
        }
        let mut guard = Leader {
            flights: self,
            digest,
            flight: &flight,
            outcome: None,
        };
        let value = call();
        guard.outcome = Some(value.clone());
        drop(guard);
        Some(value)
    }
}

/// Publishes the leader's outcome (or its absence, if the call unwound) and ends the flight.
struct Leader<'a, T> {
    flights: &'a SingleFlight<T>,
    digest: Digest,
    flight: &'a Arc<Flight<T>>,
    outcome: Option<T>,
}

impl<T> Drop for Leader<'_, T> {
    fn drop(&mut self) {
        {
            let mut flights = lock(&self.flights.flights);
            if flights
                .get(&self.digest)
                .is_some_and(|f| Arc::ptr_eq(f, self.flight))
            {
                flights.remove(&self.digest);
            }
        }
        *lock(&self.flight.slot) = match self.outcome.take() {
            Some(value) => Slot::Done(value),
            None => Slot::Abandoned,
        };
        self.flight.done.notify_all();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::sync::Barrier;
    use std::thread;

    fn digest(value: &str) -> Digest {
        Digest::new("test", value)
    }

    #[test]
    fn digests_separate_domains_and_values_and_never_print() {
        assert!(digest("a") == digest("a"));
        assert!(digest("a") != digest("b"));
        assert!(Digest::new("x", "a") != digest("a"));
        assert_eq!(format!("{:?}", digest("secret")), "Digest([redacted])");
    }

    #[test]
    fn the_bucket_allows_the_burst_then_refuses_without_waiting() {
        let budget = Budget::new(
            BackendApiBudget::default()
                .with_burst(3)
                .with_rate_per_second(0),
        );
        for i in 0..3 {
            assert!(budget.admit(&digest(&i.to_string())).is_some(), "{i}");
        }
        assert!(budget.certainly_over(&digest("x")));
        assert!(budget.admit(&digest("x")).is_none());
        // A value seen before is exempt.
        budget.remember(digest("known"));
        assert!(!budget.certainly_over(&digest("known")));
        assert!(budget.admit(&digest("known")).is_some());
    }

    #[test]
    fn the_bucket_refills_at_the_rate() {
        let budget = Budget::new(
            BackendApiBudget::default()
                .with_burst(1)
                .with_rate_per_second(2),
        );
        assert!(budget.admit(&digest("a")).is_some());
        assert!(budget.admit(&digest("b")).is_none());
        thread::sleep(Duration::from_millis(600));
        assert!(budget.admit(&digest("c")).is_some());
    }

    #[test]
    fn the_in_flight_bound_frees_with_the_permit() {
        let budget = Budget::new(BackendApiBudget::default().with_max_in_flight(2));
        let a = budget.admit(&digest("a")).unwrap();
        let b = budget.admit(&digest("b")).unwrap();
        assert!(budget.certainly_over(&digest("c")));
        assert!(budget.admit(&digest("c")).is_none());
        drop(a);
        assert!(!budget.certainly_over(&digest("c")));
        let c = budget.admit(&digest("c")).unwrap();
        drop((b, c));
        assert_eq!(budget.in_flight.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn refusals_are_remembered_and_forget_the_seen_mark() {
        let budget = Budget::new(BackendApiBudget::default());
        budget.remember(digest("k"));
        assert!(budget.is_known(&digest("k")));
        let refusal = Refusal {
            message: Cow::Borrowed("gone"),
            status: Some(404),
        };
        budget.refuse(digest("k"), refusal.clone());
        assert_eq!(budget.refusal(&digest("k")), Some(refusal));
        assert!(!budget.is_known(&digest("k")));
        let off = Budget::new(BackendApiBudget::default().with_negative_cache_ttl(Duration::ZERO));
        off.refuse(
            digest("k"),
            Refusal {
                message: Cow::Borrowed("gone"),
                status: None,
            },
        );
        assert_eq!(off.refusal(&digest("k")), None);
    }

    #[test]
    fn single_flight_shares_one_call() {
        let flights = Arc::new(SingleFlight::<usize>::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (flights, calls, barrier) = (
                    Arc::clone(&flights),
                    Arc::clone(&calls),
                    Arc::clone(&barrier),
                );
                thread::spawn(move || {
                    barrier.wait();
                    flights.run(digest("v"), || {
                        thread::sleep(Duration::from_millis(200));
                        calls.fetch_add(1, Ordering::SeqCst) + 41
                    })
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), Some(41));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(!flights.is_running(&digest("v")));
        // Nothing is kept: the next call runs again.
        assert_eq!(flights.run(digest("v"), || 7), Some(7));
    }

    #[test]
    fn a_panicking_leader_releases_its_followers() {
        let flights = Arc::new(SingleFlight::<usize>::default());
        let leader = {
            let flights = Arc::clone(&flights);
            thread::spawn(move || {
                flights.run(digest("p"), || {
                    thread::sleep(Duration::from_millis(1000));
                    panic!("a custom BackendApi panicked")
                })
            })
        };
        thread::sleep(Duration::from_millis(100));
        assert!(flights.is_running(&digest("p")));
        assert_eq!(flights.run(digest("p"), || 1), None);
        assert!(leader.join().is_err());
        assert!(!flights.is_running(&digest("p")));
    }
}
