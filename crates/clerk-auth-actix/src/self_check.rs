//! The start-up self-check, run from async code on actix's blocking pool.

use actix_web::error::BlockingError;
use actix_web::web;
use clerk_auth_core::{Options, SelfCheckReport};

/// Runs the core's start-up [self-check](mod@clerk_auth_core::self_check) on actix's blocking
/// thread pool (`web::block`: the check fetches the key set, and a worker never blocks), logs the
/// report ([`SelfCheckReport::log`]: one `tracing` event per finding, target `clerk_auth`, naming
/// the environment variable to fix, never its value) and returns it.
///
/// Call it once before the server starts, with the options the middleware uses (clones share the
/// key-set cache, so a successful check leaves the keys cached for the first requests). Then:
///
/// - [`is_ok()`](SelfCheckReport::is_ok) is `false` when authentication is impossible (a
///   configuration error, a secret key the Backend API refuses): do not start;
/// - warnings (say the key set cannot be fetched right now, naming `CLERK_API_URL`) let the server
///   start: requests with session tokens are signed out (`503` on protected routes) until the key
///   set loads, and a background thread keeps retrying the fetch.
///
/// It takes at most the key-set fetch budget (3.5 s by default); with a PEM key
/// (`CLERK_JWT_KEY`) nothing is fetched. The `Err` is the blocking pool's: the check did not
/// complete (the pool is gone or the check panicked), so nothing is known about the configuration.
///
/// ```no_run
/// use actix_web::{web, App, HttpResponse, HttpServer};
/// use clerk_auth_actix::{AuthState, ClerkAuth};
///
/// async fn home(auth: AuthState) -> HttpResponse {
///     HttpResponse::Ok().body(format!("signed in: {}", auth.is_signed_in()))
/// }
///
/// #[actix_web::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let clerk = ClerkAuth::from_env()?;
///
///     // Prove the configuration before serving: stop on an error, start on warnings (logged).
///     let report = clerk_auth_actix::self_check(clerk.options())
///         .await?;
///     if !report.is_ok() {
///         eprintln!("{report}");
///         std::process::exit(1);
///     }
///
///     HttpServer::new(move || App::new().wrap(clerk.clone()).default_service(web::to(home)))
///         .bind(("127.0.0.1", 8080))?
///         .run()
///         .await?;
///     Ok(())
/// }
/// ```
pub async fn self_check(options: &Options) -> Result<SelfCheckReport, BlockingError> {
    let options = options.clone();
    let report = web::block(move || clerk_auth_core::self_check(&options)).await?;
    report.log();
    Ok(report)
}
