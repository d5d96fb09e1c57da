//! The library every custops function shares, in rooms by concern:
//!
//! | room | what lives there |
//! |---|---|
//! | [`domain`] | the record, the store, phones, events, staff, tasks: plain data and pure rules |
//! | [`outbound`] | the one outbound path every text takes, the texts' wording and their recipients |
//! | [`table`] | the one DynamoDB customer table: reads, transactions, the outbox, the staff's items |
//! | [`commit`] | the one commit path (`Core::apply`) and what a function is given at cold start |
//! | [`runtime`] | serving a Lambda function: SQS batches, schedules, HTTP, env, logs, AWS clients, clock |
//! | [`report`] | the GM's report, computed from the table |
//! | [`feed`] | the DMS feed: snapshots read and compared, the events they become |
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

// The rooms (each says at its door what lives there and what it may use).
pub mod commit;
pub mod domain;
pub mod feed;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod outbound;
pub mod report;
pub mod runtime;
pub mod table;

// Their modules by their short names, as every function and test names them
// (`custops::model::Task`, `custops::text::MessageClass`).
pub use commit::{alerts, apply, context, handoff, household, tasks};
pub use domain::{entity, event, keys, model, phone, staff, store};
pub use outbound::{recipient, templates, text};
pub use runtime::{aws, batch, clock, env, error, function, http, https, s3, telemetry};

pub use apply::{Applied, Change, Event, RecordChange};
pub use clock::{Clock, PinnedClock, SharedClock, SystemClock};
pub use context::{Core, Deps};
pub use entity::CustomerId;
pub use error::ProcessError;
pub use phone::Phone;
pub use store::StoreConfig;
