//! Who is asking: the session cookie holds the Cognito ID token the sign-in
//! got, checked on every request against the pool's signing keys (RS256,
//! JWKS), its expiry, its audience (the app client), its issuer (the pool)
//! and its use (`id`). The user's stores and teams are the token's
//! `custom:store_id` and `custom:teams`, which the app client cannot write,
//! and `cognito:groups` says whether they are a manager.
//!
//! The form token (`csrf`) is derived from the session: a page can only be
//! posted by someone who holds the cookie, which a script cannot read
//! (HttpOnly) and another site cannot send (SameSite=Lax). Nothing here is
//! ever logged.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const COOKIE: &str = "custops_session";

/// The group whose members see and assign everything of their stores.
pub const MANAGERS: &str = custops::alerts::MANAGERS;

/// A signed-in staff user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Cognito's `sub` (what logs name).
    pub sub: String,
    pub email: String,
    pub stores: Vec<String>,
    pub teams: Vec<String>,
    pub manager: bool,
}

impl User {
    pub fn works_at(&self, store_id: &str) -> bool {
        self.stores.iter().any(|s| s == store_id)
    }

    pub fn on_team(&self, owner: &str) -> bool {
        self.teams.iter().any(|t| t == owner)
    }
}

/// How far past its expiry a token is still taken (clock skew).
pub const LEEWAY: u64 = 30;

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, rename = "cognito:username")]
    username: Option<String>,
    token_use: String,
    #[serde(default, rename = "custom:store_id")]
    stores: Option<String>,
    #[serde(default, rename = "custom:teams")]
    teams: Option<String>,
    #[serde(default, rename = "cognito:groups")]
    groups: Vec<String>,
}

fn list(v: Option<&str>) -> Vec<String> {
    v.unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Why a token is not a session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("not a token")]
    Malformed,
    #[error("signed with a key the pool does not have")]
    UnknownKey,
    #[error("the pool's keys could not be read: {0}")]
    Keys(String),
    #[error("invalid: {0}")]
    Invalid(String),
}

/// How long the pool's keys are kept; an unknown key id reads them again,
/// at most once per [`REFETCH`].
pub const KEYS_TTL: Duration = Duration::from_secs(3600);
pub const REFETCH: Duration = Duration::from_secs(60);

/// The pool's keys and what a token must say.
pub struct Verifier {
    issuer: String,
    client_id: String,
    jwks_url: String,
    /// The emulator's JWKS endpoint needs a SigV4-shaped Authorization header
    /// to know it is a Cognito request; AWS needs none.
    local: bool,
    http: reqwest::Client,
    keys: Mutex<Option<(Instant, HashMap<String, DecodingKey>)>>,
}

impl Verifier {
    /// `endpoint`: the emulator's URL locally (`None` on AWS).
    pub fn new(region: &str, pool_id: &str, client_id: &str, endpoint: Option<&str>) -> Self {
        let issuer = format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}");
        let jwks_url = match endpoint {
            Some(e) => format!("{}/{pool_id}/.well-known/jwks.json", e.trim_end_matches('/')),
            None => format!("{issuer}/.well-known/jwks.json"),
        };
        Self {
            issuer,
            client_id: client_id.to_owned(),
            jwks_url,
            local: endpoint.is_some(),
            http: reqwest::Client::builder().timeout(Duration::from_secs(3)).build().unwrap_or_default(),
            keys: Mutex::new(None),
        }
    }

    /// The user a token is, if it is a valid session now. Its expiry is
    /// real time, whatever clock the rest of custops runs on (a pinned
    /// `--now` moves business time, not Cognito's).
    pub async fn user(&self, token: &str) -> Result<User, Rejected> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        self.user_at(token, now).await
    }

    /// [`Verifier::user`] at `now` (unix seconds).
    pub async fn user_at(&self, token: &str, now: u64) -> Result<User, Rejected> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Rejected::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(Rejected::Invalid("not RS256".into()));
        }
        let kid = header.kid.ok_or(Rejected::Malformed)?;
        let key = match self.cached(&kid, false) {
            Some(k) => k,
            None => {
                self.fetch().await?;
                self.cached(&kid, true).ok_or(Rejected::UnknownKey)?
            }
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[&self.client_id]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked below, at `now`.
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| Rejected::Invalid(format!("{:?}", e.kind())))?;
        let c = data.claims;
        if c.exp + LEEWAY < now {
            return Err(Rejected::Invalid("expired".into()));
        }
        if c.token_use != "id" {
            return Err(Rejected::Invalid("not an ID token".into()));
        }
        Ok(User {
            email: c.email.or(c.username).unwrap_or_else(|| c.sub.clone()),
            sub: c.sub,
            stores: list(c.stores.as_deref()),
            teams: list(c.teams.as_deref()),
            manager: c.groups.iter().any(|g| g == MANAGERS),
        })
    }

    fn cached(&self, kid: &str, fresh: bool) -> Option<DecodingKey> {
        let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        let (at, keys) = keys.as_ref()?;
        (fresh || at.elapsed() < KEYS_TTL).then(|| keys.get(kid).cloned()).flatten()
    }

    /// Reads the pool's keys (at most once per [`REFETCH`]).
    async fn fetch(&self) -> Result<(), Rejected> {
        if self.keys.lock().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|(at, _)| at.elapsed() < REFETCH) {
            return Ok(());
        }
        let mut req = self.http.get(&self.jwks_url);
        if self.local {
            req = req.header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=0",
            );
        }
        let set: JwkSet = req
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| Rejected::Keys(e.without_url().to_string()))?
            .json()
            .await
            .map_err(|e| Rejected::Keys(e.without_url().to_string()))?;
        let keys = set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?)))
            .collect();
        *self.keys.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), keys));
        Ok(())
    }
}

/// The session token in a request's cookies.
pub fn token_of(cookies: Option<&str>) -> Option<&str> {
    cookies?.split(';').filter_map(|c| c.trim().split_once('=')).find(|(k, _)| *k == COOKIE).map(|(_, v)| v)
}

/// The `Set-Cookie` of a new session (`max_age` seconds), `Secure` behind HTTPS.
pub fn set_cookie(token: &str, max_age: i64, https: bool) -> String {
    format!(
        "{COOKIE}={token}; Path=/app; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        if https { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` that ends the session.
pub fn clear_cookie(https: bool) -> String {
    set_cookie("", 0, https)
}

/// The form token of a session.
pub fn csrf(token: &str) -> String {
    let digest = Sha256::new().chain_update(b"custops-inbox-form\0").chain_update(token.as_bytes()).finalize();
    hex::encode(&digest[..16])
}

/// Whether `sent` is the form token of the session `token`.
pub fn csrf_ok(token: &str, sent: Option<&str>) -> bool {
    sent.is_some_and(|s| bool::from(csrf(token).as_bytes().ct_eq(s.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_same_site_and_secure_behind_https() {
        let c = set_cookie("abc", 3600, true);
        assert!(c.starts_with("custops_session=abc;"));
        for part in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/app", "Max-Age=3600"] {
            assert!(c.contains(part), "{c}");
        }
        assert!(!set_cookie("abc", 3600, false).contains("Secure"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
        assert_eq!(token_of(Some("a=1; custops_session=tok.en; b=2")), Some("tok.en"));
        assert_eq!(token_of(Some("a=1")), None);
    }

    #[test]
    fn the_form_token_belongs_to_one_session() {
        let t = csrf("session-one");
        assert_eq!(t.len(), 32);
        assert!(csrf_ok("session-one", Some(&t)));
        assert!(!csrf_ok("session-two", Some(&t)));
        assert!(!csrf_ok("session-one", None));
        assert!(!csrf_ok("session-one", Some("")));
    }

    #[tokio::test]
    async fn a_token_that_is_not_a_jwt_is_refused_before_any_key_is_read() {
        let v = Verifier::new("us-east-1", "us-east-1_x", "client", Some("http://127.0.0.1:1"));
        assert_eq!(v.user("not-a-token").await, Err(Rejected::Malformed));
    }
}
