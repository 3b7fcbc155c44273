//! What kind of token a string is: [`TokenType`] (Clerk's four token types, their wire strings)
//! and the detection of machine tokens by prefix or JWT shape.

use std::fmt;
use std::str::FromStr;

use serde::ser::{Serialize, Serializer};

use super::jwt::Jwt;

/// The kind of token a request was authenticated with (Clerk's `TokenType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// `session_token`: a Clerk session JWT (cookie or header).
    SessionToken,
    /// `api_key`: an opaque API key (`ak_…`).
    ApiKey,
    /// `m2m_token`: a machine-to-machine token (`mt_…` or a JWT whose `sub` starts with `mch_`).
    M2mToken,
    /// `oauth_token`: an OAuth access token (`oat_…` or an RFC 9068 JWT).
    OauthToken,
}

impl TokenType {
    /// All token types, in Clerk's order.
    pub const ALL: [TokenType; 4] = [
        Self::SessionToken,
        Self::ApiKey,
        Self::M2mToken,
        Self::OauthToken,
    ];

    /// Clerk's wire string (`session_token`, `api_key`, `m2m_token`, `oauth_token`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SessionToken => "session_token",
            Self::ApiKey => "api_key",
            Self::M2mToken => "m2m_token",
            Self::OauthToken => "oauth_token",
        }
    }

    /// Whether this is a machine token type (not a session token).
    pub const fn is_machine(self) -> bool {
        !matches!(self, Self::SessionToken)
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of Clerk's token types.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown token type {0:?} (expected session_token, api_key, m2m_token or oauth_token)")]
pub struct UnknownTokenType(pub String);

impl FromStr for TokenType {
    type Err = UnknownTokenType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownTokenType(s.to_owned()))
    }
}

impl Serialize for TokenType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The prefix of opaque M2M tokens.
pub(crate) const M2M_TOKEN_PREFIX: &str = "mt_";
/// The prefix of opaque OAuth access tokens.
pub(crate) const OAUTH_TOKEN_PREFIX: &str = "oat_";
/// The prefix of API keys.
pub(crate) const API_KEY_PREFIX: &str = "ak_";

/// Whether `token` has the form of a JWT: three non-empty base64url segments.
pub(crate) fn is_jwt_format(token: &str) -> bool {
    let mut parts = token.split('.');
    let segment_ok = |s: Option<&str>| {
        s.is_some_and(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    };
    segment_ok(parts.next())
        && segment_ok(parts.next())
        && segment_ok(parts.next())
        && parts.next().is_none()
}

/// Whether a decoded JWT is an OAuth access token (header `typ` is `at+jwt` or
/// `application/at+jwt`, RFC 9068).
pub(crate) fn is_oauth_jwt(jwt: &Jwt) -> bool {
    matches!(jwt.header_str("typ"), Some("at+jwt" | "application/at+jwt"))
}

/// Whether a decoded JWT is an M2M token (its `sub` starts with `mch_`).
pub(crate) fn is_m2m_jwt(jwt: &Jwt) -> bool {
    jwt.claim_str("sub").is_some_and(|s| s.starts_with("mch_"))
}

/// Clerk's machine-token detection (`getMachineTokenType`): `mt_` or an M2M JWT is
/// `m2m_token`; `oat_` or an OAuth JWT is `oauth_token`; `ak_` is `api_key`; anything else
/// (a session token, garbage) is `None`.
pub(crate) fn machine_token_type(token: &str) -> Option<TokenType> {
    let jwt = is_jwt_format(token)
        .then(|| Jwt::decode(token).ok())
        .flatten();
    if token.starts_with(M2M_TOKEN_PREFIX) || jwt.as_ref().is_some_and(is_m2m_jwt) {
        return Some(TokenType::M2mToken);
    }
    if token.starts_with(OAUTH_TOKEN_PREFIX) || jwt.as_ref().is_some_and(is_oauth_jwt) {
        return Some(TokenType::OauthToken);
    }
    token
        .starts_with(API_KEY_PREFIX)
        .then_some(TokenType::ApiKey)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn token_type_strings_round_trip() {
        for t in TokenType::ALL {
            assert_eq!(t.as_str().parse::<TokenType>().unwrap(), t);
        }
        assert!("any".parse::<TokenType>().is_err());
    }
}
