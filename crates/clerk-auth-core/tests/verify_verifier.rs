//! `Verifier`: the verified-token cache (decision 8), `verify_token` order (§3.2), the handshake
//! check (§2.7), `needs_io`, `decode`, PEM and JWK keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod verify_support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clerk_auth_core::testing::{
    FixedClock, IGNORE_CATEGORY, M2M_CATEGORY, SESSION_CATEGORY, TEMPLATE_CATEGORY,
};
use clerk_auth_core::verify::{JwsAlgorithm, KeyError, PemVerifier, Verifier, VerifyOptions};
use clerk_auth_core::{
    Jwt, TokenVerificationError, TokenVerificationErrorAction as Action,
    TokenVerificationErrorReason as R, TokenVerifier, VerificationKey,
};
use serde_json::json;
use verify_support::*;

/// A real PEM key source that counts key lookups and can claim to need IO.
#[derive(Debug)]
struct Counting {
    inner: PemVerifier,
    lookups: AtomicUsize,
    io: AtomicBool,
}

impl Counting {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            inner: PemVerifier::from_pem(&keys().public_pem()).unwrap(),
            lookups: AtomicUsize::new(0),
            io: AtomicBool::new(false),
        })
    }
    fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
}

impl TokenVerifier for Counting {
    fn key(&self, jwt: &Jwt) -> Result<Arc<VerificationKey>, TokenVerificationError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.key(jwt)
    }
    fn try_key(&self, jwt: &Jwt) -> Option<Result<Arc<VerificationKey>, TokenVerificationError>> {
        if self.io.load(Ordering::SeqCst) {
            None
        } else {
            Some(self.key(jwt))
        }
    }
}

fn counting_verifier(opts: VerifyOptions) -> (Verifier, Arc<Counting>, Arc<FixedClock>) {
    let source = Counting::new();
    let clock = clock();
    (
        Verifier::new(source.clone(), opts, clock.clone()),
        source,
        clock,
    )
}

#[test]
fn a_hit_skips_the_signature_and_returns_the_same_token() {
    let (v, source, _clock) = counting_verifier(VerifyOptions::default());
    let token = minter().mint();
    let first = v.verify_token(&token).unwrap();
    let second = v.verify_token(&token).unwrap();
    assert_eq!(source.lookups(), 1);
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(second.claim_str("sub"), Some("user_2test"));
    // decode() serves the cached token too.
    assert!(Arc::ptr_eq(&v.decode(&token).unwrap(), &first));
    // A clone shares the cache.
    let clone = v.clone();
    clone.verify_token(&token).unwrap();
    assert_eq!(source.lookups(), 1);
}

#[test]
fn a_hit_rechecks_exp_with_the_configured_skew() {
    let (v, source, clock) = counting_verifier(VerifyOptions::default());
    let token = minter().mint();
    v.verify_token(&token).unwrap();
    // exp = NOW + 60; skew 5 s: still fine 4.999 s after exp ...
    clock.set(at_ms((NOW + 65) * 1000 - 1));
    v.verify_token(&token).unwrap();
    // ... expired at exp + 5 s, from the cache (no new key lookup).
    clock.set(at(NOW + 65));
    let e = err(v.verify_token(&token));
    assert_eq!(e.reason, R::TokenExpired);
    assert_eq!(
        e.message,
        "JWT is expired. Expiry date: Tue, 14 Nov 2023 22:14:20 GMT, Current date: Tue, 14 Nov 2023 22:14:25 GMT."
    );
    assert_eq!(source.lookups(), 1);
    // The development handshake's 24 h skew accepts it again.
    v.verify_token_with_skew(&token, Duration::from_secs(86_400))
        .unwrap();
    assert_eq!(source.lookups(), 1);
    clock.advance(Duration::from_secs(86_400));
    assert_eq!(
        reason(v.verify_token_with_skew(&token, Duration::from_secs(86_400))),
        R::TokenExpired
    );
}

#[test]
fn a_hit_rechecks_nbf_and_iat() {
    let (v, source, clock) = counting_verifier(VerifyOptions::default());
    let token = minter().mint(); // nbf = NOW - 10, iat = NOW
    v.verify_token(&token).unwrap();
    clock.set(at_ms((NOW - 15) * 1000 - 1));
    assert_eq!(reason(v.verify_token(&token)), R::TokenNotActiveYet);
    let token = minter().without_claim("nbf").mint();
    clock.set(at(NOW));
    v.verify_token(&token).unwrap();
    clock.set(at_ms((NOW - 5) * 1000 - 1));
    assert_eq!(reason(v.verify_token(&token)), R::TokenIatInTheFuture);
    assert_eq!(source.lookups(), 2);
}

#[test]
fn a_token_verified_with_a_wide_skew_is_rechecked_with_the_normal_one() {
    let (v, _source, clock) = counting_verifier(VerifyOptions::default());
    let token = minter().mint();
    clock.set(at(NOW + 3600));
    assert_eq!(reason(v.verify_token(&token)), R::TokenExpired);
    v.verify_token_with_skew(&token, Duration::from_secs(86_400))
        .unwrap();
    // Now cached, but the normal skew still says expired.
    assert_eq!(reason(v.verify_token(&token)), R::TokenExpired);
}

#[test]
fn failures_are_not_cached() {
    let (v, source, clock) = counting_verifier(VerifyOptions::default());
    let bad = other_keys().sign(minter().header_json(), minter().claims_json());
    assert_eq!(reason(v.verify_token(&bad)), R::TokenInvalidSignature);
    assert_eq!(reason(v.verify_token(&bad)), R::TokenInvalidSignature);
    assert_eq!(source.lookups(), 2);
    // Not yet valid, then valid: the first failure did not stick.
    let token = minter().issued_at(at(NOW + 100)).mint();
    assert_eq!(reason(v.verify_token(&token)), R::TokenNotActiveYet);
    clock.set(at(NOW + 100));
    v.verify_token(&token).unwrap();
}

#[test]
fn the_cache_is_keyed_by_the_exact_token() {
    let (v, source, _clock) = counting_verifier(VerifyOptions::default());
    let token = minter().mint();
    v.verify_token(&token).unwrap();
    // A tampered copy is a miss and fails on its own.
    let (input, sig) = token.rsplit_once('.').unwrap();
    let (h, _p) = input.split_once('.').unwrap();
    let forged = format!(
        "{h}.{}.{sig}",
        b64(minter().subject("user_admin").claims_json().to_string())
    );
    // Same length and same end as the cached token: the cache hashes only those, so this is
    // the lookup that must compare the whole text.
    assert_eq!(forged.len(), token.len());
    assert_eq!(reason(v.verify_token(&forged)), R::TokenInvalidSignature);
    assert_eq!(
        reason(v.verify_token(&format!("{token} "))),
        R::TokenInvalid
    );
    assert_eq!(source.lookups(), 2);
}

#[test]
fn caches_belong_to_one_verifier() {
    let token = minter().azp("https://other.example").mint();
    let source = Counting::new();
    let open = Verifier::new(source.clone(), VerifyOptions::default(), clock());
    let strict = Verifier::new(
        source.clone(),
        VerifyOptions {
            authorized_parties: vec!["https://app.example".into()],
            ..VerifyOptions::default()
        },
        clock(),
    );
    open.verify_token(&token).unwrap();
    assert_eq!(
        reason(strict.verify_token(&token)),
        R::TokenInvalidAuthorizedParties
    );
    // with_cache_capacity builds a fresh cache.
    let fresh = open.clone().with_cache_capacity(10);
    fresh.verify_token(&token).unwrap();
    assert_eq!(source.lookups(), 3);
}

#[test]
fn without_cache_verifies_every_time() {
    let (v, source, _clock) = counting_verifier(VerifyOptions::default());
    let v = v.without_cache();
    assert!(!v.has_cache());
    let token = minter().mint();
    for _ in 0..3 {
        v.verify_token(&token).unwrap();
    }
    assert_eq!(source.lookups(), 3);
    // decode() still works without a cache.
    assert_eq!(
        v.decode(&token).unwrap().claim_str("sid"),
        Some("sess_2test")
    );
}

#[test]
fn the_cache_is_bounded() {
    let source = Counting::new();
    let v = Verifier::new(source.clone(), VerifyOptions::default(), clock()).with_cache_capacity(8);
    let tokens: Vec<String> = (0..64)
        .map(|i| minter().subject(&format!("user_{i}")).mint())
        .collect();
    for t in &tokens {
        v.verify_token(t).unwrap();
    }
    let before = source.lookups();
    for t in &tokens {
        v.verify_token(t).unwrap();
    }
    // Most of the 64 were evicted and verified again.
    assert!(
        source.lookups() - before > 32,
        "{}",
        source.lookups() - before
    );
}

#[test]
fn concurrent_verification() {
    let (v, _source, _clock) = counting_verifier(VerifyOptions::default());
    let tokens: Arc<Vec<String>> = Arc::new(
        (0..8)
            .map(|i| minter().sid(&format!("sess_{i}")).mint())
            .collect(),
    );
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let v = v.clone();
            let tokens = tokens.clone();
            std::thread::spawn(move || {
                for i in 0..200 {
                    let token = &tokens[(i + t) % tokens.len()];
                    assert!(v.verify_token(token).is_ok());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn verify_token_order() {
    // decode errors first
    let (v, source, _clock) = counting_verifier(VerifyOptions::default());
    assert_eq!(reason(v.verify_token("a.b")), R::TokenInvalid);
    // then the M2M category, before the key is asked for
    let e = err(v.verify_token(&minter().category(Some(M2M_CATEGORY)).mint()));
    assert_eq!(
        (e.reason, e.message.as_ref()),
        (R::TokenInvalid, "Invalid session token category.")
    );
    assert_eq!(source.lookups(), 0);
    // then the key source's own error is returned as is
    #[derive(Debug)]
    struct NoKey;
    impl TokenVerifier for NoKey {
        fn key(&self, _jwt: &Jwt) -> Result<Arc<VerificationKey>, TokenVerificationError> {
            Err(TokenVerificationError::new(R::JwkKidMismatch, "no key")
                .with_action(Action::ContactSupport))
        }
    }
    let v = Verifier::new(Arc::new(NoKey), VerifyOptions::default(), clock());
    let e = err(v.verify_token(&minter().mint()));
    assert_eq!(
        (e.reason, e.message.as_ref()),
        (R::JwkKidMismatch, "no key")
    );
    // and the key is asked for before typ/alg are checked (as Clerk loads it first)
    assert_eq!(
        reason(v.verify_token(&minter().header("alg", json!("none")).mint())),
        R::JwkKidMismatch
    );
}

#[test]
fn try_verify_token_follows_the_source_and_the_cache() {
    let (v, source, _clock) = counting_verifier(VerifyOptions::default());
    let token = minter().mint();
    assert!(
        v.try_verify_token(&token).unwrap().is_ok(),
        "keys in memory"
    );
    let other = minter().sid("sess_other").mint();
    source.io.store(true, Ordering::SeqCst);
    let lookups = source.lookups();
    assert!(v.try_verify_token(&other).is_none(), "would block");
    assert_eq!(
        source.lookups(),
        lookups,
        "a non-blocking call never asks key()"
    );
    // Tokens that fail before any key lookup never need IO.
    assert!(matches!(v.try_verify_token("garbage"), Some(Err(_))));
    assert!(matches!(
        v.try_verify_token(&minter().category(Some(M2M_CATEGORY)).mint()),
        Some(Err(_))
    ));
    // A cached token needs no key.
    assert!(v.try_verify_token(&token).unwrap().is_ok());
    // Without a cache, a verified token still needs the key.
    let uncached = v.clone().without_cache();
    assert!(uncached.try_verify_token(&token).is_none());
}

// ---- handshake ----

fn handshake_claims() -> serde_json::Value {
    json!({"handshake": ["__session=abc; Path=/", "__client_uat=0; Path=/"]})
}

fn handshake_header() -> serde_json::Value {
    json!({"alg": "RS256", "kid": "ins_2test", "typ": "JWT", "cat": SESSION_CATEGORY})
}

#[test]
fn handshake_tokens_check_the_signature_only() {
    let (v, source, _clock) = counting_verifier(VerifyOptions {
        authorized_parties: vec!["https://app.example".into()],
        ..VerifyOptions::default()
    });
    let token = keys().sign(handshake_header(), handshake_claims());
    let jwt = v.verify_handshake_token(&token).unwrap();
    assert_eq!(jwt.claims()["handshake"], handshake_claims()["handshake"]);
    // No exp, sub or azp, or long expired: still fine.
    let claims = json!({"handshake": [], "exp": 1, "nbf": 4_000_000_000u64, "sub": 5});
    v.verify_handshake_token(&keys().sign(handshake_header(), claims))
        .unwrap();
    // Never cached.
    v.verify_handshake_token(&token).unwrap();
    assert_eq!(source.lookups(), 3);
}

#[test]
fn handshake_header_checks() {
    let (v, _clock) = verifier(VerifyOptions::default());
    let with = |name: &str, value: serde_json::Value| {
        let mut h = handshake_header();
        h[name] = value;
        keys().sign(h, handshake_claims())
    };
    let without = |name: &str| {
        let mut h = handshake_header();
        h.as_object_mut().unwrap().remove(name);
        keys().sign(h, handshake_claims())
    };
    v.verify_handshake_token(&without("typ")).unwrap();
    v.verify_handshake_token(&without("cat")).unwrap();
    v.verify_handshake_token(&with("cat", json!(IGNORE_CATEGORY)))
        .unwrap();
    let e = err(v.verify_handshake_token(&with("typ", json!("at+jwt"))));
    assert_eq!(
        (e.reason, e.message.as_ref()),
        (
            R::TokenInvalid,
            r#"Invalid JWT type "at+jwt". Expected "JWT"."#
        )
    );
    let e = err(v.verify_handshake_token(&with("alg", json!("none"))));
    assert_eq!(e.reason, R::TokenInvalidAlgorithm);
    for cat in [
        json!(TEMPLATE_CATEGORY),
        json!(M2M_CATEGORY),
        json!("cl_other"),
        json!(1),
    ] {
        let e = err(v.verify_handshake_token(&with("cat", cat.clone())));
        assert_eq!(e.reason, R::TokenInvalid, "{cat}");
        assert_eq!(e.message, "Invalid handshake token category.");
    }
    // alg is checked before cat
    let mut h = handshake_header();
    h["alg"] = json!("HS256");
    h["cat"] = json!(M2M_CATEGORY);
    assert_eq!(
        reason(v.verify_handshake_token(&keys().sign(h, handshake_claims()))),
        R::TokenInvalidAlgorithm
    );
}

#[test]
fn handshake_signature_messages() {
    let (v, _clock) = verifier(VerifyOptions::default());
    let bad = other_keys().sign(handshake_header(), handshake_claims());
    let e = err(v.verify_handshake_token(&bad));
    assert_eq!(e.reason, R::TokenInvalidSignature);
    assert_eq!(e.message, "Handshake signature is invalid.");
    assert_eq!(e.action, None);
    let mut h = handshake_header();
    h["alg"] = json!("RS512");
    let e = err(v.verify_handshake_token(&keys().sign(h, handshake_claims())));
    assert_eq!(e.reason, R::TokenVerificationFailed);
    assert_eq!(
        e.message,
        r#"Error verifying handshake token. Error: JWK "alg" does not match the requested algorithm"#
    );
    assert_eq!(e.action, None);
    assert_eq!(reason(v.verify_handshake_token("x.y")), R::TokenInvalid);
}

// ---- keys ----

#[test]
fn pem_forms_are_parsed_for_real() {
    let spki = keys().public_pem();
    let pkcs1 = keys().public_pem_pkcs1();
    assert!(spki.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert!(pkcs1.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
    let token = minter().mint();
    let crlf = spki.replace('\n', "\r\n");
    let escaped = spki.trim_end().replace('\n', "\\n");
    let body: String = spki.lines().filter(|l| !l.starts_with("-----")).collect();
    let one_line = format!("-----BEGIN PUBLIC KEY-----{body}-----END PUBLIC KEY-----");
    let spaced = format!("  \n{spki}\n\n  ");
    for pem in [&spki, &pkcs1, &crlf, &escaped, &one_line, &spaced] {
        let key = VerificationKey::from_pem(pem).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(key.algorithm(), JwsAlgorithm::Rs256);
        assert_eq!(key.bits(), 2048);
        let v = Verifier::new(
            Arc::new(PemVerifier::from_key(key)),
            VerifyOptions::default(),
            clock(),
        );
        v.verify_token(&token).unwrap();
    }
}

#[test]
fn bad_pems_are_config_errors() {
    let small = openssl::rsa::Rsa::generate(1024).unwrap();
    let small_pem = String::from_utf8(small.public_key_to_pem().unwrap()).unwrap();
    let ec = openssl::ec::EcKey::generate(
        &openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap(),
    )
    .unwrap();
    let ec_pem = String::from_utf8(ec.public_key_to_pem().unwrap()).unwrap();
    let private_pem = String::from_utf8(small.private_key_to_pem().unwrap()).unwrap();
    let spki = keys().public_pem();
    let truncated = spki.replace("-----END PUBLIC KEY-----", "");
    let corrupted = spki.replacen("MII", "MIJ", 1);
    for pem in [
        small_pem.as_str(),
        &ec_pem,
        &private_pem,
        &truncated,
        &corrupted,
        "",
        "not a key",
        &spki[..100],
    ] {
        match PemVerifier::from_pem(pem) {
            Err(KeyError::InvalidPem(detail)) => {
                assert!(!detail.contains("MII"), "{detail}");
                let shown = KeyError::InvalidPem(detail).to_string();
                assert!(!shown.contains("CLERK_"), "names no variable: {shown}");
            }
            other => panic!("{pem:.30}: {other:?}"),
        }
    }
    match VerificationKey::from_pem(&small_pem) {
        Err(KeyError::InvalidPem(d)) => assert!(d.contains("2048"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn jwk_keys() {
    let token = minter().mint();
    let key = VerificationKey::from_jwk(&keys().jwk("ins_2test")).unwrap();
    assert_eq!((key.algorithm(), key.bits()), (JwsAlgorithm::Rs256, 2048));
    let jwt = Jwt::decode(&token).unwrap();
    key.verify(&jwt).unwrap();
    // alg defaults to RS256
    let key = VerificationKey::from_jwk(&keys().bare_jwk()).unwrap();
    assert_eq!(key.algorithm(), JwsAlgorithm::Rs256);
    key.verify(&jwt).unwrap();
    // another key's JWK: mismatch
    let other = VerificationKey::from_jwk(&other_keys().jwk("ins_2test")).unwrap();
    let e = err(other.verify(&jwt));
    assert_eq!(
        (e.reason, e.message.as_ref()),
        (R::TokenInvalidSignature, "JWT signature is invalid.")
    );

    let mut bad = keys().jwk("k");
    bad["alg"] = json!("ES256");
    assert_eq!(
        VerificationKey::from_jwk(&bad).unwrap_err(),
        KeyError::UnsupportedAlgorithm
    );
    bad["alg"] = json!(256);
    assert_eq!(
        VerificationKey::from_jwk(&bad).unwrap_err(),
        KeyError::UnsupportedAlgorithm
    );
    let mut bad = keys().jwk("k");
    bad["kty"] = json!("EC");
    assert_eq!(
        VerificationKey::from_jwk(&bad).unwrap_err(),
        KeyError::UnsupportedKeyType
    );
    assert_eq!(
        VerificationKey::from_jwk(&json!([1])).unwrap_err(),
        KeyError::NotAnObject
    );
    for (field, value) in [
        ("use", json!("enc")),
        ("n", json!("AQAB")),
        ("n", json!(5)),
        ("e", json!("***")),
        ("key_ops", json!(["sign"])),
        ("kid", json!(5)),
    ] {
        let mut bad = keys().jwk("k");
        bad[field] = value;
        assert!(
            matches!(VerificationKey::from_jwk(&bad), Err(KeyError::Invalid(_))),
            "{field}"
        );
    }
    let mut bad = keys().jwk("k");
    bad.as_object_mut().unwrap().remove("n");
    assert!(matches!(
        VerificationKey::from_jwk(&bad),
        Err(KeyError::Invalid(_))
    ));
}

#[test]
fn verification_key_verify_checks_the_algorithm_first() {
    let key = keys().verification_key();
    let e = err(key.verify(&Jwt::decode(&minter().algorithm(JwsAlgorithm::Rs384).mint()).unwrap()));
    assert_eq!(e.reason, R::TokenVerificationFailed);
    assert_eq!(e.action, Some(Action::EnsureClerkJwt));
    // A direct call with alg none is an algorithm mismatch, not a pass.
    let e = err(key.verify(&Jwt::decode(&minter().header("alg", json!("none")).mint()).unwrap()));
    assert_eq!(e.reason, R::TokenVerificationFailed);
}
