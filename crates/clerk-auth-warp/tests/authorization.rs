//! Authorization and `with_auth` through a real warp server on loopback, over real HTTP (the
//! scenarios of `clerk_auth_vectors::authorization`): the `require` filter answers `401` signed
//! out, `403` `{"status":"forbidden"}` without the role, `403` with Clerk's exact reverification
//! error without a recent verification, `200` otherwise; the auth object's accessors on
//! `SignedIn`; routes with their own token types and pending sessions (derived options) on the
//! instance's key set; and `with_auth`, which puts the state's headers (a refresh's `set-cookie`,
//! the debug headers) on replies built without `.reply()`, never twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, UNIX_EPOCH};

use clerk_auth_core::testing::server::{Endpoint, RefreshResponse};
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_vectors::authorization::{self, Fixture};
use clerk_auth_vectors::client::{agent, get};
use clerk_auth_warp::{
    api, auth_state, recover, require, signed_in, with_auth, AuthState, SignedIn,
};
use common::Server;
use warp::Filter;

/// The cookie suffix of the fixture's publishable key.
const SUFFIX: &str = "naoXFJnI";

fn me(user: SignedIn) -> warp::reply::Json {
    warp::reply::json(&authorization::me_json(&user))
}

/// The scenarios' paths under one `with_auth`, no reply built with `.reply()` but `/replied`
/// (`auth_state` + `.reply()`); every other path public (`auth_state`).
fn start(fixture: &Fixture) -> Server {
    let options = &fixture.options;
    let me_route = warp::path!("api" / "me")
        .and(signed_in(options.clone()))
        .map(me);
    let org_admin = warp::path!("api" / "org-admin")
        .and(require(options.clone(), authorization::org_admin()))
        .map(me);
    let reverify = warp::path!("api" / "reverify")
        .and(require(options.clone(), authorization::recent()))
        .map(me);
    let machines = warp::path!("machines" / "me")
        .and(api::signed_in(fixture.machine_options()))
        .map(me);
    let onboarding = warp::path!("onboarding" / "me")
        .and(signed_in(fixture.onboarding_options()))
        .map(me);
    let replied = warp::path!("replied")
        .and(auth_state(options.clone()))
        .map(|auth: AuthState| auth.reply(format!("signed-in {}", auth.is_signed_in())));
    let public = auth_state(options.clone())
        .map(|auth: AuthState| format!("signed-in {}", auth.is_signed_in()));
    let protected = me_route
        .or(org_admin)
        .or(reverify)
        .or(machines)
        .or(onboarding)
        .or(replied);
    Server::serve(with_auth(protected.recover(recover).or(public)), Some(1))
}

#[test]
fn the_authorization_scenarios() {
    let fixture = Fixture::start();
    authorization::run(&start(&fixture).base, &fixture);
}

#[test]
fn with_auth_puts_the_states_headers_on_every_reply_once() {
    let fixture = Fixture::start();
    let bapi = &fixture.emulator;
    bapi.set_refresh_response(RefreshResponse::Cookies(vec![
        format!(
            "__session={}; Path=/",
            authorization::session("org:member", 1)
        ),
        "__client_uat=1700000001; Path=/".to_owned(),
    ]));
    let server = start(&fixture);
    let agent = agent();

    // A signed-out page built without `.reply()`: the debug headers are there, once.
    let page = get(&agent, &server.url("/"), &[]);
    assert_eq!((page.status, page.body.as_str()), (200, "signed-in false"));
    assert_eq!(page.header_all("x-clerk-auth-status"), ["signed-out"]);
    assert_eq!(
        page.header_all("x-clerk-auth-reason"),
        ["session-token-and-uat-missing"]
    );
    // The same through `.reply()`: not twice.
    let replied = get(&agent, &server.url("/replied"), &[]);
    assert_eq!(replied.header_all("x-clerk-auth-status"), ["signed-out"]);

    // A refresh sets cookies: on a reply built without `.reply()` too.
    // Expired for the fixture's clock, signed by its key set.
    let expired = TokenMinter::new(KeyPair::shared())
        .kid("ins_authorization")
        .issued_at(UNIX_EPOCH + Duration::from_secs(1_700_000_000 - 120))
        .mint();
    let cookie = format!("__session={expired}; __client_uat=1; __refresh_{SUFFIX}=rt");
    for path in ["/", "/replied"] {
        let reply = get(&agent, &server.url(path), &[("cookie", &cookie)]);
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "signed-in true"),
            "{path}"
        );
        assert_eq!(
            reply.header_all("set-cookie").len(),
            2,
            "{path}: {:?}",
            reply.headers
        );
        assert_eq!(
            reply.header_all("cache-control"),
            ["private, no-store"],
            "{path}"
        );
    }
    assert_eq!(bapi.hits(Endpoint::SessionRefresh), 2);

    // Refusals answered inside the tree carry the headers once.
    let refused = get(&agent, &server.url("/api/me"), &[]);
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header_all("x-clerk-auth-status"), ["signed-out"]);
}

#[test]
fn with_auth_answers_the_rejections_the_tree_leaves() {
    let fixture = Fixture::start();
    // No `recover` inside: `with_auth` answers the refusal.
    let me_route = warp::path!("api" / "me")
        .and(signed_in(fixture.options.clone()))
        .map(me);
    let server = Server::serve(with_auth(me_route), Some(1));
    let refused = authorization::call(&server.base, "/api/me", None);
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()["status"], "signed-out");
    assert_eq!(refused.header_all("x-clerk-auth-status"), ["signed-out"]);
    let ok = authorization::call(
        &server.base,
        "/api/me",
        Some(&authorization::session("org:member", 1)),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    // Other rejections stay warp's.
    assert_eq!(
        authorization::call(&server.base, "/elsewhere", None).status,
        404
    );
}
