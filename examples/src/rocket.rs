//! The Rocket example server: the contract's routes over `clerk-auth-rocket`'s fairing and guards.
//!
//! (This module is named `rocket` like the crate: paths to the crate start with `::rocket`.)

use std::convert::Infallible;
use std::io::{self, Write};
use std::net::{Ipv4Addr, TcpListener};

use ::rocket::config::{Config, LogLevel};
use ::rocket::error::ErrorKind;
use ::rocket::fairing::AdHoc;
use ::rocket::http::{ContentType, Method, Status};
use ::rocket::request::{FromRequest, Outcome, Request};
use ::rocket::response::content::RawHtml;
use ::rocket::{Build, Rocket};
use clerk_auth_core::webhook::WebhookVerifier;
use clerk_auth_core::{Has, Options, RequestState};
use clerk_auth_rocket::{
    AuthState, ClerkAuth, ClerkWebhook, ClerkWebhookError, Require, Requirement, SignedIn,
};

use crate::{
    me_body, org_admin_requirement, public_page, reverify_requirement, webhook_body, Example, Route,
};

/// A JSON answer.
type Json = (Status, (ContentType, String));

fn me(auth: &RequestState) -> Json {
    (Status::Ok, (ContentType::JSON, me_body(auth)))
}

/// `/api/org-admin`'s requirement, for [`Require`].
struct OrgAdmin;

impl Requirement for OrgAdmin {
    fn requirement() -> Has {
        org_admin_requirement()
    }
}

/// `/api/reverify`'s requirement, for [`Require`].
struct Reverified;

impl Requirement for Reverified {
    fn requirement() -> Has {
        reverify_requirement()
    }
}

fn public(auth: &AuthState<'_>) -> RawHtml<String> {
    RawHtml(public_page(auth))
}

/// Forwards to the public page unless the raw request path is exactly the contract's route
/// ([`Route::of`]): Rocket's router would also match `/api/me/` or `/api/%6De`, which the
/// contract serves as public pages. It runs before the auth guards.
struct Exactly<const ROUTE: u8>;

const ME: u8 = 0;
const ORG_ADMIN: u8 = 1;
const REVERIFY: u8 = 2;
const WEBHOOK: u8 = 3;

#[::rocket::async_trait]
impl<'r, const ROUTE: u8> FromRequest<'r> for Exactly<ROUTE> {
    type Error = Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Infallible> {
        let want = match ROUTE {
            ME => Route::Me,
            ORG_ADMIN => Route::OrgAdmin,
            REVERIFY => Route::Reverify,
            _ => Route::Webhook,
        };
        if Route::of(request.uri().path().as_str()) == want {
            Outcome::Success(Exactly)
        } else {
            Outcome::Forward(Status::NotFound)
        }
    }
}

#[::rocket::get("/api/me")]
fn me_route(_path: Exactly<{ ME }>, auth: SignedIn<'_>) -> Json {
    me(&auth)
}

#[::rocket::get("/api/org-admin")]
fn org_admin_route(_path: Exactly<{ ORG_ADMIN }>, auth: Require<'_, OrgAdmin>) -> Json {
    me(&auth)
}

#[::rocket::get("/api/reverify")]
fn reverify_route(_path: Exactly<{ REVERIFY }>, auth: Require<'_, Reverified>) -> Json {
    me(&auth)
}

/// `POST` only, and no session guard: webhooks carry no session. A refused delivery is answered
/// with [`ClerkWebhookError`]'s JSON (`400`, or `500` without a signing secret).
#[::rocket::post("/api/webhooks/clerk", data = "<event>")]
fn webhook_route(
    _path: Exactly<{ WEBHOOK }>,
    event: Result<ClerkWebhook, ClerkWebhookError>,
) -> Result<Json, ClerkWebhookError> {
    let event = event?;
    Ok((Status::Ok, (ContentType::JSON, webhook_body(&event))))
}

#[::rocket::get("/<_..>", rank = 100)]
fn public_route(auth: AuthState<'_>) -> RawHtml<String> {
    public(&auth)
}

/// The contract's routes, for any method. Rocket routes one method per route (and its
/// attributes know only the common methods), so each `GET` route is cloned for every other
/// method; `HEAD` is answered by the `GET` routes.
fn all_routes() -> Vec<::rocket::Route> {
    let methods = [
        Method::Put,
        Method::Post,
        Method::Delete,
        Method::Patch,
        Method::Options,
        Method::Trace,
        Method::Connect,
    ];
    let get = ::rocket::routes![me_route, org_admin_route, reverify_route, public_route];
    let mut routes = get.clone();
    for method in methods {
        routes.extend(get.iter().cloned().map(|mut route| {
            route.method = method;
            route
        }));
    }
    routes.extend(::rocket::routes![webhook_route]);
    routes
}

/// The application: the [`ClerkAuth`] fairing and the contract's routes, not yet configured.
///
/// The fairing's start-up self-check is off here: this is the app the conformance suite ignites
/// for each decision vector, and like the actix-web and warp serve functions it leaves the key
/// set cold, so that each vector is decided as the core's own vector run decides it (fetches
/// included). [`run`] (the binary's path) turns the check on.
pub fn app(options: Options) -> Rocket<Build> {
    app_for(Example::with_options(options))
}

/// [`app`] for `example`: its options and its webhook verifier.
pub fn app_for(example: Example) -> Rocket<Build> {
    app_with(
        ClerkAuth::new(example.options).self_check(false),
        example.webhooks,
    )
}

/// The application around `fairing`, verifying webhooks with `webhooks`.
fn app_with(fairing: ClerkAuth, webhooks: WebhookVerifier) -> Rocket<Build> {
    ::rocket::build()
        .attach(fairing)
        .manage(webhooks)
        .mount("/", all_routes())
}

/// Serves the example on 127.0.0.1:`port` (0 picks a free port) until shut down. When it
/// listens, it prints the banner and `listening on http://127.0.0.1:<actual port>`.
///
/// The fairing runs the self-check on ignite, the Rocket way: it logs each finding; an error
/// aborts the launch (an `Err` saying so: the findings are in the log), warnings do not.
pub async fn run(example: Example, port: u16) -> io::Result<()> {
    let config = Config {
        address: Ipv4Addr::LOCALHOST.into(),
        port,
        log_level: LogLevel::Off,
        cli_colors: false,
        ..Config::default()
    };
    let options = example.options.clone();
    let webhooks = example.webhooks.clone();
    let banner = move |port: u16| {
        let mut out = io::stdout().lock();
        let _ = write!(out, "{}", example.banner(port));
        let _ = writeln!(out, "listening on http://127.0.0.1:{port}");
        let _ = out.flush();
    };
    app_with(ClerkAuth::new(options), webhooks)
        .configure(config)
        .attach(AdHoc::on_liftoff("listening", move |rocket| {
            banner(rocket.config().port);
            Box::pin(async {})
        }))
        .launch()
        .await
        .map(drop)
        .map_err(|error| io::Error::other(launch_error(&error)))
}

/// What a failed launch says; a failed [`ClerkAuth`] fairing is the self-check's (or the
/// configuration's) error, logged above.
fn launch_error(error: &::rocket::Error) -> String {
    match error.kind() {
        ErrorKind::FailedFairings(failed) if failed.iter().any(|f| f.name == "ClerkAuth") => {
            "not starting: the clerk-auth self-check found an error (see the log above): this \
             Clerk configuration cannot authenticate requests"
                .to_owned()
        }
        _ => error.to_string(),
    }
}

/// Serves the example on a listener bound by the caller (the conformance suite's way to start
/// every example alike).
///
/// Rocket 0.5 cannot serve a listener it did not bind: the listener is closed and its port
/// bound again by Rocket at once. Prefer [`run`] with port 0 where the caller can read the port
/// from the `listening on` line.
pub async fn serve(example: Example, listener: TcpListener) -> io::Result<()> {
    let port = listener.local_addr()?.port();
    drop(listener);
    run(example, port).await
}
