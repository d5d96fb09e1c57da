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
//!
//! Shape: [`FrontDoor::answer`] takes a [`HookRequest`] and returns a
//! [`HookResponse`]; its clients (SNS, Secrets Manager, the table) and clock
//! are injected, so the same code runs in unit tests, in the local stack
//! (`custops local up`'s `http` URL) and on Lambda (`main.rs`, a thin
//! adapter from API Gateway's HTTP API payload 2.0).
//!
//! No secret, no signature and no full phone number is ever logged.

pub mod ringcentral;
pub mod signed;
pub mod twilio;

use std::collections::HashMap;
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

/// The topic ARNs, by topic name (`CARRIER_EVENTS_TOPIC_ARN`, `DMS_EVENTS_TOPIC_ARN`).
pub const CARRIER_EVENTS_TOPIC_ARN: &str = "CARRIER_EVENTS_TOPIC_ARN";
pub const DMS_EVENTS_TOPIC_ARN: &str = "DMS_EVENTS_TOPIC_ARN";

/// The environment the function reads (checked against the template).
pub const ENV: &[&str] = &[
    custops::env::TABLE_NAME,
    custops::env::RUST_LOG,
    custops::env::WARM_UP,
    CARRIER_EVENTS_TOPIC_ARN,
    DMS_EVENTS_TOPIC_ARN,
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

type SecretCache = Mutex<HashMap<String, (Instant, Option<Arc<WebhookSecrets>>)>>;

/// The front door, with what its cold start built.
pub struct FrontDoor {
    core: Core,
    sns: aws_sdk_sns::Client,
    secrets: aws_sdk_secretsmanager::Client,
    /// Topic name (`carrier-events`, `dms-events`) -> ARN.
    topics: HashMap<&'static str, String>,
    cache: SecretCache,
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
        let clients = custops::aws::Clients::new(config);
        let core = Core::with_clients(env, &clients, clock)?;
        let topics = HashMap::from([
            ("carrier-events", env.required(CARRIER_EVENTS_TOPIC_ARN)?),
            ("dms-events", env.required(DMS_EVENTS_TOPIC_ARN)?),
        ]);
        Ok(Self {
            core,
            sns: clients.sns.clone(),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            topics,
            cache: Mutex::default(),
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
            Route::Events => signed::events(store_id, req, &secrets, now).map(|events| (events, None)),
            Route::Twilio => self.department_for(store_id).await.and_then(|departments| {
                twilio::call(store_id, req, &secrets, now, &departments).map(|e| (e.into_iter().collect(), None))
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
            Route::Events => HookResponse::json(202, serde_json::json!({ "accepted": events.len() })),
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
            Ok(Some(store)) => Ok(Departments(store.lines.clone())),
            Ok(None) => Ok(Departments::default()),
            Err(e) => {
                warn!(store_id, error = %e, "could not read the store's lines; the call rings main");
                Ok(Departments::default())
            }
        }
    }

    /// The store's webhook secrets, cached for [`SECRET_TTL`].
    async fn secrets_of(&self, store_id: &str) -> Result<Option<Arc<WebhookSecrets>>, String> {
        if let Some((at, cached)) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(store_id) {
            let ttl = if cached.is_some() { SECRET_TTL } else { NO_SECRET_TTL };
            if at.elapsed() < ttl {
                return Ok(cached.clone());
            }
        }
        let read = self.secrets.get_secret_value().secret_id(secret_name(store_id)).send().await;
        let found = match read {
            Ok(out) => {
                let parsed: WebhookSecrets = out
                    .secret_string()
                    .and_then(|s| serde_json::from_str(s).ok())
                    .ok_or("the store's webhook secret is not a JSON object")?;
                Some(Arc::new(parsed))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => None,
            Err(e) => return Err(aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string()),
        };
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(store_id.to_owned(), (Instant::now(), found.clone()));
        Ok(found)
    }

    /// Publishes every event to its topic with its `event_type` attribute.
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
pub struct Departments(pub std::collections::BTreeMap<Phone, Department>);

impl Departments {
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
}

impl Route {
    fn name(self) -> &'static str {
        match self {
            Route::Events => "events",
            Route::Twilio => "twilio",
            Route::RingCentral => "ringcentral",
        }
    }
}

/// A call a provider reported missed, in its own words.
#[derive(Debug, Clone)]
pub struct MissedCall<'a> {
    /// `twilio-{CallSid}`, `ringcentral-{telephonySessionId}`.
    pub event_id: String,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub call_id: &'a str,
    pub from: &'a str,
    /// The store line called.
    pub to: &'a str,
    pub voicemail: bool,
}

/// A `call.missed` envelope of `store_id` from a provider's call (its
/// department the called line's), checked as section 3 input (what a bad
/// value would do downstream, it does here: a 400).
pub fn call_missed(store_id: &str, call: MissedCall<'_>, departments: &Departments) -> Result<Envelope, Refusal> {
    let body = serde_json::json!({
        "event_id": call.event_id,
        "event_type": "call.missed",
        "occurred_at": call.occurred_at,
        "store_id": store_id,
        "data": {
            "call_id": call.call_id, "from": call.from, "to": call.to,
            "department": departments.of(call.to).as_str(), "voicemail": call.voicemail,
        }
    });
    let envelope = Envelope::parse(&body.to_string()).map_err(|e| Refusal::invalid(e.to_string()))?;
    envelope.check().map_err(|e| Refusal::invalid(e.to_string()))?;
    Ok(envelope)
}

#[cfg(test)]
mod tests;
