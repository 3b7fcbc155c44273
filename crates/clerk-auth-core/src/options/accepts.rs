//! [`AcceptsToken`]: which kinds of credentials an instance accepts (Clerk's `acceptsToken`),
//! its text form and its parsing.

use std::fmt;
use std::str::FromStr;

use crate::error::ConfigError;
use crate::token::auth::TokenType;

/// Which kinds of credentials are acceptable (Clerk's `acceptsToken`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AcceptsToken {
    /// `session_token` (the default): session JWTs from the `Authorization` header or cookies.
    #[default]
    SessionToken,
    /// `any`: any token kind.
    Any,
    /// Exactly one machine token kind (`api_key`, `m2m_token` or `oauth_token`).
    Only(TokenType),
    /// A list of kinds (Clerk's array form): a presented kind outside the list is an invalid
    /// token; cookies are read only when `session_token` is in the list.
    List(Vec<TokenType>),
}

impl AcceptsToken {
    /// Whether a token of kind `kind` is acceptable.
    pub fn accepts(&self, kind: TokenType) -> bool {
        match self {
            Self::SessionToken => kind == TokenType::SessionToken,
            Self::Any => true,
            Self::Only(k) => *k == kind,
            Self::List(list) => list.contains(&kind),
        }
    }

    /// Whether this is exactly the single kind `kind` (`SessionToken` counts as
    /// `Only(SessionToken)`).
    pub fn is_exactly(&self, kind: TokenType) -> bool {
        match self {
            Self::SessionToken => kind == TokenType::SessionToken,
            Self::Only(k) => *k == kind,
            Self::Any | Self::List(_) => false,
        }
    }

    /// Exactly `api_key` or `m2m_token`, for which Clerk's SDK reads only headers (no
    /// publishable key, cookies or handshake values).
    pub fn reads_only_headers(&self) -> bool {
        self.is_exactly(TokenType::ApiKey) || self.is_exactly(TokenType::M2mToken)
    }

    /// Parses one name (`session_token`, `api_key`, `m2m_token`, `oauth_token`, `any`) or a
    /// comma-separated list of kinds (`any` cannot be part of a list). Spaces around items are
    /// ignored; an empty text is the default.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let items: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let invalid = |detail: String| ConfigError::Invalid {
            name: "CLERK_ACCEPTS_TOKEN",
            detail,
        };
        let kind = |name: &str| {
            TokenType::ALL
                .into_iter()
                .find(|t| t.as_str() == name)
                .ok_or_else(|| {
                    invalid(format!(
                        "unknown token type {name:?} (expected session_token, api_key, m2m_token, oauth_token or any)"
                    ))
                })
        };
        match items.as_slice() {
            [] => Ok(Self::SessionToken),
            ["any"] => Ok(Self::Any),
            [one] => Ok(Self::from(kind(one)?)),
            many => {
                let mut list = Vec::with_capacity(many.len());
                for item in many {
                    if *item == "any" {
                        return Err(invalid("`any` cannot be part of a list".to_owned()));
                    }
                    let k = kind(item)?;
                    if !list.contains(&k) {
                        list.push(k);
                    }
                }
                Ok(Self::List(list))
            }
        }
    }

    /// `Only(SessionToken)` written as `SessionToken`, the form built options keep.
    pub(super) fn normalized(self) -> Self {
        match self {
            Self::Only(TokenType::SessionToken) => Self::SessionToken,
            other => other,
        }
    }
}

/// The form [`AcceptsToken::parse`] reads: `session_token`, `any`, `api_key`, or a
/// comma-separated list.
impl fmt::Display for AcceptsToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SessionToken => f.write_str(TokenType::SessionToken.as_str()),
            Self::Any => f.write_str("any"),
            Self::Only(kind) => f.write_str(kind.as_str()),
            Self::List(list) => {
                let names: Vec<&str> = list.iter().map(|k| k.as_str()).collect();
                f.write_str(&names.join(","))
            }
        }
    }
}

impl From<TokenType> for AcceptsToken {
    fn from(kind: TokenType) -> Self {
        match kind {
            TokenType::SessionToken => Self::SessionToken,
            other => Self::Only(other),
        }
    }
}

impl From<Vec<TokenType>> for AcceptsToken {
    fn from(list: Vec<TokenType>) -> Self {
        Self::List(list)
    }
}

impl FromStr for AcceptsToken {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
