//! `daily-report`: the GM who reviews morning performance sees every
//! communication failure of the day before, across every department.
//!
//! Trigger: an EventBridge schedule, every hour (`custops local tick` fires
//! it locally). Each run, for every store whose local time is past
//! [`REPORT_HOUR`] (06:00), publishes yesterday's report (store-local day)
//! once: the text version of `custops report`, to the `gm-reports` SNS topic
//! (subject: the store and the day; an email subscription is a template
//! parameter). Hourly, not once at 06:00 UTC: stores keep their own time
//! zones, and a run that failed is made up by the next one.
//! Reads: the stores (one Query); per store due, the report's reads
//! (`custops::report::gather`: the day's facts and texts, the tasks they
//! point at, the open tasks and open declined work, never a Scan), the DLQ
//! counts, and whether the day was published already (a claim, one GetItem).
//! Writes: the claim `gm-report#{store}#{day}`, after the publish: a publish
//! that fails is tried again by the next run; a run that dies between the
//! publish and the claim may publish the day twice, never lose it.

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use serde::Serialize;
use tracing::{error, info, warn};

pub mod page;

use custops::context::ReportTargets;
use custops::function::ScheduledFunction;
use custops::report;
use custops::report::mail::{Mailer, ReportMail};
use custops::{Change, Core, ProcessError, StoreConfig};

/// The store-local hour from which yesterday's report goes out.
pub const REPORT_HOUR: u32 = 6;

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub stores: usize,
    /// Reports published.
    pub published: usize,
    /// Stores before 06:00, or whose report went out already.
    pub not_due: usize,
    pub failed: usize,
}

/// The function (see [`ScheduledFunction`]).
pub struct DailyReport;

impl ScheduledFunction for DailyReport {
    const NAME: &'static str = "daily-report";
    const ENV: &'static [&'static str] = custops::env::REPORT_FUNCTION_ENV;
    type Report = RunReport;

    async fn run(core: &Core) -> Result<RunReport, ProcessError> {
        let targets = core.reports.as_ref().ok_or_else(|| ProcessError::Aws {
            what: "daily-report".into(),
            reason: "GM_REPORTS_TOPIC_ARN is not set".into(),
        })?;
        let now = core.clock.now();
        // One SES client a run, and only when the deploy mails reports.
        let mailer = targets.sender.as_ref().map(|s| Mailer::new(aws_sdk_sesv2::Client::new(&targets.config), s));
        let stores = core.table.list_stores().await?;
        let mut run = RunReport { stores: stores.len(), ..Default::default() };
        for store in &stores {
            let Some(yesterday) = due_day(store, now) else {
                run.not_due += 1;
                continue;
            };
            match missed_days(core, store, yesterday).await {
                Ok(days) if days.is_empty() => run.not_due += 1,
                Ok(days) => {
                    for day in days {
                        match publish(core, targets, mailer.as_ref(), store, day, now).await {
                            Ok(true) => run.published += 1,
                            Ok(false) => run.not_due += 1,
                            Err(e) => {
                                error!(store_id = %store.store_id, %day, error = %e, "the report was not published; the next run tries again");
                                run.failed += 1;
                            }
                        }
                    }
                }
                Err(e) => {
                    error!(store_id = %store.store_id, error = %e, "could not tell which reports are due");
                    run.failed += 1;
                }
            }
        }
        info!(?run, "daily report");
        Ok(run)
    }
}

/// The day whose report is due at `now` for `store`: yesterday, once the
/// store's clock is past [`REPORT_HOUR`].
pub fn due_day(store: &StoreConfig, now: DateTime<Utc>) -> Option<NaiveDate> {
    let local = store.local(now);
    (local.hour() >= REPORT_HOUR).then(|| local.date_naive() - Duration::days(1))
}

/// How far back a run makes up a day whose report never went out (every
/// run of that day failed, or the function was down).
pub const MAKE_UP_DAYS: i64 = 7;

/// The days whose report is due and not yet published, oldest first:
/// `yesterday`, and back from it while unpublished, up to [`MAKE_UP_DAYS`];
/// a day before yesterday is made up only if something happened on it (a
/// store added today gets no reports for the week before it existed).
async fn missed_days(core: &Core, store: &StoreConfig, yesterday: NaiveDate) -> Result<Vec<NaiveDate>, ProcessError> {
    let mut days = Vec::new();
    for back in 0..MAKE_UP_DAYS {
        let day = yesterday - Duration::days(back);
        if core.table.is_claimed(&store.store_id, &claim_key(store, day)).await? {
            break;
        }
        if back == 0 || !core.table.day_facts(&store.store_id, day).await?.is_empty() {
            days.push(day);
        }
    }
    days.reverse();
    Ok(days)
}

/// The week to the report's day, for the page's chart: each day's missed
/// calls and median time to the text-back (the day's own from the report).
pub async fn history(
    table: &custops::table::Table,
    store: &StoreConfig,
    r: &report::Report,
) -> Result<Vec<page::DayPoint>, ProcessError> {
    let mut out = Vec::new();
    for back in (0..7).rev() {
        let day = r.date - Duration::days(back);
        let calls = if back == 0 { r.missed_calls.clone() } else { report::missed_calls_on(table, store, day).await? };
        out.push(page::DayPoint {
            date: day,
            missed_calls: calls.total,
            median_seconds_to_text: calls.median_seconds_to_text,
        });
    }
    Ok(out)
}

/// The claim of one store's day.
pub fn claim_key(store: &StoreConfig, day: NaiveDate) -> String {
    format!("gm-report#{}#{day}", store.store_id)
}

/// The longest subject SNS takes: ASCII, no line breaks, under 100 characters.
pub const SUBJECT_LIMIT: usize = 99;

/// The subject line, within SNS's limit: the store's name transliterated to
/// printable ASCII ("Peña Motors" becomes "Pena Motors"; line breaks and
/// control characters are dropped) and shortened first, so the figures
/// always show.
pub fn subject(r: &report::Report) -> String {
    let name: String = deunicode::deunicode(&r.store_name)
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .collect();
    let figures = format!(
        ": {} at risk, {} missed calls ({})",
        custops::text::dollars(r.revenue_at_risk_cents),
        r.missed_calls.total,
        r.date.format("%a %-d %b")
    );
    let room = SUBJECT_LIMIT.saturating_sub(figures.len());
    let name: String = name.trim().chars().take(room).collect();
    format!("{name}{figures}").chars().take(SUBJECT_LIMIT).collect()
}

/// Publishes the report of `day` unless it went out already; whether it was published.
async fn publish(
    core: &Core,
    targets: &ReportTargets,
    mailer: Option<&Mailer>,
    store: &StoreConfig,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<bool, ProcessError> {
    let key = claim_key(store, day);
    if core.table.is_claimed(&store.store_id, &key).await? {
        return Ok(false);
    }
    let mut data = report::gather(&core.table, store, day, now).await?;
    data.dead_letters = report::dead_letters(&targets.sqs, &targets.dlq_urls, store)
        .await
        .map_err(|reason| ProcessError::Aws { what: format!("{key}: counting the dead letters"), reason })?;
    let r = report::build(store, day, now, &data);
    // To the store's `report_to` first (a mail that fails is tried again by
    // the next run, with the publish: a day may go twice, never not at all).
    if !store.report_to.is_empty() {
        match mailer {
            Some(mailer) => {
                let html = page::render(&r, &history(&core.table, store, &r).await?)
                    .map_err(|e| ProcessError::Aws { what: format!("{key}: the page"), reason: e.to_string() })?;
                let mail = ReportMail { to: store.report_to.clone(), subject: subject(&r), text: r.to_string(), html };
                let id = mailer
                    .send(&mail)
                    .await
                    .map_err(|reason| ProcessError::Aws { what: format!("{key}: mailing"), reason })?;
                info!(store_id = %store.store_id, %day, to = store.report_to.len(), message_id = %id, "report mailed");
            }
            None => {
                warn!(store_id = %store.store_id, "report_to is set but the deploy has no ReportSender: not mailed")
            }
        }
    }
    // `store_id` on every message: a GM's subscription takes their store's alone.
    let store_attribute = aws_sdk_sns::types::MessageAttributeValue::builder()
        .data_type("String")
        .string_value(&store.store_id)
        .build()
        .map_err(|e| ProcessError::Aws { what: format!("{key}: the store attribute"), reason: e.to_string() })?;
    targets
        .sns
        .publish()
        .topic_arn(&targets.topic_arn)
        .subject(subject(&r))
        .message(r.to_string())
        .message_attributes("store_id", store_attribute)
        .send()
        .await
        .map_err(|e| ProcessError::Aws {
            what: format!("{key}: publishing"),
            reason: aws_sdk_sns::error::DisplayErrorContext(&e).to_string(),
        })?;
    core.apply(store, Change::new(&key)).await?;
    info!(store_id = %store.store_id, %day, risk_cents = r.revenue_at_risk_cents, "report published");
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use custops::fixtures::{at, northside};

    #[test]
    fn yesterdays_report_is_due_from_six_in_the_morning_store_time() {
        let store = northside(); // Chicago, UTC-6 in November
        assert_eq!(due_day(&store, at("2026-11-24T11:59:00Z")), None, "05:59 in Chicago");
        assert_eq!(due_day(&store, at("2026-11-24T12:00:00Z")), Some("2026-11-23".parse().unwrap()));
        assert_eq!(due_day(&store, at("2026-11-25T05:30:00Z")), Some("2026-11-23".parse().unwrap()), "23:30 Tuesday");
        assert_eq!(claim_key(&store, "2026-11-23".parse().unwrap()), "gm-report#northside-chevy#2026-11-23");
    }

    #[test]
    fn the_subject_names_the_store_the_risk_and_the_day_within_snss_limit() {
        let mut store = northside();
        let day = "2026-11-23".parse().unwrap();
        let r = report::build(&store, day, at("2026-11-24T12:00:00Z"), &Default::default());
        assert_eq!(subject(&r), "Northside Chevrolet: $0.00 at risk, 0 missed calls (Mon 23 Nov)");
        store.name = "N".repeat(150);
        let long = subject(&report::build(&store, day, at("2026-11-24T12:00:00Z"), &Default::default()));
        assert_eq!(long.len(), SUBJECT_LIMIT, "under SNS's 100");
        assert!(long.ends_with("at risk, 0 missed calls (Mon 23 Nov)"), "the figures always show: {long}");
        store.name = "Peña Motors\n".into();
        let odd = subject(&report::build(&store, day, at("2026-11-24T12:00:00Z"), &Default::default()));
        assert!(odd.starts_with("Pena Motors: $0.00 at risk"), "{odd}");
        assert!(odd.is_ascii() && !odd.contains('\n'));
    }
}
