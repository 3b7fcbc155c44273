//! URL derivation (§6.1, §6.3) from arbitrary Host / X-Forwarded-* / Origin / Referer values
//! and request URLs, in the case format of `decision` (`C`, `Q` and `H` lines), under each
//! configuration shape: the public URL, the resolved proxy URL, the referrer checks, the
//! handshake redirect and the accounts URL. Invariant: every URL built is a valid absolute URL.
#![no_main]

use clerk_auth_core::fuzzing::public_url;
use clerk_auth_fuzz::{options, Case};
use libfuzzer_sys::fuzz_target;

fn absolute(what: &str, url: &str) {
    assert!(
        url.starts_with("http://") || url.starts_with("https://") || url.contains(':'),
        "{what} is not absolute: {url:.300}"
    );
    assert!(
        !url.bytes().any(|b| b < 0x20 || b == 0x7f),
        "{what} carries a control character: {url:.300}"
    );
}

fuzz_target!(|data: &[u8]| {
    let case = Case::parse(data);
    let Some(options) = options(&case, None) else {
        return;
    };
    let request = case.request();
    let out = public_url(&request, &options);
    absolute("the public URL", &out.clerk_url);
    if let Some(location) = &out.handshake_url {
        absolute("the handshake URL", location);
        assert!(
            location.contains("/v1/client/handshake?"),
            "handshake URL without its path: {location:.300}"
        );
    }
    if let Some(proxy) = &out.proxy_url {
        assert!(!proxy.starts_with('/'), "relative proxy URL left: {proxy}");
    }
    if let Some(accounts) = &out.accounts_base_url {
        assert!(accounts.starts_with("https://"));
    }
});
