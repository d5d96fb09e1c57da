//! The GM report of a known day: `events/` replayed through the local stack
//! up to Tuesday 06:00 in Chicago (when `daily-report` sends Monday's
//! report), then `custops report` run as an operator runs it. Every number
//! is asserted; the day has missed calls of every kind, status texts, a
//! no-show, declined and recovered work, a win-back and an opt-out.

use std::process::Command;
use std::sync::Arc;

use custops::PinnedClock;
use custops_cli::commands::Target;
use custops_cli::emulator::Emulator;
use custops_cli::local::{LocalOptions, LocalStack};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_custops");
/// Tuesday 24 November 2026, 06:00 in Chicago.
const TUESDAY_0600: &str = "2026-11-24T12:00:00Z";

fn custops(endpoint: &str, args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).env("AWS_ENDPOINT_URL", endpoint).output().expect("custops runs");
    assert!(out.status.success(), "custops {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_of_a_known_day_has_every_number_right() {
    let events = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let emulator = Emulator::start_forked().await.expect("the emulator starts");
    let first = custops_cli::replay::first_event_time(&events).unwrap().unwrap();
    let clock = PinnedClock::at(first);
    let stack = LocalStack::provision(&emulator.endpoint, Arc::new(clock.clone()), LocalOptions::default())
        .await
        .expect("the stack");
    let target = Target::new(Some(&emulator.endpoint), "custops").await.unwrap();
    let until = TUESDAY_0600.parse().unwrap();
    custops_cli::replay::replay(&stack, &clock, &target, &events, Some(until), |_| {}).await.expect("replayed");

    let endpoint = emulator.endpoint.clone();
    let html = std::env::temp_dir().join(format!("custops-report-{}.html", std::process::id()));
    let page_path = html.to_str().unwrap().to_owned();
    let args = [
        "report",
        "--store",
        "northside-chevy",
        "--date",
        "2026-11-23",
        "--json",
        "--at",
        TUESDAY_0600,
        "--html",
        &page_path,
    ]
    .map(str::to_owned);
    let out =
        tokio::task::spawn_blocking(move || custops(&endpoint, &args.iter().map(String::as_str).collect::<Vec<_>>()))
            .await
            .unwrap();
    let r: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));

    assert_eq!(r["store_id"], "northside-chevy");
    assert_eq!(r["date"], "2026-11-23");
    // Maria (service, 10:05), the unknown caller (sales, 11:20) and his repeat
    // (11:40: no second text), a blocked caller id (parts: no number to
    // text), the after-hours caller (service, 21:30: a closed-now reply).
    let m = &r["missed_calls"];
    assert_eq!(m["total"], 5, "{m}");
    assert_eq!(m["texted_back"], 3, "{m}");
    // One callback per caller who can be called back; none done by Tuesday 06:00.
    assert_eq!((m["callbacks_open"].as_u64(), m["callbacks_done"].as_u64()), (Some(3), Some(0)), "{m}");
    let dept = |d: &str| m["by_department"].as_array().unwrap().iter().find(|x| x["department"] == d).cloned().unwrap();
    assert_eq!((dept("service")["total"].as_u64(), dept("service")["texted_back"].as_u64()), (Some(2), Some(2)));
    assert_eq!((dept("sales")["total"].as_u64(), dept("sales")["texted_back"].as_u64()), (Some(2), Some(1)));
    assert_eq!((dept("parts")["total"].as_u64(), dept("parts")["texted_back"].as_u64()), (Some(1), Some(0)));
    assert!(m["median_seconds_to_text"].as_f64().is_some_and(|s| (0.0..=60.0).contains(&s)), "{m}");
    // Parts arrived and ready for pickup; the DMS's resend and the late
    // `in_progress` text nobody.
    assert_eq!((r["status_texts"]["sent"].as_u64(), r["status_texts"]["deferred"].as_u64()), (Some(2), Some(0)));
    assert_eq!((r["no_shows"]["total"].as_u64(), r["no_shows"]["rebooked"].as_u64()), (Some(1), Some(0)));
    // Maria's brakes ($620) and cabin filter ($89) declined on Monday; Ahmed's
    // rear pads ($380, declined in October) done on Monday; open by Tuesday:
    // Maria's two lines and Ahmed's wipers ($45).
    let d = &r["declined"];
    assert_eq!(d["new_cents"], 70900, "{d}");
    assert_eq!(d["recovered_cents"], 38000, "{d}");
    assert_eq!(d["open_cents"], 70900 + 4500, "{d}");
    // Linda, last in on 22 October 2025, lapsed on Monday morning.
    assert_eq!((r["win_back"]["texted"].as_u64(), r["win_back"]["tasks"].as_u64()), (Some(1), Some(1)));
    assert_eq!(r["opt_outs"], 1);
    // Texted on Monday: 3 text-backs, 2 status texts, the win-back, the rebook invitation.
    let texts = custops(&emulator.endpoint, &["texts", "--store", "northside-chevy"]);
    assert_eq!(r["texts"]["sent"], 7, "{}: {texts}", r["texts"]);
    assert!(r["texts"]["segments"].as_u64().is_some_and(|s| s >= 7));
    // This store's: bad/900 (no caller); bad/910 is for a store that does not exist.
    assert_eq!(r["dead_letters"], 1, "bad/900, not bad/910");
    // 3 open callbacks x 0.75 x $450 = $1,012.50, plus $754.00 open declined work.
    assert_eq!(r["revenue_at_risk_cents"], 101250 + 75400);
    assert!(r["revenue_at_risk_formula"].as_str().unwrap().contains("3 open callbacks x 0.75 x $450.00"));
    // Who dropped what by Tuesday 06:00: Ahmed's advisor never called about
    // his declined work (three steps), Monday's callbacks and the no-show.
    let owners: Vec<(String, u64)> = r["overdue_tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["owner"].as_str().unwrap().to_owned(), o["count"].as_u64().unwrap()))
        .collect();
    assert!(owners.contains(&("adv-4".into(), 3)), "{owners:?}");
    assert!(owners.contains(&("bdc-sales".into(), 1)), "{owners:?}");

    // The page: one self-contained file with the headline and the chart.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("$1,766.50"), "the headline number");
    assert!(page.contains("<svg") && page.contains("Overdue tasks, by owner"));
    assert!(!page.contains("<script"), "no script");
    for fetch in ["src=", "href=", "<link", "@import", "url("] {
        assert!(!page.contains(fetch), "nothing fetched: {fetch}");
    }
    let _ = std::fs::remove_file(&html);
    emulator.stop().await;
}
