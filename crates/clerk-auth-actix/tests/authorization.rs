//! Authorization through a real actix-web server on loopback, over real HTTP: `Require` on a
//! resource answers `401` signed out, `403` `{"status":"forbidden"}` without the role, `403` with
//! Clerk's exact reverification error without a recent verification, `200` otherwise; the
//! auth object's accessors on `SignedIn`; a scope with its own token types (API keys and M2M
//! tokens) and one with pending sessions, next to the session routes, on one key set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use actix_web::{web, HttpResponse};
use clerk_auth_actix::{ClerkAuth, Require, SignedIn};
use clerk_auth_core::testing::server::{BackendApiServer, Endpoint};
use clerk_auth_core::testing::{FixedClock, KeyPair, TokenMinter};
use clerk_auth_core::{Has, Options, Reverification, TokenType};
use clerk_auth_vectors::client::{agent, get, Reply};
use serde_json::json;
use support::{serve, Server};

mod support;

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
const NOW: u64 = 1_700_000_000;
const KID: &str = "ins_actix_authz";
const REVERIFY_STRICT: &str = r#"{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"strict"}}}"#;

/// The auth object through the accessors every adapter's `SignedIn` shares.
async fn me(user: SignedIn) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "userId": user.user_id(),
        "sessionId": user.session_id(),
        "orgId": user.org_id(),
        "orgRole": user.org_role(),
        "orgSlug": user.org_slug(),
        "admin": user.has(&Has::role("org:admin")),
        "tokenType": user.auth_json()["tokenType"],
    }))
}

/// `/api/me`, `/api/org-admin` (`Require` role), `/api/reverify` (`Require` strict
/// reverification) under the session middleware; `/machines/me` under a middleware for API keys
/// and M2M tokens; `/onboarding/me` under one accepting pending sessions; `/bare/admin` with
/// `Require` and no `ClerkAuth`.
fn start(options: Options) -> Server {
    let clerk = ClerkAuth::new(options);
    let machines = clerk
        .clone()
        .accepts_token(vec![TokenType::ApiKey, TokenType::M2mToken])
        .unwrap()
        .api();
    let onboarding = clerk.clone().accept_pending_sessions(true);
    serve(1, move |cfg| {
        cfg.service(
            web::scope("/machines")
                .wrap(machines.clone())
                .route("/me", web::to(me)),
        )
        .service(
            web::scope("/onboarding")
                .wrap(onboarding.clone())
                .route("/me", web::to(me)),
        )
        .service(
            web::resource("/bare/admin")
                .wrap(Require::new(Has::role("org:admin")))
                .to(me),
        )
        .service(
            web::scope("")
                .wrap(clerk.clone())
                .route("/api/me", web::to(me))
                .service(
                    web::resource("/api/org-admin")
                        .wrap(Require::new(Has::role("org:admin")))
                        .to(me),
                )
                .service(
                    web::resource("/api/reverify")
                        .wrap(Require::new(Has::reverification(Reverification::Strict)))
                        .to(me),
                ),
        );
    })
}

fn instance() -> (Options, BackendApiServer) {
    let server = BackendApiServer::start("sk_live_actix_authorization").unwrap();
    server.set_keys(vec![KeyPair::shared().jwk(KID)]);
    server.set_machine_token(
        Endpoint::ApiKeyVerify,
        "ak_actix",
        json!({"id": "ak_id", "subject": "user_key", "scopes": [], "name": "ci"}),
    );
    let options = server
        .options_builder()
        .publishable_key(PK_LIVE)
        .clock(Arc::new(FixedClock::at_unix(NOW)))
        .build()
        .unwrap();
    (options, server)
}

fn minter() -> TokenMinter<'static> {
    TokenMinter::new(KeyPair::shared())
        .kid(KID)
        .issued_at(UNIX_EPOCH + Duration::from_secs(NOW))
}

/// An organization member with `role`, first factor verified `minutes` ago.
fn session(role: &str, minutes: i64) -> String {
    minter()
        .claim("org_id", json!("org_1"))
        .claim("org_slug", json!("acme"))
        .claim("org_role", json!(role))
        .claim("fva", json!([minutes, -1]))
        .mint()
}

fn call(server: &Server, path: &str, token: Option<&str>) -> Reply {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer
        .as_deref()
        .map(|b| vec![("authorization", b)])
        .unwrap_or_default();
    get(&agent(), &format!("{}{path}", server.base), &headers)
}

#[test]
fn a_required_role_answers_401_403_and_200() {
    let (options, _bapi) = instance();
    let server = start(options);

    let signed_out = call(&server, "/api/org-admin", None);
    assert_eq!(signed_out.status, 401);
    assert_eq!(signed_out.json()["status"], "signed-out");
    assert_eq!(signed_out.header("x-clerk-auth-status"), Some("signed-out"));

    let member = call(&server, "/api/org-admin", Some(&session("org:member", 1)));
    assert_eq!(member.status, 403);
    assert_eq!(member.body, r#"{"status":"forbidden"}"#);
    assert_eq!(member.header("content-type"), Some("application/json"));

    let admin = call(&server, "/api/org-admin", Some(&session("org:admin", 1)));
    assert_eq!(admin.status, 200, "{}", admin.body);
    assert_eq!(
        admin.json(),
        json!({
            "userId": "user_2test", "sessionId": "sess_2test", "orgId": "org_1",
            "orgRole": "org:admin", "orgSlug": "acme", "admin": true, "tokenType": "session_token",
        })
    );
    // The plain route lets the member in.
    let me = call(&server, "/api/me", Some(&session("org:member", 1)));
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["admin"], false);
}

#[test]
fn a_stale_verification_gets_clerks_reverification_error() {
    let (options, _bapi) = instance();
    let server = start(options);
    let stale = call(&server, "/api/reverify", Some(&session("org:member", 10)));
    assert_eq!(stale.status, 403);
    assert_eq!(stale.body, REVERIFY_STRICT);
    assert_eq!(stale.header("content-type"), Some("application/json"));
    let fresh = call(&server, "/api/reverify", Some(&session("org:member", 9)));
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    assert_eq!(call(&server, "/api/reverify", None).status, 401);
}

#[test]
fn a_scope_accepts_its_own_token_types_on_the_instances_key_set() {
    let (options, bapi) = instance();
    let server = start(options);
    let user = session("org:member", 1);

    assert_eq!(call(&server, "/api/me", Some(&user)).status, 200);
    assert_eq!(bapi.jwks_fetches(), 1);

    // API keys and M2M tokens on the machine scope, not session tokens.
    let key = call(&server, "/machines/me", Some("ak_actix"));
    assert_eq!(key.status, 200, "{}", key.body);
    assert_eq!(key.json()["userId"], "user_key");
    assert_eq!(key.json()["tokenType"], "api_key");
    assert_eq!(key.json()["admin"], false);
    let m2m = minter()
        .subject("mch_1")
        .category(Some("cl_B7d4PD333AAA"))
        .without_claim("sid")
        .mint();
    let machine = call(&server, "/machines/me", Some(&m2m));
    assert_eq!(machine.status, 200, "{}", machine.body);
    assert_eq!(machine.json()["tokenType"], "m2m_token");
    // The M2M JWT was verified with the key set the session route fetched.
    assert_eq!(bapi.jwks_fetches(), 1);

    let refused = call(&server, "/machines/me", Some(&user));
    assert_eq!(refused.status, 401);
    assert_eq!(
        refused.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token""#)
    );
    // And the session routes refuse the machine credentials.
    assert_eq!(call(&server, "/api/me", Some("ak_actix")).status, 401);
    let mismatch = call(&server, "/api/me", Some(&m2m));
    assert_eq!(mismatch.status, 401);
    assert_eq!(mismatch.json()["reason"], "token-type-mismatch");
    assert_eq!(bapi.hits(Endpoint::ApiKeyVerify), 1);
}

#[test]
fn a_scope_can_accept_pending_sessions() {
    let (options, _bapi) = instance();
    let server = start(options);
    let pending = minter().claim("sts", json!("pending")).mint();
    assert_eq!(call(&server, "/api/me", Some(&pending)).status, 401);
    let onboarding = call(&server, "/onboarding/me", Some(&pending));
    assert_eq!(onboarding.status, 200, "{}", onboarding.body);
    assert_eq!(onboarding.json()["userId"], "user_2test");
}

#[test]
fn require_without_the_middleware_refuses_with_500() {
    let (options, _bapi) = instance();
    let server = start(options);
    let reply = call(&server, "/bare/admin", Some(&session("org:admin", 1)));
    assert_eq!(reply.status, 500);
    assert_eq!(reply.json()["status"], "error");
}
