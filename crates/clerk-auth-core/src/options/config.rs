//! [`Config`]: every user-settable option, declared once and defaulted once.
//!
//! The [builder](super::OptionsBuilder)'s setters write into a `Config`;
//! [`build`](super::OptionsBuilder::build) validates it and keeps it in the built
//! [`Options`](super::Options), next to the runtime objects made from it (verifier, caches,
//! budget, diagnostics).

use std::sync::Arc;
use std::time::Duration;

use crate::bapi::BackendApi;
use crate::bound::DEFAULT_MAX_DEFERRED_DECISIONS;
use crate::budget::BackendApiBudget;
use crate::clock::{Clock, SystemClock};
use crate::machine::{DEFAULT_MACHINE_TOKEN_CACHE_CAPACITY, DEFAULT_MACHINE_TOKEN_CACHE_TTL};
use crate::org_sync::OrganizationSyncOptions;
use crate::verify::jwks::{JwksConfig, DEFAULT_API_URL, DEFAULT_API_VERSION};
use crate::verify::pipeline::DEFAULT_CLOCK_SKEW;
use crate::verify::TokenVerifier;

use super::{
    AcceptsToken, SecretKey, DEFAULT_BACKEND_API_TIMEOUT, DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY,
};

/// The options as set, before validation. The setters of
/// [`OptionsBuilder`](super::OptionsBuilder) document each one.
#[derive(Clone)]
pub(super) struct Config {
    /// Backend API secret key (`CLERK_SECRET_KEY`).
    pub(super) secret_key: Option<SecretKey>,
    /// Publishable key as given (`CLERK_PUBLISHABLE_KEY`), parsed by `build`.
    pub(super) publishable_key: Option<String>,
    /// PEM public key (`CLERK_JWT_KEY`).
    pub(super) jwt_key: Option<String>,
    /// Machine secret key (`CLERK_MACHINE_SECRET_KEY`).
    pub(super) machine_secret_key: Option<SecretKey>,
    /// Backend API base URL (`CLERK_API_URL`).
    pub(super) api_url: String,
    /// Backend API version segment (`CLERK_API_VERSION`).
    pub(super) api_version: String,
    /// `azp` allow-list (`CLERK_AUTHORIZED_PARTIES`).
    pub(super) authorized_parties: Vec<String>,
    /// Accepted audiences (`CLERK_AUDIENCE`).
    pub(super) audience: Vec<String>,
    /// Tolerance for `exp`, `nbf`, `iat` (`CLERK_CLOCK_SKEW_MS`).
    pub(super) clock_skew: Duration,
    /// Whether `iss` is pinned to the Frontend API.
    pub(super) verify_issuer: bool,
    /// Satellite domain (`CLERK_DOMAIN`).
    pub(super) domain: Option<String>,
    /// Whether this app is a satellite (`CLERK_IS_SATELLITE`).
    pub(super) is_satellite: bool,
    /// Proxy URL, absolute or relative (`CLERK_PROXY_URL`).
    pub(super) proxy_url: Option<String>,
    /// Sign-in URL (`CLERK_SIGN_IN_URL`).
    pub(super) sign_in_url: Option<String>,
    /// Sign-up URL (`CLERK_SIGN_UP_URL`).
    pub(super) sign_up_url: Option<String>,
    /// After-sign-in URL (echoed only).
    pub(super) after_sign_in_url: Option<String>,
    /// After-sign-up URL (echoed only).
    pub(super) after_sign_up_url: Option<String>,
    /// Acceptable token kinds (`CLERK_ACCEPTS_TOKEN`); normalized by `build`.
    pub(super) accepts_token: AcceptsToken,
    /// Organization-sync patterns (`CLERK_ORGANIZATION_PATTERNS`,
    /// `CLERK_PERSONAL_ACCOUNT_PATTERNS`); empty: not configured.
    pub(super) organization_sync: OrganizationSyncOptions,
    /// Whether satellites sync without Clerk cookies (`CLERK_SATELLITE_AUTO_SYNC`).
    pub(super) satellite_auto_sync: bool,
    /// Whether states carry the `x-clerk-auth-*` debug headers.
    pub(super) debug_headers: bool,
    /// Whether a pending session counts as signed in.
    pub(super) accept_pending_sessions: bool,
    /// The clock.
    pub(super) clock: Arc<dyn Clock>,
    /// Custom key source, used instead of the PEM key and the key set.
    pub(super) token_verifier: Option<Arc<dyn TokenVerifier>>,
    /// Custom Backend API client.
    pub(super) backend_api: Option<Arc<dyn BackendApi>>,
    /// Timeout of one Backend API call made by the decision.
    pub(super) backend_api_timeout: Duration,
    /// Key-set fetching and caching (its URL and secret are filled in by `build`).
    pub(super) jwks: JwksConfig,
    /// Capacity of the verified-token cache.
    pub(super) verified_token_cache_capacity: u64,
    /// TTL of the opaque machine-token answer cache.
    pub(super) machine_token_cache_ttl: Duration,
    /// Capacity of the opaque machine-token answer cache.
    pub(super) machine_token_cache_capacity: u64,
    /// Bound on decisions waiting on the blocking pool (at least 1).
    pub(super) max_deferred_decisions: usize,
    /// The Backend API budget (decision 13).
    pub(super) backend_api_budget: BackendApiBudget,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            // Keys: none.
            secret_key: None,
            publishable_key: None,
            jwt_key: None,
            machine_secret_key: None,
            // `https://api.clerk.com`, `v1`.
            api_url: DEFAULT_API_URL.to_owned(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            // Not enforced.
            authorized_parties: Vec::new(),
            audience: Vec::new(),
            // 5 s.
            clock_skew: DEFAULT_CLOCK_SKEW,
            // As Clerk's SDK: the issuer is not checked.
            verify_issuer: false,
            // Not a satellite, no proxy, no URLs.
            domain: None,
            is_satellite: false,
            proxy_url: None,
            sign_in_url: None,
            sign_up_url: None,
            after_sign_in_url: None,
            after_sign_up_url: None,
            // Session tokens only.
            accepts_token: AcceptsToken::SessionToken,
            // No patterns.
            organization_sync: OrganizationSyncOptions::default(),
            satellite_auto_sync: false,
            // On, as Clerk's SDK.
            debug_headers: true,
            // As Clerk's `treatPendingAsSignedOut` (decision 16).
            accept_pending_sessions: false,
            clock: Arc::new(SystemClock),
            // The PEM key if set, else the key set fetched with the secret key.
            token_verifier: None,
            // Clerk's Backend API at `api_url` with the secret key(s).
            backend_api: None,
            // 3 s.
            backend_api_timeout: DEFAULT_BACKEND_API_TIMEOUT,
            // 5 min TTL, 10 s kid-miss cooldown, 1 h stale grace, 1.5 s × 3 attempts, 3.5 s budget.
            jwks: JwksConfig::new(String::new()),
            // 4 096 tokens.
            verified_token_cache_capacity: DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY,
            // 5 s, 10 000 answers.
            machine_token_cache_ttl: DEFAULT_MACHINE_TOKEN_CACHE_TTL,
            machine_token_cache_capacity: DEFAULT_MACHINE_TOKEN_CACHE_CAPACITY,
            // 64.
            max_deferred_decisions: DEFAULT_MAX_DEFERRED_DECISIONS,
            // See `BackendApiBudget::default`.
            backend_api_budget: BackendApiBudget::default(),
        }
    }
}
