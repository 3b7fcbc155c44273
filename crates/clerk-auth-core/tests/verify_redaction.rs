//! Debug and Display of verification types never show a token, a signature, a modulus or a PEM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod verify_support;

use std::sync::Arc;

use clerk_auth_core::testing::FixedClock;
use clerk_auth_core::verify::{PemVerifier, Verifier, VerifyOptions};
use clerk_auth_core::{Jwt, TokenCarrier, VerificationKey};
use serde_json::json;
use verify_support::*;

/// Pieces that must never appear in any rendering.
fn secrets_of(token: &str) -> Vec<String> {
    let parts: Vec<&str> = token.split('.').collect();
    let n = keys().jwk("k")["n"].as_str().unwrap().to_owned();
    let pem_body: String = keys()
        .public_pem()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    vec![
        token.to_owned(),
        parts[1].to_owned(),
        parts[2].to_owned(),
        parts[2][..16].to_owned(),
        n[..24].to_owned(),
        n[n.len() - 24..].to_owned(),
        pem_body[..24].to_owned(),
        pem_body[40..64].to_owned(),
    ]
}

#[track_caller]
fn assert_clean(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(
            !text.contains(s.as_str()),
            "{what} leaks {s:.12}...: {text}"
        );
    }
}

#[test]
fn nothing_renders_tokens_or_key_material() {
    let token = minter().mint();
    let secrets = secrets_of(&token);
    let key = VerificationKey::from_pem(&keys().public_pem()).unwrap();
    let pem_verifier = PemVerifier::from_pem(&keys().public_pem()).unwrap();
    let clock = Arc::new(FixedClock::at_unix(NOW));
    let verifier = Verifier::new(
        Arc::new(pem_verifier.clone()),
        VerifyOptions::default(),
        clock.clone(),
    );
    let jwt = verifier.verify_token(&token).unwrap();
    let decoded = Jwt::decode(&token).unwrap();
    let jwk_key = VerificationKey::from_jwk(&keys().jwk("ins_2test")).unwrap();

    assert_clean("VerificationKey", &format!("{key:?} {key:#?}"), &secrets);
    assert_clean("VerificationKey (jwk)", &format!("{jwk_key:?}"), &secrets);
    assert_clean(
        "PemVerifier",
        &format!("{pem_verifier:?} {pem_verifier:#?}"),
        &secrets,
    );
    assert_clean("Verifier", &format!("{verifier:?} {verifier:#?}"), &secrets);
    assert_clean(
        "KeyPair",
        &format!("{:?} {:#?}", keys(), other_keys()),
        &secrets,
    );
    assert_clean("Jwt", &format!("{jwt:?} {decoded:#?}"), &secrets);
    assert_clean("FixedClock", &format!("{clock:?}"), &secrets);

    // Every failure a token can produce.
    let bad_sig = other_keys().sign(minter().header_json(), minter().claims_json());
    let errors = [
        verifier.verify_token(&bad_sig).unwrap_err(),
        verifier.verify_token(&format!("{token}.x")).unwrap_err(),
        verifier
            .verify_token(&token[..token.len() - 3])
            .unwrap_err(),
        verifier
            .verify_token(&minter().header("alg", json!("none")).mint())
            .unwrap_err(),
        verifier.verify_handshake_token(&bad_sig).unwrap_err(),
        key.verify(&Jwt::decode(&bad_sig).unwrap()).unwrap_err(),
    ];
    clock.set(at(NOW + 3600));
    let expired = verifier.verify_token(&token).unwrap_err();
    for e in errors.iter().chain([&expired]) {
        let text = format!(
            "{e} {e:?} {} {}",
            e.full_message(TokenCarrier::Header),
            e.full_message(TokenCarrier::Cookie)
        );
        assert_clean("TokenVerificationError", &text, &secrets);
        let bad_secrets = secrets_of(&bad_sig);
        assert_clean("TokenVerificationError", &text, &bad_secrets);
    }

    // Configuration errors from a bad PEM do not echo the PEM.
    let corrupted = keys().public_pem().replacen("MII", "MIJ", 1);
    let e = PemVerifier::from_pem(&corrupted).unwrap_err();
    assert_clean("ConfigError", &format!("{e} {e:?}"), &secrets);
    let mut bad_jwk = keys().jwk("k");
    bad_jwk["use"] = json!("enc");
    let e = VerificationKey::from_jwk(&bad_jwk).unwrap_err();
    assert_clean("KeyError", &format!("{e} {e:?}"), &secrets);
}
