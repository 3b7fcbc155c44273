//! Machine auth objects: from Backend API responses and from verified JWT claims,
//! token-type detection, and the JSON shape.
//!
//! They live beside the code: the Backend API response mappings and the detection helpers are
//! crate-private.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;

use super::kind::machine_token_type;
use super::{ClaimsError, Jwt, MachineAuth, TokenType};
use serde_json::{json, Value};

fn token(header: Value, claims: Value) -> String {
    let b = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.c2ln", b(&header), b(&claims))
}

fn jwt(header: Value, claims: Value) -> Jwt {
    Jwt::decode(&token(header, claims)).unwrap()
}

const KEYS: [&str; 10] = [
    "tokenType",
    "id",
    "subject",
    "scopes",
    "name",
    "claims",
    "userId",
    "orgId",
    "machineId",
    "clientId",
];

fn assert_shape(v: &Value) {
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), KEYS.len());
    for k in KEYS {
        assert!(obj.contains_key(k), "{k}");
    }
}

#[test]
fn token_type_strings() {
    assert_eq!(TokenType::SessionToken.as_str(), "session_token");
    assert_eq!(TokenType::ApiKey.as_str(), "api_key");
    assert_eq!(TokenType::M2mToken.as_str(), "m2m_token");
    assert_eq!(TokenType::OauthToken.as_str(), "oauth_token");
    assert_eq!(TokenType::M2mToken.to_string(), "m2m_token");
    assert_eq!(
        serde_json::to_value(TokenType::OauthToken).unwrap(),
        json!("oauth_token")
    );
    assert!(!TokenType::SessionToken.is_machine());
    assert!(TokenType::ApiKey.is_machine());
}

#[test]
fn api_key_for_a_user() {
    let body = json!({
        "object": "api_key", "id": "ak_id_1", "type": "api_key", "name": "ci", "subject": "user_1",
        "scopes": ["read", "write"], "claims": {"team": "x"}, "revoked": false,
        "revocation_reason": null, "expired": false, "expiration": null, "created_by": "user_9",
        "description": null, "last_used_at": null, "created_at": 1, "updated_at": 2
    });
    let m = MachineAuth::from_api_key_response(&body).unwrap();
    assert_eq!(m.token_type, TokenType::ApiKey);
    assert_eq!(m.id, "ak_id_1");
    assert_eq!(m.subject, "user_1");
    assert_eq!(m.scopes, ["read", "write"]);
    assert_eq!(m.name.as_deref(), Some("ci"));
    assert_eq!(m.user_id.as_deref(), Some("user_1"));
    assert_eq!(m.org_id, None);
    assert_eq!(m.machine_id, None);
    assert_eq!(m.client_id, None);
    let v = serde_json::to_value(&m).unwrap();
    assert_shape(&v);
    assert_eq!(v["tokenType"], "api_key");
    assert_eq!(v["claims"], json!({"team": "x"}));
    assert_eq!(v["orgId"], Value::Null);
}

#[test]
fn api_key_for_an_org_and_other_subjects() {
    let m = MachineAuth::from_api_key_response(
        &json!({"id": "a", "subject": "org_1", "name": "n", "claims": null, "scopes": []}),
    )
    .unwrap();
    assert_eq!(m.org_id.as_deref(), Some("org_1"));
    assert_eq!(m.user_id, None);
    assert_eq!(m.claims, None);
    let m =
        MachineAuth::from_api_key_response(&json!({"id": "a", "subject": "mch_1", "scopes": []}))
            .unwrap();
    assert_eq!(m.org_id, None);
    assert_eq!(m.user_id, None);
}

#[test]
fn m2m_response() {
    let m = MachineAuth::from_m2m_response(&json!({
        "object": "machine_to_machine_token", "id": "mt_id", "subject": "mch_1", "scopes": ["mch_2"],
        "claims": {"k": 1}, "revoked": false, "expired": false, "created_at": 1, "updated_at": 1
    }))
    .unwrap();
    assert_eq!(m.token_type, TokenType::M2mToken);
    assert_eq!(m.machine_id.as_deref(), Some("mch_1"));
    assert_eq!(m.claims.as_ref().unwrap()["k"], 1);
    assert_eq!(m.user_id, None);
    let v = serde_json::to_value(&m).unwrap();
    assert_shape(&v);
    assert_eq!(v["machineId"], "mch_1");
    assert_eq!(v["name"], Value::Null);
}

#[test]
fn oauth_response() {
    let m = MachineAuth::from_oauth_response(&json!({
        "object": "clerk_idp_oauth_access_token", "id": "oat_id", "client_id": "client_1", "type": "oauth:access_token",
        "subject": "user_1", "scopes": ["email", "profile"], "revoked": false, "expired": false
    }))
    .unwrap();
    assert_eq!(m.token_type, TokenType::OauthToken);
    assert_eq!(m.user_id.as_deref(), Some("user_1"));
    assert_eq!(m.client_id.as_deref(), Some("client_1"));
    assert_eq!(m.scopes, ["email", "profile"]);
    assert_eq!(m.claims, None);
    let v = serde_json::to_value(&m).unwrap();
    assert_shape(&v);
    assert_eq!(v["clientId"], "client_1");
}

#[test]
fn responses_without_id_or_subject_are_errors() {
    assert!(matches!(
        MachineAuth::from_m2m_response(&json!({"subject": "mch_1"})),
        Err(ClaimsError::MissingField { field: "id", .. })
    ));
    assert!(matches!(
        MachineAuth::from_api_key_response(&json!({"id": "x"})),
        Err(ClaimsError::MissingField {
            field: "subject",
            ..
        })
    ));
    // Missing scopes are an empty list.
    assert!(
        MachineAuth::from_oauth_response(&json!({"id": "x", "subject": "user_1"}))
            .unwrap()
            .scopes
            .is_empty()
    );
}

#[test]
fn m2m_jwt_mapping() {
    let j = jwt(
        json!({"alg": "RS256", "cat": "cl_B7d4PD333AAA"}),
        json!({"iss": "https://x", "sub": "mch_1", "exp": 10, "nbf": 0, "iat": 0, "jti": "mt_jti",
               "scopes": "mch_2 mch_3", "aud": ["ignored"], "custom": true}),
    );
    let m = MachineAuth::from_m2m_jwt(&j).unwrap();
    assert_eq!(m.token_type, TokenType::M2mToken);
    assert_eq!(m.id, "mt_jti");
    assert_eq!(m.subject, "mch_1");
    assert_eq!(m.machine_id.as_deref(), Some("mch_1"));
    assert_eq!(m.scopes, ["mch_2", "mch_3"]);
    let claims = m.claims.unwrap();
    assert_eq!(claims.len(), 3);
    assert_eq!(claims["custom"], true);
    assert_eq!(claims["scopes"], "mch_2 mch_3");
    assert_eq!(claims["aud"], json!(["ignored"]));
}

#[test]
fn m2m_jwt_defaults() {
    let m = MachineAuth::from_m2m_jwt(&jwt(
        json!({"alg": "RS256"}),
        json!({"sub": "mch_1", "aud": ["mch_2"], "exp": 1}),
    ))
    .unwrap();
    assert_eq!(m.id, "");
    assert_eq!(m.scopes, ["mch_2"]);
    assert_eq!(m.claims.unwrap().len(), 1);
    let m = MachineAuth::from_m2m_jwt(&jwt(
        json!({"alg": "RS256"}),
        json!({"sub": "mch_1", "exp": 1, "iat": 0}),
    ))
    .unwrap();
    assert!(m.scopes.is_empty());
    assert_eq!(m.claims, None);
    assert!(MachineAuth::from_m2m_jwt(&jwt(json!({"alg": "RS256"}), json!({"exp": 1}))).is_err());
}

#[test]
fn oauth_jwt_mapping() {
    let m = MachineAuth::from_oauth_jwt(&jwt(
        json!({"alg": "RS256", "typ": "at+jwt"}),
        json!({"sub": "user_1", "jti": "oat_1", "client_id": "c_1", "scp": ["a", "b"], "scope": "x y"}),
    ))
    .unwrap();
    assert_eq!(m.token_type, TokenType::OauthToken);
    assert_eq!(m.id, "oat_1");
    assert_eq!(m.user_id.as_deref(), Some("user_1"));
    assert_eq!(m.client_id.as_deref(), Some("c_1"));
    assert_eq!(m.scopes, ["a", "b"]);
    let m = MachineAuth::from_oauth_jwt(&jwt(
        json!({"alg": "RS256", "typ": "at+jwt"}),
        json!({"sub": "user_1", "scope": "x y"}),
    ))
    .unwrap();
    assert_eq!(m.id, "");
    assert_eq!(m.client_id.as_deref(), Some(""));
    assert_eq!(m.scopes, ["x", "y"]);
    let m = MachineAuth::from_oauth_jwt(&jwt(
        json!({"alg": "RS256", "typ": "at+jwt"}),
        json!({"sub": "user_1"}),
    ))
    .unwrap();
    assert!(m.scopes.is_empty());
}

#[test]
fn unauthenticated_json_shape() {
    let v = MachineAuth::unauthenticated_json(TokenType::ApiKey);
    assert_shape(&v);
    assert_eq!(v["tokenType"], "api_key");
    assert_eq!(v["id"], Value::Null);
}

#[test]
fn detection() {
    assert_eq!(machine_token_type("mt_abc"), Some(TokenType::M2mToken));
    assert_eq!(machine_token_type("oat_abc"), Some(TokenType::OauthToken));
    assert_eq!(machine_token_type("ak_abc"), Some(TokenType::ApiKey));
    assert_eq!(machine_token_type("sk_abc"), None);
    assert_eq!(machine_token_type(""), None);
    let m2m = token(json!({"alg": "RS256"}), json!({"sub": "mch_1"}));
    assert_eq!(machine_token_type(&m2m), Some(TokenType::M2mToken));
    let oauth = token(
        json!({"alg": "RS256", "typ": "application/at+jwt"}),
        json!({"sub": "user_1"}),
    );
    assert_eq!(machine_token_type(&oauth), Some(TokenType::OauthToken));
    let session = token(
        json!({"alg": "RS256", "typ": "JWT"}),
        json!({"sub": "user_1"}),
    );
    assert_eq!(machine_token_type(&session), None);
    assert_eq!(machine_token_type("a.b.c"), None);
}

#[test]
fn machine_objects_never_have() {
    let m =
        MachineAuth::from_m2m_response(&json!({"id": "mt_1", "subject": "mch_1", "scopes": []}))
            .unwrap();
    assert!(!m.has(&super::Has::role("admin")));
}
