//! Test kit (feature `testing`): key pairs, token minting, a fixed clock, a local Backend API.
//!
//! Everything here is for tests: an RSA [`KeyPair`] that signs whatever header and claims you give
//! it (adversarial tokens included), a [`TokenMinter`] that builds realistic Clerk session tokens,
//! a settable [`FixedClock`], a [`TestRequest`] builder, local Key set and Backend API servers
//! ([`server`]), and signed webhooks ([`webhooks`]).
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Duration, UNIX_EPOCH};
//! use clerk_auth_core::testing::{FixedClock, KeyPair, TokenMinter};
//! use clerk_auth_core::verify::{Verifier, VerifyOptions};
//!
//! let keys = KeyPair::shared();
//! let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! let token = TokenMinter::new(keys).issued_at(now).mint();
//! let clock = Arc::new(FixedClock::new(now));
//! let verifier = Verifier::new(keys.verifier(), VerifyOptions::default(), clock);
//! assert_eq!(verifier.verify_token(&token).unwrap().claim_str("sub"), Some("user_2test"));
//! ```
pub mod logs;
pub mod server;
pub mod webhooks;

pub use crate::request::build::TestRequest;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwk::alg::rsa::RsaKeyPair;
use josekit::jwk::KeyPair as _;
use josekit::jws::alg::rsassa::RsassaJwsSigner;
use josekit::jws::{JwsSigner, RS256, RS384, RS512};
use serde_json::{json, Map, Value};

use crate::clock::Clock;
use crate::verify::{JwsAlgorithm, PemVerifier, TokenVerifier, VerificationKey};

/// The `cat` header of a session token (also on handshake tokens), for [`TokenMinter::category`].
pub const SESSION_CATEGORY: &str = crate::verify::pipeline::SESSION_CATEGORY;
/// The `cat` header of a JWT-template token.
pub const TEMPLATE_CATEGORY: &str = crate::verify::pipeline::TEMPLATE_CATEGORY;
/// The `cat` header of a machine-to-machine JWT.
pub const M2M_CATEGORY: &str = crate::verify::pipeline::M2M_CATEGORY;
/// The `cat` header that carries no class information.
pub const IGNORE_CATEGORY: &str = crate::verify::pipeline::IGNORE_CATEGORY;

/// An RSA key pair for tests (2048 bits by default).
///
/// Generating a key takes a noticeable fraction of a second: share one through
/// [`KeyPair::shared`] (and [`KeyPair::shared_other`] for "another key") where you can.
/// `Debug` shows no key material.
pub struct KeyPair {
    bits: u32,
    public_pem: String,
    public_pem_pkcs1: String,
    n: String,
    e: String,
    signers: [RsassaJwsSigner; 3],
}

impl KeyPair {
    /// A new RSA 2048 key pair.
    ///
    /// # Panics
    /// If the crypto library cannot generate a key (test-only code).
    pub fn generate() -> Self {
        Self::generate_with_bits(2048)
    }

    /// A new RSA key pair of `bits` bits (josekit refuses fewer than 2048 for signing).
    ///
    /// # Panics
    /// If the crypto library cannot generate a key of that size (test-only code).
    #[allow(clippy::expect_used)]
    pub fn generate_with_bits(bits: u32) -> Self {
        let pair = RsaKeyPair::generate(bits).expect("RSA key generation");
        let der = pair.to_der_private_key();
        let signer = |alg: josekit::jws::alg::rsassa::RsassaJwsAlgorithm| {
            alg.signer_from_der(&der)
                .expect("RSA signer from a fresh key")
        };
        let jwk = pair.to_jwk_public_key();
        let param = |name: &str| {
            jwk.parameter(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .expect("RSA JWK parameter")
        };
        Self {
            bits,
            public_pem: String::from_utf8_lossy(&pair.to_pem_public_key()).into_owned(),
            public_pem_pkcs1: String::from_utf8_lossy(&pair.to_traditional_pem_public_key())
                .into_owned(),
            n: param("n"),
            e: param("e"),
            signers: [signer(RS256), signer(RS384), signer(RS512)],
        }
    }

    /// One RSA 2048 key pair shared by the whole test process (generated on first use).
    pub fn shared() -> &'static Self {
        static SHARED: OnceLock<KeyPair> = OnceLock::new();
        SHARED.get_or_init(Self::generate)
    }

    /// A second shared RSA 2048 key pair, different from [`shared`](Self::shared): "a key that
    /// did not sign this token".
    pub fn shared_other() -> &'static Self {
        static OTHER: OnceLock<KeyPair> = OnceLock::new();
        OTHER.get_or_init(Self::generate)
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`), the form of `CLERK_JWT_KEY`.
    pub fn public_pem(&self) -> String {
        self.public_pem.clone()
    }

    /// The public key as PKCS#1 PEM (`-----BEGIN RSA PUBLIC KEY-----`).
    pub fn public_pem_pkcs1(&self) -> String {
        self.public_pem_pkcs1.clone()
    }

    /// The public key as a key-set JWK, as Clerk serves it:
    /// `{"kid", "kty":"RSA", "alg":"RS256", "use":"sig", "n", "e"}`.
    pub fn jwk(&self, kid: &str) -> Value {
        json!({"kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig", "n": self.n, "e": self.e})
    }

    /// The public key as a JWK without `kid`, `alg` or `use` (for embedding in headers).
    pub fn bare_jwk(&self) -> Value {
        json!({"kty": "RSA", "n": self.n, "e": self.e})
    }

    /// The public key as a [`VerificationKey`] (`RS256`).
    ///
    /// # Panics
    /// Never for a generated key (test-only code).
    #[allow(clippy::expect_used)]
    pub fn verification_key(&self) -> VerificationKey {
        VerificationKey::from_pem(&self.public_pem).expect("own public key parses")
    }

    /// A PEM verifier for this key.
    pub fn verifier(&self) -> Arc<dyn TokenVerifier> {
        Arc::new(PemVerifier::from_key(self.verification_key()))
    }

    /// Signs `header` and `claims` (each serialized as given) with RSASSA-PKCS1-v1_5: SHA-384 or
    /// SHA-512 when the header's `alg` is `RS384`/`RS512`, SHA-256 otherwise (whatever `alg` says,
    /// so that `none`, `HS256`, ... headers still carry an RS256 signature).
    pub fn sign(&self, header: Value, claims: Value) -> String {
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(JwsAlgorithm::from_name)
            .unwrap_or(JwsAlgorithm::Rs256);
        self.sign_raw(&header.to_string(), &claims.to_string(), alg)
    }

    /// Signs raw header and payload text (any bytes, valid JSON or not) with `alg`.
    pub fn sign_raw(&self, header_json: &str, payload_json: &str, alg: JwsAlgorithm) -> String {
        let input = signing_input(header_json, payload_json);
        let signature = self.sign_bytes(input.as_bytes(), alg);
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// The raw signature of `message` with `alg`.
    ///
    /// # Panics
    /// If the crypto library fails to sign (test-only code).
    #[allow(clippy::expect_used)]
    pub fn sign_bytes(&self, message: &[u8], alg: JwsAlgorithm) -> Vec<u8> {
        let signer = match alg {
            JwsAlgorithm::Rs256 => &self.signers[0],
            JwsAlgorithm::Rs384 => &self.signers[1],
            JwsAlgorithm::Rs512 => &self.signers[2],
        };
        signer.sign(message).expect("RSA signing")
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

/// `base64url(header) "." base64url(payload)`.
pub fn signing_input(header_json: &str, payload_json: &str) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header_json),
        URL_SAFE_NO_PAD.encode(payload_json)
    )
}

/// A token from raw header and payload text and a given signature (not checked): for tokens
/// no honest signer would produce.
pub fn token_with_signature(header_json: &str, payload_json: &str, signature: &[u8]) -> String {
    format!(
        "{}.{}",
        signing_input(header_json, payload_json),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// Seconds since the epoch of `time` (0 before it).
fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Builds realistic Clerk session tokens signed by a [`KeyPair`].
///
/// Defaults: header `{"alg":"RS256","cat":"cl_B7d4PD111AAA","kid":"ins_2test","typ":"JWT"}`;
/// claims `azp` `http://localhost:3000`, `exp` = `iat` + 60, `iat` = now (the system clock unless
/// [`issued_at`](Self::issued_at)), `iss` `https://clerk.example.com`, `nbf` = `iat` - 10,
/// `sid` `sess_2test`, `sub` `user_2test`. [`v2`](Self::v2) adds the version 2 claims.
#[derive(Clone, Debug)]
pub struct TokenMinter<'a> {
    keys: &'a KeyPair,
    alg: JwsAlgorithm,
    issued_at: Option<SystemTime>,
    ttl: Duration,
    header: Map<String, Value>,
    claims: Map<String, Value>,
    removed: BTreeSet<String>,
}

impl<'a> TokenMinter<'a> {
    /// A minter with the defaults above.
    pub fn new(keys: &'a KeyPair) -> Self {
        let mut header = Map::new();
        header.insert("alg".into(), json!("RS256"));
        header.insert("cat".into(), json!(SESSION_CATEGORY));
        header.insert("kid".into(), json!("ins_2test"));
        header.insert("typ".into(), json!("JWT"));
        let mut claims = Map::new();
        claims.insert("azp".into(), json!("http://localhost:3000"));
        claims.insert("iss".into(), json!("https://clerk.example.com"));
        claims.insert("sid".into(), json!("sess_2test"));
        claims.insert("sub".into(), json!("user_2test"));
        Self {
            keys,
            alg: JwsAlgorithm::Rs256,
            issued_at: None,
            ttl: Duration::from_secs(60),
            header,
            claims,
            removed: BTreeSet::new(),
        }
    }

    /// An M2M token in its JWT form, as Clerk issues machine-to-machine tokens: the M2M
    /// category, `sub` `mch_2test` (a machine), `jti` `mt_2test`, `scopes` `"mch_2other"` (the
    /// machines it may call); no `sid` or `azp`. Accepted where the options accept `m2m_token`
    /// ([`OptionsBuilder::accepts_token`](crate::OptionsBuilder::accepts_token)).
    pub fn m2m(self) -> Self {
        self.category(Some(M2M_CATEGORY))
            .subject("mch_2test")
            .claim("jti", json!("mt_2test"))
            .claim("scopes", json!("mch_2other"))
            .without_claim("sid")
            .without_claim("azp")
    }

    /// An OAuth access token in its JWT form (RFC 9068): header `typ` `at+jwt` and no category,
    /// `sub` `user_2test`, `client_id` `client_2test`, `scope` `"profile email"`, `jti`
    /// `oat_2test`; no `sid` or `azp`. Accepted where the options accept `oauth_token`.
    pub fn oauth(self) -> Self {
        self.category(None)
            .header("typ", json!("at+jwt"))
            .claim("client_id", json!("client_2test"))
            .claim("scope", json!("profile email"))
            .claim("jti", json!("oat_2test"))
            .without_claim("sid")
            .without_claim("azp")
    }

    /// `iat` (and `nbf` = `iat` - 10, `exp` = `iat` + ttl unless set explicitly).
    pub fn issued_at(mut self, time: SystemTime) -> Self {
        self.issued_at = Some(time);
        self
    }

    /// Lifetime: `exp` = `iat` + `ttl` (default 60 s).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The signing algorithm (header `alg` follows).
    pub fn algorithm(mut self, alg: JwsAlgorithm) -> Self {
        self.alg = alg;
        self.header.insert("alg".into(), json!(alg.as_str()));
        self
    }

    /// The header `kid`.
    pub fn kid(self, kid: &str) -> Self {
        self.header("kid", json!(kid))
    }

    /// The header `cat` (`None` removes it).
    pub fn category(self, cat: Option<&str>) -> Self {
        match cat {
            Some(c) => self.header("cat", json!(c)),
            None => self.without_header("cat"),
        }
    }

    /// `sub` (the user id).
    pub fn subject(self, sub: &str) -> Self {
        self.claim("sub", json!(sub))
    }

    /// `sid`.
    pub fn sid(self, sid: &str) -> Self {
        self.claim("sid", json!(sid))
    }

    /// `azp`.
    pub fn azp(self, azp: &str) -> Self {
        self.claim("azp", json!(azp))
    }

    /// `iss`.
    pub fn iss(self, iss: &str) -> Self {
        self.claim("iss", json!(iss))
    }

    /// The version 2 session claims: `v: 2`, `fva: [0, -1]`, `sts: "active"`.
    pub fn v2(self) -> Self {
        self.claim("v", json!(2))
            .claim("fva", json!([0, -1]))
            .claim("sts", json!("active"))
    }

    /// Sets any claim (overrides computed `iat`/`nbf`/`exp` too).
    pub fn claim(mut self, name: &str, value: Value) -> Self {
        self.removed.remove(name);
        self.claims.insert(name.into(), value);
        self
    }

    /// Removes a claim (also a computed one: `iat`, `nbf`, `exp`).
    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self.removed.insert(name.to_owned());
        self
    }

    /// Sets any header parameter.
    pub fn header(mut self, name: &str, value: Value) -> Self {
        self.header.insert(name.into(), value);
        self
    }

    /// Removes a header parameter.
    pub fn without_header(mut self, name: &str) -> Self {
        self.header.remove(name);
        self
    }

    /// The header that [`mint`](Self::mint) signs.
    pub fn header_json(&self) -> Value {
        Value::Object(self.header.clone())
    }

    /// The claims that [`mint`](Self::mint) signs.
    pub fn claims_json(&self) -> Value {
        let iat = unix_secs(self.issued_at.unwrap_or_else(SystemTime::now));
        let mut claims = Map::new();
        claims.insert("exp".into(), json!(iat + self.ttl.as_secs()));
        claims.insert("iat".into(), json!(iat));
        claims.insert("nbf".into(), json!(iat.saturating_sub(10)));
        for name in &self.removed {
            claims.remove(name);
        }
        for (name, value) in &self.claims {
            claims.insert(name.clone(), value.clone());
        }
        Value::Object(claims)
    }

    /// The signed token.
    pub fn mint(&self) -> String {
        self.keys.sign_raw(
            &self.header_json().to_string(),
            &self.claims_json().to_string(),
            self.alg,
        )
    }
}

/// A settable clock, shareable through an `Arc` (clone the `Arc`, hand one to the verifier as
/// `Arc<dyn Clock>`, keep one to move time).
#[derive(Debug)]
pub struct FixedClock {
    now: Mutex<SystemTime>,
}

impl FixedClock {
    /// A clock stopped at `time`.
    pub fn new(time: SystemTime) -> Self {
        Self {
            now: Mutex::new(time),
        }
    }

    /// A clock stopped at `secs` seconds after the epoch.
    pub fn at_unix(secs: u64) -> Self {
        Self::new(UNIX_EPOCH + Duration::from_secs(secs))
    }

    /// Moves the clock to `time`.
    pub fn set(&self, time: SystemTime) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = time;
    }

    /// Moves the clock forward by `by` (left as is if the result is not representable).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(t) = now.checked_add(by) {
            *now = t;
        }
    }

    /// Moves the clock back by `by` (left as is if the result is not representable).
    pub fn rewind(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(t) = now.checked_sub(by) {
            *now = t;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
