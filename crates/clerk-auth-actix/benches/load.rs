//! Load bench: requests per second of a protected route (`/api/me`, valid Bearer token) against
//! the public route (`/`), over real HTTP on loopback with the same keep-alive client.
//!
//! `cargo bench -p clerk-auth-actix --bench load` (env: `BENCH_ROUNDS`, default 6; `BENCH_MS` per
//! route and round, default 1000; `BENCH_THREADS` client threads, default 4; `BENCH_WORKERS`
//! server workers, default 2). Each round measures both routes back to back (alternating which
//! goes first); the ratio that matters is the median of the rounds' ratios. A third figure, the public
//! route sent the same Bearer token, separates the request's size and verification from the
//! protected route's own cost.
#![allow(clippy::expect_used)]

use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use actix_web::{rt::System, web, App, HttpResponse, HttpServer};
use clerk_auth_actix::{AuthState, ClerkAuth, SignedIn};
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::Options;

async fn me(user: SignedIn) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(user.auth_json_string())
}

async fn public(auth: AuthState) -> HttpResponse {
    let who = if auth.is_signed_in() {
        "signed-in"
    } else {
        "signed-out"
    };
    HttpResponse::Ok()
        .content_type("text/html")
        .body(format!("<!doctype html><p>{who}</p>\n"))
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn best(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Requests per second of `GET url` from `threads` keep-alive clients for `secs`.
fn measure(url: &str, bearer: Option<&str>, threads: u64, secs: Duration) -> f64 {
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let url = url.to_owned();
            let auth = bearer.map(|t| format!("Bearer {t}"));
            thread::spawn(move || {
                let agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .new_agent();
                let deadline = Instant::now() + secs;
                let mut count = 0u64;
                while Instant::now() < deadline {
                    let mut req = agent.get(&url);
                    if let Some(a) = &auth {
                        req = req.header("authorization", a);
                    }
                    let mut res = req.call().expect("request");
                    assert_eq!(res.status(), 200, "{url}");
                    res.body_mut().read_to_vec().expect("body");
                    count += 1;
                }
                count
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().expect("client")).sum();
    total as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let secs = Duration::from_millis(env_or("BENCH_MS", 1000));
    let rounds = env_or("BENCH_ROUNDS", 6);
    let threads = env_or("BENCH_THREADS", 4);
    let workers = env_or("BENCH_WORKERS", 2) as usize;

    let keys = KeyPair::generate();
    let token = TokenMinter::new(&keys)
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(3600))
        .mint();
    let options = Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_live_bench")
        .jwt_key(keys.public_pem())
        .build()
        .expect("options");

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .wrap(ClerkAuth::new(options.clone()))
                    .route("/api/me", web::to(me))
                    .default_service(web::to(public))
            })
            .workers(workers)
            .listen(listener)
            .expect("listen")
            .run();
            tx.send(server.handle()).expect("handle");
            server.await
        })
    });
    let handle = rx.recv().expect("server");

    let me_url = format!("{base}/api/me");
    let public_url = format!("{base}/");
    // Warm up both routes (connections, verified-token cache).
    measure(&me_url, Some(&token), threads, Duration::from_millis(300));
    measure(&public_url, None, threads, Duration::from_millis(300));

    // Alternate short rounds so that both routes see the same machine noise; each round's ratio
    // compares two neighbouring measurements.
    let (mut me_rps, mut public_rps, mut ratios, mut public_bearer_rps) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (public, me) = if round % 2 == 0 {
            let p = measure(&public_url, None, threads, secs);
            (p, measure(&me_url, Some(&token), threads, secs))
        } else {
            let m = measure(&me_url, Some(&token), threads, secs);
            (measure(&public_url, None, threads, secs), m)
        };
        public_rps.push(public);
        me_rps.push(me);
        ratios.push(me / public);
        // For reference: the public route with the same request bytes (the token verified too).
        public_bearer_rps.push(measure(&public_url, Some(&token), threads, secs));
    }
    println!(
        "actix-web load: {threads} client threads, {workers} workers, {rounds} rounds x {secs:?} per route"
    );
    let line = |name: &str, v: &[f64]| {
        println!(
            "  {name:<34} median {:>8.0} req/s, best {:>8.0}",
            median(v),
            best(v)
        );
    };
    line("/api/me (valid Bearer):", &me_rps);
    line("/ (public, no token):", &public_rps);
    line("/ (public, same Bearer; reference):", &public_bearer_rps);
    println!(
        "  ratio /api/me : public: median of rounds {:.3}, best/best {:.3}",
        median(&ratios),
        best(&me_rps) / best(&public_rps)
    );

    System::new().block_on(handle.stop(true));
}
