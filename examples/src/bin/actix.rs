//! The actix-web example server (`cargo run --release -p clerk-auth-examples --bin actix`).
//! See `../shared/spec/examples-contract.md`.

use std::process::ExitCode;

use clerk_auth_examples::{actix, run_binary};

#[actix_web::main]
async fn main() -> ExitCode {
    run_binary(actix::self_check, actix::serve).await
}
