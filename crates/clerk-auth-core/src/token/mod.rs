//! Tokens: decoding, claims, and the auth objects built from them.

pub mod auth;
pub mod claims;
mod jwt;

pub use jwt::{Jwt, MAX_JSON_DEPTH, MAX_TOKEN_LEN};
pub(crate) use jwt::js_stringify;
