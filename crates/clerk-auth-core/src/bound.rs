//! The bound on decisions waiting on the blocking pool, per instance: a
//! [`Deferred`](crate::Deferred) decision takes one place while it waits and runs, and
//! [`try_authenticate_request`](crate::try_authenticate_request) answers at once when none is free.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// How many decisions of one instance may wait on the blocking pool at once, by default: 64.
pub const DEFAULT_MAX_DEFERRED_DECISIONS: usize = 64;

/// The per-instance count of deferred decisions and its bound.
#[derive(Debug)]
pub(crate) struct DeferredBound {
    waiting: Arc<AtomicUsize>,
    max: usize,
}

impl DeferredBound {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            waiting: Arc::new(AtomicUsize::new(0)),
            max: max.max(1),
        }
    }

    /// A place among the waiting decisions, if one is free. Never waits.
    pub(crate) fn try_acquire(&self) -> Option<DeferredPermit> {
        self.waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| DeferredPermit(Arc::clone(&self.waiting)))
    }

    /// How many decisions wait now.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }
}

/// A place among the waiting decisions; freed when dropped (also if the task is cancelled).
pub(crate) struct DeferredPermit(Arc<AtomicUsize>);

impl Drop for DeferredPermit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_exact_and_places_are_freed_on_drop() {
        let bound = DeferredBound::new(2);
        let a = bound.try_acquire().unwrap();
        let b = bound.try_acquire().unwrap();
        assert!(bound.try_acquire().is_none());
        assert_eq!(bound.waiting(), 2);
        drop(a);
        let c = bound.try_acquire().unwrap();
        assert!(bound.try_acquire().is_none());
        drop((b, c));
        assert_eq!(bound.waiting(), 0);
    }
}
