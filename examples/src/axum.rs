//! The axum example server: the contract's routes behind `clerk-auth-axum`'s `ClerkLayer` and
//! extractors.
//!
//! (This module is named `axum` like the crate: paths to the crate start with `::axum`.)

use std::future::Future;
use std::io;
use std::net::TcpListener;

use ::axum::http::header::CONTENT_TYPE;
use ::axum::http::StatusCode;
use ::axum::response::{Html, IntoResponse, Response};
use ::axum::routing::{any, post};
use ::axum::Router;
use clerk_auth_axum::{AuthState, ClerkLayer, ClerkWebhook, RequireLayer, SignedIn};
use clerk_auth_core::webhook::WebhookVerifier;
use clerk_auth_core::Options;

use crate::{
    me_body, org_admin_requirement, public_page, reverify_requirement, webhook_body, Example,
};

fn json(status: StatusCode, body: String) -> Response {
    (status, [(CONTENT_TYPE, "application/json")], body).into_response()
}

async fn me(auth: SignedIn) -> Response {
    json(StatusCode::OK, me_body(&auth))
}

/// A refused delivery never reaches it: [`ClerkWebhook`] answers `400`/`500` JSON itself.
async fn clerk_webhook(event: ClerkWebhook) -> Response {
    json(StatusCode::OK, webhook_body(&event))
}

async fn public(auth: AuthState) -> Html<String> {
    Html(public_page(&auth))
}

/// The contract's routes (any method): `/api/me`, `/api/org-admin` and `/api/reverify` (their
/// requirements on the route, [`RequireLayer`]), and the public page, all behind [`ClerkLayer`]
/// (which answers redirects and undecidable requests); and `POST /api/webhooks/clerk`, verified
/// with `webhooks` (the router's state). axum matches the raw path exactly, as
/// [`Route::of`](crate::Route::of) does: `/api/me/` and `/api/%6De` are the public page.
///
/// The webhook route is behind the layer too, so that its other methods get the public page: the
/// layer never refuses a request by itself (the webhook handler takes no [`SignedIn`]), and it
/// redirects only `GET` document requests.
pub fn routes(options: Options, webhooks: WebhookVerifier) -> Router {
    let org_admin = Router::new()
        .route("/api/org-admin", any(me))
        .route_layer(RequireLayer::new(org_admin_requirement()));
    let reverify = Router::new()
        .route("/api/reverify", any(me))
        .route_layer(RequireLayer::new(reverify_requirement()));
    Router::new()
        .route("/api/me", any(me))
        .merge(org_admin)
        .merge(reverify)
        .route("/api/webhooks/clerk", post(clerk_webhook).fallback(public))
        .fallback(public)
        .layer(ClerkLayer::new(options))
        .with_state(webhooks)
}

/// Start-up, step 2, the axum way: [`clerk_auth_axum::self_check`] (on tokio's blocking pool;
/// it logs each finding), then the verdict. `Err` when the server must not start, with a message
/// for stderr.
pub async fn self_check(example: &Example) -> Result<(), String> {
    crate::self_check_done(clerk_auth_axum::self_check(&example.options).await)
}

/// Serves the example on `listener` (already bound) until the process ends.
pub async fn serve(example: Example, listener: TcpListener) -> io::Result<()> {
    serve_until(example, listener, std::future::pending()).await
}

/// Serves the example on `listener` (already bound) until `shutdown` completes, then finishes the
/// requests in flight.
pub async fn serve_until(
    example: Example,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = ::tokio::net::TcpListener::from_std(listener)?;
    ::axum::serve(listener, routes(example.options, example.webhooks))
        .with_graceful_shutdown(shutdown)
        .await
}
