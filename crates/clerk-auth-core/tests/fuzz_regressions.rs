//! Regression tests for what the fuzz targets in `fuzz/` found (one test per finding; the
//! target and its minimised input are named in each test). Run with the stable toolchain, like
//! every other test; `fuzz/README.md` says how to add one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clerk_auth_core::state::X_CLERK_AUTH_MESSAGE;
use clerk_auth_core::testing::server::{BackendApiServer, CannedResponse, Endpoint};
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::{authenticate_request, AcceptsToken, Options, RequestState};

const PK: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";

/// The bound the `decision` target asserts on every message: Clerk's fixed wording plus one
/// untrusted value of at most 512 bytes (decision 15).
const MAX_MESSAGE_BYTES: usize = 2048;

/// What the `decision` target checks of every state: the message is bounded, carries no control
/// character, and reaches the client whole in `x-clerk-auth-message`.
#[track_caller]
fn assert_message_inert(state: &RequestState) -> String {
    let message = state.message().expect("a message").to_owned();
    assert!(
        message.len() <= MAX_MESSAGE_BYTES,
        "{} bytes",
        message.len()
    );
    assert!(
        !message.chars().any(char::is_control),
        "control character in {message:?}"
    );
    let header = state
        .headers()
        .get(X_CLERK_AUTH_MESSAGE)
        .unwrap_or_else(|| panic!("no x-clerk-auth-message for {message:.200}"));
    assert_eq!(header.to_str().unwrap(), message);
    message
}

/// Found by `decision` (input: `C 4` / `H authorization:Bearer oat_…` / `ME 401 <text with NUL
/// and ESC>`): the `errors[0].message` of a Backend API `401` to a machine-token verification was
/// copied verbatim into the signed-out message. Control characters (here NUL, ESC, CR, LF) made
/// the `x-clerk-auth-message` header vanish, and a long text made the message unbounded. It now
/// passes through the untrusted-text rule of decision 15 like any value a client controls.
#[test]
fn backend_api_401_message_is_bounded_and_inert() {
    let server = BackendApiServer::start("sk_live_fuzz_regression").unwrap();
    let hostile = format!(
        "\r\nX-Forged: 1\u{0}\u{1b}[31m{}\u{0}{}",
        "m".repeat(9_000),
        "tail"
    );
    for endpoint in [
        Endpoint::ApiKeyVerify,
        Endpoint::M2mTokenVerify,
        Endpoint::OAuthTokenVerify,
    ] {
        server.respond_with(
            endpoint,
            Some(CannedResponse::bapi_error(401, "unauthorized", &hostile)),
        );
    }
    let options: Options = server
        .options_builder()
        .publishable_key(PK)
        .accepts_token(AcceptsToken::Any)
        .build()
        .unwrap();
    for token in [
        "ak_fuzz_regression",
        "mt_fuzz_regression",
        "oat_fuzz_regression",
    ] {
        let request = TestRequest::get("https://app.example.com/api/data")
            .bearer(token)
            .build();
        let state = authenticate_request(&request, &options).unwrap();
        assert!(!state.is_signed_in());
        let message = assert_message_inert(&state);
        // The Backend API's text is still shown (escaped and cut), with Clerk's code and status.
        assert!(
            message.starts_with("\\r\\nX-Forged: 1\\0\\u{1b}[31mmmm"),
            "{message:.200}"
        );
        assert!(
            message.contains("...") && !message.contains("tail"),
            "{message:.200}"
        );
        assert!(
            message.ends_with("(code=secret-key-invalid, status=401)"),
            "{message:.200}"
        );
    }

    // A plain message is shown as the Backend API wrote it.
    server.respond_with(
        Endpoint::ApiKeyVerify,
        Some(CannedResponse::bapi_error(
            401,
            "unauthorized",
            "Secret key is invalid",
        )),
    );
    let request = TestRequest::get("https://app.example.com/api/data")
        .bearer("ak_fuzz_plain")
        .build();
    let state = authenticate_request(&request, &options).unwrap();
    assert_eq!(
        assert_message_inert(&state),
        "Secret key is invalid (code=secret-key-invalid, status=401)"
    );
}

/// Found by `org_sync_patterns` (the minimised input's patterns and path below): the
/// byte-level pattern split a two-byte UTF-8 character between two parameters, and a parameter
/// value came out with U+FFFD, a value the path does not hold (an organization slug the URL
/// never named). Such a match now counts as no match.
#[test]
fn org_sync_parameters_never_split_a_character() {
    use clerk_auth_core::org_sync::{OrganizationMatcher, PathPatterns};
    use clerk_auth_core::{OrganizationSyncOptions, OrganizationSyncTarget};

    let r = "\u{FFFD}";
    let pattern = format!("/{}:slug:slugC(.*)", r.repeat(10));
    let path = format!("/{}\u{5D2}{r}\u{41D}{r}e", r.repeat(10));
    let patterns = PathPatterns::new(&[pattern.as_str()]).unwrap();
    let params = patterns.match_path(&path);
    for (name, value) in params.iter().flatten() {
        assert!(
            path.contains(value.as_str()),
            "{name}={value:?} not from {path:?}"
        );
    }
    assert_eq!(params.is_some(), patterns.is_match(&path));
    let matcher = OrganizationMatcher::new(&OrganizationSyncOptions {
        organization_patterns: vec![pattern.clone()],
        personal_account_patterns: vec![],
    })
    .unwrap();
    if let Some(
        OrganizationSyncTarget::OrganizationSlug(v) | OrganizationSyncTarget::OrganizationId(v),
    ) = matcher.find_target(&path)
    {
        assert!(path.contains(v.as_str()), "{v:?} not from {path:?}");
    }

    // ASCII paths (a request's percent-encoded path always is one) match as before.
    let plain = PathPatterns::new(&["/orgs/:slug"]).unwrap();
    assert_eq!(
        plain.match_path("/orgs/acme"),
        Some(vec![("slug".to_owned(), "acme".to_owned())])
    );
    assert!(plain.is_match("/orgs/acme") && !plain.is_match("/me"));
}

/// A refresh error's Backend API `code` reaches the reason (and its header) and the logs bounded
/// and inert, like every value that does not come from this service.
#[test]
fn a_refresh_error_code_reaches_the_reason_bounded_and_inert() {
    use clerk_auth_core::bapi::BapiError;
    use clerk_auth_core::RefreshError;

    let hostile = format!("bad\r\nX-Injected: 1{}", "x".repeat(9_000));
    let error = BapiError::Status {
        status: 422,
        code: Some(hostile.clone()),
        message: None,
    };
    let shown = error.to_string();
    assert!(shown.len() < 700, "{} bytes", shown.len());
    assert!(!shown.contains('\r') && !shown.contains('\n'), "{shown}");
    assert!(!BapiError::Network(hostile).to_string().contains('\n'));
    // The refresh reason built from such a code is a valid header value.
    let reason = clerk_auth_core::Reason::SessionTokenExpired(RefreshError::Bapi("x".repeat(10)));
    assert!(http::HeaderValue::from_str(&reason.to_string()).is_ok());
}
