//! Organization sync patterns (§2.10): path-to-regexp 6.x semantics and `find_target`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clerk_auth_core::org_sync::{OrganizationMatcher, PathPatterns};
use clerk_auth_core::{ConfigError, OrganizationSyncOptions, OrganizationSyncTarget as T};

fn matcher(org: &[&str], personal: &[&str]) -> OrganizationMatcher {
    OrganizationMatcher::new(&OrganizationSyncOptions {
        organization_patterns: org.iter().map(|s| s.to_string()).collect(),
        personal_account_patterns: personal.iter().map(|s| s.to_string()).collect(),
    })
    .unwrap()
}

fn params(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
    PathPatterns::new(&[pattern]).unwrap().match_path(path)
}

fn p(pairs: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

#[test]
fn clerk_documented_setup() {
    let m = matcher(&["/orgs/:slug", "/orgs/:slug/(.*)"], &["/me", "/me/(.*)"]);
    assert_eq!(
        m.find_target("/orgs/acme"),
        Some(T::OrganizationSlug("acme".into()))
    );
    assert_eq!(
        m.find_target("/orgs/acme/"),
        Some(T::OrganizationSlug("acme".into()))
    );
    assert_eq!(
        m.find_target("/orgs/acme/settings/members"),
        Some(T::OrganizationSlug("acme".into()))
    );
    assert_eq!(m.find_target("/me"), Some(T::PersonalAccount));
    assert_eq!(m.find_target("/me/settings"), Some(T::PersonalAccount));
    assert_eq!(m.find_target("/"), None);
    assert_eq!(m.find_target("/orgs"), None);
    assert_eq!(m.find_target("/orgs/"), None);
    assert_eq!(m.find_target("/mine"), None);
    assert_eq!(m.find_target("/x/orgs/acme"), None);
}

#[test]
fn organization_id() {
    let m = matcher(&["/organizations/:id", "/organizations/:id/(.*)"], &[]);
    assert_eq!(
        m.find_target("/organizations/org_123"),
        Some(T::OrganizationId("org_123".into()))
    );
    assert_eq!(
        m.find_target("/organizations/org_123/billing"),
        Some(T::OrganizationId("org_123".into()))
    );
}

#[test]
fn id_wins_over_slug() {
    let m = matcher(&["/o/:slug/:id"], &[]);
    assert_eq!(
        m.find_target("/o/acme/org_1"),
        Some(T::OrganizationId("org_1".into()))
    );
}

#[test]
fn org_match_without_id_or_slug_falls_through_to_personal() {
    let m = matcher(&["/orgs/:other"], &["/orgs/(.*)"]);
    assert_eq!(m.find_target("/orgs/x"), Some(T::PersonalAccount));
    let m = matcher(&["/orgs/:other"], &[]);
    assert_eq!(m.find_target("/orgs/x"), None);
}

#[test]
fn organization_patterns_first() {
    let m = matcher(&["/:slug"], &["/me"]);
    assert_eq!(m.find_target("/me"), Some(T::OrganizationSlug("me".into())));
}

#[test]
fn first_matching_alternative_supplies_params() {
    let m = matcher(&["/a/:slug", "/a/:id"], &[]);
    assert_eq!(m.find_target("/a/x"), Some(T::OrganizationSlug("x".into())));
    let m = matcher(&["/a/:id", "/a/:slug"], &[]);
    assert_eq!(m.find_target("/a/x"), Some(T::OrganizationId("x".into())));
}

#[test]
fn case_insensitive() {
    let m = matcher(&["/Orgs/:slug"], &["/ME"]);
    assert_eq!(
        m.find_target("/ORGS/Acme"),
        Some(T::OrganizationSlug("Acme".into()))
    );
    assert_eq!(m.find_target("/me"), Some(T::PersonalAccount));
}

#[test]
fn trailing_delimiter_optional_once() {
    assert!(params("/me", "/me").is_some());
    assert!(params("/me", "/me/").is_some());
    assert!(params("/me", "/me//").is_none());
    assert!(params("/me/", "/me").is_none());
    assert!(params("/me/", "/me/").is_some());
}

#[test]
fn anchored_both_ends() {
    assert!(params("/me", "/me/x").is_none());
    assert!(params("/me", "/x/me").is_none());
    assert!(params("/me", "/meme").is_none());
}

#[test]
fn params_are_one_segment_and_not_decoded() {
    assert_eq!(
        params("/orgs/:slug", "/orgs/a%20b"),
        p(&[("slug", "a%20b")])
    );
    assert_eq!(params("/orgs/:slug", "/orgs/a/b"), None);
    assert_eq!(
        params("/orgs/:slug", "/orgs/a.b-c"),
        p(&[("slug", "a.b-c")])
    );
}

#[test]
fn optional_param() {
    assert_eq!(params("/orgs/:slug?", "/orgs"), p(&[]));
    assert_eq!(params("/orgs/:slug?", "/orgs/acme"), p(&[("slug", "acme")]));
    let m = matcher(&["/orgs/:slug?"], &["/orgs"]);
    assert_eq!(m.find_target("/orgs"), Some(T::PersonalAccount));
}

#[test]
fn wildcards() {
    assert_eq!(
        params("/orgs/:slug/(.*)", "/orgs/acme/a/b"),
        p(&[("slug", "acme"), ("0", "a/b")])
    );
    // `(.*)` after a slash still needs the slash.
    assert_eq!(params("/orgs/:slug/(.*)", "/orgs/acme"), None);
    assert_eq!(
        params("/orgs/:slug/(.*)", "/orgs/acme/"),
        p(&[("slug", "acme"), ("0", "")])
    );
    assert_eq!(
        params("(.*)", "/anything/at/all"),
        p(&[("0", "/anything/at/all")])
    );
    // Repeated parameters.
    assert_eq!(params("/files/:path*", "/files"), p(&[]));
    assert_eq!(params("/files/:path*", "/files/a/b"), p(&[("path", "a/b")]));
    assert_eq!(params("/files/:path+", "/files"), None);
}

#[test]
fn custom_param_patterns() {
    assert_eq!(
        params("/orgs/:id(org_[a-z0-9]+)", "/orgs/org_abc1"),
        p(&[("id", "org_abc1")])
    );
    assert_eq!(
        params("/orgs/:id(org_[a-z0-9]+)", "/orgs/ORG_ABC1"),
        p(&[("id", "ORG_ABC1")])
    );
    assert_eq!(params("/orgs/:id(org_[a-z0-9]+)", "/orgs/acme"), None);
    assert_eq!(params("/n/:num(\\d+)", "/n/42"), p(&[("num", "42")]));
    assert_eq!(params("/n/:num(\\d+)", "/n/4x"), None);
}

#[test]
fn groups_and_escapes() {
    assert_eq!(params("/a{-:b}?", "/a"), p(&[]));
    assert_eq!(params("/a{-:b}?", "/a-x"), p(&[("b", "x")]));
    assert_eq!(params("/price\\:id", "/price:id"), p(&[]));
    assert_eq!(
        params("/:name.:ext", "/file.txt"),
        p(&[("name", "file"), ("ext", "txt")])
    );
    // A `.` in the literal text is literal.
    assert_eq!(params("/a.b", "/axb"), None);
}

#[test]
fn invalid_patterns_are_config_errors() {
    for bad in [
        "/orgs/*",
        "/orgs/:",
        "/orgs/(",
        "/orgs/()",
        "/orgs/(?:x",
        "/orgs/((x))",
        "/:a:b",
        "/orgs/{:slug",
        "/orgs/(.*)(?<=x)",
    ] {
        let err = OrganizationMatcher::new(&OrganizationSyncOptions {
            organization_patterns: vec!["/ok/:slug".into(), bad.into()],
            personal_account_patterns: vec![],
        })
        .unwrap_err();
        match err {
            ConfigError::InvalidPattern { pattern, detail } => {
                assert_eq!(pattern, bad);
                assert!(!detail.is_empty());
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(OrganizationMatcher::new(&OrganizationSyncOptions {
        organization_patterns: vec![],
        personal_account_patterns: vec!["/me/*".into()],
    })
    .is_err());
}

#[test]
fn empty_options_match_nothing() {
    let m = matcher(&[], &[]);
    assert_eq!(m.find_target("/"), None);
    assert_eq!(m.find_target("/me"), None);
    assert!(OrganizationSyncOptions::default().is_empty());
}

#[test]
fn non_ascii_and_long_paths_do_not_panic() {
    let m = matcher(&["/orgs/:slug", "/orgs/:slug/(.*)"], &["/me/(.*)"]);
    assert_eq!(
        m.find_target("/orgs/é"),
        Some(T::OrganizationSlug("é".into()))
    );
    let long = format!("/orgs/{}", "a/".repeat(50_000));
    assert_eq!(m.find_target(&long), Some(T::OrganizationSlug("a".into())));
}
