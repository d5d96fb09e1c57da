//! The GM report as one self-contained page (inline CSS and SVG; no
//! script, no network), from a compiled template (askama, escaping by
//! default) and an SVG chart (plotters): the 06:00 mail's HTML body and
//! `custops report --html FILE`.

use askama::Template;
use chrono::NaiveDate;
use custops::report::Report;
use custops::text::dollars;
use plotters::prelude::*;

/// One day of the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct DayPoint {
    pub date: NaiveDate,
    pub missed_calls: u64,
    pub median_seconds_to_text: Option<f64>,
}

struct Overdue {
    owner: String,
    count: u64,
    kinds: String,
    oldest: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    r: &'a Report,
    day: String,
    made: String,
    risk: String,
    median: String,
    declined_open: String,
    declined_new: String,
    declined_recovered: String,
    cost: String,
    lead_median: String,
    visit_average: String,
    overdue: Vec<Overdue>,
    chart: String,
}

/// The page.
pub fn render(report: &Report, history: &[DayPoint]) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let page = Page {
        r: report,
        day: report.date.format("%A %-d %B %Y").to_string(),
        made: report.local(report.generated_at, "%Y-%m-%d %H:%M %Z"),
        risk: dollars(report.revenue_at_risk_cents),
        median: report
            .missed_calls
            .median_seconds_to_text
            .map(|s| format!(", median {s:.0} s to the text"))
            .unwrap_or_default(),
        declined_open: dollars(report.declined.open_cents),
        declined_new: dollars(report.declined.new_cents),
        declined_recovered: dollars(report.declined.recovered_cents),
        cost: dollars(report.texts.est_cost_cents as i64),
        lead_median: report
            .leads
            .median_minutes_to_first_contact
            .map(|m| format!(", median {m:.0} min to a person"))
            .unwrap_or_default(),
        visit_average: report.post_visit.average.map(|a| format!(", average {a:.1} of 5")).unwrap_or_default(),
        overdue: report
            .overdue_tasks
            .iter()
            .map(|o| Overdue {
                owner: o.owner.clone(),
                count: o.count,
                kinds: o.kinds.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", "),
                oldest: report.local(o.oldest_due_at, "%a %-d %b %H:%M %Z"),
            })
            .collect(),
        chart: chart(history)?,
    };
    Ok(page.render()?)
}

/// A tick's label: whole numbers only (a count has no half).
fn whole(y: &f64) -> String {
    if (y - y.round()).abs() < 1e-9 {
        format!("{y:.0}")
    } else {
        String::new()
    }
}

/// Missed calls per day (left axis) and the median seconds from a call to its
/// text-back (right axis), as inline SVG.
pub fn chart(history: &[DayPoint]) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 260)).into_drawing_area();
        root.fill(&WHITE)?;
        let days = history.len().max(1) as i32;
        let max_calls = history.iter().map(|d| d.missed_calls).max().unwrap_or(0).max(4) as i32;
        let max_secs = history.iter().filter_map(|d| d.median_seconds_to_text).fold(60.0_f64, f64::max);
        let calls_color = RGBColor(0x2e, 0x6f, 0xdb);
        let secs_color = RGBColor(0xd9, 0x48, 0x0f);
        let label =
            |i: &i32| history.get(*i as usize).map(|d| d.date.format("%a %-d %b").to_string()).unwrap_or_default();
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(40)
            .right_y_label_area_size(44)
            .build_cartesian_2d(-0.5f64..(days as f64 - 0.5), 0f64..(max_calls as f64 * 1.15))?
            .set_secondary_coord(-0.5f64..(days as f64 - 0.5), 0f64..(max_secs * 1.15));
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(days as usize)
            .x_label_formatter(&|x| label(&(x.round() as i32)))
            .y_desc("missed calls")
            .y_labels(6)
            .y_label_formatter(&whole)
            .light_line_style(RGBColor(0xee, 0xf1, 0xf4))
            .draw()?;
        chart.configure_secondary_axes().y_desc("seconds to text").y_labels(6).y_label_formatter(&whole).draw()?;
        chart.draw_series(history.iter().enumerate().map(|(i, d)| {
            let x = i as f64;
            Rectangle::new([(x - 0.3, 0.0), (x + 0.3, d.missed_calls as f64)], calls_color.mix(0.85).filled())
        }))?;
        let secs: Vec<(f64, f64)> =
            history.iter().enumerate().filter_map(|(i, d)| d.median_seconds_to_text.map(|s| (i as f64, s))).collect();
        chart.draw_secondary_series(LineSeries::new(secs.clone(), secs_color.stroke_width(3)))?;
        chart.draw_secondary_series(secs.iter().map(|p| Circle::new(*p, 4, secs_color.filled())))?;
        root.present()?;
    }
    Ok(svg)
}

/// One store's row of the group page (and the total row).
struct GroupRow {
    store: String,
    risk: String,
    missed: String,
    callbacks_open: u64,
    declined_open: String,
    replies: String,
    texts: String,
    dead_letters: u64,
}

#[derive(Template)]
#[template(path = "group.html")]
struct GroupPage {
    day: String,
    rows: Vec<GroupRow>,
    total: GroupRow,
}

fn cents(v: &serde_json::Value) -> String {
    dollars(v.as_i64().unwrap_or(0))
}

fn row_of(store: String, v: &serde_json::Value) -> GroupRow {
    let n = |p: &str| v.pointer(p).and_then(serde_json::Value::as_u64).unwrap_or(0);
    GroupRow {
        store,
        risk: cents(&v["revenue_at_risk_cents"]),
        missed: format!("{} ({} texted back)", n("/missed_calls/total"), n("/missed_calls/texted_back")),
        callbacks_open: n("/missed_calls/callbacks_open"),
        declined_open: cents(&v["declined"]["open_cents"]),
        replies: format!("{} ({} escalated)", n("/replies/received"), n("/replies/escalated")),
        texts: format!("{} ({} failed)", n("/texts/sent"), n("/texts/failed")),
        dead_letters: n("/dead_letters"),
    }
}

/// `custops report --group --html FILE`: one row per store, ranked by
/// revenue at risk, and the total row; one self-contained page.
pub fn render_group(
    date: NaiveDate,
    reports: &[Report],
    total: &serde_json::Value,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let rows = reports
        .iter()
        .map(|r| row_of(format!("{} ({})", r.store_name, r.store_id), &serde_json::to_value(r).unwrap_or_default()))
        .collect();
    let page = GroupPage {
        day: date.format("%A %-d %B %Y").to_string(),
        rows,
        total: row_of(format!("All {} stores", reports.len()), total),
    };
    Ok(page.render()?)
}

/// The group report for a person: a line per store, most at risk first, and the total.
pub fn group_text(date: NaiveDate, reports: &[Report], total: &serde_json::Value) -> String {
    let mut out = format!("The group's morning report for {}\n\n", date.format("%A %-d %B %Y"));
    let rows: Vec<GroupRow> = reports
        .iter()
        .map(|r| row_of(r.store_id.clone(), &serde_json::to_value(r).unwrap_or_default()))
        .chain(std::iter::once(row_of("total".into(), total)))
        .collect();
    for r in rows {
        out.push_str(&format!(
            "{:<20} at risk {:>12}  missed calls {}, {} callbacks open, declined open {}, texts {} \n",
            r.store,
            r.risk,
            r.missed,
            r.callbacks_open,
            r.declined_open,
            r.replies_and_texts()
        ));
    }
    out
}

impl GroupRow {
    fn replies_and_texts(&self) -> String {
        format!("{}, customer texts {}, dead letters {}", self.texts, self.replies, self.dead_letters)
    }
}
