//! The pages and forms of a signed-in person: their tasks, a customer's
//! record, an answer, a task closed or given to a team. Everything is
//! checked against the person's stores as they are at this request; a
//! manager is a manager only at the stores they were made manager of.

use std::collections::HashMap;

use custops::http::HookResponse;
use custops::model::{Task, TaskOutcome};
use custops::outbound::Delivery;
use custops::staff::Staff;
use custops::tasks::TaskError;
use custops::{Applied, CustomerId, Phone, StoreConfig};
use tracing::{info, warn};

use crate::views::{
    customer_link, name_of, notice_text, CallerFound, CallerPage, CustomerPage, CustomerView, Nav, TaskView, TasksPage,
};
use crate::{message, not_found, page, reply, unavailable, Form, Inbox};

impl Inbox {
    /// The store `store_id` if the user works there (else `None`: a 404).
    pub(crate) async fn store_of(
        &self,
        user: &Staff,
        store_id: Option<&str>,
    ) -> Result<Option<std::sync::Arc<StoreConfig>>, HookResponse> {
        let store_id = match (store_id, user.at.as_slice()) {
            (Some(s), _) => s,
            (None, [only]) => only.store_id.as_str(),
            (None, _) => return Ok(None),
        };
        if !user.works_at(store_id) {
            return Ok(None);
        }
        self.core.stores.get(store_id).await.map_err(|e| unavailable(&e))
    }

    /// Above this many stores, the caller page loads every store's
    /// configuration in one Query rather than one read each.
    const CALLER_PRELOAD_STORES: usize = 4;

    /// `GET /app/caller?number=N[&store=S]`: the caller's record at the
    /// user's stores (section 14), as a phone system opens it on an
    /// incoming call: the record's first screen, a choice when the number is
    /// a customer at several of the user's stores, or "new caller". Reads
    /// the profiles of the number at the user's stores in one `BatchGetItem`
    /// a hundred stores, and the one record's timeline; creates nothing.
    pub(crate) async fn caller(&self, user: &Staff, nav: &Nav, query: &Form) -> HookResponse {
        let raw = query.get("number").map(String::as_str).unwrap_or_default();
        let Ok(phone) = Phone::parse(raw) else {
            return message(400, "Not a phone number", "The caller's number could not be read as a phone number.");
        };
        let only = query.get("store");
        let mut ids = user.stores();
        ids.retain(|s| only.is_none_or(|o| o == s));
        // A group's manager works at many stores: their configurations in one
        // Query (the cache keeps them), not one read each.
        if ids.len() > Self::CALLER_PRELOAD_STORES {
            if let Err(e) = self.core.stores.preload().await {
                return unavailable(&e);
            }
        }
        let mut stores = Vec::new();
        for store_id in &ids {
            match self.core.stores.get(store_id).await {
                Ok(Some(s)) => stores.push(s),
                Ok(None) => {}
                Err(e) => return unavailable(&e),
            }
        }
        let names: Vec<String> = stores.iter().map(|s| s.name.clone()).collect();
        // The number's profile at each of those stores: BatchGetItem, 100 a call.
        let ids: Vec<CustomerId> = stores.iter().map(|s| CustomerId::new(&s.store_id, phone.clone())).collect();
        let profiles = match self.core.table.profiles(&ids).await {
            Ok(p) => p,
            Err(e) => return unavailable(&e),
        };
        let mut found: Vec<_> = profiles
            .into_iter()
            .filter_map(|profile| {
                let store = stores.iter().find(|s| s.store_id == profile.store_id)?.clone();
                let customer = CustomerId::new(&store.store_id, phone.clone());
                Some((store, customer, profile))
            })
            .collect();
        found.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        let number: String = form_urlencoded::byte_serialize(phone.e164().as_bytes()).collect();
        let found = match found.len() {
            0 => CallerFound::New,
            1 => {
                let (store, customer, _) = &found[0];
                let timeline = match self.core.table.timeline(customer).await {
                    Ok(t) => t,
                    Err(e) => return unavailable(&e),
                };
                let household = self.household(store, &timeline.state).await;
                let now = self.core.clock.now();
                CallerFound::One(Box::new(CustomerView::of(store, customer, &timeline, &household, now)))
            }
            _ => CallerFound::Several(
                found
                    .iter()
                    .map(|(store, _, profile)| {
                        let link = format!("/app/caller?number={number}&store={}", store.store_id);
                        (store.name.clone(), name_of(Some(profile)), link)
                    })
                    .collect(),
            ),
        };
        page(200, &CallerPage { nav, number: phone.e164().to_owned(), stores: names.join(", "), found })
    }

    /// `GET /app/tasks`.
    pub(crate) async fn tasks(&self, user: &Staff, nav: &Nav, query: &Form) -> HookResponse {
        let asked_all = query.get("view").is_some_and(|v| v == "all");
        let only = query.get("store");
        let now = self.core.clock.now();
        let mut views = Vec::new();
        for store_id in user.stores().iter().filter(|s| only.is_none_or(|o| o == *s)) {
            // Every task of the store only where they are its manager.
            let all = asked_all && user.manager_at(store_id);
            let store = match self.core.stores.get(store_id).await {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(e) => return unavailable(&e),
            };
            let open = match self.core.table.open_tasks(store_id).await {
                Ok(t) => t,
                Err(e) => return unavailable(&e),
            };
            let mine: Vec<Task> = open.into_iter().filter(|t| all || user.on_team(store_id, &t.owner)).collect();
            let ids: Vec<CustomerId> = mine.iter().map(|t| CustomerId::new(store_id, t.phone.clone())).collect();
            let names: HashMap<Phone, String> = match self.core.table.profiles(&ids).await {
                Ok(p) => p.iter().map(|c| (c.phone.clone(), name_of(Some(c)))).collect(),
                Err(e) => return unavailable(&e),
            };
            views.extend(mine.iter().map(|t| TaskView::of(&store, t, names.get(&t.phone).cloned(), now)));
        }
        views.sort_by(|a, b| a.due_at.cmp(&b.due_at).then_with(|| a.task_id.cmp(&b.task_id)));
        let heading = if asked_all && user.manager_anywhere() { "Every open task" } else { "Your open tasks" };
        let notice = query.get("notice").and_then(|n| notice_text(n)).map(str::to_owned);
        page(200, &TasksPage { nav, heading, tasks: views, multi_store: user.at.len() > 1, notice })
    }

    /// `GET /app/t/{code}`: an alert's link, to the page of its task's
    /// customer, if the task is at one of the person's stores (else 404, as
    /// for any other store's customer).
    pub(crate) async fn open_link(&self, user: &Staff, code: &str) -> HookResponse {
        if !crate::signin::is_link_code(code) {
            return not_found();
        }
        let tasks = match self.core.table.tasks_by_link(code).await {
            Ok(t) => t,
            Err(e) => return unavailable(&e),
        };
        match tasks.iter().find(|t| user.works_at(&t.store_id)) {
            Some(t) => HookResponse::see_other(customer_link(t)),
            None => {
                info!(sub = %user.sub, "a task link of no store of theirs");
                not_found()
            }
        }
    }

    /// `GET /app/customers/{e164}?store=S`.
    pub(crate) async fn customer(
        &self,
        user: &Staff,
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
        let household = self.household(&store, &timeline.state).await;
        let view = CustomerView::of(&store, &customer, &timeline, &household, now);
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

    /// The other members' records of a customer's household (section 14), read
    /// at once (at most `HOUSEHOLD_MAX` Queries); one that cannot be read now
    /// is shown by name alone.
    async fn household(
        &self,
        store: &custops::StoreConfig,
        state: &custops::model::CustomerState,
    ) -> Vec<(CustomerId, custops::model::CustomerState)> {
        let reads = state.household.iter().map(|m| async move {
            let id = CustomerId::new(&store.store_id, m.member.clone());
            self.core.table.customer_state(&id).await.ok().map(|s| (id, s))
        });
        futures::future::join_all(reads).await.into_iter().flatten().collect()
    }

    /// `POST /app/customers/{e164}/reply`.
    pub(crate) async fn reply(&self, user: &Staff, nav: &Nav, phone_raw: &str, form: &Form) -> HookResponse {
        let (store, customer) = match self.posted_record(user, phone_raw, form).await {
            Ok(r) => r,
            Err(r) => return r,
        };
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
                reply::decide(&store, &customer, state, &written, &user.actor(), &form_id, now)
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
                warn!(error = %crate::redact(&e.to_string()), "could not record the answer");
                message(503, "Try again", "The answer was not recorded. Try again in a moment.")
            }
        }
    }

    /// `POST /app/customers/{e164}/household`: "same household as" another
    /// number (section 14). Both must be customers of the store the user
    /// works at; nothing links a number without a record. Consent and texts
    /// stay each person's.
    pub(crate) async fn link_household(&self, user: &Staff, nav: &Nav, phone_raw: &str, form: &Form) -> HookResponse {
        let (store, customer) = match self.posted_record(user, phone_raw, form).await {
            Ok(r) => r,
            Err(r) => return r,
        };
        let refused = |why: String| self.customer(user, nav, phone_raw, Some(&store.store_id), Some((why, true)));
        let Some(other) = form.get("other").and_then(|o| Phone::parse(o).ok()) else {
            return refused("That is not a phone number.".to_owned()).await;
        };
        let other = CustomerId::new(&store.store_id, other);
        let other_profile = match self.core.table.get_profile(&other).await {
            Ok(p) => p,
            Err(e) => return unavailable(&e),
        };
        let applied = self
            .core
            .decide_and_apply(&store, &customer, |state, now| {
                custops::household::link(&customer, state, &other, other_profile.as_ref(), &user.actor(), now)
            })
            .await;
        match applied {
            Ok(_) => {
                info!(sub = %user.sub, store_id = %store.store_id, "a person linked a household");
                HookResponse::see_other(format!(
                    "/app/customers/{}?store={}&notice=linked",
                    customer.phone.e164(),
                    store.store_id
                ))
            }
            Err(custops::apply::Refused::Decided(why)) => refused(format!("Not linked: {why}.")).await,
            Err(custops::apply::Refused::Process(e)) => {
                warn!(error = %crate::redact(&e.to_string()), "could not link a household");
                message(503, "Try again", "The link was not recorded. Try again in a moment.")
            }
        }
    }

    /// The record a form posted to `/app/customers/{e164}/...` is about: the
    /// number of its path at the form's `store`, if the user works there.
    async fn posted_record(
        &self,
        user: &Staff,
        phone_raw: &str,
        form: &Form,
    ) -> Result<(std::sync::Arc<StoreConfig>, CustomerId), HookResponse> {
        let Ok(phone) = Phone::parse(phone_raw) else { return Err(not_found()) };
        match self.store_of(user, form.get("store").map(String::as_str)).await? {
            Some(store) => {
                let customer = CustomerId::new(&store.store_id, phone);
                Ok((store, customer))
            }
            None => Err(not_found()),
        }
    }

    /// The customer a task form names (its `store` and `phone`), if the user works there.
    async fn task_customer(
        &self,
        user: &Staff,
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
    pub(crate) async fn done(&self, user: &Staff, task_id: &str, form: &Form) -> HookResponse {
        let (store, customer) = match self.task_customer(user, form).await {
            Ok(c) => c,
            Err(r) => return r,
        };
        let Some(outcome) = TaskOutcome::parse(form.get("outcome").map(String::as_str).unwrap_or("reached")) else {
            return message(400, "Unknown outcome", "Choose one of the outcomes the form offers.");
        };
        let result = self
            .core
            .decide_and_apply(&store, &customer, |state, now| {
                custops::tasks::done_by(&customer, state, task_id, outcome, Some(&user.actor()), now)
            })
            .await;
        self.task_answer(user, form, &customer, result, "done")
    }

    /// `POST /app/tasks/{task_id}/assign` (managers).
    pub(crate) async fn assign(&self, user: &Staff, task_id: &str, form: &Form) -> HookResponse {
        let (store, customer) = match self.task_customer(user, form).await {
            Ok(c) => c,
            Err(r) => return r,
        };
        if !user.manager_at(&store.store_id) {
            info!(sub = %user.sub, store_id = %store.store_id, "assign refused: not a manager of this store");
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
                custops::tasks::assign(&customer, state, task_id, &owner, &user.actor(), now)
            })
            .await;
        self.task_answer(user, form, &customer, result, "assigned")
    }

    fn task_answer(
        &self,
        user: &Staff,
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
                warn!(error = %crate::redact(&e.to_string()), "could not change the task");
                message(503, "Try again", "The change was not recorded. Try again in a moment.")
            }
        }
    }
}
