//! An axum router's `/api/me`, with the `ClerkLayer`, sent one request at a time with `oneshot`.
use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use clerk_auth_axum::{ClerkLayer, SignedIn};
use clerk_auth_core::testing::{FixedClock, KeyPair, TokenMinter};
use clerk_auth_core::{ConfigError, Options};
use tower::ServiceExt; // `oneshot`

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
async fn me(user: SignedIn) -> String {
    user.user_id().unwrap_or_default().to_owned()
}

/// The app, with the layer: a tower service, no socket.
fn app(now: SystemTime) -> Result<Router, ConfigError> {
    Ok(Router::new()
        .route("/api/me", get(me))
        .layer(ClerkLayer::new(test_options(now)?)))
}

#[tokio::test]
async fn me_answers_with_the_signed_in_user() -> Result<(), Box<dyn Error>> {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let token = TokenMinter::new(KeyPair::shared())
        .issued_at(now)
        .subject("user_123")
        .mint();
    let request = Request::get("/api/me")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())?;
    let response = app(now)?.oneshot(request).await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(to_bytes(response.into_body(), 1 << 16).await?, "user_123");
    Ok(())
}

#[tokio::test]
async fn me_without_a_token_is_401_with_the_reason() -> Result<(), Box<dyn Error>> {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let request = Request::get("/api/me").body(Body::empty())?;
    let response = app(now)?.oneshot(request).await?;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response
            .headers()
            .get("x-clerk-auth-reason")
            .and_then(|v| v.to_str().ok()),
        Some("session-token-and-uat-missing")
    );
    Ok(())
}
