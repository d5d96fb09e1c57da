//! `custops store put`: configs are validated when saved (templates too), and
//! a store's wording overrides reach its customers.

use custops_tests::{call_missed, northside, Harness};

fn write(name: &str, json: &serde_json::Value) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("custops-{}-{name}.json", std::process::id()));
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

#[tokio::test]
async fn a_template_with_an_unknown_variable_is_refused_at_save_time() {
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    let mut store = northside();
    store["templates"] = serde_json::json!({"missed_call_open": "{store}: sorry {frist_name}!"});
    let err = custops_cli::commands::store_put(&h.target, &write("bad", &store)).await.unwrap_err().to_string();
    assert!(err.contains("unknown variable {frist_name}"), "{err}");
}

#[tokio::test]
async fn a_stores_override_is_what_the_caller_receives_and_warnings_are_reported() {
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    let mut store = northside();
    store["templates"] = serde_json::json!({
        "missed_call_open": "{greeting}! {store} here. We’ll ring you right back.{stop}"
    });
    let (_, warnings) = custops_cli::commands::store_put(&h.target, &write("good", &store)).await.unwrap();
    assert!(warnings.iter().any(|w| w.contains("UCS-2")), "the curly apostrophe is flagged: {warnings:?}");

    h.publish(&call_missed("c-1", "call-1", "+15125550177", "2026-11-23T16:05:00Z")).await;
    h.settle().await;
    assert_eq!(
        h.sms().await[0].message,
        "Hi! Northside Chevrolet here. We’ll ring you right back. Reply STOP to opt out."
    );
    let texts = h.table().store_texts("northside-chevy").await.unwrap();
    assert_eq!(texts[0].encoding, custops::text::Encoding::Ucs2);
}
