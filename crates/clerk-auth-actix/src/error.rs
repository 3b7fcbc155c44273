//! The error the extractors and the middleware answer with.

use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use clerk_auth_core::state::Rejection;
use clerk_auth_core::{AuthenticateError, RequestState};

/// Why a request was refused or could not be decided. Every variant answers with a JSON body
/// (`content-type: application/json`) that never contains a token or a key.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClerkAuthError {
    /// [`SignedIn`](crate::SignedIn) refused the request: `401` when it is signed out, `503` when
    /// the service could not verify the credential (a key-set outage, a bad secret key, a Backend API
    /// outage for an opaque machine token, or a call over the instance's Backend API budget). The body is
    /// `{"status":"signed-out","reason":…,"message":…}`; under [`ClerkAuth::api`](crate::ClerkAuth::api)
    /// a `401` also carries `WWW-Authenticate: Bearer error="invalid_token"`.
    Rejected(Rejection),
    /// [`Require`](crate::Require) refused a signed-in request without what the route requires
    /// (`403`): `{"status":"forbidden"}`, or Clerk's reverification error
    /// `{"clerk_error":{"type":"forbidden","reason":"reverification-error",…}}` when only a
    /// recent enough verification is missing.
    Forbidden(Rejection),
    /// The core could not decide the request (`500`, body `{"status":"error","message":…}`).
    Undecidable(AuthenticateError),
    /// The decision asked for a handshake but gave no redirect location (`500`).
    HandshakeWithoutLocation,
    /// An extractor ran on a route that the [`ClerkAuth`](crate::ClerkAuth) middleware does not
    /// wrap (`500`): a programming error, reported instead of treating the request as signed out.
    MiddlewareMissing,
}

impl fmt::Display for ClerkAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected(r) if r.status == 503 => {
                f.write_str("the credential could not be verified: the service is unavailable")
            }
            Self::Rejected(_) => f.write_str("the request is not signed in"),
            Self::Forbidden(_) => {
                f.write_str("the request lacks the authorization this route requires")
            }
            Self::Undecidable(e) => write!(f, "the request could not be authenticated: {e}"),
            Self::HandshakeWithoutLocation => f.write_str(RequestState::SERVER_ERROR_MESSAGE),
            Self::MiddlewareMissing => {
                f.write_str("the ClerkAuth middleware does not wrap this route")
            }
        }
    }
}

impl ClerkAuthError {
    /// The error for a refusal of [`RequestState::authorize`]: [`Forbidden`](Self::Forbidden)
    /// for a `403`, [`Rejected`](Self::Rejected) otherwise (`401`, `503`).
    pub(crate) fn refused(rejection: Rejection) -> Self {
        if rejection.status == 403 {
            Self::Forbidden(rejection)
        } else {
            Self::Rejected(rejection)
        }
    }
}

impl std::error::Error for ClerkAuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Undecidable(e) => Some(e),
            _ => None,
        }
    }
}

impl ResponseError for ClerkAuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Rejected(r) => StatusCode::from_u16(r.status).unwrap_or(StatusCode::UNAUTHORIZED),
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = match self {
            Self::Rejected(r) | Self::Forbidden(r) => r.body.clone(),
            Self::Undecidable(e) => e.to_json(),
            other => {
                serde_json::json!({ "status": "error", "message": other.to_string() }).to_string()
            }
        };
        let mut response = HttpResponse::build(self.status_code())
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .body(body);
        // `WWW-Authenticate` on a 401 of an API route, `Retry-After` over the Backend API budget
        // (`http` 1 values to actix-web's, by bytes).
        if let Self::Rejected(Rejection { headers, .. }) = self {
            for (name, value) in headers {
                if let (Ok(name), Ok(value)) = (
                    header::HeaderName::from_bytes(name.as_str().as_bytes()),
                    header::HeaderValue::from_bytes(value.as_bytes()),
                ) {
                    response.headers_mut().insert(name, value);
                }
            }
        }
        response
    }
}
