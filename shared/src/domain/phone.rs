//! Phone numbers: parsed with libphonenumber's metadata (the `rlibphonenumber`
//! port), normalised to E.164 with the US as default region, and masked in
//! every `Debug`/`Display` so a raw number never reaches a log line.

use std::fmt;

use rlibphonenumber::{PhoneNumberFormat, PhoneNumberType as Type, Region, PHONE_NUMBER_UTIL};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a number custops can text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("phone number is empty")]
    Empty,
    #[error("phone number cannot be parsed ({0})")]
    Unparseable(String),
    #[error("phone number {0} is not a valid number")]
    Invalid(String),
}

/// Whether a valid number can receive a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Textability {
    /// Mobile, or (as everywhere in North America) indistinguishable from mobile.
    MobileCapable,
    /// Toll-free, premium-rate, pager, shared-cost, UAN, voicemail...: never texted.
    NotMobile,
}

/// A valid phone number in E.164 form (`+15125550142`): the key of a
/// customer's record. One kind of record has no number: a lead that came by
/// mail without one is keyed by its mail address ([`Phone::of_email`],
/// stored as `mailto:{address}`), and is never texted.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(String);

/// The stored prefix of a record key that is a mail address.
const MAILTO: &str = "mailto:";

impl Phone {
    /// The key of the record of someone known by a mail address alone (a
    /// lead without a phone number); none if `address` is not one.
    pub fn of_email(address: &str) -> Option<Self> {
        let address = address.trim().to_lowercase();
        crate::store::is_mail_address(&address).then(|| Phone(format!("{MAILTO}{address}")))
    }

    /// A record's key as it is written in a link or a key (`+15125550142`,
    /// `mailto:priya@example.com`); none if it is neither.
    pub fn from_key(raw: &str) -> Option<Self> {
        match raw.strip_prefix(MAILTO) {
            Some(address) => Phone::of_email(address),
            None => Phone::parse(raw).ok(),
        }
    }

    /// The mail address of a record keyed by one (no phone number).
    pub fn email(&self) -> Option<&str> {
        self.0.strip_prefix(MAILTO)
    }

    /// Parses a number in E.164 or national format (US default region).
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let number = PHONE_NUMBER_UTIL
            .parse(trimmed, Some(Region::US))
            .map_err(|e| PhoneError::Unparseable(format!("{e}; input {}", mask(trimmed))))?;
        if !PHONE_NUMBER_UTIL.is_valid_number(&number) {
            return Err(PhoneError::Invalid(mask(trimmed)));
        }
        Ok(Phone(number.format_as(PhoneNumberFormat::E164).into_owned()))
    }

    /// The E.164 string, for the table key and the SNS `PhoneNumber`. Never log it.
    pub fn e164(&self) -> &str {
        &self.0
    }

    /// The masked form used in logs and error messages: `+1******0142`
    /// (a mail address: `p***@example.com`).
    pub fn masked(&self) -> String {
        match self.email() {
            Some(address) => {
                let (local, domain) = address.split_once('@').unwrap_or((address, ""));
                format!("{}***@{domain}", local.chars().next().unwrap_or('*'))
            }
            None => mask(&self.0),
        }
    }

    /// Whether this number and `other` belong to one country (by the
    /// numbering plan's region: a `+1` number of Jamaica is not a US one).
    /// A record keyed by a mail address belongs to none.
    pub fn same_country(&self, other: &Phone) -> bool {
        let region = |p: &Phone| {
            p.email().is_none().then(|| PHONE_NUMBER_UTIL.parse(&p.0, None).ok()?.get_region_code()).flatten()
        };
        matches!((region(self), region(other)), (Some(a), Some(b)) if a == b)
    }

    /// Whether this number can receive a text, from the numbering plan.
    pub fn textability(&self) -> Textability {
        let Ok(parsed) = PHONE_NUMBER_UTIL.parse(&self.0, None) else {
            return Textability::NotMobile;
        };
        match PHONE_NUMBER_UTIL.get_number_type(&parsed) {
            Type::Mobile | Type::FixedLineOrMobile | Type::PersonalNumber | Type::VoIP => Textability::MobileCapable,
            // A pure landline may still be SMS-enabled by its carrier, but we cannot know it.
            _ => Textability::NotMobile,
        }
    }
}

/// Masks every digit but the last four of anything that looks like a phone number.
pub fn mask(raw: &str) -> String {
    let digits = raw.chars().filter(char::is_ascii_digit).count();
    let keep_from = digits.saturating_sub(4);
    let mut seen = 0;
    raw.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen > keep_from || (seen == 1 && raw.starts_with('+') && digits > 10) {
                    return c;
                }
                return '*';
            }
            c
        })
        .collect()
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl Serialize for Phone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        if let Some(address) = raw.strip_prefix(MAILTO) {
            return Phone::of_email(address).ok_or_else(|| serde::de::Error::custom("not a mail address"));
        }
        Phone::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Masks runs of 7 or more digits (with the usual separators) in free text, so a
/// number that slipped into an error message or a log field is still hidden.
pub fn redact_digits(text: &str) -> String {
    let bytes: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() || (bytes[i] == '+' && bytes.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            let mut j = i;
            let mut digits = 0;
            while j < bytes.len()
                && (bytes[j].is_ascii_digit() || matches!(bytes[j], '+' | '-' | ' ' | '(' | ')' | '.'))
            {
                if bytes[j].is_ascii_digit() {
                    digits += 1;
                }
                j += 1;
            }
            // Do not swallow trailing separators.
            while j > start && !bytes[j - 1].is_ascii_digit() {
                j -= 1;
            }
            let run: String = bytes[start..j].iter().collect();
            if digits >= 7 && !looks_like_timestamp(&bytes, start, j) {
                out.push_str(&mask(&run));
            } else {
                out.push_str(&run);
            }
            i = j.max(start + 1);
            if j == start {
                out.push(bytes[start]);
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Dates (`2026-11-23`) and times are not phone numbers.
fn looks_like_timestamp(chars: &[char], start: usize, end: usize) -> bool {
    let run: String = chars[start..end].iter().collect();
    let after = chars.get(end).copied();
    let before = start.checked_sub(1).and_then(|i| chars.get(i)).copied();
    (run.len() >= 10 && run.as_bytes().get(4) == Some(&b'-') && run.as_bytes().get(7) == Some(&b'-'))
        || matches!(after, Some('T') | Some(':') | Some('Z'))
        || matches!(before, Some(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_e164_forms_normalise_to_the_same_number() {
        for raw in ["+15125550142", "(512) 555-0142", "512-555-0142", "5125550142", "1 512 555 0142"] {
            assert_eq!(Phone::parse(raw).unwrap().e164(), "+15125550142", "{raw}");
        }
    }

    #[test]
    fn garbage_and_short_numbers_are_rejected() {
        assert_eq!(Phone::parse("  "), Err(PhoneError::Empty));
        assert!(Phone::parse("hello").is_err());
        assert!(Phone::parse("555-0142").is_err());
        assert!(Phone::parse("+1 000 555 0142").is_err());
    }

    #[test]
    fn display_and_debug_never_show_the_number() {
        let p = Phone::parse("+15125550142").unwrap();
        assert_eq!(p.to_string(), "+1******0142");
        assert_eq!(format!("{p:?}"), "Phone(+1******0142)");
    }

    #[test]
    fn toll_free_numbers_are_not_textable() {
        assert_eq!(Phone::parse("+18005550100").unwrap().textability(), Textability::NotMobile);
        assert_eq!(Phone::parse("+15125550142").unwrap().textability(), Textability::MobileCapable);
    }

    #[test]
    fn numbers_from_abroad_keep_their_country_and_type() {
        let uk_mobile = Phone::parse("+44 7911 123456").unwrap();
        assert_eq!(uk_mobile.e164(), "+447911123456");
        assert_eq!(uk_mobile.textability(), Textability::MobileCapable);
        assert_eq!(Phone::parse("+44 20 7946 0000").unwrap().textability(), Textability::NotMobile);
        assert_eq!(Phone::parse("+52 55 1234 5678").unwrap().e164(), "+525512345678");
        assert!(Phone::parse("+44 7911 12").is_err());
    }

    #[test]
    fn one_country_by_the_numbering_plan_not_the_calling_code() {
        let store = Phone::parse("+15125550100").unwrap();
        assert!(Phone::parse("+17205550101").unwrap().same_country(&store));
        assert!(!Phone::parse("+18765550142").unwrap().same_country(&store), "Jamaica dials +1 too");
        assert!(!Phone::parse("+447911123456").unwrap().same_country(&store));
        assert!(!Phone::of_email("p@example.com").unwrap().same_country(&store));
    }

    #[test]
    fn redaction_hides_numbers_in_free_text_but_not_dates() {
        let s = redact_digits("caller (512) 555-0142 at 2026-11-23T15:04:05Z, ro 48213");
        assert!(!s.contains("555-0142"), "{s}");
        assert!(s.contains("0142"));
        assert!(s.contains("2026-11-23T15:04:05Z"), "{s}");
        assert!(s.contains("48213"));
        let log = redact_digits("2026-11-24T00:46:05.123456Z ERROR x");
        assert_eq!(log, "2026-11-24T00:46:05.123456Z ERROR x");
    }
}
