//! What a trigger costs in AWS calls, against the emulator: the warm-up at
//! cold start, and the consistent read every decision rests on. (The per-event
//! budget of every trigger is `cargo perf`'s table, held by the bench's own
//! test: cli/bench/tests/aws_calls.rs.)

/// Given a cold start with the template's `WARM_UP`, when the first event
/// arrives, then it costs the steady state's calls (four, and the new
/// callback task's alert): init already loaded the store (one Query) and
/// opened the SNS connection (one read).
#[tokio::test]
async fn after_the_warm_up_the_first_event_of_a_cold_start_costs_what_every_later_one_does() {
    use custops::context::WarmUp;
    use custops::function::SqsFunction;
    use custops_cli::emulator::CallRecorder;

    let h = custops_tests::Harness::start("2026-11-23T16:05:00Z").await;
    let env = h.stack.functions.iter().find(|f| f.def.binary == "missed-call").unwrap().def.env.clone();
    let config = custops::aws::local(&h.emulator.endpoint).await;
    let deps = custops::Deps::from_env("missed-call", &env, &config, std::sync::Arc::new(h.clock.clone())).unwrap();
    let warm_up = WarmUp::from_env(&env).unwrap();
    assert_eq!(warm_up, WarmUp { dynamodb: true, sns: true }, "the template's WARM_UP");

    let recorder = CallRecorder::start(&h.emulator.endpoint).await.unwrap();
    deps.core.warm_up(warm_up, std::time::Duration::from_secs(5)).await;
    let mut init: Vec<String> = recorder.calls().await.unwrap().iter().map(ToString::to_string).collect();
    init.sort();
    assert_eq!(init, ["dynamodb:Query", "sns:GetSMSAttributes"]);

    let event = custops_tests::call_missed("c-1", "call-1", "+15125550177", "2026-11-23T16:05:00Z");
    let recorder = CallRecorder::start(&h.emulator.endpoint).await.unwrap();
    let message = custops::batch::Message {
        message_id: "m-1".into(),
        body: event.to_string(),
        receive_count: 1,
        sent_at: None,
        event_type: Some("call.missed".into()),
    };
    missed_call::MissedCall::process(&deps, message).await.unwrap();
    let first: Vec<String> = recorder.calls().await.unwrap().iter().map(ToString::to_string).collect();
    assert_eq!(
        first,
        ["dynamodb:Query", "dynamodb:TransactWriteItems", "sns:Publish", "dynamodb:UpdateItem", "sns:Publish"]
    );
}

/// A decision rests on the customer's state read consistently: a base-table
/// Query is eventually consistent on DynamoDB unless it asks, and a START
/// seconds earlier could be missed (the emulator is always consistent, so the
/// request itself is checked).
#[tokio::test]
async fn the_state_a_trigger_decides_on_is_read_with_a_consistent_query() {
    use custops_cli::emulator::CallRecorder;
    let h = custops_tests::Harness::start("2026-11-23T16:05:00Z").await;
    let recorder = CallRecorder::start(&h.emulator.endpoint).await.unwrap();
    h.stack
        .invoke(
            "missed-call",
            &[custops_tests::call_missed("c-1", "call-1", "+15125550177", "2026-11-23T16:05:00Z").to_string()],
        )
        .await
        .unwrap();
    let queries: Vec<serde_json::Value> = recorder
        .requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|(call, _)| call.to_string() == "dynamodb:Query")
        .map(|(_, body)| serde_json::from_str(&body).unwrap())
        .filter(|q: &serde_json::Value| {
            q["ExpressionAttributeValues"][":pk"]["S"].as_str().is_some_and(|pk| pk.starts_with("CUST#"))
        })
        .collect();
    assert_eq!(queries.len(), 1, "{queries:?}");
    assert_eq!(queries[0]["ConsistentRead"], true, "{}", queries[0]);
}
