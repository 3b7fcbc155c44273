//! The verification pipeline: Clerk's `verifyToken` (§3.2) and `verifyJwt` (§3.3) with their exact
//! check order and messages, the handshake-token check (§2.7), token categories (§3.8), and the
//! per-instance [`Verifier`] with its verified-token cache (decision 8).
//!
//! Messages show a token's values as Clerk's do (`JSON.stringify`), bounded and escaped
//! (decision 15), so a hostile value can neither bloat nor break the
//! `x-clerk-auth-message` header, the JSON body or a log line.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::clock::Clock;
use crate::error::{
    TokenVerificationError, TokenVerificationErrorAction, TokenVerificationErrorReason,
};
use crate::js;
use crate::text;
use crate::token::Jwt;

use super::cache::{CachedToken, VerifiedCache, DEFAULT_CAPACITY};
use super::key::SignatureFailure;
use super::{JwsAlgorithm, TokenVerifier, VerificationKey};

/// `cat` of a session token (also stamped on handshake tokens).
pub const SESSION_CATEGORY: &str = "cl_B7d4PD111AAA";
/// `cat` of a JWT-template token.
pub const TEMPLATE_CATEGORY: &str = "cl_B7d4PD222AAA";
/// `cat` of a machine-to-machine JWT.
pub const M2M_CATEGORY: &str = "cl_B7d4PD333AAA";
/// `cat` that carries no class information ("ignore").
pub const IGNORE_CATEGORY: &str = "cl_I7d4PD111III";

/// Clerk's `isNonSessionJwtCategory`: a category is present and is neither the session nor the
/// ignore category. An absent category is a session token (tokens from before the rollout).
pub fn is_non_session_category(cat: Option<&str>) -> bool {
    matches!(cat, Some(c) if c != SESSION_CATEGORY && c != IGNORE_CATEGORY)
}

/// The default clock skew, 5 seconds (Clerk's `DEFAULT_CLOCK_SKEW_IN_MS`).
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(5);

/// What [`verify_jwt`] checks besides the signature (§1.1, §3.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Allowed `azp` values. Empty (the default): `azp` is not checked. Non-empty: `azp` must be
    /// present and equal one entry exactly.
    pub authorized_parties: Vec<String>,
    /// Accepted `aud` values, checked only when both this list and the token's `aud` are non-empty
    /// (§3.3 step 5). Defaults to empty.
    pub audience: Vec<String>,
    /// Tolerance for `exp`, `nbf` and `iat`. Defaults to 5 s.
    pub clock_skew: Duration,
    /// Allowed header `typ` values. `None` (the default): `typ` may be absent or `JWT`.
    pub header_type: Option<Vec<String>>,
    /// Opt-in issuer pin (decision 6): when set, `iss` must equal it exactly (for example
    /// `https://clerk.example.com`). Defaults to `None` (no issuer check, as Clerk's SDK).
    pub issuer: Option<String>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            authorized_parties: Vec::new(),
            audience: Vec::new(),
            clock_skew: DEFAULT_CLOCK_SKEW,
            header_type: None,
            issuer: None,
        }
    }
}

const SUPPORTED_ALGORITHMS: &str = "RS256,RS384,RS512";

fn error(
    reason: TokenVerificationErrorReason,
    message: impl Into<std::borrow::Cow<'static, str>>,
) -> TokenVerificationError {
    TokenVerificationError::new(reason, message)
}

fn ensure_clerk_jwt(
    reason: TokenVerificationErrorReason,
    message: impl Into<std::borrow::Cow<'static, str>>,
) -> TokenVerificationError {
    TokenVerificationError::new(reason, message)
        .with_action(TokenVerificationErrorAction::EnsureClerkJwt)
}

/// `assertHeaderType`.
fn check_header_type(jwt: &Jwt, allowed: Option<&[String]>) -> Result<(), TokenVerificationError> {
    let typ = jwt.header_param("typ");
    let ok = match (typ, allowed) {
        (None, None) => true,
        (Some(Value::String(t)), None) => t == "JWT",
        (Some(Value::String(t)), Some(list)) => list.iter().any(|a| a == t),
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let expected = match allowed {
        None => "JWT".to_owned(),
        Some(list) => list.join(", "),
    };
    Err(ensure_clerk_jwt(
        TokenVerificationErrorReason::TokenInvalid,
        format!(
            "Invalid JWT type {}. Expected \"{expected}\".",
            text::json(typ)
        ),
    ))
}

/// `assertHeaderAlgorithm`.
fn check_header_algorithm(jwt: &Jwt) -> Result<(), TokenVerificationError> {
    let alg = jwt.header_param("alg");
    if alg
        .and_then(Value::as_str)
        .and_then(JwsAlgorithm::from_name)
        .is_some()
    {
        return Ok(());
    }
    Err(ensure_clerk_jwt(
        TokenVerificationErrorReason::TokenInvalidAlgorithm,
        format!(
            "Invalid JWT algorithm {}. Supported: {SUPPORTED_ALGORITHMS}.",
            text::json(alg)
        ),
    ))
}

/// `assertSubClaim`.
fn check_sub(jwt: &Jwt) -> Result<(), TokenVerificationError> {
    match jwt.claim("sub") {
        Some(Value::String(_)) => Ok(()),
        sub => Err(ensure_clerk_jwt(
            TokenVerificationErrorReason::TokenVerificationFailed,
            format!(
                "Subject claim (sub) is required and must be a string. Received {}.",
                text::json(sub)
            ),
        )),
    }
}

/// `assertAudienceClaim`, with the semantics of §3.3 step 5.
fn check_audience(jwt: &Jwt, audience: &[String]) -> Result<(), TokenVerificationError> {
    if audience.iter().all(String::is_empty) {
        return Ok(());
    }
    let aud = jwt.claim("aud");
    let token_has_audience = match aud {
        None => false,
        Some(Value::Array(items)) => items.iter().any(js::truthy),
        Some(v) => js::truthy(v),
    };
    if !token_has_audience {
        return Ok(());
    }
    let configured = || {
        let list: Vec<Value> = audience
            .iter()
            .filter(|a| !a.is_empty())
            .map(|a| Value::String(a.clone()))
            .collect();
        js::stringify(Some(&Value::Array(list)))
    };
    let accepted = |s: &str| audience.iter().any(|a| !a.is_empty() && a == s);
    match aud {
        Some(Value::String(s)) if !accepted(s) => Err(ensure_clerk_jwt(
            TokenVerificationErrorReason::TokenVerificationFailed,
            format!(
                "Invalid JWT audience claim (aud) {}. Is not included in \"{}\".",
                text::json(aud),
                configured()
            ),
        )),
        Some(Value::Array(items))
            if items.iter().all(Value::is_string)
                && !items.iter().filter_map(Value::as_str).any(accepted) =>
        {
            Err(ensure_clerk_jwt(
                TokenVerificationErrorReason::TokenVerificationFailed,
                format!(
                    "Invalid JWT audience claim array (aud) {}. Is not included in \"{}\".",
                    text::json(aud),
                    configured()
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// `assertAuthorizedPartiesClaim`.
fn check_authorized_parties(
    jwt: &Jwt,
    authorized_parties: &[String],
) -> Result<(), TokenVerificationError> {
    if authorized_parties.is_empty() {
        return Ok(());
    }
    let azp = jwt.claim("azp");
    let ok = match azp {
        Some(Value::String(s)) => !s.is_empty() && authorized_parties.iter().any(|p| p == s),
        _ => false,
    };
    if ok {
        return Ok(());
    }
    Err(error(
        TokenVerificationErrorReason::TokenInvalidAuthorizedParties,
        format!(
            "Invalid JWT Authorized party claim (azp) {}. Expected \"{}\".",
            text::json(azp),
            authorized_parties.join(",")
        ),
    ))
}

/// `exp`, `nbf` and `iat` as checked, kept with a cached token so every hit re-checks them.
/// Values are JavaScript millisecond times: `trunc(seconds) * 1000`, as `Date.setUTCSeconds` does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct TimeClaims {
    exp_ms: f64,
    nbf_ms: Option<f64>,
    iat_ms: Option<f64>,
}

impl TimeClaims {
    /// Reads and type-checks the time claims (§3.3 steps 7-9, type part), in Clerk's order
    /// interleaved with the time checks, so the first failing check is the one reported.
    fn check_claims(jwt: &Jwt, now_ms: f64, skew_ms: f64) -> Result<Self, TokenVerificationError> {
        let exp_ms = match jwt.claim("exp") {
            Some(Value::Number(n)) => seconds_to_ms(n.as_f64().unwrap_or(f64::NAN)),
            exp => {
                return Err(ensure_clerk_jwt(
                    TokenVerificationErrorReason::TokenVerificationFailed,
                    format!(
                        "Invalid JWT expiry date claim (exp) {}. Expected number.",
                        text::json(exp)
                    ),
                ))
            }
        };
        check_exp(exp_ms, now_ms, skew_ms)?;
        let nbf_ms = optional_time(jwt, "nbf", "not before date claim (nbf)")?;
        if let Some(nbf_ms) = nbf_ms {
            check_nbf(nbf_ms, now_ms, skew_ms)?;
        }
        let iat_ms = optional_time(jwt, "iat", "issued at date claim (iat)")?;
        if let Some(iat_ms) = iat_ms {
            check_iat(iat_ms, now_ms, skew_ms)?;
        }
        Ok(Self {
            exp_ms,
            nbf_ms,
            iat_ms,
        })
    }

    /// The time checks again, for a cached token.
    pub(crate) fn recheck(&self, now_ms: f64, skew_ms: f64) -> Result<(), TokenVerificationError> {
        check_exp(self.exp_ms, now_ms, skew_ms)?;
        if let Some(nbf_ms) = self.nbf_ms {
            check_nbf(nbf_ms, now_ms, skew_ms)?;
        }
        if let Some(iat_ms) = self.iat_ms {
            check_iat(iat_ms, now_ms, skew_ms)?;
        }
        Ok(())
    }
}

fn optional_time(jwt: &Jwt, name: &str, what: &str) -> Result<Option<f64>, TokenVerificationError> {
    match jwt.claim(name) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(Some(seconds_to_ms(n.as_f64().unwrap_or(f64::NAN)))),
        other => Err(ensure_clerk_jwt(
            TokenVerificationErrorReason::TokenVerificationFailed,
            format!("Invalid JWT {what} {}. Expected number.", text::json(other)),
        )),
    }
}

/// `new Date(0).setUTCSeconds(s)`: whole seconds (truncated toward zero) in milliseconds.
/// Values beyond JavaScript's date range stay ordered (plain float comparison), never panic.
fn seconds_to_ms(seconds: f64) -> f64 {
    seconds.trunc() * 1000.0
}

/// `assertExpirationClaim`: expired iff `exp_ms <= now_ms - skew`.
fn check_exp(exp_ms: f64, now_ms: f64, skew_ms: f64) -> Result<(), TokenVerificationError> {
    if exp_ms <= now_ms - skew_ms {
        return Err(error(
            TokenVerificationErrorReason::TokenExpired,
            format!(
                "JWT is expired. Expiry date: {}, Current date: {}.",
                js::utc_string(exp_ms),
                js::utc_string(now_ms)
            ),
        ));
    }
    Ok(())
}

/// `assertActivationClaim`: not active iff `nbf_ms > now_ms + skew`.
fn check_nbf(nbf_ms: f64, now_ms: f64, skew_ms: f64) -> Result<(), TokenVerificationError> {
    if nbf_ms > now_ms + skew_ms {
        return Err(error(
            TokenVerificationErrorReason::TokenNotActiveYet,
            format!(
                "JWT cannot be used prior to not before date claim (nbf). Not before date: {}; Current date: {};",
                js::utc_string(nbf_ms),
                js::utc_string(now_ms)
            ),
        ));
    }
    Ok(())
}

/// `assertIssuedAtClaim`: in the future iff `iat_ms > now_ms + skew`.
fn check_iat(iat_ms: f64, now_ms: f64, skew_ms: f64) -> Result<(), TokenVerificationError> {
    if iat_ms > now_ms + skew_ms {
        return Err(error(
            TokenVerificationErrorReason::TokenIatInTheFuture,
            format!(
                "JWT issued at date claim (iat) is in the future. Issued at date: {}; Current date: {};",
                js::utc_string(iat_ms),
                js::utc_string(now_ms)
            ),
        ));
    }
    Ok(())
}

/// Opt-in issuer pin (decision 6).
fn check_issuer(jwt: &Jwt, issuer: Option<&str>) -> Result<(), TokenVerificationError> {
    let Some(expected) = issuer else {
        return Ok(());
    };
    let iss = jwt.claim("iss");
    if iss.and_then(Value::as_str) == Some(expected) {
        return Ok(());
    }
    Err(ensure_clerk_jwt(
        TokenVerificationErrorReason::TokenInvalid,
        format!(
            "Invalid JWT issuer claim (iss) {}. Expected \"{expected}\".",
            text::json(iss)
        ),
    ))
}

/// `time` as JavaScript `Date.now()` (milliseconds since the epoch, negative before it).
pub(crate) fn unix_ms(time: SystemTime) -> f64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as f64,
        Err(e) => -(e.duration().as_millis() as f64),
    }
}

fn duration_ms(d: Duration) -> f64 {
    d.as_millis() as f64
}

/// Clerk's `verifyJwt` on a decoded token, in its exact order (§3.3):
/// `typ`, `alg`, signature (with `key`), `sub`, `aud`, `azp`, `exp`, `nbf`, `iat`; then the
/// opt-in `iss` pin. Claims are looked at only after the signature checked out.
pub fn verify_jwt(
    jwt: &Jwt,
    key: &VerificationKey,
    opts: &VerifyOptions,
    now: SystemTime,
) -> Result<(), TokenVerificationError> {
    verify_jwt_with_skew(jwt, key, opts, opts.clock_skew, now).map(|_| ())
}

fn verify_jwt_with_skew(
    jwt: &Jwt,
    key: &VerificationKey,
    opts: &VerifyOptions,
    skew: Duration,
    now: SystemTime,
) -> Result<TimeClaims, TokenVerificationError> {
    check_header_type(jwt, opts.header_type.as_deref())?;
    check_header_algorithm(jwt)?;
    key.verify(jwt)?;
    check_sub(jwt)?;
    check_audience(jwt, &opts.audience)?;
    check_authorized_parties(jwt, &opts.authorized_parties)?;
    let times = TimeClaims::check_claims(jwt, unix_ms(now), duration_ms(skew))?;
    check_issuer(jwt, opts.issuer.as_deref())?;
    Ok(times)
}

/// The claim checks of §3.3 with the values compared, for the explanation. Runs the same check
/// functions as [`verify_jwt`], each on its own, so a failing check does not hide the next.
pub(crate) fn describe_claim_checks(
    jwt: &Jwt,
    opts: &VerifyOptions,
    now: SystemTime,
) -> Vec<String> {
    fn verdict(result: Result<(), TokenVerificationError>) -> String {
        match result {
            Ok(()) => "ok".to_owned(),
            Err(e) => format!("fails ({})", e.reason),
        }
    }
    let now_ms = unix_ms(now);
    let skew_ms = duration_ms(opts.clock_skew);
    let now_s = (now_ms / 1000.0) as i64;
    let mut out = Vec::with_capacity(6);
    let azp = jwt.claim("azp");
    out.push(if opts.authorized_parties.is_empty() {
        format!(
            "azp {}: not checked (no authorized parties configured)",
            text::json(azp)
        )
    } else {
        format!(
            "azp {} against [{}]: {}",
            text::json(azp),
            opts.authorized_parties.join(", "),
            verdict(check_authorized_parties(jwt, &opts.authorized_parties))
        )
    });
    if !opts.audience.is_empty() {
        out.push(format!(
            "aud {} against [{}]: {}",
            text::json(jwt.claim("aud")),
            opts.audience.join(", "),
            verdict(check_audience(jwt, &opts.audience))
        ));
    }
    type TimeCheck = fn(f64, f64, f64) -> Result<(), TokenVerificationError>;
    let checks: [(&str, TimeCheck); 3] =
        [("exp", check_exp), ("nbf", check_nbf), ("iat", check_iat)];
    for (name, check) in checks {
        out.push(match jwt.claim(name) {
            None => format!("{name}: absent"),
            Some(Value::Number(n)) => {
                let ms = seconds_to_ms(n.as_f64().unwrap_or(f64::NAN));
                let at = (ms / 1000.0) as i64;
                format!(
                    "{name} {at} ({}) against now {now_s} with a {} s skew: {}",
                    crate::explain::relative(at.saturating_sub(now_s)),
                    opts.clock_skew.as_secs(),
                    verdict(check(ms, now_ms, skew_ms))
                )
            }
            Some(other) => format!("{name} {}: not a number", text::json(Some(other))),
        });
    }
    if let Some(issuer) = &opts.issuer {
        out.push(format!(
            "iss {} against {issuer}: {}",
            text::json(jwt.claim("iss")),
            verdict(check_issuer(jwt, Some(issuer)))
        ));
    }
    out
}

/// The handshake JWT's checks once its key is known (§2.7): `typ`, `alg`, category, signature.
fn check_handshake_token(
    jwt: Jwt,
    key: &VerificationKey,
) -> Result<Arc<Jwt>, TokenVerificationError> {
    check_header_type(&jwt, None)?;
    check_header_algorithm(&jwt)?;
    if is_non_session_category(jwt.category())
        || jwt.header_param("cat").is_some_and(|c| !c.is_string())
    {
        return Err(ensure_clerk_jwt(
            TokenVerificationErrorReason::TokenInvalid,
            "Invalid handshake token category.",
        ));
    }
    match key.check_signature(&jwt) {
        Ok(()) => Ok(Arc::new(jwt)),
        Err(SignatureFailure::Unverifiable(detail)) => Err(error(
            TokenVerificationErrorReason::TokenVerificationFailed,
            format!("Error verifying handshake token. Error: {detail}"),
        )),
        Err(SignatureFailure::Mismatch) => Err(error(
            TokenVerificationErrorReason::TokenInvalidSignature,
            "Handshake signature is invalid.",
        )),
    }
}

/// A blocking call's source answered "would block": [`TokenVerifier::try_key`] is never asked
/// in blocking mode, so this only reports a broken invariant, failing closed.
fn would_block_error() -> TokenVerificationError {
    error(
        TokenVerificationErrorReason::JwkFailedToResolve,
        "The key source asked to block in a blocking call.",
    )
}

struct Inner {
    source: Arc<dyn TokenVerifier>,
    options: VerifyOptions,
    clock: Arc<dyn Clock>,
    cache: Option<VerifiedCache>,
}

/// The per-instance session-token verifier: key source + options + clock + verified-token cache
/// (decision 8). Cheap to clone (an `Arc` inside); `Send + Sync`.
///
/// The cache is keyed by the exact token and is on by default (4 096 tokens). Every hit
/// re-checks `exp`, `nbf` and `iat` against the clock with the skew asked for, so a cached token
/// is never accepted past its expiry. Everything else that decides the verdict (keys, authorized
/// parties, audience, issuer) is fixed for the life of the verifier.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

impl Verifier {
    /// A verifier with the verified-token cache on (bounded to 4 096 tokens).
    pub fn new(
        source: Arc<dyn TokenVerifier>,
        options: VerifyOptions,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self::build(source, options, clock, Some(DEFAULT_CAPACITY))
    }

    fn build(
        source: Arc<dyn TokenVerifier>,
        options: VerifyOptions,
        clock: Arc<dyn Clock>,
        capacity: Option<u64>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                source,
                options,
                clock,
                cache: capacity.filter(|c| *c > 0).map(VerifiedCache::new),
            }),
        }
    }

    /// The same verifier without a verified-token cache: every call verifies the signature.
    pub fn without_cache(self) -> Self {
        self.with_cache_capacity(0)
    }

    /// The same verifier with a fresh cache of at most `capacity` tokens (0 turns it off).
    pub fn with_cache_capacity(self, capacity: u64) -> Self {
        let inner = &self.inner;
        Self::build(
            Arc::clone(&inner.source),
            inner.options.clone(),
            Arc::clone(&inner.clock),
            Some(capacity),
        )
    }

    /// The verification options.
    pub fn options(&self) -> &VerifyOptions {
        &self.inner.options
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The key source.
    pub fn source(&self) -> &Arc<dyn TokenVerifier> {
        &self.inner.source
    }

    /// Whether the verified-token cache is on.
    pub fn has_cache(&self) -> bool {
        self.inner.cache.is_some()
    }

    /// Clerk's `verifyToken` (§3.2): decode, reject the M2M category (`token-invalid`, "Invalid
    /// session token category."), get the key from the source, then [`verify_jwt`]. Cached by
    /// exact token; a hit re-checks `exp`, `nbf` and `iat` with the configured skew.
    pub fn verify_token(&self, token: &str) -> Result<Arc<Jwt>, TokenVerificationError> {
        self.verify_token_with_skew(token, self.inner.options.clock_skew)
    }

    /// [`verify_token`](Self::verify_token) with another clock skew (the development handshake
    /// re-verifies with 24 hours, §2.7 step 7).
    pub fn verify_token_with_skew(
        &self,
        token: &str,
        skew: Duration,
    ) -> Result<Arc<Jwt>, TokenVerificationError> {
        self.verify_token_with(token, skew, true)
            .unwrap_or_else(|| Err(would_block_error()))
    }

    /// [`verify_token_with_skew`](Self::verify_token_with_skew); with `may_block` false, `None`
    /// when the key cannot be had without IO.
    pub(crate) fn verify_token_with(
        &self,
        token: &str,
        skew: Duration,
        may_block: bool,
    ) -> Option<Result<Arc<Jwt>, TokenVerificationError>> {
        let inner = &*self.inner;
        if let Some(cache) = &inner.cache {
            if let Some(hit) = cache.get(token) {
                let now = unix_ms(inner.clock.now());
                return Some(
                    hit.times
                        .recheck(now, duration_ms(skew))
                        .map(|()| Arc::clone(&hit.jwt)),
                );
            }
        }
        match Jwt::decode(token) {
            Ok(jwt) => self.verify_decoded_with(Arc::new(jwt), skew, may_block),
            Err(e) => Some(Err(e)),
        }
    }

    /// [`verify_token`](Self::verify_token) for a token the caller already decoded (the decision
    /// decodes a cookie token once per request and reuses it).
    pub fn verify_decoded(&self, jwt: Arc<Jwt>) -> Result<Arc<Jwt>, TokenVerificationError> {
        if let Some(cache) = &self.inner.cache {
            if let Some(hit) = cache.get(jwt.as_str()) {
                let now = unix_ms(self.inner.clock.now());
                hit.times
                    .recheck(now, duration_ms(self.inner.options.clock_skew))?;
                return Ok(Arc::clone(&hit.jwt));
            }
        }
        self.verify_decoded_with_skew(jwt, self.inner.options.clock_skew)
    }

    /// The verified-cache entry for exactly `token`, if any (one lookup per request).
    pub(crate) fn cached(&self, token: &str) -> Option<Arc<CachedToken>> {
        self.inner.cache.as_ref().and_then(|c| c.get(token))
    }

    /// Verifies a decoded token for the decision, reusing the cache entry the request already
    /// looked up: a hit only re-checks the times. With `may_block` false, takes the key without
    /// IO ([`TokenVerifier::try_key`]) and answers `None` when that would block.
    pub(crate) fn verify_for_request(
        &self,
        jwt: Arc<Jwt>,
        entry: Option<Arc<CachedToken>>,
        may_block: bool,
    ) -> Option<Result<Verified, TokenVerificationError>> {
        let inner = &*self.inner;
        if let Some(entry) = entry {
            let now = unix_ms(inner.clock.now());
            if let Err(e) = entry
                .times
                .recheck(now, duration_ms(inner.options.clock_skew))
            {
                return Some(Err(e));
            }
            return Some(Ok(Verified {
                jwt: Arc::clone(&entry.jwt),
                entry: Some(entry),
            }));
        }
        self.verify_decoded_entry(jwt, inner.options.clock_skew, may_block)
    }

    /// The key for `jwt` from the source: blocking ([`TokenVerifier::key`]), or without IO
    /// ([`TokenVerifier::try_key`], `None` when that would block).
    pub(crate) fn take_key(
        &self,
        jwt: &Jwt,
        may_block: bool,
    ) -> Option<Result<Arc<VerificationKey>, TokenVerificationError>> {
        if may_block {
            Some(self.inner.source.key(jwt))
        } else {
            self.inner.source.try_key(jwt)
        }
    }

    fn verify_decoded_with_skew(
        &self,
        jwt: Arc<Jwt>,
        skew: Duration,
    ) -> Result<Arc<Jwt>, TokenVerificationError> {
        self.verify_decoded_with(jwt, skew, true)
            .unwrap_or_else(|| Err(would_block_error()))
    }

    /// [`verify_decoded_entry`](Self::verify_decoded_entry), the token only.
    fn verify_decoded_with(
        &self,
        jwt: Arc<Jwt>,
        skew: Duration,
        may_block: bool,
    ) -> Option<Result<Arc<Jwt>, TokenVerificationError>> {
        Some(
            self.verify_decoded_entry(jwt, skew, may_block)?
                .map(|v| v.jwt),
        )
    }

    /// The verification itself, with the cache entry it wrote; `None` only when `may_block` is
    /// false and the key cannot be had without IO.
    fn verify_decoded_entry(
        &self,
        jwt: Arc<Jwt>,
        skew: Duration,
        may_block: bool,
    ) -> Option<Result<Verified, TokenVerificationError>> {
        let inner = &*self.inner;
        if jwt.category() == Some(M2M_CATEGORY) {
            return Some(Err(ensure_clerk_jwt(
                TokenVerificationErrorReason::TokenInvalid,
                "Invalid session token category.",
            )));
        }
        let key = match self.take_key(&jwt, may_block)? {
            Ok(key) => key,
            Err(e) => return Some(Err(e)),
        };
        let times = match verify_jwt_with_skew(&jwt, &key, &inner.options, skew, inner.clock.now())
        {
            Ok(times) => times,
            Err(e) => return Some(Err(e)),
        };
        let entry = inner
            .cache
            .as_ref()
            .map(|cache| cache.insert(Arc::clone(&jwt), times));
        Some(Ok(Verified { jwt, entry }))
    }

    /// The handshake JWT check (§2.7): decode, key from the source, `typ` absent or `JWT`, `alg`
    /// one of RS256/RS384/RS512, `cat` absent, session or ignore (else `token-invalid`, "Invalid
    /// handshake token category."), then the signature only. No time, `sub` or `azp` checks;
    /// never cached.
    pub fn verify_handshake_token(&self, token: &str) -> Result<Arc<Jwt>, TokenVerificationError> {
        self.verify_handshake_token_with(token, true)
            .unwrap_or_else(|| Err(would_block_error()))
    }

    /// [`verify_handshake_token`](Self::verify_handshake_token); with `may_block` false, `None`
    /// when the key cannot be had without IO.
    pub(crate) fn verify_handshake_token_with(
        &self,
        token: &str,
        may_block: bool,
    ) -> Option<Result<Arc<Jwt>, TokenVerificationError>> {
        let jwt = match Jwt::decode(token) {
            Ok(jwt) => jwt,
            Err(e) => return Some(Err(e)),
        };
        let key = match self.take_key(&jwt, may_block)? {
            Ok(key) => key,
            Err(e) => return Some(Err(e)),
        };
        Some(check_handshake_token(jwt, &key))
    }

    /// Non-blocking [`verify_token`](Self::verify_token): the same verdict when it can be had
    /// without network IO (a cache hit, or a key the source holds in memory), `None` when
    /// verifying would need IO or would wait on a fetch in progress
    /// ([`TokenVerifier::try_key`]). Never blocks.
    pub fn try_verify_token(
        &self,
        token: &str,
    ) -> Option<Result<Arc<Jwt>, TokenVerificationError>> {
        self.verify_token_with(token, self.inner.options.clock_skew, false)
    }

    /// The decoded token: from the verified cache when present (cheap), else [`Jwt::decode`].
    /// Verifies nothing.
    pub fn decode(&self, token: &str) -> Result<Arc<Jwt>, TokenVerificationError> {
        if let Some(hit) = self.inner.cache.as_ref().and_then(|c| c.get(token)) {
            return Ok(Arc::clone(&hit.jwt));
        }
        Jwt::decode(token).map(Arc::new)
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("Verifier")
            .field("source", &inner.source)
            .field("options", &inner.options)
            .field("clock", &inner.clock)
            .field(
                "cached_tokens",
                &inner.cache.as_ref().map(VerifiedCache::len),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories() {
        assert!(!is_non_session_category(None));
        assert!(!is_non_session_category(Some(SESSION_CATEGORY)));
        assert!(!is_non_session_category(Some(IGNORE_CATEGORY)));
        assert!(is_non_session_category(Some(TEMPLATE_CATEGORY)));
        assert!(is_non_session_category(Some(M2M_CATEGORY)));
        assert!(is_non_session_category(Some("")));
    }

    #[test]
    fn fractional_seconds_truncate_toward_zero() {
        assert_eq!(seconds_to_ms(1.9), 1000.0);
        assert_eq!(seconds_to_ms(-1.9), -1000.0);
        assert_eq!(seconds_to_ms(1e300), 1e303);
    }
}

/// A token verified for one request, with its cache entry when the cache holds it.
#[derive(Clone, Debug)]
pub(crate) struct Verified {
    pub(crate) jwt: Arc<Jwt>,
    pub(crate) entry: Option<Arc<CachedToken>>,
}

impl Verified {
    /// The session auth object, built once per cached token.
    pub(crate) fn session(&self) -> Option<Arc<crate::token::auth::SessionAuth>> {
        let build = || {
            crate::token::auth::SessionAuth::from_jwt(Arc::clone(&self.jwt))
                .ok()
                .map(Arc::new)
        };
        match &self.entry {
            Some(entry) => entry.session.get_or_init(build).clone(),
            None => build(),
        }
    }
}
