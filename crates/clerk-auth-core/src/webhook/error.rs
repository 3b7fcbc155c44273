//! Why a webhook was refused: [`WebhookError`], its [`WebhookErrorReason`] (the wire string), its
//! message (Clerk's) and the answer an adapter gives ([`status`](WebhookError::status),
//! [`body_json`](WebhookError::body_json)).

use std::borrow::Cow;
use std::fmt;

/// The prefix Clerk's `verifyWebhook` gives every failure of the verification proper.
const UNABLE: &str = "Unable to verify incoming webhook: ";

/// The message of a missing signing secret, Clerk's word for word.
pub(crate) const SECRET_MISSING_MESSAGE: &str = "Missing webhook signing secret. Set the \
     CLERK_WEBHOOK_SIGNING_SECRET environment variable with the webhook secret from the Clerk \
     Dashboard.";

/// Why a webhook was refused, as a wire string ([`as_str`](Self::as_str)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WebhookErrorReason {
    /// `webhook-secret-missing`: no signing secret is configured (a server error, `500`).
    SecretMissing,
    /// `webhook-headers-missing`: an id, timestamp or signature header is absent or blank.
    HeadersMissing,
    /// `webhook-timestamp-invalid`: the timestamp header has no leading decimal digits.
    TimestampInvalid,
    /// `webhook-timestamp-too-old`: the timestamp is more than 5 minutes in the past.
    TimestampTooOld,
    /// `webhook-timestamp-too-new`: the timestamp is more than 5 minutes in the future.
    TimestampTooNew,
    /// `webhook-signature-mismatch`: no `v1` signature matches.
    SignatureMismatch,
    /// `webhook-payload-invalid`: the verified body is not a JSON object with a string `type`.
    PayloadInvalid,
    /// `webhook-payload-too-large`: the body is over the limit.
    PayloadTooLarge,
}

impl WebhookErrorReason {
    /// The wire string (`webhook-signature-mismatch`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SecretMissing => "webhook-secret-missing",
            Self::HeadersMissing => "webhook-headers-missing",
            Self::TimestampInvalid => "webhook-timestamp-invalid",
            Self::TimestampTooOld => "webhook-timestamp-too-old",
            Self::TimestampTooNew => "webhook-timestamp-too-new",
            Self::SignatureMismatch => "webhook-signature-mismatch",
            Self::PayloadInvalid => "webhook-payload-invalid",
            Self::PayloadTooLarge => "webhook-payload-too-large",
        }
    }
}

impl fmt::Display for WebhookErrorReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with a verified payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayloadProblem {
    /// The body is not JSON.
    NotJson,
    /// The body is JSON, but not an object with a string `type`.
    NoEventType,
}

/// A webhook was refused. The secret, the signatures and the body are never part of it: not in
/// its fields, its [`message`](Self::message), its `Display` or its `Debug`.
///
/// An adapter answers [`status`](Self::status) with [`body_json`](Self::body_json).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookError {
    /// No signing secret is configured (see
    /// [`allow_missing_secret`](crate::webhook::WebhookVerifierBuilder::allow_missing_secret)).
    SecretMissing,
    /// Required headers are absent or blank.
    HeadersMissing {
        /// The missing names, in the order id, timestamp, signature (`svix-*` names, or the
        /// `webhook-*` names when the request used those).
        missing: Vec<&'static str>,
    },
    /// The timestamp header does not start with a decimal number.
    TimestampInvalid,
    /// The timestamp is more than 5 minutes before `now`.
    TimestampTooOld {
        /// The parsed timestamp, Unix seconds.
        timestamp: i64,
        /// The verifier's time, Unix seconds.
        now: i64,
    },
    /// The timestamp is more than 5 minutes after `now`.
    TimestampTooNew {
        /// The parsed timestamp, Unix seconds.
        timestamp: i64,
        /// The verifier's time, Unix seconds.
        now: i64,
    },
    /// No `v1` signature of the signature header matches the body.
    SignatureMismatch,
    /// The body's signature is valid but the body is not a Clerk event.
    PayloadInvalid(PayloadProblem),
    /// The body is over the limit (checked before anything else is read).
    PayloadTooLarge {
        /// The body's length in bytes.
        len: usize,
        /// The limit in bytes.
        limit: usize,
    },
}

impl WebhookError {
    /// The reason, whose [`as_str`](WebhookErrorReason::as_str) is the wire string.
    pub fn reason(&self) -> WebhookErrorReason {
        match self {
            Self::SecretMissing => WebhookErrorReason::SecretMissing,
            Self::HeadersMissing { .. } => WebhookErrorReason::HeadersMissing,
            Self::TimestampInvalid => WebhookErrorReason::TimestampInvalid,
            Self::TimestampTooOld { .. } => WebhookErrorReason::TimestampTooOld,
            Self::TimestampTooNew { .. } => WebhookErrorReason::TimestampTooNew,
            Self::SignatureMismatch => WebhookErrorReason::SignatureMismatch,
            Self::PayloadInvalid(_) => WebhookErrorReason::PayloadInvalid,
            Self::PayloadTooLarge { .. } => WebhookErrorReason::PayloadTooLarge,
        }
    }

    /// The message, as Clerk's `verifyWebhook` words it: the missing secret and the missing
    /// headers as they are (`Missing required webhook headers: svix-id, svix-signature`), the
    /// failures of the verification proper behind `Unable to verify incoming webhook: `
    /// (`… Message timestamp too old`, `… No matching signature found`). The payload messages
    /// and the size limit are clerk-auth's own, in the same form.
    pub fn message(&self) -> Cow<'static, str> {
        let unable = |detail: &str| Cow::Owned(format!("{UNABLE}{detail}"));
        match self {
            Self::SecretMissing => Cow::Borrowed(SECRET_MISSING_MESSAGE),
            Self::HeadersMissing { missing } => Cow::Owned(format!(
                "Missing required webhook headers: {}",
                missing.join(", ")
            )),
            Self::TimestampInvalid => unable("Invalid Signature Headers"),
            Self::TimestampTooOld { .. } => unable("Message timestamp too old"),
            Self::TimestampTooNew { .. } => unable("Message timestamp too new"),
            Self::SignatureMismatch => unable("No matching signature found"),
            Self::PayloadInvalid(PayloadProblem::NotJson) => unable("Payload is not valid JSON"),
            Self::PayloadInvalid(PayloadProblem::NoEventType) => {
                unable("Payload is not a JSON object with a string type")
            }
            Self::PayloadTooLarge { limit, .. } => unable(&format!(
                "Payload is larger than the limit of {limit} bytes"
            )),
        }
    }

    /// Whether this is the server's fault (no signing secret), not the request's.
    pub fn is_server_error(&self) -> bool {
        matches!(self, Self::SecretMissing)
    }

    /// The HTTP status an adapter answers: `500` for a missing secret, `400` otherwise.
    pub fn status(&self) -> u16 {
        if self.is_server_error() {
            500
        } else {
            400
        }
    }

    /// The JSON body an adapter answers with [`status`](Self::status):
    /// `{"status":"webhook-invalid","reason":"<reason>","message":"<message>"}`, or for a
    /// missing secret `{"status":"error","reason":"webhook-secret-missing","message":"…"}`
    /// (whose message names `CLERK_WEBHOOK_SIGNING_SECRET`).
    pub fn body_json(&self) -> String {
        let status = if self.is_server_error() {
            "error"
        } else {
            "webhook-invalid"
        };
        serde_json::json!({
            "status": status,
            "reason": self.reason().as_str(),
            "message": self.message(),
        })
        .to_string()
    }
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for WebhookError {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_clerks() {
        let missing = WebhookError::HeadersMissing {
            missing: vec!["svix-id", "svix-signature"],
        };
        assert_eq!(
            missing.message(),
            "Missing required webhook headers: svix-id, svix-signature"
        );
        assert_eq!(
            WebhookError::TimestampInvalid.to_string(),
            "Unable to verify incoming webhook: Invalid Signature Headers"
        );
        assert_eq!(
            WebhookError::TimestampTooOld {
                timestamp: 0,
                now: 301
            }
            .message(),
            "Unable to verify incoming webhook: Message timestamp too old"
        );
        assert_eq!(
            WebhookError::TimestampTooNew {
                timestamp: 301,
                now: 0
            }
            .message(),
            "Unable to verify incoming webhook: Message timestamp too new"
        );
        assert_eq!(
            WebhookError::SignatureMismatch.message(),
            "Unable to verify incoming webhook: No matching signature found"
        );
        assert_eq!(
            WebhookError::SecretMissing.message(),
            SECRET_MISSING_MESSAGE
        );
    }

    #[test]
    fn bodies_and_statuses() {
        let body: serde_json::Value =
            serde_json::from_str(&WebhookError::SignatureMismatch.body_json()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "status": "webhook-invalid",
                "reason": "webhook-signature-mismatch",
                "message": "Unable to verify incoming webhook: No matching signature found",
            })
        );
        assert_eq!(WebhookError::SignatureMismatch.status(), 400);

        let missing = WebhookError::SecretMissing;
        assert_eq!(missing.status(), 500);
        let body: serde_json::Value = serde_json::from_str(&missing.body_json()).unwrap();
        assert_eq!(body["status"], "error");
        assert_eq!(body["reason"], "webhook-secret-missing");
        assert!(body["message"]
            .as_str()
            .unwrap()
            .contains("CLERK_WEBHOOK_SIGNING_SECRET"));

        let large = WebhookError::PayloadTooLarge { len: 11, limit: 10 };
        assert_eq!(large.reason().as_str(), "webhook-payload-too-large");
        assert_eq!(large.status(), 400);
    }
}
