//! Operator commands. Each works against the local emulator (`--endpoint`) and
//! against real AWS with the same code.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_sqs::types::MessageAttributeValue;
use custops::batch::{ATTR_FIRST_SENT, ATTR_KIND, ATTR_REASON, FAILURE_ATTRIBUTES};
use custops::model::{Task, TaskOutcome};
use custops::table::Table;
use custops::text::OutboundText;
use custops::{Core, CustomerId, Phone, SharedClock, StoreConfig};
use serde_json::Value;

use crate::template::{Placement, Template, TEMPLATE};
use crate::BoxError;

/// What operator commands talk to.
pub struct Target {
    pub table: Table,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub ses: aws_sdk_sesv2::Client,
    /// The feed bucket's files (`custops feed`).
    pub s3: custops::s3::S3,
    pub template: Template,
    /// The emulator's endpoint; `None`: real AWS.
    pub endpoint: Option<String>,
}

/// The environment variable naming the deploy's `ResourcePrefix`.
pub const RESOURCE_PREFIX: &str = "CUSTOPS_RESOURCE_PREFIX";

impl Target {
    /// `endpoint`: the emulator; `None`: real AWS with the normal credential chain.
    pub async fn new(endpoint: Option<&str>, stack: &str) -> Result<Self, BoxError> {
        Self::connect(endpoint, stack, None).await
    }

    /// Like [`Target::new`], with `timeout` for every DynamoDB and SQS call
    /// instead of the functions' short one: for reading a whole large table
    /// from the emulator, which answers a Query over thousands of items in
    /// seconds (the chaos run's checks).
    pub async fn patient(endpoint: Option<&str>, stack: &str, timeout: Duration) -> Result<Self, BoxError> {
        Self::connect(endpoint, stack, Some(timeout)).await
    }

    async fn connect(endpoint: Option<&str>, stack: &str, timeout: Option<Duration>) -> Result<Self, BoxError> {
        let config = custops::aws::for_endpoint(endpoint).await;
        let clients = match timeout {
            Some(t) => custops::aws::Clients::with_timeouts(&config, t, t),
            None => custops::aws::Clients::new(&config),
        };
        let mut placement = Placement::local(endpoint.unwrap_or(""));
        placement.stack_name = stack.to_owned();
        // The deploy's `ResourcePrefix` (several stacks in one account).
        if let Ok(prefix) = std::env::var(RESOURCE_PREFIX) {
            placement.parameters.insert("ResourcePrefix".into(), prefix);
        }
        if let Some(region) = config.region() {
            placement.region = region.to_string();
        }
        let template = Template::parse(TEMPLATE, &placement)?;
        let table_name = template
            .of_type("AWS::DynamoDB::Table")
            .next()
            .and_then(|t| template.name_of(&t.logical_id))
            .ok_or("the template has no table")?;
        Ok(Self {
            table: Table::new(clients.dynamodb, table_name),
            sqs: clients.sqs,
            sns: clients.sns,
            secrets: aws_sdk_secretsmanager::Client::new(&config),
            cognito: aws_sdk_cognitoidentityprovider::Client::new(&config),
            ses: aws_sdk_sesv2::Client::new(&config),
            s3: custops_local::local::s3_client(&config)?,
            template,
            endpoint: endpoint.map(str::to_owned),
        })
    }

    async fn queue_url(&self, logical_id: &str) -> Result<String, BoxError> {
        let name = self.template.name_of(logical_id).ok_or("queue without a name")?;
        Ok(self.sqs.get_queue_url().queue_name(name).send().await?.queue_url.unwrap_or_default())
    }
}

/// The record SNS's SMS delivery-status logging writes for the text
/// published as `message_id` (CONTRACT.md section 11), and when it is
/// recorded (`at`, else a second after the text went). The number comes
/// from the text, else from the emulator's sent SMS.
/// With `destination`, that number in the record instead of the one the
/// text went to (`custops local receipt --destination`: a record that is
/// not what it seems).
pub async fn receipt_record(
    target: &Target,
    endpoint: &str,
    message_id: &str,
    failed: bool,
    response: Option<&str>,
    at: Option<chrono::DateTime<chrono::Utc>>,
    destination: Option<&str>,
) -> Result<(String, chrono::DateTime<chrono::Utc>), BoxError> {
    let text = target.table.text_by_message_id(message_id).await?;
    let destination = match (destination, &text) {
        (Some(d), _) => Some(d.to_owned()),
        (None, Some(t)) => Some(t.phone.e164().to_owned()),
        (None, None) => crate::emulator::sent_sms(endpoint)
            .await?
            .into_iter()
            .find(|s| s.message_id == message_id)
            .map(|s| s.phone_number),
    };
    let at = at
        .or_else(|| text.as_ref().and_then(|t| t.sent_at).map(|s| s + chrono::Duration::seconds(1)))
        .unwrap_or_else(chrono::Utc::now);
    let segments = text.as_ref().map_or(1, |t| t.segments);
    let sms_type = text.as_ref().map_or("Transactional", |t| t.class.sms_type());
    let response = response.unwrap_or(if failed {
        "Unknown error attempting to reach phone"
    } else {
        "Message has been accepted by phone carrier"
    });
    let mut delivery = serde_json::json!({
        "mnc": 260, "mcc": 310,
        "priceInUSD": 0.00645 * f64::from(segments),
        "smsType": sms_type,
        "providerResponse": response,
        "dwellTimeMs": 599,
    });
    if let Some(d) = destination {
        delivery["destination"] = Value::String(d);
    }
    if !failed {
        // A failure may carry no carrier; a delivery does.
        delivery["phoneCarrier"] = Value::String("T-Mobile".into());
        delivery["dwellTimeMsUntilDeviceAck"] = Value::from(1344);
    }
    let record = serde_json::json!({
        "notification": {"messageId": message_id, "timestamp": at.format("%Y-%m-%d %H:%M:%S%.3f").to_string()},
        "delivery": delivery,
        "status": if failed { "FAILURE" } else { "SUCCESS" },
    });
    Ok((record.to_string(), at))
}

/// The keys a store's webhook secret may hold (CONTRACT section 9).
pub const WEBHOOK_SECRET_KEYS: &[&str] = &["signing_secret", "twilio_auth_token", "ringcentral_verification_token"];

/// `custops secrets put --store S FILE`: the store's webhook secrets, as one
/// JSON object, into Secrets Manager as `custops/{store}/webhooks` (created,
/// or a new version of it). Returns the keys written, never their values.
pub async fn secrets_put(target: &Target, store_id: &str, file: &Path) -> Result<Vec<String>, BoxError> {
    let json = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let value: Value =
        serde_json::from_str(&json).map_err(|_| format!("{}: not a JSON object of strings", file.display()))?;
    let object = value.as_object().ok_or_else(|| format!("{}: not a JSON object", file.display()))?;
    let mut keys = Vec::new();
    for (key, v) in object {
        if !WEBHOOK_SECRET_KEYS.contains(&key.as_str()) {
            return Err(
                format!("{}: unknown key {key:?} (known: {})", file.display(), WEBHOOK_SECRET_KEYS.join(", ")).into()
            );
        }
        if v.as_str().is_none_or(str::is_empty) {
            return Err(format!("{}: {key} must be a non-empty string", file.display()).into());
        }
        keys.push(key.clone());
    }
    custops::event::check_id("store", store_id)?;
    let name = front_door::secret_name(store_id);
    let created = target.secrets.create_secret().name(&name).secret_string(value.to_string()).send().await;
    match created {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_exists_exception()) => {
            target
                .secrets
                .put_secret_value()
                .secret_id(&name)
                .secret_string(value.to_string())
                .send()
                .await
                .map_err(|e| format!("writing {name}: {}", aws_sdk_secretsmanager::error::DisplayErrorContext(&e)))?;
        }
        Err(e) => {
            return Err(format!("creating {name}: {}", aws_sdk_secretsmanager::error::DisplayErrorContext(&e)).into())
        }
    }
    Ok(keys)
}

/// `custops store put FILE`: validates and stores a store configuration.
/// Returns the store and the template warnings (segments, UCS-2); refuses a
/// config whose templates cannot be used.
pub async fn store_put(target: &Target, file: &Path) -> Result<(StoreConfig, Vec<String>), BoxError> {
    let json = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let store = StoreConfig::from_json(&json).map_err(|e| format!("{}: {e}", file.display()))?;
    let refused = |errors: Vec<String>| format!("{}: {}", file.display(), errors.join("; "));
    store.check_windows().map_err(refused)?;
    let warnings = store.check_templates().map_err(refused)?;
    target.table.put_store(&store).await?;
    Ok((store, warnings))
}

/// The store named, or every store.
async fn store_ids(target: &Target, store: Option<&str>) -> Result<Vec<String>, BoxError> {
    Ok(match store {
        Some(s) => vec![s.to_owned()],
        None => target.table.list_stores().await?.into_iter().map(|s| s.store_id).collect(),
    })
}

/// Every outbound text, oldest first, of one store or all.
pub async fn texts(target: &Target, store: Option<&str>) -> Result<Vec<OutboundText>, BoxError> {
    let stores = store_ids(target, store).await?;
    let mut all = Vec::new();
    for s in stores {
        all.extend(target.table.store_texts(&s).await?);
    }
    all.sort_by_key(|t| t.created_at);
    Ok(all)
}

/// Prints a listing as JSON, or a line per item for a person (`none` when empty).
fn print_list<T: serde::Serialize>(items: &[T], json: bool, none: &str, line: impl Fn(&T) -> String) {
    if json {
        println!("{}", serde_json::to_string_pretty(items).unwrap_or_default());
    } else if items.is_empty() {
        println!("{none}");
    } else {
        for item in items {
            println!("{}", line(item));
        }
    }
}

/// An enum's name as serde writes it (`marketing`, `declined_followup`).
fn name_of(value: impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

pub fn print_texts(texts: &[OutboundText], json: bool) {
    if json {
        // Each text as stored, with `message_id` (its Publish's, as the
        // emulator and SNS's delivery records name it) and `delivery`
        // (`delivered`, `failed`, or null before its receipt).
        let out: Vec<Value> = texts
            .iter()
            .map(|t| {
                let mut v = serde_json::to_value(t).unwrap_or_default();
                v["message_id"] = t.sns_message_id.clone().map_or(Value::Null, Value::String);
                v["delivery"] = t.receipt.as_ref().map_or(Value::Null, |r| Value::String(r.status.as_str().into()));
                v
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return;
    }
    print_list(texts, false, "no texts", |t| {
        let delivery = match &t.receipt {
            Some(r) => format!("{} ({})", r.status.as_str(), r.provider_response),
            None => String::new(),
        };
        format!(
            "{}  {:<16} {:<13} {:<13} {:<8}  {}{}",
            t.created_at.format("%Y-%m-%d %H:%M:%SZ"),
            t.store_id,
            t.phone.e164(),
            name_of(t.class),
            name_of(t.state),
            t.body,
            if delivery.is_empty() { String::new() } else { format!("  [{delivery}]") }
        )
    });
}

/// `custops timeline PHONE`: one customer's record and every touchpoint.
pub async fn timeline(target: &Target, phone: &str, store: Option<&str>, json: bool) -> Result<(), BoxError> {
    let phone = record_key(phone)?;
    let stores = store_ids(target, store).await?;
    let mut out = Vec::new();
    for store_id in stores {
        let t = target.table.timeline(&custops::CustomerId::new(&store_id, phone.clone())).await?;
        if t.state.profile.is_none() && t.touchpoints.is_empty() {
            continue;
        }
        if json {
            out.push(serde_json::json!({
                "store_id": store_id,
                "customer": t.state.profile,
                "consent": t.state.consent,
                "repair_orders": t.state.repair_orders,
                "declined": t.state.declined,
                "follow_ups": t.state.follow_ups,
                "tasks": t.state.tasks,
                "household": t.state.household,
                "vehicles": t.state.vehicles,
                "checks": t.state.checks,
                "touchpoints": t.touchpoints,
                "texts": t.texts,
            }));
            continue;
        }
        println!("== {store_id} {}", phone.e164());
        if let Some(c) = &t.state.profile {
            let name =
                [c.first_name.as_deref(), c.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
            println!(
                "customer: {} ({:?}{})",
                if name.is_empty() { "unknown caller" } else { &name },
                c.origin,
                c.dms_id.as_ref().map(|d| format!(", dms {d}")).unwrap_or_default()
            );
        }
        let consent = &t.state.consent;
        let marketing = match (&consent.marketing, &consent.marketing_paused) {
            (_, Some(p)) => {
                format!("marketing paused since {} (until {} is closed)", p.at.format("%Y-%m-%d %H:%MZ"), p.task_id)
            }
            (Some(m), None) if m.granted => format!("marketing consent from {}", m.source),
            _ => "no marketing consent".to_owned(),
        };
        println!("consent: {}; {marketing}", if consent.opted_out() { "OPTED OUT" } else { "may be texted" });
        for c in &consent.history {
            println!("  consent {}  {:<19} {}", c.at.format("%Y-%m-%d %H:%M:%SZ"), c.change, c.source);
        }
        for m in &t.state.household {
            let how = match &m.linked {
                custops::model::LinkedBy::CoBuyer { deal_id } => format!("co-buyer, deal {deal_id}"),
                custops::model::LinkedBy::Person { who } => format!("linked by {who}"),
            };
            println!("household: {} {} ({how})", m.name(), m.member.e164());
        }
        let today = chrono::Utc::now().date_naive();
        for due in t.state.vehicles.iter().flat_map(|v| v.what_is_due(today)) {
            println!("due: {due}");
        }
        for ro in &t.state.repair_orders {
            println!(
                "repair order {}: {} ({}), advisor {}",
                ro.ro_number,
                ro.status,
                ro.vehicle.describe(),
                ro.advisor.name
            );
        }
        for line in &t.state.declined {
            println!(
                "declined on {}: {} ({}), {}: {}",
                line.ro_number,
                line.description,
                line.op_code,
                custops::text::dollars(line.estimate_cents),
                name_of(line.status)
            );
        }
        for step in &t.state.follow_ups {
            println!(
                "follow-up {} step {} (day {}), due {}: {}{}",
                step.ro_number,
                step.step,
                step.days,
                step.due_at,
                name_of(step.status),
                step.outcome.as_ref().map(|o| format!(" ({o})")).unwrap_or_default()
            );
        }
        for task in &t.state.tasks {
            let calls = task.calls.as_ref().map(|c| format!(", calls {}", c.count)).unwrap_or_default();
            println!(
                "task {} {:?} {:?}: owner {}, due {}{calls}",
                task.task_id, task.kind, task.status, task.owner, task.due_at
            );
        }
        for tp in &t.touchpoints {
            println!("{}  {:<16} {}", tp.at.format("%Y-%m-%d %H:%M:%SZ"), tp.kind, tp.summary);
        }
        for tx in &t.texts {
            let by = tx.sent_by.as_ref().map(|b| format!(" (by {b})")).unwrap_or_default();
            let by = match &tx.receipt {
                Some(r) => format!("{by} [{}: {}]", r.status.as_str(), r.provider_response),
                None => by,
            };
            println!(
                "{}  text {:?} {:?}{by}: {}",
                tx.created_at.format("%Y-%m-%d %H:%M:%SZ"),
                tx.class,
                tx.state,
                tx.body
            );
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

/// `custops tasks`: the open tasks of one store (or all), due first,
/// optionally one owner's.
pub async fn tasks(target: &Target, store: Option<&str>, owner: Option<&str>) -> Result<Vec<Task>, BoxError> {
    let stores = store_ids(target, store).await?;
    let mut open = Vec::new();
    for s in stores {
        open.extend(target.table.open_tasks(&s).await?.into_iter().filter(|t| owner.is_none_or(|o| t.owner == o)));
    }
    open.sort_by_key(|t| t.due_at);
    Ok(open)
}

/// The time zone of every store, by id: what a person reads is in the store's time.
pub async fn zones(target: &Target) -> Result<HashMap<String, chrono_tz::Tz>, BoxError> {
    Ok(target.table.list_stores().await?.into_iter().map(|s| (s.store_id, s.timezone)).collect())
}

/// Prints tasks as JSON (due times in UTC, RFC 3339) or a line each for a
/// person, due times in each store's own zone.
/// The key of a customer's record as an operator writes it: a phone number,
/// or the mail address of a lead that came without one.
pub fn record_key(raw: &str) -> Result<Phone, BoxError> {
    if raw.contains('@') {
        return Phone::of_email(raw).ok_or_else(|| format!("{raw:?} is not a mail address").into());
    }
    Ok(Phone::parse(raw)?)
}

pub fn print_tasks(tasks: &[Task], json: bool, zones: &HashMap<String, chrono_tz::Tz>) {
    if json {
        // A lead known by mail alone: `phone` null and its `email`.
        let out: Vec<Value> = tasks
            .iter()
            .map(|t| {
                let mut v = serde_json::to_value(t).unwrap_or_default();
                if let Some(email) = t.phone.email() {
                    v["phone"] = Value::Null;
                    v["email"] = Value::String(email.to_owned());
                }
                v
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return;
    }
    print_list(tasks, json, "no open tasks", |t| {
        let due = match zones.get(&t.store_id) {
            Some(tz) => t.due_at.with_timezone(tz).format("%Y-%m-%d %H:%M %Z").to_string(),
            None => t.due_at.format("%Y-%m-%d %H:%MZ").to_string(),
        };
        format!(
            "due {}  {:<16} {:<13} {:<18} {:<12} {}  {}",
            due,
            t.store_id,
            t.phone.email().unwrap_or(t.phone.e164()),
            name_of(t.kind),
            t.owner,
            t.task_id,
            t.note
        )
    });
}

/// `custops task done TASK_ID --store S --phone P [--outcome O]`: closes a
/// task through the one commit path, with what its outcome means.
pub async fn task_done(
    target: &Target,
    store_id: &str,
    phone: &str,
    task_id: &str,
    outcome: TaskOutcome,
    clock: SharedClock,
) -> Result<(), BoxError> {
    let customer = CustomerId::new(store_id, record_key(phone)?);
    let store = target.table.get_store(store_id).await?.ok_or_else(|| format!("unknown store {store_id:?}"))?;
    let core = Core::new(target.table.clone(), target.sns.clone(), clock.clone());
    core.decide_and_apply(&store, &customer, |state, now| {
        custops::tasks::done(&customer, state, task_id, outcome, now)
    })
    .await?;
    Ok(())
}

/// `custops household link A B --store S`: two records as one household.
pub async fn household_link(
    target: &Target,
    store_id: &str,
    a: &str,
    b: &str,
    clock: SharedClock,
) -> Result<(), BoxError> {
    let store = target.table.get_store(store_id).await?.ok_or_else(|| format!("unknown store {store_id:?}"))?;
    let a = CustomerId::new(store_id, record_key(a)?);
    let b = CustomerId::new(store_id, record_key(b)?);
    let b_profile = target.table.get_profile(&b).await?;
    let core = Core::new(target.table.clone(), target.sns.clone(), clock);
    core.decide_and_apply(&store, &a, |state, now| {
        custops::household::link(&a, state, &b, b_profile.as_ref(), "operator", now)
    })
    .await?;
    Ok(())
}

/// One message in a dead-letter queue.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeadLetter {
    pub queue: String,
    pub message_id: String,
    pub reason: String,
    pub kind: String,
    pub event_id: Option<String>,
    pub body: String,
}

/// How long `custops dlq` hides the messages it has read, so the next
/// receive answers the ones it has not (a peek with a visibility timeout of 0
/// answers the same few again and again).
const PEEK_SECONDS: i32 = 30;

/// `custops dlq [--redrive]`: what failed and why, every message of every DLQ;
/// optionally send it back. Reading hides each message for a moment; without
/// `--redrive` they are made visible again at the end, as they were.
pub async fn dlq(target: &Target, redrive: bool) -> Result<Vec<DeadLetter>, BoxError> {
    let mut found = Vec::new();
    let sources: Vec<String> = target.template.of_type("AWS::SQS::Queue").map(|q| q.logical_id.clone()).collect();
    for source in sources {
        let Some(dlq_id) = target.template.dlq_of(&source) else { continue };
        let dlq_url = target.queue_url(&dlq_id).await?;
        let source_url = target.queue_url(&source).await?;
        let mut seen = std::collections::HashSet::new();
        let mut receipts = Vec::new();
        loop {
            let out = target
                .sqs
                .receive_message()
                .queue_url(&dlq_url)
                .max_number_of_messages(10)
                .visibility_timeout(PEEK_SECONDS)
                .message_attribute_names("All")
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp)
                .send()
                .await?;
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            for m in messages {
                let receipt = m.receipt_handle.clone().unwrap_or_default();
                if !seen.insert(m.message_id.clone().unwrap_or_default()) {
                    // Back after its peek ran out (a very long listing): read already.
                    receipts.push(receipt);
                    continue;
                }
                let attrs = m.message_attributes.clone().unwrap_or_default();
                let get = |k: &str| attrs.get(k).and_then(|a| a.string_value.clone());
                let body = m.body.clone().unwrap_or_default();
                let event_id = serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|v| v.get("event_id").and_then(Value::as_str).map(str::to_owned));
                found.push(DeadLetter {
                    queue: target.template.name_of(&dlq_id).unwrap_or_default(),
                    message_id: m.message_id.clone().unwrap_or_default(),
                    reason: get(ATTR_REASON)
                        .unwrap_or_else(|| "redriven by SQS after repeated failures (see the function log)".into()),
                    kind: get(ATTR_KIND).unwrap_or_else(|| "transient".into()),
                    event_id,
                    body: body.clone(),
                });
                if redrive {
                    let mut kept: HashMap<String, MessageAttributeValue> =
                        attrs.into_iter().filter(|(k, _)| !FAILURE_ATTRIBUTES.contains(&k.as_str())).collect();
                    // The copy keeps when the original was first received (a
                    // message SQS's own redrive moved has only its SentTimestamp).
                    let sent = m
                        .attributes
                        .as_ref()
                        .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp))
                        .cloned();
                    if let (false, Some(ms)) = (kept.contains_key(ATTR_FIRST_SENT), sent) {
                        kept.insert(
                            ATTR_FIRST_SENT.to_owned(),
                            MessageAttributeValue::builder().data_type("Number").string_value(ms).build()?,
                        );
                    }
                    target
                        .sqs
                        .send_message()
                        .queue_url(&source_url)
                        .message_body(body)
                        .set_message_attributes(Some(kept))
                        .send()
                        .await?;
                    target.sqs.delete_message().queue_url(&dlq_url).receipt_handle(receipt).send().await?;
                } else {
                    receipts.push(receipt);
                }
            }
        }
        for receipt in receipts {
            target
                .sqs
                .change_message_visibility()
                .queue_url(&dlq_url)
                .receipt_handle(receipt)
                .visibility_timeout(0)
                .send()
                .await?;
        }
    }
    Ok(found)
}

/// The URL of every dead-letter queue of the template.
pub async fn dlq_urls(target: &Target) -> Result<Vec<String>, BoxError> {
    let mut urls = Vec::new();
    let sources: Vec<String> = target.template.of_type("AWS::SQS::Queue").map(|q| q.logical_id.clone()).collect();
    for source in sources {
        if let Some(dlq) = target.template.dlq_of(&source) {
            urls.push(target.queue_url(&dlq).await?);
        }
    }
    // A function's own DLQ for its asynchronous invocations (sms-receipts).
    let own: Vec<String> = target
        .template
        .of_type("AWS::Serverless::Function")
        .filter_map(|f| f.properties.pointer("/DeadLetterQueue/TargetArn").and_then(Value::as_str))
        .filter_map(|arn| {
            target
                .template
                .of_type("AWS::SQS::Queue")
                .find(|q| target.template.name_of(&q.logical_id).is_some_and(|n| arn.ends_with(&format!(":{n}"))))
                .map(|q| q.logical_id.clone())
        })
        .collect();
    for dlq in own {
        let url = target.queue_url(&dlq).await?;
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    Ok(urls)
}

/// `custops report --group`: every store's (or `stores`') report of `date`,
/// side by side, ranked by revenue at risk, most first, and their total.
/// The stores are gathered a few at a time; the DLQs are read once for all.
pub async fn group_report(
    target: &Target,
    stores: Option<&[String]>,
    date: chrono::NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Vec<custops::report::Report>, Value), BoxError> {
    use futures::stream::{self, StreamExt, TryStreamExt};
    let all = target.table.list_stores().await?;
    let chosen: Vec<StoreConfig> = match stores {
        None => all,
        Some(ids) => {
            let mut out = Vec::new();
            for id in ids {
                out.push(all.iter().find(|s| &s.store_id == id).cloned().ok_or_else(|| format!("no store {id:?}"))?);
            }
            out
        }
    };
    let gathered: Vec<custops::report::DayData> = stream::iter(chosen.iter())
        .map(|store| custops::report::gather(&target.table, store, date, now))
        .buffered(8)
        .try_collect()
        .await?;
    let refs: Vec<&StoreConfig> = chosen.iter().collect();
    let letters = custops::report::dead_letters_of(&target.sqs, &dlq_urls(target).await?, &refs).await?;
    let mut reports: Vec<custops::report::Report> = chosen
        .iter()
        .zip(gathered)
        .zip(letters)
        .map(|((store, mut data), dead)| {
            data.dead_letters = dead;
            custops::report::build(store, date, now, &data)
        })
        .collect();
    reports.sort_by(|a, b| b.revenue_at_risk_cents.cmp(&a.revenue_at_risk_cents).then(a.store_id.cmp(&b.store_id)));
    let total = custops::report::total(&reports);
    Ok((reports, total))
}

/// `custops report`: the GM report of `store`'s local day `date`, made now,
/// and the 7 days up to it for the page's chart.
pub async fn report(
    target: &Target,
    store_id: &str,
    date: chrono::NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(custops::report::Report, Vec<crate::report_page::DayPoint>), BoxError> {
    let store = target.table.get_store(store_id).await?.ok_or_else(|| format!("no store {store_id:?}"))?;
    let mut data = custops::report::gather(&target.table, &store, date, now).await?;
    data.dead_letters = custops::report::dead_letters(&target.sqs, &dlq_urls(target).await?, &store).await?;
    let report = custops::report::build(&store, date, now, &data);
    let history = daily_report::history(&target.table, &store, &report).await?;
    Ok((report, history))
}

/// Mails a report page (`custops report --mail`) from `from` (the
/// deploy's `ReportSender`; locally the local stack's, by default).
pub async fn mail_report(
    target: &Target,
    from: Option<&str>,
    mail: custops::report::mail::ReportMail,
) -> Result<String, BoxError> {
    let from = match (from, &target.endpoint) {
        (Some(f), _) => f,
        (None, Some(_)) => custops_local::local::LOCAL_REPORT_SENDER,
        (None, None) => return Err("--mail needs --from (the deploy's ReportSender) or CUSTOPS_REPORT_SENDER".into()),
    };
    let mailer = custops::report::mail::Mailer::new(target.ses.clone(), from);
    Ok(mailer.send(&mail).await.map_err(|e| format!("the mail was not sent: {e}"))?)
}

/// Every topic of the template by its name, with its ARN where the account
/// has it (ListTopics, every page).
pub async fn topic_arns(target: &Target) -> Result<Vec<(String, Option<String>)>, BoxError> {
    let mut arns = Vec::new();
    let mut next = None;
    loop {
        let page = target.sns.list_topics().set_next_token(next).send().await?;
        arns.extend(page.topics().iter().filter_map(|t| t.topic_arn()).map(str::to_owned));
        match page.next_token {
            Some(t) if !t.is_empty() => next = Some(t),
            _ => break,
        }
    }
    Ok(target
        .template
        .of_type("AWS::SNS::Topic")
        .filter_map(|t| target.template.name_of(&t.logical_id))
        .map(|name| {
            let arn = arns.iter().find(|a| a.rsplit(':').next() == Some(name.as_str())).cloned();
            (name, arn)
        })
        .collect())
}

pub use custops::event::topic_for;

/// Publishes one event file to its topic, with the `event_type` attribute.
/// A file without `event_type` is an inbound SMS payload (`inbound-sms`).
pub async fn publish_event(
    sns: &aws_sdk_sns::Client,
    topic_arn_of: impl Fn(&str) -> String,
    body: &str,
) -> Result<&'static str, BoxError> {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let event_type = v.get("event_type").and_then(Value::as_str);
    let topic = match event_type {
        Some(t) => topic_for(t).unwrap_or("carrier-events"),
        None if v.get("originationNumber").is_some() => "inbound-sms",
        // An SES receipt notification (lead mail).
        None if v.get("notificationType").is_some() => "lead-email",
        None => "carrier-events",
    };
    publish_to(sns, &topic_arn_of(topic), body, event_type).await?;
    Ok(topic)
}

/// Publishes `body` to a topic with the `event_type` message attribute subscriptions filter on.
pub async fn publish_to(
    sns: &aws_sdk_sns::Client,
    topic_arn: &str,
    body: &str,
    event_type: Option<&str>,
) -> Result<(), BoxError> {
    Ok(custops::event::publish(sns, topic_arn, body, event_type).await?)
}

/// The sample files under `dir` in replay order: stores, then events by file name.
pub fn sample_files(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), BoxError> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut all = Vec::new();
    walk(dir, &mut all)?;
    // `secrets/` holds the stores' webhook secrets, not events.
    all.retain(|p| !p.parent().is_some_and(|d| d.ends_with("secrets")));
    let (mut stores, mut events): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|p| p.parent().is_some_and(|d| d.ends_with("stores")));
    stores.sort();
    events.sort_by_key(|p| p.file_name().map(|f| f.to_os_string()));
    Ok((stores, events))
}
