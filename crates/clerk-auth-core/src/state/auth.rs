//! The auth object of a state ([`Auth`]), its JSON ([`RequestState::auth_json`]) and the
//! accessors every adapter's extractors share through `Deref` ([`RequestState::user_id`],
//! [`RequestState::has`], …).

use super::RequestState;
use crate::token::auth::{Has, MachineAuth, SessionAuth, TokenType};

/// The auth object of a state.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Auth {
    /// A signed-in session.
    Session(std::sync::Arc<SessionAuth>),
    /// A signed-out session; `pending` when the token was valid but the session is pending.
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

/// The auth object's fields, as Clerk's `auth()` has them (`userId`, `sessionId`, `orgId`, …),
/// and `has()`. Every adapter's `SignedIn` and `AuthState` dereference to [`RequestState`], so
/// these are the same calls in actix-web, Rocket and warp.
impl RequestState {
    /// `userId`: the signed-in session's user (`user_…`); for a machine token, the user it acts
    /// for, as Clerk's machine auth objects say (an API key whose subject is a user, an OAuth
    /// access token's subject); `None` otherwise (signed out, a pending session that is not
    /// accepted, an M2M token, an API key of an organization).
    pub fn user_id(&self) -> Option<&str> {
        match &self.auth {
            Auth::Session(s) => s.user_id.as_deref(),
            Auth::Machine(m) => m.user_id.as_deref(),
            _ => None,
        }
    }

    /// `sessionId`: the signed-in session's id (`sess_…`); `None` for a machine or signed out.
    pub fn session_id(&self) -> Option<&str> {
        self.session().and_then(|s| s.session_id.as_deref())
    }

    /// `orgId`: the signed-in session's active organization; for an API key, the organization it
    /// belongs to (as Clerk's machine auth object says); `None` otherwise.
    pub fn org_id(&self) -> Option<&str> {
        match &self.auth {
            Auth::Session(s) => s.org_id.as_deref(),
            Auth::Machine(m) => m.org_id.as_deref(),
            _ => None,
        }
    }

    /// `orgRole`: the role in the session's active organization (`org:admin`); `None` for a
    /// machine or signed out.
    pub fn org_role(&self) -> Option<&str> {
        self.session().and_then(|s| s.org_role.as_deref())
    }

    /// `orgSlug`: the session's active organization's slug; `None` for a machine or signed out.
    pub fn org_slug(&self) -> Option<&str> {
        self.session().and_then(|s| s.org_slug.as_deref())
    }

    /// Clerk's `has()` on the auth object: the signed-in session's roles, permissions,
    /// billing features and plans, and reverification. Always `false` for a machine (as in
    /// Clerk's SDK) and when signed out.
    pub fn has(&self, check: &Has) -> bool {
        self.session().is_some_and(|s| s.has(check))
    }
}
