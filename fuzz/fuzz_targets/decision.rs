//! An arbitrary request (method, URL, any headers and cookies as raw bytes) through
//! `try_authenticate_request` under each configuration shape, with a Backend API and key set stub
//! answering from the input; a `WouldBlock` is followed by its `Deferred::run`. Invariants:
//! signed-in only from a token the stub key set signed or an opaque token the stub approved; no
//! response header value contains CR or LF (or another control character); no message exceeds the
//! decision-15 bound; `try_authenticate_request` performs no IO.
#![no_main]

use std::sync::atomic::Ordering;
use std::sync::Arc;

use clerk_auth_core::fuzzing::is_jwt_format;
use clerk_auth_core::state::X_CLERK_AUTH_MESSAGE;
use clerk_auth_core::{try_authenticate_request, Interrupt, Jwt, RequestState, TokenType};
use clerk_auth_fuzz::{options, stub_key, Case, Stub, MAX_MESSAGE_BYTES};
use libfuzzer_sys::fuzz_target;

fn no_control(what: &str, bytes: &[u8]) {
    assert!(
        !bytes.iter().any(|&b| b < 0x20 && b != b'\t' || b == 0x7f),
        "{what} carries a control character: {:?}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
    );
}

fn check(state: &RequestState, stub: &Stub) {
    for (name, value) in state.headers() {
        let bytes = value.as_bytes();
        assert!(
            !bytes.contains(&b'\r') && !bytes.contains(&b'\n'),
            "header {name} carries CR or LF"
        );
        no_control(name.as_str(), bytes);
        if name == X_CLERK_AUTH_MESSAGE {
            assert!(
                bytes.len() <= MAX_MESSAGE_BYTES,
                "{name}: {} bytes",
                bytes.len()
            );
        }
    }
    if let Some(message) = state.message() {
        assert!(
            message.len() <= MAX_MESSAGE_BYTES,
            "message of {} bytes: {:.300}",
            message.len(),
            message
        );
        no_control("message", message.as_bytes());
    }
    let json = state.auth_json_string();
    let _ = state.rejection();
    let _ = state.server_error_json();
    if state.is_signed_in() {
        let token = state.token().unwrap_or_default();
        let opaque = state.token_type() != Some(TokenType::SessionToken) && !is_jwt_format(token);
        if opaque {
            assert!(
                stub.approved(token),
                "signed in with an opaque token the stub never approved: {json:.300}"
            );
        } else {
            let signed = Jwt::decode(token)
                .map(|jwt| stub_key().verify(&jwt).is_ok())
                .unwrap_or(false);
            assert!(
                signed,
                "signed in with a token the stub key set did not sign: {json:.300}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let case = Case::parse(data);
    let stub = Arc::new(Stub::new(&case));
    let Some(options) = options(&case, Some(stub.clone())) else {
        return;
    };
    let request = case.request();
    let outcome = try_authenticate_request(&request, &options);
    assert_eq!(
        stub.io.load(Ordering::SeqCst),
        0,
        "try_authenticate_request performed IO"
    );
    match outcome {
        Ok(state) => check(&state, &stub),
        Err(Interrupt::WouldBlock(deferred)) => match deferred.run() {
            Ok(state) => check(&state, &stub),
            Err(e) => {
                let text = e.to_json();
                assert!(
                    text.len() <= MAX_MESSAGE_BYTES,
                    "error of {} bytes",
                    text.len()
                );
            }
        },
        Err(Interrupt::Failed(e)) => {
            let text = e.to_json();
            assert!(
                text.len() <= MAX_MESSAGE_BYTES,
                "error of {} bytes",
                text.len()
            );
        }
    }
});
