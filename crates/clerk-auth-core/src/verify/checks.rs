//! Clerk's `verifyJwt`: the claim checks with their exact order and messages, the time
//! claims a cached token is re-checked with, and the signature check that ends them. The pipeline
//! ([`Verifier`](super::pipeline::Verifier)) and the verified-token cache build on it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::error::{
    TokenVerificationError, TokenVerificationErrorAction, TokenVerificationErrorReason,
};
use crate::js;
use crate::text;
use crate::token::Jwt;

use super::{JwsAlgorithm, VerificationKey};

/// The default clock skew, 5 seconds (Clerk's `DEFAULT_CLOCK_SKEW_IN_MS`).
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(5);

/// What verification checks besides the signature: Clerk's `verifyJwt`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Allowed `azp` values. Empty (the default): `azp` is not checked. Non-empty: `azp` must be
    /// present and equal one entry exactly.
    pub authorized_parties: Vec<String>,
    /// Accepted `aud` values, checked only when both this list and the token's `aud` are non-empty.
    /// Defaults to empty.
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

pub(super) const SUPPORTED_ALGORITHMS: &str = "RS256,RS384,RS512";

pub(super) fn error(
    reason: TokenVerificationErrorReason,
    message: impl Into<std::borrow::Cow<'static, str>>,
) -> TokenVerificationError {
    TokenVerificationError::new(reason, message)
}

pub(super) fn ensure_clerk_jwt(
    reason: TokenVerificationErrorReason,
    message: impl Into<std::borrow::Cow<'static, str>>,
) -> TokenVerificationError {
    TokenVerificationError::new(reason, message)
        .with_action(TokenVerificationErrorAction::EnsureClerkJwt)
}

/// `assertHeaderType`.
pub(super) fn check_header_type(
    jwt: &Jwt,
    allowed: Option<&[String]>,
) -> Result<(), TokenVerificationError> {
    // As strings first: no `Value` is made unless the check fails.
    let ok = match (jwt.header_str("typ"), allowed) {
        (None, None) => !jwt.has_header_param("typ"),
        (Some(t), None) => t == "JWT",
        (Some(t), Some(list)) => list.iter().any(|a| a == t),
        (None, Some(_)) => false,
    };
    if ok {
        return Ok(());
    }
    let typ = jwt.header_param("typ");
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
pub(super) fn check_header_algorithm(jwt: &Jwt) -> Result<(), TokenVerificationError> {
    if jwt
        .header_str("alg")
        .and_then(JwsAlgorithm::from_name)
        .is_some()
    {
        return Ok(());
    }
    let alg = jwt.header_param("alg");
    Err(ensure_clerk_jwt(
        TokenVerificationErrorReason::TokenInvalidAlgorithm,
        format!(
            "Invalid JWT algorithm {}. Supported: {SUPPORTED_ALGORITHMS}.",
            text::json(alg)
        ),
    ))
}

/// `assertSubClaim`.
pub(super) fn check_sub(jwt: &Jwt) -> Result<(), TokenVerificationError> {
    if jwt.claim_str("sub").is_some() {
        return Ok(());
    }
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

/// Clerk's `assertAudienceClaim`.
pub(super) fn check_audience(jwt: &Jwt, audience: &[String]) -> Result<(), TokenVerificationError> {
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
pub(super) fn check_authorized_parties(
    jwt: &Jwt,
    authorized_parties: &[String],
) -> Result<(), TokenVerificationError> {
    if authorized_parties.is_empty() {
        return Ok(());
    }
    let ok = match jwt.claim_str("azp") {
        Some(s) => !s.is_empty() && authorized_parties.iter().any(|p| p == s),
        None => false,
    };
    if ok {
        return Ok(());
    }
    let azp = jwt.claim("azp");
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
    /// Reads and type-checks the time claims (`exp`, `nbf`, `iat`), in Clerk's order
    /// interleaved with the time checks, so the first failing check is the one reported.
    fn check_claims(jwt: &Jwt, now_ms: f64, skew_ms: f64) -> Result<Self, TokenVerificationError> {
        let exp_ms = match jwt.claim_f64("exp") {
            Some(exp) => seconds_to_ms(exp),
            None => {
                let exp = jwt.claim("exp");
                return Err(ensure_clerk_jwt(
                    TokenVerificationErrorReason::TokenVerificationFailed,
                    format!(
                        "Invalid JWT expiry date claim (exp) {}. Expected number.",
                        text::json(exp)
                    ),
                ));
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

pub(super) fn optional_time(
    jwt: &Jwt,
    name: &str,
    what: &str,
) -> Result<Option<f64>, TokenVerificationError> {
    if let Some(seconds) = jwt.claim_f64(name) {
        return Ok(Some(seconds_to_ms(seconds)));
    }
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
pub(super) fn seconds_to_ms(seconds: f64) -> f64 {
    seconds.trunc() * 1000.0
}

/// `assertExpirationClaim`: expired iff `exp_ms <= now_ms - skew`.
pub(super) fn check_exp(
    exp_ms: f64,
    now_ms: f64,
    skew_ms: f64,
) -> Result<(), TokenVerificationError> {
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
pub(super) fn check_nbf(
    nbf_ms: f64,
    now_ms: f64,
    skew_ms: f64,
) -> Result<(), TokenVerificationError> {
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
pub(super) fn check_iat(
    iat_ms: f64,
    now_ms: f64,
    skew_ms: f64,
) -> Result<(), TokenVerificationError> {
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
pub(super) fn check_issuer(jwt: &Jwt, issuer: Option<&str>) -> Result<(), TokenVerificationError> {
    let Some(expected) = issuer else {
        return Ok(());
    };
    if jwt.claim_str("iss") == Some(expected) {
        return Ok(());
    }
    let iss = jwt.claim("iss");
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

pub(super) fn duration_ms(d: Duration) -> f64 {
    d.as_millis() as f64
}

/// Clerk's `verifyJwt` on a decoded token, in its exact order:
/// `typ`, `alg`, signature (with `key`), `sub`, `aud`, `azp`, `exp`, `nbf`, `iat`; then the
/// opt-in `iss` pin. Claims are looked at only after the signature checked out.
pub(crate) fn verify_jwt(
    jwt: &Jwt,
    key: &VerificationKey,
    opts: &VerifyOptions,
    now: SystemTime,
) -> Result<(), TokenVerificationError> {
    verify_jwt_with_skew(jwt, key, opts, opts.clock_skew, now).map(|_| ())
}

pub(super) fn verify_jwt_with_skew(
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

/// The claim checks of Clerk's `verifyJwt` with the values compared, for the explanation. Runs the
/// same check functions as [`verify_jwt`], each on its own, so a failing check does not hide the
/// next.
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
                    crate::trace::relative(at.saturating_sub(now_s)),
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
