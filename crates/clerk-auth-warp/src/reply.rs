//! What a request is answered with: the values the filters extract ([`AuthState`],
//! [`SignedIn`]), a handler's reply with the state applied ([`AuthReply`]), the custom rejection
//! ([`ClerkRejection`]) and [`recover`], which answers it. They refer to one another, so they
//! live together; the filters that produce them are in `filter.rs`.

use std::ops::Deref;
use std::sync::Arc;

use clerk_auth_core::state::{Disposition, Rejection as ClerkAnswer};
use clerk_auth_core::{AuthenticateError, RequestState};
use warp::http::header::CONTENT_TYPE;
use warp::http::{HeaderValue, StatusCode};
use warp::reject::{Reject, Rejection};
use warp::reply::{Reply, Response};

use crate::wrap::HeadersApplied;

/// The decision for one request, from [`auth_state`](crate::auth_state). Dereferences to [`RequestState`]
/// (`session()`, `machine()`, `is_signed_in()`, `headers()` …). Cheap to clone.
///
/// Answer with [`AuthState::reply`] so the state's headers (`set-cookie` from a handshake or a
/// refresh, the debug headers) reach the client.
#[derive(Clone, Debug)]
pub struct AuthState(pub(crate) Arc<RequestState>);

impl AuthState {
    /// The state.
    pub fn state(&self) -> &RequestState {
        &self.0
    }

    /// `Some` when a protected route may run (a signed-in session that is not pending, or an
    /// authenticated machine; a pending session too when the options
    /// [accept pending sessions](clerk_auth_core::OptionsBuilder::accept_pending_sessions)).
    pub fn signed_in(&self) -> Option<SignedIn> {
        match self.rejection() {
            None => Some(SignedIn(self.clone())),
            Some(_) => None,
        }
    }

    /// `reply` with the state's headers added (appended: several `set-cookie` stay several).
    pub fn reply<R: Reply>(&self, reply: R) -> AuthReply<R> {
        AuthReply {
            state: self.clone(),
            reply,
        }
    }
}

impl Deref for AuthState {
    type Target = RequestState;

    fn deref(&self) -> &RequestState {
        &self.0
    }
}

impl AsRef<RequestState> for AuthState {
    fn as_ref(&self) -> &RequestState {
        &self.0
    }
}

/// A request a protected route may serve, from [`signed_in`](crate::signed_in). Dereferences to [`RequestState`]:
/// `session()` (with `has(..)`), `machine()`, `auth_json()` ….
#[derive(Clone, Debug)]
pub struct SignedIn(pub(crate) AuthState);

impl SignedIn {
    /// The whole decision.
    pub fn auth_state(&self) -> &AuthState {
        &self.0
    }

    /// `reply` with the state's headers added (a server-side refresh sets cookies).
    pub fn reply<R: Reply>(&self, reply: R) -> AuthReply<R> {
        self.0.reply(reply)
    }
}

impl Deref for SignedIn {
    type Target = RequestState;

    fn deref(&self) -> &RequestState {
        &self.0
    }
}

impl AsRef<RequestState> for SignedIn {
    fn as_ref(&self) -> &RequestState {
        &self.0
    }
}

/// A handler's reply with the state applied, from [`AuthState::reply`] or [`SignedIn::reply`]:
/// the reply plus every state header; or, for a state that must not reach a handler (which the
/// filters never extract), `307` with the headers or `500`.
#[derive(Debug)]
pub struct AuthReply<R> {
    state: AuthState,
    reply: R,
}

impl<R: Reply> Reply for AuthReply<R> {
    fn into_response(self) -> Response {
        match self.state.disposition() {
            Disposition::Continue => {
                let mut response = self.reply.into_response();
                self.state.apply_headers(response.headers_mut());
                response.extensions_mut().insert(HeadersApplied);
                response
            }
            Disposition::Redirect => ClerkRejection::Redirect(self.state).to_response(),
            Disposition::ServerError => ClerkRejection::ServerError(self.state).to_response(),
        }
    }
}

/// Why a clerk-auth filter refused a request. [`recover`] turns it into the response; you can
/// also find it yourself (`rejection.find::<ClerkRejection>()`) and answer differently.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClerkRejection {
    /// The state carries a redirect (a handshake): `307` with all the state's headers.
    Redirect(AuthState),
    /// A handshake without a redirect target: `500`, with the state's headers.
    ServerError(AuthState),
    /// A protected route refused the request ([`signed_in`](crate::signed_in)): `401`, or `503`
    /// for a key-set outage, with Clerk's JSON body and the state's headers. For an API route
    /// ([`api::signed_in`](crate::api::signed_in)), a `401` also carries `WWW-Authenticate:
    /// Bearer error="invalid_token"` (in `rejection.headers`; `state.is_api()` is `true`); a `503` over the Backend API budget
    /// carries `Retry-After: 1`.
    Unauthorized {
        /// The decision.
        state: AuthState,
        /// The status, JSON body and extra headers (`WWW-Authenticate`, `Retry-After`) to answer with.
        rejection: ClerkAnswer,
    },
    /// A signed-in request without what the route requires ([`require`](crate::require)):
    /// `403` with `{"status":"forbidden"}`, or Clerk's reverification error when only a recent
    /// enough verification is missing, and the state's headers.
    Forbidden {
        /// The decision.
        state: AuthState,
        /// The status (`403`) and JSON body to answer with.
        rejection: ClerkAnswer,
    },
    /// The request could not be decided: `500` with this JSON body (no token, no key).
    Failed(String),
}

impl Reject for ClerkRejection {}

impl ClerkRejection {
    pub(crate) fn failed(error: &AuthenticateError) -> Self {
        // The core logs it (at most once a minute): a client can make every request undecidable.
        tracing::debug!(error = %error, "clerk-auth: the request could not be decided");
        Self::Failed(error.to_json())
    }

    /// The rejection for a refusal of [`RequestState::authorize`]: `Forbidden` for a `403`,
    /// `Unauthorized` otherwise (`401`, `503`).
    pub(crate) fn refused(state: AuthState, rejection: ClerkAnswer) -> Self {
        if rejection.status == 403 {
            Self::Forbidden { state, rejection }
        } else {
            Self::Unauthorized { state, rejection }
        }
    }

    /// The state, when there is one.
    pub fn state(&self) -> Option<&AuthState> {
        match self {
            Self::Redirect(state) | Self::ServerError(state) => Some(state),
            Self::Unauthorized { state, .. } | Self::Forbidden { state, .. } => Some(state),
            Self::Failed(_) => None,
        }
    }

    /// The response this rejection is answered with.
    pub fn to_response(&self) -> Response {
        let (status, body) = match self {
            Self::Redirect(_) => (StatusCode::TEMPORARY_REDIRECT, None),
            Self::ServerError(state) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(state.server_error_json()),
            ),
            Self::Unauthorized { rejection, .. } => (
                StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::UNAUTHORIZED),
                Some(rejection.body.clone()),
            ),
            Self::Forbidden { rejection, .. } => {
                (StatusCode::FORBIDDEN, Some(rejection.body.clone()))
            }
            Self::Failed(body) => (StatusCode::INTERNAL_SERVER_ERROR, Some(body.clone())),
        };
        let json = body.is_some();
        let mut response = warp::http::Response::new(body.unwrap_or_default()).into_response();
        *response.status_mut() = status;
        if json {
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        if let Some(state) = self.state() {
            state.apply_headers(response.headers_mut());
            response.extensions_mut().insert(HeadersApplied);
        }
        if let Self::Unauthorized { rejection, .. } = self {
            for (name, value) in &rejection.headers {
                response.headers_mut().insert(name.clone(), value.clone());
            }
        }
        response
    }
}

/// Answers a [`ClerkRejection`] (`307`, `401`, `503` or `500`, see its variants) and a
/// [`ClerkWebhookError`](crate::ClerkWebhookError) (`400`, or `500` without a signing secret),
/// and hands every other rejection back unchanged, for your own `recover` or warp's default
/// answer.
///
/// ```no_run
/// # use warp::Filter;
/// # fn routes(options: clerk_auth_core::Options) -> impl warp::Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
/// let me = warp::path!("api" / "me")
///     .and(clerk_auth_warp::signed_in(options))
///     .map(|auth: clerk_auth_warp::SignedIn| auth.reply(warp::reply::json(&auth.auth_json())));
/// me.recover(clerk_auth_warp::recover)
/// # }
/// ```
pub async fn recover(rejection: Rejection) -> Result<Response, Rejection> {
    match rejection.find::<ClerkRejection>() {
        Some(ours) => Ok(ours.to_response()),
        None => crate::webhook::recover(rejection),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn recover_hands_foreign_rejections_back() {
        let rejection = recover(warp::reject::not_found()).await.unwrap_err();
        assert!(rejection.is_not_found());
    }

    #[tokio::test]
    async fn recover_answers_a_failed_decision_with_json() {
        let failed = ClerkRejection::failed(&clerk_auth_core::AuthenticateError::DID_NOT_COMPLETE);
        let response = recover(warp::reject::custom(failed)).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers().get(CONTENT_TYPE).unwrap(),
            "application/json"
        );
    }
}
