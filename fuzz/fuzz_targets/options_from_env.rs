//! Configuration parsing: `CLERK_*` variables from the input (`NAME=value` lines) through
//! `OptionsBuilder::from_env_with` and `build`, and `AcceptsToken::parse`. Errors, never panics;
//! an error message never echoes the secret key. (`self_check` is left out: it fetches the key
//! set over the network.)
#![no_main]

use std::collections::HashMap;

use clerk_auth_core::{AcceptsToken, OptionsBuilder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut env: HashMap<String, String> = HashMap::new();
    for line in text.split('\n') {
        if let Some((name, value)) = line.split_once('=') {
            let name = if name.starts_with("CLERK_") {
                name.to_owned()
            } else {
                format!("CLERK_{name}")
            };
            env.entry(name).or_insert_with(|| value.to_owned());
        }
    }
    if let Some(v) = env.get("CLERK_ACCEPTS_TOKEN") {
        let _ = AcceptsToken::parse(v);
    }
    let secret = env.get("CLERK_SECRET_KEY").cloned().unwrap_or_default();
    let built =
        OptionsBuilder::from_env_with(|name| env.get(name).cloned()).and_then(|b| b.build());
    match built {
        Ok(options) => {
            let _ = format!("{options:?}");
            let _ = options.frontend_api();
            let _ = options.cookie_suffix();
        }
        Err(e) => {
            let message = e.to_string();
            // Only a leak if no other variable carries the same text (an error may echo the
            // faulty value it names, and the fuzzer copies the key into other values).
            let elsewhere = env
                .iter()
                .any(|(k, v)| k != "CLERK_SECRET_KEY" && v.contains(&secret));
            if secret.starts_with("sk_") && secret.len() >= 12 && !elsewhere {
                assert!(
                    !message.contains(&secret),
                    "the error echoes the secret key"
                );
            }
        }
    }
});
