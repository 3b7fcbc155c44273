//! Typed `data` of the event families a user sync needs: users, sessions, organizations,
//! organization memberships and deleted objects, in Clerk's snake_case JSON names.
//!
//! Every field Clerk may omit or send as `null` is an `Option` (absent is `None`) or defaults
//! (empty list, empty metadata, `false`), so a payload with fewer fields still parses; every field
//! not named here is kept in `extra`, so nothing Clerk adds is lost, and serializing gives it
//! back.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// A JSON object (metadata, `extra`).
pub type JsonObject = Map<String, Value>;

/// `null` or absent as the type's default (empty list, empty object, `false`).
fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// A user (`user.created`, `user.updated`): Clerk's `UserJSON`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserData {
    /// `user_…`.
    pub id: String,
    /// `"user"`.
    pub object: Option<String>,
    /// The id of your own system's record, if you set one.
    pub external_id: Option<String>,
    /// The username.
    pub username: Option<String>,
    /// The first name.
    pub first_name: Option<String>,
    /// The last name.
    pub last_name: Option<String>,
    /// The profile image URL.
    pub image_url: Option<String>,
    /// Whether the user uploaded a profile image.
    #[serde(default, deserialize_with = "null_default")]
    pub has_image: bool,
    /// The id of the primary email address (one of [`email_addresses`](Self::email_addresses)).
    pub primary_email_address_id: Option<String>,
    /// The id of the primary phone number (one of [`phone_numbers`](Self::phone_numbers)).
    pub primary_phone_number_id: Option<String>,
    /// Every email address.
    #[serde(default, deserialize_with = "null_default")]
    pub email_addresses: Vec<EmailAddressData>,
    /// Every phone number.
    #[serde(default, deserialize_with = "null_default")]
    pub phone_numbers: Vec<PhoneNumberData>,
    /// Metadata readable from the frontend and the backend.
    #[serde(default, deserialize_with = "null_default")]
    pub public_metadata: JsonObject,
    /// Metadata readable from the backend only.
    #[serde(default, deserialize_with = "null_default")]
    pub private_metadata: JsonObject,
    /// Metadata the user may set from the frontend.
    #[serde(default, deserialize_with = "null_default")]
    pub unsafe_metadata: JsonObject,
    /// Whether the user is banned.
    #[serde(default, deserialize_with = "null_default")]
    pub banned: bool,
    /// Whether the user is locked out.
    #[serde(default, deserialize_with = "null_default")]
    pub locked: bool,
    /// Last sign-in, Unix milliseconds.
    pub last_sign_in_at: Option<i64>,
    /// Last activity, Unix milliseconds.
    pub last_active_at: Option<i64>,
    /// Creation, Unix milliseconds.
    pub created_at: Option<i64>,
    /// Last update, Unix milliseconds.
    pub updated_at: Option<i64>,
    /// Every other field, as sent (`web3_wallets`, `external_accounts`, `two_factor_enabled`, …).
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl UserData {
    /// The primary email address, if the user has one.
    pub fn primary_email_address(&self) -> Option<&str> {
        let id = self.primary_email_address_id.as_deref()?;
        self.email_addresses
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.email_address.as_str())
    }

    /// The primary phone number, if the user has one.
    pub fn primary_phone_number(&self) -> Option<&str> {
        let id = self.primary_phone_number_id.as_deref()?;
        self.phone_numbers
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.phone_number.as_str())
    }
}

/// An email address of a [`UserData`]: Clerk's `EmailAddressJSON`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EmailAddressData {
    /// `idn_…`.
    pub id: String,
    /// The address.
    pub email_address: String,
    /// The verification (`{"status":"verified","strategy":…}`), if any.
    pub verification: Option<Value>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// A phone number of a [`UserData`]: Clerk's `PhoneNumberJSON`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PhoneNumberData {
    /// `idn_…`.
    pub id: String,
    /// The number.
    pub phone_number: String,
    /// The verification, if any.
    pub verification: Option<Value>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// A session (`session.created`, `.ended`, `.removed`, `.revoked`): Clerk's `SessionJSON`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionData {
    /// `sess_…`.
    pub id: String,
    /// `"session"`.
    pub object: Option<String>,
    /// The user's id.
    pub user_id: Option<String>,
    /// The client's id.
    pub client_id: Option<String>,
    /// `active`, `ended`, `removed`, `revoked`, `pending`, …
    pub status: Option<String>,
    /// The active organization's id, if any.
    pub last_active_organization_id: Option<String>,
    /// The impersonator, if any.
    pub actor: Option<Value>,
    /// Last activity, Unix milliseconds.
    pub last_active_at: Option<i64>,
    /// Expiry, Unix milliseconds.
    pub expire_at: Option<i64>,
    /// Abandonment, Unix milliseconds.
    pub abandon_at: Option<i64>,
    /// Creation, Unix milliseconds.
    pub created_at: Option<i64>,
    /// Last update, Unix milliseconds.
    pub updated_at: Option<i64>,
    /// Every other field, as sent (`latest_activity`, …).
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// An organization (`organization.created`, `.updated`, and nested in a membership): Clerk's
/// `OrganizationJSON`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrganizationData {
    /// `org_…`.
    pub id: String,
    /// `"organization"`.
    pub object: Option<String>,
    /// The name.
    pub name: Option<String>,
    /// The slug.
    pub slug: Option<String>,
    /// The logo URL.
    pub image_url: Option<String>,
    /// Whether a logo was uploaded.
    #[serde(default, deserialize_with = "null_default")]
    pub has_image: bool,
    /// The creator's user id.
    pub created_by: Option<String>,
    /// The number of members, when sent.
    pub members_count: Option<u64>,
    /// The membership limit (0 = unlimited).
    pub max_allowed_memberships: Option<u64>,
    /// Whether admins may delete the organization.
    #[serde(default, deserialize_with = "null_default")]
    pub admin_delete_enabled: bool,
    /// Metadata readable from the frontend and the backend.
    #[serde(default, deserialize_with = "null_default")]
    pub public_metadata: JsonObject,
    /// Metadata readable from the backend only.
    #[serde(default, deserialize_with = "null_default")]
    pub private_metadata: JsonObject,
    /// Creation, Unix milliseconds.
    pub created_at: Option<i64>,
    /// Last update, Unix milliseconds.
    pub updated_at: Option<i64>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// A membership (`organizationMembership.created`, `.updated`, `.deleted`): Clerk's
/// `OrganizationMembershipJSON`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrganizationMembershipData {
    /// `orgmem_…`.
    pub id: String,
    /// `"organization_membership"`.
    pub object: Option<String>,
    /// The role key (`org:admin`, …).
    pub role: Option<String>,
    /// The role's permission keys.
    #[serde(default, deserialize_with = "null_default")]
    pub permissions: Vec<String>,
    /// The organization.
    pub organization: OrganizationData,
    /// The member.
    pub public_user_data: PublicUserData,
    /// Metadata readable from the frontend and the backend.
    #[serde(default, deserialize_with = "null_default")]
    pub public_metadata: JsonObject,
    /// Metadata readable from the backend only.
    #[serde(default, deserialize_with = "null_default")]
    pub private_metadata: JsonObject,
    /// Creation, Unix milliseconds.
    pub created_at: Option<i64>,
    /// Last update, Unix milliseconds.
    pub updated_at: Option<i64>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// The member of an [`OrganizationMembershipData`]: Clerk's
/// `OrganizationMembershipPublicUserDataJSON`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PublicUserData {
    /// The user's id.
    pub user_id: String,
    /// The identifier the user signs in with (an email address, a phone number, a username).
    pub identifier: Option<String>,
    /// The first name.
    pub first_name: Option<String>,
    /// The last name.
    pub last_name: Option<String>,
    /// The profile image URL.
    pub image_url: Option<String>,
    /// Whether the user uploaded a profile image.
    #[serde(default, deserialize_with = "null_default")]
    pub has_image: bool,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// A deleted object (`user.deleted`, `organization.deleted`, `organizationDomain.deleted`, …):
/// Clerk's `DeletedObjectJSON`, `{ "object", "id", "deleted": true }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeletedObjectData {
    /// The deleted object's id (Clerk may omit it).
    pub id: Option<String>,
    /// What was deleted (`user`, `organization`, …).
    pub object: Option<String>,
    /// The deleted object's slug, for objects that have one.
    pub slug: Option<String>,
    /// `true`.
    #[serde(default, deserialize_with = "null_default")]
    pub deleted: bool,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: JsonObject,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nulls_and_absences_default() {
        let user: UserData = serde_json::from_value(json!({
            "id": "user_1",
            "email_addresses": null,
            "public_metadata": null,
            "has_image": null,
            "first_name": null,
        }))
        .unwrap();
        assert_eq!(user.id, "user_1");
        assert!(user.email_addresses.is_empty());
        assert!(user.public_metadata.is_empty());
        assert!(!user.has_image);
        assert_eq!(user.first_name, None);
        assert_eq!(user.primary_email_address(), None);
        assert!(user.extra.is_empty());
    }

    #[test]
    fn unknown_fields_round_trip() {
        let sent = json!({
            "id": "user_1",
            "object": "user",
            "primary_email_address_id": "idn_2",
            "email_addresses": [
                {"id": "idn_1", "email_address": "a@example.com", "linked_to": []},
                {"id": "idn_2", "email_address": "b@example.com", "reserved": false}
            ],
            "two_factor_enabled": true,
            "future_field": {"nested": [1, 2]}
        });
        let user: UserData = serde_json::from_value(sent.clone()).unwrap();
        assert_eq!(user.primary_email_address(), Some("b@example.com"));
        assert_eq!(user.extra["future_field"], json!({"nested": [1, 2]}));
        assert_eq!(user.email_addresses[0].extra["linked_to"], json!([]));
        let back = serde_json::to_value(&user).unwrap();
        assert_eq!(back["future_field"], sent["future_field"]);
        assert_eq!(back["two_factor_enabled"], true);
    }

    #[test]
    fn a_membership_needs_its_organization_and_member() {
        let ok = json!({
            "id": "orgmem_1",
            "role": "org:admin",
            "organization": {"id": "org_1", "name": "Acme", "public_metadata": null},
            "public_user_data": {"user_id": "user_1", "identifier": "a@example.com"}
        });
        let m: OrganizationMembershipData = serde_json::from_value(ok).unwrap();
        assert_eq!(m.organization.name.as_deref(), Some("Acme"));
        assert_eq!(m.public_user_data.user_id, "user_1");
        assert!(
            serde_json::from_value::<OrganizationMembershipData>(json!({"id": "orgmem_1"}))
                .is_err()
        );
    }
}
