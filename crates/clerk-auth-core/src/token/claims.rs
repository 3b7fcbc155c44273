//! Session-token claims: the v1 and v2 organization claims, the scoped `fea`/`pla`
//! lists, and the v2 organization-permission bitmask.
//!
//! The helpers here mirror Clerk's `jwtPayloadParser.ts` and the claim parsing of
//! `authorization.ts`; [`SessionAuth`](super::auth::SessionAuth) is built on them.

use serde_json::Value;

use crate::js;

/// A claim that Clerk's parser would reject (it throws, which the decision reports as
/// `unexpected-error`), or a Backend API response without a required field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimsError {
    /// An item of a comma-separated `scope:name` claim (`fea`, `pla`) has no `:`.
    #[error("Invalid claim element (missing colon): {element}")]
    MissingColon {
        /// The claim (`fea` or `pla`).
        claim: &'static str,
        /// The offending item, trimmed.
        element: String,
    },
    /// A claim that must be a string when present is another JSON type.
    #[error("the {claim} claim is not a string")]
    NotAString {
        /// The claim's name (`fea`, `o.per`, `o.fpm`).
        claim: &'static str,
    },
    /// A required field is missing or has the wrong type.
    #[error("the {field} field is missing or not a {expected}")]
    MissingField {
        /// The field's name.
        field: &'static str,
        /// The JSON type expected.
        expected: &'static str,
    },
}

/// JavaScript truthiness of a JSON value (`null`, `false`, `0`, `""` are falsy).
pub(crate) fn is_truthy(value: Option<&Value>) -> bool {
    value.is_some_and(js::truthy)
}

/// A truthy claim as a string: `Ok(None)` when falsy, an error when truthy but not a string
/// (Clerk calls `.split` on it and throws).
pub(crate) fn truthy_str<'a>(
    value: Option<&'a Value>,
    claim: &'static str,
) -> Result<Option<&'a str>, ClaimsError> {
    if !is_truthy(value) {
        return Ok(None);
    }
    match value {
        Some(Value::String(s)) => Ok(Some(s)),
        _ => Err(ClaimsError::NotAString { claim }),
    }
}

/// The names of a comma-separated `scope:name` claim, split by scope (Clerk's `splitByScope`).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ScopedNames<'a> {
    /// Names whose scope is `o`, `ou` or `uo`, in claim order.
    pub(crate) org: Vec<&'a str>,
    /// Names whose scope is `u`, `ou` or `uo`, in claim order.
    pub(crate) user: Vec<&'a str>,
}

/// Splits `fea`/`pla`: items are trimmed; an item without `:` is an error; unknown
/// scopes are ignored; an empty claim gives empty lists.
pub(crate) fn split_by_scope<'a>(
    claim_value: &'a str,
    claim: &'static str,
) -> Result<ScopedNames<'a>, ClaimsError> {
    let mut out = ScopedNames::default();
    if claim_value.is_empty() {
        return Ok(out);
    }
    for part in claim_value.split(',') {
        let part = js::trim(part);
        let Some((scope, name)) = part.split_once(':') else {
            return Err(ClaimsError::MissingColon {
                claim,
                element: part.to_owned(),
            });
        };
        match scope {
            "o" => out.org.push(name),
            "u" => out.user.push(name),
            "ou" | "uo" => {
                out.org.push(name);
                out.user.push(name);
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Clerk's `prefixWithOrg`: replaces any run of leading `org:` with exactly one `org:`.
pub(crate) fn prefix_with_org(value: &str) -> String {
    let mut rest = value;
    while let Some(stripped) = rest.strip_prefix("org:") {
        rest = stripped;
    }
    let mut out = String::with_capacity(rest.len() + 4);
    out.push_str("org:");
    out.push_str(rest);
    out
}

/// Decodes the v2 organization permissions: for each organization feature *i*, the set
/// bits of `fpm[i]` (least significant first) select names from `per`, each giving
/// `org:<feature>:<permission>`.
///
/// `fpm` entries are arbitrary-precision decimal strings; an entry that is not all ASCII digits
/// (after trimming) yields no bits. Bits beyond the number of permission names are ignored
/// (Clerk's SDK would emit `org:<feature>:undefined` for them). The work is bounded by the
/// lengths of the inputs: only the low `per.len()` bits of each entry are computed.
pub(crate) fn decode_org_permissions(features: &[&str], per: &str, fpm: &str) -> Vec<String> {
    let permissions: Vec<&str> = per.split(',').map(js::trim).collect();
    let mut out = Vec::new();
    for (feature, entry) in features.iter().zip(fpm.split(',')) {
        let Some(bits) = decimal_low_bits(js::trim(entry), permissions.len()) else {
            continue;
        };
        for (perm, set) in permissions.iter().zip(bits) {
            if set {
                out.push(format!("org:{feature}:{perm}"));
            }
        }
    }
    out
}

/// The low `k` bits (least significant first) of a non-negative decimal integer of any length,
/// or `None` when `digits` is empty or not all ASCII digits.
///
/// Computes the value modulo `2^(32·⌈k/32⌉)` with 32-bit limbs, nine decimal digits at a time:
/// `O(len(digits) / 9 · k / 32)` work, no overflow.
pub(crate) fn decimal_low_bits(digits: &str, k: usize) -> Option<Vec<bool>> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let limb_count = k.div_ceil(32);
    let mut limbs = vec![0u32; limb_count];
    if limb_count > 0 {
        for chunk in digits.as_bytes().chunks(9) {
            let mut multiplier: u64 = 1;
            let mut value: u64 = 0;
            for &b in chunk {
                multiplier *= 10;
                value = value * 10 + u64::from(b - b'0');
            }
            let mut carry = value;
            for limb in &mut limbs {
                let t = u64::from(*limb) * multiplier + carry;
                *limb = t as u32;
                carry = t >> 32;
            }
        }
    }
    Some(
        (0..k)
            .map(|j| (limbs[j / 32] >> (j % 32)) & 1 == 1)
            .collect(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn prefix_with_org_normalises() {
        assert_eq!(prefix_with_org("admin"), "org:admin");
        assert_eq!(prefix_with_org("org:admin"), "org:admin");
        assert_eq!(prefix_with_org("org:org:admin"), "org:admin");
        assert_eq!(prefix_with_org(""), "org:");
        assert_eq!(prefix_with_org("ORG:admin"), "org:ORG:admin");
    }

    #[test]
    fn split_by_scope_rules() {
        let s = split_by_scope("o:a, u:b ,ou:c,uo:d,x:e", "fea").unwrap();
        assert_eq!(s.org, vec!["a", "c", "d"]);
        assert_eq!(s.user, vec!["b", "c", "d"]);
        assert_eq!(split_by_scope("", "fea").unwrap(), ScopedNames::default());
        assert!(matches!(
            split_by_scope("o:a,b", "fea"),
            Err(ClaimsError::MissingColon { element, .. }) if element == "b"
        ));
        // A trailing comma leaves an empty item, which has no colon.
        assert!(split_by_scope("o:a,", "fea").is_err());
        // Only the first colon splits.
        assert_eq!(split_by_scope("o:a:b", "fea").unwrap().org, vec!["a:b"]);
    }

    #[test]
    fn low_bits_small_values() {
        assert_eq!(decimal_low_bits("3", 2), Some(vec![true, true]));
        assert_eq!(decimal_low_bits("2", 3), Some(vec![false, true, false]));
        assert_eq!(decimal_low_bits("0", 1), Some(vec![false]));
        assert_eq!(decimal_low_bits("007", 3), Some(vec![true, true, true]));
        assert_eq!(decimal_low_bits("5", 0), Some(vec![]));
        assert_eq!(decimal_low_bits("", 3), None);
        assert_eq!(decimal_low_bits("-1", 3), None);
        assert_eq!(decimal_low_bits("12a", 3), None);
        assert_eq!(decimal_low_bits("1.5", 3), None);
    }

    #[test]
    fn low_bits_beyond_u64() {
        // 2^64 + 5 = 18446744073709551621: bits 0, 2 and 64 set.
        let bits = decimal_low_bits("18446744073709551621", 70).unwrap();
        let set: Vec<usize> = bits
            .iter()
            .enumerate()
            .filter(|(_, b)| **b)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(set, vec![0, 2, 64]);
        // 2^100 = 1267650600228229401496703205376
        let bits = decimal_low_bits("1267650600228229401496703205376", 101).unwrap();
        let set: Vec<usize> = bits
            .iter()
            .enumerate()
            .filter(|(_, b)| **b)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(set, vec![100]);
    }

    #[test]
    fn low_bits_huge_input_is_fast() {
        let digits = "9".repeat(10_000);
        let start = std::time::Instant::now();
        let bits = decimal_low_bits(&digits, 64).unwrap();
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
        // 10^10000 - 1 is odd.
        assert!(bits[0]);
    }

    #[test]
    fn spec_example() {
        let perms = decode_org_permissions(&["members", "billing"], "read,manage", "3,2");
        assert_eq!(
            perms,
            vec![
                "org:members:read",
                "org:members:manage",
                "org:billing:manage"
            ]
        );
    }

    #[test]
    fn truthiness() {
        assert!(!is_truthy(None));
        assert!(!is_truthy(Some(&Value::Null)));
        assert!(!is_truthy(Some(&serde_json::json!(0))));
        assert!(!is_truthy(Some(&serde_json::json!(""))));
        assert!(is_truthy(Some(&serde_json::json!({}))));
        assert!(is_truthy(Some(&serde_json::json!([]))));
        assert!(is_truthy(Some(&serde_json::json!(0.5))));
    }
}
