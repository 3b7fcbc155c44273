//! [`Require`]: a middleware that requires a role, permission, feature, plan or a recent
//! verification on a route or scope (Clerk's `auth.protect({...})`).

use std::future::{ready, Ready};
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::Error;
use clerk_auth_core::Has;

use crate::error::ClerkAuthError;
use crate::extract::state_of;
use crate::middleware::LocalBoxFuture;

/// Requires `requirement` of every request to the scope, resource or route it wraps, before any
/// handler runs (the core's [`RequestState::authorize`](clerk_auth_core::RequestState::authorize)):
///
/// - signed out: `401` JSON (or `503` when the keys could not be obtained), as
///   [`SignedIn`](crate::SignedIn) refuses it;
/// - signed in without the role, permission, feature or plan: `403` `{"status":"forbidden"}`;
/// - signed in with all of it but a recent enough verification: `403` with Clerk's
///   reverification error, `{"clerk_error":{"type":"forbidden","reason":"reverification-error",
///   "metadata":{"reverification":"strict"}}}`, which Clerk's frontend SDKs answer by asking the
///   user to verify again;
/// - machine tokens are always refused (`403`): Clerk's `has()` is `false` for them.
///
/// It reads the decision of the [`ClerkAuth`](crate::ClerkAuth) middleware, which must wrap it
/// (without it the request is refused `500`, [`ClerkAuthError::MiddlewareMissing`]). actix-web
/// runs the middleware registered last first, so wrap `Require` before `ClerkAuth` on the same
/// scope, or put `ClerkAuth` on an enclosing scope or the app:
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use clerk_auth_actix::clerk_auth_core::{Has, Reverification};
/// use clerk_auth_actix::{ClerkAuth, Require, SignedIn};
///
/// async fn members(user: SignedIn) -> HttpResponse {
///     HttpResponse::Ok().json(user.auth_json())
/// }
///
/// # fn app(clerk: ClerkAuth) {
/// let app = App::new().service(
///     web::scope("/admin")
///         .wrap(Require::new(Has::role("org:admin")))
///         .wrap(clerk) // runs first
///         .route("/members", web::get().to(members))
///         .service(
///             web::resource("/billing")
///                 .wrap(Require::new(Has::reverification(Reverification::Strict)))
///                 .to(members),
///         ),
/// );
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Require {
    requirement: Rc<Has>,
}

impl Require {
    /// The middleware requiring `requirement` (every dimension it sets; see
    /// [`Has`](clerk_auth_core::Has)).
    pub fn new(requirement: Has) -> Self {
        Self {
            requirement: Rc::new(requirement),
        }
    }

    /// What it requires.
    pub fn requirement(&self) -> &Has {
        &self.requirement
    }
}

impl<S, B> Transform<S, ServiceRequest> for Require
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = RequireMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequireMiddleware {
            service,
            requirement: Rc::clone(&self.requirement),
        }))
    }
}

/// The service [`Require`] wraps around a scope (built by actix-web).
#[derive(Debug)]
pub struct RequireMiddleware<S> {
    service: S,
    requirement: Rc<Has>,
}

impl<S, B> Service<ServiceRequest> for RequireMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<Result<Self::Response, Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let refused = match state_of(req.request()) {
            Ok(state) => state
                .authorize(&self.requirement)
                .map(ClerkAuthError::refused),
            Err(missing) => Some(missing),
        };
        if let Some(error) = refused {
            // An answer, not an `Err`: the enclosing `ClerkAuth` adds the state's headers to it.
            let response = req.error_response(error).map_into_right_body();
            return Box::pin(ready(Ok(response)));
        }
        let response = self.service.call(req);
        Box::pin(async move { response.await.map(ServiceResponse::map_into_left_body) })
    }
}
