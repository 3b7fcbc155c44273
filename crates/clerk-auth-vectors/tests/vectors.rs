//! Runs every committed decision vector (`tests/vectors/*.json`) through the core.

use clerk_auth_core::authenticate_request;
use clerk_auth_vectors::vectors::Vector;

#[test]
fn decision_vectors() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors");
    let vectors = Vector::load_dir(dir).expect("vectors load");
    assert!(vectors.len() >= 40, "only {} vectors", vectors.len());
    let mut failures = Vec::new();
    for vector in &vectors {
        let prepared = vector.prepare(None).expect("vector prepares");
        let options = prepared.options();
        let options = match options {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{}: options: {e}", vector.name));
                continue;
            }
        };
        let request = prepared.test_request();
        let outcome = match authenticate_request(&request, &options) {
            Ok(state) => {
                let headers: Vec<(String, String)> = state
                    .headers()
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_owned(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect();
                let reason = state.reason().map(|r| r.to_string());
                prepared
                    .expect
                    .check(
                        state.status().as_str(),
                        reason.as_deref(),
                        state.message(),
                        &headers,
                        state.session().and_then(|s| s.user_id.as_deref()),
                    )
                    .and_then(|()| {
                        prepared
                            .expect
                            .check_auth(state.token_type().map(|t| t.as_str()), &state.auth_json())
                    })
            }
            Err(e) => prepared
                .expect
                .check("error", None, Some(&e.to_string()), &[], None),
        };
        if let Err(problem) = outcome {
            failures.push(format!("{} [{}]:\n  {problem}", vector.name, vector.spec));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}
