//! Verification cost: (a) the raw josekit RS256 signature check, (b) a full cold verification
//! without the cache (decode + every §3.3 check), (c) a warm verification through the cache.
//!
//! `cargo bench -p clerk-auth-core --bench verify -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::verify::{Verifier, VerifyOptions};
use clerk_auth_core::SystemClock;
use criterion::{criterion_group, criterion_main, Criterion};
use josekit::jws::{JwsVerifier, RS256};

fn bench(c: &mut Criterion) {
    let keys = KeyPair::shared();
    let token = TokenMinter::new(keys)
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(3600))
        .v2()
        .mint();
    let options = VerifyOptions {
        authorized_parties: vec!["http://localhost:3000".into()],
        ..VerifyOptions::default()
    };

    let raw = RS256.verifier_from_pem(keys.public_pem()).unwrap();
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    raw.verify(input.as_bytes(), &signature).unwrap();
    c.bench_function("a_raw_josekit_rs256", |b| {
        b.iter(|| raw.verify(black_box(input.as_bytes()), black_box(&signature)))
    });

    let cold =
        Verifier::new(keys.verifier(), options.clone(), Arc::new(SystemClock)).without_cache();
    cold.verify_token(&token).unwrap();
    c.bench_function("b_cold_verify_token", |b| {
        b.iter(|| cold.verify_token(black_box(&token)))
    });

    // Where (b) spends beyond (a): decoding, and the checks on an already decoded token.
    c.bench_function("d_decode_only", |b| {
        b.iter(|| clerk_auth_core::Jwt::decode(black_box(&token)))
    });
    let jwt = Arc::new(clerk_auth_core::Jwt::decode(&token).unwrap());
    c.bench_function("e_verify_decoded", |b| {
        b.iter(|| cold.verify_decoded(black_box(Arc::clone(&jwt))))
    });

    let warm = Verifier::new(keys.verifier(), options.clone(), Arc::new(SystemClock));
    warm.verify_token(&token).unwrap();
    c.bench_function("c_warm_verify_token", |b| {
        b.iter(|| warm.verify_token(black_box(&token)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
