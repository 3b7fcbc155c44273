//! The decision's output (§2.12): [`RequestState`], its [`AuthStatus`] and [`Reason`].

use std::borrow::Cow;
use std::fmt;

use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::TokenVerificationErrorReason;
use crate::token::auth::{MachineAuth, SessionAuth, TokenType};

/// `signed-in`, `signed-out` or `handshake`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthStatus {
    /// The request carries a valid credential.
    SignedIn,
    /// The request carries no valid credential; see the [`Reason`].
    SignedOut,
    /// The browser must be sent through Clerk's handshake (a redirect) before a decision.
    Handshake,
}

impl AuthStatus {
    /// Clerk's wire string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SignedIn => "signed-in",
            Self::SignedOut => "signed-out",
            Self::Handshake => "handshake",
        }
    }
}

impl fmt::Display for AuthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Clerk's `AuthErrorReason` (§2.11).
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

/// Why a server-side refresh did not happen or failed (§2.8); the suffix of
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
    /// A token verification failure (§3.7), or a machine-token error code (§5.5).
    Token(TokenVerificationErrorReason),
    /// `session-token-expired-refresh-<x>` (§2.8).
    SessionTokenExpired(RefreshError),
    /// The literal `No token in header` (§2.1 step 3).
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

/// The auth object of a state (§4.3, §5.6).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Auth {
    /// A signed-in session.
    Session(std::sync::Arc<SessionAuth>),
    /// A signed-out session; `pending` when the token was valid but the session is pending (§4.3).
    SignedOutSession {
        /// The session's status was `pending`.
        pending: bool,
    },
    /// An authenticated machine.
    Machine(std::sync::Arc<MachineAuth>),
    /// An unauthenticated machine request of the given type.
    UnauthenticatedMachine(TokenType),
    /// The presented token's type is not accepted (`signedOutInvalidToken`).
    InvalidToken,
    /// No auth object (a handshake).
    None,
}

/// The decision for one request (§2.12).
///
/// `Debug` never shows the token.
#[derive(Clone)]
pub struct RequestState {
    pub(crate) status: AuthStatus,
    pub(crate) reason: Option<Reason>,
    pub(crate) message: Option<String>,
    pub(crate) token_type: Option<TokenType>,
    pub(crate) token: Option<Token>,
    pub(crate) auth: Auth,
    pub(crate) headers: HeaderMap,
    /// Answered as an API (see [`RequestState::into_api`]).
    pub(crate) api: bool,
    /// For a handshake asked for by a signed-in request (organization sync, cross-origin sync):
    /// the signed-in state it stays when it must not be redirected.
    pub(crate) without_redirect: Option<Box<RequestState>>,
    /// Set when this signed-out state is the service's failure, not the client's (decision 12).
    pub(crate) outage: Option<Outage>,
}

/// Why a signed-out state is the service's failure rather than the client's (decisions 12 and
/// 13): answered `503`, never `401`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outage {
    /// A Backend API answer the verification depends on could not be had (network, timeout,
    /// 5xx, 429, a redirect, an unparseable body).
    BackendApi,
    /// The call would have exceeded the instance's Backend API budget: `Retry-After: 1`.
    Budget,
}

/// The raw token of a signed-in state: a verified JWT shared with the cache, or an opaque token.
#[derive(Clone)]
pub(crate) enum Token {
    /// A verified JWT, shared with the verified-token cache.
    Jwt(std::sync::Arc<crate::token::Jwt>),
    /// An opaque machine token.
    Opaque(String),
}

impl Token {
    fn as_str(&self) -> &str {
        match self {
            Self::Jwt(jwt) => jwt.as_str(),
            Self::Opaque(s) => s,
        }
    }
}

impl RequestState {
    pub(crate) fn signed_in(
        token_type: TokenType,
        token: Token,
        auth: Auth,
        headers: HeaderMap,
    ) -> Self {
        Self {
            status: AuthStatus::SignedIn,
            reason: None,
            message: None,
            token_type: Some(token_type),
            token: Some(token),
            auth,
            headers,
            api: false,
            without_redirect: None,
            outage: None,
        }
    }

    pub(crate) fn signed_out(
        token_type: Option<TokenType>,
        reason: Reason,
        message: String,
        auth: Auth,
        headers: HeaderMap,
    ) -> Self {
        Self {
            status: AuthStatus::SignedOut,
            reason: Some(reason),
            message: Some(message),
            token_type,
            token: None,
            auth,
            headers,
            api: false,
            without_redirect: None,
            outage: None,
        }
    }

    pub(crate) fn handshake(reason: Reason, message: String, headers: HeaderMap) -> Self {
        Self {
            status: AuthStatus::Handshake,
            reason: Some(reason),
            message: Some(message),
            token_type: Some(TokenType::SessionToken),
            token: None,
            auth: Auth::None,
            headers,
            api: false,
            without_redirect: None,
            outage: None,
        }
    }

    /// Adds Clerk's debug headers (`x-clerk-auth-status`, `-reason`, `-message`) to a state that is
    /// not signed-in. Values that are not valid header bytes are skipped, as Clerk does.
    pub(crate) fn with_debug_headers(mut self) -> Self {
        if self.status == AuthStatus::SignedIn {
            return self;
        }
        if let Some(message) = self.message.as_deref().filter(|m| !m.is_empty()) {
            if let Ok(v) = HeaderValue::from_str(message) {
                self.headers.insert(X_CLERK_AUTH_MESSAGE, v);
            }
        }
        if let Some(reason) = &self.reason {
            if let Ok(v) = HeaderValue::from_str(&reason.as_str()) {
                self.headers.insert(X_CLERK_AUTH_REASON, v);
            }
        }
        self.headers.insert(
            X_CLERK_AUTH_STATUS,
            HeaderValue::from_static(self.status.as_str()),
        );
        self
    }

    /// The status.
    pub fn status(&self) -> AuthStatus {
        self.status
    }

    /// Whether the request is signed in: a session or an authenticated machine.
    ///
    /// A pending session (`sts = pending`) is not (decision 16, Clerk's
    /// `treatPendingAsSignedOut`): its [`status`](Self::status) stays
    /// [`SignedIn`](AuthStatus::SignedIn), as on Clerk's wire, but its [`auth`](Self::auth) is a
    /// signed-out session with `pending: true`, and this is `false`, unless the options
    /// [accept pending sessions](crate::OptionsBuilder::accept_pending_sessions).
    pub fn is_signed_in(&self) -> bool {
        self.status == AuthStatus::SignedIn && !matches!(self.auth, Auth::SignedOutSession { .. })
    }

    /// The reason (`None` when signed in).
    pub fn reason(&self) -> Option<&Reason> {
        self.reason.as_ref()
    }

    /// The message (`None` when signed in; often empty otherwise). Never contains a token.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The token type (`None` for a token whose type is not accepted).
    pub fn token_type(&self) -> Option<TokenType> {
        self.token_type
    }

    /// The verified raw token, when signed in. A bearer credential: do not log it.
    pub fn token(&self) -> Option<&str> {
        self.token.as_ref().map(Token::as_str)
    }

    /// The auth object (Clerk's `toAuth()`): pending sessions count as signed out unless the
    /// options [accept them](crate::OptionsBuilder::accept_pending_sessions).
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The signed-in session, if any.
    pub fn session(&self) -> Option<&SessionAuth> {
        match &self.auth {
            Auth::Session(s) => Some(s.as_ref()),
            _ => None,
        }
    }

    /// The authenticated machine, if any.
    pub fn machine(&self) -> Option<&MachineAuth> {
        match &self.auth {
            Auth::Machine(m) => Some(m.as_ref()),
            _ => None,
        }
    }

    /// The headers to add to the response (several `set-cookie` possible). When they contain
    /// `location`, the response must be a `307` redirect carrying all of them.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The redirect target, when the response must be a `307`.
    pub fn location(&self) -> Option<&HeaderValue> {
        self.headers.get(http::header::LOCATION)
    }

    /// Whether this is a signed-out state caused by a key-set outage or a bad secret key
    /// (answered `503`, not `401`).
    pub fn is_key_set_outage(&self) -> bool {
        self.status == AuthStatus::SignedOut
            && self.reason.as_ref().is_some_and(Reason::is_key_set_outage)
    }

    /// Whether this signed-out state is the service's failure rather than the client's, answered
    /// `503` (decisions 11 to 13): a key-set outage or a bad secret key, a Backend API answer that
    /// could not be had for an opaque machine token, or a call over the instance's Backend API
    /// budget.
    pub fn is_unavailable(&self) -> bool {
        self.is_key_set_outage() || (self.status == AuthStatus::SignedOut && self.outage.is_some())
    }

    /// Marks a signed-out state as the service's failure (`503`).
    pub(crate) fn with_outage(mut self, outage: Outage) -> Self {
        self.outage = Some(outage);
        self
    }

    /// A signed-out state for a request whose verification would exceed the instance's Backend
    /// API budget (decision 13): reason `backend-api-budget-exhausted`, answered `503` with
    /// `Retry-After: 1`.
    pub(crate) fn over_budget(token_type: Option<TokenType>, auth: Auth) -> Self {
        Self::signed_out(
            token_type,
            Reason::Auth(AuthErrorReason::BackendApiBudgetExhausted),
            "The Backend API budget of this instance is exhausted; retry shortly.".to_owned(),
            auth,
            HeaderMap::new(),
        )
        .with_outage(Outage::Budget)
    }
}

impl fmt::Debug for RequestState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("RequestState");
        debug
            .field("status", &self.status)
            .field("reason", &self.reason)
            .field("message", &self.message)
            .field("token_type", &self.token_type)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("headers", &self.headers.keys().collect::<Vec<_>>());
        if self.api {
            debug.field("api", &true);
        }
        debug.finish()
    }
}

/// The `Cache-Control` of a response carrying a state's `set-cookie` (see
/// [`RequestState::cache_control`]).
pub const PRIVATE_NO_STORE: &str = "private, no-store";

/// `x-clerk-auth-status`
pub const X_CLERK_AUTH_STATUS: HeaderName = HeaderName::from_static("x-clerk-auth-status");
/// `x-clerk-auth-reason`
pub const X_CLERK_AUTH_REASON: HeaderName = HeaderName::from_static("x-clerk-auth-reason");
/// `x-clerk-auth-message`
pub const X_CLERK_AUTH_MESSAGE: HeaderName = HeaderName::from_static("x-clerk-auth-message");

/// What an adapter does with a state before running the handler (decision 11, §2.12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Answer `307 Temporary Redirect` with all the state's headers; do not run the handler.
    Redirect,
    /// A handshake without `location`: answer `500`; do not run the handler.
    ServerError,
    /// Run the handler and add the state's headers to its response.
    Continue,
}

/// The answer to a request that a protected route refuses (decision 11): `401` for a signed-out
/// request, `503` when the keys could not be obtained. The body is JSON
/// `{"status","reason","message"}` and never contains a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// `401` or `503`.
    pub status: u16,
    /// The JSON body.
    pub body: String,
    /// The headers this answer carries besides the state's own
    /// [`headers`](RequestState::headers): `WWW-Authenticate: Bearer error="invalid_token"` on a
    /// `401` of a state answered as an API ([`RequestState::into_api`]), `Retry-After: 1` on a
    /// `503` over the Backend API budget.
    pub headers: HeaderMap,
}

/// The challenge of a `401` answered as an API (RFC 6750 §3).
const API_CHALLENGE: &str = r#"Bearer error="invalid_token""#;

impl RequestState {
    /// What the adapter does before the handler runs.
    pub fn disposition(&self) -> Disposition {
        if self.headers.contains_key(http::header::LOCATION) {
            Disposition::Redirect
        } else if self.status == AuthStatus::Handshake {
            Disposition::ServerError
        } else {
            Disposition::Continue
        }
    }

    /// Why a route that requires a signed-in user refuses this request, or `None` if it may run:
    /// a signed-in session (not pending) or an authenticated machine.
    pub fn rejection(&self) -> Option<Rejection> {
        if matches!(self.auth, Auth::Session(_) | Auth::Machine(_)) && self.is_signed_in() {
            return None;
        }
        // A pending session is signed in with no reason, but Clerk's `toAuth()` treats it as
        // signed out (decision 16): the body then carries `"reason": null`.
        let reason = self.reason.as_ref().map(|r| r.as_str().into_owned());
        let status = if self.is_unavailable() { 503 } else { 401 };
        let body = serde_json::json!({
            "status": AuthStatus::SignedOut.as_str(),
            "reason": reason,
            "message": self.message.as_deref().unwrap_or(""),
        });
        let mut headers = HeaderMap::new();
        if self.api && status == 401 {
            headers.insert(
                http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static(API_CHALLENGE),
            );
        }
        if self.outage == Some(Outage::Budget) {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        Some(Rejection {
            status,
            body: body.to_string(),
            headers,
        })
    }

    /// This state answered as an API route: never with a redirect, even to a document request.
    ///
    /// - A [`Handshake`](AuthStatus::Handshake) becomes [`SignedOut`](AuthStatus::SignedOut) with
    ///   the same reason and message, as for a request that is not eligible for a handshake. The
    ///   handshake's `location`, `cache-control` and `__clerk_redirect_count` cookie are dropped;
    ///   the debug headers stay (`x-clerk-auth-status` then says `signed-out`).
    /// - Any other state that carries `location` (a development handshake being resolved) keeps
    ///   its status and cookies, without `location` and `cache-control`.
    /// - [`rejection`](Self::rejection) then adds `WWW-Authenticate: Bearer
    ///   error="invalid_token"` to a `401` (not to a `503`: the client's credential is not at fault).
    ///
    /// - A handshake asked for by a signed-in request (organization sync, cross-origin sync) is
    ///   the signed-in state it came from: those handshakes only sync the browser.
    ///
    /// So [`disposition`](Self::disposition) is always [`Disposition::Continue`]. Idempotent.
    #[must_use]
    pub fn into_api(mut self) -> Self {
        self.api = true;
        if let Some(signed_in) = self.without_redirect.take() {
            return signed_in.into_api();
        }
        if self.status == AuthStatus::Handshake {
            self.status = AuthStatus::SignedOut;
            self.auth = Auth::SignedOutSession { pending: false };
            let debug = std::mem::take(&mut self.headers);
            for (name, value) in &debug {
                if name.as_str().starts_with("x-clerk-auth-") {
                    self.headers.append(name.clone(), value.clone());
                }
            }
            if let Some(status) = self.headers.get_mut(X_CLERK_AUTH_STATUS) {
                *status = HeaderValue::from_static(AuthStatus::SignedOut.as_str());
            }
        } else if self.headers.contains_key(http::header::LOCATION) {
            self.headers.remove(http::header::LOCATION);
            self.headers.remove(http::header::CACHE_CONTROL);
        }
        self
    }

    /// The `Cache-Control` a response that carries this state's headers must get, given the
    /// values it has (the application's and the state's, in any order): `None` when they may
    /// stay, `Some("private, no-store")` ([`PRIVATE_NO_STORE`]) to replace every one of them.
    ///
    /// A state that sets a cookie (a refresh, a handshake) makes the response personal: no shared
    /// cache may store it and hand one user's session cookie to another. So when the state has a
    /// `set-cookie`, a response whose `Cache-Control` does not already say `no-store` (absent,
    /// `public, max-age=60`, `private`, …) gets `private, no-store`; one that says `no-store` is
    /// kept as the application set it. A state without `set-cookie` changes nothing. Every
    /// adapter applies this after copying the state's headers onto a response.
    ///
    /// ```
    /// # use clerk_auth_core::{RequestState, state::PRIVATE_NO_STORE};
    /// # fn f(state: &RequestState) {
    /// let app: &[&[u8]] = &[b"public, max-age=60"];
    /// if let Some(value) = state.cache_control(app.iter().copied()) {
    ///     assert_eq!(value, PRIVATE_NO_STORE); // replaces the application's value
    /// }
    /// # }
    /// ```
    pub fn cache_control<'a>(
        &self,
        current: impl IntoIterator<Item = &'a [u8]>,
    ) -> Option<&'static str> {
        if !self.headers.contains_key(http::header::SET_COOKIE) {
            return None;
        }
        let no_store = current.into_iter().any(|value| {
            value.split(|b| *b == b',').any(|directive| {
                let name = directive.split(|b| *b == b'=').next().unwrap_or_default();
                name.trim_ascii().eq_ignore_ascii_case(b"no-store")
            })
        });
        (!no_store).then_some(PRIVATE_NO_STORE)
    }

    /// Whether this state is answered as an API route ([`into_api`](Self::into_api)).
    pub fn is_api(&self) -> bool {
        self.api
    }

    /// [`auth_json`](Self::auth_json) serialized straight to text (no intermediate value).
    pub fn auth_json_string(&self) -> String {
        let text = match &self.auth {
            Auth::Session(s) => Ok(s.to_json_string()),
            Auth::Machine(m) => serde_json::to_string(m.as_ref()),
            _ => Ok(self.auth_json().to_string()),
        };
        text.unwrap_or_else(|_| "null".to_owned())
    }

    /// The body of the `500` an adapter answers for a handshake without `location`
    /// ([`Disposition::ServerError`]).
    pub fn server_error_json(&self) -> String {
        serde_json::json!({
            "status": "error",
            "message": "handshake required but no redirect location",
        })
        .to_string()
    }

    /// The auth object as the JSON the example servers return from `/api/me` (Clerk's camelCase
    /// names; fields that do not apply are `null`).
    pub fn auth_json(&self) -> serde_json::Value {
        let value = match &self.auth {
            Auth::Session(s) => serde_json::to_value(s.as_ref()),
            Auth::SignedOutSession { pending } => {
                serde_json::to_value(crate::token::auth::SessionAuthObject::signed_out(*pending))
            }
            Auth::Machine(m) => serde_json::to_value(m.as_ref()),
            Auth::UnauthenticatedMachine(kind) => {
                Ok(crate::token::auth::MachineAuth::unauthenticated_json(*kind))
            }
            Auth::InvalidToken => Ok(serde_json::json!({ "tokenType": null })),
            Auth::None => Ok(serde_json::Value::Null),
        };
        value.unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use http::header::{CACHE_CONTROL, LOCATION, SET_COOKIE};

    use super::*;
    use crate::{try_authenticate_request, Options, TestRequest};

    const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";

    fn options(debug_headers: bool) -> Options {
        Options::builder()
            .publishable_key(PK_LIVE)
            .secret_key("sk_live_state_tests")
            .debug_headers(debug_headers)
            .build()
            .unwrap()
    }

    /// A document GET with `__client_uat=1` and no session token: a handshake in page mode.
    fn handshake(debug_headers: bool) -> RequestState {
        let request = TestRequest::get("/dashboard")
            .header("host", "app.example.com")
            .header("cookie", "__client_uat=1")
            .header("sec-fetch-dest", "document")
            .build();
        try_authenticate_request(&request, &options(debug_headers)).unwrap()
    }

    fn body(rejection: &Rejection) -> serde_json::Value {
        serde_json::from_str(&rejection.body).unwrap()
    }

    #[test]
    fn a_handshake_answered_as_an_api_is_signed_out_without_redirect() {
        let page = handshake(true);
        assert_eq!(page.status(), AuthStatus::Handshake);
        assert_eq!(page.disposition(), Disposition::Redirect);
        assert!(page.location().is_some());
        assert!(!page.is_api());

        let api = page.clone().into_api();
        assert!(api.is_api());
        assert_eq!(api.status(), AuthStatus::SignedOut);
        assert!(!api.is_signed_in());
        assert_eq!(api.reason(), page.reason());
        assert_eq!(
            api.reason(),
            Some(&Reason::Auth(AuthErrorReason::ClientUatWithoutSessionToken))
        );
        assert_eq!(api.message(), page.message());
        assert_eq!(api.token_type(), Some(TokenType::SessionToken));
        assert!(matches!(
            api.auth(),
            Auth::SignedOutSession { pending: false }
        ));
        assert_eq!(api.disposition(), Disposition::Continue);
        assert_eq!(api.location(), None);
        for gone in [LOCATION, CACHE_CONTROL, SET_COOKIE] {
            assert!(!api.headers().contains_key(&gone), "{gone}");
        }
        assert_eq!(
            api.headers().get(X_CLERK_AUTH_STATUS).unwrap(),
            "signed-out"
        );
        assert_eq!(
            api.headers().get(X_CLERK_AUTH_REASON).unwrap(),
            "client-uat-but-no-session-token"
        );
        assert!(api
            .headers()
            .keys()
            .all(|n| n.as_str().starts_with("x-clerk-auth-")));

        let rejection = api.rejection().unwrap();
        assert_eq!(rejection.status, 401);
        assert_eq!(
            rejection
                .headers
                .get(http::header::WWW_AUTHENTICATE)
                .unwrap(),
            r#"Bearer error="invalid_token""#
        );
        assert_eq!(
            body(&rejection),
            serde_json::json!({
                "status": "signed-out",
                "reason": "client-uat-but-no-session-token",
                "message": "",
            })
        );
        // Idempotent.
        let again = api.clone().into_api();
        assert_eq!(again.headers(), api.headers());
        assert_eq!(again.rejection(), api.rejection());
    }

    #[test]
    fn without_debug_headers_an_api_handshake_carries_no_header() {
        let api = handshake(false).into_api();
        assert_eq!(api.status(), AuthStatus::SignedOut);
        assert!(api.headers().is_empty(), "{:?}", api.headers());
        assert_eq!(api.rejection().unwrap().status, 401);
    }

    #[test]
    fn page_mode_rejections_carry_no_challenge() {
        let request = TestRequest::get("/api/me")
            .header("host", "app.example.com")
            .build();
        let page = try_authenticate_request(&request, &options(true)).unwrap();
        assert!(!page.is_api());
        let rejection = page.rejection().unwrap();
        assert_eq!(rejection.status, 401);
        assert_eq!(rejection.headers.get(http::header::WWW_AUTHENTICATE), None);
        assert!(!format!("{page:?}").contains("api"));

        // The same signed-out state as an API: same status, headers and body, plus the challenge.
        let api = page.clone().into_api();
        assert_eq!(api.status(), page.status());
        assert_eq!(api.headers(), page.headers());
        let api_rejection = api.rejection().unwrap();
        assert_eq!(api_rejection.body, rejection.body);
        assert_eq!(
            api_rejection
                .headers
                .get(http::header::WWW_AUTHENTICATE)
                .unwrap(),
            r#"Bearer error="invalid_token""#
        );
        assert!(format!("{api:?}").contains("api: true"));
    }

    #[test]
    fn a_key_set_outage_answered_as_an_api_stays_503_without_challenge() {
        let outage = RequestState::signed_out(
            Some(TokenType::SessionToken),
            Reason::Token(TokenVerificationErrorReason::JwkRemoteFailedToLoad),
            String::new(),
            Auth::SignedOutSession { pending: false },
            HeaderMap::new(),
        )
        .into_api();
        assert!(outage.is_key_set_outage());
        let rejection = outage.rejection().unwrap();
        assert_eq!(rejection.status, 503);
        assert_eq!(rejection.headers.get(http::header::WWW_AUTHENTICATE), None);
        assert_eq!(body(&rejection)["reason"], "jwk-remote-failed-to-load");
    }

    #[test]
    fn a_handshake_without_location_answered_as_an_api_is_not_a_server_error() {
        let reason = Reason::Auth(AuthErrorReason::DevBrowserMissing);
        let page = RequestState::handshake(reason.clone(), "m".to_owned(), HeaderMap::new());
        assert_eq!(page.disposition(), Disposition::ServerError);
        let api = page.into_api();
        assert_eq!(api.disposition(), Disposition::Continue);
        assert_eq!(api.status(), AuthStatus::SignedOut);
        assert_eq!(api.reason(), Some(&reason));
        assert_eq!(api.message(), Some("m"));
        assert_eq!(api.rejection().unwrap().status, 401);
    }

    #[test]
    fn a_state_that_sets_cookies_makes_the_response_private_and_not_stored() {
        let mut cookies = HeaderMap::new();
        cookies.append(SET_COOKIE, HeaderValue::from_static("__session=t; Path=/"));
        let setting = RequestState::handshake(
            Reason::Auth(AuthErrorReason::DevBrowserMissing),
            String::new(),
            cookies,
        );
        let none: [&[u8]; 0] = [];
        assert_eq!(setting.cache_control(none), Some(PRIVATE_NO_STORE));
        for replaced in [
            &b"public, max-age=60"[..],
            b"private",
            b"max-age=0",
            b"no-cache",
            b"no-storey",
            b"x-no-store",
        ] {
            assert_eq!(
                setting.cache_control([replaced]),
                Some(PRIVATE_NO_STORE),
                "{}",
                String::from_utf8_lossy(replaced)
            );
        }
        for kept in [
            &b"no-store"[..],
            b"NO-STORE",
            b"private, no-store",
            b"public,no-store , max-age=0",
            b" no-store=1",
        ] {
            assert_eq!(
                setting.cache_control([kept]),
                None,
                "{}",
                String::from_utf8_lossy(kept)
            );
        }
        // Several values: one saying `no-store` is enough.
        assert_eq!(setting.cache_control([&b"public"[..], b"no-store"]), None);
        // Non-UTF-8 bytes are no directive, never a panic.
        assert_eq!(
            setting.cache_control([&b"\xffno-store\xfe"[..]]),
            Some(PRIVATE_NO_STORE)
        );

        // A state that sets no cookie leaves the response's caching to the application.
        let quiet = handshake(false).into_api();
        assert!(!quiet.headers().contains_key(SET_COOKIE));
        assert_eq!(quiet.cache_control([&b"public, max-age=60"[..]]), None);
        assert_eq!(quiet.cache_control(none), None);
    }

    #[cfg(feature = "testing")]
    #[test]
    fn a_signed_in_state_answered_as_an_api_keeps_its_cookies_but_not_its_redirect() {
        use crate::testing::{KeyPair, TokenMinter};

        let keys = KeyPair::shared();
        let session = TokenMinter::new(keys)
            .issued_at(std::time::SystemTime::now())
            .ttl(std::time::Duration::from_secs(600))
            .mint();
        let directives = serde_json::json!([
            format!("__session={session}; Path=/"),
            "__client_uat=1700000000; Path=/",
        ]);
        let handshake_token = keys.sign(
            serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "ins_2test"}),
            serde_json::json!({ "handshake": directives }),
        );
        // A development instance resolving a handshake token: signed in, `307` to the clean URL.
        let options = Options::builder()
            .publishable_key("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k")
            .secret_key("sk_test_state_tests")
            .jwt_key(keys.public_pem())
            .build()
            .unwrap();
        let request = TestRequest::get(format!("/p?__clerk_handshake={handshake_token}"))
            .header("host", "app.example.com")
            .build();
        let page = try_authenticate_request(&request, &options).unwrap();
        assert!(page.is_signed_in());
        assert_eq!(page.disposition(), Disposition::Redirect);

        let api = page.into_api();
        assert!(api.is_signed_in());
        assert_eq!(api.disposition(), Disposition::Continue);
        assert!(!api.headers().contains_key(LOCATION));
        assert!(!api.headers().contains_key(CACHE_CONTROL));
        assert_eq!(api.headers().get_all(SET_COOKIE).iter().count(), 2);
        assert_eq!(api.rejection(), None);
        assert_eq!(api.token(), Some(session.as_str()));
    }
}
