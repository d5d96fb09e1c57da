//! **The function runtime and its adapters**: how a Lambda function is
//! served ([`function`]: SQS batches, schedules, HTTP), the SQS batch
//! adapter with its partial failures and dead letters ([`batch`]), HTTP
//! requests and answers ([`http`]), the environment ([`env`]), logs and
//! their masking ([`telemetry`]), the AWS clients and their TLS roots
//! ([`aws`]), the clock ([`clock`]) and the errors a function reports
//! ([`error`]).
//!
//! May use every other room: it is the edge where a function meets Lambda
//! (a function is served with the [`crate::commit`] room's `Core`, and its
//! errors name the table's and the outbound path's). Nothing here decides
//! what happens to a customer.

pub mod aws;
pub mod batch;
pub mod clock;
pub mod env;
pub mod error;
pub mod function;
pub mod http;
pub mod https;
pub mod s3;
pub mod telemetry;
