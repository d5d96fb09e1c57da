//! The revocation reader against a labelled corpus of replies
//! (`revocation_corpus.tsv`): clear opt-outs must all be caught, ordinary
//! replies never taken for one. Prints precision and recall:
//!
//!     cargo test -p inbound-sms --test revocation -- --nocapture

use inbound_sms::revocation::{read, score, spanish, Reading};

const CORPUS: &str = include_str!("revocation_corpus.tsv");

fn corpus() -> Vec<(&'static str, &'static str)> {
    CORPUS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_once('\t').unwrap_or_else(|| panic!("label<TAB>text: {l:?}")))
        .collect()
}

fn opts_out(r: Reading) -> bool {
    matches!(r, Reading::Keyword | Reading::Revokes)
}

#[test]
fn the_corpus_has_every_clear_opt_out_and_no_false_one() {
    let corpus = corpus();
    assert!(corpus.len() >= 100, "{} labelled replies", corpus.len());
    let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
    let mut wrong = Vec::new();
    for (label, text) in &corpus {
        let got = read(text);
        let rating = label.strip_prefix("score").map(|n| n.parse::<u8>().expect("score1 to score5"));
        if score(text) != rating {
            wrong.push(format!("{label:>7} scored as {:?}: {text}", score(text)));
        }
        let expected = match label.strip_prefix("score").map_or(*label, |_| "other") {
            "keyword" => Reading::Keyword,
            "revoke" => Reading::Revokes,
            "maybe" => Reading::MayRevoke,
            "other" => Reading::Other,
            l => panic!("unknown label {l}"),
        };
        if got != expected {
            wrong.push(format!("{label:>7} read as {got:?}: {text}"));
        }
        match (opts_out(expected), opts_out(got)) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            (false, false) => tn += 1,
        }
    }
    let precision = f64::from(tp) / f64::from((tp + fp).max(1));
    let recall = f64::from(tp) / f64::from((tp + fn_).max(1));
    println!(
        "revocation corpus: {} replies; opt-outs: precision {:.1}% recall {:.1}% ({tp} caught, {fn_} missed, {fp} false, {tn} right not to); exact readings {}/{}",
        corpus.len(),
        precision * 100.0,
        recall * 100.0,
        corpus.len() - wrong.len(),
        corpus.len()
    );
    assert!(wrong.is_empty(), "misread:\n{}", wrong.join("\n"));
    assert_eq!((fn_, fp), (0, 0));
}

/// The corpus's replies in Spanish: their opt-outs are confirmed in Spanish.
const SPANISH_REPLIES: &[&str] = &[
    "alto",
    "ALTO",
    "Basta",
    "no me envíen más mensajes",
    "No me envien mas mensajes por favor",
    "no me manden más textos",
    "dejen de enviarme mensajes",
    "Dejen de mandar mensajes",
    "quiero darme de baja",
    "denme de baja",
    "eliminar mi número",
    "número equivocado",
    "no quiero mas mensajes",
    "cancelar",
    "parar",
    "no me interesa",
    "ya lo vendí",
    "ya no tengo ese carro",
    "la camioneta ya está lista?",
    "¿A qué hora cierran?",
    "gracias",
];

#[test]
fn the_spanish_replies_and_only_they_read_as_spanish() {
    for (_, text) in corpus() {
        assert_eq!(spanish(text), SPANISH_REPLIES.contains(&text), "{text:?}");
    }
}
