//! A real actix-web server on loopback for the adapter's tests, stopped when dropped.

use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;

use actix_web::dev::ServerHandle;
use actix_web::{rt::System, web, App, HttpServer};

/// A server on `127.0.0.1`, listening on a port the system picked.
pub(crate) struct Server {
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    handle: ServerHandle,
}

impl Drop for Server {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        thread::spawn(move || System::new().block_on(handle.stop(false)));
    }
}

/// Serves the app that `configure` sets up, with `workers` workers, on its own thread and
/// runtime; returns once it listens.
pub(crate) fn serve<F>(workers: usize, configure: F) -> Server
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        System::new().block_on(async move {
            let server = HttpServer::new(move || App::new().configure(configure.clone()))
                .workers(workers)
                .listen(listener)
                .expect("listening")
                .run();
            tx.send(server.handle()).expect("the test waits");
            server.await
        })
    });
    let handle = rx.recv().expect("the server started");
    Server { base, handle }
}
