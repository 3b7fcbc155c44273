//! The adapters' load benches: keep-alive clients that request one route at a time, and the
//! throughput of two routes measured in alternating slices, so that drift in the machine's load
//! hits both alike.
//!
//! ```no_run
//! use clerk_auth_core::testing::KeyPair;
//! use clerk_auth_vectors::load::{compare, public_and_me, report, Settings};
//!
//! let settings = Settings::from_env();
//! let routes = public_and_me("http://127.0.0.1:3000", KeyPair::shared());
//! report("my-server", &settings, compare(routes, &settings), 0.95);
//! ```

// Bench tooling: a failed request is the bench's failure.
#![allow(clippy::expect_used)]

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A URL and the headers every request to it carries. Each must answer `200`.
#[derive(Clone, Debug)]
pub struct Route {
    url: String,
    headers: Vec<(String, String)>,
}

impl Route {
    /// `GET url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            headers: Vec::new(),
        }
    }

    /// With this header on every request.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// The two routes every adapter's load bench compares, on the server at `base`
/// (`http://127.0.0.1:<port>`): the public page `/` without a token, and `/api/me` with one
/// session token of `keys` (valid for an hour) on every request, a verified-token cache hit.
pub fn public_and_me(base: &str, keys: &clerk_auth_core::testing::KeyPair) -> [Route; 2] {
    let token = clerk_auth_core::testing::TokenMinter::new(keys)
        .issued_at(std::time::SystemTime::now())
        .ttl(Duration::from_secs(3600))
        .mint();
    [
        Route::new(format!("{base}/")),
        Route::new(format!("{base}/api/me")).header("authorization", &format!("Bearer {token}")),
    ]
}

/// How long and how hard: `LOAD_CLIENTS` keep-alive clients (default 4), `LOAD_SECONDS` per
/// route (default 2). Run by `cargo test --benches` (no `--bench` argument), 0.2 s per route.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Client threads, one keep-alive connection each.
    pub clients: u64,
    /// Seconds of load per route.
    pub seconds: f64,
}

impl Settings {
    /// Read from the environment and the command line.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        // `cargo bench` passes `--bench`; `cargo test --benches` runs the bench too: keep that short.
        let quick = !std::env::args().any(|a| a == "--bench");
        Self {
            clients: var("LOAD_CLIENTS").unwrap_or(4),
            seconds: if quick {
                0.2
            } else {
                var("LOAD_SECONDS").unwrap_or(2) as f64
            },
        }
    }
}

/// Sent to the clients in place of a route number: stop.
const STOP: usize = usize::MAX;

/// Keep-alive clients that request `routes[phase]` while `phase` names a route.
struct Clients {
    phase: Arc<AtomicUsize>,
    counts: Arc<Vec<AtomicU64>>,
    threads: Vec<JoinHandle<()>>,
}

impl Clients {
    fn start(clients: u64, routes: Vec<Route>) -> Self {
        let phase = Arc::new(AtomicUsize::new(0));
        let counts = Arc::new(routes.iter().map(|_| AtomicU64::new(0)).collect::<Vec<_>>());
        let routes = Arc::new(routes);
        let threads = (0..clients)
            .map(|_| {
                let (phase, counts, routes) =
                    (Arc::clone(&phase), Arc::clone(&counts), Arc::clone(&routes));
                std::thread::spawn(move || {
                    let agent = crate::client::agent();
                    loop {
                        let current = phase.load(Ordering::Relaxed);
                        if current == STOP {
                            return;
                        }
                        let route = &routes[current];
                        let mut req = agent.get(&route.url);
                        for (name, value) in &route.headers {
                            req = req.header(name, value);
                        }
                        let mut res = req.call().expect("the server answers");
                        let _ = res.body_mut().read_to_vec().expect("the body is read");
                        assert_eq!(res.status().as_u16(), 200, "{}", route.url);
                        counts[current].fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        Self {
            phase,
            counts,
            threads,
        }
    }

    /// Requests of route `index` during `time`.
    fn run(&self, index: usize, time: Duration) -> u64 {
        self.phase.store(index, Ordering::Relaxed);
        let before = self.counts[index].load(Ordering::Relaxed);
        std::thread::sleep(time);
        self.counts[index].load(Ordering::Relaxed) - before
    }

    fn stop(self) {
        self.phase.store(STOP, Ordering::Relaxed);
        for thread in self.threads {
            thread.join().expect("a client panicked");
        }
    }
}

/// Requests per second of each route: both warmed up (connections, the verified-token cache),
/// then loaded in ten alternating slices of `settings.seconds / 10` each.
///
/// # Panics
///
/// When a request fails or is not answered `200` (a bench of a broken server measures nothing).
pub fn compare(routes: [Route; 2], settings: &Settings) -> [f64; 2] {
    let load = Clients::start(settings.clients, routes.to_vec());
    load.run(1, Duration::from_millis(200));
    load.run(0, Duration::from_millis(200));
    let slices = 10;
    let slice = Duration::from_secs_f64(settings.seconds / f64::from(slices));
    let mut counts = [0u64; 2];
    for _ in 0..slices {
        counts[0] += load.run(0, slice);
        counts[1] += load.run(1, slice);
    }
    load.stop();
    counts.map(|count| count as f64 / settings.seconds)
}

/// Prints the figures of [`compare`] for `server`, with the goal of `protected / public`.
pub fn report(server: &str, settings: &Settings, [public, protected]: [f64; 2], goal: f64) {
    let (clients, seconds) = (settings.clients, settings.seconds);
    println!("{server} load ({clients} keep-alive clients, {seconds} s per route)");
    println!("  public route /         : {public:>10.0} req/s");
    println!("  /api/me (valid Bearer) : {protected:>10.0} req/s");
    println!(
        "  ratio me/public        : {:>10.3} (goal >= {goal:.2})",
        protected / public
    );
}
