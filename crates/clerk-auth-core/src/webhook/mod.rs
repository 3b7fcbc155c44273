//! Clerk webhooks: verify a delivery's Svix / Standard Webhooks signature and read its event.
//!
//! Clerk delivers webhooks through Svix. A [`WebhookVerifier`] holds the endpoint's signing
//! secret (`whsec_…`, from [`builder`](WebhookVerifier::builder) or
//! `CLERK_WEBHOOK_SIGNING_SECRET`), and [`verify`](WebhookVerifier::verify) takes the request's
//! headers and its raw body and gives the [`WebhookEvent`], or the [`WebhookError`] an adapter
//! answers (`400` `{"status":"webhook-invalid","reason","message"}`, `500` without a secret).
//!
//! ```
//! use std::sync::Arc;
//! use clerk_auth_core::testing::{webhooks, FixedClock};
//! use clerk_auth_core::webhook::{EventType, WebhookErrorReason, WebhookVerifier};
//!
//! let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
//! let verifier = WebhookVerifier::builder()
//!     .signing_secret(secret)
//!     .clock(Arc::new(FixedClock::at_unix(1_733_212_345)))
//!     .build()?;
//!
//! let body = br#"{"type":"user.created","object":"event","data":{"id":"user_1","object":"user"}}"#;
//! let request = webhooks::request(secret, "msg_1", 1_733_212_345, body);
//! let event = verifier.verify(&request, request.body()).unwrap();
//! assert_eq!(event.event_type, EventType::UserCreated);
//! assert_eq!(event.message_id, "msg_1");
//! assert_eq!(event.user().unwrap().unwrap().id, "user_1");
//!
//! // One byte changed: refused, with Clerk's message.
//! let err = verifier.verify(&request, &body[..body.len() - 1]).unwrap_err();
//! assert_eq!(err.reason(), WebhookErrorReason::SignatureMismatch);
//! assert_eq!(err.message(), "Unable to verify incoming webhook: No matching signature found");
//! assert_eq!(err.status(), 400);
//! # Ok::<(), clerk_auth_core::ConfigError>(())
//! ```
//!
//! # Security
//! - The body is parsed only after its signature verifies; signatures are compared in constant
//!   time; deliveries more than 5 minutes old or early are refused.
//! - The secret, the signatures and the body never appear in a log, a `Debug` output or an error.
//! - Verification does not deduplicate: Svix retries a delivery that did not get a `2xx`, with the
//!   same `svix-id` ([`WebhookEvent::message_id`]); handle each id once.
//!
//! The module is split by subject: the verifier and its builder in `config`, the algorithm in
//! `verify`, the key in `secret`, errors in `error`, the event in `event`, its type in
//! `event_type`, the typed data in `data`, and the bounded body adapters read in `body`.

mod body;
mod config;
mod data;
mod error;
mod event;
mod event_type;
pub(crate) mod secret;
mod verify;

pub use body::WebhookBody;
pub use config::{WebhookVerifier, WebhookVerifierBuilder};
pub use data::{
    DeletedObjectData, EmailAddressData, JsonObject, OrganizationData, OrganizationMembershipData,
    PhoneNumberData, PublicUserData, SessionData, UserData,
};
pub use error::{PayloadProblem, WebhookError, WebhookErrorReason};
pub use event::{WebhookDataError, WebhookEvent};
pub use event_type::EventType;

/// The environment variable holding the signing secret.
pub const SIGNING_SECRET_ENV: &str = "CLERK_WEBHOOK_SIGNING_SECRET";

/// The default body limit: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// How far a delivery's timestamp may be from the verifier's clock, either way: 300 s.
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 300;
