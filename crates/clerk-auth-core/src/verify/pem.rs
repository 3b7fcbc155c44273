//! Networkless verification with a PEM public key (`CLERK_JWT_KEY`).

use std::sync::Arc;

use crate::error::TokenVerificationError;
use crate::token::Jwt;

use super::{KeyError, TokenVerifier, VerificationKey};

/// A [`TokenVerifier`] holding one PEM-derived key (`RS256`).
///
/// As in Clerk's SDK, the token's `kid` is not looked at: every token is checked against this key.
/// The key is parsed once, when the verifier is built.
#[derive(Clone, Debug)]
pub struct PemVerifier {
    key: Arc<VerificationKey>,
}

impl PemVerifier {
    /// Parses `pem` (SPKI or PKCS#1, RSA of 2048 bits or more; see [`VerificationKey::from_pem`]).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        Ok(Self::from_key(VerificationKey::from_pem(pem)?))
    }

    /// A verifier for an already-built key.
    pub fn from_key(key: VerificationKey) -> Self {
        Self { key: Arc::new(key) }
    }

    /// The key every token is checked against.
    pub fn verification_key(&self) -> &Arc<VerificationKey> {
        &self.key
    }
}

impl TokenVerifier for PemVerifier {
    fn key(&self, _jwt: &Jwt) -> Result<Arc<VerificationKey>, TokenVerificationError> {
        Ok(Arc::clone(&self.key))
    }
}
