//! The single-table key scheme of the one customer table, written down once.
//! Every access pattern is a Query on a key, never a Scan. Each entity
//! declares its own keys next to its type (`impl Entity for ...`, see
//! `entity.rs`); this page is the map of all of them.
//!
//! | entity (`entity` attribute) | pk | sk | gsi1 (by reference) | gsi2 (per-store feeds) | gsi3 (due, sparse) |
//! |---|---|---|---|---|---|
//! | store config (`store`) | `STORES` | `STORE#{store}` | `SMSNUM#{e164}` / `STORE` | | |
//! | customer profile (`customer`) | `CUST#{store}#{e164}` | `#PROFILE` | `DMS#{store}#{dms_id}` / `CUST` | `LAPSE#{store}` / `{last visit}#{e164}` (until contacted about that lapse) | |
//! | consent ledger (`consent`) | `CUST#{store}#{e164}` | `#CONSENT` | | | |
//! | send ledger, caps (`send_ledger`) | `CUST#{store}#{e164}` | `#SENDS` | | | |
//! | repair order (`repair_order`) | `CUST#{store}#{e164}` | `#RO#{ro}` (closed: `H#RO#{ro}`) | `RO#{store}#{ro}` / `RO` | | |
//! | declined line (`declined_line`) | `CUST#{store}#{e164}` | `#DECL#{ro}#{line}` (recovered or declined: `H#DECL#...`) | | `DECLINED#{store}` / `{declined}#{e164}#{ro}#{line}` (open only) | |
//! | follow-up step (`follow_up`) | `CUST#{store}#{e164}` | `#STEP#{ro}#{step}` (ended: `H#STEP#...`) | | | `DUE#{shard}` / `{due}#{pk}#{sk}` (scheduled, until handed to its function) |
//! | task (`task`) | `CUST#{store}#{e164}` | `#TASK#{task_id}` (done: `H#TASK#...`) | `TASKLINK#{code}` / `TASK` (an alert's link) | `TASKS#{store}` / `{due}#{task_id}` (open only) | `DUE#{shard}` / `{escalate_at}#{pk}#{sk}` (a reply waiting for a person, until handed to inbound-sms) |
//! | outbound text (`text`) | `CUST#{store}#{e164}` | `TEXT#{dedupe key}` | `SNSMSG#{message id}` / `TEXT` (once published) | `TEXTS#{store}` / `{created}#{dedupe key}` | `DUE#{shard}` / `{due}#{pk}#{sk}` (unfinished only) |
//! | touchpoint (`touchpoint`) | `CUST#{store}#{e164}` | `TL#{at}#{event_id}#{kind}` | | | |
//! | lead address (`store_claim`) | `LEADTO#{address, lower case}` | `STORE` (holds `store_id`) | | | |
//! | store number (`store_claim`) | `NUMBER#{e164}` (`sms_number`, each of `lines`) | `STORE` (holds `store_id`) | | | |
//! | booking (`booking`) | `CUST#{store}#{e164}` | `#APPT#{appointment_id}` (ended: `H#APPT#...`) | | | `DUE#{shard}` / `{remind_at}#{pk}#{sk}` (a reminder still owed) |
//! | post-visit or delivery check (`visit_check`) | `CUST#{store}#{e164}` | `#CHECK#{ro}`, `#CHECK#DEAL#{deal}` (ended: `H#CHECK#...`) | | | `DUE#{shard}` / `{due}#{pk}#{sk}` (scheduled) |
//! | vehicle followed (`vehicle`, section 14) | `CUST#{store}#{e164}` | `#VEH#{vin}` (gone: `H#VEH#...`, its latest end) | | `DUEON#{store}` / `{yyyy-mm-dd}#{pk}#{vin}` (while something of it falls due) | |
//! | lead text slot (`lead_slot`) | `LEADTEXTS#{store}#{yyyy-mm-ddThh}` | `SLOT#{n}` (one per lead text of that hour, TTL) | | | |
//! | DMS feed memory (`feed_memory`, `table/feed.rs`; TTL once the thing has ended) | `FEED#{store}#{kind}#{id}` | `FEED` | | | |
//! | DMS feed file (`feed_file`, `table/feed.rs`) | `FEEDFILE#{store}` | `{object key}#{etag}` | | | |
//! | event claim (`event_claim`) | `EVENT#{store}#{event_id}` | `EVENT` | | | |
//! | day fact (`fact`) | `DAY#{store}#{yyyy-mm-dd}` | `{kind}#{event_id}` | | | |
//! | staff member (`staff_member`, `staff.rs`) | `STAFF#{sub}` | `STORE#{store}` | | `STAFFOF#{store}` / `{email}` | |
//! | staff session (`staff_session`, `staff.rs`; TTL 12 hours after sign-in) | `SESSION#{sha256 of the cookie's id}` | `SESSION` | `SESSIONS#{sub}` / `{signed in}` | | |
//! | sign-in failures (`sign_in_failures`, `staff.rs`; TTL) | `SIGNIN#{sha256 of the email}` | `FAILS` | | | |
//!
//! Access patterns: every store (`pk`); a store by its texting number (gsi1);
//! customer by phone within a store (`pk`); a customer's current state (`pk`,
//! `sk` begins with `#`: one Query, of open work only: what ended moved to
//! `H#`); a customer's timeline (`pk`); customer by
//! DMS id (gsi1); a repair order by RO number (gsi1); a store's open tasks in
//! due order (gsi2, sparse: done tasks leave it); a store's customers by last
//! visit whose lapse it has not reached out about (gsi2, sparse: the sweep
//! reads those visited before the cutoff, so its reads grow with the newly
//! lapsed, and a changed `lapse_months` moves only the cutoff); a store's
//! declined work still open (gsi2, sparse: the report's open dollars); a
//! store's vehicles by the day their service or a maturity step falls due
//! (gsi2, sparse: the daily sweep reads the days due, so its reads grow with
//! the vehicles falling due, never with the store's vehicles); every text of a store in order (gsi2); texts due at a time
//! and follow-up steps due at a time (gsi3, sparse: only unfinished texts and
//! scheduled steps carry it, so its cost grows with the work in flight, not
//! the table); what happened at a store on a day (`pk`:
//! one small fact per event, written in the event's own transaction, so no two
//! events ever write the same item).

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use crate::phone::Phone;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// The attribute naming an item's entity (`Entity::KIND`).
pub const KIND: &str = "entity";
/// The optimistic-concurrency attribute of versioned entities.
pub const VERSION: &str = "version";

/// A global secondary index: its name and key attributes, as in `infra/template.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
}

pub const GSI1: Index = Index { name: "gsi1", pk: "gsi1pk", sk: "gsi1sk" };
pub const GSI2: Index = Index { name: "gsi2", pk: "gsi2pk", sk: "gsi2sk" };
pub const GSI3: Index = Index { name: "gsi3", pk: "gsi3pk", sk: "gsi3sk" };
pub const INDEXES: [Index; 3] = [GSI1, GSI2, GSI3];

/// Where an item lives: its primary key and the index keys it carries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Keys {
    pub pk: String,
    pub sk: String,
    pub gsi1: Option<(String, String)>,
    pub gsi2: Option<(String, String)>,
    pub gsi3: Option<(String, String)>,
    /// Epoch seconds after which DynamoDB TTL may delete the item.
    pub expires_at: Option<i64>,
}

impl Keys {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into(), ..Default::default() }
    }

    /// The index keys, paired with their index.
    pub fn indexed(&self) -> [(Index, &Option<(String, String)>); 3] {
        [(GSI1, &self.gsi1), (GSI2, &self.gsi2), (GSI3, &self.gsi3)]
    }
}

/// Sortable UTC timestamp used inside keys (millisecond precision, `Z`).
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Every item of a customer's current state sorts under this prefix, before
/// their history (texts, touchpoints), so one Query reads the state.
pub const STATE_PREFIX: &str = "#";

/// Where the pointer from a lead address to its store is.
pub fn lead_address(address: &str) -> Keys {
    Keys::new(format!("LEADTO#{}", address.trim().to_lowercase()), "STORE")
}

/// The pointer that reserves a phone number (`sms_number` or a line) for one store.
pub fn store_phone(number: &Phone) -> Keys {
    Keys::new(format!("NUMBER#{}", number.e164()), "STORE")
}
/// What has ended (a closed repair order, a recovered or declined line, an
/// ended step, a done task) moves from its state key `#...` to `H#...`: the
/// state a trigger reads stays the customer's open work however long their
/// history, and the timeline (the whole partition) keeps everything.
pub const HISTORY_PREFIX: char = 'H';

/// The history key of an entity whose state key is `state_sk`.
pub fn history(state_sk: &str) -> String {
    format!("{HISTORY_PREFIX}{state_sk}")
}

/// The state key an entity had before it moved to `sk`, if `sk` is a history key.
pub fn state_of(sk: &str) -> Option<&str> {
    sk.strip_prefix(HISTORY_PREFIX).filter(|s| s.starts_with(STATE_PREFIX))
}
pub const STORES_PK: &str = "STORES";
/// How many partitions the sparse due index (gsi3) is spread over: every
/// unfinished text and scheduled timer of the deployment is on it, and one
/// GSI partition takes about 1,000 writes a second, so one key for all would
/// throttle the writes of a group of stores (and the table writes behind it).
pub const DUE_SHARDS: u32 = 16;

/// The due-index partition of the item in customer partition `pk`: a stable
/// hash of the record (FNV-1a), so one customer's work sorts together.
pub fn due_shard(pk: &str) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for b in pk.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    due_partition(hash % DUE_SHARDS)
}

/// The due-index partition `shard` (0..[`DUE_SHARDS`]).
pub fn due_partition(shard: u32) -> String {
    format!("DUE#{shard:02}")
}

/// A customer's partition: the whole record of one phone number at one store.
pub fn customer_pk(store_id: &str, phone: &Phone) -> String {
    format!("CUST#{store_id}#{}", phone.e164())
}

/// The partition of a store's idempotency claim on an event id or natural
/// key: ids are unique per store, not across stores.
/// The partition of one store's lead texts of one UTC hour (`2026-11-24T15`).
pub fn lead_texts(store_id: &str, hour: &str) -> String {
    format!("LEADTEXTS#{store_id}#{hour}")
}

/// What the DMS feed remembers of one thing of a store (`ro#R-1`, `deal#D-9`).
pub fn feed_memory(store_id: &str, thing: &str) -> Keys {
    Keys::new(format!("FEED#{store_id}#{thing}"), "FEED")
}

/// A file the DMS feed took from its bucket (its object key and ETag).
pub fn feed_file(store_id: &str, key: &str, etag: &str) -> Keys {
    Keys::new(feed_files(store_id), format!("{key}#{etag}"))
}

/// The partition of a store's feed files.
pub fn feed_files(store_id: &str) -> String {
    format!("FEEDFILE#{store_id}")
}

pub fn event_claim(store_id: &str, key: &str) -> String {
    format!("EVENT#{store_id}#{key}")
}

/// The gsi1 value a store is found by from its texting number.
pub fn store_number(sms_number: &Phone) -> String {
    format!("SMSNUM#{}", sms_number.e164())
}

/// The gsi1 value a customer is found by from their DMS id.
pub fn dms_ref(store_id: &str, dms_id: &str) -> String {
    format!("DMS#{store_id}#{dms_id}")
}

/// The gsi2 value of a store's texts feed.
/// A text by the `MessageId` SNS gave its Publish (gsi1): where its
/// delivery receipt finds it. Message ids are unique across the account.
pub fn sns_message(message_id: &str) -> String {
    format!("SNSMSG#{message_id}")
}

pub fn texts_feed(store_id: &str) -> String {
    format!("TEXTS#{store_id}")
}

/// A task's link code: 12 hex digits of the SHA-256 of its store and id,
/// so an alert's link (`/app/t/{code}`) names the task without the
/// customer's number (nothing of the number goes into it).
pub fn task_link_code(store_id: &str, task_id: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{store_id}\n{task_id}").as_bytes());
    hex::encode(&digest[..6])
}

/// The gsi1 value a task is found by from its link code (open or done).
pub fn task_link(code: &str) -> String {
    format!("TASKLINK#{code}")
}

/// The gsi2 value of a store's open tasks (an owner's are filtered from them:
/// the open tasks are the store's working set, not its history).
pub fn open_tasks(store_id: &str) -> String {
    format!("TASKS#{store_id}")
}

/// The gsi2 value of a store's customers by last visit, not yet contacted
/// about its lapse.
/// The gsi2 value of a store's due-day feed: its vehicles by the day
/// something of them next falls due (section 14).
pub fn due_day_feed(store_id: &str) -> String {
    format!("DUEON#{store_id}")
}

pub fn lapse_feed(store_id: &str) -> String {
    format!("LAPSE#{store_id}")
}

/// The gsi2 value of a store's declined lines still open.
pub fn open_declined(store_id: &str) -> String {
    format!("DECLINED#{store_id}")
}

/// The partition of a store's facts for one store-local day.
pub fn day(store_id: &str, day: NaiveDate) -> String {
    format!("DAY#{store_id}#{day}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::{CustomerId, Entity};
    use crate::model::{Consent, RepairOrder, SendLedger, Task, TaskKind, Touchpoint};

    fn at(t: &str) -> DateTime<Utc> {
        t.parse().unwrap()
    }

    #[test]
    fn state_items_sort_before_history_so_one_query_reads_current_state() {
        let id = CustomerId::new("s", Phone::parse("+15125550142").unwrap());
        let now = at("2026-11-23T16:05:00Z");
        let ro = RepairOrder {
            ro_number: "RO-1".into(),
            status: "checked_in".into(),
            status_at: now,
            vehicle: serde_json::from_str(r#"{"vin":"V","year":2021,"make":"Chevrolet","model":"Tahoe"}"#).unwrap(),
            advisor: serde_json::from_str(r#"{"id":"a","name":"A"}"#).unwrap(),
            amount_due_cents: None,
            closed_at: None,
            texted: vec![],
            performed: vec![],
            mileage: None,
        };
        let task = Task::open(&id, TaskKind::Callback, "t", ("o".into(), crate::store::Department::Service), now, now);
        for state in
            [Consent::default().keys(&id).sk, SendLedger::default().keys(&id).sk, ro.keys(&id).sk, task.keys(&()).sk]
        {
            assert!(state.starts_with(STATE_PREFIX), "{state}");
        }
        let touch = Touchpoint::of_event(now, "e", "call.missed", String::new());
        assert!(!touch.keys(&id).sk.starts_with(STATE_PREFIX));
    }
}
