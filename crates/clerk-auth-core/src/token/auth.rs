//! Auth objects: the signed-in session with `has()`, and authenticated machines.
//!
//! Field names are Clerk's, in Rust's case (`user_id` for `userId`); the JSON forms
//! ([`Serialize`](serde::Serialize)) use Clerk's camelCase names.
//!
//! This module gathers these items for the crate (the public path is [`crate::token`]); the code
//! lives in one file per subject: what
//! kind of token a string is (`kind.rs`), the session (`session.rs`), the authorization checks
//! (`has.rs`) and machines (`machine.rs`).

pub use super::has::{FactorLevel, Has, Reverification, UnknownReverification};
pub(crate) use super::kind::{is_jwt_format, is_m2m_jwt, is_oauth_jwt, machine_token_type};
pub use super::kind::{TokenType, UnknownTokenType};
pub use super::machine::MachineAuth;
pub use super::session::{SessionAuth, SessionAuthObject};
