//! Who is asking: a server-side session (CONTRACT.md section 10). The cookie
//! carries a random id (32 bytes from the operating system's CSPRNG,
//! base64url), never a token; the table holds the session under the id's
//! SHA-256 ([`custops::staff::StaffSession`]), so a read of the table yields
//! no cookie that works. A session ends on sign-out, 12 hours after sign-in,
//! after 8 hours unused, and at once when `custops staff remove` ends the
//! person's sessions; every request reads the person's stores as they are
//! now.
//!
//! The form token (`csrf`) is derived from the session id: a page can only
//! be posted by someone who holds the cookie, which a script cannot read
//! (HttpOnly) and another site cannot send (SameSite=Lax). The pool's access
//! token (for TOTP enrolment) is kept sealed (AES-256-GCM) with a key derived
//! from the id. Nothing here is ever logged.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const COOKIE: &str = "custops_session";

/// The bytes of randomness in a session id.
pub const ID_BYTES: usize = 32;

/// A new session id: [`ID_BYTES`] from the CSPRNG, base64url.
pub fn new_id() -> Result<String, String> {
    let mut bytes = [0u8; ID_BYTES];
    SystemRandom::new().fill(&mut bytes).map_err(|_| "the system's random source failed".to_owned())?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether `id` has the shape of an id [`new_id`] made (anything else is
/// refused before the table is read).
pub fn well_formed(id: &str) -> bool {
    id.len() == 43 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The table key of a session id, and of an email's failure counter.
pub fn hash(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// The session id in a request's cookies.
pub fn id_of(cookies: Option<&str>) -> Option<&str> {
    cookies?
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
        .filter(|v| well_formed(v))
}

/// How the inbox is reached, as the deployment is configured (never as a
/// request says): HTTPS on AWS; plain HTTP only in the local stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Https,
    PlainHttp,
}

impl Transport {
    pub fn scheme(self) -> &'static str {
        match self {
            Transport::Https => "https",
            Transport::PlainHttp => "http",
        }
    }
}

/// The `Set-Cookie` of a new session (`max_age` seconds); `Secure` unless plain HTTP.
pub fn set_cookie(id: &str, max_age: i64, transport: Transport) -> String {
    format!(
        "{COOKIE}={id}; Path=/app; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        if transport == Transport::Https { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` that ends the session in the browser.
pub fn clear_cookie(transport: Transport) -> String {
    set_cookie("", 0, transport)
}

/// The form token of a session.
pub fn csrf(id: &str) -> String {
    let digest = Sha256::new().chain_update(b"custops-inbox-form\0").chain_update(id.as_bytes()).finalize();
    hex::encode(&digest[..16])
}

/// Whether `sent` is the form token of the session `id`.
pub fn csrf_ok(id: &str, sent: Option<&str>) -> bool {
    sent.is_some_and(|s| bool::from(csrf(id).as_bytes().ct_eq(s.as_bytes())))
}

fn seal_key(id: &str) -> Option<LessSafeKey> {
    let key = Sha256::new().chain_update(b"custops-inbox-seal\0").chain_update(id.as_bytes()).finalize();
    UnboundKey::new(&AES_256_GCM, &key).ok().map(LessSafeKey::new)
}

/// `secret` sealed for the session `id` (base64 of nonce, ciphertext, tag).
pub fn seal(id: &str, secret: &str) -> Option<String> {
    let key = seal_key(id)?;
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new().fill(&mut nonce).ok()?;
    let mut data = secret.as_bytes().to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data).ok()?;
    let mut out = nonce.to_vec();
    out.extend(data);
    Some(STANDARD.encode(out))
}

/// What [`seal`] sealed, with the session id it was sealed for.
pub fn unseal(id: &str, sealed: &str) -> Option<String> {
    let key = seal_key(id)?;
    let raw = STANDARD.decode(sealed).ok()?;
    if raw.len() < NONCE_LEN {
        return None;
    }
    let (nonce, data) = raw.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut data = data.to_vec();
    let plain = key.open_in_place(nonce, Aad::empty(), &mut data).ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

/// Whether a request comes from another site: `Sec-Fetch-Site` other than
/// `same-origin` or `none` (typed, bookmarked), or an `Origin` that is not
/// `own_origin` (login CSRF: another site signing a victim in).
///
/// `Origin: null` names no origin: it is what a browser sends for the
/// inbox's own forms, because every page says `Referrer-Policy:
/// no-referrer` (the Fetch standard then serialises the origin as `null`).
/// Such a request is judged by `Sec-Fetch-Site`, which every current
/// browser sends, and which says `cross-site` for another site's form,
/// a sandboxed frame's included.
pub fn cross_site(sec_fetch_site: Option<&str>, origin: Option<&str>, own_origin: &str) -> bool {
    let foreign_fetch = sec_fetch_site.is_some_and(|s| !matches!(s, "same-origin" | "none"));
    let foreign_origin = origin.is_some_and(|o| o != "null" && !o.eq_ignore_ascii_case(own_origin));
    foreign_fetch || foreign_origin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_id_is_256_random_bits_and_the_table_holds_only_its_hash() {
        let (a, b) = (new_id().unwrap(), new_id().unwrap());
        assert_ne!(a, b);
        assert!(well_formed(&a) && URL_SAFE_NO_PAD.decode(&a).unwrap().len() == 32);
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), a);
        assert!(!well_formed("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig"), "a token is not a session id");
    }

    #[test]
    fn the_cookie_is_http_only_same_site_and_secure_unless_the_deployment_is_plain_http() {
        let id = new_id().unwrap();
        let c = set_cookie(&id, 3600, Transport::Https);
        assert!(c.starts_with(&format!("custops_session={id};")));
        for part in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/app", "Max-Age=3600"] {
            assert!(c.contains(part), "{c}");
        }
        assert!(!set_cookie(&id, 3600, Transport::PlainHttp).contains("Secure"));
        assert!(clear_cookie(Transport::Https).contains("Max-Age=0"));
        assert_eq!(id_of(Some(&format!("a=1; custops_session={id}; b=2"))), Some(id.as_str()));
        assert_eq!(id_of(Some("a=1")), None);
        assert_eq!(id_of(Some("custops_session=a.b.c")), None);
    }

    #[test]
    fn the_form_token_belongs_to_one_session() {
        let (one, two) = (new_id().unwrap(), new_id().unwrap());
        let t = csrf(&one);
        assert_eq!(t.len(), 32);
        assert!(csrf_ok(&one, Some(&t)));
        assert!(!csrf_ok(&two, Some(&t)));
        assert!(!csrf_ok(&one, None));
        assert!(!csrf_ok(&one, Some("")));
    }

    #[test]
    fn a_sealed_token_opens_only_with_its_session_id() {
        let (one, two) = (new_id().unwrap(), new_id().unwrap());
        let sealed = seal(&one, "access-token").unwrap();
        assert!(!sealed.contains("access-token"));
        assert_eq!(unseal(&one, &sealed).as_deref(), Some("access-token"));
        assert_eq!(unseal(&two, &sealed), None);
    }

    #[test]
    fn a_sign_in_posted_from_another_site_is_cross_site() {
        let own = "https://inbox.example";
        assert!(!cross_site(Some("same-origin"), Some(own), own));
        assert!(!cross_site(Some("none"), None, own));
        assert!(!cross_site(None, None, own), "an old browser or a script: no claim either way");
        assert!(cross_site(Some("cross-site"), None, own));
        assert!(cross_site(Some("same-site"), None, own), "a sibling subdomain is another site's page");
        assert!(cross_site(None, Some("https://evil.example"), own));
        // The inbox's own form, under `Referrer-Policy: no-referrer`.
        assert!(!cross_site(Some("same-origin"), Some("null"), own));
        assert!(cross_site(Some("cross-site"), Some("null"), own), "another site's sandboxed frame");
    }
}
