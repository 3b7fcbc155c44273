//! [`ClerkRejection`], the extractors' rejection.

use std::fmt;

use axum_core::response::{IntoResponse, Response};
use clerk_auth_core::state::Rejection;
use http::StatusCode;

use crate::layer::json;

/// Why an extractor refused a request. Every variant answers with a JSON body
/// (`content-type: application/json`) that never contains a token or a key; [`ClerkLayer`]
/// adds the state's headers (the `x-clerk-auth-*` debug headers) on its way out.
///
/// [`ClerkLayer`]: crate::ClerkLayer
#[derive(Debug)]
#[non_exhaustive]
pub enum ClerkRejection {
    /// [`SignedIn`](crate::SignedIn) refused the request: `401` when it is signed out, `503`
    /// when the service could not verify the credential (a key-set outage, a bad secret key, a
    /// Backend API outage for an opaque machine token, or a call over the instance's Backend API
    /// budget, with `Retry-After: 1`). The body is `{"status":"signed-out","reason":…,"message":…}`;
    /// under [`ClerkLayer::api`](crate::ClerkLayer::api) a `401` also carries
    /// `WWW-Authenticate: Bearer error="invalid_token"`.
    Unauthorized(Rejection),
    /// [`RequireLayer`](crate::RequireLayer) refused a signed-in request without what the route
    /// requires (`403`): `{"status":"forbidden"}`, or Clerk's reverification error
    /// `{"clerk_error":{"type":"forbidden","reason":"reverification-error",…}}` when only a
    /// recent enough verification is missing.
    Forbidden(Rejection),
    /// An extractor ran on a route that [`ClerkLayer`] does not wrap (`500`): a programming
    /// error, reported instead of treating the request as signed out.
    ///
    /// [`ClerkLayer`]: crate::ClerkLayer
    LayerMissing,
}

impl fmt::Display for ClerkRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unauthorized(r) if r.status == 503 => {
                f.write_str("the credential could not be verified: the service is unavailable")
            }
            Self::Unauthorized(_) => f.write_str("the request is not signed in"),
            Self::Forbidden(_) => {
                f.write_str("the request lacks the authorization this route requires")
            }
            Self::LayerMissing => f.write_str("ClerkLayer does not wrap this route"),
        }
    }
}

impl ClerkRejection {
    /// The rejection for a refusal of
    /// [`RequestState::authorize`](clerk_auth_core::RequestState::authorize):
    /// [`Forbidden`](Self::Forbidden) for a `403`, [`Unauthorized`](Self::Unauthorized) otherwise.
    pub(crate) fn refused(rejection: Rejection) -> Self {
        if rejection.status == 403 {
            Self::Forbidden(rejection)
        } else {
            Self::Unauthorized(rejection)
        }
    }
}

impl std::error::Error for ClerkRejection {}

impl IntoResponse for ClerkRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Unauthorized(rejection) | Self::Forbidden(rejection) => {
                let status =
                    StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::UNAUTHORIZED);
                let mut response = json(status, Some(rejection.body));
                // `WWW-Authenticate` on a 401 of an API route, `Retry-After` over the budget.
                response.headers_mut().extend(rejection.headers);
                response
            }
            Self::LayerMissing => {
                let body = format!(r#"{{"status":"error","message":"{self}"}}"#);
                json(StatusCode::INTERNAL_SERVER_ERROR, Some(body))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
    use http::{HeaderMap, HeaderValue};

    use super::*;

    #[test]
    fn a_refusal_answers_the_cores_status_body_and_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
        let body =
            r#"{"status":"signed-out","reason":"backend-api-budget-exhausted","message":""}"#;
        let response = ClerkRejection::Unauthorized(Rejection {
            status: 503,
            body: body.to_owned(),
            headers,
        })
        .into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(response.headers()[RETRY_AFTER], "1");
        assert_eq!(response.headers().get(WWW_AUTHENTICATE), None);
    }

    #[test]
    fn a_missing_layer_is_a_500_naming_it() {
        let rejection = ClerkRejection::LayerMissing;
        assert_eq!(rejection.to_string(), "ClerkLayer does not wrap this route");
        let response = rejection.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    }
}
