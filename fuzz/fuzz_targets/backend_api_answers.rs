//! Arbitrary bytes as Backend API answers, read exactly as the default clients read them: the
//! key set (`GET /jwks`), the handshake payload, a refresh and a machine-token verification (then
//! the auth objects built from it). The first two bytes are the HTTP status. Invariants: errors,
//! never panics; a key from the key set verifies the kit's tokens or refuses them cleanly; error
//! messages stay within the decision-15 bound.
#![no_main]

use std::sync::OnceLock;

use clerk_auth_core::fuzzing::{backend_api_answer, key_set_answer, machine_auth_from_responses};
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::Jwt;
use clerk_auth_fuzz::{now, MAX_MESSAGE_BYTES};
use libfuzzer_sys::fuzz_target;

fn token() -> &'static Jwt {
    static TOKEN: OnceLock<Jwt> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let t = TokenMinter::new(KeyPair::shared()).issued_at(now()).mint();
        Jwt::decode(&t).unwrap_or_else(|e| panic!("kit token: {e}"))
    })
}

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [a, b, rest @ ..] => {
            // Mostly 200; other statuses from the high bit.
            let raw = u16::from_be_bytes([*a, *b]);
            let status = if raw & 0x8000 == 0 {
                200
            } else {
                100 + raw % 500
            };
            (status, rest)
        }
        _ => (200, data),
    };
    match key_set_answer(status, body) {
        Ok(keys) => {
            assert!(!keys.is_empty());
            for key in keys.values() {
                let _ = key.verify(token());
                let _ = (key.algorithm(), key.bits());
            }
        }
        Err(e) => assert!(
            e.message.len() <= MAX_MESSAGE_BYTES,
            "{} bytes",
            e.message.len()
        ),
    }
    let answers = backend_api_answer(status, body);
    if let Ok(directives) = &answers.handshake {
        let _ = clerk_auth_core::fuzzing::session_token_from_directives(directives);
    }
    let _ = answers.refresh;
    if let Ok(value) = &answers.machine {
        for auth in machine_auth_from_responses(value).into_iter().flatten() {
            let _ = format!("{auth:?}");
        }
    }
});
