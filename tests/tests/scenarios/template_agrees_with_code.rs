//! `infra/template.yaml` and the code agree: the names and environment the
//! functions read are the ones the template defines. No emulator needed.

use std::collections::BTreeSet;

use custops::keys;
use custops_cli::registry;
use custops_cli::template::{Placement, Template, TEMPLATE};
use serde_json::Value;

fn template() -> Template {
    Template::parse(TEMPLATE, &Placement::local("http://127.0.0.1:1")).expect("template parses")
}

#[test]
fn every_function_has_code_and_reads_exactly_the_environment_the_template_sets() {
    let t = template();
    let functions = t.functions();
    assert!(!functions.is_empty());
    let names: BTreeSet<&str> = functions.iter().map(|f| f.binary.as_str()).collect();
    for r in registry::FUNCTIONS {
        assert!(names.contains(r.name), "{} is in the registry but not deployed by the template", r.name);
    }
    for f in functions {
        let code = registry::find(&f.binary)
            .unwrap_or_else(|| panic!("{} (binary {:?}) has no code in the registry", f.logical_id, f.binary));
        assert_eq!(code.scheduled, f.scheduled, "{}: scheduled in the template and in the code", f.logical_id);
        let read: BTreeSet<&str> = code.env.iter().copied().collect();
        let set: BTreeSet<&str> = f.env.keys().map(String::as_str).collect();
        assert_eq!(read, set, "{}: variables the code reads vs the template sets", f.logical_id);
        assert!(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../functions")
            .join(&f.binary)
            .join("Cargo.toml")
            .exists());
    }
}

#[test]
fn env_values_point_at_the_templates_own_table_and_each_functions_own_dlq() {
    let t = template();
    let table = t.of_type("AWS::DynamoDB::Table").next().expect("one table");
    assert_eq!(t.of_type("AWS::DynamoDB::Table").count(), 1, "one customer table");
    let table_name = t.name_of(&table.logical_id).unwrap();
    for f in t.functions() {
        assert_eq!(f.env[custops::env::TABLE_NAME], table_name);
        let Some((queue, batch)) = f.queue.clone() else {
            assert!(
                f.scheduled || f.http || f.logs,
                "{}: neither SQS-fed, scheduled, behind the HTTP API nor fed by a log subscription",
                f.logical_id
            );
            if f.logs {
                // Invoked asynchronously: what fails after Lambda's retries goes to its DLQ.
                let dlq = t.resources[&f.logical_id].properties.pointer("/DeadLetterQueue/TargetArn");
                assert!(dlq.is_some(), "{}: an asynchronous function without a DLQ", f.logical_id);
            }
            continue;
        };
        assert!(batch <= 10);
        let dlq = t.dlq_of(&queue).expect("the queue has a redrive policy");
        assert_eq!(
            f.env[custops::env::DLQ_URL],
            format!("http://127.0.0.1:1/123456789012/{}", t.name_of(&dlq).unwrap())
        );
        let max: u32 = f.env[custops::env::MAX_RECEIVE_COUNT].parse().unwrap();
        let redrive = &t.resources[&queue].properties["RedrivePolicy"]["maxReceiveCount"];
        assert_eq!(
            redrive.as_str().map(|s| s.parse::<u32>().unwrap()).or(redrive.as_u64().map(|n| n as u32)),
            Some(max)
        );
    }
}

#[test]
fn queues_give_the_function_six_times_its_timeout_and_report_batch_item_failures() {
    let t = template();
    let yaml: serde_norway::Value = serde_norway::from_str(TEMPLATE).unwrap();
    let timeout = yaml["Globals"]["Function"]["Timeout"].as_u64().unwrap();
    for f in t.functions().into_iter().filter(|f| f.queue.is_some()) {
        let (queue, _) = f.queue.unwrap();
        let visibility = t.resources[&queue].properties["VisibilityTimeout"].as_u64().unwrap();
        assert!(visibility >= 6 * timeout, "{queue}: {visibility}s < 6 x {timeout}s");
        let events = &t.resources[&f.logical_id].properties["Events"];
        let sqs = events.as_object().unwrap().values().find(|e| e["Type"] == "SQS").unwrap();
        assert_eq!(sqs["Properties"]["FunctionResponseTypes"], serde_json::json!(["ReportBatchItemFailures"]));
    }
}

#[test]
fn the_contracts_topics_exist_and_subscriptions_filter_on_event_type_with_raw_delivery() {
    let t = template();
    let topics: BTreeSet<String> = t.of_type("AWS::SNS::Topic").filter_map(|r| t.name_of(&r.logical_id)).collect();
    for name in ["carrier-events", "dms-events", "inbound-sms", "lead-email"] {
        assert!(topics.contains(name), "topic {name}");
    }
    for s in t.of_type("AWS::SNS::Subscription").filter(|s| s.properties["Protocol"] == "sqs") {
        assert_eq!(s.properties["RawMessageDelivery"], Value::Bool(true), "{}", s.logical_id);
        // Carrier and DMS topics carry many event types: each queue takes its own.
        // inbound-sms and lead-email carry one kind of payload each, without the attribute.
        let topic = s.properties["TopicArn"].as_str().unwrap();
        if !topic.ends_with(":inbound-sms") && !topic.ends_with(":lead-email") {
            assert!(s.properties["FilterPolicy"]["event_type"].is_array(), "{}", s.logical_id);
        }
    }
    // The missed-call queue hears call.missed and call.answered from carrier-events.
    let sub = t.resources.get("MissedCallSubscription").unwrap();
    assert!(sub.properties["TopicArn"].as_str().unwrap().ends_with(":carrier-events"));
    assert_eq!(sub.properties["FilterPolicy"]["event_type"], serde_json::json!(["call.missed", "call.answered"]));
    // Every event type custops takes reaches a queue that handles it.
    let filtered: BTreeSet<String> = t
        .of_type("AWS::SNS::Subscription")
        .filter_map(|s| s.properties["FilterPolicy"]["event_type"].as_array().cloned())
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    for event_type in [
        "call.missed",
        "call.answered",
        "ro.status_changed",
        "ro.closed",
        "deal.delivered",
        "deal.unwound",
        "appointment.booked",
        "appointment.missed",
        "appointment.cancelled",
    ] {
        assert!(custops::event::topic_for(event_type).is_some(), "{event_type} is taken");
        assert!(filtered.contains(event_type), "no queue hears {event_type}");
    }
}

#[test]
fn the_tables_keys_indexes_and_ttl_are_the_ones_keys_rs_writes() {
    let t = template();
    let table = t.of_type("AWS::DynamoDB::Table").next().unwrap();
    let p = &table.properties;
    let key_names: Vec<&str> =
        p["KeySchema"].as_array().unwrap().iter().map(|k| k["AttributeName"].as_str().unwrap()).collect();
    assert_eq!(key_names, [keys::PK, keys::SK]);
    let gsis = p["GlobalSecondaryIndexes"].as_array().unwrap();
    assert_eq!(gsis.len(), keys::INDEXES.len());
    for index in keys::INDEXES {
        let g = gsis.iter().find(|g| g["IndexName"] == index.name).unwrap_or_else(|| panic!("index {}", index.name));
        let names: Vec<&str> =
            g["KeySchema"].as_array().unwrap().iter().map(|k| k["AttributeName"].as_str().unwrap()).collect();
        assert_eq!(names, [index.pk, index.sk]);
    }
    assert_eq!(p["TimeToLiveSpecification"]["AttributeName"], keys::TTL_ATTRIBUTE);
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
}

/// `cargo artifacts` builds `deploy`, which adds nothing to `release`: a
/// `cargo build --release` of a function is what is deployed.
#[test]
fn the_deploy_profile_is_the_release_profile() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml")).unwrap();
    let section = |name: &str| -> Vec<String> {
        manifest
            .lines()
            .skip_while(|l| l.trim() != name)
            .skip(1)
            .take_while(|l| !l.trim_start().starts_with('['))
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(section("[profile.deploy]"), ["inherits = \"release\""]);
    let release = section("[profile.release]");
    for setting in ["opt-level = \"s\"", "lto = false", "codegen-units = 1", "strip = true"] {
        assert!(release.iter().any(|l| l == setting), "release lacks {setting}: {release:?}");
    }
}

/// What SAM deploys is the one build `cargo artifacts` makes: every
/// function's `CodeUri` is its zip, nothing in the template builds again,
/// and the functions are the workspace's function crates.
#[test]
fn every_function_deploys_the_zip_cargo_artifacts_builds() {
    let t = template();
    let mut sam: Vec<String> = Vec::new();
    for f in t.functions() {
        let r = &t.resources[&f.logical_id];
        assert!(r.metadata.get("BuildMethod").is_none(), "{}: SAM must not build it again", f.logical_id);
        assert_eq!(r.properties["CodeUri"], format!("../target/lambda/{}/bootstrap.zip", f.binary), "{}", f.logical_id);
        assert!(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions").join(&f.binary).is_dir(),
            "{}: no crate functions/{}",
            f.logical_id,
            f.binary
        );
        sam.push(f.binary);
    }
    let mut artifacts = custops_dev::artifacts::functions().unwrap();
    let mut registry: Vec<String> = registry::FUNCTIONS.iter().map(|r| r.name.to_owned()).collect();
    sam.sort();
    artifacts.sort();
    registry.sort();
    assert_eq!(sam, artifacts);
    assert_eq!(sam, registry);
    // The deploy tool is pinned with every dependency.
    assert!(custops_dev::artifacts::DEPLOY_REQUIREMENTS.lines().any(|l| l.starts_with("aws-sam-cli==")));
    assert!(custops_dev::artifacts::DEPLOY_REQUIREMENTS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .all(|l| l.contains("==")));
}

/// The daily report counts what waits in every DLQ: a function added
/// without adding its DLQ to `DLQ_URLS` would hide its failures from the GM.
#[test]
fn the_daily_report_counts_every_dead_letter_queue() {
    let t = template();
    let report = t.functions().into_iter().find(|f| f.binary == "daily-report").expect("daily-report");
    let listed: BTreeSet<String> = report.env[custops::env::DLQ_URLS].split(',').map(str::to_owned).collect();
    let dlqs: BTreeSet<String> = t
        .of_type("AWS::SQS::Queue")
        .filter_map(|q| t.dlq_of(&q.logical_id))
        .map(|dlq| format!("http://127.0.0.1:1/123456789012/{}", t.name_of(&dlq).unwrap()))
        .collect();
    assert_eq!(listed, dlqs);
    assert!(report.scheduled);
}

/// Least privilege and encryption, beyond what checkov checks: no IAM action
/// with a wildcard; a wildcard resource only for what has no resource ARN
/// (SMS to phone numbers, and the account's SMS settings read at warm-up);
/// the table, every queue and every topic encrypted at rest.
#[test]
fn iam_is_least_privilege_and_everything_is_encrypted_at_rest() {
    let t = template();
    for f in t.of_type("AWS::Serverless::Function") {
        let policies = f.properties["Policies"].as_array().expect("inline policies");
        for statement in policies.iter().flat_map(|p| p["Statement"].as_array().cloned().unwrap_or_default()) {
            let actions: Vec<String> = match &statement["Action"] {
                Value::String(a) => vec![a.clone()],
                Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
                other => panic!("{}: Action {other}", f.logical_id),
            };
            for a in &actions {
                assert!(!a.contains('*') || a.ends_with(":GenerateDataKey*"), "{}: wildcard action {a}", f.logical_id);
            }
            let resources: Vec<String> = match &statement["Resource"] {
                Value::String(r) => vec![r.clone()],
                Value::Array(r) => {
                    r.iter().map(|x| x.as_str().map(str::to_owned).unwrap_or_else(|| x.to_string())).collect()
                }
                other => vec![other.to_string()],
            };
            if resources.iter().any(|r| r == "*") {
                let sms_only = actions.iter().all(|a| a == "sns:Publish" || a == "sns:GetSMSAttributes");
                assert!(sms_only, "{}: a wildcard resource for {actions:?}", f.logical_id);
            }
        }
    }
    let table = t.of_type("AWS::DynamoDB::Table").next().unwrap();
    assert_eq!(table.properties["SSESpecification"]["SSEEnabled"], true);
    for q in t.of_type("AWS::SQS::Queue") {
        let p = &q.properties;
        assert!(p["SqsManagedSseEnabled"] == true || !p["KmsMasterKeyId"].is_null(), "{} encrypted", q.logical_id);
    }
    for topic in t.of_type("AWS::SNS::Topic") {
        assert!(!topic.properties["KmsMasterKeyId"].is_null(), "{} encrypted", topic.logical_id);
    }
}
