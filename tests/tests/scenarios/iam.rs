//! Least privilege, held to what AWS enforces: the emulator grants every IAM
//! action, so each function's policy in `infra/template.yaml` is held to the
//! actions it really uses, derived from the requests it makes here. The local
//! stack signs each function's requests with the function's own name; the
//! sample events (every trigger, bad input, a month of scheduled runs) and the
//! follow-ups the scheduler releases are replayed, and every recorded request
//! is mapped to the IAM actions AWS authorises it as (each item of a
//! TransactWriteItems as its own Put, Update, Delete or ConditionCheck action).
//! A missing action fails; an unused one is reported.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use custops::PinnedClock;
use custops_cli::commands::Target;
use custops_cli::emulator::{CallRecorder, Emulator};
use custops_cli::local::{LocalOptions, LocalStack};
use custops_cli::template::{Placement, Template, TEMPLATE};
use custops_dev::iam::{self, Needed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_is_granted_exactly_the_actions_its_requests_need() {
    let events = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let emulator = Emulator::start_forked().await.expect("the emulator starts");
    let clock = PinnedClock::at(custops_cli::replay::first_event_time(&events).unwrap().unwrap());
    let stack = LocalStack::provision(&emulator.endpoint, Arc::new(clock.clone()), LocalOptions::default())
        .await
        .expect("the stack");
    let target = Target::new(Some(&emulator.endpoint), "custops").await.unwrap();
    let recorder = CallRecorder::start(&emulator.endpoint).await.unwrap();
    custops_cli::replay::replay(&stack, &clock, &target, &events, None, |_| {}).await.expect("replayed");
    let requests = recorder.signed_requests().await.unwrap();

    let template = Template::parse(TEMPLATE, &Placement::local("http://127.0.0.1:1")).unwrap();
    let functions: BTreeMap<String, String> =
        template.functions().into_iter().map(|f| (f.binary, f.logical_id)).collect();
    let mut used: BTreeMap<String, BTreeSet<Needed>> = BTreeMap::new();
    for r in &requests {
        let Some(principal) = r.principal.as_deref().filter(|p| functions.contains_key(*p)) else { continue };
        used.entry(principal.to_owned()).or_default().extend(iam::actions_of(&r.call, &r.body));
    }
    assert!(used.len() >= 8, "the replay exercised most functions: {:?}", used.keys().collect::<Vec<_>>());

    let mut missing = Vec::new();
    for (binary, logical_id) in &functions {
        let granted = iam::granted(&template.resources[logical_id].properties);
        let needs = used.get(binary).cloned().unwrap_or_default();
        for n in &needs {
            if !granted.contains(n) {
                missing.push(format!("{logical_id}: {}{}", n.action, if n.on_index { " on an index" } else { "" }));
            }
        }
        // Reported, not failed: a path the replay did not take may need it.
        let unused: Vec<&str> = granted
            .iter()
            .filter(|g| !g.on_index && !g.action.starts_with("kms:") && !needs.iter().any(|n| n.action == g.action))
            .map(|g| g.action.as_str())
            .collect();
        if !unused.is_empty() {
            eprintln!("{logical_id}: granted, not used by the replay: {}", unused.join(", "));
        }
    }
    assert!(missing.is_empty(), "actions the functions use that their policies do not grant:\n{}", missing.join("\n"));
    emulator.stop().await;
}
