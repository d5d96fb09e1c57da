//! Revocation of consent in a customer's own words.
//!
//! FCC 24-24 (Report and Order on revoking consent, 47 CFR 64.1200(a)(10),
//! in force since 2025-04-11): consent may be revoked "by any reasonable
//! means", and a reply using "stop", "quit", "end", "revoke", "opt out",
//! "cancel" or "unsubscribe" is a revocation, even inside a sentence; it must
//! be honoured within 10 business days (custops: at once), and one
//! confirmation text, with no marketing in it, may go within 5 minutes.
//!
//! A text is read as:
//! - [`Reading::Keyword`]: the whole text is one of End User Messaging's
//!   opt-out keywords; End User Messaging opts the number out and answers it
//!   itself, so custops confirms nothing.
//! - [`Reading::Revokes`]: it clearly asks to stop ("Stop. Thank you", "please
//!   stop texting me", "remove me from your list", "wrong number", "alto", "no
//!   me envíen más mensajes"): an opt-out, and one confirmation.
//! - [`Reading::MayRevoke`]: it may mean it ("not interested", "I sold that
//!   car"): marketing to the customer pauses and a person gets the text as a
//!   flagged task.
//! - [`Reading::Other`]: anything else ("I'll stop by at 3", "can you stop
//!   the noise in my brakes?", "cancel my appointment").
//!
//! A post-visit check is answered with a number from 1 to 5: [`score`] reads
//! one ("5", "4 stars", "5! great job", "4/5", "a 4", "five") only from a
//! reply that revokes nothing, and never a number that counts or tells the
//! time ("I'll stop by at 3", "2 more questions", "10").
//!
//! Recall over precision for the clear cases: a revocation missed is a TCPA
//! violation, a false one costs a text the customer can undo with START. The
//! labelled corpus in `tests/revocation_corpus.tsv` holds both to account.

/// End User Messaging's default opt-out keywords (a whole message).
pub const OPT_OUT_KEYWORDS: &[&str] =
    &["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "OPT-OUT", "REVOKE", "ARRET"];

/// What a text means for consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    Keyword,
    Revokes,
    MayRevoke,
    Other,
}

/// The text in lower case, Spanish accents folded, punctuation as spaces,
/// one space between words.
pub fn normalise(text: &str) -> String {
    let folded: String = text
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ñ' => 'n',
            '’' | '\'' => '\'',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        })
        .collect();
    folded.replace('\'', "").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What texting is called in a request to stop it.
const TEXTING: &[&str] = &[
    "text",
    "texts",
    "texting",
    "txt",
    "txts",
    "txting",
    "message",
    "messages",
    "messaging",
    "msg",
    "msgs",
    "sms",
    "contact",
    "contacting",
    "calling",
    "sending",
    "spam",
    "spamming",
    "mensajes",
    "textos",
];

/// Words that stand for the texts right after "stop" when nothing follows
/// them ("stop it", "stop this please"; not "stop it from squeaking").
const THIS: &[&str] = &["it", "this", "these", "them", "that", "all", "me", "now"];

/// What may end a request after [`THIS`].
const COURTESY: &[&str] = &["please", "pls", "plz", "now", "already", "thanks", "thank", "you", "ok", "okay"];

/// Negations that, with a texting word close after, ask for no more texts
/// ("don't send me any more texts", "never message me again").
const NEGATIONS: &[&str] = &["dont", "not", "never", "no"];

/// Phrases that ask to stop, wherever they are.
const REVOKING_PHRASES: &[&str] = &[
    "unsubscribe",
    "opt out",
    "optout",
    "opt me out",
    "revoke",
    "remove me",
    "remove my number",
    "remove this number",
    "delete my number",
    "delete me",
    "take me off",
    "take my number off",
    "no more texts",
    "no more text",
    "no more messages",
    "no more msgs",
    "dont text",
    "do not text",
    "dont message",
    "do not message",
    "dont contact",
    "do not contact",
    "never text",
    "never contact",
    "leave me alone",
    "wrong number",
    "not my number",
    "wrong person",
    "lose my number",
    "stop all",
    // Spanish
    "no me envien",
    "no me manden",
    "no me escriban",
    "no me contacten",
    "no mas mensajes",
    "no mas textos",
    "dejen de enviar",
    "dejen de enviarme",
    "dejen de mandar",
    "dejen de mandarme",
    "deje de enviar",
    "deje de enviarme",
    "dejen de escribir",
    "dejen de contactar",
    "dejar de recibir",
    "darme de baja",
    "dar de baja",
    "denme de baja",
    "eliminar mi numero",
    "borrar mi numero",
    "borren mi numero",
    "no quiero mensajes",
    "no quiero mas mensajes",
    "no quiero recibir",
    "numero equivocado",
    "cancelar mensajes",
    "cancelar suscripcion",
];

/// Verbs that stop texting only with what they stop ("quit texting me",
/// not "my car quit"; "cancel these texts", not "cancel my appointment").
const STOP_VERBS: &[&str] = &["stop", "quit", "end", "cancel", "cease", "halt", "parar", "paren", "pare", "detener"];

/// What follows "stop" when it is not about texts ("stop by", "stop in").
const STOP_BY: &[&str] = &[
    "by",
    "in",
    "over",
    "at",
    "to",
    "for",
    "the",
    "my",
    "a",
    "an",
    "and",
    "making",
    "working",
    "squeaking",
    "leaking",
    "running",
];

/// Phrases that may mean "stop": marketing pauses and a person decides.
const MAYBE_PHRASES: &[&str] = &[
    "not interested",
    "no longer interested",
    "not intrested",
    "no interest",
    "sold that",
    "sold the car",
    "sold the truck",
    "sold my",
    "sold it",
    "dont have that",
    "dont own",
    "no longer own",
    "no longer have",
    "dont have the car",
    "traded it",
    "traded in",
    "moved away",
    "moved out of",
    "go away",
    "no thanks",
    "no thank you",
    "not anymore",
    "too many texts",
    "too many messages",
    "no me interesa",
    "ya no tengo",
    "lo vendi",
    "ya lo vendi",
];

/// Whole texts that are a request to stop in Spanish, or a keyword with a
/// courtesy around it ("stop please").
const WHOLE: &[&str] = &["alto", "basta", "parar", "cancelar", "baja", "stop please", "please stop", "stop thanks"];

fn contains_phrase(text: &str, phrase: &str) -> bool {
    let padded = format!(" {text} ");
    padded.contains(&format!(" {phrase} "))
}

/// Words that mark a reply as written in Spanish: none is an English word a
/// customer would text a car dealer ("no", "me", "de" and "favor" are both).
const SPANISH: &[&str] = &[
    "mensajes",
    "mensaje",
    "textos",
    "envien",
    "manden",
    "escriban",
    "contacten",
    "dejen",
    "deje",
    "dejar",
    "enviar",
    "enviarme",
    "mandar",
    "mandarme",
    "escribir",
    "contactar",
    "recibir",
    "baja",
    "quiero",
    "numero",
    "equivocado",
    "alto",
    "basta",
    "parar",
    "paren",
    "detener",
    "gracias",
    "interesa",
    "tengo",
    "vendi",
    "cancelar",
    "suscripcion",
    "eliminar",
    "borrar",
    "borren",
    "denme",
    "darme",
    "por",
    "mas",
    "ya",
    "que",
    "hora",
    "esta",
];

/// Whether the customer wrote in Spanish (their opt-out is confirmed in it).
pub fn spanish(text: &str) -> bool {
    normalise(text).split(' ').any(|w| SPANISH.contains(&w))
}

/// How a text reads for consent.
pub fn read(text: &str) -> Reading {
    let bare = text.trim().trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace()).to_uppercase();
    if OPT_OUT_KEYWORDS.contains(&bare.as_str()) {
        return Reading::Keyword;
    }
    let t = normalise(text);
    let words: Vec<&str> = t.split(' ').filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return Reading::Other;
    }
    if WHOLE.contains(&t.as_str()) {
        return Reading::Revokes;
    }
    if REVOKING_PHRASES.iter().any(|p| contains_phrase(&t, p)) {
        return Reading::Revokes;
    }
    let texting_within = |from: usize, n: usize| words.iter().skip(from).take(n).any(|w| TEXTING.contains(w));
    for (i, w) in words.iter().enumerate() {
        if NEGATIONS.contains(w)
            && matches!(words.get(i + 1), Some(&("text" | "message" | "send" | "contact" | "msg")))
            && texting_within(i + 1, 5)
        {
            return Reading::Revokes;
        }
        if !STOP_VERBS.contains(w) {
            continue;
        }
        let next = words.get(i + 1).copied();
        let about_texts = texting_within(i + 1, 3);
        // "stop it", "stop this please": the texts, when nothing else follows.
        let stops_this =
            next.is_some_and(|n| THIS.contains(&n)) && words.iter().skip(i + 2).all(|r| COURTESY.contains(r));
        // "stop" first, or after a courtesy ("Stop. Thank you", "please
        // stop"), is the keyword with words around it, unless it is "stop by".
        let leads = words[..i].iter().all(|p| COURTESY.contains(p) || ["just", "hey", "hi"].contains(p));
        let stop_by = next.is_some_and(|n| STOP_BY.contains(&n));
        // "..., stop" at the end, unless it is about something that will not stop.
        let last = next.is_none()
            && !i.checked_sub(1).and_then(|p| words.get(p)).is_some_and(|p| {
                ["wont", "doesnt", "dont", "cant", "not", "never", "didnt", "to", "will", "would"].contains(p)
            });
        match *w {
            "stop" | "parar" | "paren" | "pare" | "detener" | "cease" | "halt" => {
                if about_texts || stops_this || last || (leads && !stop_by) {
                    return Reading::Revokes;
                }
            }
            // "quit", "end" and "cancel" in a sentence need the texts ("quit
            // texting me", "end these messages"; not "my car quit on me",
            // "cancel my appointment"); alone they are the keyword.
            _ => {
                let elsewhere =
                    words.iter().skip(i + 1).take(3).any(|n| ["appointment", "appt", "order", "service"].contains(n));
                if about_texts && !elsewhere {
                    return Reading::Revokes;
                }
            }
        }
    }
    if MAYBE_PHRASES.iter().any(|p| contains_phrase(&t, p)) || t == "no" {
        return Reading::MayRevoke;
    }
    Reading::Other
}

/// A number word or digit from 1 to 5.
fn rating(word: &str) -> Option<u8> {
    match word {
        "1" | "one" | "uno" => Some(1),
        "2" | "two" | "dos" => Some(2),
        "3" | "three" | "tres" => Some(3),
        "4" | "four" | "cuatro" => Some(4),
        "5" | "five" | "cinco" => Some(5),
        _ => None,
    }
}

/// What a number that counts or tells the time is followed by ("2 more
/// questions", "3 pm", "1 thing").
const QUANTITIES: &[&str] = &[
    "more",
    "minutes",
    "minute",
    "mins",
    "min",
    "hours",
    "hour",
    "hrs",
    "hr",
    "pm",
    "am",
    "oclock",
    "days",
    "day",
    "weeks",
    "week",
    "things",
    "thing",
    "questions",
    "question",
    "cars",
    "car",
    "times",
    "people",
    "tires",
    "miles",
    "dollars",
    "bucks",
    "of",
    "or",
    "and",
    "to",
    "on",
    "in",
    "at",
];

/// The rating 1-5 a reply gives, if it is one: it revokes nothing, and
/// starts with the number (after an optional "a", "I'd give it a", ...),
/// followed by nothing, "stars", "/5", "out of 5", or words with no other
/// number in them.
pub fn score(text: &str) -> Option<u8> {
    if read(text) != Reading::Other {
        return None;
    }
    let words = normalise(&text.replace('/', " / "));
    let mut words: Vec<&str> = words.split(' ').filter(|w| !w.is_empty()).collect();
    // "4/5" and "4 out of 5": the scale, not another number.
    let scale = |w: &[&str]| match w {
        [n, "5", ..] if rating(n).is_some() && text.contains('/') => 2,
        [n, "out", "of", "5", ..] if rating(n).is_some() => 4,
        _ => 0,
    };
    const LEAD: &[&str] =
        &["a", "id", "i", "would", "give", "you", "it", "guys", "rate", "say", "solid", "its", "rating"];
    while words.len() > 1 && LEAD.contains(&words[0]) {
        words.remove(0);
    }
    let n = rating(words.first()?)?;
    let skip = scale(&words).max(1);
    let rest = &words[skip..];
    if rest.first().is_some_and(|w| QUANTITIES.contains(w)) {
        return None;
    }
    if rest.iter().any(|w| w.chars().any(|c| c.is_ascii_digit())) {
        return None;
    }
    Some(n)
}
