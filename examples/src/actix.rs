//! The actix-web example server: the contract's routes behind `clerk-auth-actix`'s middleware
//! and extractors.

use std::future::Future;
use std::io;
use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::guard::{self, Guard};
use actix_web::http::header::ContentType;
use actix_web::{web, App, HttpResponse, HttpServer};
use clerk_auth_actix::{AuthState, ClerkAuth, ClerkWebhook, Require, SignedIn};
use clerk_auth_core::webhook::WebhookVerifier;
use clerk_auth_core::Options;

use crate::{
    me_body, org_admin_requirement, public_page, reverify_requirement, webhook_body, Example, Route,
};

/// Matches the requests whose (raw) path belongs to `route`, exactly as [`Route::of`] says.
fn is(route: Route) -> impl Guard {
    guard::fn_guard(move |ctx| Route::of(ctx.head().uri.path()) == route)
}

async fn me(auth: SignedIn) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(me_body(&auth))
}

/// A refused delivery never reaches it: [`ClerkWebhook`] answers `400`/`500` JSON itself.
async fn clerk_webhook(event: ClerkWebhook) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(webhook_body(&event))
}

async fn public(auth: AuthState) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .body(public_page(&auth))
}

/// The contract's routes (any method): `/api/me`, `/api/org-admin` and `/api/reverify` (their
/// requirements on the route, [`Require`]), and the public page, all behind the [`ClerkAuth`]
/// middleware (which answers redirects and undecidable requests); and `POST /api/webhooks/clerk`,
/// outside it (webhooks carry no session), verified with `webhooks`.
pub fn routes(options: Options, webhooks: WebhookVerifier) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.service(
            web::resource("/api/webhooks/clerk")
                .guard(is(Route::Webhook))
                .guard(guard::Post())
                .app_data(webhooks)
                .to(clerk_webhook),
        )
        .service(
            web::scope("")
                .wrap(ClerkAuth::new(options))
                .service(web::resource("/api/me").guard(is(Route::Me)).to(me))
                .service(
                    web::resource("/api/org-admin")
                        .guard(is(Route::OrgAdmin))
                        .wrap(Require::new(org_admin_requirement()))
                        .to(me),
                )
                .service(
                    web::resource("/api/reverify")
                        .guard(is(Route::Reverify))
                        .wrap(Require::new(reverify_requirement()))
                        .to(me),
                )
                .default_service(web::to(public)),
        );
    }
}

/// Start-up, step 2, the actix-web way: [`clerk_auth_actix::self_check`] (on actix's blocking
/// pool; it logs each finding), then the verdict ([`crate::self_check_done`]). `Err` when the
/// server must not start, with a message for stderr.
pub async fn self_check(example: &Example) -> Result<(), String> {
    crate::self_check_done(clerk_auth_actix::self_check(&example.options).await)
}

/// The server on `listener` (already bound), not yet started: await it (on an actix-web or
/// Tokio runtime) to serve; its [`handle`](Server::handle) stops it.
pub fn server(example: Example, listener: TcpListener) -> io::Result<Server> {
    let Example {
        options, webhooks, ..
    } = example;
    Ok(
        HttpServer::new(move || App::new().configure(routes(options.clone(), webhooks.clone())))
            .listen(listener)?
            .run(),
    )
}

/// Serves the example on `listener` (already bound) until the process ends.
pub async fn serve(example: Example, listener: TcpListener) -> io::Result<()> {
    server(example, listener)?.await
}

/// Serves the example on `listener` (already bound) until `shutdown` completes, then finishes the
/// requests in flight.
pub async fn serve_until(
    example: Example,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let server = server(example, listener)?;
    let handle = server.handle();
    let mut server = std::pin::pin!(server);
    tokio::select! {
        done = &mut server => done,
        () = shutdown => {
            // The server future runs the stop command: keep polling it meanwhile.
            let (done, ()) = tokio::join!(server, handle.stop(true));
            done
        }
    }
}
