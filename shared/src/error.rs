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
