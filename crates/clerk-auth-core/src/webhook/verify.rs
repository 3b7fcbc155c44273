//! The verification itself, in Clerk's order: body limit, headers, timestamp window,
//! signature, then (only once the signature holds) the JSON payload.

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::js;
use crate::request::{latin1, RequestView};

use super::config::WebhookVerifier;
use super::error::{PayloadProblem, WebhookError};
use super::event::WebhookEvent;
use super::secret::{constant_time_eq, SigningKey};
use super::TIMESTAMP_TOLERANCE_SECS;

/// The header names of one convention, in the order id, timestamp, signature.
type HeaderNames = [&'static str; 3];

/// Svix's names, which Clerk sends and reports when headers are missing.
pub(super) const SVIX_HEADERS: HeaderNames = ["svix-id", "svix-timestamp", "svix-signature"];

/// The Standard Webhooks names, read when no `svix-*` header is present.
pub(super) const STANDARD_HEADERS: HeaderNames =
    ["webhook-id", "webhook-timestamp", "webhook-signature"];

/// The only signature version Clerk (Svix) signs with.
const VERSION: &str = "v1";

impl WebhookVerifier {
    /// Verifies a webhook: its headers (read through the request view) and its raw body, byte for
    /// byte as received. The event, or why it is refused.
    ///
    /// In order: no secret configured → [`WebhookError::SecretMissing`]; a body over
    /// [`max_body_bytes`](Self::max_body_bytes) → `PayloadTooLarge`; then the `svix-id`,
    /// `svix-timestamp` and `svix-signature` headers (or, when none of those is present, the
    /// Standard Webhooks `webhook-id`, `webhook-timestamp` and `webhook-signature`), each trimmed
    /// as JavaScript's `trim()` does, empty counting as missing → `HeadersMissing`; the timestamp
    /// read as JavaScript's `parseInt(value, 10)` → `TimestampInvalid`, and more than 300 s
    /// before or after the clock → `TimestampTooOld` / `TimestampTooNew`; any `v1` signature of
    /// the space-separated list equal (in constant time) to the HMAC-SHA256 of
    /// `{id}.{timestamp}.{body}` → else `SignatureMismatch`; and only then the body as a JSON
    /// object with a string `type` → else `PayloadInvalid`.
    pub fn verify<R: RequestView + ?Sized>(
        &self,
        request: &R,
        body: &[u8],
    ) -> Result<WebhookEvent, WebhookError> {
        self.verify_headers(|name| request.header(name), body)
    }

    /// Like [`verify`](Self::verify), reading each header through `header` (called with
    /// lowercase names; the first value, raw bytes), for header collections that are not a
    /// [`RequestView`], such as an `http::HeaderMap`:
    /// `verifier.verify_headers(|name| headers.get(name).map(|v| v.as_bytes()), &body)`.
    pub fn verify_headers<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h [u8]>,
        body: &[u8],
    ) -> Result<WebhookEvent, WebhookError> {
        let result = self.check(&header, body);
        if let Err(error) = &result {
            tracing::debug!(target: "clerk_auth", reason = %error.reason(), "Clerk: webhook refused");
        }
        result
    }

    fn check<'h>(
        &self,
        header: &dyn Fn(&str) -> Option<&'h [u8]>,
        body: &[u8],
    ) -> Result<WebhookEvent, WebhookError> {
        let key = self.inner.key.as_ref().ok_or(WebhookError::SecretMissing)?;
        let limit = self.inner.max_body_bytes;
        if body.len() > limit {
            return Err(WebhookError::PayloadTooLarge {
                len: body.len(),
                limit,
            });
        }
        let [id, timestamp, signatures] = read_headers(header)?;
        let timestamp =
            js::parse_int(&timestamp, Some(10)).ok_or(WebhookError::TimestampInvalid)?;
        check_window(timestamp, unix_seconds(self.inner.clock.now()))?;
        if !signature_matches(key, &id, timestamp, body, &signatures) {
            return Err(WebhookError::SignatureMismatch);
        }
        let payload = serde_json::from_slice(body)
            .map_err(|_| WebhookError::PayloadInvalid(PayloadProblem::NotJson))?;
        WebhookEvent::from_payload(id.into_owned(), payload).map_err(WebhookError::PayloadInvalid)
    }
}

/// The id, timestamp and signature headers, JavaScript-trimmed: the `svix-*` ones, or the
/// `webhook-*` ones when no `svix-*` header has a value. Missing or blank ones are reported in
/// order, by the names of the convention read.
fn read_headers<'h>(
    header: &dyn Fn(&str) -> Option<&'h [u8]>,
) -> Result<[Cow<'h, str>; 3], WebhookError> {
    let read = |names: HeaderNames| names.map(|name| header_value(header, name));
    let mut values = read(SVIX_HEADERS);
    let mut names = SVIX_HEADERS;
    if values.iter().all(Option::is_none) {
        let standard = read(STANDARD_HEADERS);
        if standard.iter().any(Option::is_some) {
            values = standard;
            names = STANDARD_HEADERS;
        }
    }
    match values {
        [Some(id), Some(timestamp), Some(signatures)] => Ok([id, timestamp, signatures]),
        _ => Err(WebhookError::HeadersMissing {
            missing: names
                .iter()
                .zip(&values)
                .filter(|(_, v)| v.is_none())
                .map(|(name, _)| *name)
                .collect(),
        }),
    }
}

/// A header's value, Latin-1 decoded (as Node.js reads header bytes) and trimmed as
/// JavaScript's `trim()`; `None` when absent or blank.
fn header_value<'h>(header: &dyn Fn(&str) -> Option<&'h [u8]>, name: &str) -> Option<Cow<'h, str>> {
    let value = latin1(header(name)?);
    let trimmed = match value {
        Cow::Borrowed(s) => Cow::Borrowed(js::trim(s)),
        Cow::Owned(s) => Cow::Owned(js::trim(&s).to_owned()),
    };
    (!trimmed.is_empty()).then_some(trimmed)
}

/// Unix seconds, rounded down (JavaScript's `Math.floor(Date.now() / 1000)`).
fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let secs = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            let partial = i64::from(before.subsec_nanos() > 0);
            secs.saturating_add(partial).saturating_neg()
        }
    }
}

/// The 5-minute window, both ways: `now - ts > 300` is too old, `ts > now + 300` too new.
fn check_window(timestamp: i64, now: i64) -> Result<(), WebhookError> {
    if now.saturating_sub(timestamp) > TIMESTAMP_TOLERANCE_SECS {
        Err(WebhookError::TimestampTooOld { timestamp, now })
    } else if timestamp > now.saturating_add(TIMESTAMP_TOLERANCE_SECS) {
        Err(WebhookError::TimestampTooNew { timestamp, now })
    } else {
        Ok(())
    }
}

/// Whether any `v1` item of the space-separated signature list equals the expected signature.
/// Each item is split at its first comma into a version and a signature; other versions are
/// skipped.
fn signature_matches(
    key: &SigningKey,
    id: &str,
    timestamp: i64,
    body: &[u8],
    signatures: &str,
) -> bool {
    let timestamp = timestamp.to_string();
    let Some(expected) = key.sign(&[id.as_bytes(), b".", timestamp.as_bytes(), b".", body]) else {
        return false;
    };
    signatures
        .split(' ')
        .filter_map(|item| item.split_once(','))
        .filter(|(version, _)| *version == VERSION)
        .any(|(_, signature)| constant_time_eq(signature.as_bytes(), expected.as_bytes()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_window_is_300_seconds_both_ways() {
        let now = 1_733_212_345;
        assert!(check_window(now - 300, now).is_ok());
        assert!(check_window(now + 300, now).is_ok());
        assert!(matches!(
            check_window(now - 301, now),
            Err(WebhookError::TimestampTooOld { .. })
        ));
        assert!(matches!(
            check_window(now + 301, now),
            Err(WebhookError::TimestampTooNew { .. })
        ));
        assert!(matches!(
            check_window(i64::MIN, now),
            Err(WebhookError::TimestampTooOld { .. })
        ));
        assert!(matches!(
            check_window(i64::MAX, now),
            Err(WebhookError::TimestampTooNew { .. })
        ));
        assert!(check_window(i64::MAX, i64::MAX).is_ok());
    }

    #[test]
    fn unix_seconds_round_down() {
        let t = |d: Duration| unix_seconds(UNIX_EPOCH + d);
        assert_eq!(t(Duration::from_millis(1_999)), 1);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_millis(1)), -1);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(2)), -2);
    }

    #[test]
    fn headers_are_trimmed_and_reported_in_order() {
        let pairs = [
            ("svix-id", &b" msg_1\t"[..]),
            ("svix-signature", &b"\xa0"[..]),
            ("webhook-timestamp", &b"1"[..]),
        ];
        let header = |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        let err = read_headers(&header).unwrap_err();
        // Svix headers are present, so the Standard Webhooks ones are not mixed in; U+00A0 is
        // JavaScript white space.
        assert_eq!(
            err,
            WebhookError::HeadersMissing {
                missing: vec!["svix-timestamp", "svix-signature"]
            }
        );
        assert_eq!(header_value(&header, "svix-id").as_deref(), Some("msg_1"));
    }

    #[test]
    fn no_headers_at_all_are_reported_by_svix_names() {
        let err = read_headers(&|_| None).unwrap_err();
        assert_eq!(
            err.message(),
            "Missing required webhook headers: svix-id, svix-timestamp, svix-signature"
        );
    }

    #[test]
    fn signature_items_split_at_the_first_comma() {
        let key = SigningKey::decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let good = key.sign(&[b"msg_1.5.{}"]).unwrap();
        let ok = |list: &str| signature_matches(&key, "msg_1", 5, b"{}", list);
        assert!(ok(&format!("v1,{good}")));
        assert!(ok(&format!("v1,bad  v2,{good} v1,{good}")));
        assert!(!ok(&format!("v2,{good}")));
        assert!(!ok(&format!("v1,{good},")));
        assert!(!ok(&format!("V1,{good}")));
        assert!(!ok(&format!("v1{good}")));
        assert!(!ok(&format!("v1,{}", &good[..good.len() - 1])));
        assert!(!ok(""));
    }
}
