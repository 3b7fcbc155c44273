//! `clerk_auth_axum::self_check`: the core's start-up check from async code, against the Backend
//! API emulator over real HTTP; a good key set is cached for the layer's first request, and the
//! check waits for the key set off the executor.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use clerk_auth_axum::SelfCheckReport;
use clerk_auth_core::testing::logs::capture_logs;
use clerk_auth_core::testing::server::{BackendApiServer, CannedResponse, Endpoint};
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::{Options, Severity};
use clerk_auth_vectors::client::{agent, get};
use common::{bearer, HeldKeySet, Server, PK_LIVE};

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
            .block_on(clerk_auth_axum::self_check(options))
            .expect("the check completed")
    })
}

/// The one finding of `report`: its severity and the variable it names.
fn only_finding(report: &SelfCheckReport) -> (Severity, &str) {
    assert_eq!(report.findings().len(), 1, "{report}");
    let finding = &report.findings()[0];
    (finding.severity(), finding.variable())
}

#[test]
fn key_set_answering_500_is_a_warning_naming_clerk_api_url() {
    let emulator = emulator("sk_live_axum_self_check_500");
    emulator.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::bapi_error(500, "unexpected_error", "down")),
    );
    let (report, logs) = run_logged(&options(&emulator, emulator.secret()));
    assert!(report.is_ok(), "a warning lets the server start: {report}");
    assert_eq!(only_finding(&report), (Severity::Warning, "CLERK_API_URL"));
    assert!(
        logs.contains("WARN") && logs.contains("CLERK_API_URL"),
        "{logs}"
    );
}

#[test]
fn refused_secret_key_is_an_error_naming_clerk_secret_key() {
    let emulator = emulator("sk_live_axum_self_check_right");
    let wrong = "sk_live_AxumSelfCheckWrongDoNotLog0123456789";
    let (report, logs) = run_logged(&options(&emulator, wrong));
    assert!(!report.is_ok(), "{report}");
    assert_eq!(only_finding(&report), (Severity::Error, "CLERK_SECRET_KEY"));
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
fn good_keys_are_ok_and_cached_for_the_layer() {
    let emulator = emulator("sk_live_axum_self_check_good");
    let options = options(&emulator, emulator.secret());
    let (report, logs) = run_logged(&options);
    assert!(report.findings().is_empty(), "{report}");
    assert_eq!(report.keys_loaded(), Some(1));
    assert!(logs.contains("configuration OK"), "{logs}");
    assert_eq!(emulator.jwks_fetches(), 1);

    // The layer's options are clones: the first signed-in request finds the keys cached.
    let server = Server::start(options);
    let token = TokenMinter::new(KeyPair::shared())
        .kid("ins_1")
        .issued_at(std::time::SystemTime::now())
        .ttl(Duration::from_secs(600))
        .mint();
    let res = get(
        &agent(),
        &server.url("/api/me"),
        &[("authorization", &bearer(&token))],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["userId"], "user_2test");
    assert_eq!(emulator.jwks_fetches(), 1, "the request made no fetch");
}

/// On a single-threaded runtime, the task that lets the held key-set fetch go runs while the
/// check waits for it: the check waits on the blocking pool, not on the executor (had it blocked
/// the executor, the fetch would time out and the report would warn).
#[test]
fn the_check_does_not_block_the_executor() {
    let key_set = HeldKeySet::start(vec![KeyPair::shared().jwk("ins_1")], 0);
    let options = key_set.options().build().unwrap();
    let report = current_thread().block_on(async {
        let check = tokio::spawn(async move { clerk_auth_axum::self_check(&options).await });
        while key_set.fetches() == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        key_set.release();
        check.await.unwrap().unwrap()
    });
    assert!(report.findings().is_empty(), "{report}");
    assert_eq!(report.keys_loaded(), Some(1));
}
