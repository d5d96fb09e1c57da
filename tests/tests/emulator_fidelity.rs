//! The emulator behaves like DynamoDB where custops depends on it (see
//! cli/src/moto_server.py): a cancelled transaction writes nothing, and two
//! concurrent conditional writes on one item cannot both succeed.

use custops::table::{Tx, TxError, TxRejected};
use custops::{Clock, Phone};
use custops_tests::Harness;

#[tokio::test]
async fn a_transaction_cancelled_by_its_last_item_writes_none_of_the_others() {
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    let table = h.table();
    let now = h.clock.now();
    let mut first = Tx::new();
    first.claim_event(&table, "e-1", now);
    table.commit(first).await.unwrap();

    let phone = Phone::parse("+15125550177").unwrap();
    let customer = custops::model::Customer::lead("northside-chevy", phone.clone(), now);
    let mut tx = Tx::new();
    tx.put_profile(&table, &customer, None).claim_event(&table, "e-1", now);
    let err = table.commit(tx).await.unwrap_err();
    assert!(matches!(err, TxError::Rejected(TxRejected::Duplicate { .. })), "{err:?}");
    assert!(table.customer_state("northside-chevy", &phone).await.unwrap().profile.is_none(), "rolled back");

    // An existing item changed by a cancelled transaction is restored too.
    let mut create = Tx::new();
    create.put_profile(&table, &customer, None);
    table.commit(create).await.unwrap();
    let mut renamed = customer.clone();
    renamed.first_name = Some("Changed".into());
    let mut tx = Tx::new();
    tx.put_profile(&table, &renamed, Some(1)).claim_event(&table, "e-1", now);
    assert!(table.commit(tx).await.is_err());
    let state = table.customer_state("northside-chevy", &phone).await.unwrap();
    assert_eq!(state.profile.unwrap().first_name, None);
    assert_eq!(state.version, Some(1));
}

#[tokio::test]
async fn of_many_concurrent_claims_of_one_event_exactly_one_wins() {
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    let table = h.table();
    let now = h.clock.now();
    let attempts = (0..16).map(|_| {
        let table = table.clone();
        async move {
            let mut tx = Tx::new();
            tx.claim_event(&table, "contended", now);
            table.commit(tx).await.is_ok()
        }
    });
    let wins = futures::future::join_all(attempts).await.into_iter().filter(|w| *w).count();
    assert_eq!(wins, 1);
}
