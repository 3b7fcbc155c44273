//! Clerk webhooks: the [`ClerkWebhook`] data guard and the error it answers with.

use std::fmt;
use std::io;
use std::ops::Deref;

use clerk_auth_core::webhook::{WebhookBody, WebhookError, WebhookEvent, WebhookVerifier};
use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::serde::json::json;
use rocket::{Ignite, Rocket, Sentinel};

/// A verified Clerk webhook, as a data guard (`data = "<event>"`): it reads the raw body itself
/// (up to the verifier's [`max_body_bytes`](WebhookVerifier::max_body_bytes), 1 MiB by default,
/// whatever Rocket's `limits` say), verifies its Svix signature with the managed
/// [`WebhookVerifier`] (`rocket.manage(verifier)`), and only then parses the event. Derefs to
/// the core's [`WebhookEvent`] (`event_type`, `message_id`, `data_id()`, `user()`, …).
///
/// A refusal is an error outcome with [`ClerkWebhookError::status`] (`400`, `500` without a
/// signing secret), so Rocket's catcher for that status answers. To answer Clerk's JSON body
/// instead (`{"status":"webhook-invalid","reason","message"}`), take
/// `Result<ClerkWebhook, ClerkWebhookError>` and return the error, which is a [`Responder`]
/// (the example below).
///
/// A [`Sentinel`]: a route using it aborts the launch when no [`WebhookVerifier`] is managed.
///
/// Webhooks carry no session, and guards are per route: the webhook route simply takes no
/// [`SignedIn`](crate::SignedIn). The [`ClerkAuth`](crate::ClerkAuth) fairing may stay
/// attached: it decides the request (signed out), redirects only `GET` document requests, and
/// rewrites only the answers of a refusing `SignedIn`.
///
/// # Example
///
/// ```no_run
/// use clerk_auth_core::webhook::{EventType, WebhookVerifier};
/// use clerk_auth_rocket::{ClerkAuth, ClerkWebhook, ClerkWebhookError};
/// use rocket::http::Status;
/// use rocket::{post, routes};
///
/// #[post("/api/webhooks/clerk", data = "<event>")]
/// fn clerk_webhook(
///     event: Result<ClerkWebhook, ClerkWebhookError>,
/// ) -> Result<Status, ClerkWebhookError> {
///     // A refused delivery is answered with Clerk's JSON (400, or 500 without a secret).
///     let event = event?;
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
///     Ok(Status::Ok)
/// }
///
/// #[rocket::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     // CLERK_WEBHOOK_SIGNING_SECRET (whsec_…): missing or invalid fails here, at start-up.
///     let webhooks = WebhookVerifier::from_env()?;
///     rocket::build()
///         .manage(webhooks)
///         // The fairing may be attached: the webhook route takes no session guard.
///         .attach(ClerkAuth::from_env())
///         .mount("/", routes![clerk_webhook])
///         .launch()
///         .await?;
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

#[rocket::async_trait]
impl<'r> FromData<'r> for ClerkWebhook {
    type Error = ClerkWebhookError;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        match verify(request, data).await {
            Ok(event) => data::Outcome::Success(ClerkWebhook(event)),
            Err(error) => data::Outcome::Error((error.status(), error)),
        }
    }
}

async fn verify(request: &Request<'_>, data: Data<'_>) -> Result<WebhookEvent, ClerkWebhookError> {
    let verifier = request
        .rocket()
        .state::<WebhookVerifier>()
        .ok_or(ClerkWebhookError::VerifierMissing)?;
    // One byte over the limit is enough for the verifier to refuse the body: Rocket stops
    // reading there.
    let limit = WebhookBody::new(verifier).capacity();
    let body = data
        .open(limit.bytes())
        .into_bytes()
        .await
        .map_err(ClerkWebhookError::BodyUnreadable)?;
    let headers = request.headers();
    verifier
        .verify_headers(|name| headers.get_one(name).map(str::as_bytes), &body)
        .map_err(ClerkWebhookError::Refused)
}

impl Sentinel for ClerkWebhook {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        let missing = rocket.state::<WebhookVerifier>().is_none();
        if missing {
            rocket::error!(
                "clerk-auth: a route uses the `ClerkWebhook` data guard but no `WebhookVerifier` \
                 is managed: add `.manage(WebhookVerifier::from_env()?)`"
            );
        }
        missing
    }
}

/// Why [`ClerkWebhook`] refused a request. As a [`Responder`], a JSON body
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
    BodyUnreadable(io::Error),
    /// No [`WebhookVerifier`] is managed: `500`, `{"status":"error","message":…}` (the
    /// [`Sentinel`] prevents it at launch for a route that names the guard).
    VerifierMissing,
}

impl ClerkWebhookError {
    /// The status to answer with.
    pub fn status(&self) -> Status {
        match self {
            Self::Refused(e) => Status::new(e.status()),
            Self::BodyUnreadable(_) => Status::BadRequest,
            Self::VerifierMissing => Status::InternalServerError,
        }
    }

    /// The JSON body to answer with.
    pub fn body_json(&self) -> String {
        match self {
            Self::Refused(e) => e.body_json(),
            other => json!({ "status": "error", "message": other.to_string() }).to_string(),
        }
    }
}

impl fmt::Display for ClerkWebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(e) => fmt::Display::fmt(e, f),
            Self::BodyUnreadable(_) => f.write_str("the webhook's body could not be read"),
            Self::VerifierMissing => f.write_str(
                "no WebhookVerifier is managed: add .manage(WebhookVerifier::from_env()?)",
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

impl<'r> Responder<'r, 'static> for ClerkWebhookError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        (self.status(), (ContentType::JSON, self.body_json())).respond_to(request)
    }
}
