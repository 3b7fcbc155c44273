//! The request view: the few things the decision reads from an HTTP request.
//!
//! [`RequestView`] is a tiny, borrow-based, object-safe trait: the method, the URL as the server
//! sees it, and header values as raw bytes. The core implements it for [`http::Request`] and for
//! [`TestRequest`], an owned request for unit-testing your own auth decisions; each framework
//! adapter implements it for its own request type without copying headers.
//!
//! # Header bytes
//!
//! Header values are bytes. The core reads them as Latin-1 (each byte is one character), which is
//! what Node.js and the Fetch API do, so non-UTF-8 bytes never panic and never make a header
//! disappear: they simply never match anything Clerk compares against. Values are trimmed of
//! leading and trailing HTTP whitespace (space, tab, CR, LF), as the Fetch API's `Headers` does,
//! and an empty value counts as absent (except where Clerk's reference distinguishes the two; see
//! the public URL derivation of §6.1, where an empty `x-forwarded-host` is not absent).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use url::Url;

use crate::js;
use crate::options::Options;
use crate::org_sync::OrganizationSyncTarget;
use crate::publishable_key::InstanceType;
use crate::token::Jwt;

/// The longest `Cookie` header (all `Cookie` fields together) the core parses, in bytes
/// (decision 9). A longer header is not parsed: the request context reports it
/// and the decision answers signed-out `token-invalid`.
pub const MAX_COOKIE_HEADER_LEN: usize = 64 * 1024;

/// Header names the core reads (lowercase).
pub mod header_names {
    /// `authorization`
    pub const AUTHORIZATION: &str = "authorization";
    /// `accept`
    pub const ACCEPT: &str = "accept";
    /// `cookie`
    pub const COOKIE: &str = "cookie";
    /// `host`
    pub const HOST: &str = "host";
    /// `origin`
    pub const ORIGIN: &str = "origin";
    /// `referer`
    pub const REFERRER: &str = "referer";
    /// `sec-fetch-dest`
    pub const SEC_FETCH_DEST: &str = "sec-fetch-dest";
    /// `user-agent`
    pub const USER_AGENT: &str = "user-agent";
    /// `x-forwarded-host`
    pub const FORWARDED_HOST: &str = "x-forwarded-host";
    /// `x-forwarded-proto`
    pub const FORWARDED_PROTO: &str = "x-forwarded-proto";
    /// `cloudfront-forwarded-proto`
    pub const CLOUDFRONT_FORWARDED_PROTO: &str = "cloudfront-forwarded-proto";

    /// Every name above.
    pub const ALL: [&str; 11] = [
        AUTHORIZATION,
        ACCEPT,
        COOKIE,
        HOST,
        ORIGIN,
        REFERRER,
        SEC_FETCH_DEST,
        USER_AGENT,
        FORWARDED_HOST,
        FORWARDED_PROTO,
        CLOUDFRONT_FORWARDED_PROTO,
    ];
}

/// Cookie names Clerk uses (§1.4). Suffixed variants are `<name>_<cookie suffix>`.
pub mod cookie_names {
    /// `__session`: the session JWT.
    pub const SESSION: &str = "__session";
    /// `__client_uat`: "client updated at", Unix seconds, `0` = signed out.
    pub const CLIENT_UAT: &str = "__client_uat";
    /// `__clerk_db_jwt`: the development browser token.
    pub const DEV_BROWSER: &str = "__clerk_db_jwt";
    /// `__refresh`: the refresh token (only ever read suffixed).
    pub const REFRESH: &str = "__refresh";
    /// `__clerk_handshake`: the legacy handshake JWT (unsuffixed only).
    pub const HANDSHAKE: &str = "__clerk_handshake";
    /// `__clerk_handshake_nonce`: the handshake nonce (unsuffixed only).
    pub const HANDSHAKE_NONCE: &str = "__clerk_handshake_nonce";
    /// `__clerk_redirect_count`: the handshake redirect-loop counter (unsuffixed only).
    pub const REDIRECT_COUNT: &str = "__clerk_redirect_count";
}

/// Query parameter names Clerk reads (§1.6).
pub mod query_names {
    /// `__clerk_handshake`
    pub const HANDSHAKE: &str = "__clerk_handshake";
    /// `__clerk_handshake_nonce`
    pub const HANDSHAKE_NONCE: &str = "__clerk_handshake_nonce";
    /// `__clerk_db_jwt`
    pub const DEV_BROWSER: &str = "__clerk_db_jwt";
    /// `__dev_session`
    pub const LEGACY_DEV_BROWSER: &str = "__dev_session";
    /// `__clerk_help`
    pub const HANDSHAKE_HELP: &str = "__clerk_help";
    /// `__clerk_synced`
    pub const CLERK_SYNCED: &str = "__clerk_synced";
    /// `__clerk_redirect_url`
    pub const CLERK_REDIRECT_URL: &str = "__clerk_redirect_url";
}

/// A read-only view of an HTTP request: everything the decision needs, borrowed.
///
/// Implementations must not copy headers. The trait is object-safe (`&dyn RequestView` works).
pub trait RequestView {
    /// The method, as sent (`GET`, `POST`, …).
    fn method(&self) -> &str;

    /// The request URL as the server sees it: absolute (`https://example.com/a?b=c`), or in origin
    /// form (`/a?b=c`), which the core resolves against the `Host` header with the `http` scheme
    /// (`http://localhost` when `Host` is missing or unusable). Adapters that know the real scheme
    /// (TLS) should return an absolute URL.
    fn url(&self) -> Cow<'_, str>;

    /// The first value of a header. `name` is given in lowercase. Raw bytes: values need not be
    /// UTF-8.
    fn header(&self, name: &str) -> Option<&[u8]>;

    /// Every value of a header, in order (used for `Cookie`, which HTTP/2 may split). Defaults to
    /// the single value of [`header`](Self::header).
    fn header_all<'a>(&'a self, name: &str) -> Box<dyn Iterator<Item = &'a [u8]> + 'a> {
        Box::new(self.header(name).into_iter())
    }

    /// Calls `f` with every header (name, value), in order. Used only to forward the request's
    /// headers to the Backend API on a server-side refresh (§2.8). The default visits the headers
    /// the core itself reads ([`header_names::ALL`]); adapters should override it.
    fn visit_headers(&self, f: &mut dyn FnMut(&str, &[u8])) {
        for name in header_names::ALL {
            for value in self.header_all(name) {
                f(name, value);
            }
        }
    }
}

impl<T: RequestView + ?Sized> RequestView for &T {
    fn method(&self) -> &str {
        (**self).method()
    }

    fn url(&self) -> Cow<'_, str> {
        (**self).url()
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        (**self).header(name)
    }

    fn header_all<'a>(&'a self, name: &str) -> Box<dyn Iterator<Item = &'a [u8]> + 'a> {
        (**self).header_all(name)
    }

    fn visit_headers(&self, f: &mut dyn FnMut(&str, &[u8])) {
        (**self).visit_headers(f)
    }
}

impl<B> RequestView for http::Request<B> {
    fn method(&self) -> &str {
        self.method().as_str()
    }

    fn url(&self) -> Cow<'_, str> {
        let uri = self.uri();
        match (uri.authority(), uri.path_and_query()) {
            (None, Some(pq)) => Cow::Borrowed(pq.as_str()),
            _ => Cow::Owned(uri.to_string()),
        }
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers().get(name).map(http::HeaderValue::as_bytes)
    }

    fn header_all<'a>(&'a self, name: &str) -> Box<dyn Iterator<Item = &'a [u8]> + 'a> {
        Box::new(
            self.headers()
                .get_all(name)
                .into_iter()
                .map(http::HeaderValue::as_bytes),
        )
    }

    fn visit_headers(&self, f: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in self.headers() {
            f(name.as_str(), value.as_bytes());
        }
    }
}

/// An owned request for tests: build one, hand it to the decision, check the state.
///
/// ```
/// use clerk_auth_core::request::{RequestView, TestRequest};
///
/// let req = TestRequest::get("https://example.com/dashboard")
///     .header("authorization", "Bearer eyJ...")
///     .cookie("__client_uat", "0")
///     .build();
/// assert_eq!(req.method(), "GET");
/// assert_eq!(req.header("authorization"), Some(&b"Bearer eyJ..."[..]));
/// assert_eq!(req.header("cookie"), Some(&b"__client_uat=0"[..]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestRequest {
    method: String,
    url: String,
    headers: Vec<(String, Vec<u8>)>,
}

impl TestRequest {
    /// An owned copy of any request view (method, URL and every header it visits), for moving a
    /// request to a blocking thread (`spawn_blocking`) when the decision needs network IO.
    pub fn capture<R: RequestView + ?Sized>(request: &R) -> Self {
        let mut headers = Vec::new();
        request.visit_headers(&mut |name, value| {
            headers.push((name.to_ascii_lowercase(), value.to_vec()));
        });
        Self {
            method: request.method().to_owned(),
            url: request.url().into_owned(),
            headers,
        }
    }

    /// A builder for a request with any method.
    pub fn builder(method: impl Into<String>, url: impl Into<String>) -> TestRequestBuilder {
        TestRequestBuilder {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            cookies: Vec::new(),
        }
    }

    /// A `GET` request builder.
    pub fn get(url: impl Into<String>) -> TestRequestBuilder {
        Self::builder("GET", url)
    }

    /// A `HEAD` request builder.
    pub fn head(url: impl Into<String>) -> TestRequestBuilder {
        Self::builder("HEAD", url)
    }

    /// A `POST` request builder.
    pub fn post(url: impl Into<String>) -> TestRequestBuilder {
        Self::builder("POST", url)
    }

    /// A `PUT` request builder.
    pub fn put(url: impl Into<String>) -> TestRequestBuilder {
        Self::builder("PUT", url)
    }

    /// A `PATCH` request builder.
    pub fn patch(url: impl Into<String>) -> TestRequestBuilder {
        Self::builder("PATCH", url)
    }

    /// A `DELETE` request builder.
    pub fn delete(url: impl Into<String>) -> TestRequestBuilder {
        Self::builder("DELETE", url)
    }

    /// An `OPTIONS` request builder.
    pub fn options(url: impl Into<String>) -> TestRequestBuilder {
        Self::builder("OPTIONS", url)
    }

    /// The headers, in order, names lowercase.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }
}

impl RequestView for TestRequest {
    fn method(&self) -> &str {
        &self.method
    }

    fn url(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.url)
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    fn header_all<'a>(&'a self, name: &str) -> Box<dyn Iterator<Item = &'a [u8]> + 'a> {
        let name = name.to_ascii_lowercase();
        Box::new(
            self.headers
                .iter()
                .filter(move |(n, _)| *n == name)
                .map(|(_, v)| v.as_slice()),
        )
    }

    fn visit_headers(&self, f: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in &self.headers {
            f(name, value);
        }
    }
}

/// Builds a [`TestRequest`].
#[derive(Clone, Debug)]
#[must_use]
pub struct TestRequestBuilder {
    method: String,
    url: String,
    headers: Vec<(String, Vec<u8>)>,
    cookies: Vec<(String, String)>,
}

impl TestRequestBuilder {
    /// Adds a header (appended; the name is lowercased). The value may be any bytes.
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.as_ref().to_vec()));
        self
    }

    /// Adds `authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header(header_names::AUTHORIZATION, format!("Bearer {token}"))
    }

    /// Adds a cookie. All cookies added this way are sent in one `Cookie` header
    /// (`a=1; b=2`), after any `cookie` header added with [`header`](Self::header). The value is
    /// sent as given (not percent-encoded).
    pub fn cookie(mut self, name: &str, value: &str) -> Self {
        self.cookies.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The request.
    pub fn build(self) -> TestRequest {
        let mut headers = self.headers;
        if !self.cookies.is_empty() {
            let joined = self
                .cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            headers.push((header_names::COOKIE.to_owned(), joined.into_bytes()));
        }
        TestRequest {
            method: self.method,
            url: self.url,
            headers,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Header reading
// ---------------------------------------------------------------------------------------------

/// Bytes as a Latin-1 string (borrowed when ASCII, which is the normal case).
pub(crate) fn latin1(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) if s.is_ascii() => Cow::Borrowed(s),
        _ => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

fn is_http_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn trim_cow(value: Cow<'_, str>) -> Cow<'_, str> {
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

// ---------------------------------------------------------------------------------------------
// Authorization (decision 1, §1.7)
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Cookies (§1.4)
// ---------------------------------------------------------------------------------------------

/// The request's cookies, parsed once (npm `cookie@1.1.1` semantics, §1.4).
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

    /// The value of cookie `<name>_<suffix>` (§1.3), without building the name.
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

fn trim_sp_tab(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

fn for_each_cookie<'a>(text: &'a str, mut f: impl FnMut(&'a str, &'a str)) {
    for segment in text.split(';') {
        let Some((name, value)) = segment.split_once('=') else {
            continue;
        };
        f(trim_sp_tab(name), trim_sp_tab(value));
    }
}

/// `cookie@1.1.1`'s `decode`: unchanged without `%`; else `decodeURIComponent`, raw on failure.
fn decode_cookie_value(value: &str) -> Cow<'_, str> {
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

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Suffixed vs unsuffixed cookies (§1.5)
// ---------------------------------------------------------------------------------------------

/// The inputs of the suffixed/unsuffixed choice that come from the configuration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SuffixInputs<'a> {
    /// The cookie suffix (§1.3).
    pub(crate) suffix: &'a str,
    /// The *original* Frontend API (§1.2 step 7: decoded host, or `clerk.<domain>` for a
    /// production satellite; never the proxy).
    pub(crate) original_frontend_api: &'a str,
    /// The instance type.
    pub(crate) instance_type: InstanceType,
}

/// Whether the suffixed cookie names are read (the unit tests' view of [`cookie_name_rule`]).
#[cfg(test)]
pub(crate) fn uses_suffixed_cookies(
    cookies: &Cookies<'_>,
    inputs: SuffixInputs<'_>,
    now: &dyn Fn() -> SystemTime,
    decode: &dyn Fn(&str) -> Option<Arc<Jwt>>,
) -> bool {
    cookie_name_rule(cookies, inputs, now, decode).suffixed()
}

/// Which rule of §1.5 chose the cookie names (the explanation names it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SuffixRule {
    /// No publishable key (or headers only): no cookie is read.
    NotRead,
    /// Rule 1: the unsuffixed `__session` has no issuer → unsuffixed.
    UnsuffixedWithoutIssuer,
    /// Rule 2: the unsuffixed `__session` was issued by another instance → suffixed.
    UnsuffixedFromOtherInstance,
    /// Rule 3: neither a suffixed `__client_uat` nor a suffixed `__session` → unsuffixed.
    NoSuffixedCookies,
    /// Rule 4: the unsuffixed `__session` is newer than the suffixed one → unsuffixed.
    UnsuffixedNewer,
    /// Rule 5: the suffixed `__client_uat` is `0`, the unsuffixed is not → unsuffixed.
    SuffixedSignedOut,
    /// Rule 6: development, the suffixed `__session` expired and the unsuffixed `__client_uat` is `0` → unsuffixed.
    SuffixedExpired,
    /// Rule 7: a suffixed `__session` without a suffixed `__client_uat` → unsuffixed.
    SuffixedWithoutUat,
    /// No rule applied: suffixed.
    Default,
}

impl SuffixRule {
    /// Whether the suffixed names are read.
    pub(crate) fn suffixed(self) -> bool {
        matches!(self, Self::UnsuffixedFromOtherInstance | Self::Default)
    }

    /// The rule in words, for the explanation.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::NotRead => "cookies not read (no publishable key, or only header tokens accepted)",
            Self::UnsuffixedWithoutIssuer => "unsuffixed names: rule 1, the unsuffixed __session has no issuer",
            Self::UnsuffixedFromOtherInstance => "suffixed names: rule 2, the unsuffixed __session was issued by another instance",
            Self::NoSuffixedCookies => "unsuffixed names: rule 3, no suffixed __client_uat or __session",
            Self::UnsuffixedNewer => "unsuffixed names: rule 4, the unsuffixed __session is newer than the suffixed one",
            Self::SuffixedSignedOut => "unsuffixed names: rule 5, the suffixed __client_uat is 0 and the unsuffixed is not",
            Self::SuffixedExpired => "unsuffixed names: rule 6, the suffixed __session expired and the unsuffixed __client_uat is 0 (development)",
            Self::SuffixedWithoutUat => "unsuffixed names: rule 7, a suffixed __session without a suffixed __client_uat",
            Self::Default => "suffixed names: no rule of §1.5 chose the unsuffixed ones",
        }
    }
}

/// Clerk's `usesSuffixedCookies` (§1.5): which cookie names are read, and by
/// which rule.
///
/// Deviations, for values Clerk's own code would crash on or compare loosely: a truthy non-string
/// `iss` in the unsuffixed session counts as "another instance's token" (suffixed); `iat`/`exp`
/// values are converted with JS `Number()` semantics (so two string `iat`s are compared as numbers,
/// not as strings).
pub(crate) fn cookie_name_rule(
    cookies: &Cookies<'_>,
    inputs: SuffixInputs<'_>,
    now: &dyn Fn() -> SystemTime,
    decode: &dyn Fn(&str) -> Option<Arc<Jwt>>,
) -> SuffixRule {
    let decode_opt = |token: &str| {
        if token.is_empty() {
            None
        } else {
            decode(token)
        }
    };
    let s_uat = cookies.get_suffixed(cookie_names::CLIENT_UAT, inputs.suffix);
    let u_uat = cookies.get(cookie_names::CLIENT_UAT);
    let s_sess = cookies
        .get_suffixed(cookie_names::SESSION, inputs.suffix)
        .unwrap_or("");
    let u_sess = cookies.get(cookie_names::SESSION).unwrap_or("");

    let u_jwt = decode_opt(u_sess);
    if !u_sess.is_empty() {
        // Rule 1: the unsuffixed session has no (truthy) issuer → unsuffixed.
        let Some(iss) = u_jwt
            .as_ref()
            .and_then(|j| j.claim("iss"))
            .filter(|v| js::truthy(v))
        else {
            return SuffixRule::UnsuffixedWithoutIssuer;
        };
        // Rule 2: it belongs to another instance → suffixed.
        let belongs = iss
            .as_str()
            .is_some_and(|s| strip_http_schemes(s) == inputs.original_frontend_api);
        if !belongs {
            return SuffixRule::UnsuffixedFromOtherInstance;
        }
    }
    // Rule 3.
    if s_uat.is_none() && s_sess.is_empty() {
        return SuffixRule::NoSuffixedCookies;
    }
    let s_jwt = decode_opt(s_sess);
    let u_iat = claim_number_or_zero(u_jwt.as_ref(), "iat");
    let s_iat = claim_number_or_zero(s_jwt.as_ref(), "iat");
    let s_uat_zero = s_uat == Some("0");
    let u_uat_zero = u_uat == Some("0");
    // Rule 4.
    if !s_uat_zero && !u_uat_zero && u_iat > s_iat {
        return SuffixRule::UnsuffixedNewer;
    }
    // Rule 5.
    if s_uat_zero && !u_uat_zero {
        return SuffixRule::SuffixedSignedOut;
    }
    // Rule 6.
    if !inputs.instance_type.is_production() && !s_uat_zero && u_uat_zero {
        let now_s = now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as f64)
            .unwrap_or(0.0);
        let expired = s_jwt
            .as_ref()
            .is_some_and(|j| js::to_number(j.claim("exp")) <= now_s);
        if expired {
            return SuffixRule::SuffixedExpired;
        }
    }
    // Rule 7.
    if s_uat.is_none() && !s_sess.is_empty() {
        return SuffixRule::SuffixedWithoutUat;
    }
    SuffixRule::Default
}

/// `payload.<name> || 0`, then as a number.
fn claim_number_or_zero(jwt: Option<&Arc<Jwt>>, name: &str) -> f64 {
    match jwt.and_then(|j| j.claim(name)) {
        Some(v) if js::truthy(v) => js::to_number(Some(v)),
        _ => 0.0,
    }
}

/// Removes every `http://` and `https://` (ASCII case-insensitive), like
/// `s.replace(/https?:\/\//gi, '')`.
fn strip_http_schemes(s: &str) -> Cow<'_, str> {
    let lower_has = |needle: &str| {
        s.as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
    };
    if !lower_has("http://") && !lower_has("https://") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while !rest.is_empty() {
        let b = rest.as_bytes();
        if b.len() >= 8 && b[..8].eq_ignore_ascii_case(b"https://") {
            rest = &rest[8..];
        } else if b.len() >= 7 && b[..7].eq_ignore_ascii_case(b"http://") {
            rest = &rest[7..];
        } else {
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
        }
    }
    Cow::Owned(out)
}

// ---------------------------------------------------------------------------------------------
// URLs (§6.1) and referrers (§6.3)
// ---------------------------------------------------------------------------------------------

/// The request URL as the server sees it, absolute: [`RequestView::url`] if absolute, else
/// resolved as `http://<Host><url>`, or against `fallback` (`http://localhost/`, held by the
/// options) when `Host` is missing or unusable.
pub(crate) fn initial_url<R: RequestView + ?Sized>(req: &R, fallback: &Url) -> Url {
    let raw = req.url();
    if let Ok(url) = Url::parse(&raw) {
        return url;
    }
    let base = header_str(req, header_names::HOST)
        .and_then(|host| Url::parse(&format!("http://{host}/")).ok())
        .filter(|u| {
            u.path() == "/"
                && u.query().is_none()
                && u.fragment().is_none()
                && u.username().is_empty()
                && u.password().is_none()
        })
        .unwrap_or_else(|| fallback.clone());
    if raw.starts_with('/') {
        let origin = base.origin().ascii_serialization();
        Url::parse(&format!("{origin}{raw}")).unwrap_or(base)
    } else {
        base
    }
}

/// Clerk's `deriveUrlFromHeaders` (§6.1): the public URL (`clerkUrl`).
///
/// `forwarded_host`, `forwarded_proto` and `host` are the raw (trimmed) header values with empty
/// values **kept** ([`header_raw`]): a present-but-empty `x-forwarded-host` does not fall back to
/// `Host` and leaves `initial` unchanged, as in Clerk's reference. Only the first comma-separated
/// item of the forwarded headers is used (not trimmed). `cloudfront-forwarded-proto` is not
/// consulted.
pub(crate) fn derive_clerk_url(
    initial: &Url,
    forwarded_host: Option<&str>,
    forwarded_proto: Option<&str>,
    host: Option<&str>,
) -> Url {
    let first_item = |v: &str| v.split(',').next().unwrap_or("").to_owned();
    let resolved_host = match forwarded_host {
        Some(v) => Some(first_item(v)),
        None => host.map(str::to_owned),
    };
    let resolved_proto = match forwarded_proto {
        Some(v) => first_item(v),
        None => initial.scheme().to_owned(),
    };
    let initial_origin = initial.origin().ascii_serialization();
    let origin = match resolved_host {
        Some(h) if !h.is_empty() && !resolved_proto.is_empty() => format!("{resolved_proto}://{h}"),
        _ => return initial.clone(),
    };
    if origin == initial_origin {
        return initial.clone();
    }
    let mut path_and_query = initial.path().to_owned();
    if let Some(q) = initial.query().filter(|q| !q.is_empty()) {
        path_and_query.push('?');
        path_and_query.push_str(q);
    }
    Url::parse(&origin)
        .and_then(|base| base.join(&path_and_query))
        .unwrap_or_else(|_| initial.clone())
}

/// Clerk's `isCrossOriginReferrer` (§6.3): a `Referer` that parses and whose origin differs from
/// `clerk_url`'s. Absent or unparsable → false.
pub(crate) fn is_cross_origin_referrer(referrer: Option<&str>, clerk_url: &Url) -> bool {
    let Some(referrer) = referrer.filter(|r| !r.is_empty()) else {
        return false;
    };
    match Url::parse(referrer) {
        Ok(r) => r.origin().ascii_serialization() != clerk_url.origin().ascii_serialization(),
        Err(_) => false,
    }
}

/// Clerk's `isKnownClerkReferrer` (§6.3), with the *effective* Frontend API (a host, or the
/// absolute proxy URL). Absent or unparsable `Referer` → false.
pub(crate) fn is_known_clerk_referrer(
    referrer: Option<&str>,
    frontend_api: &str,
    instance_type: InstanceType,
) -> bool {
    let Some(referrer) = referrer.filter(|r| !r.is_empty()) else {
        return false;
    };
    let Ok(referrer) = Url::parse(referrer) else {
        return false;
    };
    let host = referrer.host_str().unwrap_or("");
    if !frontend_api.is_empty() {
        let fapi_host = if frontend_api.starts_with("http") {
            match Url::parse(frontend_api) {
                Ok(u) => u.host_str().unwrap_or("").to_owned(),
                // Clerk's reference throws here and answers false.
                Err(_) => return false,
            }
        } else {
            frontend_api.to_owned()
        };
        if host == fapi_host {
            return true;
        }
    }
    if !instance_type.is_production()
        && (is_legacy_dev_account_portal_host(host) || is_current_dev_account_portal_host(host))
    {
        return true;
    }
    if let Some(accounts) = build_accounts_base_url(frontend_api) {
        match Url::parse(&accounts) {
            Ok(u) => {
                if u.origin().ascii_serialization() == referrer.origin().ascii_serialization() {
                    return true;
                }
            }
            Err(_) => return false,
        }
    }
    false
}

const LEGACY_DEV_SUFFIXES: [&str; 3] = [".lcl.dev", ".lclstage.dev", ".lclclerk.com"];
const CURRENT_DEV_SUFFIXES: [&str; 3] = [
    ".accounts.dev",
    ".accountsstage.dev",
    ".accounts.lclclerk.com",
];

fn is_legacy_dev_account_portal_host(host: &str) -> bool {
    host.starts_with("accounts.") && LEGACY_DEV_SUFFIXES.iter().any(|s| host.ends_with(s))
}

fn is_current_dev_account_portal_host(host: &str) -> bool {
    CURRENT_DEV_SUFFIXES
        .iter()
        .any(|s| host.ends_with(s) && !host.ends_with(&format!(".clerk{s}")))
}

/// Clerk's `buildAccountsBaseUrl`: `https://` + the Frontend API with `clerk.accountsstage.` →
/// `accountsstage.`, then the first `clerk.accounts.` or `clerk.` → `accounts.`. `None` when the
/// Frontend API is empty.
pub(crate) fn build_accounts_base_url(frontend_api: &str) -> Option<String> {
    if frontend_api.is_empty() {
        return None;
    }
    let step1 = frontend_api.replacen("clerk.accountsstage.", "accountsstage.", 1);
    let step2 = match step1.find("clerk.") {
        Some(i) => {
            let rest = &step1[i..];
            let len = if rest.starts_with("clerk.accounts.") {
                "clerk.accounts.".len()
            } else {
                "clerk.".len()
            };
            format!("{}accounts.{}", &step1[..i], &step1[i + len..])
        }
        None => step1,
    };
    Some(format!("https://{step2}"))
}

/// Clerk's `isRequestEligibleForHandshake` (§2.4): a `GET` (exact) document or iframe request:
/// `sec-fetch-dest` is `document`/`iframe`, or absent with an `accept` starting with `text/html`.
pub(crate) fn is_request_eligible_for_handshake(
    method: &str,
    sec_fetch_dest: Option<&str>,
    accept: Option<&str>,
) -> bool {
    if method != "GET" {
        return false;
    }
    let dest = sec_fetch_dest.filter(|d| !d.is_empty());
    if matches!(dest, Some("document" | "iframe")) {
        return true;
    }
    dest.is_none() && accept.is_some_and(|a| a.starts_with("text/html"))
}

// ---------------------------------------------------------------------------------------------
// The per-request context
// ---------------------------------------------------------------------------------------------

/// A decoded token and its verified-cache entry, if the cache holds it.
pub(crate) type Decoded = (Arc<Jwt>, Option<Arc<crate::verify::cache::CachedToken>>);

/// Everything the decision reads from one request (Clerk's `AuthenticateContext`, §1.8),
/// computed once in [`RequestContext::new`], borrowing from the request and the options.
///
/// For `accepts_token` exactly `api_key` or `m2m_token` (§1.8 step 2), or without a publishable
/// key, no cookie, handshake or Frontend API value is read: cookies are empty,
/// [`uses_suffixed_cookies`](Self::uses_suffixed_cookies) is false and
/// [`frontend_api`](Self::frontend_api) is empty.
pub(crate) struct RequestContext<'r, R: RequestView + ?Sized> {
    req: &'r R,
    options: &'r Options,
    clerk_url: std::cell::OnceCell<Url>,
    authorization: Option<Cow<'r, str>>,
    sec_fetch_dest: Option<Cow<'r, str>>,
    accept: Option<Cow<'r, str>>,
    referrer: Option<Cow<'r, str>>,
    cookies: Cookies<'r>,
    instance_type: Option<InstanceType>,
    frontend_api: String,
    proxy_url: Option<String>,
    suffixed_cookies: bool,
    suffix_rule: SuffixRule,
    client_uat: i64,
    dev_browser_token: Option<String>,
    handshake_token: Option<String>,
    handshake_nonce: Option<String>,
    redirect_loop_counter: u32,
    /// Tokens decoded while deciding this request, so that none is decoded twice.
    decoded: std::cell::RefCell<Vec<Decoded>>,
}

impl<R: RequestView + ?Sized> fmt::Debug for RequestContext<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestContext")
            .field("method", &self.method())
            .field("clerk_url", &self.clerk_url().as_str())
            .field("frontend_api", &self.frontend_api)
            .field("suffixed_cookies", &self.suffixed_cookies)
            .field("client_uat", &self.client_uat)
            .field("cookies", &self.cookies.len())
            .finish_non_exhaustive()
    }
}

impl<'r, R: RequestView + ?Sized> RequestContext<'r, R> {
    /// Reads `req` once with `options` (the §1.5 expiry rule reads `options.clock()`).
    ///
    /// Order as Clerk's constructor: the public URL (§6.1), header values, then (unless
    /// `accepts_token` is exactly `api_key`/`m2m_token`, and only with a publishable key) cookies,
    /// the suffixed/unsuffixed choice (§1.5), `client_uat`, and the handshake values (query
    /// parameter first, then cookie). A relative proxy URL is resolved against the public origin.
    pub(crate) fn new(req: &'r R, options: &'r Options) -> Self {
        let mut ctx = Self {
            req,
            options,
            authorization: header_str(req, header_names::AUTHORIZATION),
            sec_fetch_dest: header_str(req, header_names::SEC_FETCH_DEST),
            accept: header_str(req, header_names::ACCEPT),
            referrer: header_str(req, header_names::REFERRER),
            cookies: Cookies::empty(),
            instance_type: None,
            frontend_api: String::new(),
            proxy_url: None,
            suffixed_cookies: false,
            suffix_rule: SuffixRule::NotRead,
            client_uat: 0,
            dev_browser_token: None,
            handshake_token: None,
            handshake_nonce: None,
            redirect_loop_counter: 0,
            decoded: std::cell::RefCell::new(Vec::new()),
            clerk_url: std::cell::OnceCell::new(),
        };
        // The public URL is derived lazily: only a relative proxy URL needs it up front.
        ctx.proxy_url = match options.proxy_url() {
            Some(p) if p.starts_with('/') => options.resolve_proxy_url(ctx.clerk_url()),
            Some(p) => Some(p.to_owned()),
            None => None,
        };
        if options.accepts_token().reads_only_headers() {
            return ctx;
        }
        let (Some(pk), Some(original)) =
            (options.publishable_key(), options.original_frontend_api())
        else {
            return ctx;
        };
        ctx.instance_type = Some(pk.instance_type());
        ctx.frontend_api = match &ctx.proxy_url {
            Some(p) => p.clone(),
            None => original.to_owned(),
        };
        ctx.cookies = Cookies::from_request(req);
        ctx.suffix_rule = cookie_name_rule(
            &ctx.cookies,
            SuffixInputs {
                suffix: pk.cookie_suffix(),
                original_frontend_api: original,
                instance_type: pk.instance_type(),
            },
            &|| options.clock().now(),
            &|token| ctx.decode(token).ok(),
        );
        ctx.suffixed_cookies = ctx.suffix_rule.suffixed();
        ctx.client_uat = js::parse_int_or_zero(
            ctx.suffixed_or_unsuffixed_cookie(cookie_names::CLIENT_UAT)
                .unwrap_or(""),
        );
        ctx.dev_browser_token = ctx.query_or_cookie(
            query_names::DEV_BROWSER,
            ctx.suffixed_or_unsuffixed_cookie(cookie_names::DEV_BROWSER),
        );
        ctx.handshake_token =
            ctx.query_or_cookie(query_names::HANDSHAKE, ctx.cookie(cookie_names::HANDSHAKE));
        ctx.handshake_nonce = ctx.query_or_cookie(
            query_names::HANDSHAKE_NONCE,
            ctx.cookie(cookie_names::HANDSHAKE_NONCE),
        );
        let counter = js::number_or_zero(ctx.cookie(cookie_names::REDIRECT_COUNT));
        // Saturating, truncating conversion (Clerk only ever sets small whole numbers; a
        // negative or fractional value is treated as its truncation, negatives as 0).
        ctx.redirect_loop_counter = counter as u32;
        ctx
    }

    fn query_or_cookie(&self, query: &str, cookie: Option<&str>) -> Option<String> {
        self.query(query)
            .filter(|v| !v.is_empty())
            .or_else(|| cookie.map(str::to_owned))
    }

    /// Decodes `token` once per request (from the verified-token cache when it is there).
    pub(crate) fn decode(&self, token: &str) -> Result<Arc<Jwt>, crate::TokenVerificationError> {
        self.decode_entry(token).map(|d| d.0)
    }

    /// [`decode`](Self::decode), with the verified-cache entry looked up on the way (once per
    /// token and request).
    pub(crate) fn decode_entry(
        &self,
        token: &str,
    ) -> Result<Decoded, crate::TokenVerificationError> {
        if let Some(hit) = self.decoded.borrow().iter().find(|d| d.0.as_str() == token) {
            return Ok(hit.clone());
        }
        let verifier = self.options.verifier();
        let decoded = match verifier.cached(token) {
            Some(entry) => (Arc::clone(&entry.jwt), Some(entry)),
            None => (Arc::new(Jwt::decode(token)?), None),
        };
        self.decoded.borrow_mut().push(decoded.clone());
        Ok(decoded)
    }

    /// The method, as sent (compare with `"GET"` exactly, as Clerk does).
    pub(crate) fn method(&self) -> &str {
        self.req.method()
    }

    /// The public URL (§6.1, Clerk's `clerkUrl`): the request URL with the origin taken from
    /// `x-forwarded-host`/`x-forwarded-proto` (first list items) or `Host`.
    pub(crate) fn clerk_url(&self) -> &Url {
        self.clerk_url.get_or_init(|| {
            let req = self.req;
            let initial = initial_url(req, self.options.fallback_base_url());
            derive_clerk_url(
                &initial,
                header_raw(req, header_names::FORWARDED_HOST).as_deref(),
                header_raw(req, header_names::FORWARDED_PROTO).as_deref(),
                header_raw(req, header_names::HOST).as_deref(),
            )
        })
    }

    /// Header `name` (lowercase): first value, Latin-1, trimmed; empty = absent (Clerk's
    /// `getHeader`). For `origin`, `host`, `user-agent`, …
    pub(crate) fn header_str(&self, name: &str) -> Option<Cow<'r, str>> {
        header_str(self.req, name)
    }

    /// The `Authorization` header per decision 1 and §1.7: [`Authorization::None`] (absent or
    /// another scheme → cookie flow), [`Authorization::Token`], or [`Authorization::Malformed`]
    /// (`Bearer` without credentials → signed-out `token-invalid`, carrier `header`).
    pub(crate) fn authorization(&self) -> Authorization<'_> {
        parse_authorization(self.authorization.as_deref())
    }

    /// The header token, if [`authorization`](Self::authorization) is a token (Clerk's
    /// `tokenInHeader`).
    pub(crate) fn header_token(&self) -> Option<&str> {
        self.authorization().token()
    }

    /// `sec-fetch-dest` (empty = absent).
    pub(crate) fn sec_fetch_dest(&self) -> Option<&str> {
        self.sec_fetch_dest.as_deref()
    }

    /// `accept` (empty = absent).
    pub(crate) fn accept(&self) -> Option<&str> {
        self.accept.as_deref()
    }

    /// `referer` (empty = absent).
    pub(crate) fn referrer(&self) -> Option<&str> {
        self.referrer.as_deref()
    }

    /// The instance type, when a publishable key was read.
    #[allow(dead_code)] // Context API for the decision; not every accessor is needed there.
    pub(crate) fn instance_type(&self) -> Option<InstanceType> {
        self.instance_type
    }

    /// The effective Frontend API (§6.4): the absolute proxy URL (a relative one resolved against
    /// [`clerk_url`](Self::clerk_url)'s origin), else `clerk.<domain>` for a production satellite,
    /// else the key's host. Empty when no publishable key was read.
    pub(crate) fn frontend_api(&self) -> &str {
        &self.frontend_api
    }

    /// The proxy URL made absolute (§1.8 step 4), if configured.
    #[allow(dead_code)] // Context API for the decision; not every accessor is needed there.
    pub(crate) fn proxy_url(&self) -> Option<&str> {
        self.proxy_url.as_deref()
    }

    /// §1.5: whether the suffixed cookie names are read (also sent as `suffixed_cookies`).
    pub(crate) fn uses_suffixed_cookies(&self) -> bool {
        self.suffixed_cookies
    }

    /// The §1.5 rule that chose the cookie names.
    pub(crate) fn suffix_rule(&self) -> SuffixRule {
        self.suffix_rule
    }

    /// Whether the `Cookie` header exceeded [`MAX_COOKIE_HEADER_LEN`] and was not parsed
    /// (decision 9). Suggested use: when the cookie flow would run, answer signed-out
    /// `token-invalid` (carrier `cookie`) first; a header token is unaffected.
    #[allow(dead_code)] // Context API for the decision; not every accessor is needed there.
    pub(crate) fn cookies_oversized(&self) -> bool {
        self.cookies.is_oversized()
    }

    /// Cookie `name` exactly (unsuffixed); empty = absent.
    pub(crate) fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name)
    }

    /// Cookie `<name>_<suffix>`; empty = absent. `None` without a publishable key.
    pub(crate) fn suffixed_cookie(&self, name: &str) -> Option<&str> {
        let pk = self.options.publishable_key()?;
        self.instance_type?;
        self.cookies.get_suffixed(name, pk.cookie_suffix())
    }

    /// The suffixed name when [`uses_suffixed_cookies`](Self::uses_suffixed_cookies), else the
    /// plain name; never a fallback from one to the other.
    pub(crate) fn suffixed_or_unsuffixed_cookie(&self, name: &str) -> Option<&str> {
        if self.suffixed_cookies {
            self.suffixed_cookie(name)
        } else {
            self.cookie(name)
        }
    }

    /// The session token in the `__session` cookie (suffixed or not, §1.5).
    pub(crate) fn session_token_in_cookie(&self) -> Option<&str> {
        self.suffixed_or_unsuffixed_cookie(cookie_names::SESSION)
    }

    /// Clerk's `sessionToken`: the cookie token, else the header token.
    #[allow(dead_code)] // Context API for the decision; not every accessor is needed there.
    pub(crate) fn session_token(&self) -> Option<&str> {
        self.session_token_in_cookie()
            .or_else(|| self.header_token())
    }

    /// The refresh token: `__refresh_<suffix>` only (§1.4).
    pub(crate) fn refresh_token_in_cookie(&self) -> Option<&str> {
        self.suffixed_cookie(cookie_names::REFRESH)
    }

    /// `Number.parseInt(__client_uat) || 0` (suffixed or not): `"12abc"` → 12, `"abc"` → 0.
    pub(crate) fn client_uat(&self) -> i64 {
        self.client_uat
    }

    /// The dev browser token: query `__clerk_db_jwt` (non-empty), else the cookie (suffixed or not).
    pub(crate) fn dev_browser_token(&self) -> Option<&str> {
        self.dev_browser_token.as_deref()
    }

    /// The legacy handshake token: query `__clerk_handshake` (non-empty), else the unsuffixed cookie.
    pub(crate) fn handshake_token(&self) -> Option<&str> {
        self.handshake_token.as_deref()
    }

    /// The handshake nonce: query `__clerk_handshake_nonce` (non-empty), else the unsuffixed cookie.
    pub(crate) fn handshake_nonce(&self) -> Option<&str> {
        self.handshake_nonce.as_deref()
    }

    /// `Number(__clerk_redirect_count) || 0`, truncated to a `u32` (negatives → 0).
    pub(crate) fn redirect_loop_counter(&self) -> u32 {
        self.redirect_loop_counter
    }

    /// The first value of query parameter `name` of [`clerk_url`](Self::clerk_url), form-decoded
    /// (`+` = space); `Some("")` when present but empty, so `.is_some()` is `searchParams.has`.
    pub(crate) fn query(&self, name: &str) -> Option<String> {
        // The query is the request's own (§6.1 never changes it): read it from the raw URL
        // without parsing the whole URL, which only a handshake needs.
        let raw = self.req.url();
        let query = raw.split_once('?')?.1;
        let query = query.split_once('#').map_or(query, |(q, _)| q);
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// §2.4: a `GET` document/iframe request.
    pub(crate) fn is_eligible_for_handshake(&self) -> bool {
        is_request_eligible_for_handshake(self.method(), self.sec_fetch_dest(), self.accept())
    }

    /// §6.3 `isCrossOriginReferrer`.
    pub(crate) fn is_cross_origin_referrer(&self) -> bool {
        is_cross_origin_referrer(self.referrer(), self.clerk_url())
    }

    /// §6.3 `isKnownClerkReferrer`, with the effective Frontend API.
    pub(crate) fn is_known_clerk_referrer(&self) -> bool {
        is_known_clerk_referrer(
            self.referrer(),
            &self.frontend_api,
            self.instance_type.unwrap_or(InstanceType::Production),
        )
    }

    /// §2.10: the organization-sync target of [`clerk_url`](Self::clerk_url)'s path, if organization
    /// sync is configured and the path matches.
    pub(crate) fn organization_target(&self) -> Option<OrganizationSyncTarget> {
        self.options
            .organization_matcher()?
            .find_target(self.clerk_url().path())
    }

    /// Every request header for the refresh call (§2.8): names lowercase, sorted; several values
    /// of one name joined with `, ` (Fetch `Headers` semantics); each as a one-element list.
    pub(crate) fn all_headers(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        self.req.visit_headers(&mut |name, value| {
            let value = trim_cow(latin1(value));
            match out.entry(name.to_ascii_lowercase()) {
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(vec![value.into_owned()]);
                }
                std::collections::btree_map::Entry::Occupied(mut e) => {
                    if let Some(first) = e.get_mut().first_mut() {
                        first.push_str(", ");
                        first.push_str(&value);
                    }
                }
            }
        });
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::time::{Duration, Instant};

    use base64::Engine;
    use serde_json::json;

    use serde_json::Value;

    use super::*;

    const PK_TEST: &str = "pk_test_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA";
    const FAPI: &str = "clerk.inspired.puma-74.lcl.dev";
    const SFX: &str = "vWCgMp3A";

    fn jwt(claims: Value) -> String {
        let b64 = |v: &Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
        };
        format!("{}.{}.c2ln", b64(&json!({"alg":"RS256"})), b64(&claims))
    }

    fn cookies(text: &str) -> Cookies<'_> {
        Cookies::parse(Cow::Borrowed(text))
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    // ---- Authorization ------------------------------------------------------------------

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

    // ---- Cookies ------------------------------------------------------------------------

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

    // ---- URLs ---------------------------------------------------------------------------

    #[test]
    fn initial_url_resolution() {
        let fallback = url("http://localhost/");
        let req = TestRequest::get("https://example.com/a?b=c").build();
        assert_eq!(
            initial_url(&req, &fallback).as_str(),
            "https://example.com/a?b=c"
        );
        let req = TestRequest::get("/a?b=c")
            .header("host", "example.com:8080")
            .build();
        assert_eq!(
            initial_url(&req, &fallback).as_str(),
            "http://example.com:8080/a?b=c"
        );
        let req = TestRequest::get("/a").build();
        assert_eq!(initial_url(&req, &fallback).as_str(), "http://localhost/a");
        let req = TestRequest::get("/a").header("host", "bad host").build();
        assert_eq!(initial_url(&req, &fallback).as_str(), "http://localhost/a");
        // An origin-form path starting with `//` stays a path.
        let req = TestRequest::get("//evil.com/x")
            .header("host", "example.com")
            .build();
        assert_eq!(
            initial_url(&req, &fallback).as_str(),
            "http://example.com//evil.com/x"
        );
    }

    #[test]
    fn derive_clerk_url_cases() {
        let initial = url("http://internal:3000/path?q=1#frag");
        // No forwarding headers and no host: keep.
        assert_eq!(derive_clerk_url(&initial, None, None, None), initial);
        // Host header only.
        assert_eq!(
            derive_clerk_url(&initial, None, None, Some("example.com")).as_str(),
            "http://example.com/path?q=1"
        );
        // Forwarded lists: first item, not trimmed.
        assert_eq!(
            derive_clerk_url(
                &initial,
                Some("public.example.com,proxy.local"),
                Some("https,http"),
                Some("internal:3000")
            )
            .as_str(),
            "https://public.example.com/path?q=1"
        );
        // Present but empty x-forwarded-host: no fallback to Host, initial kept.
        assert_eq!(
            derive_clerk_url(&initial, Some(""), Some("https"), Some("example.com")),
            initial
        );
        // Empty forwarded proto: initial kept.
        assert_eq!(
            derive_clerk_url(&initial, Some("example.com"), Some(""), None),
            initial
        );
        // Same origin: initial kept (fragment included).
        assert_eq!(
            derive_clerk_url(&initial, None, None, Some("internal:3000")),
            initial
        );
        // Unparsable origin: initial kept.
        assert_eq!(
            derive_clerk_url(&initial, Some("bad host"), None, None),
            initial
        );
        // A space after the comma is part of the second item only.
        assert_eq!(
            derive_clerk_url(
                &initial,
                Some("a.example.com, b.example.com"),
                Some("https"),
                None
            )
            .as_str(),
            "https://a.example.com/path?q=1"
        );
    }

    #[test]
    fn cross_origin_referrer() {
        let clerk = url("https://app.example.com/x");
        assert!(!is_cross_origin_referrer(None, &clerk));
        assert!(!is_cross_origin_referrer(Some(""), &clerk));
        assert!(!is_cross_origin_referrer(Some("not a url"), &clerk));
        assert!(!is_cross_origin_referrer(Some("::::"), &clerk));
        assert!(!is_cross_origin_referrer(
            Some("https://app.example.com/other"),
            &clerk
        ));
        assert!(is_cross_origin_referrer(
            Some("https://other.example.com/"),
            &clerk
        ));
        assert!(is_cross_origin_referrer(
            Some("http://app.example.com/"),
            &clerk
        ));
    }

    #[test]
    fn known_clerk_referrer() {
        let dev = InstanceType::Development;
        let prod = InstanceType::Production;
        let known = |r: &str, fapi: &str, it| is_known_clerk_referrer(Some(r), fapi, it);
        assert!(!is_known_clerk_referrer(None, "clerk.example.com", prod));
        assert!(!known("garbage", "clerk.example.com", prod));
        // 1. The Frontend API host itself, or the proxy URL's host.
        assert!(known(
            "https://clerk.example.com/v1/x",
            "clerk.example.com",
            prod
        ));
        assert!(known(
            "https://app.example.com/__clerk/x",
            "https://app.example.com/__clerk",
            prod
        ));
        // 2. Dev Account Portal hosts, only for development instances.
        assert!(known(
            "https://foo-bar-13.accounts.dev/sign-in",
            "foo-bar-13.clerk.accounts.dev",
            dev
        ));
        assert!(known(
            "https://accounts.foo.bar-13.lcl.dev/",
            "clerk.foo.bar-13.lcl.dev",
            dev
        ));
        assert!(known(
            "https://x.accountsstage.dev/",
            "clerk.example.com",
            dev
        ));
        assert!(!known(
            "https://x.clerk.accounts.dev/",
            "clerk.example.com",
            dev
        ));
        assert!(!known(
            "https://foo-bar-13.accounts.dev/",
            "clerk.example.com",
            prod
        ));
        // 3. The instance's Account Portal origin.
        assert!(known(
            "https://accounts.example.com/sign-in",
            "clerk.example.com",
            prod
        ));
        assert!(!known(
            "http://accounts.example.com/",
            "clerk.example.com",
            prod
        ));
        // 4. A generic accounts.* host of another domain is not trusted.
        assert!(!known(
            "https://accounts.evil.com/",
            "clerk.example.com",
            prod
        ));
        assert!(!known("https://evil.com/", "clerk.example.com", prod));
    }

    #[test]
    fn accounts_base_url() {
        assert_eq!(build_accounts_base_url(""), None);
        assert_eq!(
            build_accounts_base_url("clerk.example.com").as_deref(),
            Some("https://accounts.example.com")
        );
        assert_eq!(
            build_accounts_base_url("foo.clerk.accounts.dev").as_deref(),
            Some("https://foo.accounts.dev")
        );
        assert_eq!(
            build_accounts_base_url("foo.clerk.accountsstage.dev").as_deref(),
            Some("https://foo.accountsstage.dev")
        );
        assert_eq!(
            build_accounts_base_url("example.com").as_deref(),
            Some("https://example.com")
        );
    }

    #[test]
    fn handshake_eligibility() {
        let e = is_request_eligible_for_handshake;
        assert!(e("GET", Some("document"), None));
        assert!(e("GET", Some("iframe"), None));
        assert!(!e("GET", Some("empty"), Some("text/html")));
        assert!(!e("GET", Some("Document"), None));
        assert!(e("GET", None, Some("text/html,application/xhtml+xml")));
        assert!(e("GET", Some(""), Some("text/html")));
        assert!(!e("GET", None, Some("application/json")));
        assert!(!e("GET", None, Some("Text/HTML")));
        assert!(!e("GET", None, None));
        assert!(!e("POST", Some("document"), Some("text/html")));
        assert!(!e("HEAD", Some("document"), None));
        assert!(!e("get", Some("document"), None));
    }

    // ---- §1.5 ---------------------------------------------------------------------------

    fn suffixed(text: &str, instance_type: InstanceType, now: u64) -> bool {
        uses_suffixed_cookies(
            &cookies(text),
            SuffixInputs {
                suffix: SFX,
                original_frontend_api: FAPI,
                instance_type,
            },
            &|| UNIX_EPOCH + Duration::from_secs(now),
            &|token| Jwt::decode(token).ok().map(std::sync::Arc::new),
        )
    }

    const DEV: InstanceType = InstanceType::Development;
    const PROD: InstanceType = InstanceType::Production;

    #[test]
    fn suffix_rule_1_unsuffixed_session_without_issuer() {
        let no_iss = jwt(json!({"iat": 10}));
        let s = jwt(json!({"iss": format!("https://{FAPI}"), "iat": 5}));
        let text = format!("__session={no_iss}; __session_{SFX}={s}; __client_uat_{SFX}=5");
        assert!(!suffixed(&text, PROD, 100));
        // Undecodable unsuffixed session also → unsuffixed.
        let text = format!("__session=garbage; __session_{SFX}={s}; __client_uat_{SFX}=5");
        assert!(!suffixed(&text, PROD, 100));
        // A falsy issuer (empty string, 0) counts as none.
        let empty_iss = jwt(json!({"iss": ""}));
        let text = format!("__session={empty_iss}; __client_uat_{SFX}=5");
        assert!(!suffixed(&text, PROD, 100));
    }

    #[test]
    fn suffix_rule_2_unsuffixed_session_of_another_instance() {
        let other = jwt(json!({"iss": "https://clerk.other.com"}));
        assert!(suffixed(&format!("__session={other}"), PROD, 100));
        // Scheme removal is case-insensitive and global.
        let mine = jwt(json!({"iss": format!("HTTPS://{FAPI}")}));
        assert!(!suffixed(&format!("__session={mine}"), PROD, 100));
        // A non-string truthy issuer is treated as another instance's.
        let num = jwt(json!({"iss": 5}));
        assert!(suffixed(&format!("__session={num}"), PROD, 100));
    }

    #[test]
    fn suffix_rule_3_no_suffixed_cookies() {
        let mine = jwt(json!({"iss": format!("https://{FAPI}")}));
        assert!(!suffixed(
            &format!("__session={mine}; __client_uat=5"),
            PROD,
            100
        ));
        assert!(!suffixed("", PROD, 100));
        assert!(!suffixed(&format!("__client_uat_{SFX}="), PROD, 100));
    }

    #[test]
    fn suffix_rule_4_unsuffixed_newer() {
        let iss = format!("https://{FAPI}");
        let u = jwt(json!({"iss": iss, "iat": 20}));
        let s = jwt(json!({"iss": iss, "iat": 10}));
        let text =
            format!("__session={u}; __client_uat=20; __session_{SFX}={s}; __client_uat_{SFX}=10");
        assert!(!suffixed(&text, PROD, 15));
        // Absent unsuffixed uat counts as not "0".
        let text = format!("__session={u}; __session_{SFX}={s}; __client_uat_{SFX}=10");
        assert!(!suffixed(&text, PROD, 15));
        // Suffixed newer → suffixed.
        let text =
            format!("__session={s}; __client_uat=10; __session_{SFX}={u}; __client_uat_{SFX}=20");
        assert!(suffixed(&text, PROD, 15));
    }

    #[test]
    fn suffix_rule_5_suffixed_signed_out_unsuffixed_signed_in() {
        let text = format!("__client_uat_{SFX}=0; __client_uat=5");
        assert!(!suffixed(&text, PROD, 100));
        let text = format!("__client_uat_{SFX}=0");
        assert!(
            !suffixed(&text, PROD, 100),
            "absent unsuffixed uat is not \"0\""
        );
        let text = format!("__client_uat_{SFX}=0; __client_uat=0");
        assert!(suffixed(&text, PROD, 100));
    }

    #[test]
    fn suffix_rule_6_dev_only_expired_suffixed_session() {
        let s = jwt(json!({"iss": format!("https://{FAPI}"), "exp": 100}));
        let text = format!("__session_{SFX}={s}; __client_uat_{SFX}=50; __client_uat=0");
        assert!(!suffixed(&text, DEV, 100), "exp <= now is expired");
        assert!(suffixed(&text, DEV, 99));
        assert!(suffixed(&text, PROD, 100), "production skips the rule");
        // Undecodable suffixed session is not "expired".
        let text = format!("__session_{SFX}=garbage; __client_uat_{SFX}=50; __client_uat=0");
        assert!(suffixed(&text, DEV, 100));
    }

    #[test]
    fn suffix_rule_7_suffixed_session_without_suffixed_uat() {
        let s = jwt(json!({"iss": format!("https://{FAPI}")}));
        assert!(!suffixed(&format!("__session_{SFX}={s}"), PROD, 100));
        assert!(!suffixed(
            &format!("__session_{SFX}={s}; __client_uat=0"),
            PROD,
            100
        ));
    }

    #[test]
    fn suffix_rule_8_otherwise_suffixed() {
        let s = jwt(json!({"iss": format!("https://{FAPI}"), "iat": 5}));
        assert!(suffixed(
            &format!("__session_{SFX}={s}; __client_uat_{SFX}=5"),
            PROD,
            100
        ));
        assert!(suffixed(&format!("__client_uat_{SFX}=5"), PROD, 100));
    }

    // ---- RequestContext -----------------------------------------------------------------

    fn options() -> crate::options::OptionsBuilder {
        Options::builder()
            .secret_key("sk_test_x")
            .publishable_key(PK_TEST)
    }

    #[test]
    fn context_reads_suffixed_cookies_and_handshake_values() {
        let opts = options().build().unwrap();
        let s = jwt(json!({"iss": format!("https://{FAPI}"), "iat": 5}));
        let req = TestRequest::get(
            "https://app.example.com/p?__clerk_handshake_nonce=n1&__clerk_db_jwt=",
        )
        .cookie(&format!("__session_{SFX}"), &s)
        .cookie(&format!("__client_uat_{SFX}"), "12abc")
        .cookie(&format!("__refresh_{SFX}"), "r")
        .cookie("__refresh", "plain")
        .cookie("__session", "")
        .cookie(&format!("__clerk_db_jwt_{SFX}"), "db")
        .cookie("__clerk_handshake", "h")
        .cookie("__clerk_redirect_count", "2")
        .build();
        let ctx = RequestContext::new(&req, &opts);
        assert!(ctx.uses_suffixed_cookies());
        assert_eq!(ctx.session_token_in_cookie(), Some(s.as_str()));
        assert_eq!(ctx.session_token(), Some(s.as_str()));
        assert_eq!(ctx.client_uat(), 12);
        assert_eq!(ctx.refresh_token_in_cookie(), Some("r"));
        assert_eq!(
            ctx.dev_browser_token(),
            Some("db"),
            "empty query falls back to cookie"
        );
        assert_eq!(ctx.handshake_nonce(), Some("n1"));
        assert_eq!(ctx.handshake_token(), Some("h"));
        assert_eq!(ctx.redirect_loop_counter(), 2);
        assert_eq!(ctx.query("__clerk_db_jwt").as_deref(), Some(""));
        assert_eq!(ctx.query("missing"), None);
        assert_eq!(ctx.frontend_api(), FAPI);
        assert_eq!(ctx.instance_type(), Some(InstanceType::Development));
        assert!(!ctx.cookies_oversized());
    }

    #[test]
    fn context_garbage_client_uat_is_zero() {
        let opts = options().build().unwrap();
        let req = TestRequest::get("/").cookie("__client_uat", "abc").build();
        assert_eq!(RequestContext::new(&req, &opts).client_uat(), 0);
    }

    #[test]
    fn context_relative_proxy_is_resolved_per_request() {
        let opts = options().proxy_url("/__clerk").build().unwrap();
        let req = TestRequest::get("/x")
            .header("host", "internal:8080")
            .header("x-forwarded-host", "app.example.com")
            .header("x-forwarded-proto", "https")
            .build();
        let ctx = RequestContext::new(&req, &opts);
        assert_eq!(ctx.clerk_url().as_str(), "https://app.example.com/x");
        assert_eq!(ctx.proxy_url(), Some("https://app.example.com/__clerk"));
        assert_eq!(ctx.frontend_api(), "https://app.example.com/__clerk");
    }

    #[test]
    fn context_machine_only_reads_headers() {
        let opts = Options::builder()
            .secret_key("sk_test_x")
            .accepts_token(crate::token::auth::TokenType::ApiKey)
            .build()
            .unwrap();
        let req = TestRequest::get("/")
            .bearer("ak_123")
            .cookie("__session", "x")
            .build();
        let ctx = RequestContext::new(&req, &opts);
        assert_eq!(ctx.header_token(), Some("ak_123"));
        assert_eq!(ctx.session_token_in_cookie(), None);
        assert_eq!(ctx.frontend_api(), "");
        assert!(!ctx.uses_suffixed_cookies());
    }

    #[test]
    fn context_all_headers() {
        let opts = options().build().unwrap();
        let req = TestRequest::get("/")
            .header("X-Custom", "a")
            .header("x-custom", "b")
            .header("accept", " text/html ")
            .build();
        let ctx = RequestContext::new(&req, &opts);
        let all = ctx.all_headers();
        assert_eq!(all.get("x-custom"), Some(&vec!["a, b".to_owned()]));
        assert_eq!(all.get("accept"), Some(&vec!["text/html".to_owned()]));
        assert!(ctx.is_eligible_for_handshake());
    }

    #[test]
    fn context_for_http_request() {
        let opts = options().build().unwrap();
        let req = http::Request::builder()
            .uri("/p?a=1")
            .header("host", "example.com")
            .header("cookie", "__client_uat=7")
            .header("cookie", "__session=abc")
            .header("referer", "https://accounts.inspired.puma-74.lcl.dev/")
            .body(())
            .unwrap();
        let ctx = RequestContext::new(&req, &opts);
        assert_eq!(ctx.clerk_url().as_str(), "http://example.com/p?a=1");
        assert_eq!(ctx.client_uat(), 7);
        assert_eq!(ctx.cookie("__session"), Some("abc"));
        assert!(ctx.is_cross_origin_referrer());
        assert!(ctx.is_known_clerk_referrer());
        let dynamic: &dyn RequestView = &req;
        assert_eq!(dynamic.method(), "GET");
    }
}
