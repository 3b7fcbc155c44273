//! One key-set fetch: the Backend API request with its retries within the fetch budget, and how
//! an answer is classified (keys, a refusal, or a transient failure).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::state::Shared;
use super::{failed_to_load, VerificationKey, EMPTY_KEY_SET_MESSAGE};
use crate::error::{
    TokenVerificationError, TokenVerificationErrorAction, TokenVerificationErrorReason,
};
use crate::http::{BapiError, BapiErrorKind, BapiResponse};

/// One failed fetch attempt, classified.
pub(super) struct FetchFailure {
    pub(super) error: TokenVerificationError,
    /// The `outcome` label of [`JWKS_FETCHES`](crate::telemetry::JWKS_FETCHES).
    pub(super) outcome: &'static str,
    pub(super) transient: bool,
    retryable: bool,
}

impl Shared {
    /// Fetches and parses the key set, with retries, within the fetch budget.
    pub(super) fn fetch(
        &self,
        start: Instant,
    ) -> Result<HashMap<String, Arc<VerificationKey>>, FetchFailure> {
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

/// Reads a key-set answer as a fetch does, without the network (fuzzing only).
#[cfg(fuzzing)]
impl super::JwksVerifier {
    pub(crate) fn fuzz_classify(
        &self,
        response: BapiResponse,
    ) -> Result<HashMap<String, Arc<VerificationKey>>, TokenVerificationError> {
        self.shared.classify(Ok(response)).map_err(|f| f.error)
    }
}

/// `d` × a factor in [1, 1.5), from the clock's sub-second noise.
fn jitter(d: Duration) -> Duration {
    let noise = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|t| t.subsec_nanos() % 500)
        .unwrap_or(0);
    d.saturating_add(d.saturating_mul(noise) / 1000)
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

#[cfg(test)]
mod tests {
    use super::*;

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
