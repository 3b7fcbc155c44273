//! The decision never blocks the executor: while one request waits for a slow key-set fetch,
//! requests whose key is cached are answered at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use clerk_auth_core::testing::server::{BackendApiServer, Endpoint};
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::Options;
use clerk_auth_vectors::client::{agent, get};
use support::{app_without_self_check, serve};

const CONCURRENT: usize = 50;

fn token(keys: &KeyPair, kid: &str, user: &str) -> String {
    TokenMinter::new(keys)
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(3600))
        .kid(kid)
        .subject(user)
        .mint()
}

#[test]
fn cached_keys_answer_while_a_cold_fetch_waits() {
    let emulator = BackendApiServer::start("sk_live_nonblocking").unwrap();
    let warm_keys = KeyPair::shared();
    let cold_keys = KeyPair::shared_other();
    emulator.set_keys(vec![warm_keys.jwk("kid_warm")]);
    let options = Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key(emulator.secret())
        .api_url(emulator.url())
        .jwks_kid_miss_cooldown(Duration::ZERO)
        // Long enough for the emulator's 2 s delay.
        .jwks_timeout(Duration::from_secs(4))
        .jwks_fetch_budget(Duration::from_secs(4))
        .build()
        .unwrap();
    // No self-check at launch: the first request below warms the cache.
    let (rocket, _) = app_without_self_check(options);
    let server = serve(rocket);
    let me = format!("{}/api/me", server.base);

    // Warm the key cache, and open one keep-alive connection per client (its token verified once).
    let warm = format!("Bearer {}", token(warm_keys, "kid_warm", "user_warm"));
    assert_eq!(get(&agent(), &me, &[("Authorization", &warm)]).status, 200);
    assert_eq!(emulator.jwks_fetches(), 1);
    let clients: Vec<(ureq::Agent, String)> = (0..CONCURRENT)
        .map(|i| {
            let agent = agent();
            let bearer = format!(
                "Bearer {}",
                token(warm_keys, "kid_warm", &format!("user_{i}"))
            );
            assert_eq!(get(&agent, &me, &[("Authorization", &bearer)]).status, 200);
            (agent, bearer)
        })
        .collect();

    // A token with an unknown kid: its refresh waits 2 s on the emulator.
    emulator.set_keys(vec![warm_keys.jwk("kid_warm"), cold_keys.jwk("kid_cold")]);
    emulator.set_delay(Endpoint::Jwks, Duration::from_secs(2));
    let cold_bearer = format!("Bearer {}", token(cold_keys, "kid_cold", "user_cold"));
    let cold_url = me.clone();
    let cold_started = Instant::now();
    let cold = thread::spawn(move || {
        let reply = get(&agent(), &cold_url, &[("Authorization", &cold_bearer)]);
        (reply, cold_started.elapsed())
    });
    let deadline = Instant::now() + Duration::from_secs(2);
    while emulator.hits(Endpoint::Jwks) < 2 {
        assert!(Instant::now() < deadline, "the cold request never fetched");
        thread::sleep(Duration::from_millis(5));
    }

    // Fifty concurrent requests with a cached key.
    let barrier = Arc::new(Barrier::new(CONCURRENT + 1));
    let handles: Vec<_> = clients
        .into_iter()
        .map(|(agent, bearer)| {
            let barrier = barrier.clone();
            let url = me.clone();
            thread::spawn(move || {
                barrier.wait();
                get(&agent, &url, &[("Authorization", &bearer)]).status
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let elapsed = started.elapsed();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert!(
        // Waiting on the slow fetch would take far longer; room for a loaded machine.
        elapsed < Duration::from_millis(1000),
        "{CONCURRENT} cached requests took {elapsed:?}"
    );
    assert!(
        !cold.is_finished(),
        "the cold request should still be waiting"
    );

    let (reply, cold_elapsed) = cold.join().unwrap();
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json()["userId"], "user_cold");
    assert!(cold_elapsed >= Duration::from_secs(2), "{cold_elapsed:?}");
    eprintln!("{CONCURRENT} cached requests in {elapsed:?}; cold request in {cold_elapsed:?}");
}
