//! The filters: [`auth_state`], [`signed_in`], [`optional_signed_in`], and the values they extract.

use std::borrow::Cow;
use std::convert::Infallible;
use std::ops::Deref;
use std::sync::Arc;

use clerk_auth_core::state::Disposition;
use clerk_auth_core::{
    try_authenticate_request, AuthenticateError, Interrupt, Options, RequestState, RequestView,
};
use warp::http::{HeaderMap, HeaderValue, Method};
use warp::path::FullPath;
use warp::reject::Rejection;
use warp::reply::{Reply, Response};
use warp::Filter;

use crate::reject::{self, ClerkRejection};

/// The request as warp hands it to a filter: method, path, raw query and the header map.
///
/// warp 0.4 gives filters no borrowed access to the request, so the header map is the one clone
/// `warp::header::headers_cloned()` makes (a table of reference-counted values, not a copy of
/// the bytes). The same value moves to a blocking thread when the decision needs network IO.
struct WarpRequest {
    method: Method,
    path: FullPath,
    query: Option<String>,
    headers: HeaderMap,
}

impl RequestView for WarpRequest {
    fn method(&self) -> &str {
        self.method.as_str()
    }

    fn url(&self) -> Cow<'_, str> {
        match &self.query {
            None => Cow::Borrowed(self.path.as_str()),
            Some(query) => Cow::Owned(format!("{}?{query}", self.path.as_str())),
        }
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.get(name).map(HeaderValue::as_bytes)
    }

    fn header_all<'a>(&'a self, name: &str) -> Box<dyn Iterator<Item = &'a [u8]> + 'a> {
        Box::new(self.headers.get_all(name).iter().map(HeaderValue::as_bytes))
    }

    fn visit_headers(&self, f: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in &self.headers {
            f(name.as_str(), value.as_bytes());
        }
    }
}

fn request() -> impl Filter<Extract = (WarpRequest,), Error = Infallible> + Clone {
    let query = warp::query::raw()
        .map(Some)
        .or(warp::any().map(|| None))
        .unify();
    warp::method()
        .and(warp::path::full())
        .and(query)
        .and(warp::header::headers_cloned())
        .map(|method, path, query, headers| WarpRequest {
            method,
            path,
            query,
            headers,
        })
}

/// Decides without blocking; only when the core asks for network IO does the decision move to
/// tokio's blocking pool (the core bounds how many wait; over the bound it answers 503 inline).
async fn decide(options: Options, request: WarpRequest) -> Result<RequestState, ClerkRejection> {
    match try_authenticate_request(&request, &options) {
        Ok(state) => Ok(state),
        Err(Interrupt::Failed(error)) => Err(ClerkRejection::failed(&error)),
        Err(Interrupt::WouldBlock(deferred)) => {
            match tokio::task::spawn_blocking(move || deferred.run()).await {
                Ok(Ok(state)) => Ok(state),
                Ok(Err(error)) => Err(ClerkRejection::failed(&error)),
                Err(join) => {
                    tracing::error!(error = %join, "clerk-auth: the blocking decision did not finish");
                    Err(ClerkRejection::failed(&AuthenticateError::DID_NOT_COMPLETE))
                }
            }
        }
    }
}

/// Extracts the request's [`AuthState`]; never rejects a signed-out request.
///
/// It rejects (with a [`ClerkRejection`], which [`recover`](crate::recover) answers) only when
/// no handler may run: the state carries a redirect (`307`, a handshake), a handshake without a
/// redirect target (`500`), or the request could not be decided (`500`).
///
/// Put path and method filters before it: the decision runs each time the filter is reached.
pub fn auth_state(
    options: Options,
) -> impl Filter<Extract = (AuthState,), Error = Rejection> + Clone {
    auth_state_with(options, false)
}

/// [`auth_state`], for a page (`api == false`) or an API route ([`crate::api`]).
pub(crate) fn auth_state_with(
    options: Options,
    api: bool,
) -> impl Filter<Extract = (AuthState,), Error = Rejection> + Clone {
    request().and_then(move |request: WarpRequest| {
        let options = options.clone();
        async move {
            let state = decide(options, request).await?;
            let state = AuthState(Arc::new(if api { state.into_api() } else { state }));
            match state.disposition() {
                Disposition::Continue => Ok(state),
                Disposition::Redirect => Err(warp::reject::custom(ClerkRejection::Redirect(state))),
                Disposition::ServerError => {
                    Err(warp::reject::custom(ClerkRejection::ServerError(state)))
                }
            }
        }
    })
}

/// Extracts [`SignedIn`], or rejects with [`ClerkRejection::Unauthorized`]: [`recover`](crate::recover)
/// answers it `401` (signed out) or `503` (the keys could not be obtained) with Clerk's JSON
/// body and the state's headers.
pub fn signed_in(
    options: Options,
) -> impl Filter<Extract = (SignedIn,), Error = Rejection> + Clone {
    signed_in_with(options, false)
}

/// [`signed_in`], for a page or an API route.
pub(crate) fn signed_in_with(
    options: Options,
    api: bool,
) -> impl Filter<Extract = (SignedIn,), Error = Rejection> + Clone {
    auth_state_with(options, api).and_then(|state: AuthState| async move {
        match state.rejection() {
            None => Ok(SignedIn(state)),
            Some(rejection) => Err(warp::reject::custom(ClerkRejection::Unauthorized {
                state,
                rejection,
            })),
        }
    })
}

/// Extracts `Some(SignedIn)` when signed in and `None` otherwise.
///
/// `None` drops the state, and with it the headers to add to the response (the debug headers of a
/// signed-out state). To keep them, extract [`AuthState`] and call [`AuthState::signed_in`].
pub fn optional_signed_in(
    options: Options,
) -> impl Filter<Extract = (Option<SignedIn>,), Error = Rejection> + Clone {
    optional_signed_in_with(options, false)
}

/// [`optional_signed_in`], for a page or an API route.
pub(crate) fn optional_signed_in_with(
    options: Options,
    api: bool,
) -> impl Filter<Extract = (Option<SignedIn>,), Error = Rejection> + Clone {
    auth_state_with(options, api).map(|state: AuthState| state.signed_in())
}

/// The decision for one request, from [`auth_state`]. Dereferences to [`RequestState`]
/// (`session()`, `machine()`, `is_signed_in()`, `headers()` …). Cheap to clone.
///
/// Answer with [`AuthState::reply`] so the state's headers (`set-cookie` from a handshake or a
/// refresh, the debug headers) reach the client.
#[derive(Clone, Debug)]
pub struct AuthState(Arc<RequestState>);

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

/// A request a protected route may serve, from [`signed_in`]. Dereferences to [`RequestState`]:
/// `session()` (with `has(..)`), `machine()`, `auth_json()` ….
#[derive(Clone, Debug)]
pub struct SignedIn(AuthState);

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
                reject::apply_state_headers(response.headers_mut(), &self.state);
                response
            }
            Disposition::Redirect => ClerkRejection::Redirect(self.state).to_response(),
            Disposition::ServerError => ClerkRejection::ServerError(self.state).to_response(),
        }
    }
}
