//! **The domain and its rules**: what a dealership's customer is to custops,
//! as plain data and pure functions. The record and everything on it
//! ([`model`]), the store's configuration ([`store`]), phone numbers
//! ([`phone`]), the events that arrive ([`event`]), the staff ([`staff`]),
//! and how each piece of the record is keyed in the one table ([`entity`],
//! [`keys`]).
//!
//! May use: chrono, serde, the phone parser, and one word of the outbound
//! path (a text's `MessageClass`, which the caps ledger records). No AWS
//! client is held here; one helper, [`event::publish`], is
//! given an SNS client to publish an event to its topic (the front door and
//! the CLI). Never the table's calls, the commit path or the runtime:
//! everything here is tested without AWS, and every other room builds on it.

pub mod entity;
pub mod event;
pub mod keys;
pub mod model;
pub mod phone;
pub mod staff;
pub mod store;
