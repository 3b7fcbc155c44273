//! The start-up self-check (issue 7 item 2): each misconfiguration is reported with the right
//! severity and the environment variable at fault; the key set is fetched (and warmed) over real
//! HTTP against the Backend API emulator, and retried in the background when it is unreachable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::thread;
use std::time::{Duration, Instant, SystemTime};

use clerk_auth_core::self_check::{
    self_check, self_check_env_with, self_check_with_retry, Severity,
};
use clerk_auth_core::testing::logs::capture_logs;
use clerk_auth_core::testing::server::{BackendApiServer, CannedResponse, Endpoint};
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::OwnedRequest;
use clerk_auth_core::{authenticate_request, Options, SelfCheckReport};

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
const PK_TEST: &str = "pk_test_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA";
const GARBAGE_PEM: &str = "-----BEGIN PUBLIC KEY-----\nnot*base64*at*all\n-----END PUBLIC KEY-----";

/// The authorized parties of the tests' applications: with them, a development instance gets no
/// decision-14 warning (tested on its own) in tests about other findings.
const PARTIES: &str = "http://localhost:3000";

/// A variable lookup over fixed pairs, plus `CLERK_AUTHORIZED_PARTIES` unless they name it.
fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let mut pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    if !pairs.iter().any(|(k, _)| k == "CLERK_AUTHORIZED_PARTIES") {
        pairs.push(("CLERK_AUTHORIZED_PARTIES".to_owned(), PARTIES.to_owned()));
    }
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// Asserts the report holds exactly one finding, of `severity`, naming `variable`.
fn assert_only(report: &SelfCheckReport, severity: Severity, variable: &str) {
    let findings = report.findings();
    assert_eq!(findings.len(), 1, "{report}");
    assert_eq!(findings[0].severity(), severity, "{report}");
    assert_eq!(findings[0].variable(), variable, "{report}");
    assert!(findings[0].message().contains(variable), "{report}");
    assert_eq!(report.is_ok(), severity == Severity::Warning, "{report}");
}

fn server_with_keys(secret: &str) -> BackendApiServer {
    let server = BackendApiServer::start(secret).unwrap();
    server.set_keys(vec![KeyPair::shared().jwk("ins_1")]);
    server
}

/// Options fetching the key set from `server` once per fetch (no in-fetch retries, short timeout).
fn options_for(server_url: &str, secret: &str) -> Options {
    Options::builder()
        .secret_key(secret)
        .publishable_key(PK_TEST)
        .authorized_parties([PARTIES])
        .api_url(server_url)
        .jwks_max_attempts(1)
        .jwks_timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

fn token() -> String {
    TokenMinter::new(KeyPair::shared())
        .kid("ins_1")
        .issued_at(SystemTime::now())
        .mint()
}

fn request(token: &str) -> OwnedRequest {
    TestRequest::get("https://app.example.com/api/me")
        .bearer(token)
        .build()
}

/// Polls `done` every 20 ms for at most `limit`.
fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    done()
}

// -------------------------------------------------------------------------------------------------
// Build errors: hard errors naming the variable
// -------------------------------------------------------------------------------------------------

#[test]
fn garbage_publishable_key_is_an_error_naming_clerk_publishable_key() {
    let (options, report) = self_check_env_with(env(&[
        ("CLERK_SECRET_KEY", "sk_live_xxx"),
        ("CLERK_PUBLISHABLE_KEY", "pk_live_garbage"),
    ]));
    assert!(options.is_none());
    assert_only(&report, Severity::Error, "CLERK_PUBLISHABLE_KEY");
}

#[test]
fn missing_publishable_key_is_an_error_naming_clerk_publishable_key() {
    let (options, report) = self_check_env_with(env(&[("CLERK_SECRET_KEY", "sk_live_xxx")]));
    assert!(options.is_none());
    assert_only(&report, Severity::Error, "CLERK_PUBLISHABLE_KEY");
}

#[test]
fn garbage_pem_is_an_error_naming_clerk_jwt_key() {
    let (options, report) = self_check_env_with(env(&[
        ("CLERK_SECRET_KEY", "sk_live_xxx"),
        ("CLERK_PUBLISHABLE_KEY", PK_LIVE),
        ("CLERK_JWT_KEY", GARBAGE_PEM),
    ]));
    assert!(options.is_none());
    assert_only(&report, Severity::Error, "CLERK_JWT_KEY");
}

#[test]
fn missing_secret_key_is_an_error_naming_clerk_secret_key() {
    let (options, report) = self_check_env_with(env(&[("CLERK_PUBLISHABLE_KEY", PK_LIVE)]));
    assert!(options.is_none());
    assert_only(&report, Severity::Error, "CLERK_SECRET_KEY");
}

#[test]
fn satellite_without_domain_or_proxy_is_an_error_naming_clerk_domain() {
    let (options, report) = self_check_env_with(env(&[
        ("CLERK_SECRET_KEY", "sk_live_xxx"),
        ("CLERK_PUBLISHABLE_KEY", PK_LIVE),
        ("CLERK_IS_SATELLITE", "true"),
    ]));
    assert!(options.is_none());
    assert_only(&report, Severity::Error, "CLERK_DOMAIN");
    assert!(report.findings()[0].message().contains("CLERK_PROXY_URL"));
}

#[test]
fn development_satellite_without_sign_in_url_is_an_error_naming_clerk_sign_in_url() {
    let (options, report) = self_check_env_with(env(&[
        ("CLERK_SECRET_KEY", "sk_test_xxx"),
        ("CLERK_PUBLISHABLE_KEY", PK_TEST),
        ("CLERK_IS_SATELLITE", "true"),
        ("CLERK_DOMAIN", "satellite.example.com"),
    ]));
    assert!(options.is_none());
    assert_only(&report, Severity::Error, "CLERK_SIGN_IN_URL");
}

#[test]
fn invalid_personal_account_pattern_names_its_own_variable() {
    let (options, report) = self_check_env_with(env(&[
        ("CLERK_SECRET_KEY", "sk_live_xxx"),
        ("CLERK_PUBLISHABLE_KEY", PK_LIVE),
        ("CLERK_JWT_KEY", &KeyPair::shared().public_pem()),
        ("CLERK_ORGANIZATION_PATTERNS", "/orgs/:slug"),
        ("CLERK_PERSONAL_ACCOUNT_PATTERNS", "/me((("),
    ]));
    assert!(options.is_none());
    assert_only(&report, Severity::Error, "CLERK_PERSONAL_ACCOUNT_PATTERNS");
}

// -------------------------------------------------------------------------------------------------
// Instance types: warnings naming CLERK_SECRET_KEY
// -------------------------------------------------------------------------------------------------

#[test]
fn development_secret_key_with_production_publishable_key_is_a_warning() {
    let pem = KeyPair::shared().public_pem();
    let (options, report) = self_check_env_with(env(&[
        ("CLERK_SECRET_KEY", "sk_test_xxx"),
        ("CLERK_PUBLISHABLE_KEY", PK_LIVE),
        ("CLERK_JWT_KEY", &pem),
    ]));
    assert!(options.is_some(), "the service still starts");
    assert_only(&report, Severity::Warning, "CLERK_SECRET_KEY");
    let message = report.findings()[0].message();
    assert!(message.contains("CLERK_PUBLISHABLE_KEY"), "{message}");
    assert!(message.contains("a development secret key"), "{message}");
}

#[test]
fn production_secret_key_with_development_publishable_key_is_a_warning() {
    let pem = KeyPair::shared().public_pem();
    let (options, report) = self_check_env_with(env(&[
        ("CLERK_SECRET_KEY", "sk_live_xxx"),
        ("CLERK_PUBLISHABLE_KEY", PK_TEST),
        ("CLERK_JWT_KEY", &pem),
    ]));
    assert!(options.is_some(), "the service still starts");
    assert_only(&report, Severity::Warning, "CLERK_SECRET_KEY");
    let message = report.findings()[0].message();
    assert!(message.contains("CLERK_PUBLISHABLE_KEY"), "{message}");
    assert!(message.contains("a production secret key"), "{message}");
}

// -------------------------------------------------------------------------------------------------
// The key set, over HTTP
// -------------------------------------------------------------------------------------------------

#[test]
fn all_good_has_no_findings_and_warms_the_key_set() {
    let server = server_with_keys("sk_test_self_check_good");
    let url = server.url();
    let (options, report) = self_check_env_with(env(&[
        ("CLERK_SECRET_KEY", server.secret()),
        ("CLERK_PUBLISHABLE_KEY", PK_TEST),
        ("CLERK_API_URL", &url),
    ]));
    let options = options.unwrap();
    assert!(report.findings().is_empty(), "{report}");
    assert!(report.is_ok());
    assert_eq!(report.keys_loaded(), Some(1));
    assert_eq!(
        server.jwks_fetches(),
        1,
        "the self-check fetched the key set"
    );

    let state = authenticate_request(&request(&token()), &options).unwrap();
    assert!(state.is_signed_in(), "{:?}", state.reason());
    assert_eq!(
        server.jwks_fetches(),
        1,
        "the first request found the keys warm"
    );
}

#[test]
fn pem_key_needs_no_fetch() {
    let server = server_with_keys("sk_test_self_check_pem");
    let options = Options::builder()
        .secret_key(server.secret())
        .publishable_key(PK_TEST)
        .authorized_parties([PARTIES])
        .jwt_key(KeyPair::shared().public_pem())
        .api_url(server.url())
        .build()
        .unwrap();
    let report = self_check(&options);
    assert!(report.findings().is_empty(), "{report}");
    assert_eq!(report.keys_loaded(), None);
    assert_eq!(server.jwks_fetches(), 0);
}

#[test]
fn unreachable_key_set_is_a_warning_naming_clerk_api_url() {
    let url = {
        let server = BackendApiServer::start("sk_test_self_check_gone").unwrap();
        server.url()
    }; // stopped: connections are refused
    let options = options_for(&url, "sk_test_self_check_gone");
    let report = self_check(&options);
    assert_only(&report, Severity::Warning, "CLERK_API_URL");

    // The service still works: requests are decided (signed out for the outage).
    let state = authenticate_request(&request(&token()), &options).unwrap();
    assert!(!state.is_signed_in());
    assert!(state.is_key_set_outage(), "{:?}", state.reason());
}

#[test]
fn key_set_answering_500_is_a_warning_and_the_background_retry_recovers() {
    let server = server_with_keys("sk_test_self_check_500");
    server.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::bapi_error(500, "unexpected_error", "down")),
    );
    let options = options_for(&server.url(), server.secret());
    let report = self_check_with_retry(
        &options,
        Duration::from_millis(100),
        Duration::from_millis(200),
    );
    assert_only(&report, Severity::Warning, "CLERK_API_URL");
    assert_eq!(server.jwks_fetches(), 1);

    // Still down: the background thread keeps retrying.
    assert!(
        wait_until(Duration::from_secs(3), || server.jwks_fetches() >= 3),
        "no background retry: {} fetches",
        server.jwks_fetches()
    );

    // Back up: the next retry loads the keys. Requests do not fetch them themselves here: after
    // a failed fetch the key set waits 10 s (its failure backoff) before a request may fetch.
    server.respond_with(Endpoint::Jwks, None);
    let request = request(&token());
    assert!(
        wait_until(Duration::from_secs(3), || {
            // The fetch event is written on the thread that fetches: captured here only if this
            // request fetched (the background retry fetches on its own thread meanwhile).
            let (signed_in, logs) = capture_logs(tracing::Level::DEBUG, || {
                authenticate_request(&request, &options)
                    .unwrap()
                    .is_signed_in()
            });
            assert!(
                !logs.contains("fetching Clerk JWKS"),
                "a request fetched the key set: {logs}"
            );
            signed_in
        }),
        "the background retry did not load the keys"
    );

    // The retry stopped at its first success.
    let fetches = server.jwks_fetches();
    thread::sleep(Duration::from_millis(600));
    assert_eq!(server.jwks_fetches(), fetches);
}

#[test]
fn the_background_retry_ends_when_the_options_are_dropped() {
    let server = server_with_keys("sk_test_self_check_drop");
    server.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::bapi_error(503, "unexpected_error", "down")),
    );
    let options = options_for(&server.url(), server.secret());
    let report = self_check_with_retry(
        &options,
        Duration::from_millis(100),
        Duration::from_millis(100),
    );
    assert_only(&report, Severity::Warning, "CLERK_API_URL");
    assert!(wait_until(Duration::from_secs(3), || server.jwks_fetches() >= 2));

    drop(options);
    thread::sleep(Duration::from_millis(800)); // an in-flight retry finishes
    let fetches = server.jwks_fetches();
    thread::sleep(Duration::from_millis(800));
    assert_eq!(
        server.jwks_fetches(),
        fetches,
        "the retry thread outlived the options"
    );
}

#[test]
fn empty_key_set_is_a_warning_naming_clerk_secret_key() {
    let server = BackendApiServer::start("sk_test_self_check_empty").unwrap();
    let options = options_for(&server.url(), server.secret());
    let report = self_check(&options);
    assert_only(&report, Severity::Warning, "CLERK_SECRET_KEY");
    assert!(report.findings()[0]
        .message()
        .contains("no usable signing key"));
}

/// A secret key the Backend API refuses (`401 clerk_key_invalid`, `secret-key-invalid`) makes
/// authentication impossible, and retrying cannot fix it: an error.
#[test]
fn refused_secret_key_is_an_error_naming_clerk_secret_key() {
    let server = server_with_keys("sk_test_self_check_right");
    let options = options_for(&server.url(), "sk_test_self_check_wrong");
    let report = self_check(&options);
    assert_only(&report, Severity::Error, "CLERK_SECRET_KEY");
    assert_eq!(server.jwks_fetches(), 1);
}

// -------------------------------------------------------------------------------------------------
// No secrets in the report or the logs
// -------------------------------------------------------------------------------------------------

#[test]
fn reports_and_logs_never_contain_keys() {
    let dev_secret = "sk_test_SelfCheckSecretDoNotLog0123456789";
    let live_secret = "sk_live_SelfCheckSecretDoNotLog0123456789";
    let bad_pk = "pk_live_SelfCheckPublishableDoNotLog0123456789";
    let pem = KeyPair::shared().public_pem();
    let server = server_with_keys("sk_test_self_check_other");
    let url = server.url();

    let (reports, logs) = capture_logs(tracing::Level::TRACE, || {
        let mut reports = Vec::new();
        // Build errors.
        for lookup in [
            env(&[
                ("CLERK_SECRET_KEY", dev_secret),
                ("CLERK_PUBLISHABLE_KEY", bad_pk),
            ]),
            env(&[
                ("CLERK_SECRET_KEY", dev_secret),
                ("CLERK_PUBLISHABLE_KEY", PK_TEST),
                ("CLERK_JWT_KEY", GARBAGE_PEM),
            ]),
            // Instance types (with a PEM key).
            env(&[
                ("CLERK_SECRET_KEY", dev_secret),
                ("CLERK_PUBLISHABLE_KEY", PK_LIVE),
                ("CLERK_JWT_KEY", &pem),
            ]),
            env(&[
                ("CLERK_SECRET_KEY", live_secret),
                ("CLERK_PUBLISHABLE_KEY", PK_TEST),
                ("CLERK_JWT_KEY", &pem),
            ]),
            // A refused secret key, then a good configuration.
            env(&[
                ("CLERK_SECRET_KEY", dev_secret),
                ("CLERK_PUBLISHABLE_KEY", PK_TEST),
                ("CLERK_API_URL", &url),
            ]),
            env(&[
                ("CLERK_SECRET_KEY", server.secret()),
                ("CLERK_PUBLISHABLE_KEY", PK_TEST),
                ("CLERK_API_URL", &url),
            ]),
        ] {
            let (_, report) = self_check_env_with(lookup);
            report.log();
            reports.push(report.to_string());
        }
        reports
    });
    assert!(logs.contains("CLERK_PUBLISHABLE_KEY"), "{logs}");
    assert!(logs.contains("CLERK_JWT_KEY"), "{logs}");
    assert!(logs.contains("configuration OK"), "{logs}");
    assert!(logs.contains("ERROR") && logs.contains("WARN"), "{logs}");
    let all = format!("{logs}\n{}", reports.join("\n"));

    let mut secrets = vec![
        dev_secret.to_owned(),
        live_secret.to_owned(),
        server.secret().to_owned(),
        bad_pk.to_owned(),
        PK_LIVE.to_owned(),
        PK_TEST.to_owned(),
    ];
    secrets.extend(pem.lines().filter(|l| l.len() > 40).map(str::to_owned));
    for secret in &secrets {
        // The random part of a key is enough to spot a leak, even truncated.
        let probe = &secret[8.min(secret.len())..secret.len().min(28)];
        assert!(
            !all.contains(probe),
            "a key reached the report or the logs: {probe:.6}…"
        );
    }
}

#[test]
fn a_skewed_clock_is_a_warning_naming_clerk_clock_skew_ms() {
    let server = server_with_keys("sk_test_self_check_clock");
    // The Backend API's clock is two minutes ahead of this server's.
    server.set_clock_offset(120);
    let options = options_for(&server.url(), server.secret());
    let report = self_check(&options);
    assert!(report.is_ok(), "a warning lets the server start: {report}");
    assert_only(&report, Severity::Warning, "CLERK_CLOCK_SKEW_MS");
    let message = report.findings()[0].message();
    assert!(
        ["119 s behind", "120 s behind", "121 s behind"]
            .iter()
            .any(|m| message.contains(m)),
        "{message}"
    );

    // A clock in step with the Backend API is no finding.
    server.set_clock_offset(0);
    let options = options_for(&server.url(), server.secret());
    assert!(self_check(&options).findings().is_empty());
}

#[test]
fn a_development_instance_without_authorized_parties_is_warned_its_redirects_are_unrestricted() {
    let pem = KeyPair::shared().public_pem();
    let unrestricted = [
        ("CLERK_SECRET_KEY", "sk_test_self_check_dev"),
        ("CLERK_PUBLISHABLE_KEY", PK_TEST),
        ("CLERK_JWT_KEY", pem.as_str()),
        ("CLERK_AUTHORIZED_PARTIES", ""),
    ];
    let (_, report) = self_check_env_with(env(&unrestricted));
    assert_only(&report, Severity::Warning, "CLERK_AUTHORIZED_PARTIES");
    assert!(report.findings()[0]
        .message()
        .contains("__clerk_redirect_url"));

    // With the list set, or on a production instance, nothing to say.
    let mut restricted = unrestricted;
    restricted[3].1 = PARTIES;
    let (_, report) = self_check_env_with(env(&restricted));
    assert!(report.findings().is_empty(), "{report}");
    let production = [
        ("CLERK_SECRET_KEY", "sk_live_self_check_prod"),
        ("CLERK_PUBLISHABLE_KEY", PK_LIVE),
        ("CLERK_JWT_KEY", pem.as_str()),
        ("CLERK_AUTHORIZED_PARTIES", ""),
    ];
    let (_, report) = self_check_env_with(env(&production));
    assert!(report.findings().is_empty(), "{report}");
}

#[test]
fn a_secret_key_without_its_prefix_is_a_warning_naming_clerk_secret_key() {
    let pem = KeyPair::shared().public_pem();
    let (options, report) = self_check_env_with(env(&[
        ("CLERK_SECRET_KEY", "abc"),
        ("CLERK_PUBLISHABLE_KEY", PK_LIVE),
        ("CLERK_JWT_KEY", pem.as_str()),
    ]));
    assert!(options.is_some(), "a legacy key may be right: {report}");
    assert_only(&report, Severity::Warning, "CLERK_SECRET_KEY");
    assert!(!report.to_string().contains("abc"), "{report}");

    let (_, report) = self_check_env_with(env(&[
        ("CLERK_SECRET_KEY", "sk_live_abc"),
        ("CLERK_PUBLISHABLE_KEY", PK_LIVE),
        ("CLERK_JWT_KEY", pem.as_str()),
    ]));
    assert!(report.findings().is_empty(), "{report}");
}
