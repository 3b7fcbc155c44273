//! Authorization through a real Rocket server on loopback, over real HTTP: the `Require<R>` guard
//! answers `401` signed out, `403` `{"status":"forbidden"}` without the role, `403` with Clerk's
//! exact reverification error without a recent verification, `200` otherwise; the auth object's
//! accessors on the guards; routes with their own token types and pending sessions
//! (`ClerkAuth::route_options`) on the instance's key set; and the application's own `401`s
//! (its catcher's, a handler's) left alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use clerk_auth_core::testing::server::{BackendApiServer, Endpoint};
use clerk_auth_core::testing::{FixedClock, KeyPair, TokenMinter};
use clerk_auth_core::{Has, Options, RequestState, Reverification, TokenType};
use clerk_auth_rocket::{ClerkAuth, Require, Requirement, SignedIn};
use clerk_auth_vectors::client::{agent, get, Reply};
use rocket::http::{ContentType, Status};
use rocket::{catch, catchers, get, routes};
use serde_json::json;

mod support;

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
const NOW: u64 = 1_700_000_000;
const KID: &str = "ins_rocket_authz";
const REVERIFY_STRICT: &str = r#"{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"strict"}}}"#;

struct OrgAdmin;

impl Requirement for OrgAdmin {
    fn requirement() -> Has {
        Has::role("org:admin")
    }
}

struct Recent;

impl Requirement for Recent {
    fn requirement() -> Has {
        Has::reverification(Reverification::Strict)
    }
}

/// The auth object through the accessors every adapter's `SignedIn` shares.
fn body(user: &RequestState) -> (ContentType, String) {
    let json = json!({
        "userId": user.user_id(),
        "sessionId": user.session_id(),
        "orgId": user.org_id(),
        "orgRole": user.org_role(),
        "orgSlug": user.org_slug(),
        "admin": user.has(&Has::role("org:admin")),
        "tokenType": user.auth_json()["tokenType"],
    });
    (ContentType::JSON, json.to_string())
}

#[get("/api/me")]
fn me(user: SignedIn<'_>) -> (ContentType, String) {
    body(&user)
}

#[get("/api/org-admin")]
fn org_admin(user: Require<'_, OrgAdmin>) -> (ContentType, String) {
    body(&user)
}

#[get("/api/reverify")]
fn reverify(user: Require<'_, Recent>) -> (ContentType, String) {
    body(&user)
}

#[get("/me")]
fn scoped_me(user: SignedIn<'_>) -> (ContentType, String) {
    body(&user)
}

/// The application's own `401` through its catcher, on a route that evaluated `SignedIn`.
#[get("/app/optional")]
fn app_optional(user: Option<SignedIn<'_>>) -> Result<&'static str, Status> {
    user.map(|_| "yes").ok_or(Status::Unauthorized)
}

/// The application's own `401` with its own body.
#[get("/app/own")]
fn app_own(user: Option<SignedIn<'_>>) -> (Status, &'static str) {
    match user {
        Some(_) => (Status::Ok, "yes"),
        None => (Status::Unauthorized, "the app's own 401"),
    }
}

#[catch(401)]
fn app_unauthorized() -> &'static str {
    "the app's 401 catcher"
}

#[catch(default)]
fn app_default() -> &'static str {
    "the app's default catcher"
}

fn instance() -> (Options, BackendApiServer) {
    let server = BackendApiServer::start("sk_live_rocket_authorization").unwrap();
    server.set_keys(vec![KeyPair::shared().jwk(KID)]);
    server.set_machine_token(
        Endpoint::ApiKeyVerify,
        "ak_rocket",
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

fn start(options: Options) -> support::Server {
    let fairing = ClerkAuth::new(options)
        .self_check(false)
        .api_prefix("/machines")
        .route_options("/machines", |o| {
            o.with_accepts_token(vec![TokenType::ApiKey, TokenType::M2mToken])
        })
        .route_options("/onboarding", |o| Ok(o.with_pending_sessions(true)));
    let rocket = rocket::build()
        .attach(fairing)
        .mount("/", routes![me, org_admin, reverify, app_optional, app_own])
        .mount("/machines", routes![scoped_me])
        .mount("/onboarding", routes![scoped_me])
        .register("/", catchers![app_unauthorized, app_default]);
    support::serve(rocket)
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

fn call(server: &support::Server, path: &str, token: Option<&str>) -> Reply {
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
    assert_eq!(signed_out.header("content-type"), Some("application/json"));
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
fn the_applications_own_401s_are_left_alone() {
    let (options, _bapi) = instance();
    let server = start(options);
    // `Option<SignedIn>` was refused inside, then the handler answered 401 through the catcher.
    let caught = call(&server, "/app/optional", None);
    assert_eq!(caught.status, 401);
    assert_eq!(caught.body, "the app's 401 catcher");
    assert_eq!(caught.header("x-clerk-auth-status"), Some("signed-out"));
    let own = call(&server, "/app/own", None);
    assert_eq!((own.status, own.body.as_str()), (401, "the app's own 401"));
    // A 404 goes to the application's default catcher, untouched.
    let missing = call(&server, "/nowhere", None);
    assert_eq!(
        (missing.status, missing.body.as_str()),
        (404, "the app's default catcher")
    );
    // clerk-auth's refusals are its own JSON, the application's catchers not involved.
    let refused = call(&server, "/api/me", None);
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()["status"], "signed-out");
}

#[test]
fn a_prefix_accepts_its_own_token_types_on_the_instances_key_set() {
    let (options, bapi) = instance();
    let server = start(options);
    let user = session("org:member", 1);

    assert_eq!(call(&server, "/api/me", Some(&user)).status, 200);
    assert_eq!(bapi.jwks_fetches(), 1);

    let key = call(&server, "/machines/me", Some("ak_rocket"));
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
    assert_eq!(call(&server, "/api/me", Some("ak_rocket")).status, 401);
    let mismatch = call(&server, "/api/me", Some(&m2m));
    assert_eq!(mismatch.status, 401);
    assert_eq!(mismatch.json()["reason"], "token-type-mismatch");
}

#[test]
fn a_prefix_can_accept_pending_sessions() {
    let (options, _bapi) = instance();
    let server = start(options);
    let pending = minter().claim("sts", json!("pending")).mint();
    assert_eq!(call(&server, "/api/me", Some(&pending)).status, 401);
    let onboarding = call(&server, "/onboarding/me", Some(&pending));
    assert_eq!(onboarding.status, 200, "{}", onboarding.body);
    assert_eq!(onboarding.json()["userId"], "user_2test");
}

#[test]
fn options_of_another_instance_abort_the_launch() {
    let (options, _bapi) = instance();
    let other = Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key("sk_live_other_instance")
        .build()
        .unwrap();
    let fairing = ClerkAuth::new(options)
        .self_check(false)
        .route_options("/other", move |_| Ok(other));
    let (server, _logs) = support::launch(rocket::build().attach(fairing));
    assert_eq!(
        server.err().as_deref(),
        Some(r#"failed fairings: ["ClerkAuth"]"#)
    );

    let api_only = Options::builder()
        .secret_key("sk_live_api_only")
        .accepts_token(TokenType::ApiKey)
        .build()
        .unwrap();
    let fairing = ClerkAuth::new(api_only)
        .self_check(false)
        .route_options("/pages", |o| o.with_accepts_token(TokenType::SessionToken));
    let (server, _logs) = support::launch(rocket::build().attach(fairing));
    assert_eq!(
        server.err().as_deref(),
        Some(r#"failed fairings: ["ClerkAuth"]"#)
    );
}
