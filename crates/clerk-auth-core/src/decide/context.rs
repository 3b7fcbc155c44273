//! The per-request context (Clerk's `AuthenticateContext`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use url::Url;

use crate::js;
use crate::options::Options;
use crate::org_sync::OrganizationSyncTarget;
use crate::publishable_key::InstanceType;
use crate::request::*;
use crate::token::Jwt;

/// A decoded token and its verified-cache entry, if the cache holds it.
pub(crate) type Decoded = (Arc<Jwt>, Option<Arc<crate::verify::cache::CachedToken>>);

/// Everything the decision reads from one request (Clerk's `AuthenticateContext`),
/// computed once in [`RequestContext::new`], borrowing from the request and the options.
///
/// For `accepts_token` exactly `api_key` or `m2m_token`, or without a publishable
/// key, no cookie, handshake or Frontend API value is read: cookies are empty,
/// [`uses_suffixed_cookies`](Self::uses_suffixed_cookies) is false and
/// [`frontend_api`](Self::frontend_api) is empty.
pub(crate) struct RequestContext<'r, R: RequestView + ?Sized> {
    req: &'r R,
    options: &'r Options,
    clerk_url: std::cell::OnceCell<Url>,
    authorization: Option<Cow<'r, str>>,
    sec_fetch_dest: Option<Cow<'r, str>>,
    accept: Option<Cow<'r, str>>,
    referrer: Option<Cow<'r, str>>,
    cookies: Cookies<'r>,
    instance_type: Option<InstanceType>,
    frontend_api: String,
    proxy_url: Option<String>,
    suffixed_cookies: bool,
    suffix_rule: SuffixRule,
    client_uat: i64,
    dev_browser_token: Option<String>,
    handshake_token: Option<String>,
    handshake_nonce: Option<String>,
    redirect_loop_counter: u32,
    /// Tokens decoded while deciding this request, so that none is decoded twice.
    decoded: std::cell::RefCell<Vec<Decoded>>,
}

impl<R: RequestView + ?Sized> fmt::Debug for RequestContext<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestContext")
            .field("method", &self.method())
            .field("clerk_url", &self.clerk_url().as_str())
            .field("frontend_api", &self.frontend_api)
            .field("suffixed_cookies", &self.suffixed_cookies)
            .field("client_uat", &self.client_uat)
            .field("cookies", &self.cookies.len())
            .finish_non_exhaustive()
    }
}

impl<'r, R: RequestView + ?Sized> RequestContext<'r, R> {
    /// Reads `req` once with `options` (the cookie-name rule on expiry reads `options.clock()`).
    ///
    /// Order as Clerk's constructor: the public URL, header values, then (unless
    /// `accepts_token` is exactly `api_key`/`m2m_token`, and only with a publishable key) cookies,
    /// the suffixed/unsuffixed choice, `client_uat`, and the handshake values (query
    /// parameter first, then cookie). A relative proxy URL is resolved against the public origin.
    pub(crate) fn new(req: &'r R, options: &'r Options) -> Self {
        let mut ctx = Self {
            req,
            options,
            authorization: header_str(req, header_names::AUTHORIZATION),
            sec_fetch_dest: header_str(req, header_names::SEC_FETCH_DEST),
            accept: header_str(req, header_names::ACCEPT),
            referrer: header_str(req, header_names::REFERRER),
            cookies: Cookies::empty(),
            instance_type: None,
            frontend_api: String::new(),
            proxy_url: None,
            suffixed_cookies: false,
            suffix_rule: SuffixRule::NotRead,
            client_uat: 0,
            dev_browser_token: None,
            handshake_token: None,
            handshake_nonce: None,
            redirect_loop_counter: 0,
            decoded: std::cell::RefCell::new(Vec::new()),
            clerk_url: std::cell::OnceCell::new(),
        };
        // The public URL is derived lazily: only a relative proxy URL needs it up front.
        ctx.proxy_url = match options.proxy_url() {
            Some(p) if p.starts_with('/') => options.resolve_proxy_url(ctx.clerk_url()),
            Some(p) => Some(p.to_owned()),
            None => None,
        };
        if options.accepts_token().reads_only_headers() {
            return ctx;
        }
        let (Some(pk), Some(original)) =
            (options.publishable_key(), options.original_frontend_api())
        else {
            return ctx;
        };
        ctx.instance_type = Some(pk.instance_type());
        ctx.frontend_api = match &ctx.proxy_url {
            Some(p) => p.clone(),
            None => original.to_owned(),
        };
        ctx.cookies = Cookies::from_request(req);
        ctx.suffix_rule = cookie_name_rule(
            &ctx.cookies,
            SuffixInputs {
                suffix: pk.cookie_suffix(),
                original_frontend_api: original,
                instance_type: pk.instance_type(),
            },
            &|| options.clock().now(),
            &|token| ctx.decode(token).ok(),
        );
        ctx.suffixed_cookies = ctx.suffix_rule.suffixed();
        ctx.client_uat = js::parse_int_or_zero(
            ctx.suffixed_or_unsuffixed_cookie(cookie_names::CLIENT_UAT)
                .unwrap_or(""),
        );
        ctx.dev_browser_token = ctx.query_or_cookie(
            query_names::DEV_BROWSER,
            ctx.suffixed_or_unsuffixed_cookie(cookie_names::DEV_BROWSER),
        );
        ctx.handshake_token =
            ctx.query_or_cookie(query_names::HANDSHAKE, ctx.cookie(cookie_names::HANDSHAKE));
        ctx.handshake_nonce = ctx.query_or_cookie(
            query_names::HANDSHAKE_NONCE,
            ctx.cookie(cookie_names::HANDSHAKE_NONCE),
        );
        let counter = js::number_or_zero(ctx.cookie(cookie_names::REDIRECT_COUNT));
        // Saturating, truncating conversion (Clerk only ever sets small whole numbers; a
        // negative or fractional value is treated as its truncation, negatives as 0).
        ctx.redirect_loop_counter = counter as u32;
        ctx
    }

    fn query_or_cookie(&self, query: &str, cookie: Option<&str>) -> Option<String> {
        self.query(query)
            .filter(|v| !v.is_empty())
            .or_else(|| cookie.map(str::to_owned))
    }

    /// Decodes `token` once per request (from the verified-token cache when it is there).
    pub(crate) fn decode(&self, token: &str) -> Result<Arc<Jwt>, crate::TokenVerificationError> {
        self.decode_entry(token).map(|d| d.0)
    }

    /// [`decode`](Self::decode), with the verified-cache entry looked up on the way (once per
    /// token and request).
    pub(crate) fn decode_entry(
        &self,
        token: &str,
    ) -> Result<Decoded, crate::TokenVerificationError> {
        if let Some(hit) = self.decoded.borrow().iter().find(|d| d.0.as_str() == token) {
            return Ok(hit.clone());
        }
        let verifier = self.options.verifier();
        let decoded = match verifier.cached(token) {
            Some(entry) => (Arc::clone(&entry.jwt), Some(entry)),
            None => (Arc::new(Jwt::decode(token)?), None),
        };
        self.decoded.borrow_mut().push(decoded.clone());
        Ok(decoded)
    }

    /// The method, as sent (compare with `"GET"` exactly, as Clerk does).
    pub(crate) fn method(&self) -> &str {
        self.req.method()
    }

    /// The public URL (Clerk's `clerkUrl`): the request URL with the origin taken from
    /// `x-forwarded-host`/`x-forwarded-proto` (first list items) or `Host`.
    pub(crate) fn clerk_url(&self) -> &Url {
        self.clerk_url.get_or_init(|| {
            let req = self.req;
            let initial = initial_url(req, self.options.fallback_base_url());
            derive_clerk_url(
                &initial,
                header_raw(req, header_names::FORWARDED_HOST).as_deref(),
                header_raw(req, header_names::FORWARDED_PROTO).as_deref(),
                header_raw(req, header_names::HOST).as_deref(),
            )
        })
    }

    /// Header `name` (lowercase): first value, Latin-1, trimmed; empty = absent (Clerk's
    /// `getHeader`). For `origin`, `host`, `user-agent`, …
    pub(crate) fn header_str(&self, name: &str) -> Option<Cow<'r, str>> {
        header_str(self.req, name)
    }

    /// The `Authorization` header, read as Clerk's SDK reads it: [`Authorization::None`] (absent or
    /// another scheme → cookie flow), [`Authorization::Token`], or [`Authorization::Malformed`]
    /// (`Bearer` without credentials → signed-out `token-invalid`, carrier `header`).
    pub(crate) fn authorization(&self) -> Authorization<'_> {
        parse_authorization(self.authorization.as_deref())
    }

    /// The header token, if [`authorization`](Self::authorization) is a token (Clerk's
    /// `tokenInHeader`).
    pub(crate) fn header_token(&self) -> Option<&str> {
        self.authorization().token()
    }

    /// `sec-fetch-dest` (empty = absent).
    pub(crate) fn sec_fetch_dest(&self) -> Option<&str> {
        self.sec_fetch_dest.as_deref()
    }

    /// `accept` (empty = absent).
    pub(crate) fn accept(&self) -> Option<&str> {
        self.accept.as_deref()
    }

    /// `referer` (empty = absent).
    pub(crate) fn referrer(&self) -> Option<&str> {
        self.referrer.as_deref()
    }

    /// The instance type, when a publishable key was read.
    #[allow(dead_code)] // Context API for the decision; not every accessor is needed there.
    pub(crate) fn instance_type(&self) -> Option<InstanceType> {
        self.instance_type
    }

    /// The effective Frontend API: the absolute proxy URL (a relative one resolved against
    /// [`clerk_url`](Self::clerk_url)'s origin), else `clerk.<domain>` for a production satellite,
    /// else the key's host. Empty when no publishable key was read.
    pub(crate) fn frontend_api(&self) -> &str {
        &self.frontend_api
    }

    /// The proxy URL made absolute, if configured.
    #[allow(dead_code)] // Context API for the decision; not every accessor is needed there.
    pub(crate) fn proxy_url(&self) -> Option<&str> {
        self.proxy_url.as_deref()
    }

    /// Clerk's `usesSuffixedCookies`: whether the suffixed cookie names are read (also sent as
    /// `suffixed_cookies`).
    pub(crate) fn uses_suffixed_cookies(&self) -> bool {
        self.suffixed_cookies
    }

    /// The rule of Clerk's `usesSuffixedCookies` that chose the cookie names.
    pub(crate) fn suffix_rule(&self) -> SuffixRule {
        self.suffix_rule
    }

    /// Whether the `Cookie` header exceeded [`MAX_COOKIE_HEADER_LEN`] and was not parsed
    /// (decision 9). Suggested use: when the cookie flow would run, answer signed-out
    /// `token-invalid` (carrier `cookie`) first; a header token is unaffected.
    #[allow(dead_code)] // Context API for the decision; not every accessor is needed there.
    pub(crate) fn cookies_oversized(&self) -> bool {
        self.cookies.is_oversized()
    }

    /// Cookie `name` exactly (unsuffixed); empty = absent.
    pub(crate) fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name)
    }

    /// Cookie `<name>_<suffix>`; empty = absent. `None` without a publishable key.
    pub(crate) fn suffixed_cookie(&self, name: &str) -> Option<&str> {
        let pk = self.options.publishable_key()?;
        self.instance_type?;
        self.cookies.get_suffixed(name, pk.cookie_suffix())
    }

    /// The suffixed name when [`uses_suffixed_cookies`](Self::uses_suffixed_cookies), else the
    /// plain name; never a fallback from one to the other.
    pub(crate) fn suffixed_or_unsuffixed_cookie(&self, name: &str) -> Option<&str> {
        if self.suffixed_cookies {
            self.suffixed_cookie(name)
        } else {
            self.cookie(name)
        }
    }

    /// The session token in the `__session` cookie (suffixed or not).
    pub(crate) fn session_token_in_cookie(&self) -> Option<&str> {
        self.suffixed_or_unsuffixed_cookie(cookie_names::SESSION)
    }

    /// Clerk's `sessionToken`: the cookie token, else the header token.
    #[allow(dead_code)] // Context API for the decision; not every accessor is needed there.
    pub(crate) fn session_token(&self) -> Option<&str> {
        self.session_token_in_cookie()
            .or_else(|| self.header_token())
    }

    /// The refresh token: `__refresh_<suffix>` only.
    pub(crate) fn refresh_token_in_cookie(&self) -> Option<&str> {
        self.suffixed_cookie(cookie_names::REFRESH)
    }

    /// `Number.parseInt(__client_uat) || 0` (suffixed or not): `"12abc"` → 12, `"abc"` → 0.
    pub(crate) fn client_uat(&self) -> i64 {
        self.client_uat
    }

    /// The dev browser token: query `__clerk_db_jwt` (non-empty), else the cookie (suffixed or not).
    pub(crate) fn dev_browser_token(&self) -> Option<&str> {
        self.dev_browser_token.as_deref()
    }

    /// The legacy handshake token: query `__clerk_handshake` (non-empty), else the unsuffixed cookie.
    pub(crate) fn handshake_token(&self) -> Option<&str> {
        self.handshake_token.as_deref()
    }

    /// The handshake nonce: query `__clerk_handshake_nonce` (non-empty), else the unsuffixed cookie.
    pub(crate) fn handshake_nonce(&self) -> Option<&str> {
        self.handshake_nonce.as_deref()
    }

    /// `Number(__clerk_redirect_count) || 0`, truncated to a `u32` (negatives → 0).
    pub(crate) fn redirect_loop_counter(&self) -> u32 {
        self.redirect_loop_counter
    }

    /// The first value of query parameter `name` of [`clerk_url`](Self::clerk_url), form-decoded
    /// (`+` = space); `Some("")` when present but empty, so `.is_some()` is `searchParams.has`.
    pub(crate) fn query(&self, name: &str) -> Option<String> {
        // The query is the request's own (§6.1 never changes it): read it from the raw URL
        // without parsing the whole URL, which only a handshake needs.
        let raw = self.req.url();
        let query = raw.split_once('?')?.1;
        let query = query.split_once('#').map_or(query, |(q, _)| q);
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Clerk's `isRequestEligibleForHandshake`: a `GET` document/iframe request.
    pub(crate) fn is_eligible_for_handshake(&self) -> bool {
        is_request_eligible_for_handshake(self.method(), self.sec_fetch_dest(), self.accept())
    }

    /// Clerk's `isCrossOriginReferrer`.
    pub(crate) fn is_cross_origin_referrer(&self) -> bool {
        is_cross_origin_referrer(self.referrer(), self.clerk_url())
    }

    /// Clerk's `isKnownClerkReferrer`, with the effective Frontend API.
    pub(crate) fn is_known_clerk_referrer(&self) -> bool {
        is_known_clerk_referrer(
            self.referrer(),
            &self.frontend_api,
            self.instance_type.unwrap_or(InstanceType::Production),
        )
    }

    /// Organization sync: the target of [`clerk_url`](Self::clerk_url)'s path, if organization
    /// sync is configured and the path matches.
    pub(crate) fn organization_target(&self) -> Option<OrganizationSyncTarget> {
        self.options
            .organization_matcher()?
            .find_target(self.clerk_url().path())
    }

    /// Every request header for the refresh call: names lowercase, sorted; several values
    /// of one name joined with `, ` (Fetch `Headers` semantics); each as a one-element list.
    pub(crate) fn all_headers(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        self.req.visit_headers(&mut |name, value| {
            let value = trim_cow(latin1(value));
            match out.entry(name.to_ascii_lowercase()) {
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(vec![value.into_owned()]);
                }
                std::collections::btree_map::Entry::Occupied(mut e) => {
                    if let Some(first) = e.get_mut().first_mut() {
                        first.push_str(", ");
                        first.push_str(&value);
                    }
                }
            }
        });
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::request::test_support::*;

    fn options() -> crate::options::OptionsBuilder {
        Options::builder()
            .secret_key("sk_test_x")
            .publishable_key(PK_TEST)
    }

    #[test]
    fn context_reads_suffixed_cookies_and_handshake_values() {
        let opts = options().build().unwrap();
        let s = jwt(json!({"iss": format!("https://{FAPI}"), "iat": 5}));
        let req = TestRequest::get(
            "https://app.example.com/p?__clerk_handshake_nonce=n1&__clerk_db_jwt=",
        )
        .cookie(&format!("__session_{SFX}"), &s)
        .cookie(&format!("__client_uat_{SFX}"), "12abc")
        .cookie(&format!("__refresh_{SFX}"), "r")
        .cookie("__refresh", "plain")
        .cookie("__session", "")
        .cookie(&format!("__clerk_db_jwt_{SFX}"), "db")
        .cookie("__clerk_handshake", "h")
        .cookie("__clerk_redirect_count", "2")
        .build();
        let ctx = RequestContext::new(&req, &opts);
        assert!(ctx.uses_suffixed_cookies());
        assert_eq!(ctx.session_token_in_cookie(), Some(s.as_str()));
        assert_eq!(ctx.session_token(), Some(s.as_str()));
        assert_eq!(ctx.client_uat(), 12);
        assert_eq!(ctx.refresh_token_in_cookie(), Some("r"));
        assert_eq!(
            ctx.dev_browser_token(),
            Some("db"),
            "empty query falls back to cookie"
        );
        assert_eq!(ctx.handshake_nonce(), Some("n1"));
        assert_eq!(ctx.handshake_token(), Some("h"));
        assert_eq!(ctx.redirect_loop_counter(), 2);
        assert_eq!(ctx.query("__clerk_db_jwt").as_deref(), Some(""));
        assert_eq!(ctx.query("missing"), None);
        assert_eq!(ctx.frontend_api(), FAPI);
        assert_eq!(ctx.instance_type(), Some(InstanceType::Development));
        assert!(!ctx.cookies_oversized());
    }

    #[test]
    fn context_garbage_client_uat_is_zero() {
        let opts = options().build().unwrap();
        let req = TestRequest::get("/").cookie("__client_uat", "abc").build();
        assert_eq!(RequestContext::new(&req, &opts).client_uat(), 0);
    }

    #[test]
    fn context_relative_proxy_is_resolved_per_request() {
        let opts = options().proxy_url("/__clerk").build().unwrap();
        let req = TestRequest::get("/x")
            .header("host", "internal:8080")
            .header("x-forwarded-host", "app.example.com")
            .header("x-forwarded-proto", "https")
            .build();
        let ctx = RequestContext::new(&req, &opts);
        assert_eq!(ctx.clerk_url().as_str(), "https://app.example.com/x");
        assert_eq!(ctx.proxy_url(), Some("https://app.example.com/__clerk"));
        assert_eq!(ctx.frontend_api(), "https://app.example.com/__clerk");
    }

    #[test]
    fn context_machine_only_reads_headers() {
        let opts = Options::builder()
            .secret_key("sk_test_x")
            .accepts_token(crate::token::auth::TokenType::ApiKey)
            .build()
            .unwrap();
        let req = TestRequest::get("/")
            .bearer("ak_123")
            .cookie("__session", "x")
            .build();
        let ctx = RequestContext::new(&req, &opts);
        assert_eq!(ctx.header_token(), Some("ak_123"));
        assert_eq!(ctx.session_token_in_cookie(), None);
        assert_eq!(ctx.frontend_api(), "");
        assert!(!ctx.uses_suffixed_cookies());
    }

    #[test]
    fn context_all_headers() {
        let opts = options().build().unwrap();
        let req = TestRequest::get("/")
            .header("X-Custom", "a")
            .header("x-custom", "b")
            .header("accept", " text/html ")
            .build();
        let ctx = RequestContext::new(&req, &opts);
        let all = ctx.all_headers();
        assert_eq!(all.get("x-custom"), Some(&vec!["a, b".to_owned()]));
        assert_eq!(all.get("accept"), Some(&vec!["text/html".to_owned()]));
        assert!(ctx.is_eligible_for_handshake());
    }

    #[test]
    fn context_for_http_request() {
        let opts = options().build().unwrap();
        let req = http::Request::builder()
            .uri("/p?a=1")
            .header("host", "example.com")
            .header("cookie", "__client_uat=7")
            .header("cookie", "__session=abc")
            .header("referer", "https://accounts.inspired.puma-74.lcl.dev/")
            .body(())
            .unwrap();
        let ctx = RequestContext::new(&req, &opts);
        assert_eq!(ctx.clerk_url().as_str(), "http://example.com/p?a=1");
        assert_eq!(ctx.client_uat(), 7);
        assert_eq!(ctx.cookie("__session"), Some("abc"));
        assert!(ctx.is_cross_origin_referrer());
        assert!(ctx.is_known_clerk_referrer());
        let dynamic: &dyn RequestView = &req;
        assert_eq!(dynamic.method(), "GET");
    }
}
