//! What the cold-path benches share (`churn` here, `cold_path` of the examples, which includes
//! this file by path): the measuring thread's CPU clock, and a pool of distinct valid tokens.
#![allow(dead_code)] // Each bench uses part of it.

use std::thread;
use std::time::{Duration, Instant, SystemTime};

use clerk_auth_core::options::DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY;
use clerk_auth_core::testing::{KeyPair, TestRequest, TokenMinter};
use clerk_auth_core::{Options, OwnedRequest};

/// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`, exact to the nanosecond;
/// `/proc/thread-self/schedstat` advances only at the scheduler's ticks on these machines, 4 ms:
/// ±15 % on a 30 ms sample). On a shared machine, time other processes take the core is not
/// counted.
pub(crate) fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// A timer on [`thread_cpu`].
pub(crate) struct CpuTimer(Duration);

impl CpuTimer {
    pub(crate) fn start() -> Self {
        Self(thread_cpu())
    }

    pub(crate) fn elapsed(&self) -> Duration {
        thread_cpu().saturating_sub(self.0)
    }
}

/// Distinct valid tokens (iat fixed at creation, ttl 1 h; subject `user_<label>_<i>`, session
/// `sess_<label>_<i>`), minted on demand on two threads.
pub(crate) struct Pool<'k> {
    pub(crate) keys: &'k KeyPair,
    pub(crate) issued_at: SystemTime,
    pub(crate) tokens: Vec<String>,
    /// Time spent minting so far.
    pub(crate) minting: Duration,
    label: &'static str,
}

impl<'k> Pool<'k> {
    pub(crate) fn new(keys: &'k KeyPair, label: &'static str) -> Self {
        Self {
            keys,
            issued_at: SystemTime::now(),
            tokens: Vec::new(),
            minting: Duration::ZERO,
            label,
        }
    }

    fn mint(keys: &KeyPair, issued_at: SystemTime, label: &str, i: usize) -> String {
        TokenMinter::new(keys)
            .issued_at(issued_at)
            .ttl(Duration::from_secs(3600))
            .subject(&format!("user_{label}_{i}"))
            .sid(&format!("sess_{label}_{i}"))
            .mint()
    }

    /// Makes sure the pool holds at least `len` tokens.
    pub(crate) fn ensure(&mut self, len: usize) {
        let from = self.tokens.len();
        if len <= from {
            return;
        }
        let start = Instant::now();
        let (keys, issued_at, label) = (self.keys, self.issued_at, self.label);
        let mut halves: Vec<Vec<String>> = thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|half| {
                    s.spawn(move || {
                        (from + half..len)
                            .step_by(2)
                            .map(|i| Self::mint(keys, issued_at, label, i))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("minting thread"))
                .collect()
        });
        let (odd, even) = (
            halves.pop().unwrap_or_default(),
            halves.pop().unwrap_or_default(),
        );
        let mut odd = odd.into_iter();
        for token in even {
            self.tokens.push(token);
            self.tokens.extend(odd.next());
        }
        self.tokens.extend(odd);
        self.minting += start.elapsed();
    }
}

/// Options verifying `keys`' tokens without network (a PEM key), the defaults otherwise.
pub(crate) fn pem_options(keys: &KeyPair) -> Options {
    pem_options_with_cache(keys, DEFAULT_VERIFIED_TOKEN_CACHE_CAPACITY)
}

/// [`pem_options`] with a verified-token cache of `capacity` tokens (`0`: none).
pub(crate) fn pem_options_with_cache(keys: &KeyPair, capacity: u64) -> Options {
    Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_live_bench")
        .jwt_key(keys.public_pem())
        .verified_token_cache_capacity(capacity)
        .build()
        .expect("bench options")
}

/// A browser-like API request carrying `token` as a Bearer token.
pub(crate) fn bearer_request(token: &str) -> OwnedRequest {
    TestRequest::get("https://app.example.com/api/me")
        .header("host", "app.example.com")
        .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64) bench")
        .header("accept", "application/json")
        .header("accept-encoding", "gzip, br")
        .header("authorization", format!("Bearer {token}"))
        .build()
}
