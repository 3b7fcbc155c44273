//! Authorization through a real actix-web server on loopback, over real HTTP (the scenarios of
//! `clerk_auth_vectors::authorization`): `Require` on a resource answers `401` signed out, `403`
//! `{"status":"forbidden"}` without the role, `403` with Clerk's exact reverification error
//! without a recent verification, `200` otherwise; the auth object's accessors on `SignedIn`; a
//! scope with its own token types (API keys and M2M tokens) and one with pending sessions, next
//! to the session routes, on one key set; `Require` without `ClerkAuth` refuses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::{web, HttpResponse};
use clerk_auth_actix::{ClerkAuth, Require, SignedIn};
use clerk_auth_vectors::authorization::{self, paths, Fixture};
use support::{serve, Server};

mod support;

async fn me(user: SignedIn) -> HttpResponse {
    HttpResponse::Ok().json(authorization::me_json(&user))
}

/// The scenarios' paths: the session routes under the instance's middleware (the requirements
/// with `Require` on their resources), the machine and onboarding scopes each under a middleware
/// of their own; and `/bare/admin`, `Require` with no `ClerkAuth`.
fn start(fixture: &Fixture) -> Server {
    let clerk = ClerkAuth::new(fixture.options.clone());
    let machines = ClerkAuth::new(fixture.machine_options()).api();
    let onboarding = ClerkAuth::new(fixture.onboarding_options());
    serve(1, move |cfg| {
        cfg.service(web::resource(paths::MACHINES).wrap(machines.clone()).to(me))
            .service(
                web::resource(paths::ONBOARDING)
                    .wrap(onboarding.clone())
                    .to(me),
            )
            .service(
                web::resource("/bare/admin")
                    .wrap(Require::new(authorization::org_admin()))
                    .to(me),
            )
            .service(
                web::scope("")
                    .wrap(clerk.clone())
                    .route(paths::ME, web::to(me))
                    .service(
                        web::resource(paths::ORG_ADMIN)
                            .wrap(Require::new(authorization::org_admin()))
                            .to(me),
                    )
                    .service(
                        web::resource(paths::REVERIFY)
                            .wrap(Require::new(authorization::recent()))
                            .to(me),
                    ),
            );
    })
}

#[test]
fn the_authorization_scenarios() {
    let fixture = Fixture::start();
    authorization::run(&start(&fixture).base, &fixture);
}

#[test]
fn the_scope_middleware_methods_derive_the_instances_options() {
    let fixture = Fixture::start();
    let clerk = ClerkAuth::new(fixture.options.clone());
    let machines = clerk
        .clone()
        .accepts_token(clerk_auth_core::TokenType::ApiKey)
        .unwrap();
    assert!(machines.options().same_instance(clerk.options()));
    assert!(!machines
        .options()
        .accepts_token()
        .accepts(clerk_auth_core::TokenType::SessionToken));
    assert!(clerk
        .accept_pending_sessions(true)
        .options()
        .accept_pending_sessions());
}

#[test]
fn require_without_the_middleware_refuses_with_500() {
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
