//! The `ClerkWebhook` data guard through a real Rocket server and real HTTP: the shared webhook
//! scenarios (`clerk_auth_vectors::webhooks`) with the `ClerkAuth` fairing attached, then what
//! is Rocket's own (the plain guard's catcher, the sentinel).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::OnceLock;

use clerk_auth_core::testing::KeyPair;
use clerk_auth_core::webhook::WebhookVerifier;
use clerk_auth_core::Options;
use clerk_auth_rocket::{ClerkWebhook, ClerkWebhookError};
use clerk_auth_vectors::client::{agent, get};
use clerk_auth_vectors::webhooks::{self, answer, deliver_signed, SECRET};
use rocket::http::{ContentType, Status};
use rocket::{catch, catchers, post, routes};
use support::Server;

/// The route of the examples: Clerk's JSON for a refusal.
#[post("/api/webhooks/clerk", data = "<event>")]
fn hook(
    event: Result<ClerkWebhook, ClerkWebhookError>,
) -> Result<(ContentType, String), ClerkWebhookError> {
    let event = event?;
    Ok((ContentType::JSON, answer(&event)))
}

/// The plain guard: a refusal goes to the catchers.
#[post("/hooks/plain", data = "<event>")]
fn plain(event: ClerkWebhook) -> (ContentType, String) {
    (ContentType::JSON, answer(&event))
}

#[catch(400)]
fn caught() -> &'static str {
    "caught by the app's catcher"
}

fn verifier(secret: Option<&str>) -> WebhookVerifier {
    match secret {
        Some(secret) => WebhookVerifier::builder().signing_secret(secret),
        None => WebhookVerifier::builder().allow_missing_secret(),
    }
    .build()
    .unwrap()
}

/// A server with the `ClerkAuth` fairing (and its `/api/me`), the webhook routes and a verifier
/// with `secret` (none: unconfigured), started once per test binary.
fn server(secret: Option<&'static str>) -> &'static Server {
    static VERIFIED: OnceLock<Server> = OnceLock::new();
    static UNCONFIGURED: OnceLock<Server> = OnceLock::new();
    let cell = if secret.is_some() {
        &VERIFIED
    } else {
        &UNCONFIGURED
    };
    cell.get_or_init(|| {
        let options = Options::builder()
            .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
            .secret_key("sk_live_rocket_webhooks")
            .jwt_key(KeyPair::shared().public_pem())
            .api_url("http://127.0.0.1:9")
            .build()
            .unwrap();
        let (rocket, _) = support::app_without_self_check(options);
        support::serve(
            rocket
                .manage(verifier(secret))
                .mount("/", routes![hook, plain])
                .register("/hooks/plain", catchers![caught]),
        )
    })
}

fn url(secret: Option<&'static str>, path: &str) -> String {
    format!("{}{path}", server(secret).base)
}

clerk_auth_vectors::webhook_scenarios! {
    verified: url(Some(SECRET), "/api/webhooks/clerk"),
    unconfigured: url(None, "/api/webhooks/clerk"),
}

#[test]
fn the_fairing_lets_the_webhook_through_and_still_protects_its_routes() {
    let hook = url(Some(SECRET), "/api/webhooks/clerk");
    let reply = webhooks::accepted_user_created(&hook, "msg_f", "user_f", "with the fairing");
    // The fairing decided it (signed out) and added its debug headers, nothing else.
    assert_eq!(reply.header("x-clerk-auth-status"), Some("signed-out"));

    let me = get(&agent(), &url(Some(SECRET), "/api/me"), &[]);
    assert_eq!(me.status, 401);
    assert_eq!(me.json()["status"], "signed-out");
}

#[test]
fn the_plain_guard_refuses_with_the_status_and_the_apps_catcher_answers() {
    webhooks::accepted_user_created(
        &url(Some(SECRET), "/hooks/plain"),
        "msg_p",
        "user_p",
        "plain",
    );

    let refused = deliver_signed(&url(Some(SECRET), "/hooks/plain"), "msg_p", b"not json");
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body, "caught by the app's catcher");

    let unconfigured = deliver_signed(&url(None, "/hooks/plain"), "msg_p", b"{}");
    assert_eq!(unconfigured.status, 500);
}

#[test]
fn a_route_using_the_guard_without_a_managed_verifier_aborts_the_launch() {
    let (launched, _) = support::launch(rocket::build().mount("/", routes![hook]));
    let error = launched.err().expect("the launch aborts");
    assert!(error.contains("SentinelAborts"), "{error}");
}

#[test]
fn the_error_answers_its_status_and_json() {
    let missing = ClerkWebhookError::VerifierMissing;
    assert_eq!(missing.status(), Status::InternalServerError);
    let body: serde_json::Value = serde_json::from_str(&missing.body_json()).unwrap();
    assert_eq!(body["status"], "error");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("manage(WebhookVerifier"));
}
