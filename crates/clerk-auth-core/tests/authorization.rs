//! Authorization through the decision: the auth object's accessors every adapter shares
//! (`user_id()`, `org_id()`, `has()`, …) and `RequestState::authorize`, the route-level check
//! (Clerk's `auth.protect`): `401` signed out, `403` `{"status":"forbidden"}` without the role,
//! permission, feature or plan, `403` with Clerk's reverification error without a recent enough
//! verification.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use clerk_auth_core::state::Rejection;
use clerk_auth_core::testing::server::{BackendApiServer, Endpoint};
use clerk_auth_core::testing::{FixedClock, KeyPair, TestRequest, TokenMinter};
use clerk_auth_core::token::FactorLevel;
use clerk_auth_core::{
    authenticate_request, Has, Options, OptionsBuilder, RequestState, Reverification, TokenType,
};
use serde_json::{json, Value};

const PK: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
const NOW: u64 = 1_700_000_000;

fn builder() -> OptionsBuilder {
    Options::builder()
        .publishable_key(PK)
        .secret_key("sk_live_authorization")
        .jwt_key(KeyPair::shared().public_pem())
        .clock(Arc::new(FixedClock::at_unix(NOW)))
}

fn minter() -> TokenMinter<'static> {
    TokenMinter::new(KeyPair::shared()).issued_at(UNIX_EPOCH + Duration::from_secs(NOW))
}

fn decide(options: &Options, token: Option<&str>) -> RequestState {
    let mut request = TestRequest::get("https://app.example.com/api/x");
    if let Some(token) = token {
        request = request.bearer(token);
    }
    authenticate_request(&request.build(), options).unwrap()
}

/// An organization admin whose first factor was verified `fva_first` minutes ago (no second
/// factor).
fn admin(fva_first: i64) -> String {
    minter()
        .claim("org_id", json!("org_1"))
        .claim("org_slug", json!("acme"))
        .claim("org_role", json!("org:admin"))
        .claim("org_permissions", json!(["org:invoices:create"]))
        .claim("fea", json!("o:invoices,u:export"))
        .claim("pla", json!("o:pro"))
        .claim("fva", json!([fva_first, -1]))
        .mint()
}

fn member() -> String {
    minter()
        .claim("org_id", json!("org_1"))
        .claim("org_role", json!("org:member"))
        .claim("fva", json!([1, -1]))
        .mint()
}

fn body(rejection: &Rejection) -> Value {
    serde_json::from_str(&rejection.body).unwrap()
}

const STRICT_BODY: &str = r#"{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"strict"}}}"#;

#[test]
fn the_auth_object_reads_the_same_through_the_state() {
    let options = builder().build().unwrap();
    let state = decide(&options, Some(&admin(1)));
    assert_eq!(state.user_id(), Some("user_2test"));
    assert_eq!(state.session_id(), Some("sess_2test"));
    assert_eq!(state.org_id(), Some("org_1"));
    assert_eq!(state.org_role(), Some("org:admin"));
    assert_eq!(state.org_slug(), Some("acme"));
    assert!(state.has(&Has::role("admin")));
    assert!(state.has(&Has::permission("org:invoices:create")));
    assert!(!state.has(&Has::permission("org:invoices:delete")));

    let signed_out = decide(&options, None);
    assert_eq!(signed_out.user_id(), None);
    assert_eq!(signed_out.session_id(), None);
    assert_eq!(signed_out.org_id(), None);
    assert_eq!(signed_out.org_role(), None);
    assert_eq!(signed_out.org_slug(), None);
    assert!(!signed_out.has(&Has::role("admin")));
}

#[test]
fn a_machine_has_its_user_and_organization_but_never_has() {
    let server = BackendApiServer::start("sk_live_authorization_machine").unwrap();
    let resource = |subject: &str| {
        json!({
            "id": "ak_id", "subject": subject, "scopes": ["read"], "claims": {"team": "core"},
            "name": "ci", "revoked": false, "expired": false,
        })
    };
    server.set_machine_token(Endpoint::ApiKeyVerify, "ak_user", resource("user_9"));
    server.set_machine_token(Endpoint::ApiKeyVerify, "ak_org", resource("org_9"));
    let options = server
        .options_builder()
        .publishable_key(PK)
        .accepts_token(TokenType::ApiKey)
        .build()
        .unwrap();

    let user_key = decide(&options, Some("ak_user"));
    assert!(user_key.is_signed_in());
    assert_eq!(user_key.user_id(), Some("user_9"));
    assert_eq!(user_key.org_id(), None);
    assert_eq!(user_key.session_id(), None);
    assert_eq!(user_key.org_role(), None);
    assert!(!user_key.has(&Has::role("admin")));
    // Machines are refused by every requirement, reverification too: they cannot reverify.
    assert_eq!(
        user_key.authorize(&Has::role("admin")),
        Some(Rejection::forbidden())
    );
    assert_eq!(
        user_key.authorize(&Has::reverification(Reverification::Strict)),
        Some(Rejection::forbidden())
    );

    let org_key = decide(&options, Some("ak_org"));
    assert_eq!(org_key.user_id(), None);
    assert_eq!(org_key.org_id(), Some("org_9"));
}

#[test]
fn signed_out_is_refused_as_a_protected_route_refuses_it() {
    let options = builder().build().unwrap();
    let state = decide(&options, None);
    let refused = state.authorize(&Has::role("admin")).unwrap();
    assert_eq!(refused.status, 401);
    assert_eq!(Some(refused), state.rejection());
    assert_eq!(body(&state.rejection().unwrap())["status"], "signed-out");
}

#[test]
fn roles_permissions_features_and_plans() {
    let options = builder().build().unwrap();
    let admin = decide(&options, Some(&admin(1)));
    let member = decide(&options, Some(&member()));
    for allowed in [
        Has::role("org:admin"),
        Has::permission("org:invoices:create"),
        Has::feature("invoices"),
        Has::feature("user:export"),
        Has::plan("org:pro"),
        Has::role("admin").and_permission("org:invoices:create"),
    ] {
        assert_eq!(admin.authorize(&allowed), None, "{allowed:?}");
        assert_eq!(
            member.authorize(&allowed),
            Some(Rejection::forbidden()),
            "{allowed:?}"
        );
    }
    let refused = member.authorize(&Has::role("org:admin")).unwrap();
    assert_eq!(refused.status, 403);
    assert_eq!(refused.body, r#"{"status":"forbidden"}"#);
    assert!(refused.headers.is_empty());
    // Both dimensions are needed.
    assert_eq!(
        admin.authorize(&Has::role("admin").and_plan("enterprise")),
        Some(Rejection::forbidden())
    );
    // A requirement that asks nothing is never met, as `has({})`.
    assert_eq!(
        admin.authorize(&Has::default()),
        Some(Rejection::forbidden())
    );
}

#[test]
fn a_stale_verification_gets_clerks_reverification_error() {
    let options = builder().build().unwrap();
    let fresh = decide(&options, Some(&admin(9)));
    let stale = decide(&options, Some(&admin(10)));
    let strict = Has::reverification(Reverification::Strict);
    assert_eq!(fresh.authorize(&strict), None);
    let refused = stale.authorize(&strict).unwrap();
    assert_eq!(refused.status, 403);
    assert_eq!(refused.body, STRICT_BODY);
    assert_eq!(
        refused,
        Rejection::reverification_error(&Reverification::Strict)
    );

    // The body names the configuration that is missing, presets and custom levels alike.
    assert_eq!(
        body(
            &stale
                .authorize(&Has::reverification(Reverification::StrictMfa))
                .unwrap()
        )["clerk_error"]["metadata"]["reverification"],
        "strict_mfa"
    );
    let custom = Reverification::custom(FactorLevel::FirstFactor, 5);
    assert_eq!(
        body(&stale.authorize(&Has::reverification(custom)).unwrap()),
        json!({"clerk_error": {"type": "forbidden", "reason": "reverification-error",
            "metadata": {"reverification": {"level": "first_factor", "afterMinutes": 5}}}})
    );
    // A session without `fva` cannot prove a verification either.
    let no_fva = decide(&options, Some(&minter().mint()));
    assert_eq!(no_fva.authorize(&strict).unwrap().body, STRICT_BODY);
}

#[test]
fn the_other_dimensions_are_checked_before_reverification() {
    let options = builder().build().unwrap();
    let requirement = Has::role("org:admin").and_reverification(Reverification::Strict);
    // The role is missing: forbidden, whatever the verification's age (reverifying would not help).
    let member = decide(&options, Some(&member()));
    assert_eq!(member.authorize(&requirement), Some(Rejection::forbidden()));
    // The role is there, the verification is stale: reverify.
    let stale_admin = decide(&options, Some(&admin(30)));
    assert_eq!(
        stale_admin.authorize(&requirement).unwrap().body,
        STRICT_BODY
    );
    assert_eq!(
        decide(&options, Some(&admin(1))).authorize(&requirement),
        None
    );
}

#[test]
fn pending_sessions_are_refused_unless_accepted() {
    let pending = minter()
        .claim("sts", json!("pending"))
        .claim("org_id", json!("org_1"))
        .claim("org_role", json!("org:admin"))
        .mint();
    let requirement = Has::role("org:admin");
    let options = builder().build().unwrap();
    let refused = decide(&options, Some(&pending))
        .authorize(&requirement)
        .unwrap();
    assert_eq!(refused.status, 401);
    assert_eq!(body(&refused)["reason"], Value::Null);
    let accepting = builder().accept_pending_sessions(true).build().unwrap();
    assert_eq!(
        decide(&accepting, Some(&pending)).authorize(&requirement),
        None
    );
}
