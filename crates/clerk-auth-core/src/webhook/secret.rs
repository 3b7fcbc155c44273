//! The signing key: the `whsec_` secret decoded into an HMAC-SHA256 key, and the signature it
//! gives a message. Never printed.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;

use crate::error::ConfigError;

/// The prefix of Clerk's (Svix's) signing secrets, removed before decoding when present.
pub(crate) const SECRET_PREFIX: &str = "whsec_";

/// The HMAC-SHA256 key of a webhook endpoint. `Debug` shows `[redacted]`.
pub(crate) struct SigningKey {
    key: PKey<Private>,
}

impl SigningKey {
    /// Decodes a signing secret: `whsec_` (optional) then standard base64 with padding.
    ///
    /// An empty secret, one that does not decode, or one that decodes to no bytes is
    /// [`ConfigError::InvalidWebhookSecret`]; the secret is never part of the error.
    pub(crate) fn decode(secret: &str) -> Result<Self, ConfigError> {
        let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
        let bytes = STANDARD.decode(encoded).map_err(|_| {
            ConfigError::InvalidWebhookSecret("not standard base64 after the whsec_ prefix")
        })?;
        if bytes.is_empty() {
            return Err(ConfigError::InvalidWebhookSecret("the secret is empty"));
        }
        let key = PKey::hmac(&bytes)
            .map_err(|_| ConfigError::InvalidWebhookSecret("not usable as an HMAC key"))?;
        Ok(Self { key })
    }

    /// Standard base64 of HMAC-SHA256 over the concatenation of `parts`; `None` if the crypto
    /// library fails (it does not for a valid key).
    pub(crate) fn sign(&self, parts: &[&[u8]]) -> Option<String> {
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key).ok()?;
        for part in parts {
            signer.update(part).ok()?;
        }
        let mac = signer.sign_to_vec().ok()?;
        Some(STANDARD.encode(mac))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Whether `a` and `b` are equal, in time that depends only on their lengths (lengths are not
/// secret: every v1 signature is 44 characters).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a, b)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_optional() {
        let with = SigningKey::decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let without = SigningKey::decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(with.sign(&[b"a.1.b"]), without.sign(&[b"a.1.b"]));
    }

    #[test]
    fn parts_are_concatenated() {
        let key = SigningKey::decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(key.sign(&[b"a.", b"1", b".b"]), key.sign(&[b"a.1.b"]));
        assert_ne!(key.sign(&[b"a.1.b"]), key.sign(&[b"a.1.c"]));
    }

    #[test]
    fn undecodable_secrets_are_refused_without_echo() {
        for secret in [
            "whsec_!!!!",
            "whsec_",
            "",
            "whsec_abc",
            "whsec_ MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ] {
            let err = SigningKey::decode(secret).unwrap_err();
            assert!(
                matches!(err, ConfigError::InvalidWebhookSecret(_)),
                "{secret}"
            );
            let text = err.to_string();
            assert!(text.contains("CLERK_WEBHOOK_SIGNING_SECRET"), "{text}");
            assert!(secret.len() < 8 || !text.contains(secret), "{text}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        let key = SigningKey::decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(format!("{key:?}"), "[redacted]");
    }

    #[test]
    fn comparison_needs_equal_lengths_and_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
