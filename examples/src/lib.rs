//! What the four example servers share: configuration (Clerk's environment, or an embedded local
//! issuer when no keys are set), start-up (logging, the self-check's verdict, the `listening on`
//! line) and the bodies of the contract's routes (`../shared/spec/examples-contract.md`). The
//! servers differ only in their framework.
//!
//! Start-up runs clerk-auth's self-check through each adapter's idiom (`clerk_auth_actix::
//! self_check`, `clerk_auth_warp::self_check` and `clerk_auth_axum::self_check` before binding,
//! the Rocket fairing on ignite):
//! an error (say a secret key Clerk refuses) stops the server with the report on stderr and a
//! non-zero exit; warnings are logged on stderr and the server starts.

use std::time::{Duration, SystemTime};

use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::webhook::{WebhookVerifier, WebhookVerifierBuilder};
use clerk_auth_core::{
    ConfigError, Has, Options, OptionsBuilder, RequestState, Reverification, SelfCheckReport,
    WebhookEvent,
};

pub mod actix;
pub mod axum;
pub mod rocket;
pub mod warp;

/// The role `/api/org-admin` requires.
pub const ORG_ADMIN_ROLE: &str = "org:admin";

/// The reverification `/api/reverify` requires: the second factor (the first when there is no
/// second) verified in the last 10 minutes.
pub const REVERIFICATION: Reverification = Reverification::Strict;

/// What `/api/org-admin` requires, on the route: `403` `{"status":"forbidden"}` without it.
pub fn org_admin_requirement() -> Has {
    Has::role(ORG_ADMIN_ROLE)
}

/// What `/api/reverify` requires, on the route: `403` with Clerk's reverification error without
/// it.
pub fn reverify_requirement() -> Has {
    Has::reverification(REVERIFICATION)
}

/// The publishable key of the embedded local issuer (frontend API `clerk.example.com`).
pub const EMBEDDED_PUBLISHABLE_KEY: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";

/// A configured example server.
pub struct Example {
    /// The options every request is decided with.
    pub options: Options,
    /// Verifies `POST /api/webhooks/clerk` with `CLERK_WEBHOOK_SIGNING_SECRET`; without one, the
    /// route answers `500` naming the variable.
    pub webhooks: WebhookVerifier,
    /// The port to listen on (`PORT`, default 3000; 0 picks a free port).
    pub port: u16,
    /// Set when the server runs on the embedded local issuer.
    pub embedded: Option<Embedded>,
}

/// The embedded local issuer: a key pair made at start-up and a session token it signed.
pub struct Embedded {
    /// A signed-in session token, valid for an hour.
    pub session_token: String,
    /// A token signed by another key (rejected).
    pub foreign_token: String,
}

impl Example {
    /// An example server deciding with `options` (the conformance suite uses this with a fixed
    /// clock), without a webhook signing secret.
    pub fn with_options(options: Options) -> Self {
        Self {
            options,
            // Without a secret there is nothing to decode: building cannot fail.
            webhooks: match WebhookVerifier::builder().allow_missing_secret().build() {
                Ok(verifier) => verifier,
                Err(error) => unreachable!("{error}"),
            },
            port: 0,
            embedded: None,
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (Clerk's `CLERK_*` variables and `PORT`). A webhook
    /// signing secret that does not decode is an error; none is not.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let port = lookup("PORT").and_then(|p| p.parse().ok()).unwrap_or(3000);
        // Without CLERK_WEBHOOK_SIGNING_SECRET the server starts, and its webhook route answers
        // `500` naming the variable.
        let webhooks = WebhookVerifierBuilder::from_env_with(&lookup)?
            .allow_missing_secret()
            .build()?;
        let has_keys = ["CLERK_SECRET_KEY", "CLERK_JWT_KEY"]
            .iter()
            .any(|k| lookup(k).is_some_and(|v| !v.is_empty()));
        if has_keys {
            let options = OptionsBuilder::from_env_with(&lookup)?.build()?;
            return Ok(Self {
                options,
                webhooks,
                port,
                embedded: None,
            });
        }
        let keys = KeyPair::generate();
        let session_token = TokenMinter::new(&keys)
            .issued_at(SystemTime::now())
            .ttl(Duration::from_secs(3600))
            .subject("user_2embedded")
            .sid("sess_2embedded")
            // The origin a browser app on this machine would have (no port when it is picked
            // at bind time).
            .azp(&if port == 0 {
                "http://127.0.0.1".to_owned()
            } else {
                format!("http://127.0.0.1:{port}")
            })
            .mint();
        let foreign_token = TokenMinter::new(KeyPair::shared_other())
            .issued_at(SystemTime::now())
            .ttl(Duration::from_secs(3600))
            .mint();
        let options = OptionsBuilder::from_env_with(&lookup)?
            .publishable_key(EMBEDDED_PUBLISHABLE_KEY)
            .secret_key("sk_live_embedded_local_issuer")
            .jwt_key(keys.public_pem())
            // The embedded issuer never talks to Clerk: Backend API calls go nowhere.
            .api_url("http://127.0.0.1:9")
            .build()?;
        Ok(Self {
            options,
            webhooks,
            port,
            embedded: Some(Embedded {
                session_token,
                foreign_token,
            }),
        })
    }

    /// What the server prints before its `listening on` line.
    pub fn banner(&self, port: u16) -> String {
        let Some(e) = &self.embedded else {
            return String::new();
        };
        let base = format!("http://127.0.0.1:{port}");
        format!(
            "No CLERK_SECRET_KEY or CLERK_JWT_KEY set: running on an embedded local issuer.\n\
             A signed-in session token (valid for an hour):\n  {token}\n\n\
             Signed in:\n  curl -i {base}/api/me -H 'Authorization: Bearer {token}'\n\
             Signed out:\n  curl -i {base}/api/me\n\
             A token signed by another key (rejected):\n  curl -i {base}/api/me -H 'Authorization: Bearer {foreign}'\n\
             The public page:\n  curl -i {base}/ -H 'Cookie: __session={token}; __client_uat=1'\n",
            token = e.session_token,
            foreign = e.foreign_token,
        )
    }
}

/// Sends clerk-auth's `tracing` events (the self-check's findings among them) to stderr, at
/// `info` and above; stdout keeps only the banner and the `listening on` line.
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .with_ansi(false)
        .try_init();
}

/// Start-up, step 1: loads the configuration ([`Example::from_env`]). The error names what
/// failed.
pub fn configure() -> Result<Example, String> {
    Example::from_env().map_err(|err| format!("clerk-auth configuration error: {err}"))
}

/// Start-up, step 2: the verdict on the self-check's report (already logged by the adapter): an
/// error stops the server, with the report as the message; warnings do not.
pub fn self_check_verdict(report: &SelfCheckReport) -> Result<(), String> {
    if report.is_ok() {
        Ok(())
    } else {
        Err(format!(
            "not starting: this Clerk configuration cannot authenticate requests; fix the \
             variables named below.\n{report}"
        ))
    }
}

/// Start-up, step 2 of the `actix`, `warp` and `axum` binaries: the verdict on what the
/// adapter's async `self_check` returned (`Err`: the check did not complete, so nothing is known
/// about the configuration).
pub fn self_check_done<E: std::fmt::Display>(
    done: Result<SelfCheckReport, E>,
) -> Result<(), String> {
    let report =
        done.map_err(|err| format!("the clerk-auth self-check did not complete: {err}"))?;
    self_check_verdict(&report)
}

/// Start-up, step 3 of the `actix`, `warp` and `axum` binaries: binds 127.0.0.1:`PORT`, prints the banner
/// and then the one `listening on http://127.0.0.1:<port>` line. The error names what failed.
pub fn listen(example: Example) -> Result<(Example, std::net::TcpListener), String> {
    use std::io::Write;

    let listener = std::net::TcpListener::bind(("127.0.0.1", example.port))
        .map_err(|err| format!("cannot listen on 127.0.0.1:{}: {err}", example.port))?;
    let port = listener
        .local_addr()
        .map_err(|err| format!("cannot read the bound address: {err}"))?
        .port();
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{}", example.banner(port));
    let _ = writeln!(out, "listening on http://127.0.0.1:{port}");
    let _ = out.flush();
    Ok((example, listener))
}

/// The whole start-up of the `actix`, `warp` and `axum` binaries: [`init_logging`], [`configure`], the
/// framework's `self_check`, [`listen`], then `serve` until the end. A failure at any step is
/// printed on stderr and ends the process with a failure code.
pub async fn run_binary<S>(
    self_check: impl AsyncFnOnce(&Example) -> Result<(), String>,
    serve: impl FnOnce(Example, std::net::TcpListener) -> S,
) -> std::process::ExitCode
where
    S: std::future::Future<Output = std::io::Result<()>>,
{
    init_logging();
    let started = async {
        let example = configure()?;
        // Proves the configuration (and fetches Clerk's key set) before serving.
        self_check(&example).await?;
        listen(example)
    };
    match started.await {
        Ok((example, listener)) => exit_code(serve(example, listener).await),
        Err(err) => {
            eprintln!("{err}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The process exit code for a server's end, reporting an error on stderr.
pub fn exit_code(result: std::io::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("server error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The contract's routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/api/me`: protected.
    Me,
    /// `/api/org-admin`: protected and requires `org:admin`.
    OrgAdmin,
    /// `/api/reverify`: protected and requires a strict reverification.
    Reverify,
    /// `/api/webhooks/clerk`: Clerk's webhooks (`POST`), not subject to session authentication.
    Webhook,
    /// Every other path: the public page.
    Public,
}

impl Route {
    /// The route a path belongs to.
    pub fn of(path: &str) -> Self {
        match path {
            "/api/me" => Self::Me,
            "/api/org-admin" => Self::OrgAdmin,
            "/api/reverify" => Self::Reverify,
            "/api/webhooks/clerk" => Self::Webhook,
            _ => Self::Public,
        }
    }
}

/// `/api/me`, and `/api/org-admin` and `/api/reverify` when authorized: the auth object's JSON.
pub fn me_body(state: &RequestState) -> String {
    state.auth_json_string()
}

/// `POST /api/webhooks/clerk` for a verified event: `{"type","id","dataId"}` (the event's type,
/// its `svix-id`, its `data.id` or `null`).
pub fn webhook_body(event: &WebhookEvent) -> String {
    serde_json::json!({
        "type": event.event_type.as_str(),
        "id": event.message_id,
        "dataId": event.data_id(),
    })
    .to_string()
}

/// The public page: says who is signed in.
pub fn public_page(state: &RequestState) -> String {
    let user = state
        .user_id()
        .or_else(|| state.machine().map(|m| m.subject.as_str()));
    let who = match user {
        Some(user) if state.is_signed_in() => format!("signed-in {}", html_escape(user)),
        _ => "signed-out".to_owned(),
    };
    format!("<!doctype html>\n<html><head><title>clerk-auth example</title></head><body><p>{who}</p></body></html>\n")
}

fn html_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

// `docs/testing.md` is no doctest: its code is test files (`#[actix_web::test]`, `#[tokio::test]`,
// …), which rustdoc would wrap in a `main` where they are neither compiled nor run; it shows
// `tests/guide_testing_*.rs` instead, run as tests, and `tests/guide_testing.rs` fails when the
// guide does not show exactly those files.
//
// Guides in `docs/` that need every adapter are compiled (and run) as doctests of this crate.
#[cfg(doctest)]
#[doc = include_str!("../../docs/webhooks.md")]
struct WebhooksDoc;
#[cfg(doctest)]
#[doc = include_str!("../../docs/migrating-from-clerk-rs.md")]
struct MigratingFromClerkRsDoc;
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoc;
