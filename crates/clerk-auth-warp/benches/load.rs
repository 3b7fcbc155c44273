//! Load bench: requests/second of `/api/me` with a valid Bearer token vs the public route, through
//! a real warp server on loopback and the same keep-alive ureq clients
//! ([`clerk_auth_vectors::load`]).
//!
//! `cargo bench -p clerk-auth-warp --bench load` (env: `LOAD_CLIENTS`, default 4;
//! `LOAD_SECONDS` per route, default 2; `LOAD_WORKERS` server worker threads, default tokio's).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use clerk_auth_core::testing::KeyPair;
use clerk_auth_vectors::load::{compare, public_and_me, report, Settings};

fn main() {
    let settings = Settings::from_env();
    let keys = KeyPair::shared();
    let server = common::Server::start_with_workers(
        common::pem_options(keys).build().unwrap(),
        std::env::var("LOAD_WORKERS")
            .ok()
            .and_then(|v| v.parse().ok()),
    );
    let routes = public_and_me(&server.base, keys);
    report(
        "clerk-auth-warp",
        &settings,
        compare(routes, &settings),
        0.90,
    );
}
