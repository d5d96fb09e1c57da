//! `POST /app/signin`: the password against the pool (Cognito
//! `USER_PASSWORD_AUTH`), then the steps the pool asks for (a new password
//! on a first sign-in; the TOTP code of an enrolled user; TOTP enrolment
//! when the pool requires MFA), then a new server-side session.
//!
//! Defences (CONTRACT.md section 10): a sign-in posted from another site is
//! refused before this runs (`Inbox::route`); after
//! [`custops::staff::MAX_FAILURES`] failures for one email within 15
//! minutes, that email is refused for 15 minutes whatever the password,
//! with the same answer as a wrong password, and the pool is not asked.

use askama::Template;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, AuthenticationResultType, ChallengeNameType};
use custops::http::HookResponse;
use custops::staff::{session_max, StaffSession};
use tracing::{info, warn};

use crate::{mfa, page, session, unavailable, Form, Inbox};

/// The answer to a wrong email or password, and to a locked email.
pub const WRONG: &str = "Wrong email or password.";

#[derive(Template, Default)]
#[template(path = "signin.html")]
pub struct SignIn {
    pub email: String,
    pub error: Option<String>,
    /// The step the pool asks for: `new_password`, `mfa` (a code),
    /// `mfa_setup` (enrol, then a code); none: the password.
    pub step: Option<&'static str>,
    /// The pool's session of that step.
    pub session: Option<String>,
    /// Enrolment: the secret, as text and as a QR code (SVG, drawn here).
    pub secret: Option<String>,
    pub qr: Option<String>,
    /// Where a finished sign-in goes: an alert's task link only ([`next_of`]).
    pub next: Option<String>,
}

/// Where a sign-in may go next: an alert's task link (`/app/t/` and a
/// 12-digit hex code) and nothing else, so no one can make the sign-in
/// page send a person to another site or page.
pub fn next_of(raw: Option<&str>) -> Option<String> {
    let raw = raw?;
    if let Some(code) = raw.strip_prefix("/app/t/") {
        return is_link_code(code).then(|| format!("/app/t/{code}"));
    }
    // The caller page a phone system opened: its number, in any format,
    // and nothing else (never another site, never another page).
    let query = raw.strip_prefix("/app/caller?")?;
    let mut number = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "number" if number.is_none() => number = Some(v.into_owned()),
            _ => return None,
        }
    }
    let number = number?;
    let readable =
        !number.is_empty() && number.len() <= 32 && number.chars().all(|c| c.is_ascii_digit() || "+()-. ".contains(c));
    readable.then(|| {
        format!("/app/caller?number={}", form_urlencoded::byte_serialize(number.as_bytes()).collect::<String>())
    })
}

/// Whether `code` is of the shape of a task's link code (12 lowercase hex
/// digits, `custops::keys::task_link_code`).
pub fn is_link_code(code: &str) -> bool {
    code.len() == 12 && code.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The sign-in page that goes on to `next` (if it is one [`next_of`] allows).
pub fn signin_to(next: &str) -> String {
    match next_of(Some(next)) {
        // The caller page's query travels as one encoded value.
        Some(n) if n.contains('?') => {
            format!("/app/signin?next={}", form_urlencoded::byte_serialize(n.as_bytes()).collect::<String>())
        }
        Some(n) => format!("/app/signin?next={n}"),
        None => "/app/signin".to_owned(),
    }
}

/// What the pool answered.
struct Answer {
    tokens: Option<AuthenticationResultType>,
    challenge: Option<ChallengeNameType>,
    session: Option<String>,
}

impl Inbox {
    pub(crate) async fn sign_in(&self, form: &Form) -> HookResponse {
        // As `custops staff add` stores it: an email's case is not the person's.
        let email = form.get("email").map(|e| e.trim().to_lowercase()).unwrap_or_default();
        let next = next_of(form.get("next").map(String::as_str));
        let again = |status: u16, error: &str| {
            page(
                status,
                &SignIn {
                    email: email.clone(),
                    error: Some(error.to_owned()),
                    next: next.clone(),
                    ..SignIn::default()
                },
            )
        };
        if email.is_empty() || email.len() > 254 {
            return again(400, "Enter your email and password.");
        }
        let email_hash = session::hash(&email);
        let now = self.core.clock.now();
        match self.core.table.sign_in_locked(&email_hash, now).await {
            Ok(false) => {}
            Ok(true) => {
                info!("sign-in refused: too many failures for this email");
                return again(401, WRONG);
            }
            Err(e) => return unavailable(&e),
        }
        let field = |name: &str| form.get(name).cloned().unwrap_or_default();
        let result = match form.get("step").map(String::as_str) {
            Some("new_password") => {
                self.respond(
                    ChallengeNameType::NewPasswordRequired,
                    &field("session"),
                    &email,
                    &[("NEW_PASSWORD", field("new_password"))],
                )
                .await
            }
            Some("mfa") => {
                self.respond(
                    ChallengeNameType::SoftwareTokenMfa,
                    &field("session"),
                    &email,
                    &[("SOFTWARE_TOKEN_MFA_CODE", field("code").trim().to_owned())],
                )
                .await
            }
            Some("mfa_setup") => match self.verify_code(None, Some(&field("session")), &field("code")).await {
                Ok(session) => self.respond(ChallengeNameType::MfaSetup, &session, &email, &[]).await,
                Err(code) => Err(code),
            },
            _ => {
                let password = field("password");
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
                    .map(|o| Answer {
                        tokens: o.authentication_result,
                        challenge: o.challenge_name,
                        session: o.session,
                    })
                    .map_err(|e| e.code().unwrap_or("unknown").to_owned())
            }
        };
        let answer = match result {
            Ok(a) => a,
            Err(code)
                if matches!(
                    code.as_str(),
                    "NotAuthorizedException"
                        | "UserNotFoundException"
                        | "CodeMismatchException"
                        | "ExpiredCodeException"
                ) =>
            {
                let fails = match self.core.table.sign_in_failed(&email_hash, now).await {
                    Ok(n) => n,
                    Err(e) => return unavailable(&e),
                };
                info!(fails, "sign-in refused: wrong email, password or code");
                return again(401, WRONG);
            }
            Err(code) if code == "InvalidPasswordException" => {
                return again(400, "That password does not meet the store's password rules.");
            }
            Err(code) => {
                warn!(code, "the user pool did not sign the user in");
                return again(503, "The sign-in service did not answer. Try again in a moment.");
            }
        };
        let step = |step: &'static str, session: Option<String>| SignIn {
            email: email.clone(),
            step: Some(step),
            session,
            next: next.clone(),
            ..SignIn::default()
        };
        match answer.challenge {
            Some(ChallengeNameType::NewPasswordRequired) => return page(200, &step("new_password", answer.session)),
            Some(ChallengeNameType::SoftwareTokenMfa) => return page(200, &step("mfa", answer.session)),
            Some(ChallengeNameType::MfaSetup) => {
                // The pool requires MFA (`StaffMfa: ON`) and this user has none yet.
                return match self.associate(None, answer.session.as_deref()).await {
                    Ok((secret, session)) => page(
                        200,
                        &SignIn {
                            qr: mfa::qr_svg(&mfa::otpauth_uri(&email, &secret)),
                            secret: Some(secret),
                            ..step("mfa_setup", session)
                        },
                    ),
                    Err(code) => {
                        warn!(code, "the user pool did not start TOTP enrolment");
                        again(503, "The sign-in service did not answer. Try again in a moment.")
                    }
                };
            }
            _ => {}
        }
        let Some(tokens) = answer.tokens else {
            warn!(challenge = ?answer.challenge, "the user pool asked for a step the inbox does not offer");
            return again(403, "This sign-in needs a step the inbox does not offer; ask a manager.");
        };
        if form.get("step").is_some_and(|s| s == "mfa_setup") {
            // Enrolled at the first sign-in (`StaffMfa: ON`): TOTP is their
            // MFA from now on, said outright as `/app/mfa` says it.
            if let Some(access) = tokens.access_token.as_deref() {
                if let Err(code) = self.prefer_totp(access).await {
                    warn!(code, "the user pool did not take the TOTP preference");
                    return again(503, "The sign-in service did not answer. Try again in a moment.");
                }
            }
        }
        self.start_session(&email, &email_hash, tokens, next.as_deref()).await
    }

    /// The tokens of a finished sign-in: the person (from the verified ID
    /// token), their stores (from the table), a new session.
    async fn start_session(
        &self,
        email: &str,
        email_hash: &str,
        tokens: AuthenticationResultType,
        next: Option<&str>,
    ) -> HookResponse {
        let again = |status: u16, error: &str| {
            page(status, &SignIn { email: email.to_owned(), error: Some(error.to_owned()), ..SignIn::default() })
        };
        let Some(id_token) = tokens.id_token else {
            return again(503, "The sign-in service did not answer. Try again in a moment.");
        };
        let user = match self.verifier.user(&id_token).await {
            Ok(u) => u,
            Err(e) => {
                warn!(reason = %e, "the pool's own token did not verify");
                return again(503, "The sign-in service did not answer. Try again in a moment.");
            }
        };
        // What they may do is the table's (`custops staff add`), never the token's.
        let at = match self.core.table.staff_of(&user.sub).await {
            Ok(at) => at,
            Err(e) => return unavailable(&e),
        };
        if at.is_empty() {
            info!(sub = %user.sub, "signed in without a store");
            return again(403, "Your sign-in has no store yet; ask a manager.");
        }
        let id = match session::new_id() {
            Ok(id) => id,
            Err(e) => {
                warn!(error = %e, "no session id");
                return again(503, "The sign-in service did not answer. Try again in a moment.");
            }
        };
        let now = self.core.clock.now();
        let record = StaffSession {
            id_hash: session::hash(&id),
            sub: user.sub.clone(),
            email: user.email.clone(),
            signed_in_at: now,
            last_seen: now,
            sealed_access: tokens.access_token.as_deref().and_then(|t| session::seal(&id, t)),
        };
        if let Err(e) = self.core.table.put_session(&record).await {
            return unavailable(&e);
        }
        if let Err(e) = self.core.table.sign_in_cleared(email_hash).await {
            warn!(error = %crate::redact(&e.to_string()), "could not clear the sign-in failures");
        }
        info!(sub = %user.sub, stores = at.len(), managed = at.iter().filter(|m| m.manager).count(), "signed in");
        HookResponse::see_other(next.unwrap_or("/app/tasks"))
            .with_header("Set-Cookie", session::set_cookie(&id, session_max().num_seconds(), self.transport))
    }

    /// `RespondToAuthChallenge` with the pool's `session`.
    async fn respond(
        &self,
        challenge: ChallengeNameType,
        session: &str,
        email: &str,
        responses: &[(&str, String)],
    ) -> Result<Answer, String> {
        if session.is_empty() || session.len() > 4096 {
            return Err("NotAuthorizedException".into());
        }
        let mut req = self
            .cognito
            .respond_to_auth_challenge()
            .client_id(&self.client_id)
            .challenge_name(challenge)
            .session(session)
            .challenge_responses("USERNAME", email);
        for (name, value) in responses {
            req = req.challenge_responses(*name, value);
        }
        req.send()
            .await
            .map(|o| Answer { tokens: o.authentication_result, challenge: o.challenge_name, session: o.session })
            .map_err(|e| e.code().unwrap_or("unknown").to_owned())
    }

    /// `AssociateSoftwareToken`: a new TOTP secret for the user of the
    /// access token, or of the pool's sign-in `session` (`MFA_SETUP`).
    pub(crate) async fn associate(
        &self,
        access: Option<&str>,
        session: Option<&str>,
    ) -> Result<(String, Option<String>), String> {
        let out = self
            .cognito
            .associate_software_token()
            .set_access_token(access.map(str::to_owned))
            .set_session(session.map(str::to_owned))
            .send()
            .await
            .map_err(|e| e.code().unwrap_or("unknown").to_owned())?;
        let secret = out.secret_code.ok_or_else(|| "no secret".to_owned())?;
        Ok((secret, out.session))
    }

    /// `VerifySoftwareToken`: the code of the new secret; the pool's next session, if any.
    pub(crate) async fn verify_code(
        &self,
        access: Option<&str>,
        session: Option<&str>,
        code: &str,
    ) -> Result<String, String> {
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err("CodeMismatchException".into());
        }
        let out = self
            .cognito
            .verify_software_token()
            .set_access_token(access.map(str::to_owned))
            .set_session(session.filter(|s| !s.is_empty()).map(str::to_owned))
            .user_code(code)
            .friendly_device_name("custops inbox")
            .send()
            .await
            .map_err(|e| e.code().unwrap_or("unknown").to_owned())?;
        match out.status {
            Some(aws_sdk_cognitoidentityprovider::types::VerifySoftwareTokenResponseType::Success) => {
                Ok(out.session.unwrap_or_default())
            }
            _ => Err("CodeMismatchException".into()),
        }
    }
}
