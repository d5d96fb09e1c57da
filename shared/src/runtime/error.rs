//! What can go wrong while processing one message, and whether a retry can help.

use crate::event::EventError;
use crate::outbound::OutboundError;
use crate::table::TableError;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error(transparent)]
    BadEvent(#[from] EventError),
    #[error("event {event_id}: unknown store {store_id:?}")]
    UnknownStore { event_id: String, store_id: String },
    #[error("event {event_id}: {reason}")]
    Invalid { event_id: String, reason: String },
    /// Nothing to do, by design: acknowledged with the reason in the log (an
    /// event whose customer number is one of the store's own).
    #[error("event {event_id}: {reason}")]
    Ignored { event_id: String, reason: String },
    #[error("event {event_id}: the customer record changed while it was processed; retrying")]
    Conflict { event_id: String },
    #[error("event {event_id}: its text is being sent by another attempt; retrying after that attempt's lease")]
    TextInFlight { event_id: String },
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Outbound(#[from] OutboundError),
    #[error(transparent)]
    Handoff(#[from] crate::handoff::HandoffError),
    /// A call to SNS or SQS other than a text (a report, a count) failed.
    #[error("{what}: {reason}")]
    Aws { what: String, reason: String },
}

impl ProcessError {
    /// The commit lost a race for the record (a stale version, an opt-out or a
    /// text taken meanwhile, DynamoDB's `TransactionConflict`): reading and
    /// deciding again can succeed at once.
    pub fn is_conflict(&self) -> bool {
        match self {
            ProcessError::Conflict { .. } => true,
            ProcessError::Table(TableError::Aws { code: Some(code), .. }) => {
                code == "TransactionConflict" || code == "TransactionConflictException"
            }
            _ => false,
        }
    }

    /// Input that can never succeed: goes to the DLQ at once, without retries.
    pub fn is_permanent(&self) -> bool {
        matches!(self, ProcessError::BadEvent(_) | ProcessError::UnknownStore { .. } | ProcessError::Invalid { .. })
            || matches!(self, ProcessError::Table(e) if e.is_invalid_request())
    }
}

impl ProcessError {
    /// What kind of failure it is, for the runtime's `errorType` and the logs.
    pub fn kind(&self) -> &'static str {
        match self {
            ProcessError::BadEvent(_) => "BadEvent",
            ProcessError::UnknownStore { .. } => "UnknownStore",
            ProcessError::Invalid { .. } => "InvalidInput",
            ProcessError::Ignored { .. } => "Ignored",
            ProcessError::Conflict { .. } => "Conflict",
            ProcessError::TextInFlight { .. } => "TextInFlight",
            ProcessError::Table(crate::table::TableError::TooLarge { .. }) => "TooLarge",
            ProcessError::Table(e) if e.is_invalid_request() => "InvalidRequest",
            ProcessError::Table(_) => "DynamoDb",
            ProcessError::Outbound(_) => "Outbound",
            ProcessError::Handoff(_) => "Handoff",
            ProcessError::Aws { .. } => "Aws",
        }
    }
}

/// What a failed run shows in CloudWatch: the project's error kind and its
/// message (digits redacted), not a boxed type's name.
impl From<ProcessError> for lambda_runtime::Diagnostic {
    fn from(e: ProcessError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.kind().to_owned(),
            error_message: crate::phone::redact_digits(&e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_reaches_the_runtime_as_its_kind_and_message() {
        let d: lambda_runtime::Diagnostic =
            ProcessError::UnknownStore { event_id: "e-1".into(), store_id: "nowhere".into() }.into();
        assert_eq!(d.error_type, "UnknownStore");
        assert_eq!(d.error_message, "event e-1: unknown store \"nowhere\"");
        let table = crate::table::TableError::TooLarge { what: "a transaction".into(), reason: "101 actions".into() };
        assert_eq!(lambda_runtime::Diagnostic::from(ProcessError::Table(table)).error_type, "TooLarge");
    }
}
