//! What a real account needs of the template that the emulator never checks
//! (CONTRACT.md section 15): the parameters of a deploy, AWS End User
//! Messaging's right to publish two-way SMS to `inbound-sms` (the topic's
//! policy and its key), and `ResourcePrefix` before every named resource.

use custops_cli::template::{Placement, Template, TEMPLATE};
use serde_json::{json, Value};

fn template_with(prefix: &str) -> Template {
    let mut placement = Placement::local("http://127.0.0.1:1");
    placement.parameters.insert("ResourcePrefix".into(), prefix.into());
    Template::parse(TEMPLATE, &placement).expect("the template parses")
}

#[test]
fn the_deploy_parameters_are_declared_with_their_defaults() {
    let t = template_with("");
    let p = &t.parameters;
    for name in ["PublicBaseUrl", "ReportSender", "StaffMfa", "ResourcePrefix", "Architecture", "SmsLogGroups"] {
        assert!(p.contains_key(name), "parameter {name}");
    }
    assert_eq!(p["Architecture"]["Default"], "arm64");
    assert_eq!(p["Architecture"]["AllowedValues"], json!(["arm64", "x86_64"]));
    assert_eq!(p["StaffMfa"]["AllowedValues"], json!(["OPTIONAL", "ON"]));
    for empty in ["PublicBaseUrl", "ReportSender", "ResourcePrefix"] {
        assert_eq!(p[empty]["Default"], "", "{empty}: empty by default");
    }
    // The daily report mails from the sender, and may send from no other.
    let report = &t.resources["DailyReportFunction"].properties;
    let mail = statement(&report["Policies"][0]["Statement"], "MailReports");
    assert_eq!(mail["Action"], "ses:SendEmail");
    assert_eq!(mail["Condition"]["StringEquals"]["ses:FromAddress"], p["ReportSender"]["Default"]);
}

fn statement<'a>(statements: &'a Value, sid: &str) -> &'a Value {
    statements.as_array().unwrap().iter().find(|s| s["Sid"] == sid).unwrap_or_else(|| panic!("statement {sid}"))
}

#[test]
fn end_user_messaging_may_publish_two_way_sms_to_inbound_sms_and_encrypt_with_its_key() {
    let t = template_with("");
    let topic_arn = "arn:aws:sns:us-east-1:123456789012:inbound-sms";
    let policy = t
        .of_type("AWS::SNS::TopicPolicy")
        .find(|p| p.properties["Topics"] == json!([topic_arn]))
        .expect("a policy on inbound-sms");
    let s = statement(&policy.properties["PolicyDocument"]["Statement"], "AllowEndUserMessagingTwoWaySmsOfThisAccount");
    assert_eq!(s["Effect"], "Allow");
    assert_eq!(s["Principal"]["Service"], "sms-voice.amazonaws.com");
    assert_eq!(s["Action"], "sns:Publish");
    assert_eq!(s["Resource"], topic_arn);
    assert_eq!(s["Condition"]["StringEquals"]["aws:SourceAccount"], "123456789012", "this account's numbers only");
    // The topic is encrypted with TopicKey: End User Messaging needs the key too.
    assert_eq!(t.resources["InboundSmsTopic"].properties["KmsMasterKeyId"], "custops-TopicKey", "Ref TopicKey");
    let key = &t.resources["TopicKey"].properties["KeyPolicy"]["Statement"];
    let publishers = statement(key, "AllowServicePublishers");
    assert!(publishers["Principal"]["Service"].as_array().unwrap().contains(&json!("sms-voice.amazonaws.com")));
    for action in ["kms:Decrypt", "kms:GenerateDataKey*"] {
        assert!(publishers["Action"].as_array().unwrap().contains(&json!(action)), "{action}");
    }
}

/// The name each kind of named resource carries, account- and region-wide.
const NAMED: [(&str, &str); 6] = [
    ("AWS::SNS::Topic", "TopicName"),
    ("AWS::SQS::Queue", "QueueName"),
    ("AWS::DynamoDB::Table", "TableName"),
    ("AWS::CloudWatch::Alarm", "AlarmName"),
    ("AWS::Cognito::UserPool", "UserPoolName"),
    ("AWS::Logs::LogGroup", "LogGroupName"),
];

#[test]
fn resource_prefix_goes_before_every_named_resource_and_none_keeps_the_contracts_names() {
    let plain = template_with("");
    let staging = template_with("staging-");
    let mut checked = 0;
    for (kind, property) in NAMED {
        for r in staging.of_type(kind) {
            let Some(name) = r.properties[property].as_str() else { continue };
            // SNS names its SMS delivery-status log groups itself, one per account.
            if name.starts_with("sns/") {
                continue;
            }
            let bare = name.trim_start_matches("/aws/lambda/").trim_start_matches("/aws/apigateway/");
            assert!(bare.starts_with("staging-"), "{}: {name}", r.logical_id);
            let before = plain.resources[&r.logical_id].properties[property].as_str().unwrap().to_owned();
            assert_eq!(name.replacen("staging-", "", 1), before, "{}", r.logical_id);
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked} named resources");
    for topic in ["carrier-events", "dms-events", "inbound-sms", "lead-email", "staff-alerts", "gm-reports"] {
        assert!(plain.of_type("AWS::SNS::Topic").any(|t| t.properties["TopicName"] == topic), "{topic}");
    }
}

/// `infra/samconfig.example.toml`: copied to `samconfig.toml`, `sam deploy`
/// asks nothing, and every parameter it sets is one the template declares,
/// with an allowed value.
#[test]
fn the_example_samconfig_deploys_without_a_question_and_sets_only_declared_parameters() {
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/samconfig.example.toml")).unwrap();
    let setting = |key: &str| {
        example
            .lines()
            .find_map(|l| {
                l.split_once(" = ")
                    .filter(|(k, _)| k.trim() == key)
                    .map(|(_, v)| v.split(" #").next().unwrap_or(v).trim().to_owned())
            })
            .unwrap_or_else(|| panic!("{key} is set"))
    };
    assert_eq!(setting("confirm_changeset"), "false", "no changeset question");
    assert!(setting("capabilities").contains("CAPABILITY_IAM"), "no capability question");
    assert_eq!(setting("resolve_s3"), "true", "no bucket question");
    assert!(setting("region").starts_with('"') && setting("stack_name") == "\"custops\"");
    let t = template_with("");
    let overrides = setting("parameter_overrides");
    let pairs: Vec<(&str, &str)> =
        overrides.trim_matches('"').split_whitespace().map(|p| p.split_once('=').expect("Name=value")).collect();
    assert!(pairs.iter().any(|(k, _)| *k == "Architecture"), "the deploy check reads it here");
    for (name, value) in pairs {
        let declared = t.parameters.get(name).unwrap_or_else(|| panic!("{name} is not a parameter of the template"));
        if let Some(allowed) = declared["AllowedValues"].as_array() {
            assert!(allowed.contains(&json!(value)), "{name}={value}: not one of {allowed:?}");
        }
    }
}
