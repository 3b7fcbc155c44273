//! The Rocket example server (`cargo run --release -p clerk-auth-examples --bin rocket`).
//! See `../shared/spec/examples-contract.md`.

use std::process::ExitCode;

use clerk_auth_examples::Example;

fn main() -> ExitCode {
    let example = match Example::from_env() {
        Ok(example) => example,
        Err(err) => {
            eprintln!("clerk-auth configuration error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let port = example.port;
    clerk_auth_examples::exit_code(::rocket::execute(clerk_auth_examples::rocket::run(
        example, port,
    )))
}
