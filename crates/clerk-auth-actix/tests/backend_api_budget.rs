//! The Backend API budget (decision 13) through a real actix-web server on loopback and real
//! HTTP: a flood of never-seen API keys and handshake nonces makes at most the budget's calls to
//! the Backend API emulator, over-budget keys are answered `503` with `Retry-After: 1` and the
//! reason, and a known API key keeps answering `200` in the middle of the flood.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use actix_web::{web, HttpResponse};
use clerk_auth_actix::{AuthState, ClerkAuth, SignedIn};
use clerk_auth_core::testing::server::{BackendApiServer, Endpoint};
use clerk_auth_core::{AcceptsToken, Options};
use clerk_auth_vectors::client::{agent, get, Reply};
use serde_json::json;
use support::{serve, Server};

mod support;

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
const SECRET: &str = "sk_live_actix_budget";
const GOOD: &str = "ak_2knownGoodActixKey";
const OVER: &str = "backend-api-budget-exhausted";

/// The app on 127.0.0.1:0 under `ClerkAuth`: `/api/me` requires a signed-in request, every other
/// path is public.
fn start(options: Options) -> Server {
    serve(2, move |cfg| {
        cfg.service(
            web::scope("")
                .wrap(ClerkAuth::new(options.clone()))
                .route("/api/me", web::to(me))
                .default_service(web::to(public)),
        );
    })
}

async fn me(user: SignedIn) -> HttpResponse {
    HttpResponse::Ok().json(user.auth_json())
}

async fn public(auth: AuthState) -> HttpResponse {
    HttpResponse::Ok().body(if auth.is_signed_in() {
        "signed-in"
    } else {
        "signed-out"
    })
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn a_flood_through_actix_stays_within_the_budget_and_known_keys_answer_200() {
    const FLOOD: usize = 300;
    let api = BackendApiServer::start(SECRET).unwrap();
    api.set_machine_token(
        Endpoint::ApiKeyVerify,
        GOOD,
        json!({
            "id": "ak_id_known", "subject": "user_2known", "scopes": ["read"], "claims": null,
            "revoked": false, "expired": false, "expiration": null, "name": "known",
        }),
    );
    api.set_delay(Endpoint::ApiKeyVerify, Duration::from_millis(20));
    api.set_delay(Endpoint::HandshakePayload, Duration::from_millis(20));
    let options = api
        .options_builder()
        .publishable_key(PK_LIVE)
        .accepts_token(AcceptsToken::Any)
        // A loaded machine must not turn the emulator's answers into timeouts.
        .backend_api_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let budget = options.backend_api_budget().clone();
    let server = start(options);
    let base = server.base.clone();
    let client = agent();

    // The known key, once before the flood: 200, its answer cached.
    let first = get(
        &client,
        &format!("{base}/api/me"),
        &[("authorization", &bearer(GOOD))],
    );
    assert_eq!(first.status, 200, "{}", first.body);
    api.reset_hits();

    // All at once for the first third, then spread over about a second.
    let stagger = |i: usize| Duration::from_millis(i.saturating_sub(FLOOD / 3) as u64 * 5);
    let barrier = Arc::new(Barrier::new(2 * FLOOD + 2));
    let done = Arc::new(AtomicBool::new(false));
    let keys: Vec<_> = (0..FLOOD)
        .map(|i| {
            let (client, barrier, url) = (client.clone(), Arc::clone(&barrier), base.clone());
            thread::spawn(move || {
                barrier.wait();
                thread::sleep(stagger(i));
                let token = bearer(&format!("ak_actixFlood{i:04}"));
                get(
                    &client,
                    &format!("{url}/api/me"),
                    &[("authorization", &token)],
                )
            })
        })
        .collect();
    let nonces: Vec<_> = (0..FLOOD)
        .map(|i| {
            let (client, barrier, url) = (client.clone(), Arc::clone(&barrier), base.clone());
            thread::spawn(move || {
                barrier.wait();
                thread::sleep(stagger(i));
                let cookie = format!("__clerk_handshake_nonce=actix_nonce_{i}");
                get(&client, &format!("{url}/page"), &[("cookie", &cookie)])
            })
        })
        .collect();
    let known = {
        let (client, barrier, done, url) = (
            client.clone(),
            Arc::clone(&barrier),
            Arc::clone(&done),
            base.clone(),
        );
        thread::spawn(move || {
            barrier.wait();
            let mut replies = Vec::new();
            while !done.load(Ordering::SeqCst) {
                replies.push(get(
                    &client,
                    &format!("{url}/api/me"),
                    &[("authorization", &bearer(GOOD))],
                ));
                thread::sleep(Duration::from_millis(5));
            }
            replies
        })
    };
    // No flood thread can call before this thread reaches the barrier: the window is measured
    // from here to the last answer.
    let start = Instant::now();
    barrier.wait();
    let keys: Vec<Reply> = keys.into_iter().map(|h| h.join().unwrap()).collect();
    let nonces: Vec<Reply> = nonces.into_iter().map(|h| h.join().unwrap()).collect();
    let elapsed = start.elapsed();
    done.store(true, Ordering::SeqCst);
    let known = known.join().unwrap();

    let key_calls = api.hits(Endpoint::ApiKeyVerify);
    let nonce_calls = api.hits(Endpoint::HandshakePayload);
    let calls = key_calls + nonce_calls;
    let bound = f64::from(budget.burst())
        + f64::from(budget.rate_per_second()) * elapsed.as_secs_f64()
        + budget.max_in_flight() as f64;
    eprintln!(
        "actix flood: {calls} calls ({key_calls} keys, {nonce_calls} nonces) for {} requests in {elapsed:?}; bound {bound:.1}",
        2 * FLOOD
    );
    assert!(
        (calls as f64) <= bound,
        "{calls} calls in {elapsed:?}: more than the budget's {bound:.1}"
    );

    // Over budget: 503, Retry-After: 1, the reason in the body and the debug header. Otherwise
    // the Backend API refused the key (one call each): 401.
    let mut over = 0;
    let mut refused = 0;
    for reply in &keys {
        match reply.status {
            503 => {
                over += 1;
                assert_eq!(reply.header("retry-after"), Some("1"), "{}", reply.body);
                assert_eq!(reply.json()["reason"], OVER);
                assert_eq!(reply.header("x-clerk-auth-reason"), Some(OVER));
            }
            401 => {
                refused += 1;
                assert_eq!(reply.json()["reason"], "token-invalid", "{}", reply.body);
                assert_eq!(reply.header("retry-after"), None);
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert_eq!(over + refused, FLOOD);
    assert_eq!(refused, key_calls);
    assert!(over > 0, "the flood exceeded the budget");
    // Nonces that could not be resolved (over budget or unknown): the page is served signed out.
    for reply in &nonces {
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body, "signed-out");
    }
    // The known key: 200 throughout the flood.
    assert!(!known.is_empty());
    for reply in &known {
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.json()["userId"], "user_2known", "{}", reply.body);
    }
}
