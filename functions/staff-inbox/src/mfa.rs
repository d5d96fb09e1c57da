//! TOTP (CONTRACT.md section 10): any signed-in person may enrol at
//! `GET /app/mfa`: Cognito `AssociateSoftwareToken` gives a secret, shown as
//! text and as a QR code of its `otpauth://` URI drawn here as SVG (the CSP
//! allows no script); `POST /app/mfa` confirms it with a code
//! (`VerifySoftwareToken`) and makes it the person's MFA
//! (`SetUserMFAPreference`). From then on every sign-in asks for a code
//! (the pool's `SOFTWARE_TOKEN_MFA` challenge). With the template's
//! `StaffMfa: ON` the pool asks everyone to enrol at their first sign-in
//! (`MFA_SETUP`, handled in [`crate::signin`]).
//!
//! These calls take the person's access token, which the session keeps
//! sealed with a key only the cookie's id gives ([`crate::session::seal`]).

use askama::Template;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::SoftwareTokenMfaSettingsType;
use custops::http::HookResponse;
use tracing::{info, warn};

use crate::views::Nav;
use crate::{message, page, session, Form, Inbox, Signed};

/// The issuer an authenticator app shows.
pub const ISSUER: &str = "custops";

/// The `otpauth://` URI of a TOTP secret for `email` (Google Authenticator's key URI format).
pub fn otpauth_uri(email: &str, secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    format!(
        "otpauth://totp/{ISSUER}:{}?secret={}&issuer={ISSUER}&algorithm=SHA1&digits=6&period=30",
        enc(email),
        enc(secret)
    )
}

/// The QR code of `uri` as an inline SVG element.
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(220, 220).build();
    let start = svg.find("<svg")?;
    Some(svg[start..].to_owned())
}

#[derive(Template)]
#[template(path = "mfa.html")]
pub(crate) struct MfaPage<'a> {
    pub nav: &'a Nav,
    pub secret: String,
    pub qr: String,
    pub error: Option<String>,
}

impl Inbox {
    fn access_of(&self, signed: &Signed) -> Option<String> {
        signed.session.sealed_access.as_deref().and_then(|s| session::unseal(&signed.id, s))
    }

    /// `GET /app/mfa`: a new secret, as text and as a QR code, and the form that confirms it.
    pub(crate) async fn mfa_page(&self, signed: &Signed, nav: &Nav) -> HookResponse {
        let Some(access) = self.access_of(signed) else {
            return message(403, "Sign in again", "Sign out and in again to set up an authenticator app.");
        };
        match self.associate(Some(&access), None).await {
            Ok((secret, _)) => {
                let Some(qr) = qr_svg(&otpauth_uri(&signed.user.email, &secret)) else {
                    return message(500, "Try again", "The code could not be drawn.");
                };
                page(200, &MfaPage { nav, secret, qr, error: None })
            }
            Err(code) => {
                warn!(code, sub = %signed.user.sub, "the user pool did not start TOTP enrolment");
                message(503, "Try again", "The sign-in service did not answer. Try again in a moment.")
            }
        }
    }

    /// `POST /app/mfa` (`code`, `csrf`): the code of the new secret; TOTP from the next sign-in on.
    pub(crate) async fn mfa_confirm(&self, signed: &Signed, form: &Form) -> HookResponse {
        let Some(access) = self.access_of(signed) else {
            return message(403, "Sign in again", "Sign out and in again to set up an authenticator app.");
        };
        let code = form.get("code").map(String::as_str).unwrap_or_default();
        if let Err(why) = self.verify_code(Some(&access), None, code).await {
            info!(sub = %signed.user.sub, code = why, "TOTP enrolment refused: wrong code");
            return message(
                400,
                "Wrong code",
                "That code does not match the new secret. Open the page again and scan the new code.",
            );
        }
        match self.prefer_totp(&access).await {
            Ok(()) => {
                info!(sub = %signed.user.sub, "TOTP enrolled");
                HookResponse::see_other("/app/tasks?notice=mfa")
            }
            Err(code) => {
                warn!(code, sub = %signed.user.sub, "the user pool did not take the TOTP preference");
                message(503, "Try again", "The sign-in service did not answer. Try again in a moment.")
            }
        }
    }

    /// `SetUserMFAPreference`: TOTP enabled and preferred for the user of `access`.
    pub(crate) async fn prefer_totp(&self, access: &str) -> Result<(), String> {
        self.cognito
            .set_user_mfa_preference()
            .access_token(access)
            .software_token_mfa_settings(
                SoftwareTokenMfaSettingsType::builder().enabled(true).preferred_mfa(true).build(),
            )
            .send()
            .await
            .map(drop)
            .map_err(|e| e.code().unwrap_or("unknown").to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_an_svg_of_the_otpauth_uri_with_nothing_to_run() {
        let uri = otpauth_uri("ana@northside.example", "JBSWY3DPEHPK3PXP");
        assert_eq!(
            uri,
            "otpauth://totp/custops:ana%40northside.example?secret=JBSWY3DPEHPK3PXP&issuer=custops&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("<script") && !svg.contains("<?xml"));
    }
}
