//! The decision vectors through the warp example server, over HTTP.

use clerk_auth_conformance::{run_all, serve_in_thread};
use clerk_auth_examples::Example;

#[test]
fn warp_conformance() {
    run_all("warp", |options, listener| {
        serve_in_thread(move |shutdown| {
            clerk_auth_examples::warp::serve_until(
                Example::with_options(options),
                listener,
                shutdown,
            )
        })
    });
}
