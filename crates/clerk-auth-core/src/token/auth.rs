//! Auth objects: the signed-in session (§4.2–4.4) with `has()`, and authenticated machines (§5.6).
//!
//! Field names are Clerk's, in Rust's case (`user_id` for `userId`); the JSON forms
//! ([`Serialize`]) use Clerk's camelCase names.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::{Map, Value};

use super::claims::{
    decode_org_permissions, is_truthy, is_v2, prefix_with_org, split_by_scope, truthy_str,
    ClaimsError,
};
use super::jwt::Jwt;

/// The kind of token a request was authenticated with (Clerk's `TokenType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// `session_token`: a Clerk session JWT (cookie or header).
    SessionToken,
    /// `api_key`: an opaque API key (`ak_…`).
    ApiKey,
    /// `m2m_token`: a machine-to-machine token (`mt_…` or a JWT whose `sub` starts with `mch_`).
    M2mToken,
    /// `oauth_token`: an OAuth access token (`oat_…` or an RFC 9068 JWT).
    OauthToken,
}

impl TokenType {
    /// All token types, in Clerk's order.
    pub const ALL: [TokenType; 4] = [
        Self::SessionToken,
        Self::ApiKey,
        Self::M2mToken,
        Self::OauthToken,
    ];

    /// Clerk's wire string (`session_token`, `api_key`, `m2m_token`, `oauth_token`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SessionToken => "session_token",
            Self::ApiKey => "api_key",
            Self::M2mToken => "m2m_token",
            Self::OauthToken => "oauth_token",
        }
    }

    /// Whether this is a machine token type (not a session token).
    pub const fn is_machine(self) -> bool {
        !matches!(self, Self::SessionToken)
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of Clerk's token types.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown token type {0:?} (expected session_token, api_key, m2m_token or oauth_token)")]
pub struct UnknownTokenType(pub String);

impl FromStr for TokenType {
    type Err = UnknownTokenType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownTokenType(s.to_owned()))
    }
}

impl Serialize for TokenType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The prefix of opaque M2M tokens.
pub const M2M_TOKEN_PREFIX: &str = "mt_";
/// The prefix of opaque OAuth access tokens.
pub const OAUTH_TOKEN_PREFIX: &str = "oat_";
/// The prefix of API keys.
pub const API_KEY_PREFIX: &str = "ak_";

/// Whether `token` has the form of a JWT: three non-empty base64url segments (§5.1).
pub fn is_jwt_format(token: &str) -> bool {
    let mut parts = token.split('.');
    let segment_ok = |s: Option<&str>| {
        s.is_some_and(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    };
    segment_ok(parts.next())
        && segment_ok(parts.next())
        && segment_ok(parts.next())
        && parts.next().is_none()
}

/// Whether a decoded JWT is an OAuth access token (header `typ` is `at+jwt` or
/// `application/at+jwt`, RFC 9068).
pub fn is_oauth_jwt(jwt: &Jwt) -> bool {
    matches!(jwt.header_str("typ"), Some("at+jwt" | "application/at+jwt"))
}

/// Whether a decoded JWT is an M2M token (its `sub` starts with `mch_`).
pub fn is_m2m_jwt(jwt: &Jwt) -> bool {
    jwt.claim_str("sub").is_some_and(|s| s.starts_with("mch_"))
}

/// Clerk's machine-token detection (§5.1, `getMachineTokenType`): `mt_` or an M2M JWT is
/// `m2m_token`; `oat_` or an OAuth JWT is `oauth_token`; `ak_` is `api_key`; anything else
/// (a session token, garbage) is `None`.
pub fn machine_token_type(token: &str) -> Option<TokenType> {
    let jwt = is_jwt_format(token)
        .then(|| Jwt::decode(token).ok())
        .flatten();
    if token.starts_with(M2M_TOKEN_PREFIX) || jwt.as_ref().is_some_and(is_m2m_jwt) {
        return Some(TokenType::M2mToken);
    }
    if token.starts_with(OAUTH_TOKEN_PREFIX) || jwt.as_ref().is_some_and(is_oauth_jwt) {
        return Some(TokenType::OauthToken);
    }
    token
        .starts_with(API_KEY_PREFIX)
        .then_some(TokenType::ApiKey)
}

// ---------------------------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------------------------

/// The signed-in session auth object (Clerk's `signedInAuthObject`, §4.2–4.3), built from a
/// verified session token.
///
/// `Debug` never shows the raw token.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SessionAuth {
    /// `userId`: the `sub` claim (`user_…`).
    pub user_id: Option<String>,
    /// `sessionId`: the `sid` claim (`sess_…`).
    pub session_id: Option<String>,
    /// `sessionStatus`: the `sts` claim (`active` or `pending`), when present.
    pub session_status: Option<String>,
    /// `actor`: the `act` claim (impersonation, `{sub, type?}`), verbatim.
    pub actor: Option<Value>,
    /// `orgId`: the active organization's id (v1 `org_id`, v2 `o.id`).
    pub org_id: Option<String>,
    /// `orgRole`: the role in the active organization, `org:`-prefixed (v1 `org_role`,
    /// v2 `"org:" + o.rol`).
    pub org_role: Option<String>,
    /// `orgSlug`: the active organization's slug (v1 `org_slug`, v2 `o.slg`).
    pub org_slug: Option<String>,
    /// `orgPermissions`: `org:<feature>:<permission>` names (v1 `org_permissions`, v2 decoded
    /// from `fea`, `o.per` and `o.fpm`). `None` when the token has no organization data.
    pub org_permissions: Option<Vec<String>>,
    /// `factorVerificationAge`: the `fva` claim (`[firstFactorAgeMinutes, secondFactorAgeMinutes]`,
    /// `-1` for a factor that is not enabled), verbatim.
    pub factor_verification_age: Option<Value>,
    jwt: Arc<Jwt>,
    /// The JSON of [`to_json_string`](Self::to_json_string), built once: a session auth object
    /// is shared by every request carrying the same (cached) token.
    json: std::sync::OnceLock<String>,
}

impl SessionAuth {
    /// Builds the auth object from a (verified) session token, for v1 and v2 claims (§4.2).
    ///
    /// Fails where Clerk's parser throws (the decision reports `unexpected-error`): with v2
    /// organization data, a `fea` item without `:`, or a `fea`, `o.per` or `o.fpm` that is
    /// present but not a string.
    pub fn from_jwt(jwt: Arc<Jwt>) -> Result<Self, ClaimsError> {
        let claim = |name: &str| jwt.claim(name);
        let string = |name: &str| claim(name).and_then(Value::as_str).map(str::to_owned);

        let (org_id, org_role, org_slug, org_permissions) = if is_v2(claim("v")) {
            let o = claim("o");
            if is_truthy(o) {
                let obj = o.and_then(Value::as_object);
                let field = |name: &str| obj.and_then(|m| m.get(name));
                let org_id = field("id").and_then(Value::as_str).map(str::to_owned);
                let org_slug = field("slg").and_then(Value::as_str).map(str::to_owned);
                let org_role = field("rol")
                    .filter(|v| is_truthy(Some(v)))
                    .and_then(crate::js::scalar_string)
                    .map(|r| format!("org:{r}"));
                let features = match truthy_str(claim("fea"), "fea")? {
                    Some(fea) => split_by_scope(fea, "fea")?.org,
                    None => Vec::new(),
                };
                let permissions = match (is_truthy(field("per")), is_truthy(field("fpm"))) {
                    (true, true) => {
                        let per = truthy_str(field("per"), "o.per")?.unwrap_or_default();
                        let fpm = truthy_str(field("fpm"), "o.fpm")?.unwrap_or_default();
                        decode_org_permissions(&features, per, fpm)
                    }
                    _ => Vec::new(),
                };
                (org_id, org_role, org_slug, Some(permissions))
            } else {
                (None, None, None, None)
            }
        } else {
            let permissions = claim("org_permissions").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            });
            (
                string("org_id"),
                string("org_role"),
                string("org_slug"),
                permissions,
            )
        };

        Ok(Self {
            user_id: string("sub"),
            session_id: string("sid"),
            session_status: string("sts"),
            actor: claim("act").filter(|v| !v.is_null()).cloned(),
            org_id,
            org_role,
            org_slug,
            org_permissions,
            factor_verification_age: claim("fva").filter(|v| !v.is_null()).cloned(),
            jwt,
            json: std::sync::OnceLock::new(),
        })
    }

    /// `sessionClaims`: the token's whole payload.
    pub fn session_claims(&self) -> &Map<String, Value> {
        self.jwt.claims()
    }

    /// The verified token.
    pub fn jwt(&self) -> &Arc<Jwt> {
        &self.jwt
    }

    /// The raw verified token (Clerk's `getToken()` without a template). A bearer credential:
    /// do not log it.
    pub fn token(&self) -> &str {
        self.jwt.as_str()
    }

    /// Whether the session is pending (`sts == "pending"`): signed in, but with a task to finish
    /// (for example choosing an organization).
    pub fn is_pending(&self) -> bool {
        self.session_status.as_deref() == Some("pending")
    }

    /// The factor verification ages `(first, second)` in minutes when `fva` is well formed
    /// (two finite numbers, each `-1` or `>= 0`).
    pub fn factor_verification_ages(&self) -> Option<(f64, f64)> {
        let arr = self.factor_verification_age.as_ref()?.as_array()?;
        let [a, b] = arr.as_slice() else {
            return None;
        };
        let valid = |v: &Value| {
            v.as_f64()
                .filter(|x| x.is_finite() && (*x == -1.0 || *x >= 0.0))
        };
        Some((valid(a)?, valid(b)?))
    }

    /// Clerk's `toAuth({ treatPendingAsSignedOut })` for a session (§4.3): a pending session is
    /// signed out (with `sessionStatus: "pending"`) when the flag is set, which is Clerk's default.
    pub fn to_auth(self, treat_pending_as_signed_out: bool) -> SessionAuthObject {
        if treat_pending_as_signed_out && self.is_pending() {
            SessionAuthObject::signed_out(true)
        } else {
            SessionAuthObject::SignedIn(self)
        }
    }

    /// Clerk's `has()` (§4.4): whether the session satisfies every dimension of `check` that is
    /// asked (organization role/permission, billing feature/plan, reverification), with at least
    /// one dimension asked. Always false without a user id.
    pub fn has(&self, check: &Has) -> bool {
        if self.user_id.as_deref().is_none_or(str::is_empty) {
            return false;
        }
        let results = [
            self.check_org(check),
            self.check_billing(check),
            self.check_reverification(check),
        ];
        results.contains(&Check::Pass) && !results.contains(&Check::Fail)
    }

    fn check_org(&self, check: &Has) -> Check {
        if check.role.is_none() && check.permission.is_none() {
            return Check::Skip;
        }
        if self.org_id.as_deref().is_none_or(str::is_empty) {
            return Check::Fail;
        }
        if let Some(role) = &check.role {
            let Some(org_role) = self.org_role.as_deref().filter(|r| !r.is_empty()) else {
                return Check::Fail;
            };
            if prefix_with_org(org_role) != prefix_with_org(role) {
                return Check::Fail;
            }
        }
        if let Some(permission) = &check.permission {
            let Some(perms) = &self.org_permissions else {
                return Check::Fail;
            };
            let wanted = prefix_with_org(permission);
            if !perms.contains(&wanted) {
                return Check::Fail;
            }
        }
        Check::Pass
    }

    fn check_billing(&self, check: &Has) -> Check {
        if check.feature.is_none() && check.plan.is_none() {
            return Check::Skip;
        }
        for (query, claim) in [(&check.feature, "fea"), (&check.plan, "pla")] {
            let Some(query) = query else { continue };
            let Some(value) = self
                .jwt
                .claim(claim)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            else {
                return Check::Fail;
            };
            if !has_feature_or_plan(value, claim, query) {
                return Check::Fail;
            }
        }
        Check::Pass
    }

    fn check_reverification(&self, check: &Has) -> Check {
        let Some(reverification) = &check.reverification else {
            return Check::Skip;
        };
        let Some((f1, f2)) = self.factor_verification_ages() else {
            return Check::Fail;
        };
        let Some((level, after)) = reverification.level_and_minutes() else {
            return Check::Fail;
        };
        if f1 == -1.0 && f2 == -1.0 {
            return Check::Fail;
        }
        let fresh1 = f1 != -1.0 && after > f1;
        let fresh2 = f2 != -1.0 && after > f2;
        let pass = match level {
            FactorLevel::FirstFactor => fresh1,
            FactorLevel::SecondFactor => {
                if f2 == -1.0 {
                    fresh1
                } else {
                    fresh2
                }
            }
            FactorLevel::MultiFactor => {
                if f2 == -1.0 {
                    fresh1
                } else if f1 == -1.0 {
                    false
                } else {
                    fresh1 && fresh2
                }
            }
        };
        if pass {
            Check::Pass
        } else {
            Check::Fail
        }
    }
}

/// Clerk's `checkForFeatureOrPlan`: `query` is `name` (either list) or `scope:name` with scope
/// `o`/`org`/`organization` or `u`/`user`; any other scope, or a malformed claim, fails.
fn has_feature_or_plan(claim_value: &str, claim: &'static str, query: &str) -> bool {
    let Ok(scoped) = split_by_scope(claim_value, claim) else {
        return false;
    };
    let mut parts = query.split(':');
    let raw_scope = parts.next().unwrap_or_default();
    let raw_id = parts.next();
    let id = raw_id.filter(|s| !s.is_empty()).unwrap_or(raw_scope);
    match raw_id {
        None => scoped.org.contains(&id) || scoped.user.contains(&id),
        Some(_) => match raw_scope {
            "o" | "org" | "organization" => scoped.org.contains(&id),
            "u" | "user" => scoped.user.contains(&id),
            _ => false,
        },
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Pass,
    Fail,
    Skip,
}

impl SessionAuth {
    /// The auth object's JSON (the [`Serialize`] form), serialized once and reused.
    pub fn to_json_string(&self) -> String {
        self.json
            .get_or_init(|| serde_json::to_string(self).unwrap_or_else(|_| "null".to_owned()))
            .clone()
    }
}

impl Serialize for SessionAuth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("SessionAuth", 11)?;
        s.serialize_field("tokenType", &TokenType::SessionToken)?;
        s.serialize_field("userId", &self.user_id)?;
        s.serialize_field("sessionId", &self.session_id)?;
        s.serialize_field("sessionStatus", &self.session_status)?;
        s.serialize_field("orgId", &self.org_id)?;
        s.serialize_field("orgRole", &self.org_role)?;
        s.serialize_field("orgSlug", &self.org_slug)?;
        s.serialize_field("orgPermissions", &self.org_permissions)?;
        s.serialize_field("actor", &self.actor)?;
        s.serialize_field("factorVerificationAge", &self.factor_verification_age)?;
        s.serialize_field("sessionClaims", &ClaimsOf(&self.jwt))?;
        s.end()
    }
}

/// A token's claims as [`Jwt::claims`] serializes them, transcoded from the payload where exact
/// (see [`Jwt::serialize_claims`]): the auth JSON of a token seen once does not build the map.
struct ClaimsOf<'a>(&'a Jwt);

impl Serialize for ClaimsOf<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_claims(serializer)
    }
}

/// A session auth object after Clerk's `toAuth()` (§4.3): signed in, or signed out (all identity
/// fields null; `sessionStatus` is `pending` for a pending session treated as signed out).
///
/// Serializes to the same JSON keys as [`SessionAuth`].
#[derive(Clone, Debug)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // built once per request; boxing would only add an allocation
pub enum SessionAuthObject {
    /// A signed-in session.
    SignedIn(SessionAuth),
    /// A signed-out session.
    SignedOut {
        /// `sessionStatus`: `Some("pending")` for a pending session, else `None`.
        session_status: Option<String>,
    },
}

impl SessionAuthObject {
    /// A signed-out session object; `pending` sets `sessionStatus` to `pending`.
    pub fn signed_out(pending: bool) -> Self {
        Self::SignedOut {
            session_status: pending.then(|| "pending".to_owned()),
        }
    }

    /// The signed-in session, if any.
    pub fn session(&self) -> Option<&SessionAuth> {
        match self {
            Self::SignedIn(s) => Some(s),
            Self::SignedOut { .. } => None,
        }
    }

    /// Clerk's `isAuthenticated`.
    pub fn is_authenticated(&self) -> bool {
        matches!(self, Self::SignedIn(_))
    }

    /// Clerk's `has()`: always false when signed out.
    pub fn has(&self, check: &Has) -> bool {
        self.session().is_some_and(|s| s.has(check))
    }
}

impl Serialize for SessionAuthObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::SignedIn(auth) => auth.serialize(serializer),
            Self::SignedOut { session_status } => {
                let none: Option<()> = None;
                let mut s = serializer.serialize_struct("SessionAuth", 11)?;
                s.serialize_field("tokenType", &TokenType::SessionToken)?;
                s.serialize_field("userId", &none)?;
                s.serialize_field("sessionId", &none)?;
                s.serialize_field("sessionStatus", session_status)?;
                s.serialize_field("orgId", &none)?;
                s.serialize_field("orgRole", &none)?;
                s.serialize_field("orgSlug", &none)?;
                s.serialize_field("orgPermissions", &none)?;
                s.serialize_field("actor", &none)?;
                s.serialize_field("factorVerificationAge", &none)?;
                s.serialize_field("sessionClaims", &none)?;
                s.end()
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// has()
// ---------------------------------------------------------------------------------------------

/// The parameters of Clerk's `has()` (§4.4): each dimension that is set must pass, and at least
/// one must be set (`Has::default()` is never satisfied).
///
/// ```
/// use clerk_auth_core::token::auth::{Has, Reverification};
/// let admin = Has::role("org:admin");
/// let billing_manager = Has::permission("org:billing:manage").and_reverification(Reverification::Strict);
/// # let _ = (admin, billing_manager);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Has {
    role: Option<String>,
    permission: Option<String>,
    feature: Option<String>,
    plan: Option<String>,
    reverification: Option<Reverification>,
}

impl Has {
    /// `{ role }`: the active organization role, with or without the `org:` prefix.
    pub fn role(role: impl Into<String>) -> Self {
        Self::default().and_role(role)
    }

    /// `{ permission }`: an organization permission (`org:<feature>:<permission>`; the `org:`
    /// prefix may be omitted).
    pub fn permission(permission: impl Into<String>) -> Self {
        Self::default().and_permission(permission)
    }

    /// `{ feature }`: a billing feature, `name` or `scope:name` (scope `org`/`o`/`organization`
    /// or `user`/`u`).
    pub fn feature(feature: impl Into<String>) -> Self {
        Self::default().and_feature(feature)
    }

    /// `{ plan }`: a billing plan, `name` or `scope:name`.
    pub fn plan(plan: impl Into<String>) -> Self {
        Self::default().and_plan(plan)
    }

    /// `{ reverification }`: the session's factors were verified recently enough.
    pub fn reverification(reverification: Reverification) -> Self {
        Self::default().and_reverification(reverification)
    }

    /// Also requires the role.
    pub fn and_role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// Also requires the permission.
    pub fn and_permission(mut self, permission: impl Into<String>) -> Self {
        self.permission = Some(permission.into());
        self
    }

    /// Also requires the billing feature.
    pub fn and_feature(mut self, feature: impl Into<String>) -> Self {
        self.feature = Some(feature.into());
        self
    }

    /// Also requires the billing plan.
    pub fn and_plan(mut self, plan: impl Into<String>) -> Self {
        self.plan = Some(plan.into());
        self
    }

    /// Also requires reverification.
    pub fn and_reverification(mut self, reverification: Reverification) -> Self {
        self.reverification = Some(reverification);
        self
    }

    /// The role asked, if any.
    pub fn get_role(&self) -> Option<&str> {
        self.role.as_deref()
    }

    /// The permission asked, if any.
    pub fn get_permission(&self) -> Option<&str> {
        self.permission.as_deref()
    }

    /// The feature asked, if any.
    pub fn get_feature(&self) -> Option<&str> {
        self.feature.as_deref()
    }

    /// The plan asked, if any.
    pub fn get_plan(&self) -> Option<&str> {
        self.plan.as_deref()
    }

    /// The reverification asked, if any.
    pub fn get_reverification(&self) -> Option<&Reverification> {
        self.reverification.as_ref()
    }
}

/// Which factors a reverification requires (Clerk's `SessionVerificationLevel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FactorLevel {
    /// `first_factor`
    FirstFactor,
    /// `second_factor` (the first factor when no second factor is enabled)
    SecondFactor,
    /// `multi_factor` (both factors; the first alone when no second factor is enabled)
    MultiFactor,
}

impl FactorLevel {
    /// Clerk's string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::FirstFactor => "first_factor",
            Self::SecondFactor => "second_factor",
            Self::MultiFactor => "multi_factor",
        }
    }
}

/// A reverification requirement (Clerk's `ReverificationConfig`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reverification {
    /// `strict_mfa`: both factors within 10 minutes.
    StrictMfa,
    /// `strict`: the second factor within 10 minutes.
    Strict,
    /// `moderate`: the second factor within 60 minutes.
    Moderate,
    /// `lax`: the second factor within 1 440 minutes (a day).
    Lax,
    /// `{ level, afterMinutes }`: `after_minutes` must be a number greater than 0, else the check
    /// fails (as Clerk's validation does).
    Custom {
        /// The factors required.
        level: FactorLevel,
        /// Verified less than this many minutes ago.
        after_minutes: f64,
    },
}

impl Reverification {
    /// `{ level, afterMinutes }`.
    pub fn custom(level: FactorLevel, after_minutes: impl Into<f64>) -> Self {
        Self::Custom {
            level,
            after_minutes: after_minutes.into(),
        }
    }

    /// The level and the age limit in minutes, or `None` when the configuration is invalid.
    pub fn level_and_minutes(&self) -> Option<(FactorLevel, f64)> {
        match *self {
            Self::StrictMfa => Some((FactorLevel::MultiFactor, 10.0)),
            Self::Strict => Some((FactorLevel::SecondFactor, 10.0)),
            Self::Moderate => Some((FactorLevel::SecondFactor, 60.0)),
            Self::Lax => Some((FactorLevel::SecondFactor, 1_440.0)),
            // NaN compares false, so it is invalid too; +∞ is a number > 0 and valid, as in JS.
            Self::Custom {
                level,
                after_minutes,
            } => (after_minutes > 0.0).then_some((level, after_minutes)),
        }
    }
}

/// A string that is not one of Clerk's reverification presets.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown reverification preset {0:?} (expected strict_mfa, strict, moderate or lax)")]
pub struct UnknownReverification(pub String);

impl FromStr for Reverification {
    type Err = UnknownReverification;

    /// Parses a preset name: `strict_mfa`, `strict`, `moderate`, `lax`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "strict_mfa" => Ok(Self::StrictMfa),
            "strict" => Ok(Self::Strict),
            "moderate" => Ok(Self::Moderate),
            "lax" => Ok(Self::Lax),
            _ => Err(UnknownReverification(s.to_owned())),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Machines
// ---------------------------------------------------------------------------------------------

/// An authenticated machine (Clerk's `authenticatedMachineObject`, §5.6): an API key, an M2M
/// token or an OAuth access token. Fields that do not apply to the token type are `None`.
///
/// `has()` is always false for machines. Serializes to Clerk's camelCase keys
/// `{"tokenType","id","subject","scopes","name","claims","userId","orgId","machineId","clientId"}`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MachineAuth {
    /// `api_key`, `m2m_token` or `oauth_token`.
    pub token_type: TokenType,
    /// The token's id (`""` for a JWT without `jti`).
    pub id: String,
    /// The subject (`user_…`, `org_…`, `mch_…`).
    pub subject: String,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// API keys: the key's name.
    pub name: Option<String>,
    /// API keys and M2M tokens: custom claims.
    pub claims: Option<Map<String, Value>>,
    /// API keys: the subject when it is a user (`user_…`); OAuth tokens: the subject.
    pub user_id: Option<String>,
    /// API keys: the subject when it is an organization (`org_…`).
    pub org_id: Option<String>,
    /// M2M tokens: the subject.
    pub machine_id: Option<String>,
    /// OAuth tokens: the OAuth application's client id.
    pub client_id: Option<String>,
}

impl MachineAuth {
    fn base(token_type: TokenType, id: String, subject: String, scopes: Vec<String>) -> Self {
        Self {
            token_type,
            id,
            subject,
            scopes,
            name: None,
            claims: None,
            user_id: None,
            org_id: None,
            machine_id: None,
            client_id: None,
        }
    }

    /// From the Backend API's `POST /api_keys/verify` response (§5.3).
    pub fn from_api_key_response(body: &Value) -> Result<Self, ClaimsError> {
        let (id, subject, scopes) = response_common(body)?;
        let mut auth = Self::base(TokenType::ApiKey, id, subject, scopes);
        auth.name = body.get("name").and_then(Value::as_str).map(str::to_owned);
        auth.claims = body.get("claims").and_then(Value::as_object).cloned();
        auth.user_id = auth
            .subject
            .starts_with("user_")
            .then(|| auth.subject.clone());
        auth.org_id = auth
            .subject
            .starts_with("org_")
            .then(|| auth.subject.clone());
        Ok(auth)
    }

    /// From the Backend API's `POST /m2m_tokens/verify` response (§5.3).
    pub fn from_m2m_response(body: &Value) -> Result<Self, ClaimsError> {
        let (id, subject, scopes) = response_common(body)?;
        let mut auth = Self::base(TokenType::M2mToken, id, subject, scopes);
        auth.claims = body.get("claims").and_then(Value::as_object).cloned();
        auth.machine_id = Some(auth.subject.clone());
        Ok(auth)
    }

    /// From the Backend API's `POST /oauth_applications/access_tokens/verify` response (§5.3).
    pub fn from_oauth_response(body: &Value) -> Result<Self, ClaimsError> {
        let (id, subject, scopes) = response_common(body)?;
        let mut auth = Self::base(TokenType::OauthToken, id, subject, scopes);
        auth.user_id = Some(auth.subject.clone());
        auth.client_id = Some(
            body.get("client_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        );
        Ok(auth)
    }

    /// From a verified M2M JWT (§5.3): `id = jti ?? ""`, `subject = sub`,
    /// `scopes = scopes.split(" ")`, else `aud`, else `[]`; `claims` = the payload without
    /// `iss`, `sub`, `exp`, `nbf`, `iat`, `jti` (`None` if nothing is left).
    pub fn from_m2m_jwt(jwt: &Jwt) -> Result<Self, ClaimsError> {
        let claims = jwt.claims();
        let subject = jwt_subject(jwt)?;
        let id = jwt.claim_str("jti").unwrap_or_default().to_owned();
        let scopes = match (claims.get("scopes"), claims.get("aud")) {
            (Some(Value::String(s)), _) => s.split(' ').map(str::to_owned).collect(),
            (_, Some(Value::Array(a))) => strings(a),
            (_, Some(Value::String(s))) => vec![s.clone()],
            _ => Vec::new(),
        };
        let rest: Map<String, Value> = claims
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "iss" | "sub" | "exp" | "nbf" | "iat" | "jti"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut auth = Self::base(TokenType::M2mToken, id, subject, scopes);
        auth.claims = (!rest.is_empty()).then_some(rest);
        auth.machine_id = Some(auth.subject.clone());
        Ok(auth)
    }

    /// From a verified OAuth access-token JWT (§5.3): `id = jti ?? ""`, `subject = sub`,
    /// `client_id ?? ""`, `scopes = scp`, else `scope.split(" ")`, else `[]`.
    pub fn from_oauth_jwt(jwt: &Jwt) -> Result<Self, ClaimsError> {
        let claims = jwt.claims();
        let subject = jwt_subject(jwt)?;
        let id = jwt.claim_str("jti").unwrap_or_default().to_owned();
        let scopes = match (claims.get("scp"), claims.get("scope")) {
            (Some(Value::Array(a)), _) => strings(a),
            (Some(Value::String(s)), _) => vec![s.clone()],
            (_, Some(Value::String(s))) => s.split(' ').map(str::to_owned).collect(),
            _ => Vec::new(),
        };
        let mut auth = Self::base(TokenType::OauthToken, id, subject, scopes);
        auth.user_id = Some(auth.subject.clone());
        auth.client_id = Some(jwt.claim_str("client_id").unwrap_or_default().to_owned());
        Ok(auth)
    }

    /// Clerk's `has()` for machines: always false.
    pub fn has(&self, _check: &Has) -> bool {
        false
    }

    /// The JSON of an unauthenticated machine object of `token_type` (Clerk's
    /// `unauthenticatedMachineObject`): the same keys as [`MachineAuth`], all `null` but
    /// `tokenType`.
    pub fn unauthenticated_json(token_type: TokenType) -> Value {
        serde_json::json!({
            "tokenType": token_type.as_str(),
            "id": null, "subject": null, "scopes": null, "name": null, "claims": null,
            "userId": null, "orgId": null, "machineId": null, "clientId": null,
        })
    }
}

fn strings(a: &[Value]) -> Vec<String> {
    a.iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn jwt_subject(jwt: &Jwt) -> Result<String, ClaimsError> {
    jwt.claim_str("sub")
        .map(str::to_owned)
        .ok_or(ClaimsError::MissingField {
            field: "sub",
            expected: "string",
        })
}

fn response_common(body: &Value) -> Result<(String, String, Vec<String>), ClaimsError> {
    let field = |name: &'static str| {
        body.get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(ClaimsError::MissingField {
                field: name,
                expected: "string",
            })
    };
    let scopes = body
        .get("scopes")
        .and_then(Value::as_array)
        .map(|a| strings(a))
        .unwrap_or_default();
    Ok((field("id")?, field("subject")?, scopes))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use base64::Engine;

    fn jwt(claims: Value) -> Arc<Jwt> {
        let b = |v: &Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
        };
        let token = format!(
            "{}.{}.c2ln",
            b(&serde_json::json!({"alg":"RS256"})),
            b(&claims)
        );
        Arc::new(Jwt::decode(&token).unwrap())
    }

    #[test]
    fn token_type_strings_round_trip() {
        for t in TokenType::ALL {
            assert_eq!(t.as_str().parse::<TokenType>().unwrap(), t);
        }
        assert!("any".parse::<TokenType>().is_err());
    }

    #[test]
    fn has_feature_query_forms() {
        assert!(has_feature_or_plan("o:a,u:b", "fea", "a"));
        assert!(has_feature_or_plan("o:a,u:b", "fea", "org:a"));
        assert!(has_feature_or_plan("o:a,u:b", "fea", "organization:a"));
        assert!(has_feature_or_plan("o:a,u:b", "fea", "o:a"));
        assert!(!has_feature_or_plan("o:a,u:b", "fea", "user:a"));
        assert!(has_feature_or_plan("o:a,u:b", "fea", "u:b"));
        assert!(!has_feature_or_plan("o:a,u:b", "fea", "team:a"));
        assert!(!has_feature_or_plan("o:a,b", "fea", "a"));
    }

    #[test]
    fn signed_out_json_shape() {
        let v = serde_json::to_value(SessionAuthObject::signed_out(true)).unwrap();
        assert_eq!(v["sessionStatus"], "pending");
        assert_eq!(v["userId"], Value::Null);
        assert_eq!(v.as_object().unwrap().len(), 11);
    }

    #[test]
    fn pending_to_auth() {
        let auth = SessionAuth::from_jwt(jwt(serde_json::json!({"sub":"user_1","sts":"pending"})))
            .unwrap();
        assert!(auth.is_pending());
        assert!(!auth.clone().to_auth(true).is_authenticated());
        assert!(auth.to_auth(false).is_authenticated());
    }
}
