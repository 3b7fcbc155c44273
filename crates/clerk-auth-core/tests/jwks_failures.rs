//! Remote key set failures (decision 3), over real HTTP against the Backend API emulator:
//! stale grace on outages, fail-closed after it, refusals not retried, bounded time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::thread;
use std::time::{Duration, Instant};

use clerk_auth_core::testing::server::{BackendApiServer, CannedResponse, Endpoint};
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::verify::{JwksConfig, JwksVerifier};
use clerk_auth_core::{
    Jwt, TokenCarrier, TokenVerificationError, TokenVerificationErrorReason, TokenVerifier,
};

const SECRET: &str = "sk_test_jwks_failures";

fn server() -> BackendApiServer {
    let server = BackendApiServer::start(SECRET).unwrap();
    server.set_keys(vec![KeyPair::shared().jwk("ins_1")]);
    server
}

/// Short TTL, grace and backoffs so the rules show within a second.
fn fast_config(server: &BackendApiServer) -> JwksConfig {
    let mut cfg = JwksConfig::new(server.secret()).with_api_url(server.url());
    cfg.ttl = Duration::from_millis(200);
    cfg.stale_grace = Duration::from_millis(600);
    cfg.failure_backoff = Duration::from_millis(50);
    cfg.kid_miss_cooldown = Duration::from_millis(50);
    cfg.retry_backoff = Duration::from_millis(10);
    cfg
}

fn token() -> String {
    TokenMinter::new(KeyPair::shared()).kid("ins_1").mint()
}

fn verify(verifier: &JwksVerifier, token: &str) -> Result<(), TokenVerificationError> {
    let jwt = Jwt::decode(token)?;
    verifier.key(&jwt)?.verify(&jwt)
}

fn outage() -> Option<CannedResponse> {
    Some(CannedResponse::bapi_error(503, "unexpected_error", "down"))
}

#[test]
fn outage_within_the_grace_still_verifies() {
    let server = server();
    let verifier = JwksVerifier::new(fast_config(&server));
    let token = token();
    verify(&verifier, &token).unwrap();

    server.respond_with(Endpoint::Jwks, outage());
    thread::sleep(Duration::from_millis(250)); // past the TTL, inside the grace
    verify(&verifier, &token).unwrap();
    assert_eq!(
        server.jwks_fetches(),
        1 + 3,
        "the refresh was tried, with retries"
    );
    // Within the failure backoff, stale keys serve without another fetch.
    verify(&verifier, &token).unwrap();
    assert_eq!(server.jwks_fetches(), 4);
}

#[test]
fn outage_past_the_grace_fails_closed_then_recovers() {
    let server = server();
    let verifier = JwksVerifier::new(fast_config(&server));
    let token = token();
    verify(&verifier, &token).unwrap();

    server.respond_with(Endpoint::Jwks, outage());
    thread::sleep(Duration::from_millis(850)); // past TTL + grace
    let err = verify(&verifier, &token).unwrap_err();
    assert_eq!(
        err.reason,
        TokenVerificationErrorReason::JwkRemoteFailedToLoad
    );
    assert_eq!(
        err.full_message(TokenCarrier::Cookie),
        format!(
            "Error loading Clerk JWKS from {}/v1/jwks with code=503 Contact support@clerk.com \
             (reason=jwk-remote-failed-to-load, token-carrier=cookie)",
            server.url()
        )
    );
    assert!(err.reason.is_key_set_outage());

    server.respond_with(Endpoint::Jwks, None);
    thread::sleep(Duration::from_millis(60)); // past the failure backoff
    verify(&verifier, &token).unwrap();
}

#[test]
fn cold_outage_retries_then_fails() {
    let server = server();
    server.respond_with(Endpoint::Jwks, outage());
    let verifier = JwksVerifier::new(fast_config(&server));
    let err = verify(&verifier, &token()).unwrap_err();
    assert_eq!(
        err.reason,
        TokenVerificationErrorReason::JwkRemoteFailedToLoad
    );
    assert_eq!(server.jwks_fetches(), 3, "3 attempts");
}

#[test]
fn invalid_secret_key_is_not_retried() {
    let server = server();
    let cfg = JwksConfig::new("sk_test_wrong").with_api_url(server.url());
    let verifier = JwksVerifier::new(cfg);
    let err = verify(&verifier, &token()).unwrap_err();
    assert_eq!(err.reason, TokenVerificationErrorReason::SecretKeyInvalid);
    assert_eq!(
        err.message,
        "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct."
    );
    assert_eq!(server.jwks_fetches(), 1);
    // The failure is remembered for the backoff (10 s by default): no second request.
    let again = verify(&verifier, &token()).unwrap_err();
    assert_eq!(again.reason, TokenVerificationErrorReason::SecretKeyInvalid);
    assert_eq!(server.jwks_fetches(), 1);
    assert!(!format!("{verifier:?}").contains("sk_test_wrong"));
    assert!(!err.message.contains("sk_test_wrong"));
}

#[test]
fn other_4xx_is_not_retried_and_gets_no_grace() {
    let server = server();
    let verifier = JwksVerifier::new(fast_config(&server));
    let token = token();
    verify(&verifier, &token).unwrap();
    server.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::bapi_error(403, "forbidden", "no")),
    );
    thread::sleep(Duration::from_millis(250));
    let err = verify(&verifier, &token).unwrap_err();
    assert_eq!(
        err.reason,
        TokenVerificationErrorReason::JwkRemoteFailedToLoad
    );
    assert!(err.message.ends_with("with code=403"));
    assert_eq!(server.jwks_fetches(), 2);
}

#[test]
fn slow_server_costs_bounded_time_and_fails_closed() {
    let server = server();
    server.set_delay(Endpoint::Jwks, Duration::from_secs(30));
    let verifier = JwksVerifier::new(JwksConfig::new(server.secret()).with_api_url(server.url()));
    let start = Instant::now();
    let err = verify(&verifier, &token()).unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(
        err.reason,
        TokenVerificationErrorReason::JwkRemoteFailedToLoad
    );
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(server.jwks_fetches() <= 3);
}

#[test]
fn garbage_and_empty_key_sets_fail_to_load() {
    let server = server();
    server.respond_with(Endpoint::Jwks, Some(CannedResponse::garbage(200)));
    let verifier = JwksVerifier::new(fast_config(&server));
    let err = verify(&verifier, &token()).unwrap_err();
    assert_eq!(
        err.reason,
        TokenVerificationErrorReason::JwkRemoteFailedToLoad
    );
    assert_eq!(server.jwks_fetches(), 1, "a 2xx is not retried");

    server.respond_with(Endpoint::Jwks, None);
    server.set_keys(vec![]);
    let verifier = JwksVerifier::new(fast_config(&server));
    let err = verify(&verifier, &token()).unwrap_err();
    assert_eq!(
        err.reason,
        TokenVerificationErrorReason::JwkRemoteFailedToLoad
    );
    assert_eq!(
        err.message,
        "The JWKS endpoint did not contain any signing keys. Contact support@clerk.com."
    );
}

#[test]
fn unreachable_server_fails_closed_quickly() {
    // Bind then drop a server to get a port nobody listens on.
    let url = {
        let s = BackendApiServer::start(SECRET).unwrap();
        s.url()
    };
    let verifier = JwksVerifier::new(JwksConfig::new(SECRET).with_api_url(url));
    let jwt = Jwt::decode(&token()).unwrap();
    assert!(verifier.try_key(&jwt).is_none(), "cold: would block");
    let start = Instant::now();
    let err = verifier.key(&jwt).unwrap_err();
    assert_eq!(
        err.reason,
        TokenVerificationErrorReason::JwkRemoteFailedToLoad
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    // The failure is remembered: no IO until the backoff ends, the failure answers at once.
    let again = verifier
        .try_key(&jwt)
        .map(|r| r.map(|_| ()).map_err(|e| e.reason));
    assert_eq!(
        again,
        Some(Err(TokenVerificationErrorReason::JwkRemoteFailedToLoad))
    );
}

#[test]
fn a_kid_miss_whose_refetch_fails_reports_the_fetch_failure() {
    let server = server();
    let verifier = JwksVerifier::new(fast_config(&server));
    verify(&verifier, &token()).unwrap();
    let rotated = TokenMinter::new(KeyPair::shared()).kid("ins_new").mint();

    // Decision 12: the refetch a kid miss triggers fails: the failure is reported (503 class),
    // never `jwk-kid-mismatch`, which would blame the client's token.
    server.respond_with(Endpoint::Jwks, outage());
    thread::sleep(Duration::from_millis(60)); // past the kid-miss cooldown
    let err = verify(&verifier, &rotated).unwrap_err();
    assert_eq!(
        err.reason,
        TokenVerificationErrorReason::JwkRemoteFailedToLoad
    );
    assert!(err.reason.is_key_set_outage());
    // Within the cooldown, the same kid gets the same answer without a fetch.
    let fetches = server.jwks_fetches();
    let again = verify(&verifier, &rotated).unwrap_err();
    assert_eq!(
        again.reason,
        TokenVerificationErrorReason::JwkRemoteFailedToLoad
    );
    assert_eq!(server.jwks_fetches(), fetches);
    // The known kid still verifies with the fresh keys.
    verify(&verifier, &token()).unwrap();

    // A refused secret key is reported as such.
    thread::sleep(Duration::from_millis(60));
    server.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::bapi_error(
            401,
            "clerk_key_invalid",
            "The provided Clerk Secret Key is invalid.",
        )),
    );
    let err = verify(&verifier, &rotated).unwrap_err();
    assert_eq!(err.reason, TokenVerificationErrorReason::SecretKeyInvalid);

    // Once the Backend API answers again, a kid missing from the set is the client's fault.
    server.respond_with(Endpoint::Jwks, None);
    thread::sleep(Duration::from_millis(60));
    let err = verify(&verifier, &rotated).unwrap_err();
    assert_eq!(err.reason, TokenVerificationErrorReason::JwkKidMismatch);
}

#[test]
fn a_redirect_from_the_key_set_endpoint_is_a_transient_failure() {
    let server = server();
    let verifier = JwksVerifier::new(fast_config(&server));
    let token = token();
    verify(&verifier, &token).unwrap();

    server.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::json(302, &serde_json::json!({}))),
    );
    thread::sleep(Duration::from_millis(250)); // past the TTL, inside the grace
    verify(&verifier, &token).unwrap();
    assert_eq!(
        server.jwks_fetches(),
        2,
        "a redirect is not retried within the fetch"
    );

    thread::sleep(Duration::from_millis(650)); // past TTL + grace
    let err = verify(&verifier, &token).unwrap_err();
    assert_eq!(
        err.reason,
        TokenVerificationErrorReason::JwkRemoteFailedToLoad
    );
    assert!(err.message.contains("code=302"), "{}", err.message);
}
