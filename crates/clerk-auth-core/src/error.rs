//! Errors: token verification failures (a signed-out reason, not a Rust failure), configuration
//! errors (reported when options are built) and request-level failures.

use std::borrow::Cow;
use std::fmt;

/// Why a token failed verification. [`Display`](fmt::Display) gives Clerk's wire string
/// (for example `token-expired`), which is also the signed-out `reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenVerificationErrorReason {
    /// `token-expired`: `exp` is in the past (beyond the clock skew).
    TokenExpired,
    /// `token-invalid`: the token is malformed or of the wrong type or category.
    TokenInvalid,
    /// `token-invalid-algorithm`: `alg` is not one of RS256, RS384, RS512.
    TokenInvalidAlgorithm,
    /// `token-invalid-authorized-parties`: `azp` is missing or not in the allow-list.
    TokenInvalidAuthorizedParties,
    /// `token-invalid-signature`: the signature does not match the key.
    TokenInvalidSignature,
    /// `token-not-active-yet`: `nbf` is in the future (beyond the clock skew).
    TokenNotActiveYet,
    /// `token-iat-in-the-future`: `iat` is in the future (beyond the clock skew).
    TokenIatInTheFuture,
    /// `token-verification-failed`: a claim has the wrong type, or the signature check could not run.
    TokenVerificationFailed,
    /// `secret-key-invalid`: the Backend API refused the secret key.
    SecretKeyInvalid,
    /// `jwk-local-missing`: networkless verification was asked for without a PEM key.
    JwkLocalMissing,
    /// `jwk-remote-failed-to-load`: the key set could not be fetched (and no usable keys remain).
    JwkRemoteFailedToLoad,
    /// `jwk-remote-invalid`: reserved by Clerk, unused.
    JwkRemoteInvalid,
    /// `jwk-remote-missing`: reserved by Clerk, unused.
    JwkRemoteMissing,
    /// `jwk-failed-to-resolve`: neither a PEM key nor a secret key is configured.
    JwkFailedToResolve,
    /// `jwk-kid-mismatch`: the key set has no key with the token's `kid`.
    JwkKidMismatch,
}

impl TokenVerificationErrorReason {
    /// Clerk's wire string for this reason.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TokenExpired => "token-expired",
            Self::TokenInvalid => "token-invalid",
            Self::TokenInvalidAlgorithm => "token-invalid-algorithm",
            Self::TokenInvalidAuthorizedParties => "token-invalid-authorized-parties",
            Self::TokenInvalidSignature => "token-invalid-signature",
            Self::TokenNotActiveYet => "token-not-active-yet",
            Self::TokenIatInTheFuture => "token-iat-in-the-future",
            Self::TokenVerificationFailed => "token-verification-failed",
            Self::SecretKeyInvalid => "secret-key-invalid",
            Self::JwkLocalMissing => "jwk-local-missing",
            Self::JwkRemoteFailedToLoad => "jwk-remote-failed-to-load",
            Self::JwkRemoteInvalid => "jwk-remote-invalid",
            Self::JwkRemoteMissing => "jwk-remote-missing",
            Self::JwkFailedToResolve => "jwk-failed-to-resolve",
            Self::JwkKidMismatch => "jwk-kid-mismatch",
        }
    }

    /// Whether this reason means the keys could not be obtained (an outage or a bad secret key):
    /// a 503-class failure rather than a client error.
    pub const fn is_key_set_outage(self) -> bool {
        matches!(
            self,
            Self::JwkRemoteFailedToLoad | Self::SecretKeyInvalid | Self::JwkFailedToResolve
        )
    }
}

impl fmt::Display for TokenVerificationErrorReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A hint appended to a verification message, as Clerk's SDK does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenVerificationErrorAction {
    /// `Contact support@clerk.com`
    ContactSupport,
    /// `Make sure that this is a valid Clerk generate JWT.` (sic, Clerk's wording)
    EnsureClerkJwt,
    /// `Set the CLERK_JWT_KEY environment variable.`
    SetClerkJwtKey,
    /// `Set the CLERK_SECRET_KEY environment variable.`
    SetClerkSecretKey,
    /// `Make sure your system clock is in sync (e.g. turn off and on automatic time synchronization).`
    EnsureClockSync,
}

impl TokenVerificationErrorAction {
    /// Clerk's text for this hint.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ContactSupport => "Contact support@clerk.com",
            Self::EnsureClerkJwt => "Make sure that this is a valid Clerk generate JWT.",
            Self::SetClerkJwtKey => "Set the CLERK_JWT_KEY environment variable.",
            Self::SetClerkSecretKey => "Set the CLERK_SECRET_KEY environment variable.",
            Self::EnsureClockSync => {
                "Make sure your system clock is in sync (e.g. turn off and on automatic time synchronization)."
            }
        }
    }
}

/// Where a token was read from; part of Clerk's full message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenCarrier {
    /// The `Authorization` header.
    Header,
    /// The `__session` cookie (suffixed or not).
    Cookie,
}

impl TokenCarrier {
    /// `header` or `cookie`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::Cookie => "cookie",
        }
    }
}

/// A token failed verification. This is a decision, not a malfunction: it becomes a signed-out
/// state whose `reason` is [`reason`](Self::reason) and whose `message` is
/// [`full_message`](Self::full_message).
///
/// Messages never contain the token or any key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenVerificationError {
    /// Clerk's reason.
    pub reason: TokenVerificationErrorReason,
    /// Clerk's message text (without the action and the reason suffix).
    pub message: Cow<'static, str>,
    /// An optional hint.
    pub action: Option<TokenVerificationErrorAction>,
}

impl TokenVerificationError {
    /// A new error.
    pub fn new(
        reason: TokenVerificationErrorReason,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            reason,
            message: message.into(),
            action: None,
        }
    }

    /// The same error with a hint.
    pub fn with_action(mut self, action: TokenVerificationErrorAction) -> Self {
        self.action = Some(action);
        self
    }

    /// Clerk's `getFullMessage()`:
    /// `"<message>[ <action>] (reason=<reason>, token-carrier=<carrier>)"`.
    pub fn full_message(&self, carrier: TokenCarrier) -> String {
        let mut out = String::with_capacity(self.message.len() + 64);
        out.push_str(&self.message);
        if let Some(action) = self.action {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(action.as_str());
        }
        out.push_str(" (reason=");
        out.push_str(self.reason.as_str());
        out.push_str(", token-carrier=");
        out.push_str(carrier.as_str());
        out.push(')');
        out
    }
}

impl fmt::Display for TokenVerificationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.reason)
    }
}

impl std::error::Error for TokenVerificationError {}

/// The options could not be built: the service cannot authenticate anything until this is fixed.
///
/// `Debug` shows the same sentence as `Display` (naming the variable to fix), so that
/// `fn main() -> Result<(), Box<dyn std::error::Error>>` and `.expect(..)` print it readably:
///
/// ```
/// use clerk_auth_core::Options;
///
/// let err = Options::from_env_with(|_| None).unwrap_err();
/// assert_eq!(format!("{err:?}"), err.to_string());
/// assert!(format!("{err:?}").contains("CLERK_PUBLISHABLE_KEY"));
/// ```
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The publishable key does not decode. The key itself is not repeated.
    #[error("the publishable key (CLERK_PUBLISHABLE_KEY) is invalid ({0}): copy it from the API keys page of the Clerk dashboard")]
    InvalidPublishableKey(&'static str),
    /// A publishable key is required for this configuration.
    #[error("a publishable key (CLERK_PUBLISHABLE_KEY) is required")]
    MissingPublishableKey,
    /// A secret key is required for this configuration: it authenticates the calls to Clerk's
    /// Backend API (the key set, handshakes, session refresh, machine tokens), so Clerk's SDK
    /// requires it too, also with a PEM key or a custom verifier.
    #[error("a secret key (CLERK_SECRET_KEY) is required: it authenticates the calls to Clerk's Backend API (handshakes and session refresh need it even when tokens are verified with CLERK_JWT_KEY or a custom verifier); copy it from the API keys page of the Clerk dashboard")]
    MissingSecretKey,
    /// The PEM public key does not parse, or is not an RSA key of at least 2048 bits.
    #[error("the PEM public key (CLERK_JWT_KEY) is invalid: {0}")]
    InvalidJwtKey(String),
    /// A satellite needs `proxy_url` or `domain`.
    #[error("a satellite needs CLERK_PROXY_URL or CLERK_DOMAIN")]
    SatelliteWithoutDomainOrProxy,
    /// A development satellite needs `sign_in_url`.
    #[error("a development satellite needs CLERK_SIGN_IN_URL")]
    SatelliteWithoutSignInUrl,
    /// A URL option does not parse.
    #[error("{name} is not a valid URL")]
    InvalidUrl {
        /// The option's environment variable name.
        name: &'static str,
    },
    /// An organization-sync pattern does not compile.
    #[error("organization sync pattern {pattern:?} is invalid: {detail}")]
    InvalidPattern {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        detail: String,
    },
    /// Webhook verification was asked for without a signing secret (Clerk's message).
    #[error("Missing webhook signing secret. Set the CLERK_WEBHOOK_SIGNING_SECRET environment variable with the webhook secret from the Clerk Dashboard.")]
    MissingWebhookSecret,
    /// The webhook signing secret does not decode (`whsec_` then standard base64). The secret
    /// itself is not repeated.
    #[error("the webhook signing secret (CLERK_WEBHOOK_SIGNING_SECRET) is invalid: {0}")]
    InvalidWebhookSecret(&'static str),
    /// Another option is invalid.
    #[error("{name} is invalid: {detail}")]
    Invalid {
        /// The option's environment variable name.
        name: &'static str,
        /// What is wrong with it.
        detail: String,
    },
}

impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl ConfigError {
    /// The PEM key of `CLERK_JWT_KEY` ([`OptionsBuilder::jwt_key`](crate::OptionsBuilder::jwt_key))
    /// does not parse.
    pub(crate) fn from_jwt_key(error: crate::verify::KeyError) -> Self {
        match error {
            crate::verify::KeyError::InvalidPem(detail) => Self::InvalidJwtKey(detail),
            other => Self::InvalidJwtKey(other.to_string()),
        }
    }

    /// The environment variable to fix, as [`Options::from_env`](crate::Options::from_env) reads
    /// it (also when the option was set in code): `CLERK_PUBLISHABLE_KEY`, `CLERK_SECRET_KEY`,
    /// `CLERK_JWT_KEY`, `CLERK_DOMAIN` (a satellite without a domain or proxy URL; setting
    /// `CLERK_PROXY_URL` fixes it too), `CLERK_SIGN_IN_URL`, the URL or option named by the
    /// error, `CLERK_ORGANIZATION_PATTERNS` for an organization-sync pattern (the error does
    /// not say whether the pattern came from `CLERK_PERSONAL_ACCOUNT_PATTERNS`;
    /// [`self_check_env`](crate::self_check::self_check_env) tells them apart), or
    /// `CLERK_WEBHOOK_SIGNING_SECRET` for the webhook signing secret
    /// ([`WebhookVerifier`](crate::WebhookVerifier)).
    pub fn variable(&self) -> &'static str {
        match self {
            Self::InvalidPublishableKey(_) | Self::MissingPublishableKey => "CLERK_PUBLISHABLE_KEY",
            Self::MissingSecretKey => "CLERK_SECRET_KEY",
            Self::InvalidJwtKey(_) => "CLERK_JWT_KEY",
            Self::SatelliteWithoutDomainOrProxy => "CLERK_DOMAIN",
            Self::SatelliteWithoutSignInUrl => "CLERK_SIGN_IN_URL",
            Self::InvalidUrl { name } | Self::Invalid { name, .. } => name,
            Self::InvalidPattern { .. } => "CLERK_ORGANIZATION_PATTERNS",
            Self::MissingWebhookSecret | Self::InvalidWebhookSecret(_) => {
                crate::webhook::SIGNING_SECRET_ENV
            }
        }
    }
}
