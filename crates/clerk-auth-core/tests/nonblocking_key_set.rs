//! The non-blocking promise, exact: `try_authenticate_request` never fetches the key set and
//! never waits on a fetch in progress, and no request waits on a routine refresh (the key set is
//! refreshed ahead of its TTL, in the background).
//!
//! Which thread fetched is read from the `fetching Clerk JWKS` debug event, written with thread
//! names by a process-wide subscriber: this binary holds these tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use clerk_auth_core::testing::server::{BackendApiServer, Endpoint};
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::{authenticate_request, try_authenticate_request, Interrupt, Options};

const PK: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
const URL: &str = "https://app.example.com/api/me";

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Sink;

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The two tests run one after the other: each loads both cores on its own.
static SERIAL: Mutex<()> = Mutex::new(());

fn install_subscriber() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_thread_names(true)
            .with_ansi(false)
            .with_writer(|| Sink)
            .init();
    });
}

/// The names of the threads that started a fetch of the key set at `url`.
fn fetching_threads(url: &str) -> Vec<String> {
    let logs = String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned();
    logs.lines()
        .filter(|l| l.contains("fetching Clerk JWKS") && l.contains(url))
        .map(|l| {
            // `<time>  DEBUG <thread name> <target>: fetching Clerk JWKS url=…`
            l.split_whitespace().nth(2).unwrap_or("?").to_owned()
        })
        .collect()
}

fn options(server: &BackendApiServer, ttl: Duration) -> Options {
    server
        .options_builder()
        .publishable_key(PK)
        .jwks_cache_ttl(ttl)
        // Every call must reach the key lookup: no verified-token cache.
        .verified_token_cache_capacity(0)
        .build()
        .unwrap()
}

struct Tally {
    signed_in: AtomicUsize,
    would_block: AtomicUsize,
    slowest_us: AtomicUsize,
}

/// `inline` threads loop `try_authenticate_request` for `run`; `pool` threads stand for the
/// blocking pool: they loop `authenticate_request`, which may fetch.
fn hammer(options: &Options, token: &str, inline: usize, pool: usize, run: Duration) -> Tally {
    let tally = Arc::new(Tally {
        signed_in: AtomicUsize::new(0),
        would_block: AtomicUsize::new(0),
        slowest_us: AtomicUsize::new(0),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let request = TestRequest::get(URL).bearer(token).build();
    let mut handles = Vec::new();
    for i in 0..inline {
        let (options, request, tally, stop) = (
            options.clone(),
            request.clone(),
            Arc::clone(&tally),
            Arc::clone(&stop),
        );
        let spawned = thread::Builder::new()
            .name(format!("inline-{i}"))
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let start = Instant::now();
                    let outcome = try_authenticate_request(&request, &options);
                    let took = usize::try_from(start.elapsed().as_micros()).unwrap();
                    tally.slowest_us.fetch_max(took, Ordering::Relaxed);
                    match outcome {
                        Ok(state) => {
                            assert!(state.is_signed_in(), "{:?}", state.reason());
                            tally.signed_in.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(Interrupt::WouldBlock(_)) => {
                            tally.would_block.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(other) => panic!("{other}"),
                    }
                    thread::sleep(Duration::from_micros(200));
                }
            })
            .unwrap();
        handles.push(spawned);
    }
    for i in 0..pool {
        let (options, request, stop) = (options.clone(), request.clone(), Arc::clone(&stop));
        let spawned = thread::Builder::new()
            .name(format!("pool-{i}"))
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let state = authenticate_request(&request, &options).unwrap();
                    assert!(state.is_signed_in(), "{:?}", state.reason());
                    thread::sleep(Duration::from_millis(20));
                }
            })
            .unwrap();
        handles.push(spawned);
    }
    thread::sleep(run);
    stop.store(true, Ordering::Relaxed);
    for handle in handles {
        handle.join().unwrap();
    }
    Arc::try_unwrap(tally).ok().unwrap()
}

#[test]
fn inline_decisions_never_fetch_nor_wait_while_the_keys_expire_under_them() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    install_subscriber();
    let key = KeyPair::shared();
    let server = BackendApiServer::start("sk_test_nonblocking").unwrap();
    server.set_keys(vec![key.jwk("ins_2test")]);
    server.set_delay(Endpoint::Jwks, Duration::from_millis(500));
    let options = options(&server, Duration::from_millis(50));
    let token = TokenMinter::new(key)
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(600))
        .mint();

    let tally = hammer(&options, &token, 8, 2, Duration::from_secs(4));

    let threads = fetching_threads(&server.url());
    assert!(threads.len() >= 2, "the pool threads fetched: {threads:?}");
    assert!(
        threads.iter().all(|t| !t.starts_with("inline-")),
        "an inline decision fetched the key set: {threads:?}"
    );
    assert_eq!(server.jwks_fetches(), threads.len());
    assert!(tally.would_block.load(Ordering::Relaxed) > 100);
    // A fetch or a wait on one takes 500 ms; the generous bound (room for a loaded machine)
    // only catches those.
    let slowest = Duration::from_micros(tally.slowest_us.load(Ordering::Relaxed) as u64);
    assert!(
        slowest < Duration::from_millis(400),
        "an inline call took {slowest:?}"
    );
}

#[test]
fn no_request_waits_on_a_routine_refresh() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    install_subscriber();
    let key = KeyPair::shared();
    let server = BackendApiServer::start("sk_test_ahead").unwrap();
    server.set_keys(vec![key.jwk("ins_2test")]);
    server.set_delay(Endpoint::Jwks, Duration::from_millis(200));
    // Refreshed ahead at 80% of 3 s (every 2.4 s), each 200 ms refresh well within the last 600 ms.
    let options = options(&server, Duration::from_secs(3));
    let token = TokenMinter::new(key)
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(600))
        .mint();
    // Warm (the start-up self-check does this in a service).
    let warm = authenticate_request(&TestRequest::get(URL).bearer(&token).build(), &options);
    assert!(warm.unwrap().is_signed_in());

    let tally = hammer(&options, &token, 4, 0, Duration::from_millis(6500));

    assert_eq!(
        tally.would_block.load(Ordering::Relaxed),
        0,
        "a request had to wait for the keys"
    );
    assert!(tally.signed_in.load(Ordering::Relaxed) > 100);
    let threads = fetching_threads(&server.url());
    assert!(
        threads.len() >= 3,
        "the warm-up plus at least two refreshes ahead: {threads:?}"
    );
    assert!(
        threads[1..].iter().all(|t| t == "clerk-auth-jwks-refresh"),
        "refreshes run on the background thread: {threads:?}"
    );
    // (A request that would have had to wait is a `WouldBlock` here: none was.)
}
