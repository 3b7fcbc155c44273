//! A Rocket app's `/api/me`, with the `ClerkAuth` fairing, through Rocket's local client.
use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clerk_auth_core::testing::{FixedClock, KeyPair, TokenMinter};
use clerk_auth_core::{ConfigError, Options};
use clerk_auth_rocket::{ClerkAuth, SignedIn};
use rocket::http::{Header, Status};
use rocket::local::asynchronous::Client;

/// Options that trust the test key pair, at a fixed time.
fn test_options(now: SystemTime) -> Result<Options, ConfigError> {
    Options::builder()
        .publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k")
        .secret_key("sk_live_unused")
        .jwt_key(KeyPair::shared().public_pem())
        .clock(Arc::new(FixedClock::new(now)))
        .build()
}

/// The route under test (in your app, import it from your crate).
#[rocket::get("/api/me")]
fn me(user: SignedIn<'_>) -> String {
    user.session()
        .and_then(|s| s.user_id.clone())
        .unwrap_or_default()
}

/// A local client for the app, fairing and guards included: no socket.
async fn client(now: SystemTime) -> Result<Client, Box<dyn Error>> {
    let rocket = rocket::build()
        .attach(ClerkAuth::new(test_options(now)?))
        .mount("/", rocket::routes![me]);
    Ok(Client::tracked(rocket).await?)
}

#[rocket::async_test]
async fn me_answers_with_the_signed_in_user() -> Result<(), Box<dyn Error>> {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let client = client(now).await?;

    let token = TokenMinter::new(KeyPair::shared())
        .issued_at(now)
        .subject("user_123")
        .mint();
    let response = client
        .get("/api/me")
        .header(Header::new("authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().await.as_deref(), Some("user_123"));
    Ok(())
}

#[rocket::async_test]
async fn me_without_a_token_is_401_with_the_reason() -> Result<(), Box<dyn Error>> {
    let client = client(UNIX_EPOCH + Duration::from_secs(1_700_000_000)).await?;

    let response = client.get("/api/me").dispatch().await;
    assert_eq!(response.status(), Status::Unauthorized);
    assert_eq!(
        response.headers().get_one("x-clerk-auth-reason"),
        Some("session-token-and-uat-missing")
    );
    let body = response.into_string().await.unwrap_or_default();
    assert!(body.contains(r#""status":"signed-out""#));
    Ok(())
}
