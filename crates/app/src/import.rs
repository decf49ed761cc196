//! `shouzhen import FILE --hospital CODE` (or `--dispatch CODE`, a 120 centre's call log, or
//! `--community CODE`, a community desk's transport log):
//! NDJSON bulk load through the same validation, storage and rules as the API, one transaction
//! per batch, with a progress bar.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use chrono::{NaiveDate, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use crate::engine::Engine;
use crate::intake::{self, Poster, Rejection, Touched};
use crate::keys::Keys;
use crate::mail::Notifier;
use shouzhen_domain::field::FieldError;
use shouzhen_domain::policy::Policy;
use shouzhen_store::db::{DbConn, Pool};

/// What an import needs of the running service.
pub struct Importer<'a> {
    pub pool: &'a Pool,
    pub keys: &'a Keys,
    pub policy: &'a Policy,
    pub notifier: &'a Notifier,
}

/// Whose log a file is.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Hospital(&'a str),
    Dispatch(&'a str),
    Community(&'a str),
}

/// One line, validated as its source's event. A file holds one source's lines, so the
/// variants are never mixed in one batch and their sizes need not match.
#[allow(clippy::large_enum_variant)]
enum Item {
    Intake(Result<shouzhen_domain::event::IntakeEvent, Rejection>),
    Dispatch(Result<shouzhen_domain::dispatch::DispatchEvent, Rejection>),
    Transport(Result<shouzhen_domain::transport::TransportEvent, Rejection>),
}

/// Loads the file; the error is the message for the user (also when events were rejected).
pub fn run(
    state: &Importer<'_>,
    file: &Path,
    source: Source<'_>,
    batch: usize,
) -> Result<(), String> {
    let mut conn = state.pool.get().map_err(|e| format!("database: {e}"))?;
    let (kind, what, code) = match source {
        Source::Hospital(c) => (
            shouzhen_store::hospitals::HOSPITAL,
            "--hospital: no hospital",
            c,
        ),
        Source::Dispatch(c) => (
            shouzhen_store::hospitals::DISPATCH,
            "--dispatch: no dispatch centre",
            c,
        ),
        Source::Community(c) => (
            shouzhen_store::hospitals::COMMUNITY,
            "--community: no community desk",
            c,
        ),
    };
    let h = shouzhen_store::hospitals::source_by_code(&mut conn, kind, code)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{what} with code {code}"))?;
    // The hospitals a centre's ambulances may reach, a desk's residents be taken to, or a
    // closure's patients be diverted to.
    let hospitals = intake::reachable_hospitals(&mut conn).map_err(|e| e.to_string())?;
    let poster = Poster {
        hospital_id: h.id,
        code: h.code,
        jurisdiction: h.jurisdiction,
    };
    let f = File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(size);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let reader = BufReader::new(f);
    let mut tally = Tally::default();
    let mut pending: Vec<Pending> = Vec::new();
    let now = Utc::now();
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| format!("{}: line {}: {e}", file.display(), n + 1))?;
        bar.inc(line.len() as u64 + 1);
        if line.trim().is_empty() {
            continue;
        }
        let index = pending.len();
        let item = match (serde_json::from_str::<serde_json::Value>(&line), source) {
            (Ok(v), Source::Hospital(_)) => {
                Item::Intake(intake::validate(index, v, now, &hospitals))
            }
            (Ok(v), Source::Dispatch(_)) => {
                Item::Dispatch(intake::validate_dispatch(index, v, now, &hospitals))
            }
            (Ok(v), Source::Community(_)) => {
                Item::Transport(intake::validate_transport(index, v, now, &hospitals))
            }
            (Err(e), _) => {
                let bad = Rejection::new(
                    index,
                    None,
                    vec![FieldError::new("line", format!("is not valid JSON: {e}"))],
                );
                match source {
                    Source::Hospital(_) => Item::Intake(Err(bad)),
                    Source::Dispatch(_) => Item::Dispatch(Err(bad)),
                    Source::Community(_) => Item::Transport(Err(bad)),
                }
            }
        };
        pending.push((n + 1, item));
        if pending.len() >= batch {
            flush(&mut conn, state, &poster, &mut pending, &mut tally)?;
            bar.set_message(format!(
                "{} stored, {} duplicates, {} rejected",
                tally.accepted,
                tally.duplicates,
                tally.rejected.len()
            ));
        }
    }
    flush(&mut conn, state, &poster, &mut pending, &mut tally)?;
    bar.finish_and_clear();
    let Tally {
        accepted,
        duplicates,
        rejected,
        touched,
    } = tally;
    let opened = judge(&mut conn, state, touched)?;
    println!(
        "{}: {accepted} events stored, {duplicates} duplicates, {} rejected; {opened} cases opened",
        file.display(),
        rejected.len()
    );
    for (line, error) in rejected.iter().take(20) {
        println!("  line {line}: {error}");
    }
    if rejected.len() > 20 {
        println!("  ... and {} more", rejected.len() - 20);
    }
    if rejected.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} events were rejected (the others are stored)",
            rejected.len()
        ))
    }
}

type Pending = (usize, Item);

#[derive(Default)]
struct Tally {
    accepted: usize,
    duplicates: usize,
    /// (line, error)
    rejected: Vec<(usize, String)>,
    touched: Touched,
}

/// Ingests the pending lines in one transaction.
fn flush(
    conn: &mut DbConn,
    state: &Importer<'_>,
    poster: &Poster,
    pending: &mut Vec<Pending>,
    tally: &mut Tally,
) -> Result<(), String> {
    if pending.is_empty() {
        return Ok(());
    }
    let lines: Vec<usize> = pending.iter().map(|(l, _)| *l).collect();
    let (mut intake_items, mut dispatch_items, mut transport_items) =
        (Vec::new(), Vec::new(), Vec::new());
    for (_, item) in pending.drain(..) {
        match item {
            Item::Intake(i) => intake_items.push(i),
            Item::Dispatch(d) => dispatch_items.push(d),
            Item::Transport(t) => transport_items.push(t),
        }
    }
    // A file is one source's: two of the three are empty.
    let batch = if !dispatch_items.is_empty() {
        intake::Batch::prepare_dispatch(state.keys, poster.clone(), dispatch_items)
    } else if !transport_items.is_empty() {
        intake::Batch::prepare_transport(state.keys, poster.clone(), transport_items)
    } else {
        intake::Batch::prepare(state.keys, poster.clone(), intake_items)
    }
    .map_err(|e| format!("database: {e}"))?;
    let engine = Engine::new(state.policy, state.notifier, shouzhen_store::now());
    let (report, touched) =
        intake::store_only(conn, &engine, &batch).map_err(|e| format!("database: {e}"))?;
    tally.touched.extend(touched);
    tally.accepted += report.accepted;
    tally.duplicates += report.duplicates;
    for r in report.rejected {
        tally
            .rejected
            .push((lines.get(r.index).copied().unwrap_or(0), r.error));
    }
    Ok(())
}

/// Judges what the file touched, a few hundred patients per transaction. Returns the number of
/// cases opened.
fn judge(conn: &mut DbConn, state: &Importer<'_>, touched: Touched) -> Result<usize, String> {
    let engine = Engine::new(state.policy, state.notifier, shouzhen_store::now());
    let mut touched = touched;
    let mut opened = 0;
    // A centre's calls first, a few hundred per transaction: they name the days and the
    // patients to judge after them.
    let calls: Vec<(i64, String)> = std::mem::take(&mut touched.calls).into_iter().collect();
    for chunk in calls.chunks(500) {
        let part = chunk.iter().cloned().collect();
        let found = shouzhen_store::db::write_tx(conn, |c| engine.calls(c, &part))
            .map_err(|e| format!("database: {e}"))?;
        opened += found.effects.opened.len();
        touched.days.extend(found.days);
        for (key, at) in found.patients {
            touched.add_patient(key, at);
        }
    }
    let patients: Vec<String> = touched.patients.into_iter().collect();
    let bar = ProgressBar::new(patients.len() as u64);
    bar.set_message("judging");
    for chunk in patients.chunks(500) {
        let part = Touched {
            patients: chunk.iter().cloned().collect(),
            span: touched.span,
            ..Default::default()
        };
        opened += shouzhen_store::db::write_tx(conn, |c| intake::evaluate(c, &engine, &part))
            .map_err(|e| format!("database: {e}"))?
            .opened
            .len();
        bar.inc(chunk.len() as u64);
    }
    let closures = Touched {
        closures: touched.closures,
        ..Default::default()
    };
    opened += shouzhen_store::db::write_tx(conn, |c| intake::evaluate(c, &engine, &closures))
        .map_err(|e| format!("database: {e}"))?
        .opened
        .len();
    let days: Vec<(i64, NaiveDate)> = touched.days.into_iter().collect();
    for chunk in days.chunks(50) {
        let part = chunk.iter().copied().collect();
        opened += shouzhen_store::db::write_tx(conn, |c| engine.centre_days(c, &part))
            .map_err(|e| format!("database: {e}"))?
            .opened
            .len();
    }
    let requests: Vec<_> = touched.requests.into_iter().collect();
    for chunk in requests.chunks(500) {
        let part = chunk.iter().cloned().collect();
        opened += shouzhen_store::db::write_tx(conn, |c| engine.transport(c, &part))
            .map_err(|e| format!("database: {e}"))?
            .opened
            .len();
    }
    bar.finish_and_clear();
    Ok(opened)
}
