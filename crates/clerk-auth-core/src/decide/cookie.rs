//! The cookie flow and organization sync: a browser's session cookie, step by step.

use super::*;

/// What a step of the cookie flow found: the request is decided, or the flow goes on with `T`.
pub(super) enum Step<T> {
    /// The request is decided.
    Decided(RequestState),
    /// The flow goes on, with what the step found.
    GoOn(T),
}

impl<T> Step<T> {
    /// The state, when the step decided.
    #[cfg(all(test, feature = "testing"))]
    fn decided(self) -> Option<RequestState> {
        match self {
            Self::Decided(state) => Some(state),
            Self::GoOn(_) => None,
        }
    }
}

impl<R: RequestView + ?Sized> Decision<'_, R> {
    // ---- §2.3 cookie flow ----------------------------------------------------------------
    //
    // Each step either decides (`Some(state)`, or an interrupt) or lets the flow go on (`None`).

    pub(super) fn cookie_flow(&self) -> Flow<RequestState> {
        if let Some(state) = self.reject_oversized_cookies() {
            return Ok(state);
        }
        self.note_cookies();
        if let Some(state) = self.finish_handshake()? {
            return Ok(state);
        }
        if let Some(state) = self.satellite_sync_gate()? {
            return Ok(state);
        }
        if let Some(state) = self.primary_answers_satellite() {
            return Ok(state);
        }
        if let Some(state) = self.dev_browser_steps() {
            return Ok(state);
        }
        let token = match self.session_cookie_and_client_uat() {
            Step::GoOn(token) => token,
            Step::Decided(state) => return Ok(state),
        };
        if let Some(state) = self.pre_verification_checks(token)? {
            return Ok(state);
        }
        let signed_in = match self.verify_session_cookie(token)? {
            Step::GoOn(signed_in) => signed_in,
            Step::Decided(state) => return Ok(state),
        };
        // A pending session goes on (Clerk's cross-origin sync does not look at the auth object).
        if signed_in.status() != crate::state::AuthStatus::SignedIn {
            return Ok(signed_in);
        }
        if let Some(state) = self.primary_cross_origin_sync(&signed_in) {
            return Ok(state);
        }
        // Step 14: organization sync.
        if let Some(session) = signed_in.session() {
            if let Some(state) = self.organization_sync(session) {
                return Ok(keep_signed_in_without_redirect(state, &signed_in));
            }
        }
        Ok(signed_in)
    }

    /// Decision 9: an oversized Cookie header is rejected before any parsing work.
    pub(super) fn reject_oversized_cookies(&self) -> Option<RequestState> {
        if !self.ctx.cookies_oversized() {
            return None;
        }
        let err = TokenVerificationError::new(
            TvReason::TokenInvalid,
            format!(
                "Invalid Cookie header: longer than {} bytes.",
                crate::request::MAX_COOKIE_HEADER_LEN
            ),
        );
        Some(self.signed_out_session(
            Reason::Token(err.reason),
            err.full_message(TokenCarrier::Cookie),
        ))
    }

    /// The cookies as read (the cookie-name rule, the cookie flow's inputs), for the explanation.
    fn note_cookies(&self) {
        let ctx = &self.ctx;
        self.note("§1.5", || ctx.suffix_rule().describe().to_owned());
        self.note("§2.3", || {
            let suffix = if ctx.uses_suffixed_cookies() {
                "_<suffix>"
            } else {
                ""
            };
            format!(
                "cookies: __session{suffix} {}; __client_uat{suffix} = {}; dev browser token {}; __clerk_redirect_count = {}",
                ctx.session_token_in_cookie()
                    .map_or_else(|| "absent".to_owned(), token_hint),
                ctx.client_uat(),
                if ctx.dev_browser_token().is_some() { "present" } else { "absent" },
                ctx.redirect_loop_counter()
            )
        });
    }

    /// Step 0: finish a handshake (a nonce or a handshake token in the request). A failure goes
    /// on with the cookies, except a development handshake token that fails verification.
    pub(super) fn finish_handshake(&self) -> Flow<Option<RequestState>> {
        let ctx = &self.ctx;
        if ctx.handshake_nonce().is_none() && ctx.handshake_token().is_none() {
            return Ok(None);
        }
        self.note("§2.3 step 0", || {
            if ctx.handshake_nonce().is_some() {
                "handshake nonce present: the handshake payload is fetched from the Backend API"
                    .to_owned()
            } else {
                "handshake token present: verified, then its cookies applied".to_owned()
            }
        });
        match self.resolve_handshake()? {
            Ok(state) => Ok(Some(state)),
            Err(HandshakeFailure::Verification(err)) if self.options.is_development() => {
                let message = if err.reason == TvReason::TokenInvalidSignature {
                    "Clerk: Handshake token verification failed due to an invalid signature. If you have switched Clerk keys locally, clear your cookies and try again."
                } else {
                    "Clerk: Handshake token verification failed."
                };
                Err(
                    AuthenticateError::HandshakeTokenInvalid(format!("{message} ({})", err.reason))
                        .into(),
                )
            }
            Err(failure) => {
                self.note("§2.3 step 0", || {
                    format!("the handshake could not be resolved ({failure}); continuing with the cookies")
                });
                if self
                    .options
                    .diagnostics()
                    .should_warn(Condition::HandshakeUnresolved)
                {
                    tracing::warn!(target: "clerk_auth", reason = %failure, "Clerk: unable to resolve handshake; continuing");
                }
                Ok(None)
            }
        }
    }

    /// Step 1: a satellite's document request that has not synced yet: signed out, or a sync
    /// handshake (in development, through the primary's sign-in page).
    pub(super) fn satellite_sync_gate(&self) -> Flow<Option<RequestState>> {
        let ctx = &self.ctx;
        if !(self.options.is_satellite()
            && ctx.sec_fetch_dest() == Some("document")
            && ctx.method() == "GET")
        {
            return Ok(None);
        }
        let synced = ctx.query("__clerk_synced");
        let needs_sync = synced.as_deref() == Some("false");
        let sync_completed = synced.as_deref() == Some("true");
        let has_cookies = ctx.session_token_in_cookie().is_some() || ctx.client_uat() != 0;
        let skip = !self.options.satellite_auto_sync() && !has_cookies && !needs_sync;
        if sync_completed {
            return Ok(None);
        }
        if skip {
            return Ok(Some(self.signed_out_session(
                Reason::Auth(Ar::SessionTokenAndUatMissing),
                String::new(),
            )));
        }
        if has_cookies && !needs_sync {
            return Ok(None);
        }
        let custom = if self.options.is_development() {
            let sign_in = self
                .options
                .sign_in_url()
                .and_then(|u| Url::parse(u).ok())
                .ok_or(Stop::Failed(AuthenticateError::SatelliteMisconfigured(
                    "CLERK_SIGN_IN_URL is not an absolute URL",
                )))?;
            let target = crate::handshake::with_query_param_appended(
                &sign_in,
                "__clerk_redirect_url",
                ctx.clerk_url().as_str(),
            );
            Some(location_headers(target.as_str()))
        } else {
            None
        };
        Ok(Some(self.maybe_handshake(
            Ar::SatelliteCookieNeedsSyncing.into(),
            String::new(),
            custom,
        )))
    }

    /// Step 2: a development primary answering a satellite's sync (`__clerk_redirect_url` to an
    /// allowed origin): back there, with the dev-browser token and `__clerk_synced=true`.
    pub(super) fn primary_answers_satellite(&self) -> Option<RequestState> {
        if !self.options.is_development() || self.options.is_satellite() {
            return None;
        }
        let target = self
            .ctx
            .query("__clerk_redirect_url")
            .and_then(|r| parse_http_url(&r))
            .filter(|url| self.is_allowed_redirect(url))?;
        let target = match self.ctx.dev_browser_token() {
            Some(db) => crate::handshake::with_query_param_appended(&target, "__clerk_db_jwt", db),
            None => target,
        };
        let target = crate::handshake::with_query_param_set(&target, "__clerk_synced", "true");
        Some(self.maybe_handshake(
            Ar::PrimaryRespondsToSyncing.into(),
            String::new(),
            Some(location_headers(target.as_str())),
        ))
    }

    /// Steps 3 and 4: the development browser (a `__clerk_db_jwt` in the URL to sync, or none
    /// at all): a handshake.
    pub(super) fn dev_browser_steps(&self) -> Option<RequestState> {
        if !self.options.is_development() {
            return None;
        }
        if self.ctx.query("__clerk_db_jwt").is_some() {
            return Some(self.maybe_handshake(Ar::DevBrowserSync.into(), String::new(), None));
        }
        if self.ctx.dev_browser_token().is_none() {
            return Some(self.maybe_handshake(Ar::DevBrowserMissing.into(), String::new(), None));
        }
        None
    }

    /// Steps 5 to 7: the session cookie and `__client_uat` must go together; the flow goes on
    /// with the session cookie's token.
    pub(super) fn session_cookie_and_client_uat(&self) -> Step<&str> {
        let has_active_client = self.ctx.client_uat() != 0;
        let Some(token) = self.ctx.session_token_in_cookie() else {
            if !has_active_client {
                return Step::Decided(self.signed_out_session(
                    Reason::Auth(Ar::SessionTokenAndUatMissing),
                    String::new(),
                ));
            }
            return Step::Decided(self.maybe_handshake(
                Ar::ClientUatWithoutSessionToken.into(),
                String::new(),
                None,
            ));
        };
        if !has_active_client {
            return Step::Decided(self.maybe_handshake(
                Ar::SessionTokenWithoutClientUat.into(),
                String::new(),
                None,
            ));
        }
        Step::GoOn(token)
    }

    /// Steps 8 to 10, before any key is needed: the token decodes, is a session token, and was
    /// not issued before the client's last update.
    pub(super) fn pre_verification_checks(&self, token: &str) -> Flow<Option<RequestState>> {
        let ctx = &self.ctx;
        // Step 8: decode.
        let decoded = match ctx.decode(token) {
            Ok(jwt) => jwt,
            Err(err) => {
                return self
                    .handle_session_token_error(err, TokenCarrier::Cookie)
                    .map(Some)
            }
        };
        // Step 9: type.
        if is_not_a_session_token(&decoded) {
            return Ok(Some(self.signed_out_session(
                Reason::Auth(Ar::TokenTypeMismatch),
                String::new(),
            )));
        }
        // Step 10: issued before the client's last update.
        if let Some(iat) = decoded.claim_f64("iat") {
            self.note("§2.3 step 10", || {
                let verdict = if iat < ctx.client_uat() as f64 {
                    "issued before the client's last update: handshake"
                } else {
                    "ok"
                };
                format!(
                    "iat {} against __client_uat {}: {verdict}",
                    short(&iat.to_string()),
                    ctx.client_uat()
                )
            });
            if iat < ctx.client_uat() as f64 {
                return Ok(Some(self.maybe_handshake(
                    Ar::SessionTokenIatBeforeClientUat.into(),
                    String::new(),
                    None,
                )));
            }
        }
        Ok(None)
    }

    /// Steps 11 and 12: the verification; the flow goes on signed in (or with a pending
    /// session), or a failed verification decided.
    pub(super) fn verify_session_cookie(&self, token: &str) -> Flow<Step<RequestState>> {
        // Step 11: verify.
        let verified = match self.verify(token)? {
            Ok(verified) => verified,
            Err(err) => {
                return self
                    .handle_session_token_error(err, TokenCarrier::Cookie)
                    .map(Step::Decided)
            }
        };
        // Step 12.
        if verified.jwt.claim_str("azp").is_none_or(str::is_empty)
            && self
                .options
                .diagnostics()
                .should_warn(Condition::MissingAzp)
        {
            tracing::warn!(target: "clerk_auth", "Clerk: session token from cookie is missing the azp claim. In a future version of Clerk, this token will be considered invalid. Please contact Clerk support if you see this warning.");
        }
        Ok(Step::GoOn(
            self.signed_in_session(verified, HeaderMap::new()),
        ))
    }

    /// Step 13: a primary's document request from an unknown cross-origin referrer: a sync
    /// handshake that keeps the request signed in.
    pub(super) fn primary_cross_origin_sync(
        &self,
        signed_in: &RequestState,
    ) -> Option<RequestState> {
        let ctx = &self.ctx;
        if !(!self.options.is_satellite()
            && ctx.method() == "GET"
            && ctx.sec_fetch_dest() == Some("document")
            && ctx.is_cross_origin_referrer()
            && !ctx.is_known_clerk_referrer()
            && ctx.redirect_loop_counter() == 0)
        {
            return None;
        }
        self.note("§2.3 step 13", || {
            "cross-origin document request from an unknown referrer: primary-domain sync".to_owned()
        });
        let state = self.maybe_handshake(
            Ar::PrimaryDomainCrossOriginSync.into(),
            "Cross-origin request from satellite domain requires handshake".to_owned(),
            None,
        );
        Some(keep_signed_in_without_redirect(state, signed_in))
    }

    // ---- §2.10 organization sync ---------------------------------------------------------

    pub(super) fn organization_sync(&self, session: &SessionAuth) -> Option<RequestState> {
        use crate::org_sync::OrganizationSyncTarget as T;
        session.user_id.as_ref()?;
        let target = self.ctx.organization_target()?;
        let must_activate = match &target {
            T::OrganizationSlug(slug) => session.org_slug.as_deref() != Some(slug.as_str()),
            T::OrganizationId(id) => session.org_id.as_deref() != Some(id.as_str()),
            T::PersonalAccount => session.org_id.is_some(),
        };
        self.note("§2.10", || {
            format!(
                "organization target {} for this path: {}",
                short(&format!("{target:?}")),
                if must_activate {
                    "differs from the session's active organization"
                } else {
                    "already active"
                }
            )
        });
        if !must_activate {
            return None;
        }
        if self.ctx.redirect_loop_counter() >= 3 {
            self.note("§2.10", || {
                "redirect loop counter >= 3: keeping the current organization".to_owned()
            });
            if self
                .options
                .diagnostics()
                .should_warn(Condition::OrganizationLoop)
            {
                tracing::warn!(target: "clerk_auth", "Clerk: organization activation handshake loop detected; keeping the current organization");
            }
            return None;
        }
        let state =
            self.maybe_handshake(Ar::ActiveOrganizationMismatch.into(), String::new(), None);
        (state.status() == crate::state::AuthStatus::Handshake).then_some(state)
    }
}

/// A handshake asked for by a signed-in request remembers that state: answered as an API
/// ([`RequestState::into_api`]), the request stays signed in instead of being redirected.
pub(super) fn keep_signed_in_without_redirect(
    mut state: RequestState,
    signed_in: &RequestState,
) -> RequestState {
    if state.status() == crate::state::AuthStatus::Handshake {
        state.without_redirect = Some(Box::new(signed_in.clone()));
    }
    state
}

#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use crate::request::MAX_COOKIE_HEADER_LEN;
    use crate::state::AuthStatus;
    use crate::testing::{KeyPair, TestRequest};

    use super::super::test_support::{development, document, production, reason};
    use super::super::with_decision;
    use super::*;

    #[test]
    fn an_oversized_cookie_header_is_signed_out_before_any_parsing() {
        let options = production();
        let big = format!("a={}", "x".repeat(MAX_COOKIE_HEADER_LEN));
        let state = with_decision(&document(&big), &options, |d| d.reject_oversized_cookies())
            .expect("decided");
        assert_eq!(state.status(), AuthStatus::SignedOut);
        assert_eq!(reason(&state), "token-invalid");
        assert!(
            with_decision(&document("a=b"), &options, |d| d.reject_oversized_cookies()).is_none()
        );
    }

    #[test]
    fn the_session_cookie_and_client_uat_go_together() {
        let options = production();
        let step = |cookies: &str| {
            with_decision(&document(cookies), &options, |d| {
                match d.session_cookie_and_client_uat() {
                    Step::GoOn(token) => Step::GoOn(token.to_owned()),
                    Step::Decided(state) => Step::Decided(state),
                }
            })
        };
        let neither = step("").decided().unwrap();
        assert_eq!(neither.status(), AuthStatus::SignedOut);
        assert_eq!(reason(&neither), "session-token-and-uat-missing");
        let uat_only = step("__client_uat=1700000000").decided().unwrap();
        assert_eq!(uat_only.status(), AuthStatus::Handshake);
        assert_eq!(reason(&uat_only), "client-uat-but-no-session-token");
        let session_only = step("__session=a.b.c").decided().unwrap();
        assert_eq!(session_only.status(), AuthStatus::Handshake);
        assert_eq!(reason(&session_only), "session-token-but-no-client-uat");
        assert!(matches!(
            step("__session=a.b.c; __client_uat=1"),
            Step::GoOn(token) if token == "a.b.c"
        ));
    }

    #[test]
    fn the_dev_browser_steps_apply_to_development_only() {
        assert!(with_decision(&document(""), &production(), |d| d.dev_browser_steps()).is_none());
        let options = development();
        let missing = with_decision(&document(""), &options, |d| d.dev_browser_steps()).unwrap();
        assert_eq!(reason(&missing), "dev-browser-missing");
        let with_db = document("__clerk_db_jwt=dvb_1");
        assert!(with_decision(&with_db, &options, |d| d.dev_browser_steps()).is_none());
        let sync = TestRequest::get("https://app.example.com/?__clerk_db_jwt=dvb_2")
            .header("cookie", "__clerk_db_jwt=dvb_1")
            .build();
        let synced = with_decision(&sync, &options, |d| d.dev_browser_steps()).unwrap();
        assert_eq!(reason(&synced), "dev-browser-sync");
    }

    #[test]
    fn a_token_issued_before_the_clients_last_update_asks_for_a_handshake() {
        let options = production();
        let token = crate::testing::TokenMinter::new(KeyPair::shared())
            .issued_at(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000))
            .mint();
        let cookies = |uat: u64| format!("__session={token}; __client_uat={uat}");
        let before = with_decision(&document(&cookies(2_000)), &options, |d| {
            d.pre_verification_checks(&token)
        });
        let state = before.unwrap().expect("decided");
        assert_eq!(reason(&state), "session-token-iat-before-client-uat");
        let after = with_decision(&document(&cookies(500)), &options, |d| {
            d.pre_verification_checks(&token)
        });
        assert!(after.unwrap().is_none(), "goes on to the verification");
    }

    #[test]
    fn only_a_satellites_unsynced_document_request_is_gated() {
        // Not a satellite: the gate lets everything through.
        let gate = with_decision(&document(""), &production(), |d| d.satellite_sync_gate());
        assert!(gate.unwrap().is_none());
    }
}
