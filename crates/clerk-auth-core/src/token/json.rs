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

/// A known member as read at decode time: small (24 bytes), so that a decoded token is cheap to
/// build and to move; strings and numbers are made into [`Value`]s only when asked for as one.
#[derive(Clone, Debug, Default)]
pub(super) enum Member {
    /// Not in the object.
    #[default]
    Absent,
    /// A string without escapes, not copied: its byte range in the [`Jwt`](super::Jwt)'s text.
    Str(u32, u32),
    /// A number.
    Num(serde_json::Number),
    /// Anything else (strings with escapes, booleans, `null`, arrays, objects).
    Value(Box<Value>),
}

impl Member {
    /// The member holding `value` (from a parsed map).
    fn of(value: &Value) -> Self {
        match value {
            Value::Number(n) => Self::Num(n.clone()),
            other => Self::Value(Box::new(other.clone())),
        }
    }
}

/// One decoded JSON object: the members named in `names` read in one pass (strings without
/// escapes are not copied: they stay in the token's text), and the whole object as a [`Map`],
/// built only when asked for.
#[derive(Clone)]
pub(super) struct Segment<const N: usize> {
    /// `members[i]`: the (last) member named `names[i]`, as the whole map would hold it.
    members: [Member; N],
    /// The [`Member::Str`] and [`Member::Num`] members as [`Value`]s, made on first ask for one
    /// as a `&Value` (the verification and the decision ask for them as `&str` and `f64`).
    made: OnceLock<Box<[OnceLock<Value>; N]>>,
    /// The whole object: built at decode time by the general path, else parsed from `json` on
    /// first use.
    pub(super) map: OnceLock<Map<String, Value>>,
    /// Where the decoded JSON is in the [`Jwt`](super::Jwt)'s text (empty when the general
    /// path read it: the map is then built already, and the JSON not kept).
    pub(super) json: (usize, usize),
}

impl<const N: usize> Segment<N> {
    /// Decodes and parses the segment `raw[range]`; on the common path the decoded JSON is
    /// appended to `text`, where the members' strings then point.
    pub(super) fn decode(
        raw: &str,
        range: (usize, usize),
        names: &'static [&'static str; N],
        index: fn(&str) -> Option<usize>,
        what: &str,
        text: &mut String,
    ) -> Result<Self, TokenVerificationError> {
        let mut segment = Self {
            members: std::array::from_fn(|_| Member::Absent),
            made: OnceLock::new(),
            map: OnceLock::new(),
            json: (0, 0),
        };
        let b64 = raw.get(range.0..range.1).unwrap_or_default();
        with_scratch(|buf| {
            let bytes = decode_segment(b64, what, buf)?;
            // The common case: an object of valid UTF-8, read straight into the known members.
            // Every other member is checked exactly as a `Value` would be, and dropped.
            if let Ok(json) = std::str::from_utf8(bytes) {
                let base = text.len();
                if parse_known(json, base, index, &mut segment.members) {
                    text.push_str(json);
                    segment.json = (base, text.len());
                    return Ok(());
                }
            }
            // Anything else: the whole map, as before, and the known members taken from it.
            let map = parse_object(bytes, what)?;
            for (member, name) in segment.members.iter_mut().zip(names) {
                *member = map.get(*name).map_or(Member::Absent, Member::of);
            }
            segment.map = OnceLock::from(map);
            Ok(())
        })?;
        Ok(segment)
    }

    /// The member `name`, given its index in the names (`None` when not a known member);
    /// `text` is the [`Jwt`](super::Jwt)'s text.
    pub(super) fn get(
        &self,
        text: &str,
        index: Option<usize>,
        name: &str,
        what: &str,
    ) -> Option<&Value> {
        let Some(i) = index else {
            return self.map(text, what).get(name);
        };
        match self.members.get(i)? {
            Member::Absent => None,
            Member::Value(value) => Some(value),
            Member::Str(start, end) => self.made(i, || {
                let string = text.get(*start as usize..*end as usize);
                Value::String(string.unwrap_or_default().to_owned())
            }),
            Member::Num(n) => self.made(i, || Value::Number(n.clone())),
        }
    }

    /// The [`Value`] made for the member at `index`, made by `make` the first time.
    fn made(&self, index: usize, make: impl FnOnce() -> Value) -> Option<&Value> {
        let slots = self
            .made
            .get_or_init(|| Box::new(std::array::from_fn(|_| OnceLock::new())));
        Some(slots.get(index)?.get_or_init(make))
    }

    /// The member at `index` as a string, if it is one (no [`Value`] is made).
    pub(super) fn get_str<'t>(&'t self, text: &'t str, index: usize) -> Option<&'t str> {
        match self.members.get(index)? {
            Member::Str(start, end) => text.get(*start as usize..*end as usize),
            Member::Value(value) => value.as_str(),
            Member::Absent | Member::Num(_) => None,
        }
    }

    /// The member at `index` as a number (as [`Value::as_f64`] reads it), if it is one.
    pub(super) fn get_f64(&self, index: usize) -> Option<f64> {
        match self.members.get(index)? {
            Member::Num(n) => n.as_f64(),
            _ => None,
        }
    }

    /// Whether the member at `index` is present.
    pub(super) fn has(&self, index: usize) -> bool {
        !matches!(self.members.get(index), None | Some(Member::Absent))
    }

    /// The whole object (parsed from the decoded JSON kept in `text` on first use; it parsed
    /// at decode time, so this cannot fail).
    pub(super) fn map(&self, text: &str, what: &str) -> &Map<String, Value> {
        self.map.get_or_init(|| {
            let json = text.get(self.json.0..self.json.1).unwrap_or_default();
            parse_object(json.as_bytes(), what).unwrap_or_default()
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

/// Reads the members named in `names` of the JSON object `json` into `members`, in one pass;
/// false when it does not parse into a map (the caller then takes the general path). `base` is
/// where `json` will start in the token's text.
///
/// Every member is parsed as a [`Value`] would be (`deserialize_any`, so the same numbers,
/// strings and nesting are accepted); unknown ones are not kept. A repeated name keeps its last
/// value, as the map does.
fn parse_known<const N: usize>(
    json: &str,
    base: usize,
    index: fn(&str) -> Option<usize>,
    members: &mut [Member; N],
) -> bool {
    let mut de = serde_json::Deserializer::from_str(json);
    let origin = Origin {
        start: json.as_ptr() as usize,
        base,
    };
    let seed = KnownSeed {
        index,
        origin,
        members,
    };
    serde::de::DeserializeSeed::deserialize(seed, &mut de).is_ok() && de.end().is_ok()
}

/// Where the parsed JSON starts in memory, and where it will start in the token's text.
#[derive(Clone, Copy)]
struct Origin {
    start: usize,
    base: usize,
}

/// Deserializes a JSON object into its members named in the names.
struct KnownSeed<'m, const N: usize> {
    index: fn(&str) -> Option<usize>,
    origin: Origin,
    members: &'m mut [Member; N],
}

impl<'de, const N: usize> serde::de::DeserializeSeed<'de> for KnownSeed<'_, N> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, const N: usize> serde::de::Visitor<'de> for KnownSeed<'_, N> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        while let Some(index) = access.next_key_seed(KeyIndex(self.index))? {
            match index.and_then(|i| self.members.get_mut(i)) {
                Some(slot) => *slot = access.next_value_seed(MemberSeed(self.origin))?,
                None => {
                    access.next_value::<Skip>()?;
                }
            }
        }
        Ok(())
    }
}

/// One known member's value: a string without escapes as its range, a number as itself,
/// anything else as the [`Value`] it parses to.
struct MemberSeed(Origin);

impl<'de> serde::de::DeserializeSeed<'de> for MemberSeed {
    type Value = Member;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for MemberSeed {
    type Value = Member;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Member, E> {
        // Borrowed from the JSON text itself (serde_json borrows exactly the strings without
        // escapes): its offset there, moved to where the text will be kept.
        let Origin { start, base } = self.0;
        let from = base + (v.as_ptr() as usize).wrapping_sub(start);
        match (u32::try_from(from), u32::try_from(from + v.len())) {
            (Ok(from), Ok(to)) => Ok(Member::Str(from, to)),
            _ => self.visit_str(v),
        }
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Member, E> {
        Ok(Member::Value(Box::new(Value::String(v.to_owned()))))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Member, E> {
        Ok(Member::Value(Box::new(Value::String(v))))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Member, E> {
        Ok(Member::Value(Box::new(Value::Bool(v))))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Member, E> {
        Ok(Member::Num(v.into()))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Member, E> {
        Ok(Member::Num(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Member, E> {
        Ok(serde_json::Number::from_f64(v)
            .map_or_else(|| Member::Value(Box::new(Value::Null)), Member::Num))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Member, E> {
        Ok(Member::Value(Box::new(Value::Null)))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Member, A::Error> {
        let de = serde::de::value::SeqAccessDeserializer::new(seq);
        <Value as serde::Deserialize>::deserialize(de).map(|v| Member::Value(Box::new(v)))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Member, A::Error> {
        let de = serde::de::value::MapAccessDeserializer::new(map);
        <Value as serde::Deserialize>::deserialize(de).map(|v| Member::Value(Box::new(v)))
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

/// The most member names an object may have for [`is_canonical`] to check it (a larger object
/// counts as not canonical: the caller then transcodes, which is always right).
const CANONICAL_MEMBERS: usize = 64;

/// Whether `json`, a JSON text that parsed, is byte for byte what serde_json writes for the value
/// it parses to, with no object naming a member twice: then it can be copied instead of
/// transcoded. Conservative: no whitespace outside strings, strings whose only escapes are
/// `\"`, `\\`, `\b`, `\f`, `\n`, `\r` and `\t`, numbers that are integers of at most 18 digits
/// (not `-0`), and at most [`CANONICAL_MEMBERS`] members per object. Names are compared as
/// written: with only these escapes, two names are the same exactly when their texts are.
pub(super) fn is_canonical(json: &[u8]) -> bool {
    // The names of every open object's members (as their texts), and where each open
    // container's own names start in it (`None` for an array).
    let mut names: Vec<&[u8]> = Vec::new();
    let mut open: Vec<Option<usize>> = Vec::new();
    let mut expect_name = false;
    let mut i = 0;
    while let Some(&b) = json.get(i) {
        match b {
            b'{' => {
                open.push(Some(names.len()));
                expect_name = true;
                i += 1;
            }
            b'[' => {
                open.push(None);
                expect_name = false;
                i += 1;
            }
            b'}' | b']' => {
                if let Some(Some(start)) = open.pop() {
                    names.truncate(start);
                }
                expect_name = false;
                i += 1;
            }
            b',' => {
                expect_name = matches!(open.last(), Some(Some(_)));
                i += 1;
            }
            b':' => {
                expect_name = false;
                i += 1;
            }
            b'"' => {
                let Some(end) = canonical_string_end(json, i + 1) else {
                    return false;
                };
                if expect_name {
                    let start = match open.last() {
                        Some(Some(start)) => *start,
                        _ => return false,
                    };
                    let name = json.get(i + 1..end).unwrap_or_default();
                    let siblings = names.get(start..).unwrap_or_default();
                    if siblings.len() >= CANONICAL_MEMBERS || siblings.contains(&name) {
                        return false;
                    }
                    names.push(name);
                }
                i = end + 1;
            }
            b't' | b'n' => i += 4,
            b'f' => i += 5,
            b'-' | b'0'..=b'9' => {
                let digits_from = i + usize::from(b == b'-');
                let digits = json
                    .get(digits_from..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|d| d.is_ascii_digit())
                    .count();
                let end = digits_from + digits;
                let negative_zero = b == b'-' && json.get(digits_from) == Some(&b'0');
                let fraction = matches!(json.get(end), Some(b'.' | b'e' | b'E'));
                if digits == 0 || digits > 18 || negative_zero || fraction {
                    return false;
                }
                i = end;
            }
            _ => return false,
        }
    }
    open.is_empty()
}

/// Where the string whose content starts at `from` ends (its closing quote), if every escape in
/// it is one serde_json writes.
fn canonical_string_end(json: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        match *json.get(i)? {
            b'"' => return Some(i),
            b'\\' => match *json.get(i + 1)? {
                b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                _ => return None,
            },
            _ => i += 1,
        }
    }
}
