//! Publishable keys, the cookie suffix derived from them and secret-key helpers.
//!
//! A publishable key such as `pk_test_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA` names the
//! instance's Frontend API host (`clerk.inspired.puma-74.lcl.dev`) and its type (`pk_test_` is a
//! development instance, `pk_live_` a production one). It is not a secret.

use std::fmt;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use sha1::{Digest, Sha1};

use crate::error::ConfigError;

/// Prefix of a production publishable key.
pub const PUBLISHABLE_KEY_LIVE_PREFIX: &str = "pk_live_";
/// Prefix of a development publishable key.
pub const PUBLISHABLE_KEY_TEST_PREFIX: &str = "pk_test_";

/// Standard base64 without padding (padding is removed beforehand, as `atob` does), trailing bits
/// ignored (`atob` discards them).
const ATOB: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// Whether a Clerk instance is a development or a production instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InstanceType {
    /// A development instance (`pk_test_` / `sk_test_` keys).
    Development,
    /// A production instance (`pk_live_` / `sk_live_` keys).
    Production,
}

impl InstanceType {
    /// Clerk's name: `development` or `production`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Production => "production",
        }
    }

    /// Whether this is [`Production`](Self::Production).
    pub const fn is_production(self) -> bool {
        matches!(self, Self::Production)
    }

    /// Whether this is [`Development`](Self::Development).
    pub const fn is_development(self) -> bool {
        matches!(self, Self::Development)
    }
}

impl fmt::Display for InstanceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed publishable key: the key as configured, its Frontend API host, its instance
/// type and its cookie suffix.
#[derive(Clone, PartialEq, Eq)]
pub struct PublishableKey {
    raw: Box<str>,
    frontend_api: Box<str>,
    instance_type: InstanceType,
    cookie_suffix: Box<str>,
}

impl PublishableKey {
    /// Parses a publishable key exactly as Clerk's `parsePublishableKey` (with `fatal: true`) does:
    ///
    /// 1. it starts with `pk_live_` or `pk_test_` and splitting it on `_` gives exactly three parts,
    ///    the third non-empty;
    /// 2. the third part is standard base64 (`atob` semantics: ASCII whitespace ignored, padding
    ///    optional but correct when present, `-`/`_` rejected), decoded as Latin-1;
    /// 3. the decoded text ends with `$`, has no other `$`, and contains a `.`.
    ///
    /// An empty key is [`ConfigError::MissingPublishableKey`]; any other failure is
    /// [`ConfigError::InvalidPublishableKey`] (the key itself is never echoed).
    pub fn parse(key: &str) -> Result<Self, ConfigError> {
        if key.is_empty() {
            return Err(ConfigError::MissingPublishableKey);
        }
        let instance_type = if key.starts_with(PUBLISHABLE_KEY_LIVE_PREFIX) {
            InstanceType::Production
        } else if key.starts_with(PUBLISHABLE_KEY_TEST_PREFIX) {
            InstanceType::Development
        } else {
            return Err(ConfigError::InvalidPublishableKey(
                "it must start with pk_live_ or pk_test_",
            ));
        };
        let mut parts = key.split('_');
        let (Some(_), Some(_), Some(encoded), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ConfigError::InvalidPublishableKey(
                "it is not a whole publishable key: pk_live_ or pk_test_ and one encoded part",
            ));
        };
        if encoded.is_empty() {
            return Err(ConfigError::InvalidPublishableKey(
                "its encoded part is missing",
            ));
        }
        let decoded = atob(encoded).ok_or(ConfigError::InvalidPublishableKey(
            "its encoded part does not decode",
        ))?;
        let Some(host) = decoded.strip_suffix('$') else {
            return Err(ConfigError::InvalidPublishableKey(
                "its encoded part does not decode to a Clerk Frontend API host",
            ));
        };
        if host.contains('$') {
            return Err(ConfigError::InvalidPublishableKey(
                "its encoded part does not decode to a Clerk Frontend API host",
            ));
        }
        if !host.contains('.') {
            return Err(ConfigError::InvalidPublishableKey(
                "its encoded part does not decode to a Clerk Frontend API host",
            ));
        }
        Ok(Self {
            raw: key.into(),
            frontend_api: host.into(),
            instance_type,
            cookie_suffix: get_cookie_suffix(key).into(),
        })
    }

    /// The key exactly as configured.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The Frontend API host decoded from the key (for example `clerk.example.com`), before any
    /// proxy or satellite override.
    pub fn frontend_api(&self) -> &str {
        &self.frontend_api
    }

    /// The instance type: [`Production`](InstanceType::Production) for `pk_live_` keys,
    /// [`Development`](InstanceType::Development) for `pk_test_` keys.
    pub fn instance_type(&self) -> InstanceType {
        self.instance_type
    }

    /// The cookie suffix, 8 characters, for example `QvfNY2dr`.
    pub fn cookie_suffix(&self) -> &str {
        &self.cookie_suffix
    }

    /// `name` + `_` + the cookie suffix, for example `__session_QvfNY2dr`.
    pub fn suffixed_cookie_name(&self, name: &str) -> String {
        get_suffixed_cookie_name(name, &self.cookie_suffix)
    }
}

impl fmt::Debug for PublishableKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishableKey")
            .field("key", &self.raw)
            .field("frontend_api", &self.frontend_api)
            .field("instance_type", &self.instance_type)
            .field("cookie_suffix", &self.cookie_suffix)
            .finish()
    }
}

impl fmt::Display for PublishableKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl std::str::FromStr for PublishableKey {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Whether `key` is a well-formed publishable key (Clerk's `isPublishableKey`, with the stricter
/// shape rules of [`PublishableKey::parse`]).
pub fn is_publishable_key(key: &str) -> bool {
    PublishableKey::parse(key).is_ok()
}

/// The cookie suffix of a publishable key (Clerk's `getCookieSuffix`):
/// `base64(SHA-1(key))` (standard alphabet, padded) with `+` → `-` and `/` → `_`, first 8
/// characters. The input is the whole key string as configured.
pub fn get_cookie_suffix(publishable_key: &str) -> String {
    let digest = Sha1::digest(publishable_key.as_bytes());
    STANDARD
        .encode(digest)
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .take(8)
        .collect()
}

/// `name` + `_` + `suffix` (Clerk's `getSuffixedCookieName`).
pub fn get_suffixed_cookie_name(name: &str, suffix: &str) -> String {
    let mut out = String::with_capacity(name.len() + 1 + suffix.len());
    out.push_str(name);
    out.push('_');
    out.push_str(suffix);
    out
}

/// Whether a secret key belongs to a development instance (Clerk's
/// `isDevelopmentFromSecretKey`): it starts with `sk_test_` or `test_`.
pub fn is_development_from_secret_key(secret_key: &str) -> bool {
    secret_key.starts_with("sk_test_") || secret_key.starts_with("test_")
}

/// WHATWG forgiving-base64 decode (`atob`), result as a Latin-1 string. `None` on failure.
fn atob(input: &str) -> Option<String> {
    let mut data: Vec<u8> = input
        .bytes()
        .filter(|b| !matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' '))
        .collect();
    if data.len().is_multiple_of(4) {
        for _ in 0..2 {
            if data.last() == Some(&b'=') {
                data.pop();
            }
        }
    }
    if data.len() % 4 == 1 {
        return None;
    }
    let bytes = ATOB.decode(&data).ok()?;
    Some(bytes.into_iter().map(char::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atob_padding_rules() {
        assert_eq!(atob("YQ==").as_deref(), Some("a"));
        assert_eq!(atob("YQ").as_deref(), Some("a"));
        assert_eq!(atob("YQ="), None);
        assert_eq!(atob("YWI=").as_deref(), Some("ab"));
        assert_eq!(atob("Y Q =\n=").as_deref(), Some("a"));
        assert_eq!(atob("Y"), None);
        assert_eq!(atob("YQ-_"), None);
        // Trailing bits are discarded, as atob does.
        assert_eq!(atob("YR").as_deref(), Some("a"));
        assert_eq!(atob("").as_deref(), Some(""));
    }
}
