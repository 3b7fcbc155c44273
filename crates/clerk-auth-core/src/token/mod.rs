//! Tokens: decoding, claims, and the auth objects built from them.

pub(crate) mod auth;
mod claims;
mod has;
mod json;
mod jwt;
mod kind;
mod machine;
#[cfg(test)]
mod machine_tests;
mod session;
mod typed_claims;

pub use auth::{
    FactorLevel, Has, MachineAuth, Reverification, SessionAuth, SessionAuthObject, TokenType,
    UnknownReverification, UnknownTokenType,
};
pub use claims::ClaimsError;
pub use jwt::{Jwt, MAX_JSON_DEPTH, MAX_TOKEN_LEN};
pub use typed_claims::ClaimsAsError;
