//! Two records made one household by a person (section 14): `custops
//! household link A B --store S`, or the inbox's "same household" on a
//! record. A link item goes on each record (`HouseholdMember`), each an
//! idempotent put, decided on the first record's state with the second's
//! profile as read. Nothing links records by name or address alone, and
//! nothing about consent or texts moves: each member stays their own.

use chrono::{DateTime, Utc};

use crate::apply::{Change, RecordChange};
use crate::entity::CustomerId;
use crate::model::{Customer, CustomerState, HouseholdMember, LinkedBy, Touchpoint, HOUSEHOLD_MAX};

/// Why two records were not linked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the two numbers are the same record")]
    Same,
    #[error("{0} has no record at this store (link records, not numbers)")]
    NoRecord(&'static str),
    #[error("already one household")]
    Already,
    #[error("a household holds at most {HOUSEHOLD_MAX} other members")]
    Full,
}

/// The idempotency key of one link (either order of the two numbers).
pub fn link_key(a: &CustomerId, b: &CustomerId) -> String {
    let (x, y) = if a.phone.e164() <= b.phone.e164() { (a, b) } else { (b, a) };
    format!("household#{}#{}#{}", a.store_id, x.token(), y.token())
}

/// Links `a` (whose state is `state`) and `b` (whose profile is `b_profile`)
/// as one household, by `who`.
pub fn link(
    a: &CustomerId,
    state: &CustomerState,
    b: &CustomerId,
    b_profile: Option<&Customer>,
    who: &str,
    now: DateTime<Utc>,
) -> Result<Change, LinkError> {
    if a == b {
        return Err(LinkError::Same);
    }
    let a_profile = state.profile.as_ref().ok_or(LinkError::NoRecord("the first number"))?;
    let b_profile = b_profile.ok_or(LinkError::NoRecord("the second number"))?;
    if state.household.iter().any(|m| m.member == b.phone) {
        return Err(LinkError::Already);
    }
    if state.household.len() >= HOUSEHOLD_MAX {
        return Err(LinkError::Full);
    }
    let event_id = link_key(a, b);
    let [on_a, on_b] = HouseholdMember::pair(
        &a.store_id,
        (&a.phone, a_profile.first_name.as_deref(), a_profile.last_name.as_deref()),
        (&b.phone, b_profile.first_name.as_deref(), b_profile.last_name.as_deref()),
        LinkedBy::Person { who: who.to_owned() },
        now,
    );
    let side = |customer: &CustomerId, item: HouseholdMember| {
        let mut record = RecordChange::new(customer.clone());
        let summary = format!("{} joins the household (linked by {who})", item.name());
        record.touch(Touchpoint::of_event(now, &event_id, "household.linked", summary));
        record.household.push(item);
        record
    };
    // Decided on a's record as read: a concurrent change there decides again.
    let mut first = side(a, on_a);
    first.rests_on = Some(state.version);
    Ok(Change::new(&event_id).record(first).record(side(b, on_b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{at, customer};

    fn record_of(phone: &str, first: &str) -> Customer {
        let mut c = Customer::lead("northside-chevy", crate::Phone::parse(phone).unwrap(), at("2026-11-01T10:00:00Z"));
        c.first_name = Some(first.into());
        c
    }

    #[test]
    fn two_records_linked_by_a_person_each_show_the_other_and_nothing_else_moves() {
        let (maria, luis) = (customer("+15125550142"), customer("+15125550143"));
        let state =
            CustomerState { profile: Some(record_of("+15125550142", "Maria")), version: Some(4), ..Default::default() };
        let now = at("2026-12-01T15:00:00Z");
        let change = link(&maria, &state, &luis, Some(&record_of("+15125550143", "Luis")), "operator", now).unwrap();
        assert_eq!(change.records.len(), 2);
        let (a, b) = (&change.records[0], &change.records[1]);
        assert_eq!((a.household[0].member.e164(), a.household[0].name()), ("+15125550143", "Luis".to_owned()));
        assert_eq!((b.household[0].member.e164(), b.household[0].name()), ("+15125550142", "Maria".to_owned()));
        assert_eq!(a.household[0].linked, LinkedBy::Person { who: "operator".into() });
        assert!(a.profile.is_none() && b.profile.is_none() && a.consent.is_none() && b.consent.is_none());
        assert_eq!(a.rests_on, Some(Some(4)));
        assert_eq!(change.event_id, link_key(&luis, &maria), "either order is one link");
    }

    #[test]
    fn a_link_needs_two_records_and_is_made_once() {
        let (maria, luis) = (customer("+15125550142"), customer("+15125550143"));
        let now = at("2026-12-01T15:00:00Z");
        let luis_record = record_of("+15125550143", "Luis");
        let none = CustomerState::default();
        assert_eq!(
            link(&maria, &none, &luis, Some(&luis_record), "op", now).unwrap_err(),
            LinkError::NoRecord("the first number")
        );
        let state = CustomerState { profile: Some(record_of("+15125550142", "Maria")), ..Default::default() };
        assert_eq!(link(&maria, &state, &luis, None, "op", now).unwrap_err(), LinkError::NoRecord("the second number"));
        assert_eq!(link(&maria, &state, &maria, Some(&luis_record), "op", now).unwrap_err(), LinkError::Same);
        let linked = link(&maria, &state, &luis, Some(&luis_record), "op", now).unwrap();
        let after = CustomerState { household: linked.records[0].household.clone(), ..state };
        assert_eq!(link(&maria, &after, &luis, Some(&luis_record), "op", now).unwrap_err(), LinkError::Already);
    }
}
