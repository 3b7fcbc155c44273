//! §3.3 `verifyJwt`: every check, its exact order, Clerk's exact messages, and boundary times.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod verify_support;

use std::time::{Duration, SystemTime};

use clerk_auth_core::verify::{JwsAlgorithm, VerifyOptions};
use clerk_auth_core::{
    Jwt, TokenCarrier, TokenVerificationErrorAction as Action, TokenVerificationErrorReason as R,
};
use serde_json::json;
use verify_support::*;

fn check(
    token: &str,
    opts: &VerifyOptions,
    now: SystemTime,
) -> Result<(), clerk_auth_core::TokenVerificationError> {
    let jwt = Jwt::decode(token)?;
    verify_with_key(&jwt, keys().verification_key(), opts, now)
}

fn check_now(token: &str) -> Result<(), clerk_auth_core::TokenVerificationError> {
    check(token, &VerifyOptions::default(), at(NOW))
}

#[test]
fn a_realistic_session_token_verifies() {
    check_now(&minter().mint()).unwrap();
    check_now(&minter().v2().mint()).unwrap();
}

// ---- step 1: typ ----

#[test]
fn typ_absent_or_jwt_passes_by_default() {
    check_now(&minter().without_header("typ").mint()).unwrap();
    check_now(&minter().header("typ", json!("JWT")).mint()).unwrap();
}

#[test]
fn typ_other_is_token_invalid_with_clerks_message() {
    let e = err(check_now(&minter().header("typ", json!("at+jwt")).mint()));
    assert_eq!(e.reason, R::TokenInvalid);
    assert_eq!(e.message, r#"Invalid JWT type "at+jwt". Expected "JWT"."#);
    assert_eq!(e.action, Some(Action::EnsureClerkJwt));
    // Case-sensitive, and a non-string typ is rendered as JSON.
    let e = err(check_now(&minter().header("typ", json!("jwt")).mint()));
    assert_eq!(e.message, r#"Invalid JWT type "jwt". Expected "JWT"."#);
    let e = err(check_now(&minter().header("typ", json!(null)).mint()));
    assert_eq!(e.message, r#"Invalid JWT type null. Expected "JWT"."#);
    let e = err(check_now(&minter().header("typ", json!(["JWT"])).mint()));
    assert_eq!(e.message, r#"Invalid JWT type ["JWT"]. Expected "JWT"."#);
}

#[test]
fn configured_header_types() {
    let opts = VerifyOptions {
        header_type: Some(vec!["at+jwt".into(), "application/at+jwt".into()]),
        ..VerifyOptions::default()
    };
    check(
        &minter().header("typ", json!("at+jwt")).mint(),
        &opts,
        at(NOW),
    )
    .unwrap();
    let e = err(check(&minter().mint(), &opts, at(NOW)));
    assert_eq!(
        e.message,
        r#"Invalid JWT type "JWT". Expected "at+jwt, application/at+jwt"."#
    );
    // With a configured list, an absent typ is not accepted.
    let e = err(check(
        &minter().without_header("typ").mint(),
        &opts,
        at(NOW),
    ));
    assert_eq!(e.reason, R::TokenInvalid);
    assert_eq!(
        e.message,
        r#"Invalid JWT type undefined. Expected "at+jwt, application/at+jwt"."#
    );
}

// ---- step 2: alg ----

#[test]
fn unsupported_algorithms_are_token_invalid_algorithm() {
    for alg in [
        "none", "NONE", "nOnE", "HS256", "ES256", "PS256", "EdDSA", "rs256", "RS1", "",
    ] {
        let token = minter().header("alg", json!(alg)).mint();
        let e = err(check_now(&token));
        assert_eq!(e.reason, R::TokenInvalidAlgorithm, "{alg}");
        assert_eq!(
            e.message,
            format!(r#"Invalid JWT algorithm "{alg}". Supported: RS256,RS384,RS512."#)
        );
        assert_eq!(e.action, Some(Action::EnsureClerkJwt));
    }
    let e = err(check_now(&minter().without_header("alg").mint()));
    assert_eq!(
        e.message,
        "Invalid JWT algorithm undefined. Supported: RS256,RS384,RS512."
    );
    let e = err(check_now(&minter().header("alg", json!(256)).mint()));
    assert_eq!(
        e.message,
        "Invalid JWT algorithm 256. Supported: RS256,RS384,RS512."
    );
}

#[test]
fn typ_is_checked_before_alg() {
    let token = minter()
        .header("typ", json!("x"))
        .header("alg", json!("none"))
        .mint();
    assert_eq!(reason(check_now(&token)), R::TokenInvalid);
}

// ---- step 3: signature ----

#[test]
fn rs384_and_rs512_tokens_fail_against_an_rs256_key() {
    for alg in [JwsAlgorithm::Rs384, JwsAlgorithm::Rs512] {
        let token = minter().algorithm(alg).mint();
        let e = err(check_now(&token));
        assert_eq!(e.reason, R::TokenVerificationFailed);
        assert_eq!(
            e.message,
            r#"Error verifying JWT signature. Error: JWK "alg" does not match the requested algorithm"#
        );
        assert_eq!(e.action, Some(Action::EnsureClerkJwt));
    }
}

#[test]
fn rs384_and_rs512_verify_with_a_matching_jwk_key() {
    for alg in [JwsAlgorithm::Rs384, JwsAlgorithm::Rs512] {
        let mut jwk = keys().jwk("ins_1");
        jwk["alg"] = json!(alg.as_str());
        let key = || clerk_auth_core::VerificationKey::from_jwk(&jwk).unwrap();
        assert_eq!(key().algorithm(), alg);
        let jwt = Jwt::decode(&minter().algorithm(alg).mint()).unwrap();
        verify_with_key(&jwt, key(), &VerifyOptions::default(), at(NOW)).unwrap();
        // ... and an RS256 token fails against that key.
        let jwt = Jwt::decode(&minter().mint()).unwrap();
        assert_eq!(
            reason(verify_with_key(
                &jwt,
                key(),
                &VerifyOptions::default(),
                at(NOW)
            )),
            R::TokenVerificationFailed
        );
    }
}

#[test]
fn a_bad_signature_is_token_invalid_signature() {
    let token = other_keys().sign(minter().header_json(), minter().claims_json());
    let e = err(check_now(&token));
    assert_eq!(e.reason, R::TokenInvalidSignature);
    assert_eq!(e.message, "JWT signature is invalid.");
    assert_eq!(e.action, None);
    assert_eq!(
        e.full_message(TokenCarrier::Header),
        "JWT signature is invalid. (reason=token-invalid-signature, token-carrier=header)"
    );
}

#[test]
fn claims_are_checked_only_after_the_signature() {
    // Expired, no sub, wrong azp: with a bad signature only the signature is reported.
    let claims = json!({"exp": 1, "azp": "https://evil.example"});
    let token = other_keys().sign(minter().header_json(), claims);
    let opts = VerifyOptions {
        authorized_parties: vec!["https://app.example".into()],
        ..VerifyOptions::default()
    };
    assert_eq!(
        reason(check(&token, &opts, at(NOW))),
        R::TokenInvalidSignature
    );
}

// ---- step 4: sub ----

#[test]
fn sub_must_be_a_string() {
    let e = err(check_now(&minter().without_claim("sub").mint()));
    assert_eq!(e.reason, R::TokenVerificationFailed);
    assert_eq!(
        e.message,
        "Subject claim (sub) is required and must be a string. Received undefined."
    );
    assert_eq!(e.action, Some(Action::EnsureClerkJwt));
    let e = err(check_now(&minter().claim("sub", json!(123)).mint()));
    assert_eq!(
        e.message,
        "Subject claim (sub) is required and must be a string. Received 123."
    );
    let e = err(check_now(&minter().claim("sub", json!(null)).mint()));
    assert_eq!(
        e.message,
        "Subject claim (sub) is required and must be a string. Received null."
    );
    // An empty string is a string.
    check_now(&minter().claim("sub", json!("")).mint()).unwrap();
}

#[test]
fn sub_is_checked_before_time_claims() {
    let token = minter().without_claim("sub").claim("exp", json!(1)).mint();
    assert_eq!(reason(check_now(&token)), R::TokenVerificationFailed);
}

// ---- step 5: aud ----

fn aud_opts(list: &[&str]) -> VerifyOptions {
    VerifyOptions {
        audience: list.iter().map(|s| (*s).to_owned()).collect(),
        ..VerifyOptions::default()
    }
}

#[test]
fn audience_string() {
    let opts = aud_opts(&["api-a", "api-b"]);
    check(
        &minter().claim("aud", json!("api-b")).mint(),
        &opts,
        at(NOW),
    )
    .unwrap();
    let e = err(check(
        &minter().claim("aud", json!("api-c")).mint(),
        &opts,
        at(NOW),
    ));
    assert_eq!(e.reason, R::TokenVerificationFailed);
    assert_eq!(
        e.message,
        r#"Invalid JWT audience claim (aud) "api-c". Is not included in "["api-a","api-b"]"."#
    );
    assert_eq!(e.action, Some(Action::EnsureClerkJwt));
}

#[test]
fn audience_array() {
    let opts = aud_opts(&["api-a"]);
    check(
        &minter().claim("aud", json!(["x", "api-a"])).mint(),
        &opts,
        at(NOW),
    )
    .unwrap();
    let e = err(check(
        &minter().claim("aud", json!(["x", "y"])).mint(),
        &opts,
        at(NOW),
    ));
    assert_eq!(e.reason, R::TokenVerificationFailed);
    assert_eq!(
        e.message,
        r#"Invalid JWT audience claim array (aud) ["x","y"]. Is not included in "["api-a"]"."#
    );
}

#[test]
fn audience_is_checked_only_when_both_sides_are_non_empty() {
    // No configured audience: anything goes.
    check_now(&minter().claim("aud", json!("whatever")).mint()).unwrap();
    // Configured list of only empty strings counts as empty.
    check(
        &minter().claim("aud", json!("x")).mint(),
        &aud_opts(&[""]),
        at(NOW),
    )
    .unwrap();
    let opts = aud_opts(&["api-a"]);
    // Token without aud, or with only falsy entries: not checked.
    for aud in [
        json!(null),
        json!(""),
        json!([]),
        json!(["", null, 0, false]),
        json!(0),
    ] {
        check(&minter().claim("aud", aud.clone()).mint(), &opts, at(NOW))
            .unwrap_or_else(|e| panic!("{aud}: {e}"));
    }
    check(&minter().mint(), &opts, at(NOW)).unwrap();
    // Other types pass (Clerk checks only strings and arrays of strings).
    for aud in [json!(5), json!({"a": 1}), json!(["x", 1]), json!(true)] {
        check(&minter().claim("aud", aud.clone()).mint(), &opts, at(NOW))
            .unwrap_or_else(|e| panic!("{aud}: {e}"));
    }
}

#[test]
fn audience_is_checked_before_azp() {
    let opts = VerifyOptions {
        audience: vec!["a".into()],
        authorized_parties: vec!["https://app.example".into()],
        ..VerifyOptions::default()
    };
    let token = minter().claim("aud", json!("b")).mint();
    assert_eq!(
        reason(check(&token, &opts, at(NOW))),
        R::TokenVerificationFailed
    );
}

// ---- step 6: azp ----

fn azp_opts() -> VerifyOptions {
    VerifyOptions {
        authorized_parties: vec!["https://a.example".into(), "https://b.example".into()],
        ..VerifyOptions::default()
    }
}

#[test]
fn azp_must_match_an_authorized_party() {
    check(
        &minter().azp("https://b.example").mint(),
        &azp_opts(),
        at(NOW),
    )
    .unwrap();
    let e = err(check(
        &minter().azp("https://c.example").mint(),
        &azp_opts(),
        at(NOW),
    ));
    assert_eq!(e.reason, R::TokenInvalidAuthorizedParties);
    assert_eq!(
        e.message,
        r#"Invalid JWT Authorized party claim (azp) "https://c.example". Expected "https://a.example,https://b.example"."#
    );
    assert_eq!(e.action, None);
    // Exact match only: no prefix, case or trailing-slash folding.
    for azp in [
        "https://A.example",
        "https://a.example/",
        "https://a.exampl",
        "a.example",
    ] {
        assert_eq!(
            reason(check(&minter().azp(azp).mint(), &azp_opts(), at(NOW))),
            R::TokenInvalidAuthorizedParties,
            "{azp}"
        );
    }
}

#[test]
fn azp_missing_or_empty_is_rejected_when_parties_are_set() {
    let e = err(check(
        &minter().without_claim("azp").mint(),
        &azp_opts(),
        at(NOW),
    ));
    assert_eq!(e.reason, R::TokenInvalidAuthorizedParties);
    assert_eq!(
        e.message,
        r#"Invalid JWT Authorized party claim (azp) undefined. Expected "https://a.example,https://b.example"."#
    );
    let e = err(check(&minter().azp("").mint(), &azp_opts(), at(NOW)));
    assert_eq!(e.reason, R::TokenInvalidAuthorizedParties);
    let e = err(check(
        &minter().claim("azp", json!(1)).mint(),
        &azp_opts(),
        at(NOW),
    ));
    assert_eq!(e.reason, R::TokenInvalidAuthorizedParties);
}

#[test]
fn azp_is_not_enforced_without_parties() {
    check_now(&minter().without_claim("azp").mint()).unwrap();
    check_now(&minter().azp("https://anything.example").mint()).unwrap();
}

#[test]
fn azp_is_checked_before_exp() {
    let token = minter().without_claim("azp").claim("exp", json!(1)).mint();
    assert_eq!(
        reason(check(&token, &azp_opts(), at(NOW))),
        R::TokenInvalidAuthorizedParties
    );
}

// ---- step 7: exp ----

const EXP: u64 = NOW + 60;

#[test]
fn expiry_message_is_clerks() {
    let e = err(check(
        &minter().mint(),
        &VerifyOptions::default(),
        at(EXP + 5),
    ));
    assert_eq!(e.reason, R::TokenExpired);
    assert_eq!(
        e.message,
        "JWT is expired. Expiry date: Tue, 14 Nov 2023 22:14:20 GMT, Current date: Tue, 14 Nov 2023 22:14:25 GMT."
    );
    assert_eq!(e.action, None);
    assert_eq!(
        e.full_message(TokenCarrier::Cookie),
        "JWT is expired. Expiry date: Tue, 14 Nov 2023 22:14:20 GMT, Current date: Tue, 14 Nov 2023 22:14:25 GMT. (reason=token-expired, token-carrier=cookie)"
    );
}

#[test]
fn expiry_boundaries_with_the_default_skew() {
    let token = minter().mint();
    let opts = VerifyOptions::default();
    // Expired iff exp*1000 <= now_ms - 5000.
    check(&token, &opts, at(EXP)).unwrap();
    check(&token, &opts, at_ms(EXP * 1000 + 4999)).unwrap();
    assert_eq!(
        reason(check(&token, &opts, at_ms(EXP * 1000 + 5000))),
        R::TokenExpired
    );
    assert_eq!(
        reason(check(&token, &opts, at(EXP + 3600))),
        R::TokenExpired
    );
}

#[test]
fn expiry_boundaries_with_other_skews() {
    let token = minter().mint();
    let zero = VerifyOptions {
        clock_skew: Duration::ZERO,
        ..VerifyOptions::default()
    };
    check(&token, &zero, at_ms(EXP * 1000 - 1)).unwrap();
    assert_eq!(reason(check(&token, &zero, at(EXP))), R::TokenExpired);
    let minute = VerifyOptions {
        clock_skew: Duration::from_secs(60),
        ..VerifyOptions::default()
    };
    check(&token, &minute, at_ms(EXP * 1000 + 59_999)).unwrap();
    assert_eq!(
        reason(check(&token, &minute, at(EXP + 60))),
        R::TokenExpired
    );
    // Sub-millisecond skew is ignored, as Clerk's skew is in whole milliseconds.
    let tiny = VerifyOptions {
        clock_skew: Duration::from_micros(999),
        ..VerifyOptions::default()
    };
    assert_eq!(reason(check(&token, &tiny, at(EXP))), R::TokenExpired);
}

#[test]
fn exp_must_be_a_json_number() {
    let cases = [
        (
            json!("1700000060"),
            r#"Invalid JWT expiry date claim (exp) "1700000060". Expected number."#,
        ),
        (
            json!(null),
            "Invalid JWT expiry date claim (exp) null. Expected number.",
        ),
        (
            json!(true),
            "Invalid JWT expiry date claim (exp) true. Expected number.",
        ),
        (
            json!([1]),
            "Invalid JWT expiry date claim (exp) [1]. Expected number.",
        ),
    ];
    for (exp, message) in cases {
        let e = err(check_now(&minter().claim("exp", exp).mint()));
        assert_eq!(e.reason, R::TokenVerificationFailed);
        assert_eq!(e.message, message);
        assert_eq!(e.action, Some(Action::EnsureClerkJwt));
    }
    let e = err(check_now(&minter().without_claim("exp").mint()));
    assert_eq!(e.reason, R::TokenVerificationFailed);
    assert_eq!(
        e.message,
        "Invalid JWT expiry date claim (exp) undefined. Expected number."
    );
}

#[test]
fn exp_float_huge_and_negative() {
    // Fractions are truncated toward zero (Date.setUTCSeconds).
    let token = minter().claim("exp", json!(EXP as f64 + 0.999)).mint();
    check(&token, &VerifyOptions::default(), at_ms(EXP * 1000 + 4999)).unwrap();
    assert_eq!(
        reason(check(
            &token,
            &VerifyOptions::default(),
            at_ms(EXP * 1000 + 5000)
        )),
        R::TokenExpired
    );
    // Far future values never expire and never panic or overflow.
    for exp in [
        json!(1e300),
        json!(u64::MAX),
        json!(i64::MAX),
        json!(9_007_199_254_740_993u64),
        json!(1.7976931348623157e308),
    ] {
        check_now(&minter().claim("exp", exp.clone()).mint())
            .unwrap_or_else(|e| panic!("{exp}: {e}"));
    }
    // Negative, zero and far-past values are expired.
    for exp in [
        json!(-1),
        json!(0),
        json!(-1e300),
        json!(i64::MIN),
        json!(-0.5),
    ] {
        let e = err(check_now(&minter().claim("exp", exp.clone()).mint()));
        assert_eq!(e.reason, R::TokenExpired, "{exp}");
    }
    let e = err(check_now(&minter().claim("exp", json!(-1)).mint()));
    assert_eq!(
        e.message,
        "JWT is expired. Expiry date: Wed, 31 Dec 1969 23:59:59 GMT, Current date: Tue, 14 Nov 2023 22:13:20 GMT."
    );
    let e = err(check_now(&minter().claim("exp", json!(-1e300)).mint()));
    assert_eq!(
        e.message,
        "JWT is expired. Expiry date: Invalid Date, Current date: Tue, 14 Nov 2023 22:13:20 GMT."
    );
}

// ---- step 8: nbf ----

const NBF: u64 = NOW - 10;

#[test]
fn nbf_boundaries_and_message() {
    let token = minter().without_claim("iat").mint();
    let opts = VerifyOptions::default();
    // Not active iff nbf*1000 > now_ms + 5000.
    check(&token, &opts, at(NBF - 5)).unwrap();
    let e = err(check(&token, &opts, at_ms((NBF - 5) * 1000 - 1)));
    assert_eq!(e.reason, R::TokenNotActiveYet);
    assert_eq!(
        e.message,
        "JWT cannot be used prior to not before date claim (nbf). Not before date: Tue, 14 Nov 2023 22:13:10 GMT; Current date: Tue, 14 Nov 2023 22:13:04 GMT;"
    );
    assert_eq!(e.action, None);
}

#[test]
fn nbf_is_optional_but_must_be_a_number() {
    check_now(&minter().without_claim("nbf").mint()).unwrap();
    let e = err(check_now(&minter().claim("nbf", json!("0")).mint()));
    assert_eq!(e.reason, R::TokenVerificationFailed);
    assert_eq!(
        e.message,
        r#"Invalid JWT not before date claim (nbf) "0". Expected number."#
    );
    assert_eq!(e.action, Some(Action::EnsureClerkJwt));
    let e = err(check_now(&minter().claim("nbf", json!(null)).mint()));
    assert_eq!(
        e.message,
        "Invalid JWT not before date claim (nbf) null. Expected number."
    );
    // Far future nbf never panics.
    assert_eq!(
        reason(check_now(&minter().claim("nbf", json!(1e300)).mint())),
        R::TokenNotActiveYet
    );
}

#[test]
fn exp_is_checked_before_nbf() {
    let token = minter()
        .claim("exp", json!(1))
        .claim("nbf", json!("x"))
        .mint();
    assert_eq!(reason(check_now(&token)), R::TokenExpired);
    let token = minter()
        .claim("exp", json!("x"))
        .claim("nbf", json!(NOW + 1000))
        .mint();
    assert_eq!(reason(check_now(&token)), R::TokenVerificationFailed);
}

// ---- step 9: iat ----

#[test]
fn iat_boundaries_and_message() {
    let token = minter().without_claim("nbf").mint();
    let opts = VerifyOptions::default();
    // In the future iff iat*1000 > now_ms + 5000.
    check(&token, &opts, at(NOW - 5)).unwrap();
    let e = err(check(&token, &opts, at_ms((NOW - 5) * 1000 - 1)));
    assert_eq!(e.reason, R::TokenIatInTheFuture);
    assert_eq!(
        e.message,
        "JWT issued at date claim (iat) is in the future. Issued at date: Tue, 14 Nov 2023 22:13:20 GMT; Current date: Tue, 14 Nov 2023 22:13:14 GMT;"
    );
}

#[test]
fn iat_is_optional_but_must_be_a_number() {
    check_now(&minter().without_claim("iat").mint()).unwrap();
    let e = err(check_now(&minter().claim("iat", json!({})).mint()));
    assert_eq!(e.reason, R::TokenVerificationFailed);
    assert_eq!(
        e.message,
        "Invalid JWT issued at date claim (iat) {}. Expected number."
    );
}

#[test]
fn nbf_is_checked_before_iat() {
    let token = minter()
        .claim("nbf", json!(NOW + 100))
        .claim("iat", json!(NOW + 100))
        .mint();
    assert_eq!(reason(check_now(&token)), R::TokenNotActiveYet);
    let token = minter().claim("iat", json!(NOW + 100)).mint();
    assert_eq!(reason(check_now(&token)), R::TokenIatInTheFuture);
}

// ---- opt-in issuer ----

#[test]
fn issuer_pin_is_opt_in() {
    check_now(&minter().iss("https://evil.example").mint()).unwrap();
    let opts = VerifyOptions {
        issuer: Some("https://clerk.example.com".into()),
        ..VerifyOptions::default()
    };
    check(&minter().mint(), &opts, at(NOW)).unwrap();
    let e = err(check(
        &minter().iss("https://clerk.example.com/").mint(),
        &opts,
        at(NOW),
    ));
    assert_eq!(e.reason, R::TokenInvalid);
    assert_eq!(
        e.message,
        r#"Invalid JWT issuer claim (iss) "https://clerk.example.com/". Expected "https://clerk.example.com"."#
    );
    let e = err(check(&minter().without_claim("iss").mint(), &opts, at(NOW)));
    assert_eq!(e.reason, R::TokenInvalid);
    // The time checks come first.
    let token = minter()
        .iss("https://evil.example")
        .claim("exp", json!(1))
        .mint();
    assert_eq!(reason(check(&token, &opts, at(NOW))), R::TokenExpired);
}

#[test]
fn default_options() {
    let o = VerifyOptions::default();
    assert_eq!(o.clock_skew, Duration::from_secs(5));
    assert!(o.authorized_parties.is_empty() && o.audience.is_empty());
    assert!(o.header_type.is_none() && o.issuer.is_none());
}
