//! The ID token a sign-in gets, checked once, at sign-in, against the pool's
//! signing keys (RS256, JWKS), its expiry, its audience (the app client), its
//! issuer (the pool) and its use (`id`): it names the person (`sub`, email).
//! What they may do at which store is the table's (`custops staff add`), read
//! at every request; the session that follows lives on the server
//! ([`crate::session`]).
//!
//! The keys are cached for [`KEYS_TTL`]; an unknown key id reads them again
//! at most once per [`REFETCH`]; when the pool's keys cannot be read, the
//! last good ones are used (a JWKS outage turns nobody away whose token a
//! known key signed). Nothing here is ever logged.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use custops::https;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// Who an ID token says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Cognito's `sub` (what logs name).
    pub sub: String,
    pub email: String,
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
    /// Made at the first key fetch, not at the cold start (a request with a
    /// session never needs it): the HTTP client the SDK already links
    /// (hyper, rustls), trusting only the AWS roots (Cognito's endpoint is AWS's).
    http: std::sync::OnceLock<Option<HttpClient>>,
    keys: Mutex<Option<(Instant, HashMap<String, DecodingKey>)>>,
    /// When the keys were last asked for, answered or not.
    asked: Mutex<Option<Instant>>,
}

impl Verifier {
    /// `endpoint`: the emulator's URL locally (`None` on AWS).
    pub fn new(region: &str, pool_id: &str, client_id: &str, endpoint: Option<&str>) -> Self {
        // jsonwebtoken has no backend of its own here; an Err means it is set already.
        let _ = jsonwebtoken::crypto::CryptoProvider::install_default(&ring_rs256::PROVIDER);
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
            http: std::sync::OnceLock::new(),
            keys: Mutex::new(None),
            asked: Mutex::new(None),
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
            None => match self.fetch().await {
                Ok(()) => self.cached(&kid, true).ok_or(Rejected::UnknownKey)?,
                // The pool's keys did not answer: the last good ones still verify.
                Err(e) => self.cached(&kid, true).ok_or(e)?,
            },
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
        Ok(User { email: c.email.or(c.username).unwrap_or_else(|| c.sub.clone()), sub: c.sub })
    }

    fn cached(&self, kid: &str, fresh: bool) -> Option<DecodingKey> {
        let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        let (at, keys) = keys.as_ref()?;
        (fresh || at.elapsed() < KEYS_TTL).then(|| keys.get(kid).cloned()).flatten()
    }

    /// Reads the pool's keys (at most once per [`REFETCH`], answered or not:
    /// an outage costs one slow request a minute, not every one).
    async fn fetch(&self) -> Result<(), Rejected> {
        {
            let mut asked = self.asked.lock().unwrap_or_else(|p| p.into_inner());
            if asked.is_some_and(|at| at.elapsed() < REFETCH) {
                let known = self.keys.lock().unwrap_or_else(|p| p.into_inner()).is_some();
                return if known { Ok(()) } else { Err(Rejected::Keys("asked a moment ago".into())) };
            }
            *asked = Some(Instant::now());
        }
        let http = self.http.get_or_init(http_client).as_ref().ok_or_else(|| Rejected::Keys("no TLS client".into()))?;
        let mut req = http::Request::get(&self.jwks_url);
        if self.local {
            req = req.header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=0",
            );
        }
        let req = req.body(http_body_util::Empty::<bytes::Bytes>::new()).map_err(|e| Rejected::Keys(e.to_string()))?;
        let body = tokio::time::timeout(Duration::from_secs(3), async {
            let answer = http.request(req).await.map_err(|e| e.to_string())?;
            if !answer.status().is_success() {
                return Err(format!("the pool's keys answered {}", answer.status()));
            }
            let limited = http_body_util::Limited::new(answer.into_body(), MAX_JWKS);
            http_body_util::BodyExt::collect(limited).await.map(|c| c.to_bytes()).map_err(|e| e.to_string())
        })
        .await
        .map_err(|_| Rejected::Keys("the pool's keys did not answer in 3 s".into()))?
        .map_err(Rejected::Keys)?;
        let set: JwkSet = serde_json::from_slice(&body).map_err(|e| Rejected::Keys(e.to_string()))?;
        let keys = set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?)))
            .collect();
        *self.keys.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), keys));
        Ok(())
    }
}

/// The largest key set read (a pool's is about 2 KB).
const MAX_JWKS: usize = 64 * 1024;

type HttpClient = Client<https::Connector, Empty<bytes::Bytes>>;

/// The workspace's HTTPS client ([`custops::https`]), trusting the AWS roots
/// alone (plain HTTP too, for the local emulator); none if they were refused.
fn http_client() -> Option<HttpClient> {
    let config = https::tls_config(https::Trust::Aws).ok()?;
    Some(https::client(https::connector(config, Some(Duration::from_secs(3)))))
}

/// jsonwebtoken's cryptography through ring (which rustls already links):
/// RS256 verification, the only thing a Cognito ID token needs. Signing and
/// every other algorithm are refused as an error, never a panic.
mod ring_rs256 {
    use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtVerifier};
    use jsonwebtoken::errors::{Error, ErrorKind};
    use jsonwebtoken::jwk::ThumbprintHash;
    use jsonwebtoken::signature::{self, Verifier};
    use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind};
    use ring::signature::{RsaPublicKeyComponents, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

    pub static PROVIDER: CryptoProvider = CryptoProvider {
        signer_factory: |_, _| Err(ErrorKind::InvalidAlgorithm.into()),
        verifier_factory: verifier,
        jwk_utils: JwkUtils {
            extract_rsa_public_key_components: |_| Err(ErrorKind::InvalidAlgorithm.into()),
            extract_ec_public_key_coordinates: |_, _| Err(ErrorKind::InvalidAlgorithm.into()),
            compute_digest,
        },
    };

    fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
        if *algorithm != Algorithm::RS256 || key.family() != AlgorithmFamily::Rsa {
            return Err(ErrorKind::InvalidAlgorithm.into());
        }
        Ok(Box::new(Rs256(key.clone())))
    }

    struct Rs256(DecodingKey);

    impl Verifier<Vec<u8>> for Rs256 {
        fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> Result<(), signature::Error> {
            let checked = match self.0.kind() {
                DecodingKeyKind::RsaModulusExponent { n, e } => {
                    RsaPublicKeyComponents { n, e }.verify(&RSA_PKCS1_2048_8192_SHA256, msg, sig)
                }
                DecodingKeyKind::SecretOrDer(der) => {
                    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der).verify(msg, sig)
                }
            };
            checked.map_err(|_| signature::Error::new())
        }
    }

    impl JwtVerifier for Rs256 {
        fn algorithm(&self) -> Algorithm {
            Algorithm::RS256
        }
    }

    fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Vec<u8> {
        let algorithm = match hash {
            ThumbprintHash::SHA256 => &ring::digest::SHA256,
            ThumbprintHash::SHA384 => &ring::digest::SHA384,
            ThumbprintHash::SHA512 => &ring::digest::SHA512,
        };
        ring::digest::digest(algorithm, data).as_ref().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    #[tokio::test]
    async fn a_token_that_is_not_a_jwt_is_refused_before_any_key_is_read() {
        let v = Verifier::new("us-east-1", "us-east-1_x", "client", Some("http://127.0.0.1:1"));
        assert_eq!(v.user("not-a-token").await, Err(Rejected::Malformed));
    }

    /// A token signed by `kid` (its signature is not what this checks).
    fn token_of_kid(kid: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#));
        format!("{header}.e30.c2ln")
    }

    #[tokio::test]
    async fn when_the_pools_keys_do_not_answer_the_last_good_keys_still_verify() {
        // The keys were read once (a key "k1"); then the JWKS endpoint fails.
        let v = Verifier::new("us-east-1", "us-east-1_x", "client", Some("http://127.0.0.1:1"));
        let n = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";
        let jwks: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "n": n, "e": "AQAB"}
        ]}))
        .unwrap();
        let keys = jwks.keys.iter().map(|j| ("k1".to_owned(), DecodingKey::from_jwk(j).unwrap())).collect();
        let long_ago = Instant::now().checked_sub(KEYS_TTL + REFETCH).unwrap();
        *v.keys.lock().unwrap() = Some((long_ago, keys));
        // An old key: the fetch fails, the key still checks the signature (a bad one here).
        let known = v.user_at(&token_of_kid("k1"), 0).await;
        assert!(matches!(known, Err(Rejected::Invalid(_))), "checked with the last good key: {known:?}");
        // A key never seen: no key to check with, and the outage is said as such.
        assert!(matches!(v.user_at(&token_of_kid("k2"), 0).await, Err(Rejected::UnknownKey | Rejected::Keys(_))));
    }

    /// A throwaway RSA-2048 key (PKCS#1 DER, made for this test alone) signs a
    /// token as Cognito does; the inbox's ring provider verifies it from the
    /// key's modulus and exponent (a JWKS) and from its DER, and refuses it
    /// once a claim is changed.
    const TEST_KEY_PKCS1: &[&str] = &[
        "MIIEoAIBAAKCAQEAhOsc9QjkVElZ5L7e41YAYNZqb51IA75H01DN+gNwydwAAMI5wmXAsgec2Kbunvn7rzTXs4ubJIFTdjMn",
        "uYBIwFxXPO87XL7MgvYbBKs2VVQw502kyjPMLN2lgKX/DNk2syXLwLRcBQ3LqXeJ73uFAsl/S2lUEAhLusiuAxMxre+52ESX",
        "0AoslwDeUIlcS4OSdlyVlGG83jnuW+Y4ShVknnCsURRXJARHpCt9aKXD7+u6bYPl7KiRl79hxpxQV9O++VU6y8MXqwZPbcRa",
        "S8JBnSpYcqKvo97l9H7bFHvEfJF6W8800DeYdZutXm0FOQJ5qaUYkF9k+fzDlrSb/nyucQIDAQABAoH/KFMsIIA8xVV7mupN",
        "X1W4HP5FTEIV7GIjaE4bhL4xJGHvnktOkAD5dQmE4YsY2cz9jn95m/8UElR/UweHWxU6/SEGq8s94eVWJmUud+bO6mmgbIwh",
        "x+FEZa2DiIQpMhIJhlBGgIWMuqZ0zfUg49xAKO2jW5LuQ0RBCr8stmzG+v2lHg+1oCmcDKeCWQVMTy7dyvGa/fjPnJHuLjWB",
        "QPvo1mvEXSm3MeieFFz5QhqIciSv8JPcO7mTTapkRgnVY2QxNJ7MK/kHrV2mXhMaVNG7tuM2eArdmNguId+14d+wQn090nvB",
        "Ust5CwFbUm9kJ97Fp+d+B5wnQHY0pA8FWr3RAoGBALtX+MyUjGi1pA7YSLJtg9+cRzKGM/ZJB3ffxHGUjkzOGwf/yxeGi+mv",
        "SWh8of6R8V9Sre1Y37x7SiWRpO0qNYAFKAFjQk6m56EOksdHLhxMTlibScQBq9geSZocaGcMNWWt2ww9NcoO8m+m5g4OaTWY",
        "Cx7S02jzRK42tEg/wwRFAoGBALWhIGp6iiyodVaaw3qiLl07ZWERxPLOLEgP/6eEq+koPay3snZ4QPNrm5a4HtQJWGgD/RXE",
        "ZXrsa0DNXlAxRYjMJGyiZKcC0LFyx6V0529eMfBiCuhtUXQX89llHqsB5xBbW7tW9mRcS6G4Npsf2TqkzAckfRkMYfmRq74O",
        "naI9AoGAKeDecwz53iZMiCz9AzXL9t5+Y+LwFqv4iWlyBlnI/Y5NKJqbkaS3/gL7C+pgZAHHzSE0VAw752xABOnrzkBTOUzt",
        "xnGjzuUsfio90WIuApFkKhZ8hN5CxcrvdQ3IoNBv10zn3HKKZaK1uxO59YZvKlXUlo1WSO2oerEr18K5G2kCgYA3AFIWrIEH",
        "QQQ3c6paip5LsV7j5EOl23VhZSbgDbcZZgw3L3Glmojgredx3tPHFgVlij+rxcuNS+a2uvoigqkx4c/t7cdZI+sasU1v91TW",
        "TsoEp0vyUphl9ZLsdEizNGJKe7/tnUoD3kcw893lX+GidqEqUIxpd2x77Pb7GOX3aQKBgAhyyF5wG7LQD45i1D2PaHN1cAhb",
        "sKrweHjSKn5rscUFuDVTITjR351ZDsLSCwc5pUudv8r5ucsz5j174lGkBb3g9BkRg47mSSvMrsYnE2rpduZEAJS9EdvRDaoC",
        "13aMDj+twMPxtzeRI/qT09MK5GCQ3vo6GVvxuYOC5JH5xeyA",
    ];

    #[tokio::test]
    async fn a_token_signed_by_the_pools_key_is_a_user_and_a_changed_one_is_not() {
        use ring::signature::{RsaKeyPair, RsaPublicKeyComponents, RSA_PKCS1_SHA256};
        let der = base64::engine::general_purpose::STANDARD.decode(TEST_KEY_PKCS1.concat()).unwrap();
        let pair = RsaKeyPair::from_der(&der).unwrap();
        let sign = |claims: &str| {
            let message = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"k1"}"#),
                URL_SAFE_NO_PAD.encode(claims)
            );
            let mut signature = vec![0; pair.public().modulus_len()];
            pair.sign(&RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), message.as_bytes(), &mut signature).unwrap();
            format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
        };
        let claims = r#"{"sub":"u-1","email":"ana@northside.example","token_use":"id","aud":"client","iss":"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x","exp":2000000000}"#;
        let token = sign(claims);
        let parts = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
        for key in [
            DecodingKey::from_rsa_raw_components(&parts.n, &parts.e),
            DecodingKey::from_rsa_der(pair.public().as_ref()),
        ] {
            let v = Verifier::new("us-east-1", "us-east-1_x", "client", Some("http://127.0.0.1:1"));
            *v.keys.lock().unwrap() = Some((Instant::now(), HashMap::from([("k1".to_owned(), key)])));
            let user = v.user_at(&token, 1_999_999_000).await.unwrap();
            assert_eq!(user, User { sub: "u-1".into(), email: "ana@northside.example".into() });
            // The same signature over another person's claims.
            let (head, _) = token.rsplit_once('.').unwrap();
            let (_, sig) = token.rsplit_once('.').unwrap();
            let forged = format!(
                "{}.{}.{sig}",
                head.split('.').next().unwrap(),
                URL_SAFE_NO_PAD.encode(claims.replace("u-1", "u-2"))
            );
            assert!(matches!(v.user_at(&forged, 1_999_999_000).await, Err(Rejected::Invalid(_))));
            // Another algorithm named in the header is refused before any key is used.
            let hs = format!(
                "{}.{}.{sig}",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"k1"}"#),
                URL_SAFE_NO_PAD.encode(claims)
            );
            assert!(matches!(v.user_at(&hs, 1_999_999_000).await, Err(Rejected::Invalid(_))));
        }
    }
}
