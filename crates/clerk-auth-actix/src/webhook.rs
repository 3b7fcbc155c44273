//! Clerk webhooks: the [`ClerkWebhook`] extractor and the error it answers with.

use std::fmt;
use std::future::{poll_fn, Future};
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use clerk_auth_core::webhook::{WebhookBody, WebhookError, WebhookEvent, WebhookVerifier};
use futures_core::Stream;

/// A verified Clerk webhook: the extractor reads the raw body itself (up to the verifier's
/// [`max_body_bytes`](WebhookVerifier::max_body_bytes), 1 MiB by default, whatever actix-web's
/// `PayloadConfig` says), verifies its Svix signature with the app's [`WebhookVerifier`], and
/// only then parses the event. Derefs to the core's [`WebhookEvent`] (`event_type`,
/// `message_id`, `data_id()`, `user()`, …).
///
/// Register the verifier with `App::app_data(verifier)`, as actix-web's own extractor
/// configurations (`JsonConfig`, `PayloadConfig`) are (it is cheap to clone: an `Arc` inside). A
/// `web::Data<WebhookVerifier>` is found too.
///
/// A refused delivery is answered by [`ClerkWebhookError`]: `400`
/// `{"status":"webhook-invalid","reason","message"}`, `500` naming
/// `CLERK_WEBHOOK_SIGNING_SECRET` for a verifier without a secret, `500` when no verifier is
/// registered.
///
/// Webhooks carry no session: register the route outside the scope [`ClerkAuth`](crate::ClerkAuth)
/// wraps. (Inside it, the middleware would decide the request, signed out, and still let it
/// through: it only redirects `GET` document requests, and refuses only through
/// [`SignedIn`](crate::SignedIn).)
///
/// # Example
///
/// ```no_run
/// use actix_web::{web, App, HttpResponse, HttpServer};
/// use clerk_auth_actix::clerk_auth_core::webhook::{EventType, WebhookVerifier};
/// use clerk_auth_actix::{ClerkAuth, ClerkWebhook};
///
/// async fn clerk_webhook(event: ClerkWebhook) -> HttpResponse {
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
///     HttpResponse::Ok().finish()
/// }
///
/// #[actix_web::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     // CLERK_WEBHOOK_SIGNING_SECRET (whsec_…): missing or invalid fails here, at start-up.
///     let webhooks = WebhookVerifier::from_env()?;
///     let clerk = ClerkAuth::from_env()?;
///     HttpServer::new(move || {
///         App::new()
///             .app_data(webhooks.clone())
///             // Outside the scope that `ClerkAuth` wraps: Svix sends no session.
///             .route("/api/webhooks/clerk", web::post().to(clerk_webhook))
///             .service(web::scope("").wrap(clerk.clone()) /* .route(…) */)
///     })
///     .bind(("127.0.0.1", 3000))?
///     .run()
///     .await?;
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

impl FromRequest for ClerkWebhook {
    type Error = ClerkWebhookError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let verifier = verifier_of(req);
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let verifier = verifier.ok_or(ClerkWebhookError::VerifierMissing)?;
            let body = read_bounded(payload, WebhookBody::new(&verifier))
                .await
                .map_err(ClerkWebhookError::BodyUnreadable)?;
            let headers = req.headers();
            verifier
                .verify_headers(
                    |name| headers.get(name).map(|v| v.as_bytes()),
                    body.as_bytes(),
                )
                .map(ClerkWebhook)
                .map_err(ClerkWebhookError::Refused)
        })
    }
}

/// The app's verifier: `app_data(WebhookVerifier)`, else `app_data(web::Data<WebhookVerifier>)`.
fn verifier_of(req: &HttpRequest) -> Option<WebhookVerifier> {
    req.app_data::<WebhookVerifier>().cloned().or_else(|| {
        req.app_data::<web::Data<WebhookVerifier>>()
            .map(|data| data.get_ref().clone())
    })
}

/// Reads the payload chunk by chunk into `body`, and stops once it is full (one byte over the
/// limit): no more is ever buffered, whatever the client sends or declares.
async fn read_bounded(
    mut payload: Payload,
    mut body: WebhookBody,
) -> Result<WebhookBody, PayloadError> {
    while let Some(chunk) = poll_fn(|cx| Pin::new(&mut payload).poll_next(cx)).await {
        if !body.push(&chunk?) {
            break;
        }
    }
    Ok(body)
}

/// Why [`ClerkWebhook`] refused a request. Every variant answers with a JSON body
/// (`content-type: application/json`) that never contains the secret, a signature or the body.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClerkWebhookError {
    /// The verifier refused the delivery: [`WebhookError::status`] (`400`, or `500` for a
    /// verifier without a signing secret) with [`WebhookError::body_json`]
    /// (`{"status":"webhook-invalid","reason","message"}`).
    Refused(WebhookError),
    /// The body could not be read (the client went away, a malformed chunked body): `400`,
    /// `{"status":"error","message":…}`.
    BodyUnreadable(PayloadError),
    /// No [`WebhookVerifier`] is registered in the app data: `500`,
    /// `{"status":"error","message":…}` naming what to register.
    VerifierMissing,
}

impl fmt::Display for ClerkWebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(e) => fmt::Display::fmt(e, f),
            Self::BodyUnreadable(_) => f.write_str("the webhook's body could not be read"),
            Self::VerifierMissing => f.write_str(
                "no WebhookVerifier in the app data: register one with \
                 App::app_data(WebhookVerifier::from_env()?)",
            ),
        }
    }
}

impl std::error::Error for ClerkWebhookError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Refused(e) => Some(e),
            Self::BodyUnreadable(e) => Some(e),
            Self::VerifierMissing => None,
        }
    }
}

impl ResponseError for ClerkWebhookError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Refused(e) => StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
            Self::BodyUnreadable(_) => StatusCode::BAD_REQUEST,
            Self::VerifierMissing => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = match self {
            Self::Refused(e) => e.body_json(),
            other => {
                serde_json::json!({ "status": "error", "message": other.to_string() }).to_string()
            }
        };
        HttpResponse::build(self.status_code())
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .body(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_missing_verifier_names_what_to_register() {
        let response = ClerkWebhookError::VerifierMissing.error_response();
        assert_eq!(response.status(), 500);
        assert!(ClerkWebhookError::VerifierMissing
            .to_string()
            .contains("App::app_data(WebhookVerifier"));
    }
}
