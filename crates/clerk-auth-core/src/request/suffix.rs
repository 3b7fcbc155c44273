//! Suffixed vs unsuffixed cookie names.

use super::*;

/// The inputs of the suffixed/unsuffixed choice that come from the configuration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SuffixInputs<'a> {
    /// The cookie suffix.
    pub(crate) suffix: &'a str,
    /// The *original* Frontend API (the decoded host, or `clerk.<domain>` for a production
    /// satellite; never the proxy).
    pub(crate) original_frontend_api: &'a str,
    /// The instance type.
    pub(crate) instance_type: InstanceType,
}

/// Whether the suffixed cookie names are read (the unit tests' view of [`cookie_name_rule`]).
#[cfg(test)]
pub(crate) fn uses_suffixed_cookies(
    cookies: &Cookies<'_>,
    inputs: SuffixInputs<'_>,
    now: &dyn Fn() -> SystemTime,
    decode: &dyn Fn(&str) -> Option<Arc<Jwt>>,
) -> bool {
    cookie_name_rule(cookies, inputs, now, decode).suffixed()
}

/// Which rule of Clerk's `usesSuffixedCookies` chose the cookie names (the explanation names
/// it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SuffixRule {
    /// No publishable key (or headers only): no cookie is read.
    NotRead,
    /// Rule 1: the unsuffixed `__session` has no issuer → unsuffixed.
    UnsuffixedWithoutIssuer,
    /// Rule 2: the unsuffixed `__session` was issued by another instance → suffixed.
    UnsuffixedFromOtherInstance,
    /// Rule 3: neither a suffixed `__client_uat` nor a suffixed `__session` → unsuffixed.
    NoSuffixedCookies,
    /// Rule 4: the unsuffixed `__session` is newer than the suffixed one → unsuffixed.
    UnsuffixedNewer,
    /// Rule 5: the suffixed `__client_uat` is `0`, the unsuffixed is not → unsuffixed.
    SuffixedSignedOut,
    /// Rule 6: development, the suffixed `__session` expired and the unsuffixed `__client_uat` is `0` → unsuffixed.
    SuffixedExpired,
    /// Rule 7: a suffixed `__session` without a suffixed `__client_uat` → unsuffixed.
    SuffixedWithoutUat,
    /// No rule applied: suffixed.
    Default,
}

impl SuffixRule {
    /// Whether the suffixed names are read.
    pub(crate) fn suffixed(self) -> bool {
        matches!(self, Self::UnsuffixedFromOtherInstance | Self::Default)
    }

    /// The rule in words, for the explanation.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::NotRead => "cookies not read (no publishable key, or only header tokens accepted)",
            Self::UnsuffixedWithoutIssuer => "unsuffixed names: rule 1, the unsuffixed __session has no issuer",
            Self::UnsuffixedFromOtherInstance => "suffixed names: rule 2, the unsuffixed __session was issued by another instance",
            Self::NoSuffixedCookies => "unsuffixed names: rule 3, no suffixed __client_uat or __session",
            Self::UnsuffixedNewer => "unsuffixed names: rule 4, the unsuffixed __session is newer than the suffixed one",
            Self::SuffixedSignedOut => "unsuffixed names: rule 5, the suffixed __client_uat is 0 and the unsuffixed is not",
            Self::SuffixedExpired => "unsuffixed names: rule 6, the suffixed __session expired and the unsuffixed __client_uat is 0 (development)",
            Self::SuffixedWithoutUat => "unsuffixed names: rule 7, a suffixed __session without a suffixed __client_uat",
            Self::Default => "suffixed names: no rule of §1.5 chose the unsuffixed ones",
        }
    }
}

/// Clerk's `usesSuffixedCookies`: which cookie names are read, and by
/// which rule.
///
/// Deviations, for values Clerk's own code would crash on or compare loosely: a truthy non-string
/// `iss` in the unsuffixed session counts as "another instance's token" (suffixed); `iat`/`exp`
/// values are converted with JS `Number()` semantics (so two string `iat`s are compared as numbers,
/// not as strings).
pub(crate) fn cookie_name_rule(
    cookies: &Cookies<'_>,
    inputs: SuffixInputs<'_>,
    now: &dyn Fn() -> SystemTime,
    decode: &dyn Fn(&str) -> Option<Arc<Jwt>>,
) -> SuffixRule {
    let decode_opt = |token: &str| {
        if token.is_empty() {
            None
        } else {
            decode(token)
        }
    };
    let s_uat = cookies.get_suffixed(cookie_names::CLIENT_UAT, inputs.suffix);
    let u_uat = cookies.get(cookie_names::CLIENT_UAT);
    let s_sess = cookies
        .get_suffixed(cookie_names::SESSION, inputs.suffix)
        .unwrap_or("");
    let u_sess = cookies.get(cookie_names::SESSION).unwrap_or("");

    let u_jwt = decode_opt(u_sess);
    if !u_sess.is_empty() {
        // Rule 1: the unsuffixed session has no (truthy) issuer → unsuffixed.
        let Some(iss) = u_jwt
            .as_ref()
            .and_then(|j| j.claim("iss"))
            .filter(|v| js::truthy(v))
        else {
            return SuffixRule::UnsuffixedWithoutIssuer;
        };
        // Rule 2: it belongs to another instance → suffixed.
        let belongs = iss
            .as_str()
            .is_some_and(|s| strip_http_schemes(s) == inputs.original_frontend_api);
        if !belongs {
            return SuffixRule::UnsuffixedFromOtherInstance;
        }
    }
    // Rule 3.
    if s_uat.is_none() && s_sess.is_empty() {
        return SuffixRule::NoSuffixedCookies;
    }
    let s_jwt = decode_opt(s_sess);
    let u_iat = claim_number_or_zero(u_jwt.as_ref(), "iat");
    let s_iat = claim_number_or_zero(s_jwt.as_ref(), "iat");
    let s_uat_zero = s_uat == Some("0");
    let u_uat_zero = u_uat == Some("0");
    // Rule 4.
    if !s_uat_zero && !u_uat_zero && u_iat > s_iat {
        return SuffixRule::UnsuffixedNewer;
    }
    // Rule 5.
    if s_uat_zero && !u_uat_zero {
        return SuffixRule::SuffixedSignedOut;
    }
    // Rule 6.
    if !inputs.instance_type.is_production() && !s_uat_zero && u_uat_zero {
        let now_s = now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as f64)
            .unwrap_or(0.0);
        let expired = s_jwt
            .as_ref()
            .is_some_and(|j| js::to_number(j.claim("exp")) <= now_s);
        if expired {
            return SuffixRule::SuffixedExpired;
        }
    }
    // Rule 7.
    if s_uat.is_none() && !s_sess.is_empty() {
        return SuffixRule::SuffixedWithoutUat;
    }
    SuffixRule::Default
}

/// `payload.<name> || 0`, then as a number.
pub(super) fn claim_number_or_zero(jwt: Option<&Arc<Jwt>>, name: &str) -> f64 {
    match jwt.and_then(|j| j.claim(name)) {
        Some(v) if js::truthy(v) => js::to_number(Some(v)),
        _ => 0.0,
    }
}

/// Removes every `http://` and `https://` (ASCII case-insensitive), like
/// `s.replace(/https?:\/\//gi, '')`.
pub(super) fn strip_http_schemes(s: &str) -> Cow<'_, str> {
    let lower_has = |needle: &str| {
        s.as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
    };
    if !lower_has("http://") && !lower_has("https://") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while !rest.is_empty() {
        let b = rest.as_bytes();
        if b.len() >= 8 && b[..8].eq_ignore_ascii_case(b"https://") {
            rest = &rest[8..];
        } else if b.len() >= 7 && b[..7].eq_ignore_ascii_case(b"http://") {
            rest = &rest[7..];
        } else {
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;
    use std::time::Duration;

    use super::super::test_support::*;
    use super::*;

    fn suffixed(text: &str, instance_type: InstanceType, now: u64) -> bool {
        uses_suffixed_cookies(
            &cookies(text),
            SuffixInputs {
                suffix: SFX,
                original_frontend_api: FAPI,
                instance_type,
            },
            &|| UNIX_EPOCH + Duration::from_secs(now),
            &|token| Jwt::decode(token).ok().map(std::sync::Arc::new),
        )
    }

    const DEV: InstanceType = InstanceType::Development;
    const PROD: InstanceType = InstanceType::Production;

    #[test]
    fn suffix_rule_1_unsuffixed_session_without_issuer() {
        let no_iss = jwt(json!({"iat": 10}));
        let s = jwt(json!({"iss": format!("https://{FAPI}"), "iat": 5}));
        let text = format!("__session={no_iss}; __session_{SFX}={s}; __client_uat_{SFX}=5");
        assert!(!suffixed(&text, PROD, 100));
        // Undecodable unsuffixed session also → unsuffixed.
        let text = format!("__session=garbage; __session_{SFX}={s}; __client_uat_{SFX}=5");
        assert!(!suffixed(&text, PROD, 100));
        // A falsy issuer (empty string, 0) counts as none.
        let empty_iss = jwt(json!({"iss": ""}));
        let text = format!("__session={empty_iss}; __client_uat_{SFX}=5");
        assert!(!suffixed(&text, PROD, 100));
    }

    #[test]
    fn suffix_rule_2_unsuffixed_session_of_another_instance() {
        let other = jwt(json!({"iss": "https://clerk.other.com"}));
        assert!(suffixed(&format!("__session={other}"), PROD, 100));
        // Scheme removal is case-insensitive and global.
        let mine = jwt(json!({"iss": format!("HTTPS://{FAPI}")}));
        assert!(!suffixed(&format!("__session={mine}"), PROD, 100));
        // A non-string truthy issuer is treated as another instance's.
        let num = jwt(json!({"iss": 5}));
        assert!(suffixed(&format!("__session={num}"), PROD, 100));
    }

    #[test]
    fn suffix_rule_3_no_suffixed_cookies() {
        let mine = jwt(json!({"iss": format!("https://{FAPI}")}));
        assert!(!suffixed(
            &format!("__session={mine}; __client_uat=5"),
            PROD,
            100
        ));
        assert!(!suffixed("", PROD, 100));
        assert!(!suffixed(&format!("__client_uat_{SFX}="), PROD, 100));
    }

    #[test]
    fn suffix_rule_4_unsuffixed_newer() {
        let iss = format!("https://{FAPI}");
        let u = jwt(json!({"iss": iss, "iat": 20}));
        let s = jwt(json!({"iss": iss, "iat": 10}));
        let text =
            format!("__session={u}; __client_uat=20; __session_{SFX}={s}; __client_uat_{SFX}=10");
        assert!(!suffixed(&text, PROD, 15));
        // Absent unsuffixed uat counts as not "0".
        let text = format!("__session={u}; __session_{SFX}={s}; __client_uat_{SFX}=10");
        assert!(!suffixed(&text, PROD, 15));
        // Suffixed newer → suffixed.
        let text =
            format!("__session={s}; __client_uat=10; __session_{SFX}={u}; __client_uat_{SFX}=20");
        assert!(suffixed(&text, PROD, 15));
    }

    #[test]
    fn suffix_rule_5_suffixed_signed_out_unsuffixed_signed_in() {
        let text = format!("__client_uat_{SFX}=0; __client_uat=5");
        assert!(!suffixed(&text, PROD, 100));
        let text = format!("__client_uat_{SFX}=0");
        assert!(
            !suffixed(&text, PROD, 100),
            "absent unsuffixed uat is not \"0\""
        );
        let text = format!("__client_uat_{SFX}=0; __client_uat=0");
        assert!(suffixed(&text, PROD, 100));
    }

    #[test]
    fn suffix_rule_6_dev_only_expired_suffixed_session() {
        let s = jwt(json!({"iss": format!("https://{FAPI}"), "exp": 100}));
        let text = format!("__session_{SFX}={s}; __client_uat_{SFX}=50; __client_uat=0");
        assert!(!suffixed(&text, DEV, 100), "exp <= now is expired");
        assert!(suffixed(&text, DEV, 99));
        assert!(suffixed(&text, PROD, 100), "production skips the rule");
        // Undecodable suffixed session is not "expired".
        let text = format!("__session_{SFX}=garbage; __client_uat_{SFX}=50; __client_uat=0");
        assert!(suffixed(&text, DEV, 100));
    }

    #[test]
    fn suffix_rule_7_suffixed_session_without_suffixed_uat() {
        let s = jwt(json!({"iss": format!("https://{FAPI}")}));
        assert!(!suffixed(&format!("__session_{SFX}={s}"), PROD, 100));
        assert!(!suffixed(
            &format!("__session_{SFX}={s}; __client_uat=0"),
            PROD,
            100
        ));
    }

    #[test]
    fn suffix_rule_8_otherwise_suffixed() {
        let s = jwt(json!({"iss": format!("https://{FAPI}"), "iat": 5}));
        assert!(suffixed(
            &format!("__session_{SFX}={s}; __client_uat_{SFX}=5"),
            PROD,
            100
        ));
        assert!(suffixed(&format!("__client_uat_{SFX}=5"), PROD, 100));
    }
}
