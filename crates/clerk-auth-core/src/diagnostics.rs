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
    /// A request could not be decided (`500`): for example a development handshake token that
    /// does not verify, which any client can send.
    Undecidable,
}

const CONDITIONS: usize = 7;

impl Condition {
    const fn index(self) -> usize {
        match self {
            Self::MissingAzp => 0,
            Self::KeySetOutage => 1,
            Self::ClockSkew => 2,
            Self::HandshakeLoop => 3,
            Self::OrganizationLoop => 4,
            Self::HandshakeUnresolved => 5,
            Self::Undecidable => 6,
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

/// How far the token issuer's clock seems to be from this server's (positive: the issuer is
/// ahead), from the evidence at hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SkewEstimate {
    /// `iat - now` of the failing token: exact for a token used the moment it was minted.
    pub(crate) from_token: Option<i64>,
    /// The offset of the Backend API's `Date` header at its last answer.
    pub(crate) from_backend_api: Option<i64>,
}

/// A session token's lifetime at Clerk (60 s): an expiry older than this plus the skew is not
/// taken as evidence of skew.
const RECENT_EXPIRY: i64 = 60;

impl SkewEstimate {
    /// The estimate for a token that failed a time check with `reason`, or `None` when the
    /// failure says nothing about clocks (another reason, or an expiry long past).
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
                .map(|v| v.trunc() as i64)
        };
        let iat = claim("iat");
        let from_token = match reason {
            TvReason::TokenNotActiveYet | TvReason::TokenIatInTheFuture => iat
                .or_else(|| claim("nbf"))
                .map(|t| t.saturating_sub(now_s)),
            TvReason::TokenExpired => {
                let exp = claim("exp")?;
                if now_s.saturating_sub(exp) > RECENT_EXPIRY {
                    return None;
                }
                iat.map(|t| t.saturating_sub(now_s))
            }
            _ => return None,
        };
        Some(Self {
            from_token,
            from_backend_api: backend_api,
        })
    }

    /// The best single figure: the Backend API's clock when known (independent of the token's
    /// age), else the token's.
    pub(crate) fn seconds(&self) -> Option<i64> {
        self.from_backend_api.or(self.from_token)
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
        if let Some(s) = self.from_token {
            sources.push(format!("token iat - now = {s:+} s"));
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
        /// The cookie token's issuer host.
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
                cookie_issuer: host.to_owned(),
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
            from_token: Some(-90),
            from_backend_api: None,
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
            from_token: Some(2),
            from_backend_api: None,
        };
        assert_eq!(
            loop_cause(&r, Some(small), tolerance, &[], "clerk.example.com"),
            LoopCause::Keys
        );
        let sat = Reason::Auth(AuthErrorReason::SatelliteCookieNeedsSyncing);
        assert_eq!(
            loop_cause(&sat, Some(skew), tolerance, &[], ""),
            LoopCause::SatelliteConfiguration
        );
    }

    #[test]
    fn skew_display_names_direction_and_sources() {
        let s = SkewEstimate {
            from_token: Some(120),
            from_backend_api: Some(119),
        };
        assert_eq!(
            s.to_string(),
            "the issuer's clock is about 119 s ahead of this server's (token iat - now = +120 s; Backend API Date - now = +119 s)"
        );
        let s = SkewEstimate {
            from_token: Some(-90),
            from_backend_api: None,
        };
        assert!(s
            .to_string()
            .starts_with("the issuer's clock is about 90 s behind"));
    }
}
