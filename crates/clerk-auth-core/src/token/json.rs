//! The allocation-free JSON machinery behind [`Jwt`](super::Jwt) decoding: a segment's
//! base64url text decoded into a per-thread scratch buffer, its known members read in one pass
//! (unknown members checked as a [`Value`] would be, and dropped), the whole object built only
//! when asked for, and the check that lets the claims be transcoded without the map.

use std::fmt;
use std::sync::OnceLock;

use base64::Engine;
use serde_json::{Map, Value};

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;

use crate::error::{TokenVerificationError, TokenVerificationErrorReason};

/// The deepest JSON nesting accepted in a header or payload (decision 9).
pub const MAX_JSON_DEPTH: usize = 32;

/// Base64url, padding optional, trailing bits must be zero (Clerk's `base64url.parse(.., {loose})`).
pub(super) const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(false),
);

/// A `token-invalid` error with `message`.
pub(super) fn invalid(
    message: impl Into<std::borrow::Cow<'static, str>>,
) -> TokenVerificationError {
    TokenVerificationError::new(TokenVerificationErrorReason::TokenInvalid, message)
}

/// One decoded JSON object: the members named in `names` parsed in one pass (no map, no key
/// copies), and the whole object as a [`Map`], built only when asked for.
#[derive(Clone)]
pub(super) struct Segment<const N: usize> {
    /// `known[i]`: the (last) member named `names[i]`, as the whole map would hold it.
    /// Boxed: a [`Jwt`](super::Jwt) is moved around, and this array is most of its size.
    known: Box<[Option<Value>; N]>,
    /// The whole object, parsed from `range` of the raw token on first use.
    pub(super) map: OnceLock<Map<String, Value>>,
    /// Where the segment's base64url text is in the raw token.
    pub(super) range: (usize, usize),
}

impl<const N: usize> Segment<N> {
    /// Decodes and parses the segment `raw[range]`.
    pub(super) fn decode(
        raw: &str,
        range: (usize, usize),
        names: &'static [&'static str; N],
        index: fn(&str) -> Option<usize>,
        what: &str,
    ) -> Result<Self, TokenVerificationError> {
        let text = raw.get(range.0..range.1).unwrap_or_default();
        with_scratch(|buf| {
            let bytes = decode_segment(text, what, buf)?;
            // The common case: an object of valid UTF-8, read straight into the known members.
            // Every other member is checked exactly as a `Value` would be, and dropped.
            if let Some(known) = parse_known(bytes, index) {
                return Ok(Self {
                    known,
                    map: OnceLock::new(),
                    range,
                });
            }
            // Anything else: the whole map, as before, and the known members taken from it.
            let map = parse_object(bytes, what)?;
            let known = Box::new(std::array::from_fn(|i| map.get(names[i]).cloned()));
            Ok(Self {
                known,
                map: OnceLock::from(map),
                range,
            })
        })
    }

    /// The member `name`, given its index in the names (`None` when not a known member).
    pub(super) fn get(
        &self,
        raw: &str,
        index: Option<usize>,
        name: &str,
        what: &str,
    ) -> Option<&Value> {
        match index {
            Some(i) => self.known.get(i).and_then(Option::as_ref),
            None => self.map(raw, what).get(name),
        }
    }

    /// The whole object (parsed again from the token on first use; it parsed at decode time).
    pub(super) fn map(&self, raw: &str, what: &str) -> &Map<String, Value> {
        self.map.get_or_init(|| {
            let text = raw.get(self.range.0..self.range.1).unwrap_or_default();
            with_scratch(|buf| {
                decode_segment(text, what, buf).and_then(|bytes| parse_object(bytes, what))
            })
            .unwrap_or_default()
        })
    }
}

/// Runs `f` with this thread's scratch buffer (emptied), or a fresh one when it is in use.
pub(super) fn with_scratch<T>(f: impl FnOnce(&mut Vec<u8>) -> T) -> T {
    thread_local! {
        // The decoded JSON only lives until it is parsed: reuse one buffer per thread.
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            f(&mut buf)
        }
        Err(_) => f(&mut Vec::new()),
    })
}

/// Base64url-decodes a segment into `bytes` and checks the JSON nesting depth.
pub(super) fn decode_segment<'b>(
    segment: &str,
    what: &str,
    bytes: &'b mut Vec<u8>,
) -> Result<&'b [u8], TokenVerificationError> {
    B64URL
        .decode_vec(segment, bytes)
        .map_err(|_| undecodable(what))?;
    let bytes: &[u8] = bytes;
    if json_depth_exceeds(bytes, MAX_JSON_DEPTH) {
        return Err(invalid(format!(
            "Invalid JWT {what}: JSON nested deeper than {MAX_JSON_DEPTH} levels."
        )));
    }
    Ok(bytes)
}

fn undecodable(what: &str) -> TokenVerificationError {
    invalid(format!("Invalid JWT {what} could not be decoded."))
}

/// The decoded JSON as an object, exactly as Clerk parses it.
fn parse_object(bytes: &[u8], what: &str) -> Result<Map<String, Value>, TokenVerificationError> {
    // The common case: an object, parsed straight from the bytes into a map sized up front.
    if let Ok(ObjectWithCapacity(map)) = serde_json::from_slice::<ObjectWithCapacity>(bytes) {
        return Ok(map);
    }
    // Otherwise as Clerk does: the bytes decoded as UTF-8, lossily, then parsed as any JSON.
    let text = String::from_utf8_lossy(bytes);
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(invalid(format!("Invalid JWT {what}: not a JSON object."))),
        Err(_) => Err(undecodable(what)),
    }
}

/// The members named in `names` of the JSON object `bytes`, in one pass, when `bytes` parses
/// from the slice into a map (`None` otherwise: the caller then takes the general path).
///
/// Every member is parsed as a [`Value`] would be (`deserialize_any`, so the same numbers,
/// strings and nesting are accepted); unknown ones are not kept. A repeated name keeps its last
/// value, as the map does.
fn parse_known<const N: usize>(
    bytes: &[u8],
    index: fn(&str) -> Option<usize>,
) -> Option<Box<[Option<Value>; N]>> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let known = serde::de::DeserializeSeed::deserialize(KnownSeed::<N>(index), &mut de).ok()?;
    de.end().ok()?;
    Some(known)
}

/// Deserializes a JSON object into its members named in the names.
struct KnownSeed<const N: usize>(fn(&str) -> Option<usize>);

impl<'de, const N: usize> serde::de::DeserializeSeed<'de> for KnownSeed<N> {
    type Value = Box<[Option<Value>; N]>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, const N: usize> serde::de::Visitor<'de> for KnownSeed<N> {
    type Value = Box<[Option<Value>; N]>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut access: A,
    ) -> Result<Self::Value, A::Error> {
        let mut known: Box<[Option<Value>; N]> = Box::new(std::array::from_fn(|_| None));
        while let Some(index) = access.next_key_seed(KeyIndex(self.0))? {
            match index.and_then(|i| known.get_mut(i)) {
                Some(slot) => *slot = Some(access.next_value::<Value>()?),
                None => {
                    access.next_value::<Skip>()?;
                }
            }
        }
        Ok(known)
    }
}

/// A member name, as its index in the names (`None`: not among them).
struct KeyIndex(fn(&str) -> Option<usize>);

impl<'de> serde::de::DeserializeSeed<'de> for KeyIndex {
    type Value = Option<usize>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeyIndex {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok((self.0)(v))
    }
}

/// Any JSON value, checked as [`Value`] would parse it, and not kept.
struct Skip;

impl<'de> serde::Deserialize<'de> for Skip {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Skip)
    }
}

impl<'de> serde::de::Visitor<'de> for Skip {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }
}

/// Whether `bytes` is one JSON value in which no object (at any depth) names a member twice.
/// Conservative: an object of more than [`Distinct::MEMBERS`] members counts as repeating.
pub(super) fn members_distinct(bytes: &[u8]) -> bool {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    <Distinct as serde::Deserialize>::deserialize(&mut de).is_ok() && de.end().is_ok()
}

/// Any JSON value whose objects each name a member once (checked by hashes of the names, on
/// the stack: a collision only sends the caller to the exact, slower path).
struct Distinct;

impl Distinct {
    /// The most members an object may have to be checked.
    const MEMBERS: usize = 32;
}

impl<'de> serde::Deserialize<'de> for Distinct {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Distinct)
    }
}

impl<'de> serde::de::Visitor<'de> for Distinct {
    type Value = Distinct;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON whose objects name each member once")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Distinct, E> {
        Ok(Distinct)
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Distinct, E> {
        Ok(Distinct)
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Distinct, E> {
        Ok(Distinct)
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Distinct, E> {
        Ok(Distinct)
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Distinct, E> {
        Ok(Distinct)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Distinct, E> {
        Ok(Distinct)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Distinct, A::Error> {
        while seq.next_element::<Distinct>()?.is_some() {}
        Ok(Distinct)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Distinct, A::Error> {
        let mut seen = [0u64; Distinct::MEMBERS];
        let mut count = 0;
        while let Some(NameHash(hash)) = map.next_key()? {
            let repeated = seen.get(..count).unwrap_or_default().contains(&hash);
            match seen.get_mut(count) {
                Some(slot) if !repeated => *slot = hash,
                _ => return Err(serde::de::Error::custom("a repeated member name")),
            }
            count += 1;
            map.next_value::<Distinct>()?;
        }
        Ok(Distinct)
    }
}

/// A member name, as a hash of its (unescaped) text.
struct NameHash(u64);

impl<'de> serde::Deserialize<'de> for NameHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = NameHash;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<NameHash, E> {
                use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
                Ok(NameHash(
                    BuildHasherDefault::<DefaultHasher>::default().hash_one(v),
                ))
            }
        }
        deserializer.deserialize_str(Visit)
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
