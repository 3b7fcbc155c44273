//! The authorization scenarios each adapter's tests run over real HTTP, against a test app that
//! serves [`paths`] with [`me_json`]: route-level requirements (`401`, `403` forbidden, `403`
//! with Clerk's reverification error, `200`), the auth object's accessors, and routes with their
//! own token types or pending sessions on the instance's key set.
//!
//! ```no_run
//! use clerk_auth_vectors::authorization::{self, Fixture};
//!
//! let fixture = Fixture::start();
//! // Serve the adapter's test app with `fixture.options` on 127.0.0.1, then:
//! # let base = "http://127.0.0.1:3000";
//! authorization::run(base, &fixture);
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test support: a failure is the test's.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use clerk_auth_core::testing::server::{BackendApiServer, Endpoint};
use clerk_auth_core::testing::{FixedClock, KeyPair, TokenMinter};
use clerk_auth_core::{Has, Options, RequestState, Reverification, TokenType};
use serde_json::{json, Value};

use crate::client::{agent, get, Reply};

/// The paths of the test app.
pub mod paths {
    /// Signed in (`SignedIn`), the instance's options.
    pub const ME: &str = "/api/me";
    /// Requires [`org_admin`](super::org_admin).
    pub const ORG_ADMIN: &str = "/api/org-admin";
    /// Requires [`recent`](super::recent).
    pub const REVERIFY: &str = "/api/reverify";
    /// Signed in, as an API route, with [`machine_options`](super::Fixture::machine_options).
    pub const MACHINES: &str = "/machines/me";
    /// Signed in, with [`onboarding_options`](super::Fixture::onboarding_options).
    pub const ONBOARDING: &str = "/onboarding/me";
}

/// What [`paths::ORG_ADMIN`] requires.
pub fn org_admin() -> Has {
    Has::role("org:admin")
}

/// What [`paths::REVERIFY`] requires.
pub fn recent() -> Has {
    Has::reverification(Reverification::Strict)
}

/// `403` without the role.
pub const FORBIDDEN: &str = r#"{"status":"forbidden"}"#;

/// `403` without a recent enough verification: Clerk's body, exactly.
pub const REVERIFY_STRICT: &str = r#"{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"strict"}}}"#;

/// The API key the emulator knows (its subject is `user_key`).
pub const API_KEY: &str = "ak_authorization";

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
const NOW: u64 = 1_700_000_000;
const KID: &str = "ins_authorization";

/// What the test app's handlers answer: the auth object through the accessors every adapter's
/// `SignedIn` shares (`user_id()`, `org_role()`, `has()`, …).
pub fn me_json(user: &RequestState) -> Value {
    json!({
        "userId": user.user_id(),
        "sessionId": user.session_id(),
        "orgId": user.org_id(),
        "orgRole": user.org_role(),
        "orgSlug": user.org_slug(),
        "admin": user.has(&org_admin()),
        "tokenType": user.auth_json()["tokenType"],
    })
}

/// A Backend API emulator with a key set and [`API_KEY`], and options on it (session tokens,
/// a fixed clock).
pub struct Fixture {
    /// The emulator (count its key-set fetches, its API-key verifications).
    pub emulator: BackendApiServer,
    /// The instance's options.
    pub options: Options,
}

impl Fixture {
    /// Starts the emulator.
    pub fn start() -> Self {
        let emulator = BackendApiServer::start("sk_live_authorization_scenarios").unwrap();
        emulator.set_keys(vec![KeyPair::shared().jwk(KID)]);
        emulator.set_machine_token(
            Endpoint::ApiKeyVerify,
            API_KEY,
            json!({"id": "ak_id", "subject": "user_key", "scopes": [], "name": "ci"}),
        );
        let options = emulator
            .options_builder()
            .publishable_key(PK_LIVE)
            .clock(Arc::new(FixedClock::at_unix(NOW)))
            .build()
            .unwrap();
        Self { emulator, options }
    }

    /// The options of [`paths::MACHINES`]: API keys and M2M tokens.
    pub fn machine_options(&self) -> Options {
        self.options
            .with_accepts_token(vec![TokenType::ApiKey, TokenType::M2mToken])
            .unwrap()
    }

    /// The options of [`paths::ONBOARDING`]: pending sessions accepted.
    pub fn onboarding_options(&self) -> Options {
        self.options.with_pending_sessions(true)
    }
}

fn minter() -> TokenMinter<'static> {
    TokenMinter::new(KeyPair::shared())
        .kid(KID)
        .issued_at(UNIX_EPOCH + Duration::from_secs(NOW))
}

/// A session token of an organization member with `role` whose first factor was verified
/// `minutes` ago.
pub fn session(role: &str, minutes: i64) -> String {
    minter()
        .claim("org_id", json!("org_1"))
        .claim("org_slug", json!("acme"))
        .claim("org_role", json!(role))
        .claim("fva", json!([minutes, -1]))
        .mint()
}

/// An M2M token in JWT form, verified with the key set.
pub fn m2m() -> String {
    minter()
        .subject("mch_1")
        .category(Some("cl_B7d4PD333AAA"))
        .without_claim("sid")
        .mint()
}

/// `GET base+path`, with `token` as a bearer.
pub fn call(base: &str, path: &str, token: Option<&str>) -> Reply {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer
        .as_deref()
        .map(|b| vec![("authorization", b)])
        .unwrap_or_default();
    get(&agent(), &format!("{base}{path}"), &headers)
}

/// [`paths::ORG_ADMIN`]: `401` signed out (with the debug headers), `403` `{"status":"forbidden"}`
/// for a member, `200` with [`me_json`] for an admin; [`paths::ME`] lets the member in.
pub fn role_routes(base: &str) {
    let signed_out = call(base, paths::ORG_ADMIN, None);
    assert_eq!(signed_out.status, 401);
    assert_eq!(signed_out.json()["status"], "signed-out");
    assert_eq!(signed_out.header("content-type"), Some("application/json"));
    assert_eq!(signed_out.header_all("x-clerk-auth-status"), ["signed-out"]);

    let member = call(base, paths::ORG_ADMIN, Some(&session("org:member", 1)));
    assert_eq!(member.status, 403);
    assert_eq!(member.body, FORBIDDEN);
    assert_eq!(member.header("content-type"), Some("application/json"));

    let admin = call(base, paths::ORG_ADMIN, Some(&session("org:admin", 1)));
    assert_eq!(admin.status, 200, "{}", admin.body);
    assert_eq!(
        admin.json(),
        json!({
            "userId": "user_2test", "sessionId": "sess_2test", "orgId": "org_1",
            "orgRole": "org:admin", "orgSlug": "acme", "admin": true, "tokenType": "session_token",
        })
    );
    let me = call(base, paths::ME, Some(&session("org:member", 1)));
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["admin"], false);
}

/// [`paths::REVERIFY`]: `403` with exactly Clerk's reverification error for a verification 10
/// minutes old, `200` for one 9 minutes old, `401` signed out.
pub fn reverification(base: &str) {
    let stale = call(base, paths::REVERIFY, Some(&session("org:member", 10)));
    assert_eq!(stale.status, 403);
    assert_eq!(stale.body, REVERIFY_STRICT);
    assert_eq!(stale.header("content-type"), Some("application/json"));
    let fresh = call(base, paths::REVERIFY, Some(&session("org:member", 9)));
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    assert_eq!(call(base, paths::REVERIFY, None).status, 401);
}

/// [`paths::MACHINES`] takes [`API_KEY`] and an M2M JWT (verified with the key set the session
/// route fetched: one fetch in all) and refuses a session token (`401` with the API challenge);
/// [`paths::ME`] refuses the machine credentials.
pub fn token_types(base: &str, fixture: &Fixture) {
    let user = session("org:member", 1);
    assert_eq!(call(base, paths::ME, Some(&user)).status, 200);
    assert_eq!(fixture.emulator.jwks_fetches(), 1);

    let key = call(base, paths::MACHINES, Some(API_KEY));
    assert_eq!(key.status, 200, "{}", key.body);
    assert_eq!(key.json()["userId"], "user_key");
    assert_eq!(key.json()["tokenType"], "api_key");
    assert_eq!(key.json()["admin"], false);
    let machine = call(base, paths::MACHINES, Some(&m2m()));
    assert_eq!(machine.status, 200, "{}", machine.body);
    assert_eq!(machine.json()["tokenType"], "m2m_token");
    assert_eq!(fixture.emulator.jwks_fetches(), 1);

    let refused = call(base, paths::MACHINES, Some(&user));
    assert_eq!(refused.status, 401);
    assert_eq!(
        refused.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token""#)
    );
    assert_eq!(call(base, paths::ME, Some(API_KEY)).status, 401);
    let mismatch = call(base, paths::ME, Some(&m2m()));
    assert_eq!(mismatch.status, 401);
    assert_eq!(mismatch.json()["reason"], "token-type-mismatch");
    assert_eq!(fixture.emulator.hits(Endpoint::ApiKeyVerify), 1);
}

/// A pending session: refused on [`paths::ME`], let in on [`paths::ONBOARDING`].
pub fn pending_sessions(base: &str) {
    let pending = minter().claim("sts", json!("pending")).mint();
    assert_eq!(call(base, paths::ME, Some(&pending)).status, 401);
    let onboarding = call(base, paths::ONBOARDING, Some(&pending));
    assert_eq!(onboarding.status, 200, "{}", onboarding.body);
    assert_eq!(onboarding.json()["userId"], "user_2test");
}

/// Every scenario, in order, against the test app at `base` (served with `fixture`'s options,
/// no request sent to it yet): [`role_routes`], [`reverification`], [`token_types`],
/// [`pending_sessions`].
pub fn run(base: &str, fixture: &Fixture) {
    role_routes(base);
    reverification(base);
    token_types(base, fixture);
    pending_sessions(base);
}
