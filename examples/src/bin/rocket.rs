//! The Rocket example server (`cargo run --release -p clerk-auth-examples --bin rocket`).
//! See `../shared/spec/examples-contract.md`.

use std::process::ExitCode;

fn main() -> ExitCode {
    clerk_auth_examples::init_logging();
    let example = match clerk_auth_examples::configure() {
        Ok(example) => example,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    let port = example.port;
    // The `ClerkAuth` fairing proves the configuration (and fetches Clerk's key set) on ignite.
    clerk_auth_examples::exit_code(::rocket::execute(clerk_auth_examples::rocket::run(
        example, port,
    )))
}
