//! The Backend API calls the decision needs: the handshake payload (§2.7) and server-side refresh
//! (§2.8). They sit behind [`BackendApi`] so that tests and users can substitute them; the default
//! implementation talks to Clerk's Backend API over HTTP (ureq).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// What a refresh call sends (§2.8 step e).
#[derive(Clone, Serialize)]
pub struct RefreshRequest {
    /// Always `cookie`.
    pub format: &'static str,
    /// The expired session token.
    pub expired_token: String,
    /// The refresh token from `__refresh_<suffix>`.
    pub refresh_token: String,
    /// The request's public origin (§6.1).
    pub request_origin: String,
    /// Every request header, lowercased, each as a one-element list.
    pub request_headers: BTreeMap<String, Vec<String>>,
    /// Sent as the `suffixed_cookies=true` query parameter (omitted when false).
    #[serde(skip)]
    pub suffixed_cookies: bool,
}

impl fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshRequest")
            .field("request_origin", &self.request_origin)
            .field("suffixed_cookies", &self.suffixed_cookies)
            .finish_non_exhaustive()
    }
}

/// A failed Backend API call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BapiError {
    /// The call did not complete (connection, timeout, unreadable answer).
    #[error("the Backend API could not be reached: {0}")]
    Network(String),
    /// The Backend API answered with an error status.
    #[error("the Backend API answered {status} ({})", code.as_deref().unwrap_or("no error code"))]
    Status {
        /// The HTTP status.
        status: u16,
        /// `errors[0].code`, when the body had one.
        code: Option<String>,
    },
    /// The answer was not of the expected shape.
    #[error("the Backend API answer could not be understood")]
    InvalidResponse,
}

/// The Backend API calls used by the decision. Calls may block: the decision only makes them on
/// the blocking path (never from `try_authenticate_request`).
pub trait BackendApi: Send + Sync + fmt::Debug {
    /// `GET /{version}/clients/handshake_payload?nonce=<nonce>` → the `directives` list.
    fn handshake_payload(&self, nonce: &str) -> Result<Vec<String>, BapiError>;

    /// `POST /{version}/sessions/{sid}/refresh` → the `cookies` list.
    fn refresh_session(
        &self,
        session_id: &str,
        request: &RefreshRequest,
    ) -> Result<Vec<String>, BapiError>;
}

/// The default [`BackendApi`]: Clerk's Backend API over HTTP, with the instance's secret key.
///
/// `Debug` never shows the secret key.
#[derive(Clone)]
pub struct HttpBackendApi {
    http: crate::http::BapiHttp,
    secret_key: String,
}

impl fmt::Debug for HttpBackendApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpBackendApi")
            .field("http", &self.http)
            .field("secret_key", &"[redacted]")
            .finish()
    }
}

impl HttpBackendApi {
    /// A client for `api_url` (for example `https://api.clerk.com`) and `api_version` (`v1`),
    /// each call bounded by `timeout`.
    pub fn new(
        api_url: &str,
        api_version: &str,
        secret_key: &str,
        timeout: std::time::Duration,
    ) -> Self {
        Self {
            http: crate::http::BapiHttp::new(api_url, api_version, timeout),
            secret_key: secret_key.to_owned(),
        }
    }

    fn json(
        &self,
        result: Result<crate::http::BapiResponse, crate::http::BapiError>,
    ) -> Result<serde_json::Value, BapiError> {
        let response = result.map_err(|e| BapiError::Network(e.to_string()))?;
        let body: Option<serde_json::Value> = serde_json::from_slice(&response.body).ok();
        if !response.is_success() {
            let code = body
                .as_ref()
                .and_then(|b| b.get("errors"))
                .and_then(|e| e.get(0))
                .and_then(|e| e.get("code"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned);
            return Err(BapiError::Status {
                status: response.status,
                code,
            });
        }
        body.ok_or(BapiError::InvalidResponse)
    }
}

fn string_list(value: &serde_json::Value, field: &str) -> Result<Vec<String>, BapiError> {
    match value.get(field) {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::Array(items)) => Ok(items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()),
        Some(_) => Err(BapiError::InvalidResponse),
    }
}

impl BackendApi for HttpBackendApi {
    fn handshake_payload(&self, nonce: &str) -> Result<Vec<String>, BapiError> {
        let body = self.json(self.http.get(
            "/clients/handshake_payload",
            &[("nonce", nonce)],
            &self.secret_key,
        ))?;
        string_list(&body, "directives")
    }

    fn refresh_session(
        &self,
        session_id: &str,
        request: &RefreshRequest,
    ) -> Result<Vec<String>, BapiError> {
        let payload = serde_json::to_value(request).map_err(|_| BapiError::InvalidResponse)?;
        let path = format!(
            "/sessions/{}/refresh",
            percent_encoding::utf8_percent_encode(session_id, percent_encoding::NON_ALPHANUMERIC)
        );
        let query: &[(&str, &str)] = if request.suffixed_cookies {
            &[("suffixed_cookies", "true")]
        } else {
            &[]
        };
        let body =
            self.json(
                self.http
                    .post_json(&path, true, query, &payload, &self.secret_key),
            )?;
        string_list(&body, "cookies")
    }
}
