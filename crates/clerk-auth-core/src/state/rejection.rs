//! What an adapter answers: the [`Disposition`] of a state, the [`Rejection`] of a protected
//! route, and the state answered as an API ([`RequestState::into_api`]).

use http::header::{HeaderMap, HeaderValue};

use super::{Auth, AuthStatus, Outage, RequestState, X_CLERK_AUTH_STATUS};

/// What an adapter does with a state before running the handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Answer `307 Temporary Redirect` with all the state's headers; do not run the handler.
    Redirect,
    /// A handshake without `location`: answer `500`; do not run the handler.
    ServerError,
    /// Run the handler and add the state's headers to its response.
    Continue,
}

/// The answer to a request that a protected route refuses (decision 11): `401` for a signed-out
/// request, `503` when the keys could not be obtained, both with the JSON body
/// `{"status","reason","message"}`; or, from [`RequestState::authorize`], `403` for a signed-in
/// request without what the route requires ([`forbidden`](Rejection::forbidden),
/// [`reverification_error`](Rejection::reverification_error)). The body never contains a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// `401`, `403` or `503`.
    pub status: u16,
    /// The JSON body.
    pub body: String,
    /// The headers this answer carries besides the state's own
    /// [`headers`](RequestState::headers): `WWW-Authenticate: Bearer error="invalid_token"` on a
    /// `401` of a state answered as an API ([`RequestState::into_api`]), `Retry-After: 1` on a
    /// `503` over the Backend API budget.
    pub headers: HeaderMap,
}

/// The challenge of a `401` answered as an API (RFC 6750, section 3).
const API_CHALLENGE: &str = r#"Bearer error="invalid_token""#;

impl RequestState {
    /// What the adapter does before the handler runs.
    pub fn disposition(&self) -> Disposition {
        if self.headers.contains_key(http::header::LOCATION) {
            Disposition::Redirect
        } else if self.status == AuthStatus::Handshake {
            Disposition::ServerError
        } else {
            Disposition::Continue
        }
    }

    /// Why a route that requires a signed-in user refuses this request, or `None` if it may run:
    /// a signed-in session (not pending) or an authenticated machine.
    pub fn rejection(&self) -> Option<Rejection> {
        if matches!(self.auth, Auth::Session(_) | Auth::Machine(_)) && self.is_signed_in() {
            return None;
        }
        // A pending session is signed in with no reason, but Clerk's `toAuth()` treats it as
        // signed out (decision 16): the body then carries `"reason": null`.
        let reason = self.reason.as_ref().map(|r| r.as_str().into_owned());
        let status = if self.is_unavailable() { 503 } else { 401 };
        let body = serde_json::json!({
            "status": AuthStatus::SignedOut.as_str(),
            "reason": reason,
            "message": self.message.as_deref().unwrap_or(""),
        });
        let mut headers = HeaderMap::new();
        if self.api && status == 401 {
            headers.insert(
                http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static(API_CHALLENGE),
            );
        }
        if self.outage == Some(Outage::Budget) {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        Some(Rejection {
            status,
            body: body.to_string(),
            headers,
        })
    }

    /// This state answered as an API route: never with a redirect, even to a document request.
    ///
    /// - A [`Handshake`](AuthStatus::Handshake) becomes [`SignedOut`](AuthStatus::SignedOut) with
    ///   the same reason and message, as for a request that is not eligible for a handshake. The
    ///   handshake's `location`, `cache-control` and `__clerk_redirect_count` cookie are dropped;
    ///   the debug headers stay (`x-clerk-auth-status` then says `signed-out`).
    /// - Any other state that carries `location` (a development handshake being resolved) keeps
    ///   its status and cookies, without `location` and `cache-control`.
    /// - [`rejection`](Self::rejection) then adds `WWW-Authenticate: Bearer
    ///   error="invalid_token"` to a `401` (not to a `503`: the client's credential is not at fault).
    ///
    /// - A handshake asked for by a signed-in request (organization sync, cross-origin sync) is
    ///   the signed-in state it came from: those handshakes only sync the browser.
    ///
    /// So [`disposition`](Self::disposition) is always [`Disposition::Continue`]. Idempotent.
    #[must_use]
    pub fn into_api(mut self) -> Self {
        self.api = true;
        if let Some(signed_in) = self.without_redirect.take() {
            return signed_in.into_api();
        }
        if self.status == AuthStatus::Handshake {
            self.status = AuthStatus::SignedOut;
            self.auth = Auth::SignedOutSession { pending: false };
            let debug = std::mem::take(&mut self.headers);
            for (name, value) in &debug {
                if name.as_str().starts_with("x-clerk-auth-") {
                    self.headers.append(name.clone(), value.clone());
                }
            }
            if let Some(status) = self.headers.get_mut(X_CLERK_AUTH_STATUS) {
                *status = HeaderValue::from_static(AuthStatus::SignedOut.as_str());
            }
        } else if self.headers.contains_key(http::header::LOCATION) {
            self.headers.remove(http::header::LOCATION);
            self.headers.remove(http::header::CACHE_CONTROL);
        }
        self
    }

    /// The message of the `500` an adapter answers for a handshake without `location`
    /// ([`Disposition::ServerError`]).
    pub const SERVER_ERROR_MESSAGE: &'static str = "handshake required but no redirect location";

    /// The body of the `500` an adapter answers for a handshake without `location`
    /// ([`Disposition::ServerError`]): `{"message":…,"status":"error"}`.
    pub fn server_error_json(&self) -> String {
        serde_json::json!({
            "status": "error",
            "message": Self::SERVER_ERROR_MESSAGE,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use http::header::{HeaderMap, CACHE_CONTROL, LOCATION, SET_COOKIE};

    use super::{Disposition, Rejection};
    use crate::error::TokenVerificationErrorReason;
    use crate::state::fixtures::{handshake, options};
    use crate::state::{
        Auth, AuthErrorReason, AuthStatus, Reason, RequestState, X_CLERK_AUTH_REASON,
        X_CLERK_AUTH_STATUS,
    };
    use crate::testing::TestRequest;
    use crate::token::auth::TokenType;
    use crate::try_authenticate_request;
    #[cfg(feature = "testing")]
    use crate::Options;

    fn body(rejection: &Rejection) -> serde_json::Value {
        serde_json::from_str(&rejection.body).unwrap()
    }

    #[test]
    fn a_handshake_answered_as_an_api_is_signed_out_without_redirect() {
        let page = handshake(true);
        assert_eq!(page.status(), AuthStatus::Handshake);
        assert_eq!(page.disposition(), Disposition::Redirect);
        assert!(page.location().is_some());
        assert!(!page.is_api());

        let api = page.clone().into_api();
        assert!(api.is_api());
        assert_eq!(api.status(), AuthStatus::SignedOut);
        assert!(!api.is_signed_in());
        assert_eq!(api.reason(), page.reason());
        assert_eq!(
            api.reason(),
            Some(&Reason::Auth(AuthErrorReason::ClientUatWithoutSessionToken))
        );
        assert_eq!(api.message(), page.message());
        assert_eq!(api.token_type(), Some(TokenType::SessionToken));
        assert!(matches!(
            api.auth(),
            Auth::SignedOutSession { pending: false }
        ));
        assert_eq!(api.disposition(), Disposition::Continue);
        assert_eq!(api.location(), None);
        for gone in [LOCATION, CACHE_CONTROL, SET_COOKIE] {
            assert!(!api.headers().contains_key(&gone), "{gone}");
        }
        assert_eq!(
            api.headers().get(X_CLERK_AUTH_STATUS).unwrap(),
            "signed-out"
        );
        assert_eq!(
            api.headers().get(X_CLERK_AUTH_REASON).unwrap(),
            "client-uat-but-no-session-token"
        );
        assert!(api
            .headers()
            .keys()
            .all(|n| n.as_str().starts_with("x-clerk-auth-")));

        let rejection = api.rejection().unwrap();
        assert_eq!(rejection.status, 401);
        assert_eq!(
            rejection
                .headers
                .get(http::header::WWW_AUTHENTICATE)
                .unwrap(),
            r#"Bearer error="invalid_token""#
        );
        assert_eq!(
            body(&rejection),
            serde_json::json!({
                "status": "signed-out",
                "reason": "client-uat-but-no-session-token",
                "message": "",
            })
        );
        // Idempotent.
        let again = api.clone().into_api();
        assert_eq!(again.headers(), api.headers());
        assert_eq!(again.rejection(), api.rejection());
    }

    #[test]
    fn without_debug_headers_an_api_handshake_carries_no_header() {
        let api = handshake(false).into_api();
        assert_eq!(api.status(), AuthStatus::SignedOut);
        assert!(api.headers().is_empty(), "{:?}", api.headers());
        assert_eq!(api.rejection().unwrap().status, 401);
    }

    #[test]
    fn page_mode_rejections_carry_no_challenge() {
        let request = TestRequest::get("/api/me")
            .header("host", "app.example.com")
            .build();
        let page = try_authenticate_request(&request, &options(true)).unwrap();
        assert!(!page.is_api());
        let rejection = page.rejection().unwrap();
        assert_eq!(rejection.status, 401);
        assert_eq!(rejection.headers.get(http::header::WWW_AUTHENTICATE), None);
        assert!(!format!("{page:?}").contains("api"));

        // The same signed-out state as an API: same status, headers and body, plus the challenge.
        let api = page.clone().into_api();
        assert_eq!(api.status(), page.status());
        assert_eq!(api.headers(), page.headers());
        let api_rejection = api.rejection().unwrap();
        assert_eq!(api_rejection.body, rejection.body);
        assert_eq!(
            api_rejection
                .headers
                .get(http::header::WWW_AUTHENTICATE)
                .unwrap(),
            r#"Bearer error="invalid_token""#
        );
        assert!(format!("{api:?}").contains("api: true"));
    }

    #[test]
    fn a_key_set_outage_answered_as_an_api_stays_503_without_challenge() {
        let outage = RequestState::signed_out(
            Some(TokenType::SessionToken),
            Reason::Token(TokenVerificationErrorReason::JwkRemoteFailedToLoad),
            String::new(),
            Auth::SignedOutSession { pending: false },
            HeaderMap::new(),
        )
        .into_api();
        assert!(outage.is_key_set_outage());
        let rejection = outage.rejection().unwrap();
        assert_eq!(rejection.status, 503);
        assert_eq!(rejection.headers.get(http::header::WWW_AUTHENTICATE), None);
        assert_eq!(body(&rejection)["reason"], "jwk-remote-failed-to-load");
    }

    #[test]
    fn a_handshake_without_location_answered_as_an_api_is_not_a_server_error() {
        let reason = Reason::Auth(AuthErrorReason::DevBrowserMissing);
        let page = RequestState::handshake(reason.clone(), "m".to_owned(), HeaderMap::new());
        assert_eq!(page.disposition(), Disposition::ServerError);
        let api = page.into_api();
        assert_eq!(api.disposition(), Disposition::Continue);
        assert_eq!(api.status(), AuthStatus::SignedOut);
        assert_eq!(api.reason(), Some(&reason));
        assert_eq!(api.message(), Some("m"));
        assert_eq!(api.rejection().unwrap().status, 401);
    }

    #[cfg(feature = "testing")]
    #[test]
    fn a_signed_in_state_answered_as_an_api_keeps_its_cookies_but_not_its_redirect() {
        use crate::testing::{KeyPair, TokenMinter};

        let keys = KeyPair::shared();
        let session = TokenMinter::new(keys)
            .issued_at(std::time::SystemTime::now())
            .ttl(std::time::Duration::from_secs(600))
            .mint();
        let directives = serde_json::json!([
            format!("__session={session}; Path=/"),
            "__client_uat=1700000000; Path=/",
        ]);
        let handshake_token = keys.sign(
            serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "ins_2test"}),
            serde_json::json!({ "handshake": directives }),
        );
        // A development instance resolving a handshake token: signed in, `307` to the clean URL.
        let options = Options::builder()
            .publishable_key("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k")
            .secret_key("sk_test_state_tests")
            .jwt_key(keys.public_pem())
            .build()
            .unwrap();
        let request = TestRequest::get(format!("/p?__clerk_handshake={handshake_token}"))
            .header("host", "app.example.com")
            .build();
        let page = try_authenticate_request(&request, &options).unwrap();
        assert!(page.is_signed_in());
        assert_eq!(page.disposition(), Disposition::Redirect);

        let api = page.into_api();
        assert!(api.is_signed_in());
        assert_eq!(api.disposition(), Disposition::Continue);
        assert!(!api.headers().contains_key(LOCATION));
        assert!(!api.headers().contains_key(CACHE_CONTROL));
        assert_eq!(api.headers().get_all(SET_COOKIE).iter().count(), 2);
        assert_eq!(api.rejection(), None);
        assert_eq!(api.token(), Some(session.as_str()));
    }
}
