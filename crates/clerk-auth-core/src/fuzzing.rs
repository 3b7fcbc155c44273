//! Entry points for the coverage-guided fuzz targets in `fuzz/` (compiled only under
//! `--cfg fuzzing`, which `cargo fuzz` sets): crate-private parsers reached without widening the
//! public API. Nothing here is part of the crate's API.

use std::borrow::Cow;
use std::sync::Arc;

use crate::decide::RequestContext;
use crate::options::Options;
use crate::publishable_key::InstanceType;
use crate::request::{self, Authorization, Cookies, RequestView, SuffixInputs};
use crate::token::Jwt;

/// What the `Authorization` parser made of a header value.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthorizationOutcome {
    /// No token: the cookie flow runs.
    None,
    /// `Bearer` without credentials.
    Malformed,
    /// The token.
    Token(String),
}

/// The `Authorization` header value `raw` (bytes as sent), read as the decision reads it; also
/// returns the Latin-1, trimmed text the parser saw.
pub fn authorization(raw: &[u8]) -> (String, AuthorizationOutcome) {
    let req = crate::testing::TestRequest::get("/")
        .header(request::header_names::AUTHORIZATION, raw)
        .build();
    let text = request::header_str(&req, request::header_names::AUTHORIZATION);
    let outcome = match request::parse_authorization(text.as_deref()) {
        Authorization::None => AuthorizationOutcome::None,
        Authorization::Malformed => AuthorizationOutcome::Malformed,
        Authorization::Token(t) => AuthorizationOutcome::Token(t.to_owned()),
    };
    (text.map(Cow::into_owned).unwrap_or_default(), outcome)
}

/// What the cookie parser and Clerk's cookie-name rules (`usesSuffixedCookies`) made of some
/// `Cookie` fields.
#[derive(Debug)]
pub struct CookieOutcome {
    /// Whether the fields were too long to parse.
    pub oversized: bool,
    /// How many distinct names were parsed.
    pub distinct_names: usize,
    /// `(name, get(name), get_suffixed(name, suffix))` for each of Clerk's cookie names.
    pub lookups: Vec<(&'static str, Option<String>, Option<String>)>,
    /// Whether the suffixed names are read.
    pub suffixed: bool,
}

/// Parses `fields` as the request's `Cookie` header fields and applies the cookie-name rules with
/// `suffix` and `original_frontend_api`, at `now_secs`.
pub fn cookies(
    fields: &[&[u8]],
    suffix: &str,
    original_frontend_api: &str,
    production: bool,
    now_secs: u64,
) -> CookieOutcome {
    let mut builder = crate::testing::TestRequest::get("/");
    for field in fields {
        builder = builder.header(request::header_names::COOKIE, field);
    }
    let req = builder.build();
    let cookies = Cookies::from_request(&req);
    let names = [
        request::cookie_names::SESSION,
        request::cookie_names::CLIENT_UAT,
        request::cookie_names::DEV_BROWSER,
        request::cookie_names::REFRESH,
        request::cookie_names::HANDSHAKE,
        request::cookie_names::HANDSHAKE_NONCE,
        request::cookie_names::REDIRECT_COUNT,
    ];
    let lookups = names
        .iter()
        .map(|&name| {
            (
                name,
                cookies.get(name).map(str::to_owned),
                cookies.get_suffixed(name, suffix).map(str::to_owned),
            )
        })
        .collect();
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(now_secs);
    let rule = request::cookie_name_rule(
        &cookies,
        SuffixInputs {
            suffix,
            original_frontend_api,
            instance_type: if production {
                InstanceType::Production
            } else {
                InstanceType::Development
            },
        },
        &|| now,
        &|token| Jwt::decode(token).ok().map(Arc::new),
    );
    CookieOutcome {
        oversized: cookies.is_oversized(),
        distinct_names: cookies.len(),
        lookups,
        suffixed: rule.suffixed(),
    }
}

/// JavaScript's `decodeURIComponent` as the cookie parser applies it.
pub fn decode_uri_component(value: &str) -> Option<String> {
    request::decode_uri_component(value)
}

/// JavaScript's lenient integer and number parses (`__client_uat`, the redirect counter).
pub fn numbers(value: &str) -> (i64, f64) {
    (
        crate::js::parse_int_or_zero(value),
        crate::js::number_or_zero(Some(value)),
    )
}

/// What the request context derived from the request's URL headers.
#[derive(Debug)]
pub struct PublicUrl {
    /// The public URL (`clerkUrl`).
    pub clerk_url: String,
    /// The proxy URL resolved for this request.
    pub proxy_url: Option<String>,
    /// `isCrossOriginReferrer`.
    pub cross_origin_referrer: bool,
    /// `isKnownClerkReferrer`.
    pub known_clerk_referrer: bool,
    /// `isRequestEligibleForHandshake`.
    pub eligible_for_handshake: bool,
    /// The handshake redirect built for this request (when the Frontend API makes one).
    pub handshake_url: Option<String>,
    /// `https://accounts.…` built from the effective Frontend API.
    pub accounts_base_url: Option<String>,
}

/// Builds the request context of `req` under `options` and returns the URL-derived values.
pub fn public_url<R: RequestView + ?Sized>(req: &R, options: &Options) -> PublicUrl {
    let ctx = RequestContext::new(req, options);
    let clerk_url = ctx.clerk_url().clone();
    let target = ctx.organization_target();
    let handshake_url = crate::handshake::HandshakeUrl {
        frontend_api: ctx.frontend_api(),
        clerk_url: &clerk_url,
        suffixed_cookies: ctx.uses_suffixed_cookies(),
        reason: "fuzz",
        session_token: ctx.session_token(),
        dev_browser_token: ctx.dev_browser_token(),
        organization_target: target.as_ref(),
    }
    .build();
    PublicUrl {
        clerk_url: clerk_url.to_string(),
        proxy_url: ctx.proxy_url().map(str::to_owned),
        cross_origin_referrer: ctx.is_cross_origin_referrer(),
        known_clerk_referrer: ctx.is_known_clerk_referrer(),
        eligible_for_handshake: ctx.is_eligible_for_handshake(),
        handshake_url,
        accounts_base_url: request::build_accounts_base_url(ctx.frontend_api()),
    }
}

/// The session token cookie directives carry.
pub fn session_token_from_directives(directives: &[String]) -> Option<String> {
    crate::handshake::session_token_from_directives(directives)
}

/// How the default [`HttpBackendApi`](crate::HttpBackendApi) reads Backend API answers.
#[derive(Debug)]
pub struct Answers {
    /// The answer read as a handshake payload (`directives`).
    pub handshake: Result<Vec<String>, crate::bapi::BapiError>,
    /// The answer read as a refresh (`cookies`).
    pub refresh: Result<Vec<String>, crate::bapi::BapiError>,
    /// The answer read as a machine-token verification.
    pub machine: Result<serde_json::Value, crate::bapi::BapiError>,
}

fn http_api() -> &'static crate::HttpBackendApi {
    static API: std::sync::OnceLock<crate::HttpBackendApi> = std::sync::OnceLock::new();
    API.get_or_init(|| {
        crate::HttpBackendApi::new(
            "http://127.0.0.1:9",
            "v1",
            "sk_test_fuzz",
            std::time::Duration::from_millis(1),
        )
    })
}

fn response(status: u16, body: &[u8]) -> crate::http::BapiResponse {
    crate::http::BapiResponse {
        status,
        body: body.to_vec(),
        date: None,
    }
}

/// An answer of `status` with `body`, read as each Backend API call reads it.
pub fn backend_api_answer(status: u16, body: &[u8]) -> Answers {
    let api = http_api();
    Answers {
        handshake: api.fuzz_string_list(response(status, body), "directives"),
        refresh: api.fuzz_string_list(response(status, body), "cookies"),
        machine: api.fuzz_machine(response(status, body)),
    }
}

/// A key-set answer of `status` with `body`, read as a fetch reads it: the usable keys by `kid`,
/// or the error the decision would report.
pub fn key_set_answer(
    status: u16,
    body: &[u8],
) -> Result<
    std::collections::HashMap<String, Arc<crate::VerificationKey>>,
    crate::TokenVerificationError,
> {
    static VERIFIER: std::sync::OnceLock<crate::verify::JwksVerifier> = std::sync::OnceLock::new();
    VERIFIER
        .get_or_init(|| {
            crate::verify::JwksVerifier::new(
                crate::verify::JwksConfig::new("sk_test_fuzz").with_api_url("http://127.0.0.1:9"),
            )
        })
        .fuzz_classify(response(status, body))
}

/// Whether a token string has the shape of a JWT (a crate-private helper).
pub fn is_jwt_format(token: &str) -> bool {
    crate::token::auth::is_jwt_format(token)
}

/// The machine token type a string's prefix or claims name (a crate-private helper).
pub fn machine_token_type(token: &str) -> Option<crate::TokenType> {
    crate::token::auth::machine_token_type(token)
}

/// The machine auth object from a Backend API verify answer, read as each kind's response
/// (API key, M2M token, OAuth token).
pub fn machine_auth_from_responses(
    body: &serde_json::Value,
) -> [Result<crate::MachineAuth, crate::token::ClaimsError>; 3] {
    [
        crate::MachineAuth::from_api_key_response(body),
        crate::MachineAuth::from_m2m_response(body),
        crate::MachineAuth::from_oauth_response(body),
    ]
}

/// The machine auth object from a JWT, read as an M2M and as an OAuth token.
pub fn machine_auth_from_jwt(
    jwt: &Jwt,
) -> [Result<crate::MachineAuth, crate::token::ClaimsError>; 2] {
    [
        crate::MachineAuth::from_m2m_jwt(jwt),
        crate::MachineAuth::from_oauth_jwt(jwt),
    ]
}
