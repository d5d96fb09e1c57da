//! The IAM actions an AWS request is authorised as, so the actions each
//! function really uses can be derived from the requests it makes (the local
//! stack signs each function's requests with its own name) and held to its
//! policy in `infra/template.yaml`. The emulator checks no policy; AWS does.
//!
//! IAM authorises most calls as the action of the same name, with these
//! exceptions (AWS's service authorization reference):
//! - every item of a DynamoDB `TransactWriteItems` as its own action: `Put`
//!   as `dynamodb:PutItem`, `Update` as `UpdateItem`, `Delete` as
//!   `DeleteItem`, `ConditionCheck` as `ConditionCheckItem`;
//!   `TransactGetItems` items as `GetItem`;
//! - SQS's batch calls as their single-message actions (`SendMessageBatch`
//!   as `sqs:SendMessage`, `DeleteMessageBatch` as `DeleteMessage`,
//!   `ChangeMessageVisibilityBatch` as `ChangeMessageVisibility`).

use std::collections::BTreeSet;

use serde_json::Value;

use custops_local::emulator::AwsCall;

/// One IAM action a request needs, and whether it reads a secondary index
/// (whose ARN, `table/.../index/...`, the policy must grant apart from the table's).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Needed {
    pub action: String,
    pub on_index: bool,
}

/// Operations AWS does not authorise with IAM at all (public APIs a client
/// calls with a user's own credentials): Cognito's sign-in. Amazon Cognito
/// "doesn't evaluate IAM policies in requests for this API operation".
pub const UNAUTHENTICATED: &[(&str, &str)] =
    &[("cognito-idp", "InitiateAuth"), ("cognito-idp", "RespondToAuthChallenge")];

/// What IAM authorises `call` (with its JSON or form `body`) as (nothing,
/// for an [`UNAUTHENTICATED`] operation).
pub fn actions_of(call: &AwsCall, body: &str) -> BTreeSet<Needed> {
    if UNAUTHENTICATED.contains(&(call.service.as_str(), call.operation.as_str())) {
        return BTreeSet::new();
    }
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let one = |action: String, on_index: bool| BTreeSet::from([Needed { action, on_index }]);
    let service = call.service.as_str();
    match (service, call.operation.as_str()) {
        ("dynamodb", "TransactWriteItems") => json["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| item.as_object()?.keys().next().cloned())
            .map(|kind| Needed {
                action: match kind.as_str() {
                    "ConditionCheck" => "dynamodb:ConditionCheckItem".to_owned(),
                    other => format!("dynamodb:{other}Item"),
                },
                on_index: false,
            })
            .collect(),
        ("dynamodb", "TransactGetItems") => one("dynamodb:GetItem".into(), false),
        ("dynamodb", op) => one(format!("dynamodb:{op}"), json.get("IndexName").is_some_and(|i| !i.is_null())),
        ("sqs", op) => one(format!("sqs:{}", op.strip_suffix("Batch").unwrap_or(op)), false),
        // PublishBatch is authorised as sns:Publish, one per message.
        ("sns", "PublishBatch") => one("sns:Publish".into(), false),
        (service, op) => one(format!("{service}:{op}"), false),
    }
}

/// Every statement of a function's inline policies.
fn statements(function: &Value) -> Vec<Value> {
    function["Policies"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["Statement"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// A policy field that is one string or a list of them (`Action`,
/// `Resource`, `NotResource`, a condition's values); anything else as its JSON.
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Null => Vec::new(),
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => {
            items.iter().map(|x| x.as_str().map(str::to_owned).unwrap_or_else(|| x.to_string())).collect()
        }
        other => vec![other.to_string()],
    }
}

/// IAM's wildcard match (`*` any run, `?` one character; case-sensitive,
/// as for resources; actions are compared lower-cased by the caller).
pub fn wildcard(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    let (mut pi, mut vi, mut star, mut mark) = (0, 0, None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// What a request is authorised on: its action, its resource's ARN (`*` for
/// one with none, as SMS Publish to a phone number), and the partition keys
/// it writes (DynamoDB's `dynamodb:LeadingKeys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub leading_keys: Vec<String>,
}

/// Whether a statement's conditions hold for `request`. Only the condition
/// this template scopes writes with is evaluated (`dynamodb:LeadingKeys`);
/// any other is taken as `unknown`.
fn condition_holds(statement: &Value, request: &Request<'_>, unknown: bool) -> bool {
    let Some(conditions) = statement["Condition"].as_object() else { return true };
    conditions.iter().all(|(operator, keys)| {
        keys.as_object().into_iter().flatten().all(|(key, values)| {
            let patterns = strings(values);
            if key != "dynamodb:LeadingKeys" {
                return unknown;
            }
            let like = |k: &String| patterns.iter().any(|p| wildcard(p, k));
            let equals = |k: &String| patterns.iter().any(|p| p == k);
            match operator.as_str() {
                "ForAnyValue:StringLike" => request.leading_keys.iter().any(like),
                "ForAnyValue:StringEquals" => request.leading_keys.iter().any(equals),
                "ForAllValues:StringLike" => request.leading_keys.iter().all(like),
                "ForAllValues:StringEquals" => request.leading_keys.iter().all(equals),
                _ => unknown,
            }
        })
    })
}

/// Whether a statement applies to `request` (action, resource or
/// not-resource, conditions; an unknown condition counts as `unknown`).
fn applies(statement: &Value, request: &Request<'_>, unknown: bool) -> bool {
    let action = request.action.to_lowercase();
    let acts = strings(&statement["Action"]).iter().any(|a| wildcard(&a.to_lowercase(), &action));
    let on = if statement.get("NotResource").is_some_and(|r| !r.is_null()) {
        !strings(&statement["NotResource"]).iter().any(|r| wildcard(r, request.resource))
    } else {
        strings(&statement["Resource"]).iter().any(|r| wildcard(r, request.resource))
    };
    acts && on && condition_holds(statement, request, unknown)
}

/// Whether a function's inline policies allow `request`, as IAM evaluates
/// them: an explicit `Deny` that applies wins, else an `Allow` that applies.
/// Conditions other than `dynamodb:LeadingKeys` are assumed to hold for an
/// Allow and not to for a Deny: the answer errs towards "allowed", so a
/// `false` is a proof that the function cannot.
pub fn allows(function: &Value, request: &Request<'_>) -> bool {
    let all = statements(function);
    let denied = all.iter().filter(|s| s["Effect"] == "Deny").any(|s| applies(s, request, false));
    !denied && all.iter().filter(|s| s["Effect"] == "Allow").any(|s| applies(s, request, true))
}

/// The statements (by `Sid`, else their position) that allow `sns:Publish`
/// on `Resource: "*"`: publishing to any topic. None may.
pub fn publish_on_any_resource(function: &Value) -> Vec<String> {
    statements(function)
        .iter()
        .enumerate()
        .filter(|(_, s)| s["Effect"] == "Allow")
        .filter(|(_, s)| strings(&s["Action"]).iter().any(|a| wildcard(&a.to_lowercase(), "sns:publish")))
        .filter(|(_, s)| strings(&s["Resource"]).iter().any(|r| r == "*"))
        .map(|(i, s)| s["Sid"].as_str().map_or_else(|| format!("statement {i}"), str::to_owned))
        .collect()
}

/// What a recorded request is authorised on, beyond its action: the topic
/// of an SNS Publish (`*` for a phone number), the partition keys of a
/// DynamoDB write (each item of a transaction its own request).
pub fn requests_of(call: &AwsCall, body: &str, table_arn: &str) -> Vec<(String, String, Vec<String>)> {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let pk = |v: &Value| v["pk"]["S"].as_str().map(str::to_owned).into_iter().collect::<Vec<_>>();
    match (call.service.as_str(), call.operation.as_str()) {
        ("sns", "Publish") => {
            let topic = form_value(body, "TopicArn").or_else(|| form_value(body, "TargetArn"));
            vec![("sns:Publish".into(), topic.unwrap_or_else(|| "*".into()), Vec::new())]
        }
        ("sns", "PublishBatch") => {
            vec![("sns:Publish".into(), form_value(body, "TopicArn").unwrap_or_else(|| "*".into()), Vec::new())]
        }
        ("dynamodb", "PutItem") => vec![("dynamodb:PutItem".into(), table_arn.into(), pk(&json["Item"]))],
        ("dynamodb", op @ ("UpdateItem" | "DeleteItem")) => {
            vec![(format!("dynamodb:{op}"), table_arn.into(), pk(&json["Key"]))]
        }
        ("dynamodb", "TransactWriteItems") => json["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| {
                let (kind, inner) = item.as_object()?.iter().next()?;
                let keys = if kind == "Put" { pk(&inner["Item"]) } else { pk(&inner["Key"]) };
                let action = match kind.as_str() {
                    "ConditionCheck" => "dynamodb:ConditionCheckItem".to_owned(),
                    other => format!("dynamodb:{other}Item"),
                };
                Some((action, table_arn.to_owned(), keys))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// One parameter of a form-encoded (SNS query protocol) body.
fn form_value(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The actions a function's inline policies grant, each with whether a
/// resource of its statement is a secondary index (`.../index/...`). A
/// `NotResource` statement grants its actions (on what it does not exclude).
pub fn granted(function: &Value) -> BTreeSet<Needed> {
    let mut out = BTreeSet::new();
    for statement in statements(function).into_iter().filter(|s| s["Effect"] == "Allow") {
        let actions: Vec<String> = match &statement["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
            _ => Vec::new(),
        };
        let resources = strings(&statement["Resource"]);
        let index = resources.iter().any(|r| r.contains("/index/") || r == "*");
        for action in actions {
            out.insert(Needed { action: action.clone(), on_index: false });
            if index {
                out.insert(Needed { action, on_index: true });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(service: &str, operation: &str) -> AwsCall {
        AwsCall { service: service.into(), operation: operation.into() }
    }

    #[test]
    fn each_item_of_a_transaction_is_authorised_as_its_own_action() {
        let body = r#"{"TransactItems":[{"Put":{}},{"Update":{}},{"ConditionCheck":{}},{"Delete":{}},{"Put":{}}]}"#;
        let actions: Vec<String> =
            actions_of(&call("dynamodb", "TransactWriteItems"), body).into_iter().map(|n| n.action).collect();
        assert_eq!(
            actions,
            ["dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        );
        let batch = actions_of(&call("sqs", "SendMessageBatch"), "{}");
        assert_eq!(batch.into_iter().next().unwrap().action, "sqs:SendMessage");
        let query = actions_of(&call("dynamodb", "Query"), r#"{"IndexName":"gsi2"}"#);
        assert!(query.into_iter().next().unwrap().on_index);
        let publish = actions_of(&call("sns", "Publish"), "Action=Publish");
        assert_eq!(publish.into_iter().next().unwrap().action, "sns:Publish");
    }

    #[test]
    fn sms_is_allowed_by_not_resource_and_a_topic_only_by_name() {
        let f = serde_json::json!({"Policies": [{"Statement": [
            {"Sid": "SendSms", "Effect": "Allow", "Action": "sns:Publish", "NotResource": "arn:aws:sns:*:*:*"},
            {"Sid": "StaffAlerts", "Effect": "Allow", "Action": "sns:Publish",
             "Resource": "arn:aws:sns:us-east-1:1:custops-staff-alerts"}
        ]}]});
        let publish = |resource| Request { action: "sns:Publish", resource, leading_keys: Vec::new() };
        assert!(allows(&f, &publish("*")), "a phone number");
        assert!(allows(&f, &publish("arn:aws:sns:us-east-1:1:custops-staff-alerts")));
        assert!(!allows(&f, &publish("arn:aws:sns:us-east-1:1:custops-inbound-sms")), "a topic not named");
        assert!(!allows(&f, &publish("arn:aws:sns:eu-west-1:2:elsewhere")));
        assert!(!allows(&f, &Request { action: "sns:Subscribe", resource: "*", leading_keys: Vec::new() }));
        assert!(publish_on_any_resource(&f).is_empty());
        let star = serde_json::json!({"Policies": [{"Statement": [
            {"Sid": "SendSms", "Effect": "Allow", "Action": ["sns:Publish", "sns:GetSMSAttributes"], "Resource": "*"}
        ]}]});
        assert_eq!(publish_on_any_resource(&star), ["SendSms"]);
        assert!(allows(&star, &publish("arn:aws:sns:us-east-1:1:custops-inbound-sms")));
        // `granted` still sees the NotResource statement's action.
        assert!(granted(&f).contains(&Needed { action: "sns:Publish".into(), on_index: false }));
    }

    #[test]
    fn a_deny_on_leading_keys_stops_writes_to_those_partitions_only() {
        let table = "arn:aws:dynamodb:us-east-1:1:table/t";
        let f = serde_json::json!({"Policies": [{"Statement": [
            {"Effect": "Deny", "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem"], "Resource": table,
             "Condition": {"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": ["STORES", "LEADTO#*"]}}},
            {"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"],
             "Resource": [table, format!("{table}/index/*")]},
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "k",
             "Condition": {"StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}}}
        ]}]});
        let put = |pk: &str| Request { action: "dynamodb:PutItem", resource: table, leading_keys: vec![pk.into()] };
        assert!(allows(&f, &put("CUST#northside-chevy#+15125550142")));
        assert!(!allows(&f, &put("STORES")));
        assert!(!allows(&f, &put("LEADTO#leads@northside.example")));
        assert!(allows(
            &f,
            &Request { action: "dynamodb:GetItem", resource: table, leading_keys: vec!["STORES".into()] }
        ));
        assert!(allows(&f, &Request { action: "kms:Decrypt", resource: "k", leading_keys: Vec::new() }));
        assert!(wildcard("custops/*/webhooks-??????", "custops/x/webhooks-AbC123"));
        assert!(!wildcard("custops/*/webhooks-??????", "custops/x/webhooks-AbC12"));
    }

    #[test]
    fn recorded_requests_name_their_topic_and_partitions() {
        let table = "arn:aws:dynamodb:us-east-1:1:table/t";
        let topic = actions_of_requests(
            "sns",
            "Publish",
            "Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3Ax&Message=hi",
        );
        assert_eq!(topic, vec![("sns:Publish".into(), "arn:aws:sns:us-east-1:1:x".into(), Vec::new())]);
        let sms = actions_of_requests("sns", "Publish", "Action=Publish&PhoneNumber=%2B15125550142&Message=hi");
        assert_eq!(sms[0].1, "*");
        let tx =
            r#"{"TransactItems":[{"Put":{"Item":{"pk":{"S":"CUST#a"}}}},{"Update":{"Key":{"pk":{"S":"STORES"}}}}]}"#;
        let items = requests_of(&call("dynamodb", "TransactWriteItems"), tx, table);
        assert_eq!(items[0], ("dynamodb:PutItem".into(), table.into(), vec!["CUST#a".into()]));
        assert_eq!(items[1], ("dynamodb:UpdateItem".into(), table.into(), vec!["STORES".into()]));
    }

    fn actions_of_requests(service: &str, op: &str, body: &str) -> Vec<(String, String, Vec<String>)> {
        requests_of(&call(service, op), body, "t")
    }

    #[test]
    fn a_statement_on_the_tables_indexes_grants_index_reads() {
        let f = serde_json::json!({"Policies": [{"Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:Query", "dynamodb:GetItem"],
             "Resource": ["arn:aws:dynamodb:us-east-1:1:table/t", "arn:aws:dynamodb:us-east-1:1:table/t/index/*"]},
            {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "arn:aws:dynamodb:us-east-1:1:table/t"}
        ]}]});
        let g = granted(&f);
        assert!(g.contains(&Needed { action: "dynamodb:Query".into(), on_index: true }));
        assert!(g.contains(&Needed { action: "dynamodb:PutItem".into(), on_index: false }));
        assert!(!g.contains(&Needed { action: "dynamodb:PutItem".into(), on_index: true }));
    }
}
