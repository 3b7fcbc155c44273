//! The metrics the core records, through the [`metrics`](https://docs.rs/metrics) facade.
//!
//! Install any `metrics` exporter (Prometheus, StatsD, OpenTelemetry, …) in your binary and these
//! appear; without one, recording costs a few nanoseconds and goes nowhere. Label values are
//! fixed vocabularies (statuses, Clerk's reason strings, token types, outcomes): never a token, a
//! key, a user id or a URL.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | [`REQUESTS`] | counter | `status`, `reason` (`none` when signed in), `token_type` |
//! | [`JWKS_FETCHES`] | counter | `outcome` |
//! | [`VERIFIED_TOKEN_CACHE`] | counter | `result` = `hit` or `miss` |
//! | [`WARNINGS`] | counter | `condition` |
//! | [`BACKEND_API_CLOCK_OFFSET`] | gauge | — |
//!
//! Recurring conditions (tokens without `azp`, a key-set outage, clock skew, a handshake loop)
//! are logged once, or at most once a minute, per configured instance; [`WARNINGS`] counts every
//! occurrence.

/// Decisions, by `status` (`signed-in`, `signed-out`, `handshake`), `reason` (Clerk's reason
/// string, `none` when signed in) and `token_type` (`session_token`, `api_key`, …, `none`).
pub const REQUESTS: &str = "clerk_auth_requests_total";

/// Key-set fetches from the Backend API, by `outcome`: `ok`, `empty`, `network-error`,
/// `http-4xx`, `http-429`, `http-5xx`, `redirect`, `secret-key-invalid`, `secret-key-missing`,
/// `invalid-body`.
pub const JWKS_FETCHES: &str = "clerk_auth_jwks_fetches_total";

/// Verified-token cache lookups of the decision, by `result`: `hit` (the signature was checked
/// earlier; the times are re-checked) or `miss`.
pub const VERIFIED_TOKEN_CACHE: &str = "clerk_auth_verified_token_cache_total";

/// Occurrences of recurring conditions, by `condition`: `missing-azp`, `key-set-outage`,
/// `clock-skew`, `handshake-loop`, `organization-activation-loop`, `handshake-unresolved`,
/// `backend-api-budget` (a call over the instance's Backend API budget, decision 13),
/// `deferred-decisions-full` (a request refused a place among the decisions waiting on the
/// blocking pool), `undecidable-request` (a `500`).
pub const WARNINGS: &str = "clerk_auth_warnings_total";

/// Seconds by which the Backend API's clock (its `Date` header) is ahead of this server's
/// system clock, at its last answer (negative: behind).
pub const BACKEND_API_CLOCK_OFFSET: &str = "clerk_auth_backend_api_clock_offset_seconds";
