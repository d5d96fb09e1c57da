//! `cargo chaos`: the promise to a dealer, tried hard. N mixed events
//! across every trigger, each delivered 1-3 times in a shuffled order, with
//! the scheduled functions ticking every morning between them, while a proxy
//! in front of the emulator fails the functions' AWS calls at a rate (the
//! mix of `faults::Chaos`) and the emulator cancels overlapping DynamoDB
//! transactions as DynamoDB does. Then it counts what must be zero: events
//! lost (neither processed nor in a DLQ), texts published twice, texts to a
//! number that opted out before the text was committed, marketing texts sent
//! outside the hours the store and the recipient allow.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Span, Utc};
use custops::outbound::window_opens;
use custops::text::{MessageClass, TextState};
use custops::{Clock, CustomerId, Phone, PinnedClock, StoreConfig};
use serde_json::{json, Value};

use crate::faults::{FaultProxy, Rng};
use custops_cli::commands::{self, Target};
use custops_cli::replay::tick_mornings;
use custops_local::emulator::{self, Emulator, EmulatorOptions};
use custops_local::local::{LocalOptions, LocalStack};
use custops_local::BoxError;

/// What `cargo chaos` is asked to do.
#[derive(Debug, Clone)]
pub struct ChaosRun {
    pub events: usize,
    pub fault_rate: f64,
    pub seed: u64,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

/// What it found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ChaosReport {
    pub events: usize,
    pub deliveries: usize,
    pub faults: u64,
    pub fault_mix: BTreeMap<String, u64>,
    pub dead_letters: usize,
    /// Why they are dead letters (the reason, numbers masked), and how many.
    pub dead_letter_reasons: BTreeMap<String, usize>,
    pub texts_sent: usize,
    pub lost: usize,
    /// The first lost events' claim keys (to look into).
    pub lost_events: Vec<String>,
    pub duplicate_texts: usize,
    pub opted_out_texts: usize,
    pub off_hours_marketing: usize,
    pub seconds: f64,
}

impl ChaosReport {
    /// Whether every promise held.
    pub fn held(&self) -> bool {
        self.lost == 0 && self.duplicate_texts == 0 && self.opted_out_texts == 0 && self.off_hours_marketing == 0
    }

    /// The one line the run ends with.
    pub fn line(&self) -> String {
        format!(
            "chaos: {} events, {} faults, lost {}, duplicate texts {}, opted-out texts {}, off-hours marketing {}",
            self.events, self.faults, self.lost, self.duplicate_texts, self.opted_out_texts, self.off_hours_marketing
        )
    }
}

/// One generated event: its body and the key its processing claims.
struct Generated {
    at: DateTime<Utc>,
    body: String,
    /// The store whose claim it is (claims are per store).
    store: &'static str,
    claim: String,
}

const NORTHSIDE: &str = r#"{"store_id":"northside-chevy","name":"Northside Chevrolet","timezone":"America/Chicago",
  "sms_number":"+15125550100","booking_url":"https://northside.example/service",
  "hours":{"mon":["07:00","19:00"],"tue":["07:00","19:00"],"wed":["07:00","19:00"],"thu":["07:00","19:00"],
           "fri":["07:00","19:00"],"sat":["08:00","17:00"],"sun":null}}"#;
const LAKESIDE: &str = r#"{"store_id":"lakeside-ford","name":"Lakeside Ford","timezone":"America/New_York",
  "sms_number":"+13055550100",
  "hours":{"mon":["07:30","18:00"],"tue":["07:30","18:00"],"wed":["07:30","18:00"],"thu":["07:30","18:00"],
           "fri":["07:30","18:00"],"sat":["08:00","16:00"],"sun":null}}"#;

/// The mixed events: missed calls, status changes, RO closes with declined
/// lines, deliveries, no-shows and bookings, replies (some asking to stop in
/// words, some that may mean it) and STOPs, over a few days.
fn generate(rng: &mut Rng, n: usize, start: DateTime<Utc>) -> Vec<Generated> {
    let customers = (n / 8).max(20);
    let span_minutes = (n.div_ceil(250).max(2) * 24 * 60) as u64;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let at = start + Span::minutes((rng.next_u64() % span_minutes) as i64);
        let lakeside = rng.chance(20);
        let (store, line, prefix) = if lakeside {
            ("lakeside-ford", "+13055550100", "+1305555")
        } else {
            ("northside-chevy", "+15125550100", "+1512555")
        };
        let c = rng.below(customers);
        let phone = format!("{prefix}{:04}", 2000 + c);
        let customer = json!({"dms_id": format!("C{c}"), "first_name": "Pat", "last_name": format!("Doe{c}"),
                              "phone": phone, "marketing_consent": rng.chance(70)});
        let vehicle = json!({"vin": format!("VIN{c:06}"), "year": 2021, "make": "Chevrolet", "model": "Tahoe"});
        let advisor = json!({"id": "adv-1", "name": "Dana"});
        let id = format!("chaos-{i}");
        let envelope = |event_type: &str, data: Value| {
            json!({"event_id": id, "event_type": event_type, "occurred_at": at, "store_id": store, "data": data})
                .to_string()
        };
        let ro = format!("RO-{c}-{}", i % 3);
        let roll = rng.below(100);
        let (body, claim) = match roll {
            0..=34 => {
                let from = if rng.chance(15) { format!("{prefix}{:04}", 8000 + rng.below(999)) } else { phone.clone() };
                let dept = ["service", "sales", "parts", "main"][rng.below(4)];
                let data =
                    json!({"call_id": id, "from": from, "to": line, "department": dept, "voicemail": rng.chance(50)});
                (envelope("call.missed", data), id.clone())
            }
            35..=54 => {
                let statuses = ["checked_in", "in_progress", "waiting_parts", "parts_arrived", "ready_for_pickup"];
                let status = statuses[rng.below(5)];
                let data = json!({"ro_number": ro, "status": status, "customer": customer, "vehicle": vehicle,
                                  "advisor": advisor, "amount_due_cents": 10_000 + rng.below(90_000)});
                (envelope("ro.status_changed", data), id.clone())
            }
            55..=64 => {
                let declined: Vec<Value> = (0..rng.below(3))
                    .map(|l| {
                        let op = ["BRK", "CAF", "WIP"][l];
                        json!({"line_id": format!("L{l}"), "op_code": op, "description": "Work",
                               "estimate_cents": 5_000 + rng.below(60_000)})
                    })
                    .collect();
                // Its own RO: a second close of one RO is a DMS resend (a duplicate by design).
                let data = json!({"ro_number": format!("RO-{i}"), "closed_at": at, "customer": customer, "vehicle": vehicle,
                                  "advisor": advisor, "performed": ["LOF"], "declined": declined});
                (envelope("ro.closed", data), id.clone())
            }
            65..=69 => {
                let data = json!({"deal_id": id, "delivered_at": at, "customer": customer, "vehicle": vehicle,
                                  "salesperson": advisor});
                (envelope("deal.delivered", data), id.clone())
            }
            70..=74 => {
                let data = json!({"appointment_id": id, "at": at, "customer": customer});
                (envelope("appointment.missed", data), id.clone())
            }
            75..=79 => {
                let data = json!({"appointment_id": id, "at": at + Span::days(2), "customer": customer});
                (envelope("appointment.booked", data), id.clone())
            }
            80..=91 => {
                let words =
                    ["Is it ready yet?", "Please stop texting me", "Not interested", "Can I come Saturday?", "Thanks!"];
                let body = json!({"originationNumber": phone, "destinationNumber": line, "messageKeyword": "JOIN",
                                  "messageBody": words[rng.below(words.len())], "inboundMessageId": id,
                                  "previousPublishedMessageId": "p"});
                (body.to_string(), format!("sms#{id}"))
            }
            _ => {
                let body = json!({"originationNumber": phone, "destinationNumber": line, "messageKeyword": "JOIN",
                                  "messageBody": "STOP", "inboundMessageId": id, "previousPublishedMessageId": "p"});
                (body.to_string(), format!("sms#{id}"))
            }
        };
        out.push(Generated { at, body, store, claim });
    }
    out.sort_by_key(|g| g.at);
    out
}

/// Runs the chaos and checks what must hold.
pub async fn run(options: &ChaosRun) -> Result<ChaosReport, BoxError> {
    let started = Instant::now();
    let emulator = Emulator::start_with(
        0,
        EmulatorOptions { tx_conflict_window: Some(Duration::from_millis(20)), ..Default::default() },
    )
    .await?;
    let proxy = FaultProxy::start(&emulator.endpoint).await?;
    let start: DateTime<Utc> = "2026-11-23T06:00:00Z".parse()?;
    let clock = PinnedClock::at(start);
    let local =
        LocalOptions { visibility_timeout: 1, function_endpoint: Some(proxy.endpoint.clone()), ..Default::default() };
    let stack = LocalStack::provision(&emulator.endpoint, Arc::new(clock.clone()), local).await?;
    // The checks read the whole table back from the emulator, whose Query over
    // thousands of items outlasts the functions' 5 s timeout: patient clients.
    let target = Target::patient(Some(&emulator.endpoint), "custops", Duration::from_secs(300)).await?;
    for store in [NORTHSIDE, LAKESIDE] {
        stack.table().put_store(&StoreConfig::from_json(store)?).await?;
    }
    let mut rng = Rng(options.seed.max(1));
    let events = generate(&mut rng, options.events, start);

    // Deliveries: each event 1-3 times; copies land in its chunk or the next,
    // in a shuffled order.
    const CHUNK: usize = 40;
    let chunks = events.len().div_ceil(CHUNK);
    let mut deliveries: Vec<Vec<usize>> = vec![Vec::new(); chunks + 1];
    for (i, _) in events.iter().enumerate() {
        let home = i / CHUNK;
        deliveries[home].push(i);
        for _ in 0..rng.below(3) {
            deliveries[home + usize::from(rng.chance(30))].push(i);
        }
    }
    for d in deliveries.iter_mut() {
        for k in (1..d.len()).rev() {
            let j = rng.below(k + 1);
            d.swap(k, j);
        }
    }
    let total: usize = deliveries.iter().map(Vec::len).sum();
    let bar = options.progress.then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} chaos {bar:40} {pos}/{len} deliveries {msg} [{elapsed}]",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });

    proxy.chaos(options.fault_rate, options.seed ^ 0x9E37_79B9_7F4A_7C15, Duration::from_millis(2_500));
    for chunk in &deliveries {
        if let Some(latest) = chunk.iter().map(|&i| events[i].at).max() {
            tick_mornings(&stack, &clock, clock.now(), latest).await?;
            clock.set(clock.now().max(latest + Span::seconds(5)));
        }
        let publishes = chunk.iter().map(|&i| {
            let sns = stack.clients.sns.clone();
            let body = events[i].body.clone();
            let arn = |t: &str| stack.topic_arn(t);
            async move { commands::publish_event(&sns, arn, &body).await }
        });
        futures::future::try_join_all(publishes).await?;
        stack.run_until_idle(Duration::from_secs(600)).await?;
        if let Some(bar) = &bar {
            bar.inc(chunk.len() as u64);
            let faults: u64 = proxy.injected().values().sum();
            bar.set_message(format!("{faults} faults"));
        }
    }
    let mix = proxy.calm();
    // The mornings after: deferred texts and follow-ups go, without faults.
    let last = clock.now();
    tick_mornings(&stack, &clock, last, last + Span::days(3)).await?;
    clock.set(last + Span::days(3));
    stack.tick().await?;
    stack.run_until_idle(Duration::from_secs(600)).await?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }

    let mut report = ChaosReport {
        events: events.len(),
        deliveries: total,
        faults: mix.values().sum(),
        fault_mix: mix.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        ..Default::default()
    };
    check(&target, &emulator, &events, &mut report).await?;
    report.seconds = started.elapsed().as_secs_f64();
    emulator.stop().await;
    Ok(report)
}

async fn check(
    target: &Target,
    emulator: &Emulator,
    events: &[Generated],
    report: &mut ChaosReport,
) -> Result<(), BoxError> {
    let table = &target.table;
    // Lost: neither processed (its claim) nor in a DLQ.
    let letters = commands::dlq(target, false).await?;
    report.dead_letters = letters.len();
    for l in &letters {
        let reason: String = custops::phone::redact_digits(&l.reason).chars().take(120).collect();
        *report.dead_letter_reasons.entry(format!("{}: {reason}", l.kind)).or_default() += 1;
    }
    let dead: HashSet<String> = letters
        .iter()
        .filter_map(|l| {
            let v: Value = serde_json::from_str(&l.body).ok()?;
            v["event_id"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| v["inboundMessageId"].as_str().map(|m| format!("sms#{m}")))
        })
        .collect();
    for e in events {
        if !dead.contains(&e.claim) && !table.is_claimed(e.store, &e.claim).await? {
            report.lost += 1;
            if report.lost_events.len() < 10 {
                report.lost_events.push(e.claim.clone());
            }
        }
    }

    // Duplicates: SNS published a (number, body) more often than texts with it were sent.
    let sms = emulator::sent_sms(&emulator.endpoint).await?;
    let mut published: HashMap<(String, String), usize> = HashMap::new();
    for m in &sms {
        *published.entry((m.phone_number.clone(), m.message.clone())).or_default() += 1;
    }
    let mut texts = Vec::new();
    let mut stores = HashMap::new();
    for store in table.list_stores().await? {
        texts.extend(table.store_texts(&store.store_id).await?);
        stores.insert(store.store_id.clone(), store);
    }
    let mut recorded: HashMap<(String, String), usize> = HashMap::new();
    for t in texts.iter().filter(|t| matches!(t.state, TextState::Sent | TextState::Unknown | TextState::Sending)) {
        *recorded.entry((t.phone.e164().to_owned(), t.body.clone())).or_default() += 1;
    }
    report.texts_sent = sms.len();
    report.duplicate_texts =
        published.iter().map(|(k, n)| n.saturating_sub(recorded.get(k).copied().unwrap_or(0))).sum();

    // Texts committed after the number's opt-out was recorded.
    let mut opted: HashMap<(String, String), Option<DateTime<Utc>>> = HashMap::new();
    for t in texts.iter().filter(|t| t.state == TextState::Sent && !t.confirms_opt_out) {
        let key = (t.store_id.clone(), t.phone.e164().to_owned());
        if !opted.contains_key(&key) {
            let timeline = table.timeline(&CustomerId::new(&t.store_id, t.phone.clone())).await?;
            let at = timeline.touchpoints.iter().filter(|p| p.kind == "consent.opted_out").map(|p| p.at).min();
            opted.insert(key.clone(), at);
        }
        if opted[&key].is_some_and(|stop| t.created_at > stop) {
            report.opted_out_texts += 1;
        }
    }

    // Marketing texts sent outside the hours the store and the recipient allow.
    for t in texts.iter().filter(|t| t.class == MessageClass::Marketing && t.state == TextState::Sent) {
        let (Some(store), Some(sent)) = (stores.get(&t.store_id), t.sent_at) else { continue };
        let phone: &Phone = &t.phone;
        if window_opens(MessageClass::Marketing, store, phone, sent) != sent {
            report.off_hours_marketing += 1;
        }
    }
    Ok(())
}
