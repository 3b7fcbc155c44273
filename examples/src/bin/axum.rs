//! The axum example server (`cargo run --release -p clerk-auth-examples --bin axum`).
//! See `../shared/spec/examples-contract.md`.

use std::process::ExitCode;

use clerk_auth_examples::{axum, run_binary};

#[tokio::main]
async fn main() -> ExitCode {
    run_binary(axum::self_check, axum::serve).await
}
