//! The warp example server (`cargo run --release -p clerk-auth-examples --bin warp`).
//! See `../shared/spec/examples-contract.md`.

use std::process::ExitCode;

use clerk_auth_examples::{run_binary, warp};

#[tokio::main]
async fn main() -> ExitCode {
    run_binary(warp::self_check, warp::serve).await
}
