//! `shouzhen complaints import FILE --format csv|ndjson`: work orders from a 12345/12320
//! platform, each through the operators' validation, sealing and rules (`validate` and `file`
//! with `by_operator`), one transaction each, with a progress bar. The work-order number
//! (`external_ref`, per `channel`) makes a re-run safe: a row filed before files nothing.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use super::{ComplaintInput, file, filed_before, validate};
use crate::engine::Engine;
use crate::error::AppError;
use crate::keys::Keys;
use crate::mail::Notifier;
use shouzhen_domain::field::{FieldError, describe};
use shouzhen_domain::policy::Policy;
use shouzhen_store::db::{DbConn, Pool};

/// The columns of a row (CSV header names, NDJSON keys). `hospital` is a registered hospital's
/// code or name (any other name files the complaint about a hospital not registered).
pub const COLUMNS: &[&str] = &[
    "hospital",
    "category",
    "occurred_at",
    "description",
    "contact_phone",
    "contact_name",
    "external_ref",
    "channel",
    "callback_consent",
];

/// The columns a file must have.
const REQUIRED: &[&str] = &[
    "hospital",
    "category",
    "occurred_at",
    "description",
    "external_ref",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

impl Format {
    /// `--format`, or else the file's extension (`.csv`; `.ndjson`, `.jsonl`, `.json`).
    pub fn choose(format: Option<&str>, file: &Path) -> Result<Self, String> {
        let ext = file
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match (format, ext.as_deref()) {
            (Some("csv"), _) | (None, Some("csv")) => Ok(Self::Csv),
            (Some("ndjson"), _) | (None, Some("ndjson" | "jsonl" | "json")) => Ok(Self::Ndjson),
            (Some(other), _) => Err(format!("--format: `{other}` is not csv or ndjson")),
            (None, _) => Err(format!(
                "{}: say --format csv or --format ndjson",
                file.display()
            )),
        }
    }
}

/// What an import needs of the running service.
pub struct Importer<'a> {
    pub pool: &'a Pool,
    pub keys: &'a Keys,
    pub policy: &'a Policy,
    pub notifier: &'a Notifier,
}

/// What a file gave.
#[derive(Debug, Default)]
pub struct Summary {
    pub filed: usize,
    /// Work orders filed before (this run or an earlier one)
    pub already: usize,
    /// Rows naming a hospital that is not registered (filed with its name)
    pub unregistered: usize,
    pub cases_opened: usize,
    /// (line, error naming the field)
    pub rejected: Vec<(u64, String)>,
}

/// A row as read: column → text (absent or empty: not given).
type Fields = HashMap<String, String>;

/// Loads the file, row by row; the error is the message for the user when the file cannot be
/// read as a whole (a bad header, the database gone). Bad rows are in the summary.
pub fn run(state: &Importer<'_>, path: &Path, format: Format) -> Result<Summary, String> {
    let mut conn = state.pool.get().map_err(|e| format!("database: {e}"))?;
    let names = hospital_codes(&mut conn)?;
    let f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let bar = ProgressBar::new(f.metadata().map(|m| m.len()).unwrap_or(0));
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut summary = Summary::default();
    let mut load =
        |line: u64, row: Result<Fields, Vec<FieldError>>, at: u64| -> Result<(), String> {
            bar.set_position(at);
            let result = row.and_then(|fields| {
                let (input, unregistered, errors) = to_input(&fields, &names);
                match import_one(&mut conn, state, &input, errors)? {
                    None => summary.already += 1,
                    Some(opened) => {
                        summary.filed += 1;
                        summary.cases_opened += opened;
                        summary.unregistered += usize::from(unregistered);
                    }
                }
                Ok(())
            });
            match result {
                Ok(()) => {}
                Err(errors) if errors.iter().any(|e| e.field == "database") => {
                    return Err(format!("line {line}: {}", describe(&errors)));
                }
                Err(errors) => summary.rejected.push((line, describe(&errors))),
            }
            bar.set_message(format!(
                "{} filed, {} filed before, {} rejected",
                summary.filed,
                summary.already,
                summary.rejected.len()
            ));
            Ok(())
        };
    match format {
        Format::Csv => {
            // Read whole (a platform's export is a few megabytes), so that a row's line is
            // counted in the file's lines, line breaks inside quoted cells included.
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut BufReader::new(f), &mut bytes)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let mut lines = LineCounter::default();
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .trim(csv::Trim::All)
                .from_reader(bytes.as_slice());
            let headers: Vec<String> = reader
                .headers()
                .map_err(|e| format!("{}: line 1: {e}", path.display()))?
                .iter()
                .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
                .collect();
            check_columns(&headers).map_err(|e| format!("{}: line 1: {e}", path.display()))?;
            for record in reader.records() {
                let (line, at, row) = match record {
                    Ok(r) => {
                        let pos = r.position().cloned().unwrap_or_else(csv::Position::new);
                        let row = if r.len() != headers.len() {
                            Err(vec![FieldError::new(
                                "line",
                                format!("has {} cells, the header {}", r.len(), headers.len()),
                            )])
                        } else {
                            Ok(headers
                                .iter()
                                .zip(r.iter())
                                .filter(|(_, v)| !v.is_empty())
                                .map(|(h, v)| (h.clone(), v.to_string()))
                                .collect())
                        };
                        (lines.at(&bytes, pos.byte()), pos.byte(), row)
                    }
                    Err(e) => {
                        let pos = e.position().cloned().unwrap_or_else(csv::Position::new);
                        let row = Err(vec![FieldError::new("line", format!("is not CSV: {e}"))]);
                        (lines.at(&bytes, pos.byte()), pos.byte(), row)
                    }
                };
                load(line, row, at)?;
            }
        }
        Format::Ndjson => {
            let mut at = 0u64;
            for (n, line) in BufReader::new(f).lines().enumerate() {
                let number = n as u64 + 1;
                let line = line.map_err(|e| format!("{}: line {number}: {e}", path.display()))?;
                at += line.len() as u64 + 1;
                if line.trim().is_empty() {
                    continue;
                }
                load(number, from_json(&line), at)?;
            }
        }
    }
    bar.finish_and_clear();
    Ok(summary)
}

/// The line a record starting at a byte offset is on, counted forward from the last asked.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    line: u64,
}

impl LineCounter {
    fn at(&mut self, bytes: &[u8], offset: u64) -> u64 {
        let mut offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        // The reader places a record after a CR at the LF that follows it: the record's own
        // line starts after the line breaks.
        while offset < bytes.len() && matches!(bytes[offset], b'\r' | b'\n') {
            offset += 1;
        }
        if offset >= self.offset {
            let more = bytes[self.offset..offset]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            self.line += more as u64;
            self.offset = offset;
        }
        self.line + 1
    }
}

/// The registered hospitals by code and by name, each to its code.
fn hospital_codes(conn: &mut DbConn) -> Result<HashMap<String, String>, String> {
    let all = shouzhen_store::hospitals::all(conn).map_err(|e| format!("database: {e}"))?;
    let mut names = HashMap::new();
    for h in all {
        names.insert(h.name.clone(), h.code.clone());
        names.insert(h.code.clone(), h.code);
    }
    Ok(names)
}

fn check_columns(headers: &[String]) -> Result<(), String> {
    if let Some(h) = headers.iter().find(|h| !COLUMNS.contains(&h.as_str())) {
        return Err(format!(
            "`{h}` is not a column (columns: {})",
            COLUMNS.join(", ")
        ));
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| !headers.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        return Err(format!("the header lacks {}", missing.join(", ")));
    }
    Ok(())
}

/// One NDJSON line as fields: an object of the columns, with text (or, for
/// `callback_consent`, boolean; for `external_ref`, number) values.
fn from_json(line: &str) -> Result<Fields, Vec<FieldError>> {
    let value: Value = serde_json::from_str(line)
        .map_err(|e| vec![FieldError::new("line", format!("is not valid JSON: {e}"))])?;
    let Value::Object(map) = value else {
        return Err(vec![FieldError::new("line", "is not a JSON object")]);
    };
    let mut fields = Fields::new();
    let mut errors = Vec::new();
    for (k, v) in map {
        if !COLUMNS.contains(&k.as_str()) {
            errors.push(FieldError::new(k, "is not a known field"));
            continue;
        }
        let text = match v {
            Value::Null => continue,
            Value::String(s) => s.trim().to_string(),
            Value::Bool(b) if k == "callback_consent" => b.to_string(),
            Value::Number(n) if k == "external_ref" => n.to_string(),
            _ => {
                errors.push(FieldError::new(k, "must be text"));
                continue;
            }
        };
        if !text.is_empty() {
            fields.insert(k, text);
        }
    }
    if errors.is_empty() {
        Ok(fields)
    } else {
        Err(errors)
    }
}

/// The complaint a row files, whether it names a hospital that is not registered, and what
/// is wrong with the fields only an import has (the rest is `validate`'s).
fn to_input(
    fields: &Fields,
    hospitals: &HashMap<String, String>,
) -> (ComplaintInput, bool, Vec<FieldError>) {
    let get = |k: &str| fields.get(k).cloned();
    let mut errors = Vec::new();
    let hospital = get("hospital");
    let code = hospital.as_ref().and_then(|h| hospitals.get(h).cloned());
    if get("external_ref").is_none() {
        errors.push(FieldError::new(
            "external_ref",
            "is required in an import (it makes a re-run safe)",
        ));
    }
    let callback_consent = match get("callback_consent").as_deref() {
        None => None,
        Some("true" | "1" | "yes" | "是" | "同意") => Some(true),
        Some("false" | "0" | "no" | "否" | "不同意") => Some(false),
        Some(_) => {
            errors.push(FieldError::new(
                "callback_consent",
                "must be true or false (1/0, 是/否)",
            ));
            None
        }
    };
    let unregistered = code.is_none() && hospital.is_some();
    let input = ComplaintInput {
        hospital_name: if code.is_none() { hospital } else { None },
        hospital: code,
        category: get("category"),
        occurred_at: get("occurred_at"),
        description: get("description"),
        contact_name: get("contact_name"),
        contact_phone: get("contact_phone"),
        channel: get("channel"),
        external_ref: get("external_ref"),
        callback_consent,
    };
    (input, unregistered, errors)
}

/// Checks and files one row in its own transaction: the cases it opened, or `None` when its
/// work order was filed before. `errors`: what the import found wrong already.
fn import_one(
    conn: &mut DbConn,
    state: &Importer<'_>,
    input: &ComplaintInput,
    mut errors: Vec<FieldError>,
) -> Result<Option<usize>, Vec<FieldError>> {
    let now = Utc::now();
    let valid = match validate(conn, input, now, true) {
        Ok(valid) => Some(valid),
        Err(AppError::BadRequest { errors: more, .. }) => {
            // The file has one column for a hospital, registered or not.
            errors.extend(more.into_iter().map(|mut e| {
                if e.field == "hospital_name" {
                    e.field = "hospital".into();
                }
                e
            }));
            None
        }
        Err(other) => return Err(database(other)),
    };
    let valid = match valid {
        Some(v) if errors.is_empty() => v,
        _ => return Err(errors),
    };
    let before = filed_before(conn, &valid).map_err(database)?;
    if before.is_some() {
        return Ok(None);
    }
    let engine = Engine::new(
        state.policy,
        state.notifier,
        shouzhen_domain::time::to_micros(now.naive_utc()),
    );
    let (_, effects) = file(conn, state.keys, &engine, valid, "zh").map_err(database)?;
    Ok(Some(effects.opened.len()))
}

/// A database failure, which stops the import (the rows before it are loaded).
fn database(e: impl std::fmt::Display) -> Vec<FieldError> {
    vec![FieldError::new("database", e.to_string())]
}
