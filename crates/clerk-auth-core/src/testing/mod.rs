//! Test kit (feature `testing`): key pairs, token minting, a fixed clock, a local Backend API.
pub mod server;
