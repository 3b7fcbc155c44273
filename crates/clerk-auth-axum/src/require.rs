//! [`RequireLayer`]: requires a role, permission, feature, plan or a recent verification of the
//! routes it wraps (Clerk's `auth.protect({...})`).

use std::sync::Arc;
use std::task::{Context, Poll};

use axum_core::body::Body;
use axum_core::response::IntoResponse;
use axum_core::BoxError;
use bytes::Bytes;
use clerk_auth_core::Has;
use http::{Request, Response};
use tower::{Layer, Service};

use crate::extract::AuthState;
use crate::layer::BoxFuture;
use crate::rejection::ClerkRejection;

/// A tower [`Layer`] that requires `requirement` of every request to the routes it wraps, before
/// they run (the core's [`RequestState::authorize`](clerk_auth_core::RequestState::authorize)):
///
/// - signed out: `401` JSON (or `503` when the keys could not be obtained), as
///   [`SignedIn`](crate::SignedIn) refuses it;
/// - signed in without the role, permission, feature or plan: `403` `{"status":"forbidden"}`;
/// - signed in with all of it but a recent enough verification: `403` with Clerk's
///   reverification error, `{"clerk_error":{"type":"forbidden","reason":"reverification-error",
///   "metadata":{"reverification":"strict"}}}`;
/// - machine tokens are always refused (`403`): Clerk's `has()` is `false` for them.
///
/// It reads the decision of the [`ClerkLayer`](crate::ClerkLayer) around it (without one, the
/// request is refused `500`, [`ClerkRejection::LayerMissing`]): give it to axum's `route_layer`
/// inside the router that has the `ClerkLayer`.
///
/// ```
/// use axum::routing::get;
/// use axum::Router;
/// use clerk_auth_axum::clerk_auth_core::{Has, Reverification};
/// use clerk_auth_axum::{ClerkLayer, RequireLayer};
///
/// # fn app(clerk: ClerkLayer) -> Router {
/// let admin = Router::new()
///     .route("/admin/members", get(|| async { "admins only" }))
///     .route_layer(RequireLayer::new(Has::role("org:admin")));
/// let billing = Router::new()
///     .route("/billing", get(|| async { "billing managers who verified recently" }))
///     .route_layer(RequireLayer::new(
///         Has::permission("org:billing:manage").and_reverification(Reverification::Strict),
///     ));
/// Router::new().merge(admin).merge(billing).layer(clerk)
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RequireLayer {
    requirement: Arc<Has>,
}

impl RequireLayer {
    /// The layer requiring `requirement` (every dimension it sets; see [`Has`]).
    pub fn new(requirement: Has) -> Self {
        Self {
            requirement: Arc::new(requirement),
        }
    }

    /// What it requires.
    pub fn requirement(&self) -> &Has {
        &self.requirement
    }
}

impl<S> Layer<S> for RequireLayer {
    type Service = RequireService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireService {
            inner,
            requirement: Arc::clone(&self.requirement),
        }
    }
}

/// The service [`RequireLayer`] wraps around yours (built by the layer).
#[derive(Clone, Debug)]
pub struct RequireService<S> {
    inner: S,
    requirement: Arc<Has>,
}

impl<S, B, ResBody> Service<Request<B>> for RequireService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let refused = match request.extensions().get::<AuthState>() {
            Some(state) => state
                .authorize(&self.requirement)
                .map(ClerkRejection::refused),
            None => Some(ClerkRejection::LayerMissing),
        };
        if let Some(rejection) = refused {
            // An answer: the `ClerkLayer` around adds the state's headers to it.
            let response = rejection.into_response();
            return Box::pin(async move { Ok(response) });
        }
        // The service that was polled ready serves this request; the clone serves the next one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let response = inner.call(request);
        Box::pin(async move { Ok(response.await?.map(Body::new)) })
    }
}
