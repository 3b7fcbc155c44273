//! The request view: the few things the decision reads from an HTTP request.
//!
//! [`RequestView`] is a tiny, borrow-based, object-safe trait: the method, the URL as the server
//! sees it, and header values as raw bytes. The core implements it for [`http::Request`],
//! [`http::request::Parts`] and [`OwnedRequest`] (an owned copy, for moving a request to a
//! blocking thread or building one in a test with the `testing` kit's `TestRequest`); each
//! framework adapter implements it for its own request type without copying headers.
//!
//! # Header bytes
//!
//! Header values are bytes. The core reads them as Latin-1 (each byte is one character), which is
//! what Node.js and the Fetch API do, so non-UTF-8 bytes never panic and never make a header
//! disappear: they simply never match anything Clerk compares against. Values are trimmed of
//! leading and trailing HTTP whitespace (space, tab, CR, LF), as the Fetch API's `Headers` does,
//! and an empty value counts as absent (except where Clerk's reference distinguishes the two; see
//! the public URL derivation, where an empty `x-forwarded-host` is not absent).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ::url::Url;

use crate::js;
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

/// Cookie names Clerk uses. Suffixed variants are `<name>_<cookie suffix>`.
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

/// Query parameter names Clerk reads.
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
    /// headers to the Backend API on a server-side refresh. The default visits the headers
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
        uri_as_url(self.uri())
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        map_header(self.headers(), name)
    }

    fn header_all<'a>(&'a self, name: &str) -> Box<dyn Iterator<Item = &'a [u8]> + 'a> {
        map_header_all(self.headers(), name)
    }

    fn visit_headers(&self, f: &mut dyn FnMut(&str, &[u8])) {
        visit_map(self.headers(), f);
    }
}

/// The head of an [`http::Request`], as tower and axum hand it to extractors
/// (`FromRequestParts`): the same view as the whole request, borrowing.
impl RequestView for http::request::Parts {
    fn method(&self) -> &str {
        self.method.as_str()
    }

    fn url(&self) -> Cow<'_, str> {
        uri_as_url(&self.uri)
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        map_header(&self.headers, name)
    }

    fn header_all<'a>(&'a self, name: &str) -> Box<dyn Iterator<Item = &'a [u8]> + 'a> {
        map_header_all(&self.headers, name)
    }

    fn visit_headers(&self, f: &mut dyn FnMut(&str, &[u8])) {
        visit_map(&self.headers, f);
    }
}

/// The URL as the server saw it: the path and query of an origin-form target (borrowed), or the
/// whole absolute-form URI.
fn uri_as_url(uri: &http::Uri) -> Cow<'_, str> {
    match (uri.authority(), uri.path_and_query()) {
        (None, Some(pq)) => Cow::Borrowed(pq.as_str()),
        _ => Cow::Owned(uri.to_string()),
    }
}

fn map_header<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a [u8]> {
    headers.get(name).map(http::HeaderValue::as_bytes)
}

fn map_header_all<'a>(
    headers: &'a http::HeaderMap,
    name: &str,
) -> Box<dyn Iterator<Item = &'a [u8]> + 'a> {
    Box::new(
        headers
            .get_all(name)
            .into_iter()
            .map(http::HeaderValue::as_bytes),
    )
}

fn visit_map(headers: &http::HeaderMap, f: &mut dyn FnMut(&str, &[u8])) {
    for (name, value) in headers {
        f(name.as_str(), value.as_bytes());
    }
}

#[cfg(any(test, feature = "testing"))]
pub(crate) mod build;
mod cookies;
mod header;
mod owned;
mod suffix;
mod url;

pub(crate) use self::cookies::*;
pub(crate) use self::header::*;
pub(crate) use self::suffix::*;
pub(crate) use self::url::*;

#[cfg(test)]
pub(crate) use self::build::TestRequest;
pub use self::owned::OwnedRequest;

/// What the unit tests of the request modules share.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod test_support {

    use base64::Engine;
    use serde_json::json;
    use serde_json::Value;

    use super::*;

    pub(crate) const PK_TEST: &str = "pk_test_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA";
    pub(crate) const FAPI: &str = "clerk.inspired.puma-74.lcl.dev";
    pub(crate) const SFX: &str = "vWCgMp3A";

    pub(crate) fn jwt(claims: Value) -> String {
        let b64 = |v: &Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
        };
        format!("{}.{}.c2ln", b64(&json!({"alg":"RS256"})), b64(&claims))
    }

    pub(crate) fn cookies(text: &str) -> Cookies<'_> {
        Cookies::parse(Cow::Borrowed(text))
    }

    pub(crate) fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }
}
