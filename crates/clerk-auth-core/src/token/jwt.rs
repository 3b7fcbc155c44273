//! JWT decoding: three base64url segments, JSON objects, bounded size and depth.
//!
//! Decoding does not verify anything; it only turns text into a [`Jwt`] that the verifiers and the
//! decision can inspect.

use std::fmt;

use base64::Engine;
use serde_json::{Map, Value};
use smallvec::SmallVec;

pub use super::json::MAX_JSON_DEPTH;
use super::json::{invalid, is_canonical, members_distinct, Segment, B64URL};
use crate::error::TokenVerificationError;

/// The longest token accepted, in bytes (decision 9). Longer tokens are `token-invalid`.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

const FORM_MESSAGE: &str = "Invalid JWT form. A JWT consists of three parts separated by dots.";

/// A decoded, unverified JWT.
///
/// `Debug` never shows the raw token or the signature.
#[derive(Clone)]
pub struct Jwt {
    /// The token as received, then the decoded header and payload JSON when they were read
    /// straight (their strings without escapes point here): one allocation for all the text.
    text: String,
    raw_len: usize,
    signing_input_len: usize,
    header: Segment<HEADER_LEN>,
    claims: Segment<CLAIMS_LEN>,
    /// Inline up to RSA-2048's 256 bytes (Clerk's keys), on the heap beyond.
    signature: SmallVec<[u8; 256]>,
}

/// The header parameters read on the verification and decision paths.
const HEADER_NAMES: [&str; HEADER_LEN] = ["alg", "kid", "typ", "cat"];
const HEADER_LEN: usize = 4;

/// The claims read on the verification and decision paths.
const CLAIM_NAMES: [&str; CLAIMS_LEN] = [
    "sub",
    "aud",
    "azp",
    "exp",
    "nbf",
    "iat",
    "iss",
    "sid",
    "sts",
    "act",
    "fva",
    "v",
    "o",
    "fea",
    "pla",
    "org_id",
    "org_role",
    "org_slug",
    "org_permissions",
];
const CLAIMS_LEN: usize = 19;

/// The index of a header parameter among [`HEADER_NAMES`].
fn header_index(name: &str) -> Option<usize> {
    match name {
        "alg" => Some(0),
        "kid" => Some(1),
        "typ" => Some(2),
        "cat" => Some(3),
        _ => None,
    }
}

/// The index of a claim among [`CLAIM_NAMES`].
fn claim_index(name: &str) -> Option<usize> {
    match name {
        "sub" => Some(0),
        "aud" => Some(1),
        "azp" => Some(2),
        "exp" => Some(3),
        "nbf" => Some(4),
        "iat" => Some(5),
        "iss" => Some(6),
        "sid" => Some(7),
        "sts" => Some(8),
        "act" => Some(9),
        "fva" => Some(10),
        "v" => Some(11),
        "o" => Some(12),
        "fea" => Some(13),
        "pla" => Some(14),
        "org_id" => Some(15),
        "org_role" => Some(16),
        "org_slug" => Some(17),
        "org_permissions" => Some(18),
        _ => None,
    }
}

impl Jwt {
    /// Decodes `token`. Every failure is `token-invalid`.
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
        // The token, then at most 3/4 of its first two segments' length as decoded JSON.
        let mut text = String::with_capacity(token.len() + (h.len() + p.len()) / 4 * 3 + 3);
        text.push_str(token);
        let header = Segment::decode(
            token,
            (0, h.len()),
            &HEADER_NAMES,
            header_index,
            "header",
            &mut text,
        )?;
        let p_start = h.len() + 1;
        let claims = Segment::decode(
            token,
            (p_start, p_start + p.len()),
            &CLAIM_NAMES,
            claim_index,
            "payload",
            &mut text,
        )?;
        let signature = decode_signature(s)?;
        Ok(Self {
            text,
            raw_len: token.len(),
            signing_input_len: h.len() + 1 + p.len(),
            header,
            claims,
            signature,
        })
    }

    /// The protected header.
    ///
    /// Built on first use: prefer [`header_param`](Self::header_param) for single parameters.
    pub fn header(&self) -> &Map<String, Value> {
        self.header.map(&self.text, "header")
    }

    /// The payload's claims.
    ///
    /// Built on first use: prefer [`claim`](Self::claim) for single claims.
    pub fn claims(&self) -> &Map<String, Value> {
        self.claims.map(&self.text, "payload")
    }

    /// Serializes the claims exactly as [`claims`](Self::claims) serializes, without building
    /// the map when it is not built yet: the payload's JSON is transcoded straight into
    /// `serializer` (no map, no member copies). A payload in which some object repeats a member
    /// name (where the map keeps the first position and the last value) goes through the map.
    pub(crate) fn serialize_claims<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        if let Some(map) = self.claims.map.get() {
            return serde::Serialize::serialize(map, serializer);
        }
        // Without the map, the payload's JSON is kept (the general path builds the map).
        let (start, end) = self.claims.json;
        let json = self.text.get(start..end).unwrap_or_default();
        if members_distinct(json.as_bytes()) {
            let mut de = serde_json::Deserializer::from_str(json);
            serde_transcode::transcode(&mut de, serializer)
        } else {
            serde::Serialize::serialize(self.claims(), serializer)
        }
    }

    /// The payload's JSON as decoded, when it is exactly what serializing the claims writes
    /// with serde_json (compact, no escapes serde_json would not write, integers only, no name
    /// twice in an object): the auth JSON then copies it instead of transcoding it.
    pub(crate) fn claims_json_verbatim(&self) -> Option<&str> {
        let (start, end) = self.claims.json;
        self.text
            .get(start..end)
            .filter(|json| !json.is_empty() && is_canonical(json.as_bytes()))
    }

    /// A header parameter, if present (the same value as `header().get(name)`).
    pub fn header_param(&self, name: &str) -> Option<&Value> {
        self.header
            .get(&self.text, header_index(name), name, "header")
    }

    /// A claim, if present (the same value as `claims().get(name)`).
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims
            .get(&self.text, claim_index(name), name, "payload")
    }

    /// A header parameter as a string, if it is one.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        match header_index(name) {
            Some(i) => self.header.get_str(&self.text, i),
            None => self.header_param(name).and_then(Value::as_str),
        }
    }

    /// A claim as a string, if it is one.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        match claim_index(name) {
            Some(i) => self.claims.get_str(&self.text, i),
            None => self.claim(name).and_then(Value::as_str),
        }
    }

    /// A claim as a number (as [`Value::as_f64`] reads it), if it is one.
    pub(crate) fn claim_f64(&self, name: &str) -> Option<f64> {
        match claim_index(name) {
            Some(i) => self.claims.get_f64(i),
            None => self.claim(name).and_then(Value::as_f64),
        }
    }

    /// Whether the header has the parameter `name` (no value is made).
    pub(crate) fn has_header_param(&self, name: &str) -> bool {
        match header_index(name) {
            Some(i) => self.header.has(i),
            None => self.header_param(name).is_some(),
        }
    }

    /// The header's `alg`, if it is a string.
    pub fn alg(&self) -> Option<&str> {
        self.header_str("alg")
    }

    /// The header's `kid`, if it is a string.
    pub fn kid(&self) -> Option<&str> {
        self.header_str("kid")
    }

    /// The header's `cat` (token category), if it is a string.
    pub fn category(&self) -> Option<&str> {
        self.header_str("cat")
    }

    /// The bytes the signature covers: `base64url(header) "." base64url(payload)` as received.
    pub fn signing_input(&self) -> &[u8] {
        self.text
            .as_bytes()
            .get(..self.signing_input_len)
            .unwrap_or_default()
    }

    /// The decoded signature bytes.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The token as received. Handle with care: it is a bearer credential.
    pub fn as_str(&self) -> &str {
        self.text.get(..self.raw_len).unwrap_or_default()
    }
}

/// The signature segment's bytes: inline when they fit (no allocation for RSA-2048).
fn decode_signature(segment: &str) -> Result<SmallVec<[u8; 256]>, TokenVerificationError> {
    let undecodable = || invalid("Invalid JWT signature could not be decoded.");
    // A segment of up to 344 characters decodes to at most 258 bytes: on the stack first.
    let mut inline = [0u8; 258];
    if segment.len() <= 344 {
        if let Ok(len) = B64URL.decode_slice(segment, &mut inline) {
            return Ok(SmallVec::from_slice(inline.get(..len).unwrap_or_default()));
        }
    }
    B64URL
        .decode(segment)
        .map(SmallVec::from_vec)
        .map_err(|_| undecodable())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TokenVerificationErrorReason;

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

    /// The claims through [`Jwt::serialize_claims`], as the auth JSON writes them.
    struct Transcoded<'a>(&'a Jwt);

    impl serde::Serialize for Transcoded<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            self.0.serialize_claims(s)
        }
    }

    #[test]
    fn claims_serialize_as_the_map_does_with_or_without_it() {
        let many: String = (0..40).map(|i| format!(r#""m{i}":{i},"#)).collect();
        let cases = [
            (r#"{"sub":"u","iat":1}"#, true),
            (
                r#" { "sub" : "u" ,	"n": [1, 2.50, -0, -0.0, 1e3, 1E-2, 18446744073709551615, 18446744073709551616, -9223372036854775808] } "#,
                true,
            ),
            (
                r#"{"s":"\u00e9\/\"\\\n\u0001\ud83d\ude00é","t":true,"f":false,"z":null}"#,
                true,
            ),
            (
                r#"{"metadata":{"a":{"b":[{"c":1},{"c":2}]},"d":{}},"e":[]}"#,
                true,
            ),
            (r#"{"a":1,"b":2,"a":3}"#, false),
            (r#"{"a":1,"\u0061":2}"#, false),
            (r#"{"o":{"x":1,"x":2}}"#, false),
            (r#"{"l":[{"x":1},{"y":1,"y":2}]}"#, false),
            (&format!(r#"{{{many}"last":true}}"#), false),
        ];
        for (payload, distinct) in cases {
            let token = format!(
                "{}.{}.{}",
                b64(r#"{"alg":"RS256"}"#),
                b64(payload),
                b64("s")
            );
            let jwt = Jwt::decode(&token).unwrap();
            let transcoded = serde_json::to_string(&Transcoded(&jwt)).unwrap();
            // Transcoding did not need the map exactly when every object's names are distinct.
            assert_eq!(jwt.claims.map.get().is_none(), distinct, "{payload}");
            let fresh = Jwt::decode(&token).unwrap();
            assert_eq!(
                transcoded,
                serde_json::to_string(fresh.claims()).unwrap(),
                "{payload}"
            );
            // Once the map exists it is used.
            assert_eq!(
                serde_json::to_string(&Transcoded(&fresh)).unwrap(),
                transcoded
            );
        }
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

    fn b64_bytes(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn single_members_match_the_whole_map() {
        let h = b64(r#"{"alg":"RS256","kid":"k","alg":"RS384","x":[1,{"y":null}]}"#);
        for payload in [
            &br#"{"sub":"a","sub":"b","exp":1e3,"o":{"id":"org"},"other":"z","v":2}"#[..],
            b"{\"sub\":\"u\",\"bad\":\"\xff\xfe\",\"iat\":-1.5}",
            b"{\"\xffsub\":\"u\",\"sub\":\"\\u0073\"}",
            br#"{"s\u0075b":"escaped","nested":{"a":[[],{}],"b":"\u00e9"}}"#,
            br#"{"sub":"pla\u0069n","exp":-0,"nbf":1.5e3,"iat":18446744073709551615,"v":2.0}"#,
            br#"{"sub":"","azp":"\/x","exp":"1","iat":null,"act":{"sub":"a"},"fva":[1,-1]}"#,
        ] {
            let t = format!("{h}.{}.AA", b64_bytes(payload));
            let jwt = Jwt::decode(&t).unwrap();
            // The string and number readers agree with the values, asked before and after them.
            let fresh = Jwt::decode(&t).unwrap();
            for name in CLAIM_NAMES
                .iter()
                .chain(["other", "bad", "nested", "x"].iter())
            {
                let (as_str, as_f64) = (fresh.claim_str(name), fresh.claim_f64(name));
                assert_eq!(jwt.claim(name), jwt.claims().get(*name), "{name}");
                assert_eq!(as_str, jwt.claim(name).and_then(Value::as_str), "{name}");
                assert_eq!(as_f64, jwt.claim(name).and_then(Value::as_f64), "{name}");
                assert_eq!(fresh.claim_str(name), as_str, "{name}");
            }
            for name in HEADER_NAMES.iter().chain(["x"].iter()) {
                let (as_str, has) = (fresh.header_str(name), fresh.has_header_param(name));
                assert_eq!(jwt.header_param(name), jwt.header().get(*name), "{name}");
                assert_eq!(as_str, jwt.header_param(name).and_then(Value::as_str));
                assert_eq!(has, jwt.header_param(name).is_some(), "{name}");
            }
            assert_eq!(jwt.alg(), Some("RS384"));
        }
        let t = format!("{h}.{}.AA", b64(r#"{"sub":"a","sub":"b"}"#));
        assert_eq!(Jwt::decode(&t).unwrap().claim_str("sub"), Some("b"));
    }

    #[test]
    fn indexes_match_names() {
        for (i, name) in CLAIM_NAMES.iter().enumerate() {
            assert_eq!(claim_index(name), Some(i));
        }
        for (i, name) in HEADER_NAMES.iter().enumerate() {
            assert_eq!(header_index(name), Some(i));
        }
        assert_eq!(claim_index("jti"), None);
        assert_eq!(header_index("x5c"), None);
    }

    #[test]
    fn unknown_members_are_checked_as_values() {
        let h = b64(r#"{"alg":"RS256"}"#);
        for payload in [
            r#"{"sub":"u","big":1e400}"#,
            r#"{"sub":"u","big":[-1e400]}"#,
            r#"{"sub":"u","x":tru}"#,
            r#"{"sub":"u"} x"#,
            r#"{"sub":"u","x":"\ud800"}"#,
        ] {
            let t = format!("{h}.{}.AA", b64(payload));
            assert!(Jwt::decode(&t).is_err(), "{payload}");
        }
    }

    #[test]
    fn signatures_of_any_length_decode() {
        let h = b64(r#"{"alg":"RS512"}"#);
        let p = b64(r#"{"sub":"u"}"#);
        // RSA-2048 (inline), RSA-4096 (on the heap), and around the inline size.
        for len in [0, 1, 255, 256, 257, 258, 259, 512, 1024] {
            let signature: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let jwt = Jwt::decode(&format!("{h}.{p}.{}", b64_bytes(&signature))).unwrap();
            assert_eq!(jwt.signature(), &signature[..], "{len}");
        }
        // Bad base64 in a short and in a long signature.
        for bad in ["A".to_owned(), format!("{}A", "AAAA".repeat(100))] {
            let err = Jwt::decode(&format!("{h}.{p}.{bad}")).unwrap_err();
            assert_eq!(err.reason, TokenVerificationErrorReason::TokenInvalid);
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
