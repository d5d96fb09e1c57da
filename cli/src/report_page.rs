//! `custops report --html FILE`: the GM report as one self-contained page
//! (inline CSS and SVG; no script, no network), from a compiled template
//! (askama, escaping by default) and an SVG chart (plotters).

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
