//! The handshake: when to start one and how one is finished.

use super::*;

impl<R: RequestView + ?Sized> Decision<'_, R> {
    // ---- §2.5 maybe-handshake ------------------------------------------------------------

    pub(super) fn maybe_handshake(
        &self,
        reason: Reason,
        message: String,
        custom: Option<HeaderMap>,
    ) -> RequestState {
        let eligible = self.ctx.is_eligible_for_handshake();
        self.note("§2.4", || {
            format!(
                "{reason}: handshake eligibility: {} with sec-fetch-dest \"{}\" and accept \"{}\": {}",
                short(self.ctx.method()),
                short(self.ctx.sec_fetch_dest().unwrap_or("")),
                short(self.ctx.accept().unwrap_or("")),
                if eligible {
                    "eligible"
                } else {
                    "not eligible (only GET document or iframe requests are): signed out"
                }
            )
        });
        if !eligible {
            return self.signed_out_session(reason, message);
        }
        let mut headers = match custom {
            Some(h) => h,
            None => match self.handshake_location(&reason) {
                Some(url) => location_headers(&url),
                None => HeaderMap::new(),
            },
        };
        if headers.contains_key(LOCATION) {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        let counter = self.ctx.redirect_loop_counter();
        // Decision 2: `>= 3`, not `== 3`.
        if counter >= 3 {
            let cause = self.loop_cause(&reason);
            self.note("§2.5", || {
                format!("redirect loop counter {counter} >= 3: the loop guard trips, signed out. Most likely cause: {cause}")
            });
            if self
                .options
                .diagnostics()
                .should_warn(Condition::HandshakeLoop)
            {
                if reason == Reason::Auth(Ar::SatelliteCookieNeedsSyncing) {
                    tracing::warn!(target: "clerk_auth", %reason, %cause, "Clerk: refreshing the session token resulted in an infinite redirect loop. This usually means that your satellite application's Clerk configuration (domain, proxy URL or sign-in URL) does not match the primary's.");
                } else {
                    tracing::warn!(target: "clerk_auth", %reason, %cause, "Clerk: refreshing the session token resulted in an infinite redirect loop. This usually means that your Clerk instance keys do not match - make sure to copy the correct publishable and secret keys from the Clerk dashboard.");
                }
            }
            return self.signed_out_session(reason, message);
        }
        self.note("§2.5", || {
            format!(
                "redirect loop counter {counter} < 3: handshake, the counter cookie becomes {}",
                counter.saturating_add(1)
            )
        });
        if let Some(v) = header_value(&crate::handshake::redirect_count_cookie(
            counter.saturating_add(1),
        )) {
            headers.append(SET_COOKIE, v);
        }
        RequestState::handshake(reason, message, headers)
    }

    /// The handshake-loop post-mortem: what the evidence of this request points to.
    pub(super) fn loop_cause(&self, reason: &Reason) -> crate::diagnostics::LoopCause {
        // The session cookie read (suffixed or not), and the unsuffixed one.
        let issuers: Vec<String> = [
            self.ctx.session_token_in_cookie(),
            self.ctx.cookie(crate::request::cookie_names::SESSION),
        ]
        .into_iter()
        .flatten()
        .filter_map(|t| self.ctx.decode(t).ok())
        .filter_map(|jwt| jwt.claim_str("iss").map(str::to_owned))
        .collect();
        crate::diagnostics::loop_cause(
            reason,
            self.skew.get(),
            self.options.clock_skew(),
            &issuers,
            self.options.original_frontend_api().unwrap_or(""),
        )
    }

    pub(super) fn handshake_location(&self, reason: &Reason) -> Option<String> {
        let ctx = &self.ctx;
        let reason = reason.as_str();
        let session_token = ctx.session_token_in_cookie().or_else(|| ctx.header_token());
        let dev_browser = if self.options.is_development() {
            ctx.dev_browser_token()
        } else {
            None
        };
        let frontend_api = ctx.frontend_api();
        let target = ctx.organization_target();
        HandshakeUrl {
            frontend_api,
            clerk_url: ctx.clerk_url(),
            suffixed_cookies: ctx.uses_suffixed_cookies(),
            reason: &reason,
            session_token,
            dev_browser_token: dev_browser,
            organization_target: target.as_ref(),
        }
        .build()
    }

    // ---- §2.7 handshake resolution ---------------------------------------------------------

    pub(super) fn resolve_handshake(&self) -> Flow<Result<RequestState, HandshakeFailure>> {
        let ctx = &self.ctx;
        let mut headers = HeaderMap::new();
        headers.insert(
            "access-control-allow-origin",
            HeaderValue::from_static("null"),
        );
        headers.insert(
            "access-control-allow-credentials",
            HeaderValue::from_static("true"),
        );

        let directives: Vec<String> = if let Some(nonce) = ctx.handshake_nonce() {
            // Decision 13: within the instance's Backend API budget; a refused or over-budget
            // nonce gives no directives, as one that could not be resolved.
            match self.options.backend_api() {
                Some(api) => match self.options.budget().handshake_payload(
                    api.as_ref(),
                    nonce,
                    self.options.diagnostics(),
                    self.may_block(),
                ) {
                    Some(directives) => directives,
                    None => return Err(Stop::WouldBlock),
                },
                None => {
                    tracing::warn!(target: "clerk_auth", "Clerk: no Backend API client to resolve the handshake nonce");
                    Vec::new()
                }
            }
        } else if let Some(token) = ctx.handshake_token() {
            let verified = self
                .options
                .verifier()
                .verify_handshake_token_with(token, self.may_block())
                .ok_or(Stop::WouldBlock)?;
            match verified {
                Ok(jwt) => jwt
                    .claims()
                    .get("handshake")
                    .and_then(serde_json::Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                Err(err) => return Ok(Err(HandshakeFailure::Verification(err))),
            }
        } else {
            Vec::new()
        };

        for d in &directives {
            if let Some(v) = header_value(d) {
                headers.append(SET_COOKIE, v);
            }
        }
        let session_token =
            crate::handshake::session_token_from_directives(&directives).unwrap_or_default();

        if self.options.is_development() {
            let clean = crate::handshake::without_query_params(
                ctx.clerk_url(),
                &[
                    "__clerk_handshake",
                    "__clerk_help",
                    "__clerk_db_jwt",
                    "__clerk_handshake_nonce",
                ],
            );
            if let Some(v) = header_value(clean.as_str()) {
                headers.insert(LOCATION, v);
            }
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }

        if session_token.is_empty() {
            return Ok(Ok(RequestState::signed_out(
                Some(TokenType::SessionToken),
                Reason::Auth(Ar::SessionTokenMissing),
                String::new(),
                Auth::SignedOutSession { pending: false },
                headers,
            )));
        }
        // Decision 4: the same type checks as a token from a cookie or the header.
        if self
            .ctx
            .decode(&session_token)
            .is_ok_and(|jwt| is_not_a_session_token(&jwt))
        {
            self.note("§2.7", || {
                "the handshake's session token is not a session token (machine JWT or non-session category): not applied".to_owned()
            });
            return Ok(Err(HandshakeFailure::NotASessionToken));
        }
        match self.verify(&session_token)? {
            Ok(verified) => Ok(Ok(self.signed_in_session(verified, headers))),
            Err(err)
                if self.options.is_development()
                    && matches!(
                        err.reason,
                        TvReason::TokenExpired
                            | TvReason::TokenNotActiveYet
                            | TvReason::TokenIatInTheFuture
                    ) =>
            {
                self.note("§2.7", || {
                    "development: retrying the handshake session token with a 24 h clock tolerance"
                        .to_owned()
                });
                tracing::warn!(target: "clerk_auth", reason = %err.reason, "Clerk: clock skew detected while verifying the handshake session token; retrying with a 24 h tolerance. Make sure your system clock is in sync.");
                let retried = self
                    .options
                    .verifier()
                    .verify_token_with(
                        &session_token,
                        Duration::from_secs(86_400),
                        self.may_block(),
                    )
                    .ok_or(Stop::WouldBlock)?;
                match retried {
                    Ok(jwt) => Ok(Ok(
                        self.signed_in_session(Verified { jwt, entry: None }, headers)
                    )),
                    Err(err) => Ok(Err(HandshakeFailure::Other(err.reason))),
                }
            }
            Err(err) => Ok(Err(HandshakeFailure::Other(err.reason))),
        }
    }
}

pub(super) enum HandshakeFailure {
    /// The handshake JWT itself failed (a `TokenVerificationError` in Clerk's terms).
    Verification(TokenVerificationError),
    /// The session token it carried failed.
    Other(TvReason),
    /// The session token it carried is a machine JWT or of a non-session category (decision 4).
    NotASessionToken,
}

impl std::fmt::Display for HandshakeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Verification(e) => write!(f, "handshake token: {}", e.reason),
            Self::Other(r) => write!(f, "session token from the handshake: {r}"),
            Self::NotASessionToken => {
                f.write_str("session token from the handshake: not a session token")
            }
        }
    }
}

#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use crate::state::AuthStatus;

    use super::super::test_support::{api, document, production};
    use super::super::with_decision;
    use super::*;

    fn handshake_for(request: &crate::OwnedRequest) -> RequestState {
        let options = production();
        with_decision(request, &options, |d| {
            d.maybe_handshake(
                Reason::Auth(Ar::ClientUatWithoutSessionToken),
                String::new(),
                None,
            )
        })
    }

    #[test]
    fn an_eligible_document_request_is_redirected_with_no_store_and_a_counter_cookie() {
        let state = handshake_for(&document("__client_uat=1"));
        assert_eq!(state.status(), AuthStatus::Handshake);
        let location = state.location().unwrap().to_str().unwrap();
        assert!(
            location.starts_with("https://clerk.example.com/v1/client/handshake?"),
            "{location}"
        );
        assert!(location.contains("redirect_url=https%3A%2F%2Fapp.example.com%2Fdashboard"));
        assert_eq!(state.headers()[CACHE_CONTROL], "no-store");
        let cookie = state.headers()[SET_COOKIE].to_str().unwrap();
        assert!(cookie.starts_with("__clerk_redirect_count=1;"), "{cookie}");
    }

    #[test]
    fn a_request_that_is_not_a_document_is_signed_out_instead() {
        let state = handshake_for(&api("Bearer x"));
        assert_eq!(state.status(), AuthStatus::SignedOut);
        assert!(state.headers().is_empty());
    }

    #[test]
    fn the_loop_guard_trips_at_three_redirects_and_counts_up_below() {
        let state = handshake_for(&document("__client_uat=1; __clerk_redirect_count=3"));
        assert_eq!(state.status(), AuthStatus::SignedOut);
        assert_eq!(
            state.reason(),
            Some(&Reason::Auth(Ar::ClientUatWithoutSessionToken))
        );
        let state = handshake_for(&document("__client_uat=1; __clerk_redirect_count=2"));
        assert_eq!(state.status(), AuthStatus::Handshake);
        let cookie = state.headers()[SET_COOKIE].to_str().unwrap();
        assert!(cookie.starts_with("__clerk_redirect_count=3;"), "{cookie}");
    }

    #[test]
    fn the_handshake_location_names_the_reason_and_the_expired_session_token() {
        let options = production();
        let request = document("__session=a.b.c; __client_uat=1");
        let location = with_decision(&request, &options, |d| {
            d.handshake_location(&Reason::Auth(Ar::SessionTokenNbf))
        })
        .unwrap();
        assert!(
            location.contains("__clerk_hs_reason=session-token-nbf"),
            "{location}"
        );
        assert!(location.contains("format=nonce") || location.contains("session="));
    }
}
