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
use clerk_auth_core::{Has, Options};
use clerk_auth_warp::{
    auth_state, recover, require, signed_in, webhook, with_auth, AuthState, SignedIn,
};

use crate::{
    me_body, org_admin_requirement, public_page, reverify_requirement, webhook_body, Example, Route,
};

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

/// A protected route of the contract at `path`: `requirement` on the route when there is one
/// ([`require`]), else signed in ([`signed_in`]); the auth object's JSON when let through.
fn protected(
    path: Route,
    options: &Options,
    requirement: Option<Has>,
) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let guard = match requirement {
        Some(requirement) => require(options.clone(), requirement).boxed(),
        None => signed_in(options.clone()).boxed(),
    };
    route(path)
        .and(guard)
        .map(|auth: SignedIn| json(StatusCode::OK, me_body(&auth)))
}

/// The contract's routes (any method): `/api/me`, `/api/org-admin` and `/api/reverify` (their
/// requirements on the route), and the public page, wrapped by [`with_auth`] so that every reply
/// carries the state's headers; and `POST /api/webhooks/clerk`, without session filters, verified
/// with `webhooks`.
pub fn routes(
    options: Options,
    webhooks: WebhookVerifier,
) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let clerk_webhook = route(Route::Webhook)
        .and(::warp::post())
        .and(webhook(webhooks))
        .map(|event: WebhookEvent| json(StatusCode::OK, webhook_body(&event)));
    let me = protected(Route::Me, &options, None);
    let org_admin = protected(Route::OrgAdmin, &options, Some(org_admin_requirement()));
    let reverify = protected(Route::Reverify, &options, Some(reverify_requirement()));
    let public = auth_state(options).map(|auth: AuthState| ::warp::reply::html(public_page(&auth)));
    // Refused deliveries (400/500) and refused protected routes (401/403/503/307/500) are
    // answered before the public page can take the request; `with_auth` answers the public
    // page's redirects and failures.
    with_auth(
        clerk_webhook
            .or(me)
            .or(org_admin)
            .or(reverify)
            .recover(recover)
            .or(public),
    )
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
