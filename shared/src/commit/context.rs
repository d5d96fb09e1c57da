//! What every function needs, built once per cold start from one `SdkConfig`
//! and the environment: the table, the outbound path, the store cache, the
//! batch adapter and the clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;

use crate::aws::Clients;
use crate::batch::BatchAdapter;
use crate::clock::SharedClock;
use crate::env::{
    ConfigError, EnvSource, DLQ_URL, DLQ_URLS, GM_REPORTS_TOPIC_ARN, HANDOFF_QUEUE_URL, MAX_RECEIVE_COUNT, TABLE_NAME,
    TIMER_QUEUES, WARM_UP,
};
use crate::error::ProcessError;
use crate::handoff::{Handoff, HandoffError};
use crate::outbound::Outbound;
use crate::phone::Phone;
use crate::store::StoreConfig;
use crate::table::{Table, TableError};

/// What every function uses: the table, the outbound path, the store cache
/// and the clock.
#[derive(Debug, Clone)]
pub struct Core {
    pub table: Table,
    pub outbound: Outbound,
    pub stores: StoreCache,
    pub clock: SharedClock,
    /// The worker queue a scheduled function hands work to (`HANDOFF_QUEUE_URL`).
    pub handoff: Option<Handoff>,
    /// Where the scheduler hands each kind of due timer (`TIMER_QUEUES`).
    pub timers: HashMap<String, Handoff>,
    /// Where the GM report goes and which DLQs it counts (`GM_REPORTS_TOPIC_ARN`, `DLQ_URLS`).
    pub reports: Option<ReportTargets>,
    /// Where new and escalated tasks are announced (`STAFF_ALERTS_TOPIC_ARN`).
    pub alerts: Option<crate::alerts::Alerts>,
}

/// What the daily report publishes to and counts.
#[derive(Debug, Clone)]
pub struct ReportTargets {
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub topic_arn: String,
    pub dlq_urls: Vec<String>,
    /// The deploy's verified sender of the report by mail (`REPORT_SENDER`;
    /// none: no mail), and the configuration its SES client is made from.
    pub sender: Option<String>,
    pub config: aws_config::SdkConfig,
}

impl Core {
    /// The worker queue this function hands work to.
    pub fn handoff(&self) -> Result<&Handoff, HandoffError> {
        self.handoff.as_ref().ok_or(HandoffError::NotConfigured)
    }

    /// The queue of the function that owns timers of `kind`.
    pub fn timer_queue(&self, kind: &str) -> Result<&Handoff, HandoffError> {
        self.timers.get(kind).ok_or(HandoffError::NotConfigured)
    }

    /// This core deciding as of `at`, work a scheduled function handed on at
    /// that time: its clock reads `at`, or its own time once that is later
    /// (a text is still checked against the window when it is published).
    pub fn as_of(&self, at: chrono::DateTime<chrono::Utc>) -> Core {
        let clock: SharedClock = Arc::new(crate::clock::NotBefore { at, clock: self.clock.clone() });
        Core {
            outbound: Outbound::new(self.table.clone(), self.outbound.sns().clone(), clock.clone()),
            clock,
            ..self.clone()
        }
    }

    /// The configuration of the store an event names; an unknown store is bad input.
    pub async fn store(&self, store_id: &str, event_id: &str) -> Result<Arc<StoreConfig>, ProcessError> {
        self.stores
            .get(store_id)
            .await?
            .ok_or_else(|| ProcessError::UnknownStore { event_id: event_id.to_owned(), store_id: store_id.to_owned() })
    }

    /// The store that texts from `sms_number`; a number no store uses is bad input.
    pub async fn store_by_number(&self, sms_number: &Phone, event_id: &str) -> Result<Arc<StoreConfig>, ProcessError> {
        self.stores
            .by_number(sms_number)
            .await?
            .ok_or_else(|| ProcessError::UnknownStore { event_id: event_id.to_owned(), store_id: sms_number.masked() })
    }

    /// The store that takes leads at `address`; none: a mail to no store.
    pub async fn store_by_lead_address(&self, address: &str) -> Result<Option<Arc<StoreConfig>>, ProcessError> {
        Ok(self.stores.by_lead_address(address).await?)
    }

    /// What an operator command applies changes with: the table, SNS and a clock.
    pub fn new(table: Table, sns: aws_sdk_sns::Client, clock: SharedClock) -> Self {
        Self {
            outbound: Outbound::new(table.clone(), sns, clock.clone()),
            stores: StoreCache::new(table.clone()),
            table,
            clock,
            handoff: None,
            timers: HashMap::new(),
            reports: None,
            alerts: None,
        }
    }

    /// Reads `TABLE_NAME`; builds the clients from the one `SdkConfig`.
    pub fn from_env(env: &impl EnvSource, config: &SdkConfig, clock: SharedClock) -> Result<Self, ConfigError> {
        Self::with_clients(env, &Clients::new(config), clock)
    }

    /// The core of an HTTP function and the clients it was built with, from
    /// `config` (each HTTP function adds its own clients to these).
    pub fn from_sdk(
        env: &impl EnvSource,
        config: &aws_config::SdkConfig,
        clock: SharedClock,
    ) -> Result<(Self, Clients), ConfigError> {
        let clients = Clients::new(config);
        Ok((Self::with_clients(env, &clients, clock)?, clients))
    }

    /// Reads `TABLE_NAME` (and `HANDOFF_QUEUE_URL`, if set); uses `clients`.
    pub fn with_clients(env: &impl EnvSource, clients: &Clients, clock: SharedClock) -> Result<Self, ConfigError> {
        let table = Table::new(clients.dynamodb.clone(), env.required(TABLE_NAME)?);
        let base_url = crate::env::public_base_url(env)?;
        Ok(Self {
            outbound: Outbound::new(table.clone(), clients.sns.clone(), clock.clone()),
            stores: StoreCache::new(table.clone()),
            table,
            clock,
            handoff: env.var(HANDOFF_QUEUE_URL).filter(|u| !u.is_empty()).map(|u| Handoff::new(clients.sqs.clone(), u)),
            timers: env
                .var(TIMER_QUEUES)
                .unwrap_or_default()
                .split(',')
                .filter_map(|pair| pair.trim().split_once('='))
                .map(|(kind, url)| (kind.trim().to_owned(), Handoff::new(clients.sqs.clone(), url.trim())))
                .collect(),
            reports: env.var(GM_REPORTS_TOPIC_ARN).filter(|a| !a.is_empty()).map(|topic_arn| ReportTargets {
                sns: clients.sns.clone(),
                sqs: clients.sqs.clone(),
                topic_arn,
                dlq_urls: env
                    .var(DLQ_URLS)
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .map(str::to_owned)
                    .collect(),
                sender: env
                    .var(crate::report::mail::REPORT_SENDER)
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty()),
                config: clients.config.clone(),
            }),
            alerts: env
                .var(crate::alerts::STAFF_ALERTS_TOPIC_ARN)
                .filter(|a| !a.is_empty())
                .map(|arn| crate::alerts::Alerts::new(clients.sns.clone(), arn, base_url.clone())),
        })
    }

    /// Opens the first connections before the first event, so that event does
    /// not pay for them (connection, TLS, the HTTP client's trust store):
    /// DynamoDB by loading every store into the cache (one Query, work the
    /// first event needs anyway), SNS by reading the account's SMS type. At
    /// most `limit`; a failure is logged and left to the first event.
    pub async fn warm_up(&self, what: WarmUp, limit: Duration) {
        let dynamodb = async {
            if what.dynamodb {
                match self.stores.preload().await {
                    Ok(n) => tracing::debug!(stores = n, "store cache loaded"),
                    Err(e) => tracing::warn!(error = %e, "warm-up: loading the stores failed"),
                }
            }
        };
        let sns = async {
            if what.sns {
                if let Err(e) = self.outbound.warm_up().await {
                    tracing::warn!(error = %e, "warm-up: the SNS call failed");
                }
            }
        };
        if tokio::time::timeout(limit, async { tokio::join!(dynamodb, sns) }).await.is_err() {
            tracing::warn!(limit_ms = limit.as_millis() as u64, "warm-up: gave up waiting");
        }
    }
}

/// What a cold start connects to before its first event (`WARM_UP`: a
/// comma-separated list of `dynamodb` and `sns`; empty or unset: nothing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WarmUp {
    pub dynamodb: bool,
    pub sns: bool,
}

impl WarmUp {
    pub fn from_env(env: &impl EnvSource) -> Result<Self, ConfigError> {
        let mut what = Self::default();
        for service in env.var(WARM_UP).unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match service {
                "dynamodb" => what.dynamodb = true,
                "sns" => what.sns = true,
                other => {
                    return Err(ConfigError::Invalid {
                        name: WARM_UP,
                        reason: format!("unknown service {other:?} (expected dynamodb, sns)"),
                    })
                }
            }
        }
        Ok(what)
    }
}

impl std::fmt::Display for WarmUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.dynamodb, self.sns) {
            (true, true) => f.write_str("dynamodb,sns"),
            (true, false) => f.write_str("dynamodb"),
            (false, true) => f.write_str("sns"),
            (false, false) => f.write_str("none"),
        }
    }
}

/// What an SQS-fed function uses: the [`Core`] plus its batch adapter.
#[derive(Debug, Clone)]
pub struct Deps {
    pub core: Core,
    pub batch: BatchAdapter,
}

impl std::ops::Deref for Deps {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

impl AsRef<Core> for Core {
    fn as_ref(&self) -> &Core {
        self
    }
}

impl AsRef<Core> for Deps {
    fn as_ref(&self) -> &Core {
        &self.core
    }
}

impl std::fmt::Debug for dyn crate::clock::Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

impl Deps {
    /// Builds the dependencies of an SQS-fed function named `function`.
    pub fn from_env(
        function: &'static str,
        env: &impl EnvSource,
        config: &SdkConfig,
        clock: SharedClock,
    ) -> Result<Self, ConfigError> {
        let clients = Clients::new(config);
        let batch =
            BatchAdapter::new(clients.sqs.clone(), env.required(DLQ_URL)?, env.parsed(MAX_RECEIVE_COUNT)?, function);
        Ok(Self { core: Core::with_clients(env, &clients, clock)?, batch })
    }
}

type Cached = (Instant, Arc<StoreConfig>);

/// How long a warm container trusts a store's cached configuration.
pub const STORE_CACHE_MAX_AGE: Duration = Duration::from_secs(60);

/// A store's cache key by its texting number (by id, the key is the id).
fn number_key(sms_number: &Phone) -> String {
    format!("tel:{}", sms_number.e164())
}

/// Store configurations, read once and kept for a minute per warm container:
/// a change (a store switched to shadow mode) reaches every container within
/// [`STORE_CACHE_MAX_AGE`]. Reading the store in each trigger's transaction
/// instead would make the store's item one that every event of the store
/// touches, and DynamoDB cancels overlapping transactions on one item.
#[derive(Debug, Clone)]
pub struct StoreCache {
    table: Table,
    cache: Arc<Mutex<HashMap<String, Cached>>>,
    max_age: Duration,
}

impl StoreCache {
    pub fn new(table: Table) -> Self {
        Self { table, cache: Arc::default(), max_age: STORE_CACHE_MAX_AGE }
    }

    /// Loads every store into the cache, by id and by texting number; returns how many.
    pub async fn preload(&self) -> Result<usize, TableError> {
        let stores = self.table.list_stores().await?;
        let (at, count) = (Instant::now(), stores.len());
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        for store in stores {
            let store = Arc::new(store);
            cache.insert(number_key(&store.sms_number), (at, store.clone()));
            cache.insert(store.store_id.clone(), (at, store));
        }
        Ok(count)
    }

    /// The store's configuration, if it exists.
    pub async fn get(&self, store_id: &str) -> Result<Option<Arc<StoreConfig>>, TableError> {
        self.cached(store_id.to_owned(), self.table.get_store(store_id)).await
    }

    /// The store that texts from `sms_number`, if any.
    pub async fn by_number(&self, sms_number: &Phone) -> Result<Option<Arc<StoreConfig>>, TableError> {
        self.cached(number_key(sms_number), self.table.store_by_number(sms_number)).await
    }

    /// The store that takes leads at `address`, if any.
    pub async fn by_lead_address(&self, address: &str) -> Result<Option<Arc<StoreConfig>>, TableError> {
        let key = format!("mailto:{}", address.trim().to_lowercase());
        let load = async {
            // The pointer is written before the store (`Table::put_store`): a
            // store whose save failed after it does not take the address.
            match self.table.store_of_lead_address(address).await? {
                Some(id) => Ok(self.table.get_store(&id).await?.filter(|s| s.takes_leads_at(address))),
                None => Ok(None),
            }
        };
        self.cached(key, load).await
    }

    async fn cached(
        &self,
        key: String,
        load: impl std::future::Future<Output = Result<Option<StoreConfig>, TableError>>,
    ) -> Result<Option<Arc<StoreConfig>>, TableError> {
        if let Some((at, store)) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            if at.elapsed() < self.max_age {
                return Ok(Some(store.clone()));
            }
        }
        let Some(store) = load.await? else { return Ok(None) };
        let store = Arc::new(store);
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(key, (Instant::now(), store.clone()));
        Ok(Some(store))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warm_up(value: Option<&str>) -> Result<WarmUp, ConfigError> {
        let env: HashMap<String, String> = value.map(|v| (WARM_UP.to_owned(), v.to_owned())).into_iter().collect();
        WarmUp::from_env(&env)
    }

    #[test]
    fn warm_up_names_the_services_to_connect_to_and_nothing_else() {
        assert_eq!(warm_up(None).unwrap(), WarmUp::default());
        assert_eq!(warm_up(Some("")).unwrap(), WarmUp::default());
        assert_eq!(warm_up(Some("dynamodb")).unwrap(), WarmUp { dynamodb: true, sns: false });
        assert_eq!(warm_up(Some(" sns , dynamodb ")).unwrap(), WarmUp { dynamodb: true, sns: true });
        assert_eq!(warm_up(Some("dynamodb,sns")).unwrap().to_string(), "dynamodb,sns");
        let err = warm_up(Some("dynamodb,s3")).unwrap_err().to_string();
        assert!(err.contains("WARM_UP") && err.contains("s3"), "{err}");
    }
}
