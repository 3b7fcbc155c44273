//! The example binaries' start-up self-check, end to end: each binary runs as a process against
//! the Backend API emulator; an error stops it with the report on stderr and a non-zero exit,
//! a warning is logged and it serves, a good key set is cached before the first request, and the
//! embedded local issuer starts quietly without touching the network. And each binary, started
//! as the contract says, guards its authorization routes (`/api/org-admin`, `/api/reverify`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use clerk_auth_core::testing::server::{BackendApiServer, CannedResponse, Endpoint};
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_examples::Example;
use clerk_auth_vectors::webhooks::{self, SECRET};

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";

const BINARIES: [(&str, &str); 4] = [
    ("actix", env!("CARGO_BIN_EXE_actix")),
    ("rocket", env!("CARGO_BIN_EXE_rocket")),
    ("warp", env!("CARGO_BIN_EXE_warp")),
    ("axum", env!("CARGO_BIN_EXE_axum")),
];

/// A running example binary; killed on drop.
struct Process {
    name: &'static str,
    child: Child,
    listening: Receiver<u16>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Process {
    /// Starts `bin` with exactly `vars` (and `PORT=0`) as its environment.
    fn start(name: &'static str, bin: &str, vars: &[(&str, &str)]) -> Self {
        let mut child = Command::new(bin)
            .env_clear()
            .envs(vars.iter().copied())
            .env("PORT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, listening) = mpsc::channel();
        let stdout = Arc::new(Mutex::new(String::new()));
        let lines = BufReader::new(child.stdout.take().unwrap());
        let out = Arc::clone(&stdout);
        thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                {
                    let mut out = out.lock().unwrap();
                    out.push_str(&line);
                    out.push('\n');
                }
                if let Some(port) = line
                    .strip_prefix("listening on http://127.0.0.1:")
                    .and_then(|p| p.parse::<u16>().ok())
                {
                    let _ = tx.send(port);
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let err = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                err.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Self {
            name,
            child,
            listening,
            stdout,
            stderr,
        }
    }

    /// The base URL once the `listening on` line is printed.
    fn base(&self) -> String {
        match self.listening.recv_timeout(Duration::from_secs(60)) {
            Ok(port) => format!("http://127.0.0.1:{port}"),
            Err(_) => panic!("{}: never listened; stderr:\n{}", self.name, self.stderr()),
        }
    }

    /// Waits for the process to exit on its own.
    fn exit_status(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "{}: still running", self.name);
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Stderr so far; waits (up to 5 s) until it contains `want`, so that a line written just
    /// before `listening on` is there.
    fn stderr_with(&self, want: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.stderr().contains(want) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        self.stderr()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn emulator(secret: &str) -> BackendApiServer {
    let emulator = BackendApiServer::start(secret).unwrap();
    emulator.set_keys(vec![KeyPair::shared().jwk("ins_1")]);
    emulator
}

/// The configuration of an example on `emulator`, whose URL is `url`.
fn emulator_vars<'a>(emulator: &'a BackendApiServer, url: &'a str) -> [(&'static str, &'a str); 3] {
    [
        ("CLERK_SECRET_KEY", emulator.secret()),
        ("CLERK_PUBLISHABLE_KEY", PK_LIVE),
        ("CLERK_API_URL", url),
    ]
}

fn bearer() -> String {
    let token = TokenMinter::new(KeyPair::shared())
        .kid("ins_1")
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(600))
        .mint();
    format!("Bearer {token}")
}

/// `GET url` with `authorization`: the status and the body.
fn get(url: &str, authorization: Option<&str>) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut request = agent.get(url);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let mut response = request.call().unwrap();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (response.status().as_u16(), body)
}

#[test]
fn a_refused_secret_key_stops_every_example_naming_clerk_secret_key() {
    let emulator = emulator("sk_live_examples_right");
    let wrong = "sk_live_ExamplesSelfCheckWrongDoNotLog0123456789";
    let url = emulator.url();
    for (name, bin) in BINARIES {
        let vars = [
            ("CLERK_SECRET_KEY", wrong),
            ("CLERK_PUBLISHABLE_KEY", PK_LIVE),
            ("CLERK_API_URL", url.as_str()),
        ];
        let mut process = Process::start(name, bin, &vars);
        let status = process.exit_status();
        let stderr = process.stderr_with("not starting");
        assert!(!status.success(), "{name}: {status}");
        assert!(
            !process.stdout().contains("listening on"),
            "{name}: {}",
            process.stdout()
        );
        assert!(stderr.contains("not starting"), "{name}: {stderr}");
        assert!(stderr.contains("CLERK_SECRET_KEY"), "{name}: {stderr}");
        assert!(
            !stderr.contains(&wrong[8..28]),
            "{name}: the secret key was printed"
        );
    }
}

#[test]
fn a_key_set_answering_500_is_a_warning_and_every_example_serves() {
    let emulator = emulator("sk_live_examples_outage");
    emulator.respond_with(
        Endpoint::Jwks,
        Some(CannedResponse::bapi_error(500, "unexpected_error", "down")),
    );
    let url = emulator.url();
    for (name, bin) in BINARIES {
        let vars = emulator_vars(&emulator, &url);
        let process = Process::start(name, bin, &vars);
        let base = process.base();
        let stderr = process.stderr_with("CLERK_API_URL");
        assert!(stderr.contains("WARN"), "{name}: {stderr}");
        assert!(stderr.contains("CLERK_API_URL"), "{name}: {stderr}");
        assert!(!stderr.contains("ERROR"), "{name}: {stderr}");

        let (status, body) = get(&format!("{base}/"), None);
        assert_eq!(status, 200, "{name}");
        assert!(body.contains("signed-out"), "{name}: {body}");
        let (status, body) = get(&format!("{base}/api/me"), Some(&bearer()));
        assert_eq!(status, 503, "{name}: {body}");
        assert!(body.contains("jwk-remote-failed-to-load"), "{name}: {body}");
    }
}

#[test]
fn a_good_key_set_is_cached_before_the_first_request_of_every_example() {
    let emulator = emulator("sk_live_examples_good");
    let url = emulator.url();
    for (name, bin) in BINARIES {
        emulator.reset_hits();
        let vars = emulator_vars(&emulator, &url);
        let process = Process::start(name, bin, &vars);
        let base = process.base();
        // The contract's one line, and nothing else on stdout.
        assert_eq!(process.stdout(), format!("listening on {base}\n"), "{name}");
        assert_eq!(emulator.jwks_fetches(), 1, "{name}: fetched at start-up");
        let (status, body) = get(&format!("{base}/api/me"), Some(&bearer()));
        assert_eq!(status, 200, "{name}: {body}");
        assert!(body.contains("user_2test"), "{name}: {body}");
        assert_eq!(
            emulator.jwks_fetches(),
            1,
            "{name}: the request made no fetch"
        );
        let stderr = process.stderr_with("configuration OK");
        assert!(stderr.contains("configuration OK"), "{name}: {stderr}");
    }
}

#[test]
fn the_embedded_issuer_starts_quietly() {
    for (name, bin) in BINARIES {
        let process = Process::start(name, bin, &[]);
        let base = process.base();
        // The banner, then the contract's one line: the check adds nothing to stdout.
        let stdout = process.stdout();
        assert!(
            stdout.starts_with("No CLERK_SECRET_KEY or CLERK_JWT_KEY set: running on an embedded"),
            "{name}: {stdout}"
        );
        assert!(
            stdout.ends_with(&format!("\nlistening on {base}\n")),
            "{name}: {stdout}"
        );
        let stderr = process.stderr_with("configuration OK");
        assert!(stderr.contains("configuration OK"), "{name}: {stderr}");
        assert!(
            !stderr.contains("WARN") && !stderr.contains("ERROR"),
            "{name}: {stderr}"
        );
        let (status, _) = get(&format!("{base}/api/me"), None);
        assert_eq!(status, 401, "{name}");
        // No CLERK_WEBHOOK_SIGNING_SECRET: the server starts, its webhook route says what to set.
        webhooks::no_secret_is_a_500_naming_the_variable(&format!("{base}/api/webhooks/clerk"));
    }
}

#[test]
fn every_example_verifies_webhooks_with_the_secret_in_its_environment() {
    let event = clerk_auth_core::testing::webhooks::event_payload(
        "user.created",
        serde_json::json!({"id": "user_bin", "object": "user"}),
    );
    for (name, bin) in BINARIES {
        let process = Process::start(name, bin, &[("CLERK_WEBHOOK_SIGNING_SECRET", SECRET)]);
        let url = format!("{}/api/webhooks/clerk", process.base());
        let reply = webhooks::deliver_signed(&url, "msg_bin", &event);
        webhooks::assert_accepted(&reply, "msg_bin", "user_bin", name);
        let reply = webhooks::deliver_signed(&url, "msg_bin", b"not json");
        webhooks::assert_refused(
            &reply,
            "webhook-payload-invalid",
            "Unable to verify incoming webhook: Payload is not valid JSON",
            name,
        );
        let stderr = process.stderr();
        assert!(
            !stderr.contains(&SECRET[6..]),
            "{name}: the secret was logged"
        );
    }
}

#[test]
fn every_example_binary_guards_its_authorization_routes() {
    let emulator = emulator("sk_live_examples_authorization");
    let url = emulator.url();
    // An organization member with `role`, first factor verified `minutes` ago.
    let bearer = |role: &str, minutes: i64| {
        let token = TokenMinter::new(KeyPair::shared())
            .kid("ins_1")
            .issued_at(SystemTime::now())
            .ttl(Duration::from_secs(600))
            .claim("org_id", serde_json::json!("org_1"))
            .claim("org_role", serde_json::json!(role))
            .claim("fva", serde_json::json!([minutes, -1]))
            .mint();
        format!("Bearer {token}")
    };
    let forbidden = r#"{"status":"forbidden"}"#;
    let reverify = r#"{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"strict"}}}"#;
    for (name, bin) in BINARIES {
        let vars = emulator_vars(&emulator, &url);
        let process = Process::start(name, bin, &vars);
        let base = process.base();
        let member = bearer("org:member", 1);
        let stale = bearer("org:admin", 30);
        let cases = [
            ("/api/org-admin", None, 401),
            ("/api/org-admin", Some(&member), 403),
            ("/api/org-admin", Some(&stale), 200),
            ("/api/reverify", None, 401),
            ("/api/reverify", Some(&stale), 403),
            ("/api/reverify", Some(&member), 200),
        ];
        for (path, authorization, want) in cases {
            let (status, body) = get(&format!("{base}{path}"), authorization.map(String::as_str));
            assert_eq!(status, want, "{name} {path}: {body}");
            match want {
                401 => assert!(body.contains(r#""status":"signed-out""#), "{name}: {body}"),
                403 if path == "/api/org-admin" => assert_eq!(body, forbidden, "{name}"),
                403 => assert_eq!(body, reverify, "{name}"),
                _ => assert!(body.contains(r#""userId":"user_2test""#), "{name}: {body}"),
            }
        }
    }
}

/// The embedded issuer's options pass the check with no finding and no fetch (a PEM key, and a
/// Backend API URL that goes nowhere), through each async adapter.
#[test]
fn the_embedded_issuer_needs_no_network_for_the_check() {
    let example = Example::from_lookup(|_| None).unwrap();
    assert!(example.embedded.is_some());
    let report = clerk_auth_core::self_check(&example.options);
    assert!(report.findings().is_empty(), "{report}");
    assert_eq!(report.keys_loaded(), None, "nothing is fetched");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        clerk_auth_examples::actix::self_check(&example)
            .await
            .unwrap();
        clerk_auth_examples::warp::self_check(&example)
            .await
            .unwrap();
        clerk_auth_examples::axum::self_check(&example)
            .await
            .unwrap();
    });
}
