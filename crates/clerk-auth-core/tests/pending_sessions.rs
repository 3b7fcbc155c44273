//! Decision 16: a pending session (`sts = pending`) is not signed in by default (Clerk's
//! `treatPendingAsSignedOut`), and `accept_pending_sessions(true)` accepts it instance-wide.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::SystemTime;

use clerk_auth_core::state::X_CLERK_AUTH_STATUS;
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::OwnedRequest;
use clerk_auth_core::{
    authenticate_request, try_authenticate_request, Auth, AuthStatus, Options, Reason,
};
use serde_json::json;

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";

fn options(accept_pending: bool) -> Options {
    Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key("sk_live_pending_tests")
        .jwt_key(KeyPair::shared().public_pem())
        .accept_pending_sessions(accept_pending)
        .build()
        .unwrap()
}

fn token(status: &str) -> String {
    TokenMinter::new(KeyPair::shared())
        .issued_at(SystemTime::now())
        .claim("sts", json!(status))
        .mint()
}

fn header_request(token: &str) -> OwnedRequest {
    TestRequest::get("https://app.example.com/api/me")
        .bearer(token)
        .build()
}

#[test]
fn the_builder_defaults_to_treating_pending_sessions_as_signed_out() {
    assert!(!Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key("sk_live_pending_tests")
        .build()
        .unwrap()
        .accept_pending_sessions());
    assert!(options(true).accept_pending_sessions());
    assert!(format!("{:?}", options(true)).contains("accept_pending_sessions: true"));
}

#[test]
fn a_pending_session_is_not_signed_in_by_default() {
    let state =
        try_authenticate_request(&header_request(&token("pending")), &options(false)).unwrap();
    // Clerk's wire behaviour: the status stays signed-in, without debug headers.
    assert_eq!(state.status(), AuthStatus::SignedIn);
    assert_eq!(state.reason(), None);
    assert!(!state.headers().contains_key(X_CLERK_AUTH_STATUS));
    // …but nothing treats it as signed in.
    assert!(!state.is_signed_in());
    assert!(matches!(
        state.auth(),
        Auth::SignedOutSession { pending: true }
    ));
    assert!(state.session().is_none());
    let auth = state.auth_json();
    assert_eq!(auth["sessionStatus"], "pending");
    assert_eq!(auth["userId"], serde_json::Value::Null);

    let rejection = state.rejection().expect("a protected route refuses it");
    assert_eq!(rejection.status, 401);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&rejection.body).unwrap(),
        json!({"status": "signed-out", "reason": null, "message": ""})
    );
    // The same as an API route.
    let api = state.into_api();
    assert!(!api.is_signed_in());
    assert_eq!(api.rejection().unwrap().status, 401);
}

#[test]
fn accept_pending_sessions_lets_a_pending_session_through() {
    let state = authenticate_request(&header_request(&token("pending")), &options(true)).unwrap();
    assert_eq!(state.status(), AuthStatus::SignedIn);
    assert!(state.is_signed_in());
    let session = state.session().expect("the pending session's auth object");
    assert!(session.is_pending());
    assert_eq!(session.user_id.as_deref(), Some("user_2test"));
    assert_eq!(state.auth_json()["sessionStatus"], "pending");
    assert_eq!(state.rejection(), None);
}

#[test]
fn an_active_session_is_signed_in_either_way() {
    for accept in [false, true] {
        let state =
            authenticate_request(&header_request(&token("active")), &options(accept)).unwrap();
        assert!(state.is_signed_in(), "accept_pending_sessions({accept})");
        assert!(!state.session().unwrap().is_pending());
        assert_eq!(state.rejection(), None);
    }
}

#[test]
fn a_pending_session_cookie_is_signed_out_and_still_gets_clerks_cross_origin_sync() {
    let pending = token("pending");
    let cookie = format!("__session={pending}; __client_uat=1");
    // A plain request: signed out by default, signed in with the option.
    let plain = TestRequest::get("https://app.example.com/dashboard")
        .header("cookie", &cookie)
        .build();
    let state = authenticate_request(&plain, &options(false)).unwrap();
    assert_eq!(state.status(), AuthStatus::SignedIn);
    assert!(!state.is_signed_in());
    assert!(authenticate_request(&plain, &options(true))
        .unwrap()
        .is_signed_in());

    // Clerk's primary-domain cross-origin sync does not look at the auth object: a pending
    // session gets it like an active one.
    let cross_origin = TestRequest::get("https://app.example.com/dashboard")
        .header("cookie", &cookie)
        .header("sec-fetch-dest", "document")
        .header("referer", "https://satellite.example.org/")
        .build();
    let state = authenticate_request(&cross_origin, &options(false)).unwrap();
    assert_eq!(state.status(), AuthStatus::Handshake);
    assert_eq!(
        state.reason(),
        Some(&Reason::Auth(
            clerk_auth_core::AuthErrorReason::PrimaryDomainCrossOriginSync
        ))
    );
}
