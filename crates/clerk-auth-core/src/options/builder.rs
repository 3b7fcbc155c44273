//! [`OptionsBuilder`]: the setters, each writing one field of the [`Config`], and
//! [`build`](OptionsBuilder::build), which validates the configuration and makes the runtime
//! objects of an [`Options`] from it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::bapi::{BackendApi, HttpBackendApi};
use crate::bound::DeferredBound;
use crate::budget::{BackendApiBudget, Budget};
use crate::clock::Clock;
use crate::diagnostics::Diagnostics;
use crate::error::{
    ConfigError, TokenVerificationError, TokenVerificationErrorAction, TokenVerificationErrorReason,
};
use crate::machine::MachineTokenCache;
use crate::org_sync::{OrganizationMatcher, OrganizationSyncOptions};
use crate::publishable_key::{InstanceType, PublishableKey};
use crate::token::auth::TokenType;
use crate::token::Jwt;
use crate::verify::jwks::{JwksVerifier, KeySetRetry, DEFAULT_API_URL, DEFAULT_API_VERSION};
use crate::verify::pipeline::{Verifier, VerifyOptions};
use crate::verify::PemVerifier;
use crate::verify::{TokenVerifier, VerificationKey};

use super::config::Config;
use super::{AcceptsToken, Inner, Options, SecretKey, DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY};

/// Builds [`Options`]. Every setter documents its default; [`build`](Self::build) validates.
#[derive(Clone, Default)]
#[must_use]
pub struct OptionsBuilder {
    pub(super) config: Config,
}

impl fmt::Debug for OptionsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        f.debug_struct("OptionsBuilder")
            .field("secret_key", &c.secret_key)
            .field("publishable_key", &c.publishable_key)
            .field("jwt_key", &c.jwt_key.as_ref().map(|_| "[pem]"))
            .field("machine_secret_key", &c.machine_secret_key)
            .field("api_url", &c.api_url)
            .field("accepts_token", &c.accepts_token)
            .field("is_satellite", &c.is_satellite)
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
        self.config.secret_key = non_empty(secret_key).map(SecretKey::new);
        self
    }

    /// The publishable key (`CLERK_PUBLISHABLE_KEY`). Required unless `accepts_token` is exactly
    /// `api_key` or `m2m_token`. No default. An empty string counts as unset.
    pub fn publishable_key(mut self, publishable_key: impl Into<String>) -> Self {
        self.config.publishable_key = non_empty(publishable_key);
        self
    }

    /// A PEM public key (`CLERK_JWT_KEY`) for networkless verification; takes precedence over
    /// the key set fetched with the secret key. No default (key set over HTTP).
    pub fn jwt_key(mut self, pem: impl Into<String>) -> Self {
        self.config.jwt_key = non_empty(pem);
        self
    }

    /// The machine secret key (`CLERK_MACHINE_SECRET_KEY`). No default.
    pub fn machine_secret_key(mut self, key: impl Into<String>) -> Self {
        self.config.machine_secret_key = non_empty(key).map(SecretKey::new);
        self
    }

    /// The Backend API base URL (`CLERK_API_URL`). Defaults to `https://api.clerk.com`.
    pub fn api_url(mut self, api_url: impl Into<String>) -> Self {
        self.config.api_url = non_empty(api_url).unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        self
    }

    /// The Backend API version segment (`CLERK_API_VERSION`). Defaults to `v1`.
    pub fn api_version(mut self, api_version: impl Into<String>) -> Self {
        self.config.api_version =
            non_empty(api_version).unwrap_or_else(|| DEFAULT_API_VERSION.to_owned());
        self
    }

    /// The `azp` allow-list (`CLERK_AUTHORIZED_PARTIES`), for example `["https://example.com"]`.
    /// Defaults to empty: `azp` is not checked. Setting it is recommended.
    pub fn authorized_parties<I, S>(mut self, parties: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.authorized_parties = parties
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
        self.config.audience = audience
            .into_iter()
            .map(Into::into)
            .filter(|s| !s.is_empty())
            .collect();
        self
    }

    /// Tolerance for `exp`, `nbf` and `iat` (`CLERK_CLOCK_SKEW_MS`). Defaults to 5 s.
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.config.clock_skew = skew;
        self
    }

    /// Pin `iss` to `https://<frontend API>` (decision 6; needs a publishable key). Defaults to
    /// `false`, as Clerk's SDK (which does not check the issuer).
    pub fn verify_issuer(mut self, verify: bool) -> Self {
        self.config.verify_issuer = verify;
        self
    }

    /// The satellite domain (`CLERK_DOMAIN`), for example `satellite.example.com`. No default.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.config.domain = non_empty(domain);
        self
    }

    /// Whether this app is a satellite (`CLERK_IS_SATELLITE`). Defaults to `false`. A satellite
    /// needs `domain` or `proxy_url`, and with a development secret key a `sign_in_url`.
    pub fn is_satellite(mut self, is_satellite: bool) -> Self {
        self.config.is_satellite = is_satellite;
        self
    }

    /// The proxy URL (`CLERK_PROXY_URL`): absolute (`https://app.example.com/__clerk`) or
    /// relative to each request's public origin (`/__clerk`). No default.
    pub fn proxy_url(mut self, proxy_url: impl Into<String>) -> Self {
        self.config.proxy_url = non_empty(proxy_url);
        self
    }

    /// The sign-in URL (`CLERK_SIGN_IN_URL`). No default.
    pub fn sign_in_url(mut self, url: impl Into<String>) -> Self {
        self.config.sign_in_url = non_empty(url);
        self
    }

    /// The sign-up URL (`CLERK_SIGN_UP_URL`). No default.
    pub fn sign_up_url(mut self, url: impl Into<String>) -> Self {
        self.config.sign_up_url = non_empty(url);
        self
    }

    /// The after-sign-in URL (echoed only). No default.
    pub fn after_sign_in_url(mut self, url: impl Into<String>) -> Self {
        self.config.after_sign_in_url = non_empty(url);
        self
    }

    /// The after-sign-up URL (echoed only). No default.
    pub fn after_sign_up_url(mut self, url: impl Into<String>) -> Self {
        self.config.after_sign_up_url = non_empty(url);
        self
    }

    /// Which token kinds are acceptable (`CLERK_ACCEPTS_TOKEN`). Defaults to
    /// [`AcceptsToken::SessionToken`].
    pub fn accepts_token(mut self, accepts: impl Into<AcceptsToken>) -> Self {
        self.config.accepts_token = accepts.into();
        self
    }

    /// Organization-sync patterns (`CLERK_ORGANIZATION_PATTERNS`,
    /// `CLERK_PERSONAL_ACCOUNT_PATTERNS`), compiled by [`build`](Self::build). Defaults to none.
    pub fn organization_sync(mut self, options: OrganizationSyncOptions) -> Self {
        self.config.organization_sync = options;
        self
    }

    /// Whether satellites sync even without Clerk cookies (`CLERK_SATELLITE_AUTO_SYNC`).
    /// Defaults to `false`.
    pub fn satellite_auto_sync(mut self, auto_sync: bool) -> Self {
        self.config.satellite_auto_sync = auto_sync;
        self
    }

    /// Whether states carry the `x-clerk-auth-status`/`-reason`/`-message` debug headers.
    /// Defaults to `true`, as Clerk's SDK.
    pub fn debug_headers(mut self, on: bool) -> Self {
        self.config.debug_headers = on;
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
        self.config.accept_pending_sessions = accept;
        self
    }

    /// The clock. Defaults to [`SystemClock`](crate::SystemClock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.config.clock = clock;
        self
    }

    /// A custom key source, used instead of `jwt_key` and the key set. Defaults to none: the PEM
    /// key if set, else the key set fetched with the secret key.
    pub fn token_verifier(mut self, verifier: Arc<dyn TokenVerifier>) -> Self {
        self.config.token_verifier = Some(verifier);
        self
    }

    /// A custom Backend API client for the handshake nonce, refresh and machine-token calls.
    /// Defaults to Clerk's Backend API at `api_url` with the secret key (and the machine secret
    /// key for M2M tokens).
    pub fn backend_api(mut self, api: Arc<dyn BackendApi>) -> Self {
        self.config.backend_api = Some(api);
        self
    }

    /// Timeout of one Backend API call made by the decision. Defaults to 3 s.
    pub fn backend_api_timeout(mut self, timeout: Duration) -> Self {
        self.config.backend_api_timeout = timeout;
        self
    }

    /// Key-set TTL (strict; hits never extend it). Defaults to 5 minutes.
    pub fn jwks_cache_ttl(mut self, ttl: Duration) -> Self {
        self.config.jwks.ttl = ttl;
        self
    }

    /// Minimum time between two key-set fetches caused by an unknown `kid`. Defaults to 10 s.
    pub fn jwks_kid_miss_cooldown(mut self, cooldown: Duration) -> Self {
        self.config.jwks.kid_miss_cooldown = cooldown;
        self
    }

    /// How long the last good keys keep serving while the key set cannot be fetched (network
    /// errors, 5xx). Defaults to 1 hour.
    pub fn jwks_stale_grace(mut self, grace: Duration) -> Self {
        self.config.jwks.stale_grace = grace;
        self
    }

    /// Timeout of one key-set HTTP attempt. Defaults to 1.5 s.
    pub fn jwks_timeout(mut self, timeout: Duration) -> Self {
        self.config.jwks.timeout = timeout;
        self
    }

    /// Attempts per key-set fetch (first included). Defaults to 3.
    pub fn jwks_max_attempts(mut self, attempts: u32) -> Self {
        self.config.jwks.max_attempts = attempts;
        self
    }

    /// Upper bound on one whole key-set fetch, retries included. Defaults to 3.5 s.
    pub fn jwks_fetch_budget(mut self, budget: Duration) -> Self {
        self.config.jwks.fetch_budget = budget;
        self
    }

    /// Capacity of the verified-token cache; 0 turns it off. Defaults to 4 096
    /// ([`DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY`]: about 3.1 KB per cached session token, so about
    /// 12 MiB when full).
    pub fn verified_token_cache_capacity(mut self, capacity: u64) -> Self {
        self.config.verified_token_cache_capacity = capacity;
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
        self.config.machine_token_cache_ttl = ttl;
        self
    }

    /// Capacity of the opaque machine-token answer cache; 0 turns it off. Defaults to 10 000.
    pub fn machine_token_cache_capacity(mut self, capacity: u64) -> Self {
        self.config.machine_token_cache_capacity = capacity;
        self
    }

    /// How many decisions of this instance may wait on the blocking pool at once (decisions
    /// that need network IO: a key fetch, a handshake nonce, a refresh, an opaque machine token;
    /// see [`Deferred`](crate::Deferred)). Over it, a request is not deferred: it is answered
    /// signed out with reason `backend-api-budget-exhausted`, `503` and `Retry-After: 1` on a
    /// protected route, so that a slow Backend API cannot fill a blocking pool the application
    /// shares. Defaults to 64; at least 1.
    pub fn max_deferred_decisions(mut self, max: usize) -> Self {
        self.config.max_deferred_decisions = max.max(1);
        self
    }

    /// The Backend API budget (decision 13): how many Backend API calls values chosen by clients
    /// (handshake nonces, opaque machine tokens) may cause. Defaults to
    /// [`BackendApiBudget::default()`](crate::BackendApiBudget): one call in flight per value, a
    /// 10 s negative cache, and for values never seen before at most 8 calls in flight and 20
    /// per second with a burst of 40.
    pub fn backend_api_budget(mut self, budget: BackendApiBudget) -> Self {
        self.config.backend_api_budget = budget;
        self
    }
}

impl OptionsBuilder {
    /// Validates and builds (every check that does not depend on a request), in this order:
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
        let mut config = self.config;
        config.accepts_token = std::mem::take(&mut config.accepts_token).normalized();

        // 1. Publishable key (parsed; whether one is required is checked with the others).
        let publishable_key = match &config.publishable_key {
            Some(k) => Some(PublishableKey::parse(k)?),
            None => None,
        };
        // 1-4. The keys and the satellite settings `accepts_token` needs.
        check_accepts(&config, &config.accepts_token)?;
        // 5. Authorized parties (decision 17), patterns, URLs, PEM.
        if let Some(party) = config
            .authorized_parties
            .iter()
            .find(|party| !is_origin(party))
        {
            return Err(ConfigError::Invalid {
                name: "CLERK_AUTHORIZED_PARTIES",
                detail: format!(
                    "\"{}\" is not an origin (scheme://host[:port], without a path or a trailing \
                     slash), so it can never equal a token's azp",
                    crate::trace::short(party)
                ),
            });
        }
        let organization_matcher = if config.organization_sync.is_empty() {
            None
        } else {
            Some(OrganizationMatcher::new(&config.organization_sync)?)
        };
        if !matches!(Url::parse(&config.api_url), Ok(u) if matches!(u.scheme(), "http" | "https")) {
            return Err(ConfigError::InvalidUrl {
                name: "CLERK_API_URL",
            });
        }
        if let Some(proxy) = &config.proxy_url {
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
            match (&config.domain, pk.instance_type(), config.is_satellite) {
                (Some(domain), InstanceType::Production, true) => format!("clerk.{domain}"),
                _ => pk.frontend_api().to_owned(),
            }
        });

        let diagnostics = Diagnostics::new();
        let verifier = session_verifier(&config, original_frontend_api.as_deref(), &diagnostics)?;
        let backend_api = backend_api(&config, &diagnostics);
        let machine_token_cache = MachineTokenCache::new(
            config.machine_token_cache_ttl,
            config.machine_token_cache_capacity,
        );
        let backend_api_budget = Budget::new(config.backend_api_budget.clone());
        let deferred = DeferredBound::new(config.max_deferred_decisions);

        Ok(Options {
            inner: Arc::new(Inner {
                config,
                publishable_key,
                organization_matcher,
                original_frontend_api,
                verifier,
                backend_api,
                machine_token_cache,
                backend_api_budget,
                fallback_base_url,
                diagnostics,
                deferred,
                key_set_retry: KeySetRetry::default(),
            }),
            route: None,
        })
    }
}

/// Build steps 1-4 for `accepts` (the instance's `accepts_token`, or a route's, see
/// [`Options::with_accepts_token`]): the publishable key is set unless `accepts` is exactly
/// `api_key` or `m2m_token`; unless it is exactly `m2m_token`, a secret key is set and a
/// satellite is complete; exactly `m2m_token` needs a machine secret key or a secret key.
pub(super) fn check_accepts(config: &Config, accepts: &AcceptsToken) -> Result<(), ConfigError> {
    let m2m_only = accepts.is_exactly(TokenType::M2mToken);
    // 1. Publishable key.
    if config.publishable_key.is_none() && !accepts.reads_only_headers() {
        return Err(ConfigError::MissingPublishableKey);
    }
    // 2. Secret key (decision 17: a publishable key pasted in its place is refused).
    if !m2m_only && config.secret_key.is_none() {
        return Err(ConfigError::MissingSecretKey);
    }
    if config
        .secret_key
        .as_ref()
        .is_some_and(|k| k.expose_secret().starts_with("pk_"))
    {
        return Err(ConfigError::Invalid {
            name: "CLERK_SECRET_KEY",
            detail: "this is a publishable key (pk_…); the secret key starts with sk_live_ or sk_test_ (API keys page of the Clerk dashboard)"
                .to_owned(),
        });
    }
    // 3. Satellite.
    if !m2m_only && config.is_satellite {
        let dev_secret = config
            .secret_key
            .as_ref()
            .is_some_and(SecretKey::is_development);
        if dev_secret && config.sign_in_url.is_none() {
            return Err(ConfigError::SatelliteWithoutSignInUrl);
        }
        if config.proxy_url.is_none() && config.domain.is_none() {
            return Err(ConfigError::SatelliteWithoutDomainOrProxy);
        }
        if let Some(sign_in) = &config.sign_in_url {
            if Url::parse(sign_in).is_err() {
                return Err(ConfigError::InvalidUrl {
                    name: "CLERK_SIGN_IN_URL",
                });
            }
        }
    }
    // 4. Machine tokens only.
    if m2m_only && config.machine_secret_key.is_none() && config.secret_key.is_none() {
        return Err(ConfigError::MissingSecretKey);
    }
    Ok(())
}

/// The session-token verifier of a validated `config`: its key source (the custom one, else the
/// PEM key, else the key set fetched with the secret key, else [`UnresolvedKeyVerifier`]), the
/// claim checks (the issuer pinned to `https://<original_frontend_api>` with `verify_issuer`),
/// and the verified-token cache.
fn session_verifier(
    config: &Config,
    original_frontend_api: Option<&str>,
    diagnostics: &Diagnostics,
) -> Result<Verifier, ConfigError> {
    let issuer = if config.verify_issuer {
        let fapi = original_frontend_api.ok_or(ConfigError::MissingPublishableKey)?;
        Some(format!("https://{fapi}"))
    } else {
        None
    };

    let source: Arc<dyn TokenVerifier> = if let Some(custom) = &config.token_verifier {
        Arc::clone(custom)
    } else if let Some(pem) = &config.jwt_key {
        Arc::new(PemVerifier::from_pem(pem).map_err(ConfigError::from_jwt_key)?)
    } else if let Some(secret) = &config.secret_key {
        let mut jwks = config.jwks.clone();
        jwks.api_url = config.api_url.clone();
        jwks.api_version = config.api_version.clone();
        jwks.secret_key = secret.expose_secret().to_owned();
        Arc::new(
            JwksVerifier::new(jwks).with_clock_offset(Arc::clone(diagnostics.backend_api_clock())),
        )
    } else {
        Arc::new(UnresolvedKeyVerifier)
    };
    let verify_options = VerifyOptions {
        authorized_parties: config.authorized_parties.clone(),
        audience: config.audience.clone(),
        clock_skew: config.clock_skew,
        header_type: None,
        issuer,
    };
    let mut verifier = Verifier::new(source, verify_options, Arc::clone(&config.clock));
    if config.verified_token_cache_capacity != DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY {
        verifier = verifier.with_cache_capacity(config.verified_token_cache_capacity);
    }
    Ok(verifier)
}

/// The Backend API client of `config`: the custom one if given, else Clerk's Backend API with the
/// secret key and the machine secret key; `None` without either key.
fn backend_api(config: &Config, diagnostics: &Diagnostics) -> Option<Arc<dyn BackendApi>> {
    if let Some(api) = &config.backend_api {
        return Some(Arc::clone(api));
    }
    if config.secret_key.is_none() && config.machine_secret_key.is_none() {
        return None;
    }
    let mut api = HttpBackendApi::new(
        &config.api_url,
        &config.api_version,
        config
            .secret_key
            .as_ref()
            .map_or("", SecretKey::expose_secret),
        config.backend_api_timeout,
    );
    if let Some(machine) = &config.machine_secret_key {
        api = api.with_machine_secret_key(machine.expose_secret());
    }
    api = api.with_clock_offset(Arc::clone(diagnostics.backend_api_clock()));
    Some(Arc::new(api))
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

/// Whether `party` is written as an origin, `scheme://host[:port]`, as a token's `azp` is: a
/// scheme, `://`, and a host with no path, query, fragment or white space after it.
fn is_origin(party: &str) -> bool {
    let Some((scheme, host)) = party.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    scheme_ok
        && !host.is_empty()
        && !host.contains(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
}
