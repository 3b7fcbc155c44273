//! Which token the request carries and from where (Clerk's dispatch), and the header token:
//! machine tokens, the session token in `Authorization`.

use super::*;

impl<R: RequestView + ?Sized> Decision<'_, R> {
    // ---- §2.1 dispatch -------------------------------------------------------------------

    pub(super) fn dispatch(&self) -> Flow<RequestState> {
        self.preflight()?;
        let accepts = self.options.accepts_token();
        let header = self.ctx.authorization();
        match header {
            Authorization::Malformed => {
                self.note("§2.1", || {
                    "Authorization: Bearer without a token: malformed (decision 1)".to_owned()
                });
                // Decision 1: `Bearer` with empty credentials is a malformed header token.
                let err = TokenVerificationError::new(
                    TvReason::TokenInvalid,
                    "Invalid Authorization header: the Bearer scheme carries no token.",
                );
                Ok(self.signed_out_session(
                    Reason::Token(err.reason),
                    err.full_message(TokenCarrier::Header),
                ))
            }
            Authorization::Token(token) => {
                self.note("§2.1", || {
                    let kind = crate::token::auth::machine_token_type(token)
                        .unwrap_or(TokenType::SessionToken);
                    format!(
                        "token in the Authorization header: {}, read as {}: header flow",
                        token_hint(token),
                        kind.as_str()
                    )
                });
                if let AcceptsToken::List(list) = accepts {
                    let presented = crate::token::auth::machine_token_type(token)
                        .unwrap_or(TokenType::SessionToken);
                    if !list.contains(&presented) {
                        self.note("§5.2", || {
                            format!("{} is not among the accepted types", presented.as_str())
                        });
                        return Ok(signed_out_invalid_token());
                    }
                }
                match accepts {
                    AcceptsToken::SessionToken => self.header_flow(token),
                    _ => self.machine_or_session_flow(token),
                }
            }
            Authorization::None => {
                self.note("§2.1", || {
                    "no token in the Authorization header: cookie flow".to_owned()
                });
                self.without_header_token(accepts)
            }
        }
    }

    pub(super) fn without_header_token(&self, accepts: &AcceptsToken) -> Flow<RequestState> {
        match accepts {
            AcceptsToken::List(list) if !list.contains(&TokenType::SessionToken) => {
                Ok(signed_out_invalid_token())
            }
            &AcceptsToken::Only(kind) if kind != TokenType::SessionToken => {
                Ok(RequestState::signed_out(
                    Some(kind),
                    Reason::NoTokenInHeader,
                    String::new(),
                    Auth::UnauthenticatedMachine(kind),
                    HeaderMap::new(),
                ))
            }
            _ => self.cookie_flow(),
        }
    }

    /// The configuration check that depends on the request: a satellite's sign-in URL must be of
    /// another origin than the request's `Origin`.
    pub(super) fn preflight(&self) -> Flow<()> {
        if !self.options.is_satellite() {
            return Ok(());
        }
        let (Some(sign_in), Some(origin)) =
            (self.options.sign_in_url(), self.ctx.header_str("origin"))
        else {
            return Ok(());
        };
        let Ok(url) = Url::parse(sign_in) else {
            return Err(AuthenticateError::SatelliteMisconfigured(
                "CLERK_SIGN_IN_URL is not an absolute URL",
            )
            .into());
        };
        if url.origin().ascii_serialization() == origin {
            return Err(AuthenticateError::SatelliteMisconfigured(
                "CLERK_SIGN_IN_URL must be on the primary domain, not on the satellite's origin",
            )
            .into());
        }
        Ok(())
    }

    /// Machine tokens and `acceptsToken = any` or a list. Session tokens presented there
    /// are verified as on the header path; machine tokens need the machine verifier.
    pub(super) fn machine_or_session_flow(&self, token: &str) -> Flow<RequestState> {
        let accepts = self.options.accepts_token();
        let presented = crate::token::auth::machine_token_type(token);
        match (accepts, presented) {
            (&AcceptsToken::Only(kind), _) if kind != TokenType::SessionToken => {
                if presented != Some(kind) {
                    return Ok(RequestState::signed_out(
                        Some(kind),
                        Reason::Auth(Ar::TokenTypeMismatch),
                        String::new(),
                        Auth::UnauthenticatedMachine(kind),
                        HeaderMap::new(),
                    ));
                }
                self.verify_machine(token)
            }
            (_, Some(_)) => self.verify_machine(token),
            (_, None) => {
                // Decision 4: a JWT-template category is rejected on every path.
                if let Ok(jwt) = self.ctx.decode(token) {
                    if jwt.category() == Some(crate::verify::pipeline::TEMPLATE_CATEGORY) {
                        return Ok(self.signed_out_session(
                            Reason::Auth(Ar::TokenTypeMismatch),
                            String::new(),
                        ));
                    }
                }
                self.verify_header_session(token)
            }
        }
    }

    /// Verifies a machine token (locally for JWT forms, through the Backend API for
    /// opaque tokens). In non-blocking mode, interrupts unless the answer needs no IO (a cached
    /// Backend API answer, a JWT whose key is in memory).
    pub(super) fn verify_machine(&self, token: &str) -> Flow<RequestState> {
        let may_block = self.may_block();
        self.note("§5.3", || {
            format!(
                "machine token {}: verified locally when it is a JWT, else through the Backend API (answers cached {} s)",
                token_hint(token),
                self.options.machine_token_cache_ttl().as_secs()
            )
        });
        crate::machine::verify(token, self.options.machine(), may_block).ok_or(Stop::WouldBlock)
    }

    // ---- §2.2 header token ---------------------------------------------------------------

    pub(super) fn header_flow(&self, token: &str) -> Flow<RequestState> {
        if let Ok(jwt) = self.ctx.decode(token) {
            if is_not_a_session_token(&jwt) {
                self.note("§3.8", || {
                    format!(
                        "category \"{}\": not a session token",
                        short(jwt.category().unwrap_or("(none)"))
                    )
                });
                return Ok(
                    self.signed_out_session(Reason::Auth(Ar::TokenTypeMismatch), String::new())
                );
            }
        }
        self.verify_header_session(token)
    }

    pub(super) fn verify_header_session(&self, token: &str) -> Flow<RequestState> {
        match self.verify(token)? {
            Ok(verified) => Ok(self.signed_in_session(verified, HeaderMap::new())),
            Err(err) => self.handle_session_token_error(err, TokenCarrier::Header),
        }
    }
}

#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use crate::state::AuthStatus;
    use crate::testing::{KeyPair, TokenMinter, TEMPLATE_CATEGORY};

    use super::super::test_support::{api, document, production, production_builder, reason};
    use super::super::with_decision;
    use super::*;

    fn decided(flow: Flow<RequestState>) -> RequestState {
        match flow {
            Ok(state) => state,
            Err(_) => panic!("the step did not decide"),
        }
    }

    #[test]
    fn a_bearer_without_a_token_is_a_malformed_header_token() {
        let options = production();
        let state = decided(with_decision(&api("Bearer "), &options, |d| d.dispatch()));
        assert_eq!(state.status(), AuthStatus::SignedOut);
        assert_eq!(reason(&state), "token-invalid");
        assert!(state.message().unwrap().contains("carries no token"));
    }

    #[test]
    fn a_token_type_outside_the_accepted_list_is_refused_before_any_verification() {
        let options = production_builder()
            .accepts_token(vec![TokenType::ApiKey, TokenType::M2mToken])
            .build()
            .unwrap();
        // A session JWT (not in the list): refused as an invalid token, no key needed.
        let session = TokenMinter::new(KeyPair::shared()).mint();
        let state = decided(with_decision(
            &api(&format!("Bearer {session}")),
            &options,
            |d| d.dispatch(),
        ));
        assert_eq!(state.status(), AuthStatus::SignedOut);
        assert_eq!(state.token_type(), None);
    }

    #[test]
    fn without_a_header_token_a_machine_only_route_is_signed_out_and_a_session_route_goes_on() {
        let options = production_builder()
            .accepts_token(TokenType::ApiKey)
            .build()
            .unwrap();
        let state = decided(with_decision(&document(""), &options, |d| {
            d.without_header_token(d.options.accepts_token())
        }));
        assert_eq!(state.reason(), Some(&Reason::NoTokenInHeader));
        assert_eq!(state.token_type(), Some(TokenType::ApiKey));
        // Session tokens accepted: the cookie flow decides (no cookies: signed out, §2.3).
        let options = production();
        let state = decided(with_decision(&document(""), &options, |d| {
            d.without_header_token(d.options.accepts_token())
        }));
        assert_eq!(reason(&state), "session-token-and-uat-missing");
    }

    #[test]
    fn a_machine_token_of_another_kind_and_a_template_jwt_are_type_mismatches() {
        let options = production_builder()
            .accepts_token(TokenType::ApiKey)
            .build()
            .unwrap();
        let state = decided(with_decision(&api("Bearer mt_123"), &options, |d| {
            d.machine_or_session_flow("mt_123")
        }));
        assert_eq!(state.reason(), Some(&Reason::Auth(Ar::TokenTypeMismatch)));
        assert_eq!(state.token_type(), Some(TokenType::ApiKey));

        let options = production_builder()
            .accepts_token(AcceptsToken::Any)
            .build()
            .unwrap();
        let template = TokenMinter::new(KeyPair::shared())
            .category(Some(TEMPLATE_CATEGORY))
            .mint();
        let state = decided(with_decision(
            &api(&format!("Bearer {template}")),
            &options,
            |d| d.machine_or_session_flow(&template),
        ));
        assert_eq!(state.reason(), Some(&Reason::Auth(Ar::TokenTypeMismatch)));
    }

    #[test]
    fn a_satellite_whose_sign_in_url_is_on_its_own_origin_cannot_decide() {
        let request = crate::testing::TestRequest::get("https://sat.example.com/")
            .header("origin", "https://sat.example.com")
            .build();
        let misconfigured = production_builder()
            .is_satellite(true)
            .domain("sat.example.com")
            .sign_in_url("https://sat.example.com/sign-in")
            .build()
            .unwrap();
        let flow = with_decision(&request, &misconfigured, |d| d.preflight());
        assert!(matches!(
            flow,
            Err(Stop::Failed(AuthenticateError::SatelliteMisconfigured(_)))
        ));
        let fine = production_builder()
            .is_satellite(true)
            .domain("sat.example.com")
            .sign_in_url("https://app.example.com/sign-in")
            .build()
            .unwrap();
        assert!(with_decision(&request, &fine, |d| d.preflight()).is_ok());
    }
}
