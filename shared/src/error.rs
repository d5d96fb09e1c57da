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
    /// Input that can never succeed: goes to the DLQ at once, without retries.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            ProcessError::BadEvent(_)
                | ProcessError::UnknownStore { .. }
                | ProcessError::Invalid { .. }
                | ProcessError::Table(TableError::Mapping { .. })
        )
    }
}
