//! What the unit tests of the decision steps share: options for a production and a development
//! instance, a document request, the reason as text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::request::test_support::PK_TEST;
use crate::state::RequestState;
use crate::testing::{KeyPair, TestRequest};
use crate::{Options, OptionsBuilder, OwnedRequest};

pub(super) const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";

/// A production instance (`clerk.example.com`) verifying with the shared test key.
pub(super) fn production_builder() -> OptionsBuilder {
    Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key("sk_live_unit")
        .jwt_key(KeyPair::shared().public_pem())
}

pub(super) fn production() -> Options {
    production_builder().build().unwrap()
}

pub(super) fn development() -> Options {
    Options::builder()
        .publishable_key(PK_TEST)
        .secret_key("sk_test_unit")
        .jwt_key(KeyPair::shared().public_pem())
        .build()
        .unwrap()
}

/// A browser's document request to `https://app.example.com/dashboard` with these cookies.
pub(super) fn document(cookies: &str) -> OwnedRequest {
    let mut b = TestRequest::get("https://app.example.com/dashboard")
        .header("host", "app.example.com")
        .header("sec-fetch-dest", "document");
    if !cookies.is_empty() {
        b = b.header("cookie", cookies);
    }
    b.build()
}

/// An API request to `https://app.example.com/api/me` with an `Authorization` header.
pub(super) fn api(authorization: &str) -> OwnedRequest {
    TestRequest::get("https://app.example.com/api/me")
        .header("host", "app.example.com")
        .header("authorization", authorization)
        .build()
}

pub(super) fn reason(state: &RequestState) -> String {
    state.reason().map(ToString::to_string).unwrap_or_default()
}
