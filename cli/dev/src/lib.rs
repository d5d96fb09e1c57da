//! custops's development tools, kept out of the operator's `custops` binary:
//! the deploy build ([`artifacts`], `cargo artifacts`), the fault proxy
//! ([`faults`]) and the chaos run over it ([`chaos`], `cargo chaos`), and the
//! IAM actions AWS authorises recorded requests as ([`iam`]).
// Every function's futures, run in-process by the local stack, nest deeper
// than the compiler's default layout depth.
#![recursion_limit = "256"]

pub mod arch;
pub mod artifacts;
pub mod chaos;
pub mod faults;
pub mod iam;

pub use custops_local::BoxError;
