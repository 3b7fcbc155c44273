//! A missing or invalid configuration fails at launch, not per request.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

mod support;

use clerk_auth_core::testing::KeyPair;
use clerk_auth_core::Options;
use clerk_auth_rocket::{AuthState, ClerkAuth, SignedIn};
use rocket::error::ErrorKind;
use rocket::{get, routes, Build, Rocket};

#[get("/required")]
fn required(_user: SignedIn<'_>) {}

#[get("/optional")]
fn optional(_user: Option<SignedIn<'_>>) {}

#[get("/state")]
fn state(_auth: AuthState<'_>) {}

fn ignite(rocket: Rocket<Build>) -> Result<(), rocket::Error> {
    rocket::execute(rocket.configure(support::config()).ignite()).map(|_| ())
}

#[test]
fn guards_without_the_fairing_abort_the_launch() {
    for routes in [routes![required], routes![optional], routes![state]] {
        let error = ignite(rocket::build().mount("/", routes)).unwrap_err();
        match error.kind() {
            ErrorKind::SentinelAborts(sentinels) => assert_eq!(sentinels.len(), 1),
            other => panic!("unexpected launch error: {other:?}"),
        }
    }
}

#[test]
fn guards_with_the_fairing_launch() {
    let options = Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_live_launch")
        .jwt_key(KeyPair::shared().public_pem())
        .build()
        .unwrap();
    let rocket = rocket::build()
        .attach(ClerkAuth::new(options))
        .mount("/", routes![required, optional, state]);
    ignite(rocket).unwrap();
}

#[test]
fn invalid_environment_aborts_the_launch() {
    let fairing = ClerkAuth::from_env_with(|name| match name {
        "CLERK_PUBLISHABLE_KEY" => Some("pk_live_not-a-key".to_owned()),
        "CLERK_SECRET_KEY" => Some("sk_live_launch".to_owned()),
        _ => None,
    });
    let rocket = rocket::build()
        .attach(fairing)
        .mount("/", routes![required]);
    let error = ignite(rocket).unwrap_err();
    match error.kind() {
        ErrorKind::FailedFairings(fairings) => assert_eq!(fairings[0].name, "ClerkAuth"),
        other => panic!("unexpected launch error: {other:?}"),
    }
}
