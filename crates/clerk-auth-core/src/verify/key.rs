//! Verification keys: an RSA public key pinned to one of RS256, RS384, RS512.
//!
//! Keys come from a PEM public key (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`, parsed for real,
//! decision 7) or from a JWK of the key set; josekit validates them (RSA, 2048 bits or more, the
//! JWK's `use` and `key_ops`). The parsed key is kept, so nothing is parsed per verification.
//!
//! The check itself is OpenSSL's `EVP_PKEY_verify` on the SHA-2 digest of the signing input, with
//! verification contexts prepared once per key and reused: on OpenSSL 3, preparing one
//! (`EVP_PKEY_verify_init`, which fetches the algorithm from the provider) costs about as much as
//! the RSA arithmetic of a check, and a never-seen token should cost one RSA verify and nothing
//! more.

use std::fmt;
use std::sync::Mutex;

use base64::Engine;
use josekit::jwk::Jwk;
use josekit::jws::alg::rsassa::RsassaJwsAlgorithm;
use josekit::JoseError;
use openssl::bn::BigNum;
use openssl::md::Md;
use openssl::pkey::{PKey, Public};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::{Padding, Rsa};
use serde_json::Value;

use crate::error::{
    TokenVerificationError, TokenVerificationErrorAction, TokenVerificationErrorReason,
};
use crate::token::Jwt;

/// The JWS algorithms Clerk session tokens may use (`jwt/algorithms.ts`): RSASSA-PKCS1-v1_5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JwsAlgorithm {
    /// `RS256`: RSASSA-PKCS1-v1_5 with SHA-256 (what Clerk signs with).
    Rs256,
    /// `RS384`: RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// `RS512`: RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
}

impl JwsAlgorithm {
    /// Every supported algorithm, in Clerk's order.
    pub const ALL: [Self; 3] = [Self::Rs256, Self::Rs384, Self::Rs512];

    /// The JOSE name (`RS256`, `RS384`, `RS512`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
        }
    }

    /// The algorithm named `name` exactly (case-sensitive, as Clerk compares).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Self::Rs256),
            "RS384" => Some(Self::Rs384),
            "RS512" => Some(Self::Rs512),
            _ => None,
        }
    }

    fn josekit(self) -> RsassaJwsAlgorithm {
        match self {
            Self::Rs256 => RsassaJwsAlgorithm::Rs256,
            Self::Rs384 => RsassaJwsAlgorithm::Rs384,
            Self::Rs512 => RsassaJwsAlgorithm::Rs512,
        }
    }

    fn md(self) -> &'static openssl::md::MdRef {
        match self {
            Self::Rs256 => Md::sha256(),
            Self::Rs384 => Md::sha384(),
            Self::Rs512 => Md::sha512(),
        }
    }
}

/// The SHA-2 digest of a signing input, on the stack.
enum Digest {
    Sha256([u8; 32]),
    Sha384([u8; 48]),
    Sha512([u8; 64]),
}

impl Digest {
    /// The digest of `input`, through OpenSSL's streaming hashers on a context on the stack:
    /// the one-shot `SHA256()` of OpenSSL 3 fetches the algorithm (a locked lookup and three
    /// allocations) on every call.
    fn of(algorithm: JwsAlgorithm, input: &[u8]) -> Self {
        use openssl::sha::{Sha256, Sha384, Sha512};
        match algorithm {
            JwsAlgorithm::Rs256 => {
                let mut hasher = Sha256::new();
                hasher.update(input);
                Self::Sha256(hasher.finish())
            }
            JwsAlgorithm::Rs384 => {
                let mut hasher = Sha384::new();
                hasher.update(input);
                Self::Sha384(hasher.finish())
            }
            JwsAlgorithm::Rs512 => {
                let mut hasher = Sha512::new();
                hasher.update(input);
                Self::Sha512(hasher.finish())
            }
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Sha256(d) => d,
            Self::Sha384(d) => d,
            Self::Sha512(d) => d,
        }
    }
}

/// How many prepared verification contexts a key keeps for reuse (about one per thread that
/// verifies at the same time); more are made when needed and dropped after use.
const MAX_POOLED_CONTEXTS: usize = 64;

impl fmt::Display for JwsAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A JWK or a PEM key could not be turned into a [`VerificationKey`]. Messages never contain key
/// material, and name no environment variable (the key may come from anywhere; the options name
/// `CLERK_JWT_KEY` when it came from there).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The JWK is not a JSON object.
    #[error("the JWK is not a JSON object")]
    NotAnObject,
    /// `kty` is missing or not `RSA`.
    #[error("the JWK key type (kty) must be RSA")]
    UnsupportedKeyType,
    /// `alg` is present and not one of RS256, RS384, RS512.
    #[error("the JWK algorithm (alg) must be RS256, RS384 or RS512")]
    UnsupportedAlgorithm,
    /// The JWK is malformed (bad `n`/`e`, `use` other than `sig`, no `verify` in `key_ops`,
    /// a key shorter than 2048 bits, ...).
    #[error("the JWK is invalid: {0}")]
    Invalid(String),
    /// The PEM text does not hold an RSA public key of 2048 bits or more.
    #[error("the PEM public key is invalid: {0}")]
    InvalidPem(String),
}

/// Why a signature did not check out, before it is worded for a session or handshake token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SignatureFailure {
    /// The check could not run (wrong algorithm for the key, crypto error): Clerk's
    /// "Error verifying ..." case. The text is what follows `Error: `.
    Unverifiable(&'static str),
    /// The signature does not match.
    Mismatch,
}

/// WebCrypto's refusal (as Node words it) to use a key with another algorithm than its JWK `alg`.
const ALG_MISMATCH: &str = "JWK \"alg\" does not match the requested algorithm";
/// A crypto-library failure other than a mismatch; its details are not exposed.
const CRYPTO_FAILURE: &str = "The signature could not be checked.";

/// An RSA public key (2048 bits or more) with the one algorithm it verifies.
///
/// `Debug` shows the algorithm and the key size only, never key material.
pub struct VerificationKey {
    algorithm: JwsAlgorithm,
    bits: usize,
    public_key: PKey<Public>,
    /// Verification contexts prepared for this key and algorithm, reused across checks.
    contexts: Mutex<Vec<PkeyCtx<Public>>>,
}

impl Clone for VerificationKey {
    fn clone(&self) -> Self {
        Self::new(self.algorithm, self.public_key.clone(), self.bits)
    }
}

impl VerificationKey {
    /// Parses a PEM public key (`CLERK_JWT_KEY`): SPKI (`-----BEGIN PUBLIC KEY-----`) or PKCS#1
    /// (`-----BEGIN RSA PUBLIC KEY-----`), RSA of 2048 bits or more. The key verifies `RS256`, as
    /// Clerk's PEM-derived key does.
    ///
    /// Surrounding whitespace, CRLF line ends, a key on one line, and literal `\n` sequences (as
    /// left by some `.env` tooling) are accepted; the DER inside is parsed strictly.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let invalid = |detail: &str| KeyError::InvalidPem(detail.to_owned());
        let normalized = pem.replace("\\r", "").replace("\\n", "\n");
        let text = normalized.trim();
        let rest = text
            .strip_prefix("-----BEGIN ")
            .ok_or_else(|| invalid("not a PEM block (no -----BEGIN line)"))?;
        let (label, rest) = rest
            .split_once("-----")
            .ok_or_else(|| invalid("malformed -----BEGIN line"))?;
        let end_line = format!("-----END {label}-----");
        let body = rest
            .strip_suffix(end_line.as_str())
            .ok_or_else(|| invalid("missing or mismatched -----END line"))?;
        match label {
            "PUBLIC KEY" | "RSA PUBLIC KEY" => {}
            l if l.contains("PRIVATE") => {
                return Err(invalid("this is a private key; use the PEM public key"))
            }
            _ => return Err(invalid("expected a PUBLIC KEY or RSA PUBLIC KEY block")),
        }
        let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|_| invalid("the PEM body is not valid base64"))?;
        // josekit validates (SPKI or PKCS#1, RSA, 2048 bits or more); OpenSSL keeps the key.
        JwsAlgorithm::Rs256
            .josekit()
            .verifier_from_der(&der)
            .map_err(|e| KeyError::InvalidPem(key_error_detail(&e)))?;
        let public_key = PKey::public_key_from_der(&der)
            .or_else(|_| Rsa::public_key_from_der_pkcs1(&der).and_then(PKey::from_rsa))
            .map_err(|_| invalid("not an RSA public key"))?;
        Ok(Self::new(
            JwsAlgorithm::Rs256,
            public_key,
            rsa_bits_from_der(&der),
        ))
    }

    /// Builds a key from a JWK of the key set: `{"kty":"RSA","n":..,"e":..}` with optional
    /// `alg` (defaults to `RS256`), `kid`, `use` (must be `sig`) and `key_ops` (must allow `verify`).
    pub fn from_jwk(jwk: &Value) -> Result<Self, KeyError> {
        let Value::Object(map) = jwk else {
            return Err(KeyError::NotAnObject);
        };
        if map.get("kty").and_then(Value::as_str) != Some("RSA") {
            return Err(KeyError::UnsupportedKeyType);
        }
        let algorithm = match map.get("alg") {
            None => JwsAlgorithm::Rs256,
            Some(Value::String(name)) => {
                JwsAlgorithm::from_name(name).ok_or(KeyError::UnsupportedAlgorithm)?
            }
            Some(_) => return Err(KeyError::UnsupportedAlgorithm),
        };
        let bits = map
            .get("n")
            .and_then(Value::as_str)
            .and_then(|n| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(n)
                    .ok()
            })
            .map(|n| significant_bits(&n))
            .unwrap_or(0);
        // josekit validates (`kty`, `use`, `key_ops`, `n`, `e`, 2048 bits or more); OpenSSL keeps
        // the key, built from the same `n` and `e`.
        let jwk =
            Jwk::from_map(map.clone()).map_err(|e| KeyError::Invalid(key_error_detail(&e)))?;
        algorithm
            .josekit()
            .verifier_from_jwk(&jwk)
            .map_err(|e| KeyError::Invalid(key_error_detail(&e)))?;
        let component = |name: &str| {
            map.get(name)
                .and_then(Value::as_str)
                .and_then(|v| {
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(v)
                        .ok()
                })
                .and_then(|bytes| BigNum::from_slice(&bytes).ok())
                .ok_or_else(|| KeyError::Invalid(format!("the RSA {name} is not base64url")))
        };
        let public_key = Rsa::from_public_components(component("n")?, component("e")?)
            .and_then(PKey::from_rsa)
            .map_err(|_| KeyError::Invalid("not an RSA public key".to_owned()))?;
        Ok(Self::new(algorithm, public_key, bits))
    }

    fn new(algorithm: JwsAlgorithm, public_key: PKey<Public>, bits: usize) -> Self {
        Self {
            algorithm,
            bits,
            public_key,
            contexts: Mutex::new(Vec::new()),
        }
    }

    /// A verification context for this key: a pooled one, or a new one prepared now.
    fn context(&self) -> Result<PkeyCtx<Public>, openssl::error::ErrorStack> {
        let pooled = self
            .contexts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        if let Some(ctx) = pooled {
            return Ok(ctx);
        }
        let mut ctx = PkeyCtx::new(&self.public_key)?;
        ctx.verify_init()?;
        ctx.set_rsa_padding(Padding::PKCS1)?;
        ctx.set_signature_md(self.algorithm.md())?;
        Ok(ctx)
    }

    /// Puts a context back for the next check (up to [`MAX_POOLED_CONTEXTS`]).
    fn reuse(&self, ctx: PkeyCtx<Public>) {
        let mut pool = self
            .contexts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if pool.len() < MAX_POOLED_CONTEXTS {
            pool.push(ctx);
        }
    }

    /// The one algorithm this key verifies.
    pub fn algorithm(&self) -> JwsAlgorithm {
        self.algorithm
    }

    /// The RSA modulus size in bits (0 if unknown).
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// Clerk's algorithm and signature check for a session token: the token's `alg` must be this
    /// key's algorithm, else `token-verification-failed` ("Error verifying JWT signature. Error:
    /// ..."); a signature that does not match is `token-invalid-signature` ("JWT signature is
    /// invalid.").
    ///
    /// This checks nothing else: a [`Verifier`](super::Verifier) runs the full order.
    pub fn verify(&self, jwt: &Jwt) -> Result<(), TokenVerificationError> {
        self.check_signature(jwt).map_err(|failure| match failure {
            SignatureFailure::Unverifiable(detail) => TokenVerificationError::new(
                TokenVerificationErrorReason::TokenVerificationFailed,
                format!("Error verifying JWT signature. Error: {detail}"),
            )
            .with_action(TokenVerificationErrorAction::EnsureClerkJwt),
            SignatureFailure::Mismatch => TokenVerificationError::new(
                TokenVerificationErrorReason::TokenInvalidSignature,
                "JWT signature is invalid.",
            ),
        })
    }

    /// The algorithm match and the signature check, unworded.
    pub(crate) fn check_signature(&self, jwt: &Jwt) -> Result<(), SignatureFailure> {
        if jwt.alg() != Some(self.algorithm.as_str()) {
            return Err(SignatureFailure::Unverifiable(ALG_MISMATCH));
        }
        let digest = Digest::of(self.algorithm, jwt.signing_input());
        let Ok(mut ctx) = self.context() else {
            return Err(SignatureFailure::Unverifiable(CRYPTO_FAILURE));
        };
        // OpenSSL 3 reports a signature that does not match (wrong value, wrong length) through
        // its error stack as well as its result: both mean "does not match". The context stays
        // usable either way.
        let matched = ctx
            .verify(digest.as_bytes(), jwt.signature())
            .unwrap_or(false);
        self.reuse(ctx);
        if matched {
            Ok(())
        } else {
            Err(SignatureFailure::Mismatch)
        }
    }
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("algorithm", &self.algorithm)
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

/// A short description of a josekit key error, without key material.
fn key_error_detail(err: &JoseError) -> String {
    match err {
        JoseError::InvalidKeyFormat(inner) => {
            let text = inner.to_string();
            // josekit's own messages are short and key-free; crypto-library stacks are not shown.
            if inner.downcast_ref::<openssl::error::ErrorStack>().is_some() || text.len() > 120 {
                "not an RSA public key".to_owned()
            } else {
                text
            }
        }
        _ => "not an RSA public key".to_owned(),
    }
}

/// The bit length of a big-endian unsigned integer.
fn significant_bits(be: &[u8]) -> usize {
    let mut bytes = be.iter().skip_while(|b| **b == 0);
    match bytes.next() {
        None => 0,
        Some(first) => 8 * bytes.count() + (8 - first.leading_zeros() as usize),
    }
}

/// The modulus size of an SPKI or PKCS#1 RSA public key (0 if it cannot be found).
fn rsa_bits_from_der(der: &[u8]) -> usize {
    // PKCS#1: SEQUENCE { INTEGER n, INTEGER e }.
    // SPKI:   SEQUENCE { SEQUENCE { OID, NULL }, BIT STRING { 0x00, PKCS#1 } }.
    fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&len0, rest) = rest.split_first()?;
        let (len, rest) = if len0 < 0x80 {
            (usize::from(len0), rest)
        } else {
            let n = usize::from(len0 & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, &rest[n..])
        };
        if rest.len() < len {
            return None;
        }
        Some((tag, &rest[..len], &rest[len..]))
    }
    fn modulus_bits(pkcs1: &[u8]) -> Option<usize> {
        let (tag, seq, _) = tlv(pkcs1)?;
        if tag != 0x30 {
            return None;
        }
        let (tag, n, _) = tlv(seq)?;
        (tag == 0x02).then(|| significant_bits(n))
    }
    let inner = || -> Option<usize> {
        let (tag, seq, _) = tlv(der)?;
        if tag != 0x30 {
            return None;
        }
        let (tag, first, rest) = tlv(seq)?;
        match tag {
            0x02 => Some(significant_bits(first)),
            0x30 => {
                let (tag, bits, _) = tlv(rest)?;
                if tag != 0x03 {
                    return None;
                }
                modulus_bits(bits.get(1..)?)
            }
            _ => None,
        }
    };
    inner().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_round_trip() {
        for alg in JwsAlgorithm::ALL {
            assert_eq!(JwsAlgorithm::from_name(alg.as_str()), Some(alg));
        }
        assert_eq!(JwsAlgorithm::from_name("rs256"), None);
        assert_eq!(JwsAlgorithm::from_name("none"), None);
    }

    #[test]
    fn bit_counting() {
        assert_eq!(significant_bits(&[0, 0x80, 0]), 16);
        assert_eq!(significant_bits(&[0x01]), 1);
        assert_eq!(significant_bits(&[]), 0);
    }

    #[test]
    fn garbage_pem_is_a_config_error() {
        for pem in [
            "",
            "hello",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----",
        ] {
            assert!(matches!(
                VerificationKey::from_pem(pem),
                Err(KeyError::InvalidPem(_))
            ));
        }
    }
}
