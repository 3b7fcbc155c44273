//! The Backend API calls the decision needs: the handshake payload, server-side refresh
//! and opaque machine-token verification. They sit behind [`BackendApi`] so that
//! tests and users can substitute them; the default implementation talks to Clerk's Backend API
//! over HTTP (ureq).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::token::auth::TokenType;

/// What a refresh call sends.
#[derive(Clone, Serialize)]
pub struct RefreshRequest {
    /// Always `cookie`.
    pub format: &'static str,
    /// The expired session token.
    pub expired_token: String,
    /// The refresh token from `__refresh_<suffix>`.
    pub refresh_token: String,
    /// The request's public origin.
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
    #[error("the Backend API could not be reached: {}", crate::text::inert(.0))]
    Network(String),
    /// The Backend API answered with an error status. (Displayed bounded and inert: the code
    /// comes from the answer's body.)
    #[error("the Backend API answered {status} ({})", crate::text::inert(code.as_deref().unwrap_or("no error code")))]
    Status {
        /// The HTTP status.
        status: u16,
        /// `errors[0].code`, when the body had one.
        code: Option<String>,
        /// `errors[0].message`, when the body had one (never contains the secret key).
        message: Option<String>,
    },
    /// The answer was not of the expected shape.
    #[error("the Backend API answer could not be understood")]
    InvalidResponse,
    /// No secret key is configured for this call (for example an API key presented to an
    /// instance configured with a machine secret key only).
    #[error("no secret key is configured for this Backend API call")]
    MissingSecretKey,
    /// This [`BackendApi`] implementation does not offer the call.
    #[error("this Backend API client does not support {0}")]
    Unsupported(&'static str),
}

/// The Backend API calls used by the decision. Calls may block: the decision only makes them on
/// the blocking path (never from `try_authenticate_request`).
pub trait BackendApi: Send + Sync + fmt::Debug {
    /// Verifies an opaque machine token and returns the Backend API's JSON resource
    /// (snake_case, as Clerk answers). The endpoints have no version segment:
    ///
    /// | `kind` | request | bearer |
    /// |---|---|---|
    /// | [`TokenType::M2mToken`] | `POST /m2m_tokens/verify` `{"token"}` | the machine secret key if set, else the secret key |
    /// | [`TokenType::OauthToken`] | `POST /oauth_applications/access_tokens/verify` `{"access_token"}` | the secret key |
    /// | [`TokenType::ApiKey`] | `POST /api_keys/verify` `{"secret"}` | the secret key |
    ///
    /// The default implementation answers [`BapiError::Unsupported`] (the decision then reports
    /// `unexpected-error`), so existing implementations keep compiling.
    fn verify_machine_token(
        &self,
        kind: TokenType,
        token: &str,
    ) -> Result<serde_json::Value, BapiError> {
        let _ = (kind, token);
        Err(BapiError::Unsupported("machine-token verification"))
    }

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
    machine_secret_key: Option<String>,
}

impl fmt::Debug for HttpBackendApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpBackendApi")
            .field("http", &self.http)
            .field("secret_key", &"[redacted]")
            .field(
                "machine_secret_key",
                &self.machine_secret_key.as_ref().map(|_| "[redacted]"),
            )
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
            machine_secret_key: None,
        }
    }

    /// The same client, verifying opaque M2M tokens with `machine_secret_key` instead of the
    /// secret key (Clerk's `machineSecretKey`). An empty key is ignored.
    #[must_use]
    pub fn with_machine_secret_key(mut self, machine_secret_key: &str) -> Self {
        self.machine_secret_key = Some(machine_secret_key.to_owned()).filter(|k| !k.is_empty());
        self
    }

    /// Records the `Date` of every answer in `clock` (the instance's clock-skew detector).
    pub(crate) fn with_clock_offset(
        mut self,
        clock: std::sync::Arc<crate::diagnostics::ClockOffset>,
    ) -> Self {
        self.http = self.http.with_clock_offset(clock);
        self
    }

    fn json(
        &self,
        result: Result<crate::http::BapiResponse, crate::http::BapiError>,
    ) -> Result<serde_json::Value, BapiError> {
        let response = result.map_err(|e| BapiError::Network(e.to_string()))?;
        let body: Option<serde_json::Value> = serde_json::from_slice(&response.body).ok();
        if !response.is_success() {
            let first_error = |field: &str| {
                body.as_ref()
                    .and_then(|b| b.get("errors"))
                    .and_then(|e| e.get(0))
                    .and_then(|e| e.get(field))
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            };
            return Err(BapiError::Status {
                status: response.status,
                code: first_error("code"),
                message: first_error("message"),
            });
        }
        body.ok_or(BapiError::InvalidResponse)
    }
}

/// Reads answers as the calls do, without the network (fuzzing only).
#[cfg(fuzzing)]
impl HttpBackendApi {
    /// `response` read as the call expecting the string list `field` reads it.
    pub(crate) fn fuzz_string_list(
        &self,
        response: crate::http::BapiResponse,
        field: &str,
    ) -> Result<Vec<String>, BapiError> {
        string_list(&self.json(Ok(response))?, field)
    }

    /// `response` read as a machine-token verification reads it.
    pub(crate) fn fuzz_machine(
        &self,
        response: crate::http::BapiResponse,
    ) -> Result<serde_json::Value, BapiError> {
        self.json(Ok(response))
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
        // Decision 12: unreserved characters (`sess_…`) are sent as they are.
        let path = format!(
            "/sessions/{}/refresh",
            crate::http::path_segment(session_id)
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

    fn verify_machine_token(
        &self,
        kind: TokenType,
        token: &str,
    ) -> Result<serde_json::Value, BapiError> {
        let (path, field, bearer) = match kind {
            TokenType::M2mToken => (
                "/m2m_tokens/verify",
                "token",
                self.machine_secret_key
                    .as_deref()
                    .unwrap_or(&self.secret_key),
            ),
            TokenType::OauthToken => (
                "/oauth_applications/access_tokens/verify",
                "access_token",
                self.secret_key.as_str(),
            ),
            TokenType::ApiKey => ("/api_keys/verify", "secret", self.secret_key.as_str()),
            TokenType::SessionToken => return Err(BapiError::Unsupported("session tokens")),
        };
        if bearer.is_empty() {
            return Err(BapiError::MissingSecretKey);
        }
        let payload = serde_json::json!({ field: token });
        let body = self.json(self.http.post_json(path, false, &[], &payload, bearer))?;
        if body.is_object() {
            Ok(body)
        } else {
            Err(BapiError::InvalidResponse)
        }
    }
}
