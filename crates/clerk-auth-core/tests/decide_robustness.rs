//! Nothing a client sends can make the decision panic: random and hostile methods, URLs, headers
//! and cookies (including non-UTF-8 bytes and huge values) through every configuration shape.

#![allow(clippy::expect_used)] // test support outside #[test] functions

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clerk_auth_core::testing::TestRequest;
use clerk_auth_core::testing::{FixedClock, KeyPair, TokenMinter};
use clerk_auth_core::{
    authenticate_request, try_authenticate_request, AcceptsToken, Options, TokenType,
};

/// A small deterministic generator (xorshift64*), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| (self.next() & 0xff) as u8).collect()
    }
}

fn options(variant: usize, now: SystemTime) -> Options {
    let keys = KeyPair::shared();
    let mut b = Options::builder()
        .secret_key(if variant.is_multiple_of(2) {
            "sk_live_x"
        } else {
            "sk_test_x"
        })
        .publishable_key(if variant.is_multiple_of(2) {
            "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k"
        } else {
            "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k"
        })
        .jwt_key(keys.public_pem())
        .api_url("http://127.0.0.1:9")
        .clock(Arc::new(FixedClock::new(now)));
    b = match variant % 5 {
        1 => b.authorized_parties(["https://app.example.com"]),
        2 => b.accepts_token(AcceptsToken::Any),
        3 => b.accepts_token(AcceptsToken::List(vec![
            TokenType::SessionToken,
            TokenType::ApiKey,
        ])),
        4 => b
            .is_satellite(true)
            .domain("satellite.dev")
            .sign_in_url("https://primary.example.com/sign-in"),
        _ => b.proxy_url("/__clerk"),
    };
    b.build().expect("options")
}

#[test]
fn hostile_requests_never_panic() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let good = TokenMinter::new(KeyPair::shared()).issued_at(now).mint();
    let all: Vec<Options> = (0..10).map(|v| options(v, now)).collect();
    let methods = ["GET", "POST", "HEAD", "get", "", "PÖST", "OPTIONS"];
    let urls = [
        "https://app.example.com/",
        "/relative?x=1",
        "",
        "::::",
        "https://app.example.com/?__clerk_redirect_url=javascript:alert(1)",
        "https://app.example.com/?__clerk_redirect_url=%ZZ&__clerk_db_jwt=&__clerk_synced=false",
        "https://app.example.com/?__clerk_handshake=a.b.c&__clerk_handshake_nonce=%00",
        "http://[::1]:99999/x",
        "https://app.example.com/orgs/%FF/(.*)",
    ];
    let names = [
        "authorization",
        "cookie",
        "x-forwarded-host",
        "x-forwarded-proto",
        "host",
        "referer",
        "origin",
        "sec-fetch-dest",
        "accept",
    ];
    let values: Vec<String> = vec![
        format!("Bearer {good}"),
        format!("__session={good}; __client_uat=1"),
        "Bearer ".into(),
        "bearer  x".into(),
        "Basic dXNlcg==".into(),
        "__session=%E0%A4%A; __client_uat=-1e309".into(),
        "__clerk_redirect_count=NaN; __clerk_redirect_count=99999999999999999999".into(),
        "ak_".into(),
        "mt_x".into(),
        "oat_y".into(),
        "a.b".into(),
        format!("{}.{}.", "e".repeat(100), "[".repeat(200)),
        "x".repeat(20_000),
        "document".into(),
        "text/html".into(),
        ",,,".into(),
        "https://accounts.example.com".into(),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut decided = 0;
    for round in 0..4000 {
        let options = &all[round % all.len()];
        let mut req = TestRequest::new(rng.pick(&methods), rng.pick(&urls));
        for _ in 0..rng.below(6) {
            let name = rng.pick(&names);
            if rng.below(4) == 0 {
                req = req.header(name, rng.bytes(300));
            } else {
                req = req.header(name, values[rng.below(values.len())].as_bytes());
            }
        }
        let req = req.build();
        // Neither call may panic; both may refuse (a configuration problem shown by the request).
        let _ = try_authenticate_request(&req, options);
        if authenticate_request(&req, options).is_ok() {
            decided += 1;
        }
    }
    assert!(
        decided > 3000,
        "only {decided} of 4000 requests were decided"
    );
}
