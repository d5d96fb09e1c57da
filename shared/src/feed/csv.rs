//! The CSV a DMS exports, as `custops import` (section 12) and the feed
//! (section 13) read it: a header row (line 1; names in any case), one row
//! a line, an empty cell absent, each row reported by its line in the file
//! whatever its line ends (spreadsheets write CRLF), read as a stream.

use std::collections::HashMap;
use std::io::Read;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};

use crate::store::StoreConfig;

/// How a row's reason starts when the file itself could not be read further.
pub const UNREADABLE: &str = "unreadable";

/// One row of a CSV: its line in the file, and its cells by lower-case
/// column name, or why it is not a row.
pub type Row = (usize, Result<Cells, String>);

/// The rows of a CSV with a header: the header must name every one of
/// `required` and nothing outside `columns` (lower case).
pub fn rows<R: Read + 'static>(
    reader: R,
    columns: &'static [&'static str],
    required: &[&str],
) -> Result<impl Iterator<Item = Row>, String> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(CrlfAsLf::new(reader));
    let header: Vec<String> = csv
        .headers()
        .map_err(|e| format!("the CSV's header (line 1) cannot be read: {e}"))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    for need in required {
        if !header.iter().any(|h| h == need) {
            return Err(format!("the CSV's header (line 1) has no {need:?} column"));
        }
    }
    if let Some(unknown) = header.iter().find(|h| !columns.contains(&h.as_str())) {
        return Err(format!("the CSV's header (line 1) names an unknown column {unknown:?}"));
    }
    Ok(csv.into_records().map(move |record| match record {
        Ok(r) => {
            let line = r.position().map_or(0, |p| p.line() as usize);
            let cells = header.iter().cloned().zip(r.iter().map(str::to_owned)).collect();
            (line, Ok(Cells(cells)))
        }
        // The bytes stopped coming (a network read): not the row's fault.
        Err(e) if e.is_io_error() => (e.position().map_or(0, |p| p.line() as usize), Err(format!("{UNREADABLE}: {e}"))),
        Err(e) => (e.position().map_or(0, |p| p.line() as usize), Err(format!("not a CSV row: {e}"))),
    }))
}

/// A row's cells by lower-case column name.
#[derive(Debug, Clone, Default)]
pub struct Cells(pub HashMap<String, String>);

impl Cells {
    /// A cell's text, if not empty.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.0.get(column).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// A cell that must be there.
    pub fn need(&self, column: &str) -> Result<&str, String> {
        self.get(column).ok_or_else(|| format!("no {column}"))
    }

    /// A `|`-separated list (empty: none).
    pub fn list(&self, column: &str) -> Vec<String> {
        self.get(column)
            .map(|v| v.split('|').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// A time: RFC 3339, or `YYYY-MM-DD` (noon at the store: a day's event without its hour).
    pub fn time(&self, column: &str, store: &StoreConfig) -> Result<Option<DateTime<Utc>>, String> {
        let Some(text) = self.get(column) else { return Ok(None) };
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Ok(Some(t.with_timezone(&Utc)));
        }
        let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| format!("{column} {text:?} is neither RFC 3339 nor YYYY-MM-DD"))?;
        day.and_hms_opt(12, 0, 0)
            .and_then(|t| store.timezone.from_local_datetime(&t).earliest())
            .map(|t| Some(t.with_timezone(&Utc)))
            .ok_or_else(|| format!("{column} {text:?} is not a time at the store"))
    }

    /// A number of a type, if there.
    pub fn number<T: std::str::FromStr>(&self, column: &str) -> Result<Option<T>, String> {
        self.get(column).map(|v| v.parse().map_err(|_| format!("{column} {v:?} is not a number"))).transpose()
    }

    /// The customer of the row (section 3): `dms_id`, `first_name`,
    /// `last_name`, `phone`, `email`, `marketing_consent`.
    pub fn customer(&self) -> Result<Value, String> {
        let mut customer = json!({
            "dms_id": self.need("dms_id")?, "first_name": self.get("first_name").unwrap_or(""),
            "last_name": self.get("last_name").unwrap_or(""), "phone": self.need("phone")?,
        });
        if let Some(e) = self.get("email") {
            customer["email"] = json!(e);
        }
        if let Some(c) = self.get("marketing_consent") {
            customer["marketing_consent"] = json!(consent_of(c)?);
        }
        Ok(customer)
    }

    /// The vehicle of the row: `vin`, `year`, `make`, `model`.
    pub fn vehicle(&self) -> Result<Value, String> {
        let year: u16 = match self.get("year") {
            Some(y) => y.parse().map_err(|_| format!("year {y:?} is not a year"))?,
            None => 0,
        };
        Ok(json!({"vin": self.get("vin").unwrap_or(""), "year": year, "make": self.get("make").unwrap_or(""),
                  "model": self.get("model").unwrap_or("")}))
    }

    /// The advisor (or, on a deal, the salesperson): `advisor_id`, `advisor_name`.
    pub fn person(&self) -> Value {
        json!({"id": self.get("advisor_id").unwrap_or(""), "name": self.get("advisor_name").unwrap_or("")})
    }

    /// The `declined` lines, `op_code:description:estimate_cents`, `|`-separated.
    pub fn declined(&self) -> Result<Vec<Value>, String> {
        let mut declined = Vec::new();
        for (i, line) in self.list("declined").iter().enumerate() {
            let mut parts = line.splitn(3, ':');
            let (Some(op), Some(description), Some(cents)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(format!("declined line {} is not op_code:description:estimate_cents", i + 1));
            };
            let cents: i64 = cents
                .trim()
                .parse()
                .map_err(|_| format!("declined line {}: estimate {cents:?} is not cents", i + 1))?;
            declined.push(json!({"line_id": format!("{}-{}", op.trim(), i + 1), "op_code": op.trim(),
                                 "description": description.trim(), "estimate_cents": cents}));
        }
        Ok(declined)
    }
}

/// Section 12's columns, lower case, and what `$extra` adds to them.
macro_rules! section_12_columns {
    ($($extra:literal),*) => {
        &[
            "kind", "id", "at", "dms_id", "first_name", "last_name", "phone", "email", "marketing_consent",
            "vin", "year", "make", "model", "advisor_id", "advisor_name", "performed", "declined", $($extra),*
        ]
    };
}

/// Section 12's columns (`custops import`).
pub const IMPORT_COLUMNS: &[&str] = section_12_columns!();

/// Section 13's columns: section 12's and what a snapshot adds.
pub const FEED_COLUMNS: &[&str] = section_12_columns!(
    "status",
    "as_of",
    "eta",
    "opened_at",
    "mileage",
    "op_codes",
    "purchase_type",
    "term_months",
    "first_payment_on",
    "co_buyer_first_name",
    "co_buyer_last_name",
    "co_buyer_phone"
);

/// The columns a feed CSV must have.
pub const FEED_REQUIRED: &[&str] = &["kind", "id", "status", "dms_id", "phone"];

impl Cells {
    /// A feed CSV row as the JSON snapshot it stands for (section 13), of
    /// `store`: `kind` `repair_order`, `appointment` or `deal`; `id` its RO
    /// number, appointment id or deal id; `at` its close, appointment or
    /// delivery; a repair order's lines its `performed` (completed) and
    /// `declined` ones.
    pub fn snapshot(&self, store: &StoreConfig) -> Result<Value, String> {
        let id = self.need("id")?;
        let status = self.need("status")?;
        let kind = self.need("kind")?;
        let at = self.time("at", store)?;
        let mut snapshot = json!({"kind": kind, "store_id": store.store_id, "status": status,
                                  "customer": self.customer()?});
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                snapshot[k] = v;
            }
        };
        put("as_of", self.time("as_of", store)?.map(|t| json!(t)));
        let advisor = self.get("advisor_id").or(self.get("advisor_name")).map(|_| self.person());
        match kind {
            "repair_order" => {
                let mut lines: Vec<Value> = self
                    .list("performed")
                    .iter()
                    .enumerate()
                    .map(|(i, op)| json!({"line_id": format!("{op}-p{}", i + 1), "op_code": op, "status": "completed"}))
                    .collect();
                for mut d in self.declined()? {
                    d["status"] = json!("declined");
                    lines.push(d);
                }
                put("ro_number", Some(json!(id)));
                put("closed_at", at.map(|t| json!(t)));
                put("eta", self.get("eta").map(|e| json!(e)));
                put("opened_at", self.time("opened_at", store)?.map(|t| json!(t)));
                put("mileage", self.number::<u32>("mileage")?.map(|m| json!(m)));
                put("vehicle", Some(self.vehicle()?));
                put("advisor", Some(self.person()));
                put("lines", Some(json!(lines)));
            }
            "appointment" => {
                put("appointment_id", Some(json!(id)));
                put("at", Some(json!(at.ok_or("no at (the appointment's time)")?)));
                put("vehicle", self.get("vin").map(|_| self.vehicle()).transpose()?);
                let ops = self.list("op_codes");
                put("op_codes", (!ops.is_empty()).then(|| json!(ops)));
                put("advisor", advisor);
            }
            "deal" => {
                put("deal_id", Some(json!(id)));
                put("delivered_at", at.map(|t| json!(t)));
                put("vehicle", Some(self.vehicle()?));
                put("salesperson", Some(self.person()));
                put("mileage", self.number::<u32>("mileage")?.map(|m| json!(m)));
                put("purchase_type", self.get("purchase_type").map(|p| json!(p.to_ascii_lowercase())));
                put("term_months", self.number::<u16>("term_months")?.map(|m| json!(m)));
                put("first_payment_on", self.get("first_payment_on").map(|d| json!(d)));
                if let Some(phone) = self.get("co_buyer_phone") {
                    put(
                        "co_buyer",
                        Some(json!({"dms_id": format!("{id}-co-buyer"),
                                    "first_name": self.get("co_buyer_first_name").unwrap_or(""),
                                    "last_name": self.get("co_buyer_last_name").unwrap_or(""), "phone": phone})),
                    );
                }
            }
            other => {
                return Err(format!(
                    "kind {:?} is not repair_order, appointment or deal",
                    other.chars().take(40).collect::<String>()
                ))
            }
        }
        Ok(snapshot)
    }
}

/// `true`/`false`/`yes`/`no`/`1`/`0`, in any case.
pub fn consent_of(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        other => Err(format!("marketing_consent {other:?} is not true/false/yes/no/1/0")),
    }
}

/// Reads CRLF line ends as LF. The CSV reader ends a record at the `\r` and
/// counts the line at the `\n` it reads with the next record, so without
/// this every row of a spreadsheet's CSV after the first would be reported
/// one line early.
pub struct CrlfAsLf<R> {
    inner: R,
    /// A `\r` read last, not yet known to be before a `\n`.
    held: bool,
    /// A byte read for a one-byte read that had no room for it.
    spill: Option<u8>,
}

impl<R: Read> CrlfAsLf<R> {
    pub fn new(inner: R) -> Self {
        Self { inner, held: false, spill: None }
    }
}

impl<R: Read> Read for CrlfAsLf<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some(b) = self.spill.take() {
            buf[0] = b;
            return Ok(1);
        }
        if buf.len() == 1 {
            // Room for a held `\r` and what follows it is needed.
            let mut two = [0u8; 2];
            let n = self.read(&mut two)?;
            if n == 2 {
                self.spill = Some(two[1]);
            }
            buf[0] = two[0];
            return Ok(n.min(1));
        }
        loop {
            let start = usize::from(self.held);
            if self.held {
                buf[0] = b'\r';
            }
            let n = self.inner.read(&mut buf[start..])?;
            if n == 0 {
                // The end: a held `\r` is itself.
                let out = usize::from(std::mem::take(&mut self.held));
                return Ok(out);
            }
            let end = start + n;
            let mut w = 0;
            for r in 0..end {
                let b = buf[r];
                if b == b'\r' && r + 1 < end && buf[r + 1] == b'\n' {
                    continue;
                }
                buf[w] = b;
                w += 1;
            }
            // A `\r` at the end may be the first half of a CRLF: hold it.
            self.held = w > 0 && buf[w - 1] == b'\r';
            if self.held {
                w -= 1;
            }
            if w > 0 {
                return Ok(w);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[&str] = &["kind", "id", "phone"];

    fn lines_of(text: &'static str) -> Vec<(usize, Option<String>)> {
        rows(std::io::Cursor::new(text.as_bytes()), COLUMNS, &["id"])
            .unwrap()
            .map(|(line, r)| (line, r.ok().and_then(|c| c.get("id").map(str::to_owned))))
            .collect()
    }

    #[test]
    fn a_row_is_reported_by_its_line_in_the_file_with_lf_or_crlf() {
        let lf = "kind,ID,phone\nro,1,5125550142\nro,2,5125550143\n\"ro\",\"3\",\"5125550144\"\n";
        let crlf = "kind,ID,phone\r\nro,1,5125550142\r\nro,2,5125550143\r\n\"ro\",\"3\",\"5125550144\"\r\n";
        let want = vec![(2, Some("1".to_owned())), (3, Some("2".to_owned())), (4, Some("3".to_owned()))];
        assert_eq!(lines_of(lf), want);
        assert_eq!(lines_of(crlf), want);
    }

    #[test]
    fn crlf_is_read_as_lf_across_reads_of_any_size() {
        struct OneByte(std::io::Cursor<Vec<u8>>);
        impl Read for OneByte {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(1);
                self.0.read(&mut buf[..n])
            }
        }
        let text = b"a\r\nb\rc\r\n\r\nd\r".to_vec();
        let mut out = String::new();
        CrlfAsLf::new(OneByte(std::io::Cursor::new(text.clone()))).read_to_string(&mut out).unwrap();
        assert_eq!(out, "a\nb\rc\n\nd\r");
        let mut whole = String::new();
        CrlfAsLf::new(std::io::Cursor::new(text.clone())).read_to_string(&mut whole).unwrap();
        assert_eq!(whole, out);
        // Read a byte at a time (the reader's buffer one byte long).
        #[allow(clippy::unbuffered_bytes)]
        let bytes: Vec<u8> = CrlfAsLf::new(std::io::Cursor::new(text)).bytes().map(Result::unwrap).collect();
        assert_eq!(String::from_utf8(bytes).unwrap(), out);
    }

    #[test]
    fn a_header_without_a_required_column_or_with_an_unknown_one_is_refused() {
        let err = |text: &'static str| rows(std::io::Cursor::new(text.as_bytes()), COLUMNS, &["id"]).err().unwrap();
        assert!(err("kind,phone\nro,1\n").contains("\"id\""));
        assert!(err("kind,id,colour\nro,1,red\n").contains("colour"));
    }
}
