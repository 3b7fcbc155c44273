//! The whole decision: (a) a Bearer request and (b) a same-origin cookie request with
//! `__client_uat`, both with a warm verified-token cache; (c) a cold cookie request (no cache)
//! against (r) the raw josekit RS256 signature check on the same token.
//!
//! `cargo bench -p clerk-auth-core --bench decide -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::{authenticate_request, Options};
use criterion::{criterion_group, criterion_main, Criterion};
use josekit::jws::{JwsVerifier, RS256};

fn options(cache: bool) -> Options {
    Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_live_bench")
        .jwt_key(KeyPair::shared().public_pem())
        .verified_token_cache_capacity(if cache { 10_000 } else { 0 })
        .build()
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let keys = KeyPair::shared();
    let now = SystemTime::now();
    let token = TokenMinter::new(keys)
        .issued_at(now)
        .ttl(Duration::from_secs(3600))
        .iss("https://clerk.example.com")
        .mint();
    let uat = now.duration_since(UNIX_EPOCH).unwrap().as_secs() - 30;
    let common = |b: TestRequest| {
        b.header("host", "app.example.com")
            .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64) bench")
            .header("accept", "application/json")
            .header("accept-encoding", "gzip, br")
    };
    let bearer = common(TestRequest::get("https://app.example.com/api/me"))
        .header("authorization", format!("Bearer {token}"))
        .build();
    let cookie = common(TestRequest::get("https://app.example.com/api/me"))
        .header(
            "cookie",
            format!("__session={token}; __client_uat={uat}; theme=dark"),
        )
        .build();

    let warm = options(true);
    assert!(authenticate_request(&bearer, &warm).unwrap().is_signed_in());
    assert!(authenticate_request(&cookie, &warm).unwrap().is_signed_in());
    c.bench_function("a_bearer_warm", |b| {
        b.iter(|| authenticate_request(black_box(&bearer), &warm))
    });
    c.bench_function("b_cookie_warm", |b| {
        b.iter(|| authenticate_request(black_box(&cookie), &warm))
    });

    let cold = options(false);
    assert!(authenticate_request(&cookie, &cold).unwrap().is_signed_in());
    c.bench_function("c_cookie_cold", |b| {
        b.iter(|| authenticate_request(black_box(&cookie), &cold))
    });

    let raw = RS256.verifier_from_pem(keys.public_pem()).unwrap();
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    c.bench_function("r_raw_josekit_rs256", |b| {
        b.iter(|| raw.verify(black_box(input.as_bytes()), black_box(&signature)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
