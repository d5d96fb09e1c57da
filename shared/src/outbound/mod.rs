//! The one door every text goes through. No other code in custops holds the SNS
//! client, so there is no other way to send a text.
//!
//! The path of a text:
//! 1. [`plan`] (pure, called by a trigger's `decide`) applies the rules
//!    (opt-out, marketing consent, mobile number, quiet hours, caps) to a
//!    [`TextRequest`] and the customer's consent: send now, defer until a
//!    time, or suppress with a reason.
//! 2. [`stage`] (called by `Core::apply`, the one commit path) adds the text
//!    to the trigger's own transaction (outbox row written `sending` under a
//!    lease, the caps ledger, a check that the number has not opted out
//!    meanwhile), so the state change and the text commit together.
//! 3. [`Outbound::deliver`] checks the window at the moment of publishing,
//!    publishes it through SNS once (the SDK never retries a Publish: SNS has
//!    no idempotency key) and records the outcome (see `table/outbox.rs`).
//!
//! Exactly once: a dedupe key is written once, ever (conditional put). A text
//! is published only by the holder of its lease, only from a state in which
//! it certainly was not published before (just committed, released after a
//! refused publish, or deferred); a publish whose answer was lost, or a holder
//! that died mid-send, leaves it `unknown`: counted, shown to an operator,
//! never published again.
//!
//! **The outbound room** also holds what a text says ([`text`]: the text
//! and its class, [`templates`]: each trigger's wording) and to whom it may
//! go ([`recipient`]). May use: the domain and the table (its outbox and
//! ledger). Never the commit path or the runtime's serving.

pub mod recipient;
pub mod templates;
pub mod text;

use std::time::Duration as StdDuration;

use aws_sdk_sns::types::MessageAttributeValue;
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use tracing::{info, instrument, warn};

use crate::clock::SharedClock;
use crate::entity::CustomerId;
use crate::model::{Consent, SendEntry, SendLedger};
use crate::phone::{Phone, Textability};
use crate::store::{StoreConfig, StoreMode, LEGAL_WINDOW};
use crate::table::{Guard, Lease, Table, TableError, Tx};
use crate::text::{segments, MessageClass, OutboundText, TextState, WithdrawnIf, US_PRICE_PER_SEGMENT_MICRO_USD};

/// How long the writer of a text may take to publish it before another attempt
/// may take it over. Shorter than the queues' visibility timeout, longer than a
/// function's timeout.
pub const LEASE: StdDuration = StdDuration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("sns publish failed: {0}")]
    Publish(String),
    #[error(transparent)]
    Table(#[from] TableError),
}

/// A text a trigger wants to send.
#[derive(Debug, Clone)]
pub struct TextRequest<'a> {
    pub store: &'a StoreConfig,
    pub to: &'a Phone,
    pub class: MessageClass,
    pub body: String,
    /// Unique for what the text is about, e.g. `ro-status#RO-48213#ready_for_pickup`.
    pub dedupe_key: String,
    pub trigger: &'static str,
    pub event_id: &'a str,
    /// The cadence it is a step of: steps of one cadence never cap each other.
    pub cadence: Option<String>,
    /// The one confirmation of an opt-out the customer wrote in their own
    /// words (FCC 24-24: one, within 5 minutes, no marketing): it goes to
    /// the number its own event opts out, and only within those 5 minutes.
    pub confirms_opt_out: bool,
    /// What withdraws the text if it happens before the text goes.
    pub withdrawn_if: Option<WithdrawnIf>,
    /// The state items it is about that must still be open when it goes.
    pub while_open: Vec<String>,
    /// The person who wrote it (the staff inbox).
    pub sent_by: Option<String>,
}

/// Why a text is not sent at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suppressed {
    OptedOut,
    NoMarketingConsent,
    NotMobile,
    /// A marketing text over a frequency cap (named).
    Capped(String),
    /// The customer's reply may mean "stop": marketing waits for a person.
    MarketingPaused,
    /// The store already speaks to the customer about something else (named):
    /// one voice at a time, a person follows up instead.
    OneVoice(String),
}

impl Suppressed {
    pub fn reason(&self) -> String {
        match self {
            Suppressed::OptedOut => "the number opted out at this store".into(),
            Suppressed::NoMarketingConsent => "marketing text without marketing consent".into(),
            Suppressed::NotMobile => "the number cannot receive texts".into(),
            Suppressed::Capped(cap) => format!("frequency cap: {cap}"),
            Suppressed::OneVoice(why) => format!("one voice at a time: {why}"),
            Suppressed::MarketingPaused => {
                "marketing paused: the customer's reply may mean stop, a person decides".into()
            }
        }
    }
}

/// How long after an opt-out its confirmation may go (FCC 24-24, 47 CFR 64.1200(a)(10)).
pub const CONFIRMATION_WINDOW: Duration = Duration::minutes(5);

/// How far back the send ledger must reach: the longest cap window.
pub const LEDGER_KEEP: Duration = Duration::days(7);

/// What happens to a requested text.
#[derive(Debug, Clone)]
pub enum Plan {
    Send(OutboundText),
    Defer(OutboundText),
    Suppress(Suppressed),
}

impl<'a> TextRequest<'a> {
    pub fn new(
        store: &'a StoreConfig,
        to: &'a Phone,
        class: MessageClass,
        body: String,
        dedupe_key: String,
        trigger: &'static str,
        event_id: &'a str,
    ) -> Self {
        Self {
            store,
            to,
            class,
            body,
            dedupe_key,
            trigger,
            event_id,
            cadence: None,
            confirms_opt_out: false,
            withdrawn_if: None,
            while_open: Vec::new(),
            sent_by: None,
        }
    }
}

impl Plan {
    /// What the timeline says about the planned text (`what`: "text-back",
    /// "ready_for_pickup text"): its touchpoint kind and summary.
    pub fn summary(&self, what: &str) -> (&'static str, String) {
        match self {
            Plan::Send(_) => ("text.queued", format!("{what} queued")),
            Plan::Defer(t) => (
                "text.deferred",
                format!(
                    "{what} deferred to {} ({})",
                    t.due_at.map(|d| d.to_rfc3339()).unwrap_or_default(),
                    t.defer_reason.as_deref().unwrap_or("quiet hours")
                ),
            ),
            Plan::Suppress(s) => ("text.suppressed", format!("no {what}: {}", s.reason())),
        }
    }

    pub fn text(&self) -> Option<&OutboundText> {
        match self {
            Plan::Send(t) | Plan::Defer(t) => Some(t),
            Plan::Suppress(_) => None,
        }
    }
}

/// What [`Outbound::resume`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resumed {
    /// This caller held it and tried to send it.
    Delivered(Delivery),
    /// Another sender holds it and may still be publishing it.
    InFlight,
    /// Its sender's lease ran out mid-send: it may have been published, so it
    /// was marked `unknown`, never sent again.
    Abandoned,
    /// Deferred and not due yet.
    NotDue,
    /// Finished before: sent, shadowed, suppressed or unknown.
    Done,
    /// The number opted out meanwhile: closed, never sent.
    Suppressed,
    /// Its release attempts ran out: closed as failed, never sent.
    Failed,
}

/// How many times a text is leased for a publish before it is closed as
/// failed: a text SNS refuses every time (a 4xx) never loops forever.
pub const MAX_ATTEMPTS: u32 = 5;

/// What became of a text its holder tried to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Published, with SNS's message id.
    Sent { sns_message_id: String },
    /// Planned while the store ran in shadow mode: recorded, not published.
    Shadow,
    /// The texting window had closed by the time it could go: it waits until then.
    Deferred { until: DateTime<Utc> },
    /// SNS's answer was lost: it may or may not have been published, so it is
    /// marked `unknown` and never published again.
    Ambiguous,
}

/// How a failed Publish failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishFailure {
    /// SNS certainly did not publish it (it refused with a 4xx, or the request
    /// never left): it may be published again.
    NotPublished(String),
    /// It may have been published (a timeout, a dropped connection, a 5xx,
    /// an unreadable answer): it must not be published again.
    MaybePublished(String),
}

#[derive(Clone)]
pub struct Outbound {
    table: Table,
    sns: aws_sdk_sns::Client,
    clock: SharedClock,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound").field("table", &self.table.name()).finish_non_exhaustive()
    }
}

impl Outbound {
    /// The SNS client it publishes with.
    pub fn sns(&self) -> &aws_sdk_sns::Client {
        &self.sns
    }

    pub fn new(table: Table, sns: aws_sdk_sns::Client, clock: SharedClock) -> Self {
        Self { table, sns, clock }
    }

    /// One cheap SNS read (the account's default SMS type) that opens the
    /// connection the first text will use.
    pub async fn warm_up(&self) -> Result<(), String> {
        self.sns
            .get_sms_attributes()
            .attributes("DefaultSMSType")
            .send()
            .await
            .map(drop)
            .map_err(|e| aws_sdk_sns::error::DisplayErrorContext(e).to_string())
    }

    /// Sends a text this caller holds the lease of. At the moment of
    /// publishing it checks the texting window (a text released or taken over
    /// after 21:00 waits for the morning), then publishes once and records the
    /// outcome: sent (retried until the write lands), released for a retry
    /// when the publish certainly did not happen, `unknown` when it may have.
    #[instrument(skip_all, fields(dedupe_key = %text.dedupe_key, class = ?text.class))]
    pub async fn deliver(&self, text: &OutboundText, store: &StoreConfig) -> Result<Delivery, OutboundError> {
        let token = text.lease_token.clone().unwrap_or_default();
        let now = self.clock.now();
        let allowed = window_opens(text.class, store, &text.phone, now);
        if allowed > now {
            self.table.defer_text(text, &token, allowed).await?;
            info!(until = %allowed, "the texting window closed before the text could go: deferred");
            return Ok(Delivery::Deferred { until: allowed });
        }
        if text.shadow {
            self.record(text, &token, TextState::Shadow, None).await;
            info!(store_id = %text.store_id, "shadow mode: text recorded, not published");
            return Ok(Delivery::Shadow);
        }
        match self.publish(text).await {
            Ok(message_id) => {
                self.record(text, &token, TextState::Sent, Some(&message_id)).await;
                info!(sns_message_id = %message_id, "text sent");
                Ok(Delivery::Sent { sns_message_id: message_id })
            }
            Err(PublishFailure::NotPublished(e)) => {
                if let Err(release) = self.table.release_text(text, &token).await {
                    warn!(error = %release, "could not release the text; after its lease it is marked unknown");
                }
                Err(OutboundError::Publish(e))
            }
            Err(PublishFailure::MaybePublished(e)) => {
                let reason = format!("the publish may have happened: {e}");
                self.table.mark_unknown(text, store, Some(&token), &reason, self.clock.now()).await?;
                tracing::error!(error = %e, "SNS's answer was lost: the text is marked unknown and will not be sent again");
                Ok(Delivery::Ambiguous)
            }
        }
    }

    /// Records what became of a text this caller published (or shadowed),
    /// retrying until the write lands: a text left `sending` would be marked
    /// `unknown` after its lease, though it went out.
    async fn record(&self, text: &OutboundText, token: &str, state: TextState, sns_message_id: Option<&str>) {
        let mut wait = StdDuration::from_millis(50);
        for attempt in 1..=RECORD_ATTEMPTS {
            match self.table.finish_text(text, token, state, sns_message_id, self.clock.now()).await {
                Ok(()) => return,
                Err(e) if e.is_conditional_failure() => {
                    warn!(error = %e, "the text changed under its holder; its record stays as it is");
                    return;
                }
                Err(e) if attempt < RECORD_ATTEMPTS => {
                    warn!(error = %e, attempt, "recording the text failed; retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not record the text; after its lease it is marked unknown")
                }
            }
        }
    }

    /// After a duplicate event, or at its due time: sends `text` if it is
    /// pending (certainly not published) or deferred and due, re-checking the
    /// opt-out in the same transaction as the lease. A text whose sender's
    /// lease ran out mid-send is marked `unknown`, never sent again.
    #[instrument(skip_all, fields(dedupe_key = %text.dedupe_key))]
    pub async fn resume(&self, store: &StoreConfig, text: &OutboundText) -> Result<Resumed, OutboundError> {
        let now = self.clock.now();
        if text.confirms_opt_out && now > text.created_at + CONFIRMATION_WINDOW {
            let reason = "an opt-out is confirmed within 5 minutes or not at all (FCC 24-24)";
            self.table.suppress_text(text, reason, now).await?;
            return Ok(Resumed::Suppressed);
        }
        if text.attempts >= MAX_ATTEMPTS && matches!(text.state, TextState::Pending | TextState::Deferred) {
            let reason = format!("{} publish attempts refused: closed as failed", text.attempts);
            if self.table.fail_text(text, store, &reason, now).await? {
                tracing::error!(attempts = text.attempts, "release attempts exhausted: the text is closed as failed");
            }
            return Ok(Resumed::Failed);
        }
        let lease = Duration::from_std(LEASE).unwrap_or(Duration::seconds(30));
        Ok(match self.table.lease_text(text, now, lease).await? {
            Lease::Acquired(token) => {
                let leased = OutboundText {
                    state: TextState::Sending,
                    lease_until: Some(now + lease),
                    lease_token: Some(token),
                    ..text.clone()
                };
                Resumed::Delivered(self.deliver(&leased, store).await?)
            }
            Lease::OptedOut => {
                self.table.suppress_text(text, &Suppressed::OptedOut.reason(), now).await?;
                info!("the number opted out before the text was sent: suppressed");
                Resumed::Suppressed
            }
            Lease::Withdrawn(why) => {
                self.table.suppress_text(text, &why, now).await?;
                info!(reason = %why, "the text was withdrawn before it was sent");
                Resumed::Suppressed
            }
            Lease::Abandoned => {
                let reason = "its sender's lease ran out while it was sending: it may have been published";
                if self.table.mark_unknown(text, store, None, reason, now).await? {
                    tracing::error!("a sender died mid-send: the text is marked unknown and will not be sent again");
                }
                Resumed::Abandoned
            }
            Lease::Held => Resumed::InFlight,
            Lease::NotDue => Resumed::NotDue,
            Lease::Done => Resumed::Done,
        })
    }

    /// One Publish, never retried by the SDK (SNS has no idempotency key; see
    /// `aws::Clients`), its failure classified.
    async fn publish(&self, text: &OutboundText) -> Result<String, PublishFailure> {
        let attr = |v: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .map_err(|e| PublishFailure::NotPublished(e.to_string()))
        };
        let out = self
            .sns
            .publish()
            .phone_number(text.phone.e164())
            .message(&text.body)
            .message_attributes("AWS.SNS.SMS.SMSType", attr(text.class.sms_type())?)
            .message_attributes("AWS.MM.SMS.OriginationNumber", attr(text.origination.e164())?)
            .send()
            .await
            .map_err(|e| classify(&e))?;
        Ok(out.message_id.unwrap_or_default())
    }
}

/// How many times a holder tries to record a published text.
pub const RECORD_ATTEMPTS: u32 = 5;

/// Whether a failed Publish may have published the text. Certainly not: SNS
/// answered with a client error (throttled, invalid), the request could not be
/// built, or the connection was refused (nothing was sent). Anything else
/// (a timeout, a connection dropped after the request went, a 5xx, an answer
/// that could not be read) may have.
pub fn classify(
    e: &aws_sdk_sns::error::SdkError<
        aws_sdk_sns::operation::publish::PublishError,
        aws_sdk_sns::config::http::HttpResponse,
    >,
) -> PublishFailure {
    use aws_sdk_sns::error::SdkError;
    let message = crate::phone::redact_digits(&aws_sdk_sns::error::DisplayErrorContext(e).to_string());
    let certain = match e {
        SdkError::ConstructionFailure(_) => true,
        SdkError::ServiceError(service) => !service.raw().status().is_server_error(),
        SdkError::DispatchFailure(failure) => {
            failure.is_user()
                || failure
                    .as_connector_error()
                    .is_some_and(|c| source_chain(c).any(|io| io.kind() == std::io::ErrorKind::ConnectionRefused))
        }
        _ => false,
    };
    if certain {
        PublishFailure::NotPublished(message)
    } else {
        PublishFailure::MaybePublished(message)
    }
}

/// The I/O errors under an error.
fn source_chain<'a>(e: &'a (dyn std::error::Error + 'static)) -> impl Iterator<Item = &'a std::io::Error> {
    std::iter::successors(Some(e), |e| e.source()).filter_map(|e| e.downcast_ref::<std::io::Error>())
}

/// Adds a planned text to a trigger's transaction: the outbox row (written
/// once, ever, under its dedupe key), the send ledger (caps, versioned), and
/// the check that the number has not opted out since its state was read.
pub fn stage(tx: &mut Tx, customer: &CustomerId, plan: &Plan, sends: &SendLedger) {
    if let Some(text) = plan.text() {
        let at = text.due_at.unwrap_or(text.created_at);
        let entry = SendEntry { at, class: text.class, cadence: text.cadence.clone() };
        let next = sends.with(entry, text.created_at, LEDGER_KEEP);
        tx.put(text, Guard::New).put_on(customer, &next, Guard::Version((sends.version > 0).then_some(sends.version)));
        if !text.confirms_opt_out {
            tx.require_not_opted_out(customer);
        }
    }
}

/// The rules, as a pure function of the request, the consent ledger, the
/// recent texts and the time.
pub fn plan(req: TextRequest<'_>, consent: &Consent, sends: &SendLedger, now: DateTime<Utc>) -> Plan {
    if consent.opted_out() {
        return Plan::Suppress(Suppressed::OptedOut);
    }
    if req.to.textability() != Textability::MobileCapable {
        return Plan::Suppress(Suppressed::NotMobile);
    }
    let consent_basis = match req.class {
        MessageClass::Reply => "reply_to_customer_contact".to_owned(),
        MessageClass::Transactional => "transactional_relationship".to_owned(),
        // Prior express written consent (47 CFR 64.1200(c)(2), (f)(9)): the
        // text records which grant it relied on.
        MessageClass::Marketing => match &consent.marketing {
            _ if consent.marketing_paused() => return Plan::Suppress(Suppressed::MarketingPaused),
            Some(m) if m.granted => format!("marketing_opt_in:{} ({})", m.source, m.at.to_rfc3339()),
            _ => return Plan::Suppress(Suppressed::NoMarketingConsent),
        },
    };
    let (encoding, segs) = segments(&req.body);
    let quiet = window_opens(req.class, req.store, req.to, now);
    let (due, capped) = match apply_caps(req.class, req.store, sends, quiet, req.cadence.as_deref()) {
        Ok(t) => (t, t > quiet),
        Err(cap) => return Plan::Suppress(Suppressed::Capped(cap)),
    };
    if req.class == MessageClass::Marketing {
        let rule = crate::recipient::recipient(req.to).rule;
        if let Some(max) = rule.max_per_24_hours {
            if sends.count_near(due, Duration::hours(24), Some(MessageClass::Marketing), None) >= max {
                let cap = format!("{}: {max} solicitations per 24 hours ({})", rule.state, rule.source);
                return Plan::Suppress(Suppressed::Capped(cap));
            }
        }
    }
    let deferred = due > now;
    let defer_reason = deferred.then(|| if capped { "frequency cap" } else { "quiet hours" }.to_owned());
    let lease = Duration::from_std(LEASE).unwrap_or(Duration::seconds(30));
    let text = OutboundText {
        store_id: req.store.store_id.clone(),
        phone: req.to.clone(),
        origination: req.store.sms_number.clone(),
        dedupe_key: req.dedupe_key,
        class: req.class,
        body: req.body,
        trigger: req.trigger.to_owned(),
        event_id: req.event_id.to_owned(),
        state: if deferred { TextState::Deferred } else { TextState::Sending },
        consent_basis,
        encoding,
        segments: segs,
        est_price_micro_usd: u64::from(segs) * US_PRICE_PER_SEGMENT_MICRO_USD,
        created_at: now,
        due_at: deferred.then_some(due),
        lease_until: (!deferred).then_some(now + lease),
        // The committing invocation holds it first (one commit per event, ever).
        lease_token: (!deferred).then(|| format!("commit:{}", req.event_id)),
        sent_at: None,
        sns_message_id: None,
        attempts: u32::from(!deferred),
        suppressed_reason: None,
        defer_reason,
        shadow: req.store.mode == StoreMode::Shadow,
        cadence: req.cadence,
        confirms_opt_out: req.confirms_opt_out,
        withdrawn_if: req.withdrawn_if,
        while_open: req.while_open,
        sent_by: req.sent_by,
        receipt: None,
    };
    if deferred {
        Plan::Defer(text)
    } else {
        Plan::Send(text)
    }
}

/// When a text that may go at `at` (quiet hours permitting) may go under the
/// store's caps: replies always at `at`; transactional texts wait until the
/// 24-hour window frees (and the texting window is open); marketing texts over
/// a cap are dropped (`Err` names the cap).
pub fn apply_caps(
    class: MessageClass,
    store: &StoreConfig,
    sends: &SendLedger,
    at: DateTime<Utc>,
    cadence: Option<&str>,
) -> Result<DateTime<Utc>, String> {
    let caps = store.caps;
    let day = Duration::hours(24);
    let any_cap = caps.texts_per_24_hours as usize;
    match class {
        MessageClass::Reply => Ok(at),
        MessageClass::Marketing => {
            let other_marketing = sends.count_near(at, Duration::days(7), Some(MessageClass::Marketing), cadence);
            if other_marketing >= caps.marketing_per_7_days as usize {
                Err(format!("{} marketing text(s) per 7 days", caps.marketing_per_7_days))
            } else if sends.count_near(at, day, None, None) >= any_cap {
                Err(format!("{any_cap} texts per 24 hours"))
            } else {
                Ok(at)
            }
        }
        MessageClass::Transactional => {
            let mut t = at;
            // Each step moves past the latest text in the window, so this ends.
            for _ in 0..=sends.entries.len() {
                if sends.count_near(t, day, None, None) < any_cap {
                    return Ok(t);
                }
                let latest = sends.entries.iter().filter(|e| (e.at - t).abs() < day).map(|e| e.at).max().unwrap_or(t);
                t = next_allowed(class, store, latest + day);
            }
            Ok(t)
        }
    }
}

/// The earliest instant at or after `now` a text of `class` may go to `to`:
/// the store's window, and for marketing also the recipient's (their state's
/// hours in their zone, see [`crate::recipient`]): the stricter of the two.
pub fn window_opens(class: MessageClass, store: &StoreConfig, to: &Phone, now: DateTime<Utc>) -> DateTime<Utc> {
    let store_opens = next_allowed(class, store, now);
    if class != MessageClass::Marketing {
        return store_opens;
    }
    let recipient = crate::recipient::recipient(to);
    let mut t = store_opens;
    // Each round moves to the next opening of one of the two windows; both
    // open every week, so a few rounds find an instant inside both.
    for _ in 0..16 {
        let theirs = crate::recipient::opens(&recipient, store.timezone, t);
        let ours = next_allowed(class, store, theirs);
        if ours == theirs {
            return ours;
        }
        t = ours;
    }
    t
}

/// The earliest instant at or after `now` the store's window allows a text of `class`.
pub fn next_allowed(class: MessageClass, store: &StoreConfig, now: DateTime<Utc>) -> DateTime<Utc> {
    let ((opens, closes), skip_closed_days) = match class {
        MessageClass::Reply => return now,
        // The store's own texting window, never wider than the legal one.
        MessageClass::Transactional => (store.transactional_window(), false),
        // Closed days are skipped only if the store opens on some day.
        MessageClass::Marketing => (LEGAL_WINDOW, store.no_marketing_on_closed_days && store.has_marketing_days()),
    };
    let tz = store.timezone;
    let local = now.with_timezone(&tz);
    for offset in 0..=7 {
        let date = local.date_naive() + Duration::days(offset);
        if skip_closed_days && store.hours.on(date.weekday()).is_none() {
            continue;
        }
        if offset == 0 && local.time() >= opens && local.time() < closes {
            return now;
        }
        if offset == 0 && local.time() >= closes {
            continue;
        }
        // The opening wall time may fall in a DST gap (never at 08:00 in the
        // US, where clocks change at 02:00): then it is an hour later.
        let at = tz
            .from_local_datetime(&date.and_time(opens))
            .earliest()
            .or_else(|| tz.from_local_datetime(&(date.and_time(opens) + Duration::hours(1))).earliest())
            .map(|t| t.with_timezone(&Utc));
        if let Some(at) = at.filter(|t| *t >= now) {
            return at;
        }
    }
    now
}

#[cfg(test)]
mod tests;
