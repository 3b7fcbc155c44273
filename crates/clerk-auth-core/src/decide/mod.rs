//! The decision (§2): from a request view and the options, signed-in, signed-out or handshake.
//!
//! The flow follows Clerk's `authenticateRequest` step by step; each step names its section of
//! the spec. The only IO is through the verifier (keys) and the [`BackendApi`](crate::bapi::BackendApi)
//! (handshake nonce, refresh), and in non-blocking mode neither is allowed to block: the decision
//! stops with [`Interrupt::WouldBlock`] and the caller reruns it on a blocking thread.

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
use crate::handshake::{self, HandshakeUrl};
use crate::options::{AcceptsToken, Options};
use crate::request::{Authorization, RequestView};
use crate::state::{Auth, AuthErrorReason as Ar, Reason, RefreshError, RequestState};
use crate::token::auth::{SessionAuth, TokenType};
use crate::token::Jwt;
use crate::trace::{short, token_hint, Recorder};
use crate::verify::pipeline::{is_non_session_category, Verified};

mod context;

pub(crate) use self::context::RequestContext;

/// The request could not be decided: a configuration problem that shows only with this request,
/// or a development-instance handshake token that fails verification (Clerk's SDK throws there
/// too). Adapters answer `500`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthenticateError {
    /// The handshake token of a development instance failed verification (§2.3 step 0).
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
    /// The JSON body adapters answer with (`500`): `{"status":"error","message":…}`. It never
    /// contains a token or key.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "status": "error", "message": self.to_string() }).to_string()
    }
}

/// Why [`try_authenticate_request`](crate::try_authenticate_request) did not return a state.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Interrupt {
    /// Deciding needs network IO (a key fetch, a handshake nonce, a refresh, an opaque machine
    /// token), or would wait on a fetch in progress: capture the request with
    /// [`Deferred::new`](crate::Deferred::new) and run it on a blocking thread.
    #[error("the decision needs network IO")]
    WouldBlock,
    /// The request could not be decided.
    #[error(transparent)]
    Failed(#[from] AuthenticateError),
}

type Flow<T> = Result<T, Interrupt>;

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
/// on an async executor thread. Returns [`Interrupt::WouldBlock`] when the decision needs IO; then
/// run it on a blocking thread (`spawn_blocking`, `web::block`) through
/// [`Deferred`](crate::Deferred), in that case only. Both give the same state for the same
/// request.
pub fn try_authenticate_request<R: RequestView + ?Sized>(
    request: &R,
    options: &Options,
) -> Result<RequestState, Interrupt> {
    run(
        request,
        options,
        Mode::NonBlocking,
        &Recorder::for_tracing(),
    )
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
        Err(Interrupt::Failed(e)) => Err(e),
        // Blocking mode never asks to block.
        Err(Interrupt::WouldBlock) => Err(AuthenticateError::Internal(
            "a blocking decision asked to block",
        )),
    }
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
        Err(Interrupt::WouldBlock) => {
            tracing::trace!(target: "clerk_auth", "decision needs network IO; rerun on a blocking thread");
            return Err(Interrupt::WouldBlock);
        }
        Err(Interrupt::Failed(e)) => {
            trace.note("outcome", || {
                format!("the request could not be decided: {e}")
            });
            trace.emit();
            // Any client can make a request undecidable (a development handshake token that
            // does not verify): one error a minute, not one per request.
            if options.diagnostics().should_warn(Condition::Undecidable) {
                tracing::error!(target: "clerk_auth", error = %e, "Clerk: the request could not be decided (logged at most once a minute)");
            }
            return Err(Interrupt::Failed(e));
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

    // ---- §2.1 dispatch -------------------------------------------------------------------

    fn dispatch(&self) -> Flow<RequestState> {
        self.preflight()?;
        let accepts = self.options.accepts_token();
        let header = self.ctx.authorization();
        match header {
            Authorization::Malformed => {
                self.note("§2.1", || {
                    "Authorization: Bearer without a token: malformed (decision 1)".to_owned()
                });
                // Decision 1: `Bearer` with empty credentials is a malformed header token.
                let err = TokenVerificationError::new(
                    TvReason::TokenInvalid,
                    "Invalid Authorization header: the Bearer scheme carries no token.",
                );
                Ok(self.signed_out_session(
                    Reason::Token(err.reason),
                    err.full_message(TokenCarrier::Header),
                ))
            }
            Authorization::Token(token) => {
                self.note("§2.1", || {
                    let kind = crate::token::auth::machine_token_type(token)
                        .unwrap_or(TokenType::SessionToken);
                    format!(
                        "token in the Authorization header: {}, read as {}: header flow",
                        token_hint(token),
                        kind.as_str()
                    )
                });
                if let AcceptsToken::List(list) = accepts {
                    let presented = crate::token::auth::machine_token_type(token)
                        .unwrap_or(TokenType::SessionToken);
                    if !list.contains(&presented) {
                        self.note("§5.2", || {
                            format!("{} is not among the accepted types", presented.as_str())
                        });
                        return Ok(signed_out_invalid_token());
                    }
                }
                match accepts {
                    AcceptsToken::SessionToken => self.header_flow(token),
                    _ => self.machine_or_session_flow(token),
                }
            }
            Authorization::None => {
                self.note("§2.1", || {
                    "no token in the Authorization header: cookie flow".to_owned()
                });
                self.without_header_token(accepts)
            }
        }
    }

    fn without_header_token(&self, accepts: &AcceptsToken) -> Flow<RequestState> {
        match accepts {
            AcceptsToken::List(list) if !list.contains(&TokenType::SessionToken) => {
                Ok(signed_out_invalid_token())
            }
            &AcceptsToken::Only(kind) if kind != TokenType::SessionToken => {
                Ok(RequestState::signed_out(
                    Some(kind),
                    Reason::NoTokenInHeader,
                    String::new(),
                    Auth::UnauthenticatedMachine(kind),
                    HeaderMap::new(),
                ))
            }
            _ => self.cookie_flow(),
        }
    }

    /// §1.9 checks that depend on the request (2b): a satellite's sign-in URL must be of another
    /// origin than the request's `Origin`.
    fn preflight(&self) -> Flow<()> {
        if !self.options.is_satellite() {
            return Ok(());
        }
        let (Some(sign_in), Some(origin)) =
            (self.options.sign_in_url(), self.ctx.header_str("origin"))
        else {
            return Ok(());
        };
        let Ok(url) = Url::parse(sign_in) else {
            return Err(AuthenticateError::SatelliteMisconfigured(
                "CLERK_SIGN_IN_URL is not an absolute URL",
            )
            .into());
        };
        if url.origin().ascii_serialization() == origin {
            return Err(AuthenticateError::SatelliteMisconfigured(
                "CLERK_SIGN_IN_URL must be on the primary domain, not on the satellite's origin",
            )
            .into());
        }
        Ok(())
    }

    /// Machine tokens and `acceptsToken = any` or a list (§5.2). Session tokens presented there
    /// are verified as on the header path; machine tokens need the machine verifier.
    fn machine_or_session_flow(&self, token: &str) -> Flow<RequestState> {
        let accepts = self.options.accepts_token();
        let presented = crate::token::auth::machine_token_type(token);
        match (accepts, presented) {
            (&AcceptsToken::Only(kind), _) if kind != TokenType::SessionToken => {
                if presented != Some(kind) {
                    return Ok(RequestState::signed_out(
                        Some(kind),
                        Reason::Auth(Ar::TokenTypeMismatch),
                        String::new(),
                        Auth::UnauthenticatedMachine(kind),
                        HeaderMap::new(),
                    ));
                }
                self.verify_machine(token)
            }
            (_, Some(_)) => self.verify_machine(token),
            (_, None) => {
                // Decision 4: a JWT-template category is rejected on every path.
                if let Ok(jwt) = self.ctx.decode(token) {
                    if jwt.category() == Some(crate::verify::pipeline::TEMPLATE_CATEGORY) {
                        return Ok(self.signed_out_session(
                            Reason::Auth(Ar::TokenTypeMismatch),
                            String::new(),
                        ));
                    }
                }
                self.verify_header_session(token)
            }
        }
    }

    /// §5.3–5.4: verifies a machine token (locally for JWT forms, through the Backend API for
    /// opaque tokens). In non-blocking mode, interrupts unless the answer needs no IO (a cached
    /// Backend API answer, a JWT whose key is in memory).
    fn verify_machine(&self, token: &str) -> Flow<RequestState> {
        let may_block = self.may_block();
        self.note("§5.3", || {
            format!(
                "machine token {}: verified locally when it is a JWT, else through the Backend API (answers cached {} s)",
                token_hint(token),
                self.options.machine_token_cache_ttl().as_secs()
            )
        });
        crate::machine::verify(token, self.options.machine(), may_block)
            .ok_or(Interrupt::WouldBlock)
    }

    // ---- §2.2 header token ---------------------------------------------------------------

    fn header_flow(&self, token: &str) -> Flow<RequestState> {
        if let Ok(jwt) = self.ctx.decode(token) {
            if is_not_a_session_token(&jwt) {
                self.note("§3.8", || {
                    format!(
                        "category \"{}\": not a session token",
                        short(jwt.category().unwrap_or("(none)"))
                    )
                });
                return Ok(
                    self.signed_out_session(Reason::Auth(Ar::TokenTypeMismatch), String::new())
                );
            }
        }
        self.verify_header_session(token)
    }

    fn verify_header_session(&self, token: &str) -> Flow<RequestState> {
        match self.verify(token)? {
            Ok(verified) => Ok(self.signed_in_session(verified, HeaderMap::new())),
            Err(err) => self.handle_session_token_error(err, TokenCarrier::Header),
        }
    }

    // ---- §2.3 cookie flow ----------------------------------------------------------------

    fn cookie_flow(&self) -> Flow<RequestState> {
        let ctx = &self.ctx;
        let is_dev = self.options.is_development();
        let is_prod = !is_dev;

        // Decision 9: an oversized Cookie header is rejected before any parsing work.
        if ctx.cookies_oversized() {
            let err = TokenVerificationError::new(
                TvReason::TokenInvalid,
                format!(
                    "Invalid Cookie header: longer than {} bytes.",
                    crate::request::MAX_COOKIE_HEADER_LEN
                ),
            );
            return Ok(self.signed_out_session(
                Reason::Token(err.reason),
                err.full_message(TokenCarrier::Cookie),
            ));
        }

        self.note("§1.5", || ctx.suffix_rule().describe().to_owned());
        self.note("§2.3", || {
            let suffix = if ctx.uses_suffixed_cookies() {
                "_<suffix>"
            } else {
                ""
            };
            format!(
                "cookies: __session{suffix} {}; __client_uat{suffix} = {}; dev browser token {}; __clerk_redirect_count = {}",
                ctx.session_token_in_cookie()
                    .map_or_else(|| "absent".to_owned(), token_hint),
                ctx.client_uat(),
                if ctx.dev_browser_token().is_some() { "present" } else { "absent" },
                ctx.redirect_loop_counter()
            )
        });

        // Step 0: finish a handshake.
        if ctx.handshake_nonce().is_some() || ctx.handshake_token().is_some() {
            self.note("§2.3 step 0", || {
                if ctx.handshake_nonce().is_some() {
                    "handshake nonce present: the handshake payload is fetched from the Backend API"
                        .to_owned()
                } else {
                    "handshake token present: verified, then its cookies applied".to_owned()
                }
            });
            match self.resolve_handshake()? {
                Ok(state) => return Ok(state),
                Err(HandshakeFailure::Verification(err)) if is_dev => {
                    let message = if err.reason == TvReason::TokenInvalidSignature {
                        "Clerk: Handshake token verification failed due to an invalid signature. If you have switched Clerk keys locally, clear your cookies and try again."
                    } else {
                        "Clerk: Handshake token verification failed."
                    };
                    return Err(AuthenticateError::HandshakeTokenInvalid(format!(
                        "{message} ({})",
                        err.reason
                    ))
                    .into());
                }
                Err(failure) => {
                    self.note("§2.3 step 0", || {
                        format!("the handshake could not be resolved ({failure}); continuing with the cookies")
                    });
                    if self
                        .options
                        .diagnostics()
                        .should_warn(Condition::HandshakeUnresolved)
                    {
                        tracing::warn!(target: "clerk_auth", reason = %failure, "Clerk: unable to resolve handshake; continuing");
                    }
                }
            }
        }

        let has_active_client = ctx.client_uat() != 0;
        let session_token = ctx.session_token_in_cookie();
        let has_session_token = session_token.is_some();
        let dev_browser = ctx.dev_browser_token();

        // Step 1: satellite sync gate.
        if self.options.is_satellite()
            && ctx.sec_fetch_dest() == Some("document")
            && ctx.method() == "GET"
        {
            let synced = ctx.query("__clerk_synced");
            let needs_sync = synced.as_deref() == Some("false");
            let sync_completed = synced.as_deref() == Some("true");
            let has_cookies = has_session_token || has_active_client;
            let skip = !self.options.satellite_auto_sync() && !has_cookies && !needs_sync;
            if !sync_completed {
                if skip {
                    return Ok(self.signed_out_session(
                        Reason::Auth(Ar::SessionTokenAndUatMissing),
                        String::new(),
                    ));
                }
                if !has_cookies || needs_sync {
                    let custom = if is_prod {
                        None
                    } else {
                        let sign_in = self
                            .options
                            .sign_in_url()
                            .and_then(|u| Url::parse(u).ok())
                            .ok_or(Interrupt::Failed(
                                AuthenticateError::SatelliteMisconfigured(
                                    "CLERK_SIGN_IN_URL is not an absolute URL",
                                ),
                            ))?;
                        let target = handshake::with_query_param_appended(
                            &sign_in,
                            "__clerk_redirect_url",
                            ctx.clerk_url().as_str(),
                        );
                        Some(location_headers(target.as_str()))
                    };
                    return Ok(self.maybe_handshake(
                        Ar::SatelliteCookieNeedsSyncing.into(),
                        String::new(),
                        custom,
                    ));
                }
            }
        }

        // Step 2: a development primary answering a satellite.
        if is_dev && !self.options.is_satellite() {
            if let Some(target) = ctx
                .query("__clerk_redirect_url")
                .and_then(|r| parse_http_url(&r))
                .filter(|url| self.is_allowed_redirect(url))
            {
                let target = match dev_browser {
                    Some(db) => handshake::with_query_param_appended(&target, "__clerk_db_jwt", db),
                    None => target,
                };
                let target = handshake::with_query_param_set(&target, "__clerk_synced", "true");
                return Ok(self.maybe_handshake(
                    Ar::PrimaryRespondsToSyncing.into(),
                    String::new(),
                    Some(location_headers(target.as_str())),
                ));
            }
        }

        // Steps 3 and 4: the development browser.
        if is_dev && ctx.query("__clerk_db_jwt").is_some() {
            return Ok(self.maybe_handshake(Ar::DevBrowserSync.into(), String::new(), None));
        }
        if is_dev && dev_browser.is_none() {
            return Ok(self.maybe_handshake(Ar::DevBrowserMissing.into(), String::new(), None));
        }

        // Steps 5 to 7.
        let Some(token) = session_token else {
            if !has_active_client {
                return Ok(self.signed_out_session(
                    Reason::Auth(Ar::SessionTokenAndUatMissing),
                    String::new(),
                ));
            }
            return Ok(self.maybe_handshake(
                Ar::ClientUatWithoutSessionToken.into(),
                String::new(),
                None,
            ));
        };
        if !has_active_client {
            return Ok(self.maybe_handshake(
                Ar::SessionTokenWithoutClientUat.into(),
                String::new(),
                None,
            ));
        }

        // Step 8: decode.
        let decoded = match self.ctx.decode(token) {
            Ok(jwt) => jwt,
            Err(err) => return self.handle_session_token_error(err, TokenCarrier::Cookie),
        };
        // Step 9: type.
        if is_not_a_session_token(&decoded) {
            return Ok(self.signed_out_session(Reason::Auth(Ar::TokenTypeMismatch), String::new()));
        }
        // Step 10: issued before the client's last update.
        if let Some(iat) = decoded.claim("iat").and_then(serde_json::Value::as_f64) {
            self.note("§2.3 step 10", || {
                let verdict = if iat < ctx.client_uat() as f64 {
                    "issued before the client's last update: handshake"
                } else {
                    "ok"
                };
                format!(
                    "iat {} against __client_uat {}: {verdict}",
                    short(&iat.to_string()),
                    ctx.client_uat()
                )
            });
            if iat < ctx.client_uat() as f64 {
                return Ok(self.maybe_handshake(
                    Ar::SessionTokenIatBeforeClientUat.into(),
                    String::new(),
                    None,
                ));
            }
        }
        // Step 11: verify.
        let verified = match self.verify(token)? {
            Ok(verified) => verified,
            Err(err) => return self.handle_session_token_error(err, TokenCarrier::Cookie),
        };
        // Step 12.
        if verified
            .jwt
            .claim("azp")
            .is_none_or(|v| v.as_str().is_none_or(str::is_empty))
            && self
                .options
                .diagnostics()
                .should_warn(Condition::MissingAzp)
        {
            tracing::warn!(target: "clerk_auth", "Clerk: session token from cookie is missing the azp claim. In a future version of Clerk, this token will be considered invalid. Please contact Clerk support if you see this warning.");
        }
        let signed_in = self.signed_in_session(verified, HeaderMap::new());
        // A pending session goes on (Clerk's cross-origin sync does not look at the auth object).
        if signed_in.status() != crate::state::AuthStatus::SignedIn {
            return Ok(signed_in);
        }

        // Step 13: primary cross-origin sync.
        if !self.options.is_satellite()
            && ctx.method() == "GET"
            && ctx.sec_fetch_dest() == Some("document")
            && ctx.is_cross_origin_referrer()
            && !ctx.is_known_clerk_referrer()
            && ctx.redirect_loop_counter() == 0
        {
            self.note("§2.3 step 13", || {
                "cross-origin document request from an unknown referrer: primary-domain sync"
                    .to_owned()
            });
            let state = self.maybe_handshake(
                Ar::PrimaryDomainCrossOriginSync.into(),
                "Cross-origin request from satellite domain requires handshake".to_owned(),
                None,
            );
            return Ok(keep_signed_in_without_redirect(state, &signed_in));
        }

        // Step 14: organization sync.
        if let Some(session) = signed_in.session() {
            if let Some(state) = self.organization_sync(session) {
                return Ok(keep_signed_in_without_redirect(state, &signed_in));
            }
        }
        Ok(signed_in)
    }

    // ---- §2.10 organization sync ---------------------------------------------------------

    fn organization_sync(&self, session: &SessionAuth) -> Option<RequestState> {
        use crate::org_sync::OrganizationSyncTarget as T;
        session.user_id.as_ref()?;
        let target = self.ctx.organization_target()?;
        let must_activate = match &target {
            T::OrganizationSlug(slug) => session.org_slug.as_deref() != Some(slug.as_str()),
            T::OrganizationId(id) => session.org_id.as_deref() != Some(id.as_str()),
            T::PersonalAccount => session.org_id.is_some(),
        };
        self.note("§2.10", || {
            format!(
                "organization target {} for this path: {}",
                short(&format!("{target:?}")),
                if must_activate {
                    "differs from the session's active organization"
                } else {
                    "already active"
                }
            )
        });
        if !must_activate {
            return None;
        }
        if self.ctx.redirect_loop_counter() >= 3 {
            self.note("§2.10", || {
                "redirect loop counter >= 3: keeping the current organization".to_owned()
            });
            if self
                .options
                .diagnostics()
                .should_warn(Condition::OrganizationLoop)
            {
                tracing::warn!(target: "clerk_auth", "Clerk: organization activation handshake loop detected; keeping the current organization");
            }
            return None;
        }
        let state =
            self.maybe_handshake(Ar::ActiveOrganizationMismatch.into(), String::new(), None);
        (state.status() == crate::state::AuthStatus::Handshake).then_some(state)
    }

    // ---- §2.5 maybe-handshake ------------------------------------------------------------

    fn maybe_handshake(
        &self,
        reason: Reason,
        message: String,
        custom: Option<HeaderMap>,
    ) -> RequestState {
        let eligible = self.ctx.is_eligible_for_handshake();
        self.note("§2.4", || {
            format!(
                "{reason}: handshake eligibility: {} with sec-fetch-dest \"{}\" and accept \"{}\": {}",
                short(self.ctx.method()),
                short(self.ctx.sec_fetch_dest().unwrap_or("")),
                short(self.ctx.accept().unwrap_or("")),
                if eligible {
                    "eligible"
                } else {
                    "not eligible (only GET document or iframe requests are): signed out"
                }
            )
        });
        if !eligible {
            return self.signed_out_session(reason, message);
        }
        let mut headers = match custom {
            Some(h) => h,
            None => match self.handshake_location(&reason) {
                Some(url) => location_headers(&url),
                None => HeaderMap::new(),
            },
        };
        if headers.contains_key(LOCATION) {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        let counter = self.ctx.redirect_loop_counter();
        // Decision 2: `>= 3`, not `== 3`.
        if counter >= 3 {
            let cause = self.loop_cause(&reason);
            self.note("§2.5", || {
                format!("redirect loop counter {counter} >= 3: the loop guard trips, signed out. Most likely cause: {cause}")
            });
            if self
                .options
                .diagnostics()
                .should_warn(Condition::HandshakeLoop)
            {
                if reason == Reason::Auth(Ar::SatelliteCookieNeedsSyncing) {
                    tracing::warn!(target: "clerk_auth", %reason, %cause, "Clerk: refreshing the session token resulted in an infinite redirect loop. This usually means that your satellite application's Clerk configuration (domain, proxy URL or sign-in URL) does not match the primary's.");
                } else {
                    tracing::warn!(target: "clerk_auth", %reason, %cause, "Clerk: refreshing the session token resulted in an infinite redirect loop. This usually means that your Clerk instance keys do not match - make sure to copy the correct publishable and secret keys from the Clerk dashboard.");
                }
            }
            return self.signed_out_session(reason, message);
        }
        self.note("§2.5", || {
            format!(
                "redirect loop counter {counter} < 3: handshake, the counter cookie becomes {}",
                counter.saturating_add(1)
            )
        });
        if let Some(v) = header_value(&handshake::redirect_count_cookie(counter.saturating_add(1)))
        {
            headers.append(SET_COOKIE, v);
        }
        RequestState::handshake(reason, message, headers)
    }

    /// The handshake-loop post-mortem: what the evidence of this request points to.
    fn loop_cause(&self, reason: &Reason) -> crate::diagnostics::LoopCause {
        // The session cookie read (suffixed or not), and the unsuffixed one.
        let issuers: Vec<String> = [
            self.ctx.session_token_in_cookie(),
            self.ctx.cookie(crate::request::cookie_names::SESSION),
        ]
        .into_iter()
        .flatten()
        .filter_map(|t| self.ctx.decode(t).ok())
        .filter_map(|jwt| jwt.claim_str("iss").map(str::to_owned))
        .collect();
        crate::diagnostics::loop_cause(
            reason,
            self.skew.get(),
            self.options.clock_skew(),
            &issuers,
            self.options.original_frontend_api().unwrap_or(""),
        )
    }

    fn handshake_location(&self, reason: &Reason) -> Option<String> {
        let ctx = &self.ctx;
        let reason = reason.as_str();
        let session_token = ctx.session_token_in_cookie().or_else(|| ctx.header_token());
        let dev_browser = if self.options.is_development() {
            ctx.dev_browser_token()
        } else {
            None
        };
        let frontend_api = ctx.frontend_api();
        let target = ctx.organization_target();
        HandshakeUrl {
            frontend_api,
            clerk_url: ctx.clerk_url(),
            suffixed_cookies: ctx.uses_suffixed_cookies(),
            reason: &reason,
            session_token,
            dev_browser_token: dev_browser,
            organization_target: target.as_ref(),
        }
        .build()
    }

    // ---- §2.7 handshake resolution ---------------------------------------------------------

    fn resolve_handshake(&self) -> Flow<Result<RequestState, HandshakeFailure>> {
        let ctx = &self.ctx;
        let mut headers = HeaderMap::new();
        headers.insert(
            "access-control-allow-origin",
            HeaderValue::from_static("null"),
        );
        headers.insert(
            "access-control-allow-credentials",
            HeaderValue::from_static("true"),
        );

        let directives: Vec<String> = if let Some(nonce) = ctx.handshake_nonce() {
            // Decision 13: within the instance's Backend API budget; a refused or over-budget
            // nonce gives no directives, as one that could not be resolved.
            match self.options.backend_api() {
                Some(api) => match self.options.budget().handshake_payload(
                    api.as_ref(),
                    nonce,
                    self.options.diagnostics(),
                    self.may_block(),
                ) {
                    Some(directives) => directives,
                    None => return Err(Interrupt::WouldBlock),
                },
                None => {
                    tracing::warn!(target: "clerk_auth", "Clerk: no Backend API client to resolve the handshake nonce");
                    Vec::new()
                }
            }
        } else if let Some(token) = ctx.handshake_token() {
            let verified = self
                .options
                .verifier()
                .verify_handshake_token_with(token, self.may_block())
                .ok_or(Interrupt::WouldBlock)?;
            match verified {
                Ok(jwt) => jwt
                    .claims()
                    .get("handshake")
                    .and_then(serde_json::Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                Err(err) => return Ok(Err(HandshakeFailure::Verification(err))),
            }
        } else {
            Vec::new()
        };

        for d in &directives {
            if let Some(v) = header_value(d) {
                headers.append(SET_COOKIE, v);
            }
        }
        let session_token =
            handshake::session_token_from_directives(&directives).unwrap_or_default();

        if self.options.is_development() {
            let clean = handshake::without_query_params(
                ctx.clerk_url(),
                &[
                    "__clerk_handshake",
                    "__clerk_help",
                    "__clerk_db_jwt",
                    "__clerk_handshake_nonce",
                ],
            );
            if let Some(v) = header_value(clean.as_str()) {
                headers.insert(LOCATION, v);
            }
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }

        if session_token.is_empty() {
            return Ok(Ok(RequestState::signed_out(
                Some(TokenType::SessionToken),
                Reason::Auth(Ar::SessionTokenMissing),
                String::new(),
                Auth::SignedOutSession { pending: false },
                headers,
            )));
        }
        // Decision 4: the same type checks as a token from a cookie or the header.
        if self
            .ctx
            .decode(&session_token)
            .is_ok_and(|jwt| is_not_a_session_token(&jwt))
        {
            self.note("§2.7", || {
                "the handshake's session token is not a session token (machine JWT or non-session category): not applied".to_owned()
            });
            return Ok(Err(HandshakeFailure::NotASessionToken));
        }
        match self.verify(&session_token)? {
            Ok(verified) => Ok(Ok(self.signed_in_session(verified, headers))),
            Err(err)
                if self.options.is_development()
                    && matches!(
                        err.reason,
                        TvReason::TokenExpired
                            | TvReason::TokenNotActiveYet
                            | TvReason::TokenIatInTheFuture
                    ) =>
            {
                self.note("§2.7", || {
                    "development: retrying the handshake session token with a 24 h clock tolerance"
                        .to_owned()
                });
                tracing::warn!(target: "clerk_auth", reason = %err.reason, "Clerk: clock skew detected while verifying the handshake session token; retrying with a 24 h tolerance. Make sure your system clock is in sync.");
                let retried = self
                    .options
                    .verifier()
                    .verify_token_with(
                        &session_token,
                        Duration::from_secs(86_400),
                        self.may_block(),
                    )
                    .ok_or(Interrupt::WouldBlock)?;
                match retried {
                    Ok(jwt) => Ok(Ok(
                        self.signed_in_session(Verified { jwt, entry: None }, headers)
                    )),
                    Err(err) => Ok(Err(HandshakeFailure::Other(err.reason))),
                }
            }
            Err(err) => Ok(Err(HandshakeFailure::Other(err.reason))),
        }
    }

    // ---- §2.8 errors and refresh -----------------------------------------------------------

    fn handle_session_token_error(
        &self,
        err: TokenVerificationError,
        carrier: TokenCarrier,
    ) -> Flow<RequestState> {
        let refresh_error = if err.reason == TvReason::TokenExpired
            && self.ctx.refresh_token_in_cookie().is_some()
            && self.ctx.method() == "GET"
        {
            match self.refresh()? {
                Ok(state) => return Ok(state),
                Err(e) => Some(e),
            }
        } else if self.ctx.method() != "GET" {
            Some(RefreshError::NonEligibleNonGet)
        } else if self.ctx.refresh_token_in_cookie().is_none() {
            Some(RefreshError::NonEligibleNoRefreshCookie)
        } else {
            None
        };
        self.note("§2.8", || match (&refresh_error, err.reason) {
            (_, r) if r != TvReason::TokenExpired => format!("{r}: no refresh for this failure"),
            (Some(e), _) => format!("expired token: refresh {}", short(e.as_str())),
            (None, _) => "expired token: refresh not attempted".to_owned(),
        });
        let message = err.full_message(carrier);
        let reason = match err.reason {
            TvReason::TokenExpired => Reason::SessionTokenExpired(
                refresh_error.unwrap_or(RefreshError::UnexpectedSdkError),
            ),
            TvReason::TokenNotActiveYet => Reason::Auth(Ar::SessionTokenNbf),
            TvReason::TokenIatInTheFuture => Reason::Auth(Ar::SessionTokenIatInTheFuture),
            other => return Ok(self.signed_out_session(Reason::Token(other), message)),
        };
        Ok(self.maybe_handshake(reason, message, None))
    }

    fn refresh(&self) -> Flow<Result<RequestState, RefreshError>> {
        let ctx = &self.ctx;
        let Some(api) = self.options.backend_api() else {
            return Ok(Err(RefreshError::MissingApiClient));
        };
        let Some(expired) = ctx.session_token_in_cookie().or_else(|| ctx.header_token()) else {
            return Ok(Err(RefreshError::MissingSessionToken));
        };
        let Some(refresh_token) = ctx.refresh_token_in_cookie() else {
            return Ok(Err(RefreshError::MissingRefreshToken));
        };
        let Ok(decoded) = Jwt::decode(expired) else {
            return Ok(Err(RefreshError::ExpiredSessionTokenDecodeFailed));
        };
        let Some(sid) = decoded.claim_str("sid") else {
            return Ok(Err(RefreshError::ExpiredSessionTokenMissingSidClaim));
        };
        if self.mode == Mode::NonBlocking {
            return Err(Interrupt::WouldBlock);
        }
        self.note("§2.8", || {
            "expired token with a refresh cookie on a GET: refreshing through the Backend API"
                .to_owned()
        });
        let request = RefreshRequest {
            format: "cookie",
            expired_token: expired.to_owned(),
            refresh_token: refresh_token.to_owned(),
            request_origin: ctx.clerk_url().origin().ascii_serialization(),
            request_headers: ctx.all_headers(),
            suffixed_cookies: ctx.uses_suffixed_cookies(),
        };
        let cookies = match api.refresh_session(sid, &request) {
            Ok(c) => c,
            Err(crate::bapi::BapiError::Network(_)) => return Ok(Err(RefreshError::FetchError)),
            Err(crate::bapi::BapiError::Status {
                code: Some(code), ..
            }) => {
                return Ok(Err(if code == "unexpected_error" {
                    RefreshError::FetchError
                } else {
                    // The code reaches the reason header and the logs: bounded and inert.
                    RefreshError::Bapi(crate::text::inert(&code).into_owned())
                }));
            }
            Err(_) => return Ok(Err(RefreshError::UnexpectedBapiError)),
        };
        if cookies.is_empty() {
            return Ok(Err(RefreshError::UnexpectedSdkError));
        }
        let mut headers = HeaderMap::new();
        for c in &cookies {
            if let Some(v) = header_value(c) {
                headers.append(SET_COOKIE, v);
            }
        }
        let Some(token) =
            handshake::session_token_from_directives(&cookies).filter(|t| !t.is_empty())
        else {
            return Ok(Err(RefreshError::InvalidSessionToken));
        };
        // Decision 4: the same type checks as a token from a cookie or the header.
        if self
            .ctx
            .decode(&token)
            .is_ok_and(|jwt| is_not_a_session_token(&jwt))
        {
            self.note("§2.8", || {
                "the refreshed token is not a session token (machine JWT or non-session category)"
                    .to_owned()
            });
            return Ok(Err(RefreshError::InvalidSessionToken));
        }
        match self.verify(&token)? {
            Ok(verified) => Ok(Ok(self.signed_in_session(verified, headers))),
            Err(_) => Ok(Err(RefreshError::InvalidSessionToken)),
        }
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
            .ok_or(Interrupt::WouldBlock)?;
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

enum HandshakeFailure {
    /// The handshake JWT itself failed (a `TokenVerificationError` in Clerk's terms).
    Verification(TokenVerificationError),
    /// The session token it carried failed.
    Other(TvReason),
    /// The session token it carried is a machine JWT or of a non-session category (decision 4).
    NotASessionToken,
}

impl std::fmt::Display for HandshakeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Verification(e) => write!(f, "handshake token: {}", e.reason),
            Self::Other(r) => write!(f, "session token from the handshake: {r}"),
            Self::NotASessionToken => {
                f.write_str("session token from the handshake: not a session token")
            }
        }
    }
}

/// A handshake asked for by a signed-in request remembers that state: answered as an API
/// ([`RequestState::into_api`]), the request stays signed in instead of being redirected.
fn keep_signed_in_without_redirect(
    mut state: RequestState,
    signed_in: &RequestState,
) -> RequestState {
    if state.status() == crate::state::AuthStatus::Handshake {
        state.without_redirect = Some(Box::new(signed_in.clone()));
    }
    state
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
