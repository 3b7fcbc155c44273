//! [`WebhookBody`]: a delivery's raw body as an adapter reads it, bounded by the verifier's
//! limit.

use std::fmt;

use super::config::WebhookVerifier;

/// A delivery's raw body, read chunk by chunk as it arrives, keeping at most one byte more than
/// the verifier's [`max_body_bytes`](WebhookVerifier::max_body_bytes): enough for
/// [`verify`](WebhookVerifier::verify) to refuse a body over the limit
/// (`webhook-payload-too-large`), whatever the client declares or sends, without buffering it.
///
/// An adapter pushes each chunk and stops reading once [`push`](Self::push) says so, then hands
/// [`as_bytes`](Self::as_bytes) to the verifier:
///
/// ```
/// use clerk_auth_core::webhook::{WebhookBody, WebhookErrorReason, WebhookVerifier};
///
/// let verifier = WebhookVerifier::builder()
///     .signing_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
///     .max_body_bytes(4)
///     .build()?;
/// let mut body = WebhookBody::new(&verifier);
/// for chunk in [&b"ab"[..], b"cde", b"fgh"] {
///     if !body.push(chunk) {
///         break; // full: the rest is never read
///     }
/// }
/// assert_eq!(body.as_bytes(), b"abcde");
/// let headers = |_: &str| None;
/// let refused = verifier.verify_headers(headers, body.as_bytes()).unwrap_err();
/// assert_eq!(refused.reason(), WebhookErrorReason::PayloadTooLarge);
/// # Ok::<(), clerk_auth_core::ConfigError>(())
/// ```
///
/// `Debug` shows the length, never the bytes.
pub struct WebhookBody {
    bytes: Vec<u8>,
    capacity: usize,
}

impl WebhookBody {
    /// An empty body for `verifier`: it keeps up to `max_body_bytes + 1` bytes.
    pub fn new(verifier: &WebhookVerifier) -> Self {
        Self {
            bytes: Vec::new(),
            capacity: verifier.max_body_bytes().saturating_add(1),
        }
    }

    /// How many bytes it keeps at most (`max_body_bytes + 1`): the limit to read with, for a
    /// framework that bounds a read itself (Rocket's `data.open(limit)`).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Appends as much of `chunk` as fits; `false` once full (stop reading: the body is over the
    /// limit), `true` while more may come.
    pub fn push(&mut self, chunk: &[u8]) -> bool {
        let room = self.capacity - self.bytes.len();
        self.bytes
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
        self.bytes.len() < self.capacity
    }

    /// The bytes kept, for [`verify`](WebhookVerifier::verify).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for WebhookBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookBody")
            .field("len", &self.bytes.len())
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn verifier(limit: usize) -> WebhookVerifier {
        WebhookVerifier::builder()
            .allow_missing_secret()
            .max_body_bytes(limit)
            .build()
            .unwrap()
    }

    #[test]
    fn it_keeps_one_byte_over_the_limit_whatever_the_chunks() {
        let chunks: [&[u8]; 4] = [b"abc", b"defg", b"", b"hij"];
        for (limit, want, full) in [
            (0, "a", true),
            (1, "ab", true),
            (2, "abc", true),
            (4, "abcde", true),
            (9, "abcdefghij", true),
            (10, "abcdefghij", false),
            (99, "abcdefghij", false),
        ] {
            let mut body = WebhookBody::new(&verifier(limit));
            let mut stopped = false;
            for chunk in chunks {
                if !body.push(chunk) {
                    stopped = true;
                    break;
                }
            }
            assert_eq!(body.as_bytes(), want.as_bytes(), "limit {limit}");
            assert_eq!(stopped, full, "limit {limit}");
            assert_eq!(body.capacity(), limit + 1);
        }
    }

    #[test]
    fn a_huge_limit_does_not_overflow() {
        let mut body = WebhookBody::new(&verifier(usize::MAX));
        assert_eq!(body.capacity(), usize::MAX);
        assert!(body.push(b"abc"));
    }

    #[test]
    fn debug_shows_the_length_not_the_bytes() {
        let mut body = WebhookBody::new(&verifier(99));
        body.push(b"secret-ish body");
        let text = format!("{body:?}");
        assert!(
            text.contains("len: 15") && !text.contains("secret"),
            "{text}"
        );
    }
}
