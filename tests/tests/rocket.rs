//! The decision vectors and the contract's authorization routes through the Rocket example
//! server, over HTTP.
// Test support: a server that cannot start must fail the test loudly.
#![allow(clippy::expect_used)]

use std::net::{Ipv4Addr, TcpListener};

use clerk_auth_conformance::{run_all, run_authorization};
use clerk_auth_core::Options;
use rocket::config::{Config, LogLevel, Shutdown};

#[test]
fn rocket_conformance() {
    run_all("rocket", start);
}

#[test]
fn rocket_authorization() {
    run_authorization("rocket", start);
}

fn start(options: Options, listener: TcpListener) -> Box<dyn FnOnce()> {
    let port = listener.local_addr().expect("addr").port();
    // Rocket binds its own socket: free the port for it.
    drop(listener);
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let config = Config {
                address: Ipv4Addr::LOCALHOST.into(),
                port,
                log_level: LogLevel::Off,
                cli_colors: false,
                shutdown: Shutdown {
                    grace: 0,
                    mercy: 0,
                    ..Shutdown::default()
                },
                ..Config::default()
            };
            let rocket = clerk_auth_examples::rocket::app(options)
                .configure(config)
                .ignite()
                .await
                .expect("ignite");
            let _ = tx.send(rocket.shutdown());
            let _ = rocket.launch().await;
        });
    });
    let shutdown = rx.recv().expect("rocket ignited");
    Box::new(move || {
        shutdown.notify();
        let _ = thread.join();
    })
}
