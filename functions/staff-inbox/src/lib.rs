//! `staff-inbox`: the web app where people work their tasks and answer
//! customers (CONTRACT.md section 10), served by the HTTP API under `/app/`
//! as pages rendered on the server (askama, escaping everything a customer
//! wrote), usable with no JavaScript, on a phone or at a desk.
//!
//! | route | what |
//! |---|---|
//! | `GET /app/t/{code}` | an alert's link: the task's customer page (after sign-in), found by the task's link code |
//! | `GET /app/signin`, `POST /app/signin` | the sign-in form; Cognito `USER_PASSWORD_AUTH` (a first sign-in sets a new password; an enrolled user gives their TOTP code), then a server-side session ([`signin`]) |
//! | `GET /app/tasks[?view=all][&store=S]` | the user's teams' open tasks, due first, overdue and escalated marked; `view=all`: every open task of the stores they manage |
//! | `GET /app/customers/{e164}?store=S` | the one record and the whole conversation and timeline |
//! | `GET /app/caller?number=N[&store=S]` | the caller before hello (section 14): the record's first screen at the user's stores, a choice between stores, or "new caller"; creates nothing (after sign-in, the same page) |
//! | `POST /app/customers/{e164}/reply` | one text through the one outbound path ([`reply`]) |
//! | `POST /app/tasks/{task_id}/done`, `.../assign` | close a task with an outcome; give it to a team (the store's managers) |
//! | `GET /app/mfa`, `POST /app/mfa` | TOTP enrolment: the secret as text and as a QR code drawn here ([`mfa`]) |
//! | `POST /app/signout` | ends the session |
//!
//! Every page but the sign-in needs a session ([`session`]: a random id in
//! the cookie, the session in the table, the person's stores read at every
//! request); every POST needs the form's `csrf` and is refused when the
//! browser says another site sent it. A user sees and changes only their
//! own stores: anything of another store answers 404, as if it did not
//! exist. Every answer carries the headers of [`harden`].
//!
//! Shape: [`Inbox::answer`] takes a [`HookRequest`] and returns a
//! [`HookResponse`], with its clients and clock injected: the same code in
//! unit tests, in the local stack (`custops local up`'s `http` URL) and on
//! Lambda (`main.rs`). No session, password, form token, phone number or
//! mail address is ever logged (users are named by their Cognito `sub`).

pub mod jwks;
pub mod mfa;
pub mod reply;
pub mod session;
pub mod signin;
mod views;
pub use views::first_screen;
mod work;

use std::collections::HashMap;

use askama::Template;
use custops::env::{ConfigError, EnvSource};
use custops::http::{HookRequest, HookResponse};
use custops::staff::{Staff, StaffSession};
use custops::table::TableError;
use custops::{Core, Phone, SharedClock};
use jwks::Verifier;
use session::Transport;
use tracing::{info, warn};
use views::{notice_text, Message, Nav};

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

/// The pages' Content-Security-Policy: no script at all, styles inline,
/// forms only to the inbox, never framed, no `<base>`.
pub const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The inbox, with what its cold start built.
pub struct Inbox {
    core: Core,
    cognito: aws_sdk_cognitoidentityprovider::Client,
    client_id: String,
    verifier: Verifier,
    transport: Transport,
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

/// A signed-in request: the person as they are now, and their session.
pub(crate) struct Signed {
    pub user: Staff,
    pub session: StaffSession,
    /// The session id the cookie carried (never logged).
    pub id: String,
}

impl Inbox {
    /// Reads the table and the pool from `env`; builds the clients from
    /// `config`. The deployment says how the inbox is reached: HTTPS on AWS,
    /// plain HTTP only when `config` points at a local emulator (the local
    /// stack); no request header decides it.
    pub fn from_env(
        env: &impl EnvSource,
        config: &aws_config::SdkConfig,
        clock: SharedClock,
    ) -> Result<Self, ConfigError> {
        let (core, _) = Core::from_sdk(env, config, clock)?;
        let pool = env.required(USER_POOL_ID)?;
        let client_id = env.required(USER_POOL_CLIENT_ID)?;
        let region = config.region().map(|r| r.to_string()).unwrap_or_else(|| custops::aws::LOCAL_REGION.to_owned());
        let verifier = Verifier::new(&region, &pool, &client_id, config.endpoint_url());
        let transport = if config.endpoint_url().is_some() { Transport::PlainHttp } else { Transport::Https };
        Ok(Self { core, cognito: aws_sdk_cognitoidentityprovider::Client::new(config), client_id, verifier, transport })
    }

    /// Answers one request, with the headers every `/app/` answer carries.
    pub async fn answer(&self, req: &HookRequest) -> HookResponse {
        harden(self.route(req).await, self.transport)
    }

    /// The origin the inbox is reached at, as this deployment serves it.
    fn own_origin(&self, req: &HookRequest) -> Option<String> {
        let host = req.header("host").map(str::to_owned).or_else(|| req.uri.authority().map(|a| a.to_string()))?;
        Some(format!("{}://{host}", self.transport.scheme()))
    }

    /// Whether the browser says another site sent this form.
    fn cross_site(&self, req: &HookRequest) -> bool {
        let origin = req.header("origin");
        match self.own_origin(req) {
            Some(own) => session::cross_site(req.header("sec-fetch-site"), origin, &own),
            None => origin.is_some() || session::cross_site(req.header("sec-fetch-site"), None, ""),
        }
    }

    async fn route(&self, req: &HookRequest) -> HookResponse {
        let path = req.uri.path().to_owned();
        let segments: Vec<String> = path.trim_matches('/').split('/').map(segment).collect();
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        let query: Form = form_of(req.uri.query().unwrap_or_default().as_bytes());
        let get = req.method == http::Method::GET;
        let post = req.method == http::Method::POST;
        if post && req.body.len() > MAX_FORM {
            return message(413, "Too long", "That form is larger than any page of the inbox sends.");
        }
        if post && self.cross_site(req) {
            info!(path = %redact(&path), "form refused: posted from another site");
            return message(403, "Refused", "This form was sent from another site. Open the inbox and try again.");
        }
        match (get, post, segs.as_slice()) {
            (true, _, ["app"]) => return HookResponse::see_other("/app/tasks"),
            (true, _, ["app", "signin"]) => {
                let next = signin::next_of(query.get("next").map(String::as_str));
                return page(200, &signin::SignIn { next, ..signin::SignIn::default() });
            }
            (_, true, ["app", "signin"]) => return self.sign_in(&form_of(&req.body)).await,
            _ => {}
        }
        let signed = match self.signed_in(req).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                // An alert's link opens its task once the person has signed in.
                let asked = req.uri.path_and_query().map_or(path.as_str(), |p| p.as_str());
                return HookResponse::see_other(signin::signin_to(asked))
                    .with_header("Set-Cookie", session::clear_cookie(self.transport));
            }
            Err(e) => return unavailable(&e),
        };
        let (user, id) = (&signed.user, signed.id.as_str());
        let nav = Nav::of(user, id);
        if post {
            let form = form_of(&req.body);
            if !session::csrf_ok(id, form.get("csrf").map(String::as_str)) {
                info!(sub = %user.sub, path = %redact(&path), "form refused: no or wrong csrf token");
                return message(
                    403,
                    "Form expired",
                    "This form was not sent from a page of your session. Reload the page and try again.",
                );
            }
            return match segs.as_slice() {
                ["app", "signout"] => self.sign_out(&signed).await,
                ["app", "mfa"] => self.mfa_confirm(&signed, &form).await,
                ["app", "customers", phone, "reply"] => self.reply(user, &nav, phone, &form).await,
                ["app", "customers", phone, "household"] => self.link_household(user, &nav, phone, &form).await,
                ["app", "tasks", task_id, "done"] => self.done(user, task_id, &form).await,
                ["app", "tasks", task_id, "assign"] => self.assign(user, task_id, &form).await,
                _ => not_found(),
            };
        }
        if !get {
            return message(405, "Not allowed", "That page is only read or posted.");
        }
        match segs.as_slice() {
            ["app", "tasks"] => self.tasks(user, &nav, &query).await,
            ["app", "caller"] => self.caller(user, &nav, &query).await,
            ["app", "t", code] => self.open_link(user, code).await,
            ["app", "mfa"] => self.mfa_page(&signed, &nav).await,
            ["app", "customers", phone] => {
                let notice = query.get("notice").and_then(|n| notice_text(n)).map(|n| (n.to_owned(), false));
                self.customer(user, &nav, phone, query.get("store").map(String::as_str), notice).await
            }
            _ => not_found(),
        }
    }

    /// The session a request's cookie names, if it holds now: not ended
    /// (signed out, 12 hours, 8 idle hours, `staff remove`), and the person
    /// still works at a store (read now, not as at sign-in).
    async fn signed_in(&self, req: &HookRequest) -> Result<Option<Signed>, TableError> {
        let Some(id) = session::id_of(req.header("cookie")) else { return Ok(None) };
        let hash = session::hash(id);
        let Some(session) = self.core.table.get_session(&hash).await? else {
            info!("session refused: no such session (ended, or never was)");
            return Ok(None);
        };
        let now = self.core.clock.now();
        if let Some(why) = session.ended(now) {
            info!(sub = %session.sub, reason = %why, "session ended");
            self.core.table.end_session(&hash).await?;
            return Ok(None);
        }
        let at = self.core.table.staff_of(&session.sub).await?;
        if at.is_empty() {
            info!(sub = %session.sub, "session ended: no store left");
            self.core.table.end_session(&hash).await?;
            return Ok(None);
        }
        if session.needs_touch(now) {
            self.core.table.touch_session(&hash, now).await?;
        }
        let user = Staff { sub: session.sub.clone(), email: session.email.clone(), at };
        Ok(Some(Signed { user, session, id: id.to_owned() }))
    }

    /// `POST /app/signout`: the session ends on the server; the cookie goes.
    async fn sign_out(&self, signed: &Signed) -> HookResponse {
        if let Err(e) = self.core.table.end_session(&session::hash(&signed.id)).await {
            return unavailable(&e);
        }
        info!(sub = %signed.user.sub, "signed out");
        HookResponse::see_other("/app/signin").with_header("Set-Cookie", session::clear_cookie(self.transport))
    }
}

/// The headers of every `/app/` answer: no sniffing, no referrer (customer
/// URLs carry phone numbers), the CSP, never framed, never cached, and HSTS
/// (a year) unless the deployment is plain HTTP.
pub fn harden(answer: HookResponse, transport: Transport) -> HookResponse {
    let answer = answer
        .with_header("X-Content-Type-Options", "nosniff")
        .with_header("Referrer-Policy", "no-referrer")
        .with_header("Content-Security-Policy", CSP)
        .with_header("X-Frame-Options", "DENY")
        .with_header("Cache-Control", "no-store");
    match transport {
        Transport::Https => answer.with_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
        Transport::PlainHttp => answer,
    }
}

/// Text for a log line: no phone number, no mail address (a lead's record
/// is keyed by its address: `/app/customers/mailto:...`).
pub fn redact(text: &str) -> String {
    let text = custops::phone::redact_digits(text);
    let chars: Vec<char> = text.chars().collect();
    let local_part = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '\'');
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        // A run of local-part characters followed by `@`: keep its first character.
        if local_part(chars[i]) {
            let start = i;
            while i < chars.len() && local_part(chars[i]) {
                i += 1;
            }
            if chars.get(i) == Some(&'@') {
                out.push(chars[start]);
                out.push_str("***");
            } else {
                out.extend(&chars[start..i]);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// A customer key for a log line (a number or a mail address, masked).
pub fn redact_key(raw: &str) -> String {
    Phone::from_key(raw).map(|p| p.masked()).unwrap_or_else(|| redact(raw))
}

fn page(status: u16, template: &impl Template) -> HookResponse {
    match template.render() {
        Ok(html) => HookResponse::html(status, html),
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
    warn!(error = %redact(&e.to_string()), "the table did not answer");
    message(503, "Try again", "The inbox could not read the store's records. Try again in a moment.")
}

#[cfg(test)]
mod tests;
