//! The cold decision under churn (issue 13, item 3): (c) `try_authenticate_request` on a Bearer
//! request whose token was never seen, with the verified-token cache full (its default capacity,
//! filled beforehand) and every token new, against (r) the raw RSA-2048 PKCS#1 v1.5 SHA-256
//! verify through OpenSSL's lowest level (an `EVP_PKEY_verify` on a key and context built once,
//! plus the SHA-256 of the signing input), in one run. Prints the ratio (c) / (r), and for
//! comparison (n), the same cold decision on an instance without a verified-token cache.
//!
//! `cargo bench -p clerk-auth-core --bench churn`
//!
//! Times are the measuring thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`; wall time where it
//! is missing), so that a busy machine slows the figures less.
//!
//! The tokens are minted (RSA signing, about 1 ms each, on two threads) outside the measured
//! loops: a pool made before the run, topped up between samples when criterion asks for more
//! iterations than it holds; no token is ever decided twice. Minting is what makes this bench
//! slow, so its default measurement is short (10 samples, 1 s warm-up, 2 s measurement);
//! criterion's `--warm-up-time` / `--measurement-time` override it. `CHURN_SAMPLES=1` also
//! prints every call's iterations and time per iteration (to see the machine's noise).
//! `CHURN_CAPACITY=<n>` sets the verified-token cache's capacity (default: the crate's default,
//! 4 096; `0`: no cache), to see what the cache itself costs a never-seen token.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clerk_auth_core::options::DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY;
use clerk_auth_core::testing::KeyPair;
use clerk_auth_core::try_authenticate_request;
use clerk_auth_core::OwnedRequest;
use criterion::{criterion_group, criterion_main, Criterion};
use openssl::md::Md;
use openssl::pkey::{PKey, Public};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;

const SAMPLES: usize = 10;

/// Tokens cycled through by the decision without a cache (nothing is remembered there).
const UNCACHED_TOKENS: usize = 4_096;

#[path = "support/bench_support.rs"]
mod support;

use support::{bearer_request, pem_options_with_cache, CpuTimer, Pool};

/// Per-iteration time of the last `SAMPLES` calls of an `iter_custom` routine (criterion's
/// measurement samples), median.
fn median_per_iter(calls: &[(u64, Duration)]) -> f64 {
    let mut v: Vec<f64> = calls[calls.len().saturating_sub(SAMPLES)..]
        .iter()
        .map(|(iters, d)| d.as_secs_f64() / *iters as f64)
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn bench(c: &mut Criterion) {
    let keys = KeyPair::shared();
    // The cache is filled to its capacity with tokens of their own before the run.
    let capacity: usize = std::env::var("CHURN_CAPACITY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY as usize);
    let options = pem_options_with_cache(keys, capacity as u64);

    let mut pool = Pool::new(keys, "churn");
    let start = Instant::now();
    pool.ensure(capacity + 20_000);
    eprintln!(
        "churn: minted {} tokens in {:.1} s",
        pool.tokens.len(),
        start.elapsed().as_secs_f64()
    );
    for token in &pool.tokens[..capacity] {
        let state = try_authenticate_request(&bearer_request(token), &options).unwrap();
        assert!(state.is_signed_in());
    }
    let mut cursor = capacity;

    let key = PKey::public_key_from_pem(keys.public_pem().as_bytes()).unwrap();
    let mut ctx: PkeyCtx<Public> = PkeyCtx::new(&key).unwrap();
    ctx.verify_init().unwrap();
    ctx.set_rsa_padding(Padding::PKCS1).unwrap();
    ctx.set_signature_md(Md::sha256()).unwrap();
    // The raw verify's inputs: the signing input and decoded signature of distinct pool tokens,
    // prepared untimed, so that like the cold decision it reads a token it has not touched yet
    // (a verify of one token over and over would run from the CPU's cache).
    let split = |token: &String| {
        let (input, signature) = token.rsplit_once('.').unwrap();
        (
            input.as_bytes().to_vec(),
            URL_SAFE_NO_PAD.decode(signature).unwrap(),
        )
    };
    let raw_verify = |ctx: &mut PkeyCtx<Public>, (input, signature): &(Vec<u8>, Vec<u8>)| {
        // OpenSSL's streaming SHA-256 on a stack context (the one-shot `SHA256()` of OpenSSL 3
        // fetches the algorithm on every call): the cheapest digest, for the lowest floor.
        let mut hasher = openssl::sha::Sha256::new();
        hasher.update(black_box(input));
        let digest = hasher.finish();
        ctx.verify(&digest, black_box(signature)).unwrap()
    };
    assert!(raw_verify(&mut ctx, &split(&pool.tokens[0])));
    let mut raw_cursor = 0;

    let raw_calls = RefCell::new(Vec::new());
    let cold_calls = RefCell::new(Vec::new());
    let mut group = c.benchmark_group("churn");
    group.bench_function("r_raw_openssl_rs256_verify", |b| {
        b.iter_custom(|iters| {
            // Untimed: the inputs of this sample, from tokens the cold decision has not used
            // yet (and cycling through the pool when the sample is larger).
            let n = iters as usize;
            let inputs: Vec<_> = (0..n)
                .map(|i| split(&pool.tokens[(raw_cursor + i) % pool.tokens.len()]))
                .collect();
            raw_cursor += n;
            let start = CpuTimer::start();
            for input in &inputs {
                assert!(raw_verify(&mut ctx, input));
            }
            let elapsed = start.elapsed();
            raw_calls.borrow_mut().push((iters, elapsed));
            elapsed
        })
    });
    group.bench_function("c_cold_decision_full_cache", |b| {
        b.iter_custom(|iters| {
            // Untimed: new tokens for this sample, and their requests.
            let n = iters as usize;
            pool.ensure(cursor + n);
            let requests: Vec<OwnedRequest> = pool.tokens[cursor..cursor + n]
                .iter()
                .map(|t| bearer_request(t))
                .collect();
            cursor += n;
            let start = CpuTimer::start();
            for request in &requests {
                let state = try_authenticate_request(black_box(request), &options);
                assert!(matches!(&state, Ok(s) if s.is_signed_in()));
                drop(black_box(state));
            }
            let elapsed = start.elapsed();
            cold_calls.borrow_mut().push((iters, elapsed));
            elapsed
        })
    });
    // For comparison: the same decision on an instance without a verified-token cache (the
    // pool's tokens can repeat there: nothing is remembered).
    let uncached = pem_options_with_cache(keys, 0);
    let uncached_requests: Vec<OwnedRequest> = pool.tokens[..UNCACHED_TOKENS]
        .iter()
        .map(|t| bearer_request(t))
        .collect();
    let uncached_calls = RefCell::new(Vec::new());
    group.bench_function("n_cold_decision_no_cache", |b| {
        b.iter_custom(|iters| {
            let start = CpuTimer::start();
            for request in uncached_requests.iter().cycle().take(iters as usize) {
                let state = try_authenticate_request(black_box(request), &uncached);
                assert!(matches!(&state, Ok(s) if s.is_signed_in()));
                drop(black_box(state));
            }
            let elapsed = start.elapsed();
            uncached_calls.borrow_mut().push((iters, elapsed));
            elapsed
        })
    });
    group.finish();
    if std::env::var_os("CHURN_SAMPLES").is_some() {
        for (name, calls) in [
            ("raw", &raw_calls),
            ("cold", &cold_calls),
            ("uncached", &uncached_calls),
        ] {
            let per_iter: Vec<String> = calls
                .borrow()
                .iter()
                .map(|(iters, d)| format!("{iters}:{:.1}", d.as_secs_f64() * 1e6 / *iters as f64))
                .collect();
            println!(
                "churn: {name} calls (iterations:µs each): {}",
                per_iter.join(" ")
            );
        }
    }

    let (raw, cold) = (
        median_per_iter(&raw_calls.borrow()),
        median_per_iter(&cold_calls.borrow()),
    );
    let uncached = median_per_iter(&uncached_calls.borrow());
    println!(
        "churn: cold decision {:.2} µs, raw verify {:.2} µs: ratio {:.3} (medians of the last \
         {SAMPLES} samples; {} distinct tokens decided, the cache of capacity {capacity} full); \
         without a cache {:.2} µs: ratio {:.3}",
        cold * 1e6,
        raw * 1e6,
        cold / raw,
        cursor - capacity,
        uncached * 1e6,
        uncached / raw
    );

    // Paired: the machine's speed drifts between criterion's groups (a shared VM), so the same
    // comparison again, alternating blocks of raw verifies and cold decisions on new tokens, each
    // block timed on its own: both sides see the same machine at the same moment.
    const BLOCK: usize = 64;
    const BLOCKS: usize = 400;
    // Twice the tokens: the second half is decoded alone, for the breakdown.
    pool.ensure(cursor + 2 * BLOCK * BLOCKS);
    let mut decode_cursor = cursor + BLOCK * BLOCKS;
    let (mut raw_ns, mut cold_ns, mut decode_ns, mut hit_ns) = (0.0, 0.0, 0.0, 0.0);
    let hit = bearer_request(&pool.tokens[cursor - 1]);
    assert!(try_authenticate_request(&hit, &options)
        .unwrap()
        .is_signed_in());
    let mut ratios = Vec::with_capacity(BLOCKS);
    for block in 0..BLOCKS {
        let tokens = &pool.tokens[cursor..cursor + BLOCK];
        cursor += BLOCK;
        let requests: Vec<OwnedRequest> = tokens.iter().map(|t| bearer_request(t)).collect();
        let inputs: Vec<_> = (0..BLOCK)
            .map(|i| split(&pool.tokens[(raw_cursor + i) % pool.tokens.len()]))
            .collect();
        raw_cursor += BLOCK;
        let mut time_raw = || {
            let start = CpuTimer::start();
            for input in &inputs {
                assert!(raw_verify(&mut ctx, input));
            }
            start.elapsed().as_secs_f64()
        };
        let time_cold = || {
            let start = CpuTimer::start();
            for request in &requests {
                let state = try_authenticate_request(black_box(request), &options);
                assert!(matches!(&state, Ok(s) if s.is_signed_in()));
                drop(black_box(state));
            }
            start.elapsed().as_secs_f64()
        };
        // For the breakdown: decoding alone, on other new tokens (untimed in the ratio).
        let decode_tokens = &pool.tokens[decode_cursor..decode_cursor + BLOCK];
        decode_cursor += BLOCK;
        let start = CpuTimer::start();
        for token in decode_tokens {
            drop(black_box(clerk_auth_core::token::Jwt::decode(black_box(
                token,
            ))));
        }
        decode_ns += start.elapsed().as_secs_f64();
        // And the decision on a token already cached (the hit path: context, lookup, state).
        let start = CpuTimer::start();
        for _ in 0..BLOCK {
            drop(black_box(try_authenticate_request(
                black_box(&hit),
                &options,
            )));
        }
        hit_ns += start.elapsed().as_secs_f64();
        // Alternate which side goes first.
        let (r, c) = if block % 2 == 0 {
            let r = time_raw();
            (r, time_cold())
        } else {
            let c = time_cold();
            (time_raw(), c)
        };
        raw_ns += r;
        cold_ns += c;
        ratios.push(c / r);
    }
    let n = (BLOCK * BLOCKS) as f64;
    ratios.sort_by(f64::total_cmp);
    println!(
        "churn: paired, {BLOCKS} alternating blocks of {BLOCK}: cold decision {:.2} µs, raw \
         verify {:.2} µs: ratio {:.3} (totals; median of the blocks' ratios {:.3}); of the \
         difference, decoding a token alone takes {:.2} µs, a decision on a cached token {}",
        cold_ns / n * 1e6,
        raw_ns / n * 1e6,
        cold_ns / raw_ns,
        ratios[BLOCKS / 2],
        decode_ns / n * 1e6,
        if capacity == 0 {
            "- (no cache)".to_owned()
        } else {
            format!("{:.2} µs", hit_ns / n * 1e6)
        }
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(SAMPLES)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
