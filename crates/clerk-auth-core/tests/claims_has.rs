//! `has()` (§4.4): organization role/permission, billing feature/plan, reverification presets and
//! custom levels, and how the dimensions combine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use base64::Engine;
use clerk_auth_core::token::{FactorLevel, SessionAuthObject};
use clerk_auth_core::{Has, Jwt, Reverification, SessionAuth};
use serde_json::{json, Value};

fn auth(claims: Value) -> SessionAuth {
    let b = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let token = format!("{}.{}.c2ln", b(&json!({"alg": "RS256"})), b(&claims));
    SessionAuth::from_jwt(Arc::new(Jwt::decode(&token).unwrap())).unwrap()
}

fn v1_admin() -> SessionAuth {
    auth(json!({
        "sub": "user_1", "sid": "sess_1",
        "org_id": "org_1", "org_role": "org:admin",
        "org_permissions": ["org:members:manage", "org:billing:read"],
        "fea": "o:analytics,u:export,ou:dashboard", "pla": "o:pro,u:free",
        "fva": [5, 20]
    }))
}

fn fva(f1: f64, f2: f64) -> SessionAuth {
    auth(json!({"sub": "user_1", "fva": [f1, f2]}))
}

#[test]
fn empty_check_is_false() {
    assert!(!v1_admin().has(&Has::default()));
}

#[test]
fn no_user_id_is_false() {
    let a = auth(json!({"org_id": "org_1", "org_role": "org:admin", "org_permissions": []}));
    assert!(!a.has(&Has::role("org:admin")));
    let a =
        auth(json!({"sub": "", "org_id": "org_1", "org_role": "org:admin", "org_permissions": []}));
    assert!(!a.has(&Has::role("org:admin")));
}

#[test]
fn role() {
    let a = v1_admin();
    assert!(a.has(&Has::role("org:admin")));
    assert!(a.has(&Has::role("admin")));
    assert!(a.has(&Has::role("org:org:admin")));
    assert!(!a.has(&Has::role("org:member")));
    assert!(!a.has(&Has::role("Admin")));
    assert!(!a.has(&Has::role("")));
}

#[test]
fn role_needs_an_org_and_a_role() {
    let no_org = auth(json!({"sub": "u", "org_role": "org:admin"}));
    assert!(!no_org.has(&Has::role("org:admin")));
    let empty_org = auth(json!({"sub": "u", "org_id": "", "org_role": "org:admin"}));
    assert!(!empty_org.has(&Has::role("org:admin")));
    let no_role = auth(json!({"sub": "u", "org_id": "org_1"}));
    assert!(!no_role.has(&Has::role("org:admin")));
    // Role without the permissions array still works (the newer SDK no longer requires it).
    let no_perms = auth(json!({"sub": "u", "org_id": "org_1", "org_role": "org:admin"}));
    assert!(no_perms.has(&Has::role("admin")));
    assert!(!no_perms.has(&Has::permission("org:members:manage")));
}

#[test]
fn v2_role_without_prefix_in_claim() {
    let a = auth(json!({"sub": "u", "v": 2, "o": {"id": "org_1", "rol": "admin"}}));
    assert_eq!(a.org_role.as_deref(), Some("org:admin"));
    assert!(a.has(&Has::role("admin")));
    assert!(a.has(&Has::role("org:admin")));
}

#[test]
fn permission() {
    let a = v1_admin();
    assert!(a.has(&Has::permission("org:members:manage")));
    assert!(a.has(&Has::permission("members:manage")));
    assert!(!a.has(&Has::permission("org:members:read")));
    assert!(!a.has(&Has::permission("")));
}

#[test]
fn v2_permission_from_bitmask() {
    let a = auth(json!({
        "sub": "u", "v": 2, "fea": "o:members,o:billing,u:x",
        "o": {"id": "org_1", "rol": "admin", "per": "read,manage", "fpm": "3,2"}
    }));
    assert!(a.has(&Has::permission("org:members:read")));
    assert!(a.has(&Has::permission("org:billing:manage")));
    assert!(!a.has(&Has::permission("org:billing:read")));
}

#[test]
fn role_and_permission_both_required() {
    let a = v1_admin();
    assert!(a.has(&Has::role("admin").and_permission("org:members:manage")));
    assert!(!a.has(&Has::role("admin").and_permission("org:members:read")));
    assert!(!a.has(&Has::role("member").and_permission("org:members:manage")));
}

#[test]
fn feature() {
    let a = v1_admin();
    assert!(a.has(&Has::feature("analytics")));
    assert!(a.has(&Has::feature("org:analytics")));
    assert!(a.has(&Has::feature("o:analytics")));
    assert!(a.has(&Has::feature("organization:analytics")));
    assert!(!a.has(&Has::feature("user:analytics")));
    assert!(a.has(&Has::feature("user:export")));
    assert!(a.has(&Has::feature("u:export")));
    assert!(a.has(&Has::feature("export")));
    assert!(!a.has(&Has::feature("org:export")));
    assert!(a.has(&Has::feature("org:dashboard")));
    assert!(a.has(&Has::feature("user:dashboard")));
    assert!(!a.has(&Has::feature("team:analytics")));
    assert!(!a.has(&Has::feature("missing")));
    assert!(!a.has(&Has::feature("")));
}

#[test]
fn plan() {
    let a = v1_admin();
    assert!(a.has(&Has::plan("pro")));
    assert!(a.has(&Has::plan("org:pro")));
    assert!(!a.has(&Has::plan("user:pro")));
    assert!(a.has(&Has::plan("user:free")));
    assert!(!a.has(&Has::plan("enterprise")));
    assert!(a.has(&Has::feature("analytics").and_plan("pro")));
    assert!(!a.has(&Has::feature("analytics").and_plan("enterprise")));
}

#[test]
fn billing_claim_missing_or_malformed_fails() {
    let a = auth(json!({"sub": "u"}));
    assert!(!a.has(&Has::feature("x")));
    assert!(!a.has(&Has::plan("x")));
    let a = auth(json!({"sub": "u", "fea": "", "pla": 3}));
    assert!(!a.has(&Has::feature("x")));
    assert!(!a.has(&Has::plan("x")));
    let a = auth(json!({"sub": "u", "fea": "u:x,broken"}));
    assert!(!a.has(&Has::feature("x")));
}

#[test]
fn reverification_presets_at_their_boundaries() {
    // strict: second factor within 10 minutes.
    assert!(fva(100.0, 9.0).has(&Has::reverification(Reverification::Strict)));
    assert!(!fva(0.0, 10.0).has(&Has::reverification(Reverification::Strict)));
    // moderate: 60 minutes.
    assert!(fva(100.0, 59.0).has(&Has::reverification(Reverification::Moderate)));
    assert!(fva(100.0, 59.9).has(&Has::reverification(Reverification::Moderate)));
    assert!(!fva(0.0, 60.0).has(&Has::reverification(Reverification::Moderate)));
    // lax: 1440 minutes.
    assert!(fva(5000.0, 1439.0).has(&Has::reverification(Reverification::Lax)));
    assert!(!fva(0.0, 1440.0).has(&Has::reverification(Reverification::Lax)));
    // strict_mfa: both factors within 10 minutes.
    assert!(fva(9.0, 9.0).has(&Has::reverification(Reverification::StrictMfa)));
    assert!(!fva(10.0, 9.0).has(&Has::reverification(Reverification::StrictMfa)));
    assert!(!fva(9.0, 10.0).has(&Has::reverification(Reverification::StrictMfa)));
}

#[test]
fn reverification_without_second_factor() {
    // No second factor enabled: second_factor and multi_factor fall back to the first factor.
    assert!(fva(9.0, -1.0).has(&Has::reverification(Reverification::Strict)));
    assert!(!fva(10.0, -1.0).has(&Has::reverification(Reverification::Strict)));
    assert!(fva(9.0, -1.0).has(&Has::reverification(Reverification::StrictMfa)));
    assert!(!fva(10.0, -1.0).has(&Has::reverification(Reverification::StrictMfa)));
}

#[test]
fn reverification_without_first_factor() {
    assert!(fva(-1.0, 9.0).has(&Has::reverification(Reverification::Strict)));
    assert!(!fva(-1.0, 10.0).has(&Has::reverification(Reverification::Strict)));
    assert!(!fva(-1.0, 0.0).has(&Has::reverification(Reverification::StrictMfa)));
    assert!(
        !fva(-1.0, 0.0).has(&Has::reverification(Reverification::custom(
            FactorLevel::FirstFactor,
            10
        )))
    );
    assert!(!fva(-1.0, -1.0).has(&Has::reverification(Reverification::Lax)));
}

#[test]
fn reverification_custom() {
    let first = |m: f64| Has::reverification(Reverification::custom(FactorLevel::FirstFactor, m));
    assert!(fva(29.0, 500.0).has(&first(30.0)));
    assert!(!fva(30.0, 0.0).has(&first(30.0)));
    let second = |m: f64| Has::reverification(Reverification::custom(FactorLevel::SecondFactor, m));
    assert!(fva(500.0, 29.0).has(&second(30.0)));
    assert!(!fva(0.0, 30.0).has(&second(30.0)));
    let multi = |m: f64| Has::reverification(Reverification::custom(FactorLevel::MultiFactor, m));
    assert!(fva(1.0, 2.0).has(&multi(3.0)));
    assert!(!fva(1.0, 3.0).has(&multi(3.0)));
    // Fractional minutes are numbers > 0, as in JS.
    assert!(fva(0.0, 0.0).has(&second(0.5)));
    // Invalid configurations fail.
    assert!(!fva(0.0, 0.0).has(&second(0.0)));
    assert!(!fva(0.0, 0.0).has(&second(-5.0)));
    assert!(!fva(0.0, 0.0).has(&second(f64::NAN)));
}

#[test]
fn reverification_needs_a_well_formed_fva() {
    let check = Has::reverification(Reverification::Lax);
    for claims in [
        json!({"sub": "u"}),
        json!({"sub": "u", "fva": null}),
        json!({"sub": "u", "fva": [1]}),
        json!({"sub": "u", "fva": [1, 2, 3]}),
        json!({"sub": "u", "fva": ["1", 2]}),
        json!({"sub": "u", "fva": [1, -2]}),
        json!({"sub": "u", "fva": {"0": 1, "1": 2}}),
    ] {
        assert!(!auth(claims.clone()).has(&check), "{claims}");
    }
}

#[test]
fn presets_parse_from_clerk_strings() {
    assert_eq!(
        "strict_mfa".parse::<Reverification>().unwrap(),
        Reverification::StrictMfa
    );
    assert_eq!(
        "strict".parse::<Reverification>().unwrap(),
        Reverification::Strict
    );
    assert_eq!(
        "moderate".parse::<Reverification>().unwrap(),
        Reverification::Moderate
    );
    assert_eq!(
        "lax".parse::<Reverification>().unwrap(),
        Reverification::Lax
    );
    assert!("loose".parse::<Reverification>().is_err());
}

#[test]
fn dimensions_are_anded() {
    let a = v1_admin(); // fva [5, 20]
    assert!(a.has(&Has::role("admin").and_reverification(Reverification::Moderate)));
    assert!(!a.has(&Has::role("admin").and_reverification(Reverification::Strict)));
    assert!(!a.has(&Has::role("member").and_reverification(Reverification::Moderate)));
    assert!(a.has(&Has::role("admin").and_feature("analytics").and_plan("pro")));
    assert!(!a.has(&Has::role("admin").and_feature("nope")));
    assert!(!a.has(
        &Has::permission("org:members:manage")
            .and_feature("analytics")
            .and_reverification(Reverification::Strict)
    ));
}

#[test]
fn signed_out_objects_never_have() {
    assert!(!SessionAuthObject::signed_out(true).has(&Has::role("admin")));
}
