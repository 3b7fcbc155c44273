//! Operational self-defence, per configured instance: warnings for recurring conditions logged
//! once (or at most once a minute) instead of once per request, the clock-skew detector, the
//! handshake-loop post-mortem, and the metrics (through the [`metrics`] facade; see
//! [`telemetry`](crate::telemetry) for the names).
//!
//! Nothing here changes a decision: it only adds information beside it.

use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::TokenVerificationErrorReason as TvReason;
use crate::state::{AuthErrorReason, Reason, RequestState};
use crate::telemetry;
use crate::token::Jwt;

/// A condition that recurs request after request while it lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Condition {
    /// Session tokens from cookies without `azp` (logged once).
    MissingAzp,
    /// The keys cannot be obtained (a key-set outage, a refused secret key).
    KeySetOutage,
    /// Time checks fail and the clocks disagree.
    ClockSkew,
    /// The handshake loop guard tripped.
    HandshakeLoop,
    /// The organization-activation loop guard tripped.
    OrganizationLoop,
    /// A handshake could not be resolved.
    HandshakeUnresolved,
    /// Too many decisions wait on the blocking pool.
    DeferredDecisionsFull,
    /// A call for a client-chosen value (a handshake nonce, an opaque machine token) was over the
    /// instance's Backend API budget (decision 13).
    BackendApiBudget,
    /// A request could not be decided (`500`): for example a development handshake token that
    /// does not verify, which any client can send.
    Undecidable,
}

const CONDITIONS: usize = 9;

impl Condition {
    const fn index(self) -> usize {
        match self {
            Self::MissingAzp => 0,
            Self::KeySetOutage => 1,
            Self::ClockSkew => 2,
            Self::HandshakeLoop => 3,
            Self::OrganizationLoop => 4,
            Self::HandshakeUnresolved => 5,
            Self::DeferredDecisionsFull => 6,
            Self::BackendApiBudget => 7,
            Self::Undecidable => 8,
        }
    }

    /// The `condition` label of [`telemetry::WARNINGS`].
    pub(crate) const fn label(self) -> &'static str {
        match self {
            Self::MissingAzp => "missing-azp",
            Self::KeySetOutage => "key-set-outage",
            Self::ClockSkew => "clock-skew",
            Self::HandshakeLoop => "handshake-loop",
            Self::OrganizationLoop => "organization-activation-loop",
            Self::HandshakeUnresolved => "handshake-unresolved",
            Self::DeferredDecisionsFull => "deferred-decisions-full",
            Self::BackendApiBudget => "backend-api-budget",
            Self::Undecidable => "undecidable-request",
        }
    }

    /// How often the warning may be logged: `None` = once per instance.
    const fn interval(self) -> Option<Duration> {
        match self {
            Self::MissingAzp => None,
            _ => Some(Duration::from_secs(60)),
        }
    }
}

/// The per-instance state of the diagnostics (held by [`Options`](crate::Options)).
#[derive(Debug)]
pub(crate) struct Diagnostics {
    start: Instant,
    /// Per condition: milliseconds since `start` of the last logged warning, plus one; 0 = never.
    last_warned: [AtomicU64; CONDITIONS],
    /// The clock offset seen in the Backend API's `Date` headers (shared with its clients).
    backend_api_clock: std::sync::Arc<ClockOffset>,
}

impl Diagnostics {
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            last_warned: Default::default(),
            backend_api_clock: std::sync::Arc::new(ClockOffset::new()),
        }
    }

    /// The offset record the Backend API clients of this instance write to.
    pub(crate) fn backend_api_clock(&self) -> &std::sync::Arc<ClockOffset> {
        &self.backend_api_clock
    }

    /// Counts one occurrence of `condition` ([`telemetry::WARNINGS`]) and says whether to log
    /// it now: the first time, then at most once per interval (never again for once-only
    /// conditions).
    pub(crate) fn should_warn(&self, condition: Condition) -> bool {
        metrics::counter!(telemetry::WARNINGS, "condition" => condition.label()).increment(1);
        let slot = &self.last_warned[condition.index()];
        let now = u64::try_from(self.start.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let last = slot.load(Ordering::Relaxed);
        let due = match (last, condition.interval()) {
            (0, _) => true,
            (_, None) => false,
            (last, Some(every)) => {
                now.saturating_sub(last) >= u64::try_from(every.as_millis()).unwrap_or(u64::MAX)
            }
        };
        // Only one thread wins a given slot update, so one warning per interval.
        due && slot
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }
}

/// The offset between a remote clock (the `Date` header of Backend API answers) and this
/// machine's system clock, in milliseconds; positive when the remote clock is ahead.
#[derive(Debug)]
pub(crate) struct ClockOffset {
    /// `i64::MIN` until the first observation.
    millis: AtomicI64,
}

impl ClockOffset {
    pub(crate) const fn new() -> Self {
        Self {
            millis: AtomicI64::new(i64::MIN),
        }
    }

    /// Records a `Date` header value received now. `Date` has a resolution of one second and is
    /// truncated, so the remote clock was within `[date, date + 1 s)`: the midpoint is recorded.
    pub(crate) fn observe(&self, date: SystemTime) {
        let remote = unix_millis(date).saturating_add(500);
        let local = unix_millis(SystemTime::now());
        self.millis.store(
            remote.saturating_sub(local).max(i64::MIN + 1),
            Ordering::Relaxed,
        );
        metrics::gauge!(telemetry::BACKEND_API_CLOCK_OFFSET)
            .set(remote.saturating_sub(local) as f64 / 1000.0);
    }

    /// The last observed offset in whole seconds (rounded), if any.
    pub(crate) fn seconds(&self) -> Option<i64> {
        match self.millis.load(Ordering::Relaxed) {
            i64::MIN => None,
            ms => Some(round_div(ms, 1000)),
        }
    }
}

fn unix_millis(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_millis()).map_or(i64::MIN + 1, |ms| -ms),
    }
}

fn round_div(value: i64, by: i64) -> i64 {
    let half = by / 2;
    if value >= 0 {
        value.saturating_add(half) / by
    } else {
        value.saturating_sub(half) / by
    }
}

/// What a failed time check says about the clocks, from evidence an old token cannot produce.
///
/// An expired token is not evidence of skew: a token minted 102 s ago and expired 42 s ago is an
/// ordinary stale token (an idle tab, a request replayed late), whatever the clocks. Skew is
/// estimated only from a token that is not valid *yet* (`nbf` or `iat` in the future beyond the
/// tolerance) and from the Backend API's `Date` header; an expiry is reported as such.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SkewEstimate {
    /// `claim - now` of a token that is not valid yet, with the claim's name (`iat` when it is
    /// in the future: exact for a token used the moment it was minted; else `nbf`).
    pub(crate) from_token: Option<(&'static str, i64)>,
    /// The offset of the Backend API's `Date` header at its last answer.
    pub(crate) from_backend_api: Option<i64>,
    /// For an expired token, how long ago it expired (`now - exp`): not evidence of skew.
    pub(crate) expired_ago: Option<i64>,
}

impl SkewEstimate {
    /// The estimate for a token that failed a time check with `reason`, or `None` when the
    /// failure is not a time check.
    pub(crate) fn for_failure(
        jwt: &Jwt,
        reason: TvReason,
        now: SystemTime,
        backend_api: Option<i64>,
    ) -> Option<Self> {
        let now_s = unix_millis(now) / 1000;
        let claim = |name| {
            jwt.claim(name)
                .and_then(serde_json::Value::as_f64)
                .filter(|v| v.is_finite())
                .map(|v| (v.trunc() as i64).saturating_sub(now_s))
        };
        let (from_token, expired_ago) = match reason {
            TvReason::TokenNotActiveYet | TvReason::TokenIatInTheFuture => {
                let future = |name| claim(name).filter(|d| *d > 0).map(|d| (name, d));
                (future("iat").or_else(|| future("nbf")), None)
            }
            TvReason::TokenExpired => (None, Some(claim("exp")?.saturating_neg())),
            _ => return None,
        };
        Some(Self {
            from_token,
            from_backend_api: backend_api,
            expired_ago,
        })
    }

    /// The best single figure of the clock offset: the Backend API's clock when known
    /// (independent of the token's age), else the not-yet-valid token's.
    pub(crate) fn seconds(&self) -> Option<i64> {
        self.from_backend_api
            .or(self.from_token.map(|(_, seconds)| seconds))
    }

    /// Whether the clocks disagree by more than `tolerance`.
    pub(crate) fn is_significant(&self, tolerance: Duration) -> bool {
        // `unsigned_abs`: a claim of `-1e308` makes the estimate `i64::MIN`, whose `abs()`
        // overflows.
        self.seconds()
            .is_some_and(|s| s.unsigned_abs() > tolerance.as_secs())
    }
}

impl fmt::Display for SkewEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(ago) = self.expired_ago {
            write!(f, "the token expired {ago} s ago")?;
            if self.seconds().is_none() {
                return f.write_str(
                    ": a stale token (an idle tab, a late retry), not evidence of clock skew",
                );
            }
            f.write_str("; ")?;
        }
        match self.seconds() {
            Some(s) if s > 0 => write!(
                f,
                "the issuer's clock is about {s} s ahead of this server's"
            )?,
            Some(s) if s < 0 => write!(
                f,
                "the issuer's clock is about {} s behind this server's",
                s.unsigned_abs()
            )?,
            Some(_) => f.write_str("the clocks agree to the second")?,
            None => return f.write_str("no clock evidence"),
        }
        let mut sources = Vec::new();
        if let Some((claim, s)) = self.from_token {
            sources.push(format!("token {claim} - now = {s:+} s"));
        }
        if let Some(s) = self.from_backend_api {
            sources.push(format!("Backend API Date - now = {s:+} s"));
        }
        write!(f, " ({})", sources.join("; "))
    }
}

/// What a tripped handshake loop guard most likely comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LoopCause {
    /// The satellite's domain, proxy URL or sign-in URL do not match the primary's.
    SatelliteConfiguration,
    /// The clocks disagree: tokens fail their time checks on every round.
    ClockSkew(SkewEstimate),
    /// The session cookie was issued by another instance than the publishable key's.
    InstanceMismatch {
        /// The cookie token's issuer host (unverified: bounded and escaped, decision 15).
        cookie_issuer: String,
        /// The publishable key's Frontend API.
        expected: String,
    },
    /// Clerk's own diagnosis, without more specific evidence in the request.
    Keys,
}

impl fmt::Display for LoopCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SatelliteConfiguration => f.write_str(
                "satellite configuration: CLERK_DOMAIN, CLERK_PROXY_URL or CLERK_SIGN_IN_URL do not match the primary application's",
            ),
            Self::ClockSkew(skew) => write!(
                f,
                "clock skew: {skew}; session tokens fail their time checks on every round. Sync this server's clock (NTP)"
            ),
            Self::InstanceMismatch {
                cookie_issuer,
                expected,
            } => write!(
                f,
                "keys of another instance: the session cookie was issued by {cookie_issuer}, but CLERK_PUBLISHABLE_KEY is for {expected}. Copy the publishable and secret keys of the same instance from the Clerk dashboard"
            ),
            Self::Keys => f.write_str(
                "instance keys: the publishable and secret keys probably do not match the instance the browser signs in to (no more specific evidence in this request)",
            ),
        }
    }
}

/// Picks the most likely cause of a handshake loop from the evidence of the request, strongest
/// first: the satellite reason, a session cookie of another instance, then clock skew.
pub(crate) fn loop_cause(
    reason: &Reason,
    skew: Option<SkewEstimate>,
    tolerance: Duration,
    cookie_issuers: &[String],
    frontend_api: &str,
) -> LoopCause {
    if *reason == Reason::Auth(AuthErrorReason::SatelliteCookieNeedsSyncing) {
        return LoopCause::SatelliteConfiguration;
    }
    for issuer in cookie_issuers {
        let host = issuer
            .trim_start_matches("https://")
            .trim_start_matches("http://");
        if !frontend_api.is_empty() && host != frontend_api {
            return LoopCause::InstanceMismatch {
                cookie_issuer: crate::text::inert(host).into_owned(),
                expected: frontend_api.to_owned(),
            };
        }
    }
    if let Some(skew) = skew.filter(|s| s.is_significant(tolerance)) {
        return LoopCause::ClockSkew(skew);
    }
    LoopCause::Keys
}

/// Counts a decision ([`telemetry::REQUESTS`]).
pub(crate) fn record_decision(state: &RequestState) {
    let reason = state
        .reason()
        .map_or(std::borrow::Cow::Borrowed("none"), Reason::as_str);
    let token_type = state.token_type().map_or("none", |t| t.as_str());
    metrics::counter!(
        telemetry::REQUESTS,
        "status" => state.status().as_str(),
        "reason" => reason,
        "token_type" => token_type
    )
    .increment(1);
}

/// Counts a verified-token cache lookup ([`telemetry::VERIFIED_TOKEN_CACHE`]).
pub(crate) fn record_cache_lookup(hit: bool) {
    // Literal labels: the macro builds the key without allocating.
    if hit {
        metrics::counter!(telemetry::VERIFIED_TOKEN_CACHE, "result" => "hit").increment(1);
    } else {
        metrics::counter!(telemetry::VERIFIED_TOKEN_CACHE, "result" => "miss").increment(1);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn once_only_conditions_warn_once_and_others_once_per_interval() {
        let d = Diagnostics::new();
        assert!(d.should_warn(Condition::MissingAzp));
        assert!(!d.should_warn(Condition::MissingAzp));
        assert!(d.should_warn(Condition::KeySetOutage));
        assert!(!d.should_warn(Condition::KeySetOutage));
        // Another condition has its own slot.
        assert!(d.should_warn(Condition::ClockSkew));
        // An instance of its own starts afresh.
        assert!(Diagnostics::new().should_warn(Condition::MissingAzp));
    }

    #[test]
    fn clock_offset_rounds_to_the_midpoint_of_the_date_second() {
        let c = ClockOffset::new();
        assert_eq!(c.seconds(), None);
        c.observe(SystemTime::now() + Duration::from_secs(120));
        let s = c.seconds().unwrap();
        assert!((119..=121).contains(&s), "{s}");
        c.observe(SystemTime::now() - Duration::from_secs(30));
        let s = c.seconds().unwrap();
        assert!((-31..=-29).contains(&s), "{s}");
    }

    #[test]
    fn round_div_is_symmetric() {
        assert_eq!(round_div(1499, 1000), 1);
        assert_eq!(round_div(1500, 1000), 2);
        assert_eq!(round_div(-1500, 1000), -2);
        assert_eq!(round_div(-1499, 1000), -1);
    }

    #[test]
    fn loop_causes_follow_the_evidence() {
        let tolerance = Duration::from_secs(5);
        let skew = SkewEstimate {
            from_token: None,
            from_backend_api: Some(-90),
            expired_ago: None,
        };
        let r = Reason::Auth(AuthErrorReason::SessionTokenIatBeforeClientUat);
        assert_eq!(
            loop_cause(&r, Some(skew), tolerance, &[], "clerk.example.com"),
            LoopCause::ClockSkew(skew)
        );
        assert_eq!(
            loop_cause(
                &r,
                None,
                tolerance,
                &["https://clerk.other.com".to_owned()],
                "clerk.example.com"
            ),
            LoopCause::InstanceMismatch {
                cookie_issuer: "clerk.other.com".into(),
                expected: "clerk.example.com".into()
            }
        );
        assert_eq!(
            loop_cause(
                &r,
                None,
                tolerance,
                &["https://clerk.example.com".to_owned()],
                "clerk.example.com"
            ),
            LoopCause::Keys
        );
        let small = SkewEstimate {
            from_token: Some(("iat", 2)),
            from_backend_api: None,
            expired_ago: None,
        };
        assert_eq!(
            loop_cause(&r, Some(small), tolerance, &[], "clerk.example.com"),
            LoopCause::Keys
        );
        // A stale token is no evidence of skew: the loop is not blamed on the clock.
        let stale = SkewEstimate {
            from_token: None,
            from_backend_api: None,
            expired_ago: Some(42),
        };
        assert_eq!(
            loop_cause(&r, Some(stale), tolerance, &[], "clerk.example.com"),
            LoopCause::Keys
        );
        // An unverified issuer is shown bounded and escaped.
        let hostile = format!(
            "https://evil.com\r\nERROR clerk_auth: forged{}",
            "x".repeat(9_000)
        );
        let LoopCause::InstanceMismatch { cookie_issuer, .. } =
            loop_cause(&r, None, tolerance, &[hostile], "clerk.example.com")
        else {
            panic!("an instance mismatch expected");
        };
        assert!(cookie_issuer.len() <= crate::text::MAX_BYTES);
        assert!(
            cookie_issuer.starts_with("evil.com\\r\\nERROR"),
            "{cookie_issuer}"
        );
        assert!(!cookie_issuer.contains(['\r', '\n']));
        let sat = Reason::Auth(AuthErrorReason::SatelliteCookieNeedsSyncing);
        assert_eq!(
            loop_cause(&sat, Some(skew), tolerance, &[], ""),
            LoopCause::SatelliteConfiguration
        );
    }

    #[test]
    fn skew_display_names_direction_and_sources() {
        let s = SkewEstimate {
            from_token: Some(("iat", 120)),
            from_backend_api: Some(119),
            expired_ago: None,
        };
        assert_eq!(
            s.to_string(),
            "the issuer's clock is about 119 s ahead of this server's (token iat - now = +120 s; Backend API Date - now = +119 s)"
        );
        let s = SkewEstimate {
            from_token: None,
            from_backend_api: Some(-90),
            expired_ago: Some(30),
        };
        assert_eq!(
            s.to_string(),
            "the token expired 30 s ago; the issuer's clock is about 90 s behind this server's (Backend API Date - now = -90 s)"
        );
    }

    fn jwt(claims: serde_json::Value) -> Jwt {
        use base64::Engine as _;
        let b64 = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let token = format!(
            "{}.{}.c2ln",
            b64(serde_json::json!({"alg": "RS256"})),
            b64(claims)
        );
        Jwt::decode(&token).unwrap()
    }

    const NOW: u64 = 1_700_000_000;

    fn estimate(
        claims: serde_json::Value,
        reason: TvReason,
        api: Option<i64>,
    ) -> Option<SkewEstimate> {
        let now = UNIX_EPOCH + Duration::from_secs(NOW);
        SkewEstimate::for_failure(&jwt(claims), reason, now, api)
    }

    #[test]
    fn a_stale_token_is_not_evidence_of_skew() {
        // Minted 102 s ago, expired 42 s ago: an idle tab, not a clock 102 s behind.
        let now = NOW as i64;
        let s = estimate(
            serde_json::json!({"iat": now - 102, "nbf": now - 112, "exp": now - 42}),
            TvReason::TokenExpired,
            None,
        )
        .unwrap();
        assert_eq!(s.seconds(), None);
        assert!(!s.is_significant(Duration::from_secs(5)));
        assert_eq!(
            s.to_string(),
            "the token expired 42 s ago: a stale token (an idle tab, a late retry), not evidence of clock skew"
        );
        // The Backend API's clock is evidence an old token cannot fake.
        let s = estimate(
            serde_json::json!({"iat": now - 102, "exp": now - 42}),
            TvReason::TokenExpired,
            Some(-100),
        )
        .unwrap();
        assert_eq!(s.seconds(), Some(-100));
        assert!(s.is_significant(Duration::from_secs(5)));
    }

    #[test]
    fn a_token_from_the_future_is_evidence_of_skew() {
        let now = NOW as i64;
        let s = estimate(
            serde_json::json!({"iat": now + 120, "nbf": now + 110, "exp": now + 180}),
            TvReason::TokenNotActiveYet,
            None,
        )
        .unwrap();
        assert_eq!(s.from_token, Some(("iat", 120)));
        assert!(s.is_significant(Duration::from_secs(5)));
        // Only nbf in the future: nbf is the evidence.
        let s = estimate(
            serde_json::json!({"iat": now - 10, "nbf": now + 60, "exp": now + 120}),
            TvReason::TokenNotActiveYet,
            None,
        )
        .unwrap();
        assert_eq!(s.from_token, Some(("nbf", 60)));
        assert!(s.to_string().contains("(token nbf - now = +60 s)"), "{s}");
        // Other failures say nothing about clocks; absurd claims never overflow.
        assert_eq!(
            estimate(
                serde_json::json!({"exp": now}),
                TvReason::TokenInvalidSignature,
                None
            ),
            None
        );
        let s = estimate(
            serde_json::json!({"exp": -1e300, "iat": 1e300}),
            TvReason::TokenExpired,
            None,
        )
        .unwrap();
        assert_eq!(s.expired_ago, Some(i64::MAX));
    }
}
