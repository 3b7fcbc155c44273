//! The warp example server (`cargo run --release -p clerk-auth-examples --bin warp`).
//! See `../shared/spec/examples-contract.md`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    clerk_auth_examples::init_logging();
    let example = match clerk_auth_examples::configure() {
        Ok(example) => example,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    // Proves the configuration (and fetches Clerk's key set) before serving.
    if let Err(err) = clerk_auth_examples::warp::self_check(&example).await {
        eprintln!("{err}");
        return ExitCode::FAILURE;
    }
    let (example, listener) = match clerk_auth_examples::listen(example) {
        Ok(started) => started,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    clerk_auth_examples::exit_code(clerk_auth_examples::warp::serve(example, listener).await)
}
