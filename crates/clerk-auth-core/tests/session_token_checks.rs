//! Decision 4 on every path: a session token handed over by a handshake (the directives of a
//! nonce's payload, or of a `__clerk_handshake` JWT) or by a refresh gets the same type checks as
//! one from a cookie or the header. Over real HTTP against the Backend API emulator (key set,
//! handshake payload, refresh).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use clerk_auth_core::testing::server::{BackendApiServer, Endpoint, RefreshResponse};
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::testing::{M2M_CATEGORY, TEMPLATE_CATEGORY};
use clerk_auth_core::OwnedRequest;
use clerk_auth_core::{authenticate_request, AuthStatus, Options, RequestState};
use http::header::SET_COOKIE;
use serde_json::json;

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
/// The cookie suffix of `PK_LIVE`.
const SUFFIX: &str = "naoXFJnI";
const SECRET: &str = "sk_live_session_token_checks";

fn minter() -> TokenMinter<'static> {
    TokenMinter::new(KeyPair::shared()).issued_at(SystemTime::now())
}

/// Validly signed tokens by the instance's key that are not session tokens, by name.
fn not_session_tokens() -> Vec<(&'static str, String)> {
    vec![
        // An M2M JWT: `sub` is a machine, the category is the session's.
        ("m2m sub", minter().subject("mch_2test").mint()),
        ("m2m category", minter().category(Some(M2M_CATEGORY)).mint()),
        (
            "oauth at+jwt",
            minter().header("typ", json!("at+jwt")).mint(),
        ),
        (
            "oauth application/at+jwt",
            minter().header("typ", json!("application/at+jwt")).mint(),
        ),
        (
            "template category",
            minter().category(Some(TEMPLATE_CATEGORY)).mint(),
        ),
    ]
}

fn emulator() -> (BackendApiServer, Options) {
    let server = BackendApiServer::start(SECRET).unwrap();
    server.set_keys(vec![KeyPair::shared().jwk("ins_2test")]);
    let options = server
        .options_builder()
        .publishable_key(PK_LIVE)
        .build()
        .unwrap();
    (server, options)
}

fn directives(session: &str) -> Vec<String> {
    vec![
        format!("__session={session}; Path=/; SameSite=Lax"),
        "__client_uat=1700000000; Path=/".to_owned(),
    ]
}

/// A request that is not eligible for a handshake (no `sec-fetch-dest`), so that a failure shows
/// as a signed-out state rather than a redirect.
fn request(cookie: &str) -> OwnedRequest {
    TestRequest::get("https://app.example.com/dashboard")
        .header("cookie", cookie)
        .build()
}

fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn assert_signed_in_with_cookies(state: &RequestState, what: &str) {
    assert!(state.is_signed_in(), "{what}: {state:?}");
    assert_eq!(
        state.session().unwrap().user_id.as_deref(),
        Some("user_2test"),
        "{what}"
    );
    assert_eq!(
        state.headers().get_all(SET_COOKIE).iter().count(),
        2,
        "{what}"
    );
}

/// Not signed in, and none of the handshake's cookies reach the response.
fn assert_refused(state: &RequestState, what: &str) {
    assert!(!state.is_signed_in(), "{what}: {state:?}");
    assert_eq!(state.status(), AuthStatus::SignedOut, "{what}: {state:?}");
    assert!(state.session().is_none(), "{what}");
    assert!(
        !state.headers().contains_key(SET_COOKIE),
        "{what}: the handshake's cookies were applied: {state:?}"
    );
}

#[test]
fn a_handshake_nonce_handing_back_a_machine_or_template_token_does_not_sign_in() {
    let (server, options) = emulator();

    // Control: a session token through the same path signs in.
    let nonce = unique("nonce_ok_");
    server.set_handshake_payload(&nonce, directives(&minter().mint()));
    let state = authenticate_request(
        &request(&format!("__clerk_handshake_nonce={nonce}")),
        &options,
    )
    .unwrap();
    assert_signed_in_with_cookies(&state, "session token");

    for (what, token) in not_session_tokens() {
        let nonce = unique("nonce_bad_");
        server.set_handshake_payload(&nonce, directives(&token));
        let before = server.hits(Endpoint::HandshakePayload);
        let state = authenticate_request(
            &request(&format!("__clerk_handshake_nonce={nonce}")),
            &options,
        )
        .unwrap();
        assert_eq!(
            server.hits(Endpoint::HandshakePayload),
            before + 1,
            "{what}: the payload was fetched"
        );
        assert_refused(&state, what);
        // The flow went on with the request's own cookies (none).
        assert_eq!(
            state.reason().unwrap().as_str(),
            "session-token-and-uat-missing",
            "{what}"
        );
    }
}

#[test]
fn a_handshake_token_handing_back_a_machine_or_template_token_does_not_sign_in() {
    let (server, options) = emulator();
    let handshake = |session: &str| {
        KeyPair::shared().sign(
            json!({"alg": "RS256", "typ": "JWT", "kid": "ins_2test"}),
            json!({ "handshake": directives(session) }),
        )
    };

    let state = authenticate_request(
        &request(&format!(
            "__clerk_handshake={}",
            handshake(&minter().mint())
        )),
        &options,
    )
    .unwrap();
    assert_signed_in_with_cookies(&state, "session token");
    // The handshake token was verified with the key set fetched over HTTP.
    assert!(server.jwks_fetches() >= 1);

    for (what, token) in not_session_tokens() {
        let state = authenticate_request(
            &request(&format!("__clerk_handshake={}", handshake(&token))),
            &options,
        )
        .unwrap();
        assert_refused(&state, what);
        assert_eq!(
            state.reason().unwrap().as_str(),
            "session-token-and-uat-missing",
            "{what}"
        );
    }
}

#[test]
fn a_refresh_handing_back_a_machine_or_template_token_does_not_sign_in() {
    let (server, options) = emulator();
    let expired = minter()
        .issued_at(SystemTime::now() - Duration::from_secs(120))
        .mint();
    let refresh_request = request(&format!(
        "__session={expired}; __client_uat=1; __refresh_{SUFFIX}=rt"
    ));

    // Control: a session token from the refresh signs in.
    server.set_refresh_response(RefreshResponse::Cookies(directives(&minter().mint())));
    let state = authenticate_request(&refresh_request, &options).unwrap();
    assert_signed_in_with_cookies(&state, "session token");
    assert_eq!(server.hits(Endpoint::SessionRefresh), 1);

    for (i, (what, token)) in not_session_tokens().into_iter().enumerate() {
        server.set_refresh_response(RefreshResponse::Cookies(directives(&token)));
        let state = authenticate_request(&refresh_request, &options).unwrap();
        assert_eq!(
            server.hits(Endpoint::SessionRefresh),
            i + 2,
            "{what}: the refresh was called"
        );
        assert_refused(&state, what);
        assert_eq!(
            state.reason().unwrap().as_str(),
            "session-token-expired-refresh-invalid-session-token",
            "{what}"
        );
    }
}
