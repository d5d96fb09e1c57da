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
        (service, op) => one(format!("{service}:{op}"), false),
    }
}

/// The actions a function's inline policies grant, each with whether a
/// resource of its statement is a secondary index (`.../index/...`).
pub fn granted(function: &Value) -> BTreeSet<Needed> {
    let mut out = BTreeSet::new();
    let statements = function["Policies"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["Statement"].as_array().cloned().unwrap_or_default());
    for statement in statements.filter(|s| s["Effect"] == "Allow") {
        let actions: Vec<String> = match &statement["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
            _ => Vec::new(),
        };
        let resources = match &statement["Resource"] {
            Value::Array(r) => {
                r.iter().map(|x| x.as_str().map(str::to_owned).unwrap_or_else(|| x.to_string())).collect()
            }
            Value::String(r) => vec![r.clone()],
            other => vec![other.to_string()],
        };
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
