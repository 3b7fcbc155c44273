//! Every decision vector runs with tracing at TRACE level (so every decision also writes its
//! explanation to the logs), through `explain_request`, and with a metrics recorder: nothing
//! logged, explained or used as a metric label may contain a token (any minted or presented
//! one), the PEM key or a secret key.

#![allow(clippy::expect_used)] // test support outside #[test] functions
use clerk_auth_core::testing::logs::capture_logs;
use clerk_auth_core::{authenticate_request, explain_request};
use clerk_auth_vectors::vectors::Vector;
use metrics_util::debugging::DebuggingRecorder;

#[test]
fn decisions_never_log_tokens_or_keys() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors");
    let mut secrets: Vec<String> = Vec::new();
    let mut decided = 0;
    let mut explanations = String::new();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _metrics = metrics::set_default_local_recorder(&recorder);
    let vectors = Vector::load_dir(dir).expect("vectors");
    let ((), logs) = capture_logs(tracing::Level::TRACE, || {
        for vector in vectors {
            let prepared = vector.prepare(None).expect("prepare");
            let env = prepared.env.clone();
            for (k, v) in &env {
                if k == "CLERK_SECRET_KEY" || k == "CLERK_MACHINE_SECRET_KEY" {
                    secrets.push(v.clone());
                }
                if k == "CLERK_JWT_KEY" {
                    // A line of the PEM body is enough to spot a leak.
                    secrets.extend(v.lines().filter(|l| l.len() > 40).map(str::to_owned));
                }
            }
            for (_, value) in &prepared.request.headers {
                // Tokens appear in Authorization and Cookie headers; any long base64url run is one.
                secrets.extend(
                    value
                        .split(|c: char| {
                            !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
                        })
                        .filter(|t| t.len() >= 40)
                        .map(str::to_owned),
                );
            }
            let Ok(options) = prepared.options() else {
                continue;
            };
            let _ = authenticate_request(&prepared.test_request(), &options);
            explanations.push_str(&explain_request(&prepared.test_request(), &options).to_string());
            decided += 1;
        }
    });
    let labels: String = snapshotter
        .snapshot()
        .into_vec()
        .iter()
        .flat_map(|(key, _, _, _)| {
            key.key()
                .labels()
                .map(|l| format!("{}={}\n", l.key(), l.value()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        labels.contains("status=signed-in"),
        "the decisions were not counted"
    );
    assert!(
        explanations.contains("[§3.3]") && explanations.contains("[§1.5]"),
        "the explanations are missing steps"
    );
    assert!(decided > 100, "only {decided} vectors decided");
    assert!(
        logs.contains("clerk_auth"),
        "the decisions were not traced at all"
    );
    for secret in secrets.iter().filter(|s| s.len() >= 12) {
        // Compare a 24-character window so that a truncated token is caught too.
        let probe = &secret[..secret.len().min(24)];
        assert!(
            !logs.contains(probe),
            "a token or key reached the logs: {:.8}…",
            probe
        );
        assert!(
            !explanations.contains(probe),
            "a token or key reached an explanation: {:.8}…",
            probe
        );
        assert!(
            !labels.contains(probe),
            "a token or key reached a metric label: {:.8}…",
            probe
        );
    }
}
