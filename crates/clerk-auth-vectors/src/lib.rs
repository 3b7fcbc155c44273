//! Conformance tooling for clerk-auth (not published): the decision vectors every adapter must
//! pass, and the HTTP client the suites drive servers with.
//!
//! - [`vectors`]: committed JSON files in this crate's `vectors/` directory (request, options,
//!   time → expected state). This crate's tests run each through the core; the workspace's
//!   `tests/` suite sends each over real HTTP to every example server.
//! - [`client`]: a `ureq` agent that sees a redirect, a `4xx` or a `5xx` as an answer and keeps
//!   every response header.
//! - [`load`]: the adapters' load benches' keep-alive clients, comparing two routes.
//! - [`authorization`]: the authorization scenarios each adapter's tests run over HTTP.
//! - [`webhooks`]: the webhook scenarios every adapter's webhook route and every example server
//!   must pass over HTTP, declared as tests by [`webhook_scenarios!`].
//!
//! It depends on the core (with its `testing` kit) and nothing else of the workspace, so an
//! adapter's own tests can use it without pulling in the other frameworks.

pub mod authorization;
pub mod client;
pub mod load;
pub mod vectors;
pub mod webhooks;
