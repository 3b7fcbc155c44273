//! [`AuthStatus`]: whether a request is signed in, signed out or needs a handshake.

use std::fmt;

/// `signed-in`, `signed-out` or `handshake`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthStatus {
    /// The request carries a valid credential.
    SignedIn,
    /// The request carries no valid credential; see the [`Reason`](super::Reason).
    SignedOut,
    /// The browser must be sent through Clerk's handshake (a redirect) before a decision.
    Handshake,
}

impl AuthStatus {
    /// Clerk's wire string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SignedIn => "signed-in",
            Self::SignedOut => "signed-out",
            Self::Handshake => "handshake",
        }
    }
}

impl fmt::Display for AuthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
