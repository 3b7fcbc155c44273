//! Remote key set cache (decision 3), over real HTTP against the Backend API emulator:
//! single flight, strict TTL, kid-miss cooldown, rotation, `needs_io`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use clerk_auth_core::testing::server::{BackendApiServer, Endpoint};
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::verify::{JwksConfig, JwksVerifier};
use clerk_auth_core::{Jwt, TokenVerificationError, TokenVerificationErrorReason, TokenVerifier};

const SECRET: &str = "sk_test_jwks_cache";

fn server_with(keys: &[(&KeyPair, &str)]) -> BackendApiServer {
    let server = BackendApiServer::start(SECRET).unwrap();
    server.set_keys(keys.iter().map(|(k, kid)| k.jwk(kid)).collect());
    server
}

fn config(server: &BackendApiServer) -> JwksConfig {
    JwksConfig::new(server.secret()).with_api_url(server.url())
}

fn token(keys: &KeyPair, kid: &str) -> String {
    TokenMinter::new(keys).kid(kid).mint()
}

/// Key lookup plus signature check: what the verification pipeline does with a key source.
fn verify(verifier: &JwksVerifier, token: &str) -> Result<(), TokenVerificationError> {
    let jwt = Jwt::decode(token)?;
    verifier.key(&jwt)?.verify(&jwt)
}

fn reason(result: Result<(), TokenVerificationError>) -> Option<TokenVerificationErrorReason> {
    result.err().map(|e| e.reason)
}

#[test]
fn concurrent_cold_verifications_fetch_once() {
    let kp = KeyPair::shared();
    let server = server_with(&[(kp, "ins_1")]);
    // A slow answer makes sure every thread arrives while the first fetch is running.
    server.set_delay(Endpoint::Jwks, Duration::from_millis(300));
    let verifier = Arc::new(JwksVerifier::new(config(&server)));
    let token = Arc::new(token(kp, "ins_1"));
    let barrier = Arc::new(Barrier::new(64));
    let handles: Vec<_> = (0..64)
        .map(|_| {
            let (verifier, token, barrier) = (verifier.clone(), token.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                verify(&verifier, &token)
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), Ok(()));
    }
    assert_eq!(server.jwks_fetches(), 1);
}

#[test]
fn random_kids_do_not_fetch_within_the_cooldown() {
    let kp = KeyPair::shared();
    let server = server_with(&[(kp, "ins_1")]);
    let verifier = Arc::new(JwksVerifier::new(config(&server))); // cooldown 10 s
    verify(&verifier, &token(kp, "ins_1")).unwrap();
    assert_eq!(server.jwks_fetches(), 1);

    let handles: Vec<_> = (0..8)
        .map(|t| {
            let verifier = verifier.clone();
            thread::spawn(move || {
                for i in 0..125 {
                    let jwt = Jwt::decode(&token(kp, &format!("ins_random_{t}_{i}"))).unwrap();
                    let err = verifier.key(&jwt).err().map(|e| e.reason);
                    assert_eq!(err, Some(TokenVerificationErrorReason::JwkKidMismatch));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(
        server.jwks_fetches(),
        1,
        "1,000 unknown kids caused fetches"
    );
}

#[test]
fn random_kids_fetch_at_most_once_per_cooldown() {
    let kp = KeyPair::shared();
    let server = server_with(&[(kp, "ins_1")]);
    let mut cfg = config(&server);
    cfg.kid_miss_cooldown = Duration::from_millis(200);
    let verifier = Arc::new(JwksVerifier::new(cfg));
    verify(&verifier, &token(kp, "ins_1")).unwrap();

    // 1,000 unknown kids spread over about 1 s by 4 threads.
    let tokens: Vec<String> = (0..1000)
        .map(|i| token(kp, &format!("ins_unknown_{i}")))
        .collect();
    let tokens = Arc::new(tokens);
    let start = Instant::now();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let (verifier, tokens) = (verifier.clone(), tokens.clone());
            thread::spawn(move || {
                for i in (t..1000).step_by(4) {
                    let r = verify(&verifier, &tokens[i]);
                    assert_eq!(
                        reason(r),
                        Some(TokenVerificationErrorReason::JwkKidMismatch)
                    );
                    thread::sleep(Duration::from_millis(4));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let elapsed = start.elapsed();
    let extra = server.jwks_fetches() - 1;
    let allowed = (elapsed.as_millis() / 200) as usize + 1;
    assert!(
        extra <= allowed,
        "{extra} kid-miss fetches in {elapsed:?} (at most {allowed} allowed)"
    );
    assert!(extra >= 1, "a kid miss after the cooldown must refresh");
}

#[test]
fn rotation_verifies_after_one_refresh() {
    let (old, new) = (KeyPair::shared(), KeyPair::shared_other());
    let server = server_with(&[(old, "ins_old")]);
    let mut cfg = config(&server);
    cfg.kid_miss_cooldown = Duration::from_millis(100);
    let verifier = JwksVerifier::new(cfg);
    verify(&verifier, &token(old, "ins_old")).unwrap();

    server.set_keys(vec![new.jwk("ins_new")]);
    thread::sleep(Duration::from_millis(150));
    verify(&verifier, &token(new, "ins_new")).unwrap();
    assert_eq!(server.jwks_fetches(), 2);
    // The refreshed set replaces the old one; within the cooldown the old kid is a mismatch.
    assert_eq!(
        reason(verify(&verifier, &token(old, "ins_old"))),
        Some(TokenVerificationErrorReason::JwkKidMismatch)
    );
    assert_eq!(server.jwks_fetches(), 2);
}

#[test]
fn ttl_is_strict_and_hits_do_not_extend_it() {
    let kp = KeyPair::shared();
    let server = server_with(&[(kp, "ins_1")]);
    let mut cfg = config(&server);
    cfg.ttl = Duration::from_millis(400);
    let verifier = JwksVerifier::new(cfg);
    let token = token(kp, "ins_1");
    let start = Instant::now();
    verify(&verifier, &token).unwrap();
    while start.elapsed() < Duration::from_millis(300) {
        verify(&verifier, &token).unwrap();
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(server.jwks_fetches(), 1);
    thread::sleep(Duration::from_millis(450).saturating_sub(start.elapsed()));
    verify(&verifier, &token).unwrap();
    assert_eq!(server.jwks_fetches(), 2);
}

#[test]
fn try_key_cold_warm_and_expired() {
    let kp = KeyPair::shared();
    let server = server_with(&[(kp, "ins_1")]);
    let mut cfg = config(&server);
    cfg.ttl = Duration::from_millis(500);
    cfg.kid_miss_cooldown = Duration::from_millis(100);
    let verifier = JwksVerifier::new(cfg);
    let known = Jwt::decode(&token(kp, "ins_1")).unwrap();
    let unknown = Jwt::decode(&token(kp, "ins_other")).unwrap();

    assert!(verifier.try_key(&known).is_none(), "cold");
    assert_eq!(server.jwks_fetches(), 0, "try_key must not fetch");
    verifier.key(&known).unwrap();
    assert!(matches!(verifier.try_key(&known), Some(Ok(_))), "warm");
    let miss = verifier
        .try_key(&unknown)
        .map(|r| r.map(|_| ()).map_err(|e| e.reason));
    assert_eq!(
        miss,
        Some(Err(TokenVerificationErrorReason::JwkKidMismatch)),
        "kid miss within the cooldown"
    );
    thread::sleep(Duration::from_millis(120));
    assert!(
        verifier.try_key(&unknown).is_none(),
        "kid miss after the cooldown"
    );
    assert!(matches!(verifier.try_key(&known), Some(Ok(_))));
    thread::sleep(Duration::from_millis(420));
    assert!(verifier.try_key(&known).is_none(), "expired");
    assert_eq!(server.jwks_fetches(), 1);
}

#[test]
fn refresh_prewarms() {
    let kp = KeyPair::shared();
    let server = server_with(&[(kp, "ins_1"), (KeyPair::shared_other(), "ins_2")]);
    let verifier = JwksVerifier::new(config(&server));
    assert_eq!(verifier.refresh(), Ok(2));
    let jwt = Jwt::decode(&token(kp, "ins_1")).unwrap();
    assert!(matches!(verifier.try_key(&jwt), Some(Ok(_))));
    verify(&verifier, jwt.as_str()).unwrap();
    assert_eq!(server.jwks_fetches(), 1);
}

#[test]
fn the_cache_belongs_to_the_instance() {
    let kp = KeyPair::shared();
    let server = server_with(&[(kp, "ins_1")]);
    let token = token(kp, "ins_1");
    let a = JwksVerifier::new(config(&server));
    let b = JwksVerifier::new(config(&server));
    verify(&a, &token).unwrap();
    verify(&b, &token).unwrap();
    verify(&a, &token).unwrap();
    assert_eq!(server.jwks_fetches(), 2);
}

#[test]
fn sends_clerk_headers() {
    let kp = KeyPair::shared();
    let server = server_with(&[(kp, "ins_1")]);
    let verifier = JwksVerifier::new(config(&server));
    verifier.refresh().unwrap();
    let req = server.last_request(Endpoint::Jwks).unwrap();
    assert!(req.authorized);
    assert_eq!(req.method, "GET");
    assert_eq!(req.path, "/v1/jwks");
    assert_eq!(req.header("clerk-api-version"), Some("2026-05-12"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert!(req
        .header("user-agent")
        .unwrap()
        .starts_with("clerk-auth-rust/"));
}

#[test]
fn a_token_without_kid_is_a_kid_mismatch() {
    let kp = KeyPair::shared();
    let server = server_with(&[(kp, "ins_1")]);
    let verifier = JwksVerifier::new(config(&server));
    let token = TokenMinter::new(kp).without_header("kid").mint();
    let err = verify(&verifier, &token).unwrap_err();
    assert_eq!(err.reason, TokenVerificationErrorReason::JwkKidMismatch);
    assert!(err.message.contains("kid='undefined'"));
}

#[test]
fn the_verification_pipeline_uses_the_key_set() {
    use clerk_auth_core::verify::{Verifier, VerifyOptions};
    use clerk_auth_core::SystemClock;

    let kp = KeyPair::shared();
    let server = server_with(&[(kp, "ins_1")]);
    let source: Arc<dyn TokenVerifier> = Arc::new(JwksVerifier::new(config(&server)));
    let verifier = Verifier::new(source, VerifyOptions::default(), Arc::new(SystemClock));
    let token = token(kp, "ins_1");
    assert!(verifier.try_verify_token(&token).is_none());
    let jwt = verifier.verify_token(&token).unwrap();
    assert_eq!(jwt.claim_str("sub"), Some("user_2test"));
    assert!(verifier.try_verify_token(&token).unwrap().is_ok());
    let forged = TokenMinter::new(KeyPair::shared_other())
        .kid("ins_1")
        .mint();
    let err = verifier.verify_token(&forged).unwrap_err();
    assert_eq!(
        err.reason,
        TokenVerificationErrorReason::TokenInvalidSignature
    );
    assert_eq!(server.jwks_fetches(), 1);
}
