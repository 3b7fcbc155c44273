//! The start-up self-check: one call that proves the configuration and names the environment
//! variable at fault.
//!
//! It checks, in this order:
//!
//! 1. the options build ([`OptionsBuilder::build`](crate::OptionsBuilder::build)): the
//!    publishable key decodes, the PEM key (`CLERK_JWT_KEY`) parses, the secret key is set, the
//!    satellite settings are complete, the URLs parse. A failure here is an
//!    [`Error`](Severity::Error): nothing can be authenticated;
//! 2. the secret key and the publishable key come from the same kind of instance (a development
//!    secret key with a production publishable key, or the reverse, is a
//!    [`Warning`](Severity::Warning) naming `CLERK_SECRET_KEY`);
//! 3. when the keys come from Clerk's key set (no PEM key), the key set is fetched now, which also
//!    pre-warms the cache: the first requests do not wait for it. A key set that cannot be
//!    fetched right now (network, `5xx`) or is empty is a warning, and a background thread keeps
//!    retrying (10 s, doubling up to 5 minutes) until it succeeds. A secret key that the Backend
//!    API refuses (`secret-key-invalid`) is an error: every session token would be refused and
//!    only a new `CLERK_SECRET_KEY` fixes it;
//! 4. the clock: when the Backend API answered, its `Date` header is compared with this server's
//!    clock. A difference beyond the clock skew tolerance (`CLERK_CLOCK_SKEW_MS`, 5 s by default)
//!    is a warning: fresh session tokens would fail their time checks. The fix is the server's
//!    clock (NTP), not a larger tolerance.
//!
//! Findings never contain a key, a secret key or a token, not even part of one.
//!
//! The check is **blocking** (it fetches the key set, within the key-set fetch budget of 3.5 s
//! by default): call it before starting an async runtime or from a blocking thread.
//!
//! ```no_run
//! use clerk_auth_core::self_check::self_check_env;
//!
//! // Load Clerk's environment variables, check them, stop on an error, warn otherwise.
//! let (options, report) = self_check_env();
//! report.log();
//! let options = match options {
//!     Some(options) if report.is_ok() => options,
//!     _ => {
//!         eprintln!("{report}");
//!         std::process::exit(1);
//!     }
//! };
//! # let _ = options;
//! ```
//!
//! With options built in code, check them with [`self_check`] and turn a build error into the same
//! report with [`SelfCheckReport::from_config_error`].

use std::fmt;
use std::sync::{Arc, Weak};
use std::thread;
use std::time::Duration;

use crate::error::{ConfigError, TokenVerificationError, TokenVerificationErrorReason};
use crate::options::Options;
use crate::publishable_key::InstanceType;
use crate::token::auth::TokenType;
use crate::verify::jwks::EMPTY_KEY_SET_MESSAGE;
use crate::verify::{KeyError, TokenVerifier, VerificationKey};

mod retry;

use self::retry::spawn_retry;

/// The first pause of the background key-set retry: 10 s.
pub const DEFAULT_RETRY_FIRST_DELAY: Duration = Duration::from_secs(10);

/// The longest pause of the background key-set retry (the pause doubles up to it): 5 minutes.
pub const DEFAULT_RETRY_MAX_DELAY: Duration = Duration::from_secs(300);

/// How serious a [`Finding`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    /// Authentication is impossible with this configuration: do not start.
    Error,
    /// Authentication may fail or the configuration is suspicious; the service can start.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found by the self-check: its severity, the environment variable to fix and a
/// message saying what is wrong and how to fix it. The message never contains a key or a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    severity: Severity,
    variable: &'static str,
    message: String,
}

impl Finding {
    fn new(severity: Severity, variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity,
            variable,
            message: message.into(),
        }
    }

    /// How serious it is.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// Whether it is an [`Error`](Severity::Error).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The environment variable at fault, for example `CLERK_PUBLISHABLE_KEY` (also when the
    /// option was set in code).
    pub fn variable(&self) -> &'static str {
        self.variable
    }

    /// What is wrong and how to fix it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.severity, self.variable, self.message)
    }
}

/// What the self-check found. [`is_ok`](Self::is_ok) when there is no error (warnings allowed);
/// [`log`](Self::log) reports every finding through `tracing`; `Display` lists them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelfCheckReport {
    findings: Vec<Finding>,
    keys_loaded: Option<usize>,
}

impl SelfCheckReport {
    /// The report for options that could not be built: one [`Error`](Severity::Error) naming
    /// [`ConfigError::variable`].
    pub fn from_config_error(error: &ConfigError) -> Self {
        Self {
            findings: vec![config_error_finding(error)],
            keys_loaded: None,
        }
    }

    /// Every finding, errors and warnings, in the order found.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// The errors: each one makes authentication impossible.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> + '_ {
        self.findings.iter().filter(|f| f.is_error())
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Finding> + '_ {
        self.findings.iter().filter(|f| !f.is_error())
    }

    /// Whether there is no error (there may be warnings): the service can start.
    pub fn is_ok(&self) -> bool {
        self.errors().next().is_none()
    }

    /// How many signing keys the check fetched from the key set; `None` when the keys are not
    /// fetched over the network (a PEM key) or could not be fetched.
    pub fn keys_loaded(&self) -> Option<usize> {
        self.keys_loaded
    }

    /// Emits each finding through `tracing` (target `clerk_auth`): errors at `error` level,
    /// warnings at `warn`, each with a `variable` field and a message naming it; a report without
    /// findings logs one `info` line.
    pub fn log(&self) {
        if self.findings.is_empty() {
            match self.keys_loaded {
                Some(keys) => tracing::info!(
                    target: "clerk_auth",
                    keys,
                    "Clerk self-check: configuration OK, {keys} signing keys loaded"
                ),
                None => tracing::info!(target: "clerk_auth", "Clerk self-check: configuration OK"),
            }
        }
        for f in &self.findings {
            match f.severity {
                Severity::Error => tracing::error!(
                    target: "clerk_auth",
                    variable = f.variable,
                    "Clerk self-check: {}: {}",
                    f.variable,
                    f.message
                ),
                Severity::Warning => tracing::warn!(
                    target: "clerk_auth",
                    variable = f.variable,
                    "Clerk self-check: {}: {}",
                    f.variable,
                    f.message
                ),
            }
        }
    }

    fn push(&mut self, severity: Severity, variable: &'static str, message: impl Into<String>) {
        self.findings
            .push(Finding::new(severity, variable, message));
    }
}

impl fmt::Display for SelfCheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.findings.is_empty() {
            f.write_str("Clerk self-check: no problems found")?;
            if let Some(keys) = self.keys_loaded {
                write!(f, " ({keys} signing keys loaded)")?;
            }
            return Ok(());
        }
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        write!(
            f,
            "Clerk self-check: {}, {}",
            plural(self.errors().count(), "error"),
            plural(self.warnings().count(), "warning")
        )?;
        for finding in &self.findings {
            write!(f, "\n  {finding}")?;
        }
        Ok(())
    }
}

/// Checks built options: instance types of the keys, and the key set (fetched now, which warms
/// the cache). See the [module documentation](self).
///
/// **Blocking**: it fetches the key set (bounded by the key-set fetch budget, 3.5 s by default).
/// Call it before starting an async runtime or from a blocking thread (`spawn_blocking`,
/// `web::block`).
///
/// When the key set cannot be fetched, it starts one background thread that retries with
/// back-off (10 s, doubling up to 5 minutes) until a fetch succeeds (logged at `info`), and ends
/// when the last clone of `options` is dropped. At most one such thread runs per configured
/// instance (`options` and its clones), however often the check is called: a call while one
/// runs starts no other.
pub fn self_check(options: &Options) -> SelfCheckReport {
    self_check_with_retry(options, DEFAULT_RETRY_FIRST_DELAY, DEFAULT_RETRY_MAX_DELAY)
}

/// [`self_check`] with other pauses for the background key-set retry: `first_delay` before the
/// first retry, doubled after each failure up to `max_delay`. Pauses under 50 ms count as 50 ms.
pub fn self_check_with_retry(
    options: &Options,
    first_delay: Duration,
    max_delay: Duration,
) -> SelfCheckReport {
    let mut report = SelfCheckReport::default();
    check_instance_types(options, &mut report);
    check_dev_redirects(options, &mut report);
    check_unused_pem(options, &mut report);
    check_secret_key_prefix(options, &mut report);
    if options.accepts_token().accepts(TokenType::SessionToken) {
        check_key_set(options, &mut report, first_delay, max_delay);
    }
    check_clock(options, &mut report);
    report
}

/// Compares the clock with the Backend API's `Date`, when an answer was received.
fn check_clock(options: &Options, report: &mut SelfCheckReport) {
    let Some(offset) = options.diagnostics().backend_api_clock().seconds() else {
        return;
    };
    let tolerance = options.clock_skew();
    if offset.unsigned_abs() <= tolerance.as_secs() {
        return;
    }
    let direction = if offset > 0 { "behind" } else { "ahead of" };
    report.push(
        Severity::Warning,
        "CLERK_CLOCK_SKEW_MS",
        format!(
            "this server's clock is about {} s {direction} the Clerk Backend API's (its Date \
             header), more than the {} ms tolerance: fresh session tokens will fail their time \
             checks (token-not-active-yet, token-iat-in-the-future or token-expired). Sync this \
             server's clock (NTP); raising CLERK_CLOCK_SKEW_MS only hides the problem.",
            offset.unsigned_abs(),
            tolerance.as_millis()
        ),
    );
}

/// Loads the options from the process environment ([`Options::from_env`]) and checks them: the
/// options if they could be built, and the report (an error naming the variable if they could
/// not). Blocking, like [`self_check`].
pub fn self_check_env() -> (Option<Options>, SelfCheckReport) {
    match Options::from_env() {
        Ok(options) => {
            let report = self_check(&options);
            (Some(options), report)
        }
        Err(error) => (
            None,
            config_error_report(&error, &|name| std::env::var(name).ok()),
        ),
    }
}

/// Like [`self_check_env`], reading the variables through `lookup` (see
/// [`Options::from_env_with`]).
pub fn self_check_env_with(
    lookup: impl Fn(&str) -> Option<String>,
) -> (Option<Options>, SelfCheckReport) {
    match Options::from_env_with(&lookup) {
        Ok(options) => {
            let report = self_check(&options);
            (Some(options), report)
        }
        Err(error) => (None, config_error_report(&error, &lookup)),
    }
}

/// [`SelfCheckReport::from_config_error`], naming `CLERK_PERSONAL_ACCOUNT_PATTERNS` when the
/// invalid pattern came from there.
fn config_error_report(
    error: &ConfigError,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> SelfCheckReport {
    let mut report = SelfCheckReport::from_config_error(error);
    if let ConfigError::InvalidPattern { pattern, .. } = error {
        let listed = |name: &str| {
            lookup(name).is_some_and(|v| v.split(',').any(|p| p.trim() == pattern.as_str()))
        };
        if !listed("CLERK_ORGANIZATION_PATTERNS") && listed("CLERK_PERSONAL_ACCOUNT_PATTERNS") {
            for f in &mut report.findings {
                f.variable = "CLERK_PERSONAL_ACCOUNT_PATTERNS";
            }
        }
    }
    report
}

fn config_error_finding(error: &ConfigError) -> Finding {
    let variable = error.variable();
    let message = match error {
        ConfigError::InvalidPublishableKey(detail) => format!(
            "the publishable key does not decode ({detail}). Set CLERK_PUBLISHABLE_KEY to the \
             publishable key shown on the API keys page of the Clerk dashboard."
        ),
        ConfigError::MissingPublishableKey => "no publishable key is set. Set \
             CLERK_PUBLISHABLE_KEY to the publishable key shown on the API keys page of the Clerk \
             dashboard."
            .to_owned(),
        ConfigError::MissingSecretKey => "no secret key is set. Set CLERK_SECRET_KEY to the \
             secret key shown on the API keys page of the Clerk dashboard."
            .to_owned(),
        ConfigError::InvalidJwtKey(detail) => format!(
            "the PEM public key does not parse ({detail}). Set CLERK_JWT_KEY to the PEM public \
             key shown on the API keys page of the Clerk dashboard, or unset it to use the key \
             set fetched with CLERK_SECRET_KEY."
        ),
        ConfigError::SatelliteWithoutDomainOrProxy => "a satellite application \
             (CLERK_IS_SATELLITE) needs its domain: set CLERK_DOMAIN to the satellite's domain, \
             or CLERK_PROXY_URL to its proxy URL."
            .to_owned(),
        ConfigError::SatelliteWithoutSignInUrl => "a satellite application with a development \
             secret key needs the sign-in page of the primary application: set CLERK_SIGN_IN_URL \
             to its absolute URL."
            .to_owned(),
        ConfigError::InvalidUrl { name } if *name == "CLERK_PROXY_URL" => format!(
            "{name} is not a valid URL: set it to an absolute http(s) URL or to a path starting \
             with '/'."
        ),
        ConfigError::InvalidUrl { name } => {
            format!("{name} is not a valid URL: set it to an absolute http(s) URL.")
        }
        ConfigError::InvalidPattern { pattern, detail } => {
            format!(
                "the organization-sync pattern {pattern:?} is invalid: {detail}. Fix it in \
                 CLERK_ORGANIZATION_PATTERNS or CLERK_PERSONAL_ACCOUNT_PATTERNS."
            )
        }
        ConfigError::MissingWebhookSecret => "no webhook signing secret is set. Set \
             CLERK_WEBHOOK_SIGNING_SECRET to the signing secret (whsec_...) of the endpoint on the \
             Webhooks page of the Clerk dashboard."
            .to_owned(),
        ConfigError::InvalidWebhookSecret(detail) => format!(
            "the webhook signing secret does not decode ({detail}). Set \
             CLERK_WEBHOOK_SIGNING_SECRET to the signing secret (whsec_...) of the endpoint on \
             the Webhooks page of the Clerk dashboard."
        ),
        ConfigError::Invalid { name, detail } => format!("{name} is invalid: {detail}."),
    };
    Finding::new(Severity::Error, variable, message)
}

/// Clerk's `isProductionFromSecretKey`.
fn is_production_secret_key(secret_key: &str) -> bool {
    secret_key.starts_with("sk_live_") || secret_key.starts_with("live_")
}

fn check_instance_types(options: &Options, report: &mut SelfCheckReport) {
    let (Some(secret), Some(instance)) = (options.secret_key(), options.instance_type()) else {
        return;
    };
    let secret_development = secret.is_development();
    let secret_production = is_production_secret_key(secret.expose_secret());
    let mismatch = match instance {
        InstanceType::Production if secret_development => Some(("a development", "a production")),
        InstanceType::Development if secret_production => Some(("a production", "a development")),
        _ => None,
    };
    if let Some((secret_kind, publishable_kind)) = mismatch {
        report.push(
            Severity::Warning,
            "CLERK_SECRET_KEY",
            format!(
                "CLERK_SECRET_KEY is {secret_kind} secret key but CLERK_PUBLISHABLE_KEY is \
                 {publishable_kind} publishable key: they must come from the same Clerk instance, \
                 or session tokens will not verify and handshakes will fail. Copy both from the \
                 API keys page of the same instance in the Clerk dashboard."
            ),
        );
    }
    // The build checks the sign-in URL of a satellite from the secret key's type; with keys of
    // different types, a development publishable key may still lack it.
    if options.is_satellite()
        && instance.is_development()
        && !secret_development
        && options.sign_in_url().is_none()
        && !options.accepts_token().is_exactly(TokenType::M2mToken)
    {
        report.push(
            Severity::Warning,
            "CLERK_SIGN_IN_URL",
            "a satellite application of a development instance needs the sign-in page of the \
             primary application: set CLERK_SIGN_IN_URL to its absolute URL.",
        );
    }
}

/// Decision 17: a secret key without `sk_live_` or `sk_test_` may be a legacy key (`live_…`,
/// `test_…`) or a mistake; it is worth a look, not a refusal.
fn check_secret_key_prefix(options: &Options, report: &mut SelfCheckReport) {
    let Some(secret) = options.secret_key() else {
        return;
    };
    let secret = secret.expose_secret();
    if !secret.starts_with("sk_live_") && !secret.starts_with("sk_test_") {
        report.push(
            Severity::Warning,
            "CLERK_SECRET_KEY",
            "CLERK_SECRET_KEY does not start with sk_live_ or sk_test_: unless it is a legacy              key, copy the secret key from the API keys page of the Clerk dashboard.",
        );
    }
}

/// Decision 14: a development primary sends its dev-browser token to `__clerk_redirect_url`,
/// restricted to the origins of the authorized parties when they are set.
fn check_dev_redirects(options: &Options, report: &mut SelfCheckReport) {
    if options.is_development()
        && !options.is_satellite()
        && options.authorized_parties().is_empty()
        && options.accepts_token().accepts(TokenType::SessionToken)
    {
        report.push(
            Severity::Warning,
            "CLERK_AUTHORIZED_PARTIES",
            "this development instance redirects to any __clerk_redirect_url it is given, \
             carrying the development browser token there: set CLERK_AUTHORIZED_PARTIES to the \
             origins of your applications (for example http://localhost:3000) to restrict the \
             redirects to them.",
        );
    }
}

/// A PEM key is parsed by the build only when it is used; with a custom key source it is not.
fn check_unused_pem(options: &Options, report: &mut SelfCheckReport) {
    let Some(pem) = options.jwt_key() else {
        return;
    };
    if let Err(error) = VerificationKey::from_pem(pem) {
        let detail = match &error {
            KeyError::InvalidPem(detail) => detail.as_str(),
            _ => "not an RSA public key",
        };
        report.push(
            Severity::Warning,
            "CLERK_JWT_KEY",
            format!(
                "the PEM public key does not parse ({detail}); it is unused because a custom \
                 token verifier is configured. Fix or unset CLERK_JWT_KEY."
            ),
        );
    }
}

fn check_key_set(
    options: &Options,
    report: &mut SelfCheckReport,
    first_delay: Duration,
    max_delay: Duration,
) {
    let source = options.verifier().source();
    let error = match source.warm_up() {
        None => return,
        Some(Ok(keys)) if keys > 0 => {
            report.keys_loaded = Some(keys);
            return;
        }
        Some(Ok(_)) => TokenVerificationError::new(
            TokenVerificationErrorReason::JwkRemoteFailedToLoad,
            EMPTY_KEY_SET_MESSAGE,
        ),
        Some(Err(error)) => error,
    };
    let retrying = "Requests with session tokens are signed out (503 on protected routes) until \
                    the keys are loaded; retrying in the background.";
    match error.reason {
        TokenVerificationErrorReason::SecretKeyInvalid => {
            // An authoritative refusal: retrying cannot help, every session token and every
            // handshake would fail until CLERK_SECRET_KEY is replaced.
            report.push(
                Severity::Error,
                "CLERK_SECRET_KEY",
                format!(
                    "the Backend API refused the secret key ({}). No session token can be \
                     verified. Set CLERK_SECRET_KEY to the secret key shown on the API keys page \
                     of the Clerk dashboard (and check that CLERK_API_URL is Clerk's Backend API).",
                    error.message
                ),
            );
            return;
        }
        _ if error.message == EMPTY_KEY_SET_MESSAGE => report.push(
            Severity::Warning,
            "CLERK_SECRET_KEY",
            format!(
                "the key set fetched with CLERK_SECRET_KEY has no usable signing key. Check that \
                 CLERK_SECRET_KEY belongs to the instance of CLERK_PUBLISHABLE_KEY and that \
                 CLERK_API_URL is Clerk's Backend API. {retrying}"
            ),
        ),
        TokenVerificationErrorReason::JwkFailedToResolve => report.push(
            Severity::Warning,
            "CLERK_SECRET_KEY",
            format!(
                "no key source is configured ({}): set CLERK_SECRET_KEY or CLERK_JWT_KEY. \
                 {retrying}",
                error.message
            ),
        ),
        _ => report.push(
            Severity::Warning,
            "CLERK_API_URL",
            format!(
                "the key set could not be fetched right now ({}). Check CLERK_API_URL and the \
                 network. {retrying}",
                error.message
            ),
        ),
    }
    spawn_retry(options, first_delay, max_delay);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_config_error_names_its_variable_in_the_finding() {
        let errors = [
            ConfigError::InvalidPublishableKey("x"),
            ConfigError::MissingPublishableKey,
            ConfigError::MissingSecretKey,
            ConfigError::InvalidJwtKey("x".to_owned()),
            ConfigError::SatelliteWithoutDomainOrProxy,
            ConfigError::SatelliteWithoutSignInUrl,
            ConfigError::InvalidUrl {
                name: "CLERK_PROXY_URL",
            },
            ConfigError::InvalidUrl {
                name: "CLERK_API_URL",
            },
            ConfigError::Invalid {
                name: "CLERK_CLOCK_SKEW_MS",
                detail: "x".to_owned(),
            },
            ConfigError::InvalidPattern {
                pattern: "/x(".to_owned(),
                detail: "x".to_owned(),
            },
        ];
        for error in &errors {
            let report = SelfCheckReport::from_config_error(error);
            assert!(!report.is_ok());
            let finding = &report.findings()[0];
            assert_eq!(finding.variable(), error.variable());
            assert!(finding.message().contains(error.variable()), "{finding}");
        }
    }

    #[test]
    fn a_personal_account_pattern_is_named_as_such() {
        let error = ConfigError::InvalidPattern {
            pattern: "/x(".to_owned(),
            detail: "unbalanced".to_owned(),
        };
        let lookup =
            |name: &str| (name == "CLERK_PERSONAL_ACCOUNT_PATTERNS").then(|| "/me, /x(".to_owned());
        let report = config_error_report(&error, &lookup);
        assert_eq!(
            report.findings()[0].variable(),
            "CLERK_PERSONAL_ACCOUNT_PATTERNS"
        );
        let report = config_error_report(&error, &|_| None);
        assert_eq!(
            report.findings()[0].variable(),
            "CLERK_ORGANIZATION_PATTERNS"
        );
    }
}
