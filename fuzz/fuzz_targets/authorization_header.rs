//! The `Authorization` header parser (decision 1, §1.7) with arbitrary bytes. Invariants: a token
//! is non-empty and without spaces: the credentials after `Bearer`, or a bare first piece
//! when nothing follows it; `Malformed` only for `Bearer` without credentials; another scheme
//! with credentials is ignored (JavaScript's `split(' ', 2)`, as Clerk reads the header).
#![no_main]

use clerk_auth_core::fuzzing::{authorization, AuthorizationOutcome};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (text, outcome) = authorization(data);
    // JavaScript's `split(' ', 2)`: the scheme, then the text up to the second space.
    let mut pieces = text.split(' ');
    let scheme = pieces.next().unwrap_or("");
    let rest = pieces.next().unwrap_or("");
    let bearer = scheme.eq_ignore_ascii_case("bearer");
    match &outcome {
        AuthorizationOutcome::Token(token) => {
            assert!(
                !token.is_empty() && !token.contains(' '),
                "{text:?} -> {token:?}"
            );
            assert!(
                (bearer && token == rest) || (!bearer && rest.is_empty() && token == scheme),
                "{text:?} -> {token:?}"
            );
        }
        AuthorizationOutcome::Malformed => {
            assert!(bearer && rest.is_empty(), "{text:?} malformed");
        }
        AuthorizationOutcome::None => {
            assert!(
                scheme.is_empty() || (!bearer && !rest.is_empty()),
                "{text:?} ignored"
            );
        }
    }
});
