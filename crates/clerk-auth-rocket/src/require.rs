//! [`Require`]: a request guard that requires a role, permission, feature, plan or a recent
//! verification (Clerk's `auth.protect({...})`), named by a [`Requirement`] type.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use clerk_auth_core::{Has, RequestState};
use rocket::outcome::try_outcome;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Rocket, Sentinel};

use crate::guard::{abort_unconfigured, decided, refuse, AuthError};

/// What a route requires of a signed-in request, named by a type: Rocket's guards are types, so
/// [`Require<R>`](Require) takes its requirement from `R`.
///
/// ```
/// use clerk_auth_core::{Has, Reverification};
/// use clerk_auth_rocket::Requirement;
///
/// /// The active organization's admins.
/// pub struct OrgAdmin;
///
/// impl Requirement for OrgAdmin {
///     fn requirement() -> Has {
///         Has::role("org:admin")
///     }
/// }
///
/// /// Admins who verified a second factor in the last 10 minutes.
/// pub struct RecentAdmin;
///
/// impl Requirement for RecentAdmin {
///     fn requirement() -> Has {
///         Has::role("org:admin").and_reverification(Reverification::Strict)
///     }
/// }
/// ```
pub trait Requirement: 'static {
    /// The role, permission, feature, plan and reverification required (every dimension set
    /// must pass; see [`Has`]).
    fn requirement() -> Has;
}

/// A signed-in request that meets the requirement `R` (the core's
/// [`RequestState::authorize`]). As a request guard it refuses, before the handler runs:
///
/// - a request that is not signed in: `401` (or `503`), as [`SignedIn`](crate::SignedIn) does;
/// - a signed-in request without the role, permission, feature or plan: `403`
///   `{"status":"forbidden"}`;
/// - one with all of it but a recent enough verification: `403` with Clerk's reverification
///   error `{"clerk_error":{"type":"forbidden","reason":"reverification-error",
///   "metadata":{"reverification":"strict"}}}`;
/// - a machine token, whatever `R` asks (Clerk's `has()` is `false` for machines): `403`.
///
/// The [`ClerkAuth`](crate::ClerkAuth) fairing writes those answers (JSON, with the state's
/// headers); your catchers are not involved. Dereferences to the core's [`RequestState`], like
/// `SignedIn`.
///
/// ```no_run
/// use clerk_auth_core::Has;
/// use clerk_auth_rocket::{ClerkAuth, Require, Requirement};
/// use rocket::{get, routes};
///
/// struct OrgAdmin;
///
/// impl Requirement for OrgAdmin {
///     fn requirement() -> Has {
///         Has::role("org:admin")
///     }
/// }
///
/// #[get("/api/org-admin")]
/// fn org_admin(user: Require<'_, OrgAdmin>) -> String {
///     format!("admin of {}", user.org_slug().unwrap_or("?"))
/// }
///
/// #[rocket::launch]
/// fn rocket() -> _ {
///     rocket::build()
///         .attach(ClerkAuth::from_env())
///         .mount("/", routes![org_admin])
/// }
/// ```
pub struct Require<'r, R> {
    state: &'r RequestState,
    requirement: PhantomData<fn() -> R>,
}

impl<'r, R> Require<'r, R> {
    /// The request's state (also reachable through `Deref`).
    pub fn state(&self) -> &'r RequestState {
        self.state
    }
}

impl<R> Clone for Require<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for Require<'_, R> {}

impl<R> fmt::Debug for Require<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Require")
            .field("requirement", &std::any::type_name::<R>())
            .field("state", self.state)
            .finish()
    }
}

impl<R> Deref for Require<'_, R> {
    type Target = RequestState;

    fn deref(&self) -> &RequestState {
        self.state
    }
}

#[rocket::async_trait]
impl<'r, R: Requirement> FromRequest<'r> for Require<'r, R> {
    type Error = AuthError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, AuthError> {
        let state = try_outcome!(decided(request).await);
        match state.authorize(&R::requirement()) {
            None => Outcome::Success(Require {
                state,
                requirement: PhantomData,
            }),
            Some(rejection) => refuse(request, rejection),
        }
    }
}

impl<R> Sentinel for Require<'_, R> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        abort_unconfigured(rocket, "Require")
    }
}
