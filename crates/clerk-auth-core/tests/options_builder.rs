//! Options: builder defaults and errors (§1.9, decision 10), `from_env_with`, secret redaction.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use clerk_auth_core::options::{AcceptsToken, Options, SecretKey, ENV_VARS};
use clerk_auth_core::org_sync::OrganizationSyncOptions;
use clerk_auth_core::publishable_key::InstanceType;
use clerk_auth_core::{ConfigError, TokenType, TokenVerificationErrorReason};

const PK_TEST: &str = "pk_test_Y2xlcmsuaW5zcGlyZWQucHVtYS03NC5sY2wuZGV2JA";
const PK_LIVE: &str = "pk_live_Y2xlcmsuY2xlcmsuZGV2JA";
const SECRET: &str = "sk_test_supersecretvalue";

fn base() -> clerk_auth_core::options::OptionsBuilder {
    Options::builder()
        .secret_key(SECRET)
        .publishable_key(PK_TEST)
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn defaults() {
    let o = base().build().unwrap();
    assert_eq!(o.api_url(), "https://api.clerk.com");
    assert_eq!(o.api_version(), "v1");
    assert_eq!(o.clock_skew(), Duration::from_secs(5));
    assert!(o.authorized_parties().is_empty());
    assert!(o.audience().is_empty());
    assert!(!o.is_satellite());
    assert!(!o.satellite_auto_sync());
    assert!(o.debug_headers());
    assert!(!o.verify_issuer());
    assert_eq!(o.accepts_token(), &AcceptsToken::SessionToken);
    assert_eq!(o.instance_type(), Some(InstanceType::Development));
    assert!(o.is_development());
    assert_eq!(o.cookie_suffix(), Some("vWCgMp3A"));
    assert_eq!(o.frontend_api(), Some("clerk.inspired.puma-74.lcl.dev"));
    assert_eq!(
        o.original_frontend_api(),
        Some("clerk.inspired.puma-74.lcl.dev")
    );
    assert!(o.backend_api().is_some());
    assert!(o.organization_matcher().is_none());
    assert_eq!(o.verifier().options().clock_skew, Duration::from_secs(5));
    assert_eq!(o.verifier().options().issuer, None);
}

#[test]
fn secrets_never_print() {
    let o = base()
        .machine_secret_key("ak_machine_secret")
        .build()
        .unwrap();
    let debug = format!("{o:?}");
    assert!(!debug.contains("supersecretvalue"), "{debug}");
    assert!(!debug.contains("ak_machine_secret"), "{debug}");
    assert!(debug.contains("[redacted]"));
    let key = SecretKey::new("sk_live_xyz");
    assert_eq!(format!("{key:?}"), "[redacted]");
    assert_eq!(format!("{key}"), "[redacted]");
    assert_eq!(key.expose_secret(), "sk_live_xyz");
    assert!(!key.is_development());
    let builder = format!("{:?}", base());
    assert!(!builder.contains("supersecretvalue"), "{builder}");
}

#[test]
fn options_are_shareable() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<Options>();
}

#[test]
fn missing_and_bad_keys() {
    let err = Options::builder().secret_key(SECRET).build().unwrap_err();
    assert_eq!(err, ConfigError::MissingPublishableKey);
    let err = Options::builder()
        .publishable_key(PK_TEST)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::MissingSecretKey);
    let err = Options::builder()
        .secret_key("")
        .publishable_key(PK_TEST)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::MissingSecretKey);
    let err = base().publishable_key("pk_test_bad").build().unwrap_err();
    assert!(matches!(err, ConfigError::InvalidPublishableKey(_)));
    // The publishable key is checked before the secret key (context creation comes first).
    let err = Options::builder()
        .publishable_key("nope")
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidPublishableKey(_)));
    let err = base().jwt_key("not a pem").build().unwrap_err();
    assert!(matches!(err, ConfigError::InvalidJwtKey(_)));
    let err = base().api_url("not a url").build().unwrap_err();
    assert_eq!(
        err,
        ConfigError::InvalidUrl {
            name: "CLERK_API_URL"
        }
    );
    let err = base().proxy_url("ftp://x").build().unwrap_err();
    assert_eq!(
        err,
        ConfigError::InvalidUrl {
            name: "CLERK_PROXY_URL"
        }
    );
}

#[test]
fn machine_only_configurations() {
    // api_key: no publishable key needed, secret key needed.
    let o = Options::builder()
        .secret_key(SECRET)
        .accepts_token(TokenType::ApiKey)
        .build()
        .unwrap();
    assert_eq!(o.accepts_token(), &AcceptsToken::Only(TokenType::ApiKey));
    assert!(o.accepts_token().reads_only_headers());
    assert_eq!(o.frontend_api(), None);
    let err = Options::builder()
        .accepts_token(TokenType::ApiKey)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::MissingSecretKey);
    // m2m_token: machine secret key alone is enough.
    let o = Options::builder()
        .machine_secret_key("msk")
        .accepts_token(TokenType::M2mToken)
        .build()
        .unwrap();
    assert!(o.secret_key().is_none());
    // The Backend API client carries the machine secret key, for opaque M2M tokens.
    assert!(o.backend_api().is_some());
    let err = Options::builder()
        .accepts_token(TokenType::M2mToken)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::MissingSecretKey);
    // oauth_token reads cookies, so it needs the publishable key.
    let err = Options::builder()
        .secret_key(SECRET)
        .accepts_token(TokenType::OauthToken)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::MissingPublishableKey);
}

#[test]
fn unresolvable_key_source_fails_jwk_failed_to_resolve() {
    let o = Options::builder()
        .machine_secret_key("msk")
        .accepts_token(TokenType::M2mToken)
        .build()
        .unwrap();
    let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln";
    let err = o.verifier().verify_token(token).unwrap_err();
    assert_eq!(err.reason, TokenVerificationErrorReason::JwkFailedToResolve);
    assert_eq!(err.message, "Failed to resolve JWK during verification.");
}

#[test]
fn satellite_rules() {
    let err = base()
        .is_satellite(true)
        .domain("sat.example.com")
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        ConfigError::SatelliteWithoutSignInUrl,
        "dev secret key needs sign_in_url"
    );
    let err = base()
        .is_satellite(true)
        .sign_in_url("https://primary.example.com/sign-in")
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::SatelliteWithoutDomainOrProxy);
    let err = base()
        .is_satellite(true)
        .domain("sat.example.com")
        .sign_in_url("/sign-in")
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        ConfigError::InvalidUrl {
            name: "CLERK_SIGN_IN_URL"
        }
    );
    let o = base()
        .is_satellite(true)
        .domain("sat.example.com")
        .sign_in_url("https://primary.example.com/sign-in")
        .build()
        .unwrap();
    // Development satellite: the key's host stays the Frontend API.
    assert_eq!(
        o.original_frontend_api(),
        Some("clerk.inspired.puma-74.lcl.dev")
    );
    // A production secret key does not need sign_in_url; production satellite uses clerk.<domain>.
    let o = Options::builder()
        .secret_key("sk_live_x")
        .publishable_key(PK_LIVE)
        .is_satellite(true)
        .domain("sat.example.com")
        .build()
        .unwrap();
    assert_eq!(o.original_frontend_api(), Some("clerk.sat.example.com"));
    assert_eq!(o.frontend_api(), Some("clerk.sat.example.com"));
    // A proxy overrides the effective Frontend API but not the original one.
    let o = Options::builder()
        .secret_key("sk_live_x")
        .publishable_key(PK_LIVE)
        .is_satellite(true)
        .proxy_url("https://sat.example.com/__clerk")
        .build()
        .unwrap();
    assert_eq!(o.frontend_api(), Some("https://sat.example.com/__clerk"));
    assert_eq!(o.original_frontend_api(), Some("clerk.clerk.dev"));
}

#[test]
fn relative_proxy_is_kept() {
    let o = base().proxy_url("/__clerk").build().unwrap();
    assert_eq!(o.proxy_url(), Some("/__clerk"));
    assert_eq!(o.frontend_api(), Some("clerk.inspired.puma-74.lcl.dev"));
}

#[test]
fn issuer_opt_in() {
    let o = base().verify_issuer(true).build().unwrap();
    assert_eq!(
        o.verifier().options().issuer.as_deref(),
        Some("https://clerk.inspired.puma-74.lcl.dev")
    );
}

#[test]
fn verification_options_reach_the_verifier() {
    let o = base()
        .authorized_parties(["https://a.example.com", ""])
        .audience(["aud1"])
        .clock_skew(Duration::from_millis(1500))
        .build()
        .unwrap();
    let v = o.verifier().options();
    assert_eq!(
        v.authorized_parties,
        vec!["https://a.example.com".to_owned()]
    );
    assert_eq!(v.audience, vec!["aud1".to_owned()]);
    assert_eq!(v.clock_skew, Duration::from_millis(1500));
}

#[test]
fn organization_patterns_compile_at_build() {
    let o = base()
        .organization_sync(OrganizationSyncOptions {
            organization_patterns: vec!["/orgs/:slug".into(), "/orgs/:slug/(.*)".into()],
            personal_account_patterns: vec!["/me".into()],
        })
        .build()
        .unwrap();
    assert!(o.organization_matcher().is_some());
    let err = base()
        .organization_sync(OrganizationSyncOptions {
            organization_patterns: vec!["/orgs/(".into()],
            personal_account_patterns: vec![],
        })
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidPattern { .. }), "{err:?}");
}

#[test]
fn accepts_token_parsing() {
    assert_eq!(AcceptsToken::parse("").unwrap(), AcceptsToken::SessionToken);
    assert_eq!(
        AcceptsToken::parse("session_token").unwrap(),
        AcceptsToken::SessionToken
    );
    assert_eq!(AcceptsToken::parse("any").unwrap(), AcceptsToken::Any);
    assert_eq!(
        AcceptsToken::parse(" m2m_token ").unwrap(),
        AcceptsToken::Only(TokenType::M2mToken)
    );
    assert_eq!(
        AcceptsToken::parse("api_key, session_token,api_key").unwrap(),
        AcceptsToken::List(vec![TokenType::ApiKey, TokenType::SessionToken])
    );
    assert!(AcceptsToken::parse("any,api_key").is_err());
    assert!(AcceptsToken::parse("jwt").is_err());
    let list = AcceptsToken::List(vec![TokenType::OauthToken]);
    assert!(list.accepts(TokenType::OauthToken));
    assert!(!list.accepts(TokenType::SessionToken));
    assert!(AcceptsToken::Any.accepts(TokenType::ApiKey));
    assert!(AcceptsToken::from(TokenType::SessionToken).is_exactly(TokenType::SessionToken));
    // Only(SessionToken) is normalised.
    let o = base()
        .accepts_token(AcceptsToken::Only(TokenType::SessionToken))
        .build()
        .unwrap();
    assert_eq!(o.accepts_token(), &AcceptsToken::SessionToken);
}

#[test]
fn from_env_reads_every_variable() {
    let lookup = env(&[
        ("CLERK_SECRET_KEY", "sk_live_abc"),
        ("CLERK_PUBLISHABLE_KEY", PK_LIVE),
        ("CLERK_MACHINE_SECRET_KEY", "msk_1"),
        ("CLERK_API_URL", "http://127.0.0.1:9999"),
        ("CLERK_API_VERSION", "v2"),
        (
            "CLERK_AUTHORIZED_PARTIES",
            "https://a.example.com, https://b.example.com,,",
        ),
        ("CLERK_AUDIENCE", "aud1,aud2"),
        ("CLERK_DOMAIN", "sat.example.com"),
        ("CLERK_IS_SATELLITE", "true"),
        ("CLERK_PROXY_URL", "/__clerk"),
        ("CLERK_SATELLITE_AUTO_SYNC", "1"),
        ("CLERK_SIGN_IN_URL", "https://primary.example.com/sign-in"),
        ("CLERK_SIGN_UP_URL", "https://primary.example.com/sign-up"),
        ("CLERK_ACCEPTS_TOKEN", "session_token,oauth_token"),
        (
            "CLERK_ORGANIZATION_PATTERNS",
            "/orgs/:slug, /orgs/:slug/(.*)",
        ),
        ("CLERK_PERSONAL_ACCOUNT_PATTERNS", "/me"),
        ("CLERK_CLOCK_SKEW_MS", "2500"),
    ]);
    let o = Options::from_env_with(lookup).unwrap();
    assert_eq!(o.secret_key().unwrap().expose_secret(), "sk_live_abc");
    assert_eq!(o.publishable_key().unwrap().as_str(), PK_LIVE);
    assert_eq!(o.machine_secret_key().unwrap().expose_secret(), "msk_1");
    assert_eq!(o.api_url(), "http://127.0.0.1:9999");
    assert_eq!(o.api_version(), "v2");
    assert_eq!(
        o.authorized_parties(),
        ["https://a.example.com", "https://b.example.com"]
    );
    assert_eq!(o.audience(), ["aud1", "aud2"]);
    assert_eq!(o.domain(), Some("sat.example.com"));
    assert!(o.is_satellite());
    assert_eq!(o.proxy_url(), Some("/__clerk"));
    assert!(o.satellite_auto_sync());
    assert_eq!(o.sign_in_url(), Some("https://primary.example.com/sign-in"));
    assert_eq!(o.sign_up_url(), Some("https://primary.example.com/sign-up"));
    assert_eq!(
        o.accepts_token(),
        &AcceptsToken::List(vec![TokenType::SessionToken, TokenType::OauthToken])
    );
    let sync = o.organization_sync().unwrap();
    assert_eq!(
        sync.organization_patterns,
        ["/orgs/:slug", "/orgs/:slug/(.*)"]
    );
    assert_eq!(sync.personal_account_patterns, ["/me"]);
    assert_eq!(o.clock_skew(), Duration::from_millis(2500));
    assert_eq!(ENV_VARS.len(), 18);
}

#[test]
fn from_env_empty_values_are_unset() {
    let o = Options::from_env_with(env(&[
        ("CLERK_SECRET_KEY", SECRET),
        ("CLERK_PUBLISHABLE_KEY", PK_TEST),
        ("CLERK_API_URL", ""),
        ("CLERK_IS_SATELLITE", ""),
        ("CLERK_ACCEPTS_TOKEN", ""),
    ]))
    .unwrap();
    assert_eq!(o.api_url(), "https://api.clerk.com");
    assert!(!o.is_satellite());
    assert_eq!(o.accepts_token(), &AcceptsToken::SessionToken);
}

#[test]
fn from_env_errors() {
    let with = |extra: (&str, &str)| {
        Options::from_env_with(env(&[
            ("CLERK_SECRET_KEY", SECRET),
            ("CLERK_PUBLISHABLE_KEY", PK_TEST),
            extra,
        ]))
    };
    assert!(matches!(
        with(("CLERK_CLOCK_SKEW_MS", "5s")),
        Err(ConfigError::Invalid {
            name: "CLERK_CLOCK_SKEW_MS",
            ..
        })
    ));
    assert!(matches!(
        with(("CLERK_CLOCK_SKEW_MS", "-1")),
        Err(ConfigError::Invalid {
            name: "CLERK_CLOCK_SKEW_MS",
            ..
        })
    ));
    assert!(matches!(
        with(("CLERK_IS_SATELLITE", "maybe")),
        Err(ConfigError::Invalid {
            name: "CLERK_IS_SATELLITE",
            ..
        })
    ));
    assert!(matches!(
        with(("CLERK_ACCEPTS_TOKEN", "cookies")),
        Err(ConfigError::Invalid {
            name: "CLERK_ACCEPTS_TOKEN",
            ..
        })
    ));
    assert_eq!(
        Options::from_env_with(env(&[])).unwrap_err(),
        ConfigError::MissingPublishableKey
    );
}

#[test]
fn builder_from_env_can_be_extended() {
    let b = clerk_auth_core::options::OptionsBuilder::from_env_with(env(&[
        ("CLERK_SECRET_KEY", SECRET),
        ("CLERK_PUBLISHABLE_KEY", PK_TEST),
    ]))
    .unwrap();
    let o = b
        .debug_headers(false)
        .clock(Arc::new(clerk_auth_core::SystemClock))
        .build()
        .unwrap();
    assert!(!o.debug_headers());
}

// ---- decision 17: mistakes Clerk's SDK accepts are caught at start-up -----------------------

fn with_key_pair() -> clerk_auth_core::OptionsBuilder {
    Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_live_x")
}

#[test]
fn a_publishable_key_in_the_secret_keys_place_is_refused_naming_clerk_secret_key() {
    let err = Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .build()
        .unwrap_err();
    assert_eq!(err.variable(), "CLERK_SECRET_KEY");
    let shown = err.to_string();
    assert!(shown.contains("publishable key"), "{shown}");
    assert!(
        !shown.contains("  "),
        "one sentence, no stray spaces: {shown}"
    );
    assert!(!shown.contains("Y2xlcm"), "the key is not echoed: {shown}");
}

#[test]
fn authorized_parties_must_be_origins() {
    for bad in [
        "localhost:3000",
        "https://app.example.com/",
        "https://app.example.com/dashboard",
        "https://app.example.com?x=1",
        "://app.example.com",
        "https://",
        "app.example.com",
    ] {
        let err = with_key_pair()
            .authorized_parties([bad])
            .build()
            .expect_err(bad);
        assert_eq!(err.variable(), "CLERK_AUTHORIZED_PARTIES", "{bad}");
        assert!(err.to_string().contains("azp"), "{err}");
    }
    for good in [
        "https://app.example.com",
        "http://localhost:3000",
        "capacitor://localhost",
    ] {
        with_key_pair()
            .authorized_parties([good])
            .build()
            .unwrap_or_else(|e| panic!("{good}: {e}"));
    }
}

#[test]
fn the_secret_key_requirement_says_why() {
    let err = Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .jwt_key(clerk_auth_core::testing::KeyPair::shared().public_pem())
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::MissingSecretKey);
    let shown = err.to_string();
    assert!(shown.contains("handshakes"), "{shown}");
    assert!(shown.contains("CLERK_JWT_KEY"), "{shown}");
}

#[test]
fn an_undecodable_publishable_key_points_to_the_dashboard() {
    let err = Options::builder()
        .publishable_key("pk_test_garbage")
        .secret_key("sk_test_x")
        .build()
        .unwrap_err();
    assert_eq!(err.variable(), "CLERK_PUBLISHABLE_KEY");
    let shown = err.to_string();
    assert!(
        shown.contains("API keys page of the Clerk dashboard"),
        "{shown}"
    );
    assert!(!shown.contains("'$'"), "no jargon: {shown}");
}
