//! The decision vectors and the contract's authorization routes through the warp example server,
//! over HTTP.

use std::net::TcpListener;

use clerk_auth_conformance::{run_all, run_authorization, serve_in_thread};
use clerk_auth_core::Options;
use clerk_auth_examples::Example;

fn start(options: Options, listener: TcpListener) -> Box<dyn FnOnce()> {
    serve_in_thread(move |shutdown| {
        clerk_auth_examples::warp::serve_until(Example::with_options(options), listener, shutdown)
    })
}

#[test]
fn warp_conformance() {
    run_all("warp", start);
}

#[test]
fn warp_authorization() {
    run_authorization("warp", start);
}
