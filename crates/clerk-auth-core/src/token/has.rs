//! Authorization checks, Clerk's `has()`: the query ([`Has`]), the reverification
//! requirements ([`Reverification`], [`FactorLevel`]), and how a [`SessionAuth`] answers it
//! (organization role/permission, billing feature/plan, factor verification age).

use std::str::FromStr;

use serde_json::Value;

use super::claims::{prefix_with_org, split_by_scope};
use super::session::{SessionAuth, SessionAuthObject};

/// The parameters of Clerk's `has()`: each dimension that is set must pass, and at least
/// one must be set (`Has::default()` is never satisfied).
///
/// ```
/// use clerk_auth_core::token::{Has, Reverification};
/// let admin = Has::role("org:admin");
/// let billing_manager = Has::permission("org:billing:manage").and_reverification(Reverification::Strict);
/// # let _ = (admin, billing_manager);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Has {
    role: Option<String>,
    permission: Option<String>,
    feature: Option<String>,
    plan: Option<String>,
    reverification: Option<Reverification>,
}

impl Has {
    /// `{ role }`: the active organization role, with or without the `org:` prefix.
    pub fn role(role: impl Into<String>) -> Self {
        Self::default().and_role(role)
    }

    /// `{ permission }`: an organization permission (`org:<feature>:<permission>`; the `org:`
    /// prefix may be omitted).
    pub fn permission(permission: impl Into<String>) -> Self {
        Self::default().and_permission(permission)
    }

    /// `{ feature }`: a billing feature, `name` or `scope:name` (scope `org`/`o`/`organization`
    /// or `user`/`u`).
    pub fn feature(feature: impl Into<String>) -> Self {
        Self::default().and_feature(feature)
    }

    /// `{ plan }`: a billing plan, `name` or `scope:name`.
    pub fn plan(plan: impl Into<String>) -> Self {
        Self::default().and_plan(plan)
    }

    /// `{ reverification }`: the session's factors were verified recently enough.
    pub fn reverification(reverification: Reverification) -> Self {
        Self::default().and_reverification(reverification)
    }

    /// Also requires the role.
    pub fn and_role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// Also requires the permission.
    pub fn and_permission(mut self, permission: impl Into<String>) -> Self {
        self.permission = Some(permission.into());
        self
    }

    /// Also requires the billing feature.
    pub fn and_feature(mut self, feature: impl Into<String>) -> Self {
        self.feature = Some(feature.into());
        self
    }

    /// Also requires the billing plan.
    pub fn and_plan(mut self, plan: impl Into<String>) -> Self {
        self.plan = Some(plan.into());
        self
    }

    /// Also requires reverification.
    pub fn and_reverification(mut self, reverification: Reverification) -> Self {
        self.reverification = Some(reverification);
        self
    }

    /// The role asked, if any.
    pub fn get_role(&self) -> Option<&str> {
        self.role.as_deref()
    }

    /// The permission asked, if any.
    pub fn get_permission(&self) -> Option<&str> {
        self.permission.as_deref()
    }

    /// The feature asked, if any.
    pub fn get_feature(&self) -> Option<&str> {
        self.feature.as_deref()
    }

    /// The plan asked, if any.
    pub fn get_plan(&self) -> Option<&str> {
        self.plan.as_deref()
    }

    /// The reverification asked, if any.
    pub fn get_reverification(&self) -> Option<&Reverification> {
        self.reverification.as_ref()
    }

    /// This check without its reverification dimension; `None` when nothing else is asked.
    pub(crate) fn without_reverification(&self) -> Option<Has> {
        let rest = Has {
            reverification: None,
            ..self.clone()
        };
        (rest != Has::default()).then_some(rest)
    }
}

/// Which factors a reverification requires (Clerk's `SessionVerificationLevel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FactorLevel {
    /// `first_factor`
    FirstFactor,
    /// `second_factor` (the first factor when no second factor is enabled)
    SecondFactor,
    /// `multi_factor` (both factors; the first alone when no second factor is enabled)
    MultiFactor,
}

impl FactorLevel {
    /// Clerk's string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::FirstFactor => "first_factor",
            Self::SecondFactor => "second_factor",
            Self::MultiFactor => "multi_factor",
        }
    }
}

/// A reverification requirement (Clerk's `ReverificationConfig`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reverification {
    /// `strict_mfa`: both factors within 10 minutes.
    StrictMfa,
    /// `strict`: the second factor within 10 minutes.
    Strict,
    /// `moderate`: the second factor within 60 minutes.
    Moderate,
    /// `lax`: the second factor within 1 440 minutes (a day).
    Lax,
    /// `{ level, afterMinutes }`: `after_minutes` must be a number greater than 0, else the check
    /// fails (as Clerk's validation does).
    Custom {
        /// The factors required.
        level: FactorLevel,
        /// Verified less than this many minutes ago.
        after_minutes: f64,
    },
}

impl Reverification {
    /// `{ level, afterMinutes }`.
    pub fn custom(level: FactorLevel, after_minutes: impl Into<f64>) -> Self {
        Self::Custom {
            level,
            after_minutes: after_minutes.into(),
        }
    }

    /// The level and the age limit in minutes, or `None` when the configuration is invalid.
    pub fn level_and_minutes(&self) -> Option<(FactorLevel, f64)> {
        match *self {
            Self::StrictMfa => Some((FactorLevel::MultiFactor, 10.0)),
            Self::Strict => Some((FactorLevel::SecondFactor, 10.0)),
            Self::Moderate => Some((FactorLevel::SecondFactor, 60.0)),
            Self::Lax => Some((FactorLevel::SecondFactor, 1_440.0)),
            // NaN compares false, so it is invalid too; +∞ is a number > 0 and valid, as in JS.
            Self::Custom {
                level,
                after_minutes,
            } => (after_minutes > 0.0).then_some((level, after_minutes)),
        }
    }
}

/// Clerk's form of the configuration (the `metadata.reverification` of its reverification error):
/// a preset's name (`"strict"`), or `{"level":"second_factor","afterMinutes":10}`.
impl serde::Serialize for Reverification {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let preset = match self {
            Self::StrictMfa => "strict_mfa",
            Self::Strict => "strict",
            Self::Moderate => "moderate",
            Self::Lax => "lax",
            Self::Custom {
                level,
                after_minutes,
            } => {
                let mut s = serializer.serialize_struct("Reverification", 2)?;
                s.serialize_field("level", level.as_str())?;
                // As JavaScript writes numbers: `10`, not `10.0`; NaN and infinities as `null`.
                let whole = after_minutes.is_finite()
                    && after_minutes.fract() == 0.0
                    && after_minutes.abs() < 9_007_199_254_740_992.0;
                if whole {
                    s.serialize_field("afterMinutes", &(*after_minutes as i64))?;
                } else {
                    s.serialize_field("afterMinutes", after_minutes)?;
                }
                return s.end();
            }
        };
        serializer.serialize_str(preset)
    }
}

/// A string that is not one of Clerk's reverification presets.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown reverification preset {0:?} (expected strict_mfa, strict, moderate or lax)")]
pub struct UnknownReverification(pub String);

impl FromStr for Reverification {
    type Err = UnknownReverification;

    /// Parses a preset name: `strict_mfa`, `strict`, `moderate`, `lax`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "strict_mfa" => Ok(Self::StrictMfa),
            "strict" => Ok(Self::Strict),
            "moderate" => Ok(Self::Moderate),
            "lax" => Ok(Self::Lax),
            _ => Err(UnknownReverification(s.to_owned())),
        }
    }
}

impl SessionAuthObject {
    /// Clerk's `has()`: always false when signed out.
    pub fn has(&self, check: &Has) -> bool {
        self.session().is_some_and(|s| s.has(check))
    }
}

impl SessionAuth {
    /// Clerk's `has()`: whether the session satisfies every dimension of `check` that is
    /// asked (organization role/permission, billing feature/plan, reverification), with at least
    /// one dimension asked. Always false without a user id.
    pub fn has(&self, check: &Has) -> bool {
        if self.user_id.as_deref().is_none_or(str::is_empty) {
            return false;
        }
        let results = [
            self.check_org(check),
            self.check_billing(check),
            self.check_reverification(check),
        ];
        results.contains(&Check::Pass) && !results.contains(&Check::Fail)
    }

    fn check_org(&self, check: &Has) -> Check {
        if check.role.is_none() && check.permission.is_none() {
            return Check::Skip;
        }
        if self.org_id.as_deref().is_none_or(str::is_empty) {
            return Check::Fail;
        }
        if let Some(role) = &check.role {
            let Some(org_role) = self.org_role.as_deref().filter(|r| !r.is_empty()) else {
                return Check::Fail;
            };
            if prefix_with_org(org_role) != prefix_with_org(role) {
                return Check::Fail;
            }
        }
        if let Some(permission) = &check.permission {
            let Some(perms) = &self.org_permissions else {
                return Check::Fail;
            };
            let wanted = prefix_with_org(permission);
            if !perms.contains(&wanted) {
                return Check::Fail;
            }
        }
        Check::Pass
    }

    fn check_billing(&self, check: &Has) -> Check {
        if check.feature.is_none() && check.plan.is_none() {
            return Check::Skip;
        }
        for (query, claim) in [(&check.feature, "fea"), (&check.plan, "pla")] {
            let Some(query) = query else { continue };
            let Some(value) = self
                .jwt()
                .claim(claim)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            else {
                return Check::Fail;
            };
            if !has_feature_or_plan(value, claim, query) {
                return Check::Fail;
            }
        }
        Check::Pass
    }

    fn check_reverification(&self, check: &Has) -> Check {
        let Some(reverification) = &check.reverification else {
            return Check::Skip;
        };
        let Some((f1, f2)) = self.factor_verification_ages() else {
            return Check::Fail;
        };
        let Some((level, after)) = reverification.level_and_minutes() else {
            return Check::Fail;
        };
        if f1 == -1.0 && f2 == -1.0 {
            return Check::Fail;
        }
        let fresh1 = f1 != -1.0 && after > f1;
        let fresh2 = f2 != -1.0 && after > f2;
        let pass = match level {
            FactorLevel::FirstFactor => fresh1,
            FactorLevel::SecondFactor => {
                if f2 == -1.0 {
                    fresh1
                } else {
                    fresh2
                }
            }
            FactorLevel::MultiFactor => {
                if f2 == -1.0 {
                    fresh1
                } else if f1 == -1.0 {
                    false
                } else {
                    fresh1 && fresh2
                }
            }
        };
        if pass {
            Check::Pass
        } else {
            Check::Fail
        }
    }
}

/// Clerk's `checkForFeatureOrPlan`: `query` is `name` (either list) or `scope:name` with scope
/// `o`/`org`/`organization` or `u`/`user`; any other scope, or a malformed claim, fails.
fn has_feature_or_plan(claim_value: &str, claim: &'static str, query: &str) -> bool {
    let Ok(scoped) = split_by_scope(claim_value, claim) else {
        return false;
    };
    let mut parts = query.split(':');
    let raw_scope = parts.next().unwrap_or_default();
    let raw_id = parts.next();
    let id = raw_id.filter(|s| !s.is_empty()).unwrap_or(raw_scope);
    match raw_id {
        None => scoped.org.contains(&id) || scoped.user.contains(&id),
        Some(_) => match raw_scope {
            "o" | "org" | "organization" => scoped.org.contains(&id),
            "u" | "user" => scoped.user.contains(&id),
            _ => false,
        },
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Pass,
    Fail,
    Skip,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn has_feature_query_forms() {
        assert!(has_feature_or_plan("o:a,u:b", "fea", "a"));
        assert!(has_feature_or_plan("o:a,u:b", "fea", "org:a"));
        assert!(has_feature_or_plan("o:a,u:b", "fea", "organization:a"));
        assert!(has_feature_or_plan("o:a,u:b", "fea", "o:a"));
        assert!(!has_feature_or_plan("o:a,u:b", "fea", "user:a"));
        assert!(has_feature_or_plan("o:a,u:b", "fea", "u:b"));
        assert!(!has_feature_or_plan("o:a,u:b", "fea", "team:a"));
        assert!(!has_feature_or_plan("o:a,b", "fea", "a"));
    }

    #[test]
    fn reverification_serializes_as_clerk_writes_it() {
        let json = |r: Reverification| serde_json::to_string(&r).unwrap();
        assert_eq!(json(Reverification::StrictMfa), r#""strict_mfa""#);
        assert_eq!(json(Reverification::Strict), r#""strict""#);
        assert_eq!(json(Reverification::Moderate), r#""moderate""#);
        assert_eq!(json(Reverification::Lax), r#""lax""#);
        assert_eq!(
            json(Reverification::custom(FactorLevel::MultiFactor, 10)),
            r#"{"level":"multi_factor","afterMinutes":10}"#
        );
        assert_eq!(
            json(Reverification::custom(FactorLevel::FirstFactor, 2.5)),
            r#"{"level":"first_factor","afterMinutes":2.5}"#
        );
        assert_eq!(
            json(Reverification::custom(FactorLevel::FirstFactor, f64::NAN)),
            r#"{"level":"first_factor","afterMinutes":null}"#
        );
    }

    #[test]
    fn without_reverification_keeps_the_other_dimensions() {
        let only = Has::reverification(Reverification::Strict);
        assert_eq!(only.without_reverification(), None);
        let both = Has::role("admin").and_reverification(Reverification::Lax);
        assert_eq!(both.without_reverification(), Some(Has::role("admin")));
    }
}
