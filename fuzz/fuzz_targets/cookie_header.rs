//! The `Cookie` header parser (npm cookie@1.1.1 semantics, §1.4, the 64 KiB bound of decision
//! 9) and the suffixed/unsuffixed cookie-name rules of §1.5, with arbitrary bytes: the first byte
//! chooses the instance type and suffix, the rest is split on `\n` into `Cookie` fields.
//! Invariants: looked-up values are never empty; an oversized header parses nothing;
//! `decodeURIComponent` inverts percent-encoding.
#![no_main]

use clerk_auth_core::fuzzing::{cookies, decode_uri_component, numbers};
use clerk_auth_core::request::MAX_COOKIE_HEADER_LEN;
use clerk_auth_fuzz::NOW;
use libfuzzer_sys::fuzz_target;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let suffix = if selector & 1 == 0 { "KGDbGsv-" } else { "" };
    let fields: Vec<&[u8]> = rest.split(|&b| b == b'\n').collect();
    let out = cookies(
        &fields,
        suffix,
        "clerk.example.com",
        selector & 2 == 0,
        NOW + u64::from(selector >> 2),
    );
    let total: usize = fields.iter().map(|f| f.len()).sum::<usize>() + 2 * (fields.len() - 1);
    if out.oversized {
        assert!(total > MAX_COOKIE_HEADER_LEN);
        assert_eq!(out.distinct_names, 0);
    }
    for (name, plain, suffixed) in &out.lookups {
        assert!(plain.as_deref() != Some(""), "{name}: empty value");
        assert!(
            suffixed.as_deref() != Some(""),
            "{name}: empty suffixed value"
        );
    }
    let _ = out.suffixed;
    if let Ok(text) = std::str::from_utf8(rest) {
        let _ = decode_uri_component(text);
        let _ = numbers(text);
        let encoded = utf8_percent_encode(text, NON_ALPHANUMERIC).to_string();
        assert_eq!(decode_uri_component(&encoded).as_deref(), Some(text));
    }
});
