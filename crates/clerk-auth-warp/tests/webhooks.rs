//! The `webhook` filter through a real warp server and real HTTP: the shared webhook scenarios
//! (`clerk_auth_vectors::webhooks`) in an app that also has session routes, then what is warp's
//! own (one `recover` for both, the order of the routes).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::OnceLock;

use clerk_auth_core::testing::KeyPair;
use clerk_auth_core::webhook::{WebhookEvent, WebhookVerifier};
use clerk_auth_vectors::client::{agent, get};
use clerk_auth_vectors::webhooks::{self, answer, SECRET};
use clerk_auth_warp::{auth_state, recover, signed_in, webhook, AuthState, SignedIn};
use common::{pem_options, Server};
use warp::http::header::CONTENT_TYPE;
use warp::Filter;

/// One server for every test: `POST /api/webhooks/clerk` (verifying with [`SECRET`]),
/// `POST /unconfigured/hook` (no secret), `/api/me` (`signed_in`) and a public catch-all, in the
/// order the docs give: each webhook route recovered before anything is `or`-ed after it.
fn base() -> &'static str {
    static SERVER: OnceLock<Server> = OnceLock::new();
    &SERVER
        .get_or_init(|| {
            let options = pem_options(KeyPair::shared()).build().unwrap();
            let verified = WebhookVerifier::builder()
                .signing_secret(SECRET)
                .build()
                .unwrap();
            let unconfigured = WebhookVerifier::builder()
                .allow_missing_secret()
                .build()
                .unwrap();
            let json = |event: WebhookEvent| {
                warp::reply::with_header(answer(&event), CONTENT_TYPE, "application/json")
            };
            let hook = warp::post()
                .and(warp::path!("api" / "webhooks" / "clerk"))
                .and(webhook(verified))
                .map(json);
            let unconfigured = warp::post()
                .and(warp::path!("unconfigured" / "hook"))
                .and(webhook(unconfigured))
                .map(json);
            let me = warp::path!("api" / "me")
                .and(signed_in(options.clone()))
                .map(|auth: SignedIn| auth.reply(warp::reply::json(&auth.auth_json())));
            let public = auth_state(options).map(|auth: AuthState| auth.reply("public"));
            let routes = hook
                .or(unconfigured)
                .recover(recover)
                .or(me)
                .recover(recover)
                .or(public)
                .recover(recover);
            Server::serve(routes, Some(2))
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
fn the_webhook_route_lives_beside_session_routes() {
    let hook = url("/api/webhooks/clerk");
    let reply = webhooks::accepted_user_created(&hook, "msg_s", "user_s", "beside signed_in");
    // No session filter ran on it: no debug headers.
    assert_eq!(reply.header("x-clerk-auth-status"), None);

    let me = get(&agent(), &url("/api/me"), &[]);
    assert_eq!(me.status, 401);
    let public = get(&agent(), &url("/anything"), &[]);
    assert_eq!((public.status, public.body.as_str()), (200, "public"));
    // Another method on the webhook path is not the webhook route: the public page.
    let get_hook = get(&agent(), &url("/api/webhooks/clerk"), &[]);
    assert_eq!((get_hook.status, get_hook.body.as_str()), (200, "public"));
}

#[test]
fn a_refusal_never_falls_through_to_a_later_route() {
    // The public catch-all would answer 200: the refusal is answered first.
    webhooks::refused_non_json(&url("/api/webhooks/clerk"), "before the public route");
}
