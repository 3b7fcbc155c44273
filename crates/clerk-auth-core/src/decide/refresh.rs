//! Session-token errors and the refresh that may recover from them.

use super::*;

impl<R: RequestView + ?Sized> Decision<'_, R> {
    // ---- §2.8 errors and refresh -----------------------------------------------------------

    pub(super) fn handle_session_token_error(
        &self,
        err: TokenVerificationError,
        carrier: TokenCarrier,
    ) -> Flow<RequestState> {
        let refresh_error = if err.reason == TvReason::TokenExpired
            && self.ctx.refresh_token_in_cookie().is_some()
            && self.ctx.method() == "GET"
        {
            match self.refresh()? {
                Ok(state) => return Ok(state),
                Err(e) => Some(e),
            }
        } else if self.ctx.method() != "GET" {
            Some(RefreshError::NonEligibleNonGet)
        } else if self.ctx.refresh_token_in_cookie().is_none() {
            Some(RefreshError::NonEligibleNoRefreshCookie)
        } else {
            None
        };
        self.note("§2.8", || match (&refresh_error, err.reason) {
            (_, r) if r != TvReason::TokenExpired => format!("{r}: no refresh for this failure"),
            (Some(e), _) => format!("expired token: refresh {}", short(e.as_str())),
            (None, _) => "expired token: refresh not attempted".to_owned(),
        });
        let message = err.full_message(carrier);
        let reason = match err.reason {
            TvReason::TokenExpired => Reason::SessionTokenExpired(
                refresh_error.unwrap_or(RefreshError::UnexpectedSdkError),
            ),
            TvReason::TokenNotActiveYet => Reason::Auth(Ar::SessionTokenNbf),
            TvReason::TokenIatInTheFuture => Reason::Auth(Ar::SessionTokenIatInTheFuture),
            other => return Ok(self.signed_out_session(Reason::Token(other), message)),
        };
        Ok(self.maybe_handshake(reason, message, None))
    }

    pub(super) fn refresh(&self) -> Flow<Result<RequestState, RefreshError>> {
        let ctx = &self.ctx;
        let Some(api) = self.options.backend_api() else {
            return Ok(Err(RefreshError::MissingApiClient));
        };
        let Some(expired) = ctx.session_token_in_cookie().or_else(|| ctx.header_token()) else {
            return Ok(Err(RefreshError::MissingSessionToken));
        };
        let Some(refresh_token) = ctx.refresh_token_in_cookie() else {
            return Ok(Err(RefreshError::MissingRefreshToken));
        };
        let Ok(decoded) = Jwt::decode(expired) else {
            return Ok(Err(RefreshError::ExpiredSessionTokenDecodeFailed));
        };
        let Some(sid) = decoded.claim_str("sid") else {
            return Ok(Err(RefreshError::ExpiredSessionTokenMissingSidClaim));
        };
        if self.mode == Mode::NonBlocking {
            return Err(Stop::WouldBlock);
        }
        self.note("§2.8", || {
            "expired token with a refresh cookie on a GET: refreshing through the Backend API"
                .to_owned()
        });
        let request = RefreshRequest {
            format: "cookie",
            expired_token: expired.to_owned(),
            refresh_token: refresh_token.to_owned(),
            request_origin: ctx.clerk_url().origin().ascii_serialization(),
            request_headers: ctx.all_headers(),
            suffixed_cookies: ctx.uses_suffixed_cookies(),
        };
        let cookies = match api.refresh_session(sid, &request) {
            Ok(c) => c,
            Err(crate::bapi::BapiError::Network(_)) => return Ok(Err(RefreshError::FetchError)),
            Err(crate::bapi::BapiError::Status {
                code: Some(code), ..
            }) => {
                return Ok(Err(if code == "unexpected_error" {
                    RefreshError::FetchError
                } else {
                    // The code reaches the reason header and the logs: bounded and inert.
                    RefreshError::Bapi(crate::text::inert(&code).into_owned())
                }));
            }
            Err(_) => return Ok(Err(RefreshError::UnexpectedBapiError)),
        };
        if cookies.is_empty() {
            return Ok(Err(RefreshError::UnexpectedSdkError));
        }
        let mut headers = HeaderMap::new();
        for c in &cookies {
            if let Some(v) = header_value(c) {
                headers.append(SET_COOKIE, v);
            }
        }
        let Some(token) =
            crate::handshake::session_token_from_directives(&cookies).filter(|t| !t.is_empty())
        else {
            return Ok(Err(RefreshError::InvalidSessionToken));
        };
        // Decision 4: the same type checks as a token from a cookie or the header.
        if self
            .ctx
            .decode(&token)
            .is_ok_and(|jwt| is_not_a_session_token(&jwt))
        {
            self.note("§2.8", || {
                "the refreshed token is not a session token (machine JWT or non-session category)"
                    .to_owned()
            });
            return Ok(Err(RefreshError::InvalidSessionToken));
        }
        match self.verify(&token)? {
            Ok(verified) => Ok(Ok(self.signed_in_session(verified, headers))),
            Err(_) => Ok(Err(RefreshError::InvalidSessionToken)),
        }
    }
}

#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use crate::state::AuthStatus;
    use crate::testing::TestRequest;

    use super::super::test_support::{document, production};
    use super::super::with_decision;
    use super::*;

    fn expired() -> TokenVerificationError {
        TokenVerificationError::new(TvReason::TokenExpired, "JWT is expired.")
    }

    fn refresh_cookie(options: &Options) -> String {
        format!("__refresh_{}=r1", options.cookie_suffix().unwrap())
    }

    fn handled(request: &crate::OwnedRequest, err: TokenVerificationError) -> RequestState {
        let options = production();
        match with_decision(request, &options, |d| {
            d.handle_session_token_error(err, TokenCarrier::Cookie)
        }) {
            Ok(state) => state,
            Err(_) => panic!("the step did not decide"),
        }
    }

    #[test]
    fn an_expired_token_is_refreshed_only_on_a_get_with_a_refresh_cookie() {
        let post = TestRequest::post("https://app.example.com/dashboard")
            .header("sec-fetch-dest", "document")
            .build();
        let state = handled(&post, expired());
        assert_eq!(
            state.reason(),
            Some(&Reason::SessionTokenExpired(
                RefreshError::NonEligibleNonGet
            ))
        );
        let state = handled(&document("__client_uat=1"), expired());
        assert_eq!(
            state.reason(),
            Some(&Reason::SessionTokenExpired(
                RefreshError::NonEligibleNoRefreshCookie
            ))
        );
        // A GET document request: the expiry leads to a handshake.
        assert_eq!(state.status(), AuthStatus::Handshake);
    }

    #[test]
    fn other_failures_are_signed_out_with_their_own_reason_and_no_handshake() {
        let err = TokenVerificationError::new(TvReason::TokenInvalidSignature, "bad signature");
        let state = handled(&document("__client_uat=1"), err);
        assert_eq!(state.status(), AuthStatus::SignedOut);
        assert_eq!(
            state.reason(),
            Some(&Reason::Token(TvReason::TokenInvalidSignature))
        );
    }

    #[test]
    fn a_refresh_stops_before_the_network_when_the_expired_token_says_too_little() {
        let options = production();
        let refresh = |cookies: String| {
            let request = document(&cookies);
            match with_decision(&request, &options, |d| d.refresh()) {
                Ok(Err(e)) => e,
                Ok(Ok(_)) => panic!("refreshed"),
                Err(_) => panic!("wanted the network"),
            }
        };
        assert_eq!(
            refresh("__session=a.b.c".to_owned()),
            RefreshError::MissingRefreshToken
        );
        assert_eq!(
            refresh(format!("__session=a.b.c; {}", refresh_cookie(&options))),
            RefreshError::ExpiredSessionTokenDecodeFailed
        );
        let no_sid = crate::testing::TokenMinter::new(crate::testing::KeyPair::shared())
            .without_claim("sid")
            .mint();
        assert_eq!(
            refresh(format!("__session={no_sid}; {}", refresh_cookie(&options))),
            RefreshError::ExpiredSessionTokenMissingSidClaim
        );
    }
}
