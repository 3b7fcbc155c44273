//! What hostile values do to the logs (decision 15): every path that logs or traces a value from
//! the request or from an unverified token, flooded with line breaks followed by forged log
//! text, ANSI escapes and 10 KB values. One test in a binary of its own: `tracing` caches
//! callsite interest process-wide.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod hostile_support;

use std::net::TcpListener;

use clerk_auth_core::testing::logs::capture_logs;
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::{authenticate_request, explain_request, Options};
use hostile_support::*;

/// Each line the `tracing` formatter writes starts with its timestamp (`2026-…`): anything else
/// at the start of a line was written by whoever chose a value.
fn starts_with_a_timestamp(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 20 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

#[test]
fn hostile_values_cannot_forge_or_flood_log_lines() {
    let requests = hostile_requests();
    // A key set that cannot be fetched: its warnings name the URL and the transport error.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = Options::builder()
        .publishable_key(PK)
        .secret_key("sk_test_hostile_logs")
        .api_url(format!("http://clerk-user:s3cret-pass@127.0.0.1:{port}"))
        .jwks_max_attempts(1)
        .build()
        .unwrap();
    let hostile_kid = minter().kid(&hostile()).mint();

    let ((), logs) = capture_logs(tracing::Level::DEBUG, || {
        for (_, options, request) in &requests {
            let _ = authenticate_request(request, options);
            let _ = explain_request(request, options);
        }
        let request = TestRequest::get(URL).bearer(&hostile_kid).build();
        let state = authenticate_request(&request, &unreachable).unwrap();
        assert!(state.is_key_set_outage());
    });

    assert_inert_lines("logs", &logs, 2_048, starts_with_a_timestamp);
    // The values did reach the logs, escaped.
    assert!(logs.contains(&format!("\\n{FORGED}")), "{logs:.4000}");
    assert!(logs.contains("\\u{1b}[2J"), "{logs:.4000}");
    // The handshake-loop warning names the unverified issuer, escaped, on its own line.
    let warning = logs
        .lines()
        .find(|l| l.contains("WARN") && l.contains("infinite redirect loop"))
        .unwrap_or_else(|| panic!("no loop warning in:\n{logs:.4000}"));
    assert!(
        warning.contains("issued by clerk.other.com\\nERROR clerk_auth: forged\\r\\n"),
        "{warning}"
    );
    // The transport error goes to the log (it may), with the URL's userinfo removed.
    let failed = logs
        .lines()
        .find(|l| l.contains("WARN") && l.contains("Clerk JWKS request failed"))
        .unwrap_or_else(|| panic!("no transport warning in:\n{logs:.4000}"));
    assert!(
        failed.contains(&format!("url=http://127.0.0.1:{port}/v1/jwks")),
        "{failed}"
    );
    assert!(failed.contains("error="), "{failed}");
    assert!(!failed.contains("s3cret"), "{failed}");
}
