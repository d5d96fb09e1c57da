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

    // On the resource too: every topic a function published to, every
    // partition it wrote (a Deny on some partitions included), its policy allows.
    let table = format!("arn:aws:dynamodb:us-east-1:123456789012:table/{}", template.name_of("CustomerTable").unwrap());
    let mut refused = Vec::new();
    for r in &requests {
        let Some(logical_id) = r.principal.as_deref().and_then(|p| functions.get(p)) else { continue };
        let policy = &template.resources[logical_id].properties;
        for (action, resource, leading_keys) in iam::requests_of(&r.call, &r.body, &table) {
            if !iam::allows(
                policy,
                &iam::Request { action: &action, resource: &resource, leading_keys: leading_keys.clone() },
            ) {
                refused.push(format!("{logical_id}: {action} on {resource} {leading_keys:?}"));
            }
        }
    }
    refused.sort();
    refused.dedup();
    assert!(refused.is_empty(), "requests the functions made that their policies refuse:\n{}", refused.join("\n"));
    emulator.stop().await;
}

/// What a compromised function could do with SNS and the store configs
/// (issue 39): no policy allows `sns:Publish` on `*`; a function may publish
/// to a topic only if its own configuration names that topic (SMS to phone
/// numbers through `NotResource` on every topic ARN), so none can forge a
/// STOP, a DMS event or a lead on another's topic; the staff inbox cannot
/// write a store's config, a lead-address pointer or who works where.
/// An SNS Publish to `resource` (`*`: a phone number).
fn publish(resource: &str) -> iam::Request<'_> {
    iam::Request { action: "sns:Publish", resource, leading_keys: Vec::new() }
}

#[test]
fn no_function_may_publish_to_a_topic_it_does_not_name_nor_the_inbox_write_a_store() {
    let template = Template::parse(TEMPLATE, &Placement::local("http://127.0.0.1:1")).unwrap();
    let topics: Vec<String> = template
        .of_type("AWS::SNS::Topic")
        .map(|t| format!("arn:aws:sns:us-east-1:123456789012:{}", template.name_of(&t.logical_id).unwrap()))
        .collect();
    assert!(topics.len() >= 6, "{topics:?}");
    let mut wrong = Vec::new();
    for f in template.functions() {
        let policy = &template.resources[&f.logical_id].properties;
        for sid in iam::publish_on_any_resource(policy) {
            wrong.push(format!("{}: {sid} allows sns:Publish on \"*\" (use NotResource for SMS)", f.logical_id));
        }
        for topic in &topics {
            let named = f.env.values().any(|v| v == topic);
            if iam::allows(policy, &publish(topic)) && !named {
                wrong.push(format!("{}: may publish to {topic}, which its environment does not name", f.logical_id));
            }
        }
        // A topic elsewhere (another stack, another account) is no function's either.
        if iam::allows(policy, &publish("arn:aws:sns:us-east-1:999999999999:elsewhere")) {
            wrong.push(format!("{}: may publish to any topic", f.logical_id));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The functions that text can still text a phone number.
    let missed_call = &template.resources["MissedCallFunction"].properties;
    assert!(iam::allows(missed_call, &publish("*")), "SMS to a phone number");

    // The inbox: its own writes, yes; a store's config or a lead address's pointer, no.
    let table = format!("arn:aws:dynamodb:us-east-1:123456789012:table/{}", template.name_of("CustomerTable").unwrap());
    let inbox = &template.resources["StaffInboxFunction"].properties;
    let write =
        |action: &'static str, pk: &str| iam::Request { action, resource: &table, leading_keys: vec![pk.into()] };
    for action in ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"] {
        assert!(iam::allows(inbox, &write(action, "CUST#northside-chevy#+15125550142")), "{action} on a customer");
        for pk in ["STORES", "LEADTO#leads@northside.example", "NUMBER#+15125550100", "STAFF#a-sub"] {
            assert!(!iam::allows(inbox, &write(action, pk)), "the inbox may {action} {pk}");
        }
    }
    assert!(iam::allows(inbox, &write("dynamodb:GetItem", "STORES")), "it still reads the stores");
}
