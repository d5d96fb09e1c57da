//! The cross-function tests, one binary: a module per scenario. Each test
//! starts its own emulator through the harness (`custops_tests::Harness`), so
//! they run in parallel; `cargo test -p custops-tests -- inbound_sms::` runs
//! one scenario, `cargo test -p custops-tests -- inbound_sms::stop_puts` one test.
// Every function's futures, run in-process by the local stack, nest deeper
// than the compiler's default layout depth.
#![recursion_limit = "256"]

mod aws_calls;
mod bounded_records;
mod browser;
mod consent;
mod daily_report;
mod declined_service;
mod deploy_template;
mod dms_feed;
mod emulator_fidelity;
mod exactly_once;
mod foundation;
mod front_door;
mod hostile_input;
mod iam;
mod inbound_sms;
mod isolation;
mod leads;
mod lifecycle;
mod missed_call;
mod no_hot_items;
mod no_pii_in_logs;
mod outbound;
mod promises;
mod receipts;
mod staff_inbox;
mod store_config;
mod template_agrees_with_code;
mod vehicle_ready;
mod win_back;
mod withdrawn;
