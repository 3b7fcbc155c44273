//! Remote key set (JWKS) from Clerk's Backend API (§3.6, decision 3).
//!
//! [`JwksVerifier`] fetches `GET {api_url}/{api_version}/jwks` with the secret key and keeps the
//! keys in a cache that belongs to the verifier instance (so its scope is exactly one API URL,
//! API version and secret key; nothing is process-global).
//!
//! Cache rules:
//! - **TTL, strict.** Keys are fresh for [`JwksConfig::ttl`] (5 minutes) after the fetch that
//!   brought them started. A hit never extends it. Each successful fetch replaces the whole set.
//! - **Refreshed ahead, in the background.** A request that finds its key after
//!   [`JwksConfig::refresh_at_percent`] (80%) of the TTL starts a refresh on a background thread
//!   and goes on with the current keys, as do the requests after it: with steady traffic, no
//!   request ever waits on a routine refresh, and the keys never expire.
//! - **Single flight.** One fetch at a time: requests that must wait for the keys (none in
//!   memory, keys past their TTL, a `kid` that a fetch may bring) wait for the running fetch and
//!   use its result; they never start another.
//! - **Non-blocking lookups.** [`TokenVerifier::try_key`] decides and takes the key in one step
//!   under the cache's lock: it never fetches and never waits; it answers `None` ("would
//!   block") exactly when a blocking lookup would fetch or wait.
//! - **Unknown `kid`.** With fresh keys, a token whose `kid` is not in the set triggers a refresh
//!   at most once per [`JwksConfig::kid_miss_cooldown`] (10 s); otherwise it fails at once with
//!   `jwk-kid-mismatch`. Random `kid`s cannot drive traffic to the Backend API. When the refetch
//!   (or the last fetch) failed, the failure is reported (`secret-key-invalid`,
//!   `jwk-remote-failed-to-load`: `503`), not the `kid` (decision 12).
//! - **Outages.** A fetch failing for network reasons, a 5xx, a 429, a redirect (never followed:
//!   the secret key only goes to the configured host) or an unreadable body is *transient*: the
//!   last good keys keep serving for [`JwksConfig::stale_grace`] (1 hour) past their TTL, then
//!   verification fails closed with `jwk-remote-failed-to-load`. While the outage lasts, a
//!   background refresh retries the fetch once per [`JwksConfig::failure_backoff`] (10 s); the
//!   requests use the stale keys without waiting for it.
//! - **Refusals.** A 4xx (other than 429) is not retried and gets no grace: `clerk_key_invalid`
//!   is `secret-key-invalid` with the Backend API's message, anything else
//!   `jwk-remote-failed-to-load` ("Error loading Clerk JWKS from `<url>` with code=`<status>`").
//!   An empty key set is `jwk-remote-failed-to-load`.
//! - **Bounded time.** Each attempt has a timeout ([`JwksConfig::timeout`], 1.5 s); network
//!   errors and 5xx are retried up to [`JwksConfig::max_attempts`] (3) with exponential backoff
//!   from [`JwksConfig::retry_backoff`] (100 ms, ×2, jitter ×[1, 1.5)); the whole fetch,
//!   retries included, stays within [`JwksConfig::fetch_budget`] (3.5 s).
//!
//! Time for all of this is [`Instant`] (monotonic): a wall-clock jump neither expires nor
//! revives keys.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::{TokenVerifier, VerificationKey};
use crate::error::{
    TokenVerificationError, TokenVerificationErrorAction, TokenVerificationErrorReason,
};
use crate::http::{BapiError, BapiErrorKind, BapiHttp, BapiResponse};
use crate::token::Jwt;

/// Clerk's message for a key set without any usable signing key (`jwk-remote-failed-to-load`).
pub(crate) const EMPTY_KEY_SET_MESSAGE: &str =
    "The JWKS endpoint did not contain any signing keys. Contact support@clerk.com.";

/// Clerk's production Backend API URL.
pub const DEFAULT_API_URL: &str = "https://api.clerk.com";
/// Clerk's Backend API version path segment.
pub const DEFAULT_API_VERSION: &str = "v1";

/// Settings of a [`JwksVerifier`]. Build with [`JwksConfig::new`] and adjust fields.
///
/// `Debug` never shows the secret key.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwksConfig {
    /// Backend API base URL, may carry a path. Defaults to `https://api.clerk.com`.
    pub api_url: String,
    /// Backend API version segment. Defaults to `v1`.
    pub api_version: String,
    /// The secret key (`CLERK_SECRET_KEY`) sent as the bearer token. Empty means none: every
    /// load fails with `jwk-remote-failed-to-load` without a request.
    pub secret_key: String,
    /// How long fetched keys are fresh, from the start of the fetch; hits never extend it.
    /// Defaults to 5 minutes (Clerk's `MAX_CACHE_LAST_UPDATED_AT_SECONDS`).
    pub ttl: Duration,
    /// Minimum time between two fetches caused by an unknown `kid`. Defaults to 10 s.
    pub kid_miss_cooldown: Duration,
    /// After a failed fetch, minimum time before the next one. Defaults to 10 s.
    pub failure_backoff: Duration,
    /// How long past their TTL the last good keys keep serving while fetches fail for
    /// transient reasons (network, 5xx, 429). Defaults to 1 hour.
    pub stale_grace: Duration,
    /// Timeout of one HTTP attempt, connect to last body byte. Defaults to 1.5 s.
    pub timeout: Duration,
    /// Attempts per fetch (the first one included) for network errors and 5xx. Defaults to 3.
    pub max_attempts: u32,
    /// Pause before the first retry, doubled for each next one (with jitter). Defaults to 100 ms.
    pub retry_backoff: Duration,
    /// Upper bound on one whole fetch, retries and pauses included. Defaults to 3.5 s.
    pub fetch_budget: Duration,
    /// When, in percent of the [`ttl`](Self::ttl), a request that finds its key refreshes the
    /// key set ahead of expiry, in the background (one fetch at a time), while it and the
    /// following requests keep using the current keys. Defaults to 80; 100 turns refreshing
    /// ahead off.
    pub refresh_at_percent: u32,
}

impl JwksConfig {
    /// Defaults (see each field) for the production Backend API with `secret_key`.
    pub fn new(secret_key: impl Into<String>) -> Self {
        Self {
            api_url: DEFAULT_API_URL.to_owned(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            secret_key: secret_key.into(),
            ttl: Duration::from_secs(300),
            kid_miss_cooldown: Duration::from_secs(10),
            failure_backoff: Duration::from_secs(10),
            stale_grace: Duration::from_secs(3600),
            timeout: Duration::from_millis(1500),
            max_attempts: 3,
            retry_backoff: Duration::from_millis(100),
            fetch_budget: Duration::from_millis(3500),
            refresh_at_percent: 80,
        }
    }

    /// The same settings with another API URL.
    pub fn with_api_url(mut self, api_url: impl Into<String>) -> Self {
        self.api_url = api_url.into();
        self
    }

    /// The same settings with another API version.
    pub fn with_api_version(mut self, api_version: impl Into<String>) -> Self {
        self.api_version = api_version.into();
        self
    }
}

impl fmt::Debug for JwksConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksConfig")
            .field("api_url", &self.api_url)
            .field("api_version", &self.api_version)
            .field("secret_key", &"[redacted]")
            .field("ttl", &self.ttl)
            .field("kid_miss_cooldown", &self.kid_miss_cooldown)
            .field("failure_backoff", &self.failure_backoff)
            .field("stale_grace", &self.stale_grace)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("retry_backoff", &self.retry_backoff)
            .field("fetch_budget", &self.fetch_budget)
            .field("refresh_at_percent", &self.refresh_at_percent)
            .finish()
    }
}

/// Keys from one successful fetch.
struct KeySet {
    keys: HashMap<String, Arc<VerificationKey>>,
    fetched_at: Instant,
}

/// The last failed fetch (cleared by a success).
struct Failure {
    at: Instant,
    error: TokenVerificationError,
    /// Network, 5xx, 429, unreadable body: the stale grace applies.
    transient: bool,
}

#[derive(Default)]
struct State {
    keys: Option<KeySet>,
    failure: Option<Failure>,
    refreshing: bool,
    last_attempt: Option<Instant>,
    /// Incremented when a fetch ends (waiters use it to see that "their" fetch finished).
    generation: u64,
}

enum Plan {
    Ready(Result<Arc<VerificationKey>, TokenVerificationError>),
    /// The key is usable now; start a background refresh (ahead of the TTL, or past it while
    /// an outage's stale grace lasts).
    ReadyRefresh(Arc<VerificationKey>),
    Wait,
    Fetch,
}

/// One failed fetch attempt, classified.
struct FetchFailure {
    error: TokenVerificationError,
    /// The `outcome` label of [`JWKS_FETCHES`](crate::telemetry::JWKS_FETCHES).
    outcome: &'static str,
    transient: bool,
    retryable: bool,
}

/// A [`TokenVerifier`] over Clerk's remote key set, with a per-instance cache.
/// See the [module documentation](self) for the cache rules.
///
/// ```no_run
/// use clerk_auth_core::verify::jwks::{JwksConfig, JwksVerifier};
///
/// let verifier = JwksVerifier::new(JwksConfig::new(std::env::var("CLERK_SECRET_KEY").unwrap_or_default()));
/// verifier.refresh().ok(); // pre-warm at start-up
/// ```
pub struct JwksVerifier {
    shared: Arc<Shared>,
}

/// What the verifier and its background refresh thread share.
struct Shared {
    config: JwksConfig,
    http: BapiHttp,
    url: String,
    /// `url` without userinfo: what messages and logs show (decision 15).
    shown_url: String,
    state: Mutex<State>,
    done: Condvar,
}

impl fmt::Debug for JwksVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksVerifier")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl JwksVerifier {
    /// A verifier with an empty cache; nothing is fetched until a key is needed or
    /// [`refresh`](Self::refresh) is called.
    pub fn new(config: JwksConfig) -> Self {
        let http = BapiHttp::new(&config.api_url, &config.api_version, config.timeout);
        let url = http.url("/jwks", true);
        let shown_url = crate::text::without_userinfo(&url).into_owned();
        Self {
            shared: Arc::new(Shared {
                config,
                http,
                url,
                shown_url,
                state: Mutex::new(State::default()),
                done: Condvar::new(),
            }),
        }
    }

    /// Records the `Date` of every answer in `clock` (the instance's clock-skew detector).
    /// Called once, at construction, before the verifier is shared.
    pub(crate) fn with_clock_offset(
        self,
        clock: std::sync::Arc<crate::diagnostics::ClockOffset>,
    ) -> Self {
        match Arc::try_unwrap(self.shared) {
            Ok(mut shared) => {
                shared.http = shared.http.with_clock_offset(clock);
                Self {
                    shared: Arc::new(shared),
                }
            }
            Err(shared) => Self { shared },
        }
    }

    /// The settings.
    pub fn config(&self) -> &JwksConfig {
        &self.shared.config
    }

    /// The key set URL, `{api_url}/{api_version}/jwks`.
    pub fn jwks_url(&self) -> &str {
        &self.shared.url
    }

    /// Fetches the key set now (for example at start-up, to pre-warm the cache) and returns the
    /// number of usable keys. If a fetch is already running, waits for it and reports its
    /// outcome instead of fetching again.
    pub fn refresh(&self) -> Result<usize, TokenVerificationError> {
        let shared = &*self.shared;
        let mut st = shared.lock();
        if st.refreshing {
            let generation = st.generation;
            st = shared.wait(st, generation);
            return match (&st.failure, &st.keys) {
                (Some(f), _) => Err(f.error.clone()),
                (None, Some(ks)) => Ok(ks.keys.len()),
                (None, None) => Err(failed_to_load(format!(
                    "Error loading Clerk JWKS from {}",
                    shared.shown_url
                ))),
            };
        }
        let now = Instant::now();
        shared.begin_fetch(&mut st, now);
        drop(st);
        shared.fetch_and_store(now)
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the fetch running at `generation` has ended.
    fn wait<'a>(&'a self, st: MutexGuard<'a, State>, generation: u64) -> MutexGuard<'a, State> {
        self.done
            .wait_while(st, |s| s.refreshing && s.generation == generation)
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Decides, under the lock and without IO, what a key lookup for `kid` must do now.
    /// `may_fetch` is false once this lookup has already fetched or waited.
    fn plan(&self, st: &State, kid: &str, now: Instant, may_fetch: bool) -> Plan {
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
    fn begin_fetch(&self, st: &mut State, now: Instant) {
        st.refreshing = true;
        st.last_attempt = Some(now);
    }

    /// Starts a background refresh on a thread of its own, so that no request waits for it.
    /// Called under the lock; at most one fetch runs at a time.
    fn spawn_refresh(self: &Arc<Self>, st: &mut State, now: Instant) {
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
    fn fetch_and_store(&self, now: Instant) -> Result<usize, TokenVerificationError> {
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

    /// Fetches and parses the key set, with retries, within the fetch budget.
    fn fetch(&self, start: Instant) -> Result<HashMap<String, Arc<VerificationKey>>, FetchFailure> {
        let cfg = &self.config;
        if cfg.secret_key.is_empty() {
            return Err(FetchFailure {
                error: failed_to_load("Failed to load JWKS from Clerk Backend or Frontend API."),
                outcome: "secret-key-missing",
                transient: false,
                retryable: false,
            });
        }
        let mut backoff = cfg.retry_backoff;
        let mut attempt: u32 = 0;
        loop {
            attempt = attempt.saturating_add(1);
            let remaining = cfg.fetch_budget.saturating_sub(start.elapsed());
            let timeout = cfg.timeout.min(remaining).max(Duration::from_millis(1));
            let outcome = self
                .http
                .get_with_timeout("/jwks", &[], &cfg.secret_key, timeout);
            let failure = match self.classify(outcome) {
                Ok(keys) => return Ok(keys),
                Err(failure) => failure,
            };
            if !failure.retryable || attempt >= cfg.max_attempts {
                return Err(failure);
            }
            let pause = jitter(backoff);
            // Only retry if the pause plus a useful attempt still fit in the budget.
            let needed = pause.saturating_add(cfg.timeout.min(Duration::from_millis(100)));
            if start.elapsed().saturating_add(needed) >= cfg.fetch_budget {
                return Err(failure);
            }
            std::thread::sleep(pause);
            backoff = backoff.saturating_mul(2);
        }
    }

    fn classify(
        &self,
        outcome: Result<BapiResponse, BapiError>,
    ) -> Result<HashMap<String, Arc<VerificationKey>>, FetchFailure> {
        let response = match outcome {
            Ok(r) => r,
            Err(e) => {
                let (transient, retryable, outcome) = match e.kind {
                    BapiErrorKind::Timeout | BapiErrorKind::Network => {
                        (true, true, "network-error")
                    }
                    BapiErrorKind::ResponseTooLarge => (true, false, "invalid-body"),
                    BapiErrorKind::InvalidRequest => (false, false, "network-error"),
                };
                // The transport library's text goes to the log only (decision 15).
                tracing::warn!(url = %self.shown_url, error = %e, "Clerk JWKS request failed");
                return Err(FetchFailure {
                    outcome,
                    error: failed_to_load(format!(
                        "Error loading Clerk JWKS from {}",
                        self.shown_url
                    )),
                    transient,
                    retryable,
                });
            }
        };

        if !response.is_success() {
            let json: Option<Value> = serde_json::from_slice(&response.body).ok();
            if let Some(message) = clerk_key_invalid_message(json.as_ref()) {
                return Err(FetchFailure {
                    error: TokenVerificationError::new(
                        TokenVerificationErrorReason::SecretKeyInvalid,
                        message,
                    )
                    .with_action(TokenVerificationErrorAction::ContactSupport),
                    outcome: "secret-key-invalid",
                    transient: false,
                    retryable: false,
                });
            }
            let status = response.status;
            let outcome = match status {
                // The client never follows redirects (the secret must only go to the
                // configured host): a redirect is a transient failure (decision 12).
                300..=399 => "redirect",
                429 => "http-429",
                500.. => "http-5xx",
                _ => "http-4xx",
            };
            return Err(FetchFailure {
                outcome,
                error: failed_to_load(format!(
                    "Error loading Clerk JWKS from {} with code={status}",
                    self.shown_url
                )),
                transient: status >= 500 || status == 429 || (300..=399).contains(&status),
                retryable: status >= 500,
            });
        }

        let Ok(json) = serde_json::from_slice::<Value>(&response.body) else {
            return Err(FetchFailure {
                error: failed_to_load(format!(
                    "Error loading Clerk JWKS from {}: the response is not JSON",
                    self.shown_url
                )),
                outcome: "invalid-body",
                transient: true,
                retryable: false,
            });
        };
        let mut keys = HashMap::new();
        if let Some(list) = json.get("keys").and_then(Value::as_array) {
            for jwk in list {
                let Some(kid) = jwk.get("kid").and_then(Value::as_str) else {
                    continue;
                };
                match VerificationKey::from_jwk(jwk) {
                    Ok(key) => {
                        keys.insert(kid.to_owned(), Arc::new(key));
                    }
                    Err(e) => {
                        tracing::warn!(kid, error = %e, "ignoring an unusable key of the Clerk JWKS");
                    }
                }
            }
        }
        if keys.is_empty() {
            return Err(FetchFailure {
                error: failed_to_load(EMPTY_KEY_SET_MESSAGE),
                outcome: "empty",
                transient: false,
                retryable: false,
            });
        }
        Ok(keys)
    }
}

impl TokenVerifier for JwksVerifier {
    fn key(&self, jwt: &Jwt) -> Result<Arc<VerificationKey>, TokenVerificationError> {
        let shared = &self.shared;
        let kid = kid_string(jwt);
        let mut st = shared.lock();
        let mut may_fetch = true;
        loop {
            let now = Instant::now();
            match shared.plan(&st, &kid, now, may_fetch) {
                Plan::Ready(result) => return result,
                Plan::ReadyRefresh(key) => {
                    shared.spawn_refresh(&mut st, now);
                    return Ok(key);
                }
                Plan::Wait => {
                    let generation = st.generation;
                    st = shared.wait(st, generation);
                    // The fetch waited for succeeded: use its keys, whatever the TTL.
                    if st.generation != generation && st.failure.is_none() {
                        if let Some(found) = key_of_last_fetch(&st, &kid) {
                            return found;
                        }
                    }
                    may_fetch = false;
                }
                Plan::Fetch => {
                    shared.begin_fetch(&mut st, now);
                    drop(st);
                    let result = shared.fetch_and_store(now);
                    st = shared.lock();
                    // Use the keys just fetched, whatever the TTL.
                    if result.is_ok() {
                        if let Some(found) = key_of_last_fetch(&st, &kid) {
                            return found;
                        }
                    }
                    may_fetch = false;
                }
            }
        }
    }

    /// Decided and taken in one step, under the cache's lock: the key when it is in memory (a
    /// routine refresh then runs in the background), `None` when it must be fetched or a fetch
    /// it needs is running. Never does IO, never waits.
    fn try_key(&self, jwt: &Jwt) -> Option<Result<Arc<VerificationKey>, TokenVerificationError>> {
        let shared = &self.shared;
        let kid = kid_string(jwt);
        let mut st = shared.lock();
        let now = Instant::now();
        match shared.plan(&st, &kid, now, true) {
            Plan::Ready(result) => Some(result),
            Plan::ReadyRefresh(key) => {
                shared.spawn_refresh(&mut st, now);
                Some(Ok(key))
            }
            Plan::Wait | Plan::Fetch => None,
        }
    }

    /// Fetches the key set now: [`refresh`](JwksVerifier::refresh).
    fn warm_up(&self) -> Option<Result<usize, TokenVerificationError>> {
        Some(self.refresh())
    }
}

/// After a fetch that succeeded: `kid`'s key from it (whatever the TTL), or `jwk-kid-mismatch`.
fn key_of_last_fetch(
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
/// Reads a key-set answer as a fetch does, without the network (fuzzing only).
#[cfg(fuzzing)]
impl JwksVerifier {
    pub(crate) fn fuzz_classify(
        &self,
        response: BapiResponse,
    ) -> Result<HashMap<String, Arc<VerificationKey>>, TokenVerificationError> {
        self.shared.classify(Ok(response)).map_err(|f| f.error)
    }
}

fn refresh_ahead_after(cfg: &JwksConfig) -> Duration {
    cfg.ttl.saturating_mul(cfg.refresh_at_percent.min(100)) / 100
}

/// Whether at least `d` has passed from `since` to `now`.
fn elapsed(since: Instant, d: Duration, now: Instant) -> bool {
    now.saturating_duration_since(since) >= d
}

/// `d` × a factor in [1, 1.5), from the clock's sub-second noise.
fn jitter(d: Duration) -> Duration {
    let noise = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|t| t.subsec_nanos() % 500)
        .unwrap_or(0);
    d.saturating_add(d.saturating_mul(noise) / 1000)
}

fn failed_to_load(message: impl Into<std::borrow::Cow<'static, str>>) -> TokenVerificationError {
    TokenVerificationError::new(TokenVerificationErrorReason::JwkRemoteFailedToLoad, message)
        .with_action(TokenVerificationErrorAction::ContactSupport)
}

/// Clerk's `jwk-kid-mismatch`. Clerk's action text is not one of the fixed actions, so it is
/// appended to the message: the full message reads exactly as Clerk's. The `kid` is the
/// client's: it is shown bounded and escaped (decision 15).
fn kid_mismatch(kid: &str) -> TokenVerificationError {
    let shown = crate::text::inert(kid);
    TokenVerificationError::new(
        TokenVerificationErrorReason::JwkKidMismatch,
        format!(
            "Unable to find a signing key in JWKS that matches the kid='{shown}' of the provided \
             session token. Please make sure that the __session cookie or the HTTP authorization \
             header contain a Clerk-generated session JWT. Go to your Dashboard and validate your \
             secret and public keys are correct. Contact support@clerk.com if the issue persists."
        ),
    )
}

/// The header `kid` as JavaScript's `String(kid)` would give it (`undefined` when absent): Clerk
/// looks keys up by that string.
fn kid_string(jwt: &Jwt) -> String {
    match jwt.header_param("kid") {
        None => "undefined".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) => "null".to_owned(),
        Some(Value::Object(_)) => "[object Object]".to_owned(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

/// The message of the first `errors[]` entry whose code is `clerk_key_invalid`.
fn clerk_key_invalid_message(json: Option<&Value>) -> Option<String> {
    json?
        .get("errors")?
        .as_array()?
        .iter()
        .find(|e| e.get("code").and_then(Value::as_str) == Some("clerk_key_invalid"))
        .map(|e| {
            e.get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        })
}

/// Whether a background key-set retry runs for one configured instance (held by
/// [`Options`](crate::Options)): the [self-check](crate::self_check) starts one only when none runs, however often it is called.
#[derive(Debug, Default)]
pub(crate) struct KeySetRetry(Arc<AtomicBool>);

impl KeySetRetry {
    /// Claims the right to start the retry thread: `Some(claim)` when none runs (the claim is
    /// released when dropped, by the thread when it ends), `None` when one already runs.
    pub(crate) fn claim(&self) -> Option<RetryClaim> {
        self.0
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
            .then(|| RetryClaim(Arc::clone(&self.0)))
    }
}

/// The running retry of one instance; releases it on drop.
pub(crate) struct RetryClaim(Arc<AtomicBool>);

impl Drop for RetryClaim {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_secret() {
        let config = JwksConfig::new("sk_test_very_secret");
        let verifier = JwksVerifier::new(config.clone());
        assert!(!format!("{config:?}").contains("very_secret"));
        assert!(!format!("{verifier:?}").contains("very_secret"));
        assert!(format!("{config:?}").contains("[redacted]"));
    }

    #[test]
    fn jwks_url_joins_version() {
        let v = JwksVerifier::new(JwksConfig::new("sk").with_api_url("https://api.clerk.com/"));
        assert_eq!(v.jwks_url(), "https://api.clerk.com/v1/jwks");
        let v = JwksVerifier::new(
            JwksConfig::new("sk")
                .with_api_url("https://proxy.example/clerk")
                .with_api_version("v2"),
        );
        assert_eq!(v.jwks_url(), "https://proxy.example/clerk/v2/jwks");
    }

    #[test]
    fn kid_mismatch_reads_as_clerk() {
        let e = kid_mismatch("ins_x");
        assert_eq!(
            e.full_message(crate::error::TokenCarrier::Header),
            "Unable to find a signing key in JWKS that matches the kid='ins_x' of the provided \
             session token. Please make sure that the __session cookie or the HTTP authorization \
             header contain a Clerk-generated session JWT. Go to your Dashboard and validate your \
             secret and public keys are correct. Contact support@clerk.com if the issue persists. \
             (reason=jwk-kid-mismatch, token-carrier=header)"
        );
        assert!(!kid_mismatch("a\r\nb").message.contains('\n'));
    }

    #[test]
    fn missing_secret_fails_without_a_request() {
        let v = JwksVerifier::new(JwksConfig::new("").with_api_url("http://127.0.0.1:9"));
        let err = v.refresh().err().map(|e| (e.reason, e.message));
        assert_eq!(
            err,
            Some((
                TokenVerificationErrorReason::JwkRemoteFailedToLoad,
                "Failed to load JWKS from Clerk Backend or Frontend API.".into()
            ))
        );
    }

    #[test]
    fn clerk_key_invalid_is_found_among_errors() {
        let json = serde_json::json!({"errors": [
            {"code": "other", "message": "x"},
            {"code": "clerk_key_invalid", "message": "bad key"}
        ]});
        assert_eq!(
            clerk_key_invalid_message(Some(&json)).as_deref(),
            Some("bad key")
        );
        assert_eq!(clerk_key_invalid_message(None), None);
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let d = Duration::from_millis(100);
        let j = jitter(d);
        assert!(j >= d && j < Duration::from_millis(150));
    }
}
