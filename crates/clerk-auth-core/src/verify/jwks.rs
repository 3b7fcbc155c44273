//! Remote key set (JWKS) from Clerk's Backend API.
//!
//! [`JwksVerifier`] fetches `GET {api_url}/{api_version}/jwks` with the secret key and keeps the
//! keys in a cache that belongs to the verifier instance (so its scope is exactly one API URL,
//! API version and secret key; nothing is process-global).
//!
//! The cache rules are on [`JwksVerifier`].

use std::fmt;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{TokenVerifier, VerificationKey};
use crate::error::{
    TokenVerificationError, TokenVerificationErrorAction, TokenVerificationErrorReason,
};
use crate::http::BapiHttp;
use crate::token::Jwt;

mod fetch;
mod retry;
mod state;

pub(crate) use retry::KeySetRetry;
use state::{key_of_last_fetch, Plan, Shared, State};

/// Clerk's message for a key set without any usable signing key (`jwk-remote-failed-to-load`).
pub(crate) const EMPTY_KEY_SET_MESSAGE: &str =
    "The JWKS endpoint did not contain any signing keys. Contact support@clerk.com.";

/// Clerk's production Backend API URL.
pub(crate) const DEFAULT_API_URL: &str = "https://api.clerk.com";
/// Clerk's Backend API version path segment.
pub(crate) const DEFAULT_API_VERSION: &str = "v1";

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

/// A [`TokenVerifier`] over Clerk's remote key set, with a per-instance cache.
///
/// Cache rules:
/// - **TTL, strict.** Keys are fresh for [`JwksConfig::ttl`] (5 minutes) after the fetch that
///   brought them started. A hit never extends it. Each successful fetch replaces the whole set.
/// - **Refreshed ahead, in the background.** A request that finds its key after
///   [`JwksConfig::refresh_at_percent`] (80%) of the TTL starts a refresh on a background thread
///   and goes on with the current keys, as do the requests after it: with steady traffic, no
///   request ever waits on a routine refresh, and the keys never expire.
/// - **Single flight.** One fetch at a time: requests that must wait for the keys (none in
///   memory, keys past their TTL, a `kid` that a fetch may bring) wait for the running fetch and
///   use its result; they never start another.
/// - **Non-blocking lookups.** [`TokenVerifier::try_key`] decides and takes the key in one step
///   under the cache's lock: it never fetches and never waits; it answers `None` ("would
///   block") exactly when a blocking lookup would fetch or wait.
/// - **Unknown `kid`.** With fresh keys, a token whose `kid` is not in the set triggers a refresh
///   at most once per [`JwksConfig::kid_miss_cooldown`] (10 s); otherwise it fails at once with
///   `jwk-kid-mismatch`. Random `kid`s cannot drive traffic to the Backend API. When the refetch
///   (or the last fetch) failed, the failure is reported (`secret-key-invalid`,
///   `jwk-remote-failed-to-load`: `503`), not the `kid` (decision 12).
/// - **Outages.** A fetch failing for network reasons, a 5xx, a 429, a redirect (never followed:
///   the secret key only goes to the configured host) or an unreadable body is *transient*: the
///   last good keys keep serving for [`JwksConfig::stale_grace`] (1 hour) past their TTL, then
///   verification fails closed with `jwk-remote-failed-to-load`. While the outage lasts, a
///   background refresh retries the fetch once per [`JwksConfig::failure_backoff`] (10 s); the
///   requests use the stale keys without waiting for it.
/// - **Refusals.** A 4xx (other than 429) is not retried and gets no grace: `clerk_key_invalid`
///   is `secret-key-invalid` with the Backend API's message, anything else
///   `jwk-remote-failed-to-load` ("Error loading Clerk JWKS from `<url>` with code=`<status>`").
///   An empty key set is `jwk-remote-failed-to-load`.
/// - **Bounded time.** Each attempt has a timeout ([`JwksConfig::timeout`], 1.5 s); network
///   errors and 5xx are retried up to [`JwksConfig::max_attempts`] (3) with exponential backoff
///   from [`JwksConfig::retry_backoff`] (100 ms, ×2, jitter ×[1, 1.5)); the whole fetch,
///   retries included, stays within [`JwksConfig::fetch_budget`] (3.5 s).
///
/// Time for all of this is [`Instant`] (monotonic): a wall-clock jump neither expires nor
/// revives keys.
///
/// ```no_run
/// use clerk_auth_core::verify::{JwksConfig, JwksVerifier};
///
/// let verifier = JwksVerifier::new(JwksConfig::new(std::env::var("CLERK_SECRET_KEY").unwrap_or_default()));
/// verifier.refresh().ok(); // pre-warm at start-up
/// ```
pub struct JwksVerifier {
    shared: Arc<Shared>,
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
fn kid_string(jwt: &Jwt) -> std::borrow::Cow<'_, str> {
    if let Some(kid) = jwt.kid() {
        return kid.into();
    }
    match jwt.header_param("kid") {
        None => "undefined".into(),
        Some(Value::String(s)) => s.as_str().into(),
        Some(Value::Null) => "null".into(),
        Some(Value::Object(_)) => "[object Object]".into(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(",")
            .into(),
        Some(other) => other.to_string().into(),
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
}
