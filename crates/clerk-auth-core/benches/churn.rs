//! The cold decision under churn (issue 13, item 3): (c) `try_authenticate_request` on a Bearer
//! request whose token was never seen, with the verified-token cache full (its default capacity,
//! filled beforehand) and every token new, against (r) the raw RSA-2048 PKCS#1 v1.5 SHA-256
//! verify through OpenSSL's lowest level (an `EVP_PKEY_verify` on a key and context built once,
//! plus the SHA-256 of the signing input), in one run. Prints the ratio (c) / (r), and for
//! comparison (n), the same cold decision on an instance without a verified-token cache.
//!
//! `cargo bench -p clerk-auth-core --bench churn`
//!
//! Times are the measuring thread's CPU time (`/proc/thread-self/schedstat`; wall time where it
//! is missing), so that a busy machine slows the figures less.
//!
//! The tokens are minted (RSA signing, about 1 ms each, on two threads) outside the measured
//! loops: a pool made before the run, topped up between samples when criterion asks for more
//! iterations than it holds; no token is ever decided twice. Minting is what makes this bench
//! slow, so its default measurement is short (10 samples, 1 s warm-up, 2 s measurement);
//! criterion's `--warm-up-time` / `--measurement-time` override it. `CHURN_SAMPLES=1` also
//! prints every call's iterations and time per iteration (to see the machine's noise).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clerk_auth_core::options::DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::{try_authenticate_request, Options, TestRequest};
use criterion::{criterion_group, criterion_main, Criterion};
use openssl::md::Md;
use openssl::pkey::{PKey, Public};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;

const SAMPLES: usize = 10;

/// Distinct valid tokens (iat now, ttl 1 h), minted on two threads.
struct Pool<'k> {
    keys: &'k KeyPair,
    issued_at: SystemTime,
    tokens: Vec<String>,
}

impl Pool<'_> {
    fn ensure(&mut self, len: usize) {
        let from = self.tokens.len();
        if len <= from {
            return;
        }
        let (keys, issued_at) = (self.keys, self.issued_at);
        let mut halves: Vec<Vec<String>> = thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|half| {
                    s.spawn(move || {
                        (from + half..len)
                            .step_by(2)
                            .map(|i| {
                                TokenMinter::new(keys)
                                    .issued_at(issued_at)
                                    .ttl(Duration::from_secs(3600))
                                    .subject(&format!("user_churn_{i}"))
                                    .sid(&format!("sess_churn_{i}"))
                                    .mint()
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let (odd, even) = (halves.pop().unwrap(), halves.pop().unwrap());
        let mut odd = odd.into_iter();
        for token in even {
            self.tokens.push(token);
            self.tokens.extend(odd.next());
        }
        self.tokens.extend(odd);
    }
}

fn request(token: &str) -> TestRequest {
    TestRequest::get("https://app.example.com/api/me")
        .header("host", "app.example.com")
        .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64) bench")
        .header("accept", "application/json")
        .header("accept-encoding", "gzip, br")
        .header("authorization", format!("Bearer {token}"))
        .build()
}

/// CPU time of the calling thread (`/proc/thread-self/schedstat`), or wall time where that is
/// missing: on a shared machine, time other processes take the core from the bench is not
/// counted.
enum CpuTimer {
    Cpu(u64),
    Wall(Instant),
}

impl CpuTimer {
    fn thread_cpu_ns() -> Option<u64> {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    fn start() -> Self {
        match Self::thread_cpu_ns() {
            Some(ns) => Self::Cpu(ns),
            None => Self::Wall(Instant::now()),
        }
    }

    fn elapsed(&self) -> Duration {
        match self {
            Self::Cpu(start) => Duration::from_nanos(
                Self::thread_cpu_ns()
                    .unwrap_or(*start)
                    .saturating_sub(*start),
            ),
            Self::Wall(start) => start.elapsed(),
        }
    }
}

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
    let options = Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_live_bench")
        .jwt_key(keys.public_pem())
        .build()
        .unwrap();

    // Fill the cache to its default capacity with tokens of their own.
    let capacity = DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY as usize;
    let mut pool = Pool {
        keys,
        issued_at: SystemTime::now(),
        tokens: Vec::new(),
    };
    let start = Instant::now();
    pool.ensure(capacity + 20_000);
    eprintln!(
        "churn: minted {} tokens in {:.1} s",
        pool.tokens.len(),
        start.elapsed().as_secs_f64()
    );
    for token in &pool.tokens[..capacity] {
        let state = try_authenticate_request(&request(token), &options).unwrap();
        assert!(state.is_signed_in());
    }
    let mut cursor = capacity;

    let key = PKey::public_key_from_pem(keys.public_pem().as_bytes()).unwrap();
    let mut ctx: PkeyCtx<Public> = PkeyCtx::new(&key).unwrap();
    ctx.verify_init().unwrap();
    ctx.set_rsa_padding(Padding::PKCS1).unwrap();
    ctx.set_signature_md(Md::sha256()).unwrap();
    let (input, signature) = pool.tokens[0].rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let raw_verify = |ctx: &mut PkeyCtx<Public>| {
        // OpenSSL's streaming SHA-256 on a stack context (the one-shot `SHA256()` of OpenSSL 3
        // fetches the algorithm on every call): the cheapest digest, for the lowest floor.
        let mut hasher = openssl::sha::Sha256::new();
        hasher.update(black_box(input.as_bytes()));
        let digest = hasher.finish();
        ctx.verify(&digest, black_box(&signature)).unwrap()
    };
    assert!(raw_verify(&mut ctx));

    let raw_calls = RefCell::new(Vec::new());
    let cold_calls = RefCell::new(Vec::new());
    let mut group = c.benchmark_group("churn");
    group.bench_function("r_raw_openssl_rs256_verify", |b| {
        b.iter_custom(|iters| {
            let start = CpuTimer::start();
            for _ in 0..iters {
                assert!(raw_verify(&mut ctx));
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
            let requests: Vec<TestRequest> = pool.tokens[cursor..cursor + n]
                .iter()
                .map(|t| request(t))
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
    let uncached = Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_live_bench")
        .jwt_key(keys.public_pem())
        .verified_token_cache_capacity(0)
        .build()
        .unwrap();
    let uncached_requests: Vec<TestRequest> =
        pool.tokens[..capacity].iter().map(|t| request(t)).collect();
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
        "churn: cold decision with a full cache {:.2} µs, raw verify {:.2} µs: ratio {:.3} \
         (medians of the last {SAMPLES} samples; {} distinct tokens decided after filling the \
         cache with {capacity}); without a cache {:.2} µs: ratio {:.3}",
        cold * 1e6,
        raw * 1e6,
        cold / raw,
        cursor - capacity,
        uncached * 1e6,
        uncached / raw
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
