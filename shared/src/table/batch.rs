//! Bulk reads and writes: `BatchWriteItem` for imports (a DMS history, a
//! benchmark's seed) and `BatchGetItem` for many profiles at once, each
//! asked again with backoff for what DynamoDB leaves unprocessed, never a
//! silent gap.

use std::collections::HashMap;

use tracing::instrument;

use super::item::{self, to_item, Item};
use super::{Table, TableError};
use crate::entity::{CustomerId, Entity};
use crate::keys::VERSION;
use crate::model::Customer;

impl Table {
    /// Loads customer profiles in bulk (an initial import from a DMS export,
    /// a benchmark's seed): `BatchWriteItem`, 25 to a call, unconditional,
    /// each at version 1. Not for live changes: those go through `apply`.
    #[instrument(skip_all, fields(customers = customers.len()))]
    pub async fn import_customers(&self, customers: &[Customer]) -> Result<(), TableError> {
        let items = customers.iter().map(|c| {
            let mut item = to_item(c, &c.keys(&()))?;
            item.insert(VERSION.into(), item::n(1));
            Ok(item)
        });
        self.batch_put(items.collect::<Result<Vec<_>, TableError>>()?).await
    }

    /// Loads what a customer's record holds in bulk (a DMS history, a
    /// benchmark's seed), like [`Table::import_customers`]: unconditional.
    #[instrument(skip_all, fields(items = entities.len()))]
    pub async fn import_records<E: Entity<Scope = CustomerId>>(
        &self,
        customer: &CustomerId,
        entities: &[E],
    ) -> Result<(), TableError> {
        let items = entities.iter().map(|e| to_item(e, &e.keys(customer)));
        self.batch_put(items.collect::<Result<Vec<_>, TableError>>()?).await
    }

    /// Loads entities that know their own keys in bulk (a benchmark's
    /// seed), like [`Table::import_customers`]: unconditional.
    #[instrument(skip_all, fields(items = entities.len()))]
    pub async fn import_entities<E: Entity<Scope = ()>>(&self, entities: &[E]) -> Result<(), TableError> {
        let items = entities.iter().map(|e| to_item(e, &e.keys(&())));
        self.batch_put(items.collect::<Result<Vec<_>, TableError>>()?).await
    }

    /// `BatchWriteItem`, 25 to a call, until every item is written.
    async fn batch_put(&self, items: Vec<Item>) -> Result<(), TableError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        for chunk in items.chunks(25) {
            let mut requests = Vec::with_capacity(chunk.len());
            for item in chunk {
                let put = PutRequest::builder().set_item(Some(item.clone())).build().map_err(|e| TableError::Aws {
                    operation: "BatchWriteItem",
                    code: None,
                    message: e.to_string(),
                })?;
                requests.push(WriteRequest::builder().put_request(put).build());
            }
            let requests = HashMap::from([(self.name.clone(), requests)]);
            until_processed("BatchWriteItem", requests, BATCH_BACKOFF, |items| async move {
                let out = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(items))
                    .send()
                    .await
                    .map_err(|e| TableError::aws("BatchWriteItem", e))?;
                Ok(((), out.unprocessed_items.filter(|p| p.values().any(|r| !r.is_empty()))))
            })
            .await?;
        }
        Ok(())
    }

    /// Every item of `keys` that exists (`BatchGetItem`, 100 keys a call,
    /// unprocessed keys asked again with backoff), read consistently when
    /// a decision rests on the last write.
    pub(super) async fn batch_get(&self, keys: Vec<Item>, consistent: bool) -> Result<Vec<Item>, TableError> {
        use aws_sdk_dynamodb::types::KeysAndAttributes;
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let pages = until_processed("BatchGetItem", chunk.to_vec(), BATCH_BACKOFF, |batch| async move {
                let request =
                    KeysAndAttributes::builder().set_keys(Some(batch)).consistent_read(consistent).build().map_err(
                        |e| TableError::Aws { operation: "BatchGetItem", code: None, message: e.to_string() },
                    )?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.name, request)
                    .send()
                    .await
                    .map_err(|e| TableError::aws("BatchGetItem", e))?;
                let items = out.responses.unwrap_or_default().remove(&self.name).unwrap_or_default();
                let left = out.unprocessed_keys.and_then(|mut u| u.remove(&self.name)).map(|k| k.keys);
                Ok((items, left.filter(|k| !k.is_empty())))
            })
            .await?;
            found.extend(pages.into_iter().flatten());
        }
        Ok(found)
    }
}

/// Calls a batch operation (`BatchWriteItem`, `BatchGetItem`) until DynamoDB
/// has processed all of `first`. What it leaves unprocessed (throttling, the
/// size limit) goes again after a backoff that doubles from `backoff`, for up to
/// [`BATCH_ATTEMPTS`] calls; anything still left is an error, never a silent
/// gap. `call` sends one batch and returns what it answered and what is left.
async fn until_processed<P, R, Fut>(
    operation: &'static str,
    first: P,
    backoff: std::time::Duration,
    mut call: impl FnMut(P) -> Fut,
) -> Result<Vec<R>, TableError>
where
    Fut: std::future::Future<Output = Result<(R, Option<P>), TableError>>,
{
    let mut answers = Vec::new();
    let mut pending = Some(first);
    for attempt in 0..BATCH_ATTEMPTS {
        let Some(batch) = pending.take() else { break };
        if attempt > 0 {
            tokio::time::sleep(backoff * (1 << (attempt - 1))).await;
        }
        let (answer, left) = call(batch).await?;
        answers.push(answer);
        pending = left;
    }
    match pending {
        None => Ok(answers),
        Some(_) => Err(TableError::Aws {
            operation,
            code: None,
            message: format!("items still unprocessed after {BATCH_ATTEMPTS} attempts"),
        }),
    }
}

/// How many calls a batch operation gets before its leftovers are an error.
const BATCH_ATTEMPTS: u32 = 8;

/// The first wait before a batch's leftovers go again (then 200 ms, 400 ms, ...).
const BATCH_BACKOFF: std::time::Duration = std::time::Duration::from_millis(100);

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch call that leaves `left[i]` items unprocessed on its i-th call.
    async fn run(left: &[usize]) -> (Result<Vec<usize>, TableError>, Vec<usize>) {
        let sent = std::sync::Mutex::new(Vec::new());
        let mut answers = left.iter().copied();
        let backoff = std::time::Duration::from_millis(1);
        let result = until_processed("BatchWriteItem", 25usize, backoff, |batch| {
            sent.lock().unwrap().push(batch);
            let left = answers.next().unwrap_or(0);
            async move { Ok((batch - left, (left > 0).then_some(left))) }
        })
        .await;
        (result, sent.into_inner().unwrap())
    }

    #[tokio::test]
    async fn a_batch_goes_again_with_what_was_left_until_all_is_processed() {
        let started = std::time::Instant::now();
        let (result, sent) = run(&[10, 3]).await;
        assert_eq!(sent, [25, 10, 3], "each call sends only what the last one left");
        assert_eq!(result.unwrap(), [15, 7, 3]);
        assert!(started.elapsed() >= std::time::Duration::from_millis(1 + 2), "the backoff doubles");
    }

    #[tokio::test]
    async fn a_batch_processed_at_once_is_one_call() {
        let (result, sent) = run(&[]).await;
        assert_eq!(sent, [25]);
        assert_eq!(result.unwrap(), [25]);
    }

    #[tokio::test]
    async fn what_stays_unprocessed_is_an_error_not_a_gap() {
        let (result, sent) = run(&[1; 20]).await;
        assert_eq!(sent.len(), BATCH_ATTEMPTS as usize);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("BatchWriteItem") && err.contains("unprocessed after 8 attempts"), "{err}");
    }
}
