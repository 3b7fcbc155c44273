//! Heap allocations on the cold path (issue 13): Rust heap blocks and bytes per cold decision
//! (a Bearer request whose token was never seen, the verified-token cache full and every token
//! new), per token decode, and held per cached token, counted by `dhat`'s allocator.
//!
//! `cargo bench -p clerk-auth-core --bench allocs`
//!
//! Counts are exact, so unlike times they do not depend on the machine's load. OpenSSL's own
//! allocations (inside the RSA verify, which the floor makes too) go through `malloc` directly
//! and are not counted.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use clerk_auth_core::options::DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY;
use clerk_auth_core::testing::KeyPair;
use clerk_auth_core::token::Jwt;
use clerk_auth_core::{try_authenticate_request, OwnedRequest};

#[path = "support/bench_support.rs"]
mod support;

use support::{bearer_request, pem_options, Pool};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Cold decisions counted after the cache is full.
const COUNTED: usize = 2_000;

/// (blocks, bytes) allocated while `f` runs, and (blocks, bytes) still held after it.
fn count(f: impl FnOnce()) -> ((u64, u64), (i64, i64)) {
    let before = dhat::HeapStats::get();
    f();
    let after = dhat::HeapStats::get();
    let held = |a: usize, b: usize| i64::try_from(a).unwrap() - i64::try_from(b).unwrap();
    (
        (
            after.total_blocks - before.total_blocks,
            after.total_bytes - before.total_bytes,
        ),
        (
            held(after.curr_blocks, before.curr_blocks),
            held(after.curr_bytes, before.curr_bytes),
        ),
    )
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench` asks every bench to list its tests; this one has none.
    }
    let _profiler = dhat::Profiler::builder().testing().build();
    let keys = KeyPair::shared();
    let options = pem_options(keys);
    let capacity = DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY as usize;
    let mut pool = Pool::new(keys, "allocs");
    pool.ensure(capacity + 2 * COUNTED);

    // Held per cached token: the cache filled from empty (the first tokens also pay one-time
    // set-up, so the figure is taken over the second half).
    let requests: Vec<OwnedRequest> = pool.tokens[..capacity]
        .iter()
        .map(|t| bearer_request(t))
        .collect();
    let half = capacity / 2;
    for r in &requests[..half] {
        assert!(try_authenticate_request(r, &options)
            .unwrap()
            .is_signed_in());
    }
    let (_, (held_blocks, held_bytes)) = count(|| {
        for r in &requests[half..] {
            let state = try_authenticate_request(r, &options).unwrap();
            assert!(state.is_signed_in());
        }
    });
    drop(requests);
    let n = (capacity - half) as f64;
    println!(
        "allocs: held per cached token: {:.1} blocks, {:.0} bytes",
        held_blocks as f64 / n,
        held_bytes as f64 / n
    );

    // Per cold decision with the cache full: the request is built outside the count.
    let requests: Vec<OwnedRequest> = pool.tokens[capacity..capacity + COUNTED]
        .iter()
        .map(|t| bearer_request(t))
        .collect();
    let ((blocks, bytes), _) = count(|| {
        for r in &requests {
            let state = try_authenticate_request(r, &options).unwrap();
            assert!(state.is_signed_in());
            drop(black_box(state));
        }
    });
    println!(
        "allocs: per cold decision (cache full, every token new): {:.1} blocks, {:.0} bytes",
        blocks as f64 / COUNTED as f64,
        bytes as f64 / COUNTED as f64
    );

    let tokens = &pool.tokens[capacity + COUNTED..];
    let ((blocks, bytes), _) = count(|| {
        for t in tokens {
            drop(black_box(Jwt::decode(t).unwrap()));
        }
    });
    println!(
        "allocs: per token decode: {:.1} blocks, {:.0} bytes",
        blocks as f64 / tokens.len() as f64,
        bytes as f64 / tokens.len() as f64
    );
}
