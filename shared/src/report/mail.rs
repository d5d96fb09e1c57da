//! The report by mail (section 8): one SES message from the deploy's
//! verified sender (`REPORT_SENDER`, template parameter `ReportSender`) to
//! the store's `report_to`, the page as its HTML body and the text report
//! as its plain-text part (SES makes them one `multipart/alternative`).

use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

/// The deploy's verified SES sender, in the daily report's environment
/// (empty: no mail).
pub const REPORT_SENDER: &str = "REPORT_SENDER";

/// One report mail: to whom, its subject, its two parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportMail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Sends report mails from one verified sender.
#[derive(Debug, Clone)]
pub struct Mailer {
    ses: aws_sdk_sesv2::Client,
    sender: String,
}

impl Mailer {
    pub fn new(ses: aws_sdk_sesv2::Client, sender: impl Into<String>) -> Self {
        Self { ses, sender: sender.into() }
    }

    pub fn sender(&self) -> &str {
        &self.sender
    }

    /// Sends `mail` (one `SendEmail`); its SES message id, or why not.
    pub async fn send(&self, mail: &ReportMail) -> Result<String, String> {
        let part = |data: &str| Content::builder().data(data).charset("UTF-8").build().map_err(|e| e.to_string());
        let message = Message::builder()
            .subject(part(&mail.subject)?)
            .body(Body::builder().text(part(&mail.text)?).html(part(&mail.html)?).build())
            .build();
        let sent = self
            .ses
            .send_email()
            .from_email_address(&self.sender)
            .destination(Destination::builder().set_to_addresses(Some(mail.to.clone())).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string())?;
        Ok(sent.message_id.unwrap_or_default())
    }
}
