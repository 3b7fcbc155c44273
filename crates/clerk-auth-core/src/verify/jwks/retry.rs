//! The claim that at most one background key-set retry runs per configured instance.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Whether a background key-set retry runs for one configured instance (held by
/// [`Options`](crate::Options)): the [self-check](crate::self_check) starts one only when none runs, however often it is called.
#[derive(Debug, Default)]
pub(crate) struct KeySetRetry(Arc<AtomicBool>);

impl KeySetRetry {
    /// Claims the right to start the retry thread: `Some(claim)` when none runs (the claim is
    /// released when dropped, by the thread when it ends), `None` when one already runs.
    pub(crate) fn claim(&self) -> Option<RetryClaim> {
        self.0
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
            .then(|| RetryClaim(Arc::clone(&self.0)))
    }
}

/// The running retry of one instance; releases it on drop.
pub(crate) struct RetryClaim(Arc<AtomicBool>);

impl Drop for RetryClaim {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}
