//! The HTTP front door (CONTRACT.md section 9): the webhooks a dealership's
//! phone system or DMS connector already calls, checked the way each
//! provider documents, turned into section 3 events and published to the
//! topic their `event_type` belongs to. The triggers behind the topics do not
//! change.
//!
//! | route | caller | checked by |
//! |---|---|---|
//! | `POST /hooks/{store_id}/events` | any connector that signs | [`signed`]: HMAC-SHA256 of `{timestamp}.{body}` |
//! | `POST /hooks/{store_id}/twilio/voice` | Twilio's voice status callback | [`twilio`]: `X-Twilio-Signature` |
//! | `POST /hooks/{store_id}/ringcentral` | RingCentral's telephony-session webhook | [`ringcentral`]: its verification token |
//! | `POST /hooks/{store_id}/dms` | a DMS connector's snapshots (section 13) | [`signed`], as `/events`; handed to the DMS feed's queue |
//!
//! Shape: [`FrontDoor::answer`] takes a [`HookRequest`] and returns a
//! [`HookResponse`]; its clients (SNS, Secrets Manager, the table) and clock
//! are injected, so the same code runs in unit tests, in the local stack
//! (`custops local up`'s `http` URL) and on Lambda (`main.rs`, a thin
//! adapter from API Gateway's HTTP API payload 2.0).
//!
//! Flooding (section 9): a path whose store is not a store is refused
//! before any secret is read ([`KnownStores`]: the stores' ids, read from
//! the table at most once per [`STORE_LIST_MIN_AGE`] however many unknown ids
//! arrive); a secret that does not exist or may not be read is no secret
//! (403, never a 5xx: [`is_no_secret`]); the secret cache holds at most
//! [`MAX_CACHED_SECRETS`] stores ([`Bounded`]).
//!
//! No secret, no signature and no full phone number is ever logged.

pub mod ringcentral;
pub mod signed;
pub mod twilio;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use custops::env::{ConfigError, EnvSource};
use custops::event::Envelope;
use custops::store::Department;
use custops::{Core, Phone, SharedClock};
use serde::Deserialize;
use tracing::{info, warn};

/// The function's name, as in `infra/template.yaml`.
pub const NAME: &str = "front-door";

/// The largest body a caller may send (section 9): 413 above it.
pub const MAX_BODY: usize = 256 * 1024;

/// How long a store's webhook secrets are kept by a warm container: a new or
/// rotated secret is in use within this long.
pub const SECRET_TTL: Duration = Duration::from_secs(300);
/// How long a store without a secret is remembered as such.
pub const NO_SECRET_TTL: Duration = Duration::from_secs(30);
/// The most stores whose secrets a warm container keeps (the oldest entry
/// makes way for a new one).
pub const MAX_CACHED_SECRETS: usize = 1_000;

/// How long the list of stores is trusted (a store known by it answers from
/// memory; a store removed stops being one within this long).
pub const STORE_LIST_TTL: Duration = Duration::from_secs(60);
/// The least time between two reads of the list of stores: a store added is
/// taken within this long, and a flood of ids that are not stores costs at
/// most one Query per this long, whatever its size.
pub const STORE_LIST_MIN_AGE: Duration = Duration::from_secs(10);

/// The topic ARNs, by topic name (`CARRIER_EVENTS_TOPIC_ARN`, `DMS_EVENTS_TOPIC_ARN`).
pub const CARRIER_EVENTS_TOPIC_ARN: &str = "CARRIER_EVENTS_TOPIC_ARN";
/// The deploy's public base URL (`PUBLIC_BASE_URL`); empty or unset: none.
/// When set, the URL Twilio signed is this base plus the path and query,
/// whatever the request's `Host` and `X-Forwarded-Proto` say.
pub use custops::env::{public_base_url, PUBLIC_BASE_URL};
pub use custops::env::{DMS_EVENTS_TOPIC_ARN, DMS_FEED_QUEUE_URL};

/// The environment the function reads (checked against the template).
pub const ENV: &[&str] = &[
    custops::env::TABLE_NAME,
    custops::env::RUST_LOG,
    custops::env::WARM_UP,
    CARRIER_EVENTS_TOPIC_ARN,
    DMS_EVENTS_TOPIC_ARN,
    DMS_FEED_QUEUE_URL,
    PUBLIC_BASE_URL,
];

pub use custops::http::{HookRequest, HookResponse};

/// The same answer for a wrong signature and a store that does not exist.
fn forbidden() -> HookResponse {
    HookResponse::refused(403, vec!["forbidden".into()])
}

/// A body over [`MAX_BODY`] (a carrier that stops reading at the limit answers this).
pub fn too_large() -> HookResponse {
    HookResponse::refused(413, vec![format!("the body is over {} KB", MAX_BODY / 1024)])
}

/// A store's webhook secrets (`custops/{store_id}/webhooks`); any key may be absent.
#[derive(Clone, Default, Deserialize)]
pub struct WebhookSecrets {
    #[serde(default)]
    pub signing_secret: Option<String>,
    #[serde(default)]
    pub twilio_auth_token: Option<String>,
    #[serde(default)]
    pub ringcentral_verification_token: Option<String>,
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Which keys exist, never what they are.
        f.debug_struct("WebhookSecrets")
            .field("signing_secret", &self.signing_secret.is_some())
            .field("twilio_auth_token", &self.twilio_auth_token.is_some())
            .field("ringcentral_verification_token", &self.ringcentral_verification_token.is_some())
            .finish()
    }
}

/// The Secrets Manager name of a store's webhook secrets.
pub fn secret_name(store_id: &str) -> String {
    format!("custops/{store_id}/webhooks")
}

/// Why a request was refused before anything was published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("forbidden")]
    Forbidden,
    #[error("bad request: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

impl Refusal {
    fn invalid(reason: impl Into<String>) -> Self {
        Refusal::Invalid(vec![reason.into()])
    }
}

/// Whether a Secrets Manager answer means the store has no secret (the
/// route answers 403) rather than that the service did not answer (503, the
/// caller retries): a secret that does not exist, is being deleted, or that
/// this function may not read or decrypt. On AWS a missing secret under a
/// policy scoped to `custops/*/webhooks-??????` answers `AccessDeniedException`
/// (not modelled by the SDK: it is read from the error's code).
pub fn is_no_secret(e: &aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError) -> bool {
    use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
    e.is_resource_not_found_exception()
        || e.is_invalid_request_exception()
        || e.is_decryption_failure()
        || matches!(
            e.code(),
            Some(
                "ResourceNotFoundException"
                    | "AccessDeniedException"
                    | "AccessDenied"
                    | "InvalidRequestException"
                    | "DecryptionFailure"
            )
        )
}

/// A cache of at most `max` entries, each stamped with when it was stored;
/// a new key when full evicts the oldest entry. (Only stores reach it, but a
/// bound does not rest on that.)
#[derive(Debug)]
pub struct Bounded<V> {
    max: usize,
    entries: HashMap<String, (Instant, V)>,
}

impl<V: Clone> Bounded<V> {
    pub fn new(max: usize) -> Self {
        Self { max: max.max(1), entries: HashMap::new() }
    }

    /// The value of `key` if it was stored less than `ttl(value)` before `now`.
    pub fn get(&self, key: &str, now: Instant, ttl: impl Fn(&V) -> Duration) -> Option<V> {
        let (at, value) = self.entries.get(key)?;
        (now.saturating_duration_since(*at) < ttl(value)).then(|| value.clone())
    }

    pub fn insert(&mut self, key: String, value: V, now: Instant) {
        if !self.entries.contains_key(&key) && self.entries.len() >= self.max {
            if let Some(oldest) = self.entries.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| k.clone()) {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(key, (now, value));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// What the list of stores says of a store id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    Store,
    NotAStore,
    /// Read the list again first (it is stale, or older than
    /// [`STORE_LIST_MIN_AGE`] and does not have the id).
    ReadAgain,
    /// The last read failed and the id is not known: nobody can say (503).
    Unavailable,
}

/// The ids of the stores, as last read from the table.
#[derive(Debug, Default)]
pub struct KnownStores {
    ids: HashSet<String>,
    /// When the list was last read.
    read_at: Option<Instant>,
    /// When a read was last tried (and whether it failed).
    tried_at: Option<Instant>,
    failed: bool,
}

impl KnownStores {
    /// What the list says of `store_id` at `now`. Pure.
    pub fn lookup(&self, store_id: &str, now: Instant) -> Known {
        let age = |t: Option<Instant>| t.map(|t| now.saturating_duration_since(t));
        let known = self.ids.contains(store_id);
        if known && age(self.read_at).is_some_and(|a| a < STORE_LIST_TTL) {
            return Known::Store;
        }
        if age(self.tried_at).is_none_or(|a| a >= STORE_LIST_MIN_AGE) {
            return Known::ReadAgain;
        }
        match (known, self.failed) {
            (true, _) => Known::Store,
            (false, true) => Known::Unavailable,
            (false, false) => Known::NotAStore,
        }
    }

    /// A read of the list at `now`: the ids, or `None` when it failed (what
    /// was known stays known).
    pub fn read(&mut self, ids: Option<HashSet<String>>, now: Instant) {
        self.tried_at = Some(now);
        self.failed = ids.is_none();
        if let Some(ids) = ids {
            self.ids = ids;
            self.read_at = Some(now);
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

type SecretCache = Mutex<Bounded<Option<Arc<WebhookSecrets>>>>;

/// The front door, with what its cold start built.
pub struct FrontDoor {
    core: Core,
    sns: aws_sdk_sns::Client,
    secrets: aws_sdk_secretsmanager::Client,
    /// Topic name (`carrier-events`, `dms-events`) -> ARN.
    topics: HashMap<&'static str, String>,
    cache: SecretCache,
    /// One read of the list at a time: the others wait for it.
    stores: tokio::sync::Mutex<KnownStores>,
    /// [`PUBLIC_BASE_URL`], without a trailing `/`.
    public_base_url: Option<String>,
    /// The DMS feed's queue ([`DMS_FEED_QUEUE_URL`]).
    feed: (aws_sdk_sqs::Client, String),
}

impl AsRef<Core> for FrontDoor {
    fn as_ref(&self) -> &Core {
        &self.core
    }
}

impl FrontDoor {
    /// Reads the table and the topics from `env`; builds the clients from `config`.
    pub fn from_env(
        env: &impl EnvSource,
        config: &aws_config::SdkConfig,
        clock: SharedClock,
    ) -> Result<Self, ConfigError> {
        let (core, clients) = Core::from_sdk(env, config, clock)?;
        let topics = HashMap::from([
            ("carrier-events", env.required(CARRIER_EVENTS_TOPIC_ARN)?),
            ("dms-events", env.required(DMS_EVENTS_TOPIC_ARN)?),
        ]);
        Ok(Self {
            core,
            sns: clients.sns.clone(),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            topics,
            cache: Mutex::new(Bounded::new(MAX_CACHED_SECRETS)),
            stores: tokio::sync::Mutex::default(),
            public_base_url: public_base_url(env)?,
            feed: (clients.sqs.clone(), env.required(DMS_FEED_QUEUE_URL)?),
        })
    }

    /// Answers one request (section 9): checks who sent it, turns it into
    /// events and publishes them, all or nothing.
    pub async fn answer(&self, req: &HookRequest) -> HookResponse {
        let path: Vec<&str> = req.uri.path().trim_matches('/').split('/').collect();
        let (store_id, route) = match path.as_slice() {
            ["hooks", store, "events"] => (*store, Route::Events),
            ["hooks", store, "twilio", "voice"] => (*store, Route::Twilio),
            ["hooks", store, "ringcentral"] => (*store, Route::RingCentral),
            ["hooks", store, "dms"] => (*store, Route::Dms),
            _ => return HookResponse::refused(404, vec!["no such route".into()]),
        };
        if req.method != http::Method::POST {
            return HookResponse::refused(405, vec!["only POST".into()]);
        }
        if custops::event::check_id("store_id", store_id).is_err() || store_id.is_empty() {
            return forbidden();
        }
        if req.body.len() > MAX_BODY {
            info!(store_id, route = route.name(), bytes = req.body.len(), "refused: body over 256 KB");
            return too_large();
        }
        match self.is_store(store_id).await {
            Known::Store => {}
            Known::NotAStore | Known::ReadAgain => {
                // Not the id: a path is anyone's to write, a phone number too.
                info!(route = route.name(), "refused: the path names no store");
                return forbidden();
            }
            Known::Unavailable => return HookResponse::refused(503, vec!["try again".into()]),
        }
        let secrets = match self.secrets_of(store_id).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                info!(store_id, route = route.name(), "refused: the store has no webhook secret");
                return forbidden();
            }
            Err(e) => {
                warn!(store_id, error = %e, "could not read the store's webhook secret");
                return HookResponse::refused(503, vec!["try again".into()]);
            }
        };
        let now = self.core.clock.now();
        let decided = match route {
            // Snapshots go to the feed's queue, not to a topic.
            Route::Dms => return self.snapshots(store_id, req, &secrets, now).await,
            Route::Events => signed::events(store_id, req, &secrets, now).map(|events| (events, None)),
            Route::Twilio => self.department_for(store_id).await.and_then(|departments| {
                twilio::call(store_id, req, &secrets, now, &departments, self.public_base_url.as_deref())
                    .map(|e| (e.into_iter().collect(), None))
            }),
            Route::RingCentral => match ringcentral::check(req, &secrets) {
                Ok(ringcentral::Checked::Handshake(token)) => {
                    return HookResponse {
                        status: 200,
                        content_type: "application/json",
                        headers: vec![("Validation-Token", token)],
                        body: String::new(),
                    };
                }
                Ok(ringcentral::Checked::Event(echo)) => self.department_for(store_id).await.and_then(|departments| {
                    ringcentral::call(store_id, req, now, &departments).map(|e| (e.into_iter().collect(), echo))
                }),
                Err(e) => Err(e),
            },
        };
        let (events, echo) = match decided {
            Ok(d) => d,
            Err(Refusal::Forbidden) => {
                info!(store_id, route = route.name(), "refused: signature or token does not match");
                return forbidden();
            }
            Err(Refusal::Invalid(reasons)) => {
                info!(store_id, route = route.name(), reasons = reasons.len(), "refused: not valid input");
                return HookResponse::refused(400, reasons);
            }
        };
        if let Err(e) = self.publish(&events).await {
            warn!(store_id, route = route.name(), error = %e, "could not publish; the caller retries");
            return HookResponse::refused(503, vec!["try again".into()]);
        }
        info!(store_id, route = route.name(), published = events.len(), "accepted");
        match route {
            Route::Events | Route::Dms => HookResponse::json(202, serde_json::json!({ "accepted": events.len() })),
            Route::Twilio => HookResponse {
                status: 200,
                content_type: "text/xml",
                headers: Vec::new(),
                body: twilio::EMPTY_TWIML.into(),
            },
            Route::RingCentral => HookResponse {
                status: 200,
                content_type: "application/json",
                headers: echo.map(|t| vec![("Validation-Token", t)]).unwrap_or_default(),
                body: String::new(),
            },
        }
    }

    /// The department of each of the store's lines (section 4 `lines`; a
    /// line not listed rings `main`).
    async fn department_for(&self, store_id: &str) -> Result<Departments, Refusal> {
        match self.core.stores.get(store_id).await {
            Ok(Some(store)) => Ok(Departments::of_store(&store)),
            Ok(None) => Ok(Departments::default()),
            Err(e) => {
                warn!(store_id, error = %e, "could not read the store's lines; the call rings main");
                Ok(Departments::default())
            }
        }
    }

    /// Whether `store_id` is a store, by the list of stores (read again
    /// when [`KnownStores::lookup`] says so, one read at a time).
    async fn is_store(&self, store_id: &str) -> Known {
        let mut known = self.stores.lock().await;
        let decided = known.lookup(store_id, Instant::now());
        if decided != Known::ReadAgain {
            return decided;
        }
        let ids = match self.core.table.list_stores().await {
            Ok(stores) => Some(stores.into_iter().map(|s| s.store_id).collect()),
            Err(e) => {
                warn!(error = %e, "could not read the list of stores");
                None
            }
        };
        known.read(ids, Instant::now());
        info!(stores = known.len(), "the list of stores read");
        match known.lookup(store_id, Instant::now()) {
            Known::ReadAgain => Known::NotAStore,
            other => other,
        }
    }

    /// The store's webhook secrets, cached for [`SECRET_TTL`] ([`NO_SECRET_TTL`]
    /// for none). A secret that does not exist, may not be read, or is not a
    /// JSON object is none; an error is only the service not answering.
    async fn secrets_of(&self, store_id: &str) -> Result<Option<Arc<WebhookSecrets>>, String> {
        let ttl = |cached: &Option<Arc<WebhookSecrets>>| if cached.is_some() { SECRET_TTL } else { NO_SECRET_TTL };
        if let Some(cached) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(store_id, Instant::now(), ttl) {
            return Ok(cached);
        }
        let read = self.secrets.get_secret_value().secret_id(secret_name(store_id)).send().await;
        let found = match read {
            Ok(out) => match out.secret_string().and_then(|s| serde_json::from_str::<WebhookSecrets>(s).ok()) {
                Some(parsed) => Some(Arc::new(parsed)),
                None => {
                    warn!(store_id, "the store's webhook secret is not a JSON object: taken as none");
                    None
                }
            },
            Err(e) if e.as_service_error().is_some_and(is_no_secret) => {
                let code = e.as_service_error().and_then(aws_sdk_secretsmanager::error::ProvideErrorMetadata::code);
                info!(store_id, code, "the store's webhook secret does not exist or may not be read: none");
                None
            }
            Err(e) => return Err(aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string()),
        };
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(store_id.to_owned(), found.clone(), Instant::now());
        Ok(found)
    }

    /// Publishes every event to its topic with its `event_type` attribute.
    /// `POST /hooks/{store}/dms` (section 13): signed as `/events`; every
    /// snapshot usable and the path's store's, else 400 with each bad one's
    /// position and reason and nothing taken; then handed to the DMS feed's
    /// queue, [`custops::feed::SNAPSHOTS_PER_MESSAGE`] a message, and 202.
    async fn snapshots(
        &self,
        store_id: &str,
        req: &HookRequest,
        secrets: &WebhookSecrets,
        now: chrono::DateTime<chrono::Utc>,
    ) -> HookResponse {
        if signed::verify(req, secrets, now).is_err() {
            info!(store_id, route = "dms", "refused: signature does not match");
            return forbidden();
        }
        let Ok(body) = std::str::from_utf8(&req.body) else {
            return HookResponse::refused(400, vec!["the body is not UTF-8 text".into()]);
        };
        let snapshots = match custops::feed::read_body(store_id, body) {
            Ok(s) => s,
            Err(refused) => {
                info!(store_id, route = "dms", refused = refused.len(), "refused: not valid snapshots");
                let reasons: Vec<String> =
                    refused.iter().map(|r| format!("snapshot {}: {}", r.position, r.reason)).collect();
                return HookResponse::json(400, serde_json::json!({ "errors": reasons, "refused": refused }));
            }
        };
        let accepted = snapshots.len();
        if let Err(e) = self.hand_to_feed(store_id, snapshots, now).await {
            warn!(store_id, route = "dms", error = %e, "could not hand the snapshots to the feed; the caller retries");
            return HookResponse::refused(503, vec!["try again".into()]);
        }
        info!(store_id, route = "dms", accepted, "accepted");
        HookResponse::json(202, serde_json::json!({ "accepted": accepted }))
    }

    /// Sends `snapshots` to the feed's queue: deliveries of at most
    /// [`custops::feed::SNAPSHOTS_PER_MESSAGE`], up to ten a
    /// `SendMessageBatch` and well under its 256 KB.
    async fn hand_to_feed(
        &self,
        store_id: &str,
        snapshots: Vec<serde_json::Value>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), String> {
        use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
        let (sqs, url) = &self.feed;
        let bodies: Vec<String> = custops::feed::deliveries(store_id, snapshots, now);
        let mut batch: Vec<SendMessageBatchRequestEntry> = Vec::new();
        let mut bytes = 0;
        let send = |batch: Vec<SendMessageBatchRequestEntry>| async move {
            let out = sqs
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(batch))
                .send()
                .await
                .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())?;
            match out.failed.first() {
                Some(f) => Err(format!("{} not queued ({})", out.failed.len(), f.code)),
                None => Ok(()),
            }
        };
        for (i, body) in bodies.into_iter().enumerate() {
            if batch.len() == 10 || bytes + body.len() > custops::feed::MAX_BODY {
                send(std::mem::take(&mut batch)).await?;
                bytes = 0;
            }
            bytes += body.len();
            let entry = SendMessageBatchRequestEntry::builder().id(format!("d{i}")).message_body(body).build();
            batch.push(entry.map_err(|e| e.to_string())?);
        }
        if !batch.is_empty() {
            send(batch).await?;
        }
        Ok(())
    }

    async fn publish(&self, events: &[Envelope]) -> Result<(), String> {
        let sends = events.iter().map(|event| async move {
            let topic = custops::event::topic_for(&event.event_type).ok_or("no topic")?;
            let arn = self.topics.get(topic).ok_or("no topic ARN")?;
            let body = envelope_json(event).to_string();
            custops::event::publish(&self.sns, arn, &body, Some(&event.event_type)).await
        });
        futures::future::try_join_all(sends).await.map(drop)
    }
}

/// The event as the contract's envelope (section 3).
pub fn envelope_json(event: &Envelope) -> serde_json::Value {
    serde_json::json!({
        "event_id": event.event_id,
        "event_type": event.event_type,
        "occurred_at": event.occurred_at,
        "store_id": event.store_id,
        "data": event.data,
    })
}

/// The store's lines and the department each rings.
#[derive(Debug, Clone, Default)]
pub struct Departments(
    pub std::collections::BTreeMap<Phone, Department>,
    /// The store's own numbers (`sms_number` and `lines`), when its
    /// configuration was read.
    pub Option<std::collections::BTreeSet<Phone>>,
);

impl Departments {
    /// A store's lines and numbers, as its configuration says.
    pub fn of_store(store: &custops::StoreConfig) -> Self {
        let own = std::iter::once(store.sms_number.clone()).chain(store.lines.keys().cloned()).collect();
        Self(store.lines.clone(), Some(own))
    }

    /// Whether `to` is one of the store's own numbers (so a call to it is
    /// the store's); with its configuration unread, every number is taken
    /// as before.
    pub fn owns(&self, to: &str) -> bool {
        match &self.1 {
            Some(own) => Phone::parse(to).is_ok_and(|p| own.contains(&p)),
            None => true,
        }
    }

    /// The department of the line `to` (a number the provider sent; `main`
    /// for one the store has not listed, or one that is not a number).
    pub fn of(&self, to: &str) -> Department {
        Phone::parse(to).ok().and_then(|p| self.0.get(&p).copied()).unwrap_or(Department::Main)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Events,
    Twilio,
    RingCentral,
    Dms,
}

impl Route {
    fn name(self) -> &'static str {
        match self {
            Route::Events => "events",
            Route::Twilio => "twilio",
            Route::RingCentral => "ringcentral",
            Route::Dms => "dms",
        }
    }
}

/// A call a provider reported, in its own words.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    /// `twilio-{CallSid}`, `ringcentral-{telephonySessionId}` (an answered
    /// call's event id adds `-answered`).
    pub event_id: String,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub call_id: &'a str,
    pub from: &'a str,
    /// The store line called.
    pub to: &'a str,
    pub outcome: CallOutcome,
}

/// What became of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// Nobody answered (`call.missed`).
    Missed { voicemail: bool },
    /// The store answered (`call.answered`, section 14).
    Answered { duration_seconds: Option<u32> },
}

/// The `call.missed` or `call.answered` envelope of `store_id` from a
/// provider's call (its department the called line's), checked as section 3
/// input (what a bad value would do downstream, it does here: a 400).
pub fn call_event(store_id: &str, call: Call<'_>, departments: &Departments) -> Result<Envelope, Refusal> {
    let mut data = serde_json::json!({
        "call_id": call.call_id, "from": call.from, "to": call.to, "department": departments.of(call.to).as_str(),
    });
    let (event_type, event_id) = match call.outcome {
        CallOutcome::Missed { voicemail } => {
            data["voicemail"] = voicemail.into();
            ("call.missed", call.event_id)
        }
        CallOutcome::Answered { duration_seconds } => {
            if let Some(d) = duration_seconds {
                data["duration_seconds"] = d.into();
            }
            ("call.answered", format!("{}-answered", call.event_id))
        }
    };
    let body = serde_json::json!({
        "event_id": event_id, "event_type": event_type, "occurred_at": call.occurred_at,
        "store_id": store_id, "data": data,
    });
    let envelope = Envelope::parse(&body.to_string()).map_err(|e| Refusal::invalid(e.to_string()))?;
    envelope.check().map_err(|e| Refusal::invalid(e.to_string()))?;
    Ok(envelope)
}

#[cfg(test)]
mod tests;
