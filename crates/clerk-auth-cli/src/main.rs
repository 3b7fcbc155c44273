//! `clerk-auth`: see the library documentation of `clerk-auth-cli`.

use clap::Parser;

fn main() {
    let cli = clerk_auth_cli::Cli::parse();
    let mut stdout = std::io::stdout().lock();
    let code = clerk_auth_cli::run(&cli, &|name| std::env::var(name).ok(), &mut stdout);
    std::process::exit(code);
}
