//! The environment loader: [`Options::from_env`] and [`OptionsBuilder::from_env`], reading
//! Clerk's standard environment variables ([`ENV_VARS`]).

use std::time::Duration;

use crate::error::ConfigError;
use crate::org_sync::OrganizationSyncOptions;

use super::{AcceptsToken, Options, OptionsBuilder};

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

impl Options {
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
}

impl OptionsBuilder {
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
