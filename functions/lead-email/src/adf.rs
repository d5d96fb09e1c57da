//! ADF 1.0 (Auto-lead Data Format) leads, as OEM sites and lead providers
//! mail them: the MIME message is read with `mail-parser` (any part whose
//! text holds an `<adf>` document: the body, an XML attachment, or a
//! forwarded message), the XML with `roxmltree`.
//!
//! What is read, as providers send it: `prospect/id` (and its `source`),
//! `requestdate`, the first `vehicle` (its `interest` and `status`
//! attributes, `year`, `make`, `model`, `vin`, `stock`), the contact's
//! names by part (`first`, `last`, or `full` split), every `phone` (the
//! first that is not a fax or pager, mobile first), `email`, `comments`
//! (CDATA or text), `vendor/vendorname` and `provider/name`. Every part but
//! the document itself is optional. The `<?adf version="1.0"?>` instruction
//! is not required, and element names are read in any case.

use chrono::{DateTime, Utc};
use roxmltree::{Document, Node, ParsingOptions};

/// One lead, as its ADF document says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lead {
    /// The provider's id of the lead.
    pub id: Option<String>,
    /// Whose id it is (the `source` attribute of `id`).
    pub source: Option<String>,
    pub requested_at: Option<DateTime<Utc>>,
    pub vehicle: Option<Interest>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The contact's numbers as written, the one to text first.
    pub phones: Vec<String>,
    pub email: Option<String>,
    pub comments: Option<String>,
    /// The dealer the lead was sent to, as the provider names it.
    pub vendor: Option<String>,
    /// Who sent it (the lead provider or OEM site).
    pub provider: Option<String>,
}

/// The vehicle a lead asks about.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interest {
    pub year: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub vin: Option<String>,
    pub stock: Option<String>,
    /// `buy`, `lease`, `sell`, `trade-in`, `test-drive`.
    pub interest: Option<String>,
    /// `new` or `used`.
    pub status: Option<String>,
}

impl Interest {
    /// "2026 Chevrolet Equinox" (what is known of it), or none.
    pub fn describe(&self) -> Option<String> {
        let words: Vec<&str> = [&self.year, &self.make, &self.model].into_iter().filter_map(|w| w.as_deref()).collect();
        (!words.is_empty()).then(|| words.join(" "))
    }
}

/// The longest text kept of any field (a comment can be long).
const MAX_FIELD: usize = 1000;

/// Why a mail holds no lead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdfError {
    #[error("the mail is not a MIME message")]
    NotMime,
    #[error("no part of the mail holds an ADF document (<adf>)")]
    NoAdf,
    #[error("the ADF document is not well-formed XML: {0}")]
    Xml(String),
    #[error("the ADF document has no prospect")]
    NoProspect,
}

/// The lead in the raw MIME message `raw` (or in the base64 of one: a
/// receipt rule whose SNS action encodes `Base64`).
pub fn from_mime(raw: &str) -> Result<Lead, AdfError> {
    let message = mail_parser::MessageParser::default().parse(raw.as_bytes()).ok_or(AdfError::NotMime)?;
    match find_adf(&message) {
        Some(document) => parse(&document),
        None => {
            use base64::Engine;
            let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
            let decoded = base64::engine::general_purpose::STANDARD.decode(compact).map_err(|_| AdfError::NoAdf)?;
            let message = mail_parser::MessageParser::default().parse(&decoded).ok_or(AdfError::NoAdf)?;
            parse(&find_adf(&message).ok_or(AdfError::NoAdf)?)
        }
    }
}

/// The ADF document in a message's parts (a forwarded message's too).
fn find_adf(message: &mail_parser::Message<'_>) -> Option<String> {
    for part in &message.parts {
        if let Some(nested) = part.message() {
            if let Some(found) = find_adf(nested) {
                return Some(found);
            }
            continue;
        }
        if let Some(doc) = part.text_contents().and_then(adf_document) {
            return Some(doc);
        }
    }
    None
}

/// The `<adf>...</adf>` element in `text`, from its opening tag to its end
/// (what comes before it, the XML declaration and the `<?adf?>`
/// instruction in whatever order and case, is left out).
fn adf_document(text: &str) -> Option<String> {
    // An HTML body may carry the document escaped (`&lt;adf&gt;`).
    let unescaped;
    let text = if !text.to_ascii_lowercase().contains("<adf") && text.to_ascii_lowercase().contains("&lt;adf") {
        unescaped = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&");
        unescaped.as_str()
    } else {
        text
    };
    let lower = text.to_ascii_lowercase();
    let start = lower
        .match_indices("<adf")
        .map(|(i, _)| i)
        .find(|i| lower[i + 4..].chars().next().is_some_and(|c| c == '>' || c.is_whitespace()))?;
    let end = lower[start..].find("</adf>").map(|e| start + e + "</adf>".len())?;
    Some(text[start..end].to_owned())
}

/// A child element of `node` named `name` (any case).
fn child<'a, 'i>(node: Node<'a, 'i>, name: &'a str) -> Option<Node<'a, 'i>> {
    children(node, name).next()
}

fn children<'a, 'i: 'a>(node: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| c.is_element() && c.tag_name().name().eq_ignore_ascii_case(name))
}

/// An attribute of `node` (any case).
fn attribute<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    node.attributes().find(|a| a.name().eq_ignore_ascii_case(name)).map(|a| a.value())
}

/// The text of an element (CDATA included), trimmed, none when empty.
fn text(node: Option<Node<'_, '_>>) -> Option<String> {
    let node = node?;
    let s: String = node.descendants().filter(Node::is_text).filter_map(|n| n.text()).collect();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (!s.is_empty()).then(|| s.chars().take(MAX_FIELD).collect())
}

/// The most XML nodes one lead may have: a real ADF lead has a few dozen,
/// a large one a few hundred.
pub const MAX_NODES: u32 = 10_000;

/// A document without its `<!DOCTYPE ...>`, when it has one with no
/// declarations in it (`<!DOCTYPE adf SYSTEM "adf.dtd">`, as some lead
/// providers write); `None` when it declares anything (`[...]`: entities,
/// the way to billion laughs and external reads), which is never read.
fn without_plain_doctype(document: &str) -> Option<String> {
    let start = document.find("<!DOCTYPE")?;
    let len = document[start..].find('>')? + 1;
    if document[start..start + len].contains('[') {
        return None;
    }
    Some(format!("{}{}", &document[..start], &document[start + len..]))
}

/// Reads an ADF document: no DTD is ever processed (a plain `<!DOCTYPE>`
/// line is passed over, one with declarations refused), and at most
/// [`MAX_NODES`] nodes are read.
pub fn parse(document: &str) -> Result<Lead, AdfError> {
    let options = || ParsingOptions { allow_dtd: false, nodes_limit: MAX_NODES, ..ParsingOptions::default() };
    let xml = |e: roxmltree::Error| AdfError::Xml(e.to_string());
    match Document::parse_with_options(document, options()) {
        Ok(doc) => lead_of(&doc),
        Err(roxmltree::Error::DtdDetected) => {
            let plain = without_plain_doctype(document)
                .ok_or_else(|| AdfError::Xml("a document type with declarations is not read".into()))?;
            lead_of(&Document::parse_with_options(&plain, options()).map_err(xml)?)
        }
        Err(e) => Err(xml(e)),
    }
}

/// The lead an ADF document holds.
fn lead_of(doc: &Document<'_>) -> Result<Lead, AdfError> {
    let prospect = child(doc.root_element(), "prospect").ok_or(AdfError::NoProspect)?;
    let id = child(prospect, "id");
    let mut lead = Lead {
        id: text(id),
        source: id.and_then(|i| attribute(i, "source")).map(str::to_owned),
        requested_at: text(child(prospect, "requestdate"))
            .and_then(|d| DateTime::parse_from_rfc3339(&d).ok())
            .map(|d| d.with_timezone(&Utc)),
        ..Lead::default()
    };
    if let Some(v) = child(prospect, "vehicle") {
        lead.vehicle = Some(Interest {
            year: text(child(v, "year")),
            make: text(child(v, "make")),
            model: text(child(v, "model")),
            vin: text(child(v, "vin")),
            stock: text(child(v, "stock")),
            interest: attribute(v, "interest").map(str::to_lowercase),
            status: attribute(v, "status").map(str::to_lowercase),
        });
    }
    if let Some(contact) = child(prospect, "customer").and_then(|c| child(c, "contact")) {
        let part = |p: &str| {
            text(children(contact, "name").find(|n| attribute(*n, "part").is_some_and(|a| a.eq_ignore_ascii_case(p))))
        };
        lead.first_name = part("first");
        lead.last_name = part("last");
        if lead.first_name.is_none() {
            // A full name (or a name without a part): its first word, and the rest.
            let full =
                part("full").or_else(|| text(children(contact, "name").find(|n| attribute(*n, "part").is_none())));
            if let Some(full) = full {
                let (first, rest) = full.split_once(' ').unwrap_or((&full, ""));
                lead.first_name = Some(first.to_owned());
                if lead.last_name.is_none() && !rest.is_empty() {
                    lead.last_name = Some(rest.to_owned());
                }
            }
        }
        let mut phones: Vec<(u8, String)> = children(contact, "phone")
            .filter_map(|p| {
                let kind = attribute(p, "type").unwrap_or("voice").to_ascii_lowercase();
                let rank = match kind.as_str() {
                    "fax" | "pager" => return None,
                    "cellphone" | "cell" | "mobile" => 0,
                    _ => 1,
                };
                text(Some(p)).map(|n| (rank, n))
            })
            .collect();
        phones.sort_by_key(|(rank, _)| *rank);
        lead.phones = phones.into_iter().map(|(_, n)| n).collect();
        lead.email = text(child(contact, "email")).map(|e| e.to_lowercase());
    }
    lead.comments = text(child(prospect, "customer").and_then(|c| child(c, "comments")));
    lead.vendor = text(child(prospect, "vendor").and_then(|v| child(v, "vendorname")));
    lead.provider = text(child(prospect, "provider").and_then(|p| child(p, "name")));
    Ok(lead)
}
