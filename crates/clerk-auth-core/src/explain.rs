//! Explained decisions: the step-by-step trace of how a request was decided.
//!
//! The trace is written by the decision itself as it runs, so it cannot drift from what was
//! decided: where each token was read from (the header, or which cookie and by which of Clerk's
//! rules for suffixed cookie names), every check with the values compared, the handshake
//! eligibility and loop counter, the clock-skew estimate when a time check fails, and the outcome.
//! Tokens never appear whole: at most their first 8 characters and their length. Nothing of a key
//! appears. Values from the request or from an unverified token are cut to 128 characters and
//! escaped (decision 15), so that every step is one line an attacker cannot forge.
//!
//! Three ways to read it:
//! - [`explain_request`], from code (a test, an admin endpoint, a support script);
//! - `tracing` at `DEBUG` level for target `clerk_auth`: every decision then emits its steps;
//! - the `clerk-auth explain` command of the `clerk-auth-cli` package, which takes a request the
//!   way `curl` does.
//!
//! ```
//! use clerk_auth_core::testing::{KeyPair, TokenMinter};
//! use clerk_auth_core::{explain_request, Options};
//! use clerk_auth_core::testing::TestRequest;
//!
//! let key = KeyPair::shared();
//! let options = Options::builder()
//!     .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
//!     .secret_key("sk_live_unused")
//!     .jwt_key(key.public_pem())
//!     .build()
//!     .expect("valid options");
//! let token = TokenMinter::new(key).issued_at(std::time::SystemTime::now()).mint();
//! let request = TestRequest::get("https://app.example.com/api/me").bearer(&token).build();
//!
//! let explanation = explain_request(&request, &options);
//! assert!(explanation.outcome().is_ok_and(|state| state.is_signed_in()));
//! println!("{explanation}");
//! assert!(!explanation.to_string().contains(&token));
//! ```

use std::fmt;

use crate::decide::AuthenticateError;
use crate::request::RequestView;
use crate::state::RequestState;
use crate::trace::Recorder;
pub use crate::trace::Step;
use crate::Options;

/// How one request was decided: the [`Step`]s in order, and the outcome
/// ([`authenticate_request`](crate::authenticate_request)'s result, unchanged).
///
/// `Display` prints one numbered line per step.
#[derive(Debug)]
pub struct Explanation {
    steps: Vec<Step>,
    outcome: Result<RequestState, AuthenticateError>,
}

impl Explanation {
    /// The steps, in the order the decision took them; the last one is the outcome.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The decision's result: what [`authenticate_request`](crate::authenticate_request) returns
    /// for the same request.
    pub fn outcome(&self) -> Result<&RequestState, &AuthenticateError> {
        self.outcome.as_ref()
    }

    /// The decision's result, by value.
    pub fn into_outcome(self) -> Result<RequestState, AuthenticateError> {
        self.outcome
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "{:>2}. {step}", i + 1)?;
        }
        Ok(())
    }
}

/// Decides `request` like [`authenticate_request`](crate::authenticate_request) (blocking on
/// network IO when it is needed) and explains how.
///
/// The state is the same as without the explanation; only the recording differs.
pub fn explain_request<R: RequestView + ?Sized>(request: &R, options: &Options) -> Explanation {
    let recorder = Recorder::on();
    let outcome = crate::decide::explained(request, options, &recorder);
    Explanation {
        steps: recorder.into_steps(),
        outcome,
    }
}
