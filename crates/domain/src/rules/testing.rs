//! Builders for the rules' unit tests: events as the engine hands them over, times in China
//! time as the directives and the inspectors read them.

use chrono::{Duration, NaiveDateTime};

use super::{EventView, Outcome, PatientHistory, RuleId, Setting, Verdict};
use crate::dispatch::CallFacts;
use crate::event::{
    Acuity, ArrivedBy, Closure, ClosureScope, EventBody, EventKind, Group, Reason, TestInfo,
    TestKind, TestResult, TestStatus,
};
use crate::policy::Policy;

/// The episode gap the engine uses (72 hours).
pub const GAP: Duration = Duration::hours(72);

/// A China wall-clock time (`2022-07-01 10:00` or with seconds), as the stored UTC instant.
pub fn cn(s: &str) -> NaiveDateTime {
    let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .unwrap_or_else(|e| panic!("test time {s}: {e}"));
    crate::time::from_china(local)
}

/// The built-in defaults, for every jurisdiction and time.
pub fn defaults(rule: RuleId, _: &str, _: NaiveDateTime) -> Setting {
    Setting::default_for(rule)
}

/// The built-in defaults with the shipped packs (`policies/`) over them.
pub fn shipped() -> Policy {
    Policy::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../policies"
    )))
    .unwrap_or_else(|e| panic!("{e}"))
}

/// One stored event: row `row` at hospital `hospital` (code `H<n>`, jurisdiction `beijing`).
pub fn ev(row: i64, hospital: i64, kind: EventKind, at: &str) -> EventView {
    let occurred_at = cn(at);
    EventView {
        row_id: row,
        event_id: format!("e-{row}"),
        hospital_id: hospital,
        hospital_code: format!("H{hospital}"),
        hospital_name: format!("第{hospital}医院"),
        jurisdiction: "beijing".into(),
        designated_for: Vec::new(),
        occurred_at,
        body: EventBody {
            kind,
            occurred_at: occurred_at.and_utc(),
            acuity: None,
            arrived_by: None,
            origin_zone: None,
            health_code: None,
            test_status: None,
            symptoms: Vec::new(),
            groups: Vec::new(),
            reasons: Vec::new(),
            to_hospital: None,
            to_facility: None,
            approval: None,
            closure: None,
            test: None,
            department: None,
            note: None,
        },
    }
}

/// Setters for the fields a rule reads.
pub trait With: Sized {
    fn view(&mut self) -> &mut EventView;
    fn acuity(mut self, a: Acuity) -> Self {
        self.view().body.acuity = Some(a);
        self
    }
    fn by(mut self, b: ArrivedBy) -> Self {
        self.view().body.arrived_by = Some(b);
        self
    }
    fn reasons(mut self, r: &[Reason]) -> Self {
        self.view().body.reasons = r.to_vec();
        self
    }
    fn groups(mut self, g: &[Group]) -> Self {
        self.view().body.groups = g.to_vec();
        self
    }
    fn tested(mut self, s: TestStatus) -> Self {
        self.view().body.test_status = Some(s);
        self
    }
    fn antigen(mut self) -> Self {
        self.view().body.test = Some(TestInfo {
            kind: TestKind::Antigen,
            result: TestResult::Negative,
        });
        self
    }
    fn closure(mut self, id: &str, scope: ClosureScope) -> Self {
        self.view().body.closure = Some(Closure {
            id: id.into(),
            scope,
            department: None,
            kind: None,
            diverted_to: None,
        });
        self
    }
    fn in_jurisdiction(mut self, j: &str) -> Self {
        self.view().jurisdiction = j.into();
        self
    }
}

impl With for EventView {
    fn view(&mut self) -> &mut EventView {
        self
    }
}

pub fn history(events: Vec<EventView>) -> PatientHistory {
    PatientHistory::new(events)
}

/// The outcomes of `rule` among `verdicts`, in order.
pub fn outcomes(verdicts: &[Verdict], rule: RuleId) -> Vec<Outcome> {
    verdicts
        .iter()
        .filter(|v| v.rule == rule)
        .map(|v| v.outcome.clone())
        .collect()
}

/// Whether an outcome is a violation (with its evidence).
pub fn violation(o: &Outcome) -> Option<Vec<i64>> {
    match o {
        Outcome::Violation(f) => Some(f.evidence.clone()),
        _ => None,
    }
}

/// Call `i` of 2022-07-01 (China time), its events as (kind, seconds after 10:00); the row of
/// its n-th event is `100 + i + 1000 n` (so its receipt, given first, is row `100 + i`).
pub fn call_of(i: i64, events: &[(crate::dispatch::DispatchKind, i64)]) -> CallFacts {
    let start = cn("2022-07-01 10:00");
    let events: Vec<crate::dispatch::CallEvent> = events
        .iter()
        .enumerate()
        .map(|(n, (kind, secs))| crate::dispatch::CallEvent {
            row_id: 100 + i + 1000 * n as i64,
            call_id: format!("C-{i}"),
            kind: *kind,
            at: start + Duration::seconds(*secs),
            acuity: None,
        })
        .collect();
    CallFacts::of(&format!("C-{i}"), &events.iter().collect::<Vec<_>>())
}

/// Call `i` received at 10:00 and answered `secs` later.
pub fn answered(i: i64, secs: i64) -> CallFacts {
    use crate::dispatch::DispatchKind::{CallAnswered, CallReceived};
    call_of(i, &[(CallReceived, 0), (CallAnswered, secs)])
}

/// A day rule's `evaluate`.
pub type DayRule = fn(
    &crate::dispatch::CentreDay<'_>,
    &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
    NaiveDateTime,
) -> Verdict;

/// A day rule's outcome for centre 9 on 2022-07-01 with the built-in defaults, judged at `now`.
pub fn judge_day(calls: &[CallFacts], now: &str, evaluate: DayRule) -> Outcome {
    let day = crate::dispatch::CentreDay {
        centre_id: 9,
        centre_name: "120 急救中心",
        jurisdiction: "beijing",
        date: chrono::NaiveDate::from_ymd_opt(2022, 7, 1).expect("date"),
        calls,
        fleet: &[],
    };
    evaluate(&day, &defaults, cn(now)).outcome
}

/// The community desk of the transport rules' tests (id 5, built-in defaults).
pub const DESK: crate::rules::Source<'static> = crate::rules::Source {
    id: 5,
    name: "某街道社区",
    jurisdiction: "beijing",
};

/// Request `id` for `purpose` made `made` minutes after 08:00 on 2022-07-01 (China time), with
/// its other events as (type, minutes after 08:00); the request is row 1, the others 2, 3, ...
pub fn request(
    id: &str,
    purpose: crate::transport::Purpose,
    made: i64,
    events: &[(&str, i64)],
) -> crate::transport::RequestFacts {
    request_rows(id, purpose, made, events, 0)
}

/// [`request`] with rows counted from `base` (the request is `base + 1`).
pub fn request_rows(
    id: &str,
    purpose: crate::transport::Purpose,
    made: i64,
    events: &[(&str, i64)],
    base: i64,
) -> crate::transport::RequestFacts {
    use crate::transport::{TransportBody, TransportKind, TransportRow};
    let start = cn("2022-07-01 08:00");
    let row = |n: i64, kind: TransportKind, mins: i64| {
        let at = start + Duration::minutes(mins);
        TransportRow {
            row_id: base + n,
            event_id: format!("{id}-{n}"),
            at,
            body: TransportBody {
                kind,
                occurred_at: at.and_utc(),
                request_id: id.into(),
                groups: Vec::new(),
                purpose: (kind == TransportKind::Request).then_some(purpose),
                to_hospital: None,
                reason: None,
                note: None,
            },
        }
    };
    let mut rows = vec![row(1, TransportKind::Request, made)];
    for (n, (kind, mins)) in events.iter().enumerate() {
        let kind = TransportKind::parse(kind).unwrap_or_else(|| panic!("no kind {kind}"));
        rows.push(row(n as i64 + 2, kind, *mins));
    }
    crate::transport::RequestFacts::group(&rows).remove(0)
}
