//! Typed custom claims: [`SessionAuth::claims_as`] and [`MachineAuth::claims_as`] read the claims
//! into a type of the application's, and [`ClaimsAsError`] names the claim that did not fit.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::machine::MachineAuth;
use super::session::SessionAuth;

/// The claims do not deserialize into the type asked for: which claim, and why.
///
/// `Display` says both: ``claim `metadata.plan`: invalid type: integer `3`, expected a
/// string``. The claim's value is not repeated beyond what serde's message says.
#[derive(Debug)]
pub struct ClaimsAsError {
    claim: String,
    source: serde_json::Error,
}

impl ClaimsAsError {
    /// The path of the claim that failed, from the top of the claims: `plan`,
    /// `metadata.plan`, `roles[2]`; for a missing field, the field's path (`metadata.tier`).
    /// Empty when the claims as a whole do not fit (say a sequence was asked for).
    pub fn claim(&self) -> &str {
        &self.claim
    }
}

impl fmt::Display for ClaimsAsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.claim.is_empty() {
            write!(f, "the claims: {}", self.source)
        } else {
            write!(f, "claim `{}`: {}", self.claim, self.source)
        }
    }
}

impl std::error::Error for ClaimsAsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Deserializes `claims` into `T`, tracking the path of the claim being read.
fn claims_as<T: DeserializeOwned>(claims: &Map<String, Value>) -> Result<T, ClaimsAsError> {
    serde_path_to_error::deserialize(claims).map_err(|error| {
        let path = error.path().to_string();
        let source = error.into_inner();
        // serde reports a missing field at its parent: name the field itself.
        let missing = source
            .to_string()
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned);
        let parent = if path == "." { String::new() } else { path };
        let claim = match missing {
            Some(field) if parent.is_empty() => field,
            Some(field) => format!("{parent}.{field}"),
            None => parent,
        };
        ClaimsAsError { claim, source }
    })
}

impl SessionAuth {
    /// The session token's claims ([`session_claims`](Self::session_claims), the whole payload:
    /// `sub`, `sid`, … and your custom claims) as `T`. Derive `Deserialize` for a type with the
    /// claims you need; the others are ignored unless `T` denies unknown fields.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use clerk_auth_core::testing::{FixedClock, KeyPair, TokenMinter, TestRequest};
    /// # use clerk_auth_core::{authenticate_request, Options};
    /// # let keys = KeyPair::shared();
    /// # let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// # let options = Options::builder()
    /// #     .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
    /// #     .secret_key("sk_live_unused")
    /// #     .jwt_key(keys.public_pem())
    /// #     .clock(Arc::new(FixedClock::new(now)))
    /// #     .build()?;
    /// #[derive(Debug, serde::Deserialize)]
    /// struct Claims {
    ///     sub: String,
    ///     metadata: Metadata,
    /// }
    /// #[derive(Debug, serde::Deserialize)]
    /// struct Metadata {
    ///     plan: String,
    /// }
    ///
    /// let token = TokenMinter::new(keys)
    ///     .issued_at(now)
    ///     .claim("metadata", serde_json::json!({ "plan": 3 }))
    ///     .mint();
    /// let request = TestRequest::get("https://app.example.com/").bearer(&token).build();
    /// let state = authenticate_request(&request, &options)?;
    /// let session = state.session().expect("signed in");
    ///
    /// let error = session.claims_as::<Claims>().unwrap_err();
    /// assert_eq!(error.claim(), "metadata.plan");
    /// assert!(error.to_string().starts_with("claim `metadata.plan`: invalid type: integer `3`"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn claims_as<T: DeserializeOwned>(&self) -> Result<T, ClaimsAsError> {
        claims_as(self.session_claims())
    }
}

impl MachineAuth {
    /// The machine token's custom [`claims`](Self::claims) as `T` (an empty object when the
    /// token has none, so a `T` whose fields all have defaults still reads).
    pub fn claims_as<T: DeserializeOwned>(&self) -> Result<T, ClaimsAsError> {
        match &self.claims {
            Some(claims) => claims_as(claims),
            None => claims_as(&Map::new()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Claims {
        plan: String,
        #[serde(default)]
        seats: u32,
        metadata: Option<Metadata>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Metadata {
        tier: String,
        roles: Vec<String>,
    }

    fn read(claims: Value) -> Result<Claims, ClaimsAsError> {
        claims_as(claims.as_object().unwrap())
    }

    #[test]
    fn claims_deserialize_into_the_type() {
        let claims = read(json!({
            "sub": "user_1", "plan": "pro",
            "metadata": {"tier": "gold", "roles": ["a", "b"]},
        }))
        .unwrap();
        assert_eq!(
            claims,
            Claims {
                plan: "pro".to_owned(),
                seats: 0,
                metadata: Some(Metadata {
                    tier: "gold".to_owned(),
                    roles: vec!["a".to_owned(), "b".to_owned()],
                }),
            }
        );
    }

    #[test]
    fn the_error_names_the_claim_that_failed() {
        let error = read(json!({"plan": 3})).unwrap_err();
        assert_eq!(error.claim(), "plan");
        assert!(
            error.to_string().starts_with("claim `plan`: invalid type"),
            "{error}"
        );

        let error = read(json!({"seats": 1})).unwrap_err();
        assert_eq!(error.claim(), "plan");
        assert_eq!(error.to_string(), "claim `plan`: missing field `plan`");

        let error = read(json!({"plan": "pro", "metadata": {"roles": []}})).unwrap_err();
        assert_eq!(error.claim(), "metadata.tier");

        let error =
            read(json!({"plan": "pro", "metadata": {"tier": "t", "roles": ["a", 2]}})).unwrap_err();
        assert_eq!(error.claim(), "metadata.roles[1]");
        assert!(std::error::Error::source(&error).is_some());

        let error = read(json!({"plan": "pro", "seats": -1})).unwrap_err();
        assert_eq!(error.claim(), "seats");
    }

    #[test]
    fn a_machine_without_claims_reads_an_empty_object() {
        #[derive(Deserialize)]
        struct Optional {
            #[serde(default)]
            team: Option<String>,
        }
        let jwt = crate::token::Jwt::decode(&format!(
            "{}.{}.c2ln",
            b64(&json!({"alg": "RS256"})),
            b64(&json!({"sub": "mch_1", "team": "core"}))
        ))
        .unwrap();
        let m2m = MachineAuth::from_m2m_jwt(&jwt).unwrap();
        assert_eq!(
            m2m.claims_as::<Optional>().unwrap().team.as_deref(),
            Some("core")
        );
        let bare = MachineAuth::from_api_key_response(
            &json!({"id": "ak_1", "subject": "user_1", "scopes": []}),
        )
        .unwrap();
        assert_eq!(bare.claims_as::<Optional>().unwrap().team, None);
        let error = bare.claims_as::<Claims>().unwrap_err();
        assert_eq!(error.claim(), "plan");
    }

    fn b64(v: &Value) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    }
}
