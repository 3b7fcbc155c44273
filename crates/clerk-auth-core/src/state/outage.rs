//! A signed-out state that is the service's failure, not the client's ([`Outage`]): key-set
//! outages, Backend API failures and the over-budget state, all answered `503`.

use http::header::HeaderMap;

use super::{Auth, AuthErrorReason, AuthStatus, Reason, RequestState};
use crate::token::auth::TokenType;

/// Why a signed-out state is the service's failure rather than the client's (decisions 12 and
/// 13): answered `503`, never `401`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outage {
    /// A Backend API answer the verification depends on could not be had (network, timeout,
    /// 5xx, 429, a redirect, an unparseable body).
    BackendApi,
    /// The call would have exceeded the instance's Backend API budget: `Retry-After: 1`.
    Budget,
}

impl RequestState {
    /// Whether this is a signed-out state caused by a key-set outage or a bad secret key
    /// (answered `503`, not `401`).
    pub fn is_key_set_outage(&self) -> bool {
        self.status == AuthStatus::SignedOut
            && self.reason.as_ref().is_some_and(Reason::is_key_set_outage)
    }

    /// Whether this signed-out state is the service's failure rather than the client's, answered
    /// `503` (decisions 11 to 13): a key-set outage or a bad secret key, a Backend API answer that
    /// could not be had for an opaque machine token, or a call over the instance's Backend API
    /// budget.
    pub fn is_unavailable(&self) -> bool {
        self.is_key_set_outage() || (self.status == AuthStatus::SignedOut && self.outage.is_some())
    }

    /// Marks a signed-out state as the service's failure (`503`).
    pub(crate) fn with_outage(mut self, outage: Outage) -> Self {
        self.outage = Some(outage);
        self
    }

    /// A signed-out state for a request whose verification would exceed the instance's Backend
    /// API budget (decision 13): reason `backend-api-budget-exhausted`, answered `503` with
    /// `Retry-After: 1`.
    pub(crate) fn over_budget(token_type: Option<TokenType>, auth: Auth) -> Self {
        Self::signed_out(
            token_type,
            Reason::Auth(AuthErrorReason::BackendApiBudgetExhausted),
            "The Backend API budget of this instance is exhausted; retry shortly.".to_owned(),
            auth,
            HeaderMap::new(),
        )
        .with_outage(Outage::Budget)
    }
}
