//! Shared pieces of the fuzz targets: the text format of a request case (what `public_url` and
//! `decision` read), the configuration shapes, the token minting behind the `{T0}`…`{T9}`
//! markers, and the Backend API / key-set stub of `decision`.
//!
//! # The case format
//!
//! Lines separated by `\n`; each starts with a tag and a space:
//!
//! | line | meaning |
//! |---|---|
//! | `C <shape><flags>` | configuration: shape `0` production, `1` development, `2` satellite, `3` proxy, `4` machine tokens `any`; flags below |
//! | `Q <method> <url>` | the request line |
//! | `H <name>:<value>` | a header (name lowercased, value raw bytes) |
//! | `T<d> <claims>` / `X<d> <claims>` | token `d`: these JSON claims (`"$now"`, `"$now+60"` allowed) signed by the stub key set (`T`) or by another key (`X`) |
//! | `K<d> <header>` | token `d`'s JWS header parameters (`null` removes one) |
//! | `D <directive>` / `DE <status>` | the handshake payload: one cookie directive / an error status (`0`: unreachable) |
//! | `R <cookie>` / `RE <status> <code>` | the refresh answer: one cookie / an error status and `errors[0].code` |
//! | `M <json>` / `ME <status> <message>` | machine-token verification: a `200` body / an error |
//!
//! `{T0}`…`{T9}` in headers, the URL, directives, refresh cookies and claims are replaced by the
//! minted tokens. Flags: `l` development keys, `a` authorized parties, `u` audience, `d` debug
//! headers, `o` organization sync, `s` satellite auto-sync, `k` the key set answers without IO,
//! `e` the key set fails, `r` relative proxy URL.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clerk_auth_core::bapi::{BapiError, RefreshRequest};
use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{FixedClock, KeyPair, TokenMinter};
use clerk_auth_core::OwnedRequest;
use clerk_auth_core::{
    AcceptsToken, BackendApi, Options, OrganizationSyncOptions, TokenType, TokenVerificationError,
    TokenVerificationErrorReason, TokenVerifier, VerificationKey,
};
use serde_json::Value;

/// The fixed time of every case (Unix seconds).
pub const NOW: u64 = 1_700_000_000;

/// The most bytes a whole message may take: Clerk's fixed wording plus one untrusted value of at
/// most 512 bytes (decision 15) fits well inside.
pub const MAX_MESSAGE_BYTES: usize = 2048;

/// One parsed case.
#[derive(Debug, Default)]
pub struct Case {
    /// Configuration shape (0–4).
    pub shape: u8,
    /// Configuration flags.
    pub flags: String,
    /// Request method.
    pub method: String,
    /// Request URL.
    pub url: String,
    /// Request headers.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Token specs: (other key, header, claims).
    pub tokens: [Option<(bool, String, String)>; 10],
    /// Handshake payload directives.
    pub directives: Vec<String>,
    /// Handshake payload error status.
    pub handshake_error: Option<u16>,
    /// Refresh cookies.
    pub refresh_cookies: Vec<String>,
    /// Refresh error status and `errors[0].code`.
    pub refresh_error: Option<(u16, String)>,
    /// Machine-token answers (bodies).
    pub machine: Vec<Vec<u8>>,
    /// Machine-token error.
    pub machine_error: Option<(u16, String)>,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn status(b: &[u8]) -> u16 {
    lossy(b)
        .split(' ')
        .next()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(500)
}

impl Case {
    /// Parses `data` (never fails: unknown lines are ignored).
    pub fn parse(data: &[u8]) -> Self {
        let mut case = Case {
            method: "GET".into(),
            url: "https://app.example.com/".into(),
            ..Case::default()
        };
        for line in data.split(|&b| b == b'\n') {
            let (tag, rest) = match line.iter().position(|&b| b == b' ') {
                Some(i) => (&line[..i], &line[i + 1..]),
                None => (line, &[][..]),
            };
            match tag {
                b"C" => {
                    let text = lossy(rest);
                    let mut chars = text.chars();
                    case.shape = chars
                        .next()
                        .and_then(|c| c.to_digit(10))
                        .map_or(0, |d| (d % 5) as u8);
                    case.flags = chars.collect();
                }
                b"Q" => {
                    let text = lossy(rest);
                    match text.split_once(' ') {
                        Some((m, u)) => {
                            case.method = m.to_owned();
                            case.url = u.to_owned();
                        }
                        None => case.method = text,
                    }
                }
                b"H" => {
                    if let Some(i) = rest.iter().position(|&b| b == b':') {
                        let name = lossy(&rest[..i]).trim().to_ascii_lowercase();
                        case.headers.push((name, rest[i + 1..].to_vec()));
                    }
                }
                [k @ (b'T' | b'X' | b'K'), d @ b'0'..=b'9'] => {
                    let slot = &mut case.tokens[usize::from(d - b'0')];
                    let spec = slot.get_or_insert((false, String::new(), String::new()));
                    match k {
                        b'K' => spec.1 = lossy(rest),
                        _ => {
                            spec.0 = *k == b'X';
                            spec.2 = lossy(rest);
                        }
                    }
                }
                b"D" => case.directives.push(lossy(rest)),
                b"DE" => case.handshake_error = Some(status(rest)),
                b"R" => case.refresh_cookies.push(lossy(rest)),
                b"RE" => {
                    let text = lossy(rest);
                    let code = text.split_once(' ').map(|(_, c)| c.to_owned());
                    case.refresh_error = Some((status(rest), code.unwrap_or_default()));
                }
                b"M" => case.machine.push(rest.to_vec()),
                b"ME" => {
                    let text = lossy(rest);
                    let message = text.split_once(' ').map(|(_, m)| m.to_owned());
                    case.machine_error = Some((status(rest), message.unwrap_or_default()));
                }
                _ => {}
            }
        }
        case.resolve_tokens();
        case
    }

    fn resolve_tokens(&mut self) {
        let mut minted: [Option<String>; 10] = Default::default();
        // Tokens embedding other tokens (a handshake JWT carrying a session) are minted last.
        for _round in 0..3 {
            for i in 0..10 {
                let Some((other, header, claims)) = &self.tokens[i] else {
                    continue;
                };
                if minted[i].is_some() {
                    continue;
                }
                let claims = substitute(claims, &minted);
                if claims.contains("{T") && _round < 2 {
                    continue;
                }
                minted[i] = Some(mint(*other, header, &claims));
            }
        }
        self.url = substitute(&self.url, &minted);
        for (_, value) in &mut self.headers {
            if value.windows(2).any(|w| w == b"{T") {
                *value = substitute(&String::from_utf8_lossy(value), &minted).into_bytes();
            }
        }
        for d in self
            .directives
            .iter_mut()
            .chain(self.refresh_cookies.iter_mut())
        {
            *d = substitute(d, &minted);
        }
    }

    /// The request.
    pub fn request(&self) -> OwnedRequest {
        let mut b = TestRequest::new(self.method.clone(), self.url.clone());
        for (name, value) in &self.headers {
            b = b.header(name, value);
        }
        b.build()
    }

    /// Whether flag `c` is set.
    pub fn flag(&self, c: char) -> bool {
        self.flags.contains(c)
    }
}

fn substitute(text: &str, minted: &[Option<String>; 10]) -> String {
    if !text.contains("{T") {
        return text.to_owned();
    }
    let mut out = text.to_owned();
    for (i, token) in minted.iter().enumerate() {
        if let Some(token) = token {
            out = out.replace(&format!("{{T{i}}}"), token);
        }
    }
    out
}

/// `"$now"`, `"$now+N"`, `"$now-N"` → numbers.
fn resolve_now(v: Value) -> Value {
    match v {
        Value::String(s) if s.starts_with("$now") => {
            let rest = &s[4..];
            let offset: i64 = if rest.is_empty() {
                0
            } else if let Some(n) = rest.strip_prefix('+') {
                n.parse().unwrap_or(0)
            } else {
                rest.parse().unwrap_or(0)
            };
            Value::from(NOW as i64 + offset)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(resolve_now).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, resolve_now(v))).collect())
        }
        other => other,
    }
}

thread_local! {
    static MINTED: RefCell<HashMap<(bool, String, String), String>> = RefCell::new(HashMap::new());
}

/// A token with `header` parameters and `claims` (JSON objects; anything else counts as `{}`)
/// over the testing kit's defaults, signed by the stub key set (or another key).
pub fn mint(other: bool, header: &str, claims: &str) -> String {
    let key = (other, header.to_owned(), claims.to_owned());
    if let Some(t) = MINTED.with(|m| m.borrow().get(&key).cloned()) {
        return t;
    }
    let keys = if other {
        KeyPair::shared_other()
    } else {
        KeyPair::shared()
    };
    let mut minter = TokenMinter::new(keys).issued_at(UNIX_EPOCH + Duration::from_secs(NOW));
    if let Ok(Value::Object(h)) = serde_json::from_str::<Value>(header) {
        for (k, v) in h {
            minter = if v.is_null() {
                minter.without_header(&k)
            } else {
                minter.header(&k, v)
            };
        }
    }
    if let Ok(Value::Object(c)) = serde_json::from_str::<Value>(claims) {
        for (k, v) in c {
            minter = if v.is_null() {
                minter.without_claim(&k)
            } else {
                minter.claim(&k, resolve_now(v))
            };
        }
    }
    let token = keys.sign(minter.header_json(), minter.claims_json());
    MINTED.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() > 4096 {
            m.clear();
        }
        m.insert(key, token.clone());
    });
    token
}

/// The stub key set's key.
pub fn stub_key() -> Arc<VerificationKey> {
    static KEY: OnceLock<Arc<VerificationKey>> = OnceLock::new();
    KEY.get_or_init(|| Arc::new(KeyPair::shared().verification_key()))
        .clone()
}

/// The Backend API and key set of `decision`: answers from the case, counts every call that
/// would be network IO, remembers the opaque tokens it approved.
#[derive(Debug)]
pub struct Stub {
    /// Calls that would be network IO.
    pub io: AtomicUsize,
    /// Opaque machine tokens answered `200`.
    pub approved: Mutex<Vec<String>>,
    keys_cached: bool,
    keys_fail: bool,
    directives: Vec<String>,
    handshake_error: Option<u16>,
    refresh_cookies: Vec<String>,
    refresh_error: Option<(u16, String)>,
    machine: Vec<Vec<u8>>,
    machine_error: Option<(u16, String)>,
    machine_calls: AtomicUsize,
}

fn bapi_error(status: u16, message: Option<String>) -> BapiError {
    if status == 0 {
        BapiError::Network("fuzz: unreachable".into())
    } else {
        BapiError::Status {
            status,
            code: Some("fuzz_error".into()),
            message,
        }
    }
}

impl Stub {
    /// The stub answering as `case` says.
    pub fn new(case: &Case) -> Self {
        Self {
            io: AtomicUsize::new(0),
            approved: Mutex::new(Vec::new()),
            keys_cached: case.flag('k'),
            keys_fail: case.flag('e'),
            directives: case.directives.clone(),
            handshake_error: case.handshake_error,
            refresh_cookies: case.refresh_cookies.clone(),
            refresh_error: case.refresh_error.clone(),
            machine: case.machine.clone(),
            machine_error: case.machine_error.clone(),
            machine_calls: AtomicUsize::new(0),
        }
    }

    fn key_answer(&self) -> Result<Arc<VerificationKey>, TokenVerificationError> {
        if self.keys_fail {
            Err(TokenVerificationError::new(
                TokenVerificationErrorReason::JwkRemoteFailedToLoad,
                "fuzz: the key set could not be loaded",
            ))
        } else {
            Ok(stub_key())
        }
    }

    /// Whether `token` was approved by a machine-token answer.
    pub fn approved(&self, token: &str) -> bool {
        self.approved
            .lock()
            .map(|a| a.iter().any(|t| t == token))
            .unwrap_or(false)
    }
}

impl TokenVerifier for Stub {
    fn key(
        &self,
        _jwt: &clerk_auth_core::Jwt,
    ) -> Result<Arc<VerificationKey>, TokenVerificationError> {
        self.io.fetch_add(1, Ordering::SeqCst);
        self.key_answer()
    }

    fn try_key(
        &self,
        _jwt: &clerk_auth_core::Jwt,
    ) -> Option<Result<Arc<VerificationKey>, TokenVerificationError>> {
        self.keys_cached.then(|| self.key_answer())
    }
}

impl BackendApi for Stub {
    fn verify_machine_token(&self, _kind: TokenType, token: &str) -> Result<Value, BapiError> {
        self.io.fetch_add(1, Ordering::SeqCst);
        if let Some((status, message)) = &self.machine_error {
            return Err(bapi_error(*status, Some(message.clone())));
        }
        let n = self.machine_calls.fetch_add(1, Ordering::SeqCst);
        let Some(body) = self.machine.get(n % self.machine.len().max(1)) else {
            return Err(bapi_error(404, None));
        };
        match serde_json::from_slice::<Value>(body) {
            Ok(v) if v.is_object() => {
                if let Ok(mut a) = self.approved.lock() {
                    a.push(token.to_owned());
                }
                Ok(v)
            }
            _ => Err(BapiError::InvalidResponse),
        }
    }

    fn handshake_payload(&self, _nonce: &str) -> Result<Vec<String>, BapiError> {
        self.io.fetch_add(1, Ordering::SeqCst);
        match self.handshake_error {
            Some(s) => Err(bapi_error(s, None)),
            None => Ok(self.directives.clone()),
        }
    }

    fn refresh_session(
        &self,
        _session_id: &str,
        _request: &RefreshRequest,
    ) -> Result<Vec<String>, BapiError> {
        self.io.fetch_add(1, Ordering::SeqCst);
        match &self.refresh_error {
            Some((0, _)) => Err(bapi_error(0, None)),
            Some((status, code)) => Err(BapiError::Status {
                status: *status,
                code: Some(code.clone()).filter(|c| !c.is_empty()),
                message: None,
            }),
            None => Ok(self.refresh_cookies.clone()),
        }
    }
}

/// The options of `case`'s shape and flags, with `stub` as Backend API and key set (when given).
pub fn options(case: &Case, stub: Option<Arc<Stub>>) -> Option<Options> {
    let dev = case.flag('l') || case.shape == 1;
    let (pk, sk) = if dev {
        ("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k", "sk_test_fuzz")
    } else {
        ("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k", "sk_live_fuzz")
    };
    let mut b = Options::builder()
        .secret_key(sk)
        .publishable_key(pk)
        .api_url("http://127.0.0.1:9")
        .clock(Arc::new(FixedClock::new(
            UNIX_EPOCH + Duration::from_secs(NOW),
        )))
        .machine_token_cache_ttl(Duration::ZERO)
        .verified_token_cache_capacity(0);
    b = match &stub {
        Some(stub) => b
            .token_verifier(stub.clone() as Arc<dyn TokenVerifier>)
            .backend_api(stub.clone() as Arc<dyn BackendApi>),
        None => b.jwt_key(KeyPair::shared().public_pem()),
    };
    b = match case.shape {
        2 => b
            .is_satellite(true)
            .domain("satellite.example.com")
            .sign_in_url("https://primary.example.com/sign-in"),
        3 => b.proxy_url(if case.flag('r') {
            "/__clerk"
        } else {
            "https://proxy.example.com/__clerk"
        }),
        4 => b.accepts_token(AcceptsToken::Any),
        _ => b,
    };
    if case.flag('a') {
        b = b.authorized_parties(["https://app.example.com", "http://localhost:3000"]);
    }
    if case.flag('u') {
        b = b.audience(["aud_fuzz"]);
    }
    if case.flag('d') {
        b = b.debug_headers(true);
    }
    if case.flag('s') {
        b = b.satellite_auto_sync(true);
    }
    if case.flag('o') {
        b = b.organization_sync(OrganizationSyncOptions {
            organization_patterns: vec!["/orgs/:slug".into(), "/orgs/:slug/(.*)".into()],
            personal_account_patterns: vec!["/me".into(), "/me/(.*)".into()],
        });
    }
    b.build().ok()
}

/// The current time of the cases.
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}
