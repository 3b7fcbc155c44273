//! Options: what a configured clerk-auth instance knows, built once and shared.
//!
//! Build them with [`Options::builder`] or load Clerk's standard environment variables with
//! [`Options::from_env`]. [`OptionsBuilder::build`] runs every check that does not depend on a
//! request, so a misconfiguration fails at start-up, not per request.
//!
//! ```
//! use clerk_auth_core::options::Options;
//!
//! let options = Options::builder()
//!     .secret_key("sk_test_xxx")
//!     .publishable_key("pk_test_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA")
//!     .authorized_parties(["https://example.com"])
//!     .build()?;
//! assert_eq!(options.frontend_api(), Some("clerk.inspired.puma-74.lcl.dev"));
//! # Ok::<(), clerk_auth_core::ConfigError>(())
//! ```
//!
//! `Options` is cheap to clone (an `Arc` inside) and `Send + Sync`: put it in actix `web::Data`,
//! Rocket `.manage()`, or capture it in a warp filter.
//!
//! The options are split by subject: [`Options`] and its accessors here, the plain configuration
//! (every user-settable field and its default) in `config`, the builder and its validation in
//! `builder`, the environment loader in `env`, and [`SecretKey`] and [`AcceptsToken`] in their
//! own files.

mod accepts;
mod builder;
mod config;
mod env;
mod route;
mod secret;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::bapi::BackendApi;
use crate::bound::DeferredBound;
use crate::budget::{BackendApiBudget, Budget};
use crate::clock::Clock;
use crate::diagnostics::Diagnostics;
use crate::machine::{Machine, MachineTokenCache};
use crate::org_sync::{OrganizationMatcher, OrganizationSyncOptions};
use crate::publishable_key::{InstanceType, PublishableKey};
use crate::verify::jwks::KeySetRetry;
use crate::verify::pipeline::Verifier;

pub use accepts::AcceptsToken;
pub use builder::OptionsBuilder;
pub use env::ENV_VARS;
pub use secret::SecretKey;

use config::Config;

/// Default capacity of the verified-token cache: 4 096 tokens, about 12 MiB when full (a cached
/// 700-byte session token holds about 3.1 KB: its text, its decoded JSON, and the session auth
/// object; `cargo bench -p clerk-auth-core --bench cache_memory` measures it). Clerk's session tokens live 60 seconds, so this covers about 4 000 sessions active in
/// the same minute; raise it for more.
pub const DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY: u64 = crate::verify::cache::DEFAULT_CAPACITY;

/// Default timeout of one Backend API call made by the decision (handshake nonce, refresh).
pub const DEFAULT_BACKEND_API_TIMEOUT: Duration = Duration::from_secs(3);

/// A configured clerk-auth instance: keys, multi-domain settings, verification settings, and the
/// per-instance verifier with its caches. Build with [`Options::builder`] or [`Options::from_env`].
///
/// Cheap to clone (an `Arc` inside), `Send + Sync`. `Debug` never shows a secret.
///
/// A route or scope that accepts other token types, or pending sessions, uses options derived
/// with [`with_accepts_token`](Self::with_accepts_token) and
/// [`with_pending_sessions`](Self::with_pending_sessions): the same instance (keys, caches,
/// budget) with that setting changed.
#[derive(Clone)]
pub struct Options {
    inner: Arc<Inner>,
    /// The settings a route changed; `None`: the instance's own.
    route: Option<Arc<route::Route>>,
}

/// What [`Options`] share: the validated configuration and the runtime objects built from it.
struct Inner {
    /// The configuration as set (`accepts_token` normalized).
    config: Config,
    /// The parsed publishable key.
    publishable_key: Option<PublishableKey>,
    /// The compiled organization-sync patterns, if any.
    organization_matcher: Option<OrganizationMatcher>,
    /// The original Frontend API.
    original_frontend_api: Option<String>,
    /// The session-token verifier (key source, checks, verified-token cache).
    verifier: Verifier,
    /// The Backend API client in use: the custom one, else Clerk's; `None` without keys.
    backend_api: Option<Arc<dyn BackendApi>>,
    /// The opaque machine-token answer cache.
    machine_token_cache: MachineTokenCache,
    /// The runtime state of the Backend API budget.
    backend_api_budget: Budget,
    /// `http://localhost/`.
    fallback_base_url: Url,
    /// Rate-limited warnings, clock offset.
    diagnostics: Diagnostics,
    /// The bound on decisions waiting on the blocking pool.
    deferred: DeferredBound,
    /// The key-set retry flag.
    key_set_retry: KeySetRetry,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.inner.config;
        f.debug_struct("Options")
            .field("secret_key", &c.secret_key)
            .field(
                "publishable_key",
                &self
                    .inner
                    .publishable_key
                    .as_ref()
                    .map(PublishableKey::as_str),
            )
            .field("jwt_key", &c.jwt_key.as_ref().map(|_| "[pem]"))
            .field("machine_secret_key", &c.machine_secret_key)
            .field("api_url", &c.api_url)
            .field("api_version", &c.api_version)
            .field("authorized_parties", &c.authorized_parties)
            .field("audience", &c.audience)
            .field("clock_skew", &c.clock_skew)
            .field("verify_issuer", &c.verify_issuer)
            .field("domain", &c.domain)
            .field("is_satellite", &c.is_satellite)
            .field("proxy_url", &c.proxy_url)
            .field("sign_in_url", &c.sign_in_url)
            .field("sign_up_url", &c.sign_up_url)
            .field("accepts_token", self.accepts_token())
            .field("organization_sync", &self.organization_sync())
            .field("satellite_auto_sync", &c.satellite_auto_sync)
            .field("debug_headers", &c.debug_headers)
            .field("accept_pending_sessions", &self.accept_pending_sessions())
            .finish_non_exhaustive()
    }
}

impl Options {
    /// A builder with secure defaults.
    pub fn builder() -> OptionsBuilder {
        OptionsBuilder::default()
    }

    /// The Backend API secret key.
    pub fn secret_key(&self) -> Option<&SecretKey> {
        self.inner.config.secret_key.as_ref()
    }

    /// The parsed publishable key.
    pub fn publishable_key(&self) -> Option<&PublishableKey> {
        self.inner.publishable_key.as_ref()
    }

    /// The PEM public key for networkless verification.
    pub fn jwt_key(&self) -> Option<&str> {
        self.inner.config.jwt_key.as_deref()
    }

    /// The machine secret key (opaque M2M verification).
    pub fn machine_secret_key(&self) -> Option<&SecretKey> {
        self.inner.config.machine_secret_key.as_ref()
    }

    /// The Backend API base URL.
    pub fn api_url(&self) -> &str {
        &self.inner.config.api_url
    }

    /// The Backend API version segment.
    pub fn api_version(&self) -> &str {
        &self.inner.config.api_version
    }

    /// The `azp` allow-list (empty: not enforced).
    pub fn authorized_parties(&self) -> &[String] {
        &self.inner.config.authorized_parties
    }

    /// Accepted audiences (empty: not checked).
    pub fn audience(&self) -> &[String] {
        &self.inner.config.audience
    }

    /// Tolerance for `exp`, `nbf` and `iat`.
    pub fn clock_skew(&self) -> Duration {
        self.inner.config.clock_skew
    }

    /// Whether `iss` is pinned to `https://<frontend API>` (decision 6).
    pub fn verify_issuer(&self) -> bool {
        self.inner.config.verify_issuer
    }

    /// The satellite domain.
    pub fn domain(&self) -> Option<&str> {
        self.inner.config.domain.as_deref()
    }

    /// Whether this app is a satellite.
    pub fn is_satellite(&self) -> bool {
        self.inner.config.is_satellite
    }

    /// The proxy URL as configured: absolute, or relative (starting with `/`, resolved against
    /// each request's public origin).
    pub fn proxy_url(&self) -> Option<&str> {
        self.inner.config.proxy_url.as_deref()
    }

    /// The sign-in URL.
    pub fn sign_in_url(&self) -> Option<&str> {
        self.inner.config.sign_in_url.as_deref()
    }

    /// The sign-up URL.
    pub fn sign_up_url(&self) -> Option<&str> {
        self.inner.config.sign_up_url.as_deref()
    }

    /// The after-sign-in URL (echoed in states, no effect on decisions).
    pub fn after_sign_in_url(&self) -> Option<&str> {
        self.inner.config.after_sign_in_url.as_deref()
    }

    /// The after-sign-up URL (echoed in states, no effect on decisions).
    pub fn after_sign_up_url(&self) -> Option<&str> {
        self.inner.config.after_sign_up_url.as_deref()
    }

    /// Which token kinds are acceptable: the instance's, or the route's when these options were
    /// derived with [`with_accepts_token`](Self::with_accepts_token).
    pub fn accepts_token(&self) -> &AcceptsToken {
        match &self.route {
            Some(route) => &route.accepts_token,
            None => &self.inner.config.accepts_token,
        }
    }

    /// The organization-sync patterns, if configured.
    pub fn organization_sync(&self) -> Option<&OrganizationSyncOptions> {
        let sync = &self.inner.config.organization_sync;
        (!sync.is_empty()).then_some(sync)
    }

    /// The compiled organization-sync patterns, if configured.
    pub fn organization_matcher(&self) -> Option<&OrganizationMatcher> {
        self.inner.organization_matcher.as_ref()
    }

    /// Whether satellites sync even without Clerk cookies.
    pub fn satellite_auto_sync(&self) -> bool {
        self.inner.config.satellite_auto_sync
    }

    /// Whether states carry the `x-clerk-auth-*` debug headers.
    pub fn debug_headers(&self) -> bool {
        self.inner.config.debug_headers
    }

    /// Whether a pending session (`sts = pending`) counts as signed in (see
    /// [`OptionsBuilder::accept_pending_sessions`]): the instance's setting, or the route's when
    /// these options were derived with [`with_pending_sessions`](Self::with_pending_sessions).
    pub fn accept_pending_sessions(&self) -> bool {
        match &self.route {
            Some(route) => route.accept_pending_sessions,
            None => self.inner.config.accept_pending_sessions,
        }
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.config.clock
    }

    /// The per-instance session-token verifier (key source, verification options, clock,
    /// verified-token cache).
    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    /// The Backend API client used by the decision (handshake nonce, refresh, opaque machine
    /// tokens): the one given to the builder, else Clerk's Backend API with the secret key (and
    /// the machine secret key for M2M tokens); `None` without either key.
    pub fn backend_api(&self) -> Option<&Arc<dyn BackendApi>> {
        self.inner.backend_api.as_ref()
    }

    /// How long a positive Backend API answer for an opaque machine token is reused (zero: not
    /// cached). See [`OptionsBuilder::machine_token_cache_ttl`].
    pub fn machine_token_cache_ttl(&self) -> Duration {
        self.inner.machine_token_cache.ttl()
    }

    /// The Backend API budget of this instance (decision 13). See
    /// [`OptionsBuilder::backend_api_budget`].
    pub fn backend_api_budget(&self) -> &BackendApiBudget {
        self.inner.backend_api_budget.config()
    }

    /// The runtime state of the Backend API budget.
    pub(crate) fn budget(&self) -> &Budget {
        &self.inner.backend_api_budget
    }

    /// The per-instance diagnostics (rate-limited warnings, clock offset).
    pub(crate) fn diagnostics(&self) -> &Diagnostics {
        &self.inner.diagnostics
    }

    /// The bound on decisions waiting on the blocking pool.
    pub(crate) fn deferred_bound(&self) -> &DeferredBound {
        &self.inner.deferred
    }

    /// The per-instance key-set retry flag.
    pub(crate) fn key_set_retry(&self) -> &KeySetRetry {
        &self.inner.key_set_retry
    }

    /// The per-instance machine-token cache.
    pub(crate) fn machine_token_cache(&self) -> &MachineTokenCache {
        &self.inner.machine_token_cache
    }

    /// The parts machine-token verification uses.
    pub(crate) fn machine(&self) -> Machine<'_> {
        Machine {
            verifier: self.verifier(),
            backend_api: self.backend_api(),
            budget: self.budget(),
            cache: self.machine_token_cache(),
            clock: self.clock(),
            diagnostics: self.diagnostics(),
        }
    }

    /// The instance type from the publishable key.
    pub fn instance_type(&self) -> Option<InstanceType> {
        self.inner
            .publishable_key
            .as_ref()
            .map(PublishableKey::instance_type)
    }

    /// Whether the publishable key is a development key (`pk_test_`).
    pub fn is_development(&self) -> bool {
        self.instance_type() == Some(InstanceType::Development)
    }

    /// The cookie suffix of the publishable key.
    pub fn cookie_suffix(&self) -> Option<&str> {
        self.inner
            .publishable_key
            .as_ref()
            .map(PublishableKey::cookie_suffix)
    }

    /// The *original* Frontend API: `clerk.<domain>` for a production satellite,
    /// else the publishable key's host. Never the proxy. Used for the issuer comparison.
    pub fn original_frontend_api(&self) -> Option<&str> {
        self.inner.original_frontend_api.as_deref()
    }

    /// The effective Frontend API when it does not depend on the request: an absolute proxy URL,
    /// else the [original](Self::original_frontend_api) one. With a relative proxy URL this is the
    /// original one; the decision resolves the proxy per request.
    pub fn frontend_api(&self) -> Option<&str> {
        match self.inner.config.proxy_url.as_deref() {
            Some(p) if !p.starts_with('/') => Some(p),
            _ => self.original_frontend_api(),
        }
    }

    /// The proxy URL made absolute for a request whose public URL is `clerk_url`: a relative
    /// proxy URL is appended to its origin (`clerkUrl.origin + proxyUrl`).
    pub(crate) fn resolve_proxy_url(&self, clerk_url: &Url) -> Option<String> {
        let proxy = self.inner.config.proxy_url.as_deref()?;
        if proxy.starts_with('/') {
            Some(format!(
                "{}{proxy}",
                clerk_url.origin().ascii_serialization()
            ))
        } else {
            Some(proxy.to_owned())
        }
    }

    /// The base for origin-form request URLs without a usable `Host`: `http://localhost/`.
    pub(crate) fn fallback_base_url(&self) -> &Url {
        &self.inner.fallback_base_url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_send_sync_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<Options>();
    }
}
