//! The [`ClerkAuth`] middleware and the request view over an actix-web request.

use std::borrow::Cow;
use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, CACHE_CONTROL};
use actix_web::{web, Error, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use clerk_auth_core::state::Disposition;
use clerk_auth_core::{
    try_authenticate_request, AcceptsToken, AuthenticateError, ConfigError, Deferred, Interrupt,
    Options, RequestState, RequestView,
};

use crate::error::ClerkAuthError;
use crate::extract::AuthState;

/// A borrowed [`RequestView`] over an actix-web request: no header is copied.
///
/// The middleware uses it; it is public for calling the core directly (for example
/// [`try_authenticate_request`] in a handler of your own).
#[derive(Clone, Copy, Debug)]
pub struct ActixRequest<'a>(pub &'a HttpRequest);

impl RequestView for ActixRequest<'_> {
    fn method(&self) -> &str {
        self.0.method().as_str()
    }

    /// Origin form (`/path?query`) as received; absolute with `https` when the server itself
    /// terminates TLS, so that the core does not assume `http`.
    fn url(&self) -> Cow<'_, str> {
        let uri = self.0.uri();
        let path = uri.path_and_query().map_or("/", |pq| pq.as_str());
        if uri.authority().is_some() {
            Cow::Owned(uri.to_string())
        } else if self.0.app_config().secure() {
            let host = self
                .0
                .headers()
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or_else(|| self.0.app_config().host());
            Cow::Owned(format!("https://{host}{path}"))
        } else {
            Cow::Borrowed(path)
        }
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.0.headers().get(name).map(HeaderValue::as_bytes)
    }

    fn header_all<'a>(&'a self, name: &str) -> Box<dyn Iterator<Item = &'a [u8]> + 'a> {
        Box::new(self.0.headers().get_all(name).map(HeaderValue::as_bytes))
    }

    fn visit_headers(&self, f: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in self.0.headers() {
            f(name.as_str(), value.as_bytes());
        }
    }
}

/// The middleware: decides every request once, answers handshake redirects (`307`) and
/// undecidable requests (`500`) itself, and otherwise stores the state in the request
/// extensions (read by [`SignedIn`](crate::SignedIn), `Option<SignedIn>` and [`AuthState`]) and
/// adds the state's headers (`set-cookie`, debug headers) to the handler's response.
///
/// Decisions that need no network IO (the usual case: cached keys, a PEM key, no token) run
/// inline; one that needs a key fetch, a handshake nonce or a refresh runs on actix's blocking
/// thread pool, so the worker keeps serving other requests.
///
/// [`ClerkAuth::api`] gives the middleware for API routes, which never redirects.
#[derive(Clone, Debug)]
pub struct ClerkAuth {
    options: Options,
    api: bool,
}

impl ClerkAuth {
    /// The middleware for these options.
    pub fn new(options: Options) -> Self {
        Self {
            options,
            api: false,
        }
    }

    /// This middleware for API routes (typically a `web::scope("/api")`): it never answers with a
    /// redirect, even to a document request. A state that would be a handshake is signed out
    /// instead (same reason), and [`SignedIn`](crate::SignedIn) refuses a signed-out request with
    /// `401`, `WWW-Authenticate: Bearer error="invalid_token"` and the JSON body (a key-set outage
    /// stays `503`). See [`RequestState::into_api`].
    ///
    /// Wrap the API routes with this middleware and the pages with the plain one, side by side:
    /// nested inside a page middleware, the outer one would already have redirected.
    #[must_use]
    pub fn api(mut self) -> Self {
        self.api = true;
        self
    }

    /// The middleware configured from Clerk's environment variables (`CLERK_SECRET_KEY`,
    /// `CLERK_PUBLISHABLE_KEY`, …). A missing or invalid configuration is an error here, at
    /// start-up, never per request.
    pub fn from_env() -> Result<Self, ConfigError> {
        Options::from_env().map(Self::new)
    }

    /// This middleware for a scope that accepts other token types than the instance's
    /// (`Options::with_accepts_token`): say API keys and M2M tokens on `/api/machines`, session
    /// tokens elsewhere. It shares the instance's key set and caches. Fails as the options would
    /// fail to build with these token types (a session route needs the publishable key).
    ///
    /// ```
    /// use actix_web::{web, App};
    /// use clerk_auth_actix::clerk_auth_core::TokenType;
    /// use clerk_auth_actix::ClerkAuth;
    ///
    /// # fn app(clerk: ClerkAuth) -> Result<(), clerk_auth_actix::clerk_auth_core::ConfigError> {
    /// let machines = clerk.clone().accepts_token(vec![TokenType::ApiKey, TokenType::M2mToken])?;
    /// // Side by side: each scope decided by its own middleware.
    /// let app = App::new()
    ///     .service(web::scope("/api/machines").wrap(machines.api()))
    ///     .service(web::scope("").wrap(clerk));
    /// # Ok(()) }
    /// ```
    pub fn accepts_token(mut self, accepts: impl Into<AcceptsToken>) -> Result<Self, ConfigError> {
        self.options = self.options.with_accepts_token(accepts)?;
        Ok(self)
    }

    /// This middleware for a scope where a pending session counts as signed in (`true`) or not
    /// (`Options::with_pending_sessions`), sharing the instance's key set and caches.
    #[must_use]
    pub fn accept_pending_sessions(mut self, accept: bool) -> Self {
        self.options = self.options.with_pending_sessions(accept);
        self
    }

    /// The options every request is decided with.
    pub fn options(&self) -> &Options {
        &self.options
    }
}

impl From<Options> for ClerkAuth {
    fn from(options: Options) -> Self {
        Self::new(options)
    }
}

impl<S, B> Transform<S, ServiceRequest> for ClerkAuth
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = ClerkAuthMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ClerkAuthMiddleware {
            service: Rc::new(service),
            options: self.options.clone(),
            api: self.api,
        }))
    }
}

/// The service [`ClerkAuth`] wraps around the app (built by actix-web).
#[derive(Debug)]
pub struct ClerkAuthMiddleware<S> {
    service: Rc<S>,
    options: Options,
    api: bool,
}

/// A decision: made inline, or still to make on a blocking thread.
enum Pending {
    Ready(Result<Arc<RequestState>, ClerkAuthError>),
    Blocking(Deferred),
}

impl Pending {
    async fn resolve(self) -> Result<Arc<RequestState>, ClerkAuthError> {
        match self {
            Self::Ready(decided) => decided,
            Self::Blocking(deferred) => match web::block(move || deferred.run()).await {
                Ok(decided) => decided.map(Arc::new).map_err(ClerkAuthError::Undecidable),
                Err(_) => Err(ClerkAuthError::Undecidable(
                    AuthenticateError::DID_NOT_COMPLETE,
                )),
            },
        }
    }
}

/// The future of the middlewares' services (actix-web's are `!Send`).
pub(crate) type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<S, B> Service<ServiceRequest> for ClerkAuthMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<Result<Self::Response, Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let view = ActixRequest(req.request());
        let pending = match try_authenticate_request(&view, &self.options) {
            Ok(state) => Pending::Ready(Ok(Arc::new(state))),
            Err(Interrupt::Failed(e)) => Pending::Ready(Err(ClerkAuthError::Undecidable(e))),
            // The decision needs network IO: on the blocking pool (the core bounds how many
            // wait; over the bound it answered 503 with `Retry-After` inline).
            Err(Interrupt::WouldBlock(deferred)) => Pending::Blocking(deferred),
        };
        let service = Rc::clone(&self.service);
        let api = self.api;
        Box::pin(async move {
            let state = match pending.resolve().await {
                // Not shared yet: unwrapping does not clone.
                Ok(state) if api => Arc::new(Arc::unwrap_or_clone(state).into_api()),
                Ok(state) => state,
                Err(e) => return Ok(req.error_response(e).map_into_right_body()),
            };
            let early = match state.disposition() {
                Disposition::Continue => None,
                Disposition::Redirect => Some(HttpResponse::TemporaryRedirect().finish()),
                Disposition::ServerError => {
                    Some(ClerkAuthError::HandshakeWithoutLocation.error_response())
                }
            };
            if let Some(mut res) = early {
                append_headers(res.headers_mut(), &state);
                return Ok(req.into_response(res).map_into_right_body());
            }
            req.extensions_mut().insert(AuthState(Arc::clone(&state)));
            let mut res = match service.call(req).await {
                Ok(res) => res,
                // An error becomes a response further out: give it the state's headers now.
                Err(e) if !state.headers().is_empty() => {
                    let mut res = e.error_response();
                    append_headers(res.headers_mut(), &state);
                    return Err(InternalError::from_response(e, res).into());
                }
                Err(e) => return Err(e),
            };
            append_headers(res.headers_mut(), &state);
            Ok(res.map_into_left_body())
        })
    }
}

/// Appends every header of the state (several `set-cookie` possible). The core's headers are
/// `http` 1 types and actix-web's are `http` 0.2: converted by bytes. Then a response that
/// carries the state's `set-cookie` gets `Cache-Control: private, no-store` unless it already
/// says `no-store` ([`RequestState::cache_control`]).
fn append_headers(dst: &mut HeaderMap, state: &RequestState) {
    for (name, value) in state.header_bytes() {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value),
        ) {
            dst.append(name, value);
        }
    }
    let current = dst.get_all(CACHE_CONTROL).map(HeaderValue::as_bytes);
    if let Some(value) = state.cache_control(current) {
        dst.insert(CACHE_CONTROL, HeaderValue::from_static(value));
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest as ActixTestRequest;
    use clerk_auth_core::OwnedRequest;

    use super::*;

    #[test]
    fn request_view_borrows_method_url_and_raw_headers() {
        let req = ActixTestRequest::post()
            .uri("/a/b?c=d")
            .insert_header(("host", "example.com"))
            .append_header(("cookie", "a=1"))
            .append_header(("cookie", "b=2"))
            .insert_header(("x-raw", HeaderValue::from_bytes(b"caf\xe9").unwrap()))
            .to_http_request();
        let view = ActixRequest(&req);
        assert_eq!(view.method(), "POST");
        assert!(matches!(view.url(), Cow::Borrowed("/a/b?c=d")));
        assert_eq!(view.header("host"), Some(&b"example.com"[..]));
        assert_eq!(view.header("x-raw"), Some(&b"caf\xe9"[..]));
        assert_eq!(view.header("missing"), None);
        let cookies: Vec<_> = view.header_all("cookie").collect();
        assert_eq!(cookies, [&b"a=1"[..], &b"b=2"[..]]);
        let mut seen = 0;
        view.visit_headers(&mut |_, _| seen += 1);
        assert_eq!(seen, 4);
        let owned = OwnedRequest::capture(&view);
        assert_eq!(owned.url(), "/a/b?c=d");
        assert_eq!(owned.header_all("cookie").count(), 2);
    }

    #[test]
    fn state_headers_are_appended_by_bytes() {
        let options = Options::builder()
            .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
            .secret_key("sk_live_unit")
            .build()
            .unwrap();
        let req = ActixTestRequest::get().uri("/").to_http_request();
        let state = try_authenticate_request(&ActixRequest(&req), &options).unwrap();
        let mut headers = HeaderMap::new();
        headers.append(
            HeaderName::from_static("x-clerk-auth-status"),
            HeaderValue::from_static("app"),
        );
        append_headers(&mut headers, &state);
        let status: Vec<_> = headers.get_all("x-clerk-auth-status").collect();
        assert_eq!(status, ["app", "signed-out"]);
        assert!(headers.contains_key("x-clerk-auth-reason"));
    }
}
