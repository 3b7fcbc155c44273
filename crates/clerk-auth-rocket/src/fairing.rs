//! The [`ClerkAuth`] fairing: manages the options, decides every request once, and writes the
//! state onto the response.

use clerk_auth_core::self_check::self_check;
use clerk_auth_core::state::Disposition;
use clerk_auth_core::{AuthenticateError, ConfigError, Options, SelfCheckReport};
use rocket::catcher::{self, Catcher};
use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::uri::Origin;
use rocket::http::{ContentType, Method, Status};
use rocket::route::{BoxFuture, Outcome, Route};
use rocket::{Build, Data, Request, Response, Rocket};

use crate::guard::{decision, Decision, Managed, Refused, REFUSED};

/// Where the fairing sends a request that must not reach the application (a redirect or a
/// server error). A route mounted by the fairing, ranked before any application route, answers it.
pub const INTERRUPT_PATH: &str = "/__clerk_auth/interrupted";

/// The rank of the route at [`INTERRUPT_PATH`].
const INTERRUPT_RANK: isize = -1000;

/// The fairing that authenticates every request with Clerk.
///
/// - On ignite it manages the options (the guards find them there) and mounts one internal route
///   at [`INTERRUPT_PATH`]. With a configuration error (say [`ClerkAuth::from_env`] without
///   `CLERK_SECRET_KEY`), ignition fails and the launch aborts with the error logged.
/// - On ignite it also runs the core's start-up [self-check](mod@clerk_auth_core::self_check) on a
///   blocking thread (on by default; [`self_check`](ClerkAuth::self_check) turns it off). It
///   fetches the key set now (the first requests find the keys cached) and logs every finding,
///   naming the environment variable to fix. An **error** (authentication is impossible, say a
///   secret key the Backend API refuses) aborts the launch; a **warning** (say the key set
///   cannot be fetched right now) is logged and the launch goes on, while a background thread
///   keeps retrying the fetch.
/// - On request it decides the request once (memoised; the guards reuse it). When the state asks
///   for a `307` redirect, or the request cannot be decided (`500`), a fairing cannot answer
///   directly, so it rewrites the request to [`INTERRUPT_PATH`] (method `GET`, or `HEAD` for
///   `HEAD`): **no application handler or guard runs**, so the application has no side effects
///   for a request the client sees redirected.
/// - On response it writes the answer: for a redirect, `307`, an empty body and all the state's
///   headers; for a failed decision, `500` with a JSON body `{"status":"error","message":…}`;
///   otherwise it appends the state's headers (several `set-cookie` kept) to the application's
///   response and, when [`SignedIn`](crate::SignedIn) refused the request, gives the error
///   response the rejection's JSON body (`401`/`403`/`503`, `application/json`). Only the
///   answers of a refusing guard are rewritten: the guards fail with an internal status that the
///   fairing's own catcher (registered on ignite) answers; your catchers and your handlers'
///   own `401`s are left alone. A response that
///   carries the state's `set-cookie` (a refresh, a handshake) gets `Cache-Control: private,
///   no-store` unless its `Cache-Control` already says `no-store`.
/// - Paths under an [`api_prefix`](ClerkAuth::api_prefix) are API routes: never redirected.
/// - Paths under a prefix given [`route_options`](ClerkAuth::route_options) are decided with
///   those options (other token types, pending sessions).
pub struct ClerkAuth {
    options: Result<Options, ConfigError>,
    api_prefixes: Vec<Vec<String>>,
    scopes: Vec<(Vec<String>, Result<Options, ConfigError>)>,
    self_check: bool,
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
            scopes: Vec::new(),
            self_check: true,
        }
    }

    /// Whether to run the start-up self-check on ignite
    /// ([`clerk_auth_core::self_check`](mod@clerk_auth_core::self_check)). Defaults to `true`.
    ///
    /// The check takes up to the key-set fetch budget (3.5 s by default) of the launch, on a
    /// blocking thread. It logs each finding through `tracing` (target `clerk_auth`) and, when no
    /// `tracing` subscriber takes it, through Rocket's logger, naming the variable at fault, never
    /// its value. An error aborts the launch
    /// (authentication would be impossible: a bad key, a secret key the Backend API refuses);
    /// warnings are logged and the launch goes on (requests with session tokens are signed out,
    /// `503`, until the key set can be fetched; a background thread retries).
    ///
    /// Turn it off (`false`) when the launch must not touch the network, or in tests that count
    /// the key-set fetches made by requests. A configuration that cannot be built still aborts the
    /// launch either way.
    #[must_use]
    pub fn self_check(mut self, on: bool) -> Self {
        self.self_check = on;
        self
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
        self.api_prefixes.push(segments(prefix));
        self
    }

    /// Decides the requests whose path is under `prefix` (matched as in
    /// [`api_prefix`](Self::api_prefix); the longest prefix wins) with the options `derive`
    /// makes from the fairing's: [`Options::with_accepts_token`] for a route that accepts other
    /// token types (API keys and M2M tokens on `/api/machines`, say), and
    /// [`Options::with_pending_sessions`] for one that lets pending sessions in. They share the
    /// instance's key set and caches. An error of `derive`, or options of another instance
    /// (not derived from the fairing's), abort the launch.
    ///
    /// ```no_run
    /// use clerk_auth_core::TokenType;
    /// use clerk_auth_rocket::ClerkAuth;
    ///
    /// #[rocket::launch]
    /// fn rocket() -> _ {
    ///     let clerk = ClerkAuth::from_env()
    ///         .api_prefix("/api")
    ///         .route_options("/api/machines", |options| {
    ///             options.with_accepts_token(vec![TokenType::ApiKey, TokenType::M2mToken])
    ///         })
    ///         .route_options("/onboarding", |options| Ok(options.with_pending_sessions(true)));
    ///     rocket::build().attach(clerk)
    /// }
    /// ```
    #[must_use]
    pub fn route_options(
        mut self,
        prefix: &str,
        derive: impl FnOnce(&Options) -> Result<Options, ConfigError>,
    ) -> Self {
        let options = self.options.as_ref().map_err(Clone::clone).and_then(derive);
        self.scopes.push((segments(prefix), options));
        // The longest prefix first: the first that matches wins.
        self.scopes
            .sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        self
    }

    /// The options of each scope, or why the launch must abort.
    fn scopes(&self, options: &Options) -> Result<Vec<(Vec<String>, Options)>, String> {
        self.scopes
            .iter()
            .map(|(prefix, scoped)| match scoped {
                Ok(scoped) if scoped.same_instance(options) => Ok((prefix.clone(), scoped.clone())),
                Ok(_) => Err(format!(
                    "the options for /{} are not derived from the fairing's (use \
                     Options::with_accepts_token or with_pending_sessions)",
                    prefix.join("/")
                )),
                Err(error) => Err(format!(
                    "invalid options for /{}: {error}",
                    prefix.join("/")
                )),
            })
            .collect()
    }
}

/// A path prefix as its non-empty segments.
fn segments(prefix: &str) -> Vec<String> {
    prefix
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
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
                let scopes = match self.scopes(options) {
                    Ok(scopes) => scopes,
                    Err(error) => {
                        rocket::error!("clerk-auth: {error}");
                        return Err(rocket);
                    }
                };
                if self.self_check && !run_self_check(options).await {
                    return Err(rocket);
                }
                let route = Route::ranked(INTERRUPT_RANK, Method::Get, INTERRUPT_PATH, interrupted);
                let managed = Managed {
                    options: options.clone(),
                    api_prefixes: self.api_prefixes.clone(),
                    scopes,
                };
                Ok(rocket
                    .manage(managed)
                    .mount("/", vec![route])
                    .register("/", vec![Catcher::new(REFUSED.code, refused)]))
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
                // A guard refused the request (nothing else answers this status): its answer.
                if response.status() == REFUSED {
                    answer_refusal(request, response);
                }
            }
            Disposition::Redirect => {
                response.set_status(Status::TemporaryRedirect);
                response.remove_header("Content-Type");
                response.set_sized_body(0, std::io::Cursor::new(""));
            }
            _ => set_json(
                response,
                Status::InternalServerError,
                state.server_error_json(),
            ),
        }
        for (name, value) in state.header_bytes() {
            // Rocket headers are text; a value that is not UTF-8 cannot be sent through it.
            if let Ok(value) = std::str::from_utf8(value) {
                response.adjoin_raw_header(name, value);
            }
        }
        // A response carrying the state's cookies is never stored by a shared cache.
        let current = response.headers().get("Cache-Control").map(str::as_bytes);
        if let Some(value) = state.cache_control(current) {
            response.set_raw_header("Cache-Control", value);
        }
    }
}

/// Runs the self-check on a blocking thread and logs the report; `false` when the launch must
/// abort (an error, or a check that could not complete).
async fn run_self_check(options: &Options) -> bool {
    let options = options.clone();
    let report = match rocket::tokio::task::spawn_blocking(move || self_check(&options)).await {
        Ok(report) => report,
        Err(error) => {
            rocket::error!("clerk-auth: the start-up self-check did not complete: {error}");
            return false;
        }
    };
    report.log();
    log_to_rocket(&report);
    report.is_ok()
}

/// Writes the findings to Rocket's log too (Rocket logs through `log`, not `tracing`; during
/// ignition its logger runs at its default level, the configured one applies afterwards).
fn log_to_rocket(report: &SelfCheckReport) {
    for line in rocket_log_lines(report, tracing_shows) {
        match line {
            RocketLine::Error(text) => rocket::error!("{text}"),
            RocketLine::Warning(text) => rocket::warn!("{text}"),
        }
    }
}

/// One line for Rocket's log.
#[derive(Debug, PartialEq, Eq)]
enum RocketLine {
    Error(String),
    Warning(String),
}

/// What [`log_to_rocket`] writes: errors as errors, warnings as warnings, one line each, naming
/// the variable at fault, but only those a `tracing` subscriber did not take from
/// [`SelfCheckReport::log`] (`shown_by_tracing` of their level): an application without a
/// subscriber sees them in Rocket's log, one with a subscriber sees them once (with
/// `tracing-subscriber`'s default features, Rocket's own log goes to that subscriber too). Then
/// the abort, when there is an error. A clean report is left to `tracing` (one `info` event), so
/// that a clean launch prints nothing more.
fn rocket_log_lines(
    report: &SelfCheckReport,
    shown_by_tracing: impl Fn(tracing::Level) -> bool,
) -> Vec<RocketLine> {
    let mut lines = Vec::new();
    if !shown_by_tracing(tracing::Level::ERROR) {
        lines.extend(
            report
                .errors()
                .map(|finding| RocketLine::Error(format!("clerk-auth self-check: {finding}"))),
        );
    }
    if !shown_by_tracing(tracing::Level::WARN) {
        lines.extend(
            report
                .warnings()
                .map(|finding| RocketLine::Warning(format!("clerk-auth self-check: {finding}"))),
        );
    }
    if !report.is_ok() {
        lines.push(RocketLine::Error(
            "clerk-auth: the self-check found an error: aborting the launch".to_owned(),
        ));
    }
    lines
}

/// Whether the current `tracing` subscriber records the self-check's events of `level` (target
/// `clerk_auth`, as [`SelfCheckReport::log`] writes them).
fn tracing_shows(level: tracing::Level) -> bool {
    if level == tracing::Level::ERROR {
        tracing::enabled!(target: "clerk_auth", tracing::Level::ERROR)
    } else {
        tracing::enabled!(target: "clerk_auth", tracing::Level::WARN)
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

/// Writes the refusal a guard recorded ([`Refused`]) onto the response: its status, JSON body and
/// extra headers (`WWW-Authenticate` on a `401` under an API prefix, `Retry-After` over the
/// Backend API budget). Without one (which no guard leaves), a `500`.
fn answer_refusal(request: &Request<'_>, response: &mut Response<'_>) {
    let Some(rejection) = Refused::of(request) else {
        let error = AuthenticateError::Internal("a guard refused without a recorded answer");
        return set_json(response, Status::InternalServerError, error.to_json());
    };
    set_json(response, Status::new(rejection.status), rejection.body);
    for (name, value) in &rejection.headers {
        if let Ok(value) = value.to_str() {
            response.set_raw_header(name.as_str().to_owned(), value.to_owned());
        }
    }
}

/// The catcher for [`REFUSED`]: an empty answer that `on_response` completes.
fn refused<'r>(status: Status, _: &'r Request<'_>) -> catcher::BoxFuture<'r> {
    Box::pin(async move { Ok(Response::build().status(status).finalize()) })
}

fn set_json<'r>(response: &mut Response<'r>, status: Status, body: impl Into<String>) {
    let body = body.into();
    response.set_status(status);
    response.set_header(ContentType::JSON);
    response.set_sized_body(body.len(), std::io::Cursor::new(body));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::{Duration, UNIX_EPOCH};

    use clerk_auth_core::testing::KeyPair;
    use tracing::subscriber::{with_default, NoSubscriber};
    use tracing_subscriber::filter::LevelFilter;

    use super::*;

    /// A report with one warning: a development instance without authorized parties.
    fn warning_report() -> SelfCheckReport {
        let options = Options::builder()
            .publishable_key("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k")
            .secret_key("sk_test_unused")
            .jwt_key(KeyPair::shared().public_pem())
            .clock(std::sync::Arc::new(
                clerk_auth_core::testing::FixedClock::new(
                    UNIX_EPOCH + Duration::from_secs(1_700_000_000),
                ),
            ))
            .build()
            .unwrap();
        let report = self_check(&options);
        assert!(report.is_ok() && report.warnings().count() == 1, "{report}");
        report
    }

    #[test]
    fn without_a_subscriber_rocket_log_has_every_finding() {
        let report = warning_report();
        let lines = rocket_log_lines(&report, |_| false);
        assert!(
            matches!(lines.as_slice(), [RocketLine::Warning(text)] if text.contains("CLERK_AUTHORIZED_PARTIES")),
            "{lines:?}"
        );

        let error = ConfigError::MissingPublishableKey;
        let lines = rocket_log_lines(&SelfCheckReport::from_config_error(&error), |_| false);
        assert!(
            matches!(lines.as_slice(), [RocketLine::Error(finding), RocketLine::Error(abort)]
                if finding.contains("CLERK_PUBLISHABLE_KEY") && abort.contains("aborting")),
            "{lines:?}"
        );
    }

    #[test]
    fn with_a_subscriber_the_findings_are_not_repeated() {
        assert!(rocket_log_lines(&warning_report(), |_| true).is_empty());
        let error = ConfigError::MissingPublishableKey;
        let lines = rocket_log_lines(&SelfCheckReport::from_config_error(&error), |_| true);
        assert_eq!(
            lines,
            [RocketLine::Error(
                "clerk-auth: the self-check found an error: aborting the launch".to_owned()
            )]
        );
    }

    #[test]
    fn tracing_shows_follows_the_subscriber_and_its_level() {
        with_default(NoSubscriber::default(), || {
            assert!(!tracing_shows(tracing::Level::WARN));
            assert!(!tracing_shows(tracing::Level::ERROR));
        });
        let errors_only = tracing_subscriber::fmt()
            .with_max_level(LevelFilter::ERROR)
            .with_writer(std::io::sink)
            .finish();
        with_default(errors_only, || {
            assert!(!tracing_shows(tracing::Level::WARN));
            assert!(tracing_shows(tracing::Level::ERROR));
        });
        let info = tracing_subscriber::fmt()
            .with_max_level(LevelFilter::INFO)
            .with_writer(std::io::sink)
            .finish();
        with_default(info, || {
            assert!(tracing_shows(tracing::Level::WARN));
            assert!(tracing_shows(tracing::Level::ERROR));
        });
    }
}
