//! Publishable-key decoding and the key helpers with arbitrary text: errors, never panics.
//! Invariant: a key that parses says it is a publishable key, and its Frontend API and cookie
//! suffix are stable.
#![no_main]

use clerk_auth_core::publishable_key::{
    get_cookie_suffix, get_suffixed_cookie_name, is_development_from_secret_key,
    is_publishable_key, PublishableKey,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = is_development_from_secret_key(&text);
    let suffix = get_cookie_suffix(&text);
    let _ = get_suffixed_cookie_name("__session", &suffix);
    match PublishableKey::parse(&text) {
        Ok(key) => {
            assert!(
                is_publishable_key(&text),
                "parsed but not a publishable key"
            );
            assert!(!key.frontend_api().is_empty());
            assert_eq!(key.as_str(), text);
            assert_eq!(key.cookie_suffix(), suffix);
            let _ = key.instance_type();
            let _ = key.suffixed_cookie_name("__client_uat");
            let again = PublishableKey::parse(key.as_str()).map(|k| k.frontend_api().to_owned());
            assert_eq!(again.ok().as_deref(), Some(key.frontend_api()));
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
