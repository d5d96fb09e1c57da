//! The custops operator CLI (`custops`): store configuration, texts,
//! timelines, tasks, the GM report, the DLQs and the `local` commands, as a
//! library so the cross-function tests drive exactly what it runs. The local
//! stack itself is `custops-local` (re-exported here); fault injection,
//! benchmarks and the deploy build live in `custops-dev` and `custops-bench`,
//! never in this binary.
// Every function's futures, run in-process by the local stack, nest deeper
// than the compiler's default layout depth.
#![recursion_limit = "256"]

pub mod commands;
pub mod doctor;
pub mod feed;
pub mod import;
pub mod replay;
/// The report's page and text (the daily report's, which mails the same page).
pub use daily_report::page as report_page;
pub mod staff;
pub mod value;

pub use custops_local::{emulator, local, registry, runtime_api, template, BoxError};
