//! `custops value --store S --from D --to D [--json] [--html FILE]`: what
//! custops did for a store over those store-local days, or, for a store in
//! shadow mode, what it would have done (its texts recorded, never
//! published). The figures are the GM report's, over the whole range
//! ([`custops::report::build_range`]: one code path), with the texts broken
//! down by trigger and class.

use std::collections::BTreeMap;

use askama::Template;
use chrono::NaiveDate;
use custops::report::{Declined, Lifecycle, MissedCalls, Replies, WinBack};
use custops::store::StoreMode;
use custops::text::{dollars, TextState};
use serde::Serialize;

use crate::commands::Target;
use crate::BoxError;

/// The value over a range of days.
#[derive(Debug, Clone, Serialize)]
pub struct Value {
    pub store_id: String,
    pub store_name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// `live`, or `shadow`: what custops would have done.
    pub mode: &'static str,
    pub texts: Texts,
    pub missed_calls: MissedCalls,
    pub declined: Declined,
    pub win_back: WinBack,
    pub replies: Replies,
    /// Between the sale and the next sale (section 14): delivery checks,
    /// service due, maturity.
    pub lifecycle: Lifecycle,
    pub opt_outs: u64,
    /// What custops surfaced as at risk, as of when this is made.
    pub revenue_at_risk_cents: i64,
    pub revenue_at_risk_formula: String,
}

/// The texts of the range: sent (live) or recorded and never published (shadow).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Texts {
    /// Live: texts published; shadow: texts that would have been.
    pub total: u64,
    /// By trigger (`missed-call`, `vehicle-ready`, ...), then class (`reply`, `transactional`, `marketing`).
    pub by_trigger: BTreeMap<String, BTreeMap<String, u64>>,
    pub segments: u64,
    /// Their list price, in cents (the receipts' prices where they came).
    pub cost_cents: u64,
}

fn name(v: impl Serialize) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// What custops did (or would have done) at `store_id` from `from` to `to`.
pub async fn value(
    target: &Target,
    store_id: &str,
    from: NaiveDate,
    to: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Value, BoxError> {
    if to < from {
        return Err(format!("--to {to} is before --from {from}").into());
    }
    if (to - from).num_days() > 366 {
        return Err("at most a year at a time".into());
    }
    let store = target.table.get_store(store_id).await?.ok_or_else(|| format!("no store {store_id:?}"))?;
    let data = custops::report::gather_range(&target.table, &store, from, to, now).await?;
    let report = custops::report::build_range(&store, from, to, now, &data);
    let (start, end) = (custops::report::day_bounds(&store, from).0, custops::report::day_bounds(&store, to).1);
    let shadow = store.mode == StoreMode::Shadow;
    let mut texts = Texts::default();
    for t in data.texts.iter().filter(|t| matches!(t.state, TextState::Sent | TextState::Shadow)) {
        let at = t.sent_at.unwrap_or(t.created_at);
        if at < start || at >= end {
            continue;
        }
        texts.total += 1;
        texts.segments += u64::from(t.segments);
        texts.cost_cents += t.receipt.as_ref().and_then(|r| r.price_micro_usd).unwrap_or(t.est_price_micro_usd);
        *texts.by_trigger.entry(t.trigger.clone()).or_default().entry(name(t.class)).or_default() += 1;
    }
    texts.cost_cents = (texts.cost_cents + 5_000) / 10_000;
    Ok(Value {
        store_id: store.store_id.clone(),
        store_name: store.name.clone(),
        from,
        to,
        mode: if shadow { "shadow" } else { "live" },
        texts,
        missed_calls: report.missed_calls,
        declined: report.declined,
        win_back: report.win_back,
        replies: report.replies,
        lifecycle: report.lifecycle,
        opt_outs: report.opt_outs,
        revenue_at_risk_cents: report.revenue_at_risk_cents,
        revenue_at_risk_formula: report.revenue_at_risk_formula,
    })
}

impl Value {
    fn verb(&self) -> &'static str {
        if self.mode == "shadow" {
            "would have sent"
        } else {
            "sent"
        }
    }

    /// The lines a person reads (the text view and the page).
    pub fn lines(&self) -> Vec<(String, String)> {
        let m = &self.missed_calls;
        let median = m.median_seconds_to_text.map(|s| format!(", median {s:.0} s to the text")).unwrap_or_default();
        let mut out = vec![
            ("Revenue at risk it surfaced".to_owned(), dollars(self.revenue_at_risk_cents)),
            ("Missed calls".into(), format!("{} ({} texted back{median})", m.total, m.texted_back)),
            (
                "Callbacks".into(),
                format!(
                    "{} done ({} on time), {} still open",
                    m.callbacks_done, m.callbacks_done_on_time, m.callbacks_open
                ),
            ),
            (
                "Declined work".into(),
                format!(
                    "{} declined, {} followed up by text, {} by phone; {} recovered",
                    dollars(self.declined.new_cents),
                    self.declined.follow_ups_sent,
                    self.declined.follow_ups_task_only,
                    dollars(self.declined.recovered_cents)
                ),
            ),
            (
                "Win-backs".into(),
                format!(
                    "{} texted, {} tasks, {} came back",
                    self.win_back.texted, self.win_back.tasks, self.win_back.came_back
                ),
            ),
            (
                "Customer texts answered".into(),
                format!(
                    "{} of {} ({} escalated)",
                    self.replies.answered, self.replies.received, self.replies.escalated
                ),
            ),
            (
                "After the sale".into(),
                format!(
                    "{} delivery checks asked, {} answered; {} service-due texts, {} service-due tasks; {} maturity tasks",
                    self.lifecycle.delivery_checks_asked,
                    self.lifecycle.delivery_checks_answered,
                    self.lifecycle.service_due_texts,
                    self.lifecycle.service_due_tasks,
                    self.lifecycle.maturity_tasks
                ),
            ),
            ("Opt-outs".into(), self.opt_outs.to_string()),
            (
                format!("Texts it {}", self.verb()),
                format!(
                    "{} ({} segments, about {})",
                    self.texts.total,
                    self.texts.segments,
                    dollars(self.texts.cost_cents as i64)
                ),
            ),
        ];
        for (trigger, classes) in &self.texts.by_trigger {
            let each: Vec<String> = classes.iter().map(|(c, n)| format!("{n} {c}")).collect();
            out.push((format!("  {trigger}"), each.join(", ")));
        }
        out
    }

    /// For a person.
    pub fn text(&self) -> String {
        let mut out = format!(
            "What custops {} for {} ({}), {} to {}{}\n\n",
            if self.mode == "shadow" { "would have done" } else { "did" },
            self.store_name,
            self.store_id,
            self.from,
            self.to,
            if self.mode == "shadow" { " (shadow mode: nothing was published)" } else { "" }
        );
        for (k, v) in self.lines() {
            out.push_str(&format!("{k:<30} {v}\n"));
        }
        out
    }
}

#[derive(Template)]
#[template(path = "value.html")]
struct Page<'a> {
    v: &'a Value,
    heading: String,
    risk: String,
    lines: Vec<(String, String)>,
}

/// One self-contained page (no script, no network).
pub fn render(v: &Value) -> Result<String, BoxError> {
    let heading =
        format!("What custops {} for {}", if v.mode == "shadow" { "would have done" } else { "did" }, v.store_name);
    let page = Page { v, heading, risk: dollars(v.revenue_at_risk_cents), lines: v.lines() };
    Ok(page.render()?)
}
