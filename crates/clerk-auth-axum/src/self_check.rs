//! The start-up self-check, run from async code on tokio's blocking pool.

use clerk_auth_core::{Options, SelfCheckReport};
use tokio::task::JoinError;

/// Runs the core's start-up [self-check](mod@clerk_auth_core::self_check) on tokio's blocking
/// pool (`spawn_blocking`: the check fetches the key set, and the executor never blocks), logs
/// the report ([`SelfCheckReport::log`]: one `tracing` event per finding, target `clerk_auth`,
/// naming the environment variable to fix, never its value) and returns it.
///
/// Call it once before serving, with the options of your [`ClerkLayer`](crate::ClerkLayer)
/// (clones share the key-set cache, so a successful check leaves the keys cached for the first
/// requests). Then:
///
/// - [`is_ok()`](SelfCheckReport::is_ok) is `false` when authentication is impossible (a
///   configuration error, a secret key the Backend API refuses): do not serve;
/// - warnings (say the key set cannot be fetched right now, naming `CLERK_API_URL`) let the server
///   start: requests with session tokens are signed out (`503` on protected routes) until the key
///   set loads, and a background thread keeps retrying the fetch.
///
/// It takes at most the key-set fetch budget (3.5 s by default); with a PEM key
/// (`CLERK_JWT_KEY`) nothing is fetched. The `Err` is tokio's: the check did not complete (it
/// panicked, or the runtime is shutting down), so nothing is known about the configuration.
///
/// ```no_run
/// use axum::routing::get;
/// use axum::Router;
/// use clerk_auth_axum::{AuthState, ClerkLayer};
///
/// #[tokio::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let clerk = ClerkLayer::from_env()?;
///
///     // Prove the configuration before serving: stop on an error, start on warnings (logged).
///     let report = clerk_auth_axum::self_check(clerk.options()).await?;
///     if !report.is_ok() {
///         eprintln!("{report}");
///         std::process::exit(1);
///     }
///
///     let app = Router::new()
///         .route("/", get(|auth: AuthState| async move { format!("signed in: {}", auth.is_signed_in()) }))
///         .layer(clerk);
///     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
///     axum::serve(listener, app).await?;
///     Ok(())
/// }
/// ```
pub async fn self_check(options: &Options) -> Result<SelfCheckReport, JoinError> {
    let options = options.clone();
    let report = tokio::task::spawn_blocking(move || clerk_auth_core::self_check(&options)).await?;
    report.log();
    Ok(report)
}
