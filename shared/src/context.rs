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
use crate::env::{ConfigError, EnvSource, DLQ_URL, MAX_RECEIVE_COUNT, TABLE_NAME};
use crate::error::ProcessError;
use crate::outbound::Outbound;
use crate::phone::Phone;
use crate::store::StoreConfig;
use crate::table::Table;

/// What every function uses: the table, the outbound path, the store cache
/// and the clock.
#[derive(Debug, Clone)]
pub struct Core {
    pub table: Table,
    pub outbound: Outbound,
    pub stores: StoreCache,
    pub clock: SharedClock,
}

impl Core {
    /// Reads `TABLE_NAME`; builds the clients from the one `SdkConfig`.
    pub fn from_env(env: &impl EnvSource, config: &SdkConfig, clock: SharedClock) -> Result<Self, ConfigError> {
        Self::with_clients(env, &Clients::new(config), clock)
    }

    fn with_clients(env: &impl EnvSource, clients: &Clients, clock: SharedClock) -> Result<Self, ConfigError> {
        let table = Table::new(clients.dynamodb.clone(), env.required(TABLE_NAME)?);
        Ok(Self {
            outbound: Outbound::new(table.clone(), clients.sns.clone(), clock.clone()),
            stores: StoreCache::new(table.clone()),
            table,
            clock,
        })
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

/// Store configurations, read once and kept for a few minutes per cold start.
#[derive(Debug, Clone)]
pub struct StoreCache {
    table: Table,
    cache: Arc<Mutex<HashMap<String, Cached>>>,
    max_age: Duration,
}

impl StoreCache {
    pub fn new(table: Table) -> Self {
        Self { table, cache: Arc::default(), max_age: Duration::from_secs(300) }
    }

    /// The store's configuration; an unknown store is bad input.
    pub async fn get(&self, store_id: &str, event_id: &str) -> Result<Arc<StoreConfig>, ProcessError> {
        self.cached(store_id.to_owned(), event_id, self.table.get_store(store_id)).await
    }

    /// The store that texts from `sms_number`; an unknown number is bad input.
    pub async fn by_number(&self, sms_number: &Phone, event_id: &str) -> Result<Arc<StoreConfig>, ProcessError> {
        self.cached(format!("tel:{}", sms_number.e164()), event_id, self.table.store_by_number(sms_number)).await
    }

    async fn cached(
        &self,
        key: String,
        event_id: &str,
        load: impl std::future::Future<Output = Result<Option<StoreConfig>, crate::table::TableError>>,
    ) -> Result<Arc<StoreConfig>, ProcessError> {
        if let Some((at, store)) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            if at.elapsed() < self.max_age {
                return Ok(store.clone());
            }
        }
        let store = load.await?.ok_or_else(|| ProcessError::UnknownStore {
            event_id: event_id.to_owned(),
            store_id: key.strip_prefix("tel:").map(crate::phone::mask).unwrap_or_else(|| key.clone()),
        })?;
        let store = Arc::new(store);
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(key, (Instant::now(), store.clone()));
        Ok(store)
    }
}
