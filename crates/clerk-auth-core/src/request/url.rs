//! The request's URL as Clerk derives it, and referrers.

use super::*;

/// The request URL as the server sees it, absolute: [`RequestView::url`] if absolute, else
/// resolved as `http://<Host><url>`, or against `fallback` (`http://localhost/`, held by the
/// options) when `Host` is missing or unusable.
pub(crate) fn initial_url<R: RequestView + ?Sized>(req: &R, fallback: &Url) -> Url {
    let raw = req.url();
    if let Ok(url) = Url::parse(&raw) {
        return url;
    }
    let base = header_str(req, header_names::HOST)
        .and_then(|host| Url::parse(&format!("http://{host}/")).ok())
        .filter(|u| {
            u.path() == "/"
                && u.query().is_none()
                && u.fragment().is_none()
                && u.username().is_empty()
                && u.password().is_none()
        })
        .unwrap_or_else(|| fallback.clone());
    if raw.starts_with('/') {
        let origin = base.origin().ascii_serialization();
        Url::parse(&format!("{origin}{raw}")).unwrap_or(base)
    } else {
        base
    }
}

/// Clerk's `deriveUrlFromHeaders`: the public URL (`clerkUrl`).
///
/// `forwarded_host`, `forwarded_proto` and `host` are the raw (trimmed) header values with empty
/// values **kept** ([`header_raw`]): a present-but-empty `x-forwarded-host` does not fall back to
/// `Host` and leaves `initial` unchanged, as in Clerk's reference. Only the first comma-separated
/// item of the forwarded headers is used (not trimmed). `cloudfront-forwarded-proto` is not
/// consulted.
pub(crate) fn derive_clerk_url(
    initial: &Url,
    forwarded_host: Option<&str>,
    forwarded_proto: Option<&str>,
    host: Option<&str>,
) -> Url {
    let first_item = |v: &str| v.split(',').next().unwrap_or("").to_owned();
    let resolved_host = match forwarded_host {
        Some(v) => Some(first_item(v)),
        None => host.map(str::to_owned),
    };
    let resolved_proto = match forwarded_proto {
        Some(v) => first_item(v),
        None => initial.scheme().to_owned(),
    };
    let initial_origin = initial.origin().ascii_serialization();
    let origin = match resolved_host {
        Some(h) if !h.is_empty() && !resolved_proto.is_empty() => format!("{resolved_proto}://{h}"),
        _ => return initial.clone(),
    };
    if origin == initial_origin {
        return initial.clone();
    }
    let mut path_and_query = initial.path().to_owned();
    if let Some(q) = initial.query().filter(|q| !q.is_empty()) {
        path_and_query.push('?');
        path_and_query.push_str(q);
    }
    Url::parse(&origin)
        .and_then(|base| base.join(&path_and_query))
        .unwrap_or_else(|_| initial.clone())
}

/// Clerk's `isCrossOriginReferrer`: a `Referer` that parses and whose origin differs from
/// `clerk_url`'s. Absent or unparsable → false.
pub(crate) fn is_cross_origin_referrer(referrer: Option<&str>, clerk_url: &Url) -> bool {
    let Some(referrer) = referrer.filter(|r| !r.is_empty()) else {
        return false;
    };
    match Url::parse(referrer) {
        Ok(r) => r.origin().ascii_serialization() != clerk_url.origin().ascii_serialization(),
        Err(_) => false,
    }
}

/// Clerk's `isKnownClerkReferrer`, with the *effective* Frontend API (a host, or the
/// absolute proxy URL). Absent or unparsable `Referer` → false.
pub(crate) fn is_known_clerk_referrer(
    referrer: Option<&str>,
    frontend_api: &str,
    instance_type: InstanceType,
) -> bool {
    let Some(referrer) = referrer.filter(|r| !r.is_empty()) else {
        return false;
    };
    let Ok(referrer) = Url::parse(referrer) else {
        return false;
    };
    let host = referrer.host_str().unwrap_or("");
    if !frontend_api.is_empty() {
        let fapi_host = if frontend_api.starts_with("http") {
            match Url::parse(frontend_api) {
                Ok(u) => u.host_str().unwrap_or("").to_owned(),
                // Clerk's reference throws here and answers false.
                Err(_) => return false,
            }
        } else {
            frontend_api.to_owned()
        };
        if host == fapi_host {
            return true;
        }
    }
    if !instance_type.is_production()
        && (is_legacy_dev_account_portal_host(host) || is_current_dev_account_portal_host(host))
    {
        return true;
    }
    if let Some(accounts) = build_accounts_base_url(frontend_api) {
        match Url::parse(&accounts) {
            Ok(u) => {
                if u.origin().ascii_serialization() == referrer.origin().ascii_serialization() {
                    return true;
                }
            }
            Err(_) => return false,
        }
    }
    false
}

pub(super) const LEGACY_DEV_SUFFIXES: [&str; 3] = [".lcl.dev", ".lclstage.dev", ".lclclerk.com"];
pub(super) const CURRENT_DEV_SUFFIXES: [&str; 3] = [
    ".accounts.dev",
    ".accountsstage.dev",
    ".accounts.lclclerk.com",
];

pub(super) fn is_legacy_dev_account_portal_host(host: &str) -> bool {
    host.starts_with("accounts.") && LEGACY_DEV_SUFFIXES.iter().any(|s| host.ends_with(s))
}

pub(super) fn is_current_dev_account_portal_host(host: &str) -> bool {
    CURRENT_DEV_SUFFIXES
        .iter()
        .any(|s| host.ends_with(s) && !host.ends_with(&format!(".clerk{s}")))
}

/// Clerk's `buildAccountsBaseUrl`: `https://` + the Frontend API with `clerk.accountsstage.` →
/// `accountsstage.`, then the first `clerk.accounts.` or `clerk.` → `accounts.`. `None` when the
/// Frontend API is empty.
pub(crate) fn build_accounts_base_url(frontend_api: &str) -> Option<String> {
    if frontend_api.is_empty() {
        return None;
    }
    let step1 = frontend_api.replacen("clerk.accountsstage.", "accountsstage.", 1);
    let step2 = match step1.find("clerk.") {
        Some(i) => {
            let rest = &step1[i..];
            let len = if rest.starts_with("clerk.accounts.") {
                "clerk.accounts.".len()
            } else {
                "clerk.".len()
            };
            format!("{}accounts.{}", &step1[..i], &step1[i + len..])
        }
        None => step1,
    };
    Some(format!("https://{step2}"))
}

/// Clerk's `isRequestEligibleForHandshake`: a `GET` (exact) document or iframe request:
/// `sec-fetch-dest` is `document`/`iframe`, or absent with an `accept` starting with `text/html`.
pub(crate) fn is_request_eligible_for_handshake(
    method: &str,
    sec_fetch_dest: Option<&str>,
    accept: Option<&str>,
) -> bool {
    if method != "GET" {
        return false;
    }
    let dest = sec_fetch_dest.filter(|d| !d.is_empty());
    if matches!(dest, Some("document" | "iframe")) {
        return true;
    }
    dest.is_none() && accept.is_some_and(|a| a.starts_with("text/html"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn initial_url_resolution() {
        let fallback = url("http://localhost/");
        let req = TestRequest::get("https://example.com/a?b=c").build();
        assert_eq!(
            initial_url(&req, &fallback).as_str(),
            "https://example.com/a?b=c"
        );
        let req = TestRequest::get("/a?b=c")
            .header("host", "example.com:8080")
            .build();
        assert_eq!(
            initial_url(&req, &fallback).as_str(),
            "http://example.com:8080/a?b=c"
        );
        let req = TestRequest::get("/a").build();
        assert_eq!(initial_url(&req, &fallback).as_str(), "http://localhost/a");
        let req = TestRequest::get("/a").header("host", "bad host").build();
        assert_eq!(initial_url(&req, &fallback).as_str(), "http://localhost/a");
        // An origin-form path starting with `//` stays a path.
        let req = TestRequest::get("//evil.com/x")
            .header("host", "example.com")
            .build();
        assert_eq!(
            initial_url(&req, &fallback).as_str(),
            "http://example.com//evil.com/x"
        );
    }

    #[test]
    fn derive_clerk_url_cases() {
        let initial = url("http://internal:3000/path?q=1#frag");
        // No forwarding headers and no host: keep.
        assert_eq!(derive_clerk_url(&initial, None, None, None), initial);
        // Host header only.
        assert_eq!(
            derive_clerk_url(&initial, None, None, Some("example.com")).as_str(),
            "http://example.com/path?q=1"
        );
        // Forwarded lists: first item, not trimmed.
        assert_eq!(
            derive_clerk_url(
                &initial,
                Some("public.example.com,proxy.local"),
                Some("https,http"),
                Some("internal:3000")
            )
            .as_str(),
            "https://public.example.com/path?q=1"
        );
        // Present but empty x-forwarded-host: no fallback to Host, initial kept.
        assert_eq!(
            derive_clerk_url(&initial, Some(""), Some("https"), Some("example.com")),
            initial
        );
        // Empty forwarded proto: initial kept.
        assert_eq!(
            derive_clerk_url(&initial, Some("example.com"), Some(""), None),
            initial
        );
        // Same origin: initial kept (fragment included).
        assert_eq!(
            derive_clerk_url(&initial, None, None, Some("internal:3000")),
            initial
        );
        // Unparsable origin: initial kept.
        assert_eq!(
            derive_clerk_url(&initial, Some("bad host"), None, None),
            initial
        );
        // A space after the comma is part of the second item only.
        assert_eq!(
            derive_clerk_url(
                &initial,
                Some("a.example.com, b.example.com"),
                Some("https"),
                None
            )
            .as_str(),
            "https://a.example.com/path?q=1"
        );
    }

    #[test]
    fn cross_origin_referrer() {
        let clerk = url("https://app.example.com/x");
        assert!(!is_cross_origin_referrer(None, &clerk));
        assert!(!is_cross_origin_referrer(Some(""), &clerk));
        assert!(!is_cross_origin_referrer(Some("not a url"), &clerk));
        assert!(!is_cross_origin_referrer(Some("::::"), &clerk));
        assert!(!is_cross_origin_referrer(
            Some("https://app.example.com/other"),
            &clerk
        ));
        assert!(is_cross_origin_referrer(
            Some("https://other.example.com/"),
            &clerk
        ));
        assert!(is_cross_origin_referrer(
            Some("http://app.example.com/"),
            &clerk
        ));
    }

    #[test]
    fn known_clerk_referrer() {
        let dev = InstanceType::Development;
        let prod = InstanceType::Production;
        let known = |r: &str, fapi: &str, it| is_known_clerk_referrer(Some(r), fapi, it);
        assert!(!is_known_clerk_referrer(None, "clerk.example.com", prod));
        assert!(!known("garbage", "clerk.example.com", prod));
        // 1. The Frontend API host itself, or the proxy URL's host.
        assert!(known(
            "https://clerk.example.com/v1/x",
            "clerk.example.com",
            prod
        ));
        assert!(known(
            "https://app.example.com/__clerk/x",
            "https://app.example.com/__clerk",
            prod
        ));
        // 2. Dev Account Portal hosts, only for development instances.
        assert!(known(
            "https://foo-bar-13.accounts.dev/sign-in",
            "foo-bar-13.clerk.accounts.dev",
            dev
        ));
        assert!(known(
            "https://accounts.foo.bar-13.lcl.dev/",
            "clerk.foo.bar-13.lcl.dev",
            dev
        ));
        assert!(known(
            "https://x.accountsstage.dev/",
            "clerk.example.com",
            dev
        ));
        assert!(!known(
            "https://x.clerk.accounts.dev/",
            "clerk.example.com",
            dev
        ));
        assert!(!known(
            "https://foo-bar-13.accounts.dev/",
            "clerk.example.com",
            prod
        ));
        // 3. The instance's Account Portal origin.
        assert!(known(
            "https://accounts.example.com/sign-in",
            "clerk.example.com",
            prod
        ));
        assert!(!known(
            "http://accounts.example.com/",
            "clerk.example.com",
            prod
        ));
        // 4. A generic accounts.* host of another domain is not trusted.
        assert!(!known(
            "https://accounts.evil.com/",
            "clerk.example.com",
            prod
        ));
        assert!(!known("https://evil.com/", "clerk.example.com", prod));
    }

    #[test]
    fn accounts_base_url() {
        assert_eq!(build_accounts_base_url(""), None);
        assert_eq!(
            build_accounts_base_url("clerk.example.com").as_deref(),
            Some("https://accounts.example.com")
        );
        assert_eq!(
            build_accounts_base_url("foo.clerk.accounts.dev").as_deref(),
            Some("https://foo.accounts.dev")
        );
        assert_eq!(
            build_accounts_base_url("foo.clerk.accountsstage.dev").as_deref(),
            Some("https://foo.accountsstage.dev")
        );
        assert_eq!(
            build_accounts_base_url("example.com").as_deref(),
            Some("https://example.com")
        );
    }

    #[test]
    fn handshake_eligibility() {
        let e = is_request_eligible_for_handshake;
        assert!(e("GET", Some("document"), None));
        assert!(e("GET", Some("iframe"), None));
        assert!(!e("GET", Some("empty"), Some("text/html")));
        assert!(!e("GET", Some("Document"), None));
        assert!(e("GET", None, Some("text/html,application/xhtml+xml")));
        assert!(e("GET", Some(""), Some("text/html")));
        assert!(!e("GET", None, Some("application/json")));
        assert!(!e("GET", None, Some("Text/HTML")));
        assert!(!e("GET", None, None));
        assert!(!e("POST", Some("document"), Some("text/html")));
        assert!(!e("HEAD", Some("document"), None));
        assert!(!e("get", Some("document"), None));
    }
}
