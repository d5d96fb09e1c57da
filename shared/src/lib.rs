//! The library every custops function shares: the domain, the one customer
//! table, idempotency, the SQS batch adapter and the one outbound texting path.
//!
//! Functions are thin: `main.rs` builds [`context::Deps`] once and hands SQS
//! batches to a handler in the function's own library, which runs unchanged on
//! Lambda, in the local stack and in tests.

pub mod aws;
pub mod batch;
pub mod clock;
pub mod context;
pub mod env;
pub mod error;
pub mod event;
pub mod function;
pub mod keys;
pub mod model;
pub mod outbound;
pub mod phone;
pub mod store;
pub mod table;
pub mod telemetry;
pub mod templates;
pub mod text;

pub use clock::{Clock, PinnedClock, SharedClock, SystemClock};
pub use context::Deps;
pub use error::ProcessError;
pub use phone::Phone;
pub use store::StoreConfig;
