//! Publishable key parsing (§1.2) and cookie suffix vectors (§1.3).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clerk_auth_core::publishable_key::{
    get_cookie_suffix, get_suffixed_cookie_name, is_development_from_secret_key,
    is_publishable_key, InstanceType, PublishableKey,
};
use clerk_auth_core::ConfigError;

use base64::Engine;

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(s)
}

#[test]
fn spec_vector() {
    let pk = PublishableKey::parse("pk_test_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA").unwrap();
    assert_eq!(pk.frontend_api(), "clerk.inspired.puma-74.lcl.dev");
    assert_eq!(pk.instance_type(), InstanceType::Development);
    assert_eq!(pk.instance_type().as_str(), "development");
    assert_eq!(pk.cookie_suffix(), "vWCgMp3A");
    assert_eq!(pk.suffixed_cookie_name("__session"), "__session_vWCgMp3A");
}

#[test]
fn live_key_is_production() {
    let pk = PublishableKey::parse("pk_live_Y2xlcmsuY2xlcmsuZGV2JA").unwrap();
    assert_eq!(pk.instance_type(), InstanceType::Production);
    assert!(pk.instance_type().is_production());
    assert_eq!(pk.frontend_api(), "clerk.clerk.dev");
}

#[test]
fn padding_is_optional_and_kept_in_the_hash() {
    let padded = "pk_live_ZmFrZS1jbGVyay10ZXN0LmNsZXJrLmFjY291bnRzLmRldiQ=";
    let pk = PublishableKey::parse(padded).unwrap();
    assert_eq!(pk.frontend_api(), "fake-clerk-test.clerk.accounts.dev");
    assert_eq!(pk.cookie_suffix(), "qReyu04C");
    let unpadded = PublishableKey::parse(padded.trim_end_matches('=')).unwrap();
    assert_eq!(unpadded.frontend_api(), pk.frontend_api());
    assert_ne!(unpadded.cookie_suffix(), pk.cookie_suffix());
}

#[test]
fn cookie_suffix_vectors() {
    for (key, suffix) in [
        ("pk_live_Y2xlcmsuY2xlcmsuZGV2JA", "1Z8AzTQD"),
        ("pk_test_Y2xlcmsuY2xlcmsuZGV2JA", "QvfNY2dr"),
        (
            "pk_live_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA",
            "MqCvchyS",
        ),
        (
            "pk_test_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA",
            "vWCgMp3A",
        ),
        (
            "pk_live_ZmFrZS1jbGVyay10ZXN0LmNsZXJrLmFjY291bnRzLmRldiQ=",
            "qReyu04C",
        ),
        (
            "pk_test_ZW5vdWdoLWFscGFjYS04Mi5jbGVyay5hY2NvdW50cy5sY2xjbGVyay5jb20k",
            "jtYvyt_H",
        ),
    ] {
        assert_eq!(get_cookie_suffix(key), suffix, "{key}");
        assert_eq!(PublishableKey::parse(key).unwrap().cookie_suffix(), suffix);
    }
    assert_eq!(
        get_suffixed_cookie_name("__client_uat", "1Z8AzTQD"),
        "__client_uat_1Z8AzTQD"
    );
}

#[test]
fn failures() {
    let good = b64("clerk.example.com$");
    let cases: Vec<(String, &str)> = vec![
        (format!("pk_prod_{good}"), "wrong prefix"),
        (format!("sk_test_{good}"), "secret key"),
        (format!("pk_test{good}"), "no underscore after test"),
        ("pk_test_".to_owned(), "empty third part"),
        (format!("pk_test_{good}_x"), "four parts"),
        (format!("pk__test_{good}"), "four parts (double underscore)"),
        ("pk_test_!!!!".to_owned(), "bad base64"),
        ("pk_test_Y".to_owned(), "bad base64 length"),
        (
            format!("pk_test_{}", b64("clerk.example.com$").replace('m', "-")),
            "url-safe alphabet",
        ),
        ("pk_test_YQ=".to_owned(), "wrong padding"),
        (format!("pk_test_{}", b64("clerk.example.com")), "no dollar"),
        (
            format!("pk_test_{}", b64("clerk.exa$mple.com$")),
            "two dollars",
        ),
        (
            format!("pk_test_{}", b64("$clerk.example.com$")),
            "leading dollar",
        ),
        (
            format!("pk_test_{}", b64("clerk.example.com$x")),
            "dollar not last",
        ),
        (format!("pk_test_{}", b64("localhost$")), "no dot"),
    ];
    for (key, why) in cases {
        let err = PublishableKey::parse(&key).unwrap_err();
        assert!(
            matches!(err, ConfigError::InvalidPublishableKey(_)),
            "{why}: {err:?}"
        );
        assert!(!is_publishable_key(&key), "{why}");
        assert!(!err.to_string().contains(&key), "the key is not echoed");
    }
    assert_eq!(
        PublishableKey::parse("").unwrap_err(),
        ConfigError::MissingPublishableKey
    );
}

#[test]
fn atob_tolerates_whitespace_like_js() {
    let key = format!("pk_test_{}", b64("clerk.example.com$"));
    let spaced = format!("{key}\n");
    assert_eq!(
        PublishableKey::parse(&spaced).unwrap().frontend_api(),
        "clerk.example.com"
    );
}

#[test]
fn from_str_and_display() {
    let key = "pk_test_Y2xlcmsuY2xlcmsuZGV2JA";
    let pk: PublishableKey = key.parse().unwrap();
    assert_eq!(pk.to_string(), key);
    assert_eq!(pk.as_str(), key);
}

#[test]
fn secret_key_development_detection() {
    assert!(is_development_from_secret_key("sk_test_abc"));
    assert!(is_development_from_secret_key("test_abc"));
    assert!(!is_development_from_secret_key("sk_live_abc"));
    assert!(!is_development_from_secret_key("live_abc"));
    assert!(!is_development_from_secret_key(""));
}
