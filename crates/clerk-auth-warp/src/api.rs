//! The filters for API routes: they never answer with a redirect.
//!
//! The same filters as the crate root's, deciding the request as an API request
//! ([`RequestState::into_api`](clerk_auth_core::RequestState::into_api)): a state that would be a
//! handshake (a `307` on a page, even for a document request) is signed out instead, with the same
//! reason, and [`recover`](crate::recover) answers a refused [`signed_in`] with `401`,
//! `WWW-Authenticate: Bearer error="invalid_token"` and Clerk's JSON body (a key-set outage stays
//! `503`, without the challenge).
//!
//! ```no_run
//! # use warp::Filter;
//! # fn routes(options: clerk_auth_core::Options) -> impl warp::Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
//! use clerk_auth_warp::{api, recover, SignedIn};
//!
//! let me = warp::path!("api" / "me")
//!     .and(api::signed_in(options))
//!     .map(|auth: SignedIn| auth.reply(warp::reply::json(&auth.auth_json())));
//! me.recover(recover)
//! # }
//! ```

use clerk_auth_core::{Has, Options};
use warp::reject::Rejection;
use warp::Filter;

use crate::filter;
use crate::reply::{AuthState, SignedIn};

/// [`crate::auth_state`] for an API route: extracts the [`AuthState`], never rejects a signed-out
/// request, and never redirects.
pub fn auth_state(
    options: Options,
) -> impl Filter<Extract = (AuthState,), Error = Rejection> + Clone {
    filter::auth_state_with(options, true)
}

/// [`crate::signed_in`] for an API route: extracts [`SignedIn`], or rejects with
/// [`ClerkRejection::Unauthorized`](crate::ClerkRejection::Unauthorized), which
/// [`recover`](crate::recover) answers `401` with `WWW-Authenticate: Bearer
/// error="invalid_token"` (or `503` for a key-set outage) and Clerk's JSON body. Never redirects.
pub fn signed_in(
    options: Options,
) -> impl Filter<Extract = (SignedIn,), Error = Rejection> + Clone {
    filter::signed_in_with(options, true)
}

/// [`crate::optional_signed_in`] for an API route: `Some(SignedIn)` when signed in, `None`
/// otherwise. Never redirects.
pub fn optional_signed_in(
    options: Options,
) -> impl Filter<Extract = (Option<SignedIn>,), Error = Rejection> + Clone {
    filter::optional_signed_in_with(options, true)
}

/// [`crate::require`] for an API route: extracts [`SignedIn`] for a request that meets
/// `requirement`, or rejects (`401` with `WWW-Authenticate: Bearer error="invalid_token"` when
/// not signed in, `403` without the requirement). Never redirects.
pub fn require(
    options: Options,
    requirement: Has,
) -> impl Filter<Extract = (SignedIn,), Error = Rejection> + Clone {
    filter::require_with(options, requirement, true)
}
