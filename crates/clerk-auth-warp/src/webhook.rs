//! Clerk webhooks: the [`webhook`] filter and its rejection, [`ClerkWebhookError`].

use std::fmt;
use std::future::poll_fn;
use std::pin::pin;

use clerk_auth_core::webhook::{WebhookBody, WebhookError, WebhookEvent, WebhookVerifier};
use warp::http::header::CONTENT_TYPE;
use warp::http::{HeaderMap, HeaderValue, StatusCode};
use warp::reject::{Reject, Rejection};
use warp::reply::Response;
use warp::{Buf, Filter, Stream};

/// Extracts a verified Clerk [`WebhookEvent`]: reads the raw body (up to the verifier's
/// [`max_body_bytes`](WebhookVerifier::max_body_bytes), 1 MiB by default, chunk by chunk, with
/// or without a `content-length`), verifies its Svix signature, and only then parses the event.
///
/// Otherwise it rejects with a [`ClerkWebhookError`], which [`recover`](crate::recover)
/// answers: `400` `{"status":"webhook-invalid","reason","message"}`, or `500` naming
/// `CLERK_WEBHOOK_SIGNING_SECRET` for a verifier without a secret. Apply `.recover(recover)`
/// right after the webhook route, before `or`-ing routes that could take the request instead.
///
/// Put the path and method filters before it (it takes the body). Webhooks carry no session:
/// do not combine it with [`signed_in`](crate::signed_in).
///
/// # Example
///
/// ```no_run
/// use clerk_auth_core::webhook::{EventType, WebhookEvent, WebhookVerifier};
/// use clerk_auth_core::Options;
/// use clerk_auth_warp::{recover, signed_in, webhook, SignedIn};
/// use warp::Filter;
///
/// #[tokio::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     // CLERK_WEBHOOK_SIGNING_SECRET (whsec_…): missing or invalid fails here, at start-up.
///     let verifier = WebhookVerifier::from_env()?;
///     let options = Options::from_env()?;
///
///     // No `signed_in` on this route: Svix sends no session.
///     let clerk_webhook = warp::post()
///         .and(warp::path!("api" / "webhooks" / "clerk"))
///         .and(webhook(verifier))
///         .map(|event: WebhookEvent| {
///             // Verified: the signature, the 5-minute window, then the JSON. Svix retries a
///             // delivery until it gets a 2xx, with the same id: handle each `message_id` once.
///             match &event.event_type {
///                 EventType::UserCreated | EventType::UserUpdated => {
///                     if let Some(Ok(user)) = event.user() {
///                         println!("upsert {} ({})", user.id, event.message_id);
///                     }
///                 }
///                 EventType::UserDeleted => println!("delete {:?}", event.data_id()),
///                 _ => {}
///             }
///             warp::reply()
///         });
///     let me = warp::path!("api" / "me")
///         .and(signed_in(options))
///         .map(|auth: SignedIn| auth.reply(warp::reply::json(&auth.auth_json())));
///
///     // `recover` right after the webhook route: a refused delivery is answered there (400 or
///     // 500 JSON), never by a route `or`-ed after it.
///     let routes = clerk_webhook.recover(recover).or(me).recover(recover);
///
///     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
///     warp::serve(routes).incoming(listener).run().await;
///     Ok(())
/// }
/// ```
pub fn webhook(
    verifier: WebhookVerifier,
) -> impl Filter<Extract = (WebhookEvent,), Error = Rejection> + Clone {
    warp::header::headers_cloned()
        .and(warp::body::stream())
        .and_then(move |headers: HeaderMap, body| {
            let verifier = verifier.clone();
            async move {
                let body = read_bounded(body, WebhookBody::new(&verifier))
                    .await
                    .map_err(|e| warp::reject::custom(ClerkWebhookError::BodyUnreadable(e)))?;
                verifier
                    .verify_headers(
                        |name| headers.get(name).map(HeaderValue::as_bytes),
                        body.as_bytes(),
                    )
                    .map_err(|e| warp::reject::custom(ClerkWebhookError::Refused(e)))
            }
        })
}

/// Reads the body chunk by chunk into `into`, and stops once it is full (one byte over the
/// limit): no more is ever buffered, whatever the client sends or declares.
async fn read_bounded<B: Buf>(
    body: impl Stream<Item = Result<B, warp::Error>>,
    mut into: WebhookBody,
) -> Result<WebhookBody, warp::Error> {
    let mut body = pin!(body);
    while let Some(chunk) = poll_fn(|cx| body.as_mut().poll_next(cx)).await {
        let mut chunk = chunk?;
        while chunk.has_remaining() {
            let piece = chunk.chunk();
            if !into.push(piece) {
                return Ok(into);
            }
            let len = piece.len();
            chunk.advance(len);
        }
    }
    Ok(into)
}

/// Why [`webhook`] rejected a request; [`recover`](crate::recover) answers it with
/// [`to_response`](Self::to_response), a JSON body (`content-type: application/json`) that
/// never contains the secret, a signature or the body.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClerkWebhookError {
    /// The verifier refused the delivery: [`WebhookError::status`] (`400`, or `500` for a
    /// verifier without a signing secret) with [`WebhookError::body_json`]
    /// (`{"status":"webhook-invalid","reason","message"}`).
    Refused(WebhookError),
    /// The body could not be read (the client went away, a malformed chunked body): `400`,
    /// `{"status":"error","message":…}`.
    BodyUnreadable(warp::Error),
}

impl Reject for ClerkWebhookError {}

/// The answer to [`ClerkWebhookError::BodyUnreadable`].
const BODY_UNREADABLE_JSON: &str =
    r#"{"status":"error","message":"the webhook's body could not be read"}"#;

impl ClerkWebhookError {
    /// The response this rejection is answered with.
    pub fn to_response(&self) -> Response {
        let (status, body) = match self {
            Self::Refused(e) => (e.status(), e.body_json()),
            Self::BodyUnreadable(_) => (400, BODY_UNREADABLE_JSON.to_owned()),
        };
        let mut response = Response::new(body.into());
        *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

impl fmt::Display for ClerkWebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(e) => fmt::Display::fmt(e, f),
            Self::BodyUnreadable(_) => f.write_str("the webhook's body could not be read"),
        }
    }
}

impl std::error::Error for ClerkWebhookError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Refused(e) => Some(e),
            Self::BodyUnreadable(e) => Some(e),
        }
    }
}

/// [`recover`](crate::recover)'s second half: answers a [`ClerkWebhookError`], hands any other
/// rejection back.
pub(crate) fn recover(rejection: Rejection) -> Result<Response, Rejection> {
    match rejection.find::<ClerkWebhookError>() {
        Some(webhook) => Ok(webhook.to_response()),
        None => Err(rejection),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn recover_answers_a_refusal_with_the_cores_json() {
        let refused = ClerkWebhookError::Refused(WebhookError::SignatureMismatch);
        let response = crate::recover(warp::reject::custom(refused)).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers().get(CONTENT_TYPE).unwrap(),
            "application/json"
        );
        let missing = ClerkWebhookError::Refused(WebhookError::SecretMissing).to_response();
        assert_eq!(missing.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
