//! A 120 dispatch centre's call log as the contract defines it (003 item 6). A
//! [`RawDispatchEvent`] is what a centre sent; a [`DispatchEvent`] can only be built from a
//! valid one. Whether its `hospital` is registered is the service's to check (it needs the
//! register).

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{Acuity, RawPatient, event_id_field, occurred_at_field, one_of, patient_field};
use crate::field::FieldError;

crate::event::string_enum!(DispatchKind {
    CallReceived = "call_received",
    CallAnswered = "call_answered",
    CallAbandoned = "call_abandoned",
    Dispatched = "dispatched",
    AtScene = "at_scene",
    AtHospital = "at_hospital",
    HandedOver = "handed_over",
    FleetStatus = "fleet_status",
});

impl DispatchKind {
    /// Whether the event belongs to a call (all but the fleet's status).
    pub fn is_call_event(self) -> bool {
        self != Self::FleetStatus
    }

    /// Whether the event names the hospital the ambulance reached.
    pub fn names_hospital(self) -> bool {
        matches!(self, Self::AtHospital | Self::HandedOver)
    }
}

/// The longest `call_id` and `area`.
pub const MAX_CALL_ID: usize = 128;
pub const MAX_AREA: usize = 64;
/// More ambulances on line than any city has: a typo, not a fleet.
pub const MAX_VEHICLES: i64 = 100_000;

/// What a centre sends. Every field is optional here so that each missing one is reported by
/// name; unknown fields are refused.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RawDispatchEvent {
    pub event_id: Option<String>,
    /// call_received, call_answered, call_abandoned, dispatched, at_scene, at_hospital,
    /// handed_over, fleet_status
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// RFC 3339 with offset; event time, not arrival time.
    pub occurred_at: Option<String>,
    /// The call the event belongs to: required except on `fleet_status`
    pub call_id: Option<String>,
    /// critical, urgent, routine: on `call_answered`
    pub acuity: Option<String>,
    /// A registered hospital's code: on `at_hospital` and `handed_over`
    pub hospital: Option<String>,
    /// On `at_hospital`: the patient the ambulance brought (an `id_number` links to the
    /// hospital's own log)
    pub patient: Option<RawPatient>,
    /// On `fleet_status`: ambulances on line now
    pub vehicles_online: Option<i64>,
    /// On `fleet_status`: the area (e.g. 主城区)
    pub area: Option<String>,
}

/// The stored form of a dispatch event: everything but the patient's identity. Its canonical
/// JSON is also what the idempotency check compares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchBody {
    #[serde(rename = "type")]
    pub kind: DispatchKind,
    pub occurred_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acuity: Option<Acuity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hospital: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vehicles_online: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
}

impl DispatchBody {
    pub fn occurred_naive(&self) -> NaiveDateTime {
        crate::time::to_micros(self.occurred_at.naive_utc())
    }
}

/// A valid dispatch event, its patient not yet pseudonymised.
pub type DispatchEvent = crate::event::Logged<DispatchBody>;

use crate::event::clean_text as text;

impl DispatchEvent {
    /// Validates a raw event against the contract, reporting every field at fault. A field
    /// that does not belong to the event's type is refused, so that nothing sent is silently
    /// dropped. A `call_answered` before its `call_received`, or for a call never received,
    /// is valid here: the rules judge it as data.
    pub fn parse(raw: RawDispatchEvent, now: DateTime<Utc>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let event_id = event_id_field(&mut errors, raw.event_id.as_deref());
        let kind = match raw.kind.as_deref() {
            None => {
                errors.push(FieldError::new("type", "is required"));
                None
            }
            k => one_of(
                &mut errors,
                "type",
                k,
                DispatchKind::parse,
                DispatchKind::ALL,
            ),
        };
        let occurred_at = occurred_at_field(&mut errors, raw.occurred_at.as_deref(), now);
        let call_id = text(&mut errors, "call_id", raw.call_id.as_deref(), MAX_CALL_ID);
        let acuity = one_of(
            &mut errors,
            "acuity",
            raw.acuity.as_deref(),
            Acuity::parse,
            Acuity::ALL,
        );
        let hospital = text(&mut errors, "hospital", raw.hospital.as_deref(), 64);
        let patient = patient_field(&mut errors, raw.patient);
        let area = text(&mut errors, "area", raw.area.as_deref(), MAX_AREA);
        let vehicles_online = raw.vehicles_online;
        if vehicles_online.is_some_and(|n| !(0..=MAX_VEHICLES).contains(&n)) {
            errors.push(FieldError::new(
                "vehicles_online",
                format!("must be from 0 to {MAX_VEHICLES}"),
            ));
        }
        if let Some(kind) = kind {
            let only_on = |errors: &mut Vec<FieldError>, present: bool, field: &str, on: &str| {
                if present {
                    errors.push(FieldError::new(field, format!("is only sent on {on}")));
                }
            };
            let fleet = kind == DispatchKind::FleetStatus;
            if fleet {
                only_on(&mut errors, raw.call_id.is_some(), "call_id", "call events");
            } else if raw.call_id.is_none() {
                errors.push(FieldError::new("call_id", "is required"));
            }
            only_on(
                &mut errors,
                raw.acuity.is_some() && kind != DispatchKind::CallAnswered,
                "acuity",
                "call_answered",
            );
            only_on(
                &mut errors,
                patient.is_some() && kind != DispatchKind::AtHospital,
                "patient",
                "at_hospital",
            );
            if kind.names_hospital() {
                if raw.hospital.is_none() {
                    errors.push(FieldError::new("hospital", "is required"));
                }
            } else {
                only_on(
                    &mut errors,
                    raw.hospital.is_some(),
                    "hospital",
                    "at_hospital and handed_over",
                );
            }
            if fleet {
                if raw.vehicles_online.is_none() {
                    errors.push(FieldError::new("vehicles_online", "is required"));
                }
                if raw.area.is_none() {
                    errors.push(FieldError::new("area", "is required"));
                }
            } else {
                only_on(
                    &mut errors,
                    raw.vehicles_online.is_some(),
                    "vehicles_online",
                    "fleet_status",
                );
                only_on(&mut errors, raw.area.is_some(), "area", "fleet_status");
            }
        }
        match (kind, occurred_at) {
            (Some(kind), Some(occurred_at)) if errors.is_empty() => Ok(Self {
                event_id,
                patient,
                body: DispatchBody {
                    kind,
                    occurred_at,
                    call_id,
                    acuity,
                    hospital,
                    vehicles_online,
                    area,
                },
            }),
            _ => Err(errors),
        }
    }
}

/// One stored call event as the rules see it: its stored columns, no body to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEvent {
    pub row_id: i64,
    pub call_id: String,
    pub kind: DispatchKind,
    pub at: NaiveDateTime,
    pub acuity: Option<Acuity>,
}

/// An event of a call: its row and its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub row_id: i64,
    pub at: NaiveDateTime,
}

/// One call as the rules see it: when it was received, first answered, first dispatched,
/// whether the caller hung up first (`call_abandoned`), and the acuity the dispatcher gave.
/// Built from the call's events in any order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallFacts {
    pub call_id: String,
    pub received: Option<Stamp>,
    pub answered: Option<Stamp>,
    pub dispatched: Option<Stamp>,
    pub abandoned: Option<Stamp>,
    pub acuity: Option<Acuity>,
    /// The answer `acuity` was taken from.
    acuity_from: Option<Stamp>,
}

impl CallFacts {
    /// The facts of one call from its events, in any order (the first of each kind counts).
    pub fn of(call_id: &str, events: &[&CallEvent]) -> Self {
        let mut facts = Self {
            call_id: call_id.to_string(),
            ..Self::default()
        };
        for e in events {
            facts.note(e);
        }
        facts
    }

    /// Takes one more event of the call into account.
    fn note(&mut self, e: &CallEvent) {
        let stamp = Stamp {
            row_id: e.row_id,
            at: e.at,
        };
        let earliest = |slot: &mut Option<Stamp>| {
            if slot.is_none_or(|s| (stamp.at, stamp.row_id) < (s.at, s.row_id)) {
                *slot = Some(stamp);
            }
        };
        match e.kind {
            DispatchKind::CallReceived => earliest(&mut self.received),
            DispatchKind::CallAnswered => {
                earliest(&mut self.answered);
                // The acuity the first answer that gave one gave.
                if e.acuity.is_some()
                    && self
                        .acuity_from
                        .is_none_or(|s| (stamp.at, stamp.row_id) < (s.at, s.row_id))
                {
                    self.acuity = e.acuity;
                    self.acuity_from = Some(stamp);
                }
            }
            DispatchKind::Dispatched => earliest(&mut self.dispatched),
            DispatchKind::CallAbandoned => earliest(&mut self.abandoned),
            _ => {}
        }
    }

    /// Every call among `events` (any order, any mix of calls), in the order of their ids.
    pub fn group(events: &[CallEvent]) -> Vec<Self> {
        let mut index: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::with_capacity(events.len() / 2);
        let mut calls: Vec<Self> = Vec::with_capacity(events.len() / 2);
        for e in events {
            let i = *index.entry(e.call_id.as_str()).or_insert_with(|| {
                calls.push(Self {
                    call_id: e.call_id.clone(),
                    ..Self::default()
                });
                calls.len() - 1
            });
            calls[i].note(e);
        }
        calls.sort_unstable_by(|a, b| a.call_id.cmp(&b.call_id));
        calls
    }

    /// The wait before the answer: `None` without both times; an answer logged before the
    /// receipt (two clocks) waited nothing.
    pub fn wait(&self) -> Option<Duration> {
        Some((self.answered?.at - self.received?.at).max(Duration::zero()))
    }

    /// The China day the call belongs to: that of its receipt.
    pub fn day(&self) -> Option<NaiveDate> {
        self.received.map(|r| crate::time::china_date(r.at))
    }
}

/// A call that missed a limit: its id and the row of its receipt (the evidence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Missed {
    pub call_id: String,
    #[serde(skip)]
    pub row_id: i64,
}

/// A centre's figures of one China day (003 item 6: 10 秒内接听报警电话比例要达到95%以上，
/// 应答率达到100%).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFigures {
    /// Calls received that day
    pub calls: u32,
    /// Answered within the answer limit (10 s)
    pub answered_in_time: u32,
    /// Answered within the unanswered limit (60 s)
    pub answered: u32,
    /// Abandoned by the caller before an answer
    pub abandoned: u32,
    /// The calls that missed: not answered within the answer limit, in the order given
    pub late: Vec<Missed>,
    /// The calls unanswered: abandoned, or not answered within the unanswered limit
    pub unanswered: Vec<Missed>,
}

impl DayFigures {
    /// Counts the received calls among `calls`. A call answered within `answer_limit` of its
    /// receipt (exactly at the limit included) is in time; one abandoned before an answer, or
    /// not answered within `unanswered_limit`, is unanswered.
    pub fn of(calls: &[CallFacts], answer_limit: Duration, unanswered_limit: Duration) -> Self {
        let mut f = Self::default();
        for c in calls {
            let Some(received) = c.received else {
                continue;
            };
            let missed = || Missed {
                call_id: c.call_id.clone(),
                row_id: received.row_id,
            };
            f.calls += 1;
            let wait = c.wait();
            if wait.is_some_and(|w| w <= answer_limit) {
                f.answered_in_time += 1;
            } else {
                f.late.push(missed());
            }
            // Hung up before any answer (an answer logged first is an answer).
            let abandoned = c
                .abandoned
                .is_some_and(|a| c.answered.is_none_or(|ans| a.at < ans.at));
            if !abandoned && wait.is_some_and(|w| w <= unanswered_limit) {
                f.answered += 1;
            } else {
                f.abandoned += u32::from(abandoned);
                f.unanswered.push(missed());
            }
        }
        f
    }

    /// Whether the share answered in time is below `percent` (95 % passes at exactly 95.0 %):
    /// compared in whole numbers, so that no rounding decides a boundary.
    pub fn share_below(&self, percent: u32) -> bool {
        self.calls > 0
            && u64::from(self.answered_in_time) * 100 < u64::from(self.calls) * u64::from(percent)
    }

    /// The share answered in time, in percent (no calls: none).
    pub fn share(&self) -> Option<f64> {
        (self.calls > 0).then(|| f64::from(self.answered_in_time) * 100.0 / f64::from(self.calls))
    }

    /// The answer rate (answered within the unanswered limit), in percent (no calls: none).
    pub fn answer_rate(&self) -> Option<f64> {
        (self.calls > 0).then(|| f64::from(self.answered) * 100.0 / f64::from(self.calls))
    }

    /// Adds another day's counts (the board's 30 days); the lists of calls are not kept.
    pub fn add(&mut self, other: &DayFigures) {
        self.calls += other.calls;
        self.answered_in_time += other.answered_in_time;
        self.answered += other.answered;
        self.abandoned += other.abandoned;
    }
}

/// One China day of one centre, as the day rules judge it.
#[derive(Debug, Clone)]
pub struct CentreDay<'a> {
    pub centre_id: i64,
    pub centre_name: &'a str,
    pub jurisdiction: &'a str,
    pub date: NaiveDate,
    /// The calls received that day (others are not counted).
    pub calls: &'a [CallFacts],
    /// The day's fleet statuses.
    pub fleet: &'a [FleetStatus],
}

impl CentreDay<'_> {
    /// The subject of a day's case: `day:{centre}:{YYYY-MM-DD}`.
    pub fn subject(&self) -> String {
        day_subject(self.centre_id, self.date)
    }

    /// The day's first instant (China midnight), as a stored UTC time.
    pub fn start(&self) -> NaiveDateTime {
        day_start(self.date)
    }

    /// The next day's first instant: the day is judged from then on.
    pub fn end(&self) -> NaiveDateTime {
        day_start(self.date + Duration::days(1))
    }
}

/// The stored (UTC) instant a China day begins.
pub fn day_start(date: NaiveDate) -> NaiveDateTime {
    crate::time::from_china(date.and_time(chrono::NaiveTime::MIN))
}

pub fn day_subject(centre_id: i64, date: NaiveDate) -> String {
    format!("day:{centre_id}:{date}")
}

/// `day:{centre}:{date}` back into its parts.
pub fn parse_day_subject(subject: &str) -> Option<(i64, NaiveDate)> {
    let mut parts = subject.strip_prefix("day:")?.splitn(2, ':');
    let centre = parts.next()?.parse().ok()?;
    let date = parts.next()?.parse().ok()?;
    Some((centre, date))
}

pub fn call_subject(centre_id: i64, call_id: &str) -> String {
    format!("call:{centre_id}:{call_id}")
}

/// `call:{centre}:{call id}` back into its parts (a call id may hold colons).
pub fn parse_call_subject(subject: &str) -> Option<(i64, String)> {
    let (centre, call) = subject.strip_prefix("call:")?.split_once(':')?;
    Some((centre.parse().ok()?, call.to_string()))
}

/// A `fleet_status` as the fleet rule reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetStatus {
    pub row_id: i64,
    pub at: NaiveDateTime,
    pub area: String,
    pub vehicles_online: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<DispatchEvent, Vec<String>> {
        let raw: RawDispatchEvent = serde_json::from_value(json).expect("raw");
        let now = DateTime::parse_from_rfc3339("2022-07-01T12:00:00+08:00")
            .expect("now")
            .with_timezone(&Utc);
        DispatchEvent::parse(raw, now).map_err(|e| e.into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn each_type_takes_its_fields_and_refuses_the_others() {
        let ok = parse(
            serde_json::json!({"event_id": "c1", "type": "call_answered",
            "occurred_at": "2022-07-01T10:00:08+08:00", "call_id": "C-1", "acuity": "critical"}),
        )
        .expect("valid");
        assert_eq!(ok.body.acuity, Some(Acuity::Critical));
        let fleet = parse(serde_json::json!({"event_id": "f1", "type": "fleet_status",
            "occurred_at": "2022-07-01T10:00:00+08:00", "vehicles_online": 8, "area": "主城区"}))
        .expect("valid");
        assert_eq!(fleet.body.call_id, None);
        let at = parse(serde_json::json!({"event_id": "h1", "type": "at_hospital",
            "occurred_at": "2022-07-01T10:30:00+08:00", "call_id": "C-1", "hospital": "DD-1",
            "patient": {"id_number": "210602198001010011"}}))
        .expect("valid");
        assert!(matches!(
            at.patient,
            Some(crate::event::PatientId::IdNumber(_))
        ));
        assert_eq!(
            parse(serde_json::json!({"event_id": "x", "type": "dispatched",
                "occurred_at": "2022-07-01T10:00:00+08:00"})),
            Err(vec!["call_id".to_string()])
        );
        assert_eq!(
            parse(serde_json::json!({"event_id": "x", "type": "fleet_status",
                "occurred_at": "2022-07-01T10:00:00+08:00", "vehicles_online": -1, "area": "主城区"})),
            Err(vec!["vehicles_online".to_string()])
        );
        assert_eq!(
            parse(serde_json::json!({"event_id": "x", "type": "handed_over",
                "occurred_at": "2022-07-01T10:00:00+08:00", "call_id": "C-1"})),
            Err(vec!["hospital".to_string()])
        );
        assert_eq!(
            parse(serde_json::json!({"event_id": "x", "type": "call_received",
                "occurred_at": "2022-07-01T10:00:00+08:00", "call_id": "C-1", "acuity": "urgent",
                "area": "主城区"})),
            Err(vec!["acuity".to_string(), "area".to_string()])
        );
        assert_eq!(
            parse(serde_json::json!({"type": "ring"})),
            Err(vec![
                "event_id".to_string(),
                "type".to_string(),
                "occurred_at".to_string()
            ])
        );
    }

    fn t(secs: i64) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2022, 7, 1)
            .and_then(|d| d.and_hms_opt(2, 0, 0))
            .expect("a time")
            + Duration::seconds(secs)
    }

    fn call(id: &str, events: &[(DispatchKind, i64)]) -> CallFacts {
        let events: Vec<CallEvent> = events
            .iter()
            .enumerate()
            .map(|(i, (kind, secs))| CallEvent {
                row_id: i as i64 + 1,
                call_id: id.into(),
                kind: *kind,
                at: t(*secs),
                acuity: None,
            })
            .collect();
        CallFacts::of(id, &events.iter().collect::<Vec<_>>())
    }

    fn answered_after(id: &str, secs: Option<i64>) -> CallFacts {
        let mut events = vec![(DispatchKind::CallReceived, 0)];
        if let Some(s) = secs {
            events.push((DispatchKind::CallAnswered, s));
        }
        call(id, &events)
    }

    fn ids(missed: &[Missed]) -> Vec<&str> {
        missed.iter().map(|m| m.call_id.as_str()).collect()
    }

    #[test]
    fn a_call_answered_at_exactly_ten_seconds_is_in_time_and_at_sixty_one_unanswered() {
        let calls = [
            answered_after("a", Some(10)),
            answered_after("b", Some(11)),
            answered_after("c", Some(60)),
            answered_after("d", Some(61)),
            answered_after("e", None),
            call(
                "f",
                &[
                    (DispatchKind::CallReceived, 0),
                    (DispatchKind::CallAbandoned, 5),
                ],
            ),
            // Answered before it was received (two clocks): waited nothing.
            call(
                "g",
                &[
                    (DispatchKind::CallAnswered, 0),
                    (DispatchKind::CallReceived, 2),
                ],
            ),
            // Never received: not one of the day's calls.
            call("h", &[(DispatchKind::CallAnswered, 3)]),
        ];
        let f = DayFigures::of(&calls, Duration::seconds(10), Duration::seconds(60));
        assert_eq!(f.calls, 7);
        assert_eq!(f.answered_in_time, 2, "{f:?}");
        assert_eq!(ids(&f.late), ["b", "c", "d", "e", "f"]);
        assert_eq!(ids(&f.unanswered), ["d", "e", "f"]);
        assert_eq!((f.answered, f.abandoned), (4, 1));
    }

    #[test]
    fn ninety_five_percent_exactly_is_not_below_the_share() {
        let mut calls: Vec<CallFacts> = (0..95)
            .map(|i| answered_after(&i.to_string(), Some(3)))
            .collect();
        calls.extend((95..100).map(|i| answered_after(&i.to_string(), Some(30))));
        let f = DayFigures::of(&calls, Duration::seconds(10), Duration::seconds(60));
        assert_eq!(f.share(), Some(95.0));
        assert!(!f.share_below(95));
        calls.push(answered_after("late", Some(20)));
        let f = DayFigures::of(&calls, Duration::seconds(10), Duration::seconds(60));
        assert!(f.share_below(95), "95 of 101 is 94.06 %");
        assert!(
            !DayFigures::default().share_below(95),
            "a day without calls is not below"
        );
    }

    #[test]
    fn subjects_read_back_and_a_call_id_may_hold_colons() {
        let d = chrono::NaiveDate::from_ymd_opt(2022, 7, 1).expect("date");
        assert_eq!(parse_day_subject(&day_subject(7, d)), Some((7, d)));
        assert_eq!(
            parse_call_subject(&call_subject(7, "C:1")),
            Some((7, "C:1".to_string()))
        );
        assert_eq!(parse_day_subject("day:x:2022-07-01"), None);
    }
}
