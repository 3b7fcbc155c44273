//! Authenticated machines: [`MachineAuth`] for an API key, an M2M token or an OAuth
//! access token, built from a Backend API verification response or a verified JWT.

use serde_json::{Map, Value};

use super::claims::ClaimsError;
use super::has::Has;
use super::jwt::Jwt;
use super::kind::TokenType;

/// An authenticated machine (Clerk's `authenticatedMachineObject`): an API key, an M2M
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

    /// From the Backend API's `POST /api_keys/verify` response.
    pub(crate) fn from_api_key_response(body: &Value) -> Result<Self, ClaimsError> {
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

    /// From the Backend API's `POST /m2m_tokens/verify` response.
    pub(crate) fn from_m2m_response(body: &Value) -> Result<Self, ClaimsError> {
        let (id, subject, scopes) = response_common(body)?;
        let mut auth = Self::base(TokenType::M2mToken, id, subject, scopes);
        auth.claims = body.get("claims").and_then(Value::as_object).cloned();
        auth.machine_id = Some(auth.subject.clone());
        Ok(auth)
    }

    /// From the Backend API's `POST /oauth_applications/access_tokens/verify` response.
    pub(crate) fn from_oauth_response(body: &Value) -> Result<Self, ClaimsError> {
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

    /// From a verified M2M JWT: `id = jti ?? ""`, `subject = sub`,
    /// `scopes = scopes.split(" ")`, else `aud`, else `[]`; `claims` = the payload without
    /// `iss`, `sub`, `exp`, `nbf`, `iat`, `jti` (`None` if nothing is left).
    pub(crate) fn from_m2m_jwt(jwt: &Jwt) -> Result<Self, ClaimsError> {
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

    /// From a verified OAuth access-token JWT: `id = jti ?? ""`, `subject = sub`,
    /// `client_id ?? ""`, `scopes = scp`, else `scope.split(" ")`, else `[]`.
    pub(crate) fn from_oauth_jwt(jwt: &Jwt) -> Result<Self, ClaimsError> {
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
