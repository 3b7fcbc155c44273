//! The decision's output: [`RequestState`], its [`AuthStatus`] and [`Reason`].
//!
//! [`RequestState`] (its constructors and accessors) lives here; each other subject has its own
//! file: the status, the reasons, the auth object, the outages (`503`), the response headers,
//! the adapter's answers ([`Disposition`], [`Rejection`]) and authorization at the route
//! ([`RequestState::authorize`]).

use std::fmt;

use http::header::{HeaderMap, HeaderValue};

use crate::token::auth::{MachineAuth, SessionAuth, TokenType};

mod auth;
mod authorize;
#[cfg(test)]
mod fixtures;
mod headers;
mod outage;
mod reason;
mod rejection;
mod status;

pub use auth::Auth;
pub use headers::{
    PRIVATE_NO_STORE, X_CLERK_AUTH_MESSAGE, X_CLERK_AUTH_REASON, X_CLERK_AUTH_STATUS,
};
pub(crate) use outage::Outage;
pub use reason::{AuthErrorReason, Reason, RefreshError};
pub use rejection::{Disposition, Rejection};
pub use status::AuthStatus;

/// The decision for one request.
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

    /// Whether this state is answered as an API route ([`into_api`](Self::into_api)).
    pub fn is_api(&self) -> bool {
        self.api
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
