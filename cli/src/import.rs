//! `custops import --store S FILE`: a store's history from its DMS, so the
//! lapse clock, open declined work and consent are right on day one
//! (CONTRACT.md section 12).
//!
//! `FILE` is JSON Lines of section 3 envelopes (`ro.closed`,
//! `deal.delivered`, `deal.unwound`, `appointment.booked`, `appointment.missed`, any age) or
//! CSV with a header row (`kind`, `id`, `at`, `dms_id`, `first_name`,
//! `last_name`, `phone`, `email`, `marketing_consent`, `vin`, `year`, `make`,
//! `model`, `advisor_id`, `advisor_name`, `performed`, `declined`; names in
//! any case; an empty cell is absent).
//!
//! One code path with the triggers: each row is the envelope the DMS would
//! have sent, decided by the trigger's own `decide`, then taken as history
//! ([`custops::Change::into_history`]: no text, no task, no cadence, no day
//! fact) and committed through the one commit path, claimed on the row's
//! event id and the RO or deal: running it again changes nothing. Rows go in
//! parallel, a chunk at a time (the file is read as a stream: memory stays
//! flat however long it is); a bad row is reported with its line number and
//! skipped.

use std::io::BufRead;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use custops::event::{
    AppointmentBooked, AppointmentCancelled, AppointmentMissed, DealDelivered, DealUnwound, Envelope, RoClosed,
};
use custops::feed::csv::Cells;
use custops::{Applied, Change, Core, CustomerId, Phone, StoreConfig};
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use crate::commands::Target;
use crate::BoxError;

/// Rows decided at once.
pub const CONCURRENCY: usize = 16;
/// Rows read ahead of the ones being decided.
pub const CHUNK: usize = 512;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub imported: usize,
    /// Rows already imported (or already sent live).
    pub unchanged: usize,
    pub skipped: usize,
}

/// A row that could not be imported: its line and why (never a phone number).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BadRow {
    pub line: usize,
    pub reason: String,
}

/// The CSV's columns, lower case (section 12).
const COLUMNS: &[&str] = custops::feed::csv::IMPORT_COLUMNS;

/// One CSV row as the envelope the DMS would have sent.
pub fn csv_envelope(store: &StoreConfig, row: &Cells) -> Result<Value, String> {
    let at = row.time("at", store)?.ok_or("no at")?;
    let id = row.need("id")?;
    let (customer, vehicle, person) = (row.customer()?, row.vehicle()?, row.person());
    let (event_type, data) = match row.need("kind")? {
        "ro_closed" => (
            "ro.closed",
            json!({"ro_number": id, "closed_at": at, "customer": customer, "vehicle": vehicle,
                   "advisor": person, "performed": row.list("performed"), "declined": row.declined()?}),
        ),
        "deal_delivered" => (
            "deal.delivered",
            json!({"deal_id": id, "delivered_at": at, "customer": customer, "vehicle": vehicle, "salesperson": person}),
        ),
        other => return Err(format!("kind {other:?} is neither ro_closed nor deal_delivered")),
    };
    let kind = if event_type == "ro.closed" { "ro" } else { "deal" };
    Ok(json!({"event_id": format!("import-{kind}-{id}"), "event_type": event_type, "occurred_at": at,
              "store_id": store.store_id, "data": data}))
}

/// One row of a history file: its line number, and its envelope or why it has none.
type Row = (usize, Result<String, String>);

/// The rows of `file`, each with its line number, as envelopes (JSON Lines)
/// or CSV rows made envelopes; read as a stream.
fn rows(store: &StoreConfig, file: &Path) -> Result<Box<dyn Iterator<Item = Row>>, BoxError> {
    let mut head = String::new();
    std::io::BufReader::new(std::fs::File::open(file)?).read_line(&mut head)?;
    if head.trim_start().starts_with('{') {
        let reader = std::io::BufReader::new(std::fs::File::open(file)?);
        return Ok(Box::new(reader.lines().enumerate().filter_map(|(i, line)| match line {
            Ok(l) if l.trim().is_empty() => None,
            Ok(l) => Some((i + 1, Ok(l))),
            Err(e) => Some((i + 1, Err(format!("not text: {e}")))),
        })));
    }
    let store = store.clone();
    let rows = custops::feed::csv::rows(std::fs::File::open(file)?, COLUMNS, &["kind", "id", "at", "dms_id", "phone"])?;
    Ok(Box::new(rows.map(move |(line, row)| (line, row.and_then(|r| csv_envelope(&store, &r).map(|v| v.to_string()))))))
}

/// What a trigger decides of `envelope`, as history.
fn decide(
    store: &StoreConfig,
    envelope: &Envelope,
    customer: &CustomerId,
    state: &custops::model::CustomerState,
    now: DateTime<Utc>,
) -> Result<Change, String> {
    let err = |e: custops::event::EventError| custops::phone::redact_digits(&e.to_string());
    let change = match envelope.event_type.as_str() {
        "ro.closed" => {
            declined_service::decide(store, envelope, &envelope.data::<RoClosed>().map_err(err)?, customer, state, now)
        }
        "deal.delivered" => deal_delivered::decide(
            store,
            envelope,
            &envelope.data::<DealDelivered>().map_err(err)?,
            customer,
            state,
            now,
        ),
        "deal.unwound" => deal_delivered::unwound(
            store,
            envelope,
            &envelope.data::<DealUnwound>().map_err(err)?,
            customer,
            state,
            now,
        ),
        "appointment.booked" => {
            let kept = appointments::Kept::Booked(envelope.data::<AppointmentBooked>().map_err(err)?.0);
            appointments::decide(store, envelope, &kept, customer, state, now)
        }
        "appointment.missed" => {
            let kept = appointments::Kept::Missed(envelope.data::<AppointmentMissed>().map_err(err)?.0);
            appointments::decide(store, envelope, &kept, customer, state, now)
        }
        "appointment.cancelled" => {
            let kept = appointments::Kept::Cancelled(envelope.data::<AppointmentCancelled>().map_err(err)?);
            appointments::decide(store, envelope, &kept, customer, state, now)
        }
        other => {
            return Err(format!(
                "{other} is not history custops imports (ro.closed, deal.delivered, deal.unwound, appointment.*)"
            ))
        }
    };
    Ok(change.into_history())
}

/// The customer an envelope is about.
fn customer_of(store: &StoreConfig, envelope: &Envelope) -> Result<CustomerId, String> {
    let phone = envelope.data.pointer("/customer/phone").and_then(Value::as_str).ok_or("no data.customer.phone")?;
    let phone = Phone::parse(phone)
        .map_err(|e| format!("customer phone: {}", custops::phone::redact_digits(&e.to_string())))?;
    if store.owns_number(&phone) {
        return Err("the customer's number is one of the store's own numbers: not a customer".into());
    }
    Ok(CustomerId::new(&store.store_id, phone))
}

enum Outcome {
    Imported,
    Unchanged,
}

async fn one(core: &Core, store: &StoreConfig, body: &str) -> Result<Outcome, String> {
    let envelope = Envelope::parse(body).map_err(|e| custops::phone::redact_digits(&e.to_string()))?;
    envelope.check().map_err(|e| custops::phone::redact_digits(&e.to_string()))?;
    if envelope.store_id != store.store_id {
        return Err(format!("store_id {:?} is not the store imported", envelope.store_id));
    }
    let customer = customer_of(store, &envelope)?;
    let applied = core
        .decide_and_apply(store, &customer, |state, now| {
            decide(store, &envelope, &customer, state, now).map_err(NotImportable)
        })
        .await
        .map_err(|e| custops::phone::redact_digits(&e.to_string()))?;
    Ok(if applied == Applied::Duplicate { Outcome::Unchanged } else { Outcome::Imported })
}

/// Why a row's event is not history custops imports.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct NotImportable(String);

/// Imports `file` into `store_id`'s records; `progress(rows done)` after each row.
pub async fn import(
    target: &Target,
    store_id: &str,
    file: &Path,
    clock: custops::SharedClock,
    progress: impl Fn(usize) + Sync,
) -> Result<(Counts, Vec<BadRow>), BoxError> {
    let store = target
        .table
        .get_store(store_id)
        .await?
        .ok_or_else(|| format!("unknown store {store_id:?}: `custops store put` it first"))?;
    let core = Core::new(target.table.clone(), target.sns.clone(), clock);
    let mut counts = Counts::default();
    let mut bad = Vec::new();
    let done = AtomicUsize::new(0);
    let mut rows = rows(&store, file)?.peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Row> = rows.by_ref().take(CHUNK).collect();
        let results: Vec<(usize, Result<Outcome, String>)> = stream::iter(chunk)
            .map(|(line, row)| {
                let (core, store, done, progress) = (&core, &store, &done, &progress);
                async move {
                    let out = match row {
                        Ok(body) => one(core, store, &body).await,
                        Err(e) => Err(e),
                    };
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                    (line, out)
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for (line, r) in results {
            match r {
                Ok(Outcome::Imported) => counts.imported += 1,
                Ok(Outcome::Unchanged) => counts.unchanged += 1,
                Err(reason) => {
                    counts.skipped += 1;
                    bad.push(BadRow { line, reason });
                }
            }
        }
    }
    bad.sort_by_key(|b| b.line);
    Ok((counts, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(&str, &str)]) -> Cells {
        Cells(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn a_csv_row_is_the_envelope_the_dms_would_have_sent() {
        let store = custops::fixtures::northside();
        let env = csv_envelope(
            &store,
            &row(&[
                ("kind", "ro_closed"),
                ("id", "RO-1"),
                ("at", "2019-03-04"),
                ("dms_id", "C1"),
                ("first_name", "Maria"),
                ("phone", "(512) 555-0142"),
                ("marketing_consent", "Yes"),
                ("vin", "1G"),
                ("year", "2016"),
                ("make", "Chevrolet"),
                ("model", "Tahoe"),
                ("performed", "OIL|ROT"),
                ("declined", "BRK:Front brake pads:38000|WIP:Wipers:4500"),
            ]),
        )
        .unwrap();
        assert_eq!((env["event_id"].as_str(), env["event_type"].as_str()), (Some("import-ro-RO-1"), Some("ro.closed")));
        assert_eq!(env["occurred_at"], "2019-03-04T18:00:00Z", "noon at the store (CST)");
        assert_eq!(env["data"]["customer"]["marketing_consent"], true);
        assert_eq!(env["data"]["declined"][0]["estimate_cents"], 38000);
        assert_eq!(env["data"]["declined"][1]["line_id"], "WIP-2");
        let parsed = Envelope::parse(&env.to_string()).unwrap();
        parsed.check().unwrap();
        parsed.data::<RoClosed>().unwrap();
    }

    #[test]
    fn bad_cells_are_reasons_naming_the_cell() {
        let store = custops::fixtures::northside();
        let base =
            [("kind", "deal_delivered"), ("id", "D1"), ("at", "2020-01-01"), ("dms_id", "C1"), ("phone", "5125550142")];
        let with = |k: &'static str, v: &'static str| {
            let mut r = row(&base);
            r.0.insert(k.into(), v.into());
            r
        };
        assert!(csv_envelope(&store, &row(&base)).is_ok());
        for (r, says) in [
            (with("at", "last spring"), "at"),
            (with("kind", "repair"), "kind"),
            (with("marketing_consent", "maybe"), "marketing_consent"),
            (with("year", "twenty"), "year"),
            (with("phone", ""), "phone"),
        ] {
            let e = csv_envelope(&store, &r).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
        let mut declined = with("kind", "ro_closed");
        declined.0.insert("declined".into(), "BRK-only".into());
        let e = csv_envelope(&store, &declined).unwrap_err();
        assert!(e.contains("declined line 1"), "{e}");
    }
}
