//! [`WebhookVerifier`] and its builder: the signing secret (from code or
//! `CLERK_WEBHOOK_SIGNING_SECRET`), the body limit and the clock, checked once at start-up.

use std::fmt;
use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::error::ConfigError;
use crate::options::SecretKey;

use super::secret::SigningKey;
use super::{DEFAULT_MAX_BODY_BYTES, SIGNING_SECRET_ENV};

/// Verifies Clerk webhooks: a configuration of its own, independent of
/// [`Options`](crate::Options) (an app may verify webhooks without authenticating requests, and
/// the reverse).
///
/// Build it with [`builder`](Self::builder) or [`from_env`](Self::from_env); verify with
/// [`verify`](Self::verify). Cheap to clone (an `Arc` inside), `Send + Sync`. `Debug` never shows
/// the secret.
#[derive(Clone)]
pub struct WebhookVerifier {
    pub(super) inner: Arc<Inner>,
}

/// What clones of a [`WebhookVerifier`] share.
pub(super) struct Inner {
    /// The key; `None` for a verifier built with
    /// [`allow_missing_secret`](WebhookVerifierBuilder::allow_missing_secret) and no secret.
    pub(super) key: Option<SigningKey>,
    /// The body limit in bytes.
    pub(super) max_body_bytes: usize,
    /// Where `now` comes from.
    pub(super) clock: Arc<dyn Clock>,
}

impl WebhookVerifier {
    /// A builder: no secret yet, a 1 MiB body limit, the system clock.
    pub fn builder() -> WebhookVerifierBuilder {
        WebhookVerifierBuilder::default()
    }

    /// A verifier with the signing secret in `CLERK_WEBHOOK_SIGNING_SECRET`. Unset or empty is
    /// [`ConfigError::MissingWebhookSecret`]; a secret that does not decode (or is not UTF-8) is
    /// [`ConfigError::InvalidWebhookSecret`] (or [`ConfigError::Invalid`]); each names the
    /// variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        WebhookVerifierBuilder::from_env()?.build()
    }

    /// Like [`from_env`](Self::from_env), reading the variable through `lookup`.
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        WebhookVerifierBuilder::from_env_with(lookup)?.build()
    }

    /// Whether a signing secret is configured (`false` only for a verifier built with
    /// [`allow_missing_secret`](WebhookVerifierBuilder::allow_missing_secret) and no secret,
    /// whose every [`verify`](Self::verify) is [`WebhookError::SecretMissing`](super::WebhookError::SecretMissing)).
    pub fn has_signing_secret(&self) -> bool {
        self.inner.key.is_some()
    }

    /// The body limit in bytes: a longer body is refused before anything else is read. An
    /// adapter stops reading the body past it.
    pub fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("signing_secret", &self.inner.key)
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .field("clock", &self.inner.clock)
            .finish()
    }
}

/// Builds a [`WebhookVerifier`]. `Debug` never shows the secret.
#[derive(Clone, Debug)]
#[must_use]
pub struct WebhookVerifierBuilder {
    signing_secret: Option<SecretKey>,
    allow_missing_secret: bool,
    max_body_bytes: usize,
    clock: Arc<dyn Clock>,
}

impl Default for WebhookVerifierBuilder {
    fn default() -> Self {
        Self {
            signing_secret: None,
            allow_missing_secret: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            clock: Arc::new(SystemClock),
        }
    }
}

impl WebhookVerifierBuilder {
    /// A builder whose secret is `CLERK_WEBHOOK_SIGNING_SECRET` when set and not empty. A value
    /// that is not valid UTF-8 is [`ConfigError::Invalid`] naming the variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        if let Some(v) = std::env::var_os(SIGNING_SECRET_ENV) {
            if v.to_str().is_none() {
                return Err(ConfigError::Invalid {
                    name: SIGNING_SECRET_ENV,
                    detail: "not valid UTF-8".to_owned(),
                });
            }
        }
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading `CLERK_WEBHOOK_SIGNING_SECRET` through
    /// `lookup` (for tests, or another configuration source). Unset and empty leave the secret
    /// unset. Never fails today; a `Result` like
    /// [`OptionsBuilder::from_env_with`](crate::OptionsBuilder::from_env_with).
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut builder = Self::default();
        if let Some(secret) = lookup(SIGNING_SECRET_ENV).filter(|v| !v.is_empty()) {
            builder = builder.signing_secret(secret);
        }
        Ok(builder)
    }

    /// The endpoint's signing secret, `whsec_…` from the Clerk dashboard (the `whsec_` prefix is
    /// optional; the rest is standard base64). Checked by [`build`](Self::build).
    pub fn signing_secret(mut self, secret: impl Into<SecretKey>) -> Self {
        self.signing_secret = Some(secret.into());
        self
    }

    /// Lets [`build`](Self::build) succeed without a secret: the verifier then refuses every
    /// webhook with [`WebhookError::SecretMissing`](super::WebhookError::SecretMissing) (a `500`
    /// naming `CLERK_WEBHOOK_SIGNING_SECRET`), for a server that must start without one (the
    /// example servers). Off by default: a missing secret is a start-up error.
    pub fn allow_missing_secret(mut self) -> Self {
        self.allow_missing_secret = true;
        self
    }

    /// The body limit in bytes. Defaults to 1 MiB ([`DEFAULT_MAX_BODY_BYTES`]).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// The clock the timestamp window is checked against. Defaults to
    /// [`SystemClock`](crate::SystemClock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The verifier. No secret is [`ConfigError::MissingWebhookSecret`] (unless
    /// [`allow_missing_secret`](Self::allow_missing_secret)); a secret that does not decode is
    /// [`ConfigError::InvalidWebhookSecret`]. Both name `CLERK_WEBHOOK_SIGNING_SECRET`, never
    /// the secret.
    pub fn build(self) -> Result<WebhookVerifier, ConfigError> {
        let key = match &self.signing_secret {
            Some(secret) => Some(SigningKey::decode(secret.expose_secret())?),
            None if self.allow_missing_secret => None,
            None => return Err(ConfigError::MissingWebhookSecret),
        };
        Ok(WebhookVerifier {
            inner: Arc::new(Inner {
                key,
                max_body_bytes: self.max_body_bytes,
                clock: self.clock,
            }),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn the_variable_is_read_once_and_empty_is_unset() {
        let seen = std::cell::RefCell::new(Vec::new());
        let err = WebhookVerifier::from_env_with(|name| {
            seen.borrow_mut().push(name.to_owned());
            Some(String::new())
        })
        .unwrap_err();
        assert_eq!(*seen.borrow(), [SIGNING_SECRET_ENV]);
        assert_eq!(err, ConfigError::MissingWebhookSecret);
        assert_eq!(err.variable(), "CLERK_WEBHOOK_SIGNING_SECRET");
    }

    #[test]
    fn defaults() {
        let v = WebhookVerifier::builder()
            .signing_secret(SECRET)
            .build()
            .unwrap();
        assert!(v.has_signing_secret());
        assert_eq!(v.max_body_bytes(), 1024 * 1024);
        let unconfigured = WebhookVerifier::builder()
            .allow_missing_secret()
            .build()
            .unwrap();
        assert!(!unconfigured.has_signing_secret());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let builder = WebhookVerifier::builder().signing_secret(SECRET);
        let verifier = builder.clone().build().unwrap();
        for text in [
            format!("{builder:?}"),
            format!("{verifier:?}"),
            format!("{verifier:#?}"),
        ] {
            assert!(!text.contains("MfKQ9r8G"), "{text}");
            assert!(text.contains("[redacted]"), "{text}");
        }
    }
}
