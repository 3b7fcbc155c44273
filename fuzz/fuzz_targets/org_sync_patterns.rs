//! Organization-sync pattern compilation and matching with arbitrary patterns and paths: lines
//! before the first empty line are patterns (`!` prefix: personal-account patterns), the rest are
//! paths. Errors, never panics; a matched parameter's value is taken from the path.
#![no_main]

use clerk_auth_core::org_sync::{OrganizationMatcher, PathPatterns};
use clerk_auth_core::{OrganizationSyncOptions, OrganizationSyncTarget};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (patterns, paths) = text.split_once("\n\n").unwrap_or((&text, "/"));
    let mut options = OrganizationSyncOptions::default();
    for p in patterns.split('\n') {
        match p.strip_prefix('!') {
            Some(p) => options.personal_account_patterns.push(p.to_owned()),
            None => options.organization_patterns.push(p.to_owned()),
        }
    }
    let compiled = PathPatterns::new(&options.organization_patterns);
    let matcher = OrganizationMatcher::new(&options);
    for path in paths.split('\n') {
        if let Ok(patterns) = &compiled {
            let params = patterns.match_path(path);
            assert_eq!(params.is_some(), patterns.is_match(path));
            for (name, value) in params.unwrap_or_default() {
                assert!(
                    path.contains(&value),
                    "{name}={value:?} is not from {path:?}"
                );
            }
        }
        if let Ok(matcher) = &matcher {
            match matcher.find_target(path) {
                Some(OrganizationSyncTarget::OrganizationId(v))
                | Some(OrganizationSyncTarget::OrganizationSlug(v)) => {
                    assert!(path.contains(&v), "organization {v:?} is not from {path:?}");
                }
                _ => {}
            }
        }
    }
});
