//! No arithmetic on claim values can overflow: validly signed tokens whose numeric claims are
//! `i64::MIN`, `i64::MAX`, `u64::MAX`, `±1e308`, negative or fractional go through the
//! decision, its explanation (which estimates clock skew and describes every time check), the
//! auth object and `has()`, in a debug build (where an overflow panics), with the verdict the
//! time checks call for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{SystemTime, UNIX_EPOCH};

use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::token::{FactorLevel, Reverification};
use clerk_auth_core::verify::JwsAlgorithm;
use clerk_auth_core::{
    authenticate_request, explain_request, try_authenticate_request, Has, Options,
};
use serde_json::{json, Value};

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";

/// Extreme numbers, as JSON text (so `u64::MAX` stays an integer).
const EXTREMES: &[&str] = &[
    "-9223372036854775808", // i64::MIN
    "9223372036854775807",  // i64::MAX
    "18446744073709551615", // u64::MAX
    "1e308",
    "-1e308",
    "1.7976931348623157e308", // f64::MAX
    "-1",
    "0",
    "-0.5",
    "4.9e-324",
];

fn options() -> Options {
    Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key("sk_live_overflow_tests")
        .jwt_key(KeyPair::shared().public_pem())
        .build()
        .unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A validly signed token whose payload is `claims` with `extra` spliced in as raw JSON.
fn token_with_raw(claims: &Value, extra: &str) -> String {
    let mut payload = claims.to_string();
    payload.pop(); // the closing brace
    payload.push_str(extra);
    payload.push('}');
    let header = json!({"alg": "RS256", "kid": "ins_2test", "typ": "JWT"}).to_string();
    KeyPair::shared().sign_raw(&header, &payload, JwsAlgorithm::Rs256)
}

/// Good claims without `name` (to be spliced in).
fn claims_without(name: &str) -> Value {
    let mut claims = TokenMinter::new(KeyPair::shared()).claims_json();
    claims.as_object_mut().unwrap().remove(name);
    claims
}

/// Decides `token` from the header and from a cookie, blocking and not, and explains it; returns
/// the header decision's reason (`None` when signed in).
fn decide_everywhere(options: &Options, token: &str) -> Option<String> {
    let header = TestRequest::get("https://app.example.com/api/me")
        .bearer(token)
        .build();
    let cookie = TestRequest::get("https://app.example.com/dashboard")
        .header("cookie", format!("__session={token}; __client_uat=1"))
        .header("sec-fetch-dest", "document")
        .build();
    let state = authenticate_request(&header, options).unwrap();
    let inline = try_authenticate_request(&header, options).unwrap();
    assert_eq!(inline.status(), state.status());
    let _ = authenticate_request(&cookie, options).unwrap();
    for request in [&header, &cookie] {
        let explanation = explain_request(request, options);
        assert!(!explanation.to_string().is_empty());
    }
    if let Some(session) = state.session() {
        let _ = session.factor_verification_ages();
        for check in [
            Has::reverification(Reverification::StrictMfa),
            Has::reverification(Reverification::Lax),
            Has::reverification(Reverification::custom(FactorLevel::MultiFactor, 1e308)),
            Has::reverification(Reverification::custom(
                FactorLevel::FirstFactor,
                f64::MIN_POSITIVE,
            )),
        ] {
            let _ = session.has(&check);
        }
    }
    let _ = state.auth_json_string();
    state.reason().map(|r| r.as_str().into_owned())
}

#[test]
fn extreme_time_claims_never_overflow_and_get_the_verdict_of_their_value() {
    let options = options();
    let now = now() as f64;
    for name in ["exp", "nbf", "iat"] {
        for raw in EXTREMES {
            let token = token_with_raw(&claims_without(name), &format!(",\"{name}\":{raw}"));
            let reason = decide_everywhere(&options, &token);
            let value: f64 = raw.parse().unwrap();
            let want = match name {
                "exp" if value <= now => {
                    Some("session-token-expired-refresh-non-eligible-no-refresh-cookie")
                }
                "nbf" if value > now + 5.0 => Some("session-token-nbf"),
                "iat" if value > now + 5.0 => Some("session-token-iat-in-the-future"),
                _ => None,
            };
            assert_eq!(reason.as_deref(), want, "{name} = {raw}");
        }
    }
}

#[test]
fn a_future_nbf_with_an_extreme_iat_estimates_skew_without_overflow() {
    // `nbf` fails, so the skew detector estimates the offset from `iat`: `-1e308` (and
    // `i64::MIN`) make that estimate `i64::MIN`, whose `abs()` overflowed.
    let options = options();
    let nbf = now() + 3600;
    for raw in [
        "-1e308",
        "-9223372036854775808",
        "1e308",
        "18446744073709551615",
    ] {
        let mut claims = claims_without("iat");
        claims["nbf"] = json!(nbf);
        let token = token_with_raw(&claims, &format!(",\"iat\":{raw}"));
        let reason = decide_everywhere(&options, &token);
        assert_eq!(reason.as_deref(), Some("session-token-nbf"), "iat = {raw}");
    }
}

#[test]
fn extreme_fva_and_permission_bitmasks_never_overflow() {
    let options = options();
    for raw in EXTREMES {
        let token = token_with_raw(&claims_without("fva"), &format!(",\"fva\":[{raw},{raw}]"));
        assert_eq!(decide_everywhere(&options, &token), None, "fva = {raw}");
    }
    for fpm in [
        "18446744073709551615",
        "18446744073709551616",
        "340282366920938463463374607431768211455",
        &"9".repeat(5000),
        "-1",
        "1e308",
    ] {
        let token = TokenMinter::new(KeyPair::shared())
            .issued_at(SystemTime::now())
            .v2()
            .claim("fea", json!("o:members,o:billing"))
            .claim(
                "o",
                json!({"id": "org_1", "rol": "admin", "per": "read,manage", "fpm": format!("{fpm},{fpm}")}),
            )
            .mint();
        assert_eq!(decide_everywhere(&options, &token), None, "fpm = {fpm}");
    }
}

#[test]
fn numbers_beyond_f64_are_a_malformed_token_not_a_panic() {
    let options = options();
    for raw in ["1e400", "-1e400"] {
        let token = token_with_raw(&claims_without("exp"), &format!(",\"exp\":{raw}"));
        let reason = decide_everywhere(&options, &token);
        assert!(reason.is_some(), "exp = {raw} signed in");
    }
}

#[test]
fn an_extreme_client_uat_never_overflows() {
    let options = options();
    let token = TokenMinter::new(KeyPair::shared())
        .issued_at(SystemTime::now())
        .mint();
    for uat in [
        "9223372036854775807",
        "-9223372036854775808",
        "99999999999999999999999999",
        "-99999999999999999999999999",
        "1e308",
    ] {
        let request = TestRequest::get("https://app.example.com/dashboard")
            .header("cookie", format!("__session={token}; __client_uat={uat}"))
            .header("sec-fetch-dest", "document")
            .build();
        let _ = authenticate_request(&request, &options).unwrap();
        let _ = explain_request(&request, &options).to_string();
    }
}
