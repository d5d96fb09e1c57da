//! The AWS calls each trigger makes per event, counted at the emulator, stay
//! within their targets (issue targets: missed call and status text <= 4,
//! and one more, the `staff-alerts` Publish, for an event that makes a task).
//! A count, not a timing: deterministic.

#[tokio::test]
async fn every_trigger_stays_within_its_aws_call_budget() {
    let rows = custops_bench::aws_calls().await.expect("bench scenarios run");
    assert!(rows.len() >= 9);
    for r in &rows {
        if let Some(target) = r.target {
            assert!(
                r.calls <= target,
                "{} / {}: {} calls > {target}: {:?}",
                r.function,
                r.scenario,
                r.calls,
                r.operations
            );
        }
        // A duplicate or a no-text event never publishes.
        // (A new task's alert is a Publish too, to the topic.)
        let no_task = !r.scenario.contains("task");
        if r.scenario.contains("again") || r.scenario.contains("resend") || (r.scenario.contains("no text") && no_task)
        {
            assert!(!r.operations.iter().any(|o| o == "sns:Publish"), "{}: {:?}", r.scenario, r.operations);
        }
    }
    // The customer's text first, then the people's alert.
    let known = rows.iter().find(|r| r.scenario.starts_with("known customer")).unwrap();
    assert_eq!(
        known.operations,
        ["dynamodb:Query", "dynamodb:TransactWriteItems", "sns:Publish", "dynamodb:UpdateItem", "sns:Publish"]
    );
}
