//! The extractors: [`SignedIn`], `Option<SignedIn>` and [`AuthState`].

use std::future::{ready, Ready};
use std::ops::Deref;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use clerk_auth_core::RequestState;

use crate::error::ClerkAuthError;

/// The request's authentication state, whatever it is (signed in or not). Never refuses a
/// request wrapped by [`ClerkAuth`](crate::ClerkAuth); derefs to the core's [`RequestState`]
/// (`is_signed_in()`, `session()`, `machine()`, `reason()`, `auth_json()`, …).
///
/// Cheap to clone (an `Arc`), `Send + Sync`: it can move into `web::block`.
#[derive(Clone, Debug)]
pub struct AuthState(pub(crate) Arc<RequestState>);

impl AuthState {
    /// The state.
    pub fn state(&self) -> &RequestState {
        &self.0
    }

    /// The shared state.
    pub fn into_inner(self) -> Arc<RequestState> {
        self.0
    }
}

impl Deref for AuthState {
    type Target = RequestState;

    fn deref(&self) -> &RequestState {
        &self.0
    }
}

// The rejection (status, body, headers) is the error actix-web answers with; it is built once
// per refused request, so its size does not matter.
#[allow(clippy::result_large_err)]
pub(crate) fn state_of(req: &HttpRequest) -> Result<AuthState, ClerkAuthError> {
    req.extensions().get::<AuthState>().cloned().ok_or_else(|| {
        tracing::error!(
            "clerk-auth: an extractor ran on a route the ClerkAuth middleware does not wrap"
        );
        ClerkAuthError::MiddlewareMissing
    })
}

impl FromRequest for AuthState {
    type Error = ClerkAuthError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(state_of(req))
    }
}

/// A signed-in request: a session that is not pending, or an authenticated machine. A pending
/// session (`sts = pending`) is refused like a signed-out request (Clerk's
/// `treatPendingAsSignedOut`, body `"reason": null`) unless the options
/// [accept pending sessions](clerk_auth_core::OptionsBuilder::accept_pending_sessions).
///
/// As an extractor it refuses any other request with [`ClerkAuthError::Rejected`]: `401` JSON
/// `{"status":"signed-out","reason":…,"message":…}`, or `503` when the keys could not be obtained.
/// The middleware adds the state's debug headers to that answer. `Option<SignedIn>` gives `None`
/// instead of refusing. Derefs to the core's [`RequestState`]: `user_id()`, `session_id()`,
/// `org_id()`, `org_role()`, `org_slug()`, `has(..)`, `session()`, `machine()`, `auth()`,
/// `auth_json()`, the same calls as in the Rocket and warp adapters. To require a role,
/// permission, feature, plan or a recent verification on a route or scope, wrap it with
/// [`Require`](crate::Require).
#[derive(Clone, Debug)]
pub struct SignedIn(Arc<RequestState>);

impl SignedIn {
    /// The state.
    pub fn state(&self) -> &RequestState {
        &self.0
    }

    /// The shared state.
    pub fn into_inner(self) -> Arc<RequestState> {
        self.0
    }
}

impl Deref for SignedIn {
    type Target = RequestState;

    fn deref(&self) -> &RequestState {
        &self.0
    }
}

impl FromRequest for SignedIn {
    type Error = ClerkAuthError;
    type Future = Ready<Result<Self, Self::Error>>;

    #[allow(clippy::result_large_err)] // See `state_of`.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            state_of(req).and_then(|AuthState(state)| match state.rejection() {
                None => Ok(Self(state)),
                Some(rejection) => Err(ClerkAuthError::Rejected(rejection)),
            }),
        )
    }
}
