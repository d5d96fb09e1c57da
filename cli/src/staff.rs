//! `custops staff add | remove | list` (CONTRACT.md section 10): who signs
//! in to the inbox for which store. A person is a user of the stack's
//! Cognito pool (their email is their name there, their `sub` is who they
//! are); what they may do at a store is one item in the table per store
//! ([`StaffMember`]), read by the inbox at every request: taking it away
//! (`staff remove`) and ending their sessions stop a copied cookie at once.
//!
//! The pool keeps `custom:store_id` and `custom:teams` beside it (written
//! only here: the app client may not), for the users made before the table
//! held the staff.

use aws_sdk_cognitoidentityprovider::error::DisplayErrorContext;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, MessageActionType};
use custops::staff::StaffMember;
use serde::Serialize;
use serde_json::Value;

use crate::commands::Target;
use crate::BoxError;

/// A staff sign-in as `custops staff add` leaves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffUser {
    pub email: String,
    /// Cognito's `sub`.
    pub sub: String,
    pub stores: Vec<String>,
    /// Their teams at the store just added.
    pub teams: Vec<String>,
    /// Manager of the store just added.
    pub manager: bool,
    /// Made now (else: an existing user given one more store or team).
    pub created: bool,
    /// Where their alerts of this store go, if anywhere.
    pub alerts: Option<String>,
}

/// What `custops staff remove` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub email: String,
    /// Whether they worked at the store.
    pub had_store: bool,
    /// The stores they still work at.
    pub stores: Vec<String>,
    /// Their sessions ended (all of them, at once).
    pub sessions_ended: usize,
    /// No store left: the user is disabled in the pool.
    pub disabled: bool,
    /// Their alert subscription of that store ended.
    pub unsubscribed: bool,
}

/// One line of `custops staff list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listed {
    pub email: String,
    pub sub: String,
    pub teams: Vec<String>,
    pub manager: bool,
    /// TOTP set up (the pool asks for a code at every sign-in).
    pub mfa: bool,
    /// Disabled in the pool (signs in nowhere).
    pub enabled: bool,
    /// Where their alerts of this store go (`sms:+1...`, `email:ADDR`), if anywhere.
    pub alerts: Option<String>,
}

fn cognito_error<E>(e: aws_sdk_cognitoidentityprovider::error::SdkError<E>) -> BoxError
where
    E: std::error::Error + 'static,
{
    DisplayErrorContext(&e).to_string().into()
}

/// The id of the stack's staff user pool (found by its name).
pub async fn pool_id(target: &Target) -> Result<String, BoxError> {
    let name = target
        .template
        .of_type("AWS::Cognito::UserPool")
        .next()
        .and_then(|p| p.properties.get("UserPoolName").and_then(Value::as_str))
        .ok_or("the template has no staff user pool")?
        .to_owned();
    let mut next = None;
    loop {
        let page = target.cognito.list_user_pools().max_results(60).set_next_token(next).send().await?;
        if let Some(id) = page.user_pools().iter().find(|p| p.name() == Some(name.as_str())).and_then(|p| p.id()) {
            return Ok(id.to_owned());
        }
        match page.next_token {
            Some(t) if !t.is_empty() => next = Some(t),
            _ => {
                return Err(
                    format!("no user pool {name:?}: is the stack deployed (or `custops local up` running)?").into()
                )
            }
        }
    }
}

/// A comma-separated list, trimmed, without empties or repeats.
pub fn id_list(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == id) {
            out.push(id.to_owned());
        }
    }
    out
}

/// An email as the pool and the table hold it (lower case).
fn email_of(raw: &str) -> Result<String, BoxError> {
    let email = raw.trim().to_lowercase();
    if !email.contains('@') || email.len() > 254 || email.contains([',', ' ']) {
        return Err(format!("{email:?} is not an email address").into());
    }
    Ok(email)
}

/// A pool user as `AdminGetUser` has them.
struct PoolUser {
    sub: String,
    attributes: Vec<AttributeType>,
    enabled: bool,
    mfa: bool,
}

impl PoolUser {
    fn list(&self, name: &str) -> Vec<String> {
        self.attributes.iter().find(|a| a.name() == name).and_then(|a| a.value()).map(id_list).unwrap_or_default()
    }
}

async fn pool_user(target: &Target, pool: &str, email: &str) -> Result<Option<PoolUser>, BoxError> {
    match target.cognito.admin_get_user().user_pool_id(pool).username(email).send().await {
        Ok(user) => {
            let attributes = user.user_attributes.unwrap_or_default();
            let sub = attributes
                .iter()
                .find(|a| a.name() == "sub")
                .and_then(|a| a.value())
                .ok_or("the pool's user has no sub")?
                .to_owned();
            let mfa = user.user_mfa_setting_list.unwrap_or_default().iter().any(|m| m == "SOFTWARE_TOKEN_MFA");
            Ok(Some(PoolUser { sub, attributes, enabled: user.enabled, mfa }))
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_user_not_found_exception()) => Ok(None),
        Err(e) => Err(cognito_error(e)),
    }
}

fn attr(name: &str, value: &str) -> Result<AttributeType, BoxError> {
    Ok(AttributeType::builder().name(name).value(value).build()?)
}

/// An `--alerts` value: `sms:` and an E.164 number, or `email:` and an
/// address; as the member keeps it, and SNS's protocol and endpoint.
pub fn alert_target(raw: &str) -> Result<(String, &'static str, String), BoxError> {
    match raw.trim().split_once(':') {
        Some(("sms", number)) => {
            let phone = custops::Phone::parse(number.trim())
                .map_err(|_| format!("--alerts sms:{number}: not a phone number"))?;
            Ok((format!("sms:{}", phone.e164()), "sms", phone.e164().to_owned()))
        }
        Some(("email", address)) => {
            let address = email_of(address)?;
            Ok((format!("email:{address}"), "email", address))
        }
        _ => Err("--alerts is sms:+1... or email:ADDR".into()),
    }
}

/// The ARN of the stack's `staff-alerts` topic (found by its name).
async fn alerts_topic(target: &Target) -> Result<String, BoxError> {
    let name = target.template.name_of("StaffAlertsTopic").ok_or("the template has no staff-alerts topic")?;
    crate::commands::topic_arns(target)
        .await?
        .into_iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, arn)| arn)
        .ok_or_else(|| format!("no topic {name:?}: is the stack deployed (or `custops local up` running)?").into())
}

/// Subscribes `member` to `staff-alerts` at `to` (an [`alert_target`]),
/// filtered to their store and teams; the subscription's ARN.
async fn subscribe(target: &Target, member: &StaffMember, to: &str) -> Result<String, BoxError> {
    let (_, protocol, endpoint) = alert_target(to)?;
    let out = target
        .sns
        .subscribe()
        .topic_arn(alerts_topic(target).await?)
        .protocol(protocol)
        .endpoint(endpoint)
        .attributes("FilterPolicy", member.alert_filter().to_string())
        .attributes("FilterPolicyScope", "MessageAttributes")
        // An email subscription is pending until confirmed: its ARN all the same.
        .return_subscription_arn(true)
        .send()
        .await?;
    out.subscription_arn.ok_or_else(|| "SNS gave no subscription ARN".into())
}

/// `custops staff add --store S --email E --teams T1,T2 [--manager] [--password P] [--alerts sms:E164|email:ADDR]`:
/// a staff sign-in in the stack's user pool, working for `S` on teams
/// `T1,T2`, manager of `S` with `--manager` (of that store only). A user who
/// exists already gets the store added (one person, several stores), or at
/// a store they have, the teams (and the manager's role) added. With
/// `--password` the password is set for good (no invitation mail); without
/// it Cognito mails a temporary one and the first sign-in sets a new one. A
/// disabled user (their last store removed) is enabled again.
pub async fn add(
    target: &Target,
    store_id: &str,
    email: &str,
    teams: &str,
    manager: bool,
    password: Option<&str>,
) -> Result<StaffUser, BoxError> {
    add_with_alerts(target, store_id, email, teams, manager, password, None).await
}

/// [`add`], with `--alerts` (`sms:+1...` or `email:ADDR`): they are
/// subscribed to `staff-alerts` there, filtered to this store's alerts for
/// their teams here (and `managers` where they manage); a new `--alerts`
/// replaces the old one, and a change of teams moves the filter with it.
pub async fn add_with_alerts(
    target: &Target,
    store_id: &str,
    email: &str,
    teams: &str,
    manager: bool,
    password: Option<&str>,
    alerts: Option<&str>,
) -> Result<StaffUser, BoxError> {
    let alerts = alerts.map(alert_target).transpose()?.map(|(kept, ..)| kept);
    custops::event::check_id("store", store_id)?;
    if target.table.get_store(store_id).await?.is_none() {
        return Err(format!("unknown store {store_id:?}: `custops store put` it first").into());
    }
    let email = email_of(email)?;
    let new_teams = id_list(teams);
    if new_teams.is_empty() || new_teams.iter().any(|t| custops::event::check_id("team", t).is_err()) {
        return Err("--teams names one or more owner ids (section 4 owners), comma separated".into());
    }
    let pool = pool_id(target).await?;
    let existing = pool_user(target, &pool, &email).await?;
    let (mut stores, mut all_teams) =
        existing.as_ref().map(|u| (u.list("custom:store_id"), u.list("custom:teams"))).unwrap_or_default();
    if !stores.iter().any(|s| s == store_id) {
        stores.push(store_id.to_owned());
    }
    for t in &new_teams {
        if !all_teams.contains(t) {
            all_teams.push(t.clone());
        }
    }
    let attributes = vec![attr("custom:store_id", &stores.join(","))?, attr("custom:teams", &all_teams.join(","))?];
    let created = existing.is_none();
    let mut created_sub = None;
    if created {
        let mut all = vec![attr("email", &email)?, attr("email_verified", "true")?];
        all.extend(attributes);
        let mut req =
            target.cognito.admin_create_user().user_pool_id(&pool).username(&email).set_user_attributes(Some(all));
        if password.is_some() {
            // The password is set below: no invitation mail with a temporary one.
            req = req.message_action(MessageActionType::Suppress);
        }
        let made = req.send().await.map_err(cognito_error)?;
        created_sub = made
            .user
            .and_then(|u| u.attributes)
            .and_then(|attrs| attrs.into_iter().find(|a| a.name() == "sub").and_then(|a| a.value))
            .ok_or("the pool made a user without a sub")
            .map(Some)?;
    } else {
        // Only the store and teams: the email is the user's name already.
        target
            .cognito
            .admin_update_user_attributes()
            .user_pool_id(&pool)
            .username(&email)
            .set_user_attributes(Some(attributes))
            .send()
            .await
            .map_err(cognito_error)?;
        if existing.as_ref().is_some_and(|u| !u.enabled) {
            target
                .cognito
                .admin_enable_user()
                .user_pool_id(&pool)
                .username(&email)
                .send()
                .await
                .map_err(cognito_error)?;
        }
    }
    if let Some(password) = password {
        target
            .cognito
            .admin_set_user_password()
            .user_pool_id(&pool)
            .username(&email)
            .password(password)
            .permanent(true)
            .send()
            .await
            .map_err(cognito_error)?;
    }
    if manager {
        // Escalations are announced to `managers` (section 10's alerts).
        target
            .cognito
            .admin_add_user_to_group()
            .user_pool_id(&pool)
            .username(&email)
            .group_name(custops::alerts::MANAGERS)
            .send()
            .await
            .map_err(cognito_error)?;
    }
    let sub = match (existing, created_sub) {
        (Some(u), _) => u.sub,
        (None, Some(sub)) => sub,
        (None, None) => return Err("the pool made a user without a sub".into()),
    };
    // What the inbox reads: this store's teams and role, added to what they had here.
    let had = target.table.staff_of(&sub).await?.into_iter().find(|m| m.store_id == store_id);
    let mut teams_here = had.as_ref().map(|m| m.teams.clone()).unwrap_or_default();
    for t in new_teams {
        if !teams_here.contains(&t) {
            teams_here.push(t);
        }
    }
    let mut member = StaffMember {
        sub: sub.clone(),
        email: email.clone(),
        store_id: store_id.to_owned(),
        teams: teams_here,
        manager: manager || had.as_ref().is_some_and(|m| m.manager),
        alerts: had.as_ref().and_then(|m| m.alerts.clone()),
        subscription_arn: had.as_ref().and_then(|m| m.subscription_arn.clone()),
    };
    // Their alerts follow their teams here: the subscription is made again
    // with the new filter (or at the new number), the old one ended.
    let to = alerts.or_else(|| member.alerts.clone());
    if let Some(to) = to {
        let old = member.subscription_arn.take();
        member.subscription_arn = Some(subscribe(target, &member, &to).await?);
        member.alerts = Some(to);
        if let Some(old) = old.filter(|o| Some(o) != member.subscription_arn.as_ref()) {
            target.sns.unsubscribe().subscription_arn(old).send().await?;
        }
    }
    target.table.put_staff_member(&member).await?;
    Ok(StaffUser { email, sub, stores, teams: member.teams, manager: member.manager, created, alerts: member.alerts })
}

/// `custops staff remove --store S --email E`: takes store `S` from the
/// user. Every session they have ends at once (a copied cookie is worth
/// nothing from this moment); with no store left the user is disabled in
/// the pool and its tokens revoked.
pub async fn remove(target: &Target, store_id: &str, email: &str) -> Result<Removed, BoxError> {
    custops::event::check_id("store", store_id)?;
    let email = email_of(email)?;
    let pool = pool_id(target).await?;
    let user = pool_user(target, &pool, &email).await?.ok_or_else(|| format!("no staff user {email:?}"))?;
    let (had, left): (Vec<StaffMember>, Vec<StaffMember>) =
        target.table.staff_of(&user.sub).await?.into_iter().partition(|m| m.store_id == store_id);
    let had = had.into_iter().next();
    let had_store = target.table.remove_staff_member(&user.sub, store_id).await?;
    let mut unsubscribed = false;
    if let Some(arn) = had.and_then(|m| m.subscription_arn) {
        target.sns.unsubscribe().subscription_arn(arn).send().await?;
        unsubscribed = true;
    }
    let left: Vec<String> = left.into_iter().map(|m| m.store_id).collect();
    // The pool's copy, so a sign-in never brings the store back.
    let pool_stores: Vec<String> = user.list("custom:store_id").into_iter().filter(|s| s != store_id).collect();
    target
        .cognito
        .admin_update_user_attributes()
        .user_pool_id(&pool)
        .username(&email)
        .user_attributes(attr("custom:store_id", &pool_stores.join(","))?)
        .send()
        .await
        .map_err(cognito_error)?;
    let disabled = left.is_empty();
    if disabled {
        target.cognito.admin_disable_user().user_pool_id(&pool).username(&email).send().await.map_err(cognito_error)?;
        target
            .cognito
            .admin_user_global_sign_out()
            .user_pool_id(&pool)
            .username(&email)
            .send()
            .await
            .map_err(cognito_error)?;
    }
    let sessions_ended = target.table.end_sessions_of(&user.sub).await?;
    Ok(Removed { email, had_store, stores: left, sessions_ended, disabled, unsubscribed })
}

/// `custops staff list --store S`: who signs in for the store, by email,
/// with their teams there, manager there or not, TOTP and whether enabled.
pub async fn list(target: &Target, store_id: &str) -> Result<Vec<Listed>, BoxError> {
    custops::event::check_id("store", store_id)?;
    let pool = pool_id(target).await?;
    let mut out = Vec::new();
    for member in target.table.staff_at(store_id).await? {
        let user = pool_user(target, &pool, &member.email).await?;
        out.push(Listed {
            email: member.email,
            sub: member.sub,
            teams: member.teams,
            manager: member.manager,
            mfa: user.as_ref().is_some_and(|u| u.mfa),
            enabled: user.as_ref().is_some_and(|u| u.enabled),
            alerts: member.alerts,
        });
    }
    out.sort_by(|a, b| a.email.cmp(&b.email));
    Ok(out)
}
