//! The emulator behaves like DynamoDB where custops depends on it (see
//! cli/local/src/moto_server.py): a cancelled transaction writes nothing, and two
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

/// moto_server.py answers a GSI page after the first from its sorted copy of
/// the key value's items, starting at the page's start key: paging with a
/// `Limit`, forwards and backwards, under a sort-key condition, with equal
/// sort keys and a write between pages, reads what one Query reads.
#[tokio::test]
async fn paging_a_gsi_key_value_reads_what_one_query_reads() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    let (db, table) = (h.stack.clients.dynamodb.clone(), h.table().name().to_owned());
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let put = |pk: String, sort: String| {
        let (db, table) = (db.clone(), table.clone());
        async move {
            db.put_item()
                .table_name(table)
                .item("pk", AttributeValue::S(pk))
                .item("sk", AttributeValue::S("profile".into()))
                .item("gsi1pk", AttributeValue::S("FEED".into()))
                .item("gsi1sk", AttributeValue::S(sort))
                .send()
                .await
                .unwrap();
        }
    };
    // 60 items, three to a sort key (ties are ordered by the table's key).
    for i in 0..60 {
        put(format!("C#{i:03}"), format!("T{:02}", i / 3)).await;
    }
    let read = |forward: bool, limit: Option<i32>, write_between: bool| {
        let (db, table) = (db.clone(), table.clone());
        async move {
            let (mut seen, mut start, mut pages) = (Vec::new(), None, 0);
            loop {
                let out = db
                    .query()
                    .table_name(&table)
                    .index_name("gsi1")
                    .key_condition_expression("gsi1pk = :v AND gsi1sk BETWEEN :lo AND :hi")
                    .expression_attribute_values(":v", s("FEED"))
                    .expression_attribute_values(":lo", s("T03"))
                    .expression_attribute_values(":hi", s("T15"))
                    .scan_index_forward(forward)
                    .set_limit(limit)
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .unwrap();
                pages += 1;
                seen.extend(out.items().iter().map(|i| i["pk"].as_s().unwrap().clone()));
                if write_between && pages == 2 {
                    // Outside the range read: it must not disturb the pages.
                    put("C#900".into(), "T99".into()).await;
                }
                match out.last_evaluated_key {
                    Some(k) => start = Some(k),
                    None => break,
                }
            }
            (seen, pages)
        }
    };
    let (whole, _) = read(true, None, false).await;
    assert_eq!(whole.len(), 39, "T03 to T15: 13 sort keys, three items each");
    assert_eq!(whole.first().map(String::as_str), Some("C#009"));
    for (forward, limit) in [(true, 4), (true, 1), (false, 5), (true, 39), (false, 13)] {
        let (paged, pages) = read(forward, Some(limit), true).await;
        let mut expected = whole.clone();
        if !forward {
            expected.reverse();
        }
        assert_eq!(paged, expected, "forward {forward}, limit {limit}");
        assert!(pages >= 39 / limit as usize, "forward {forward}, limit {limit}: {pages} pages");
    }
}
