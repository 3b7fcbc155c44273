//! Why a request is signed out or needs a handshake: [`Reason`], Clerk's [`AuthErrorReason`] and
//! the [`RefreshError`] of a failed server-side refresh, with their wire strings.

use std::borrow::Cow;
use std::fmt;

use crate::error::TokenVerificationErrorReason;

/// Clerk's `AuthErrorReason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthErrorReason {
    /// `client-uat-but-no-session-token`
    ClientUatWithoutSessionToken,
    /// `dev-browser-missing`
    DevBrowserMissing,
    /// `dev-browser-sync`
    DevBrowserSync,
    /// `primary-responds-to-syncing`
    PrimaryRespondsToSyncing,
    /// `primary-domain-cross-origin-sync`
    PrimaryDomainCrossOriginSync,
    /// `satellite-needs-syncing`
    SatelliteCookieNeedsSyncing,
    /// `session-token-and-uat-missing`
    SessionTokenAndUatMissing,
    /// `session-token-missing`
    SessionTokenMissing,
    /// `session-token-iat-before-client-uat`
    SessionTokenIatBeforeClientUat,
    /// `session-token-nbf`
    SessionTokenNbf,
    /// `session-token-iat-in-the-future`
    SessionTokenIatInTheFuture,
    /// `session-token-but-no-client-uat`
    SessionTokenWithoutClientUat,
    /// `active-organization-mismatch`
    ActiveOrganizationMismatch,
    /// `token-type-mismatch`
    TokenTypeMismatch,
    /// `unexpected-error`
    UnexpectedError,
    /// `backend-api-budget-exhausted` (a clerk-auth addition, decision 13): verifying this
    /// request would need a Backend API call beyond the instance's budget. Answered `503` with
    /// `Retry-After: 1`; no call was made.
    BackendApiBudgetExhausted,
}

impl AuthErrorReason {
    /// Clerk's wire string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientUatWithoutSessionToken => "client-uat-but-no-session-token",
            Self::DevBrowserMissing => "dev-browser-missing",
            Self::DevBrowserSync => "dev-browser-sync",
            Self::PrimaryRespondsToSyncing => "primary-responds-to-syncing",
            Self::PrimaryDomainCrossOriginSync => "primary-domain-cross-origin-sync",
            Self::SatelliteCookieNeedsSyncing => "satellite-needs-syncing",
            Self::SessionTokenAndUatMissing => "session-token-and-uat-missing",
            Self::SessionTokenMissing => "session-token-missing",
            Self::SessionTokenIatBeforeClientUat => "session-token-iat-before-client-uat",
            Self::SessionTokenNbf => "session-token-nbf",
            Self::SessionTokenIatInTheFuture => "session-token-iat-in-the-future",
            Self::SessionTokenWithoutClientUat => "session-token-but-no-client-uat",
            Self::ActiveOrganizationMismatch => "active-organization-mismatch",
            Self::TokenTypeMismatch => "token-type-mismatch",
            Self::UnexpectedError => "unexpected-error",
            Self::BackendApiBudgetExhausted => "backend-api-budget-exhausted",
        }
    }
}

/// Why a server-side refresh did not happen or failed; the suffix of
/// `session-token-expired-refresh-<x>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefreshError {
    /// `non-eligible-no-refresh-cookie`
    NonEligibleNoRefreshCookie,
    /// `non-eligible-non-get`
    NonEligibleNonGet,
    /// `invalid-session-token`
    InvalidSessionToken,
    /// `missing-api-client`
    MissingApiClient,
    /// `missing-session-token`
    MissingSessionToken,
    /// `missing-refresh-token`
    MissingRefreshToken,
    /// `expired-session-token-decode-failed`
    ExpiredSessionTokenDecodeFailed,
    /// `expired-session-token-missing-sid-claim`
    ExpiredSessionTokenMissingSidClaim,
    /// `fetch-error`
    FetchError,
    /// `unexpected-sdk-error`
    UnexpectedSdkError,
    /// `unexpected-bapi-error`
    UnexpectedBapiError,
    /// A Backend API error code, verbatim.
    Bapi(String),
}

impl RefreshError {
    /// Clerk's wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::NonEligibleNoRefreshCookie => "non-eligible-no-refresh-cookie",
            Self::NonEligibleNonGet => "non-eligible-non-get",
            Self::InvalidSessionToken => "invalid-session-token",
            Self::MissingApiClient => "missing-api-client",
            Self::MissingSessionToken => "missing-session-token",
            Self::MissingRefreshToken => "missing-refresh-token",
            Self::ExpiredSessionTokenDecodeFailed => "expired-session-token-decode-failed",
            Self::ExpiredSessionTokenMissingSidClaim => "expired-session-token-missing-sid-claim",
            Self::FetchError => "fetch-error",
            Self::UnexpectedSdkError => "unexpected-sdk-error",
            Self::UnexpectedBapiError => "unexpected-bapi-error",
            Self::Bapi(code) => code,
        }
    }
}

/// Why a request is signed out or needs a handshake. [`Display`](fmt::Display) gives Clerk's string.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// One of Clerk's `AuthErrorReason`s.
    Auth(AuthErrorReason),
    /// A token verification failure, or a machine-token error code.
    Token(TokenVerificationErrorReason),
    /// `session-token-expired-refresh-<x>`.
    SessionTokenExpired(RefreshError),
    /// The literal `No token in header`.
    NoTokenInHeader,
}

impl Reason {
    /// Clerk's wire string.
    pub fn as_str(&self) -> Cow<'static, str> {
        match self {
            Self::Auth(r) => Cow::Borrowed(r.as_str()),
            Self::Token(r) => Cow::Borrowed(r.as_str()),
            Self::SessionTokenExpired(e) => {
                Cow::Owned(format!("session-token-expired-refresh-{}", e.as_str()))
            }
            Self::NoTokenInHeader => Cow::Borrowed("No token in header"),
        }
    }

    /// Whether the keys could not be obtained (key-set outage or bad secret key): a 503-class
    /// failure of the service, not of the client (decision 11).
    pub fn is_key_set_outage(&self) -> bool {
        matches!(self, Self::Token(r) if r.is_key_set_outage())
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl From<AuthErrorReason> for Reason {
    fn from(r: AuthErrorReason) -> Self {
        Self::Auth(r)
    }
}

impl From<TokenVerificationErrorReason> for Reason {
    fn from(r: TokenVerificationErrorReason) -> Self {
        Self::Token(r)
    }
}
