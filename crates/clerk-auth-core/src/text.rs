//! Untrusted text made bounded and inert (decision 15).
//!
//! Any value taken from an unverified token or from the request (`typ`, `alg`, `kid`, `iss`,
//! `azp`, `aud`, header, query and cookie values) passes through [`inert`] before it reaches a
//! message (and so the `x-clerk-auth-message` header and the JSON body), a log line, an
//! explanation step or a metric label. One rule everywhere:
//!
//! 1. cut to at most [`MAX_CHARS`] characters, the cut marked with `...` (ASCII, so that a cut
//!    value stays a valid header value);
//! 2. escape what could break a line or hide text: control characters (C0, DEL, C1, so CR, LF,
//!    NUL and the ESC of ANSI sequences), the Unicode line and paragraph separators, bidi
//!    controls, zero-width and other invisible formatting characters (`\n`, `\r`, `\t`, `\0`,
//!    otherwise `\u{..}` as Rust's `char::escape_debug` writes them);
//! 3. never more than [`MAX_BYTES`] bytes in all: the cut comes earlier when escapes are long.
//!
//! Backslashes and quotes are left as they are, so a value that needs nothing reads exactly as
//! Clerk's messages show it.

use std::borrow::Cow;

use serde_json::Value;

use crate::js;

/// The most characters of an untrusted value shown anywhere.
pub(crate) const MAX_CHARS: usize = 128;

/// The most bytes an untrusted value takes anywhere, escapes and cut marker included.
pub(crate) const MAX_BYTES: usize = 512;

/// What marks a cut.
const CUT: &str = "...";

/// Whether `c` is shown escaped: it could end a log line, move the cursor, reorder or hide text.
fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Line and paragraph separators.
            '\u{2028}' | '\u{2029}'
            // Arabic letter mark, zero-width space/joiners, left-to-right and right-to-left marks.
            | '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            // Bidi embeddings and overrides, invisible operators, bidi isolates.
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            // Byte order mark, interlinear annotations, tag characters.
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
        )
}

/// Writes `c`, escaped when it must be.
fn push(out: &mut String, c: char) {
    if !must_escape(c) {
        out.push(c);
        return;
    }
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\0' => out.push_str("\\0"),
        c => out.extend(c.escape_unicode()),
    }
}

/// The bytes `c` takes once written by [`push`].
fn written_len(c: char) -> usize {
    if !must_escape(c) {
        return c.len_utf8();
    }
    match c {
        '\n' | '\r' | '\t' | '\0' => 2,
        c => c.escape_unicode().len(),
    }
}

/// Whether `value` is shown whole: at most [`MAX_CHARS`] characters, [`MAX_BYTES`] once escaped.
fn fits(value: &str) -> bool {
    let mut count = 0usize;
    let mut bytes = 0usize;
    value.chars().all(|c| {
        count += 1;
        bytes += written_len(c);
        count <= MAX_CHARS && bytes <= MAX_BYTES
    })
}

/// `value` bounded and inert: at most [`MAX_CHARS`] characters of it (a cut marked `...`),
/// control, line-breaking and invisible formatting characters escaped, at most [`MAX_BYTES`]
/// bytes in all. Borrows when there is nothing to change.
pub(crate) fn inert(value: &str) -> Cow<'_, str> {
    // Short and plain: as it is.
    if value.len() <= MAX_CHARS && !value.chars().any(must_escape) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len().min(MAX_BYTES));
    if fits(value) {
        value.chars().for_each(|c| push(&mut out, c));
        return Cow::Owned(out);
    }
    // Cut: the kept part and the marker within both bounds.
    for c in value.chars().take(MAX_CHARS - CUT.len()) {
        if out.len() + written_len(c) + CUT.len() > MAX_BYTES {
            break;
        }
        push(&mut out, c);
    }
    out.push_str(CUT);
    Cow::Owned(out)
}

/// A JSON value of an unverified token as Clerk's messages show it (`JSON.stringify`, or
/// `undefined` when absent), bounded and inert. A long string keeps its quotes: the cut is
/// marked inside them (`"aaaa..."`).
pub(crate) fn json(value: Option<&Value>) -> String {
    let full = js::stringify(value);
    let Some(Value::String(s)) = value else {
        return inert(&full).into_owned();
    };
    if fits(&full) {
        return inert(&full).into_owned();
    }
    // Cut inside the quotes, each character as JSON writes it (`\n`, `\u001b`, `\"`), so that
    // the quoted text, the marker and the closing quote fit both bounds.
    let mut out = String::with_capacity(MAX_BYTES);
    out.push('"');
    let mut chars = 1usize;
    let mut one = [0u8; 4];
    for c in s.chars() {
        let quoted = js::stringify(Some(&Value::String(c.encode_utf8(&mut one).to_owned())));
        let piece = quoted
            .get(1..quoted.len().saturating_sub(1))
            .unwrap_or_default();
        let piece_chars = piece.chars().count();
        let piece_bytes: usize = piece.chars().map(written_len).sum();
        if chars + piece_chars + CUT.len() + 1 > MAX_CHARS
            || out.len() + piece_bytes + CUT.len() + 1 > MAX_BYTES
        {
            break;
        }
        piece.chars().for_each(|c| push(&mut out, c));
        chars += piece_chars;
    }
    out.push_str(CUT);
    out.push('"');
    out
}

/// A URL as a message to a client may show it: without its userinfo (`user:password@`).
/// Text that does not parse as a URL loses everything up to the last `@` of its authority.
pub(crate) fn without_userinfo(url: &str) -> Cow<'_, str> {
    if let Ok(mut parsed) = url::Url::parse(url) {
        if parsed.username().is_empty() && parsed.password().is_none() {
            return Cow::Borrowed(url);
        }
        if parsed.set_username("").is_ok() && parsed.set_password(None).is_ok() {
            // `Url` serializes with a trailing `/` on an empty path; keep the configured form.
            let mut s = parsed.to_string();
            if !url.ends_with('/') && parsed.path() == "/" && s.ends_with('/') {
                s.pop();
            }
            return Cow::Owned(s);
        }
    }
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    match url[start..end].rfind('@') {
        Some(at) => Cow::Owned(format!("{}{}", &url[..start], &url[start + at + 1..])),
        None => Cow::Borrowed(url),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// No character that could break or hide a line survives.
    fn assert_inert(s: &str) {
        assert!(s.len() <= MAX_BYTES, "{} bytes: {s}", s.len());
        assert!(!s.chars().any(must_escape), "{s:?}");
        assert!(!s.contains(['\n', '\r', '\u{1b}', '\0']), "{s:?}");
    }

    #[test]
    fn plain_short_values_are_borrowed_unchanged() {
        for v in [
            "",
            "JWT",
            "RS256",
            "ins_2abc",
            "https://clerk.example.com",
            "é ü 日本",
        ] {
            assert!(matches!(inert(v), Cow::Borrowed(b) if b == v), "{v}");
        }
        // Quotes and backslashes are not escaped: Clerk's messages read as Clerk's.
        assert_eq!(inert(r#""a\"b""#), r#""a\"b""#);
    }

    #[test]
    fn exactly_128_characters_are_kept_and_129_are_cut() {
        let at_limit = "a".repeat(MAX_CHARS);
        assert_eq!(inert(&at_limit), at_limit);
        let over = "a".repeat(MAX_CHARS + 1);
        let shown = inert(&over);
        assert_eq!(shown, format!("{}...", "a".repeat(MAX_CHARS - 3)));
        assert_eq!(shown.chars().count(), MAX_CHARS);
    }

    #[test]
    fn long_values_are_cut_to_the_character_and_byte_bounds() {
        let huge = "x".repeat(9_000);
        let shown = inert(&huge);
        assert!(shown.chars().count() <= MAX_CHARS);
        assert!(shown.ends_with("..."));
        assert_inert(&shown);
    }

    #[test]
    fn multi_byte_characters_are_never_split() {
        // 4 bytes each: 128 of them are 512 bytes, which fits exactly.
        let crabs = "🦀".repeat(MAX_CHARS);
        assert_eq!(inert(&crabs), crabs);
        let more = "🦀".repeat(MAX_CHARS + 1);
        let shown = inert(&more);
        assert!(shown.len() <= MAX_BYTES);
        assert_eq!(shown, format!("{}...", "🦀".repeat(MAX_CHARS - 3)));
        // Two-byte characters: cut by characters, far below the byte bound.
        let e = "é".repeat(300);
        let shown = inert(&e);
        assert_eq!(shown.chars().count(), MAX_CHARS);
        assert!(std::str::from_utf8(shown.as_bytes()).is_ok());
    }

    #[test]
    fn line_breaks_nul_and_ansi_escapes_are_escaped() {
        let forged = "x\r\nERROR clerk_auth: forged\0\u{1b}[31mred\u{1b}[0m\u{7f}\u{85}\t";
        let shown = inert(forged);
        assert_eq!(
            shown,
            "x\\r\\nERROR clerk_auth: forged\\0\\u{1b}[31mred\\u{1b}[0m\\u{7f}\\u{85}\\t"
        );
        assert_inert(&shown);
        assert_eq!(shown.lines().count(), 1);
    }

    #[test]
    fn unicode_separators_and_bidi_controls_are_escaped() {
        let v = "a\u{2028}b\u{2029}c\u{202E}d\u{2066}e\u{2069}f\u{200B}g\u{200F}h\u{FEFF}i\u{61C}j\u{E0041}";
        let shown = inert(v);
        assert_eq!(
            shown,
            "a\\u{2028}b\\u{2029}c\\u{202e}d\\u{2066}e\\u{2069}f\\u{200b}g\\u{200f}h\\u{feff}i\\u{61c}j\\u{e0041}"
        );
        assert_inert(&shown);
    }

    #[test]
    fn escapes_count_against_the_byte_bound() {
        // 128 characters that each escape to 9 bytes would be 1 152 bytes.
        let tags = "\u{E0001}".repeat(MAX_CHARS);
        let shown = inert(&tags);
        assert!(shown.len() <= MAX_BYTES, "{}", shown.len());
        assert!(shown.ends_with("..."));
        assert_inert(&shown);
        // Short escapes that fit are all kept.
        let newlines = "\n".repeat(100);
        assert_eq!(inert(&newlines), "\\n".repeat(100));
        // Every mix stays within both bounds.
        for unit in ["\n", "\u{1b}", "\u{202E}", "é", "🦀", "a", "\u{E007F}"] {
            for n in [1, 127, 128, 129, 300, 5_000] {
                let value = unit.repeat(n);
                assert_inert(&inert(&value));
            }
        }
    }

    #[test]
    fn json_keeps_clerks_rendering_and_bounds_it() {
        assert_eq!(json(None), "undefined");
        assert_eq!(json(Some(&Value::String("JWS".into()))), "\"JWS\"");
        assert_eq!(json(Some(&serde_json::json!(42))), "42");
        assert_eq!(json(Some(&serde_json::json!(["a", 1]))), "[\"a\",1]");
        // A string of 126 characters fits with its quotes; 127 do not.
        let fits = "t".repeat(MAX_CHARS - 2);
        assert_eq!(
            json(Some(&Value::String(fits.clone()))),
            format!("\"{fits}\"")
        );
        let long = json(Some(&Value::String("t".repeat(9_000))));
        assert_eq!(long, format!("\"{}...\"", "t".repeat(MAX_CHARS - 5)));
        assert_eq!(long.chars().count(), MAX_CHARS);
        // A huge array is cut like any text.
        let array = serde_json::json!(vec!["x"; 5_000]);
        let shown = json(Some(&array));
        assert!(shown.len() <= MAX_BYTES && shown.ends_with("..."));
        // JSON leaves U+2028 and DEL raw; they are escaped all the same.
        let shown = json(Some(&Value::String("a\u{2028}b\u{7f}".into())));
        assert_eq!(shown, "\"a\\u{2028}b\\u{7f}\"");
        // A long string of characters JSON escapes is cut as JSON writes them, quotes kept.
        let shown = json(Some(&Value::String(format!(
            "\r\n\u{1b}{}",
            "t".repeat(9_000)
        ))));
        assert!(shown.starts_with("\"\\r\\n\\u001btt"), "{shown}");
        assert!(shown.ends_with("tt...\""), "{shown}");
        assert_eq!(shown.chars().count(), MAX_CHARS);
        let shown = json(Some(&Value::String("\n".repeat(9_000))));
        assert_eq!(shown, format!("\"{}...\"", "\\n".repeat(61)));
        let shown = json(Some(&Value::String("\u{E0001}".repeat(9_000))));
        assert!(
            shown.len() <= MAX_BYTES && shown.ends_with("...\""),
            "{shown}"
        );
        assert_inert(&shown);
    }

    #[test]
    fn urls_lose_their_userinfo_only() {
        assert_eq!(
            without_userinfo("https://api.clerk.com/v1/jwks"),
            "https://api.clerk.com/v1/jwks"
        );
        assert_eq!(
            without_userinfo("https://user:s3cret@api.example.com/v1/jwks"),
            "https://api.example.com/v1/jwks"
        );
        assert_eq!(
            without_userinfo("http://only-user@127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
        // Not a URL: the authority's userinfo is dropped all the same.
        assert_eq!(
            without_userinfo("https://u:p@[bad/v1/jwks"),
            "https://[bad/v1/jwks"
        );
        assert!(!without_userinfo("https://a:b@x.com/p@q").contains("a:b"));
    }
}
