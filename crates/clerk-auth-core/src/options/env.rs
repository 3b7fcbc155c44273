//! The environment loader: one table of Clerk's environment variables, each row a name and how
//! its value applies to the builder. Loading walks the table; [`ENV_VARS`] is derived from it, so
//! a variable is named once.

use std::time::Duration;

use crate::error::ConfigError;

use super::{AcceptsToken, Options, OptionsBuilder};

/// How one variable's value (set and not empty) applies to the builder; `name` is the variable's,
/// for error messages.
type Apply =
    fn(b: OptionsBuilder, name: &'static str, value: &str) -> Result<OptionsBuilder, ConfigError>;

/// One row of [`TABLE`].
struct EnvVar {
    /// The variable's name.
    name: &'static str,
    /// How its value applies to the builder.
    apply: Apply,
}

/// A row of [`TABLE`].
const fn row(name: &'static str, apply: Apply) -> EnvVar {
    EnvVar { name, apply }
}

/// Every variable, in the order they are read (an error reports the first invalid one).
const TABLE: &[EnvVar] = &[
    row("CLERK_SECRET_KEY", |b, _, v| Ok(b.secret_key(v))),
    row("CLERK_PUBLISHABLE_KEY", |b, _, v| Ok(b.publishable_key(v))),
    row("CLERK_JWT_KEY", |b, _, v| Ok(b.jwt_key(v))),
    row("CLERK_MACHINE_SECRET_KEY", |b, _, v| {
        Ok(b.machine_secret_key(v))
    }),
    row("CLERK_API_URL", |b, _, v| Ok(b.api_url(v))),
    row("CLERK_API_VERSION", |b, _, v| Ok(b.api_version(v))),
    row("CLERK_AUTHORIZED_PARTIES", |b, _, v| {
        Ok(b.authorized_parties(list(v)))
    }),
    row("CLERK_AUDIENCE", |b, _, v| Ok(b.audience(list(v)))),
    row("CLERK_DOMAIN", |b, _, v| Ok(b.domain(v))),
    row("CLERK_IS_SATELLITE", |b, n, v| {
        Ok(b.is_satellite(parse_bool(n, v)?))
    }),
    row("CLERK_PROXY_URL", |b, _, v| Ok(b.proxy_url(v))),
    row("CLERK_SATELLITE_AUTO_SYNC", |b, n, v| {
        Ok(b.satellite_auto_sync(parse_bool(n, v)?))
    }),
    row("CLERK_SIGN_IN_URL", |b, _, v| Ok(b.sign_in_url(v))),
    row("CLERK_SIGN_UP_URL", |b, _, v| Ok(b.sign_up_url(v))),
    row("CLERK_ACCEPTS_TOKEN", |b, _, v| {
        Ok(b.accepts_token(AcceptsToken::parse(v)?))
    }),
    row("CLERK_ORGANIZATION_PATTERNS", |mut b, _, v| {
        b.config.organization_sync.organization_patterns = list(v);
        Ok(b)
    }),
    row("CLERK_PERSONAL_ACCOUNT_PATTERNS", |mut b, _, v| {
        b.config.organization_sync.personal_account_patterns = list(v);
        Ok(b)
    }),
    row("CLERK_CLOCK_SKEW_MS", |b, n, v| {
        Ok(b.clock_skew(parse_millis(n, v)?))
    }),
];

/// Every environment variable [`Options::from_env`] reads.
pub const ENV_VARS: [&str; TABLE.len()] = names();

/// The names of [`TABLE`], in order.
const fn names<const N: usize>() -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = TABLE[i].name;
        i += 1;
    }
    out
}

/// Whether no name appears twice in `names`.
const fn distinct(names: &[&str]) -> bool {
    let mut i = 0;
    while i < names.len() {
        let mut j = i + 1;
        while j < names.len() {
            if same(names[i], names[j]) {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

/// Whether `a` and `b` are the same text (`==` is not `const`).
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const _: () = assert!(
    distinct(&ENV_VARS),
    "an environment variable is named twice"
);

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
        let mut b = Self::default();
        for var in TABLE {
            if let Some(v) = lookup(var.name).filter(|v| !v.is_empty()) {
                b = (var.apply)(b, var.name, &v)?;
            }
        }
        Ok(b)
    }
}

/// A comma-separated list: items trimmed, empty items dropped.
fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
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

/// A whole number of milliseconds.
fn parse_millis(name: &'static str, value: &str) -> Result<Duration, ConfigError> {
    let ms: u64 = value.trim().parse().map_err(|_| ConfigError::Invalid {
        name,
        detail: "expected a whole number of milliseconds".to_owned(),
    })?;
    Ok(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_vars_are_the_table_in_order() {
        assert_eq!(
            ENV_VARS,
            [
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
            ]
        );
        assert!(distinct(&ENV_VARS));
        assert!(!distinct(&[
            "CLERK_DOMAIN",
            "CLERK_AUDIENCE",
            "CLERK_DOMAIN"
        ]));
    }

    #[test]
    fn lookup_is_called_once_per_variable_in_table_order() {
        let seen = std::cell::RefCell::new(Vec::new());
        let b = OptionsBuilder::from_env_with(|name| {
            seen.borrow_mut().push(name.to_owned());
            None
        });
        assert!(b.is_ok());
        assert_eq!(*seen.borrow(), ENV_VARS);
    }

    #[test]
    fn the_first_invalid_variable_in_table_order_is_reported() {
        let err = OptionsBuilder::from_env_with(|name| match name {
            "CLERK_IS_SATELLITE" | "CLERK_CLOCK_SKEW_MS" => Some("bad".to_owned()),
            _ => None,
        })
        .err();
        assert!(matches!(
            err,
            Some(ConfigError::Invalid {
                name: "CLERK_IS_SATELLITE",
                ..
            })
        ));
    }
}
