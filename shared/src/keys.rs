//! The single-table key scheme of the one customer table, written down once.
//! Every access pattern is a Query on a key, never a Scan.
//!
//! | entity | pk | sk | gsi1 (by reference) | gsi2 (per-store feeds) | gsi3 (due, sparse) |
//! |---|---|---|---|---|---|
//! | store config | `STORES` | `STORE#{store}` | `SMSNUM#{e164}` / `STORE` | | |
//! | customer profile | `CUST#{store}#{e164}` | `#PROFILE` | `DMS#{store}#{dms_id}` / `CUST` | `LAPSE#{store}` / `{lapse date}#{e164}` | |
//! | consent ledger | `CUST#{store}#{e164}` | `#CONSENT` | | | |
//! | send ledger (caps) | `CUST#{store}#{e164}` | `#SENDS` | | | |
//! | repair order | `CUST#{store}#{e164}` | `#RO#{ro}` | `RO#{store}#{ro}` / `RO` | | |
//! | declined line | `CUST#{store}#{e164}` | `#DECL#{ro}#{line}` | `RO#{store}#{ro}` / `DECL#{line}` | | |
//! | task | `CUST#{store}#{e164}` | `#TASK#{task_id}` | | `TASKS#{store}#{owner}` / `{due}#{task_id}` (open only) | |
//! | outbound text | `CUST#{store}#{e164}` | `TEXT#{dedupe key}` | | `TEXTS#{store}` / `{created}#{dedupe key}` | `DUE` / `{due}#{pk}#{sk}` (deferred only) |
//! | touchpoint | `CUST#{store}#{e164}` | `TL#{at}#{id}` | | | |
//! | event claim | `EVENT#{event_id}` | `EVENT` | | | |
//! | daily counts | `STATS#{store}` | `DAY#{yyyy-mm-dd}` | | | |
//!
//! Access patterns: every store (`pk`); a store by its texting number (gsi1);
//! customer by phone within a store (`pk`); a customer's current
//! state (`pk`, `sk` begins with `#`: one Query); a customer's timeline (`pk`);
//! customer by DMS id (gsi1); a repair order and its declined lines by RO number
//! (gsi1); open tasks by owner in due order (gsi2); every text of a store in order
//! (gsi2); customers by lapse date (gsi2); texts due at a time (gsi3, sparse: only
//! deferred texts carry it, so its cost grows with the due texts, not the table);
//! per-store daily counts (`pk`, `sk` between two days).

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use crate::phone::Phone;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const TTL_ATTRIBUTE: &str = "expires_at";
pub const KIND: &str = "entity";

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
    fn new(pk: String, sk: String) -> Self {
        Self { pk, sk, ..Default::default() }
    }
}

/// Sortable UTC timestamp used inside keys (millisecond precision, `Z`).
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub const STATE_PREFIX: &str = "#";
pub const PROFILE_SK: &str = "#PROFILE";
pub const CONSENT_SK: &str = "#CONSENT";
pub const SENDS_SK: &str = "#SENDS";
pub const TEXT_PREFIX: &str = "TEXT#";
pub const TOUCH_PREFIX: &str = "TL#";

pub fn store_config(store_id: &str) -> Keys {
    Keys::new("STORES".into(), format!("STORE#{store_id}"))
}

/// A store's config with its texting number indexed (inbound SMS find the store by it).
pub fn store_config_item(store_id: &str, sms_number: &Phone) -> Keys {
    let mut k = store_config(store_id);
    k.gsi1 = Some((store_number(sms_number), "STORE".into()));
    k
}

pub fn store_number(sms_number: &Phone) -> String {
    format!("SMSNUM#{}", sms_number.e164())
}
pub const STORES_PK: &str = "STORES";

pub fn customer_pk(store_id: &str, phone: &Phone) -> String {
    format!("CUST#{store_id}#{}", phone.e164())
}

pub fn profile(store_id: &str, phone: &Phone, dms_id: Option<&str>) -> Keys {
    let mut k = Keys::new(customer_pk(store_id, phone), PROFILE_SK.into());
    k.gsi1 = dms_id.map(|id| (dms_ref(store_id, id), "CUST".into()));
    k
}

pub fn dms_ref(store_id: &str, dms_id: &str) -> String {
    format!("DMS#{store_id}#{dms_id}")
}

pub fn consent(store_id: &str, phone: &Phone) -> Keys {
    Keys::new(customer_pk(store_id, phone), CONSENT_SK.into())
}

pub fn send_ledger(store_id: &str, phone: &Phone) -> Keys {
    Keys::new(customer_pk(store_id, phone), SENDS_SK.into())
}

pub fn repair_order(store_id: &str, phone: &Phone, ro_number: &str) -> Keys {
    let mut k = Keys::new(customer_pk(store_id, phone), format!("#RO#{ro_number}"));
    k.gsi1 = Some((format!("RO#{store_id}#{ro_number}"), "RO".into()));
    k
}

pub fn task(store_id: &str, phone: &Phone, task_id: &str, open_for: Option<(&str, DateTime<Utc>)>) -> Keys {
    let mut k = Keys::new(customer_pk(store_id, phone), format!("#TASK#{task_id}"));
    k.gsi2 = open_for.map(|(owner, due)| (format!("TASKS#{store_id}#{owner}"), format!("{}#{task_id}", ts(due))));
    k
}

pub fn text(
    store_id: &str,
    phone: &Phone,
    dedupe_key: &str,
    created: DateTime<Utc>,
    due: Option<DateTime<Utc>>,
) -> Keys {
    let pk = customer_pk(store_id, phone);
    let sk = format!("{TEXT_PREFIX}{dedupe_key}");
    let mut k = Keys::new(pk.clone(), sk.clone());
    k.gsi2 = Some((texts_feed(store_id), format!("{}#{dedupe_key}", ts(created))));
    k.gsi3 = due.map(|d| (DUE_PK.into(), format!("{}#{pk}#{sk}", ts(d))));
    k
}

pub fn texts_feed(store_id: &str) -> String {
    format!("TEXTS#{store_id}")
}

pub const DUE_PK: &str = "DUE";

pub fn touchpoint(store_id: &str, phone: &Phone, at: DateTime<Utc>, id: &str) -> Keys {
    Keys::new(customer_pk(store_id, phone), format!("{TOUCH_PREFIX}{}#{id}", ts(at)))
}

pub fn event_claim(event_id: &str, expires_at: DateTime<Utc>) -> Keys {
    let mut k = Keys::new(format!("EVENT#{event_id}"), "EVENT".into());
    k.expires_at = Some(expires_at.timestamp());
    k
}

pub fn daily_stats(store_id: &str, day: NaiveDate) -> Keys {
    Keys::new(format!("STATS#{store_id}"), format!("DAY#{day}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_items_sort_before_history_so_one_query_reads_current_state() {
        let p = Phone::parse("+15125550142").unwrap();
        let now: DateTime<Utc> = "2026-11-23T16:05:00Z".parse().unwrap();
        for state in [
            profile("s", &p, None).sk,
            consent("s", &p).sk,
            repair_order("s", &p, "RO-1").sk,
            task("s", &p, "t", None).sk,
        ] {
            assert!(state.starts_with(STATE_PREFIX), "{state}");
        }
        for history in [text("s", &p, "k", now, None).sk, touchpoint("s", &p, now, "e").sk] {
            assert!(!history.starts_with(STATE_PREFIX), "{history}");
        }
    }

    #[test]
    fn due_index_is_sparse_and_time_ordered() {
        let p = Phone::parse("+15125550142").unwrap();
        let now: DateTime<Utc> = "2026-11-23T16:05:00Z".parse().unwrap();
        assert!(text("s", &p, "k", now, None).gsi3.is_none());
        let (pk, sk) = text("s", &p, "k", now, Some(now)).gsi3.unwrap();
        assert_eq!(pk, DUE_PK);
        assert!(sk.starts_with("2026-11-23T16:05:00.000Z#CUST#s#+15125550142#TEXT#k"));
    }
}
