//! Shared test fixtures of the `state` module: options for a live instance and a handshake state.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::RequestState;
use crate::testing::TestRequest;
use crate::{try_authenticate_request, Options};

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";

pub(super) fn options(debug_headers: bool) -> Options {
    Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key("sk_live_state_tests")
        .debug_headers(debug_headers)
        .build()
        .unwrap()
}

/// A document GET with `__client_uat=1` and no session token: a handshake in page mode.
pub(super) fn handshake(debug_headers: bool) -> RequestState {
    let request = TestRequest::get("/dashboard")
        .header("host", "app.example.com")
        .header("cookie", "__client_uat=1")
        .header("sec-fetch-dest", "document")
        .build();
    try_authenticate_request(&request, &options(debug_headers)).unwrap()
}
