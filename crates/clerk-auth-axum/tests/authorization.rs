//! Authorization through a real axum server on loopback, over real HTTP (the scenarios of
//! `clerk_auth_vectors::authorization`): `RequireLayer` as a route layer answers `401` signed
//! out, `403` `{"status":"forbidden"}` without the role, `403` with Clerk's exact reverification
//! error without a recent verification, `200` otherwise; the auth object's accessors on
//! `SignedIn`; routers with their own token types and pending sessions (their own `ClerkLayer`,
//! side by side) on the instance's key set; `RequireLayer` without `ClerkLayer` refuses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::routing::any;
use axum::{Json, Router};
use clerk_auth_axum::{ClerkLayer, RequireLayer, SignedIn};
use clerk_auth_vectors::authorization::{self, paths, Fixture};
use common::Server;

async fn me(user: SignedIn) -> Json<serde_json::Value> {
    Json(authorization::me_json(&user))
}

/// The scenarios' paths: the session routes behind the instance's layer (the requirements as
/// route layers), the machine and onboarding routes each behind a layer of their own, merged
/// after the session layer so that it does not wrap them; and `/bare/admin`, `RequireLayer`
/// with no `ClerkLayer`.
fn start(fixture: &Fixture) -> Server {
    let org_admin = Router::new()
        .route(paths::ORG_ADMIN, any(me))
        .route_layer(RequireLayer::new(authorization::org_admin()));
    let reverify = Router::new()
        .route(paths::REVERIFY, any(me))
        .route_layer(RequireLayer::new(authorization::recent()));
    let sessions = Router::new()
        .route(paths::ME, any(me))
        .merge(org_admin)
        .merge(reverify)
        .layer(ClerkLayer::new(fixture.options.clone()));
    let machines = Router::new()
        .route(paths::MACHINES, any(me))
        .layer(ClerkLayer::new(fixture.machine_options()).api());
    let onboarding = Router::new()
        .route(paths::ONBOARDING, any(me))
        .layer(ClerkLayer::new(fixture.onboarding_options()));
    let bare = Router::new()
        .route("/bare/admin", any(me))
        .route_layer(RequireLayer::new(authorization::org_admin()));
    Server::serve(
        sessions.merge(machines).merge(onboarding).merge(bare),
        Some(1),
    )
}

#[test]
fn the_authorization_scenarios() {
    let fixture = Fixture::start();
    authorization::run(&start(&fixture).base, &fixture);
}

#[test]
fn require_without_the_layer_refuses_with_500() {
    let fixture = Fixture::start();
    let server = start(&fixture);
    let reply = authorization::call(
        &server.base,
        "/bare/admin",
        Some(&authorization::session("org:admin", 1)),
    );
    assert_eq!(reply.status, 500);
    assert_eq!(reply.json()["status"], "error");
}
