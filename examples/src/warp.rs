//! The warp example server: the contract's routes over `clerk-auth-warp`'s filters.
//!
//! (This module is named `warp` like the crate: paths to the crate start with `::warp`.)

use std::future::Future;
use std::io;

use ::warp::http::header::CONTENT_TYPE;
use ::warp::http::StatusCode;
use ::warp::path::FullPath;
use ::warp::{Filter, Rejection, Reply};
use clerk_auth_core::webhook::{WebhookEvent, WebhookVerifier};
use clerk_auth_core::Options;
use clerk_auth_warp::{auth_state, recover, signed_in, webhook, AuthState, SignedIn};

use crate::{is_org_admin, me_body, public_page, webhook_body, Example, Route, FORBIDDEN_BODY};

/// Matches the requests whose path belongs to `route` (exactly as [`Route::of`] says).
fn route(route: Route) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    ::warp::path::full()
        .and_then(move |path: FullPath| async move {
            if Route::of(path.as_str()) == route {
                Ok(())
            } else {
                Err(::warp::reject::not_found())
            }
        })
        .untuple_one()
}

fn json(status: StatusCode, body: String) -> impl Reply {
    ::warp::reply::with_status(
        ::warp::reply::with_header(body, CONTENT_TYPE, "application/json"),
        status,
    )
}

/// The contract's routes (any method): `/api/me`, `/api/org-admin`, and the public page; and
/// `POST /api/webhooks/clerk`, without session filters, verified with `webhooks`.
pub fn routes(
    options: Options,
    webhooks: WebhookVerifier,
) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let clerk_webhook = route(Route::Webhook)
        .and(::warp::post())
        .and(webhook(webhooks))
        .map(|event: WebhookEvent| json(StatusCode::OK, webhook_body(&event)));
    let me = route(Route::Me)
        .and(signed_in(options.clone()))
        .map(|auth: SignedIn| auth.reply(json(StatusCode::OK, me_body(&auth))));
    let org_admin = route(Route::OrgAdmin)
        .and(signed_in(options.clone()))
        .map(|auth: SignedIn| {
            if is_org_admin(&auth) {
                auth.reply(json(StatusCode::OK, me_body(&auth)))
            } else {
                auth.reply(json(StatusCode::FORBIDDEN, FORBIDDEN_BODY.to_owned()))
            }
        });
    let public = auth_state(options)
        .map(|auth: AuthState| auth.reply(::warp::reply::html(public_page(&auth))));
    // Refused deliveries (400/500) and refused protected routes (401/503/307/500) are answered
    // before the public page can take the request; the last `recover` answers the public page's
    // redirects and failures.
    clerk_webhook
        .or(me)
        .or(org_admin)
        .recover(recover)
        .or(public)
        .recover(recover)
}

/// Start-up, step 2, the warp way: [`clerk_auth_warp::self_check`] (on tokio's blocking pool; it
/// logs each finding), then the verdict ([`crate::self_check_done`]). `Err` when the server
/// must not start, with a message for stderr.
pub async fn self_check(example: &Example) -> Result<(), String> {
    crate::self_check_done(clerk_auth_warp::self_check(&example.options).await)
}

/// Serves the example on `listener` (already bound) until the process ends.
pub async fn serve(example: Example, listener: std::net::TcpListener) -> io::Result<()> {
    serve_until(example, listener, std::future::pending()).await
}

/// Serves the example on `listener` (already bound) until `shutdown` completes, then finishes the
/// requests in flight.
pub async fn serve_until(
    example: Example,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = ::tokio::net::TcpListener::from_std(listener)?;
    ::warp::serve(routes(example.options, example.webhooks))
        .incoming(listener)
        .graceful(shutdown)
        .run()
        .await;
    Ok(())
}
