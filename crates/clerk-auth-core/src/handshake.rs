//! The handshake: the redirect to Clerk's Frontend API, the loop counter cookie,
//! and reading the session token out of handshake cookie directives.
//!
//! Nothing here runs on the signed-in path: URLs are only built when a handshake is decided.

use url::Url;

use crate::org_sync::OrganizationSyncTarget;

/// The Backend API version Clerk's SDK announces on the handshake URL and its Backend API calls.
pub(crate) const SUPPORTED_BAPI_VERSION: &str = "2026-05-12";

/// What goes into a handshake redirect URL.
pub(crate) struct HandshakeUrl<'a> {
    /// The effective frontend API: a bare host, or an absolute proxy URL.
    pub(crate) frontend_api: &'a str,
    /// The request's public URL.
    pub(crate) clerk_url: &'a Url,
    pub(crate) suffixed_cookies: bool,
    pub(crate) reason: &'a str,
    pub(crate) session_token: Option<&'a str>,
    /// Only on development instances.
    pub(crate) dev_browser_token: Option<&'a str>,
    pub(crate) organization_target: Option<&'a OrganizationSyncTarget>,
}

impl HandshakeUrl<'_> {
    /// The `location` of a default handshake; `None` if the frontend API is not a usable URL.
    pub(crate) fn build(&self) -> Option<String> {
        let base = if self.frontend_api.starts_with("http") {
            self.frontend_api.to_owned()
        } else {
            format!("https://{}", self.frontend_api)
        };
        let base = format!("{}/", base.trim_end_matches('/'));
        let mut url = Url::parse(&base).ok()?.join("v1/client/handshake").ok()?;
        let redirect_url =
            without_query_params(self.clerk_url, &["__clerk_db_jwt", "__dev_session"]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("redirect_url", redirect_url.as_str());
            q.append_pair("__clerk_api_version", SUPPORTED_BAPI_VERSION);
            q.append_pair(
                "suffixed_cookies",
                if self.suffixed_cookies {
                    "true"
                } else {
                    "false"
                },
            );
            q.append_pair("__clerk_hs_reason", self.reason);
            q.append_pair("format", "nonce");
            if let Some(token) = self.session_token {
                q.append_pair("__session", token);
            }
            if let Some(db) = self.dev_browser_token {
                q.append_pair("__clerk_db_jwt", db);
            }
            match self.organization_target {
                Some(OrganizationSyncTarget::PersonalAccount) => {
                    q.append_pair("organization_id", "");
                }
                Some(OrganizationSyncTarget::OrganizationId(id)) => {
                    q.append_pair("organization_id", id);
                }
                Some(OrganizationSyncTarget::OrganizationSlug(slug)) => {
                    q.append_pair("organization_id", slug);
                }
                None => {}
            }
        }
        Some(url.into())
    }
}

/// `url` with every occurrence of `names` removed from its query, re-serialized as WHATWG
/// `URLSearchParams.delete` does (an emptied query loses its `?`).
pub(crate) fn without_query_params(url: &Url, names: &[&str]) -> Url {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !names.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    with_query(url, &kept)
}

/// `url` with `name` set to `value`, as WHATWG `URLSearchParams.set` does: the first occurrence
/// is replaced in place, later ones are removed, and it is appended when absent.
pub(crate) fn with_query_param_set(url: &Url, name: &str, value: &str) -> Url {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut seen = false;
    for (k, v) in url.query_pairs() {
        if k == name {
            if !seen {
                pairs.push((k.into_owned(), value.to_owned()));
                seen = true;
            }
        } else {
            pairs.push((k.into_owned(), v.into_owned()));
        }
    }
    if !seen {
        pairs.push((name.to_owned(), value.to_owned()));
    }
    with_query(url, &pairs)
}

/// `url` with `name=value` appended (WHATWG `URLSearchParams.append`, which re-serializes).
pub(crate) fn with_query_param_appended(url: &Url, name: &str, value: &str) -> Url {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.push((name.to_owned(), value.to_owned()));
    with_query(url, &pairs)
}

fn with_query(url: &Url, pairs: &[(String, String)]) -> Url {
    let mut out = url.clone();
    if pairs.is_empty() {
        out.set_query(None);
    } else {
        out.query_pairs_mut().clear().extend_pairs(pairs);
    }
    out
}

/// The handshake loop counter cookie (`__clerk_redirect_count`), as Clerk's SDK sets it.
pub(crate) fn redirect_count_cookie(next: u32) -> String {
    format!("__clerk_redirect_count={next}; SameSite=Lax; HttpOnly; Max-Age=2")
}

/// The session token carried by cookie directives: the value of the last directive whose name
/// starts with `__session` (a deletion gives `""`), as Clerk's SDK reads it.
pub(crate) fn session_token_from_directives<S: AsRef<str>>(directives: &[S]) -> Option<String> {
    let mut token = None;
    for directive in directives {
        let first = directive.as_ref().split(';').next().unwrap_or_default();
        let mut parts = first.split('=');
        let name = parts.next().unwrap_or_default();
        if name.starts_with("__session") {
            token = Some(parts.next().unwrap_or_default().to_owned());
        }
    }
    token
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn handshake_url_plain_and_proxy() {
        let clerk_url =
            Url::parse("https://app.example.com/dashboard?a=1&__clerk_db_jwt=x").unwrap();
        let mut h = HandshakeUrl {
            frontend_api: "clerk.example.com",
            clerk_url: &clerk_url,
            suffixed_cookies: false,
            reason: "session-token-expired-refresh-non-eligible-no-refresh-cookie",
            session_token: Some("tok"),
            dev_browser_token: None,
            organization_target: None,
        };
        assert_eq!(
            h.build().unwrap(),
            "https://clerk.example.com/v1/client/handshake?redirect_url=https%3A%2F%2Fapp.example.com%2Fdashboard%3Fa%3D1&__clerk_api_version=2026-05-12&suffixed_cookies=false&__clerk_hs_reason=session-token-expired-refresh-non-eligible-no-refresh-cookie&format=nonce&__session=tok"
        );
        h.frontend_api = "https://app.example.com/__clerk/";
        h.session_token = None;
        let target = OrganizationSyncTarget::PersonalAccount;
        h.organization_target = Some(&target);
        assert!(h
            .build()
            .unwrap()
            .starts_with("https://app.example.com/__clerk/v1/client/handshake?redirect_url="));
        assert!(h
            .build()
            .unwrap()
            .ends_with("&format=nonce&organization_id="));
    }

    #[test]
    fn query_edits_follow_whatwg() {
        let u = Url::parse("https://a.com/p?x=a%20b&flag&__clerk_db_jwt=1").unwrap();
        assert_eq!(
            without_query_params(&u, &["__clerk_db_jwt"]).as_str(),
            "https://a.com/p?x=a+b&flag="
        );
        let u = Url::parse("https://a.com/p?__dev_session=1").unwrap();
        assert_eq!(
            without_query_params(&u, &["__dev_session"]).as_str(),
            "https://a.com/p"
        );
        let u = Url::parse("https://a.com/p?__clerk_synced=false&b=1&__clerk_synced=x").unwrap();
        assert_eq!(
            with_query_param_set(&u, "__clerk_synced", "true").as_str(),
            "https://a.com/p?__clerk_synced=true&b=1"
        );
    }

    #[test]
    fn directives() {
        let d = [
            "__client_uat=1; Path=/",
            "__session_abc=first; Path=/",
            "__session=second=x; Path=/; Secure",
        ];
        assert_eq!(session_token_from_directives(&d).as_deref(), Some("second"));
        assert_eq!(
            session_token_from_directives(&["__session=; Max-Age=0"]).as_deref(),
            Some("")
        );
        assert_eq!(session_token_from_directives(&["a=b"]), None);
    }
}
