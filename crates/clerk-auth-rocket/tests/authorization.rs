//! Authorization through a real Rocket server on loopback, over real HTTP (the scenarios of
//! `clerk_auth_vectors::authorization`): the `Require<R>` guard answers `401` signed out, `403`
//! `{"status":"forbidden"}` without the role, `403` with Clerk's exact reverification error
//! without a recent verification, `200` otherwise; the auth object's accessors on the guards;
//! prefixes with their own token types and pending sessions (`ClerkAuth::route_options`) on the
//! instance's key set; and the application's own `401`s (its catcher's, a handler's) left alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use clerk_auth_core::{Has, Options, RequestState, TokenType};
use clerk_auth_rocket::{ClerkAuth, Require, Requirement, SignedIn};
use clerk_auth_vectors::authorization::{self, Fixture};
use rocket::http::{ContentType, Status};
use rocket::{catch, catchers, get, routes};

mod support;

struct OrgAdmin;

impl Requirement for OrgAdmin {
    fn requirement() -> Has {
        authorization::org_admin()
    }
}

struct Recent;

impl Requirement for Recent {
    fn requirement() -> Has {
        authorization::recent()
    }
}

fn body(user: &RequestState) -> (ContentType, String) {
    (ContentType::JSON, authorization::me_json(user).to_string())
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

/// The scenarios' paths (`/machines` and `/onboarding` by prefix), the application's own `401`
/// routes, and its catchers.
fn start(fixture: &Fixture) -> support::Server {
    let fairing = ClerkAuth::new(fixture.options.clone())
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

fn call(
    server: &support::Server,
    path: &str,
    token: Option<&str>,
) -> clerk_auth_vectors::client::Reply {
    authorization::call(&server.base, path, token)
}

#[test]
fn the_authorization_scenarios() {
    let fixture = Fixture::start();
    authorization::run(&start(&fixture).base, &fixture);
}

#[test]
fn the_applications_own_401s_are_left_alone() {
    let fixture = Fixture::start();
    let server = start(&fixture);
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
fn options_of_another_instance_abort_the_launch() {
    let fixture = Fixture::start();
    let options = fixture.options.clone();
    let other = Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
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
