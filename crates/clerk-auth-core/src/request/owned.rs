//! [`OwnedRequest`]: a request the decision can read after the framework's request is gone.

use std::borrow::Cow;

use super::RequestView;

/// An owned copy of a request's method, URL and headers.
///
/// The decision borrows the framework's request through [`RequestView`]; when it needs network
/// IO it hands the adapter a [`Deferred`](crate::Deferred) that owns an `OwnedRequest`, so the
/// decision can finish on a blocking thread. Tests build one with the `testing` kit's
/// `TestRequest`; tools (such as the CLI's `explain`) build one from parts.
///
/// ```
/// use clerk_auth_core::{OwnedRequest, RequestView};
///
/// let req = OwnedRequest::new(
///     "GET",
///     "https://example.com/dashboard",
///     [("Authorization", "Bearer eyJ..."), ("cookie", "__client_uat=0")],
/// );
/// assert_eq!(req.method(), "GET");
/// assert_eq!(req.header("authorization"), Some(&b"Bearer eyJ..."[..]));
/// assert_eq!(OwnedRequest::capture(&req), req);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedRequest {
    method: String,
    url: String,
    headers: Vec<(String, Vec<u8>)>,
}

impl OwnedRequest {
    /// A request from its parts. Header names are lowercased; values may be any bytes, and a
    /// name may repeat (each value is kept, in order).
    pub fn new<N, V>(
        method: impl Into<String>,
        url: impl Into<String>,
        headers: impl IntoIterator<Item = (N, V)>,
    ) -> Self
    where
        N: AsRef<str>,
        V: AsRef<[u8]>,
    {
        Self {
            method: method.into(),
            url: url.into(),
            headers: headers
                .into_iter()
                .map(|(n, v)| (n.as_ref().to_ascii_lowercase(), v.as_ref().to_vec()))
                .collect(),
        }
    }

    /// An owned copy of any request view: its method, URL and every header it visits.
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

    /// The headers, in order, names lowercase.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }
}

impl RequestView for OwnedRequest {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_names_keep_every_value_in_order_and_lookups_ignore_case() {
        let req = OwnedRequest::new("GET", "/", [("X-A", "1"), ("x-b", "2"), ("x-a", "3")]);
        assert_eq!(req.header("X-A"), Some(&b"1"[..]));
        assert_eq!(
            req.header_all("X-a").collect::<Vec<_>>(),
            vec![&b"1"[..], &b"3"[..]]
        );
        assert_eq!(
            req.headers().map(|(n, _)| n).collect::<Vec<_>>(),
            ["x-a", "x-b", "x-a"]
        );
    }

    #[test]
    fn capture_copies_an_http_request_including_non_utf8_values() {
        let http_req = http::Request::get("https://a.example/p?q=1")
            .header("cookie", &b"a=\xff"[..])
            .body(())
            .unwrap_or_default();
        let owned = OwnedRequest::capture(&http_req);
        assert_eq!(owned.url(), "https://a.example/p?q=1");
        assert_eq!(owned.header("cookie"), Some(&b"a=\xff"[..]));
    }
}
