//! The `clerk-auth` command: explain how a request is authenticated, and check a configuration.
//!
//! ```text
//! clerk-auth explain [-X METHOD] [-H 'Name: value']... [-b 'name=value; …']... [-e REFERER] [--at UNIX] URL
//! clerk-auth self-check
//! ```
//!
//! Both read the usual `CLERK_*` environment variables (`CLERK_SECRET_KEY`,
//! `CLERK_PUBLISHABLE_KEY`, `CLERK_JWT_KEY`, …), like the services do. `explain` takes the request
//! the way `curl` does and prints the decision step by step
//! ([`clerk_auth_core::explain_request`]); tokens appear as 8-character prefixes only.
//! `self-check` proves the configuration ([`clerk_auth_core::self_check()`]).
//!
//! Exit codes: `0` the request was decided (whatever the state) or the configuration is usable;
//! `1` the request could not be decided, or the self-check found an error; `2` a usage or
//! configuration error.
//!
//! The logic lives in this library so that it is tested without a process; `main.rs` only
//! parses the arguments and calls [`run`].

use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand};
use clerk_auth_core::{
    explain_request, self_check, Clock, OptionsBuilder, OwnedRequest, SelfCheckReport,
};

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "clerk-auth",
    version,
    about = "Explain how clerk-auth decides a request, and check a Clerk configuration.",
    after_help = "Configuration comes from the CLERK_* environment variables, as in your service."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decide a request and print every step of the decision.
    Explain(ExplainArgs),
    /// Check the configuration: keys decode and match, the key set can be fetched.
    SelfCheck,
}

/// A request, given the way `curl` takes it.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The request URL, absolute (`https://app.example.com/dashboard`).
    pub url: String,
    /// The method.
    #[arg(short = 'X', long = "request", default_value = "GET")]
    pub method: String,
    /// A header, `Name: value` (repeatable), e.g. `-H 'Authorization: Bearer <token>'`.
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,
    /// Cookies, `name=value; name2=value2` (repeatable; sent as one `Cookie` header).
    #[arg(short = 'b', long = "cookie", value_name = "DATA")]
    pub cookies: Vec<String>,
    /// The `Referer` header.
    #[arg(short = 'e', long = "referer")]
    pub referer: Option<String>,
    /// Decide as if the time were this Unix time (seconds), e.g. to replay a captured request.
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub at: Option<u64>,
}

/// A usage error: what is wrong with the arguments.
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

impl ExplainArgs {
    /// The request these arguments describe. As `curl` does, `Host` comes from the URL unless a
    /// `-H 'Host: …'` is given.
    pub fn request(&self) -> Result<OwnedRequest, UsageError> {
        let url = url::Url::parse(&self.url)
            .map_err(|e| UsageError(format!("the URL {:?} is not absolute: {e}", self.url)))?;
        let mut headers: Vec<(&str, String)> = Vec::new();
        let mut has_host = false;
        for header in &self.headers {
            let (name, value) = header.split_once(':').ok_or_else(|| {
                UsageError(format!(
                    "a header is written `Name: value`; got {:?}",
                    shorten(header)
                ))
            })?;
            let name = name.trim();
            if name.is_empty() {
                return Err(UsageError("a header has an empty name".to_owned()));
            }
            has_host |= name.eq_ignore_ascii_case("host");
            headers.push((name, value.trim().to_owned()));
        }
        if !has_host {
            if let Some(host) = url.host_str() {
                let host = match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_owned(),
                };
                headers.push(("host", host));
            }
        }
        if !self.cookies.is_empty() {
            for cookie in &self.cookies {
                if !cookie.contains('=') {
                    return Err(UsageError(format!(
                        "cookies are written `name=value; …` (cookie files are not read); got {:?}",
                        shorten(cookie)
                    )));
                }
            }
            headers.push(("cookie", self.cookies.join("; ")));
        }
        if let Some(referer) = &self.referer {
            headers.push(("referer", referer.clone()));
        }
        Ok(OwnedRequest::new(&self.method, &self.url, headers))
    }
}

/// At most 12 characters of an argument in an error message (it may hold a token).
fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(12).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// A clock stopped at one instant (`--at`).
#[derive(Debug)]
struct At(SystemTime);

impl Clock for At {
    fn now(&self) -> SystemTime {
        self.0
    }
}

/// Runs `cli` with the environment read through `env`, writing to `out`; returns the exit code.
pub fn run(cli: &Cli, env: &dyn Fn(&str) -> Option<String>, out: &mut dyn Write) -> i32 {
    match run_inner(cli, env, out) {
        Ok(code) => code,
        Err(e) => {
            // Writing to the terminal failed: nothing more can be said.
            let _ = writeln!(io::stderr(), "clerk-auth: {e}");
            2
        }
    }
}

fn run_inner(
    cli: &Cli,
    env: &dyn Fn(&str) -> Option<String>,
    out: &mut dyn Write,
) -> io::Result<i32> {
    match &cli.command {
        Command::Explain(args) => explain(args, env, out),
        Command::SelfCheck => check(env, out),
    }
}

fn explain(
    args: &ExplainArgs,
    env: &dyn Fn(&str) -> Option<String>,
    out: &mut dyn Write,
) -> io::Result<i32> {
    let request = match args.request() {
        Ok(r) => r,
        Err(e) => {
            writeln!(out, "usage error: {e}")?;
            return Ok(2);
        }
    };
    let mut builder = match OptionsBuilder::from_env_with(env) {
        Ok(b) => b,
        Err(e) => return config_error(&e, out),
    };
    if let Some(at) = args.at {
        builder = builder.clock(Arc::new(At(UNIX_EPOCH + Duration::from_secs(at))));
    }
    let options = match builder.build() {
        Ok(o) => o,
        Err(e) => return config_error(&e, out),
    };
    let explanation = explain_request(&request, &options);
    write!(out, "{explanation}")?;
    match explanation.outcome() {
        Ok(state) => {
            let names: Vec<String> = state
                .headers()
                .iter()
                .map(|(name, value)| {
                    // Debug headers are safe to show; other values (cookies) may hold tokens.
                    if name.as_str().starts_with("x-clerk-auth-") {
                        format!("{name}: {}", value.to_str().unwrap_or("(not text)"))
                    } else {
                        name.to_string()
                    }
                })
                .collect();
            if !names.is_empty() {
                writeln!(out, "response headers: {}", names.join(", "))?;
            }
            Ok(0)
        }
        Err(_) => Ok(1),
    }
}

fn config_error(error: &clerk_auth_core::ConfigError, out: &mut dyn Write) -> io::Result<i32> {
    writeln!(out, "{}", SelfCheckReport::from_config_error(error))?;
    Ok(2)
}

fn check(env: &dyn Fn(&str) -> Option<String>, out: &mut dyn Write) -> io::Result<i32> {
    let options = match OptionsBuilder::from_env_with(env).and_then(OptionsBuilder::build) {
        Ok(o) => o,
        Err(e) => return config_error(&e, out),
    };
    let report = self_check(&options);
    writeln!(out, "{report}")?;
    Ok(if report.is_ok() { 0 } else { 1 })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> ExplainArgs {
        let cli = Cli::try_parse_from(["clerk-auth", "explain"].iter().chain(list.iter()).copied())
            .unwrap();
        match cli.command {
            Command::Explain(a) => a,
            Command::SelfCheck => panic!("explain expected"),
        }
    }

    fn header<'a>(r: &'a OwnedRequest, name: &str) -> Option<&'a str> {
        r.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| std::str::from_utf8(v).unwrap())
    }

    #[test]
    fn curl_style_arguments_make_the_request() {
        let a = args(&[
            "-X",
            "POST",
            "-H",
            "Authorization: Bearer abc",
            "-H",
            "sec-fetch-dest:document",
            "-b",
            "__session=x",
            "-b",
            "__client_uat=1",
            "-e",
            "https://other.example.org/",
            "https://app.example.com:8443/p?q=1",
        ]);
        let r = a.request().unwrap();
        assert_eq!(header(&r, "authorization"), Some("Bearer abc"));
        assert_eq!(header(&r, "sec-fetch-dest"), Some("document"));
        assert_eq!(header(&r, "cookie"), Some("__session=x; __client_uat=1"));
        assert_eq!(header(&r, "referer"), Some("https://other.example.org/"));
        assert_eq!(header(&r, "host"), Some("app.example.com:8443"));
        use clerk_auth_core::RequestView;
        assert_eq!(r.method(), "POST");
    }

    #[test]
    fn an_explicit_host_wins() {
        let r = args(&["-H", "Host: public.example.com", "http://127.0.0.1:3000/"])
            .request()
            .unwrap();
        assert_eq!(header(&r, "host"), Some("public.example.com"));
        assert_eq!(r.headers().filter(|(n, _)| *n == "host").count(), 1);
    }

    #[test]
    fn bad_arguments_are_usage_errors_that_do_not_echo_tokens() {
        let e = args(&[
            "-H",
            "eyJhbGciOiJSUzI1NiJ9.secretpart",
            "https://a.example.com/",
        ])
        .request()
        .unwrap_err();
        assert!(e.0.contains("Name: value"), "{e}");
        assert!(!e.0.contains("secretpart"), "{e}");
        let e = args(&["-b", "cookies.txt", "https://a.example.com/"])
            .request()
            .unwrap_err();
        assert!(e.0.contains("cookie files are not read"), "{e}");
        let e = args(&["/relative"]).request().unwrap_err();
        assert!(e.0.contains("not absolute"), "{e}");
    }
}
