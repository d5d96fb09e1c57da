//! `custops-bench` (`cargo perf`): numbers anyone can reproduce. Today: AWS API calls per
//! event, counted at the emulator (moto's request recorder) while the real
//! function code handles one event, in the steady state (warm store cache,
//! existing customer) unless the scenario says otherwise.
// Every function's futures, run in-process by the local stack, nest deeper
// than the compiler's default layout depth.
#![recursion_limit = "256"]

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use custops::PinnedClock;
use serde::Serialize;
use serde_json::{json, Value};

use custops_cli::emulator::{AwsCall, CallRecorder, Emulator};
use custops_cli::local::{LocalOptions, LocalStack};
use custops_cli::BoxError;

pub mod latency_proxy;
pub mod stand_in;

mod calls;
mod feed;
mod runtime;
mod scale;

pub use calls::*;
pub use feed::*;
pub use runtime::*;
pub use scale::*;

/// A Markdown table: `columns` are (heading, numeric: right-aligned).
fn table(columns: &[(&str, bool)], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let line = |cells: &mut dyn Iterator<Item = String>| format!("| {} |\n", cells.collect::<Vec<_>>().join(" | "));
    let mut out = line(&mut columns.iter().map(|(h, _)| (*h).to_owned()));
    out.push_str(&line(&mut columns.iter().map(|(_, numeric)| if *numeric { "---:" } else { "---" }.to_owned())));
    for row in rows {
        out.push_str(&line(&mut row.into_iter()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_markdown_with_numbers_right_aligned() {
        let t = table(&[("name", false), ("n", true)], [vec!["a".into(), "1".into()], vec!["b".into(), "22".into()]]);
        assert_eq!(t, "| name | n |\n| --- | ---: |\n| a | 1 |\n| b | 22 |\n");
    }
}
