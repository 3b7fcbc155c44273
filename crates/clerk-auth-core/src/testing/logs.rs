//! Capturing what the code under test writes to `tracing`, for assertions such as "nothing logged
//! contains a token".

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

/// Runs `f` with a `tracing` subscriber for this thread only that writes every event at `level`
/// or above as plain text; returns `f`'s result and the text.
///
/// Events from other threads are not captured (a blocking task of an async runtime runs
/// elsewhere: run the runtime inside `f`, on this thread). `tracing` caches its callsite
/// interest process-wide, so subscribers of different levels in tests running concurrently in
/// one binary can miss events; give such a test a binary of its own.
///
/// ```
/// use clerk_auth_core::testing::logs::capture_logs;
///
/// let ((), logs) = capture_logs(tracing::Level::INFO, || tracing::warn!("disk almost full"));
/// assert!(logs.contains("WARN") && logs.contains("disk almost full"));
/// ```
pub fn capture_logs<T>(level: tracing::Level, f: impl FnOnce() -> T) -> (T, String) {
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let result = tracing::subscriber::with_default(subscriber, f);
    let bytes = std::mem::take(&mut *sink.0.lock().unwrap_or_else(PoisonError::into_inner));
    (result, String::from_utf8_lossy(&bytes).into_owned())
}

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
