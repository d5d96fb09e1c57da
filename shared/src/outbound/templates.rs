//! The wording of every text: a default per trigger, overridable per store
//! (`"templates": {"ready_for_pickup": "..."}` in the store config). Variables
//! are `{name}`; they are checked when the store config is saved (unknown
//! variables and templates that do not name the store are refused; templates
//! that need more than two segments or fall back to UCS-2 are warned about),
//! never when a text is sent.

use crate::store::StoreConfig;
use crate::text::{non_gsm_chars, segments, Encoding};

/// One kind of text: its key, default wording, variables and sample values.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub key: &'static str,
    pub default: &'static str,
    /// `(variable, a realistic long sample)`: the samples size the warnings.
    pub variables: &'static [(&'static str, &'static str)],
}

const GREETING: (&str, &str) = ("greeting", "Hi Christopher");
const STORE: (&str, &str) = ("store", "Northside Chevrolet Buick GMC");
const RO_CONTEXT: (&str, &str) =
    ("ro_context", " Your 2021 Chevrolet Silverado 1500 (RO-482137) is waiting for parts.");
const BOOKING: (&str, &str) = ("booking", " Book service anytime: https://northside.example/service");
const STOP: (&str, &str) = ("stop", " Reply STOP to opt out.");
const FIRST_NAME: (&str, &str) = ("first_name", "Christopher");
const VEHICLE: (&str, &str) = ("vehicle", "2021 Chevrolet Silverado 1500");
const ADVISOR: (&str, &str) = ("advisor", "Dana Whitfield-Okafor");

pub const MISSED_CALL_OPEN: Spec = Spec {
    key: "missed_call_open",
    default: "{greeting}, this is {store}.{ro_context} Sorry we missed your call; we'll call you back shortly.{stop}",
    variables: &[GREETING, STORE, RO_CONTEXT, STOP],
};

pub const MISSED_CALL_CLOSED: Spec = Spec {
    key: "missed_call_closed",
    default:
        "{greeting}, this is {store}.{ro_context} Sorry we missed your call; we're closed now.{opens}{booking}{stop}",
    variables: &[
        GREETING,
        STORE,
        RO_CONTEXT,
        ("opens", " We open Saturday at 10:30 AM; we'll call you then."),
        BOOKING,
        STOP,
    ],
};

pub const PARTS_ARRIVED: Spec = Spec {
    key: "parts_arrived",
    default: "Hi {first_name}, good news from {store}: the part for your {vehicle} is in. {advisor} will call you to schedule the install.",
    variables: &[FIRST_NAME, STORE, VEHICLE, ADVISOR],
};

pub const PARTS_ETA: Spec = Spec {
    key: "parts_eta",
    default: "Hi {first_name}, this is {store}: the part for your {vehicle} is on order and expected {eta}. {advisor} will let you know when it arrives.",
    variables: &[FIRST_NAME, STORE, VEHICLE, ("eta", "Wednesday, December 30"), ADVISOR],
};

pub const READY_FOR_PICKUP: Spec = Spec {
    key: "ready_for_pickup",
    default: "Hi {first_name}, your {vehicle} is ready for pickup at {store}.{amount_due} Today's hours: {hours}. Questions? Ask for {advisor}.",
    variables: &[
        FIRST_NAME,
        VEHICLE,
        STORE,
        ("amount_due", " Amount due: $1,487.35."),
        ("hours", "7:00 AM-7:00 PM"),
        ADVISOR,
    ],
};

/// What every step of the declined-work cadence may say.
const DECLINED_VARIABLES: &[(&str, &str)] =
    &[FIRST_NAME, STORE, VEHICLE, ("work", "front brake pads & rotors, cabin air filter, wiper blades"), BOOKING];

pub const DECLINED_FOLLOWUP: Spec = Spec {
    key: "declined_followup",
    default: "Hi {first_name}, this is {store}. At your last visit your {vehicle} needed: {work}. We can take care of it when it suits you.{booking} Reply STOP to opt out.",
    variables: DECLINED_VARIABLES,
};

/// The middle steps of the cadence: a check-in, not the first reminder again.
pub const DECLINED_FOLLOWUP_CHECKIN: Spec = Spec {
    key: "declined_followup_checkin",
    default: "Hi {first_name}, {store} checking in: your {vehicle} still needs {work}. Want us to save you a spot?{booking} Reply STOP to opt out.",
    variables: DECLINED_VARIABLES,
};

/// The cadence's last step: a last note, and the store stops asking.
pub const DECLINED_FOLLOWUP_LAST: Spec = Spec {
    key: "declined_followup_last",
    default: "Hi {first_name}, a last note from {store}: {work} on your {vehicle} is still open. We won't keep reminding you, and we're here when you're ready.{booking} Reply STOP to opt out.",
    variables: DECLINED_VARIABLES,
};

/// The wording of step `step` (1-based) of a cadence of `steps`: the first a
/// reminder, the last a last note, any between a check-in.
pub fn declined_step(step: u32, steps: usize) -> &'static Spec {
    match step as usize {
        1 => &DECLINED_FOLLOWUP,
        n if n >= steps => &DECLINED_FOLLOWUP_LAST,
        _ => &DECLINED_FOLLOWUP_CHECKIN,
    }
}

pub const NO_SHOW: Spec = Spec {
    key: "no_show",
    default: "Hi {first_name}, we missed you at {store} today. Want to pick a new time?{booking} Or reply here and we'll call you.",
    variables: &[FIRST_NAME, STORE, BOOKING],
};

/// When an appointment is, as a customer reads it ("Monday, November 30 at 9:00 AM").
const WHEN: (&str, &str) = ("when", "Wednesday, September 30 at 10:30 AM");
const FOR_VEHICLE: (&str, &str) = ("for_vehicle", " for your 2021 Chevrolet Silverado 1500");

pub const APPOINTMENT_CONFIRMED: Spec = Spec {
    key: "appointment_confirmed",
    default:
        "Hi {first_name}, {store} confirms your appointment on {when}{for_vehicle}. Need another time? Reply here.",
    variables: &[FIRST_NAME, STORE, WHEN, FOR_VEHICLE],
};

pub const APPOINTMENT_REMINDER: Spec = Spec {
    key: "appointment_reminder",
    default: "Hi {first_name}, a reminder from {store}: your appointment is tomorrow, {when}{for_vehicle}. Need another time? Reply here.",
    variables: &[FIRST_NAME, STORE, WHEN, FOR_VEHICLE],
};

pub const VISIT_CHECK: Spec = Spec {
    key: "visit_check",
    default: "Hi {first_name}, thanks for choosing {store} for your {vehicle}. How did we do? Reply with a number from 1 (poor) to 5 (great).",
    variables: &[FIRST_NAME, STORE, VEHICLE],
};

pub const VISIT_THANKS: Spec = Spec {
    key: "visit_thanks",
    default: "Thank you, {first_name}! We're glad your visit to {store} went well.{review}",
    variables: &[
        FIRST_NAME,
        STORE,
        ("review", " Would you share it in a review? https://g.page/r/northside-chevrolet/review"),
    ],
};

/// The delivery check (section 14): how the new vehicle is going, some weeks in.
pub const DELIVERY_CHECK: Spec = Spec {
    key: "delivery_check",
    default: "Hi {first_name}, {store} here. How is your {vehicle} treating you so far? Reply with a number from 1 (poor) to 5 (great).",
    variables: &[FIRST_NAME, STORE, VEHICLE],
};

pub const DELIVERY_THANKS: Spec = Spec {
    key: "delivery_thanks",
    default: "Thank you, {first_name}! We're glad you're enjoying your {vehicle} from {store}.{review}",
    variables: &[
        FIRST_NAME,
        VEHICLE,
        STORE,
        ("review", " Would you share it in a review? https://g.page/r/northside-chevrolet/review"),
    ],
};

/// Service due (section 14): the vehicles then due, the booking link, no
/// price or offer.
pub const SERVICE_DUE: Spec = Spec {
    key: "service_due",
    default: "Hi {first_name}, {store} here: by our records your {vehicles} is due for service.{booking} Reply STOP to opt out.",
    variables: &[FIRST_NAME, STORE, ("vehicles", "2021 Chevrolet Silverado 1500 and 2019 Chevrolet Equinox"), BOOKING],
};

/// A lease or a loan near its end (section 14, `maturity_texts`): never a
/// payment, rate, balance or term.
pub const MATURITY: Spec = Spec {
    key: "maturity",
    default: "Hi {first_name}, {store} here. When you'd like to talk about what's next for your {vehicle}, reply here and we'll set a time that suits you. Reply STOP to opt out.",
    variables: &[FIRST_NAME, STORE, VEHICLE],
};

pub const LEAD_THANKS: Spec = Spec {
    key: "lead_thanks",
    default: "Hi {first_name}, thanks for asking {store} about the {vehicle}. Someone from our sales team will contact you {when}. Reply here with any questions.",
    variables: &[FIRST_NAME, STORE, VEHICLE, ("when", "when we open Saturday at 10:30 AM")],
};

pub const WIN_BACK: Spec = Spec {
    key: "win_back",
    default: "Hi {first_name}, it's been a while since we've seen your {vehicle} at {store}. Is it due for service?{booking} Reply STOP to opt out.",
    variables: &[FIRST_NAME, STORE, VEHICLE, BOOKING],
};

pub const ALL: &[Spec] = &[
    MISSED_CALL_OPEN,
    MISSED_CALL_CLOSED,
    PARTS_ARRIVED,
    PARTS_ETA,
    READY_FOR_PICKUP,
    DECLINED_FOLLOWUP,
    DECLINED_FOLLOWUP_CHECKIN,
    DECLINED_FOLLOWUP_LAST,
    NO_SHOW,
    WIN_BACK,
    APPOINTMENT_CONFIRMED,
    APPOINTMENT_REMINDER,
    VISIT_CHECK,
    VISIT_THANKS,
    LEAD_THANKS,
    DELIVERY_CHECK,
    DELIVERY_THANKS,
    SERVICE_DUE,
    MATURITY,
];

/// Fills `{name}` variables; an unknown one is left as written.
fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match vars.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn variables_in(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        names.push(&after[..close]);
        rest = &after[close + 1..];
    }
    names
}

impl StoreConfig {
    /// The store's wording for `spec`, filled with `vars` (the store's name is added as `store`).
    pub fn render(&self, spec: &Spec, vars: &[(&str, &str)]) -> String {
        let template = self.templates.get(spec.key).map(String::as_str).unwrap_or(spec.default);
        let mut all: Vec<(&str, &str)> = vec![("store", self.name.as_str())];
        all.extend_from_slice(vars);
        fill(template, &all)
    }

    /// Checks the store's templates: `Err` lists what makes them unusable,
    /// `Ok` carries warnings (segments, UCS-2) for the operator.
    pub fn check_templates(&self) -> Result<Vec<String>, Vec<String>> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        for key in self.templates.keys() {
            if !ALL.iter().any(|s| s.key == key) {
                let known: Vec<&str> = ALL.iter().map(|s| s.key).collect();
                errors.push(format!("unknown template {key:?} (known: {})", known.join(", ")));
            }
        }
        for spec in ALL {
            let Some(template) = self.templates.get(spec.key) else { continue };
            for name in variables_in(template) {
                if !spec.variables.iter().any(|(k, _)| *k == name) {
                    let known: Vec<&str> = spec.variables.iter().map(|(k, _)| *k).collect();
                    errors.push(format!(
                        "template {}: unknown variable {{{name}}} (use: {})",
                        spec.key,
                        known.join(", ")
                    ));
                }
            }
            if !template.contains("{store}") && !template.contains(&self.name) {
                errors.push(format!("template {}: must name the store ({{store}})", spec.key));
            }
            let sample = fill(template, spec.variables);
            let (encoding, n) = segments(&sample);
            if encoding == Encoding::Ucs2 {
                let odd: String = non_gsm_chars(template).into_iter().collect();
                warnings.push(format!(
                    "template {}: {odd:?} is not in the GSM-7 alphabet, so every text is sent as UCS-2 (70 characters a segment)",
                    spec.key
                ));
            }
            if n > 2 {
                warnings.push(format!("template {}: a long text takes {n} segments (each is billed)", spec.key));
            }
        }
        if errors.is_empty() {
            Ok(warnings)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(templates: &str) -> StoreConfig {
        StoreConfig::from_json(&format!(
            r#"{{"store_id":"s","name":"Northside","timezone":"America/Chicago","sms_number":"+15125550100","templates":{templates}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn defaults_fit_in_two_gsm7_segments_with_long_values() {
        assert_eq!(store("{}").check_templates(), Ok(vec![]));
    }

    #[test]
    fn an_override_is_used_and_filled() {
        let s = store(r#"{"parts_arrived": "{store}: {first_name}, your part is in!"}"#);
        assert_eq!(s.render(&PARTS_ARRIVED, &[("first_name", "Maria")]), "Northside: Maria, your part is in!");
        assert!(s.render(&READY_FOR_PICKUP, &[("first_name", "Maria")]).starts_with("Hi Maria, your"));
    }

    #[test]
    fn unknown_variables_unknown_templates_and_a_missing_store_name_are_refused() {
        let errors =
            store(r#"{"parts_arrived": "{store}: {firstname}", "birthday": "x", "ready_for_pickup": "ready"}"#)
                .check_templates()
                .unwrap_err();
        assert!(errors.iter().any(|e| e.contains("unknown variable {firstname}")), "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("unknown template \"birthday\"")), "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("ready_for_pickup: must name the store")), "{errors:?}");
    }

    #[test]
    fn one_curly_quote_or_a_long_text_is_warned_about() {
        let warnings = store(r#"{"parts_arrived": "{store}: your part’s in", "ready_for_pickup": "{store} {advisor} {advisor} {advisor} {advisor} {advisor} {advisor} {advisor} {advisor} {advisor} {advisor} {advisor} {advisor} {advisor} {advisor} {advisor}"}"#)
            .check_templates()
            .unwrap();
        assert!(
            warnings.iter().any(|w| w.contains("parts_arrived") && w.contains("UCS-2") && w.contains('’')),
            "{warnings:?}"
        );
        assert!(warnings.iter().any(|w| w.contains("ready_for_pickup") && w.contains("segments")), "{warnings:?}");
    }
}
