//! The HTTP cold-path benchmark (issue 13): what a never-seen token costs each example server,
//! against the physical floor measured in the same run.
//!
//! `cargo bench -p clerk-auth-examples --bench cold_path`
//!
//! For each adapter (actix, rocket, warp, axum) the example binary (built by that command in release
//! mode, next to this bench) runs as a child process with a key pair this bench makes
//! (`CLERK_JWT_KEY`, networkless) and `PORT=0`, and is loaded over real HTTP with 16 keep-alive
//! connections in three phases:
//!
//! - (a) the public route `/`, no token;
//! - (b) `/api/me` with one valid token repeated (the verified-token cache hit);
//! - (c) `/api/me` with a new valid token on every request, from a pool minted beforehand and
//!   larger than the phase (a phase whose clients ran out of fresh tokens is measured again with
//!   a larger pool).
//!
//! Each phase reports the **server CPU per request** (user + system time of the server process
//! from `/proc/<pid>/stat`, its change over the phase, divided by the requests served) and the
//! requests per second. The **floor** is (a) plus one raw RSA-2048 PKCS#1 v1.5 SHA-256 verify
//! through OpenSSL's lowest level (an `EVP_PKEY_verify` on a key and context built once, plus the
//! SHA-256 of the signing input), timed in this process (thread CPU time) between the phases.
//! The table gives medians over the rounds, the efficiency `floor / (c)` and `(b) - (a)`.
//!
//! The load generator is `wrk` when it is on the `PATH` (with `cold_path.lua` for phase (c)),
//! otherwise 16 client threads in this process, one keep-alive `ureq` connection each. Linux
//! only (`/proc`).
//!
//! Environment: `COLD_SECS` per phase (default 3), `COLD_ROUNDS` (default 3; the order of the
//! phases alternates between rounds), `COLD_ADAPTERS` (default `actix,rocket,warp,axum`),
//! `COLD_LOAD` (`wrk` or `rust`; default: `wrk` when found).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_vectors::client;
use openssl::md::Md;
use openssl::pkey::PKey;
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;

#[path = "support/floor.rs"]
mod floor;
#[path = "../../crates/clerk-auth-core/benches/support/bench_support.rs"]
mod support;

use support::{thread_cpu, Pool};

const ADAPTERS: [(&str, &str); 4] = [
    ("actix", env!("CARGO_BIN_EXE_actix")),
    ("rocket", env!("CARGO_BIN_EXE_rocket")),
    ("warp", env!("CARGO_BIN_EXE_warp")),
    ("axum", env!("CARGO_BIN_EXE_axum")),
];
const PUBLISHABLE_KEY: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";
const SECRET_KEY: &str = "sk_live_cold_path_bench";
const CONNECTIONS: usize = 16;
const WRK_THREADS: usize = 2;
/// Distinct tokens of the first short phase (c) that calibrates each server's rate (also its
/// warm-up), doubled while they run out, up to the maximum.
const CALIBRATION_TOKENS: usize = 2_000;
const MAX_CALIBRATION_TOKENS: usize = 64_000;
/// The pool of a measured phase (c): the expected requests times this margin.
const POOL_MARGIN: f64 = 1.5;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`, 100 on Linux).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU seconds (user + system) of process `pid` so far, all its threads.
fn process_cpu_secs(pid: u32, ticks: f64) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/<pid>/stat");
    // The command name may contain spaces: fields are counted after its closing parenthesis,
    // where field 3 (state) comes first; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')').expect("stat format") + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields[11].parse().expect("utime");
    let stime: f64 = fields[12].parse().expect("stime");
    (utime + stime) / ticks
}

/// The floor's crypto: one RSA PKCS#1 v1.5 SHA-256 verify with a key and an `EVP_PKEY_CTX`
/// prepared once, plus the SHA-256 of the signing input.
struct RawVerify {
    ctx: PkeyCtx<openssl::pkey::Public>,
    input: Vec<u8>,
    signature: Vec<u8>,
}

impl RawVerify {
    fn new(public_pem: &str, token: &str) -> Self {
        let key = PKey::public_key_from_pem(public_pem.as_bytes()).expect("public key");
        let mut ctx = PkeyCtx::new(&key).expect("EVP_PKEY_CTX");
        ctx.verify_init().expect("verify_init");
        ctx.set_rsa_padding(Padding::PKCS1).expect("padding");
        ctx.set_signature_md(Md::sha256()).expect("signature md");
        let (input, signature) = token.rsplit_once('.').expect("a JWS");
        let mut raw = Self {
            ctx,
            input: input.as_bytes().to_vec(),
            signature: URL_SAFE_NO_PAD.decode(signature).expect("base64url"),
        };
        assert!(raw.verify(), "the raw verify accepts a minted token");
        raw
    }

    fn verify(&mut self) -> bool {
        // OpenSSL's streaming SHA-256 on a stack context (the one-shot `SHA256()` of OpenSSL 3
        // fetches the algorithm on every call): the cheapest digest, for the lowest floor.
        let mut hasher = openssl::sha::Sha256::new();
        hasher.update(std::hint::black_box(&self.input));
        let digest = hasher.finish();
        self.ctx
            .verify(&digest, std::hint::black_box(&self.signature))
            .unwrap_or(false)
    }

    /// Microseconds of CPU per verify: the median of 5 samples of 1 000 verifies (thread CPU
    /// time).
    fn cpu_us(&mut self) -> f64 {
        const N: u32 = 1_000;
        let samples: Vec<f64> = (0..5)
            .map(|_| {
                let start = thread_cpu();
                for _ in 0..N {
                    assert!(self.verify());
                }
                let ns = (thread_cpu() - start).as_nanos() as f64;
                ns / 1_000.0 / f64::from(N)
            })
            .collect();
        median(&samples)
    }
}

/// A running example server; killed on drop.
struct Server {
    child: Child,
    base: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// The example binary `bin`.
    fn start(name: &str, bin: &str, public_pem: &str) -> Self {
        Self::spawn(name, Command::new(bin), None, public_pem)
    }

    /// The floor server of framework `name` (this executable, as [`floor::serve`]).
    fn start_floor(name: &str, public_pem: &str) -> Self {
        let cmd = Command::new(std::env::current_exe().expect("the bench executable"));
        Self::spawn(&format!("{name} floor"), cmd, Some(name), public_pem)
    }

    fn spawn(name: &str, mut cmd: Command, floor: Option<&str>, public_pem: &str) -> Self {
        let bin = format!("{:?}", cmd.get_program());
        let mut child = cmd
            .env("CLERK_PUBLISHABLE_KEY", PUBLISHABLE_KEY)
            .env("CLERK_SECRET_KEY", SECRET_KEY)
            .env("CLERK_JWT_KEY", public_pem)
            // Nothing on these paths calls the Backend API; if something did, it goes nowhere.
            .env("CLERK_API_URL", "http://127.0.0.1:9")
            .env("PORT", "0")
            .envs(floor.map(|framework| (floor::SERVER_VAR, framework)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: cannot start {bin}: {e}"));
        let (tx, listening): (_, Receiver<u16>) = mpsc::channel();
        let lines = BufReader::new(child.stdout.take().unwrap());
        thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
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
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let port = listening
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                panic!(
                    "{name}: never listened; stderr:\n{}",
                    stderr.lock().unwrap()
                )
            });
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            stderr,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a phase sends.
#[derive(Clone, Copy)]
enum Auth<'a> {
    /// No token (phase a).
    None,
    /// The same token on every request (phase b).
    Same(&'a str),
    /// Each token of the slice once (phase c).
    Fresh(&'a [String]),
}

#[derive(Clone, Copy, PartialEq)]
enum Load {
    Wrk,
    Rust,
}

/// What the load generator saw.
struct Sent {
    requests: u64,
    not_ok: u64,
    /// Times a client ran out of fresh tokens and started its share again (phase c).
    wraps: u64,
    secs: f64,
}

/// One measured phase.
#[derive(Clone, Copy, Default)]
struct Phase {
    cpu_us: f64,
    rps: f64,
    /// A client ran out of fresh tokens and repeated some (phase c): not a cold figure.
    wrapped: bool,
}

fn run_wrk(url: &str, auth: Auth<'_>, secs: u64) -> Sent {
    let mut cmd = Command::new("wrk");
    cmd.arg(format!("-t{WRK_THREADS}"))
        .arg(format!("-c{CONNECTIONS}"))
        .arg(format!("-d{secs}s"));
    let mut token_file = None;
    match auth {
        Auth::None => {}
        Auth::Same(token) => {
            cmd.arg("-H").arg(format!("Authorization: Bearer {token}"));
        }
        Auth::Fresh(tokens) => {
            let path = std::env::temp_dir().join(format!(
                "clerk-auth-cold-path-{}.tokens",
                std::process::id()
            ));
            std::fs::write(&path, tokens.join("\n") + "\n").expect("token file");
            let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/cold_path.lua");
            cmd.arg("-s").arg(script);
            token_file = Some(path);
        }
    }
    cmd.arg(url);
    if let Some(path) = &token_file {
        cmd.arg("--").arg(path).arg(WRK_THREADS.to_string());
    }
    let start = Instant::now();
    let out = cmd.output().expect("wrk runs");
    let elapsed = start.elapsed().as_secs_f64();
    if let Some(path) = token_file {
        let _ = std::fs::remove_file(path);
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "wrk failed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let number_after = |label: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.contains(label))?;
        line[line.find(label)? + label.len()..]
            .split(|c: char| !c.is_ascii_digit())
            .find(|s| !s.is_empty())?
            .parse()
            .ok()
    };
    // "  123456 requests in 3.00s, 12.34MB read"
    let summary = text
        .lines()
        .find(|l| l.contains(" requests in "))
        .unwrap_or_else(|| panic!("no wrk summary in:\n{text}"));
    let requests: u64 = summary.split_whitespace().next().unwrap().parse().unwrap();
    let secs = summary
        .split(" requests in ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .and_then(|s| s.trim().strip_suffix('s'))
        .and_then(|s| s.parse().ok())
        .unwrap_or(elapsed);
    let errors = number_after("Socket errors:").map_or(0, |_| {
        // "Socket errors: connect 0, read 0, write 0, timeout 0": any of them counts.
        let line = text.lines().find(|l| l.contains("Socket errors:")).unwrap();
        line.split(|c: char| !c.is_ascii_digit())
            .filter_map(|s| s.parse::<u64>().ok())
            .sum()
    });
    Sent {
        requests,
        not_ok: number_after("Non-2xx or 3xx responses:").unwrap_or(0) + errors,
        wraps: number_after("cold-path-wraps:").unwrap_or(0),
        secs,
    }
}

fn run_rust(url: &str, auth: Auth<'_>, secs: u64) -> Sent {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let totals = thread::scope(|s| {
        let handles: Vec<_> = (0..CONNECTIONS)
            .map(|client_no| {
                s.spawn(move || {
                    let agent = client::agent();
                    let share: Vec<&String> = match auth {
                        Auth::Fresh(tokens) => {
                            tokens.iter().skip(client_no).step_by(CONNECTIONS).collect()
                        }
                        _ => Vec::new(),
                    };
                    let (mut requests, mut not_ok, mut wraps, mut pos) = (0u64, 0u64, 0u64, 0);
                    let mut header = String::new();
                    while Instant::now() < deadline {
                        let mut req = agent.get(url);
                        header.clear();
                        match auth {
                            Auth::None => {}
                            Auth::Same(token) => {
                                let _ = write!(header, "Bearer {token}");
                                req = req.header("authorization", header.as_str());
                            }
                            Auth::Fresh(_) => {
                                if pos == share.len() {
                                    pos = 0;
                                    wraps += 1;
                                }
                                let _ = write!(header, "Bearer {}", share[pos]);
                                pos += 1;
                                req = req.header("authorization", header.as_str());
                            }
                        }
                        match req.call() {
                            Ok(mut res) => {
                                let _ = res.body_mut().read_to_vec();
                                if res.status() != 200 {
                                    not_ok += 1;
                                }
                            }
                            Err(_) => not_ok += 1,
                        }
                        requests += 1;
                    }
                    (requests, not_ok, wraps)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold((0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2))
    });
    Sent {
        requests: totals.0,
        not_ok: totals.1,
        wraps: totals.2,
        secs: start.elapsed().as_secs_f64(),
    }
}

/// Runs one phase against `server` and measures its CPU over the phase.
fn phase(load: Load, server: &Server, ticks: f64, path: &str, auth: Auth<'_>, secs: u64) -> Phase {
    let url = format!("{}{path}", server.base);
    let before = process_cpu_secs(server.pid(), ticks);
    let sent = match load {
        Load::Wrk => run_wrk(&url, auth, secs),
        Load::Rust => run_rust(&url, auth, secs),
    };
    let cpu = process_cpu_secs(server.pid(), ticks) - before;
    assert!(sent.requests > 0, "no request served on {url}");
    assert_eq!(
        sent.not_ok,
        0,
        "{url}: {} of {} requests were not answered 200; server stderr:\n{}",
        sent.not_ok,
        sent.requests,
        server.stderr.lock().unwrap()
    );
    Phase {
        cpu_us: cpu * 1e6 / sent.requests as f64,
        rps: sent.requests as f64 / sent.secs,
        wrapped: sent.wraps > 0,
    }
}

/// One round's figures for one adapter.
#[derive(Clone, Copy, Default)]
struct Round {
    public: Phase,
    same: Phase,
    fresh: Phase,
    /// (f): the floor server's `/api/me` (one raw verify per request) over HTTP.
    floor: Phase,
    verify_us: f64,
}

impl Round {
    fn floor_us(&self) -> f64 {
        self.public.cpu_us + self.verify_us
    }
}

#[allow(clippy::too_many_arguments)]
fn measure_adapter(
    name: &str,
    bin: &str,
    keys: &KeyPair,
    pool: &mut Pool<'_>,
    raw: &mut RawVerify,
    load: Load,
    ticks: f64,
    secs: u64,
    rounds: usize,
) -> Vec<Round> {
    let server = Server::start(name, bin, &keys.public_pem());
    let floor_server = Server::start_floor(name, &keys.public_pem());
    let same_token = TokenMinter::new(keys)
        .issued_at(pool.issued_at)
        .ttl(Duration::from_secs(3600))
        .subject("user_cold_same")
        .sid("sess_cold_same")
        .mint();

    // The server answers what the phases assume: the public page, 401 without a token, 200 for
    // a pool token (its own user).
    pool.ensure(1);
    let agent = client::agent();
    assert_eq!(
        client::get(&agent, &format!("{}/", server.base), &[]).status,
        200
    );
    assert_eq!(
        client::get(&agent, &format!("{}/api/me", server.base), &[]).status,
        401
    );
    let me = client::get(
        &agent,
        &format!("{}/api/me", server.base),
        &[("authorization", &format!("Bearer {}", pool.tokens[0]))],
    );
    assert_eq!(me.status, 200, "{name}: {}", me.body);
    assert_eq!(me.json()["userId"], "user_cold_0", "{name}: {}", me.body);
    // The floor server too: its `/api/me` verifies (a foreign signature is refused).
    let floor_me = |token: &str| {
        client::get(
            &agent,
            &format!("{}/api/me", floor_server.base),
            &[("authorization", &format!("Bearer {token}"))],
        )
    };
    assert_eq!(floor_me(&pool.tokens[0]).json()["sub"], "user_cold_0");
    let (forged, _) = pool.tokens[0].rsplit_once('.').unwrap();
    let foreign = pool.tokens[0].rsplit_once('.').unwrap().1.replace('A', "B");
    assert_eq!(floor_me(&format!("{forged}.{foreign}")).status, 401);
    let mut cursor = 1;

    // Warm-up, and the rate of phase (c) that sizes its pools: 1 s runs of (c) on twice as many
    // tokens each time, until one does not run out of them (a repeated token is a cache hit,
    // which would overestimate the rate).
    phase(load, &server, ticks, "/", Auth::None, 1);
    phase(load, &server, ticks, "/api/me", Auth::Same(&same_token), 1);
    phase(load, &floor_server, ticks, "/", Auth::None, 1);
    let mut calibration = CALIBRATION_TOKENS;
    let mut rate = loop {
        pool.ensure(cursor + calibration);
        let url = format!("{}/api/me", server.base);
        let tokens = &pool.tokens[cursor..cursor + calibration];
        let sent = match load {
            Load::Wrk => run_wrk(&url, Auth::Fresh(tokens), 1),
            Load::Rust => run_rust(&url, Auth::Fresh(tokens), 1),
        };
        assert_eq!(sent.not_ok, 0, "{name}: calibration answered non-200");
        cursor += calibration;
        if sent.wraps == 0 || calibration >= MAX_CALIBRATION_TOKENS {
            break sent.requests as f64 / sent.secs;
        }
        calibration *= 2;
    };

    let mut results = Vec::new();
    for round in 0..rounds {
        let mut r = Round {
            verify_us: raw.cpu_us(),
            ..Round::default()
        };
        let order: [u8; 4] = if round % 2 == 0 {
            [0, 1, 2, 3]
        } else {
            [3, 2, 1, 0]
        };
        for which in order {
            match which {
                0 => r.public = phase(load, &server, ticks, "/", Auth::None, secs),
                1 => {
                    r.same = phase(
                        load,
                        &server,
                        ticks,
                        "/api/me",
                        Auth::Same(&same_token),
                        secs,
                    )
                }
                3 => {
                    // No cache there: the tokens of earlier phases serve as well as new ones.
                    let need = (rate * secs as f64 * POOL_MARGIN) as usize + 4 * CONNECTIONS;
                    pool.ensure(need.min(cursor));
                    let tokens = &pool.tokens[..need.min(cursor)];
                    r.floor = phase(
                        load,
                        &floor_server,
                        ticks,
                        "/api/me",
                        Auth::Fresh(tokens),
                        secs,
                    );
                }
                _ => loop {
                    let need = (rate * secs as f64 * POOL_MARGIN) as usize + 4 * CONNECTIONS;
                    pool.ensure(cursor + need);
                    let tokens = &pool.tokens[cursor..cursor + need];
                    r.fresh = phase(load, &server, ticks, "/api/me", Auth::Fresh(tokens), secs);
                    cursor += need;
                    // The fastest rate seen sizes the next pools (a phase that ran out of tokens
                    // overestimates it, which is safe).
                    rate = rate.max(r.fresh.rps);
                    if !r.fresh.wrapped {
                        break;
                    }
                    println!(
                        "  {name}: phase (c) ran out of its {need} fresh tokens at {:.0} req/s; \
                         measuring it again with a larger pool",
                        r.fresh.rps
                    );
                },
            }
        }
        r.verify_us = (r.verify_us + raw.cpu_us()) / 2.0;
        println!(
            "  {name} round {}: CPU/request (a) {:.1} µs, (b) {:.1} µs, (c) {:.1} µs, \
             (f) {:.1} µs; verify {:.1} µs; req/s (a) {:.0}, (b) {:.0}, (c) {:.0}, (f) {:.0}",
            round + 1,
            r.public.cpu_us,
            r.same.cpu_us,
            r.fresh.cpu_us,
            r.floor.cpu_us,
            r.verify_us,
            r.public.rps,
            r.same.rps,
            r.fresh.rps,
            r.floor.rps
        );
        results.push(r);
    }
    results
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn report(name: &str, rounds: &[Round]) {
    let of = |f: &dyn Fn(&Round) -> f64| median(&rounds.iter().map(f).collect::<Vec<_>>());
    let (a, b, c) = (
        of(&|r| r.public.cpu_us),
        of(&|r| r.same.cpu_us),
        of(&|r| r.fresh.cpu_us),
    );
    let verify = of(&|r| r.verify_us);
    let floor = of(&|r| r.floor_us());
    println!();
    println!("{name}: medians of {} rounds", rounds.len());
    println!("  | phase | server CPU / request | requests/s |");
    println!("  |---|---|---|");
    println!(
        "  | (a) public route, no token | {a:.1} µs | {:.0} |",
        of(&|r| r.public.rps)
    );
    println!(
        "  | (b) /api/me, same token | {b:.1} µs | {:.0} |",
        of(&|r| r.same.rps)
    );
    println!(
        "  | (c) /api/me, new token each request | {c:.1} µs | {:.0} |",
        of(&|r| r.fresh.rps)
    );
    println!(
        "  | (f) floor server: /api/me = one raw verify, over HTTP | {:.1} µs | {:.0} |",
        of(&|r| r.floor.cpu_us),
        of(&|r| r.floor.rps)
    );
    println!("  | raw RSA-2048 verify (pre-built key) | {verify:.1} µs | |");
    println!("  | floor = (a) + verify | {floor:.1} µs | |");
    println!(
        "  efficiency floor / (c): {:.2} (median of the rounds' ratios; {:.2} from the medians)",
        of(&|r| r.floor_us() / r.fresh.cpu_us),
        floor / c
    );
    println!(
        "  efficiency over HTTP (f) / (c): {:.2} (median of the rounds' ratios)",
        of(&|r| r.floor.cpu_us / r.fresh.cpu_us)
    );
    println!(
        "  (b) - (a): {:.1} µs (median of the rounds' differences); (c) / (a): {:.2}; (c) - floor: {:.1} µs",
        of(&|r| r.same.cpu_us - r.public.cpu_us),
        of(&|r| r.fresh.cpu_us / r.public.cpu_us),
        of(&|r| r.fresh.cpu_us - r.floor_us()),
    );
}

fn main() {
    if let Ok(framework) = std::env::var(floor::SERVER_VAR) {
        floor::serve(&framework);
        return;
    }
    let secs = env_or("COLD_SECS", 3).max(1);
    let rounds = env_or("COLD_ROUNDS", 3).max(1) as usize;
    let wanted = std::env::var("COLD_ADAPTERS").unwrap_or_else(|_| "actix,rocket,warp,axum".into());
    let has_wrk = Command::new("wrk")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    let load = match std::env::var("COLD_LOAD").as_deref() {
        Ok("rust") => Load::Rust,
        Ok("wrk") => {
            assert!(has_wrk, "COLD_LOAD=wrk but wrk is not on the PATH");
            Load::Wrk
        }
        _ if has_wrk => Load::Wrk,
        _ => Load::Rust,
    };
    let ticks = clock_ticks();
    println!(
        "cold-path bench: load generator {}, {CONNECTIONS} keep-alive connections, {rounds} \
         rounds x {secs} s per phase; load average at start {}",
        match load {
            Load::Wrk => format!("wrk ({WRK_THREADS} threads)"),
            Load::Rust => "in-process (ureq, one thread per connection; wrk not used)".into(),
        },
        load_average()
    );

    let keys = KeyPair::generate();
    let mut pool = Pool::new(&keys, "cold");
    pool.ensure(1);
    let mut raw = RawVerify::new(&keys.public_pem(), &pool.tokens[0]);

    let mut all = Vec::new();
    for (name, bin) in ADAPTERS {
        if !wanted.split(',').any(|w| w.trim() == name) {
            continue;
        }
        let rounds = measure_adapter(
            name, bin, &keys, &mut pool, &mut raw, load, ticks, secs, rounds,
        );
        all.push((name, rounds));
    }
    for (name, rounds) in &all {
        report(name, rounds);
    }
    println!();
    println!(
        "{} distinct tokens minted in {:.1} s (2 threads, outside the phases); load average at \
         end {}",
        pool.tokens.len(),
        pool.minting.as_secs_f64(),
        load_average()
    );
}
