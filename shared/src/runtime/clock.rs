//! The injected clock. Every function asks it for "now", never `Utc::now()`
//! directly, so tests and the local stack (`custops local up --now`) can pin time.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// Wall-clock time: what Lambda uses.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still at a set instant until it is moved.
#[derive(Debug, Clone)]
pub struct PinnedClock(Arc<RwLock<DateTime<Utc>>>);

impl PinnedClock {
    pub fn at(t: DateTime<Utc>) -> Self {
        Self(Arc::new(RwLock::new(t)))
    }

    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = t;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut guard = self.0.write().unwrap_or_else(|e| e.into_inner());
        *guard += by;
    }
}

impl Clock for PinnedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.read().unwrap_or_else(|e| e.into_inner())
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// A clock that reads `at` until `clock` passes it: work handed on at `at`
/// is decided as of then, and never as of a time before it.
pub struct NotBefore {
    pub at: DateTime<Utc>,
    pub clock: SharedClock,
}

impl Clock for NotBefore {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now().max(self.at)
    }
}
