//! The staff who sign in to the inbox (CONTRACT.md section 10), as the table
//! holds them: who works at which store, on which teams, manager there or
//! not ([`StaffMember`], what `custops staff add` grants and `staff remove`
//! takes back), their server-side sessions ([`StaffSession`]) and the
//! sign-in failures counted per email (the lock of [`MAX_FAILURES`]).
//!
//! | entity | pk | sk | gsi1 | gsi2 | TTL |
//! |---|---|---|---|---|---|
//! | `staff_member` | `STAFF#{sub}` | `STORE#{store}` | | `STAFFOF#{store}` / `{email}` | |
//! | `staff_session` | `SESSION#{sha256 of the id}` | `SESSION` | `SESSIONS#{sub}` / `{signed in}` | | 12 hours after sign-in |
//! | sign-in failures | `SIGNIN#{sha256 of the email}` | `FAILS` | | | 30 minutes after the last failure |
//!
//! A session's key is a hash of the id the cookie carries: reading the table
//! yields no cookie that works. The rules here are pure; the table module
//! reads and writes them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::entity::Entity;
use crate::keys::{self, Keys};

/// A session ends this long after sign-in, whatever happens.
pub fn session_max() -> Duration {
    Duration::hours(12)
}

/// A session ends when it has not been used this long.
pub fn session_idle() -> Duration {
    Duration::hours(8)
}

/// How stale a session's `last_seen` may be before a request writes it again
/// (most requests cost no write; the idle limit is exact to this much).
pub fn touch_every() -> Duration {
    Duration::minutes(5)
}

/// Failed sign-ins for one email within [`fail_window`] that lock it.
pub const MAX_FAILURES: u64 = 5;

/// The window failures are counted in.
pub fn fail_window() -> Duration {
    Duration::minutes(15)
}

/// How long a locked email is refused, from the failure that locked it.
pub fn lock_for() -> Duration {
    Duration::minutes(15)
}

/// The owner id of a store's managers: escalations go to them, and a
/// manager's alert subscription takes it.
pub const MANAGERS: &str = "managers";

/// One person at one store: what `custops staff add` granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    /// Cognito's `sub`: the person, whatever their email becomes.
    pub sub: String,
    pub email: String,
    pub store_id: String,
    /// Their teams at this store (owner ids of section 4).
    #[serde(default)]
    pub teams: Vec<String>,
    /// Manager of this store (sees and assigns every task here; nowhere else).
    #[serde(default)]
    pub manager: bool,
    /// Where their alerts of this store go (`sms:+1...` or `email:ADDR`), if anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<String>,
    /// The `staff-alerts` subscription that sends them (`staff remove` ends it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_arn: Option<String>,
}

impl StaffMember {
    /// The filter policy of their `staff-alerts` subscription: this store's
    /// alerts for their teams (and `managers` where they manage), as the
    /// alerts' message attributes `store_id` and `owner` say.
    pub fn alert_filter(&self) -> serde_json::Value {
        let mut owners = self.teams.clone();
        if self.manager {
            owners.push(MANAGERS.to_owned());
        }
        serde_json::json!({ "store_id": [self.store_id], "owner": owners })
    }
}

impl Entity for StaffMember {
    const KIND: &'static str = "staff_member";
    type Scope = ();

    fn keys(&self, _: &()) -> Keys {
        Keys { gsi2: Some((staff_at(&self.store_id), self.email.clone())), ..staff_member(&self.sub, &self.store_id) }
    }
}

/// The partition of one person's stores.
pub fn staff_pk(sub: &str) -> String {
    format!("STAFF#{sub}")
}

/// Where one person's membership of one store is.
pub fn staff_member(sub: &str, store_id: &str) -> Keys {
    Keys::new(staff_pk(sub), format!("STORE#{store_id}"))
}

/// The gsi2 value of a store's staff.
pub fn staff_at(store_id: &str) -> String {
    format!("STAFFOF#{store_id}")
}

/// A signed-in session, on the server. The cookie carries a random id; the
/// table holds only its hash (`id_hash`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffSession {
    pub id_hash: String,
    pub sub: String,
    pub email: String,
    pub signed_in_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The pool's access token (for the user's own Cognito calls: TOTP
    /// enrolment), sealed with a key derived from the session id, which the
    /// table does not hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_access: Option<String>,
}

impl Entity for StaffSession {
    const KIND: &'static str = "staff_session";
    type Scope = ();

    fn keys(&self, _: &()) -> Keys {
        Keys {
            gsi1: Some((sessions_of(&self.sub), keys::ts(self.signed_in_at))),
            expires_at: Some((self.signed_in_at + session_max()).timestamp()),
            ..session(&self.id_hash)
        }
    }
}

/// Where the session whose id hashes to `id_hash` is.
pub fn session(id_hash: &str) -> Keys {
    Keys::new(format!("SESSION#{id_hash}"), "SESSION")
}

/// The gsi1 value of one person's sessions (`staff remove` ends them all).
pub fn sessions_of(sub: &str) -> String {
    format!("SESSIONS#{sub}")
}

/// Why a session is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Ended {
    #[error("12 hours after sign-in")]
    Expired,
    #[error("8 hours unused")]
    Idle,
}

impl StaffSession {
    /// Whether the session has ended at `now` (else `None`: it holds).
    pub fn ended(&self, now: DateTime<Utc>) -> Option<Ended> {
        if now >= self.signed_in_at + session_max() {
            Some(Ended::Expired)
        } else if now >= self.last_seen + session_idle() {
            Some(Ended::Idle)
        } else {
            None
        }
    }

    /// Whether a request at `now` should write `last_seen` again.
    pub fn needs_touch(&self, now: DateTime<Utc>) -> bool {
        now - self.last_seen >= touch_every()
    }
}

/// Where the sign-in failures of the email that hashes to `email_hash` are counted.
pub fn sign_in_failures(email_hash: &str) -> Keys {
    Keys::new(format!("SIGNIN#{email_hash}"), "FAILS")
}

/// Who a signed-in person is now: their stores as the table says at this
/// request (not as at sign-in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub sub: String,
    pub email: String,
    pub at: Vec<StaffMember>,
}

impl Staff {
    pub fn stores(&self) -> Vec<String> {
        self.at.iter().map(|m| m.store_id.clone()).collect()
    }

    pub fn works_at(&self, store_id: &str) -> bool {
        self.at.iter().any(|m| m.store_id == store_id)
    }

    /// Manager of `store_id` (made so by `staff add --manager` for that store).
    pub fn manager_at(&self, store_id: &str) -> bool {
        self.at.iter().any(|m| m.store_id == store_id && m.manager)
    }

    /// Manager of at least one of their stores.
    pub fn manager_anywhere(&self) -> bool {
        self.at.iter().any(|m| m.manager)
    }

    /// Whether `owner` is one of their teams at `store_id`.
    pub fn on_team(&self, store_id: &str, owner: &str) -> bool {
        self.at.iter().any(|m| m.store_id == store_id && m.teams.iter().any(|t| t == owner))
    }

    /// How what they did is recorded: their `sub`, with the email beside it.
    pub fn actor(&self) -> String {
        actor(&self.sub, &self.email)
    }
}

/// A person as the record names them: `email (sub)`; the `sub` is who they
/// are, the email is for the people reading it.
pub fn actor(sub: &str, email: &str) -> String {
    format!("{email} ({sub})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> DateTime<Utc> {
        t.parse().unwrap()
    }

    fn session(signed_in: &str, last_seen: &str) -> StaffSession {
        StaffSession {
            id_hash: "h".into(),
            sub: "s-1".into(),
            email: "ana@x.example".into(),
            signed_in_at: at(signed_in),
            last_seen: at(last_seen),
            sealed_access: None,
        }
    }

    #[test]
    fn a_session_ends_twelve_hours_after_sign_in_or_after_eight_idle_hours() {
        let s = session("2026-11-24T08:00:00Z", "2026-11-24T19:00:00Z");
        assert_eq!(s.ended(at("2026-11-24T19:59:59Z")), None);
        assert_eq!(s.ended(at("2026-11-24T20:00:00Z")), Some(Ended::Expired));
        let idle = session("2026-11-24T08:00:00Z", "2026-11-24T09:00:00Z");
        assert_eq!(idle.ended(at("2026-11-24T16:59:00Z")), None);
        assert_eq!(idle.ended(at("2026-11-24T17:00:00Z")), Some(Ended::Idle));
    }

    #[test]
    fn last_seen_is_written_again_only_when_five_minutes_old() {
        let s = session("2026-11-24T08:00:00Z", "2026-11-24T09:00:00Z");
        assert!(!s.needs_touch(at("2026-11-24T09:04:59Z")));
        assert!(s.needs_touch(at("2026-11-24T09:05:00Z")));
    }

    #[test]
    fn a_manager_of_one_store_is_staff_at_the_other() {
        let member = |store: &str, manager: bool| StaffMember {
            sub: "s-1".into(),
            email: "gm@x.example".into(),
            store_id: store.into(),
            teams: vec!["bdc".into()],
            manager,
            alerts: None,
            subscription_arn: None,
        };
        let gm = Staff {
            sub: "s-1".into(),
            email: "gm@x.example".into(),
            at: vec![member("northside-chevy", true), member("lakeside-ford", false)],
        };
        assert!(gm.manager_at("northside-chevy") && !gm.manager_at("lakeside-ford"));
        assert!(gm.on_team("lakeside-ford", "bdc") && !gm.on_team("lakeside-ford", "bdc-service"));
        assert!(!gm.works_at("elsewhere") && !gm.manager_at("elsewhere"));
        assert_eq!(gm.actor(), "gm@x.example (s-1)");
        // Their alerts: each store's for their teams there, and `managers` where they manage.
        assert_eq!(
            gm.at[0].alert_filter(),
            serde_json::json!({"store_id": ["northside-chevy"], "owner": ["bdc", "managers"]})
        );
        assert_eq!(gm.at[1].alert_filter(), serde_json::json!({"store_id": ["lakeside-ford"], "owner": ["bdc"]}));
    }

    #[test]
    fn every_staff_item_has_its_own_keys() {
        let m = StaffMember {
            sub: "s-1".into(),
            email: "a@x".into(),
            store_id: "n".into(),
            teams: vec![],
            manager: false,
            alerts: None,
            subscription_arn: None,
        };
        let k = m.keys(&());
        assert_eq!((k.pk.as_str(), k.sk.as_str()), ("STAFF#s-1", "STORE#n"));
        assert_eq!(k.gsi2, Some(("STAFFOF#n".into(), "a@x".into())));
        let s = session("2026-11-24T08:00:00Z", "2026-11-24T08:00:00Z");
        let k = s.keys(&());
        assert_eq!((k.pk.as_str(), k.gsi1.unwrap().0.as_str()), ("SESSION#h", "SESSIONS#s-1"));
        assert_eq!(k.expires_at, Some(at("2026-11-24T20:00:00Z").timestamp()));
    }
}
