//! [`TestRequest`]: builds an [`OwnedRequest`] for tests (published as `testing::TestRequest`).

use super::{header_names, OwnedRequest};

/// Builds a request for a test: hand the result to the decision and check the state.
///
/// ```
/// use clerk_auth_core::testing::TestRequest;
/// use clerk_auth_core::RequestView;
///
/// let req = TestRequest::get("https://example.com/dashboard")
///     .header("authorization", "Bearer eyJ...")
///     .cookie("__client_uat", "0")
///     .build();
/// assert_eq!(req.method(), "GET");
/// assert_eq!(req.header("authorization"), Some(&b"Bearer eyJ..."[..]));
/// assert_eq!(req.header("cookie"), Some(&b"__client_uat=0"[..]));
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct TestRequest {
    method: String,
    url: String,
    headers: Vec<(String, Vec<u8>)>,
    cookies: Vec<(String, String)>,
}

impl TestRequest {
    /// A request with any method.
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            cookies: Vec::new(),
        }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    /// A `HEAD` request.
    pub fn head(url: impl Into<String>) -> Self {
        Self::new("HEAD", url)
    }

    /// A `POST` request.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }

    /// A `PUT` request.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new("PUT", url)
    }

    /// A `PATCH` request.
    pub fn patch(url: impl Into<String>) -> Self {
        Self::new("PATCH", url)
    }

    /// A `DELETE` request.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new("DELETE", url)
    }

    /// An `OPTIONS` request.
    pub fn options(url: impl Into<String>) -> Self {
        Self::new("OPTIONS", url)
    }

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
    pub fn build(self) -> OwnedRequest {
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
        OwnedRequest::new(self.method, self.url, headers)
    }
}
