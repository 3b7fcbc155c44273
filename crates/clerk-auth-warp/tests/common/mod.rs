//! A real warp server on 127.0.0.1:0 running a small app over the filters. The client is the
//! core's `testing::client`.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::TcpListener;
use std::thread::JoinHandle;

use clerk_auth_core::testing::KeyPair;
use clerk_auth_core::{Options, OptionsBuilder};
use clerk_auth_warp::{
    api, auth_state, optional_signed_in, recover, signed_in, AuthState, SignedIn,
};
use warp::{Filter, Rejection, Reply};

pub const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";

/// Options verifying with the PEM of `keys` (networkless).
pub fn pem_options(keys: &KeyPair) -> OptionsBuilder {
    Options::builder()
        .publishable_key(PK_LIVE)
        .secret_key("sk_live_adapter_tests")
        .jwt_key(keys.public_pem())
        .api_url("http://127.0.0.1:9")
}

/// The app: `/api/me` (required), `/api/optional` (optional), the same two and `/v1/state`
/// (public) under `/v1` with the API filters, every other path public.
pub fn app(options: Options) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let me = warp::path!("api" / "me")
        .and(signed_in(options.clone()))
        .map(|auth: SignedIn| auth.reply(warp::reply::json(&auth.auth_json())));
    let optional = warp::path!("api" / "optional")
        .and(optional_signed_in(options.clone()))
        .map(|auth: Option<SignedIn>| match auth {
            Some(auth) => {
                let user = auth.session().and_then(|s| s.user_id.clone());
                format!("some {}", user.unwrap_or_default())
            }
            None => "none".to_owned(),
        });
    let api_me = warp::path!("v1" / "api" / "me")
        .and(api::signed_in(options.clone()))
        .map(|auth: SignedIn| auth.reply(warp::reply::json(&auth.auth_json())));
    let api_optional = warp::path!("v1" / "api" / "optional")
        .and(api::optional_signed_in(options.clone()))
        .map(|auth: Option<SignedIn>| if auth.is_some() { "some" } else { "none" });
    let api_state = warp::path!("v1" / "state")
        .and(api::auth_state(options.clone()))
        .map(|auth: AuthState| {
            let status = auth.status().to_string();
            auth.reply(status)
        });
    let public = auth_state(options).map(|auth: AuthState| {
        let who = match auth.session().and_then(|s| s.user_id.as_deref()) {
            Some(user) => format!("signed-in {user}"),
            None => "signed-out".to_owned(),
        };
        auth.reply(warp::reply::html(who))
    });
    me.or(optional)
        .or(api_me)
        .or(api_optional)
        .or(api_state)
        .recover(recover)
        .or(public)
        .recover(recover)
}

pub struct Server {
    pub base: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves [`app`] on a runtime with ONE worker thread, so a blocked executor would show.
    pub fn start(options: Options) -> Self {
        Self::start_with_workers(options, Some(1))
    }

    /// Serves [`app`] with `workers` worker threads (tokio's default when `None`).
    pub fn start_with_workers(options: Options, workers: Option<usize>) -> Self {
        Self::serve(app(options), workers)
    }

    /// Serves `filter` (an app of the test's own) with `workers` worker threads.
    pub fn serve<F>(filter: F, workers: Option<usize>) -> Self
    where
        F: Filter<Error = Rejection> + Clone + Send + Sync + 'static,
        F::Extract: Reply,
    {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let mut rt = tokio::runtime::Builder::new_multi_thread();
            if let Some(workers) = workers {
                rt.worker_threads(workers);
            }
            let rt = rt.enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                warp::serve(filter)
                    .incoming(listener)
                    .graceful(async move {
                        let _ = rx.await;
                    })
                    .run()
                    .await;
            });
        });
        Self {
            base,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
