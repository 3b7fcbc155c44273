//! Authorization at the route (Clerk's `auth.protect({ role, permission, … })`):
//! [`RequestState::authorize`] and the `403` answers it gives, [`Rejection::forbidden`] and
//! Clerk's reverification error ([`Rejection::reverification_error`]).

use http::header::HeaderMap;

use super::{Rejection, RequestState};
use crate::token::auth::{Has, Reverification};

impl RequestState {
    /// Why a route that requires `requirement` refuses this request, or `None` if it may run.
    /// Adapters answer the [`Rejection`] as they answer [`rejection`](Self::rejection):
    ///
    /// 1. not signed in (signed out, a pending session the options do not accept): the `401`
    ///    (or `503`) of [`rejection`](Self::rejection);
    /// 2. a signed-in session that [`has`](Self::has) `requirement`: `None`;
    /// 3. a session that has everything asked but a recent enough verification: `403` with
    ///    Clerk's reverification error ([`Rejection::reverification_error`]), so that Clerk's
    ///    frontend SDKs prompt the user to verify again;
    /// 4. anything else, machines included (Clerk's `has()` is always `false` for them):
    ///    `403` `{"status":"forbidden"}` ([`Rejection::forbidden`]).
    ///
    /// As with `has()`, a requirement that asks nothing (`Has::default()`) is never met.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use clerk_auth_core::testing::{FixedClock, KeyPair, TokenMinter, TestRequest};
    /// use clerk_auth_core::{authenticate_request, Has, Options, Reverification};
    /// # let keys = KeyPair::shared();
    /// # let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// # let options = Options::builder()
    /// #     .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
    /// #     .secret_key("sk_live_unused")
    /// #     .jwt_key(keys.public_pem())
    /// #     .clock(Arc::new(FixedClock::new(now)))
    /// #     .build()?;
    /// // First factor verified 30 minutes ago, no second factor.
    /// let token = TokenMinter::new(keys)
    ///     .issued_at(now)
    ///     .claim("fva", serde_json::json!([30, -1]))
    ///     .mint();
    /// let request = TestRequest::get("https://app.example.com/api/reverify").bearer(&token).build();
    /// let state = authenticate_request(&request, &options)?;
    ///
    /// assert_eq!(state.authorize(&Has::reverification(Reverification::Moderate)), None);
    /// let refused = state.authorize(&Has::reverification(Reverification::Strict)).unwrap();
    /// assert_eq!(refused.status, 403);
    /// assert_eq!(
    ///     refused.body,
    ///     r#"{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"strict"}}}"#
    /// );
    /// assert_eq!(state.authorize(&Has::role("org:admin")).unwrap().body, r#"{"status":"forbidden"}"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn authorize(&self, requirement: &Has) -> Option<Rejection> {
        if let Some(refused) = self.rejection() {
            return Some(refused);
        }
        if self.has(requirement) {
            return None;
        }
        if let (Some(session), Some(reverification)) =
            (self.session(), requirement.get_reverification())
        {
            let has_the_rest = requirement
                .without_reverification()
                .is_none_or(|rest| session.has(&rest));
            if has_the_rest {
                return Some(Rejection::reverification_error(reverification));
            }
        }
        Some(Rejection::forbidden())
    }
}

impl Rejection {
    /// The body of [`forbidden`](Self::forbidden).
    pub const FORBIDDEN_BODY: &'static str = r#"{"status":"forbidden"}"#;

    /// `403` `{"status":"forbidden"}`: signed in, without the role, permission, feature or plan
    /// the route requires.
    pub fn forbidden() -> Rejection {
        Rejection {
            status: 403,
            body: Self::FORBIDDEN_BODY.to_owned(),
            headers: HeaderMap::new(),
        }
    }

    /// `403` with Clerk's reverification error (its `reverificationError(missing)`): signed in,
    /// but the session's factors were not verified recently enough for `missing`. The body is
    /// exactly `{"clerk_error":{"type":"forbidden","reason":"reverification-error",
    /// "metadata":{"reverification":<missing>}}}`, `<missing>` a preset's name (`"strict"`) or
    /// `{"level":…,"afterMinutes":…}`: Clerk's frontend SDKs read it and ask the user to verify
    /// again. For a handler that checks by hand:
    ///
    /// ```
    /// use clerk_auth_core::state::Rejection;
    /// use clerk_auth_core::Reverification;
    ///
    /// let answer = Rejection::reverification_error(&Reverification::StrictMfa);
    /// assert_eq!(answer.status, 403);
    /// assert_eq!(
    ///     answer.body,
    ///     r#"{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"strict_mfa"}}}"#
    /// );
    /// ```
    pub fn reverification_error(missing: &Reverification) -> Rejection {
        let missing = serde_json::to_string(missing).unwrap_or_else(|_| "null".to_owned());
        Rejection {
            status: 403,
            // Written out so that the keys keep Clerk's order.
            body: format!(
                r#"{{"clerk_error":{{"type":"forbidden","reason":"reverification-error","metadata":{{"reverification":{missing}}}}}}}"#
            ),
            headers: HeaderMap::new(),
        }
    }
}
