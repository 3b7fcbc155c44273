//! The Rocket example server: the contract's routes over `clerk-auth-rocket`'s fairing and guards.
//!
//! (This module is named `rocket` like the crate: paths to the crate start with `::rocket`.)

use std::convert::Infallible;
use std::io::{self, Write};
use std::net::{Ipv4Addr, TcpListener};

use ::rocket::config::{Config, LogLevel};
use ::rocket::fairing::AdHoc;
use ::rocket::http::{ContentType, Method, Status};
use ::rocket::request::{FromRequest, Outcome, Request};
use ::rocket::response::content::RawHtml;
use ::rocket::{Build, Rocket};
use clerk_auth_core::Options;
use clerk_auth_rocket::{AuthState, ClerkAuth, SignedIn};

use crate::{is_org_admin, me_body, public_page, Example, Route, FORBIDDEN_BODY};

/// A JSON answer.
type Json = (Status, (ContentType, String));

fn me(auth: &SignedIn<'_>) -> Json {
    (Status::Ok, (ContentType::JSON, me_body(auth)))
}

fn org_admin(auth: &SignedIn<'_>) -> Json {
    if is_org_admin(auth) {
        me(auth)
    } else {
        (
            Status::Forbidden,
            (ContentType::JSON, FORBIDDEN_BODY.to_owned()),
        )
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

#[::rocket::async_trait]
impl<'r, const ROUTE: u8> FromRequest<'r> for Exactly<ROUTE> {
    type Error = Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Infallible> {
        let want = if ROUTE == ME {
            Route::Me
        } else {
            Route::OrgAdmin
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
fn org_admin_route(_path: Exactly<{ ORG_ADMIN }>, auth: SignedIn<'_>) -> Json {
    org_admin(&auth)
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
    let get = ::rocket::routes![me_route, org_admin_route, public_route];
    let mut routes = get.clone();
    for method in methods {
        routes.extend(get.iter().cloned().map(|mut route| {
            route.method = method;
            route
        }));
    }
    routes
}

/// The application: the [`ClerkAuth`] fairing and the contract's routes, not yet configured.
pub fn app(options: Options) -> Rocket<Build> {
    ::rocket::build()
        .attach(ClerkAuth::new(options))
        .mount("/", all_routes())
}

/// Serves the example on 127.0.0.1:`port` (0 picks a free port) until shut down. When it
/// listens, it prints the banner and `listening on http://127.0.0.1:<actual port>`.
pub async fn run(example: Example, port: u16) -> io::Result<()> {
    let config = Config {
        address: Ipv4Addr::LOCALHOST.into(),
        port,
        log_level: LogLevel::Off,
        cli_colors: false,
        ..Config::default()
    };
    let options = example.options.clone();
    let banner = move |port: u16| {
        let mut out = io::stdout().lock();
        let _ = write!(out, "{}", example.banner(port));
        let _ = writeln!(out, "listening on http://127.0.0.1:{port}");
        let _ = out.flush();
    };
    app(options)
        .configure(config)
        .attach(AdHoc::on_liftoff("listening", move |rocket| {
            banner(rocket.config().port);
            Box::pin(async {})
        }))
        .launch()
        .await
        .map(drop)
        .map_err(|error| io::Error::other(error.to_string()))
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
