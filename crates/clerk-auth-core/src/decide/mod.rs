//! The decision: from a request view and the options, signed-in, signed-out or handshake.
//!
//! The flow follows Clerk's `authenticateRequest` step by step; each step names its section of
//! the spec. The only IO is through the verifier (keys) and the [`BackendApi`](crate::bapi::BackendApi)
//! (handshake nonce, refresh), and in non-blocking mode neither is allowed to block: the decision
//! stops with [`Interrupt::WouldBlock`], carrying the captured decision for a blocking thread.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderMap, HeaderValue, CACHE_CONTROL, LOCATION, SET_COOKIE};
use url::Url;

use crate::bapi::RefreshRequest;
use crate::diagnostics::{Condition, SkewEstimate};
use crate::error::{
    TokenCarrier, TokenVerificationError, TokenVerificationErrorReason as TvReason,
};
use crate::handshake::HandshakeUrl;
use crate::options::{AcceptsToken, Options};
use crate::request::{Authorization, RequestView};
use crate::state::{Auth, AuthErrorReason as Ar, Reason, RefreshError, RequestState};
use crate::token::auth::{SessionAuth, TokenType};
use crate::token::Jwt;
use crate::trace::{short, token_hint, Recorder};
use crate::verify::pipeline::{is_non_session_category, Verified};

mod context;
mod cookie;
mod handshake;
mod header;
mod refresh;
#[cfg(all(test, feature = "testing"))]
mod test_support;

pub(crate) use self::context::RequestContext;
use self::handshake::HandshakeFailure;

/// The request could not be decided: a configuration problem that shows only with this request,
/// or a development-instance handshake token that fails verification (Clerk's SDK throws there
/// too). Adapters answer `500`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthenticateError {
    /// The handshake token of a development instance failed verification.
    #[error("{0}")]
    HandshakeTokenInvalid(String),
    /// A satellite's sign-in URL is missing, unparseable, or of the same origin as the request.
    #[error("{0}")]
    SatelliteMisconfigured(&'static str),
    /// The decision could not run to its end (for example an adapter's blocking task was
    /// cancelled).
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl AuthenticateError {
    /// What an adapter answers when the blocking task that ran a [`Deferred`](crate::Deferred)
    /// decision did not complete (it panicked, or the runtime was shutting down).
    pub const DID_NOT_COMPLETE: Self =
        Self::Internal("the authentication decision did not complete");

    /// The JSON body adapters answer with (`500`): `{"status":"error","message":…}`. It never
    /// contains a token or key. Every adapter answers an undecidable request with it.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "status": "error", "message": self.to_string() }).to_string()
    }
}

/// Why [`try_authenticate_request`](crate::try_authenticate_request) did not return a state.
#[derive(Debug, thiserror::Error)]
pub enum Interrupt {
    /// Deciding needs network IO (a key fetch, a handshake nonce, a refresh, an opaque machine
    /// token), or would wait on a fetch in progress: hand the captured decision's
    /// [`Deferred::run`](crate::Deferred::run) to a blocking thread (`spawn_blocking`,
    /// `web::block`). It holds one of the instance's places for waiting decisions until it
    /// returns or is dropped; when none was free, the decision did not interrupt but answered
    /// `backend-api-budget-exhausted` (see [`Deferred`](crate::Deferred)).
    #[error("the decision needs network IO")]
    WouldBlock(crate::Deferred),
    /// The request could not be decided.
    #[error(transparent)]
    Failed(#[from] AuthenticateError),
}

/// Why the decision stopped before a state: it needs network IO (in non-blocking mode), or the
/// request cannot be decided.
#[derive(Debug)]
enum Stop {
    WouldBlock,
    Failed(AuthenticateError),
}

impl From<AuthenticateError> for Stop {
    fn from(e: AuthenticateError) -> Self {
        Self::Failed(e)
    }
}

type Flow<T> = Result<T, Stop>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Blocking,
    NonBlocking,
}

/// Decides the request, blocking on network IO when it is needed (a key-set fetch, the handshake
/// nonce, a refresh). From an async executor use [`try_authenticate_request`] first.
pub fn authenticate_request<R: RequestView + ?Sized>(
    request: &R,
    options: &Options,
) -> Result<RequestState, AuthenticateError> {
    explained(request, options, &Recorder::for_tracing())
}

/// Decides the request without any network IO and without waiting on a fetch in progress: safe
/// on an async executor thread. Returns [`Interrupt::WouldBlock`] with the captured decision when
/// it needs IO; run that on a blocking thread (`spawn_blocking`, `web::block`), in that case
/// only. Both give the same state for the same request.
///
/// ```
/// use clerk_auth_core::{try_authenticate_request, Interrupt, Options};
/// use clerk_auth_core::testing::TestRequest;
///
/// # fn decide(options: &Options) -> Result<clerk_auth_core::RequestState, clerk_auth_core::AuthenticateError> {
/// let request = TestRequest::get("https://app.example.com/api/me").build();
/// let state = match try_authenticate_request(&request, options) {
///     Ok(state) => state,
///     // An async adapter hands this closure to its blocking pool.
///     Err(Interrupt::WouldBlock(deferred)) => deferred.run()?,
///     Err(Interrupt::Failed(e)) => return Err(e),
/// };
/// # Ok(state)
/// # }
/// ```
pub fn try_authenticate_request<R: RequestView + ?Sized>(
    request: &R,
    options: &Options,
) -> Result<RequestState, Interrupt> {
    match run(
        request,
        options,
        Mode::NonBlocking,
        &Recorder::for_tracing(),
    ) {
        Ok(state) => Ok(state),
        Err(Stop::Failed(e)) => Err(Interrupt::Failed(e)),
        Err(Stop::WouldBlock) => match crate::Deferred::new(request, options) {
            Ok(deferred) => Err(Interrupt::WouldBlock(deferred)),
            // Too many decisions of this instance already wait: answered at once.
            Err(refused) => Ok(refused),
        },
    }
}

/// [`authenticate_request`] writing its steps to `recorder` (for
/// [`explain_request`](crate::explain_request)).
pub(crate) fn explained<R: RequestView + ?Sized>(
    request: &R,
    options: &Options,
    recorder: &Recorder,
) -> Result<RequestState, AuthenticateError> {
    match run(request, options, Mode::Blocking, recorder) {
        Ok(state) => Ok(state),
        Err(Stop::Failed(e)) => Err(e),
        // Blocking mode never asks to block.
        Err(Stop::WouldBlock) => Err(AuthenticateError::Internal(
            "a blocking decision asked to block",
        )),
    }
}

/// Runs `step` on the decision of `request` (non-blocking, no trace): the unit tests of the
/// decision's named steps.
#[cfg(test)]
fn with_decision<R: RequestView + ?Sized, T>(
    request: &R,
    options: &Options,
    step: impl FnOnce(&Decision<'_, R>) -> T,
) -> T {
    let recorder = Recorder::off();
    let d = Decision {
        ctx: RequestContext::new(request, options),
        options,
        mode: Mode::NonBlocking,
        trace: &recorder,
        skew: Cell::new(None),
    };
    step(&d)
}

fn run<R: RequestView + ?Sized>(
    request: &R,
    options: &Options,
    mode: Mode,
    trace: &Recorder,
) -> Flow<RequestState> {
    let ctx = RequestContext::new(request, options);
    let d = Decision {
        ctx,
        options,
        mode,
        trace,
        skew: Cell::new(None),
    };
    d.note("request", || {
        let url = d.ctx.clerk_url();
        format!(
            "{} {}{} (query not shown); accepts {}",
            short(d.ctx.method()),
            short(&url.origin().ascii_serialization()),
            short(url.path()),
            options.accepts_token()
        )
    });
    let state = match d.dispatch() {
        Ok(state) => state,
        Err(Stop::WouldBlock) => {
            tracing::trace!(target: "clerk_auth", "decision needs network IO; rerun on a blocking thread");
            return Err(Stop::WouldBlock);
        }
        Err(Stop::Failed(e)) => {
            trace.note("outcome", || {
                format!("the request could not be decided: {e}")
            });
            trace.emit();
            // Any client can make a request undecidable (a development handshake token that
            // does not verify): one error a minute, not one per request.
            if options.diagnostics().should_warn(Condition::Undecidable) {
                tracing::error!(target: "clerk_auth", error = %e, "Clerk: the request could not be decided (logged at most once a minute)");
            }
            return Err(Stop::Failed(e));
        }
    };
    trace.note("outcome", || describe_outcome(&state));
    trace.emit();
    crate::diagnostics::record_decision(&state);
    trace_decision(&state, options);
    Ok(if options.debug_headers() {
        state.with_debug_headers()
    } else {
        state
    })
}

/// One event per decision, at the decision point: status, reason and token type, never a token,
/// a key or the URL (which may carry a dev-browser token). A key-set outage is a warning: the
/// service cannot authenticate anyone until it ends.
fn trace_decision(state: &RequestState, options: &Options) {
    let token_type = state.token_type().map_or("none", |t| t.as_str());
    match state.reason() {
        None => {
            tracing::debug!(target: "clerk_auth", status = %state.status(), token_type, "Clerk: request decided");
        }
        Some(reason)
            if reason.is_key_set_outage()
                && options.diagnostics().should_warn(Condition::KeySetOutage) =>
        {
            tracing::warn!(target: "clerk_auth", status = %state.status(), %reason, token_type, "Clerk: keys unavailable; request signed out");
        }
        Some(reason) => {
            tracing::debug!(target: "clerk_auth", status = %state.status(), %reason, token_type, "Clerk: request decided");
        }
    }
}

/// The outcome line of an explanation: status, reason, message, and where a redirect goes
/// (origin and path only: the query may carry tokens).
fn describe_outcome(state: &RequestState) -> String {
    let mut line = state.status().to_string();
    if let Some(reason) = state.reason() {
        line.push_str(&format!("; reason {reason}"));
    }
    if let Some(message) = state.message().filter(|m| !m.is_empty()) {
        line.push_str(&format!("; message: {message}"));
    }
    if let Some(token_type) = state.token_type() {
        line.push_str(&format!("; token type {}", token_type.as_str()));
    }
    if let Some(location) = state.location().and_then(|l| l.to_str().ok()) {
        match Url::parse(location) {
            Ok(url) => line.push_str(&format!(
                "; Location {}{} (query not shown)",
                short(&url.origin().ascii_serialization()),
                short(url.path())
            )),
            Err(_) => line.push_str("; Location (not an absolute URL)"),
        }
    }
    line
}

struct Decision<'a, R: RequestView + ?Sized> {
    ctx: RequestContext<'a, R>,
    options: &'a Options,
    mode: Mode,
    /// Where the steps are written (usually nowhere).
    trace: &'a Recorder,
    /// The clock-skew estimate of a failed time check in this request, for the loop post-mortem.
    skew: Cell<Option<SkewEstimate>>,
}

fn header_value(s: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(s).ok()
}

fn is_machine_jwt(jwt: &Jwt) -> bool {
    crate::token::auth::is_oauth_jwt(jwt) || crate::token::auth::is_m2m_jwt(jwt)
}

/// Decision 4: a machine JWT (M2M, OAuth `at+jwt`) or a token of a non-session category (a JWT
/// template, M2M) is not a session token, on every path: the header, the cookie, a handshake's
/// directives and a refresh's answer.
fn is_not_a_session_token(jwt: &Jwt) -> bool {
    is_machine_jwt(jwt) || is_non_session_category(jwt.category())
}

impl<R: RequestView + ?Sized> Decision<'_, R> {
    fn note(&self, rule: &'static str, detail: impl FnOnce() -> String) {
        self.trace.note(rule, detail);
    }

    /// Decision 14: a development primary redirects (with its dev-browser token) only to an
    /// origin of the authorized parties, when they are set.
    fn is_allowed_redirect(&self, url: &Url) -> bool {
        let parties = self.options.authorized_parties();
        let allowed = parties.is_empty() || {
            let origin = url.origin().ascii_serialization();
            parties.contains(&origin)
        };
        if !allowed {
            self.note("§2.3 step 2", || {
                format!(
                    "__clerk_redirect_url to {} is not an origin of the authorized parties: ignored (decision 14)",
                    crate::trace::short(&url.origin().ascii_serialization())
                )
            });
        }
        allowed
    }

    /// Whether this decision may do network IO (blocking mode).
    fn may_block(&self) -> bool {
        self.mode == Mode::Blocking
    }

    // ---- helpers -------------------------------------------------------------------------

    /// Verifies a session token; in non-blocking mode, interrupts instead of fetching keys.
    fn verify(&self, token: &str) -> Flow<Result<Verified, TokenVerificationError>> {
        let verifier = self.options.verifier();
        let (jwt, entry) = match self.ctx.decode_entry(token) {
            Ok(decoded) => decoded,
            Err(e) => {
                self.note("§3.1", || {
                    format!("{} does not decode: {}", token_hint(token), e.message)
                });
                return Ok(Err(e));
            }
        };
        let hit = entry.is_some();
        self.note("§3.2", || match &entry {
            Some(_) => format!(
                "{}: verified-token cache hit (signature checked earlier; times re-checked)",
                token_hint(token)
            ),
            None => format!(
                "{}: verified-token cache miss; alg \"{}\", kid \"{}\": key {}",
                token_hint(token),
                short(
                    jwt.header_param("alg")
                        .and_then(|a| a.as_str())
                        .unwrap_or("(none)")
                ),
                short(jwt.kid().unwrap_or("(none)")),
                if verifier.source().try_key(&jwt).is_none() {
                    "not in memory: fetched from the key source"
                } else {
                    "in memory"
                }
            ),
        });
        let result = verifier
            .verify_for_request(Arc::clone(&jwt), entry, self.may_block())
            .ok_or(Stop::WouldBlock)?;
        crate::diagnostics::record_cache_lookup(hit);
        if self.trace.is_on() {
            let now = self.options.clock().now();
            for line in
                crate::verify::pipeline::describe_claim_checks(&jwt, verifier.options(), now)
            {
                self.note("§3.3", || line);
            }
        }
        if let Err(err) = &result {
            self.note("§3.3", || {
                format!("verification failed: {}: {}", err.reason, err.message)
            });
            self.detect_skew(&jwt, err.reason);
        }
        Ok(result)
    }

    /// The clock-skew detector: when a time check fails in a way clocks explain, estimates the
    /// offset, writes it in the explanation and warns (at most once a minute). Never corrects
    /// anything.
    fn detect_skew(&self, jwt: &Jwt, reason: TvReason) {
        let diagnostics = self.options.diagnostics();
        let Some(skew) = SkewEstimate::for_failure(
            jwt,
            reason,
            self.options.clock().now(),
            diagnostics.backend_api_clock().seconds(),
        ) else {
            return;
        };
        self.skew.set(Some(skew));
        self.note("clock", || format!("{reason}: {skew}"));
        if skew.is_significant(self.options.clock_skew())
            && diagnostics.should_warn(Condition::ClockSkew)
        {
            let offset = skew.seconds().unwrap_or(0);
            tracing::warn!(target: "clerk_auth", %reason, offset_seconds = offset, "Clerk: session tokens fail their time checks and the clocks disagree: {skew}. Sync this server's clock (NTP); clerk-auth never corrects it.");
        }
    }

    fn signed_in_session(&self, verified: Verified, headers: HeaderMap) -> RequestState {
        match verified.session() {
            Some(session) => {
                // Decision 16: a pending session is signed out (Clerk's `toAuth()` with
                // `treatPendingAsSignedOut`) unless the instance accepts pending sessions. The
                // status stays signed-in, as on Clerk's wire (no debug headers).
                let auth = if session.is_pending() && !self.options.accept_pending_sessions() {
                    Auth::SignedOutSession { pending: true }
                } else {
                    Auth::Session(session)
                };
                RequestState::signed_in(
                    TokenType::SessionToken,
                    crate::state::Token::Jwt(verified.jwt),
                    auth,
                    headers,
                )
            }
            None => self.signed_out_session(Reason::Auth(Ar::UnexpectedError), String::new()),
        }
    }

    fn signed_out_session(&self, reason: Reason, message: String) -> RequestState {
        RequestState::signed_out(
            Some(TokenType::SessionToken),
            reason,
            message,
            Auth::SignedOutSession { pending: false },
            HeaderMap::new(),
        )
    }
}

fn signed_out_invalid_token() -> RequestState {
    RequestState::signed_out(
        None,
        Reason::Auth(Ar::TokenTypeMismatch),
        String::new(),
        Auth::InvalidToken,
        HeaderMap::new(),
    )
}

fn location_headers(url: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Some(v) = header_value(url) {
        h.insert(LOCATION, v);
    }
    h
}

/// Decision 5: `__clerk_redirect_url` must be an absolute `http`/`https` URL, else it is absent.
fn parse_http_url(s: &str) -> Option<Url> {
    Url::parse(s)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}
