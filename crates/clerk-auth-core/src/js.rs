//! JavaScript semantics the decision must reproduce exactly (Clerk's SDK is JavaScript): truthiness,
//! `Number(..)`, `parseInt`, `String.prototype.trim`, template-literal and `JSON.stringify`
//! renderings, `Date.prototype.toUTCString`. One place, so that two callers can never disagree on
//! what JavaScript does.

use serde_json::Value;

/// ECMAScript WhiteSpace and LineTerminator code points (what `String.prototype.trim` removes).
/// Not Rust's `char::is_whitespace`: that also counts U+0085, which JavaScript does not trim.
pub(crate) fn is_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// `String.prototype.trim`.
pub(crate) fn trim(s: &str) -> &str {
    s.trim_matches(is_whitespace)
}

/// Truthiness of a JSON value (`null`, `false`, `0`, `""` are falsy).
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// `Number(v)` for a JSON value (`undefined` when absent → NaN).
pub(crate) fn to_number(v: Option<&Value>) -> f64 {
    match v {
        None => f64::NAN,
        Some(Value::Null) => 0.0,
        Some(Value::Bool(b)) => f64::from(u8::from(*b)),
        Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
        Some(Value::String(s)) => string_to_number(s),
        Some(Value::Array(items)) => match items.as_slice() {
            [] => 0.0,
            [Value::Null] => 0.0,
            [Value::String(s)] => string_to_number(s),
            [Value::Number(n)] => n.as_f64().unwrap_or(f64::NAN),
            [Value::Array(_)] => to_number(items.first()),
            _ => f64::NAN,
        },
        Some(Value::Object(_)) => f64::NAN,
    }
}

/// `Number.parseInt(s) || 0`, saturated to `i64`: leading whitespace, an optional sign, an optional
/// `0x` prefix, then the longest run of digits (`"12abc"` → 12, `"abc"` → 0, `"0x1f"` → 31).
pub(crate) fn parse_int_or_zero(s: &str) -> i64 {
    parse_int(s, None).unwrap_or(0)
}

/// `Number.parseInt(s, radix)` for radix 10 or 16, saturated to `i64`; `None` where JavaScript
/// gives `NaN` (no digit). Leading whitespace is skipped, then an optional sign; without a radix
/// (`None`) a `0x`/`0X` prefix selects 16, otherwise the radix is 10 (so `parse_int("0x1f",
/// Some(10))` is 0: the digits stop at `x`); then the longest run of digits, the rest ignored
/// (`"1733212345.678"` → 1733212345).
pub(crate) fn parse_int(s: &str, radix: Option<u32>) -> Option<i64> {
    let s = s.trim_start_matches(is_whitespace);
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..).unwrap_or_default()),
        Some(b'+') => (false, s.get(1..).unwrap_or_default()),
        _ => (false, s),
    };
    let (radix, digits) = match (radix, s.get(..2)) {
        (None | Some(16), Some("0x" | "0X")) => (16, s.get(2..).unwrap_or_default()),
        (Some(radix), _) => (radix, s),
        (None, _) => (10, s),
    };
    let mut value: i64 = 0;
    let mut any = false;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else {
            break;
        };
        any = true;
        value = value
            .saturating_mul(i64::from(radix))
            .saturating_add(i64::from(d));
    }
    match (any, negative) {
        (false, _) => None,
        (true, true) => Some(-value),
        (true, false) => Some(value),
    }
}

/// `Number(s)` for a string (NaN when it does not parse).
pub(crate) fn string_to_number(s: &str) -> f64 {
    let t = trim(s);
    if t.is_empty() {
        return 0.0;
    }
    for (prefix, radix) in [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ] {
        if let Some(digits) = t.strip_prefix(prefix) {
            if digits.is_empty() {
                return f64::NAN;
            }
            let mut value = 0.0f64;
            for c in digits.chars() {
                let Some(d) = c.to_digit(radix) else {
                    return f64::NAN;
                };
                value = value * f64::from(radix) + f64::from(d);
            }
            return value;
        }
    }
    match t {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    if !t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

/// `Number(s) || 0` (`" 3 "` → 3, `"3.5"` → 3.5, `"0x10"` → 16, `"abc"` → 0).
pub(crate) fn number_or_zero(s: Option<&str>) -> f64 {
    let n = s.map_or(f64::NAN, string_to_number);
    if n.is_nan() || n == 0.0 {
        0.0
    } else {
        n
    }
}

/// `String(v)`, as a template literal `${v}` renders a JSON value (`5.0` → `5`, arrays joined by
/// commas with `null` as empty, objects as `[object Object]`).
pub(crate) fn template_string(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
            _ => n.to_string(),
        },
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::Null => String::new(),
                other => template_string(other),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".to_owned(),
    }
}

/// `${value ?? 'missing'}`.
pub(crate) fn value_or_missing(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "missing".to_owned(),
        Some(v) => template_string(v),
    }
}

/// [`template_string`] of a scalar (string, number, boolean); `None` for `null`, objects and
/// arrays (what a role claim can plausibly be).
pub(crate) fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => Some(template_string(value)),
        _ => None,
    }
}

/// `JSON.stringify` of an optional value as Clerk's messages render it (`undefined` when absent).
pub(crate) fn stringify(value: Option<&Value>) -> String {
    match value {
        None => "undefined".to_owned(),
        Some(v) => serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned()),
    }
}

/// JavaScript `Date.prototype.toUTCString()` of a millisecond time, e.g.
/// `Tue, 25 Oct 2022 21:55:50 GMT`; `Invalid Date` outside JavaScript's date range.
pub(crate) fn utc_string(ms: f64) -> String {
    const MS_PER_DAY: f64 = 86_400_000.0;
    const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    if !ms.is_finite() || ms.abs() > 8.64e15 {
        return "Invalid Date".to_owned();
    }
    let ms = ms.trunc();
    let days = (ms / MS_PER_DAY).floor();
    // |days| <= 1e8 and the remainder < 86_400_000: both fit in i64 exactly.
    let day_ms = (ms - days * MS_PER_DAY) as i64;
    let days = days as i64;
    let weekday = WEEKDAYS[usize::try_from((days + 4).rem_euclid(7)).unwrap_or(0)];
    let (year, month, day) = civil_from_days(days);
    let month = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
    let secs = day_ms / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let sign = if year < 0 { "-" } else { "" };
    format!(
        "{weekday}, {day:02} {month} {sign}{:04} {h:02}:{m:02}:{s:02} GMT",
        year.unsigned_abs()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month 1-12, day 1-31).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn lenient_client_uat_parse() {
        assert_eq!(parse_int_or_zero("12abc"), 12);
        assert_eq!(parse_int_or_zero("abc"), 0);
        assert_eq!(parse_int_or_zero(""), 0);
        assert_eq!(parse_int_or_zero("  42"), 42);
        assert_eq!(parse_int_or_zero("-7x"), -7);
        assert_eq!(parse_int_or_zero("+7"), 7);
        assert_eq!(parse_int_or_zero("3.9"), 3);
        assert_eq!(parse_int_or_zero("0x1f"), 31);
        assert_eq!(parse_int_or_zero("0x"), 0);
        assert_eq!(parse_int_or_zero("1e5"), 1);
        assert_eq!(parse_int_or_zero("99999999999999999999999"), i64::MAX);
        assert_eq!(parse_int_or_zero("1700000000"), 1_700_000_000);
    }

    #[test]
    fn parse_int_radix_10_is_javascripts() {
        let p = |s| parse_int(s, Some(10));
        assert_eq!(p("1733212345"), Some(1_733_212_345));
        assert_eq!(p("1733212345.678"), Some(1_733_212_345));
        assert_eq!(p("\u{a0} 42abc"), Some(42));
        assert_eq!(p("-7"), Some(-7));
        assert_eq!(p("+7"), Some(7));
        assert_eq!(p("0x1f"), Some(0));
        assert_eq!(p("1e3"), Some(1));
        assert_eq!(p("abc"), None);
        assert_eq!(p(""), None);
        assert_eq!(p("-"), None);
        assert_eq!(p(".5"), None);
        assert_eq!(p("99999999999999999999999"), Some(i64::MAX));
        assert_eq!(p("-99999999999999999999999"), Some(-i64::MAX));
        // Arabic-Indic digits are not decimal digits to JavaScript.
        assert_eq!(p("\u{661}"), None);
        assert_eq!(parse_int("0x", None), None);
    }

    #[test]
    fn js_number_semantics() {
        assert_eq!(number_or_zero(None), 0.0);
        assert_eq!(number_or_zero(Some("")), 0.0);
        assert_eq!(number_or_zero(Some(" 3 ")), 3.0);
        assert_eq!(number_or_zero(Some("3.5")), 3.5);
        assert_eq!(number_or_zero(Some("0x10")), 16.0);
        assert_eq!(number_or_zero(Some("1e1")), 10.0);
        assert_eq!(number_or_zero(Some("abc")), 0.0);
        assert_eq!(number_or_zero(Some("3abc")), 0.0);
        assert_eq!(number_or_zero(Some("inf")), 0.0);
        assert_eq!(number_or_zero(Some("Infinity")), f64::INFINITY);
        assert_eq!(number_or_zero(Some("-0")), 0.0);
    }

    #[test]
    fn utc_strings_match_javascript() {
        assert_eq!(utc_string(0.0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            utc_string(1_666_734_950_000.0),
            "Tue, 25 Oct 2022 21:55:50 GMT"
        );
        assert_eq!(utc_string(-1000.0), "Wed, 31 Dec 1969 23:59:59 GMT");
        assert_eq!(utc_string(8.64e15), "Sat, 13 Sep 275760 00:00:00 GMT");
        assert_eq!(utc_string(-8.64e15), "Tue, 20 Apr -271821 00:00:00 GMT");
        assert_eq!(utc_string(8.64e15 + 1.0), "Invalid Date");
        assert_eq!(utc_string(f64::INFINITY), "Invalid Date");
        for secs in [
            0u64,
            951_782_400,
            1_700_000_000,
            4_102_444_800,
            253_402_300_799,
        ] {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            assert_eq!(utc_string(secs as f64 * 1000.0), httpdate::fmt_http_date(t));
        }
    }

    #[test]
    fn template_strings_match_javascript() {
        use serde_json::json;
        assert_eq!(value_or_missing(None), "missing");
        assert_eq!(value_or_missing(Some(&Value::Null)), "missing");
        assert_eq!(value_or_missing(Some(&json!("JWT"))), "JWT");
        assert_eq!(value_or_missing(Some(&json!(5))), "5");
        assert_eq!(value_or_missing(Some(&json!(5.0))), "5");
        assert_eq!(value_or_missing(Some(&json!(1.5))), "1.5");
        assert_eq!(value_or_missing(Some(&json!(["a", null, 1]))), "a,,1");
        assert_eq!(value_or_missing(Some(&json!({}))), "[object Object]");
        // A role claim: scalars as `${role}` renders them.
        assert_eq!(scalar_string(&json!(5.0)).as_deref(), Some("5"));
        assert_eq!(scalar_string(&json!(true)).as_deref(), Some("true"));
        assert_eq!(scalar_string(&json!("admin")).as_deref(), Some("admin"));
        assert_eq!(scalar_string(&json!(null)), None);
        assert_eq!(scalar_string(&json!(["a"])), None);
    }

    #[test]
    fn trim_is_javascripts() {
        assert_eq!(trim("\u{feff}\u{a0} a b\u{2028}\t"), "a b");
        // U+0085 (NEL) is white space to Rust, not to JavaScript.
        assert_eq!(trim("\u{85}a\u{85}"), "\u{85}a\u{85}");
        assert!(!is_whitespace('\u{85}'));
        assert_eq!(number_or_zero(Some("\u{85}3")), 0.0);
        assert_eq!(number_or_zero(Some("\u{a0}3")), 3.0);
    }
}
