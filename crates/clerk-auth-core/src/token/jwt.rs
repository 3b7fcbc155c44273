//! JWT decoding (§3.1): three base64url segments, JSON objects, bounded size and depth.
//!
//! Decoding does not verify anything; it only turns text into a [`Jwt`] that the verifiers and the
//! decision can inspect.

use std::fmt;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::{Map, Value};

use crate::error::{TokenVerificationError, TokenVerificationErrorReason};

/// The longest token accepted, in bytes (decision 9). Longer tokens are `token-invalid`.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The deepest JSON nesting accepted in a header or payload (decision 9).
pub const MAX_JSON_DEPTH: usize = 32;

/// Base64url, padding optional, trailing bits must be zero (Clerk's `base64url.parse(.., {loose})`).
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(false),
);

const FORM_MESSAGE: &str = "Invalid JWT form. A JWT consists of three parts separated by dots.";

/// A decoded, unverified JWT.
///
/// `Debug` never shows the raw token or the signature.
#[derive(Clone)]
pub struct Jwt {
    raw: Box<str>,
    signing_input_len: usize,
    header: Map<String, Value>,
    claims: Map<String, Value>,
    signature: Vec<u8>,
}

impl Jwt {
    /// Decodes `token` (§3.1). Every failure is `token-invalid`.
    pub fn decode(token: &str) -> Result<Self, TokenVerificationError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(invalid(format!(
                "Invalid JWT: longer than {MAX_TOKEN_LEN} bytes."
            )));
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid(FORM_MESSAGE));
        };
        let header = decode_object(h, "header")?;
        let claims = decode_object(p, "payload")?;
        let signature = B64URL
            .decode(s)
            .map_err(|_| invalid("Invalid JWT signature could not be decoded."))?;
        Ok(Self {
            raw: token.into(),
            signing_input_len: h.len() + 1 + p.len(),
            header,
            claims,
            signature,
        })
    }

    /// The protected header.
    pub fn header(&self) -> &Map<String, Value> {
        &self.header
    }

    /// The payload's claims.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// A header parameter as a string, if it is one.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// A claim as a string, if it is one.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// The header's `alg`, if it is a string.
    pub fn alg(&self) -> Option<&str> {
        self.header_str("alg")
    }

    /// The header's `kid`, if it is a string.
    pub fn kid(&self) -> Option<&str> {
        self.header_str("kid")
    }

    /// The header's `cat` (token category, §3.8), if it is a string.
    pub fn category(&self) -> Option<&str> {
        self.header_str("cat")
    }

    /// The bytes the signature covers: `base64url(header) "." base64url(payload)` as received.
    pub fn signing_input(&self) -> &[u8] {
        &self.raw.as_bytes()[..self.signing_input_len]
    }

    /// The decoded signature bytes.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The token as received. Handle with care: it is a bearer credential.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl fmt::Debug for Jwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwt")
            .field("alg", &self.alg())
            .field("kid", &self.kid())
            .field("token", &"[redacted]")
            .finish()
    }
}

fn invalid(message: impl Into<std::borrow::Cow<'static, str>>) -> TokenVerificationError {
    TokenVerificationError::new(TokenVerificationErrorReason::TokenInvalid, message)
}

fn decode_object(segment: &str, what: &str) -> Result<Map<String, Value>, TokenVerificationError> {
    thread_local! {
        // The decoded JSON only lives until it is parsed: reuse one buffer per thread.
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            decode_object_with(segment, what, &mut buf)
        }
        Err(_) => decode_object_with(segment, what, &mut Vec::new()),
    })
}

fn decode_object_with(
    segment: &str,
    what: &str,
    bytes: &mut Vec<u8>,
) -> Result<Map<String, Value>, TokenVerificationError> {
    let undecodable = || invalid(format!("Invalid JWT {what} could not be decoded."));
    B64URL
        .decode_vec(segment, bytes)
        .map_err(|_| undecodable())?;
    let bytes: &[u8] = bytes;
    if json_depth_exceeds(bytes, MAX_JSON_DEPTH) {
        return Err(invalid(format!(
            "Invalid JWT {what}: JSON nested deeper than {MAX_JSON_DEPTH} levels."
        )));
    }
    // The common case: an object, parsed straight from the bytes into a map sized up front.
    if let Ok(ObjectWithCapacity(map)) = serde_json::from_slice::<ObjectWithCapacity>(bytes) {
        return Ok(map);
    }
    // Otherwise as Clerk does: the bytes decoded as UTF-8, lossily, then parsed as any JSON.
    let text = String::from_utf8_lossy(bytes);
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(invalid(format!("Invalid JWT {what}: not a JSON object."))),
        Err(_) => Err(undecodable()),
    }
}

/// A JSON object deserialized into a [`Map`] allocated once for a typical JWT's member count
/// (growing a map rehashes it, which showed up in the cold verification profile).
struct ObjectWithCapacity(Map<String, Value>);

impl<'de> serde::Deserialize<'de> for ObjectWithCapacity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = ObjectWithCapacity;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<Self::Value, A::Error> {
                let mut map = Map::with_capacity(access.size_hint().unwrap_or(16).min(64));
                while let Some((k, v)) = access.next_entry::<String, Value>()? {
                    map.insert(k, v);
                }
                Ok(ObjectWithCapacity(map))
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

/// Whether the JSON text nests arrays/objects deeper than `limit` (strings are skipped).
fn json_depth_exceeds(bytes: &[u8], limit: usize) -> bool {
    // Fast path: a text with no more openers than the limit cannot nest deeper than it.
    if bytes.iter().filter(|&&b| b == b'{' || b == b'[').count() <= limit {
        return false;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// `JSON.stringify` of an optional value as Clerk's messages render it (`undefined` when absent).
pub(crate) fn js_stringify(value: Option<&Value>) -> String {
    match value {
        None => "undefined".to_owned(),
        Some(v) => serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn decodes_three_segments() {
        let t = format!(
            "{}.{}.{}",
            b64(r#"{"alg":"RS256"}"#),
            b64(r#"{"sub":"u"}"#),
            b64("sig")
        );
        let jwt = Jwt::decode(&t).unwrap();
        assert_eq!(jwt.alg(), Some("RS256"));
        assert_eq!(jwt.claim_str("sub"), Some("u"));
        assert_eq!(jwt.signature(), b"sig");
        assert_eq!(
            jwt.signing_input(),
            t.rsplit_once('.').unwrap().0.as_bytes()
        );
    }

    #[test]
    fn rejects_wrong_shapes() {
        let h = b64(r#"{"alg":"RS256"}"#);
        let p = b64(r#"{"sub":"u"}"#);
        for bad in [
            format!("{h}.{p}"),
            format!("{h}.{p}.x.y"),
            format!("{h}.{}.x", b64("[1]")),
            format!("{h}.{}.x", b64("not json")),
            format!("{h}+.{p}.x"),
            format!(" {h}.{p}.x"),
            format!("{h}.{}.x", b64(&"[".repeat(40))),
            "a".repeat(MAX_TOKEN_LEN + 1),
        ] {
            let err = Jwt::decode(&bad).unwrap_err();
            assert_eq!(
                err.reason,
                TokenVerificationErrorReason::TokenInvalid,
                "{bad:.40}"
            );
        }
    }

    #[test]
    fn padding_is_optional() {
        let h = base64::engine::general_purpose::URL_SAFE.encode(r#"{"alg":"RS256"}"#);
        let p = b64(r#"{"sub":"u"}"#);
        assert!(Jwt::decode(&format!("{h}.{p}.AA")).is_ok());
    }

    #[test]
    fn debug_redacts() {
        let t = format!(
            "{}.{}.{}",
            b64(r#"{"alg":"RS256"}"#),
            b64(r#"{"sub":"u"}"#),
            b64("sig")
        );
        let jwt = Jwt::decode(&t).unwrap();
        assert!(!format!("{jwt:?}").contains(&t[..10]));
    }
}
