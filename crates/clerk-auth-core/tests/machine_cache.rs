//! The opaque machine-token answer cache, over real HTTP against the Backend API emulator:
//! revocation within the TTL, single flight, refusals remembered by the budget's negative cache
//! only, per-instance scope,
//! `expiration` honoured, and non-blocking answers from the cache.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, UNIX_EPOCH};

use clerk_auth_core::testing::server::{BackendApiServer, Endpoint};
use clerk_auth_core::testing::FixedClock;
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::OwnedRequest;
use clerk_auth_core::{
    authenticate_request, try_authenticate_request, AcceptsToken, AuthStatus, Interrupt, Options,
    RequestState, TokenType,
};
use serde_json::{json, Value};

const SECRET: &str = "sk_test_machine_cache";
const AK: &str = "ak_2cacheApiKeySecret";
const NOW: u64 = 1_700_000_000;

fn api_key(revoked: bool) -> Value {
    json!({
        "object": "api_key", "id": "ak_id_cache", "type": "api_key", "name": "cache",
        "subject": "user_2cache", "scopes": ["read"], "claims": null,
        "revoked": revoked, "revocation_reason": if revoked { json!("leaked") } else { Value::Null },
        "expired": false, "expiration": null, "created_by": null, "description": null,
        "last_used_at": null, "created_at": 1, "updated_at": 1,
    })
}

fn server() -> BackendApiServer {
    let server = BackendApiServer::start(SECRET).unwrap();
    server.set_machine_token(Endpoint::ApiKeyVerify, AK, api_key(false));
    server
}

fn options(server: &BackendApiServer, ttl: Duration, clock: Arc<FixedClock>) -> Options {
    Options::builder()
        .secret_key(server.secret())
        .api_url(server.url())
        .accepts_token(AcceptsToken::Only(TokenType::ApiKey))
        .machine_token_cache_ttl(ttl)
        .clock(clock)
        .build()
        .unwrap()
}

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::at_unix(NOW))
}

fn request(token: &str) -> OwnedRequest {
    TestRequest::get("https://api.example.com/data")
        .bearer(token)
        .build()
}

fn decide(options: &Options, token: &str) -> RequestState {
    authenticate_request(&request(token), options).unwrap()
}

#[test]
fn revocation_is_honoured_once_the_ttl_has_passed() {
    let server = server();
    let ttl = Duration::from_millis(400);
    let other = options(&server, ttl, clock());
    let options = options(&server, ttl, clock());

    let first = decide(&options, AK);
    assert!(first.is_signed_in(), "{first:?}");
    assert_eq!(first.machine().unwrap().subject, "user_2cache");
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), 1);

    // Revoked in Clerk: within the TTL the cached answer still serves (the documented trade-off).
    server.set_machine_token(Endpoint::ApiKeyVerify, AK, api_key(true));
    assert!(decide(&options, AK).is_signed_in());
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), 1);

    thread::sleep(ttl + Duration::from_millis(200));
    let revoked = decide(&options, AK);
    assert_eq!(revoked.status(), AuthStatus::SignedOut);
    assert_eq!(revoked.reason().unwrap().as_str(), "token-invalid");
    assert_eq!(
        revoked.message(),
        Some("API key has been revoked (code=token-invalid, status=n/a)")
    );
    assert_eq!(revoked.token_type(), Some(TokenType::ApiKey));
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), 2);

    // A refusal is not kept by the answer cache, but remembered by the Backend API budget's
    // negative cache (decision 13, 10 s by default): the next request makes no call.
    assert_eq!(decide(&options, AK).message(), revoked.message());
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), 2);

    // Deleted: Clerk's 404 (asked by an instance that has not refused the token yet).
    server.remove_machine_token(Endpoint::ApiKeyVerify, AK);
    let gone = decide(&other, AK);
    assert_eq!(
        gone.message(),
        Some("API key not found (code=token-invalid, status=404)")
    );
}

#[test]
fn concurrent_requests_with_a_new_token_make_one_backend_api_call() {
    let server = server();
    // A slow answer makes sure every thread arrives while the first call is running.
    server.set_delay(Endpoint::ApiKeyVerify, Duration::from_millis(300));
    let options = options(&server, Duration::from_secs(60), clock());
    let barrier = Arc::new(Barrier::new(32));
    let handles: Vec<_> = (0..32)
        .map(|_| {
            let (options, barrier) = (options.clone(), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                decide(&options, AK)
            })
        })
        .collect();
    for h in handles {
        let state = h.join().unwrap();
        assert!(state.is_signed_in(), "{state:?}");
        assert_eq!(state.token(), Some(AK));
    }
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), 1);
    // And later requests are answered from the cache.
    assert!(decide(&options, AK).is_signed_in());
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), 1);
}

#[test]
fn concurrent_requests_with_an_unknown_token_share_the_refusal() {
    let server = server();
    server.set_delay(Endpoint::ApiKeyVerify, Duration::from_millis(300));
    let options = options(&server, Duration::from_secs(60), clock());
    let barrier = Arc::new(Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (options, barrier) = (options.clone(), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                decide(&options, "ak_unknown")
            })
        })
        .collect();
    for h in handles {
        let state = h.join().unwrap();
        assert_eq!(
            state.message(),
            Some("API key not found (code=token-invalid, status=404)")
        );
    }
    let coalesced = server.hits(Endpoint::ApiKeyVerify);
    assert!(
        coalesced < 16,
        "{coalesced} calls for 16 concurrent requests"
    );
    // The refusal is remembered by the budget's negative cache: no further call.
    server.set_delay(Endpoint::ApiKeyVerify, Duration::ZERO);
    let _ = decide(&options, "ak_unknown");
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), coalesced);
}

#[test]
fn a_zero_ttl_asks_the_backend_api_every_time() {
    let server = server();
    let options = options(&server, Duration::ZERO, clock());
    assert_eq!(options.machine_token_cache_ttl(), Duration::ZERO);
    for _ in 0..3 {
        assert!(decide(&options, AK).is_signed_in());
    }
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), 3);
}

#[test]
fn the_cache_belongs_to_one_options_instance() {
    let server = server();
    let a = options(&server, Duration::from_secs(60), clock());
    let b = options(&server, Duration::from_secs(60), clock());
    assert!(decide(&a, AK).is_signed_in());
    assert!(decide(&a.clone(), AK).is_signed_in());
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), 1);
    assert!(decide(&b, AK).is_signed_in());
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), 2);
}

#[test]
fn the_default_ttl_is_five_seconds() {
    let server = server();
    let options = Options::builder()
        .secret_key(server.secret())
        .accepts_token(AcceptsToken::Only(TokenType::ApiKey))
        .build()
        .unwrap();
    assert_eq!(options.machine_token_cache_ttl(), Duration::from_secs(5));
}

#[test]
fn a_cached_answer_is_not_used_past_the_tokens_expiration() {
    let server = server();
    let expiration_ms = (NOW + 2) * 1000;
    let mut body = api_key(false);
    body["expiration"] = json!(expiration_ms);
    server.set_machine_token(Endpoint::ApiKeyVerify, AK, body);
    let clock = clock();
    let options = options(&server, Duration::from_secs(60), Arc::clone(&clock));
    assert!(decide(&options, AK).is_signed_in());
    assert!(decide(&options, AK).is_signed_in());
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), 1);
    clock.set(UNIX_EPOCH + Duration::from_millis(expiration_ms));
    // The Backend API is asked again (here it still answers 200; Clerk would refuse).
    assert!(decide(&options, AK).is_signed_in());
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), 2);
}

#[test]
fn non_blocking_answers_only_from_the_cache() {
    let server = server();
    let options = options(&server, Duration::from_secs(60), clock());
    // A new opaque token needs the Backend API.
    assert!(matches!(
        try_authenticate_request(&request(AK), &options),
        Err(Interrupt::WouldBlock(_))
    ));
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), 0);
    assert!(decide(&options, AK).is_signed_in());
    // Now cached: answered without IO.
    let state = try_authenticate_request(&request(AK), &options).unwrap();
    assert!(state.is_signed_in());
    assert_eq!(server.hits(Endpoint::ApiKeyVerify), 1);
    // A token not refused yet: still interrupts.
    assert!(matches!(
        try_authenticate_request(&request("ak_unknown"), &options),
        Err(Interrupt::WouldBlock(_))
    ));
    // A type mismatch needs no IO.
    let mismatch = try_authenticate_request(&request("mt_123"), &options).unwrap();
    assert_eq!(mismatch.reason().unwrap().as_str(), "token-type-mismatch");
}
