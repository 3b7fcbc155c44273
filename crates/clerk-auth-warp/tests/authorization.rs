//! Authorization and `with_auth` through a real warp server on loopback, over real HTTP: the
//! `require` filter answers `401` signed out, `403` `{"status":"forbidden"}` without the role,
//! `403` with Clerk's exact reverification error without a recent verification, `200`
//! otherwise; the auth object's accessors on `SignedIn`; routes with their own token types and
//! pending sessions (derived options) on the instance's key set; and `with_auth`, which puts the
//! state's headers (a refresh's `set-cookie`, the debug headers) on replies built without
//! `.reply()`, never twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use clerk_auth_core::testing::server::{BackendApiServer, Endpoint, RefreshResponse};
use clerk_auth_core::testing::{FixedClock, KeyPair, TokenMinter};
use clerk_auth_core::{Has, Options, RequestState, Reverification, TokenType};
use clerk_auth_vectors::client::{agent, get, Reply};
use clerk_auth_warp::{
    api, auth_state, recover, require, signed_in, with_auth, AuthState, SignedIn,
};
use common::{Server, PK_LIVE};
use serde_json::json;
use warp::Filter;

const NOW: u64 = 1_700_000_000;
const KID: &str = "ins_warp_authz";
/// The cookie suffix of `PK_LIVE`.
const SUFFIX: &str = "naoXFJnI";
const REVERIFY_STRICT: &str = r#"{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"strict"}}}"#;

/// The auth object through the accessors every adapter's `SignedIn` shares.
fn body(user: &RequestState) -> warp::reply::Json {
    warp::reply::json(&json!({
        "userId": user.user_id(),
        "sessionId": user.session_id(),
        "orgId": user.org_id(),
        "orgRole": user.org_role(),
        "orgSlug": user.org_slug(),
        "admin": user.has(&Has::role("org:admin")),
        "tokenType": user.auth_json()["tokenType"],
    }))
}

/// Everything under one `with_auth`, no reply built with `.reply()` but `/replied`:
/// `/api/me` (`signed_in`), `/api/org-admin` (`require` role), `/api/reverify` (`require`
/// reverification), `/machines/me` (`api::signed_in` with API keys and M2M tokens),
/// `/onboarding/me` (pending sessions), `/replied` (`auth_state` + `.reply()`), every other path
/// public (`auth_state`).
fn start(options: Options) -> Server {
    let me = warp::path!("api" / "me")
        .and(signed_in(options.clone()))
        .map(|user: SignedIn| body(&user));
    let org_admin = warp::path!("api" / "org-admin")
        .and(require(options.clone(), Has::role("org:admin")))
        .map(|user: SignedIn| body(&user));
    let reverify = warp::path!("api" / "reverify")
        .and(require(
            options.clone(),
            Has::reverification(Reverification::Strict),
        ))
        .map(|user: SignedIn| body(&user));
    let machine_options = options
        .with_accepts_token(vec![TokenType::ApiKey, TokenType::M2mToken])
        .unwrap();
    let machines = warp::path!("machines" / "me")
        .and(api::signed_in(machine_options))
        .map(|user: SignedIn| body(&user));
    let onboarding = warp::path!("onboarding" / "me")
        .and(signed_in(options.with_pending_sessions(true)))
        .map(|user: SignedIn| body(&user));
    let replied = warp::path!("replied")
        .and(auth_state(options.clone()))
        .map(|auth: AuthState| auth.reply(format!("signed-in {}", auth.is_signed_in())));
    let public =
        auth_state(options).map(|auth: AuthState| format!("signed-in {}", auth.is_signed_in()));
    let protected = me
        .or(org_admin)
        .or(reverify)
        .or(machines)
        .or(onboarding)
        .or(replied);
    Server::serve(with_auth(protected.recover(recover).or(public)), Some(1))
}

fn instance() -> (Options, BackendApiServer) {
    let server = BackendApiServer::start("sk_live_warp_authorization").unwrap();
    server.set_keys(vec![KeyPair::shared().jwk(KID)]);
    server.set_machine_token(
        Endpoint::ApiKeyVerify,
        "ak_warp",
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
    get(&agent(), &server.url(path), &headers)
}

#[test]
fn a_required_role_answers_401_403_and_200() {
    let (options, _bapi) = instance();
    let server = start(options);

    let signed_out = call(&server, "/api/org-admin", None);
    assert_eq!(signed_out.status, 401);
    assert_eq!(signed_out.json()["status"], "signed-out");
    assert_eq!(signed_out.header_all("x-clerk-auth-status"), ["signed-out"]);

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
fn a_route_accepts_its_own_token_types_on_the_instances_key_set() {
    let (options, bapi) = instance();
    let server = start(options);
    let user = session("org:member", 1);

    assert_eq!(call(&server, "/api/me", Some(&user)).status, 200);
    assert_eq!(bapi.jwks_fetches(), 1);

    let key = call(&server, "/machines/me", Some("ak_warp"));
    assert_eq!(key.status, 200, "{}", key.body);
    assert_eq!(key.json()["userId"], "user_key");
    assert_eq!(key.json()["tokenType"], "api_key");
    let m2m = minter()
        .subject("mch_1")
        .category(Some("cl_B7d4PD333AAA"))
        .without_claim("sid")
        .mint();
    let machine = call(&server, "/machines/me", Some(&m2m));
    assert_eq!(machine.status, 200, "{}", machine.body);
    assert_eq!(machine.json()["tokenType"], "m2m_token");
    assert_eq!(bapi.jwks_fetches(), 1);

    let refused = call(&server, "/machines/me", Some(&user));
    assert_eq!(refused.status, 401);
    assert_eq!(
        refused.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token""#)
    );
    assert_eq!(call(&server, "/api/me", Some("ak_warp")).status, 401);
    let mismatch = call(&server, "/api/me", Some(&m2m));
    assert_eq!(mismatch.status, 401);
    assert_eq!(mismatch.json()["reason"], "token-type-mismatch");
}

#[test]
fn a_route_can_accept_pending_sessions() {
    let (options, _bapi) = instance();
    let server = start(options);
    let pending = minter().claim("sts", json!("pending")).mint();
    assert_eq!(call(&server, "/api/me", Some(&pending)).status, 401);
    let onboarding = call(&server, "/onboarding/me", Some(&pending));
    assert_eq!(onboarding.status, 200, "{}", onboarding.body);
    assert_eq!(onboarding.json()["userId"], "user_2test");
}

#[test]
fn with_auth_puts_the_states_headers_on_every_reply_once() {
    let (options, bapi) = instance();
    bapi.set_refresh_response(RefreshResponse::Cookies(vec![
        format!("__session={}; Path=/", minter().mint()),
        "__client_uat=1700000001; Path=/".to_owned(),
    ]));
    let server = start(options);
    let agent = agent();

    // A signed-out page built without `.reply()`: the debug headers are there, once.
    let page = get(&agent, &server.url("/"), &[]);
    assert_eq!((page.status, page.body.as_str()), (200, "signed-in false"));
    assert_eq!(page.header_all("x-clerk-auth-status"), ["signed-out"]);
    assert_eq!(
        page.header_all("x-clerk-auth-reason"),
        ["session-token-and-uat-missing"]
    );
    // The same through `.reply()`: not twice.
    let replied = get(&agent, &server.url("/replied"), &[]);
    assert_eq!(replied.header_all("x-clerk-auth-status"), ["signed-out"]);

    // A refresh sets cookies: on a reply built without `.reply()` too.
    let expired = minter()
        .issued_at(UNIX_EPOCH + Duration::from_secs(NOW - 120))
        .mint();
    let cookie = format!("__session={expired}; __client_uat=1; __refresh_{SUFFIX}=rt");
    for path in ["/", "/replied"] {
        let reply = get(&agent, &server.url(path), &[("cookie", &cookie)]);
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "signed-in true"),
            "{path}"
        );
        assert_eq!(
            reply.header_all("set-cookie").len(),
            2,
            "{path}: {:?}",
            reply.headers
        );
        assert_eq!(
            reply.header_all("cache-control"),
            ["private, no-store"],
            "{path}"
        );
    }
    assert_eq!(bapi.hits(Endpoint::SessionRefresh), 2);

    // Refusals answered inside the tree carry the headers once.
    let refused = get(&agent, &server.url("/api/me"), &[]);
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header_all("x-clerk-auth-status"), ["signed-out"]);
}

#[test]
fn with_auth_answers_the_rejections_the_tree_leaves() {
    let (options, _bapi) = instance();
    // No `recover` inside: `with_auth` answers the refusal.
    let me = warp::path!("api" / "me")
        .and(signed_in(options))
        .map(|user: SignedIn| body(&user));
    let server = Server::serve(with_auth(me), Some(1));
    let refused = call(&server, "/api/me", None);
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()["status"], "signed-out");
    assert_eq!(refused.header_all("x-clerk-auth-status"), ["signed-out"]);
    let ok = call(&server, "/api/me", Some(&session("org:member", 1)));
    assert_eq!(ok.status, 200, "{}", ok.body);
    // Other rejections stay warp's.
    assert_eq!(call(&server, "/elsewhere", None).status, 404);
}
