//! `RequestState::into_api` on the states the decision gives: a route answered as an API never
//! redirects, and a signed-in request stays signed in when its handshake would only sync the
//! browser.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use clerk_auth_core::state::Disposition;
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{FixedClock, KeyPair, TokenMinter};
use clerk_auth_core::OwnedRequest;
use clerk_auth_core::{authenticate_request, AuthStatus, Options, OrganizationSyncOptions};

const PK: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
const NOW: u64 = 1_700_000_000;

fn options() -> Options {
    Options::builder()
        .publishable_key(PK)
        .secret_key("sk_live_x")
        .jwt_key(KeyPair::shared().public_pem())
        .clock(Arc::new(FixedClock::at_unix(NOW)))
        .organization_sync(OrganizationSyncOptions {
            organization_patterns: vec!["/orgs/:slug".into(), "/orgs/:slug/(.*)".into()],
            personal_account_patterns: Vec::new(),
        })
        .build()
        .unwrap()
}

fn session_cookie_request(url: &str, referer: Option<&str>) -> OwnedRequest {
    let token = TokenMinter::new(KeyPair::shared())
        .issued_at(UNIX_EPOCH + Duration::from_secs(NOW))
        .mint();
    let mut builder = TestRequest::get(url)
        .header("sec-fetch-dest", "document")
        .cookie("__session", &token)
        .cookie("__client_uat", &(NOW - 10).to_string());
    if let Some(r) = referer {
        builder = builder.header("referer", r);
    }
    builder.build()
}

#[test]
fn cross_origin_sync_of_a_signed_in_request_stays_signed_in_as_an_api() {
    let request = session_cookie_request(
        "https://app.example.com/api/me",
        Some("https://satellite.example.org/page"),
    );
    let page = authenticate_request(&request, &options()).unwrap();
    assert_eq!(page.status(), AuthStatus::Handshake);
    assert_eq!(
        page.reason().unwrap().to_string(),
        "primary-domain-cross-origin-sync"
    );
    let api = page.into_api();
    assert_eq!(api.status(), AuthStatus::SignedIn);
    assert_eq!(
        api.session().unwrap().user_id.as_deref(),
        Some("user_2test")
    );
    assert_eq!(api.disposition(), Disposition::Continue);
    assert!(api.location().is_none());
    assert!(api.is_api());
}

#[test]
fn organization_sync_of_a_signed_in_request_stays_signed_in_as_an_api() {
    let request = session_cookie_request("https://app.example.com/orgs/acme/settings", None);
    let page = authenticate_request(&request, &options()).unwrap();
    assert_eq!(page.status(), AuthStatus::Handshake, "{page:?}");
    assert_eq!(
        page.reason().unwrap().to_string(),
        "active-organization-mismatch"
    );
    let api = page.into_api();
    assert!(api.is_signed_in());
    assert!(api.headers().is_empty(), "{:?}", api.headers());
}

#[test]
fn a_signed_out_handshake_is_signed_out_as_an_api() {
    let request = TestRequest::get("https://app.example.com/api/me")
        .header("sec-fetch-dest", "document")
        .cookie("__client_uat", &NOW.to_string())
        .build();
    let api = authenticate_request(&request, &options())
        .unwrap()
        .into_api();
    assert_eq!(api.status(), AuthStatus::SignedOut);
    let rejection = api.rejection().unwrap();
    assert_eq!(rejection.status, 401);
    assert_eq!(
        rejection
            .headers
            .get(http::header::WWW_AUTHENTICATE)
            .unwrap(),
        r#"Bearer error="invalid_token""#
    );
}
