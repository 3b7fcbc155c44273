//! The `ClerkWebhook` extractor through a real actix-web server on loopback and real HTTP: the
//! shared webhook scenarios (`clerk_auth_vectors::webhooks`), then what is actix-web's own (the
//! verifier's registration, the route under the `ClerkAuth` middleware).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse};
use clerk_auth_actix::{ClerkAuth, ClerkWebhook};
use clerk_auth_core::testing::KeyPair;
use clerk_auth_core::webhook::WebhookVerifier;
use clerk_auth_core::Options;
use clerk_auth_vectors::client::{agent, get};
use clerk_auth_vectors::webhooks::{self, answer, deliver_signed, SECRET};

mod support;

async fn hook(event: ClerkWebhook) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(answer(&event))
}

fn verifier() -> WebhookVerifier {
    WebhookVerifier::builder()
        .signing_secret(SECRET)
        .build()
        .unwrap()
}

/// One server for every test: `/hook` (`app_data(WebhookVerifier)`, outside any middleware),
/// `/wrapped/hook` and `/wrapped/api/me` (inside a `ClerkAuth`-wrapped scope), `/data/hook`
/// (`web::Data<WebhookVerifier>`), `/unconfigured/hook` (a verifier without a secret),
/// `/missing/hook` (no verifier).
fn base() -> &'static str {
    static SERVER: OnceLock<support::Server> = OnceLock::new();
    &SERVER
        .get_or_init(|| {
            let options = Options::builder()
                .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
                .secret_key("sk_live_actix_webhooks")
                .jwt_key(KeyPair::shared().public_pem())
                .api_url("http://127.0.0.1:9")
                .build()
                .unwrap();
            let unconfigured = WebhookVerifier::builder()
                .allow_missing_secret()
                .build()
                .unwrap();
            support::serve(2, move |cfg| {
                cfg.service(
                    web::scope("/wrapped")
                        .wrap(ClerkAuth::new(options.clone()))
                        .app_data(verifier())
                        .route("/hook", web::post().to(hook))
                        .route(
                            "/api/me",
                            web::get().to(|user: clerk_auth_actix::SignedIn| async move {
                                HttpResponse::Ok().json(user.auth_json())
                            }),
                        ),
                )
                .service(
                    web::scope("/data")
                        .app_data(web::Data::new(verifier()))
                        .route("/hook", web::post().to(hook)),
                )
                .service(
                    web::scope("/unconfigured")
                        .app_data(unconfigured.clone())
                        .route("/hook", web::post().to(hook)),
                )
                .service(web::scope("/missing").route("/hook", web::post().to(hook)))
                .service(
                    web::scope("")
                        .app_data(verifier())
                        .route("/hook", web::post().to(hook)),
                );
            })
        })
        .base
}

fn url(path: &str) -> String {
    format!("{}{path}", base())
}

clerk_auth_vectors::webhook_scenarios! {
    verified: url("/hook"),
    unconfigured: url("/unconfigured/hook"),
}

#[test]
fn the_route_works_without_a_session_under_the_middleware() {
    // The middleware decides the request (signed out: its debug headers are on the answer) and
    // lets it through; the extractor verifies it.
    let reply =
        webhooks::accepted_user_created(&url("/wrapped/hook"), "msg_w", "user_w", "wrapped");
    assert_eq!(reply.header("x-clerk-auth-status"), Some("signed-out"));

    // A refusal keeps the webhook's JSON (the middleware only adds its headers).
    webhooks::refused_non_json(&url("/wrapped/hook"), "under ClerkAuth");

    // The same middleware still protects its other routes.
    let me = get(&agent(), &url("/wrapped/api/me"), &[]);
    assert_eq!(me.status, 401);
}

#[test]
fn a_verifier_in_web_data_is_found_too() {
    webhooks::accepted_user_created(&url("/data/hook"), "msg_data", "user_d", "web::Data");
}

#[test]
fn no_verifier_is_a_500_naming_what_to_register() {
    let reply = deliver_signed(&url("/missing/hook"), "msg_1", b"{}");
    assert_eq!(reply.status, 500, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    assert_eq!(body["status"], "error");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("App::app_data(WebhookVerifier"));
}
