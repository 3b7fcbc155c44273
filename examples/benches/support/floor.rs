//! The floor over HTTP: for each framework, a bare server whose `/api/me` does only what no
//! implementation can skip (read the bearer token, one raw RSA-2048 PKCS#1 v1.5 SHA-256 verify
//! through OpenSSL's lowest level with a key and context built once per thread, answer the
//! decoded payload), and whose `/` answers like the example's public route. The bench runs it as
//! a child process of its own executable (`COLD_FLOOR_SERVER=<framework>`), loaded exactly as
//! the example servers are, so that "(a) plus one verify" is measured the way users feel it:
//! server CPU per request over real HTTP, at the rate that work allows.

use std::cell::RefCell;
use std::net::TcpListener;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openssl::md::Md;
use openssl::pkey::{PKey, Public};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;

/// The environment variable that turns the bench executable into a floor server.
pub const SERVER_VAR: &str = "COLD_FLOOR_SERVER";

thread_local! {
    static CONTEXT: RefCell<Option<PkeyCtx<Public>>> = const { RefCell::new(None) };
}

/// A verification context for the key in `CLERK_JWT_KEY`.
fn context() -> PkeyCtx<Public> {
    let pem = std::env::var("CLERK_JWT_KEY").expect("CLERK_JWT_KEY");
    let key = PKey::public_key_from_pem(pem.as_bytes()).expect("public key");
    let mut ctx = PkeyCtx::new(&key).expect("EVP_PKEY_CTX");
    ctx.verify_init().expect("verify_init");
    ctx.set_rsa_padding(Padding::PKCS1).expect("padding");
    ctx.set_signature_md(Md::sha256()).expect("signature md");
    ctx
}

/// The payload JSON of a validly signed bearer token, or `None`.
pub fn verified_payload(authorization: Option<&[u8]>) -> Option<Vec<u8>> {
    let token = std::str::from_utf8(authorization?)
        .ok()?
        .strip_prefix("Bearer ")?;
    let (input, signature) = token.rsplit_once('.')?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let mut hasher = openssl::sha::Sha256::new();
    hasher.update(input.as_bytes());
    let digest = hasher.finish();
    let ok = CONTEXT.with(|cell| {
        let mut slot = cell.borrow_mut();
        slot.get_or_insert_with(context)
            .verify(&digest, &signature)
            .unwrap_or(false)
    });
    let payload = input.split('.').nth(1)?;
    ok.then(|| URL_SAFE_NO_PAD.decode(payload).ok()).flatten()
}

/// Runs the floor server for `framework` on 127.0.0.1 (port 0), printing the example servers'
/// `listening on http://127.0.0.1:<port>` line; never returns.
pub fn serve(framework: &str) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    listener.set_nonblocking(true).expect("non-blocking");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match framework {
        "actix" => actix_web::rt::System::new().block_on(async move {
            use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
            async fn me(req: HttpRequest) -> HttpResponse {
                let header = req.headers().get("authorization").map(|v| v.as_bytes());
                match verified_payload(header) {
                    Some(body) => HttpResponse::Ok()
                        .content_type("application/json")
                        .body(body),
                    None => HttpResponse::Unauthorized().finish(),
                }
            }
            let server = HttpServer::new(|| {
                App::new()
                    .route("/", web::get().to(|| async { PUBLIC_BODY }))
                    .route("/api/me", web::get().to(me))
            })
            .listen(listener)
            .expect("listen")
            .run();
            println!("listening on http://127.0.0.1:{port}");
            server.await.expect("actix floor server");
        }),
        "warp" => runtime.block_on(async move {
            use warp::Filter;
            let public = warp::path::end().map(|| PUBLIC_BODY);
            let me = warp::path!("api" / "me")
                .and(warp::header::optional::<String>("authorization"))
                .map(|header: Option<String>| {
                    match verified_payload(header.as_deref().map(str::as_bytes)) {
                        Some(body) => warp::http::Response::builder()
                            .header("content-type", "application/json")
                            .body(body),
                        None => warp::http::Response::builder().status(401).body(Vec::new()),
                    }
                });
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            println!("listening on http://127.0.0.1:{port}");
            warp::serve(warp::get().and(public.or(me)))
                .incoming(listener)
                .run()
                .await;
        }),
        "axum" => runtime.block_on(async move {
            use axum::http::{header, HeaderMap, StatusCode};
            use axum::response::IntoResponse;
            use axum::routing::get;
            async fn me(headers: HeaderMap) -> axum::response::Response {
                let header = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
                match verified_payload(header) {
                    Some(body) => {
                        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
                    }
                    None => StatusCode::UNAUTHORIZED.into_response(),
                }
            }
            let app = axum::Router::new()
                .route("/", get(|| async { PUBLIC_BODY }))
                .route("/api/me", get(me));
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            println!("listening on http://127.0.0.1:{port}");
            axum::serve(listener, app).await.expect("axum floor server");
        }),
        "rocket" => runtime.block_on(async move {
            drop(listener);
            let figment = rocket::Config::figment()
                .merge(("port", port))
                .merge(("address", "127.0.0.1"))
                .merge(("log_level", "off"));
            println!("listening on http://127.0.0.1:{port}");
            let _ = rocket::custom(figment)
                .mount("/", rocket::routes![rocket_public, rocket_me])
                .launch()
                .await;
        }),
        other => panic!("no floor server for {other}"),
    }
}

/// The public route's body (the examples answer a short text there too).
const PUBLIC_BODY: &str = "public";

#[rocket::get("/")]
fn rocket_public() -> &'static str {
    PUBLIC_BODY
}

/// The `authorization` header, for the Rocket floor route.
struct Authorization(Option<Vec<u8>>);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for Authorization {
    type Error = ();

    async fn from_request(req: &'r rocket::Request<'_>) -> rocket::request::Outcome<Self, ()> {
        let header = req.headers().get_one("authorization");
        rocket::request::Outcome::Success(Self(verified_payload(header.map(str::as_bytes))))
    }
}

#[rocket::get("/api/me")]
fn rocket_me(
    auth: Authorization,
) -> Result<(rocket::http::ContentType, Vec<u8>), rocket::http::Status> {
    auth.0
        .map(|body| (rocket::http::ContentType::JSON, body))
        .ok_or(rocket::http::Status::Unauthorized)
}
