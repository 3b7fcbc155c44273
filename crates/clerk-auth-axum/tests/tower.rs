//! No axum: `ClerkLayer` around a bare `tower::service_fn`, served by hyper on 127.0.0.1 and
//! reached over real HTTP. The decision reaches the service in the request extensions, the layer
//! answers the handshake itself, its headers are added to the service's own body type, and a
//! decision that fetches the key set runs off the executor.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use clerk_auth_axum::{AuthState, ClerkLayer};
use clerk_auth_core::testing::server::BackendApiServer;
use clerk_auth_core::testing::{KeyPair, TokenMinter};
use clerk_auth_core::Options;
use clerk_auth_vectors::client::{agent, get};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tower::Layer;

const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";

/// The service: `/me` answers the user, or the core's refusal (401/503 JSON); every other path
/// says who is signed in.
async fn app(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let auth = request
        .extensions()
        .get::<AuthState>()
        .expect("the layer ran");
    let response = match (request.uri().path(), auth.signed_in()) {
        (_, Some(user)) => Response::new(Full::from(format!("hello {}", user.user_id().unwrap()))),
        ("/me", None) => {
            let refusal = auth.rejection().expect("not signed in");
            let mut response = Response::new(Full::from(refusal.body));
            *response.status_mut() = StatusCode::from_u16(refusal.status).unwrap();
            response
        }
        (_, None) => Response::new(Full::from("hello stranger")),
    };
    Ok(response)
}

/// Serves `ClerkLayer::new(options)` around [`app`] with hyper (HTTP/1.1) on one executor
/// thread; returns the base URL, how many times the service ran, and the stopper.
fn serve(options: Options) -> (String, Arc<AtomicUsize>, impl FnOnce()) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let service = ClerkLayer::new(options).layer(tower::service_fn(move |request| {
        counted.fetch_add(1, Ordering::SeqCst);
        app(request)
    }));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let accept = async {
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    let service = TowerToHyperService::new(service.clone());
                    tokio::spawn(async move {
                        let http = hyper::server::conn::http1::Builder::new();
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    });
                }
            };
            tokio::select! {
                () = accept => {}
                _ = stopped => {}
            }
        });
    });
    let stopper = move || {
        let _ = stop.send(());
        let _ = thread.join();
    };
    (base, calls, stopper)
}

fn token(keys: &KeyPair, kid: Option<&str>) -> String {
    let minter = TokenMinter::new(keys)
        .issued_at(SystemTime::now())
        .ttl(Duration::from_secs(600))
        .subject("user_2tower");
    match kid {
        Some(kid) => minter.kid(kid).mint(),
        None => minter.mint(),
    }
}

#[test]
fn a_bare_service_fn_behind_the_layer() {
    let keys = KeyPair::shared();
    let options = Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key("sk_live_tower_tests")
        .jwt_key(keys.public_pem())
        .build()
        .unwrap();
    let (base, calls, stop) = serve(options);
    let agent = agent();

    let res = get(&agent, &format!("{base}/"), &[]);
    assert_eq!((res.status, res.body.as_str()), (200, "hello stranger"));
    assert_eq!(res.header("x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(
        res.header("x-clerk-auth-reason"),
        Some("session-token-and-uat-missing")
    );

    let res = get(&agent, &format!("{base}/me"), &[]);
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["reason"], "session-token-and-uat-missing");

    let good = format!("Bearer {}", token(keys, None));
    let res = get(&agent, &format!("{base}/me"), &[("authorization", &good)]);
    assert_eq!((res.status, res.body.as_str()), (200, "hello user_2tower"));
    assert_eq!(res.header("x-clerk-auth-status"), None);
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    // The handshake is the layer's answer: the service does not run.
    let res = get(
        &agent,
        &format!("{base}/"),
        &[("cookie", "__client_uat=1"), ("sec-fetch-dest", "document")],
    );
    assert_eq!(res.status, 307);
    assert!(res
        .header("location")
        .unwrap()
        .starts_with("https://clerk.example.com/"));
    assert_eq!(res.header("x-clerk-auth-status"), Some("handshake"));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    stop();
}

#[test]
fn a_decision_that_fetches_the_key_set_runs_on_the_blocking_pool() {
    let emulator = BackendApiServer::start("sk_live_tower_fetch").unwrap();
    emulator.set_keys(vec![KeyPair::shared().jwk("ins_1")]);
    let options = Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key(emulator.secret())
        .api_url(emulator.url())
        .build()
        .unwrap();
    let (base, calls, stop) = serve(options);
    let good = format!("Bearer {}", token(KeyPair::shared(), Some("ins_1")));
    let res = get(&agent(), &format!("{base}/me"), &[("authorization", &good)]);
    assert_eq!((res.status, res.body.as_str()), (200, "hello user_2tower"));
    assert_eq!(emulator.jwks_fetches(), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    stop();
}
