//! **The one commit path**: a trigger's `decide` returns a whole
//! [`apply::Change`]; [`context::Core::apply`] commits it as one DynamoDB
//! transaction on the customer's record (with its texts staged on the
//! outbound path), then publishes what was committed. [`context`] also
//! holds what a function is given at cold start ([`context::Core`],
//! [`context::Deps`]: the table, the outbound path, the clock, the stores);
//! [`tasks`], the changes a person makes to a task (done, assigned), which
//! the CLI and the inbox commit the same way; and what is handed on once a
//! change is committed: [`handoff`]s to another function's queue and
//! [`alerts`] to the staff.
//!
//! May use: the domain, the table, the outbound path and the runtime's
//! clients, clock and errors. Triggers use this room, never the table's
//! writes directly.

pub mod alerts;
pub mod apply;
pub mod context;
pub mod handoff;
pub mod household;
pub mod tasks;
