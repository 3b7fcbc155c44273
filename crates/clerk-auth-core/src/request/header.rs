//! Reading header values (Latin-1, trimmed as the Fetch API does) and the `Authorization` header.

use super::*;

/// Bytes as a Latin-1 string (borrowed when ASCII, which is the normal case).
pub(crate) fn latin1(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) if s.is_ascii() => Cow::Borrowed(s),
        _ => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

pub(super) fn is_http_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

pub(crate) fn trim_cow(value: Cow<'_, str>) -> Cow<'_, str> {
    match value {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim_matches(is_http_whitespace)),
        Cow::Owned(s) => {
            let t = s.trim_matches(is_http_whitespace);
            if t.len() == s.len() {
                Cow::Owned(s)
            } else {
                Cow::Owned(t.to_owned())
            }
        }
    }
}

/// The first value of header `name`, Latin-1 decoded and HTTP-whitespace trimmed, **empty kept**
/// (`Some("")` for a present-but-empty header).
pub(crate) fn header_raw<'r, R: RequestView + ?Sized>(
    req: &'r R,
    name: &str,
) -> Option<Cow<'r, str>> {
    req.header(name).map(|b| trim_cow(latin1(b)))
}

/// The first value of header `name`, Latin-1 decoded and trimmed; empty counts as absent
/// (Clerk's `getHeader`).
pub(crate) fn header_str<'r, R: RequestView + ?Sized>(
    req: &'r R,
    name: &str,
) -> Option<Cow<'r, str>> {
    header_raw(req, name).filter(|v| !v.is_empty())
}

// ---- Authorization (decision 1, §1.7) ----

/// What the `Authorization` header holds for the session/machine token flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Authorization<'a> {
    /// No header, an empty one, or another scheme (`Basic …`): the cookie flow runs.
    None,
    /// A token: `Bearer <token>` (scheme case-insensitive) or a bare token without scheme.
    Token(&'a str),
    /// `Bearer` with empty credentials (`Bearer`, `Bearer ` or `Bearer  x` after JS
    /// `split(' ', 2)`): the decision answers signed-out `token-invalid`, carrier `header`
    /// (decision 1).
    Malformed,
}

impl<'a> Authorization<'a> {
    /// The token, if any.
    pub(crate) fn token(self) -> Option<&'a str> {
        match self {
            Self::Token(t) => Some(t),
            Self::None | Self::Malformed => Option::None,
        }
    }
}

/// Parses an `Authorization` value (already trimmed by [`header_str`]; `None` = absent).
///
/// JS `split(' ', 2)`: `scheme` is the text before the first space, `rest` the text between the
/// first and the second space. If `rest` is empty or missing the whole first piece is a bare token,
/// unless it is `Bearer` (any case), which is [`Authorization::Malformed`]. Otherwise `Bearer` (any
/// case) gives `rest`, and any other scheme gives [`Authorization::None`].
pub(crate) fn parse_authorization(value: Option<&str>) -> Authorization<'_> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Authorization::None;
    };
    let mut pieces = value.split(' ');
    let scheme = pieces.next().unwrap_or("");
    let rest = pieces.next().unwrap_or("");
    let is_bearer = scheme.eq_ignore_ascii_case("bearer");
    if rest.is_empty() {
        if is_bearer {
            Authorization::Malformed
        } else if scheme.is_empty() {
            Authorization::None
        } else {
            Authorization::Token(scheme)
        }
    } else if is_bearer {
        Authorization::Token(rest)
    } else {
        Authorization::None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn authorization_cases() {
        use Authorization as A;
        assert_eq!(parse_authorization(None), A::None);
        assert_eq!(parse_authorization(Some("")), A::None);
        assert_eq!(parse_authorization(Some("Bearer abc")), A::Token("abc"));
        assert_eq!(parse_authorization(Some("bearer abc")), A::Token("abc"));
        assert_eq!(parse_authorization(Some("BEARER abc")), A::Token("abc"));
        assert_eq!(parse_authorization(Some("Bearer a b")), A::Token("a"));
        assert_eq!(parse_authorization(Some("Bearer")), A::Malformed);
        assert_eq!(parse_authorization(Some("bEaReR")), A::Malformed);
        assert_eq!(parse_authorization(Some("Bearer  x")), A::Malformed);
        assert_eq!(parse_authorization(Some("Basic dXNlcjpwYXNz")), A::None);
        assert_eq!(parse_authorization(Some("Token abc")), A::None);
        // A bare token (no scheme) is accepted, as in Clerk's reference.
        assert_eq!(parse_authorization(Some("eyJ.a.b")), A::Token("eyJ.a.b"));
        // Quirk kept: a lone other scheme is taken as a bare token (it fails decoding later).
        assert_eq!(parse_authorization(Some("Basic")), A::Token("Basic"));
        // Only spaces separate (JS split(' ')): a tab is part of the token.
        assert_eq!(
            parse_authorization(Some("Bearer\tx")),
            A::Token("Bearer\tx")
        );
        assert_eq!(A::Token("t").token(), Some("t"));
        assert_eq!(A::Malformed.token(), None);
    }

    #[test]
    fn authorization_header_is_trimmed_and_non_utf8_is_safe() {
        let req = TestRequest::get("/")
            .header("authorization", "  Bearer tok \t")
            .build();
        let v = header_str(&req, "authorization");
        assert_eq!(
            parse_authorization(v.as_deref()),
            Authorization::Token("tok")
        );
        let req = TestRequest::get("/")
            .header("authorization", b"Bearer \xff\xfe")
            .build();
        let v = header_str(&req, "authorization");
        assert_eq!(v.as_deref(), Some("Bearer \u{ff}\u{fe}"));
        assert_eq!(
            parse_authorization(v.as_deref()),
            Authorization::Token("\u{ff}\u{fe}")
        );
        let req = TestRequest::get("/").header("authorization", "   ").build();
        assert_eq!(header_str(&req, "authorization"), None);
    }
}
