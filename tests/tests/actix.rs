//! The decision vectors through the actix-web example server, over HTTP.

use clerk_auth_conformance::{run_all, serve_in_thread};
use clerk_auth_examples::Example;

#[test]
fn actix_conformance() {
    run_all("actix-web", |options, listener| {
        serve_in_thread(move |shutdown| {
            clerk_auth_examples::actix::serve_until(
                Example::with_options(options),
                listener,
                shutdown,
            )
        })
    });
}
