//! The start-up self-check in the fairing's `on_ignite`, through real launches, real HTTP and the
//! Backend API emulator: an error aborts the launch naming the variable, a warning does not, and
//! a good key set is cached before the first request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, SystemTime};

use clerk_auth_core::testing::server::{BackendApiServer, CannedResponse, Endpoint};
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::Options;
use clerk_auth_vectors::client::{agent, get};
use support::{app, app_without_self_check, launch};

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";

fn emulator(secret: &str) -> BackendApiServer {
    let emulator = BackendApiServer::start(secret).unwrap();
    emulator.set_keys(vec![KeyPair::shared().jwk("ins_1")]);
    emulator
}

/// Options fetching the key set from `emulator` with `secret`, one attempt per fetch.
fn options(emulator: &BackendApiServer, secret: &str) -> Options {
    Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key(secret)
        .api_url(emulator.url())
        .jwks_max_attempts(1)
        .jwks_timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

fn bearer() -> String {
    let token = TokenMinter::new(KeyPair::shared())
        .kid("ins_1")
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(600))
        .mint();
    format!("Bearer {token}")
}

#[test]
fn refused_secret_key_aborts_the_launch_naming_clerk_secret_key() {
    let emulator = emulator("sk_live_rocket_self_check_right");
    let wrong = "sk_live_RocketSelfCheckWrongDoNotLog0123456789";
    let (rocket, _) = app(options(&emulator, wrong));
    let (launched, logs) = launch(rocket);
    assert_eq!(
        launched.err().as_deref(),
        Some(r#"failed fairings: ["ClerkAuth"]"#)
    );
    let logs = logs.text();
    assert!(logs.contains("ERROR"), "{logs}");
    assert!(logs.contains("CLERK_SECRET_KEY"), "{logs}");
    assert!(logs.contains("refused the secret key"), "{logs}");
    assert!(
        !logs.contains(&wrong[8..28]),
        "the secret key reached the logs"
    );
    assert_eq!(emulator.jwks_fetches(), 1);
}

#[test]
fn key_set_answering_500_is_a_warning_and_the_server_serves() {
    let emulator = emulator("sk_live_rocket_self_check_500");
    emulator.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::bapi_error(500, "unexpected_error", "down")),
    );
    let (rocket, _) = app(options(&emulator, emulator.secret()));
    let (launched, logs) = launch(rocket);
    let server = launched.expect("a warning does not stop the launch");
    let logs = logs.text();
    assert!(logs.contains("WARN"), "{logs}");
    assert!(logs.contains("CLERK_API_URL"), "{logs}");
    assert!(!logs.contains("ERROR"), "{logs}");
    assert_eq!(
        emulator.jwks_fetches(),
        1,
        "the self-check tried the key set"
    );

    // The server serves: public routes as usual, session tokens signed out for the outage.
    let agent = agent();
    let state = get(&agent, &format!("{}/state", server.base), &[]);
    assert_eq!(
        (state.status, state.body.as_str()),
        (200, "signed-out false")
    );
    let me = get(
        &agent,
        &format!("{}/api/me", server.base),
        &[("Authorization", &bearer())],
    );
    assert_eq!(me.status, 503, "{me:?}");
    assert_eq!(me.json()["reason"], "jwk-remote-failed-to-load");
}

#[test]
fn good_key_set_is_cached_before_the_first_request() {
    let emulator = emulator("sk_live_rocket_self_check_good");
    let (rocket, _) = app(options(&emulator, emulator.secret()));
    let (launched, logs) = launch(rocket);
    let server = launched.expect("launch");
    let logs = logs.text();
    assert!(logs.contains("configuration OK"), "{logs}");
    assert!(!logs.contains("WARN") && !logs.contains("ERROR"), "{logs}");
    assert_eq!(emulator.jwks_fetches(), 1, "fetched on ignite");

    let me = get(
        &agent(),
        &format!("{}/api/me", server.base),
        &[("Authorization", &bearer())],
    );
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(me.json()["userId"], "user_2test");
    assert_eq!(
        emulator.jwks_fetches(),
        1,
        "the request found the keys cached"
    );
}

#[test]
fn self_check_off_launches_without_touching_the_key_set() {
    let emulator = emulator("sk_live_rocket_self_check_off");
    // Even a refused secret key launches: nothing is checked.
    let (rocket, _) = app_without_self_check(options(&emulator, "sk_live_rocket_wrong"));
    let (launched, logs) = launch(rocket);
    let server = launched.expect("launch");
    assert_eq!(emulator.jwks_fetches(), 0);
    assert!(!logs.text().contains("self-check"), "{}", logs.text());

    // The first request with a session token fetches the key set itself.
    let me = get(
        &agent(),
        &format!("{}/api/me", server.base),
        &[("Authorization", &bearer())],
    );
    assert_eq!(me.status, 503, "{me:?}");
    assert_eq!(me.json()["reason"], "secret-key-invalid");
    assert_eq!(emulator.jwks_fetches(), 1);
}
