//! Options: what a configured clerk-auth instance knows, built once and shared.
//!
//! Build them with [`Options::builder`] or load Clerk's standard environment variables with
//! [`Options::from_env`]. [`OptionsBuilder::build`] runs every check that does not depend on a
//! request (§1.9, decision 10), so a misconfiguration fails at start-up, not per request.
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

mod accepts;
mod secret;

pub use accepts::AcceptsToken;
pub use secret::SecretKey;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::bapi::{BackendApi, HttpBackendApi};
use crate::clock::{Clock, SystemClock};
use crate::diagnostics::Diagnostics;
use crate::error::{
    ConfigError, TokenVerificationError, TokenVerificationErrorAction, TokenVerificationErrorReason,
};
use crate::machine::{
    MachineTokenCache, DEFAULT_MACHINE_TOKEN_CACHE_CAPACITY, DEFAULT_MACHINE_TOKEN_CACHE_TTL,
};
use crate::org_sync::{OrganizationMatcher, OrganizationSyncOptions};
use crate::publishable_key::{InstanceType, PublishableKey};
use crate::token::auth::TokenType;
use crate::token::Jwt;
use crate::verify::jwks::{
    JwksConfig, JwksVerifier, KeySetRetry, DEFAULT_API_URL, DEFAULT_API_VERSION,
};
use crate::verify::pem::PemVerifier;
use crate::verify::pipeline::{Verifier, VerifyOptions, DEFAULT_CLOCK_SKEW};
use crate::verify::{TokenVerifier, VerificationKey};

/// Default capacity of the verified-token cache (decision 8): 4 096 tokens, about 17 MiB (a cached
/// session token holds about 4.3 KB: its text, decoded header and claims, and the session auth
/// object). Clerk's session tokens live 60 seconds, so this covers about 4 000 sessions active in
/// the same minute; raise it for more.
pub const DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY: u64 = crate::verify::cache::DEFAULT_CAPACITY;

/// Default timeout of one Backend API call made by the decision (handshake nonce, refresh).
pub const DEFAULT_BACKEND_API_TIMEOUT: Duration = Duration::from_secs(3);

/// Every environment variable [`Options::from_env`] reads.
pub const ENV_VARS: [&str; 18] = [
    "CLERK_SECRET_KEY",
    "CLERK_PUBLISHABLE_KEY",
    "CLERK_JWT_KEY",
    "CLERK_MACHINE_SECRET_KEY",
    "CLERK_API_URL",
    "CLERK_API_VERSION",
    "CLERK_AUTHORIZED_PARTIES",
    "CLERK_AUDIENCE",
    "CLERK_DOMAIN",
    "CLERK_IS_SATELLITE",
    "CLERK_PROXY_URL",
    "CLERK_SATELLITE_AUTO_SYNC",
    "CLERK_SIGN_IN_URL",
    "CLERK_SIGN_UP_URL",
    "CLERK_ACCEPTS_TOKEN",
    "CLERK_ORGANIZATION_PATTERNS",
    "CLERK_PERSONAL_ACCOUNT_PATTERNS",
    "CLERK_CLOCK_SKEW_MS",
];

// -------------------------------------------------------------------------------------------------
// Options
// -------------------------------------------------------------------------------------------------

/// A configured clerk-auth instance: keys, multi-domain settings, verification settings, and the
/// per-instance verifier with its caches. Build with [`Options::builder`] or [`Options::from_env`].
///
/// Cheap to clone (an `Arc` inside), `Send + Sync`. `Debug` never shows a secret.
#[derive(Clone)]
pub struct Options {
    inner: Arc<Inner>,
}

struct Inner {
    secret_key: Option<SecretKey>,
    publishable_key: Option<PublishableKey>,
    jwt_key: Option<String>,
    machine_secret_key: Option<SecretKey>,
    api_url: String,
    api_version: String,
    authorized_parties: Vec<String>,
    audience: Vec<String>,
    clock_skew: Duration,
    verify_issuer: bool,
    domain: Option<String>,
    is_satellite: bool,
    proxy_url: Option<String>,
    sign_in_url: Option<String>,
    sign_up_url: Option<String>,
    after_sign_in_url: Option<String>,
    after_sign_up_url: Option<String>,
    accepts_token: AcceptsToken,
    organization_sync: Option<OrganizationSyncOptions>,
    organization_matcher: Option<OrganizationMatcher>,
    satellite_auto_sync: bool,
    debug_headers: bool,
    accept_pending_sessions: bool,
    clock: Arc<dyn Clock>,
    original_frontend_api: Option<String>,
    verifier: Verifier,
    backend_api: Option<Arc<dyn BackendApi>>,
    machine_token_cache: MachineTokenCache,
    backend_api_budget: crate::budget::Budget,
    fallback_base_url: Url,
    diagnostics: Diagnostics,
    deferred: crate::budget::DeferredBound,
    key_set_retry: KeySetRetry,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Options")
            .field("secret_key", &i.secret_key)
            .field(
                "publishable_key",
                &i.publishable_key.as_ref().map(PublishableKey::as_str),
            )
            .field("jwt_key", &i.jwt_key.as_ref().map(|_| "[pem]"))
            .field("machine_secret_key", &i.machine_secret_key)
            .field("api_url", &i.api_url)
            .field("api_version", &i.api_version)
            .field("authorized_parties", &i.authorized_parties)
            .field("audience", &i.audience)
            .field("clock_skew", &i.clock_skew)
            .field("verify_issuer", &i.verify_issuer)
            .field("domain", &i.domain)
            .field("is_satellite", &i.is_satellite)
            .field("proxy_url", &i.proxy_url)
            .field("sign_in_url", &i.sign_in_url)
            .field("sign_up_url", &i.sign_up_url)
            .field("accepts_token", &i.accepts_token)
            .field("organization_sync", &i.organization_sync)
            .field("satellite_auto_sync", &i.satellite_auto_sync)
            .field("debug_headers", &i.debug_headers)
            .field("accept_pending_sessions", &i.accept_pending_sessions)
            .finish_non_exhaustive()
    }
}

impl Options {
    /// A builder with secure defaults.
    pub fn builder() -> OptionsBuilder {
        OptionsBuilder::default()
    }

    /// Loads the options from Clerk's standard environment variables ([`ENV_VARS`]; see
    /// [`OptionsBuilder::from_env_with`] for the formats) and builds them.
    pub fn from_env() -> Result<Self, ConfigError> {
        OptionsBuilder::from_env()?.build()
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup` (for tests, or
    /// another configuration source).
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        OptionsBuilder::from_env_with(lookup)?.build()
    }

    /// The Backend API secret key.
    pub fn secret_key(&self) -> Option<&SecretKey> {
        self.inner.secret_key.as_ref()
    }

    /// The parsed publishable key.
    pub fn publishable_key(&self) -> Option<&PublishableKey> {
        self.inner.publishable_key.as_ref()
    }

    /// The PEM public key for networkless verification.
    pub fn jwt_key(&self) -> Option<&str> {
        self.inner.jwt_key.as_deref()
    }

    /// The machine secret key (opaque M2M verification).
    pub fn machine_secret_key(&self) -> Option<&SecretKey> {
        self.inner.machine_secret_key.as_ref()
    }

    /// The Backend API base URL.
    pub fn api_url(&self) -> &str {
        &self.inner.api_url
    }

    /// The Backend API version segment.
    pub fn api_version(&self) -> &str {
        &self.inner.api_version
    }

    /// The `azp` allow-list (empty: not enforced).
    pub fn authorized_parties(&self) -> &[String] {
        &self.inner.authorized_parties
    }

    /// Accepted audiences (empty: not checked).
    pub fn audience(&self) -> &[String] {
        &self.inner.audience
    }

    /// Tolerance for `exp`, `nbf` and `iat`.
    pub fn clock_skew(&self) -> Duration {
        self.inner.clock_skew
    }

    /// Whether `iss` is pinned to `https://<frontend API>` (decision 6).
    pub fn verify_issuer(&self) -> bool {
        self.inner.verify_issuer
    }

    /// The satellite domain.
    pub fn domain(&self) -> Option<&str> {
        self.inner.domain.as_deref()
    }

    /// Whether this app is a satellite.
    pub fn is_satellite(&self) -> bool {
        self.inner.is_satellite
    }

    /// The proxy URL as configured: absolute, or relative (starting with `/`, resolved against
    /// each request's public origin).
    pub fn proxy_url(&self) -> Option<&str> {
        self.inner.proxy_url.as_deref()
    }

    /// The sign-in URL.
    pub fn sign_in_url(&self) -> Option<&str> {
        self.inner.sign_in_url.as_deref()
    }

    /// The sign-up URL.
    pub fn sign_up_url(&self) -> Option<&str> {
        self.inner.sign_up_url.as_deref()
    }

    /// The after-sign-in URL (echoed in states, no effect on decisions).
    pub fn after_sign_in_url(&self) -> Option<&str> {
        self.inner.after_sign_in_url.as_deref()
    }

    /// The after-sign-up URL (echoed in states, no effect on decisions).
    pub fn after_sign_up_url(&self) -> Option<&str> {
        self.inner.after_sign_up_url.as_deref()
    }

    /// Which token kinds are acceptable.
    pub fn accepts_token(&self) -> &AcceptsToken {
        &self.inner.accepts_token
    }

    /// The organization-sync patterns, if configured.
    pub fn organization_sync(&self) -> Option<&OrganizationSyncOptions> {
        self.inner.organization_sync.as_ref()
    }

    /// The compiled organization-sync patterns, if configured.
    pub fn organization_matcher(&self) -> Option<&OrganizationMatcher> {
        self.inner.organization_matcher.as_ref()
    }

    /// Whether satellites sync even without Clerk cookies.
    pub fn satellite_auto_sync(&self) -> bool {
        self.inner.satellite_auto_sync
    }

    /// Whether states carry the `x-clerk-auth-*` debug headers.
    pub fn debug_headers(&self) -> bool {
        self.inner.debug_headers
    }

    /// Whether a pending session (`sts = pending`) counts as signed in (see
    /// [`OptionsBuilder::accept_pending_sessions`]).
    pub fn accept_pending_sessions(&self) -> bool {
        self.inner.accept_pending_sessions
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
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
    pub fn backend_api_budget(&self) -> &crate::budget::BackendApiBudget {
        self.inner.backend_api_budget.config()
    }

    /// The runtime state of the Backend API budget.
    pub(crate) fn budget(&self) -> &crate::budget::Budget {
        &self.inner.backend_api_budget
    }

    /// The per-instance diagnostics (rate-limited warnings, clock offset).
    pub(crate) fn diagnostics(&self) -> &Diagnostics {
        &self.inner.diagnostics
    }

    /// The bound on decisions waiting on the blocking pool.
    pub(crate) fn deferred_bound(&self) -> &crate::budget::DeferredBound {
        &self.inner.deferred
    }

    /// The per-instance machine-token cache.
    pub(crate) fn key_set_retry(&self) -> &KeySetRetry {
        &self.inner.key_set_retry
    }

    pub(crate) fn machine_token_cache(&self) -> &MachineTokenCache {
        &self.inner.machine_token_cache
    }

    /// The parts machine-token verification uses.
    pub(crate) fn machine(&self) -> crate::machine::Machine<'_> {
        crate::machine::Machine {
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

    /// The cookie suffix (§1.3) of the publishable key.
    pub fn cookie_suffix(&self) -> Option<&str> {
        self.inner
            .publishable_key
            .as_ref()
            .map(PublishableKey::cookie_suffix)
    }

    /// The *original* Frontend API (§1.2 step 7): `clerk.<domain>` for a production satellite,
    /// else the publishable key's host. Never the proxy. Used for the issuer comparison.
    pub fn original_frontend_api(&self) -> Option<&str> {
        self.inner.original_frontend_api.as_deref()
    }

    /// The effective Frontend API when it does not depend on the request: an absolute proxy URL,
    /// else the [original](Self::original_frontend_api) one. With a relative proxy URL this is the
    /// original one; the decision resolves the proxy per request.
    pub fn frontend_api(&self) -> Option<&str> {
        match self.inner.proxy_url.as_deref() {
            Some(p) if !p.starts_with('/') => Some(p),
            _ => self.original_frontend_api(),
        }
    }

    /// The proxy URL made absolute for a request whose public URL is `clerk_url`: a relative
    /// proxy URL is appended to its origin (`clerkUrl.origin + proxyUrl`).
    pub(crate) fn resolve_proxy_url(&self, clerk_url: &Url) -> Option<String> {
        let proxy = self.inner.proxy_url.as_deref()?;
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

// -------------------------------------------------------------------------------------------------
// Builder
// -------------------------------------------------------------------------------------------------

/// Builds [`Options`]. Every setter documents its default; [`build`](Self::build) validates.
#[derive(Clone)]
#[must_use]
pub struct OptionsBuilder {
    secret_key: Option<SecretKey>,
    publishable_key: Option<String>,
    jwt_key: Option<String>,
    machine_secret_key: Option<SecretKey>,
    api_url: String,
    api_version: String,
    authorized_parties: Vec<String>,
    audience: Vec<String>,
    clock_skew: Duration,
    verify_issuer: bool,
    domain: Option<String>,
    is_satellite: bool,
    proxy_url: Option<String>,
    sign_in_url: Option<String>,
    sign_up_url: Option<String>,
    after_sign_in_url: Option<String>,
    after_sign_up_url: Option<String>,
    accepts_token: AcceptsToken,
    organization_sync: OrganizationSyncOptions,
    satellite_auto_sync: bool,
    debug_headers: bool,
    accept_pending_sessions: bool,
    clock: Arc<dyn Clock>,
    token_verifier: Option<Arc<dyn TokenVerifier>>,
    backend_api: Option<Arc<dyn BackendApi>>,
    backend_api_timeout: Duration,
    jwks: JwksConfig,
    verified_token_cache_capacity: u64,
    machine_token_cache_ttl: Duration,
    machine_token_cache_capacity: u64,
    max_deferred_decisions: usize,
    backend_api_budget: crate::budget::BackendApiBudget,
}

impl Default for OptionsBuilder {
    fn default() -> Self {
        Self {
            secret_key: None,
            publishable_key: None,
            jwt_key: None,
            machine_secret_key: None,
            api_url: DEFAULT_API_URL.to_owned(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            authorized_parties: Vec::new(),
            audience: Vec::new(),
            clock_skew: DEFAULT_CLOCK_SKEW,
            verify_issuer: false,
            domain: None,
            is_satellite: false,
            proxy_url: None,
            sign_in_url: None,
            sign_up_url: None,
            after_sign_in_url: None,
            after_sign_up_url: None,
            accepts_token: AcceptsToken::SessionToken,
            organization_sync: OrganizationSyncOptions::default(),
            satellite_auto_sync: false,
            debug_headers: true,
            accept_pending_sessions: false,
            clock: Arc::new(SystemClock),
            token_verifier: None,
            backend_api: None,
            backend_api_timeout: DEFAULT_BACKEND_API_TIMEOUT,
            jwks: JwksConfig::new(String::new()),
            verified_token_cache_capacity: DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY,
            machine_token_cache_ttl: DEFAULT_MACHINE_TOKEN_CACHE_TTL,
            machine_token_cache_capacity: DEFAULT_MACHINE_TOKEN_CACHE_CAPACITY,
            max_deferred_decisions: crate::budget::DEFAULT_MAX_DEFERRED_DECISIONS,
            backend_api_budget: crate::budget::BackendApiBudget::default(),
        }
    }
}

impl fmt::Debug for OptionsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OptionsBuilder")
            .field("secret_key", &self.secret_key)
            .field("publishable_key", &self.publishable_key)
            .field("jwt_key", &self.jwt_key.as_ref().map(|_| "[pem]"))
            .field("machine_secret_key", &self.machine_secret_key)
            .field("api_url", &self.api_url)
            .field("accepts_token", &self.accepts_token)
            .field("is_satellite", &self.is_satellite)
            .finish_non_exhaustive()
    }
}

fn non_empty(s: impl Into<String>) -> Option<String> {
    Some(s.into()).filter(|s| !s.is_empty())
}

impl OptionsBuilder {
    /// The Backend API secret key (`CLERK_SECRET_KEY`). Required unless `accepts_token` is
    /// exactly `m2m_token`. No default. An empty string counts as unset.
    pub fn secret_key(mut self, secret_key: impl Into<String>) -> Self {
        self.secret_key = non_empty(secret_key).map(SecretKey::new);
        self
    }

    /// The publishable key (`CLERK_PUBLISHABLE_KEY`). Required unless `accepts_token` is exactly
    /// `api_key` or `m2m_token`. No default. An empty string counts as unset.
    pub fn publishable_key(mut self, publishable_key: impl Into<String>) -> Self {
        self.publishable_key = non_empty(publishable_key);
        self
    }

    /// A PEM public key (`CLERK_JWT_KEY`) for networkless verification; takes precedence over
    /// the key set fetched with the secret key. No default (key set over HTTP).
    pub fn jwt_key(mut self, pem: impl Into<String>) -> Self {
        self.jwt_key = non_empty(pem);
        self
    }

    /// The machine secret key (`CLERK_MACHINE_SECRET_KEY`). No default.
    pub fn machine_secret_key(mut self, key: impl Into<String>) -> Self {
        self.machine_secret_key = non_empty(key).map(SecretKey::new);
        self
    }

    /// The Backend API base URL (`CLERK_API_URL`). Defaults to `https://api.clerk.com`.
    pub fn api_url(mut self, api_url: impl Into<String>) -> Self {
        self.api_url = non_empty(api_url).unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        self
    }

    /// The Backend API version segment (`CLERK_API_VERSION`). Defaults to `v1`.
    pub fn api_version(mut self, api_version: impl Into<String>) -> Self {
        self.api_version = non_empty(api_version).unwrap_or_else(|| DEFAULT_API_VERSION.to_owned());
        self
    }

    /// The `azp` allow-list (`CLERK_AUTHORIZED_PARTIES`), for example `["https://example.com"]`.
    /// Defaults to empty: `azp` is not checked. Setting it is recommended.
    pub fn authorized_parties<I, S>(mut self, parties: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.authorized_parties = parties
            .into_iter()
            .map(Into::into)
            .filter(|s| !s.is_empty())
            .collect();
        self
    }

    /// Accepted audiences (`CLERK_AUDIENCE`), checked only when the token has an `aud`.
    /// Defaults to empty: not checked.
    pub fn audience<I, S>(mut self, audience: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audience = audience
            .into_iter()
            .map(Into::into)
            .filter(|s| !s.is_empty())
            .collect();
        self
    }

    /// Tolerance for `exp`, `nbf` and `iat` (`CLERK_CLOCK_SKEW_MS`). Defaults to 5 s.
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// Pin `iss` to `https://<frontend API>` (decision 6; needs a publishable key). Defaults to
    /// `false`, as Clerk's SDK (which does not check the issuer).
    pub fn verify_issuer(mut self, verify: bool) -> Self {
        self.verify_issuer = verify;
        self
    }

    /// The satellite domain (`CLERK_DOMAIN`), for example `satellite.example.com`. No default.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = non_empty(domain);
        self
    }

    /// Whether this app is a satellite (`CLERK_IS_SATELLITE`). Defaults to `false`. A satellite
    /// needs `domain` or `proxy_url`, and with a development secret key a `sign_in_url`.
    pub fn is_satellite(mut self, is_satellite: bool) -> Self {
        self.is_satellite = is_satellite;
        self
    }

    /// The proxy URL (`CLERK_PROXY_URL`): absolute (`https://app.example.com/__clerk`) or
    /// relative to each request's public origin (`/__clerk`). No default.
    pub fn proxy_url(mut self, proxy_url: impl Into<String>) -> Self {
        self.proxy_url = non_empty(proxy_url);
        self
    }

    /// The sign-in URL (`CLERK_SIGN_IN_URL`). No default.
    pub fn sign_in_url(mut self, url: impl Into<String>) -> Self {
        self.sign_in_url = non_empty(url);
        self
    }

    /// The sign-up URL (`CLERK_SIGN_UP_URL`). No default.
    pub fn sign_up_url(mut self, url: impl Into<String>) -> Self {
        self.sign_up_url = non_empty(url);
        self
    }

    /// The after-sign-in URL (echoed only). No default.
    pub fn after_sign_in_url(mut self, url: impl Into<String>) -> Self {
        self.after_sign_in_url = non_empty(url);
        self
    }

    /// The after-sign-up URL (echoed only). No default.
    pub fn after_sign_up_url(mut self, url: impl Into<String>) -> Self {
        self.after_sign_up_url = non_empty(url);
        self
    }

    /// Which token kinds are acceptable (`CLERK_ACCEPTS_TOKEN`). Defaults to
    /// [`AcceptsToken::SessionToken`].
    pub fn accepts_token(mut self, accepts: impl Into<AcceptsToken>) -> Self {
        self.accepts_token = accepts.into();
        self
    }

    /// Organization-sync patterns (`CLERK_ORGANIZATION_PATTERNS`,
    /// `CLERK_PERSONAL_ACCOUNT_PATTERNS`), compiled by [`build`](Self::build). Defaults to none.
    pub fn organization_sync(mut self, options: OrganizationSyncOptions) -> Self {
        self.organization_sync = options;
        self
    }

    /// Whether satellites sync even without Clerk cookies (`CLERK_SATELLITE_AUTO_SYNC`).
    /// Defaults to `false`.
    pub fn satellite_auto_sync(mut self, auto_sync: bool) -> Self {
        self.satellite_auto_sync = auto_sync;
        self
    }

    /// Whether states carry the `x-clerk-auth-status`/`-reason`/`-message` debug headers.
    /// Defaults to `true`, as Clerk's SDK.
    pub fn debug_headers(mut self, on: bool) -> Self {
        self.debug_headers = on;
        self
    }

    /// Whether a pending session (a valid session token with `sts = pending`: signed in at
    /// Clerk, with a task left such as choosing an organization) counts as signed in, for every
    /// route of this instance. Defaults to `false`, as Clerk's `treatPendingAsSignedOut`
    /// (decision 16): the state's auth object is then a signed-out session with
    /// `sessionStatus: "pending"`, [`RequestState::is_signed_in`](crate::RequestState::is_signed_in)
    /// is `false` and the adapters' `SignedIn` guards refuse the request (`401`). With `true`,
    /// the auth object is the pending session's and the guards let it through; check
    /// `session_status` yourself where a pending session must not act.
    pub fn accept_pending_sessions(mut self, accept: bool) -> Self {
        self.accept_pending_sessions = accept;
        self
    }

    /// The clock. Defaults to [`SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// A custom key source, used instead of `jwt_key` and the key set. Defaults to none: the PEM
    /// key if set, else the key set fetched with the secret key.
    pub fn token_verifier(mut self, verifier: Arc<dyn TokenVerifier>) -> Self {
        self.token_verifier = Some(verifier);
        self
    }

    /// A custom Backend API client for the handshake nonce, refresh and machine-token calls.
    /// Defaults to Clerk's Backend API at `api_url` with the secret key (and the machine secret
    /// key for M2M tokens).
    pub fn backend_api(mut self, api: Arc<dyn BackendApi>) -> Self {
        self.backend_api = Some(api);
        self
    }

    /// Timeout of one Backend API call made by the decision. Defaults to 3 s.
    pub fn backend_api_timeout(mut self, timeout: Duration) -> Self {
        self.backend_api_timeout = timeout;
        self
    }

    /// Key-set TTL (strict; hits never extend it). Defaults to 5 minutes.
    pub fn jwks_cache_ttl(mut self, ttl: Duration) -> Self {
        self.jwks.ttl = ttl;
        self
    }

    /// Minimum time between two key-set fetches caused by an unknown `kid`. Defaults to 10 s.
    pub fn jwks_kid_miss_cooldown(mut self, cooldown: Duration) -> Self {
        self.jwks.kid_miss_cooldown = cooldown;
        self
    }

    /// How long the last good keys keep serving while the key set cannot be fetched (network
    /// errors, 5xx). Defaults to 1 hour.
    pub fn jwks_stale_grace(mut self, grace: Duration) -> Self {
        self.jwks.stale_grace = grace;
        self
    }

    /// Timeout of one key-set HTTP attempt. Defaults to 1.5 s.
    pub fn jwks_timeout(mut self, timeout: Duration) -> Self {
        self.jwks.timeout = timeout;
        self
    }

    /// Attempts per key-set fetch (first included). Defaults to 3.
    pub fn jwks_max_attempts(mut self, attempts: u32) -> Self {
        self.jwks.max_attempts = attempts;
        self
    }

    /// Upper bound on one whole key-set fetch, retries included. Defaults to 3.5 s.
    pub fn jwks_fetch_budget(mut self, budget: Duration) -> Self {
        self.jwks.fetch_budget = budget;
        self
    }

    /// Capacity of the verified-token cache (decision 8); 0 turns it off. Defaults to 4 096
    /// ([`DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY`]: about 4.3 KB per cached session token, so about
    /// 17 MiB when full).
    pub fn verified_token_cache_capacity(mut self, capacity: u64) -> Self {
        self.verified_token_cache_capacity = capacity;
        self
    }

    /// How long a positive Backend API answer for an opaque machine token (`ak_`, `mt_`, `oat_`)
    /// is reused. Defaults to 5 s; zero turns the cache off (every request asks the Backend API).
    ///
    /// The trade-off: a token revoked in Clerk keeps working for at most this long on an instance
    /// that verified it recently. In exchange, a busy client costs one Backend API call per TTL,
    /// and concurrent requests with the same new token share a single call. Failures are not
    /// kept here; definitive refusals (unknown, revoked or expired tokens) are remembered by the
    /// [Backend API budget](Self::backend_api_budget)'s negative cache, outages never.
    pub fn machine_token_cache_ttl(mut self, ttl: Duration) -> Self {
        self.machine_token_cache_ttl = ttl;
        self
    }

    /// Capacity of the opaque machine-token answer cache; 0 turns it off. Defaults to 10 000.
    pub fn machine_token_cache_capacity(mut self, capacity: u64) -> Self {
        self.machine_token_cache_capacity = capacity;
        self
    }

    /// How many decisions of this instance may wait on the blocking pool at once (decisions
    /// that need network IO: a key fetch, a handshake nonce, a refresh, an opaque machine token;
    /// see [`Deferred`](crate::Deferred)). Over it, a request is not deferred: it is answered
    /// signed out with reason `backend-api-budget-exhausted`, `503` and `Retry-After: 1` on a
    /// protected route, so that a slow Backend API cannot fill a blocking pool the application
    /// shares. Defaults to 64; at least 1.
    pub fn max_deferred_decisions(mut self, max: usize) -> Self {
        self.max_deferred_decisions = max.max(1);
        self
    }

    /// The Backend API budget (decision 13): how many Backend API calls values chosen by clients
    /// (handshake nonces, opaque machine tokens) may cause. Defaults to
    /// [`BackendApiBudget::default()`](crate::BackendApiBudget): one call in flight per value, a
    /// 10 s negative cache, and for values never seen before at most 8 calls in flight and 20
    /// per second with a burst of 40.
    pub fn backend_api_budget(mut self, budget: crate::budget::BackendApiBudget) -> Self {
        self.backend_api_budget = budget;
        self
    }

    /// A builder loaded from the process environment ([`ENV_VARS`]). A variable that is not
    /// valid UTF-8 is an error.
    pub fn from_env() -> Result<Self, ConfigError> {
        for name in ENV_VARS {
            if let Some(v) = std::env::var_os(name) {
                if v.to_str().is_none() {
                    return Err(ConfigError::Invalid {
                        name,
                        detail: "not valid UTF-8".to_owned(),
                    });
                }
            }
        }
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// A builder loaded through `lookup` (called with each name of [`ENV_VARS`]). Unset and empty
    /// variables keep the defaults. Lists (`CLERK_AUTHORIZED_PARTIES`, `CLERK_AUDIENCE`,
    /// `CLERK_ACCEPTS_TOKEN`, `CLERK_*_PATTERNS`) are comma-separated, items trimmed, empty items
    /// dropped. Booleans accept `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off` (any case).
    /// `CLERK_CLOCK_SKEW_MS` is a whole number of milliseconds.
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let list = |name: &str| -> Vec<String> {
            get(name)
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut b = Self::default();
        if let Some(v) = get("CLERK_SECRET_KEY") {
            b = b.secret_key(v);
        }
        if let Some(v) = get("CLERK_PUBLISHABLE_KEY") {
            b = b.publishable_key(v);
        }
        if let Some(v) = get("CLERK_JWT_KEY") {
            b = b.jwt_key(v);
        }
        if let Some(v) = get("CLERK_MACHINE_SECRET_KEY") {
            b = b.machine_secret_key(v);
        }
        if let Some(v) = get("CLERK_API_URL") {
            b = b.api_url(v);
        }
        if let Some(v) = get("CLERK_API_VERSION") {
            b = b.api_version(v);
        }
        b = b
            .authorized_parties(list("CLERK_AUTHORIZED_PARTIES"))
            .audience(list("CLERK_AUDIENCE"));
        if let Some(v) = get("CLERK_DOMAIN") {
            b = b.domain(v);
        }
        if let Some(v) = get("CLERK_IS_SATELLITE") {
            b = b.is_satellite(parse_bool("CLERK_IS_SATELLITE", &v)?);
        }
        if let Some(v) = get("CLERK_PROXY_URL") {
            b = b.proxy_url(v);
        }
        if let Some(v) = get("CLERK_SATELLITE_AUTO_SYNC") {
            b = b.satellite_auto_sync(parse_bool("CLERK_SATELLITE_AUTO_SYNC", &v)?);
        }
        if let Some(v) = get("CLERK_SIGN_IN_URL") {
            b = b.sign_in_url(v);
        }
        if let Some(v) = get("CLERK_SIGN_UP_URL") {
            b = b.sign_up_url(v);
        }
        if let Some(v) = get("CLERK_ACCEPTS_TOKEN") {
            b = b.accepts_token(AcceptsToken::parse(&v)?);
        }
        b = b.organization_sync(OrganizationSyncOptions {
            organization_patterns: list("CLERK_ORGANIZATION_PATTERNS"),
            personal_account_patterns: list("CLERK_PERSONAL_ACCOUNT_PATTERNS"),
        });
        if let Some(v) = get("CLERK_CLOCK_SKEW_MS") {
            let ms: u64 = v.trim().parse().map_err(|_| ConfigError::Invalid {
                name: "CLERK_CLOCK_SKEW_MS",
                detail: "expected a whole number of milliseconds".to_owned(),
            })?;
            b = b.clock_skew(Duration::from_millis(ms));
        }
        Ok(b)
    }

    /// Validates and builds (§1.9 checks that do not depend on a request, decision 10), in this
    /// order:
    ///
    /// 1. the publishable key parses (required unless `accepts_token` is exactly `api_key` or
    ///    `m2m_token`) → [`ConfigError::MissingPublishableKey`] / `InvalidPublishableKey`;
    /// 2. unless `accepts_token` is exactly `m2m_token`, a secret key is set →
    ///    [`ConfigError::MissingSecretKey`];
    /// 3. a satellite (unless exactly `m2m_token`) with a development secret key has a sign-in
    ///    URL, and has `proxy_url` or `domain`; its sign-in URL, if set, is absolute;
    /// 4. with `accepts_token` exactly `m2m_token`, a machine secret key or a secret key is set;
    /// 5. the organization-sync patterns compile; the URLs (`api_url`, `proxy_url`) parse; the
    ///    PEM key parses.
    ///
    /// Then it builds the verifier: the custom key source if given, else the PEM key, else the
    /// key set fetched with the secret key, else a source that fails every token with
    /// `jwk-failed-to-resolve`.
    pub fn build(self) -> Result<Options, ConfigError> {
        let accepts = self.accepts_token.normalized();
        let m2m_only = accepts.is_exactly(TokenType::M2mToken);

        // 1. Publishable key.
        let publishable_key = match &self.publishable_key {
            Some(k) => Some(PublishableKey::parse(k)?),
            None if accepts.reads_only_headers() => None,
            None => return Err(ConfigError::MissingPublishableKey),
        };
        // 2. Secret key.
        if !m2m_only && self.secret_key.is_none() {
            return Err(ConfigError::MissingSecretKey);
        }
        // 3. Satellite.
        if !m2m_only && self.is_satellite {
            let dev_secret = self
                .secret_key
                .as_ref()
                .is_some_and(SecretKey::is_development);
            if dev_secret && self.sign_in_url.is_none() {
                return Err(ConfigError::SatelliteWithoutSignInUrl);
            }
            if self.proxy_url.is_none() && self.domain.is_none() {
                return Err(ConfigError::SatelliteWithoutDomainOrProxy);
            }
            if let Some(sign_in) = &self.sign_in_url {
                if Url::parse(sign_in).is_err() {
                    return Err(ConfigError::InvalidUrl {
                        name: "CLERK_SIGN_IN_URL",
                    });
                }
            }
        }
        // 4. Machine tokens only.
        if m2m_only && self.machine_secret_key.is_none() && self.secret_key.is_none() {
            return Err(ConfigError::MissingSecretKey);
        }
        // 5. Patterns, URLs, PEM.
        let organization_matcher = if self.organization_sync.is_empty() {
            None
        } else {
            Some(OrganizationMatcher::new(&self.organization_sync)?)
        };
        if !matches!(Url::parse(&self.api_url), Ok(u) if matches!(u.scheme(), "http" | "https")) {
            return Err(ConfigError::InvalidUrl {
                name: "CLERK_API_URL",
            });
        }
        if let Some(proxy) = &self.proxy_url {
            let absolute_ok =
                matches!(Url::parse(proxy), Ok(u) if matches!(u.scheme(), "http" | "https"));
            if !proxy.starts_with('/') && !absolute_ok {
                return Err(ConfigError::InvalidUrl {
                    name: "CLERK_PROXY_URL",
                });
            }
        }
        let fallback_base_url =
            Url::parse("http://localhost/").map_err(|_| ConfigError::InvalidUrl {
                name: "http://localhost/",
            })?;

        // §1.2 steps 6-7: the original Frontend API (satellite override, never the proxy).
        let original_frontend_api = publishable_key.as_ref().map(|pk| {
            match (&self.domain, pk.instance_type(), self.is_satellite) {
                (Some(domain), InstanceType::Production, true) => format!("clerk.{domain}"),
                _ => pk.frontend_api().to_owned(),
            }
        });

        let issuer = if self.verify_issuer {
            let fapi = original_frontend_api
                .as_ref()
                .ok_or(ConfigError::MissingPublishableKey)?;
            Some(format!("https://{fapi}"))
        } else {
            None
        };

        let diagnostics = Diagnostics::new();
        let source: Arc<dyn TokenVerifier> = if let Some(custom) = self.token_verifier {
            custom
        } else if let Some(pem) = &self.jwt_key {
            Arc::new(PemVerifier::from_pem(pem)?)
        } else if let Some(secret) = &self.secret_key {
            let mut config = self.jwks;
            config.api_url = self.api_url.clone();
            config.api_version = self.api_version.clone();
            config.secret_key = secret.expose_secret().to_owned();
            Arc::new(
                JwksVerifier::new(config)
                    .with_clock_offset(Arc::clone(diagnostics.backend_api_clock())),
            )
        } else {
            Arc::new(UnresolvedKeyVerifier)
        };
        let verify_options = VerifyOptions {
            authorized_parties: self.authorized_parties.clone(),
            audience: self.audience.clone(),
            clock_skew: self.clock_skew,
            header_type: None,
            issuer,
        };
        let mut verifier = Verifier::new(source, verify_options, Arc::clone(&self.clock));
        if self.verified_token_cache_capacity != DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY {
            verifier = verifier.with_cache_capacity(self.verified_token_cache_capacity);
        }

        let backend_api = match self.backend_api {
            Some(api) => Some(api),
            None if self.secret_key.is_none() && self.machine_secret_key.is_none() => None,
            None => {
                let mut api = HttpBackendApi::new(
                    &self.api_url,
                    &self.api_version,
                    self.secret_key
                        .as_ref()
                        .map_or("", SecretKey::expose_secret),
                    self.backend_api_timeout,
                );
                if let Some(machine) = &self.machine_secret_key {
                    api = api.with_machine_secret_key(machine.expose_secret());
                }
                api = api.with_clock_offset(Arc::clone(diagnostics.backend_api_clock()));
                Some(Arc::new(api) as Arc<dyn BackendApi>)
            }
        };
        let machine_token_cache = MachineTokenCache::new(
            self.machine_token_cache_ttl,
            self.machine_token_cache_capacity,
        );

        let organization_sync =
            (!self.organization_sync.is_empty()).then_some(self.organization_sync);
        Ok(Options {
            inner: Arc::new(Inner {
                secret_key: self.secret_key,
                publishable_key,
                jwt_key: self.jwt_key,
                machine_secret_key: self.machine_secret_key,
                api_url: self.api_url,
                api_version: self.api_version,
                authorized_parties: self.authorized_parties,
                audience: self.audience,
                clock_skew: self.clock_skew,
                verify_issuer: self.verify_issuer,
                domain: self.domain,
                is_satellite: self.is_satellite,
                proxy_url: self.proxy_url,
                sign_in_url: self.sign_in_url,
                sign_up_url: self.sign_up_url,
                after_sign_in_url: self.after_sign_in_url,
                after_sign_up_url: self.after_sign_up_url,
                accepts_token: accepts,
                organization_sync,
                organization_matcher,
                satellite_auto_sync: self.satellite_auto_sync,
                debug_headers: self.debug_headers,
                accept_pending_sessions: self.accept_pending_sessions,
                clock: self.clock,
                original_frontend_api,
                verifier,
                backend_api,
                machine_token_cache,
                backend_api_budget: crate::budget::Budget::new(self.backend_api_budget),
                fallback_base_url,
                diagnostics,
                deferred: crate::budget::DeferredBound::new(self.max_deferred_decisions),
                key_set_retry: KeySetRetry::default(),
            }),
        })
    }
}

fn parse_bool(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Invalid {
            name,
            detail: "expected true or false".to_owned(),
        }),
    }
}

/// The key source when neither a PEM key nor a secret key is configured (only possible with
/// `accepts_token = m2m_token` and a machine secret key): every session JWT fails with
/// `jwk-failed-to-resolve`.
#[derive(Debug)]
struct UnresolvedKeyVerifier;

impl TokenVerifier for UnresolvedKeyVerifier {
    fn key(&self, _jwt: &Jwt) -> Result<Arc<VerificationKey>, TokenVerificationError> {
        Err(TokenVerificationError::new(
            TokenVerificationErrorReason::JwkFailedToResolve,
            "Failed to resolve JWK during verification.",
        )
        .with_action(TokenVerificationErrorAction::SetClerkJwtKey))
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
