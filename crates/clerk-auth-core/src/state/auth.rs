//! The auth object of a state ([`Auth`]) and its JSON ([`RequestState::auth_json`]).

use super::RequestState;
use crate::token::auth::{MachineAuth, SessionAuth, TokenType};

/// The auth object of a state (§4.3, §5.6).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Auth {
    /// A signed-in session.
    Session(std::sync::Arc<SessionAuth>),
    /// A signed-out session; `pending` when the token was valid but the session is pending (§4.3).
    SignedOutSession {
        /// The session's status was `pending`.
        pending: bool,
    },
    /// An authenticated machine.
    Machine(std::sync::Arc<MachineAuth>),
    /// An unauthenticated machine request of the given type.
    UnauthenticatedMachine(TokenType),
    /// The presented token's type is not accepted (`signedOutInvalidToken`).
    InvalidToken,
    /// No auth object (a handshake).
    None,
}

impl RequestState {
    /// [`auth_json`](Self::auth_json) serialized straight to text (no intermediate value).
    pub fn auth_json_string(&self) -> String {
        let text = match &self.auth {
            Auth::Session(s) => Ok(s.to_json_string()),
            Auth::Machine(m) => serde_json::to_string(m.as_ref()),
            _ => Ok(self.auth_json().to_string()),
        };
        text.unwrap_or_else(|_| "null".to_owned())
    }

    /// The auth object as the JSON the example servers return from `/api/me` (Clerk's camelCase
    /// names; fields that do not apply are `null`).
    pub fn auth_json(&self) -> serde_json::Value {
        let value = match &self.auth {
            Auth::Session(s) => serde_json::to_value(s.as_ref()),
            Auth::SignedOutSession { pending } => {
                serde_json::to_value(crate::token::auth::SessionAuthObject::signed_out(*pending))
            }
            Auth::Machine(m) => serde_json::to_value(m.as_ref()),
            Auth::UnauthenticatedMachine(kind) => {
                Ok(crate::token::auth::MachineAuth::unauthenticated_json(*kind))
            }
            Auth::InvalidToken => Ok(serde_json::json!({ "tokenType": null })),
            Auth::None => Ok(serde_json::Value::Null),
        };
        value.unwrap_or(serde_json::Value::Null)
    }
}
