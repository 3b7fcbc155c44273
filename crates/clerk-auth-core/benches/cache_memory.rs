//! Memory held by the verified-token cache (issue 13, item 4): the resident set size (`VmRSS`)
//! of a process before and after `N` distinct session tokens are verified into a cache of
//! capacity `N`, divided by `N`.
//!
//! `cargo bench -p clerk-auth-core --bench cache_memory` (env: `MEM_TOKENS`, default 10 000,
//! the default capacity).
//!
//! Two ways of filling, each in a fresh child process (this binary runs itself) so that neither
//! reuses memory the other freed:
//!
//! - `verifier`: `Verifier::verify_token` (with `with_cache_capacity(N)`): the cached token alone;
//! - `decision`: `try_authenticate_request` on Bearer requests (options with
//!   `verified_token_cache_capacity(N)`): what a server holds, the session auth object that the
//!   decision builds once per cached token included.
//!
//! The tokens are minted on other threads (other malloc arenas) before the first reading, and a
//! few unrelated tokens are verified first, so that one-time set-up is not counted. The figure
//! includes the allocator's own overhead: it is what the process holds. Linux only (`/proc`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::process::Command;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::verify::{Verifier, VerifyOptions};
use clerk_auth_core::OwnedRequest;
use clerk_auth_core::{try_authenticate_request, Options, SystemClock};

const MODES: [&str; 2] = ["verifier", "decision"];
/// Tokens verified before the first reading (one-time set-up of the crypto library, the
/// decision's statics).
const WARM_UP: usize = 32;

/// Resident set size of this process, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kb * 1024
}

fn request(token: &str) -> OwnedRequest {
    TestRequest::get("https://app.example.com/api/me")
        .header("host", "app.example.com")
        .header("authorization", format!("Bearer {token}"))
        .build()
}

/// `n` distinct valid tokens, minted on two threads other than the caller's.
fn mint(keys: &'static KeyPair, n: usize) -> Vec<String> {
    let issued_at = SystemTime::now();
    let mut halves: Vec<Vec<String>> = thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|half| {
                s.spawn(move || {
                    (half..n)
                        .step_by(2)
                        .map(|i| {
                            TokenMinter::new(keys)
                                .issued_at(issued_at)
                                .ttl(Duration::from_secs(3600))
                                .subject(&format!("user_mem_{i:06}"))
                                .sid(&format!("sess_mem_{i:06}"))
                                .v2()
                                .mint()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let odd = halves.pop().unwrap();
    let mut even = halves.pop().unwrap();
    even.extend(odd);
    even
}

/// One fill, in this process: prints `mode n token_bytes empty_bytes filled_bytes hit_ns`.
fn child(mode: &str, n: usize) {
    let keys: &'static KeyPair = thread::spawn(KeyPair::shared).join().unwrap();
    let tokens = mint(keys, n + WARM_UP);
    let (warm_up, tokens) = tokens.split_at(WARM_UP);
    let token_bytes = tokens[0].len();

    let verifier = || {
        Verifier::new(
            keys.verifier(),
            VerifyOptions::default(),
            Arc::new(SystemClock),
        )
        .with_cache_capacity(n as u64)
    };
    let options = || {
        Options::builder()
            .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
            .secret_key("sk_live_bench")
            .jwt_key(keys.public_pem())
            .verified_token_cache_capacity(n as u64)
            .build()
            .unwrap()
    };
    // One-time set-up, on an instance of its own.
    match mode {
        "verifier" => {
            let v = verifier();
            for t in warm_up {
                v.verify_token(t).unwrap();
            }
        }
        _ => {
            let o = options();
            for t in warm_up {
                assert!(try_authenticate_request(&request(t), &o)
                    .unwrap()
                    .is_signed_in());
            }
        }
    }

    let before = rss();
    let (empty, filled, hit_ns);
    match mode {
        "verifier" => {
            let v = verifier();
            empty = rss();
            for t in tokens {
                v.verify_token(t).unwrap();
            }
            filled = rss();
            // Every token is a hit now (a cold verify costs 10 times more).
            let start = Instant::now();
            for t in tokens {
                black_box(v.verify_token(t).unwrap());
            }
            hit_ns = start.elapsed().as_nanos() / n as u128;
            drop(v);
        }
        _ => {
            let o = options();
            empty = rss();
            for t in tokens {
                let state = try_authenticate_request(&request(t), &o).unwrap();
                assert!(state.is_signed_in());
            }
            filled = rss();
            let requests: Vec<OwnedRequest> = tokens.iter().map(|t| request(t)).collect();
            let start = Instant::now();
            for r in &requests {
                black_box(try_authenticate_request(r, &o).unwrap());
            }
            hit_ns = start.elapsed().as_nanos() / n as u128;
            drop(o);
        }
    }
    println!(
        "{mode} {n} {token_bytes} {} {} {hit_ns}",
        empty as i64 - before as i64,
        filled as i64 - empty as i64
    );
}

fn main() {
    let n: usize = std::env::var("MEM_TOKENS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    if let Ok(mode) = std::env::var("CACHE_MEMORY_MODE") {
        child(&mode, n);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    println!("verified-token cache memory: {n} distinct tokens into a cache of capacity {n}");
    for mode in MODES {
        let out = Command::new(&exe)
            .env("CACHE_MEMORY_MODE", mode)
            .env("MEM_TOKENS", n.to_string())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let f: Vec<&str> = text.split_whitespace().collect();
        let num = |i: usize| f[i].parse::<f64>().unwrap();
        let (token_bytes, empty, filled, hit_ns) = (num(2), num(3), num(4), num(5));
        println!(
            "  {mode:<9} token {token_bytes:.0} B; empty cache {:.0} KiB; filled +{:.1} MiB = \
             {:.0} bytes per cached token ({:.1} x the token's length); a hit afterwards {hit_ns:.0} ns",
            empty / 1024.0,
            filled / 1024.0 / 1024.0,
            filled / n as f64,
            filled / n as f64 / token_bytes,
        );
    }
}
