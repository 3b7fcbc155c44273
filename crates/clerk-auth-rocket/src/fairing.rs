//! The [`ClerkAuth`] fairing: manages the options, decides every request once, and writes the
//! state onto the response.

use clerk_auth_core::state::Disposition;
use clerk_auth_core::{ConfigError, Options};
use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::uri::Origin;
use rocket::http::{ContentType, Method, Status};
use rocket::route::{BoxFuture, Outcome, Route};
use rocket::{Build, Data, Request, Response, Rocket};

use crate::guard::{decision, Decision, Managed, Refused};

/// Where the fairing sends a request that must not reach the application (a redirect or a
/// server error). A route mounted by the fairing, ranked before any application route, answers it.
pub const INTERRUPT_PATH: &str = "/__clerk_auth/interrupted";

/// The rank of the route at [`INTERRUPT_PATH`].
const INTERRUPT_RANK: isize = -1000;

/// The `500` body for a handshake state without a redirect location.
const HANDSHAKE_ERROR_BODY: &str =
    r#"{"status":"error","message":"handshake required but no redirect location"}"#;

/// The fairing that authenticates every request with Clerk.
///
/// - On ignite it manages the options (the guards find them there) and mounts one internal route
///   at [`INTERRUPT_PATH`]. With a configuration error (say [`ClerkAuth::from_env`] without
///   `CLERK_SECRET_KEY`), ignition fails and the launch aborts with the error logged.
/// - On request it decides the request once (memoised; the guards reuse it). When the state asks
///   for a `307` redirect, or the request cannot be decided (`500`), a fairing cannot answer
///   directly, so it rewrites the request to [`INTERRUPT_PATH`] (method `GET`, or `HEAD` for
///   `HEAD`): **no application handler or guard runs**, so the application has no side effects
///   for a request the client sees redirected.
/// - On response it writes the answer: for a redirect, `307`, an empty body and all the state's
///   headers; for a failed decision, `500` with a JSON body `{"status":"error","message":…}`;
///   otherwise it appends the state's headers (several `set-cookie` kept) to the application's
///   response and, when [`SignedIn`](crate::SignedIn) refused the request, gives the error
///   response the rejection's JSON body (`401`/`503`, `application/json`).
/// - Paths under an [`api_prefix`](ClerkAuth::api_prefix) are API routes: never redirected.
pub struct ClerkAuth {
    options: Result<Options, ConfigError>,
    api_prefixes: Vec<Vec<String>>,
}

impl ClerkAuth {
    /// The fairing with these options.
    pub fn new(options: Options) -> Self {
        Self::with(Ok(options))
    }

    /// The fairing configured from Clerk's environment variables (`CLERK_SECRET_KEY`, …, see
    /// [`Options::from_env`]). A configuration error aborts the launch.
    pub fn from_env() -> Self {
        Self::with(Options::from_env())
    }

    /// The fairing configured through `lookup`, with the variable names of
    /// [`Options::from_env`]. A configuration error aborts the launch.
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Self {
        Self::with(Options::from_env_with(lookup))
    }

    fn with(options: Result<Options, ConfigError>) -> Self {
        Self {
            options,
            api_prefixes: Vec::new(),
        }
    }

    /// Marks the requests whose path is under `prefix` (say `"/api"`: `/api` and `/api/…`, not
    /// `/apiary`) as API requests: they are never answered with a redirect, even a document
    /// request. A state that would be a handshake is signed out instead (same reason), and
    /// [`SignedIn`](crate::SignedIn) refuses a signed-out request with `401`,
    /// `WWW-Authenticate: Bearer error="invalid_token"` and the JSON body (a key-set outage stays
    /// `503`). See [`RequestState::into_api`](clerk_auth_core::RequestState::into_api).
    ///
    /// Call it once per prefix. The fairing decides before routing, so the prefix is matched on
    /// the request's path (segment by segment, percent-decoded, as Rocket's router does), not on
    /// a route: give the prefix your API routes are mounted under. `"/"` makes every route an API.
    #[must_use]
    pub fn api_prefix(mut self, prefix: &str) -> Self {
        let segments = prefix.split('/').filter(|s| !s.is_empty());
        self.api_prefixes
            .push(segments.map(str::to_owned).collect());
        self
    }
}

impl From<Options> for ClerkAuth {
    fn from(options: Options) -> Self {
        Self::new(options)
    }
}

#[rocket::async_trait]
impl Fairing for ClerkAuth {
    fn info(&self) -> Info {
        Info {
            name: "ClerkAuth",
            kind: Kind::Ignite | Kind::Request | Kind::Response | Kind::Singleton,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        match &self.options {
            Ok(options) => {
                let route = Route::ranked(INTERRUPT_RANK, Method::Get, INTERRUPT_PATH, interrupted);
                let managed = Managed {
                    options: options.clone(),
                    api_prefixes: self.api_prefixes.clone(),
                };
                Ok(rocket.manage(managed).mount("/", vec![route]))
            }
            Err(error) => {
                rocket::error!("clerk-auth: invalid configuration: {error}");
                Err(rocket)
            }
        }
    }

    async fn on_request(&self, request: &mut Request<'_>, _: &mut Data<'_>) {
        if is_interrupted(decision(request).await) {
            if request.method() != Method::Head {
                request.set_method(Method::Get);
            }
            request.set_uri(Origin::const_new(INTERRUPT_PATH, None));
        }
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        let state = match decision(request).await {
            Decision::State(state) => state,
            Decision::Failed(body) => return set_json(response, Status::InternalServerError, body),
            Decision::Unconfigured => return,
        };
        match state.disposition() {
            Disposition::Continue => {
                if request.local_cache(|| Refused(false)).0 {
                    if let Some(rejection) = state.rejection() {
                        if response.status().code == rejection.status {
                            let status = response.status();
                            set_json(response, status, rejection.body);
                            // `WWW-Authenticate` on a 401 under an API prefix.
                            if let Some(Ok(value)) =
                                rejection.www_authenticate.as_ref().map(|v| v.to_str())
                            {
                                response.set_raw_header("WWW-Authenticate", value.to_owned());
                            }
                        }
                    }
                }
            }
            Disposition::Redirect => {
                response.set_status(Status::TemporaryRedirect);
                response.remove_header("Content-Type");
                response.set_sized_body(0, std::io::Cursor::new(""));
            }
            _ => set_json(response, Status::InternalServerError, HANDSHAKE_ERROR_BODY),
        }
        for (name, value) in state.headers() {
            // Rocket headers are text; a value that is not UTF-8 cannot be sent through it.
            if let Ok(value) = std::str::from_utf8(value.as_bytes()) {
                response.adjoin_raw_header(name.as_str(), value);
            }
        }
    }
}

fn is_interrupted(decision: &Decision) -> bool {
    match decision {
        Decision::State(state) => state.disposition() != Disposition::Continue,
        Decision::Failed(_) => true,
        Decision::Unconfigured => false,
    }
}

/// The handler at [`INTERRUPT_PATH`]: an empty answer the fairing's `on_response` completes, or a
/// `404` forward for a request that was not interrupted (a client asking for the path itself).
fn interrupted<'r>(request: &'r Request<'_>, data: Data<'r>) -> BoxFuture<'r> {
    Box::pin(async move {
        if is_interrupted(decision(request).await) {
            Outcome::from(request, ())
        } else {
            Outcome::forward(data, Status::NotFound)
        }
    })
}

fn set_json<'r>(response: &mut Response<'r>, status: Status, body: impl Into<String>) {
    let body = body.into();
    response.set_status(status);
    response.set_header(ContentType::JSON);
    response.set_sized_body(body.len(), std::io::Cursor::new(body));
}
