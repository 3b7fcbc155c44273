//! Load bench: requests/second of `/api/me` with a valid Bearer token vs the public route, through
//! a real warp server on loopback and the same keep-alive ureq clients.
//!
//! `cargo bench -p clerk-auth-warp --bench load` (env: `LOAD_CLIENTS`, default 4;
//! `LOAD_SECONDS` per route, default 2; `LOAD_WORKERS` server worker threads, default tokio's).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clerk_auth_core::testing::{KeyPair, TokenMinter};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Keep-alive clients that request `urls[phase]` while `phase` names a route; stop at `STOP`.
const STOP: usize = usize::MAX;

struct Clients {
    phase: Arc<AtomicUsize>,
    counts: Arc<Vec<AtomicU64>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Clients {
    fn start(clients: u64, routes: Vec<(String, Vec<(String, String)>)>) -> Self {
        let phase = Arc::new(AtomicUsize::new(0));
        let counts = Arc::new(routes.iter().map(|_| AtomicU64::new(0)).collect::<Vec<_>>());
        let routes = Arc::new(routes);
        let threads = (0..clients)
            .map(|_| {
                let (phase, counts, routes) =
                    (Arc::clone(&phase), Arc::clone(&counts), Arc::clone(&routes));
                std::thread::spawn(move || {
                    let agent = clerk_auth_vectors::client::agent();
                    loop {
                        let current = phase.load(Ordering::Relaxed);
                        if current == STOP {
                            return;
                        }
                        let (url, headers) = &routes[current];
                        let mut req = agent.get(url);
                        for (name, value) in headers {
                            req = req.header(name, value);
                        }
                        let mut res = req.call().unwrap();
                        let _ = res.body_mut().read_to_vec().unwrap();
                        assert_eq!(res.status().as_u16(), 200);
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
        for t in self.threads {
            t.join().unwrap();
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too: keep that short.
    let quick = !std::env::args().any(|a| a == "--bench");
    let clients = env_or("LOAD_CLIENTS", 4);
    let seconds = if quick {
        0.2
    } else {
        env_or("LOAD_SECONDS", 2) as f64
    };
    let keys = KeyPair::shared();
    let server = common::Server::start_with_workers(
        common::pem_options(keys).build().unwrap(),
        std::env::var("LOAD_WORKERS")
            .ok()
            .and_then(|v| v.parse().ok()),
    );
    let token = TokenMinter::new(keys)
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(3600))
        .mint();
    let bearer = vec![("authorization".to_owned(), format!("Bearer {token}"))];
    let load = Clients::start(
        clients,
        vec![(server.url("/"), vec![]), (server.url("/api/me"), bearer)],
    );
    const PUBLIC: usize = 0;
    const ME: usize = 1;

    // Warm up both routes (connections, verified-token cache).
    load.run(ME, Duration::from_millis(200));
    load.run(PUBLIC, Duration::from_millis(200));

    // Alternate short slices so drift in machine load hits both routes alike.
    let slices = 10;
    let slice = Duration::from_secs_f64(seconds / f64::from(slices));
    let (mut me, mut public) = (0, 0);
    for _ in 0..slices {
        public += load.run(PUBLIC, slice);
        me += load.run(ME, slice);
    }
    load.stop();
    let public_rps = public as f64 / seconds;
    let me_rps = me as f64 / seconds;
    println!("clerk-auth-warp load ({clients} keep-alive clients, {seconds} s per route)");
    println!("  public route /         : {public_rps:>10.0} req/s");
    println!("  /api/me (valid Bearer) : {me_rps:>10.0} req/s");
    println!(
        "  ratio me/public        : {:>10.3} (goal >= 0.90)",
        me_rps / public_rps
    );
}
