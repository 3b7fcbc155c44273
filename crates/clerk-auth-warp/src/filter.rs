//! The filters: [`auth_state`], [`signed_in`], [`optional_signed_in`]; what they extract is in
//! `reply.rs`.

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::Arc;

use clerk_auth_core::state::Disposition;
use clerk_auth_core::{
    try_authenticate_request, AuthenticateError, Has, Interrupt, Options, RequestState, RequestView,
};
use warp::http::{HeaderMap, HeaderValue, Method};
use warp::path::FullPath;
use warp::reject::Rejection;

use warp::Filter;

use crate::reply::{AuthState, ClerkRejection, SignedIn};
use crate::wrap::Slot;

/// The request as warp hands it to a filter: method, path, raw query and the header map.
///
/// warp 0.4 gives filters no borrowed access to the request, so the header map is the one clone
/// `warp::header::headers_cloned()` makes (a table of reference-counted values, not a copy of
/// the bytes). The same value moves to a blocking thread when the decision needs network IO.
pub(crate) struct WarpRequest {
    pub(crate) method: Method,
    pub(crate) path: FullPath,
    pub(crate) query: Option<String>,
    pub(crate) headers: HeaderMap,
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

pub(crate) fn request() -> impl Filter<Extract = (WarpRequest,), Error = Infallible> + Clone {
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
            // Under `with_auth`: where this decision's headers go.
            let slot = Slot::find(&request);
            let state = decide(options, request).await?;
            let state = AuthState(Arc::new(if api { state.into_api() } else { state }));
            if let Some(slot) = slot {
                slot.record(&state);
            }
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

/// Extracts [`SignedIn`] for a request that meets `requirement` (the core's
/// [`RequestState::authorize`]), or rejects, before the handler runs:
///
/// - not signed in: [`ClerkRejection::Unauthorized`], answered `401` (or `503`) as for
///   [`signed_in`];
/// - signed in without the role, permission, feature or plan: [`ClerkRejection::Forbidden`],
///   answered `403` `{"status":"forbidden"}`;
/// - signed in with all of it but a recent enough verification: [`ClerkRejection::Forbidden`],
///   answered `403` with Clerk's reverification error
///   `{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"strict"}}}`;
/// - a machine token, whatever the requirement (Clerk's `has()` is `false` for machines): `403`.
///
/// ```no_run
/// # use warp::Filter;
/// # fn routes(options: clerk_auth_core::Options) -> impl warp::Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
/// use clerk_auth_core::{Has, Reverification};
/// use clerk_auth_warp::{recover, require, SignedIn};
///
/// let billing = warp::path!("api" / "billing")
///     .and(require(
///         options,
///         Has::permission("org:billing:manage").and_reverification(Reverification::Strict),
///     ))
///     .map(|user: SignedIn| user.reply(warp::reply::json(&user.auth_json())));
/// billing.recover(recover)
/// # }
/// ```
pub fn require(
    options: Options,
    requirement: Has,
) -> impl Filter<Extract = (SignedIn,), Error = Rejection> + Clone {
    require_with(options, requirement, false)
}

/// [`require`], for a page or an API route.
pub(crate) fn require_with(
    options: Options,
    requirement: Has,
    api: bool,
) -> impl Filter<Extract = (SignedIn,), Error = Rejection> + Clone {
    let requirement = Arc::new(requirement);
    auth_state_with(options, api).and_then(move |state: AuthState| {
        let refused = state.authorize(&requirement);
        async move {
            match refused {
                None => Ok(SignedIn(state)),
                Some(rejection) => Err(warp::reject::custom(ClerkRejection::refused(
                    state, rejection,
                ))),
            }
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
