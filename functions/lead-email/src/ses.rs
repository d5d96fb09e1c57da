//! Amazon SES inbound-mail notifications, as a receipt rule's SNS action
//! publishes them (encoding UTF-8): `notificationType` `Received`, the
//! `mail` object (its `messageId`, `timestamp`, `destination`,
//! `commonHeaders`), the `receipt` object (its `recipients`: the envelope
//! addresses the rule matched) and `content`, the raw MIME message. Fields
//! this function does not read are ignored. See "Contents of notifications
//! for Amazon SES email receiving" in the SES developer guide.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The largest mail SES publishes through SNS (150 KB, headers included):
/// anything larger bounces at SES, so a larger `content` is not SES's.
pub const MAX_CONTENT: usize = 150 * 1024;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub notification_type: String,
    pub mail: Mail,
    pub receipt: Receipt,
    /// The raw message (MIME). Present for the SNS action only.
    #[serde(default)]
    pub content: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mail {
    pub message_id: String,
    pub timestamp: DateTime<Utc>,
    #[serde(default)]
    pub destination: Vec<String>,
    /// The envelope sender (`MAIL FROM`), which SPF checks.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub common_headers: CommonHeaders,
}

/// The headers SES reads out of the message.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommonHeaders {
    /// The `From` header's mailboxes (`Name <address>`), which DMARC checks.
    #[serde(default)]
    pub from: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// The envelope recipients the receipt rule matched (a forwarded or BCC'd
    /// lead is matched here, whatever its `To:` header says).
    pub recipients: Vec<String>,
    /// SES's scans (the rule's `ScanEnabled`) and sender checks; a verdict
    /// SES did not give is none.
    #[serde(default)]
    pub spam_verdict: Option<Verdict>,
    #[serde(default)]
    pub virus_verdict: Option<Verdict>,
    #[serde(default)]
    pub spf_verdict: Option<Verdict>,
    #[serde(default)]
    pub dmarc_verdict: Option<Verdict>,
}

/// One of SES's verdicts: `PASS`, `FAIL`, `GRAY` or `PROCESSING_FAILED`.
#[derive(Debug, Clone, Deserialize)]
pub struct Verdict {
    pub status: String,
}

/// Whether a lead mail may be texted (CONTRACT section 3): the reason it
/// may not, which goes on the record's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Clean, and sent by an authenticated sender on the store's list.
    Trusted,
    /// SES's spam or virus scan did not pass (or did not run).
    NotClean,
    /// Neither DMARC (for the `From` domain) nor SPF (for the envelope
    /// sender) passed.
    NotAuthenticated,
    /// Authenticated, but the store's `lead_senders` does not list the sender.
    NotListed,
}

impl Trust {
    /// Why a lead is not texted, as the timeline says it.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Trust::Trusted => None,
            Trust::NotClean => Some("SES's spam or virus scan did not pass"),
            Trust::NotAuthenticated => Some("the sender is not authenticated (neither DMARC nor SPF passed)"),
            Trust::NotListed => Some("the sender is not on the store's lead_senders"),
        }
    }
}

impl Notification {
    /// Parses an SQS body (raw SNS delivery: the notification itself); the
    /// reason it is not one SES would send.
    pub fn parse(body: &str) -> Result<Self, String> {
        let n: Notification = serde_json::from_str(body).map_err(|e| {
            format!("not an SES receipt notification: {}", custops::phone::redact_digits(&e.to_string()))
        })?;
        if n.notification_type != "Received" {
            return Err(format!("notificationType {:?}, not Received", n.notification_type));
        }
        custops::event::check_id("mail.messageId", &n.mail.message_id)?;
        if n.mail.message_id.trim().is_empty() {
            return Err("mail.messageId is empty".into());
        }
        match &n.content {
            None => return Err("no content: the receipt rule's action must be SNS, which carries the message".into()),
            Some(c) if c.len() > MAX_CONTENT => return Err(format!("content is over SES's {MAX_CONTENT} bytes")),
            Some(_) => {}
        }
        Ok(n)
    }

    /// The senders SES authenticated: the `From` address when DMARC passed
    /// (it checks that domain), the envelope sender when SPF passed.
    pub fn authenticated_senders(&self) -> Vec<String> {
        let mut out = Vec::new();
        if passed(&self.receipt.dmarc_verdict) {
            out.extend(self.mail.common_headers.from.iter().filter_map(|f| mailbox_address(f)));
        }
        if passed(&self.receipt.spf_verdict) {
            out.extend(self.mail.source.as_deref().and_then(mailbox_address));
        }
        out
    }

    /// Whether this mail's lead may be texted for a store that takes leads
    /// from `listed` senders.
    pub fn trust(&self, listed: impl Fn(&str) -> bool) -> Trust {
        if !passed(&self.receipt.spam_verdict) || !passed(&self.receipt.virus_verdict) {
            return Trust::NotClean;
        }
        let senders = self.authenticated_senders();
        if senders.is_empty() {
            Trust::NotAuthenticated
        } else if senders.iter().any(|s| listed(s)) {
            Trust::Trusted
        } else {
            Trust::NotListed
        }
    }

    /// The raw MIME message.
    pub fn content(&self) -> &str {
        self.content.as_deref().unwrap_or_default()
    }
}

fn passed(verdict: &Option<Verdict>) -> bool {
    verdict.as_ref().is_some_and(|v| v.status.eq_ignore_ascii_case("PASS"))
}

/// The address of a mailbox as a header writes it (`Name <a@b.example>`,
/// `a@b.example`), lower case; none if it holds no mail address.
fn mailbox_address(mailbox: &str) -> Option<String> {
    let inner = match (mailbox.rfind('<'), mailbox.rfind('>')) {
        (Some(open), Some(close)) if open < close => &mailbox[open + 1..close],
        _ => mailbox,
    };
    let address = inner.trim().to_ascii_lowercase();
    custops::store::is_mail_address(&address).then_some(address)
}
