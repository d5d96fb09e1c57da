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

/// `custops staff add --store S --email E --teams T1,T2 [--manager] [--password P]`:
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
    if created {
        let mut all = vec![attr("email", &email)?, attr("email_verified", "true")?];
        all.extend(attributes);
        let mut req =
            target.cognito.admin_create_user().user_pool_id(&pool).username(&email).set_user_attributes(Some(all));
        if password.is_some() {
            // The password is set below: no invitation mail with a temporary one.
            req = req.message_action(MessageActionType::Suppress);
        }
        req.send().await.map_err(cognito_error)?;
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
    let sub = match existing {
        Some(u) => u.sub,
        None => pool_user(target, &pool, &email).await?.ok_or("the pool did not keep the new user")?.sub,
    };
    // What the inbox reads: this store's teams and role, added to what they had here.
    let had = target.table.staff_of(&sub).await?.into_iter().find(|m| m.store_id == store_id);
    let mut teams_here = had.as_ref().map(|m| m.teams.clone()).unwrap_or_default();
    for t in new_teams {
        if !teams_here.contains(&t) {
            teams_here.push(t);
        }
    }
    let member = StaffMember {
        sub: sub.clone(),
        email: email.clone(),
        store_id: store_id.to_owned(),
        teams: teams_here,
        manager: manager || had.is_some_and(|m| m.manager),
    };
    target.table.put_staff_member(&member).await?;
    Ok(StaffUser { email, sub, stores, teams: member.teams, manager: member.manager, created })
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
    let had_store = target.table.remove_staff_member(&user.sub, store_id).await?;
    let left: Vec<String> = target.table.staff_of(&user.sub).await?.into_iter().map(|m| m.store_id).collect();
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
    Ok(Removed { email, had_store, stores: left, sessions_ended, disabled })
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
        });
    }
    out.sort_by(|a, b| a.email.cmp(&b.email));
    Ok(out)
}
