//! The extractors: [`SignedIn`], `Option<SignedIn>` and [`AuthState`].

use std::ops::Deref;
use std::sync::Arc;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use clerk_auth_core::RequestState;
use http::request::Parts;

use crate::rejection::ClerkRejection;

/// The request's authentication state, whatever it is (signed in or not), as [`ClerkLayer`]
/// decided it. As an extractor it never refuses a request the layer wraps; derefs to the core's
/// [`RequestState`] (`is_signed_in()`, `session()`, `machine()`, `reason()`, `auth_json()`, …).
///
/// The layer stores it in the request extensions: a plain tower service reads it with
/// `request.extensions().get::<AuthState>()`.
///
/// Cheap to clone (an `Arc`), `Send + Sync`: it can move into `spawn_blocking`.
///
/// [`ClerkLayer`]: crate::ClerkLayer
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

    /// `Some` when a protected route may run (a signed-in session that is not pending, or an
    /// authenticated machine; a pending session too when the options
    /// [accept pending sessions](clerk_auth_core::OptionsBuilder::accept_pending_sessions)).
    pub fn signed_in(&self) -> Option<SignedIn> {
        match self.rejection() {
            None => Some(SignedIn(Arc::clone(&self.0))),
            Some(_) => None,
        }
    }
}

impl Deref for AuthState {
    type Target = RequestState;

    fn deref(&self) -> &RequestState {
        &self.0
    }
}

/// The state the layer stored, or [`ClerkRejection::LayerMissing`] (`500`): a route the layer
/// does not wrap is a programming error, never a signed-out request.
// The rejection is what axum answers with; it is built once per refused request, so its size does
// not matter.
#[allow(clippy::result_large_err)]
fn state_of(parts: &Parts) -> Result<&AuthState, ClerkRejection> {
    parts.extensions.get::<AuthState>().ok_or_else(|| {
        tracing::error!("clerk-auth: an extractor ran on a route that ClerkLayer does not wrap");
        ClerkRejection::LayerMissing
    })
}

impl<S: Send + Sync> FromRequestParts<S> for AuthState {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        state_of(parts).cloned()
    }
}

/// A signed-in request: a session that is not pending, or an authenticated machine. A pending
/// session (`sts = pending`) is refused like a signed-out request (Clerk's
/// `treatPendingAsSignedOut`, body `"reason": null`) unless the options
/// [accept pending sessions](clerk_auth_core::OptionsBuilder::accept_pending_sessions).
///
/// As an extractor it refuses any other request with [`ClerkRejection::Unauthorized`]: `401`
/// JSON `{"status":"signed-out","reason":…,"message":…}`, or `503` when the credential could not
/// be verified (a key-set outage); the layer adds the state's debug headers to that answer.
/// `Option<SignedIn>` gives `None` instead of refusing. Derefs to the core's [`RequestState`]:
/// `user_id()`, `session_id()`, `org_id()`, `org_role()`, `org_slug()`, `has(..)`, `session()`,
/// `machine()`, `auth()`, `auth_json()`, the same calls as in the other adapters.
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

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let AuthState(state) = state_of(parts)?;
        match state.rejection() {
            None => Ok(Self(Arc::clone(state))),
            Some(rejection) => Err(ClerkRejection::Unauthorized(rejection)),
        }
    }
}

/// `Option<SignedIn>`: `None` for a request that is not signed in. A route the layer does not
/// wrap is still refused with [`ClerkRejection::LayerMissing`] (`500`), never `None`.
impl<S: Send + Sync> OptionalFromRequestParts<S> for SignedIn {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        state_of(parts).map(AuthState::signed_in)
    }
}
