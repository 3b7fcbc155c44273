//! Session claims → auth object (§4.1–4.3): v1 and v2 claims, the permission bitmask, pending
//! sessions and the JSON shape.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use clerk_auth_core::token::{ClaimsError, SessionAuthObject};
use clerk_auth_core::{Jwt, SessionAuth};
use serde_json::{json, Value};

fn jwt(claims: Value) -> Arc<Jwt> {
    let b = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let token = format!(
        "{}.{}.c2ln",
        b(&json!({"alg": "RS256", "kid": "ins_1", "typ": "JWT"})),
        b(&claims)
    );
    Arc::new(Jwt::decode(&token).unwrap())
}

fn auth(claims: Value) -> SessionAuth {
    SessionAuth::from_jwt(jwt(claims)).unwrap()
}

#[test]
fn v1_claims() {
    let a = auth(json!({
        "sub": "user_1", "sid": "sess_1", "sts": "active", "act": {"sub": "user_admin"},
        "org_id": "org_1", "org_role": "org:admin", "org_slug": "acme",
        "org_permissions": ["org:members:read", "org:members:manage"],
        "fva": [3, -1], "exp": 1, "iat": 0
    }));
    assert_eq!(a.user_id.as_deref(), Some("user_1"));
    assert_eq!(a.session_id.as_deref(), Some("sess_1"));
    assert_eq!(a.session_status.as_deref(), Some("active"));
    assert_eq!(a.actor, Some(json!({"sub": "user_admin"})));
    assert_eq!(a.org_id.as_deref(), Some("org_1"));
    assert_eq!(a.org_role.as_deref(), Some("org:admin"));
    assert_eq!(a.org_slug.as_deref(), Some("acme"));
    assert_eq!(
        a.org_permissions,
        Some(vec![
            "org:members:read".to_owned(),
            "org:members:manage".to_owned()
        ])
    );
    assert_eq!(a.factor_verification_age, Some(json!([3, -1])));
    assert_eq!(a.factor_verification_ages(), Some((3.0, -1.0)));
    assert_eq!(a.session_claims()["exp"], json!(1));
    assert!(!a.is_pending());
}

#[test]
fn v1_without_org() {
    let a = auth(json!({"sub": "user_1", "sid": "sess_1"}));
    assert_eq!(a.org_id, None);
    assert_eq!(a.org_role, None);
    assert_eq!(a.org_slug, None);
    assert_eq!(a.org_permissions, None);
    assert_eq!(a.session_status, None);
    assert_eq!(a.actor, None);
    assert_eq!(a.factor_verification_age, None);
}

#[test]
fn v1_ignores_v2_fields() {
    let a =
        auth(json!({"sub": "u", "v": 1, "o": {"id": "org_2", "rol": "admin"}, "org_id": "org_1"}));
    assert_eq!(a.org_id.as_deref(), Some("org_1"));
    assert_eq!(a.org_role, None);
}

#[test]
fn v2_spec_bitmask_example() {
    let a = auth(json!({
        "sub": "user_1", "sid": "sess_1", "v": 2,
        "fea": "o:members,o:billing,u:x",
        "o": {"id": "org_1", "slg": "acme", "rol": "admin", "per": "read,manage", "fpm": "3,2"}
    }));
    assert_eq!(a.org_id.as_deref(), Some("org_1"));
    assert_eq!(a.org_slug.as_deref(), Some("acme"));
    assert_eq!(a.org_role.as_deref(), Some("org:admin"));
    assert_eq!(
        a.org_permissions.as_deref().unwrap(),
        [
            "org:members:read",
            "org:members:manage",
            "org:billing:manage"
        ]
    );
}

#[test]
fn v2_as_float_two() {
    let a = auth(json!({"sub": "u", "v": 2.0, "o": {"id": "org_1"}}));
    assert_eq!(a.org_id.as_deref(), Some("org_1"));
    assert_eq!(a.org_permissions, Some(vec![]));
}

#[test]
fn v2_feature_scopes_and_order() {
    // Only o/ou/uo features are organization features; fpm follows their order.
    let a = auth(json!({
        "sub": "u", "v": 2,
        "fea": "u:solo, ou:dash ,o:reports,uo:api,zz:ignored",
        "o": {"id": "org_1", "rol": "member", "per": "read, write", "fpm": "1,2,3"}
    }));
    assert_eq!(
        a.org_permissions.as_deref().unwrap(),
        [
            "org:dash:read",
            "org:reports:write",
            "org:api:read",
            "org:api:write"
        ]
    );
}

#[test]
fn v2_missing_per_or_fpm_gives_no_permissions() {
    for o in [
        json!({"id": "org_1", "rol": "admin", "per": "read"}),
        json!({"id": "org_1", "rol": "admin", "fpm": "1"}),
        json!({"id": "org_1", "rol": "admin", "per": "", "fpm": "1"}),
    ] {
        let a = auth(json!({"sub": "u", "v": 2, "fea": "o:members", "o": o}));
        assert_eq!(a.org_permissions, Some(vec![]));
    }
}

#[test]
fn v2_fewer_fpm_entries_than_features_and_bad_entries() {
    let a = auth(json!({
        "sub": "u", "v": 2, "fea": "o:a,o:b,o:c",
        "o": {"id": "org_1", "per": "read,manage", "fpm": "x1,2"}
    }));
    // "x1" is not decimal: no bits for feature a; c has no entry.
    assert_eq!(a.org_permissions.as_deref().unwrap(), ["org:b:manage"]);
}

#[test]
fn v2_bits_beyond_permission_names_are_ignored() {
    let a = auth(json!({
        "sub": "u", "v": 2, "fea": "o:a", "o": {"id": "org_1", "per": "read", "fpm": "7"}
    }));
    assert_eq!(a.org_permissions.as_deref().unwrap(), ["org:a:read"]);
}

#[test]
fn v2_arbitrary_precision_fpm() {
    // 2^70 + 1: bits 0 and 70.
    let per: Vec<String> = (0..71).map(|i| format!("p{i}")).collect();
    let a = auth(json!({
        "sub": "u", "v": 2, "fea": "o:big",
        "o": {"id": "org_1", "per": per.join(","), "fpm": "1180591620717411303425"}
    }));
    assert_eq!(
        a.org_permissions.as_deref().unwrap(),
        ["org:big:p0", "org:big:p70"]
    );
}

#[test]
fn v2_ten_thousand_digit_fpm_does_not_hang() {
    let per: Vec<String> = (0..200).map(|i| format!("p{i}")).collect();
    let fpm = format!("1{}", "0".repeat(9_999));
    let start = Instant::now();
    let a = auth(json!({
        "sub": "u", "v": 2, "fea": "o:big",
        "o": {"id": "org_1", "per": per.join(","), "fpm": fpm}
    }));
    assert!(start.elapsed() < Duration::from_secs(2));
    // 10^9999 = 2^9999 · 5^9999: the low 200 bits are all zero.
    assert_eq!(a.org_permissions, Some(vec![]));
}

#[test]
fn v2_without_o_has_no_org_fields() {
    let a = auth(json!({"sub": "u", "v": 2, "fea": "u:x", "pla": "u:free"}));
    assert_eq!(a.org_id, None);
    assert_eq!(a.org_role, None);
    assert_eq!(a.org_slug, None);
    assert_eq!(a.org_permissions, None);
}

#[test]
fn v2_malformed_fea_is_an_error() {
    let err = SessionAuth::from_jwt(jwt(json!({
        "sub": "u", "v": 2, "fea": "o:a,broken", "o": {"id": "org_1"}
    })))
    .unwrap_err();
    assert!(
        matches!(err, ClaimsError::MissingColon { claim: "fea", ref element } if element == "broken")
    );
    assert_eq!(
        err.to_string(),
        "Invalid claim element (missing colon): broken"
    );
    // A trailing comma is an empty item, malformed too.
    assert!(SessionAuth::from_jwt(jwt(
        json!({"sub": "u", "v": 2, "fea": "o:a,", "o": {"id": "org_1"}})
    ))
    .is_err());
    // Without an active organization Clerk does not parse `fea` when building the object.
    assert!(SessionAuth::from_jwt(jwt(json!({"sub": "u", "v": 2, "fea": "broken"}))).is_ok());
    // v1 never parses `fea`.
    assert!(
        SessionAuth::from_jwt(jwt(json!({"sub": "u", "fea": "broken", "org_id": "o"}))).is_ok()
    );
}

#[test]
fn v2_non_string_claims_are_errors() {
    for claims in [
        json!({"sub": "u", "v": 2, "fea": 5, "o": {"id": "org_1"}}),
        json!({"sub": "u", "v": 2, "fea": "o:a", "o": {"id": "org_1", "per": ["read"], "fpm": "1"}}),
        json!({"sub": "u", "v": 2, "fea": "o:a", "o": {"id": "org_1", "per": "read", "fpm": 1}}),
    ] {
        assert!(
            matches!(
                SessionAuth::from_jwt(jwt(claims.clone())),
                Err(ClaimsError::NotAString { .. })
            ),
            "{claims}"
        );
    }
}

#[test]
fn pending_sessions() {
    let a = auth(json!({"sub": "user_1", "sid": "sess_1", "sts": "pending"}));
    assert!(a.is_pending());
    match a.clone().to_auth(true) {
        SessionAuthObject::SignedOut { session_status } => {
            assert_eq!(session_status.as_deref(), Some("pending"))
        }
        other => panic!("expected signed out, got {other:?}"),
    }
    let signed_in = a.to_auth(false);
    assert!(signed_in.is_authenticated());
    assert_eq!(
        signed_in.session().unwrap().session_status.as_deref(),
        Some("pending")
    );

    let active = auth(json!({"sub": "user_1", "sts": "active"}));
    assert!(active.to_auth(true).is_authenticated());
}

#[test]
fn json_shape_signed_in() {
    let a = auth(json!({
        "sub": "user_1", "sid": "sess_1", "v": 2, "fea": "o:members",
        "o": {"id": "org_1", "slg": "acme", "rol": "admin", "per": "read", "fpm": "1"},
        "fva": [1, 2]
    }));
    let v = serde_json::to_value(&a).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "tokenType",
        "userId",
        "sessionId",
        "sessionStatus",
        "orgId",
        "orgRole",
        "orgSlug",
        "orgPermissions",
        "actor",
        "factorVerificationAge",
        "sessionClaims",
    ];
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(sorted, expected);
    assert_eq!(v["tokenType"], "session_token");
    assert_eq!(v["userId"], "user_1");
    assert_eq!(v["sessionId"], "sess_1");
    assert_eq!(v["sessionStatus"], Value::Null);
    assert_eq!(v["orgId"], "org_1");
    assert_eq!(v["orgRole"], "org:admin");
    assert_eq!(v["orgSlug"], "acme");
    assert_eq!(v["orgPermissions"], json!(["org:members:read"]));
    assert_eq!(v["actor"], Value::Null);
    assert_eq!(v["factorVerificationAge"], json!([1, 2]));
    assert_eq!(v["sessionClaims"]["sub"], "user_1");
    assert_eq!(v["sessionClaims"]["o"]["rol"], "admin");
}

#[test]
fn json_shape_without_org_is_null() {
    let v = serde_json::to_value(auth(json!({"sub": "user_1", "sid": "sess_1"}))).unwrap();
    for k in [
        "orgId",
        "orgRole",
        "orgSlug",
        "orgPermissions",
        "actor",
        "factorVerificationAge",
        "sessionStatus",
    ] {
        assert_eq!(v[k], Value::Null, "{k}");
    }
}

#[test]
fn json_shape_signed_out() {
    let v = serde_json::to_value(SessionAuthObject::signed_out(false)).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 11);
    assert_eq!(v["tokenType"], "session_token");
    assert_eq!(v["sessionStatus"], Value::Null);
    assert_eq!(v["sessionClaims"], Value::Null);
    let v = serde_json::to_value(SessionAuthObject::signed_out(true)).unwrap();
    assert_eq!(v["sessionStatus"], "pending");
    assert_eq!(v["userId"], Value::Null);
}

#[test]
fn debug_does_not_show_the_token() {
    let j = jwt(json!({"sub": "user_1"}));
    let raw = j.as_str().to_owned();
    let a = SessionAuth::from_jwt(j).unwrap();
    assert_eq!(a.token(), raw);
    assert!(!format!("{a:?}").contains(&raw));
}
