//! Inbound events (CONTRACT §3): the envelope every carrier and DMS event shares,
//! and the typed `data` of each event type. Unknown fields are ignored; missing
//! required fields are bad input.

use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::store::Department;

/// The fields every carrier and DMS event has, with `data` still untyped.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    pub event_id: String,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub store_id: String,
    pub data: serde_json::Value,
}

/// Why an event can never be processed. Always permanent: retrying cannot help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("body is not a JSON event envelope: {0}")]
    Envelope(String),
    #[error("event {event_id}: expected event_type {expected}, got {actual}")]
    WrongType { event_id: String, expected: &'static str, actual: String },
    #[error("event {event_id}: invalid {event_type} data: {reason}")]
    Data { event_id: String, event_type: String, reason: String },
}

impl Envelope {
    /// Parses an SQS body (raw SNS delivery: the event JSON itself).
    pub fn parse(body: &str) -> Result<Self, EventError> {
        let env: Envelope = serde_json::from_str(body)
            .map_err(|e| EventError::Envelope(crate::phone::redact_digits(&e.to_string())))?;
        if env.event_id.trim().is_empty() {
            return Err(EventError::Envelope("event_id is empty".into()));
        }
        if env.store_id.trim().is_empty() {
            return Err(EventError::Envelope(format!("event {}: store_id is empty", env.event_id)));
        }
        check_id("event_id", &env.event_id).map_err(EventError::Envelope)?;
        let bad = |why: String| EventError::Envelope(format!("event {}: {why}", env.event_id));
        check_id("store_id", &env.store_id).map_err(bad)?;
        check_time("occurred_at", env.occurred_at).map_err(bad)?;
        Ok(env)
    }

    /// The typed `data` of an event type this consumer expects.
    pub fn data<T: EventData>(&self) -> Result<T, EventError> {
        if self.event_type != T::EVENT_TYPE {
            return Err(EventError::WrongType {
                event_id: self.event_id.clone(),
                expected: T::EVENT_TYPE,
                actual: self.event_type.clone(),
            });
        }
        let invalid = |reason: String| EventError::Data {
            event_id: self.event_id.clone(),
            event_type: self.event_type.clone(),
            reason: crate::phone::redact_digits(&reason),
        };
        let data = T::deserialize(&self.data).map_err(|e| invalid(e.to_string()))?;
        check_value("data", &self.data).map_err(invalid)?;
        Ok(data)
    }
}

/// The topic an event type is published to (`carrier-events`, `dms-events`),
/// or `None` for a type custops does not take.
pub fn topic_for(event_type: &str) -> Option<&'static str> {
    match event_type {
        "call.missed" | "call.answered" => Some("carrier-events"),
        "ro.status_changed"
        | "ro.closed"
        | "deal.delivered"
        | "deal.unwound"
        | "appointment.booked"
        | "appointment.missed"
        | "appointment.cancelled" => Some("dms-events"),
        _ => None,
    }
}

/// Publishes `body` to a topic with the `event_type` message attribute the
/// subscriptions filter on (the one way an event enters a topic: the front
/// door, the operator CLI, replays).
pub async fn publish(
    sns: &aws_sdk_sns::Client,
    topic_arn: &str,
    body: &str,
    event_type: Option<&str>,
) -> Result<(), String> {
    let mut req = sns.publish().topic_arn(topic_arn).message(body);
    if let Some(t) = event_type {
        let attribute = aws_sdk_sns::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value(t)
            .build()
            .map_err(|e| e.to_string())?;
        req = req.message_attributes("event_type", attribute);
    }
    req.send().await.map(drop).map_err(|e| aws_sdk_sns::error::DisplayErrorContext(&e).to_string())
}

impl Envelope {
    /// Whether the envelope is valid input for its trigger (its `data` as
    /// its event type's); the topic it goes to.
    pub fn check(&self) -> Result<&'static str, EventError> {
        let topic = topic_for(&self.event_type).ok_or_else(|| {
            EventError::Envelope(format!(
                "event {}: unknown event_type {:?}",
                self.event_id,
                crate::phone::redact_digits(&self.event_type)
            ))
        })?;
        match self.event_type.as_str() {
            "call.missed" => self.data::<CallMissed>().map(drop),
            "call.answered" => self.data::<CallAnswered>().map(drop),
            "ro.status_changed" => self.data::<RoStatusChanged>().map(drop),
            "ro.closed" => self.data::<RoClosed>().map(drop),
            "deal.delivered" => self.data::<DealDelivered>().map(drop),
            "deal.unwound" => self.data::<DealUnwound>().map(drop),
            "appointment.booked" => self.data::<AppointmentBooked>().map(drop),
            "appointment.cancelled" => self.data::<AppointmentCancelled>().map(drop),
            _ => self.data::<AppointmentMissed>().map(drop),
        }?;
        Ok(topic)
    }
}

/// The longest id (event, store, call, RO, ...) custops accepts.
pub const MAX_ID: usize = 256;
/// The longest text field (a name, a description) custops accepts.
pub const MAX_TEXT: usize = 1024;
/// The largest amount, in cents ($10,000,000): larger is a DMS error.
pub const MAX_CENTS: i64 = 1_000_000_000;

/// An id custops accepts (an event's, a store's, a message's, a number as
/// sent): at most [`MAX_ID`] characters, no control characters.
pub fn check_id(field: &str, id: &str) -> Result<(), String> {
    if id.chars().count() > MAX_ID || id.chars().any(char::is_control) {
        Err(format!("{field} is longer than {MAX_ID} characters or holds control characters"))
    } else {
        Ok(())
    }
}

/// Times custops accepts: 2000 to 2099 (a DMS's zero date or a far-future
/// typo would file the event under a day nobody reads).
pub fn check_time(field: &str, t: DateTime<Utc>) -> Result<(), String> {
    use chrono::Datelike;
    if (2000..2100).contains(&t.year()) {
        Ok(())
    } else {
        Err(format!("{field} {} is out of range (2000-2099)", t.format("%Y-%m-%d")))
    }
}

/// Checks what typing cannot: every text short and free of control
/// characters (tabs and line breaks allowed), every `*_cents` amount between
/// 0 and [`MAX_CENTS`], every time (`*_at`, `at`) between 2000 and 2099.
pub fn check_value(path: &str, value: &serde_json::Value) -> Result<(), String> {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            if s.chars().count() > MAX_TEXT {
                return Err(format!("{path} is longer than {MAX_TEXT} characters"));
            }
            if s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
                return Err(format!("{path} holds control characters"));
            }
            if path.ends_with("_at") || path.ends_with(".at") {
                if let Ok(t) = s.parse::<DateTime<Utc>>() {
                    check_time(path, t)?;
                }
            }
            Ok(())
        }
        Value::Number(n) if path.ends_with("_cents") => match n.as_i64() {
            Some(c) if (0..=MAX_CENTS).contains(&c) => Ok(()),
            _ => Err(format!("{path} must be between 0 and {MAX_CENTS} cents")),
        },
        Value::Array(items) => items.iter().enumerate().try_for_each(|(i, v)| check_value(&format!("{path}[{i}]"), v)),
        Value::Object(fields) => fields.iter().try_for_each(|(k, v)| check_value(&format!("{path}.{k}"), v)),
        _ => Ok(()),
    }
}

/// An optional `YYYY-MM-DD` day (an ETA, a first payment), refused with a
/// reason that names the format.
pub(crate) fn day<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<chrono::NaiveDate>, D::Error> {
    let Some(s) = Option::<String>::deserialize(d)? else { return Ok(None) };
    chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| serde::de::Error::custom("a day (eta, first_payment_on) must be YYYY-MM-DD"))
}

/// The `data` of one event type.
pub trait EventData: DeserializeOwned {
    const EVENT_TYPE: &'static str;
}

/// `call.missed` on `carrier-events`. `from` stays raw here: an unparseable
/// caller number is recorded, not rejected (the call still happened).
#[derive(Debug, Clone, Deserialize)]
pub struct CallMissed {
    pub call_id: String,
    pub from: String,
    pub to: String,
    pub department: Department,
    #[serde(default)]
    pub voicemail: Option<bool>,
}

impl EventData for CallMissed {
    const EVENT_TYPE: &'static str = "call.missed";
}

/// `call.answered` on `carrier-events` (section 14): a call the store
/// answered. It goes on the caller's record and closes their open callbacks
/// as `reached`.
#[derive(Debug, Clone, Deserialize)]
pub struct CallAnswered {
    pub call_id: String,
    pub from: String,
    pub to: String,
    pub department: Department,
    /// How long the call lasted, when the phone system says.
    #[serde(default)]
    pub duration_seconds: Option<u32>,
}

impl EventData for CallAnswered {
    const EVENT_TYPE: &'static str = "call.answered";
}

/// A customer as the DMS sends it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DmsCustomer {
    pub dms_id: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub marketing_consent: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vehicle {
    pub vin: String,
    pub year: u16,
    pub make: String,
    pub model: String,
}

impl Vehicle {
    /// "2021 Chevrolet Tahoe".
    pub fn describe(&self) -> String {
        format!("{} {} {}", self.year, self.make, self.model)
    }
}

/// An advisor or a salesperson.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: String,
}

/// `ro.status_changed` on `dms-events`.
#[derive(Debug, Clone, Deserialize)]
pub struct RoStatusChanged {
    pub ro_number: String,
    pub status: String,
    pub customer: DmsCustomer,
    pub vehicle: Vehicle,
    pub advisor: Person,
    #[serde(default)]
    pub amount_due_cents: Option<i64>,
    /// When the part is expected (`waiting_parts`): the store-local day.
    #[serde(default, deserialize_with = "day")]
    pub eta: Option<chrono::NaiveDate>,
}

impl EventData for RoStatusChanged {
    const EVENT_TYPE: &'static str = "ro.status_changed";
}

/// A DMS event about one of its customers.
pub trait CustomerEvent: EventData {
    fn customer(&self) -> &DmsCustomer;
}

impl CustomerEvent for RoStatusChanged {
    fn customer(&self) -> &DmsCustomer {
        &self.customer
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeclinedLine {
    pub line_id: String,
    pub op_code: String,
    pub description: String,
    pub estimate_cents: i64,
}

/// `ro.closed` on `dms-events`.
#[derive(Debug, Clone, Deserialize)]
pub struct RoClosed {
    pub ro_number: String,
    pub closed_at: DateTime<Utc>,
    pub customer: DmsCustomer,
    pub vehicle: Vehicle,
    pub advisor: Person,
    #[serde(default)]
    pub mileage: Option<u32>,
    pub performed: Vec<String>,
    pub declined: Vec<DeclinedLine>,
}

impl EventData for RoClosed {
    const EVENT_TYPE: &'static str = "ro.closed";
}

impl CustomerEvent for RoClosed {
    fn customer(&self) -> &DmsCustomer {
        &self.customer
    }
}

/// How a vehicle was paid for (section 14: a lease or a loan matures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurchaseType {
    Cash,
    Finance,
    Lease,
}

/// `deal.delivered` on `dms-events`; the optional fields are section 14's.
#[derive(Debug, Clone, Deserialize)]
pub struct DealDelivered {
    pub deal_id: String,
    pub delivered_at: DateTime<Utc>,
    pub customer: DmsCustomer,
    pub vehicle: Vehicle,
    pub salesperson: Person,
    #[serde(flatten)]
    pub terms: DealTerms,
}

/// What section 14 reads of a delivered deal, as `deal.delivered` and the
/// DMS feed's deal snapshot both carry it (the feed passes it on as is).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DealTerms {
    /// The co-buyer: one household with the buyer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub co_buyer: Option<DmsCustomer>,
    /// The odometer at delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mileage: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_type: Option<PurchaseType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_months: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "day")]
    pub first_payment_on: Option<chrono::NaiveDate>,
}

impl EventData for DealDelivered {
    const EVENT_TYPE: &'static str = "deal.delivered";
}

impl CustomerEvent for DealDelivered {
    fn customer(&self) -> &DmsCustomer {
        &self.customer
    }
}

/// `deal.unwound` on `dms-events`: the DMS unwound a deal (the feed
/// publishes it for a deal snapshot whose `status` becomes `unwound`,
/// CONTRACT.md section 13). The purchase leaves the open work; the
/// envelope's `occurred_at` is when.
#[derive(Debug, Clone, Deserialize)]
pub struct DealUnwound {
    pub deal_id: String,
    pub customer: DmsCustomer,
    pub vehicle: Vehicle,
    pub salesperson: Person,
    /// When it was delivered, when the DMS said.
    #[serde(default)]
    pub delivered_at: Option<DateTime<Utc>>,
}

impl EventData for DealUnwound {
    const EVENT_TYPE: &'static str = "deal.unwound";
}

impl CustomerEvent for DealUnwound {
    fn customer(&self) -> &DmsCustomer {
        &self.customer
    }
}

/// `appointment.booked` and `appointment.missed` on `dms-events`.
#[derive(Debug, Clone, Deserialize)]
pub struct Appointment {
    pub appointment_id: String,
    /// When the appointment is (or was).
    pub at: DateTime<Utc>,
    pub customer: DmsCustomer,
    #[serde(default)]
    pub vehicle: Option<Vehicle>,
    /// The work it is for; none listed: any work.
    #[serde(default)]
    pub op_codes: Option<Vec<String>>,
    #[serde(default)]
    pub advisor: Option<Person>,
}

/// `appointment.booked`: a promise to come in.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct AppointmentBooked(pub Appointment);

impl EventData for AppointmentBooked {
    const EVENT_TYPE: &'static str = "appointment.booked";
}

impl CustomerEvent for AppointmentBooked {
    fn customer(&self) -> &DmsCustomer {
        &self.0.customer
    }
}

/// `appointment.missed`: a no-show.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct AppointmentMissed(pub Appointment);

impl EventData for AppointmentMissed {
    const EVENT_TYPE: &'static str = "appointment.missed";
}

impl CustomerEvent for AppointmentMissed {
    fn customer(&self) -> &DmsCustomer {
        &self.0.customer
    }
}

/// `appointment.cancelled`: the DMS took the appointment off its schedule.
#[derive(Debug, Clone, Deserialize)]
pub struct AppointmentCancelled {
    pub appointment_id: String,
    pub customer: DmsCustomer,
}

impl EventData for AppointmentCancelled {
    const EVENT_TYPE: &'static str = "appointment.cancelled";
}

impl CustomerEvent for AppointmentCancelled {
    fn customer(&self) -> &DmsCustomer {
        &self.customer
    }
}

/// A two-way SMS payload from AWS End User Messaging on `inbound-sms`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundSms {
    pub origination_number: String,
    pub destination_number: String,
    #[serde(default)]
    pub message_keyword: Option<String>,
    pub message_body: String,
    pub inbound_message_id: String,
    #[serde(default)]
    pub previous_published_message_id: Option<String>,
}

/// The longest text custops accepts from a customer (ten concatenated SMS).
pub const MAX_SMS_BODY: usize = 1600;

impl InboundSms {
    /// Parses a payload from End User Messaging; the reason it is not one.
    pub fn parse(body: &str) -> Result<Self, String> {
        let sms: InboundSms = serde_json::from_str(body)
            .map_err(|e| format!("not an inbound SMS payload: {}", crate::phone::redact_digits(&e.to_string())))?;
        if sms.inbound_message_id.trim().is_empty() {
            return Err("inboundMessageId is empty".into());
        }
        check_id("inboundMessageId", &sms.inbound_message_id)?;
        if sms.message_body.chars().count() > MAX_SMS_BODY {
            return Err(format!("messageBody is longer than {MAX_SMS_BODY} characters"));
        }
        let fields = [
            ("originationNumber", Some(&sms.origination_number)),
            ("destinationNumber", Some(&sms.destination_number)),
            ("messageKeyword", sms.message_keyword.as_ref()),
            ("previousPublishedMessageId", sms.previous_published_message_id.as_ref()),
        ];
        for (name, value) in fields {
            value.map_or(Ok(()), |v| check_id(name, v))?;
        }
        Ok(sms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MISSED: &str = r#"{"event_id":"c-1","event_type":"call.missed","occurred_at":"2026-11-23T16:05:00Z",
        "store_id":"northside-chevy","extra":1,
        "data":{"call_id":"k1","from":"(512) 555-0142","to":"+15125550100","department":"service","new_field":true}}"#;

    #[test]
    fn a_call_missed_event_parses_and_ignores_unknown_fields() {
        let env = Envelope::parse(MISSED).unwrap();
        let data: CallMissed = env.data().unwrap();
        assert_eq!(env.event_id, "c-1");
        assert_eq!(data.department, Department::Service);
        assert_eq!(data.voicemail, None);
    }

    #[test]
    fn missing_fields_name_the_event_and_the_field_but_not_the_number() {
        let body = MISSED.replace(r#""call_id":"k1","#, "");
        let err = Envelope::parse(&body).unwrap().data::<CallMissed>().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("c-1") && msg.contains("call_id"), "{msg}");
    }

    #[test]
    fn not_json_and_wrong_type_are_errors() {
        assert!(matches!(Envelope::parse("hello"), Err(EventError::Envelope(_))));
        let env = Envelope::parse(MISSED).unwrap();
        assert!(matches!(env.data::<RoStatusChanged>(), Err(EventError::WrongType { .. })));
    }

    #[test]
    fn an_unknown_department_is_invalid() {
        let body = MISSED.replace("\"service\"", "\"bodyshop\"");
        assert!(Envelope::parse(&body).unwrap().data::<CallMissed>().is_err());
    }
}
