//! Decisions that need network IO, run off the async executor: [`Deferred`], and the bound on how
//! many of them an instance lets wait on the blocking pool at once.
//!
//! An async adapter calls [`try_authenticate_request`](crate::try_authenticate_request), which
//! never does IO. When the decision needs IO it answers
//! [`Interrupt::WouldBlock`](crate::Interrupt::WouldBlock) with the request captured as a
//! [`Deferred`], and the adapter hands [`Deferred::run`] to its blocking pool (`spawn_blocking`,
//! `web::block`). A decision is only captured when the instance has fewer than
//! [`max_deferred_decisions`](crate::OptionsBuilder::max_deferred_decisions) decisions waiting:
//! with Clerk's Backend API slow or far away, thousands of parked tasks would otherwise fill a
//! pool the application shares. Over the bound the decision answers at once, with a state like
//! any other (signed out, reason `backend-api-budget-exhausted`, answered `503` with
//! `Retry-After: 1` on protected routes).

use std::fmt;

use crate::bound::DeferredPermit;
use crate::decide::{authenticate_request, AuthenticateError};
use crate::diagnostics::Condition;
use crate::options::Options;
use crate::request::{OwnedRequest, RequestView};
use crate::state::{Auth, RequestState};

/// A decision that needs network IO, captured to run on a blocking thread: what
/// [`Interrupt::WouldBlock`](crate::Interrupt::WouldBlock) carries (see
/// [`try_authenticate_request`](crate::try_authenticate_request) for the whole sequence).
pub struct Deferred {
    request: OwnedRequest,
    options: Options,
    _permit: DeferredPermit,
}

impl Deferred {
    /// Captures `request` (an owned copy) for a decision on a blocking thread, taking one of the
    /// instance's places for waiting decisions. When none is free, returns the state to answer
    /// instead: signed out, reason `backend-api-budget-exhausted` (`503` with `Retry-After: 1`
    /// on a protected route), with a warning at most once a minute.
    #[allow(clippy::result_large_err)] // The refusal is the state the adapter answers with.
    pub(crate) fn new<R: RequestView + ?Sized>(
        request: &R,
        options: &Options,
    ) -> Result<Self, RequestState> {
        match options.deferred_bound().try_acquire() {
            Some(permit) => Ok(Self {
                request: OwnedRequest::capture(request),
                options: options.clone(),
                _permit: permit,
            }),
            None => Err(refused(options)),
        }
    }

    /// Runs the decision, blocking on network IO: call it on a blocking thread. Its place among
    /// the waiting decisions is freed when it returns.
    pub fn run(self) -> Result<RequestState, AuthenticateError> {
        authenticate_request(&self.request, &self.options)
    }
}

impl fmt::Debug for Deferred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deferred")
            .field("method", &self.request.method())
            .finish_non_exhaustive()
    }
}

/// The state of a request refused a place among the waiting decisions.
fn refused(options: &Options) -> RequestState {
    let state = RequestState::over_budget(None, Auth::SignedOutSession { pending: false });
    if options
        .diagnostics()
        .should_warn(Condition::DeferredDecisionsFull)
    {
        tracing::warn!(
            target: "clerk_auth",
            waiting = options.deferred_bound().waiting(),
            "Clerk: too many decisions of this instance wait on the Backend API; requests are answered 503 with Retry-After until they finish (see OptionsBuilder::max_deferred_decisions)"
        );
    }
    crate::diagnostics::record_decision(&state);
    if options.debug_headers() {
        state.with_debug_headers()
    } else {
        state
    }
}
