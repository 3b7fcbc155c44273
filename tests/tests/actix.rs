//! The decision vectors and the contract's authorization routes through the actix-web example
//! server, over HTTP.

use std::net::TcpListener;

use clerk_auth_conformance::{run_all, run_authorization, serve_in_thread};
use clerk_auth_core::Options;
use clerk_auth_examples::Example;

fn start(options: Options, listener: TcpListener) -> Box<dyn FnOnce()> {
    serve_in_thread(move |shutdown| {
        clerk_auth_examples::actix::serve_until(Example::with_options(options), listener, shutdown)
    })
}

#[test]
fn actix_conformance() {
    run_all("actix-web", start);
}

#[test]
fn actix_authorization() {
    run_authorization("actix-web", start);
}
