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

#[tokio::test]
async fn a_texting_window_outside_the_legal_hours_or_marketing_kept_off_every_day_is_refused() {
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    let mut late = northside();
    late["texting_window"] = serde_json::json!(["22:00", "23:00"]);
    let err = custops_cli::commands::store_put(&h.target, &write("late", &late)).await.unwrap_err().to_string();
    assert!(err.contains("texting_window 22:00-23:00 is outside the legal hours"), "{err}");

    let mut never = northside();
    never["no_marketing_on_closed_days"] = true.into();
    never["hours"] =
        serde_json::json!({"mon": null, "tue": null, "wed": null, "thu": null, "fri": null, "sat": null, "sun": null});
    let err = custops_cli::commands::store_put(&h.target, &write("never", &never)).await.unwrap_err().to_string();
    assert!(err.contains("every day closed"), "{err}");
}
