//! `custops doctor [--store S] [--json]` (CONTRACT.md section 15): what the
//! stack it talks to still lacks to serve a store, one line per check, with
//! the command that mends it. What it cannot see from where it runs is
//! named `unchecked`, with the command that shows it; the exit status is 0
//! only when nothing is `missing`. Operators run it after every step of
//! the deploy runbook (docs/deploying.md).

use serde::Serialize;

use crate::commands::{topic_arns, Target};
use crate::BoxError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Missing,
    Unchecked,
}

/// One check: what, how it stands, and the command that mends (or, when
/// unchecked, shows) it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub check: String,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn ok(check: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { check: check.into(), status: Status::Ok, detail: detail.into(), fix: None }
    }

    fn missing(check: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { check: check.into(), status: Status::Missing, detail: detail.into(), fix: Some(fix.into()) }
    }

    fn unchecked(check: impl Into<String>, detail: impl Into<String>, how: impl Into<String>) -> Self {
        Self { check: check.into(), status: Status::Unchecked, detail: detail.into(), fix: Some(how.into()) }
    }

    /// The line `custops doctor` prints.
    pub fn line(&self) -> String {
        let status = match self.status {
            Status::Ok => "ok",
            Status::Missing => "MISSING",
            Status::Unchecked => "unchecked",
        };
        match &self.fix {
            Some(fix) => format!("{status:<9} {}: {} -> {fix}", self.check, self.detail),
            None => format!("{status:<9} {}: {}", self.check, self.detail),
        }
    }
}

/// Whether every check holds (none missing; unchecked ones are named, not failed).
pub fn healthy(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.status != Status::Missing)
}

/// Every check of the stack and of `store` (or of every store).
/// `sender`: the deploy's `ReportSender` (locally the local stack's).
pub async fn doctor(target: &Target, store: Option<&str>, sender: Option<&str>) -> Result<Vec<Check>, BoxError> {
    let listed = target.table.list_stores().await;
    let mut checks = stack(target, listed.is_ok()).await;
    let Ok(stores) = listed else {
        return Ok(checks);
    };
    let chosen: Vec<_> = stores.iter().filter(|s| store.is_none_or(|id| s.store_id == id)).collect();
    if chosen.is_empty() {
        let which = store.map(|s| format!("no store {s:?}")).unwrap_or_else(|| "no store yet".into());
        let file = store.unwrap_or("STORE");
        checks.push(Check::missing("store", which, format!("custops store put {file}.json")));
    }
    for s in &chosen {
        checks.extend(store_checks(target, s, sender).await?);
    }
    checks.extend(account(target).await);
    Ok(checks)
}

/// The stack's resources: its table, topics and queues, by the names the
/// template gives them (with `CUSTOPS_RESOURCE_PREFIX`).
/// `table`: whether the table answered (the stores were read from it).
async fn stack(target: &Target, table: bool) -> Vec<Check> {
    let mut out = Vec::new();
    let deploy = "sam deploy (docs/deploying.md, step 4)";
    if table {
        out.push(Check::ok("stack: table", target.table.name().to_owned()));
    } else {
        out.push(Check::missing("stack: table", format!("no table {}", target.table.name()), deploy));
    }
    match topic_arns(target).await {
        Ok(found) => {
            let missing: Vec<&String> = found.iter().filter(|(_, arn)| arn.is_none()).map(|(name, _)| name).collect();
            if missing.is_empty() {
                out.push(Check::ok("stack: topics", format!("{} topics", found.len())));
            } else {
                let names: Vec<&str> = missing.iter().map(|n| n.as_str()).collect();
                out.push(Check::missing("stack: topics", format!("no topic {}", names.join(", ")), deploy));
            }
        }
        Err(e) => out.push(Check::missing("stack: topics", format!("SNS did not answer: {e}"), deploy)),
    }
    let mut queues = 0;
    let mut absent = Vec::new();
    for q in target.template.of_type("AWS::SQS::Queue") {
        let Some(name) = target.template.name_of(&q.logical_id) else { continue };
        match target.sqs.get_queue_url().queue_name(&name).send().await {
            Ok(_) => queues += 1,
            Err(_) => absent.push(name),
        }
    }
    if absent.is_empty() {
        out.push(Check::ok("stack: queues", format!("{queues} queues")));
    } else {
        out.push(Check::missing("stack: queues", format!("no queue {}", absent.join(", ")), deploy));
    }
    out
}

/// What one store needs: its config, webhook secret, lead senders, report
/// recipients and sender, staff and their alerts, its number's two-way channel.
async fn store_checks(
    target: &Target,
    store: &custops::StoreConfig,
    sender: Option<&str>,
) -> Result<Vec<Check>, BoxError> {
    let id = &store.store_id;
    let mut out = Vec::new();
    let name = |what: &str| format!("{id}: {what}");
    match store.check_windows() {
        Ok(()) => out.push(Check::ok(name("config"), format!("{} ({})", store.name, store.timezone))),
        Err(e) => out.push(Check::missing(name("config"), e.join("; "), format!("custops store put {id}.json"))),
    }
    let secret = front_door::secret_name(id);
    match target.secrets.get_secret_value().secret_id(&secret).send().await {
        Ok(v) => {
            let keys = v
                .secret_string()
                .and_then(|s| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(s).ok())
                .map(|m| m.keys().cloned().collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            out.push(Check::ok(name("webhook secret"), format!("{secret} ({keys})")));
        }
        Err(_) => out.push(Check::missing(
            name("webhook secret"),
            format!("no {secret}: the front door refuses every webhook of the store"),
            format!("custops secrets put --store {id} webhooks.json"),
        )),
    }
    if store.lead_senders.is_empty() {
        out.push(Check::missing(
            name("lead_senders"),
            "none: every lead by mail becomes a task and none is texted",
            format!("add lead_senders to the store's file, then custops store put {id}.json"),
        ));
    } else {
        out.push(Check::ok(name("lead_senders"), store.lead_senders.join(", ")));
    }
    if store.report_to.is_empty() {
        out.push(Check::missing(
            name("report_to"),
            "none: the 06:00 report is mailed to nobody",
            format!("add report_to to the store's file, then custops store put {id}.json"),
        ));
    } else {
        out.push(Check::ok(name("report_to"), store.report_to.join(", ")));
    }
    out.push(report_sender(target, sender).await);
    out.extend(staff(target, id).await?);
    out.push(Check::unchecked(
        name("two-way SMS"),
        format!(
            "whether {}'s two-way channel points at inbound-sms (AWS End User Messaging, which doctor does not call)",
            store.sms_number.masked()
        ),
        "aws pinpoint-sms-voice-v2 describe-phone-numbers --query \"PhoneNumbers[].[PhoneNumber,TwoWayEnabled,TwoWayChannelArn]\"",
    ));
    Ok(out)
}

/// The deploy's report sender: verified for sending in SES.
async fn report_sender(target: &Target, sender: Option<&str>) -> Check {
    let check = "report sender";
    let Some(sender) = sender else {
        return Check::unchecked(
            check,
            "which address the deploy mails the report from (ReportSender)",
            "custops doctor --from ADDR (or CUSTOPS_REPORT_SENDER)",
        );
    };
    let domain = sender.rsplit('@').next().unwrap_or_default();
    for identity in [sender, domain] {
        if let Ok(found) = target.ses.get_email_identity().email_identity(identity).send().await {
            if found.verified_for_sending_status() {
                return Check::ok(check, format!("{sender} (verified as {identity})"));
            }
            // The emulator sends from any identity it has and verifies none.
            if target.endpoint.is_some() {
                return Check::ok(check, format!("{sender} (an identity of the emulator, which verifies none)"));
            }
        }
    }
    Check::missing(
        check,
        format!("{sender} is not verified for sending in SES: no report goes by mail"),
        format!("aws sesv2 create-email-identity --email-identity {domain} (then publish its DKIM records)"),
    )
}

/// Who works the store's tasks, and who is told of them.
async fn staff(target: &Target, store_id: &str) -> Result<Vec<Check>, BoxError> {
    let people = crate::staff::list(target, store_id).await?;
    let check = format!("{store_id}: staff");
    if people.is_empty() {
        return Ok(vec![Check::missing(
            check,
            "nobody signs in to the inbox for this store",
            format!("custops staff add --store {store_id} --email ADDR --teams TEAM --alerts sms:+1..."),
        )]);
    }
    let alerted: Vec<&str> = people.iter().filter(|p| p.alerts.is_some()).map(|p| p.email.as_str()).collect();
    let managers = people.iter().filter(|p| p.manager).count();
    let mut out = vec![Check::ok(check, format!("{} people, {managers} manager(s)", people.len()))];
    let alerts = format!("{store_id}: staff alerts");
    if alerted.is_empty() {
        out.push(Check::missing(
            alerts,
            "nobody is told of a new or escalated task",
            format!(
                "custops staff add --store {store_id} --email ADDR --teams TEAM --alerts sms:+1... (or email:ADDR)"
            ),
        ));
    } else {
        out.push(Check::ok(alerts, alerted.join(", ")));
    }
    Ok(out)
}

/// The account's SMS settings: a spend limit above a new account's $1 and
/// delivery-status logging (the receipts).
async fn account(target: &Target) -> Vec<Check> {
    // Every attribute (the emulator filters by the first name asked alone).
    let attributes = target.sns.get_sms_attributes().send().await;
    let Ok(attributes) = attributes else {
        return vec![Check::unchecked(
            "sms settings",
            "SNS did not answer GetSMSAttributes",
            "aws sns get-sms-attributes",
        )];
    };
    let get = |k: &str| attributes.attributes().and_then(|a| a.get(k)).map(String::as_str).filter(|v| !v.is_empty());
    let mut out = Vec::new();
    match get("MonthlySpendLimit").and_then(|v| v.parse::<u64>().ok()) {
        Some(usd) if usd > 1 => out.push(Check::ok("sms spend limit", format!("${usd} a month"))),
        other => out.push(Check::missing(
            "sms spend limit",
            format!(
                "{}: a new account may spend $1 a month on SMS (about 100 segments)",
                other.map(|v| format!("${v}")).unwrap_or_else(|| "not set".into())
            ),
            "raise the SMS spending quota (docs/deploying.md, step 1), then aws sns set-sms-attributes --attributes MonthlySpendLimit=USD",
        )),
    }
    match (get("DeliveryStatusIAMRole"), get("DeliveryStatusSuccessSamplingRate")) {
        (Some(_), Some("100")) => out.push(Check::ok("sms delivery logging", "every text's status is logged")),
        (role, rate) => out.push(Check::missing(
            "sms delivery logging",
            format!(
                "role {}, success sampling {}: receipts never arrive",
                if role.is_some() { "set" } else { "not set" },
                rate.unwrap_or("not set")
            ),
            "aws sns set-sms-attributes (docs/deploying.md, step 5)",
        )),
    }
    out.push(Check::unchecked(
        "sms log subscription filters",
        "whether the two delivery-status log groups feed sms-receipts (the template makes the filters)",
        "aws logs describe-subscription-filters --log-group-name sns/$AWS_REGION/$ACCOUNT/DirectPublishToPhoneNumber",
    ));
    out
}
