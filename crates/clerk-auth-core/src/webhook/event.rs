//! [`WebhookEvent`]: a verified Clerk event, and its `data` as typed structs
//! ([`data_as`](WebhookEvent::data_as), [`user`](WebhookEvent::user), …).

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::data::{
    DeletedObjectData, OrganizationData, OrganizationMembershipData, SessionData, UserData,
};
use super::error::PayloadProblem;
use super::event_type::EventType;

/// A verified Clerk webhook event: `{ type, object: "event", data, event_attributes,
/// instance_id, timestamp }`, plus the delivery's [`message_id`](Self::message_id).
///
/// Read `data` as JSON, as any type with [`data_as`](Self::data_as), or through the typed
/// accessors, each `None` for data of another kind and `Some(Err(..))` for data of its kind that
/// does not fit:
///
/// ```
/// # use clerk_auth_core::webhook::{EventType, WebhookDataError};
/// # fn sync(event: &clerk_auth_core::WebhookEvent) -> Result<(), WebhookDataError> {
/// if let Some(user) = event.user().transpose()? {
///     println!("upsert {} <{:?}>", user.id, user.primary_email_address());
/// } else if let Some(deleted) = event.deleted().transpose()? {
///     println!("delete {:?} {:?}", deleted.object, deleted.id);
/// } else if event.event_type == EventType::SessionCreated {
///     let session: serde_json::Value = event.data_as()?;
///     println!("session {}", session["id"]);
/// }
/// # Ok(()) }
/// ```
///
/// `Debug` shows the envelope but not `data` nor `event_attributes` (they are the body).
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The delivery's message id (`svix-id` / `webhook-id`): the same on every retry of one
    /// delivery, so the key to handle each event once.
    pub message_id: String,
    /// `type`.
    pub event_type: EventType,
    /// `object` (`"event"`), when sent as a string.
    pub object: Option<String>,
    /// `data`, as sent (`null` when absent).
    pub data: Value,
    /// `event_attributes` (`{"http_request":{"client_ip","user_agent"}}`), as sent (`null` when
    /// absent).
    pub event_attributes: Value,
    /// `instance_id`, when sent as a string.
    pub instance_id: Option<String>,
    /// `timestamp`, Unix milliseconds, when sent as an integer.
    pub timestamp: Option<i64>,
}

impl WebhookEvent {
    /// The event of a verified payload, or why it is not one (not an object, no string `type`).
    pub(crate) fn from_payload(message_id: String, payload: Value) -> Result<Self, PayloadProblem> {
        let Value::Object(mut map) = payload else {
            return Err(PayloadProblem::NoEventType);
        };
        let event_type = match map.get("type") {
            Some(Value::String(t)) => EventType::parse(t),
            _ => return Err(PayloadProblem::NoEventType),
        };
        let string = |map: &mut Map<String, Value>, key: &str| match map.remove(key) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        Ok(Self {
            message_id,
            event_type,
            object: string(&mut map, "object"),
            instance_id: string(&mut map, "instance_id"),
            timestamp: map.get("timestamp").and_then(Value::as_i64),
            data: map.remove("data").unwrap_or(Value::Null),
            event_attributes: map.remove("event_attributes").unwrap_or(Value::Null),
        })
    }

    /// `data` as `T` (any `DeserializeOwned` type: a struct of your own, a typed struct of
    /// [`webhook`](crate::webhook), a `serde_json::Value`).
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, WebhookDataError> {
        T::deserialize(&self.data).map_err(|source| WebhookDataError {
            target: std::any::type_name::<T>(),
            source,
        })
    }

    /// `data.id`, when it is a string (the user of a `user.*` event, the session of a
    /// `session.*` event, …).
    pub fn data_id(&self) -> Option<&str> {
        self.data.get("id").and_then(Value::as_str)
    }

    /// The user of `user.created` / `user.updated` (data whose `object` is `user`, not
    /// deleted).
    pub fn user(&self) -> Option<Result<UserData, WebhookDataError>> {
        self.of_object("user")
    }

    /// The session of `session.*` (data whose `object` is `session`).
    pub fn session(&self) -> Option<Result<SessionData, WebhookDataError>> {
        self.of_object("session")
    }

    /// The organization of `organization.created` / `organization.updated` (data whose
    /// `object` is `organization`, not deleted).
    pub fn organization(&self) -> Option<Result<OrganizationData, WebhookDataError>> {
        self.of_object("organization")
    }

    /// The membership of `organizationMembership.*` (data whose `object` is
    /// `organization_membership`, not deleted).
    pub fn organization_membership(
        &self,
    ) -> Option<Result<OrganizationMembershipData, WebhookDataError>> {
        self.of_object("organization_membership")
    }

    /// The deleted object of `user.deleted`, `organization.deleted`, … (data with
    /// `"deleted": true`, whatever the event type).
    pub fn deleted(&self) -> Option<Result<DeletedObjectData, WebhookDataError>> {
        self.is_deleted().then(|| self.data_as())
    }

    /// Whether `data` is a deleted object (`"deleted": true`).
    fn is_deleted(&self) -> bool {
        self.data.get("deleted") == Some(&Value::Bool(true))
    }

    /// `data` as `T` when its `object` is `object` and it is not a deleted object.
    fn of_object<T: DeserializeOwned>(&self, object: &str) -> Option<Result<T, WebhookDataError>> {
        let matches = self.data.get("object").and_then(Value::as_str) == Some(object);
        (matches && !self.is_deleted()).then(|| self.data_as())
    }

    /// `event_attributes.http_request.client_ip`: the address of the request that caused the
    /// event, as Clerk saw it.
    pub fn client_ip(&self) -> Option<&str> {
        self.http_request_attribute("client_ip")
    }

    /// `event_attributes.http_request.user_agent`.
    pub fn user_agent(&self) -> Option<&str> {
        self.http_request_attribute("user_agent")
    }

    fn http_request_attribute(&self, name: &str) -> Option<&str> {
        self.event_attributes
            .get("http_request")?
            .get(name)?
            .as_str()
    }
}

impl fmt::Debug for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookEvent")
            .field("message_id", &self.message_id)
            .field("event_type", &self.event_type)
            .field("object", &self.object)
            .field("data", &"[redacted]")
            .field("event_attributes", &"[redacted]")
            .field("instance_id", &self.instance_id)
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

/// An event's `data` does not fit the type asked for.
///
/// `Display` and `Debug` name the type only: serde's own message can quote the data (the body),
/// so it is available on request through [`detail`](Self::detail).
pub struct WebhookDataError {
    target: &'static str,
    source: serde_json::Error,
}

impl WebhookDataError {
    /// The type the data was read as.
    pub fn target(&self) -> &'static str {
        self.target
    }

    /// serde's message (`missing field `id``, `invalid type: string "…", expected …`). It may
    /// quote event data: treat it as you treat the event.
    pub fn detail(&self) -> String {
        self.source.to_string()
    }
}

impl fmt::Display for WebhookDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the webhook event's data does not fit {}", self.target)
    }
}

impl fmt::Debug for WebhookDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookDataError")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl std::error::Error for WebhookDataError {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(payload: Value) -> WebhookEvent {
        WebhookEvent::from_payload("msg_1".to_owned(), payload).unwrap()
    }

    #[test]
    fn the_envelope_is_read() {
        let e = event(json!({
            "type": "user.created",
            "object": "event",
            "data": {"id": "user_1", "object": "user"},
            "event_attributes": {"http_request": {"client_ip": "192.0.2.1", "user_agent": "ua"}},
            "instance_id": "ins_1",
            "timestamp": 1_733_212_345_678_i64
        }));
        assert_eq!(e.message_id, "msg_1");
        assert_eq!(e.event_type, EventType::UserCreated);
        assert_eq!(e.object.as_deref(), Some("event"));
        assert_eq!(e.instance_id.as_deref(), Some("ins_1"));
        assert_eq!(e.timestamp, Some(1_733_212_345_678));
        assert_eq!(e.data_id(), Some("user_1"));
        assert_eq!(e.client_ip(), Some("192.0.2.1"));
        assert_eq!(e.user_agent(), Some("ua"));
        assert_eq!(e.user().unwrap().unwrap().id, "user_1");
        assert!(e.session().is_none());
        assert!(e.deleted().is_none());
    }

    #[test]
    fn a_minimal_event_has_nulls() {
        let e = event(json!({"type": "x.y"}));
        assert_eq!(e.event_type, EventType::Other("x.y".to_owned()));
        assert_eq!(e.data, Value::Null);
        assert_eq!(e.event_attributes, Value::Null);
        assert_eq!((e.object, e.instance_id, e.timestamp), (None, None, None));
    }

    #[test]
    fn not_an_event() {
        for payload in [
            json!([]),
            json!("user.created"),
            json!({}),
            json!({"type": 1}),
            json!({"type": null}),
        ] {
            assert_eq!(
                WebhookEvent::from_payload(String::new(), payload.clone()),
                Err(PayloadProblem::NoEventType),
                "{payload}"
            );
        }
    }

    #[test]
    fn a_deleted_user_is_deleted_not_a_user() {
        let e = event(json!({
            "type": "user.deleted",
            "data": {"id": "user_1", "object": "user", "deleted": true}
        }));
        assert!(e.user().is_none());
        let d = e.deleted().unwrap().unwrap();
        assert_eq!(
            (d.id.as_deref(), d.object.as_deref(), d.deleted),
            (Some("user_1"), Some("user"), true)
        );
    }

    #[test]
    fn data_errors_name_the_type_not_the_data() {
        let e = event(
            json!({"type": "user.created", "data": {"object": "user", "id": "secret-ish-value", "banned": "oops-value"}}),
        );
        let err = e.user().unwrap().unwrap_err();
        assert!(err.target().ends_with("UserData"));
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(text.contains("UserData"), "{text}");
            assert!(!text.contains("oops-value"), "{text}");
        }
        assert!(err.detail().contains("oops-value"));
        let debug = format!("{e:?}");
        assert!(
            !debug.contains("secret-ish-value") && debug.contains("[redacted]"),
            "{debug}"
        );
    }
}
