//! Verification keys (placeholder; replaced by the verification work).

/// An RSA public key for RS256/RS384/RS512 signatures.
#[derive(Debug)]
pub struct VerificationKey {
    _private: (),
}
