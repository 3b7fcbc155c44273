//! The metrics the core records, read back through `metrics-util`'s debugging recorder
//! (installed for the test's thread only).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::SystemTime;

use clerk_auth_core::telemetry;
use clerk_auth_core::testing::server::{BackendApiServer, CannedResponse, Endpoint};
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::{authenticate_request, Options};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

const PK: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
const URL: &str = "https://app.example.com/api/me";

/// One recorded series: name, sorted labels, value.
type Series = (String, Vec<(String, String)>, DebugValue);

/// Every recorded series.
fn series(snapshotter: &Snapshotter) -> Vec<Series> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let mut labels: Vec<(String, String)> = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            labels.sort();
            (key.name().to_owned(), labels, value)
        })
        .collect()
}

fn counter(all: &[Series], name: &str, labels: &[(&str, &str)]) -> u64 {
    all.iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(_, _, v)| match v {
            DebugValue::Counter(c) => *c,
            other => panic!("{name} is not a counter: {other:?}"),
        })
        .sum()
}

#[test]
fn decisions_fetches_and_cache_lookups_are_counted() {
    let key = KeyPair::shared();
    let server = BackendApiServer::start("sk_test_metrics").unwrap();
    server.set_keys(vec![key.jwk("ins_2test")]);
    let options = Options::builder()
        .publishable_key(PK)
        .secret_key(server.secret())
        .api_url(server.url())
        .build()
        .unwrap();
    let token = TokenMinter::new(key).issued_at(SystemTime::now()).mint();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();

    metrics::with_local_recorder(&recorder, || {
        for _ in 0..3 {
            let state =
                authenticate_request(&TestRequest::get(URL).bearer(&token).build(), &options)
                    .unwrap();
            assert!(state.is_signed_in());
        }
        let state = authenticate_request(&TestRequest::get(URL).build(), &options).unwrap();
        assert!(!state.is_signed_in());
    });

    let all = series(&snapshotter);
    assert_eq!(
        counter(
            &all,
            telemetry::REQUESTS,
            &[
                ("status", "signed-in"),
                ("reason", "none"),
                ("token_type", "session_token")
            ]
        ),
        3,
        "{all:?}"
    );
    assert_eq!(
        counter(
            &all,
            telemetry::REQUESTS,
            &[
                ("status", "signed-out"),
                ("reason", "session-token-and-uat-missing")
            ]
        ),
        1
    );
    assert_eq!(
        counter(&all, telemetry::JWKS_FETCHES, &[("outcome", "ok")]),
        1
    );
    assert_eq!(
        counter(&all, telemetry::VERIFIED_TOKEN_CACHE, &[("result", "miss")]),
        1
    );
    assert_eq!(
        counter(&all, telemetry::VERIFIED_TOKEN_CACHE, &[("result", "hit")]),
        2
    );
    // The Backend API's Date header was seen.
    assert!(all
        .iter()
        .any(|(n, _, v)| n == telemetry::BACKEND_API_CLOCK_OFFSET
            && matches!(v, DebugValue::Gauge(g) if g.into_inner().abs() < 2.0)));
}

#[test]
fn outages_are_counted_per_occurrence_and_warned_once() {
    let key = KeyPair::shared();
    let server = BackendApiServer::start("sk_test_metrics").unwrap();
    server.respond_with(Endpoint::Jwks, Some(CannedResponse::garbage(500)));
    let options = Options::builder()
        .publishable_key(PK)
        .secret_key(server.secret())
        .api_url(server.url())
        .jwks_max_attempts(1)
        .build()
        .unwrap();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        for i in 0..3 {
            // A new kid each time: each is a kid miss, but the failure back-off holds fetches.
            let token = TokenMinter::new(key)
                .kid(&format!("ins_{i}"))
                .issued_at(SystemTime::now())
                .mint();
            let state =
                authenticate_request(&TestRequest::get(URL).bearer(&token).build(), &options)
                    .unwrap();
            assert!(state.is_key_set_outage(), "{:?}", state.reason());
        }
    });
    let all = series(&snapshotter);
    assert_eq!(
        counter(&all, telemetry::JWKS_FETCHES, &[("outcome", "http-5xx")]),
        1
    );
    assert_eq!(
        counter(
            &all,
            telemetry::WARNINGS,
            &[("condition", "key-set-outage")]
        ),
        3,
        "{all:?}"
    );
    assert_eq!(
        counter(
            &all,
            telemetry::REQUESTS,
            &[
                ("status", "signed-out"),
                ("reason", "jwk-remote-failed-to-load")
            ]
        ),
        3
    );
}

#[test]
fn tokens_without_azp_are_counted_every_time() {
    let key = KeyPair::shared();
    let options = Options::builder()
        .publishable_key(PK)
        .secret_key("sk_live_x")
        .jwt_key(key.public_pem())
        .build()
        .unwrap();
    let token = TokenMinter::new(key)
        .without_claim("azp")
        .issued_at(SystemTime::now())
        .mint();
    let request = TestRequest::get(URL)
        .cookie("__session", &token)
        .cookie("__client_uat", "1")
        .build();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        for _ in 0..4 {
            assert!(authenticate_request(&request, &options)
                .unwrap()
                .is_signed_in());
        }
    });
    let all = series(&snapshotter);
    assert_eq!(
        counter(&all, telemetry::WARNINGS, &[("condition", "missing-azp")]),
        4
    );
}

#[test]
fn a_redirect_from_the_key_set_endpoint_has_its_own_outcome() {
    let key = KeyPair::shared();
    let server = BackendApiServer::start("sk_test_metrics").unwrap();
    server.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::json(307, &serde_json::json!({}))),
    );
    let options = Options::builder()
        .publishable_key(PK)
        .secret_key(server.secret())
        .api_url(server.url())
        .build()
        .unwrap();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let token = TokenMinter::new(key).issued_at(SystemTime::now()).mint();
        let state =
            authenticate_request(&TestRequest::get(URL).bearer(&token).build(), &options).unwrap();
        assert!(state.is_key_set_outage(), "{:?}", state.reason());
    });
    let all = series(&snapshotter);
    assert_eq!(
        counter(&all, telemetry::JWKS_FETCHES, &[("outcome", "redirect")]),
        1,
        "a redirect is one failed attempt, not retried: {all:?}"
    );
    assert_eq!(server.jwks_fetches(), 1, "the redirect was not followed");
}
