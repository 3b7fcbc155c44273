//! Test support: a real Rocket server on 127.0.0.1:0. The client is the core's `testing::client`.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::{authenticate_request, Options, RequestState};
use clerk_auth_rocket::{AuthState, ClerkAuth, SignedIn};
use clerk_auth_vectors::client::Reply;
use rocket::config::{LogLevel, Shutdown as ShutdownConfig};
use rocket::fairing::AdHoc;
use rocket::http::ContentType;
use rocket::{get, routes, Build, Config, Rocket, Shutdown, State};

/// A running server; shut down on drop.
pub struct Server {
    pub base: String,
    pub port: u16,
    shutdown: Shutdown,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
    }
}

/// The test configuration: loopback, ephemeral port, quiet.
pub fn config() -> Config {
    Config {
        address: Ipv4Addr::LOCALHOST.into(),
        port: 0,
        log_level: LogLevel::Off,
        cli_colors: false,
        shutdown: ShutdownConfig {
            ctrlc: false,
            grace: 1,
            mercy: 1,
            ..Default::default()
        },
        ..Config::debug_default()
    }
}

/// Launches `rocket` on its own runtime thread; returns once it listens.
pub fn serve(rocket: Rocket<Build>) -> Server {
    let (tx, rx) = mpsc::channel();
    let rocket = rocket
        .configure(config())
        .attach(AdHoc::on_liftoff("test port", move |r| {
            let _ = tx.send((r.config().port, r.shutdown()));
            Box::pin(async {})
        }));
    std::thread::spawn(move || {
        let _ = rocket::execute(rocket.launch());
    });
    let (port, shutdown) = rx.recv_timeout(Duration::from_secs(10)).expect("liftoff");
    Server {
        base: format!("http://127.0.0.1:{port}"),
        port,
        shutdown,
    }
}

/// The `tracing` output of one launch (the self-check's findings), captured on the launching
/// thread.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Launches `rocket` like [`serve`], on a thread whose `tracing` events are captured: the server
/// once it listens, or why ignition failed (`failed fairings: [names]`, or the error kind), and
/// the logs of the launch.
pub fn launch(rocket: Rocket<Build>) -> (Result<Server, String>, Logs) {
    let logs = Logs::default();
    let writer = logs.clone();
    let (tx, rx) = mpsc::channel();
    let liftoff = tx.clone();
    let rocket = rocket
        .configure(config())
        .attach(AdHoc::on_liftoff("test port", move |r| {
            let _ = liftoff.send(Ok((r.config().port, r.shutdown())));
            Box::pin(async {})
        }));
    std::thread::spawn(move || {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        rocket::execute(async move {
            match rocket.ignite().await {
                Ok(rocket) => {
                    let _ = rocket.launch().await;
                }
                Err(error) => {
                    let why = match error.kind() {
                        rocket::error::ErrorKind::FailedFairings(failed) => {
                            let names: Vec<&str> = failed.iter().map(|f| f.name).collect();
                            format!("failed fairings: {names:?}")
                        }
                        other => format!("{other:?}"),
                    };
                    let _ = tx.send(Err(why));
                }
            }
        });
    });
    let server = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("liftoff or an ignition error")
        .map(|(port, shutdown)| Server {
            base: format!("http://127.0.0.1:{port}"),
            port,
            shutdown,
        });
    (server, logs)
}

/// Counts how often a handler ran.
pub struct Hits(pub Arc<AtomicUsize>);

#[get("/api/me")]
fn me(auth: SignedIn<'_>) -> (ContentType, String) {
    (ContentType::JSON, auth.auth_json().to_string())
}

#[get("/optional")]
fn optional(user: Option<SignedIn<'_>>) -> String {
    match user.as_ref().and_then(|u| u.session()) {
        Some(session) => format!("some {}", session.user_id.as_deref().unwrap_or("")),
        None => "none".to_owned(),
    }
}

#[get("/state")]
fn state(auth: AuthState<'_>, hits: &State<Hits>) -> String {
    hits.0.fetch_add(1, Ordering::SeqCst);
    format!("{} {}", auth.status(), auth.is_signed_in())
}

#[get("/plain")]
fn plain(hits: &State<Hits>) -> &'static str {
    hits.0.fetch_add(1, Ordering::SeqCst);
    "plain"
}

#[rocket::post("/plain")]
fn plain_post(hits: &State<Hits>) -> &'static str {
    hits.0.fetch_add(1, Ordering::SeqCst);
    "plain"
}

#[rocket::put("/plain")]
fn plain_put(hits: &State<Hits>) -> &'static str {
    hits.0.fetch_add(1, Ordering::SeqCst);
    "plain"
}

#[rocket::delete("/plain")]
fn plain_delete(hits: &State<Hits>) -> &'static str {
    hits.0.fetch_add(1, Ordering::SeqCst);
    "plain"
}

#[rocket::patch("/plain")]
fn plain_patch(hits: &State<Hits>) -> &'static str {
    hits.0.fetch_add(1, Ordering::SeqCst);
    "plain"
}

/// The test app: the fairing (with its start-up self-check) and a few routes; the counter of
/// handler runs. `/api/me`, `/optional` and `/state` are also mounted under `/v1`, an API prefix.
pub fn app(options: Options) -> (Rocket<Build>, Arc<AtomicUsize>) {
    app_with(ClerkAuth::new(options))
}

/// [`app`] without the start-up self-check: the key set stays cold until a request needs it.
pub fn app_without_self_check(options: Options) -> (Rocket<Build>, Arc<AtomicUsize>) {
    app_with(ClerkAuth::new(options).self_check(false))
}

/// The test app around `fairing` (`/v1` is added as an API prefix).
pub fn app_with(fairing: ClerkAuth) -> (Rocket<Build>, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let rocket = rocket::build()
        .attach(fairing.api_prefix("/v1"))
        .mount("/v1", routes![me, optional, state])
        .manage(Hits(hits.clone()))
        .mount(
            "/",
            routes![
                me,
                optional,
                state,
                plain,
                plain_post,
                plain_put,
                plain_delete,
                plain_patch
            ],
        );
    (rocket, hits)
}

/// What the core decides for the same request (path + headers, `Host` set as ureq sends it).
pub fn expected(
    options: &Options,
    server: &Server,
    path: &str,
    headers: &[(&str, &str)],
) -> RequestState {
    let mut builder = TestRequest::get(path).header("host", format!("127.0.0.1:{}", server.port));
    for (name, value) in headers {
        builder = builder.header(&name.to_ascii_lowercase(), value);
    }
    authenticate_request(&builder.build(), options).unwrap()
}

/// Every header of the state is on the response, with the same values in the same order.
pub fn assert_state_headers(reply: &Reply, state: &RequestState) {
    let mut names: Vec<&str> = state.headers().keys().map(|n| n.as_str()).collect();
    names.dedup();
    for name in names {
        let want: Vec<&str> = state
            .headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(reply.header_all(name), want, "header {name}");
    }
}
