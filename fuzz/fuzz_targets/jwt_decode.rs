//! Arbitrary bytes as a token through decoding and the full verification pipeline with a fixed
//! key set (the testing kit's key, a fixed clock, authorized parties), and the auth objects built
//! from the claims. An input starting with `S\n` is `S\n<header JSON>\n<claims JSON>`: that text
//! is signed with the key set's key, so the claim checks are reached. Invariants: a verified
//! token is signed by the key; error messages stay within the decision-15 bound; a claim read
//! as a string is the claim's value as a string; the session auth JSON (claims copied when
//! canonical) is what serializing the auth object writes.
#![no_main]

use std::sync::{Arc, OnceLock};

use clerk_auth_core::fuzzing::{is_jwt_format, machine_auth_from_jwt, machine_token_type};
use clerk_auth_core::testing::{FixedClock, KeyPair};
use clerk_auth_core::{Has, JwsAlgorithm, Jwt, Options, SessionAuth};
use clerk_auth_fuzz::{now, stub_key, MAX_MESSAGE_BYTES};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The claims the verification reads without making values, and a few others.
const CLAIMS: [&str; 16] = [
    "sub", "aud", "azp", "exp", "nbf", "iat", "iss", "sid", "sts", "act", "fva", "v", "o", "fea",
    "org_id", "other",
];

fn options() -> &'static Options {
    static OPTIONS: OnceLock<Options> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        Options::builder()
            .secret_key("sk_live_fuzz")
            .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
            .jwt_key(KeyPair::shared().public_pem())
            .authorized_parties(["http://localhost:3000", "https://app.example.com"])
            .clock(Arc::new(FixedClock::new(now())))
            .verified_token_cache_capacity(0)
            .build()
            .unwrap_or_else(|e| panic!("fuzz options: {e}"))
    })
}

fn bounded(what: &str, message: &str) {
    assert!(
        message.len() <= MAX_MESSAGE_BYTES,
        "{what}: {} bytes: {message:.300}",
        message.len()
    );
}

fuzz_target!(|data: &[u8]| {
    let token = match data.strip_prefix(b"S\n") {
        Some(rest) => {
            let text = String::from_utf8_lossy(rest);
            let (header, claims) = text.split_once('\n').unwrap_or((&text, "{}"));
            let alg = if header.contains("RS512") {
                JwsAlgorithm::Rs512
            } else if header.contains("RS384") {
                JwsAlgorithm::Rs384
            } else {
                JwsAlgorithm::Rs256
            };
            KeyPair::shared().sign_raw(header, claims, alg)
        }
        None => String::from_utf8_lossy(data).into_owned(),
    };
    let _ = is_jwt_format(&token);
    let _ = machine_token_type(&token);
    if let Ok(jwt) = Jwt::decode(&token) {
        let jwt = Arc::new(jwt);
        let _ = (jwt.alg(), jwt.kid(), jwt.category(), jwt.claim_str("sub"));
        // The string readers (which make no `Value`) agree with the values and the whole map.
        for name in CLAIMS {
            let as_str = jwt.claim_str(name);
            assert_eq!(as_str, jwt.claim(name).and_then(Value::as_str), "{name}");
            assert_eq!(jwt.claim(name), jwt.claims().get(name), "{name}");
        }
        for name in ["alg", "kid", "typ", "cat", "x"] {
            let as_str = jwt.header_str(name);
            assert_eq!(
                as_str,
                jwt.header_param(name).and_then(Value::as_str),
                "{name}"
            );
            assert_eq!(jwt.header_param(name), jwt.header().get(name), "{name}");
        }
        if let Ok(session) = SessionAuth::from_jwt(jwt.clone()) {
            // Copied or transcoded, the auth JSON is what serializing the object writes.
            let json = session.to_json_string();
            assert_eq!(Some(json), serde_json::to_string(&session).ok());
            let _ = session.has(&Has::role("org:admin"));
            let _ = session.has(&Has::permission("org:sys_memberships:read"));
            let _ = session.factor_verification_ages();
        }
        for m in machine_auth_from_jwt(&jwt).into_iter().flatten() {
            let _ = format!("{m:?}");
        }
    }
    let verifier = options().verifier();
    match verifier.verify_token(&token) {
        Ok(jwt) => {
            assert!(
                stub_key().verify(&jwt).is_ok(),
                "verified without the key's signature"
            );
        }
        Err(e) => bounded("verify_token", &e.message),
    }
    if let Err(e) = verifier.verify_handshake_token(&token) {
        bounded("verify_handshake_token", &e.message);
    }
});
