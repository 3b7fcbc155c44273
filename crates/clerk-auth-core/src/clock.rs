//! Time is injected: the decision and the verifiers read it from a [`Clock`].

use std::fmt;
use std::time::SystemTime;

/// A source of the current time. Inject a fixed clock in tests (`testing::FixedClock`).
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock, the default.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}
