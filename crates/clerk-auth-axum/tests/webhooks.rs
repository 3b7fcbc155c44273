//! The `ClerkWebhook` extractor through a real axum server and real HTTP: the shared webhook
//! scenarios (`clerk_auth_vectors::webhooks`) on a route merged beside `ClerkLayer`'s routes,
//! then what is axum's own (the route under the layer, axum's body limit).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::OnceLock;

use axum::extract::DefaultBodyLimit;
use axum::http::header::CONTENT_TYPE;
use axum::routing::{any, post};
use axum::Router;
use clerk_auth_axum::{ClerkLayer, ClerkWebhook, SignedIn};
use clerk_auth_core::testing::KeyPair;
use clerk_auth_core::webhook::WebhookVerifier;
use clerk_auth_vectors::client::{agent, get};
use clerk_auth_vectors::webhooks::{self, answer, SECRET};
use common::{pem_options, Server};

async fn hook(event: ClerkWebhook) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    ([(CONTENT_TYPE, "application/json")], answer(&event))
}

fn verifier(secret: Option<&str>) -> WebhookVerifier {
    match secret {
        Some(secret) => WebhookVerifier::builder().signing_secret(secret),
        None => WebhookVerifier::builder().allow_missing_secret(),
    }
    .build()
    .unwrap()
}

/// One server for every test: `/api/me` behind `ClerkLayer`, and merged after it (not wrapped)
/// `POST /api/webhooks/clerk` (verifying with [`SECRET`], under a 1 KiB `DefaultBodyLimit` that
/// it ignores) and `POST /unconfigured/hook` (no secret); `/wrapped/hook` under the layer.
fn base() -> &'static str {
    static SERVER: OnceLock<Server> = OnceLock::new();
    &SERVER
        .get_or_init(|| {
            let options = pem_options(KeyPair::shared()).build().unwrap();
            let wrapped = Router::new()
                .route("/wrapped/hook", post(hook))
                .with_state(verifier(Some(SECRET)));
            let session = Router::new()
                .route(
                    "/api/me",
                    any(|user: SignedIn| async move { user.auth_json_string() }),
                )
                .merge(wrapped)
                .layer(ClerkLayer::new(options));
            let hooks = Router::new()
                .route("/api/webhooks/clerk", post(hook))
                .layer(DefaultBodyLimit::max(1024))
                .with_state(verifier(Some(SECRET)));
            let unconfigured = Router::new()
                .route("/unconfigured/hook", post(hook))
                .with_state(verifier(None));
            Server::serve(session.merge(hooks).merge(unconfigured), Some(2))
        })
        .base
}

fn url(path: &str) -> String {
    format!("{}{path}", base())
}

clerk_auth_vectors::webhook_scenarios! {
    verified: url("/api/webhooks/clerk"),
    unconfigured: url("/unconfigured/hook"),
}

#[test]
fn the_route_needs_no_session_beside_or_under_the_layer() {
    // Merged after the layer: not decided at all, no debug headers.
    let hook = url("/api/webhooks/clerk");
    let reply = webhooks::accepted_user_created(&hook, "msg_m", "user_m", "merged");
    assert_eq!(reply.header("x-clerk-auth-status"), None);

    // Under the layer: decided (signed out, its debug headers) and let through.
    let wrapped = url("/wrapped/hook");
    let reply = webhooks::accepted_user_created(&wrapped, "msg_w", "user_w", "under ClerkLayer");
    assert_eq!(reply.header("x-clerk-auth-status"), Some("signed-out"));
    webhooks::refused_non_json(&wrapped, "under ClerkLayer");

    // The layer still protects its routes.
    assert_eq!(get(&agent(), &url("/api/me"), &[]).status, 401);
}
