//! The actix-web example server (`cargo run --release -p clerk-auth-examples --bin actix`).
//! See `../shared/spec/examples-contract.md`.

use std::io::Write;
use std::process::ExitCode;

use clerk_auth_examples::Example;

#[actix_web::main]
async fn main() -> ExitCode {
    let example = match Example::from_env() {
        Ok(example) => example,
        Err(err) => {
            eprintln!("clerk-auth configuration error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let bound = std::net::TcpListener::bind(("127.0.0.1", example.port))
        .and_then(|listener| Ok((listener.local_addr()?.port(), listener)));
    let (port, listener) = match bound {
        Ok(bound) => bound,
        Err(err) => {
            eprintln!("cannot listen on 127.0.0.1:{}: {err}", example.port);
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{}", example.banner(port));
    let _ = writeln!(out, "listening on http://127.0.0.1:{port}");
    let _ = out.flush();
    drop(out);
    match clerk_auth_examples::actix::serve(example, listener).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("server error: {err}");
            ExitCode::FAILURE
        }
    }
}
