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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// The envelope recipients the receipt rule matched (a forwarded or BCC'd
    /// lead is matched here, whatever its `To:` header says).
    pub recipients: Vec<String>,
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

    /// The raw MIME message.
    pub fn content(&self) -> &str {
        self.content.as_deref().unwrap_or_default()
    }
}
