//! `clerk_auth_warp::self_check`: the core's start-up check from async code, against the Backend
//! API emulator over real HTTP; a good key set is cached for the filters' first request.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clerk_auth_core::testing::logs::capture_logs;
use clerk_auth_core::testing::server::{BackendApiServer, CannedResponse, Endpoint};
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::{Options, Severity};
use clerk_auth_vectors::client::{agent, get};
use clerk_auth_warp::SelfCheckReport;
use common::{Server, PK_LIVE};

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

/// A single-threaded tokio runtime: a blocked executor would stall everything on it.
fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Runs the check on a single-threaded runtime, capturing its `tracing` events.
fn run_logged(options: &Options) -> (SelfCheckReport, String) {
    capture_logs(tracing::Level::INFO, || {
        current_thread()
            .block_on(clerk_auth_warp::self_check(options))
            .expect("the check completed")
    })
}

fn assert_only(report: &SelfCheckReport, severity: Severity, variable: &str) {
    assert_eq!(report.findings().len(), 1, "{report}");
    assert_eq!(report.findings()[0].severity(), severity, "{report}");
    assert_eq!(report.findings()[0].variable(), variable, "{report}");
}

#[test]
fn key_set_answering_500_is_a_warning_naming_clerk_api_url() {
    let emulator = emulator("sk_live_warp_self_check_500");
    emulator.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::bapi_error(500, "unexpected_error", "down")),
    );
    let (report, logs) = run_logged(&options(&emulator, emulator.secret()));
    assert!(report.is_ok(), "a warning lets the server start: {report}");
    assert_only(&report, Severity::Warning, "CLERK_API_URL");
    assert!(
        logs.contains("WARN") && logs.contains("CLERK_API_URL"),
        "{logs}"
    );
    assert_eq!(emulator.jwks_fetches(), 1);
}

#[test]
fn refused_secret_key_is_an_error_naming_clerk_secret_key() {
    let emulator = emulator("sk_live_warp_self_check_right");
    let wrong = "sk_live_WarpSelfCheckWrongDoNotLog0123456789";
    let (report, logs) = run_logged(&options(&emulator, wrong));
    assert!(!report.is_ok(), "{report}");
    assert_only(&report, Severity::Error, "CLERK_SECRET_KEY");
    assert!(
        logs.contains("ERROR") && logs.contains("CLERK_SECRET_KEY"),
        "{logs}"
    );
    assert!(
        !logs.contains(&wrong[8..28]),
        "the secret key reached the logs"
    );
}

#[test]
fn good_keys_are_ok_and_cached_for_the_filters() {
    let emulator = emulator("sk_live_warp_self_check_good");
    let options = options(&emulator, emulator.secret());
    let (report, logs) = run_logged(&options);
    assert!(report.findings().is_empty(), "{report}");
    assert_eq!(report.keys_loaded(), Some(1));
    assert!(logs.contains("configuration OK"), "{logs}");
    assert_eq!(emulator.jwks_fetches(), 1);

    // The filters' options are clones: the first signed-in request finds the keys cached.
    let server = Server::start(options);
    let token = TokenMinter::new(KeyPair::shared())
        .kid("ins_1")
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(600))
        .mint();
    let res = get(
        &agent(),
        &server.url("/api/me"),
        &[("authorization", &format!("Bearer {token}"))],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["userId"], "user_2test");
    assert_eq!(emulator.jwks_fetches(), 1, "the request made no fetch");
}

/// On a single-threaded runtime, another task keeps running while the check waits for a slow
/// key set: the check runs on the blocking pool, not on the executor.
#[test]
fn the_check_does_not_block_the_executor() {
    let emulator = emulator("sk_live_warp_self_check_slow");
    emulator.set_delay(Endpoint::Jwks, Duration::from_millis(400));
    let options = options(&emulator, emulator.secret());
    let ticks = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&ticks);
    let (report, during) = current_thread().block_on(async move {
        let ticker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                counted.fetch_add(1, Ordering::SeqCst);
            }
        });
        let report = clerk_auth_warp::self_check(&options).await.unwrap();
        // Read before yielding again: only ticks made while the check ran count.
        let during = ticks.load(Ordering::SeqCst);
        ticker.abort();
        (report, during)
    });
    assert!(report.findings().is_empty(), "{report}");
    assert!(
        during >= 5,
        "the executor stalled during the check ({during} ticks in 400 ms)"
    );
}
