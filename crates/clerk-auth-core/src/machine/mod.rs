//! Machine tokens: API keys, M2M tokens and OAuth access tokens presented in the
//! `Authorization` header.
//!
//! Detection reads the token's prefix (`ak_`, `mt_`, `oat_`) or, for a JWT, its claims.
//! Verification follows Clerk's `verifyMachineAuthToken`:
//!
//! * **JWT forms** are verified locally, with the instance's key source (the PEM key, else the
//!   key set fetched with the secret key) and the full `verifyJwt` check list, including the
//!   configured authorized parties, audience and clock skew. An M2M JWT (`sub` starting with `mch_`)
//!   must carry no `cat` or the M2M category; an OAuth JWT must have `typ` `at+jwt` or
//!   `application/at+jwt`. Any `verifyJwt` failure is `token-verification-failed` with the inner
//!   message.
//! * **Opaque tokens** (`ak_`, `mt_`, `oat_`) are verified by the Backend API
//!   ([`BackendApi::verify_machine_token`]); its
//!   errors map as Clerk's `handleClerkAPIError` does: `401` → `secret-key-invalid`, `404` →
//!   `token-invalid` (`API key not found`, …), anything else → `unexpected-error`.
//!
//! A failure becomes a signed-out state whose reason is the error code and whose message is
//! Clerk's `"<message> (code=<code>, status=<http status or n/a>)"`.
//!
//! # Backend API failures are not the client's fault (decision 12)
//!
//! When the Backend API's answer could not be had (a network error, a timeout, a `5xx`, a `429`,
//! a redirect (`3xx`: the client never follows one), a body that is not the expected JSON, or no
//! Backend API client at all), the state keeps Clerk's reason `unexpected-error` and message, but
//! [`RequestState::rejection`] answers it `503`, not `401`: the client's credential was not found
//! bad. Definitive answers keep their mapping: `404` → `token-invalid` (`401`), `401` →
//! `secret-key-invalid` (`503`, as a key-set outage), any other `4xx` → `unexpected-error`
//! (`401`).
//!
//! # The Backend API budget (decision 13)
//!
//! An opaque token is a value the client chooses freely, so the calls it causes are bounded per
//! [`Options`](crate::Options) instance by the [`BackendApiBudget`](crate::BackendApiBudget) (set with
//! [`OptionsBuilder::backend_api_budget`](crate::OptionsBuilder::backend_api_budget)):
//!
//! * one call in flight per distinct token (with or without the answer cache);
//! * definitive refusals (not found, revoked, expired) are remembered for 10 s by default, keyed
//!   by a SHA-256 digest: the same token is refused again without a call;
//! * a token never seen before (no positive answer within the last hour by default) needs a slot
//!   among 8 calls in flight and a token from a bucket of 20 per second with a burst of 40. A
//!   token without one is **over budget**: signed out with reason `backend-api-budget-exhausted`,
//!   answered `503` with `Retry-After: 1`, and no call is made. A known API key is exempt, so
//!   re-verifying it when its cached answer expires never competes with a flood of random ones.
//!
//! Cached positive answers and the cached key set keep working during a flood: they make no call.
//!
//! # The answer cache
//!
//! Positive Backend API answers for opaque tokens are cached per [`Options`](crate::Options) instance for a short
//! time ([`DEFAULT_MACHINE_TOKEN_CACHE_TTL`], 5 s; see
//! [`OptionsBuilder::machine_token_cache_ttl`](crate::OptionsBuilder::machine_token_cache_ttl)).
//! The trade-off: **a revoked token keeps working for at most the TTL** on an instance that saw it
//! recently; in exchange a busy client costs one Backend API call per TTL instead of one per
//! request, and concurrent requests with the same new token share one call (single flight).
//! Failures are not kept in this cache (refusals go to the budget's short negative cache,
//! outages nowhere). The cache is keyed by a SHA-256 digest of the token, so it never holds the
//! secret itself. The TTL runs on the
//! monotonic clock; the token's own `expiration` (from the answer) is compared with the
//! configured [`Clock`], and a cached answer past it is not used.
//!
//! In non-blocking mode ([`try_authenticate_request`](crate::try_authenticate_request)) a cached
//! answer (positive or a remembered refusal) is used without IO, and a token that is certainly
//! over budget (never seen before, and the bucket or the in-flight bound exhausted right now) is
//! answered over budget without IO; any other opaque token interrupts with
//! [`Interrupt::WouldBlock`](crate::Interrupt::WouldBlock), and the blocking rerun takes the
//! budget. Non-blocking mode never waits. JWT forms interrupt only when the key source needs IO.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use moka::sync::Cache;
use serde_json::Value;

use crate::bapi::{BackendApi, BapiError};
use crate::budget::{Budget, Digest, Refusal, SingleFlight};
use crate::clock::Clock;
use crate::diagnostics::Diagnostics;
use crate::js;
use crate::state::{Auth, AuthErrorReason, Outage, Reason, RequestState};
use crate::token::auth::{
    is_jwt_format, is_m2m_jwt, is_oauth_jwt, machine_token_type, MachineAuth, TokenType,
};
use crate::token::{Jwt, MAX_TOKEN_LEN};
use crate::verify::pipeline::{unix_ms, verify_jwt, Verifier, M2M_CATEGORY, TEMPLATE_CATEGORY};
use crate::TokenVerificationErrorReason as TvReason;

mod cache;
mod opaque;

pub(crate) use self::cache::MachineTokenCache;
use self::cache::*;
use self::opaque::*;

/// How long a positive Backend API answer for an opaque machine token is reused: 5 seconds.
pub const DEFAULT_MACHINE_TOKEN_CACHE_TTL: Duration = Duration::from_secs(5);

/// How many opaque machine tokens the answer cache holds at most: 10 000.
pub const DEFAULT_MACHINE_TOKEN_CACHE_CAPACITY: u64 = 10_000;

/// The header types of OAuth access-token JWTs (RFC 9068).
const OAUTH_ACCESS_TOKEN_TYPES: [&str; 2] = ["at+jwt", "application/at+jwt"];

/// Clerk's `MachineTokenVerificationErrorCode`: the signed-out `reason` of a failed machine token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MachineTokenVerificationErrorCode {
    /// `token-invalid`: unknown to the Backend API, revoked, expired, malformed, or of the wrong
    /// category.
    TokenInvalid,
    /// `secret-key-invalid`: the Backend API refused the secret key (`401`).
    InvalidSecretKey,
    /// `unexpected-error`: another Backend API status, or no answer at all.
    UnexpectedError,
    /// `token-verification-failed`: a machine JWT failed verification.
    TokenVerificationFailed,
}

impl MachineTokenVerificationErrorCode {
    /// Clerk's wire string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TokenInvalid => "token-invalid",
            Self::InvalidSecretKey => "secret-key-invalid",
            Self::UnexpectedError => "unexpected-error",
            Self::TokenVerificationFailed => "token-verification-failed",
        }
    }

    /// The signed-out [`Reason`] with this code's string.
    pub const fn reason(self) -> Reason {
        match self {
            Self::TokenInvalid => Reason::Token(TvReason::TokenInvalid),
            Self::InvalidSecretKey => Reason::Token(TvReason::SecretKeyInvalid),
            Self::UnexpectedError => Reason::Auth(AuthErrorReason::UnexpectedError),
            Self::TokenVerificationFailed => Reason::Token(TvReason::TokenVerificationFailed),
        }
    }
}

impl fmt::Display for MachineTokenVerificationErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A machine token failed verification (Clerk's `MachineTokenVerificationError`). A decision,
/// not a malfunction: it becomes a signed-out state. Messages never contain the token or a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineTokenVerificationError {
    /// The token type the failure is reported for (Clerk reports `m2m_token` for a JWT-shaped
    /// token that does not decode, and `oauth_token` for a JWT that is neither kind).
    pub token_type: TokenType,
    /// The code, which is also the signed-out reason.
    pub code: MachineTokenVerificationErrorCode,
    /// Clerk's message (without the code and status suffix).
    pub message: Cow<'static, str>,
    /// The Backend API's HTTP status, when the failure is its answer.
    pub status: Option<u16>,
}

impl MachineTokenVerificationError {
    fn new(
        token_type: TokenType,
        code: MachineTokenVerificationErrorCode,
        message: impl Into<Cow<'static, str>>,
        status: Option<u16>,
    ) -> Self {
        Self {
            token_type,
            code,
            message: message.into(),
            status,
        }
    }

    /// Whether this failure is the Backend API's rather than the client's (decision 12): an
    /// `unexpected-error` without an HTTP answer (network, timeout, unreadable body, no client)
    /// or with a `3xx`, `429` or `5xx` one. Other `4xx` answers are definitive.
    fn is_outage(&self) -> bool {
        self.code == MachineTokenVerificationErrorCode::UnexpectedError
            && self
                .status
                .is_none_or(|s| !(400..500).contains(&s) || s == 429)
    }

    /// Clerk's `getFullMessage()`: `"<message> (code=<code>, status=<status or n/a>)"`.
    pub fn full_message(&self) -> String {
        match self.status.filter(|s| *s != 0) {
            Some(status) => format!("{} (code={}, status={status})", self.message, self.code),
            None => format!("{} (code={}, status=n/a)", self.message, self.code),
        }
    }
}

impl fmt::Display for MachineTokenVerificationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full_message())
    }
}

impl std::error::Error for MachineTokenVerificationError {}

type Verdict = Result<MachineAuth, MachineTokenVerificationError>;

/// The signed-in or signed-out state for a verified or failed machine token.
pub(crate) fn state(token: &str, verdict: Verdict) -> RequestState {
    match verdict {
        Ok(auth) => RequestState::signed_in(
            auth.token_type,
            crate::state::Token::Opaque(token.to_owned()),
            Auth::Machine(std::sync::Arc::new(auth)),
            HeaderMap::new(),
        ),
        Err(err) => {
            let state = RequestState::signed_out(
                Some(err.token_type),
                err.code.reason(),
                err.full_message(),
                Auth::UnauthenticatedMachine(err.token_type),
                HeaderMap::new(),
            );
            if err.is_outage() {
                state.with_outage(Outage::BackendApi)
            } else {
                state
            }
        }
    }
}

/// What machine-token verification uses of an instance: its parts, handed in by the caller (the
/// decision takes them from its [`Options`](crate::Options)), so that this module does not read
/// the configuration.
#[derive(Clone, Copy)]
pub(crate) struct Machine<'a> {
    /// The session-token verifier, for the JWT forms (its key source, options and clock).
    pub(crate) verifier: &'a Verifier,
    /// The Backend API client, for opaque tokens; `None` without a secret key.
    pub(crate) backend_api: Option<&'a Arc<dyn BackendApi>>,
    /// The Backend API budget.
    pub(crate) budget: &'a Budget,
    /// The answer cache and its flights.
    pub(crate) cache: &'a MachineTokenCache,
    /// The instance's clock.
    pub(crate) clock: &'a Arc<dyn Clock>,
    /// Where over-budget refusals are reported.
    pub(crate) diagnostics: &'a Diagnostics,
}

/// Clerk's `verifyMachineAuthToken` for a token already detected as a machine token. `None` when
/// the answer needs network IO and `may_block` is false.
pub(crate) fn verify(token: &str, parts: Machine<'_>, may_block: bool) -> Option<RequestState> {
    if is_jwt_format(token) {
        return verify_jwt_form(token, parts, may_block).map(|verdict| state(token, verdict));
    }
    let Some(kind) = machine_token_type(token) else {
        // Unreachable from the decision, which only calls this for machine tokens.
        return Some(state(
            token,
            Err(MachineTokenVerificationError::new(
                TokenType::M2mToken,
                MachineTokenVerificationErrorCode::UnexpectedError,
                "Unknown machine token type",
                None,
            )),
        ));
    };
    verify_opaque(kind, token, parts, may_block)
}

// ---- JWT forms ------------------------------------------------------------------------------

fn verify_jwt_form(token: &str, parts: Machine<'_>, may_block: bool) -> Option<Verdict> {
    use MachineTokenVerificationErrorCode as Code;
    let jwt = match Jwt::decode(token) {
        Ok(jwt) => jwt,
        Err(e) => {
            return Some(Err(MachineTokenVerificationError::new(
                TokenType::M2mToken,
                Code::TokenInvalid,
                e.message,
                None,
            )))
        }
    };
    let (kind, header_type) = if is_m2m_jwt(&jwt) {
        // Absent `cat` is still accepted (tokens from before the category rollout).
        match jwt.header_param("cat") {
            None => {}
            Some(Value::String(c)) if c == M2M_CATEGORY => {}
            Some(_) => {
                return Some(Err(MachineTokenVerificationError::new(
                    TokenType::M2mToken,
                    Code::TokenInvalid,
                    "Invalid M2M JWT category.",
                    None,
                )))
            }
        }
        (TokenType::M2mToken, None)
    } else if is_oauth_jwt(&jwt) {
        // Decision 4: a JWT-template token is never accepted, whatever its `typ`.
        if jwt.category() == Some(TEMPLATE_CATEGORY) {
            return Some(Err(MachineTokenVerificationError::new(
                TokenType::OauthToken,
                Code::TokenInvalid,
                "Invalid OAuth JWT category.",
                None,
            )));
        }
        (
            TokenType::OauthToken,
            Some(OAUTH_ACCESS_TOKEN_TYPES.map(str::to_owned).to_vec()),
        )
    } else {
        return Some(Err(MachineTokenVerificationError::new(
            TokenType::OauthToken,
            Code::TokenVerificationFailed,
            format!(
                "Invalid JWT type: {}. Expected one of: {} for OAuth, or sub starting with 'mch_' for M2M",
                crate::text::inert(&js::value_or_missing(jwt.header_param("typ"))),
                OAUTH_ACCESS_TOKEN_TYPES.join(", ")
            ),
            None,
        )));
    };

    let verifier = parts.verifier;
    let failed = |message: Cow<'static, str>| {
        MachineTokenVerificationError::new(kind, Code::TokenVerificationFailed, message, None)
    };
    // Decided and taken in one step: `None` when the key cannot be had without IO.
    let key = match verifier.take_key(&jwt, may_block)? {
        Ok(key) => key,
        Err(e) => return Some(Err(failed(e.message))),
    };
    let mut verify_options = verifier.options().clone();
    if header_type.is_some() {
        verify_options.header_type = header_type;
    }
    if let Err(e) = verify_jwt(&jwt, &key, &verify_options, verifier.clock().now()) {
        return Some(Err(failed(e.message)));
    }
    let auth = match kind {
        TokenType::OauthToken => MachineAuth::from_oauth_jwt(&jwt),
        _ => MachineAuth::from_m2m_jwt(&jwt),
    };
    Some(auth.map_err(|e| failed(e.to_string().into())))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn full_message_formats() {
        let e = MachineTokenVerificationError::new(
            TokenType::ApiKey,
            MachineTokenVerificationErrorCode::TokenInvalid,
            "API key not found",
            Some(404),
        );
        assert_eq!(
            e.full_message(),
            "API key not found (code=token-invalid, status=404)"
        );
        let e = unexpected(TokenType::M2mToken, None);
        assert_eq!(
            e.full_message(),
            "Unexpected error (code=unexpected-error, status=n/a)"
        );
        assert_eq!(unexpected(TokenType::M2mToken, Some(0)).status, Some(0));
        assert!(unexpected(TokenType::M2mToken, Some(0))
            .full_message()
            .ends_with("status=n/a)"));
    }

    #[test]
    fn codes_map_to_reasons() {
        use MachineTokenVerificationErrorCode as C;
        for code in [
            C::TokenInvalid,
            C::InvalidSecretKey,
            C::UnexpectedError,
            C::TokenVerificationFailed,
        ] {
            assert_eq!(code.reason().as_str(), code.as_str());
        }
    }
}
