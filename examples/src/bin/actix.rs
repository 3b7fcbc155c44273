//! The actix-web example server (`cargo run --release -p clerk-auth-examples --bin actix`).
//! See `../shared/spec/examples-contract.md`.

use std::process::ExitCode;

#[actix_web::main]
async fn main() -> ExitCode {
    let (example, listener) = match clerk_auth_examples::start() {
        Ok(started) => started,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    clerk_auth_examples::exit_code(clerk_auth_examples::actix::serve(example, listener).await)
}
