//! [`SecretKey`]: a secret (the Backend API secret key, the machine secret key) that never prints.

use std::fmt;

use crate::publishable_key::is_development_from_secret_key;

/// A secret (the Backend API secret key, the machine secret key). `Debug` and `Display` print
/// `[redacted]`; read it with [`expose_secret`](Self::expose_secret).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Box<str>);

impl SecretKey {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into().into_boxed_str())
    }

    /// The secret itself. Never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether it is a development key (`sk_test_` or `test_` prefix).
    pub fn is_development(&self) -> bool {
        is_development_from_secret_key(&self.0)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for SecretKey {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl From<&str> for SecretKey {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}
