//! Decision test vectors: committed JSON files (request, options, time → expected state) that the
//! core's tests and every adapter's conformance suite run alike.
//!
//! A vector names its configuration with Clerk's `CLERK_*` variables, so the same file drives
//! [`Options::from_env_with`](clerk_auth_core::Options::from_env_with) here and an example server's
//! environment in the conformance suite. Strings may hold placeholders, filled in by
//! [`Vector::prepare`]:
//!
//! | placeholder | value |
//! |---|---|
//! | `{{NAME}}` | the token minted from `tokens.NAME` |
//! | `{{PEM}}` | the shared test key pair's public key (SPKI PEM) |
//! | `{{API_URL}}` | the local Backend API emulator's base URL |
//! | `{{date:now}}`, `{{date:now-60}}` | an RFC 7231 date relative to the vector's time |
//!
//! Numeric claims may be written `"$now"`, `"$now+60"` or `"$now-10"` (seconds).
//!
//! The `bapi` section programs the Backend API emulator: handshake payloads, the refresh answer,
//! and for machine tokens `machine_tokens` (`[{"kind":"api_key","token":"ak_…","response":{…}}]`,
//! answered `200`; unknown tokens get `404`) and `machine_errors`
//! (`[{"kind":"m2m_token","status":500,"code":"…","message":"…"}]`, a canned error for every
//! token of that kind). The emulator accepts `CLERK_SECRET_KEY` (or `bapi.secret_key` when set,
//! to simulate a wrong key) and, on `POST /m2m_tokens/verify`, `CLERK_MACHINE_SECRET_KEY`.
//!
//! Besides status, reason, message, headers and user id, `expect` may pin `token_type` (a string,
//! or `null` for an invalid-token state) and `auth`: an object whose every key must equal the same
//! key of the state's auth JSON ([`RequestState::auth_json`](clerk_auth_core::RequestState::auth_json)).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{Map, Value};

use clerk_auth_core::testing::server::{
    BackendApiServer, CannedResponse, Endpoint, RefreshResponse,
};
use clerk_auth_core::testing::{FixedClock, KeyPair};
use clerk_auth_core::{ConfigError, Options, OptionsBuilder, OwnedRequest};

/// Where the committed vectors are: this crate's `vectors/` directory.
pub const VECTORS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors");

/// The kid of the shared key pair in the emulator's key set.
pub const VECTOR_KID: &str = "ins_2vector";

/// The bearer secret the emulator expects when a vector sets no `CLERK_SECRET_KEY`.
pub const VECTOR_SECRET_KEY: &str = "sk_test_vector_secret";

/// One test vector, as committed.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vector {
    /// What the vector shows.
    pub name: String,
    /// The spec section it pins.
    #[serde(default)]
    pub spec: String,
    /// The request cannot be expressed over HTTP (for example a request URL whose host differs
    /// from its `Host` header): only the core runs it, not the adapters' conformance suite.
    #[serde(default)]
    pub core_only: bool,
    /// `CLERK_*` configuration.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The time of the decision, Unix seconds.
    #[serde(default = "default_now")]
    pub now: u64,
    /// Tokens to mint, by placeholder name.
    #[serde(default)]
    pub tokens: BTreeMap<String, TokenSpec>,
    /// What the Backend API emulator answers.
    #[serde(default)]
    pub bapi: Option<BapiSpec>,
    /// The request.
    pub request: RequestSpec,
    /// The expected decision.
    pub expect: Expected,
}

fn default_now() -> u64 {
    1_700_000_000
}

/// A token to mint: header and claims are merged over Clerk-like defaults (a `null` removes).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    /// Header overrides.
    #[serde(default)]
    pub header: Map<String, Value>,
    /// Claim overrides.
    #[serde(default)]
    pub claims: Map<String, Value>,
    /// Sign with another key than the one the verifier trusts.
    #[serde(default)]
    pub foreign_key: bool,
    /// A literal token instead of a minted one.
    #[serde(default)]
    pub raw: Option<String>,
}

impl TokenSpec {
    fn embeds_placeholders(&self) -> bool {
        let text = |m: &Map<String, Value>| Value::Object(m.clone()).to_string();
        text(&self.header).contains("{{") || text(&self.claims).contains("{{")
    }
}

/// What the Backend API emulator answers.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BapiSpec {
    /// Handshake directives by nonce.
    #[serde(default)]
    pub handshake_payload: BTreeMap<String, Vec<String>>,
    /// The refresh answer: cookies...
    #[serde(default)]
    pub refresh_cookies: Option<Vec<String>>,
    /// ... or an error `[status, code]`.
    #[serde(default)]
    pub refresh_error: Option<(u16, String)>,
    /// The bearer secret the emulator accepts, when it must differ from `CLERK_SECRET_KEY`
    /// (a wrong secret key).
    #[serde(default)]
    pub secret_key: Option<String>,
    /// Opaque machine tokens the verify endpoints know.
    #[serde(default)]
    pub machine_tokens: Vec<MachineTokenSpec>,
    /// Canned errors of the machine-token verify endpoints.
    #[serde(default)]
    pub machine_errors: Vec<MachineErrorSpec>,
}

/// An opaque machine token the emulator knows.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineTokenSpec {
    /// `api_key`, `m2m_token` or `oauth_token`: which verify endpoint knows it.
    pub kind: String,
    /// The token (placeholders allowed).
    pub token: String,
    /// The Backend API resource answered with `200` (Clerk's snake_case JSON).
    pub response: Value,
}

/// A canned error of a machine-token verify endpoint.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineErrorSpec {
    /// `api_key`, `m2m_token` or `oauth_token`.
    pub kind: String,
    /// The HTTP status.
    pub status: u16,
    /// `errors[0].code`; defaults to `unexpected_error`.
    #[serde(default)]
    pub code: Option<String>,
    /// `errors[0].message`; defaults to `error`.
    #[serde(default)]
    pub message: Option<String>,
}

/// The emulator endpoint verifying tokens of `kind`.
fn machine_endpoint(kind: &str) -> Result<Endpoint, String> {
    match kind {
        "api_key" => Ok(Endpoint::ApiKeyVerify),
        "m2m_token" => Ok(Endpoint::M2mTokenVerify),
        "oauth_token" => Ok(Endpoint::OAuthTokenVerify),
        other => Err(format!("unknown machine token kind {other:?}")),
    }
}

/// The request.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// Defaults to `GET`.
    #[serde(default = "default_method")]
    pub method: String,
    /// The absolute URL as the server sees it.
    pub url: String,
    /// Headers in order (`[name, value]`).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

fn default_method() -> String {
    "GET".to_owned()
}

/// The expected decision.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// `signed-in`, `signed-out`, `handshake`, or `error` (the request cannot be decided).
    pub status: String,
    /// The reason (absent when signed in).
    #[serde(default)]
    pub reason: Option<String>,
    /// The message (absent: not checked).
    #[serde(default)]
    pub message: Option<String>,
    /// Every response header, in order per name (absent: not checked).
    #[serde(default)]
    pub headers: Option<Vec<(String, String)>>,
    /// The signed-in user id.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The state's token type: absent, not checked; `null`, none (an invalid-token state).
    #[serde(default, deserialize_with = "present")]
    pub token_type: Option<Option<String>>,
    /// Keys the auth JSON must have, with these values (absent: not checked).
    #[serde(default)]
    pub auth: Option<Map<String, Value>>,
}

/// Deserializes a present field (even `null`) as `Some`.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// A vector with its tokens minted and placeholders filled.
#[derive(Debug)]
pub struct Prepared {
    /// The vector as committed.
    pub vector: Vector,
    /// `CLERK_*` configuration, filled.
    pub env: BTreeMap<String, String>,
    /// The request, filled.
    pub request: RequestSpec,
    /// The expectation, filled.
    pub expect: Expected,
    /// The decision time.
    pub now: SystemTime,
    /// The Backend API emulator, when the vector uses one (kept alive with this value).
    pub server: Option<BackendApiServer>,
}

impl Prepared {
    /// The options the vector configures (`CLERK_*` variables), on its fixed clock.
    pub fn options(&self) -> Result<Options, ConfigError> {
        let env = self.env.clone();
        OptionsBuilder::from_env_with(move |k| env.get(k).cloned())?
            .clock(std::sync::Arc::new(FixedClock::new(self.now)))
            .build()
    }

    /// The vector's request, as the core sees it.
    pub fn test_request(&self) -> OwnedRequest {
        OwnedRequest::new(
            self.request.method.clone(),
            self.request.url.clone(),
            self.request.headers.iter().map(|(k, v)| (k, v)),
        )
    }
}

impl Vector {
    /// Every committed vector ([`VECTORS_DIR`]).
    pub fn load_committed() -> Result<Vec<Vector>, String> {
        Self::load_dir(VECTORS_DIR)
    }

    /// Every `*.json` vector in `dir` (each file holds one vector or an array), sorted by file name.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Vec<Vector>, String> {
        let mut files: Vec<_> = std::fs::read_dir(dir.as_ref())
            .map_err(|e| format!("{}: {e}", dir.as_ref().display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        let mut out = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
            let value: Value =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))?;
            let items = match value {
                Value::Array(items) => items,
                other => vec![other],
            };
            for item in items {
                out.push(
                    serde_json::from_value(item).map_err(|e| format!("{}: {e}", f.display()))?,
                );
            }
        }
        Ok(out)
    }

    /// Mints the tokens, starts the emulator if the vector needs one, and fills placeholders.
    /// `now` overrides the vector's time (adapters running with the real clock pass `Some`).
    pub fn prepare(&self, now: Option<SystemTime>) -> Result<Prepared, String> {
        let now_secs = match now {
            Some(t) => t
                .duration_since(UNIX_EPOCH)
                .map_err(|e| e.to_string())?
                .as_secs(),
            None => self.now,
        };
        let keys = KeyPair::shared();
        let needs_server =
            self.bapi.is_some() || self.env.values().any(|v| v.contains("{{API_URL}}"));
        let server = if needs_server {
            let secret = self
                .bapi
                .as_ref()
                .and_then(|b| b.secret_key.as_deref())
                .or_else(|| self.env.get("CLERK_SECRET_KEY").map(String::as_str))
                .unwrap_or(VECTOR_SECRET_KEY);
            let server = BackendApiServer::start(secret).map_err(|e| e.to_string())?;
            server.set_keys(vec![keys.jwk(VECTOR_KID)]);
            server.set_machine_secret_key(
                self.env.get("CLERK_MACHINE_SECRET_KEY").map(String::as_str),
            );
            Some(server)
        } else {
            None
        };

        let mut vars: BTreeMap<String, String> = BTreeMap::new();
        vars.insert("PEM".into(), keys.public_pem());
        if let Some(s) = &server {
            vars.insert("API_URL".into(), s.url());
        }
        // Tokens that embed other tokens (a handshake JWT carrying a session) are minted last.
        let mut order: Vec<(&String, &TokenSpec)> = self.tokens.iter().collect();
        order.sort_by_key(|(_, spec)| spec.embeds_placeholders());
        for (name, spec) in order {
            let token = match &spec.raw {
                Some(raw) => fill(raw, &vars, now_secs),
                None => mint(spec, now_secs, &vars)?,
            };
            vars.insert(name.clone(), token);
        }
        if let (Some(server), Some(bapi)) = (&server, &self.bapi) {
            for (nonce, directives) in &bapi.handshake_payload {
                server.set_handshake_payload(
                    nonce,
                    directives
                        .iter()
                        .map(|d| fill(d, &vars, now_secs))
                        .collect(),
                );
            }
            if let Some(cookies) = &bapi.refresh_cookies {
                server.set_refresh_response(RefreshResponse::Cookies(
                    cookies.iter().map(|d| fill(d, &vars, now_secs)).collect(),
                ));
            }
            if let Some((status, code)) = &bapi.refresh_error {
                server.set_refresh_response(RefreshResponse::Error {
                    status: *status,
                    code: code.clone(),
                });
            }
            for m in &bapi.machine_tokens {
                server.set_machine_token(
                    machine_endpoint(&m.kind)?,
                    &fill(&m.token, &vars, now_secs),
                    resolve(&m.response, now_secs, &vars),
                );
            }
            for e in &bapi.machine_errors {
                server.respond_with(
                    machine_endpoint(&e.kind)?,
                    Some(CannedResponse::bapi_error(
                        e.status,
                        e.code.as_deref().unwrap_or("unexpected_error"),
                        e.message.as_deref().unwrap_or("error"),
                    )),
                );
            }
        }
        let f = |s: &String| fill(s, &vars, now_secs);
        let env = self.env.iter().map(|(k, v)| (k.clone(), f(v))).collect();
        let request = RequestSpec {
            method: self.request.method.clone(),
            url: f(&self.request.url),
            headers: self
                .request
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), f(v)))
                .collect(),
        };
        let expect = Expected {
            status: self.expect.status.clone(),
            reason: self.expect.reason.as_ref().map(f),
            message: self.expect.message.as_ref().map(f),
            headers: self
                .expect
                .headers
                .as_ref()
                .map(|h| h.iter().map(|(k, v)| (k.clone(), f(v))).collect()),
            user_id: self.expect.user_id.clone(),
            token_type: self.expect.token_type.clone(),
            auth: self.expect.auth.as_ref().map(|a| {
                a.iter()
                    .map(|(k, v)| (k.clone(), resolve(v, now_secs, &vars)))
                    .collect()
            }),
        };
        Ok(Prepared {
            vector: self.clone(),
            env,
            request,
            expect,
            now: UNIX_EPOCH + Duration::from_secs(now_secs),
            server,
        })
    }
}

impl Expected {
    /// Compares an outcome with the expectation; `Err` says what differs.
    /// `headers` are the response headers in order (names lowercase).
    pub fn check(
        &self,
        status: &str,
        reason: Option<&str>,
        message: Option<&str>,
        headers: &[(String, String)],
        user_id: Option<&str>,
    ) -> Result<(), String> {
        let mut problems = Vec::new();
        if status != self.status {
            problems.push(format!("status: got {status:?}, want {:?}", self.status));
        }
        if reason != self.reason.as_deref() {
            problems.push(format!("reason: got {reason:?}, want {:?}", self.reason));
        }
        if let Some(want) = &self.message {
            if message != Some(want.as_str()) {
                problems.push(format!("message: got {message:?}, want {want:?}"));
            }
        }
        if let Some(want) = &self.headers {
            let mut got: Vec<(String, String)> = headers.to_vec();
            let mut want = want.clone();
            // Order matters within a name (several set-cookie), not across names.
            got.sort_by(|a, b| a.0.cmp(&b.0));
            want.sort_by(|a, b| a.0.cmp(&b.0));
            if got != want {
                problems.push(format!("headers:\n   got  {got:?}\n   want {want:?}"));
            }
        }
        if let Some(want) = &self.user_id {
            if user_id != Some(want.as_str()) {
                problems.push(format!("user_id: got {user_id:?}, want {want:?}"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n  "))
        }
    }
}

impl Expected {
    /// Compares the state's token type and auth JSON with `token_type` and `auth`, when the
    /// vector pins them; `Err` says what differs.
    pub fn check_auth(&self, token_type: Option<&str>, auth: &Value) -> Result<(), String> {
        let mut problems = Vec::new();
        if let Some(want) = &self.token_type {
            if token_type != want.as_deref() {
                problems.push(format!("token_type: got {token_type:?}, want {want:?}"));
            }
        }
        if let Some(want) = &self.auth {
            for (k, v) in want {
                let got = auth.get(k).unwrap_or(&Value::Null);
                if got != v {
                    problems.push(format!("auth.{k}: got {got}, want {v}"));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n  "))
        }
    }
}

fn mint(spec: &TokenSpec, now: u64, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let mut header = Map::new();
    header.insert("alg".into(), Value::from("RS256"));
    header.insert("cat".into(), Value::from("cl_B7d4PD111AAA"));
    header.insert("kid".into(), Value::from(VECTOR_KID));
    header.insert("typ".into(), Value::from("JWT"));
    let mut claims = Map::new();
    claims.insert("azp".into(), Value::from("https://app.example.com"));
    claims.insert("exp".into(), Value::from(now + 60));
    claims.insert("iat".into(), Value::from(now - 10));
    claims.insert("iss".into(), Value::from("https://clerk.example.com"));
    claims.insert("nbf".into(), Value::from(now - 20));
    claims.insert("sid".into(), Value::from("sess_2vector"));
    claims.insert("sub".into(), Value::from("user_2vector"));
    merge(&mut header, &spec.header, now, vars);
    merge(&mut claims, &spec.claims, now, vars);
    let keys = if spec.foreign_key {
        KeyPair::shared_other()
    } else {
        KeyPair::shared()
    };
    Ok(keys.sign(Value::Object(header), Value::Object(claims)))
}

fn merge(
    into: &mut Map<String, Value>,
    from: &Map<String, Value>,
    now: u64,
    vars: &BTreeMap<String, String>,
) {
    for (k, v) in from {
        match v {
            Value::Null => {
                into.remove(k);
            }
            other => {
                into.insert(k.clone(), resolve(other, now, vars));
            }
        }
    }
}

/// `"$now+60"` → a number; strings get placeholders filled; containers recurse.
fn resolve(v: &Value, now: u64, vars: &BTreeMap<String, String>) -> Value {
    match v {
        Value::String(s) if s.starts_with("$now") => match relative(&s[4..], now) {
            Some(n) => Value::from(n),
            None => v.clone(),
        },
        Value::String(s) => Value::String(fill(s, vars, now)),
        Value::Array(a) => Value::Array(a.iter().map(|x| resolve(x, now, vars)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), resolve(x, now, vars)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn relative(offset: &str, now: u64) -> Option<i64> {
    let now = i64::try_from(now).ok()?;
    if offset.is_empty() {
        return Some(now);
    }
    let (sign, digits) = offset.split_at(1);
    let n: i64 = digits.parse().ok()?;
    match sign {
        "+" => Some(now + n),
        "-" => Some(now - n),
        _ => None,
    }
}

/// Fills `{{NAME}}` and `{{date:now±N}}` placeholders.
fn fill(s: &str, vars: &BTreeMap<String, String>, now: u64) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        if let Some(offset) = name.strip_prefix("date:now") {
            match relative(offset, now).and_then(|t| u64::try_from(t).ok()) {
                Some(t) => out.push_str(&httpdate::fmt_http_date(
                    UNIX_EPOCH + Duration::from_secs(t),
                )),
                None => out.push_str(&rest[start..start + 4 + end]),
            }
        } else if let Some(v) = vars.get(name) {
            out.push_str(v);
        } else {
            out.push_str(&rest[start..start + 4 + end]);
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}
