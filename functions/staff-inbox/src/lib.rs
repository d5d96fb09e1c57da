//! `staff-inbox`: the web app where people work their tasks and answer
//! customers (CONTRACT.md section 10), served by the HTTP API under `/app/`
//! as pages rendered on the server (askama, escaping everything a customer
//! wrote), usable with no JavaScript, on a phone or at a desk.
//!
//! | route | what |
//! |---|---|
//! | `GET /app/signin`, `POST /app/signin` | the sign-in form; Cognito `USER_PASSWORD_AUTH`, then an HttpOnly session cookie (a first sign-in sets a new password) |
//! | `GET /app/tasks[?view=all][&store=S]` | the user's teams' open tasks, due first, overdue and escalated marked; `view=all`: every open task of their stores (managers) |
//! | `GET /app/customers/{e164}?store=S` | the one record and the whole conversation and timeline |
//! | `POST /app/customers/{e164}/reply` | one text through the one outbound path ([`reply`]) |
//! | `POST /app/tasks/{task_id}/done`, `.../assign` | close a task with an outcome; give it to a team (managers) |
//! | `POST /app/signout` | ends the session |
//!
//! Every page but the sign-in needs a session ([`session`]: the Cognito ID
//! token, checked on every request); every POST needs the form's `csrf`. A
//! user sees and changes only their own stores: anything of another store
//! answers 404, as if it did not exist.
//!
//! Shape: [`Inbox::answer`] takes a [`HookRequest`] and returns a
//! [`HookResponse`], with its clients and clock injected: the same code in
//! unit tests, in the local stack (`custops local up`'s `http` URL) and on
//! Lambda (`main.rs`). No session, password, form token or phone number is
//! ever logged (users are named by their Cognito `sub`).

pub mod reply;
pub mod session;

use std::collections::HashMap;

use askama::Template;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
use chrono::{DateTime, Utc};
use custops::env::{ConfigError, EnvSource};
use custops::http::{HookRequest, HookResponse};
use custops::model::{Customer, Task, TaskOutcome};
use custops::outbound::Delivery;
use custops::tasks::TaskError;
use custops::{Applied, Core, CustomerId, Phone, SharedClock, StoreConfig};
use session::{User, Verifier};
use tracing::{info, warn};

/// The function's name, as in `infra/template.yaml`.
pub const NAME: &str = "staff-inbox";
/// The trigger name on the texts people send.
pub const TRIGGER: &str = "staff_reply";

/// The user pool and its app client (`!Ref StaffUserPool`, `!Ref StaffUserPoolClient`).
pub const USER_POOL_ID: &str = "USER_POOL_ID";
pub const USER_POOL_CLIENT_ID: &str = "USER_POOL_CLIENT_ID";

/// The environment the function reads (checked against the template).
pub const ENV: &[&str] =
    &[custops::env::TABLE_NAME, custops::env::RUST_LOG, custops::env::WARM_UP, USER_POOL_ID, USER_POOL_CLIENT_ID];

/// The largest form a page posts.
pub const MAX_FORM: usize = 16 * 1024;

/// The inbox, with what its cold start built.
pub struct Inbox {
    core: Core,
    cognito: aws_sdk_cognitoidentityprovider::Client,
    client_id: String,
    verifier: Verifier,
}

impl AsRef<Core> for Inbox {
    fn as_ref(&self) -> &Core {
        &self.core
    }
}

/// A form's fields.
type Form = HashMap<String, String>;

fn form_of(body: &[u8]) -> Form {
    form_urlencoded::parse(body).into_owned().collect()
}

/// A path segment, percent-decoded (a `+` stays a `+`: `/app/customers/+1512...`).
fn segment(raw: &str) -> String {
    let kept = raw.replace('+', "%2B");
    form_urlencoded::parse(format!("s={kept}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

impl Inbox {
    /// Reads the table and the pool from `env`; builds the clients from `config`.
    pub fn from_env(
        env: &impl EnvSource,
        config: &aws_config::SdkConfig,
        clock: SharedClock,
    ) -> Result<Self, ConfigError> {
        let clients = custops::aws::Clients::new(config);
        let core = Core::with_clients(env, &clients, clock)?;
        let pool = env.required(USER_POOL_ID)?;
        let client_id = env.required(USER_POOL_CLIENT_ID)?;
        let region = config.region().map(|r| r.to_string()).unwrap_or_else(|| custops::aws::LOCAL_REGION.to_owned());
        let verifier = Verifier::new(&region, &pool, &client_id, config.endpoint_url());
        Ok(Self { core, cognito: aws_sdk_cognitoidentityprovider::Client::new(config), client_id, verifier })
    }

    /// Answers one request.
    pub async fn answer(&self, req: &HookRequest) -> HookResponse {
        let path = req.uri.path().to_owned();
        let segments: Vec<String> = path.trim_matches('/').split('/').map(segment).collect();
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        let query: Form = form_of(req.uri.query().unwrap_or_default().as_bytes());
        let get = req.method == http::Method::GET;
        let post = req.method == http::Method::POST;
        if post && req.body.len() > MAX_FORM {
            return message(413, "Too long", "That form is larger than any page of the inbox sends.");
        }
        match (get, post, segs.as_slice()) {
            (true, _, ["app"]) => return HookResponse::see_other("/app/tasks"),
            (true, _, ["app", "signin"]) => return page(200, &SignIn::default()),
            (_, true, ["app", "signin"]) => return self.sign_in(req, &form_of(&req.body)).await,
            _ => {}
        }
        let Some(token) = session::token_of(req.header("cookie")) else {
            return HookResponse::see_other("/app/signin");
        };
        let user = match self.verifier.user(token).await {
            Ok(user) => user,
            Err(session::Rejected::Keys(e)) => {
                warn!(error = %e, "could not read the user pool's keys");
                return message(503, "Try again", "The sign-in service did not answer. Try again in a moment.");
            }
            Err(e) => {
                info!(reason = %e, "session refused: signing in again");
                return HookResponse::see_other("/app/signin")
                    .with_header("Set-Cookie", session::clear_cookie(req.is_https()));
            }
        };
        let nav = Nav::of(&user, token);
        if post {
            let form = form_of(&req.body);
            if !session::csrf_ok(token, form.get("csrf").map(String::as_str)) {
                info!(sub = %user.sub, path = %redact_path(&path), "form refused: no or wrong csrf token");
                return message(
                    403,
                    "Form expired",
                    "This form was not sent from a page of your session. Reload the page and try again.",
                );
            }
            return match segs.as_slice() {
                ["app", "signout"] => HookResponse::see_other("/app/signin")
                    .with_header("Set-Cookie", session::clear_cookie(req.is_https())),
                ["app", "customers", phone, "reply"] => self.reply(&user, &nav, phone, &form).await,
                ["app", "tasks", task_id, "done"] => self.done(&user, task_id, &form).await,
                ["app", "tasks", task_id, "assign"] => self.assign(&user, task_id, &form).await,
                _ => not_found(),
            };
        }
        if !get {
            return message(405, "Not allowed", "That page is only read or posted.");
        }
        match segs.as_slice() {
            ["app", "tasks"] => self.tasks(&user, &nav, &query).await,
            ["app", "customers", phone] => {
                let notice = query.get("notice").and_then(|n| notice_text(n)).map(|n| (n.to_owned(), false));
                self.customer(&user, &nav, phone, query.get("store").map(String::as_str), notice).await
            }
            _ => not_found(),
        }
    }

    /// `POST /app/signin`: the password (or, on a first sign-in, a new one)
    /// against the pool; a session cookie.
    async fn sign_in(&self, req: &HookRequest, form: &Form) -> HookResponse {
        // As `custops staff add` stores it: an email's case is not the person's.
        let email = form.get("email").map(|e| e.trim().to_lowercase()).unwrap_or_default();
        let again = |status: u16, error: &str| {
            page(status, &SignIn { email: email.clone(), error: Some(error.to_owned()), challenge: None })
        };
        if email.is_empty() {
            return again(400, "Enter your email and password.");
        }
        let result = match (form.get("new_password"), form.get("session")) {
            (Some(new_password), Some(session)) => self
                .cognito
                .respond_to_auth_challenge()
                .client_id(&self.client_id)
                .challenge_name(ChallengeNameType::NewPasswordRequired)
                .session(session)
                .challenge_responses("USERNAME", &email)
                .challenge_responses("NEW_PASSWORD", new_password)
                .send()
                .await
                .map(|o| (o.authentication_result, o.challenge_name, o.session))
                .map_err(|e| e.into_service_error().meta().code().unwrap_or("unknown").to_owned()),
            _ => {
                let password = form.get("password").cloned().unwrap_or_default();
                if password.is_empty() {
                    return again(400, "Enter your email and password.");
                }
                self.cognito
                    .initiate_auth()
                    .client_id(&self.client_id)
                    .auth_flow(AuthFlowType::UserPasswordAuth)
                    .auth_parameters("USERNAME", &email)
                    .auth_parameters("PASSWORD", password)
                    .send()
                    .await
                    .map(|o| (o.authentication_result, o.challenge_name, o.session))
                    .map_err(|e| e.into_service_error().meta().code().unwrap_or("unknown").to_owned())
            }
        };
        let (tokens, challenge, session) = match result {
            Ok(r) => r,
            Err(code) if matches!(code.as_str(), "NotAuthorizedException" | "UserNotFoundException") => {
                info!("sign-in refused: wrong email or password");
                return again(401, "Wrong email or password.");
            }
            Err(code) if code == "InvalidPasswordException" => {
                return again(400, "That password does not meet the store's password rules.");
            }
            Err(code) => {
                warn!(code, "the user pool did not sign the user in");
                return again(503, "The sign-in service did not answer. Try again in a moment.");
            }
        };
        if challenge == Some(ChallengeNameType::NewPasswordRequired) {
            return page(200, &SignIn { email, error: None, challenge: session });
        }
        let Some(id_token) = tokens.and_then(|t| t.id_token.map(|id| (id, t.expires_in))) else {
            warn!(?challenge, "the user pool asked for a step the inbox does not offer");
            return again(403, "This sign-in needs a step the inbox does not offer; ask a manager.");
        };
        let (id_token, expires_in) = id_token;
        match self.verifier.user(&id_token).await {
            Ok(user) if user.stores.is_empty() => {
                info!(sub = %user.sub, "signed in without a store");
                again(403, "Your sign-in has no store yet; ask a manager.")
            }
            Ok(user) => {
                info!(sub = %user.sub, stores = user.stores.len(), manager = user.manager, "signed in");
                HookResponse::see_other("/app/tasks").with_header(
                    "Set-Cookie",
                    session::set_cookie(&id_token, i64::from(expires_in.max(60)), req.is_https()),
                )
            }
            Err(e) => {
                warn!(reason = %e, "the pool's own token did not verify");
                again(503, "The sign-in service did not answer. Try again in a moment.")
            }
        }
    }

    /// The store `store_id` if the user works there (else `None`: a 404).
    async fn store_of(
        &self,
        user: &User,
        store_id: Option<&str>,
    ) -> Result<Option<std::sync::Arc<StoreConfig>>, HookResponse> {
        let store_id = match (store_id, user.stores.as_slice()) {
            (Some(s), _) => s,
            (None, [only]) => only.as_str(),
            (None, _) => return Ok(None),
        };
        if !user.works_at(store_id) {
            return Ok(None);
        }
        self.core.stores.get(store_id).await.map_err(|e| unavailable(&e))
    }

    /// `GET /app/tasks`.
    async fn tasks(&self, user: &User, nav: &Nav, query: &Form) -> HookResponse {
        let all = user.manager && query.get("view").is_some_and(|v| v == "all");
        let only = query.get("store");
        let now = self.core.clock.now();
        let mut views = Vec::new();
        for store_id in user.stores.iter().filter(|s| only.is_none_or(|o| o == *s)) {
            let store = match self.core.stores.get(store_id).await {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(e) => return unavailable(&e),
            };
            let open = match self.core.table.open_tasks(store_id).await {
                Ok(t) => t,
                Err(e) => return unavailable(&e),
            };
            let mine: Vec<Task> = open.into_iter().filter(|t| all || user.on_team(&t.owner)).collect();
            let ids: Vec<CustomerId> = mine.iter().map(|t| CustomerId::new(store_id, t.phone.clone())).collect();
            let names: HashMap<Phone, String> = match self.core.table.profiles(&ids).await {
                Ok(p) => p.iter().map(|c| (c.phone.clone(), name_of(Some(c)))).collect(),
                Err(e) => return unavailable(&e),
            };
            views.extend(mine.iter().map(|t| TaskView::of(&store, t, names.get(&t.phone).cloned(), now)));
        }
        views.sort_by(|a, b| a.due_at.cmp(&b.due_at).then_with(|| a.task_id.cmp(&b.task_id)));
        let heading = if all { "Every open task" } else { "Your open tasks" };
        let notice = query.get("notice").and_then(|n| notice_text(n)).map(str::to_owned);
        page(200, &TasksPage { nav, heading, tasks: views, multi_store: user.stores.len() > 1, notice })
    }

    /// `GET /app/customers/{e164}?store=S`.
    async fn customer(
        &self,
        user: &User,
        nav: &Nav,
        phone: &str,
        store_id: Option<&str>,
        notice: Option<(String, bool)>,
    ) -> HookResponse {
        // A lead that came by mail alone is keyed by its address.
        let Some(phone) = Phone::from_key(phone) else { return not_found() };
        let store = match self.store_of(user, store_id).await {
            Ok(Some(s)) => s,
            Ok(None) => return not_found(),
            Err(r) => return r,
        };
        let customer = CustomerId::new(&store.store_id, phone);
        let timeline = match self.core.table.timeline(&customer).await {
            Ok(t) => t,
            Err(e) => return unavailable(&e),
        };
        if timeline.state.profile.is_none() && timeline.touchpoints.is_empty() && timeline.state.tasks.is_empty() {
            return not_found();
        }
        let now = self.core.clock.now();
        let view = CustomerView::of(&store, &customer, &timeline, now);
        let failed = notice.as_ref().is_some_and(|(_, failed)| *failed);
        let status = 200;
        page(
            status,
            &CustomerPage {
                nav,
                c: view,
                notice: notice.map(|(n, _)| n),
                failed,
                form_id: ulid::Ulid::new().to_string(),
            },
        )
    }

    /// `POST /app/customers/{e164}/reply`.
    async fn reply(&self, user: &User, nav: &Nav, phone_raw: &str, form: &Form) -> HookResponse {
        let Ok(phone) = Phone::parse(phone_raw) else { return not_found() };
        let store = match self.store_of(user, form.get("store").map(String::as_str)).await {
            Ok(Some(s)) => s,
            Ok(None) => return not_found(),
            Err(r) => return r,
        };
        let customer = CustomerId::new(&store.store_id, phone);
        match self.core.table.get_profile(&customer).await {
            Ok(Some(_)) => {}
            Ok(None) => return not_found(),
            Err(e) => return unavailable(&e),
        }
        let written = form.get("body").cloned().unwrap_or_default();
        let form_id = form
            .get("form_id")
            .filter(|f| !f.is_empty() && f.len() <= 64)
            .cloned()
            .unwrap_or_else(|| ulid::Ulid::new().to_string());
        let applied = self
            .core
            .decide_and_apply(&store, &customer, |state, now| {
                reply::decide(&store, &customer, state, &written, &user.email, &form_id, now)
            })
            .await;
        let back = |notice: &str| {
            HookResponse::see_other(format!(
                "/app/customers/{}?store={}&notice={notice}",
                customer.phone.e164(),
                store.store_id
            ))
        };
        match applied {
            Ok(Applied::Applied { sent }) => {
                info!(sub = %user.sub, store_id = %store.store_id, "a person answered a customer");
                match sent.first() {
                    Some(Delivery::Deferred { .. }) => back("queued"),
                    Some(Delivery::Ambiguous) => back("unknown"),
                    _ => back("sent"),
                }
            }
            Ok(Applied::Duplicate) => back("sent"),
            Err(custops::apply::Refused::Decided(why)) => {
                info!(sub = %user.sub, store_id = %store.store_id, "answer not sent");
                self.customer(user, nav, phone_raw, Some(&store.store_id), Some((why.to_string(), true))).await
            }
            Err(custops::apply::Refused::Process(e)) => {
                warn!(error = %custops::phone::redact_digits(&e.to_string()), "could not record the answer");
                message(503, "Try again", "The answer was not recorded. Try again in a moment.")
            }
        }
    }

    /// The customer a task form names (its `store` and `phone`), if the user works there.
    async fn task_customer(
        &self,
        user: &User,
        form: &Form,
    ) -> Result<(std::sync::Arc<StoreConfig>, CustomerId), HookResponse> {
        let store = match self.store_of(user, form.get("store").map(String::as_str)).await? {
            Some(s) => s,
            None => return Err(not_found()),
        };
        let phone = form.get("phone").and_then(|p| Phone::from_key(p)).ok_or_else(not_found)?;
        Ok((store.clone(), CustomerId::new(&store.store_id, phone)))
    }

    /// Where a task form goes back to.
    fn back(form: &Form, customer: &CustomerId, notice: &str) -> HookResponse {
        match form.get("back").map(String::as_str) {
            Some("tasks") => HookResponse::see_other(format!("/app/tasks?notice={notice}")),
            _ => HookResponse::see_other(format!(
                "/app/customers/{}?store={}&notice={notice}",
                customer.phone.e164(),
                customer.store_id
            )),
        }
    }

    /// `POST /app/tasks/{task_id}/done`.
    async fn done(&self, user: &User, task_id: &str, form: &Form) -> HookResponse {
        let (store, customer) = match self.task_customer(user, form).await {
            Ok(c) => c,
            Err(r) => return r,
        };
        let outcome = match form.get("outcome").map(String::as_str).unwrap_or("reached") {
            "booked" => TaskOutcome::Booked,
            "reached" => TaskOutcome::Reached,
            "no_answer" => TaskOutcome::NoAnswer,
            "declined" => TaskOutcome::Declined,
            _ => return message(400, "Unknown outcome", "Choose booked, reached, no answer or declined."),
        };
        let result = self
            .core
            .decide_and_apply(&store, &customer, |state, now| {
                custops::tasks::done_by(&customer, state, task_id, outcome, Some(&user.email), now)
            })
            .await;
        self.task_answer(user, form, &customer, result, "done")
    }

    /// `POST /app/tasks/{task_id}/assign` (managers).
    async fn assign(&self, user: &User, task_id: &str, form: &Form) -> HookResponse {
        let (store, customer) = match self.task_customer(user, form).await {
            Ok(c) => c,
            Err(r) => return r,
        };
        if !user.manager {
            return message(403, "Managers only", "Only the store's managers give tasks to others.");
        }
        let owner = form.get("owner").map(|o| o.trim().to_owned()).unwrap_or_default();
        let valid = !owner.is_empty()
            && owner.len() <= 64
            && owner.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
        if !valid {
            return message(400, "Unknown owner", "An owner is a team id such as bdc-service.");
        }
        let result = self
            .core
            .decide_and_apply(&store, &customer, |state, now| {
                custops::tasks::assign(&customer, state, task_id, &owner, &user.email, now)
            })
            .await;
        self.task_answer(user, form, &customer, result, "assigned")
    }

    fn task_answer(
        &self,
        user: &User,
        form: &Form,
        customer: &CustomerId,
        result: Result<Applied, custops::apply::Refused<TaskError>>,
        notice: &str,
    ) -> HookResponse {
        match result {
            Ok(_) => {
                info!(sub = %user.sub, store_id = %customer.store_id, what = notice, "a person changed a task");
                Self::back(form, customer, notice)
            }
            Err(custops::apply::Refused::Decided(TaskError::NotFound(_))) => not_found(),
            Err(custops::apply::Refused::Decided(TaskError::AlreadyDone(_))) => Self::back(form, customer, "closed"),
            Err(custops::apply::Refused::Process(e)) => {
                warn!(error = %custops::phone::redact_digits(&e.to_string()), "could not change the task");
                message(503, "Try again", "The change was not recorded. Try again in a moment.")
            }
        }
    }
}

/// A path for a log line: no phone number.
fn redact_path(path: &str) -> String {
    custops::phone::redact_digits(path)
}

fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "sent" => "Sent.",
        "queued" => "Written: it goes out when the store's texting window opens.",
        "unknown" => "Sent, but the carrier's answer was lost: check the texts before sending again.",
        "done" => "Task closed.",
        "assigned" => "Task assigned.",
        "closed" => "That task was closed already.",
        _ => return None,
    })
}

/// The header of every signed-in page.
pub struct Nav {
    pub email: String,
    pub stores: String,
    pub manager: bool,
    pub csrf: String,
}

impl Nav {
    fn of(user: &User, token: &str) -> Self {
        Self {
            email: user.email.clone(),
            stores: user.stores.join(", "),
            manager: user.manager,
            csrf: session::csrf(token),
        }
    }
}

#[derive(Template, Default)]
#[template(path = "signin.html")]
struct SignIn {
    email: String,
    error: Option<String>,
    /// The pool's session of a first sign-in that must set a new password.
    challenge: Option<String>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct Message<'a> {
    title: &'a str,
    text: &'a str,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage<'a> {
    nav: &'a Nav,
    heading: &'a str,
    tasks: Vec<TaskView>,
    multi_store: bool,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage<'a> {
    nav: &'a Nav,
    c: CustomerView,
    notice: Option<String>,
    failed: bool,
    form_id: String,
}

fn page(status: u16, template: &impl Template) -> HookResponse {
    match template.render() {
        Ok(html) => HookResponse::html(status, html)
            .with_header("Cache-Control", "no-store")
            .with_header("X-Frame-Options", "DENY")
            .with_header(
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
            ),
        Err(e) => {
            warn!(error = %e, "a page did not render");
            HookResponse::refused(500, vec!["the page did not render".into()])
        }
    }
}

fn message(status: u16, title: &str, text: &str) -> HookResponse {
    page(status, &Message { title, text })
}

fn not_found() -> HookResponse {
    message(404, "Not found", "There is nothing here, or it is not one of your stores'.")
}

fn unavailable(e: &impl std::fmt::Display) -> HookResponse {
    warn!(error = %custops::phone::redact_digits(&e.to_string()), "the table did not answer");
    message(503, "Try again", "The inbox could not read the store's records. Try again in a moment.")
}

/// A customer's name as a person reads it.
fn name_of(c: Option<&Customer>) -> String {
    let name = c
        .map(|c| [c.first_name.as_deref(), c.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    if name.is_empty() {
        "Unknown customer".to_owned()
    } else {
        name
    }
}

/// A time in the store's zone.
fn local(store: &StoreConfig, t: DateTime<Utc>) -> String {
    store.local(t).format("%a %-d %b %-I:%M %p %Z").to_string()
}

fn words(kind: impl serde::Serialize) -> String {
    serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(|s| s.replace('_', " "))).unwrap_or_default()
}

/// One task as a list shows it.
struct TaskView {
    task_id: String,
    store_id: String,
    kind: String,
    overdue: bool,
    escalated: bool,
    due_at: DateTime<Utc>,
    due: String,
    name: String,
    phone: String,
    link: String,
    note: String,
    owner: String,
}

impl TaskView {
    fn of(store: &StoreConfig, t: &Task, name: Option<String>, now: DateTime<Utc>) -> Self {
        Self {
            task_id: t.task_id.clone(),
            store_id: t.store_id.clone(),
            kind: words(t.kind),
            overdue: t.due_at < now,
            escalated: t.escalated_at.is_some(),
            due_at: t.due_at,
            due: local(store, t.due_at),
            name: name.unwrap_or_else(|| name_of(None)),
            phone: t.phone.e164().to_owned(),
            link: format!("/app/customers/{}?store={}", t.phone.e164(), t.store_id),
            note: t.note.clone(),
            owner: t.owner.clone(),
        }
    }
}

/// One message of the conversation.
struct MessageView {
    at_utc: DateTime<Utc>,
    at: String,
    /// `in` (the customer) or `out` (the store).
    side: &'static str,
    who: String,
    body: String,
    state: String,
}

/// The customer's record as the page shows it.
struct CustomerView {
    store_id: String,
    store_name: String,
    phone: String,
    name: String,
    opted_out: bool,
    class: String,
    profile: Vec<(String, String)>,
    repair_orders: Vec<String>,
    declined: Vec<String>,
    consent: String,
    consent_history: Vec<(String, String)>,
    thread: Vec<MessageView>,
    tasks: Vec<TaskView>,
    timeline: Vec<(String, String, String)>,
}

impl CustomerView {
    fn of(store: &StoreConfig, customer: &CustomerId, t: &custops::table::Timeline, now: DateTime<Utc>) -> Self {
        let s = &t.state;
        let c = s.profile.as_ref();
        let name = name_of(c);
        let mut profile =
            vec![("Name".to_owned(), name.clone()), ("Phone".to_owned(), customer.phone.e164().to_owned())];
        if let Some(c) = c {
            if let Some(e) = &c.email {
                profile.push(("Email".into(), e.clone()));
            }
            if let Some(d) = &c.dms_id {
                profile.push(("DMS id".into(), d.clone()));
            }
            profile.push(("Since".into(), words(c.origin)));
            if let Some(v) = c.last_visit_at {
                profile.push(("Last visit".into(), local(store, v)));
            }
            for v in &c.vehicles {
                profile.push(("Vehicle".into(), format!("{} (VIN {})", v.describe(), v.vin)));
            }
            for p in &c.purchases {
                profile.push(("Purchase".into(), purchase(store, p)));
            }
        }
        let mut repair_orders: Vec<_> = s.repair_orders.iter().collect();
        repair_orders.sort_by_key(|r| std::cmp::Reverse(r.status_at));
        let repair_orders = repair_orders
            .iter()
            .map(|r| {
                format!(
                    "{}: {} ({}), advisor {}, {}",
                    r.ro_number,
                    r.status.replace('_', " "),
                    r.vehicle.describe(),
                    r.advisor.name,
                    local(store, r.closed_at.unwrap_or(r.status_at))
                )
            })
            .collect();
        let declined = s
            .declined
            .iter()
            .filter(|l| l.is_open())
            .map(|l| {
                format!(
                    "{} on {}: {} ({})",
                    custops::text::dollars(l.estimate_cents),
                    l.ro_number,
                    l.description,
                    l.op_code
                )
            })
            .collect();
        let consent = if s.consent.opted_out() {
            "Opted out of texts from the store.".to_owned()
        } else {
            match (&s.consent.marketing, &s.consent.marketing_paused) {
                (_, Some(_)) => "May be texted; marketing paused until a person closes the reply.".to_owned(),
                (Some(m), None) if m.granted => format!("May be texted; marketing consent from {}.", m.source),
                _ => "May be texted; no marketing consent.".to_owned(),
            }
        };
        let consent_history = s
            .consent
            .history
            .iter()
            .map(|h| (local(store, h.at), format!("{} ({})", h.change.replace('_', " "), h.source)))
            .collect();
        let mut thread: Vec<MessageView> = t
            .touchpoints
            .iter()
            .filter(|tp| tp.kind == "sms.received")
            .map(|tp| MessageView {
                at_utc: tp.at,
                at: local(store, tp.at),
                side: "in",
                who: name.clone(),
                body: tp.summary.clone(),
                state: String::new(),
            })
            .collect();
        thread.extend(t.texts.iter().map(|x| MessageView {
            at_utc: x.sent_at.unwrap_or(x.created_at),
            at: local(store, x.sent_at.unwrap_or(x.created_at)),
            side: "out",
            who: x.sent_by.clone().unwrap_or_else(|| format!("{} (automatic)", store.name)),
            body: x.body.clone(),
            state: x.state.as_str().replace('_', " "),
        }));
        thread.sort_by_key(|m| m.at_utc);
        let mut tasks: Vec<TaskView> = s
            .tasks
            .iter()
            .filter(|t| t.is_open())
            .map(|task| TaskView::of(store, task, Some(name.clone()), now))
            .collect();
        tasks.sort_by_key(|t| t.due_at);
        let timeline =
            t.touchpoints.iter().map(|tp| (local(store, tp.at), tp.kind.clone(), tp.summary.clone())).collect();
        Self {
            store_id: store.store_id.clone(),
            store_name: store.name.clone(),
            phone: customer.phone.e164().to_owned(),
            name,
            opted_out: s.consent.opted_out(),
            class: words(reply::class_of(s, now)),
            profile,
            repair_orders,
            declined,
            consent,
            consent_history,
            thread,
            tasks,
            timeline,
        }
    }
}

fn purchase(store: &StoreConfig, p: &custops::model::Purchase) -> String {
    format!("{} on {}", p.vehicle.describe(), local(store, p.delivered_at))
}

#[cfg(test)]
mod tests;
