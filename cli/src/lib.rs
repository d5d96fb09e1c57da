//! The custops operator CLI and local stack, as a library so the cross-function
//! tests drive exactly what `custops local up` runs.
// Every function's futures, run in-process by the local stack, nest deeper
// than the compiler's default layout depth.
#![recursion_limit = "256"]

pub mod artifacts;
pub mod chaos;
pub mod commands;
pub mod emulator;
pub mod faults;
pub mod iam;
pub mod local;
pub mod registry;
pub mod replay;
pub mod report_page;
pub mod runtime_api;
pub mod template;

/// Any error an operator command or the local stack reports.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
