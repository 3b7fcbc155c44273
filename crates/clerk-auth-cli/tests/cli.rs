//! The `clerk-auth` binary, run as a user runs it: arguments like curl's, CLERK_* variables.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};
use std::time::{Duration, UNIX_EPOCH};

use clerk_auth_core::testing::server::BackendApiServer;
use clerk_auth_core::testing::{KeyPair, TokenMinter};

const PK: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
const T: u64 = 1_700_000_000;

fn clerk_auth(env: &[(&str, &str)], args: &[&str]) -> (i32, String) {
    let Output { status, stdout, .. } = Command::new(env!("CARGO_BIN_EXE_clerk-auth"))
        .env_clear()
        .envs(env.iter().copied())
        .args(args)
        .output()
        .unwrap();
    (status.code().unwrap(), String::from_utf8(stdout).unwrap())
}

fn pem_env(pem: &str) -> Vec<(&'static str, &str)> {
    vec![
        ("CLERK_PUBLISHABLE_KEY", PK),
        ("CLERK_SECRET_KEY", "sk_live_cli"),
        ("CLERK_JWT_KEY", pem),
    ]
}

fn token_at(t: u64) -> String {
    TokenMinter::new(KeyPair::shared())
        .issued_at(UNIX_EPOCH + Duration::from_secs(t))
        .mint()
}

#[test]
fn explains_a_bearer_request_without_printing_the_token() {
    let pem = KeyPair::shared().public_pem();
    let token = token_at(T);
    let (code, out) = clerk_auth(
        &pem_env(&pem),
        &[
            "explain",
            "--at",
            &T.to_string(),
            "-H",
            &format!("Authorization: Bearer {token}"),
            "https://app.example.com/api/me",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("[request] GET https://app.example.com/api/me"),
        "{out}"
    );
    assert!(
        out.contains("[§2.1] token in the Authorization header: eyJhbGci…"),
        "{out}"
    );
    assert!(
        out.contains("against now 1700000000 with a 5 s skew: ok"),
        "{out}"
    );
    assert!(out.contains("[outcome] signed-in"), "{out}");
    let payload = token.split('.').nth(1).unwrap();
    assert!(!out.contains(&payload[..24]), "the token was printed");
    assert!(
        !out.contains(pem.lines().nth(1).unwrap()),
        "the key was printed"
    );
}

#[test]
fn replays_a_request_at_another_time() {
    let pem = KeyPair::shared().public_pem();
    let token = token_at(T);
    let (code, out) = clerk_auth(
        &pem_env(&pem),
        &[
            "explain",
            "--at",
            &(T + 3600).to_string(),
            "-H",
            &format!("Authorization: Bearer {token}"),
            "https://app.example.com/api/me",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("(3540 s ago) against now 1700003600"), "{out}");
    assert!(out.contains("fails (token-expired)"), "{out}");
    assert!(out.contains("[outcome] signed-out; reason session-token-expired-refresh-non-eligible-no-refresh-cookie"), "{out}");
}

#[test]
fn explains_a_handshake_from_cookies() {
    let pem = KeyPair::shared().public_pem();
    let (code, out) = clerk_auth(
        &pem_env(&pem),
        &[
            "explain",
            "-H",
            "Sec-Fetch-Dest: document",
            "-b",
            "__client_uat=1700000000",
            "https://app.example.com/dashboard",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("[§1.5] unsuffixed names: rule 3"), "{out}");
    assert!(out.contains("__client_uat = 1700000000"), "{out}");
    assert!(
        out.contains("redirect loop counter 0 < 3: handshake"),
        "{out}"
    );
    assert!(
        out.contains("[outcome] handshake; reason client-uat-but-no-session-token"),
        "{out}"
    );
    assert!(
        out.contains("response headers: location, cache-control, set-cookie"),
        "{out}"
    );
    assert!(out.contains("x-clerk-auth-status: handshake"), "{out}");
}

#[test]
fn a_bad_publishable_key_is_named() {
    let (code, out) = clerk_auth(
        &[
            ("CLERK_PUBLISHABLE_KEY", "pk_live_garbage"),
            ("CLERK_SECRET_KEY", "sk_live_x"),
        ],
        &["explain", "https://app.example.com/"],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("CLERK_PUBLISHABLE_KEY"), "{out}");
    assert!(!out.contains("pk_live_garbage"), "{out}");
}

#[test]
fn usage_errors_exit_2() {
    let pem = KeyPair::shared().public_pem();
    let (code, out) = clerk_auth(&pem_env(&pem), &["explain", "/relative"]);
    assert_eq!(code, 2);
    assert!(out.contains("not absolute"), "{out}");
}

#[test]
fn self_check_against_a_backend_api() {
    let server = BackendApiServer::start("sk_test_cli").unwrap();
    server.set_keys(vec![KeyPair::shared().jwk("ins_1")]);
    let url = server.url();
    let env = |secret: &'static str| {
        vec![
            ("CLERK_PUBLISHABLE_KEY", "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k"),
            ("CLERK_SECRET_KEY", secret),
            ("CLERK_API_URL", url.as_str()),
        ]
    };
    let (code, out) = clerk_auth(&env("sk_test_cli"), &["self-check"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(server.jwks_fetches(), 1);

    let (code, out) = clerk_auth(&env("sk_test_wrong"), &["self-check"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("CLERK_SECRET_KEY"), "{out}");
    assert!(!out.contains("sk_test_wrong"), "{out}");
}
