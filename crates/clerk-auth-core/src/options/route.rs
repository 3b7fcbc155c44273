//! Options for one route or scope ([`Options::with_accepts_token`],
//! [`Options::with_pending_sessions`]): the instance's [`Options`] with the token types it accepts
//! or its treatment of pending sessions changed, sharing everything else (keys, key set,
//! verified-token cache, machine-token cache, Backend API budget, diagnostics).

use std::sync::Arc;

use crate::error::ConfigError;

use super::builder::check_accepts;
use super::{AcceptsToken, Options};

/// The settings a route may change; every other setting is the instance's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Route {
    pub(super) accepts_token: AcceptsToken,
    pub(super) accept_pending_sessions: bool,
}

impl Options {
    /// These options for a route or scope that accepts `accepts` instead of the instance's
    /// [`accepts_token`](Self::accepts_token) (for example API keys and M2M tokens on `/api`,
    /// session tokens elsewhere).
    ///
    /// The result is the same instance: it shares the key set, the verified-token cache, the
    /// machine-token cache and the Backend API budget with `self` (nothing is fetched or cached
    /// twice), and is as cheap to clone. A token verified on one route is still checked against
    /// the other route's token types: the type is decided before any cache is read.
    ///
    /// Fails as [`OptionsBuilder::build`](crate::OptionsBuilder::build) would for an instance
    /// configured with `accepts`: a publishable key is required unless `accepts` is exactly
    /// `api_key` or `m2m_token` ([`ConfigError::MissingPublishableKey`]), a secret key unless
    /// it is exactly `m2m_token` ([`ConfigError::MissingSecretKey`]), and so on.
    ///
    /// ```
    /// use clerk_auth_core::{Options, TokenType};
    ///
    /// let options = Options::builder()
    ///     .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
    ///     .secret_key("sk_live_xxx")
    ///     .build()?;
    /// let machines = options.with_accepts_token(vec![TokenType::ApiKey, TokenType::M2mToken])?;
    /// assert!(machines.accepts_token().accepts(TokenType::ApiKey));
    /// assert!(!machines.accepts_token().accepts(TokenType::SessionToken));
    /// assert!(machines.same_instance(&options));
    /// # Ok::<(), clerk_auth_core::ConfigError>(())
    /// ```
    pub fn with_accepts_token(
        &self,
        accepts: impl Into<AcceptsToken>,
    ) -> Result<Options, ConfigError> {
        let accepts = accepts.into().normalized();
        check_accepts(&self.inner.config, &accepts)?;
        Ok(self.with_route(Route {
            accepts_token: accepts,
            accept_pending_sessions: self.accept_pending_sessions(),
        }))
    }

    /// These options for a route or scope where a pending session (`sts = pending`) counts as
    /// signed in (`true`) or not (`false`), whatever the instance's
    /// [`accept_pending_sessions`](crate::OptionsBuilder::accept_pending_sessions) says. The
    /// same instance, as [`with_accepts_token`](Self::with_accepts_token) explains.
    #[must_use]
    pub fn with_pending_sessions(&self, accept: bool) -> Options {
        self.with_route(Route {
            accepts_token: self.accepts_token().clone(),
            accept_pending_sessions: accept,
        })
    }

    /// Whether `self` and `other` are the same configured instance (built by one
    /// [`build`](crate::OptionsBuilder::build) and so sharing its keys and caches), whatever
    /// route settings either changed.
    pub fn same_instance(&self, other: &Options) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    fn with_route(&self, route: Route) -> Options {
        let instance = Route {
            accepts_token: self.inner.config.accepts_token.clone(),
            accept_pending_sessions: self.inner.config.accept_pending_sessions,
        };
        Options {
            inner: Arc::clone(&self.inner),
            // Back to the instance's own settings: no override.
            route: (route != instance).then(|| Arc::new(route)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::token::auth::TokenType;

    const PK: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";

    #[test]
    fn a_route_changes_only_its_settings() {
        let options = Options::builder()
            .publishable_key(PK)
            .secret_key("sk_live_route")
            .build()
            .unwrap();
        let api = options.with_accepts_token(TokenType::ApiKey).unwrap();
        assert_eq!(api.accepts_token(), &AcceptsToken::Only(TokenType::ApiKey));
        assert_eq!(options.accepts_token(), &AcceptsToken::SessionToken);
        assert!(api.same_instance(&options));
        assert!(!api.accept_pending_sessions());

        let pending = api.with_pending_sessions(true);
        assert!(pending.accept_pending_sessions());
        assert_eq!(pending.accepts_token(), api.accepts_token());
        assert!(!options.accept_pending_sessions());
        assert!(format!("{pending:?}").contains("accept_pending_sessions: true"));

        // Back to the instance's settings: no override left.
        let back = pending
            .with_pending_sessions(false)
            .with_accepts_token(TokenType::SessionToken)
            .unwrap();
        assert!(back.route.is_none());
        let other = Options::builder()
            .publishable_key(PK)
            .secret_key("sk_live_route")
            .build()
            .unwrap();
        assert!(!other.same_instance(&options));
    }

    #[test]
    fn a_route_needs_the_keys_its_token_types_need() {
        // An instance for API keys only needs no publishable key; its session routes would.
        let api_only = Options::builder()
            .secret_key("sk_live_route")
            .accepts_token(TokenType::ApiKey)
            .build()
            .unwrap();
        assert_eq!(
            api_only
                .with_accepts_token(TokenType::SessionToken)
                .unwrap_err(),
            ConfigError::MissingPublishableKey
        );
        assert!(api_only.with_accepts_token(TokenType::M2mToken).is_ok());
        // An M2M-only instance with a machine secret key only: an API-key route needs the secret key.
        let m2m_only = Options::builder()
            .machine_secret_key("ak_machine")
            .accepts_token(TokenType::M2mToken)
            .build()
            .unwrap();
        assert_eq!(
            m2m_only.with_accepts_token(TokenType::ApiKey).unwrap_err(),
            ConfigError::MissingSecretKey
        );
        // A list that is not exactly one header-only type needs the publishable key too.
        assert_eq!(
            api_only
                .with_accepts_token(vec![TokenType::ApiKey, TokenType::M2mToken])
                .unwrap_err(),
            ConfigError::MissingPublishableKey
        );
    }
}
