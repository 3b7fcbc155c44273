//! The warp example server (`cargo run --release -p clerk-auth-examples --bin warp`).
//! See `../shared/spec/examples-contract.md`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let (example, listener) = match clerk_auth_examples::start() {
        Ok(started) => started,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    clerk_auth_examples::exit_code(clerk_auth_examples::warp::serve(example, listener).await)
}
