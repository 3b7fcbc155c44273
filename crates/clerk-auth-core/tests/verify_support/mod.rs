//! Shared helpers for the verification tests (real keys, real signatures, a fixed clock).
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clerk_auth_core::testing::{FixedClock, KeyPair, TokenMinter};
use clerk_auth_core::verify::{Verifier, VerifyOptions};
use clerk_auth_core::{TokenVerificationError, TokenVerificationErrorReason};

/// Tue, 14 Nov 2023 22:13:20 GMT.
pub const NOW: u64 = 1_700_000_000;

pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

pub fn at_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

pub fn keys() -> &'static KeyPair {
    KeyPair::shared()
}

pub fn other_keys() -> &'static KeyPair {
    KeyPair::shared_other()
}

/// A session-token minter issuing at `NOW` (exp NOW+60, nbf NOW-10).
pub fn minter() -> TokenMinter<'static> {
    TokenMinter::new(keys()).issued_at(at(NOW))
}

pub fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::at_unix(NOW))
}

pub fn verifier(opts: VerifyOptions) -> (Verifier, Arc<FixedClock>) {
    let clock = clock();
    (Verifier::new(keys().verifier(), opts, clock.clone()), clock)
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The error, or a panic naming what unexpectedly verified.
#[track_caller]
pub fn err<T: std::fmt::Debug>(r: Result<T, TokenVerificationError>) -> TokenVerificationError {
    match r {
        Ok(v) => panic!("expected a verification error, got {v:?}"),
        Err(e) => e,
    }
}

#[track_caller]
pub fn reason<T: std::fmt::Debug>(
    r: Result<T, TokenVerificationError>,
) -> TokenVerificationErrorReason {
    err(r).reason
}

/// The check pipeline alone: `jwt` verified with `key` at `now`, through a cacheless
/// [`Verifier`] whose key source is that one key.
pub fn verify_with_key(
    jwt: &clerk_auth_core::Jwt,
    key: clerk_auth_core::VerificationKey,
    opts: &VerifyOptions,
    now: SystemTime,
) -> Result<(), TokenVerificationError> {
    let source = Arc::new(clerk_auth_core::PemVerifier::from_key(key));
    Verifier::new(source, opts.clone(), Arc::new(FixedClock::new(now)))
        .without_cache()
        .verify_decoded(Arc::new(jwt.clone()))
        .map(drop)
}
