//! The self-check starts at most one background key-set retry thread per configured instance,
//! however often (and from however many threads) it is called. The threads are counted by name
//! in `/proc` (Linux), in a test binary of their own so that no other test's retry is counted.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::thread;
use std::time::{Duration, Instant};

use clerk_auth_core::self_check::self_check_with_retry;
use clerk_auth_core::testing::server::{BackendApiServer, CannedResponse, Endpoint};
use clerk_auth_core::testing::KeyPair;
use clerk_auth_core::Options;

const PK_TEST: &str = "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k";
const SECRET: &str = "sk_test_self_check_retry";

/// The retry thread's name as Linux keeps it (15 bytes).
const THREAD_COMM: &str = "clerk-auth-key-";

fn retry_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == THREAD_COMM)
        .count()
}

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

/// Waits until exactly `n` retry threads run (a new thread takes its name a moment after it
/// starts), then checks that no other appears.
fn assert_retry_threads(n: usize) {
    assert!(
        wait_until(Duration::from_secs(3), || retry_threads() == n),
        "{} retry threads, want {n}",
        retry_threads()
    );
    thread::sleep(Duration::from_millis(200));
    assert_eq!(retry_threads(), n);
}

fn options(server: &BackendApiServer) -> Options {
    server
        .options_builder()
        .publishable_key(PK_TEST)
        // Decision 14's warning is not the subject here.
        .authorized_parties(["http://localhost:3000"])
        .jwks_max_attempts(1)
        .jwks_timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

fn check(options: &Options) {
    let report = self_check_with_retry(
        options,
        Duration::from_millis(50),
        Duration::from_millis(100),
    );
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.warnings().count(), 1, "{report}");
}

#[test]
fn one_retry_thread_per_instance_however_often_the_check_runs() {
    assert_eq!(retry_threads(), 0);
    let server = BackendApiServer::start(SECRET).unwrap();
    server.set_keys(vec![KeyPair::shared().jwk("ins_1")]);
    server.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::bapi_error(503, "unexpected_error", "down")),
    );
    let first = options(&server);

    // 40 checks of one instance, from 8 threads at once and through clones.
    thread::scope(|scope| {
        for _ in 0..8 {
            let options = first.clone();
            scope.spawn(move || {
                for _ in 0..5 {
                    check(&options);
                }
            });
        }
    });
    assert_retry_threads(1);
    // Later checks while it runs start no other.
    for _ in 0..10 {
        check(&first);
    }
    assert_retry_threads(1);
    // The retry really runs: it keeps fetching the key set.
    let fetches = server.jwks_fetches();
    assert!(wait_until(Duration::from_secs(3), || server.jwks_fetches()
        >= fetches + 3));

    // Another instance has its own.
    let second = options(&server);
    for _ in 0..10 {
        check(&second);
    }
    assert_retry_threads(2);

    // A retry that ends (here: its instance dropped) lets a later check start one again.
    drop(second);
    assert!(
        wait_until(Duration::from_secs(3), || retry_threads() == 1),
        "{} retry threads",
        retry_threads()
    );

    // The key set recovers: the retry loads it and ends, and so does the claim it held.
    server.respond_with(Endpoint::Jwks, None);
    assert!(
        wait_until(Duration::from_secs(3), || retry_threads() == 0),
        "{} retry threads",
        retry_threads()
    );
    server.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::bapi_error(503, "unexpected_error", "down")),
    );
    // The retry that ended released its claim: a later check of the same instance, over a new
    // outage, starts exactly one again.
    for _ in 0..5 {
        check(&first);
    }
    assert_retry_threads(1);
    drop(first);
    assert!(wait_until(Duration::from_secs(3), || retry_threads() == 0));
}
