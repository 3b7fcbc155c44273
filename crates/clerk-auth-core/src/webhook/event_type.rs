//! [`EventType`]: Clerk's webhook event types, one table, with `Other` for the rest.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares [`EventType`] and its wire strings from one list.
macro_rules! event_types {
    ($($variant:ident => $name:literal,)*) => {
        /// The `type` of a Clerk webhook event. Known types have a variant; any other (a type
        /// Clerk added after this release) is [`Other`](Self::Other) and verifies and parses all
        /// the same. Serialized as its wire string ([`as_str`](Self::as_str)).
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum EventType {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
            /// A type without a variant here, as sent.
            Other(String),
        }

        impl EventType {
            /// Every known type, in Clerk's order.
            pub const KNOWN: &'static [EventType] = &[$(Self::$variant,)*];

            /// The wire string (`user.created`, …).
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $name,)*
                    Self::Other(name) => name,
                }
            }

            /// The type named `name`: a known variant, else [`Other`](Self::Other).
            pub fn parse(name: &str) -> Self {
                match name {
                    $($name => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }
        }
    };
}

event_types! {
    UserCreated => "user.created",
    UserUpdated => "user.updated",
    UserDeleted => "user.deleted",
    EmailCreated => "email.created",
    SmsCreated => "sms.created",
    SessionCreated => "session.created",
    SessionEnded => "session.ended",
    SessionRemoved => "session.removed",
    SessionRevoked => "session.revoked",
    OrganizationCreated => "organization.created",
    OrganizationUpdated => "organization.updated",
    OrganizationDeleted => "organization.deleted",
    OrganizationDomainCreated => "organizationDomain.created",
    OrganizationDomainUpdated => "organizationDomain.updated",
    OrganizationDomainDeleted => "organizationDomain.deleted",
    OrganizationMembershipCreated => "organizationMembership.created",
    OrganizationMembershipUpdated => "organizationMembership.updated",
    OrganizationMembershipDeleted => "organizationMembership.deleted",
    OrganizationInvitationCreated => "organizationInvitation.created",
    OrganizationInvitationRevoked => "organizationInvitation.revoked",
    OrganizationInvitationAccepted => "organizationInvitation.accepted",
    RoleCreated => "role.created",
    RoleUpdated => "role.updated",
    RoleDeleted => "role.deleted",
    PermissionCreated => "permission.created",
    PermissionUpdated => "permission.updated",
    PermissionDeleted => "permission.deleted",
    WaitlistEntryCreated => "waitlistEntry.created",
    WaitlistEntryUpdated => "waitlistEntry.updated",
    PaymentAttemptCreated => "paymentAttempt.created",
    PaymentAttemptUpdated => "paymentAttempt.updated",
    SubscriptionCreated => "subscription.created",
    SubscriptionUpdated => "subscription.updated",
    SubscriptionActive => "subscription.active",
    SubscriptionPastDue => "subscription.past_due",
    SubscriptionItemCreated => "subscriptionItem.created",
    SubscriptionItemUpdated => "subscriptionItem.updated",
    SubscriptionItemActive => "subscriptionItem.active",
    SubscriptionItemCanceled => "subscriptionItem.canceled",
    SubscriptionItemUpcoming => "subscriptionItem.upcoming",
    SubscriptionItemEnded => "subscriptionItem.ended",
    SubscriptionItemAbandoned => "subscriptionItem.abandoned",
    SubscriptionItemIncomplete => "subscriptionItem.incomplete",
    SubscriptionItemPastDue => "subscriptionItem.past_due",
}

impl EventType {
    /// Whether this type has a variant of its own (not [`Other`](Self::Other)).
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Other(_))
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::parse(s))
    }
}

impl From<&str> for EventType {
    fn from(s: &str) -> Self {
        Self::parse(s)
    }
}

impl PartialEq<str> for EventType {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for EventType {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(Self::parse(&name))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_known_type_round_trips_and_is_distinct() {
        let mut seen = std::collections::HashSet::new();
        for t in EventType::KNOWN {
            assert!(t.is_known());
            assert!(seen.insert(t.as_str()), "{t} twice");
            assert_eq!(&EventType::parse(t.as_str()), t);
            let json = serde_json::to_string(t).unwrap();
            assert_eq!(json, format!("\"{t}\""));
            assert_eq!(&serde_json::from_str::<EventType>(&json).unwrap(), t);
        }
        assert_eq!(EventType::KNOWN.len(), 44);
    }

    #[test]
    fn unknown_types_are_kept_as_sent() {
        let t = EventType::parse("session.pending");
        assert_eq!(t, EventType::Other("session.pending".to_owned()));
        assert!(!t.is_known());
        assert_eq!(t.as_str(), "session.pending");
        assert_eq!(t, "session.pending");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"session.pending\"");
        // Types are case-sensitive, as Clerk sends them.
        assert!(!EventType::parse("User.Created").is_known());
        assert_eq!(
            "user.created".parse::<EventType>(),
            Ok(EventType::UserCreated)
        );
        let escaped: EventType = serde_json::from_str(r#""user\u002ecreated""#).unwrap();
        assert_eq!(escaped, EventType::UserCreated);
    }
}
