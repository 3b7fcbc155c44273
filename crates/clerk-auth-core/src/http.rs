//! The one Backend API HTTP client (crate-private), on a ureq 3 [`Agent`](ureq::Agent).
//!
//! Every request sends `Authorization: Bearer <secret>`, `Clerk-API-Version`, a
//! `clerk-auth-rust/<version>` user agent and `Content-Type: application/json`. Error statuses
//! (4xx, 5xx) come back as responses; only transport failures are errors. Nothing here retries:
//! retry policy belongs to the caller (the JWKS fetch retries network errors and 5xx only).
//! The bearer secret is never logged or put in an error.

use std::fmt;
use std::io::Read;
use std::time::{Duration, SystemTime};

/// The Backend API version this crate speaks (`Clerk-API-Version`), Clerk's `SUPPORTED_BAPI_VERSION`.
pub(crate) const CLERK_API_VERSION: &str = "2026-05-12";

/// The `User-Agent` sent to the Backend API.
pub(crate) const USER_AGENT: &str = concat!("clerk-auth-rust/", env!("CARGO_PKG_VERSION"));

/// The bytes a path segment sends percent-encoded: everything but RFC 3986's unreserved
/// characters (`A-Z a-z 0-9 - . _ ~`), which are sent as they are (decision 12).
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `value` as one URL path segment: percent-encoded only where needed (UTF-8 bytes, reserved
/// and other characters), unreserved characters as they are. A segment of only dots (`.`, `..`)
/// is a dot-segment that URL normalization would remove or resolve, so its dots are encoded.
pub(crate) fn path_segment(value: &str) -> String {
    if !value.is_empty() && value.bytes().all(|b| b == b'.') {
        return "%2E".repeat(value.len());
    }
    percent_encoding::utf8_percent_encode(value, PATH_SEGMENT).to_string()
}

/// The largest response body read; a longer body is an error ([`BapiErrorKind::ResponseTooLarge`]).
pub(crate) const MAX_RESPONSE_BODY: u64 = 1024 * 1024;

/// What went wrong below HTTP: no status code was received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BapiErrorKind {
    /// A timeout (connect, read, or the whole call).
    Timeout,
    /// DNS, connection refused or reset, TLS, a malformed HTTP answer.
    Network,
    /// The response body is longer than [`MAX_RESPONSE_BODY`].
    ResponseTooLarge,
    /// The request could not be built (a bad URL or header value).
    InvalidRequest,
}

/// A Backend API call did not produce an HTTP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BapiError {
    /// The kind of failure.
    pub(crate) kind: BapiErrorKind,
    /// A short description (never contains the secret).
    pub(crate) detail: String,
}

impl BapiError {
    fn new(kind: BapiErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for BapiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            BapiErrorKind::Timeout => "timed out",
            BapiErrorKind::Network => "network error",
            BapiErrorKind::ResponseTooLarge => "response too large",
            BapiErrorKind::InvalidRequest => "invalid request",
        };
        if self.detail.is_empty() {
            f.write_str(kind)
        } else {
            write!(f, "{kind}: {}", self.detail)
        }
    }
}

impl From<ureq::Error> for BapiError {
    fn from(err: ureq::Error) -> Self {
        use ureq::Error as E;
        let kind = match &err {
            E::Timeout(_) => BapiErrorKind::Timeout,
            E::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => BapiErrorKind::Timeout,
            E::BodyExceedsLimit(_) => BapiErrorKind::ResponseTooLarge,
            E::Http(_) | E::BadUri(_) | E::RequireHttpsOnly(_) | E::InvalidProxyUrl => {
                BapiErrorKind::InvalidRequest
            }
            _ => BapiErrorKind::Network,
        };
        // ureq's messages name the failure and at most the URL; headers (the secret) never appear.
        Self::new(kind, err.to_string())
    }
}

/// An HTTP response from the Backend API, whatever its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BapiResponse {
    /// The HTTP status code.
    pub(crate) status: u16,
    /// The body, at most [`MAX_RESPONSE_BODY`] bytes.
    pub(crate) body: Vec<u8>,
    /// The `Date` header, when present and valid.
    pub(crate) date: Option<SystemTime>,
}

impl BapiResponse {
    /// Whether the status is 2xx.
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The Backend API client: base URL, API version and a connection-pooling agent.
#[derive(Clone)]
pub(crate) struct BapiHttp {
    agent: ureq::Agent,
    /// Where the `Date` header of each answer is recorded (the clock-skew detector reads it).
    clock: std::sync::Arc<crate::diagnostics::ClockOffset>,
    api_url: String,
    api_version: String,
    timeout: Duration,
}

impl fmt::Debug for BapiHttp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BapiHttp")
            .field("api_url", &self.api_url)
            .field("api_version", &self.api_version)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl BapiHttp {
    /// A client for `api_url` (for example `https://api.clerk.com`, may carry a path) and
    /// `api_version` (for example `v1`). `timeout` bounds each call end to end (connect, send,
    /// receive the whole body); it can be lowered per call.
    pub(crate) fn new(api_url: &str, api_version: &str, timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .timeout_connect(Some(timeout))
            // Never follow redirects: the bearer secret must only go to the configured host.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent(USER_AGENT)
            .build();
        Self {
            agent: ureq::Agent::new_with_config(config),
            clock: std::sync::Arc::new(crate::diagnostics::ClockOffset::new()),
            api_url: api_url.trim_end_matches('/').to_owned(),
            api_version: api_version.trim_matches('/').to_owned(),
            timeout,
        }
    }

    /// Records the `Date` of every answer in `clock` (shared with the instance's diagnostics).
    pub(crate) fn with_clock_offset(
        mut self,
        clock: std::sync::Arc<crate::diagnostics::ClockOffset>,
    ) -> Self {
        self.clock = clock;
        self
    }

    fn observe(
        &self,
        response: Result<BapiResponse, BapiError>,
    ) -> Result<BapiResponse, BapiError> {
        if let Ok(BapiResponse {
            date: Some(date), ..
        }) = &response
        {
            self.clock.observe(*date);
        }
        response
    }

    /// The full URL of a path: versioned `{api_url}/{api_version}{path}`, else `{api_url}{path}`,
    /// joined without double slashes.
    pub(crate) fn url(&self, path: &str, versioned: bool) -> String {
        let path = path.trim_start_matches('/');
        let mut url = String::with_capacity(self.api_url.len() + path.len() + 16);
        url.push_str(&self.api_url);
        if versioned && !self.api_version.is_empty() {
            url.push('/');
            url.push_str(&self.api_version);
        }
        url.push('/');
        url.push_str(path);
        url
    }

    /// `GET {api_url}/{api_version}{versioned_path}?{query}`.
    pub(crate) fn get(
        &self,
        versioned_path: &str,
        query: &[(&str, &str)],
        bearer: &str,
    ) -> Result<BapiResponse, BapiError> {
        self.get_with_timeout(versioned_path, query, bearer, self.timeout)
    }

    /// [`get`](Self::get) with a per-call timeout (used to keep retries within a total budget).
    pub(crate) fn get_with_timeout(
        &self,
        versioned_path: &str,
        query: &[(&str, &str)],
        bearer: &str,
        timeout: Duration,
    ) -> Result<BapiResponse, BapiError> {
        let url = self.url(versioned_path, true);
        let mut request = self.agent.get(&url);
        for (k, v) in query {
            request = request.query(k, v);
        }
        let response = request
            .config()
            .timeout_global(Some(timeout))
            .timeout_connect(Some(timeout))
            .build()
            .header("Authorization", format!("Bearer {bearer}"))
            .header("Clerk-API-Version", CLERK_API_VERSION)
            .header("Content-Type", "application/json")
            .call()?;
        self.observe(read_response(response))
    }

    /// `POST` a JSON body to `path` (versioned or not) with `query`.
    pub(crate) fn post_json(
        &self,
        path: &str,
        versioned: bool,
        query: &[(&str, &str)],
        body: &serde_json::Value,
        bearer: &str,
    ) -> Result<BapiResponse, BapiError> {
        let url = self.url(path, versioned);
        let payload = serde_json::to_vec(body)
            .map_err(|e| BapiError::new(BapiErrorKind::InvalidRequest, e.to_string()))?;
        let mut request = self.agent.post(&url);
        for (k, v) in query {
            request = request.query(k, v);
        }
        let response = request
            .header("Authorization", format!("Bearer {bearer}"))
            .header("Clerk-API-Version", CLERK_API_VERSION)
            .header("Content-Type", "application/json")
            .send(&payload[..])?;
        self.observe(read_response(response))
    }
}

fn read_response(response: http::Response<ureq::Body>) -> Result<BapiResponse, BapiError> {
    let status = response.status().as_u16();
    let date = response
        .headers()
        .get(http::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    let mut body = Vec::new();
    // Read one byte past the limit to tell "exactly the limit" from "too long".
    let mut reader = response
        .into_body()
        .into_reader()
        .take(MAX_RESPONSE_BODY + 1);
    reader.read_to_end(&mut body).map_err(|e| {
        let kind = if e.kind() == std::io::ErrorKind::TimedOut {
            BapiErrorKind::Timeout
        } else {
            BapiErrorKind::Network
        };
        BapiError::new(kind, e.to_string())
    })?;
    if body.len() as u64 > MAX_RESPONSE_BODY {
        return Err(BapiError::new(
            BapiErrorKind::ResponseTooLarge,
            format!("more than {MAX_RESPONSE_BODY} bytes"),
        ));
    }
    Ok(BapiResponse { status, body, date })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_paths_without_double_slashes() {
        let h = BapiHttp::new("https://api.clerk.com/", "v1", Duration::from_secs(1));
        assert_eq!(h.url("/jwks", true), "https://api.clerk.com/v1/jwks");
        assert_eq!(
            h.url("/m2m_tokens/verify", false),
            "https://api.clerk.com/m2m_tokens/verify"
        );
        let h = BapiHttp::new(
            "https://proxy.example/clerk/",
            "/v1/",
            Duration::from_secs(1),
        );
        assert_eq!(h.url("jwks", true), "https://proxy.example/clerk/v1/jwks");
        assert_eq!(
            h.url("/api_keys/verify", false),
            "https://proxy.example/clerk/api_keys/verify"
        );
    }

    #[test]
    fn path_segments_encode_only_what_needs_it() {
        assert_eq!(path_segment("sess_2abcXYZ09-._~"), "sess_2abcXYZ09-._~");
        assert_eq!(path_segment("a/b"), "a%2Fb");
        assert_eq!(path_segment("50%"), "50%25");
        assert_eq!(path_segment("a b?c#d"), "a%20b%3Fc%23d");
        assert_eq!(path_segment("é"), "%C3%A9");
        assert_eq!(path_segment(".."), "%2E%2E");
        assert_eq!(path_segment("."), "%2E");
        assert_eq!(path_segment("..a"), "..a");
        assert_eq!(path_segment(""), "");
    }

    #[test]
    fn user_agent_names_the_crate() {
        assert!(USER_AGENT.starts_with("clerk-auth-rust/"));
    }

    #[test]
    fn connection_refused_is_a_network_error() {
        // Port 9 (discard) on localhost is almost never listening.
        let h = BapiHttp::new("http://127.0.0.1:9", "v1", Duration::from_millis(500));
        let err = h.get("/jwks", &[], "sk_test_secret").err();
        let err = err.map(|e| (e.kind, e.to_string()));
        if let Some((kind, text)) = err {
            assert!(matches!(
                kind,
                BapiErrorKind::Network | BapiErrorKind::Timeout
            ));
            assert!(!text.contains("sk_test_secret"));
        }
    }
}
