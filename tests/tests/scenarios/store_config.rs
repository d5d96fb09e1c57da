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

/// A number belongs to one store (CONTRACT.md section 4): `store put`
/// refuses a store naming another store's `sms_number` or one of its
/// `lines` (one phone account serving a group must not credit one store's
/// calls to another), as it refuses another store's lead address; a number
/// a store gives up is free for another.
#[tokio::test]
async fn a_store_naming_another_stores_number_is_refused_and_a_number_given_up_is_free() {
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    let events_northside: serde_json::Value =
        serde_json::from_str(include_str!("../../../events/stores/northside-chevy.json")).unwrap();
    custops_cli::commands::store_put(&h.target, &write("north-lines", &events_northside)).await.unwrap();
    let line = events_northside["lines"].as_object().unwrap().keys().next().unwrap().clone();
    let lakeside = |sms: &str, lines: serde_json::Value| {
        let mut s: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/stores/lakeside-ford.json")).unwrap();
        s["sms_number"] = serde_json::json!(sms);
        s["lines"] = lines;
        s
    };
    for (what, store) in [
        ("number +15125550100", lakeside("+15125550100", serde_json::json!({}))),
        (line.as_str(), lakeside("+13055550100", serde_json::json!({ &line: "service" }))),
    ] {
        let err = custops_cli::commands::store_put(&h.target, &write("taken", &store)).await.unwrap_err().to_string();
        assert!(err.contains("already belongs to another store") && err.contains(what), "{err}");
    }
    assert!(h.table().get_store("lakeside-ford").await.unwrap().is_none(), "nothing of Lakeside was saved");
    // Nor kept: the number the refused save had claimed before the refusal is free.
    let mut other = lakeside("+13055550100", serde_json::json!({}));
    other["store_id"] = serde_json::json!("lakeside-kia");
    custops_cli::commands::store_put(&h.target, &write("kia", &other)).await.unwrap();
    let mut freed = other.clone();
    freed["sms_number"] = serde_json::json!("+13055550199");
    custops_cli::commands::store_put(&h.target, &write("kia", &freed)).await.unwrap();
    // Northside gives the line up: Lakeside may take it.
    let mut northside_now = events_northside.clone();
    northside_now["lines"].as_object_mut().unwrap().remove(&line);
    custops_cli::commands::store_put(&h.target, &write("north", &northside_now)).await.unwrap();
    let store = lakeside("+13055550100", serde_json::json!({ &line: "service" }));
    custops_cli::commands::store_put(&h.target, &write("lake", &store)).await.unwrap();
    // Saving a store again keeps its own numbers.
    custops_cli::commands::store_put(&h.target, &write("lake", &store)).await.unwrap();
}
