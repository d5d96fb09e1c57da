//! What can be stored in the one table. Every entity declares its kind and
//! its keys once, next to its type (the way `modyne` does); `keys.rs` is the
//! map of all of them. The table module writes and reads any entity through
//! this trait, so a new entity touches its own type and that map.

use serde::{de::DeserializeOwned, Serialize};

use crate::keys::{self, Keys};
use crate::phone::Phone;

pub trait Entity: Serialize + DeserializeOwned {
    /// The `entity` attribute of its items; also names it in cancellation reasons.
    const KIND: &'static str;
    /// What its key is relative to: [`CustomerId`] for what lives on a
    /// customer's record without naming the customer, `()` for the rest.
    type Scope;

    fn keys(&self, scope: &Self::Scope) -> Keys;
}

/// The address of one customer's record: one store, one phone number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CustomerId {
    pub store_id: String,
    pub phone: Phone,
}

impl CustomerId {
    pub fn new(store_id: impl Into<String>, phone: Phone) -> Self {
        Self { store_id: store_id.into(), phone }
    }

    /// The record's partition key.
    pub fn pk(&self) -> String {
        keys::customer_pk(&self.store_id, &self.phone)
    }

    /// A stable token for this record, for idempotency keys that end up in
    /// logs as event ids: the same customer always gives the same token, and
    /// it does not spell the phone number (FNV-1a, 64 bits, of the store and
    /// the number).
    pub fn token(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.store_id.bytes().chain([b'#']).chain(self.phone.e164().bytes()) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("c{hash:016x}")
    }
}
