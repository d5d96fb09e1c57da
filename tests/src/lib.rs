//! The test harness: every test gets its own emulator (moto server) on a free
//! loopback port, with the resources of `infra/template.yaml` and the real
//! function code, driven exactly as `custops local up` drives it. Nothing needs
//! starting by hand, and tests run in parallel.
// Every function's futures, run in-process by the local stack, nest deeper
// than the compiler's default layout depth.
#![recursion_limit = "256"]

pub use custops_dev::faults;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use custops::table::Table;
use custops::{Clock, PinnedClock};
use custops_cli::commands::{self, DeadLetter, Target};
use custops_cli::emulator::{self, Emulator, EmulatorOptions, SentSms};
use custops_cli::local::{LocalOptions, LocalStack};
use serde_json::{json, Value};

pub struct Harness {
    pub emulator: Emulator,
    pub stack: LocalStack,
    pub clock: PinnedClock,
    pub target: Target,
}

/// The store most tests use: Chicago, open Mon-Fri 07:00-19:00, Sat 08:00-17:00.
pub fn northside() -> Value {
    custops::fixtures::northside_json()
}

/// A `call.missed` event.
pub fn call_missed(event_id: &str, call_id: &str, from: &str, at: &str) -> Value {
    json!({
        "event_id": event_id,
        "event_type": "call.missed",
        "occurred_at": at,
        "store_id": "northside-chevy",
        "data": {"call_id": call_id, "from": from, "to": "+15125550100", "department": "service", "voicemail": true}
    })
}

pub fn at(t: &str) -> DateTime<Utc> {
    t.parse().expect("an RFC 3339 time")
}

impl Harness {
    /// A fresh emulator with every resource, the clock pinned at `now`, and the Northside store.
    pub async fn start(now: &str) -> Self {
        Self::start_with(now, EmulatorOptions { forked: true, ..Default::default() }).await
    }

    /// `start`, with an emulator that cancels overlapping transactions on one
    /// item as DynamoDB does (each holds its items for `window`).
    pub async fn start_with_conflicts(now: &str, window: Duration) -> Self {
        Self::start_with(now, EmulatorOptions { tx_conflict_window: Some(window), forked: true }).await
    }

    async fn start_with(now: &str, options: EmulatorOptions) -> Self {
        let emulator = Emulator::start_with(0, options).await.expect("the emulator starts");
        let clock = PinnedClock::at(at(now));
        let stack = LocalStack::provision(
            &emulator.endpoint,
            Arc::new(clock.clone()),
            LocalOptions { visibility_timeout: 1, ..Default::default() },
        )
        .await
        .expect("resources from infra/template.yaml");
        let target = Target::new(Some(&emulator.endpoint), "custops").await.expect("operator target");
        let h = Self { emulator, stack, clock, target };
        h.put_store(northside()).await;
        h
    }

    pub async fn put_store(&self, store: Value) {
        let store = custops::StoreConfig::from_json(&store.to_string()).expect("a valid store");
        self.table().put_store(&store).await.expect("store saved");
    }

    /// Records that `phone` opted out at Northside at `when` (as a STOP reply would).
    pub async fn opt_out(&self, phone: &custops::Phone, when: &str) {
        let consent = custops::model::Consent {
            opted_out_at: Some(at(when)),
            opt_out_source: Some("sms:STOP".into()),
            ..Default::default()
        };
        let mut tx = self.table().tx();
        let customer = custops::CustomerId::new("northside-chevy", phone.clone());
        tx.put_on(&customer, &consent, custops::table::Guard::LedgerAsRead(None));
        self.table().commit(tx).await.expect("opt-out recorded");
    }

    /// The log lines of a function running as its real binary (`run_bootstrap`);
    /// none for one running in-process.
    pub fn function_logs(&self, binary: &str) -> Vec<String> {
        self.stack
            .functions
            .iter()
            .filter(|f| f.def.binary == binary)
            .find_map(|f| match &f.handler {
                custops_cli::local::Handler::Process(p) => Some(p.process.logs()),
                _ => None,
            })
            .unwrap_or_default()
    }

    pub fn table(&self) -> Table {
        self.stack.table()
    }

    /// Publishes an event (or any raw body) to its topic as a carrier or the DMS would.
    pub async fn publish(&self, event: &Value) {
        self.publish_raw(&event.to_string()).await;
    }

    pub async fn publish_raw(&self, body: &str) {
        commands::publish_event(&self.stack.clients.sns, |t| self.stack.topic_arn(t), body).await.expect("published");
    }

    /// Publishes any body to a topic with the given `event_type` attribute
    /// (a source that sends garbage under a valid type).
    pub async fn publish_as(&self, topic: &str, event_type: &str, body: &str) {
        commands::publish_to(&self.stack.clients.sns, &self.stack.topic_arn(topic), body, Some(event_type))
            .await
            .expect("published");
    }

    /// Fires every scheduled function at `when` (`custops local tick --at`),
    /// and lets the work they hand on finish.
    pub async fn tick_at(&self, when: &str) {
        self.clock.set(at(when));
        self.stack.tick().await.expect("scheduled functions run");
        self.settle().await;
    }

    /// Runs the functions until every queue is empty, retries included.
    pub async fn settle(&self) {
        self.stack.run_until_idle(Duration::from_secs(60)).await.expect("queues drain");
    }

    /// What customers' phones received, oldest first.
    pub async fn sms(&self) -> Vec<SentSms> {
        emulator::sent_sms(&self.emulator.endpoint).await.expect("emulator data")
    }

    pub async fn dlq(&self) -> Vec<DeadLetter> {
        commands::dlq(&self.target, false).await.expect("dlq listing")
    }
}

/// An `ro.status_changed` event for Maria Gonzalez's Tahoe.
pub fn ro_status(event_id: &str, status: &str, at: &str) -> Value {
    json!({
        "event_id": event_id,
        "event_type": "ro.status_changed",
        "occurred_at": at,
        "store_id": "northside-chevy",
        "data": {
            "ro_number": "RO-48213",
            "status": status,
            "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez",
                         "phone": "(512) 555-0142", "email": "maria@example.com", "marketing_consent": true},
            "vehicle": {"vin": "1GNSKNKDXMR214387", "year": 2021, "make": "Chevrolet", "model": "Tahoe"},
            "advisor": {"id": "adv-7", "name": "Dana Whitfield"},
            "amount_due_cents": 48735
        }
    })
}

impl Harness {
    /// What a function's cold start builds, as the template configures it,
    /// talking to `endpoint` (the emulator, or a fault proxy in front of it).
    pub async fn deps(&self, function: &'static str, endpoint: &str) -> custops::Deps {
        let env = self.stack.functions.iter().find(|f| f.def.binary == function).expect("a function").def.env.clone();
        let config = custops::aws::local(endpoint).await;
        custops::Deps::from_env(function, &env, &config, Arc::new(self.clock.clone())).expect("deps")
    }
}

/// An SQS message carrying `event`, first delivery.
pub fn message(event: &Value) -> custops::batch::Message {
    custops::batch::Message {
        message_id: format!("m-{}", event["event_id"].as_str().unwrap_or("?")),
        body: event.to_string(),
        receive_count: 1,
        sent_at: None,
        event_type: event["event_type"].as_str().map(str::to_owned),
    }
}

/// Plans a text to Maria (+15125550142) at Northside as a trigger would and
/// commits it with the trigger's claim through `table`, without publishing it.
pub async fn commit_text(
    h: &Harness,
    table: &Table,
    event_id: &str,
    class: custops::text::MessageClass,
    dedupe: &str,
) -> Result<custops::outbound::Plan, custops::table::TxError> {
    let store = custops::fixtures::northside();
    let customer = custops::fixtures::customer("+15125550142");
    let state = table.customer_state(&customer).await.expect("the state");
    let plan = custops::outbound::plan(
        custops::outbound::TextRequest::new(
            &store,
            &customer.phone,
            class,
            format!("Northside Chevrolet: your 2021 Chevrolet Tahoe is ready ({dedupe})."),
            dedupe.into(),
            "test",
            event_id,
        ),
        &state.consent,
        &state.sends,
        h.clock.now(),
    );
    let mut tx = table.tx();
    tx.claim("northside-chevy", event_id, h.clock.now());
    custops::outbound::stage(&mut tx, &customer, &plan, &state.sends);
    table.commit(tx).await?;
    Ok(plan)
}

/// The six digits an authenticator app shows at `unix` seconds for the
/// base32 `secret` (RFC 6238: HMAC-SHA1, 30-second steps, RFC 4226's
/// dynamic truncation), as a person types them at sign-in.
pub fn totp(secret: &str, unix: i64) -> String {
    use hmac::{KeyInit, Mac};
    let mut key = Vec::new();
    let (mut buffer, mut bits) = (0u64, 0u32);
    for c in secret.trim_end_matches('=').bytes().filter(|c| !c.is_ascii_whitespace()) {
        let value = match c.to_ascii_uppercase() {
            c @ b'A'..=b'Z' => c - b'A',
            c @ b'2'..=b'7' => c - b'2' + 26,
            other => panic!("not base32: {:?}", other as char),
        };
        buffer = (buffer << 5) | u64::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            key.push((buffer >> bits) as u8);
        }
    }
    let step = (unix / 30) as u64;
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key).expect("any key length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let code = u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    format!("{:06}", code % 1_000_000)
}
