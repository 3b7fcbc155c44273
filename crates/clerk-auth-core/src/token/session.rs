//! The signed-in session: [`SessionAuth`], built from a verified session token's v1
//! or v2 claims, its JSON, and [`SessionAuthObject`], the session after Clerk's `toAuth()`.
//!
//! [`SessionAuth::has`] (the authorization checks) lives in `has.rs`.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::{Map, Value};

use super::claims::{decode_org_permissions, is_truthy, split_by_scope, truthy_str, ClaimsError};
use super::jwt::Jwt;
use super::kind::TokenType;

/// The signed-in session auth object (Clerk's `signedInAuthObject`), built from a
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
    /// Builds the auth object from a (verified) session token, for v1 and v2 claims.
    ///
    /// Fails where Clerk's parser throws (the decision reports `unexpected-error`): with v2
    /// organization data, a `fea` item without `:`, or a `fea`, `o.per` or `o.fpm` that is
    /// present but not a string.
    pub fn from_jwt(jwt: Arc<Jwt>) -> Result<Self, ClaimsError> {
        let claim = |name: &str| jwt.claim(name);
        let string = |name: &str| jwt.claim_str(name).map(str::to_owned);

        let (org_id, org_role, org_slug, org_permissions) = if jwt.claim_f64("v") == Some(2.0) {
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
                // As a string first: no `Value` is made for it.
                let fea = match jwt.claim_str("fea") {
                    Some(fea) => Some(fea).filter(|f| !f.is_empty()),
                    None => truthy_str(claim("fea"), "fea")?,
                };
                let features = match fea {
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

    /// Clerk's `toAuth({ treatPendingAsSignedOut })` for a session: a pending session is
    /// signed out (with `sessionStatus: "pending"`) when the flag is set, which is Clerk's default.
    pub fn to_auth(self, treat_pending_as_signed_out: bool) -> SessionAuthObject {
        if treat_pending_as_signed_out && self.is_pending() {
            SessionAuthObject::signed_out(true)
        } else {
            SessionAuthObject::SignedIn(self)
        }
    }
}

impl SessionAuth {
    /// The auth object's JSON (the [`Serialize`] form), serialized once and reused.
    pub fn to_json_string(&self) -> String {
        self.json.get_or_init(|| self.render_json()).clone()
    }

    /// The [`Serialize`] form, with the claims copied from the token when their JSON is exactly
    /// what serializing them would write (the common case: Clerk's compact JSON), transcoded
    /// otherwise.
    fn render_json(&self) -> String {
        if let Some(claims) = self.jwt.claims_json_verbatim() {
            // Serialized without its last field, `sessionClaims`: the object's closing brace is
            // its last byte, and the claims go before it.
            if let Ok(mut out) = serde_json::to_string(&WithoutClaims(self)) {
                if out.pop() == Some('}') {
                    out.reserve(claims.len() + 18);
                    out.push_str(",\"sessionClaims\":");
                    out.push_str(claims);
                    out.push('}');
                    return out;
                }
            }
        }
        serde_json::to_string(self).unwrap_or_else(|_| "null".to_owned())
    }

    /// Every field of the [`Serialize`] form but the last, `sessionClaims`.
    fn serialize_fields<S: SerializeStruct>(&self, s: &mut S) -> Result<(), S::Error> {
        s.serialize_field("tokenType", &TokenType::SessionToken)?;
        s.serialize_field("userId", &self.user_id)?;
        s.serialize_field("sessionId", &self.session_id)?;
        s.serialize_field("sessionStatus", &self.session_status)?;
        s.serialize_field("orgId", &self.org_id)?;
        s.serialize_field("orgRole", &self.org_role)?;
        s.serialize_field("orgSlug", &self.org_slug)?;
        s.serialize_field("orgPermissions", &self.org_permissions)?;
        s.serialize_field("actor", &self.actor)?;
        s.serialize_field("factorVerificationAge", &self.factor_verification_age)
    }
}

impl Serialize for SessionAuth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("SessionAuth", 11)?;
        self.serialize_fields(&mut s)?;
        s.serialize_field("sessionClaims", &ClaimsOf(&self.jwt))?;
        s.end()
    }
}

/// A [`SessionAuth`]'s fields but `sessionClaims` (see [`SessionAuth::render_json`]).
struct WithoutClaims<'a>(&'a SessionAuth);

impl Serialize for WithoutClaims<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("SessionAuth", 10)?;
        self.0.serialize_fields(&mut s)?;
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

/// A session auth object after Clerk's `toAuth()`: signed in, or signed out (all identity
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

    /// A token whose payload is exactly `payload` (not re-serialized).
    fn jwt_with_payload(payload: &[u8]) -> Arc<Jwt> {
        let b = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let token = format!("{}.{}.c2ln", b(br#"{"alg":"RS256"}"#), b(payload));
        Arc::new(Jwt::decode(&token).unwrap())
    }

    #[test]
    fn the_json_copies_the_claims_exactly_when_serializing_them_would_write_the_same() {
        let cases: [(&[u8], bool); 24] = [
            (
                br#"{"sub":"user_1","sid":"sess_1","exp":1700000000,"iat":0,"v":2,"fva":[0,-1]}"#,
                true,
            ),
            (
                br#"{"sub":"u","o":{"id":"org_1","rol":"admin","slg":"acme"},"pla":"u:free"}"#,
                true,
            ),
            (
                br#"{"sub":"u","act":{"sub":"a","x":[true,false,null,{},[]]},"n":-12}"#,
                true,
            ),
            (
                "{\"sub\":\"caf\u{e9} \u{1f600} \\\"q\\\" \\\\ \\n\\t\\r\\b\\f\"}".as_bytes(),
                true,
            ),
            (
                br#"{"sub":"u","deep":{"a":{"a":{"a":1}},"b":{"a":2}}}"#,
                true,
            ),
            (br#"{"sub":"u","big":999999999999999999}"#, true),
            (br#"{"sub":"u","big":9999999999999999999}"#, false),
            (br#"{"sub":"u","big":-9223372036854775808}"#, false),
            (br#"{"sub":"u","f":1.5}"#, false),
            (br#"{"sub":"u","f":1e3}"#, false),
            (br#"{"sub":"u","z":-0}"#, false),
            (br#"{"sub": "u"}"#, false),
            (b" {\"sub\":\"u\"}", false),
            (b"{\"sub\":\"u\"}\n", false),
            (br#"{"sub":"\u00e9"}"#, false),
            (br#"{"sub":"a\/b"}"#, false),
            (br#"{"sub":"\u0001"}"#, false),
            (br#"{"sub":"u","sub":"v"}"#, false),
            (br#"{"sub":"u","o":{"id":1,"id":2}}"#, false),
            (
                br#"{"sub":"u","l":[{"a":1},{"a":1}],"m":{"a":{"b":1},"c":{"b":2}}}"#,
                true,
            ),
            (br#"{"sub":"u","s\u0075b":"v"}"#, false),
            // Names with escapes: compared as written, which is exact with serde_json's escapes.
            (br#"{"sub":"u","a\n":1,"a\t":2,"a\"":3}"#, true),
            (br#"{"sub":"u","a\n":1,"a\n":2}"#, false),
            (br#"{"sub":"u","x":[[[]]],"y":{},"e":""}"#, true),
        ];
        for (payload, verbatim) in cases {
            let text = String::from_utf8_lossy(payload).into_owned();
            let jwt = jwt_with_payload(payload);
            assert_eq!(jwt.claims_json_verbatim().is_some(), verbatim, "{text}");
            let auth = SessionAuth::from_jwt(Arc::clone(&jwt)).unwrap();
            let transcoded = serde_json::to_string(&auth).unwrap();
            assert_eq!(auth.to_json_string(), transcoded, "{text}");
            // And the same as serializing the whole claims map.
            let fresh = SessionAuth::from_jwt(jwt_with_payload(payload)).unwrap();
            let _ = fresh.session_claims();
            assert_eq!(serde_json::to_string(&fresh).unwrap(), transcoded, "{text}");
        }
        // More members than the scan compares: transcoded, still the same JSON.
        let many: String = (0..70).map(|i| format!(r#","m{i}":{i}"#)).collect();
        let payload = format!(r#"{{"sub":"u"{many}}}"#);
        let auth = SessionAuth::from_jwt(jwt_with_payload(payload.as_bytes())).unwrap();
        assert!(auth.jwt().claims_json_verbatim().is_none());
        assert_eq!(auth.to_json_string(), serde_json::to_string(&auth).unwrap());
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
