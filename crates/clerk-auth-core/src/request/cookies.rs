//! The `Cookie` header: parsing, decoding and lookup.

use super::*;

/// The request's cookies, parsed once (npm `cookie@1.1.1` semantics).
///
/// Segments are split on `;`; a segment without `=` is skipped; name and value are trimmed of
/// spaces and tabs; the first occurrence of a name wins (even when its value is empty); a value
/// containing `%` is percent-decoded (`decodeURIComponent`: strict `%XX`, UTF-8), keeping the raw
/// value when decoding fails; quotes are kept. Several `Cookie` fields are joined with `; `.
///
/// A `Cookie` header longer than [`MAX_COOKIE_HEADER_LEN`] is not parsed at all: the set is empty
/// and [`is_oversized`](Self::is_oversized) is true (decision 9).
#[derive(Clone, Debug, Default)]
pub(crate) struct Cookies<'r> {
    /// In header order; a lookup takes the first occurrence of a name (cookie@1.1.1's rule).
    /// A request carries a handful of cookies and the decision looks up a handful of names, so
    /// a vector beats hashing every name.
    pairs: Vec<(Cow<'r, str>, Cow<'r, str>)>,
    oversized: bool,
}

impl<'r> Cookies<'r> {
    /// No cookies.
    pub(crate) fn empty() -> Self {
        Self::default()
    }

    /// Parses every `Cookie` field of `req`.
    pub(crate) fn from_request<R: RequestView + ?Sized>(req: &'r R) -> Self {
        let mut values = req.header_all(header_names::COOKIE);
        let Some(first) = values.next() else {
            return Self::empty();
        };
        let Some(second) = values.next() else {
            if first.len() > MAX_COOKIE_HEADER_LEN {
                return Self::oversized();
            }
            return Self::parse(latin1(first));
        };
        let mut total = first.len() + 2 + second.len();
        let mut parts = vec![first, second];
        for v in values {
            total += 2 + v.len();
            if total > MAX_COOKIE_HEADER_LEN {
                return Self::oversized();
            }
            parts.push(v);
        }
        if total > MAX_COOKIE_HEADER_LEN {
            return Self::oversized();
        }
        let joined = parts
            .iter()
            .map(|p| latin1(p))
            .collect::<Vec<_>>()
            .join("; ");
        Self::parse(Cow::Owned(joined))
    }

    fn oversized() -> Self {
        Self {
            pairs: Vec::new(),
            oversized: true,
        }
    }

    /// Parses one `Cookie` header text.
    pub(crate) fn parse(text: Cow<'r, str>) -> Self {
        if text.len() > MAX_COOKIE_HEADER_LEN {
            return Self::oversized();
        }
        let mut pairs = Vec::new();
        if text.len() < 2 {
            return Self {
                pairs,
                oversized: false,
            };
        }
        match text {
            Cow::Borrowed(s) => {
                for_each_cookie(s, |name, value| {
                    pairs.push((Cow::Borrowed(name), decode_cookie_value(value)));
                });
            }
            Cow::Owned(s) => {
                for_each_cookie(&s, |name, value| {
                    let value = Cow::Owned(decode_cookie_value(value).into_owned());
                    pairs.push((Cow::Owned(name.to_owned()), value));
                });
            }
        }
        Self {
            pairs,
            oversized: false,
        }
    }

    /// The value of cookie `name`; an empty value counts as absent (Clerk's `getCookie`).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
            .filter(|v| !v.is_empty())
    }

    /// The value of cookie `<name>_<suffix>`, without building the name.
    pub(crate) fn get_suffixed(&self, name: &str, suffix: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| {
                n.len() == name.len() + 1 + suffix.len()
                    && n.starts_with(name)
                    && n.ends_with(suffix)
                    && n.as_bytes().get(name.len()) == Some(&b'_')
            })
            .map(|(_, v)| v.as_ref())
            .filter(|v| !v.is_empty())
    }

    /// Whether the `Cookie` header exceeded [`MAX_COOKIE_HEADER_LEN`] (and was not parsed).
    pub(crate) fn is_oversized(&self) -> bool {
        self.oversized
    }

    /// How many distinct cookie names were parsed.
    pub(crate) fn len(&self) -> usize {
        let mut names: Vec<&str> = self.pairs.iter().map(|(n, _)| n.as_ref()).collect();
        names.sort_unstable();
        names.dedup();
        names.len()
    }
}

pub(super) fn trim_sp_tab(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

pub(super) fn for_each_cookie<'a>(text: &'a str, mut f: impl FnMut(&'a str, &'a str)) {
    for segment in text.split(';') {
        let Some((name, value)) = segment.split_once('=') else {
            continue;
        };
        f(trim_sp_tab(name), trim_sp_tab(value));
    }
}

/// `cookie@1.1.1`'s `decode`: unchanged without `%`; else `decodeURIComponent`, raw on failure.
pub(super) fn decode_cookie_value(value: &str) -> Cow<'_, str> {
    if !value.contains('%') {
        return Cow::Borrowed(value);
    }
    match decode_uri_component(value) {
        Some(decoded) => Cow::Owned(decoded),
        None => Cow::Borrowed(value),
    }
}

/// `decodeURIComponent`: every `%` must start a `%XX` escape; runs of escapes must form UTF-8.
pub(crate) fn decode_uri_component(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = String::with_capacity(value.len());
    let mut run: Vec<u8> = Vec::new();
    let mut i = 0;
    let mut literal_start = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push_str(value.get(literal_start..i)?);
            run.clear();
            while i < bytes.len() && bytes[i] == b'%' {
                let hi = bytes.get(i + 1).and_then(|b| hex_value(*b))?;
                let lo = bytes.get(i + 2).and_then(|b| hex_value(*b))?;
                run.push(hi << 4 | lo);
                i += 3;
            }
            out.push_str(std::str::from_utf8(&run).ok()?);
            literal_start = i;
        } else {
            i += 1;
        }
    }
    out.push_str(value.get(literal_start..)?);
    Some(out)
}

pub(super) fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::time::{Duration, Instant};

    use super::super::test_support::*;
    use super::*;

    #[test]
    fn cookie_basics() {
        let c = cookies("a=1; b=2;c=3 ;\td\t=\t4\t; e = 5 ");
        assert_eq!(c.get("a"), Some("1"));
        assert_eq!(c.get("b"), Some("2"));
        assert_eq!(c.get("c"), Some("3"));
        assert_eq!(c.get("d"), Some("4"));
        assert_eq!(c.get("e"), Some("5"));
        assert_eq!(c.get("f"), None);
        assert!(!c.is_oversized());
    }

    #[test]
    fn cookie_first_occurrence_wins_even_when_empty() {
        let c = cookies("a=1; a=2");
        assert_eq!(c.get("a"), Some("1"));
        let c = cookies("__session=; __session=tok");
        assert_eq!(
            c.get("__session"),
            None,
            "an empty first value wins and is absent"
        );
    }

    #[test]
    fn cookie_segments_without_equals_are_skipped() {
        let c = cookies("junk; a=1; more junk; b=2=3; ;;");
        assert_eq!(c.get("a"), Some("1"));
        assert_eq!(c.get("b"), Some("2=3"));
        assert_eq!(c.get("junk"), None);
        assert_eq!(cookies("a").len(), 0);
        assert_eq!(cookies("").len(), 0);
    }

    #[test]
    fn cookie_quotes_are_kept() {
        assert_eq!(cookies("a=\"x\"").get("a"), Some("\"x\""));
    }

    #[test]
    fn cookie_percent_decoding() {
        let c = cookies("a=hello%20world; b=%E2%82%AC; c=100%; d=%zz; e=%E2%82; f=a+b; g=%2B");
        assert_eq!(c.get("a"), Some("hello world"));
        assert_eq!(c.get("b"), Some("€"));
        assert_eq!(c.get("c"), Some("100%"), "bad escape keeps the raw value");
        assert_eq!(c.get("d"), Some("%zz"));
        assert_eq!(
            c.get("e"),
            Some("%E2%82"),
            "invalid UTF-8 keeps the raw value"
        );
        assert_eq!(c.get("f"), Some("a+b"), "plus is not a space");
        assert_eq!(c.get("g"), Some("+"));
        // Names are not decoded.
        assert_eq!(cookies("a%20b=1").get("a%20b"), Some("1"));
    }

    #[test]
    fn decode_uri_component_cases() {
        assert_eq!(decode_uri_component("abc").as_deref(), Some("abc"));
        assert_eq!(decode_uri_component("%41%42").as_deref(), Some("AB"));
        assert_eq!(decode_uri_component("x%C3%A9y").as_deref(), Some("xéy"));
        assert_eq!(decode_uri_component("%C3A"), None);
        assert_eq!(decode_uri_component("%41%C3"), None);
        assert_eq!(decode_uri_component("%"), None);
        assert_eq!(decode_uri_component("%4"), None);
        assert_eq!(
            decode_uri_component("%ED%A0%80"),
            None,
            "surrogates are rejected"
        );
        assert_eq!(decode_uri_component("é%20").as_deref(), Some("é "));
    }

    #[test]
    fn thousands_of_cookies_are_fast() {
        let mut text = String::new();
        for i in 0..5000 {
            text.push_str(&format!("c{i}=v{i}; "));
        }
        text.push_str("__session=tok");
        assert!(text.len() < MAX_COOKIE_HEADER_LEN);
        let start = Instant::now();
        let c = cookies(&text);
        assert_eq!(c.len(), 5001);
        assert_eq!(c.get("__session"), Some("tok"));
        assert_eq!(c.get("c4999"), Some("v4999"));
        assert!(start.elapsed() < Duration::from_millis(500));
    }

    #[test]
    fn cookie_header_size_bound() {
        let pad = "x".repeat(MAX_COOKIE_HEADER_LEN - "a=1; p=".len());
        let at_limit = format!("a=1; p={pad}");
        assert_eq!(at_limit.len(), MAX_COOKIE_HEADER_LEN);
        let c = cookies(&at_limit);
        assert!(!c.is_oversized());
        assert_eq!(c.get("a"), Some("1"));
        let over = format!("{at_limit}x");
        let c = cookies(&over);
        assert!(c.is_oversized());
        assert_eq!(c.get("a"), None);

        let req = TestRequest::get("/").header("cookie", &over).build();
        assert!(Cookies::from_request(&req).is_oversized());
        // Several Cookie fields count together.
        let half = format!("a=1; p={}", "y".repeat(MAX_COOKIE_HEADER_LEN / 2));
        let req = TestRequest::get("/")
            .header("cookie", &half)
            .header("cookie", &half)
            .build();
        assert!(Cookies::from_request(&req).is_oversized());
    }

    #[test]
    fn several_cookie_headers_are_joined() {
        let req = TestRequest::get("/")
            .header("cookie", "a=1")
            .header("cookie", "b=2; a=3")
            .build();
        let c = Cookies::from_request(&req);
        assert_eq!(c.get("a"), Some("1"));
        assert_eq!(c.get("b"), Some("2"));
    }

    #[test]
    fn non_utf8_cookie_bytes_do_not_panic() {
        let req = TestRequest::get("/")
            .header("cookie", b"a=\xff\xfe; b=ok; \xc3=1")
            .build();
        let c = Cookies::from_request(&req);
        assert_eq!(c.get("a"), Some("\u{ff}\u{fe}"));
        assert_eq!(c.get("b"), Some("ok"));
    }
}
