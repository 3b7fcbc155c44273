//! Clerk webhooks: the [`ClerkWebhook`] extractor and its rejection, [`ClerkWebhookError`].

use std::fmt;
use std::future::poll_fn;
use std::ops::Deref;
use std::pin::Pin;

use axum_core::body::Body;
use axum_core::extract::{FromRef, FromRequest, Request};
use axum_core::response::{IntoResponse, Response};
use clerk_auth_core::webhook::{WebhookBody, WebhookError, WebhookEvent, WebhookVerifier};
use http::{HeaderValue, StatusCode};
use http_body::Body as _;

use crate::layer::json;

/// A verified Clerk webhook: the extractor reads the raw body itself (chunk by chunk, up to the
/// verifier's [`max_body_bytes`](WebhookVerifier::max_body_bytes), 1 MiB by default, whatever
/// axum's `DefaultBodyLimit` says), verifies its Svix signature with the router state's
/// [`WebhookVerifier`], and only then parses the event. Derefs to the core's [`WebhookEvent`]
/// (`event_type`, `message_id`, `data_id()`, `user()`, …).
///
/// The verifier comes from the router's state (`WebhookVerifier: FromRef<S>`): `with_state`
/// a verifier, or a field of your state (`#[derive(FromRef)]`). A router without one does not
/// compile.
///
/// A refused delivery is answered by [`ClerkWebhookError`]: `400`
/// `{"status":"webhook-invalid","reason","message"}`, or `500` naming
/// `CLERK_WEBHOOK_SIGNING_SECRET` for a verifier without a secret.
///
/// Webhooks carry no session: add the webhook route where [`ClerkLayer`](crate::ClerkLayer)
/// does not wrap it (a router merged after `.layer(clerk)`, as below). Under the layer it works
/// too: the layer only decides (signed out), redirects only `GET` document requests and refuses
/// only through [`SignedIn`](crate::SignedIn).
///
/// # Example
///
/// ```no_run
/// use axum::routing::{get, post};
/// use axum::{Json, Router};
/// use clerk_auth_axum::clerk_auth_core::webhook::{EventType, WebhookVerifier};
/// use clerk_auth_axum::{ClerkLayer, ClerkWebhook, SignedIn};
///
/// async fn clerk_webhook(event: ClerkWebhook) -> &'static str {
///     // Verified: the signature, the 5-minute window, then the JSON. Svix retries a delivery
///     // until it gets a 2xx, with the same id: handle each `message_id` once.
///     match &event.event_type {
///         EventType::UserCreated | EventType::UserUpdated => {
///             if let Some(Ok(user)) = event.user() {
///                 println!("upsert {} ({})", user.id, event.message_id);
///             }
///         }
///         EventType::UserDeleted => println!("delete {:?}", event.data_id()),
///         _ => {}
///     }
///     "ok"
/// }
///
/// async fn me(user: SignedIn) -> Json<serde_json::Value> {
///     Json(user.auth_json())
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     // CLERK_WEBHOOK_SIGNING_SECRET (whsec_…): missing or invalid fails here, at start-up.
///     let webhooks = Router::new()
///         .route("/api/webhooks/clerk", post(clerk_webhook))
///         .with_state(WebhookVerifier::from_env()?);
///     let app = Router::new()
///         .route("/api/me", get(me))
///         .layer(ClerkLayer::from_env()?)
///         // Merged after the layer: Svix sends no session.
///         .merge(webhooks);
///     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
///     axum::serve(listener, app).await?;
///     Ok(())
/// }
/// ```
#[derive(Clone, Debug)]
pub struct ClerkWebhook(pub WebhookEvent);

impl ClerkWebhook {
    /// The event.
    pub fn into_inner(self) -> WebhookEvent {
        self.0
    }
}

impl Deref for ClerkWebhook {
    type Target = WebhookEvent;

    fn deref(&self) -> &WebhookEvent {
        &self.0
    }
}

impl<S> FromRequest<S> for ClerkWebhook
where
    WebhookVerifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ClerkWebhookError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = WebhookVerifier::from_ref(state);
        let (parts, body) = request.into_parts();
        let body = read_bounded(body, WebhookBody::new(&verifier))
            .await
            .map_err(ClerkWebhookError::BodyUnreadable)?;
        verifier
            .verify_headers(
                |name| parts.headers.get(name).map(HeaderValue::as_bytes),
                body.as_bytes(),
            )
            .map(ClerkWebhook)
            .map_err(ClerkWebhookError::Refused)
    }
}

/// Reads the body frame by frame into `into`, and stops once it is full (one byte over the
/// limit): no more is ever buffered, whatever the client sends or declares.
async fn read_bounded(
    mut body: Body,
    mut into: WebhookBody,
) -> Result<WebhookBody, axum_core::Error> {
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        if let Ok(data) = frame?.into_data() {
            if !into.push(&data) {
                break;
            }
        }
    }
    Ok(into)
}

/// Why [`ClerkWebhook`] refused a request. As a response, a JSON body
/// (`content-type: application/json`) that never contains the secret, a signature or the body.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClerkWebhookError {
    /// The verifier refused the delivery: [`WebhookError::status`] (`400`, or `500` for a
    /// verifier without a signing secret) with [`WebhookError::body_json`]
    /// (`{"status":"webhook-invalid","reason","message"}`).
    Refused(WebhookError),
    /// The body could not be read (the client went away, a malformed chunked body, a
    /// `RequestBodyLimit` layer's limit): `400`, `{"status":"error","message":…}`.
    BodyUnreadable(axum_core::Error),
}

impl fmt::Display for ClerkWebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(e) => fmt::Display::fmt(e, f),
            Self::BodyUnreadable(_) => f.write_str("the webhook's body could not be read"),
        }
    }
}

impl std::error::Error for ClerkWebhookError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Refused(e) => Some(e),
            Self::BodyUnreadable(e) => Some(e),
        }
    }
}

impl IntoResponse for ClerkWebhookError {
    fn into_response(self) -> Response {
        match self {
            Self::Refused(e) => {
                let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
                json(status, Some(e.body_json()))
            }
            Self::BodyUnreadable(_) => {
                let body = format!(r#"{{"status":"error","message":"{self}"}}"#);
                json(StatusCode::BAD_REQUEST, Some(body))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use http::header::CONTENT_TYPE;

    use super::*;

    #[test]
    fn a_refusal_answers_the_cores_status_and_json() {
        let response = ClerkWebhookError::Refused(WebhookError::SignatureMismatch).into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        let missing = ClerkWebhookError::Refused(WebhookError::SecretMissing).into_response();
        assert_eq!(missing.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
