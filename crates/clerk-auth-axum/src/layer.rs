//! [`ClerkLayer`] and the service it wraps around yours, [`ClerkService`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum_core::body::Body;
use axum_core::BoxError;
use bytes::Bytes;
use clerk_auth_core::state::Disposition;
use clerk_auth_core::{
    try_authenticate_request, AuthenticateError, ConfigError, Deferred, Interrupt, Options,
    RequestState,
};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request, Response, StatusCode};
use tower::{Layer, Service};

use crate::extract::AuthState;

/// The tower [`Layer`]: decides every request once, before your service sees it.
///
/// - A state that carries a redirect (Clerk's handshake) is answered `307` with all the state's
///   headers; a handshake without a redirect target and a request the core cannot decide are
///   answered `500` with a short JSON body (`{"status":"error","message":…}`, never a token).
///   Your service does not run.
/// - Otherwise the state goes into the request extensions, as an [`AuthState`] (read by the
///   extractors [`SignedIn`](crate::SignedIn), `Option<SignedIn>` and [`AuthState`], or with
///   `request.extensions().get::<AuthState>()`), your service runs, and the state's headers
///   (`set-cookie` from a handshake or a refresh, the `x-clerk-auth-*` debug headers) are added to
///   its response.
///
/// The layer refuses no signed-out request by itself: a route is protected when its handler
/// takes [`SignedIn`](crate::SignedIn) (or a group of routes, with
/// `route_layer(axum::middleware::from_extractor::<SignedIn>())`).
///
/// Decisions that need no network IO (the usual case: cached keys, a PEM key, no token) run
/// inline; one that needs a key fetch, a handshake nonce or a refresh runs on tokio's blocking
/// pool (`spawn_blocking`), so an executor thread never waits on the network.
///
/// Cheap to clone (the options are reference-counted).
#[derive(Clone, Debug)]
pub struct ClerkLayer {
    options: Options,
    api: bool,
}

impl ClerkLayer {
    /// The layer for these options.
    pub fn new(options: Options) -> Self {
        Self {
            options,
            api: false,
        }
    }

    /// The layer configured from Clerk's environment variables (`CLERK_SECRET_KEY`,
    /// `CLERK_PUBLISHABLE_KEY`, …). A missing or invalid configuration is an error here, at
    /// start-up, never per request.
    pub fn from_env() -> Result<Self, ConfigError> {
        Options::from_env().map(Self::new)
    }

    /// This layer for API routes: it never answers with a redirect, even to a document request.
    /// A state that would be a handshake is signed out instead (same reason), and
    /// [`SignedIn`](crate::SignedIn) refuses a signed-out request with `401`,
    /// `WWW-Authenticate: Bearer error="invalid_token"` and the JSON body (a key-set outage stays
    /// `503`). See [`RequestState::into_api`].
    ///
    /// Give the API routes this layer and the pages the plain one, side by side (two routers
    /// merged, each with its own layer): a layer inside another one does not decide again, and
    /// the outer page layer would already have redirected.
    #[must_use]
    pub fn api(mut self) -> Self {
        self.api = true;
        self
    }

    /// The options every request is decided with.
    pub fn options(&self) -> &Options {
        &self.options
    }
}

impl From<Options> for ClerkLayer {
    fn from(options: Options) -> Self {
        Self::new(options)
    }
}

impl<S> Layer<S> for ClerkLayer {
    type Service = ClerkService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClerkService {
            inner,
            options: self.options.clone(),
            api: self.api,
        }
    }
}

/// The service [`ClerkLayer`] wraps around yours (built by the layer).
///
/// It serves `http::Request<B>` for any body `B`, and answers `http::Response<axum::body::Body>`:
/// your service's response body as it is (an axum `Body` is not boxed again), or the layer's own
/// short body.
#[derive(Clone, Debug)]
pub struct ClerkService<S> {
    inner: S,
    options: Options,
    api: bool,
}

/// A decision: made inline, or still to make on a blocking thread.
enum Pending {
    Ready(Result<RequestState, AuthenticateError>),
    Blocking(Deferred),
}

impl Pending {
    fn start<B>(request: &Request<B>, options: &Options) -> Self {
        match try_authenticate_request(request, options) {
            Ok(state) => Self::Ready(Ok(state)),
            Err(Interrupt::Failed(error)) => Self::Ready(Err(error)),
            // The decision needs network IO: on the blocking pool (the core bounds how many
            // wait; over the bound it answered 503 with `Retry-After` inline).
            Err(Interrupt::WouldBlock(deferred)) => Self::Blocking(deferred),
        }
    }

    async fn resolve(self) -> Result<RequestState, AuthenticateError> {
        let deferred = match self {
            Self::Ready(decided) => return decided,
            Self::Blocking(deferred) => deferred,
        };
        // Polled outside a tokio runtime there is no blocking pool: a 500, never a panic.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(
                "clerk-auth: ClerkLayer needs a tokio runtime for decisions that fetch from Clerk"
            );
            return Err(AuthenticateError::DID_NOT_COMPLETE);
        };
        match runtime.spawn_blocking(move || deferred.run()).await {
            Ok(decided) => decided,
            Err(join) => {
                tracing::error!(error = %join, "clerk-auth: the blocking decision did not finish");
                Err(AuthenticateError::DID_NOT_COMPLETE)
            }
        }
    }
}

/// The future of the layers' services.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, ResBody> Service<Request<B>> for ClerkService<S>
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

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The service that was polled ready serves this request; the clone serves the next one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);

        // A layer inside another one: the outer layer decided, and adds the headers.
        if let Some(outer) = request.extensions().get::<AuthState>() {
            if self.api && !outer.is_api() {
                let api = RequestState::clone(outer).into_api();
                request.extensions_mut().insert(AuthState(Arc::new(api)));
            }
            let response = inner.call(request);
            return Box::pin(async move { Ok(response.await?.map(Body::new)) });
        }

        let pending = Pending::start(&request, &self.options);
        let api = self.api;
        Box::pin(async move {
            let state = match pending.resolve().await {
                Ok(state) if api => state.into_api(),
                Ok(state) => state,
                Err(error) => return Ok(undecidable(&error)),
            };
            match state.disposition() {
                Disposition::Continue => {}
                Disposition::Redirect => {
                    return Ok(answer(StatusCode::TEMPORARY_REDIRECT, None, &state))
                }
                Disposition::ServerError => {
                    let body = state.server_error_json();
                    return Ok(answer(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        Some(body),
                        &state,
                    ));
                }
            }
            let state = Arc::new(state);
            request
                .extensions_mut()
                .insert(AuthState(Arc::clone(&state)));
            let mut response = inner.call(request).await?;
            state.apply_headers(response.headers_mut());
            Ok(response.map(Body::new))
        })
    }
}

/// A JSON response: `status`, `body` (none for a redirect) and the state's headers.
fn answer(status: StatusCode, body: Option<String>, state: &RequestState) -> Response<Body> {
    let mut response = json(status, body);
    state.apply_headers(response.headers_mut());
    response
}

/// `status` with `body` as `application/json`, or with an empty body.
pub(crate) fn json(status: StatusCode, body: Option<String>) -> Response<Body> {
    let json = body.is_some();
    let mut response = Response::new(body.map_or_else(Body::empty, Body::from));
    *response.status_mut() = status;
    if json {
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    response
}

/// The `500` of a request the core could not decide (its body never holds a token or key).
fn undecidable(error: &AuthenticateError) -> Response<Body> {
    // The core logs it (at most once a minute): a client can make every request undecidable.
    tracing::debug!(error = %error, "clerk-auth: the request could not be decided");
    json(StatusCode::INTERNAL_SERVER_ERROR, Some(error.to_json()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use http::header::CACHE_CONTROL;
    use http::HeaderMap;

    use super::*;

    fn options() -> Options {
        Options::builder()
            .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
            .secret_key("sk_live_unit")
            .build()
            .unwrap()
    }

    fn signed_out() -> RequestState {
        let request = Request::get("/").body(()).unwrap();
        try_authenticate_request(&request, &options()).unwrap()
    }

    #[test]
    fn state_headers_are_appended_after_the_responses_own() {
        let state = signed_out();
        let mut headers = HeaderMap::new();
        headers.append("x-clerk-auth-status", HeaderValue::from_static("app"));
        state.apply_headers(&mut headers);
        let status: Vec<_> = headers.get_all("x-clerk-auth-status").iter().collect();
        assert_eq!(status, ["app", "signed-out"]);
        assert!(headers.contains_key("x-clerk-auth-reason"));
        // No cookie set by the state: the application's caching stands.
        assert_eq!(headers.get(CACHE_CONTROL), None);
    }

    #[test]
    fn an_undecidable_request_is_a_500_with_the_cores_json() {
        let response = undecidable(&AuthenticateError::DID_NOT_COMPLETE);
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert!(!response.headers().contains_key("x-clerk-auth-status"));
    }
}
