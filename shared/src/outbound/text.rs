//! An outbound text as stored in the outbox, and what it costs: GSM-7 / UCS-2
//! segment counting and the price estimate recorded on every text.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::entity::Entity;
use crate::keys::{self, Keys};
use crate::phone::Phone;

/// The class sets the SNS `SMSType` and the rules a text must pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageClass {
    /// Answers a contact the customer started (a missed-call text-back). Any hour.
    Reply,
    /// Status of the customer's own vehicle or repair order. Inside the texting window.
    Transactional,
    /// Declined-work offers, win-back. Needs marketing consent; 08:00-21:00 local.
    Marketing,
}

impl MessageClass {
    /// CONTRACT §5: `Transactional` for replies and status, `Promotional` for marketing.
    pub fn sms_type(self) -> &'static str {
        match self {
            MessageClass::Reply | MessageClass::Transactional => "Transactional",
            MessageClass::Marketing => "Promotional",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextState {
    /// Written by the trigger's transaction; its writer holds a lease to publish it.
    Sending,
    /// Released after a failed publish: the next attempt takes it over.
    Pending,
    /// Not allowed to go now; released by the scheduler at `due_at`.
    Deferred,
    /// Published; `sns_message_id` is set.
    Sent,
    /// The store runs in shadow mode: everything but the publish happened.
    Shadow,
    /// Never sent: the number opted out before it was due.
    Suppressed,
    /// Never sent: its release attempts ran out (SNS refused it every time):
    /// closed with the reason, counted on the day, alarmed.
    Failed,
    /// SNS may or may not have published it (its answer was lost, or its
    /// sender's lease ran out mid-send). SNS has no idempotency key, so it is
    /// never published again: an operator sees it (`custops texts`, the day's
    /// `text_ambiguous` fact) and decides.
    Unknown,
}

impl TextState {
    /// The name stored in the `state` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            TextState::Sending => "sending",
            TextState::Pending => "pending",
            TextState::Deferred => "deferred",
            TextState::Sent => "sent",
            TextState::Shadow => "shadow",
            TextState::Suppressed => "suppressed",
            TextState::Unknown => "unknown",
            TextState::Failed => "failed",
        }
    }

    /// Sent, shadowed, suppressed, unknown or failed: nothing more happens to it by itself.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TextState::Sent | TextState::Shadow | TextState::Suppressed | TextState::Unknown | TextState::Failed
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundText {
    pub store_id: String,
    pub phone: Phone,
    /// The store's `sms_number`: the `AWS.MM.SMS.OriginationNumber`.
    pub origination: Phone,
    /// Sent at most once, ever: the text's sort key.
    pub dedupe_key: String,
    pub class: MessageClass,
    pub body: String,
    /// Which trigger made it (`missed_call`, `ro_status`, ...).
    pub trigger: String,
    pub event_id: String,
    pub state: TextState,
    /// What allowed the text: `reply_to_inbound_call`, `transactional_relationship`, `marketing_opt_in:<source>`.
    pub consent_basis: String,
    pub encoding: Encoding,
    pub segments: u32,
    /// Estimated price in millionths of a US dollar.
    pub est_price_micro_usd: u64,
    pub created_at: DateTime<Utc>,
    /// When a deferred text may go (epoch milliseconds in the table, for conditions).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "chrono::serde::ts_milliseconds_option")]
    pub due_at: Option<DateTime<Utc>>,
    /// Until when the current sender holds the text (epoch milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "chrono::serde::ts_milliseconds_option")]
    pub lease_until: Option<DateTime<Utc>>,
    /// Who holds the lease: every write that finishes, releases or defers the
    /// text is conditional on it, so a stale holder never changes a text
    /// someone else holds or has closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sns_message_id: Option<String>,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed_reason: Option<String>,
    /// The cadence it is a step of (see `SendEntry::cadence`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cadence: Option<String>,
    /// Planned while the store ran in shadow mode: recorded, never published,
    /// whatever the store's mode when it falls due.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shadow: bool,
    /// Why a deferred text waits: quiet hours or a frequency cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defer_reason: Option<String>,
    /// The confirmation of an opt-out in the customer's own words: it goes
    /// to the number that just opted out, within 5 minutes or never.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confirms_opt_out: bool,
    /// What withdraws the text if it happens before the text goes (a text
    /// that waits for the window, or is retried, is checked when it is
    /// leased; the check is in the lease's transaction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_if: Option<WithdrawnIf>,
    /// The state items (sort keys) the text is about that must still be open
    /// when it goes (a follow-up's declined lines: a booking, a recovery or a
    /// person closing the work withdraws it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub while_open: Vec<String>,
    /// The person who wrote it (a staff user's email, from the staff inbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_by: Option<String>,
    /// What the carrier said of it (SNS's delivery-status record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}

/// A text's delivery receipt: SNS's SMS delivery-status record (CONTRACT.md
/// section 11), as the carrier answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub status: DeliveryStatus,
    /// When SNS recorded it (`notification.timestamp`).
    pub at: DateTime<Utc>,
    /// The carrier's words (`delivery.providerResponse`).
    pub provider_response: String,
    /// What it cost (`delivery.priceInUSD`), in millionths of a dollar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_micro_usd: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
}

/// Whether the carrier delivered a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }
}

/// What withdraws a text that has not gone yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawnIf {
    /// The customer comes in again: a win-back text is about the lapse since
    /// the visit the store reached out about (`lapse_contacted`). A later
    /// visit (`last_visit_at` moves) ends that lapse, and a repair order
    /// opened or moving meanwhile (`ro_activity_at` after the text was
    /// written) means the store already speaks to the customer about it.
    Visited,
}

impl WithdrawnIf {
    /// Why a text withdrawn by this was not sent (the text's `suppressed_reason`).
    pub fn reason(self) -> &'static str {
        match self {
            WithdrawnIf::Visited => "withdrawn: the customer has been in since (a visit or a repair order)",
        }
    }
}

/// Where a text is: what an event's claim remembers of the texts it wrote, so
/// a retry of the event finds them even when it plans none itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextRef {
    pub store_id: String,
    pub phone: Phone,
    pub dedupe_key: String,
}

impl TextRef {
    pub fn of(text: &OutboundText) -> Self {
        Self { store_id: text.store_id.clone(), phone: text.phone.clone(), dedupe_key: text.dedupe_key.clone() }
    }

    /// The text's primary key.
    pub fn keys(&self) -> Keys {
        Keys::new(keys::customer_pk(&self.store_id, &self.phone), format!("TEXT#{}", self.dedupe_key))
    }
}

/// Written once, ever, under its dedupe key. Every unfinished text is on the
/// due index (deferred ones at their due time, the rest from when they were
/// written), so the scheduler also finds one whose sender died; finishing a
/// text takes it off.
impl Entity for OutboundText {
    const KIND: &'static str = "text";
    type Scope = ();

    fn keys(&self, _: &()) -> Keys {
        let mut k = TextRef::of(self).keys();
        let (pk, sk) = (k.pk.clone(), k.sk.clone());
        k.gsi2 = Some((keys::texts_feed(&self.store_id), format!("{}#{}", keys::ts(self.created_at), self.dedupe_key)));
        if let Some(id) = &self.sns_message_id {
            k.gsi1 = Some((keys::sns_message(id), "TEXT".into()));
        }
        if !self.state.is_finished() {
            let due = self.due_at.unwrap_or(self.created_at);
            k.gsi3 = Some((keys::due_shard(&pk), format!("{}#{pk}#{sk}", keys::ts(due))));
        }
        k
    }
}

/// US outbound SMS list price per segment, in millionths of a dollar (carrier fees excluded).
pub const US_PRICE_PER_SEGMENT_MICRO_USD: u64 = 5_810;

/// Cents as dollars for a text: 48735 -> "$487.35", 123456 -> "$1,234.56".
pub fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}${grouped}.{:02}", cents % 100)
}

/// Characters of the GSM 03.38 basic set (one septet each).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Characters of the extension table (an escape plus one septet: two each).
const GSM7_EXTENDED: &str = "^{}\\[~]|€\u{000C}";

/// Whether `c` takes one GSM-7 septet (a text of such characters fits 160 to a segment).
pub fn is_gsm7_basic(c: char) -> bool {
    GSM7_BASIC.contains(c)
}

/// The encoding a body needs and how many SMS segments it takes.
pub fn segments(body: &str) -> (Encoding, u32) {
    let mut septets = 0u32;
    let mut gsm = true;
    for c in body.chars() {
        if GSM7_BASIC.contains(c) {
            septets += 1;
        } else if GSM7_EXTENDED.contains(c) {
            septets += 2;
        } else {
            gsm = false;
            break;
        }
    }
    if gsm {
        let n = if septets <= 160 { 1 } else { septets.div_ceil(153) };
        (Encoding::Gsm7, n.max(1))
    } else {
        // UTF-16 code units: characters outside the BMP take two.
        let units: u32 = body.chars().map(|c| c.len_utf16() as u32).sum();
        let n = if units <= 70 { 1 } else { units.div_ceil(67) };
        (Encoding::Ucs2, n.max(1))
    }
}

/// The characters that force a GSM-7 body into UCS-2.
pub fn non_gsm_chars(body: &str) -> Vec<char> {
    body.chars().filter(|c| !GSM7_BASIC.contains(*c) && !GSM7_EXTENDED.contains(*c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_are_grouped_and_rounded_to_cents() {
        assert_eq!(dollars(48735), "$487.35");
        assert_eq!(dollars(123456), "$1,234.56");
        assert_eq!(dollars(5), "$0.05");
        assert_eq!(dollars(100_000_000), "$1,000,000.00");
    }

    #[test]
    fn gsm7_segments() {
        assert_eq!(segments("Hi Maria"), (Encoding::Gsm7, 1));
        assert_eq!(segments(&"a".repeat(160)), (Encoding::Gsm7, 1));
        assert_eq!(segments(&"a".repeat(161)), (Encoding::Gsm7, 2));
        assert_eq!(segments(&"a".repeat(306)), (Encoding::Gsm7, 2));
        assert_eq!(segments(&"a".repeat(307)), (Encoding::Gsm7, 3));
        // Extension characters count twice.
        assert_eq!(segments(&"€".repeat(80)), (Encoding::Gsm7, 1));
        assert_eq!(segments(&"€".repeat(81)), (Encoding::Gsm7, 2));
    }

    #[test]
    fn one_curly_quote_switches_to_ucs2() {
        let body = format!("{}’", "a".repeat(69));
        assert_eq!(segments(&body), (Encoding::Ucs2, 1));
        assert_eq!(segments(&format!("{}’", "a".repeat(70))), (Encoding::Ucs2, 2));
        assert_eq!(non_gsm_chars("it’s"), vec!['’']);
    }
}
