//! Tokens: decoding, claims, and the auth objects built from them.

pub mod auth;
pub mod claims;
mod has;
mod json;
mod jwt;
mod kind;
mod machine;
mod session;

pub use auth::{
    FactorLevel, Has, MachineAuth, Reverification, SessionAuth, SessionAuthObject, TokenType,
};
pub use claims::ClaimsError;
pub use jwt::{Jwt, MAX_JSON_DEPTH, MAX_TOKEN_LEN};
