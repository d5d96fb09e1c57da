//! The library every custops function shares: the domain, the one customer
//! table, idempotency, the SQS batch adapter and the one outbound texting path.
//!
//! Functions are thin: `main.rs` is one line ([`function::serve`] or
//! [`function::serve_scheduled`]); the function's library parses its input,
//! loads the customer's state with one Query, decides the whole [`apply::Change`]
//! in a pure `decide`, and commits it with [`apply`](context::Core::apply), the
//! one commit path, which sends through the one outbound path.
// The serving functions' futures (a function's process or run inside the
// batch adapter, inside the runtime) nest deeper than the compiler's default
// layout depth when checked from a clean build.
#![recursion_limit = "256"]

pub mod alerts;
pub mod apply;
pub mod aws;
pub mod batch;
pub mod clock;
pub mod context;
pub mod entity;
pub mod env;
pub mod error;
pub mod event;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod function;
pub mod handoff;
pub mod http;
pub mod keys;
pub mod model;
pub mod outbound;
pub mod phone;
pub mod recipient;
pub mod report;
pub mod staff;
pub mod store;
pub mod table;
pub mod tasks;
pub mod telemetry;
pub mod templates;
pub mod text;

pub use apply::{Applied, Change, Event, RecordChange};
pub use clock::{Clock, PinnedClock, SharedClock, SystemClock};
pub use context::{Core, Deps};
pub use entity::CustomerId;
pub use error::ProcessError;
pub use phone::Phone;
pub use store::StoreConfig;
