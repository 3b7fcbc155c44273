//! The request guards ([`SignedIn`], [`AuthState`]), the request view over Rocket's request, and
//! the decision computed once per request.

use std::borrow::Cow;
use std::ops::Deref;
use std::sync::Mutex;

use clerk_auth_core::state::Rejection;
use clerk_auth_core::{
    try_authenticate_request, AuthenticateError, Interrupt, Options, RequestState, RequestView,
};
use rocket::http::Status;
use rocket::outcome::try_outcome;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Rocket, Sentinel};

/// The options and the API path prefixes, managed by the [`ClerkAuth`](crate::ClerkAuth)
/// fairing. Private, so that it never collides with an `Options` the application manages itself.
pub(crate) struct Managed {
    pub(crate) options: Options,
    /// Each prefix as its non-empty segments.
    pub(crate) api_prefixes: Vec<Vec<String>>,
    /// Options for the requests under a prefix (as its segments), longest prefix first.
    pub(crate) scopes: Vec<(Vec<String>, Options)>,
}

impl Managed {
    /// Whether `request` is under an API prefix.
    fn is_api(&self, request: &Request<'_>) -> bool {
        self.api_prefixes
            .iter()
            .any(|prefix| is_under(prefix, request))
    }

    /// The options `request` is decided with: those of the longest prefix it is under, else the
    /// instance's.
    fn options_for(&self, request: &Request<'_>) -> &Options {
        self.scopes
            .iter()
            .find(|(prefix, _)| is_under(prefix, request))
            .map_or(&self.options, |(_, options)| options)
    }
}

/// Whether `request`'s path is under `prefix`, compared segment by segment on the
/// percent-decoded path, as Rocket's router matches it (so `/api` covers `/api` and `/api/me`,
/// not `/apiary`).
fn is_under(prefix: &[String], request: &Request<'_>) -> bool {
    let mut segments = request.uri().path().segments();
    prefix
        .iter()
        .all(|want| segments.next() == Some(want.as_str()))
}

/// The decision for one request, computed once (by the fairing or the first guard) and cached in
/// the request.
pub(crate) enum Decision {
    /// The core decided.
    State(RequestState),
    /// The core could not decide: the `500` JSON body.
    Failed(String),
    /// No options are managed: the fairing is not attached.
    Unconfigured,
}

/// The status a guard fails with when clerk-auth refuses a request: not one an application
/// answers with, so the fairing rewrites exactly the answers clerk-auth caused. The fairing's
/// catcher answers it, and `on_response` turns it into the refusal ([`Refused`]): `401`, `403`
/// or `503` with its JSON body.
pub(crate) const REFUSED: Status = Status::new(490);

/// The refusal of the guard that failed with [`REFUSED`] (the last one: Rocket stops at a failed
/// guard), for the fairing to answer with.
#[derive(Default)]
pub(crate) struct Refused(Mutex<Option<Rejection>>);

impl Refused {
    /// The refusal recorded for `request`, if any.
    pub(crate) fn of(request: &Request<'_>) -> Option<Rejection> {
        let refused = request.local_cache(Refused::default);
        let slot = match refused.0.lock() {
            Ok(slot) => slot,
            Err(poisoned) => poisoned.into_inner(),
        };
        slot.clone()
    }
}

/// Fails a guard for `rejection`: records it for the fairing and fails with [`REFUSED`]. A
/// guard wrapped in `Option` or `Result` discards the failure, and the handler's own answers are
/// left alone.
pub(crate) fn refuse<T>(request: &Request<'_>, rejection: Rejection) -> Outcome<T, AuthError> {
    let refused = request.local_cache(Refused::default);
    let mut slot = match refused.0.lock() {
        Ok(slot) => slot,
        Err(poisoned) => poisoned.into_inner(),
    };
    *slot = Some(rejection.clone());
    Outcome::Error((REFUSED, AuthError::Rejected(rejection)))
}

/// A read-only view of a Rocket request for the core. Borrows the request: no header is copied.
pub(crate) struct RocketRequest<'a, 'r>(pub(crate) &'a Request<'r>);

impl RequestView for RocketRequest<'_, '_> {
    fn method(&self) -> &str {
        self.0.method().as_str()
    }

    fn url(&self) -> Cow<'_, str> {
        // Origin form; the core resolves it against the `Host` header.
        let uri = self.0.uri();
        match uri.query() {
            None => Cow::Borrowed(uri.path().as_str()),
            Some(query) => Cow::Owned(format!("{}?{}", uri.path().as_str(), query.as_str())),
        }
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.0.headers().get_one(name).map(str::as_bytes)
    }

    fn header_all<'a>(&'a self, name: &str) -> Box<dyn Iterator<Item = &'a [u8]> + 'a> {
        Box::new(self.0.headers().get(name).map(str::as_bytes))
    }

    fn visit_headers(&self, f: &mut dyn FnMut(&str, &[u8])) {
        for header in self.0.headers().iter() {
            f(header.name().as_str(), header.value().as_bytes());
        }
    }
}

/// The request's decision, computed on first use and memoised with `local_cache_async`.
///
/// The decision never blocks the executor: it runs without network IO, and only when the core
/// answers [`Interrupt::WouldBlock`] (a key fetch, a handshake nonce, a refresh) is it rerun on
/// a blocking thread, from an owned copy of the request, within the instance's bound on waiting
/// decisions ([`Deferred`]).
pub(crate) async fn decision<'r>(request: &'r Request<'_>) -> &'r Decision {
    request.local_cache_async(decide(request)).await
}

async fn decide(request: &Request<'_>) -> Decision {
    let Some(managed) = request.rocket().state::<Managed>() else {
        return Decision::Unconfigured;
    };
    match authenticate(request, managed.options_for(request)).await {
        Decision::State(state) if managed.is_api(request) => Decision::State(state.into_api()),
        decided => decided,
    }
}

async fn authenticate(request: &Request<'_>, options: &Options) -> Decision {
    let view = RocketRequest(request);
    match try_authenticate_request(&view, options) {
        Ok(state) => Decision::State(state),
        Err(Interrupt::WouldBlock(deferred)) => {
            match rocket::tokio::task::spawn_blocking(|| deferred.run()).await {
                Ok(Ok(state)) => Decision::State(state),
                Ok(Err(error)) => Decision::Failed(error.to_json()),
                Err(_) => Decision::Failed(AuthenticateError::DID_NOT_COMPLETE.to_json()),
            }
        }
        Err(Interrupt::Failed(error)) => Decision::Failed(error.to_json()),
    }
}

/// The request's state, for a guard: `500` ([`AuthError::Unavailable`]) when there is none (the
/// request could not be decided, or the fairing is not attached).
pub(crate) async fn decided<'r>(request: &'r Request<'_>) -> Outcome<&'r RequestState, AuthError> {
    match decision(request).await {
        Decision::State(state) => Outcome::Success(state),
        Decision::Failed(_) | Decision::Unconfigured => {
            Outcome::Error((Status::InternalServerError, AuthError::Unavailable))
        }
    }
}

/// Why a guard refused a request. The [`ClerkAuth`] fairing answers it: the rejection's status
/// and JSON body, and the state's headers. (The guard fails with an internal status that only
/// the fairing's own catcher answers, so that the application's catchers, and the answers of a
/// handler taking `Option<SignedIn>` or `Result<SignedIn, AuthError>`, are never rewritten.)
///
/// [`ClerkAuth`]: crate::ClerkAuth
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// Not signed in (`401`), without what the route requires (`403`, from
    /// [`Require`](crate::Require)), or the keys could not be obtained (`503`).
    Rejected(Rejection),
    /// No decision is available (`500`): the request could not be decided, or the fairing is
    /// not attached (the guards' [`Sentinel`] prevents that at launch).
    Unavailable,
}

/// The request's auth state: never refuses a request (with the fairing attached).
///
/// Dereferences to the core's [`RequestState`]: `status()`, `session()` (with `has(...)`),
/// `machine()`, `reason()`, `auth_json()`, …
#[derive(Clone, Copy, Debug)]
pub struct AuthState<'r> {
    state: &'r RequestState,
}

impl<'r> AuthState<'r> {
    /// The request's state (also reachable through `Deref`).
    pub fn state(&self) -> &'r RequestState {
        self.state
    }
}

impl Deref for AuthState<'_> {
    type Target = RequestState;

    fn deref(&self) -> &RequestState {
        self.state
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AuthState<'r> {
    type Error = AuthError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, AuthError> {
        decided(request).await.map(|state| AuthState { state })
    }
}

impl Sentinel for AuthState<'_> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        abort_unconfigured(rocket, "AuthState")
    }
}

/// A signed-in request: a session (not pending) or an authenticated machine. A pending session
/// (`sts = pending`) is refused like a signed-out request (Clerk's `treatPendingAsSignedOut`,
/// body `"reason": null`) unless the options
/// [accept pending sessions](clerk_auth_core::OptionsBuilder::accept_pending_sessions).
///
/// As a request guard it refuses anything else with `401` (signed out) or `503` (the keys could
/// not be obtained), with the JSON body `{"status","reason","message"}` and the debug headers
/// (written by the [`ClerkAuth`](crate::ClerkAuth) fairing). `Option<SignedIn>` gives `None`
/// instead. Dereferences to the core's [`RequestState`].
#[derive(Clone, Copy, Debug)]
pub struct SignedIn<'r> {
    state: &'r RequestState,
}

impl<'r> SignedIn<'r> {
    /// The request's state (also reachable through `Deref`).
    pub fn state(&self) -> &'r RequestState {
        self.state
    }
}

impl Deref for SignedIn<'_> {
    type Target = RequestState;

    fn deref(&self) -> &RequestState {
        self.state
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SignedIn<'r> {
    type Error = AuthError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, AuthError> {
        let state = try_outcome!(decided(request).await);
        match state.rejection() {
            None => Outcome::Success(SignedIn { state }),
            Some(rejection) => refuse(request, rejection),
        }
    }
}

impl Sentinel for SignedIn<'_> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        abort_unconfigured(rocket, "SignedIn")
    }
}

pub(crate) fn abort_unconfigured(rocket: &Rocket<Ignite>, guard: &str) -> bool {
    let missing = rocket.state::<Managed>().is_none();
    if missing {
        rocket::error!(
            "clerk-auth: a route uses the `{guard}` guard but the `ClerkAuth` fairing is not \
             attached: attach `ClerkAuth::new(options)` or `ClerkAuth::from_env()`"
        );
    }
    missing
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use clerk_auth_core::OwnedRequest;
    use rocket::http::Header;
    use rocket::local::blocking::Client;

    use super::*;

    #[test]
    fn the_view_borrows_the_request() {
        let client = Client::untracked(rocket::build()).unwrap();
        let request = client
            .post("/a/b%20c?d=e&f")
            .header(Header::new("Cookie", "a=1"))
            .header(Header::new("cookie", "b=2"))
            .header(Header::new("Authorization", "Bearer t"));
        let view = RocketRequest(request.inner());
        assert_eq!(view.method(), "POST");
        assert_eq!(view.url(), "/a/b%20c?d=e&f");
        assert_eq!(view.header("authorization"), Some(&b"Bearer t"[..]));
        let cookies: Vec<&[u8]> = view.header_all("cookie").collect();
        assert_eq!(cookies, [&b"a=1"[..], &b"b=2"[..]]);
        let mut seen = Vec::new();
        view.visit_headers(&mut |name, value| seen.push((name.to_owned(), value.to_vec())));
        assert!(seen.contains(&("Authorization".to_owned(), b"Bearer t".to_vec())));

        let plain = client.get("/x");
        assert!(matches!(
            RocketRequest(plain.inner()).url(),
            Cow::Borrowed("/x")
        ));
        let captured = OwnedRequest::capture(&RocketRequest(request.inner()));
        assert_eq!(captured.header("cookie"), Some(&b"a=1"[..]));
    }
}
