//! The emulator behaves like DynamoDB where custops depends on it (see
//! cli/src/moto_server.py): a cancelled transaction writes nothing, and two
//! concurrent conditional writes on one item cannot both succeed.

use custops::table::{Guard, TxError, TxRejected};
use custops::{Clock, Phone};
use custops_tests::Harness;

#[tokio::test]
async fn a_transaction_cancelled_by_its_last_item_writes_none_of_the_others() {
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    let table = h.table();
    let now = h.clock.now();
    let mut first = table.tx();
    first.claim("s", "e-1", now);
    table.commit(first).await.unwrap();

    let phone = Phone::parse("+15125550177").unwrap();
    let customer = custops::model::Customer::lead("northside-chevy", phone.clone(), now);
    let mut tx = table.tx();
    tx.put(&customer, Guard::Version(None)).claim("s", "e-1", now);
    let err = table.commit(tx).await.unwrap_err();
    assert!(matches!(err, TxError::Rejected(TxRejected::Duplicate { .. })), "{err:?}");
    assert!(
        table
            .customer_state(&custops::CustomerId::new("northside-chevy", phone.clone()))
            .await
            .unwrap()
            .profile
            .is_none(),
        "rolled back"
    );

    // An existing item changed by a cancelled transaction is restored too.
    let mut create = table.tx();
    create.put(&customer, Guard::Version(None));
    table.commit(create).await.unwrap();
    let mut renamed = customer.clone();
    renamed.first_name = Some("Changed".into());
    let mut tx = table.tx();
    tx.put(&renamed, Guard::Version(Some(1))).claim("s", "e-1", now);
    assert!(table.commit(tx).await.is_err());
    let state = table.customer_state(&custops::CustomerId::new("northside-chevy", phone.clone())).await.unwrap();
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
            let mut tx = table.tx();
            tx.claim("s", "contended", now);
            table.commit(tx).await.is_ok()
        }
    });
    let wins = futures::future::join_all(attempts).await.into_iter().filter(|w| *w).count();
    assert_eq!(wins, 1);
}

/// moto_server.py answers a Query from the partition, and a GSI Query from an
/// index it keeps itself: that index must follow every kind of write.
#[tokio::test]
async fn a_gsi_query_sees_exactly_the_items_that_carry_its_key_after_every_kind_of_write() {
    use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    let (db, table) = (h.stack.clients.dynamodb.clone(), h.table().name().to_owned());
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let gsi = |value: &'static str| {
        let (db, table) = (db.clone(), table.clone());
        async move {
            let out = db
                .query()
                .table_name(table)
                .index_name("gsi1")
                .key_condition_expression("gsi1pk = :v")
                .expression_attribute_values(":v", AttributeValue::S(value.into()))
                .send()
                .await
                .unwrap();
            let mut sks: Vec<String> = out.items().iter().map(|i| i["sk"].as_s().unwrap().clone()).collect::<Vec<_>>();
            sks.sort();
            sks
        }
    };
    for (sk, g) in [("a", "G1"), ("b", "G1"), ("c", "G2")] {
        db.put_item()
            .table_name(&table)
            .item("pk", s("P"))
            .item("sk", s(sk))
            .item("gsi1pk", s(g))
            .item("gsi1sk", s(sk))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(gsi("G1").await, ["a", "b"]);
    // An update moves an item between key values; a delete removes it.
    db.update_item()
        .table_name(&table)
        .key("pk", s("P"))
        .key("sk", s("b"))
        .update_expression("SET gsi1pk = :g")
        .expression_attribute_values(":g", s("G2"))
        .send()
        .await
        .unwrap();
    db.delete_item().table_name(&table).key("pk", s("P")).key("sk", s("c")).send().await.unwrap();
    assert_eq!(gsi("G1").await, ["a"]);
    assert_eq!(gsi("G2").await, ["b"]);
    // A committed transaction indexes its items; a cancelled one changes nothing.
    let put = |sk: &str, g: &str| {
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&table)
                    .item("pk", s("P"))
                    .item("sk", s(sk))
                    .item("gsi1pk", s(g))
                    .item("gsi1sk", s(sk))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let remove_key = TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name(&table)
                .key("pk", s("P"))
                .key("sk", s("a"))
                .update_expression("REMOVE gsi1pk")
                .build()
                .unwrap(),
        )
        .build();
    db.transact_write_items().transact_items(put("d", "G1")).transact_items(remove_key).send().await.unwrap();
    assert_eq!(gsi("G1").await, ["d"]);
    let cancelled =
        db.transact_write_items().transact_items(put("e", "G1")).transact_items(put("d", "G3")).send().await;
    assert!(cancelled.is_err(), "d exists, so the transaction is cancelled");
    assert_eq!(gsi("G1").await, ["d"]);
    assert!(gsi("G3").await.is_empty());
    // The table's own partition Query is unaffected by the GSI keys.
    let partition = db
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("P"))
        .send()
        .await
        .unwrap();
    let sks: Vec<&str> = partition.items().iter().map(|i| i["sk"].as_s().unwrap().as_str()).collect();
    assert_eq!(sks, ["a", "b", "d"]);
}
