//! The customer record and everything on it. Plain domain types: no AWS types.
//! One store, one customer (keyed by phone), one record, every touchpoint on it.

mod customer;
mod lifecycle;
mod service;
mod state;
mod task;

pub use customer::*;
pub use lifecycle::*;
pub use service::*;
pub use state::*;
pub use task::*;
