//! Load bench: requests/second of a protected route with a valid Bearer token vs the public
//! route, through a real Rocket server on loopback and the same keep-alive ureq clients.
//!
//! `cargo bench -p clerk-auth-rocket --bench load` (env: `LOAD_CLIENTS`, default 4;
//! `LOAD_SECONDS`, default 2 per route).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::Ipv4Addr;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::Options;
use clerk_auth_rocket::{AuthState, ClerkAuth, SignedIn};
use rocket::config::{LogLevel, Shutdown as ShutdownConfig};
use rocket::fairing::AdHoc;
use rocket::http::ContentType;
use rocket::response::content::RawHtml;
use rocket::{get, routes, Config};

#[get("/api/me")]
fn me(auth: SignedIn<'_>) -> (ContentType, String) {
    (ContentType::JSON, auth.auth_json_string())
}

#[get("/")]
fn public(auth: AuthState<'_>) -> RawHtml<String> {
    let who = match auth.session().and_then(|s| s.user_id.as_deref()) {
        Some(user) => format!("signed-in {user}"),
        None => "signed-out".to_owned(),
    };
    RawHtml(format!("<!doctype html><p>{who}</p>"))
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Requests per second over `clients` keep-alive clients for `duration`.
fn measure(url: &str, headers: &[(String, String)], clients: u64, duration: Duration) -> f64 {
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let url = url.to_owned();
            let headers = headers.to_vec();
            thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .max_redirects(0)
                    .http_status_as_error(false)
                    .build()
                    .into();
                let send = || {
                    let mut request = agent.get(&url);
                    for (name, value) in &headers {
                        request = request.header(name, value);
                    }
                    let mut response = request.call().unwrap();
                    assert_eq!(response.status(), 200);
                    response.body_mut().read_to_vec().unwrap();
                };
                send(); // connect and warm
                let start = Instant::now();
                let mut count = 0u64;
                while start.elapsed() < duration {
                    send();
                    count += 1;
                }
                (count, start.elapsed())
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| {
            let (count, elapsed) = h.join().unwrap();
            count as f64 / elapsed.as_secs_f64()
        })
        .sum()
}

fn main() {
    let clients = env_or("LOAD_CLIENTS", 4);
    let duration = Duration::from_secs(env_or("LOAD_SECONDS", 2));
    let keys = KeyPair::shared();
    let options = Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_live_load_bench")
        .jwt_key(keys.public_pem())
        .api_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    let token = TokenMinter::new(keys)
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(3600))
        .mint();

    let config = Config {
        address: Ipv4Addr::LOCALHOST.into(),
        port: 0,
        log_level: LogLevel::Off,
        cli_colors: false,
        shutdown: ShutdownConfig {
            ctrlc: false,
            ..Default::default()
        },
        ..Config::release_default()
    };
    let (tx, rx) = mpsc::channel();
    let rocket = rocket::custom(config)
        .attach(ClerkAuth::new(options))
        .attach(AdHoc::on_liftoff("port", move |r| {
            let _ = tx.send((r.config().port, r.shutdown()));
            Box::pin(async {})
        }))
        .mount("/", routes![me, public]);
    thread::spawn(move || {
        let _ = rocket::execute(rocket.launch());
    });
    let (port, shutdown) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let base = format!("http://127.0.0.1:{port}");

    // The routes are measured in alternating rounds, so that a noisy machine affects both alike.
    let bearer = vec![("Authorization".to_owned(), format!("Bearer {token}"))];
    let rounds = 8;
    let slice = duration / rounds;
    let (mut protected, mut public, mut public_token) = (0.0, 0.0, 0.0);
    for _ in 0..rounds {
        protected += measure(&format!("{base}/api/me"), &bearer, clients, slice);
        public += measure(&format!("{base}/"), &[], clients, slice);
        public_token += measure(&format!("{base}/"), &bearer, clients, slice);
    }
    let rounds = f64::from(rounds);
    let (protected, public, public_token) =
        (protected / rounds, public / rounds, public_token / rounds);
    println!("clerk-auth-rocket load ({clients} keep-alive clients, {duration:?} per route)");
    println!("  /api/me with a valid Bearer token: {protected:>9.0} req/s");
    println!("  public route (/), no token:        {public:>9.0} req/s");
    println!(
        "  ratio protected/public:            {:>9.3}",
        protected / public
    );
    println!("  (public route with the same token: {public_token:>9.0} req/s)");
    shutdown.notify();
}
