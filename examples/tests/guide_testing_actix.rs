//! An actix-web app's `/api/me`, with the `ClerkAuth` middleware, run in the test itself.
use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// Under another name: `use actix_web::test;` would also replace the built-in `#[test]` here.
use actix_web::test as actix_test;
use actix_web::{web, App, HttpResponse};
use clerk_auth_actix::{ClerkAuth, SignedIn};
use clerk_auth_core::testing::{FixedClock, KeyPair, TokenMinter};
use clerk_auth_core::{ConfigError, Options};

/// Options that trust the test key pair, at a fixed time.
fn test_options(now: SystemTime) -> Result<Options, ConfigError> {
    Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_live_unused")
        .jwt_key(KeyPair::shared().public_pem())
        .clock(Arc::new(FixedClock::new(now)))
        .build()
}

/// The handler under test (in your app, import it from your crate).
async fn me(user: SignedIn) -> HttpResponse {
    HttpResponse::Ok().body(user.user_id().unwrap_or_default().to_owned())
}

#[actix_web::test]
async fn me_answers_with_the_signed_in_user() -> Result<(), Box<dyn Error>> {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let app = actix_test::init_service(
        App::new()
            .wrap(ClerkAuth::new(test_options(now)?))
            .route("/api/me", web::get().to(me)),
    )
    .await;

    let token = TokenMinter::new(KeyPair::shared())
        .issued_at(now)
        .subject("user_123")
        .mint();
    let request = actix_test::TestRequest::get()
        .uri("/api/me")
        .insert_header(("authorization", format!("Bearer {token}")))
        .to_request();
    let response = actix_test::call_service(&app, request).await;
    assert_eq!(response.status(), 200);
    assert_eq!(actix_test::read_body(response).await, "user_123");
    Ok(())
}

#[actix_web::test]
async fn me_without_a_token_is_401_with_the_reason() -> Result<(), Box<dyn Error>> {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let app = actix_test::init_service(
        App::new()
            .wrap(ClerkAuth::new(test_options(now)?))
            .route("/api/me", web::get().to(me)),
    )
    .await;

    let request = actix_test::TestRequest::get().uri("/api/me").to_request();
    let response = actix_test::call_service(&app, request).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response
            .headers()
            .get("x-clerk-auth-reason")
            .and_then(|v| v.to_str().ok()),
        Some("session-token-and-uat-missing")
    );
    Ok(())
}
