//! A community desk's transport log for sealed areas (000): residents book a car through their
//! community, which fetches them point to point and brings them back (闭环), special groups
//! first. A [`RawTransportEvent`] is what a desk sent; a [`TransportEvent`] can only be built
//! from a valid one. Whether its `to_hospital` is registered is the service's to check.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::dispatch::Stamp;
use crate::event::{Group, RawPatient, event_id_field, occurred_at_field, one_of, patient_field};
use crate::field::FieldError;

crate::event::string_enum!(TransportKind {
    Request = "request",
    Dispatched = "dispatched",
    PickedUp = "picked_up",
    AtHospital = "at_hospital",
    Returned = "returned",
    Cancelled = "cancelled",
});

crate::event::string_enum!(Purpose {
    Dialysis = "dialysis",
    Chemotherapy = "chemotherapy",
    Oncology = "oncology",
    PregnancyCheck = "pregnancy_check",
    Other = "other",
});

/// The longest `request_id`, `reason`.
pub const MAX_REQUEST_ID: usize = 128;
pub const MAX_REASON: usize = 500;

/// What a desk sends. Every field is optional here so that each missing one is reported by
/// name; unknown fields are refused.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RawTransportEvent {
    pub event_id: Option<String>,
    /// request, dispatched, picked_up, at_hospital, returned, cancelled
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// RFC 3339 with offset; event time, not arrival time.
    pub occurred_at: Option<String>,
    /// The request the event belongs to: on every event
    pub request_id: Option<String>,
    /// On `request`: the resident (an `id_number` links to the hospitals' logs)
    pub patient: Option<RawPatient>,
    /// On `request`: the special groups the resident belongs to
    pub groups: Option<Vec<String>>,
    /// On `request`: dialysis, chemotherapy, oncology, pregnancy_check, other
    pub purpose: Option<String>,
    /// On `request`: the registered hospital the resident is taken to
    pub to_hospital: Option<String>,
    /// On `cancelled`: why
    pub reason: Option<String>,
    pub note: Option<String>,
}

/// The stored form of a transport event: everything but the resident's identity. Its canonical
/// JSON is also what the idempotency check compares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransportBody {
    #[serde(rename = "type")]
    pub kind: TransportKind,
    pub occurred_at: DateTime<Utc>,
    pub request_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Group>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_hospital: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl TransportBody {
    pub fn occurred_naive(&self) -> NaiveDateTime {
        crate::time::to_micros(self.occurred_at.naive_utc())
    }
}

/// A valid transport event, its resident not yet pseudonymised.
pub type TransportEvent = crate::event::Logged<TransportBody>;

impl TransportEvent {
    /// Validates a raw event against the contract, reporting every field at fault. A field
    /// that does not belong to the event's type is refused, so that nothing sent is silently
    /// dropped. Events of a request whose `request` has not arrived are valid: they are judged
    /// once it does.
    pub fn parse(raw: RawTransportEvent, now: DateTime<Utc>) -> Result<Self, Vec<FieldError>> {
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
                TransportKind::parse,
                TransportKind::ALL,
            ),
        };
        let occurred_at = occurred_at_field(&mut errors, raw.occurred_at.as_deref(), now);
        let request_id = match raw.request_id.as_deref() {
            None => {
                errors.push(FieldError::new("request_id", "is required"));
                None
            }
            v => crate::event::clean_text(&mut errors, "request_id", v, MAX_REQUEST_ID),
        };
        let patient_given = raw.patient.is_some();
        let patient = patient_field(&mut errors, raw.patient);
        let groups = crate::event::list_of(
            &mut errors,
            "groups",
            raw.groups.as_deref(),
            Group::parse,
            Group::ALL,
        );
        let purpose = one_of(
            &mut errors,
            "purpose",
            raw.purpose.as_deref(),
            Purpose::parse,
            Purpose::ALL,
        );
        let to_hospital =
            crate::event::clean_text(&mut errors, "to_hospital", raw.to_hospital.as_deref(), 32);
        // Free text may carry a resident's identity or phone number: masked on receipt.
        let reason =
            crate::event::short_text(&mut errors, "reason", raw.reason.as_deref(), MAX_REASON)
                .map(|r| crate::redact::redact(&r).0);
        let note = crate::event::short_text(
            &mut errors,
            "note",
            raw.note.as_deref(),
            crate::event::MAX_NOTE,
        )
        .map(|n| crate::redact::redact(&n).0);
        if let Some(kind) = kind {
            let request = kind == TransportKind::Request;
            let only_on = |errors: &mut Vec<FieldError>, present: bool, field: &str, on: &str| {
                if present {
                    errors.push(FieldError::new(field, format!("is only sent on {on}")));
                }
            };
            if request {
                for (given, field) in [
                    (patient_given, "patient"),
                    (raw.purpose.is_some(), "purpose"),
                    (raw.to_hospital.is_some(), "to_hospital"),
                ] {
                    if !given {
                        errors.push(FieldError::new(field, "is required on a request"));
                    }
                }
            } else {
                only_on(&mut errors, patient_given, "patient", "request");
                only_on(&mut errors, raw.groups.is_some(), "groups", "request");
                only_on(&mut errors, raw.purpose.is_some(), "purpose", "request");
                only_on(
                    &mut errors,
                    raw.to_hospital.is_some(),
                    "to_hospital",
                    "request",
                );
            }
            if kind == TransportKind::Cancelled {
                if raw.reason.is_none() {
                    errors.push(FieldError::new("reason", "is required on a cancellation"));
                }
            } else {
                only_on(&mut errors, raw.reason.is_some(), "reason", "cancelled");
            }
        }
        match (kind, occurred_at, request_id) {
            (Some(kind), Some(occurred_at), Some(request_id)) if errors.is_empty() => Ok(Self {
                event_id,
                patient,
                body: TransportBody {
                    kind,
                    occurred_at: crate::time::to_micros(occurred_at.naive_utc()).and_utc(),
                    request_id,
                    groups,
                    purpose,
                    to_hospital,
                    reason,
                    note,
                },
            }),
            _ => Err(errors),
        }
    }
}

/// One stored transport event as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportRow {
    pub row_id: i64,
    pub event_id: String,
    pub at: NaiveDateTime,
    pub body: TransportBody,
}

/// One request as the rules see it: when it was made, for whom (special group or not), and
/// when it was first dispatched, picked up, at the hospital, returned or cancelled. Built from
/// the request's events in any order (the first of each kind counts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFacts {
    pub request_id: String,
    pub requested: Option<Stamp>,
    pub purpose: Option<Purpose>,
    pub groups: Vec<Group>,
    pub to_hospital: Option<String>,
    pub dispatched: Option<Stamp>,
    pub picked_up: Option<Stamp>,
    pub at_hospital: Option<Stamp>,
    pub returned: Option<Stamp>,
    pub cancelled: Option<Stamp>,
}

impl RequestFacts {
    fn note(&mut self, e: &TransportRow) {
        let stamp = Stamp {
            row_id: e.row_id,
            at: e.at,
        };
        let earliest = |slot: &mut Option<Stamp>| {
            if slot.is_none_or(|s| (stamp.at, stamp.row_id) < (s.at, s.row_id)) {
                *slot = Some(stamp);
                true
            } else {
                false
            }
        };
        match e.body.kind {
            TransportKind::Request => {
                if earliest(&mut self.requested) {
                    self.purpose = e.body.purpose;
                    self.groups = e.body.groups.clone();
                    self.to_hospital = e.body.to_hospital.clone();
                }
            }
            TransportKind::Dispatched => {
                earliest(&mut self.dispatched);
            }
            TransportKind::PickedUp => {
                earliest(&mut self.picked_up);
            }
            TransportKind::AtHospital => {
                earliest(&mut self.at_hospital);
            }
            TransportKind::Returned => {
                earliest(&mut self.returned);
            }
            TransportKind::Cancelled => {
                earliest(&mut self.cancelled);
            }
        }
    }

    /// Every request among `events` (any order, any mix of requests), in the order of their ids.
    pub fn group(events: &[TransportRow]) -> Vec<Self> {
        let mut by_id: std::collections::BTreeMap<&str, Self> = std::collections::BTreeMap::new();
        for e in events {
            by_id
                .entry(e.body.request_id.as_str())
                .or_insert_with(|| Self {
                    request_id: e.body.request_id.clone(),
                    ..Self::default()
                })
                .note(e);
        }
        by_id.into_values().collect()
    }

    /// Whether the resident is of a special group (000: 孕产检、透析、化疗、肿瘤等特殊群体):
    /// the purpose is one of theirs, or the request names a group.
    pub fn is_special(&self) -> bool {
        !self.groups.is_empty() || self.purpose.is_some_and(|p| p != Purpose::Other)
    }

    /// Whether the request was waiting (made, not yet dispatched, not cancelled) at `at`.
    pub fn waiting_at(&self, at: NaiveDateTime) -> bool {
        self.requested.is_some_and(|r| r.at <= at)
            && self.dispatched.is_none_or(|d| d.at > at)
            && self.cancelled.is_none_or(|c| c.at > at)
    }
}

/// What a desk's request cases hang on.
pub fn request_subject(desk_id: i64, request_id: &str) -> String {
    format!("transport:{desk_id}:{request_id}")
}

/// `transport:{desk}:{request id}` back into its parts (a request id may hold colons).
pub fn parse_request_subject(subject: &str) -> Option<(i64, String)> {
    let (desk, request) = subject.strip_prefix("transport:")?.split_once(':')?;
    Some((desk.parse().ok()?, request.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<TransportEvent, Vec<String>> {
        let raw: RawTransportEvent = serde_json::from_str(json).map_err(|e| vec![e.to_string()])?;
        TransportEvent::parse(raw, Utc::now())
            .map_err(|errs| errs.into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn a_full_request_parses_and_each_fault_is_named() {
        let ok = parse(
            r#"{"event_id":"e1","type":"request","request_id":"R-1","occurred_at":"2022-05-23T08:00:00+08:00",
                "patient":{"id_number":"110101195001010017"},"groups":["dialysis"],"purpose":"dialysis","to_hospital":"BJ-CY"}"#,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ok.body.purpose, Some(Purpose::Dialysis));
        assert_eq!(
            parse(
                r#"{"event_id":"e1","type":"request","occurred_at":"2022-05-23T08:00:00+08:00","patient":{"ref":"p"},"to_hospital":"H"}"#
            ),
            Err(vec!["request_id".into(), "purpose".into()])
        );
        assert_eq!(
            parse(
                r#"{"event_id":"e1","type":"request","request_id":"R","occurred_at":"2022-05-23T08:00:00+08:00","patient":{"ref":"p"},"to_hospital":"H","purpose":"shopping"}"#
            ),
            Err(vec!["purpose".into()])
        );
        assert_eq!(
            parse(
                r#"{"event_id":"e2","type":"picked_up","request_id":"R","occurred_at":"2022-05-23T08:00:00+08:00","purpose":"other"}"#
            ),
            Err(vec!["purpose".into()])
        );
        assert_eq!(
            parse(
                r#"{"event_id":"e3","type":"cancelled","request_id":"R","occurred_at":"2022-05-23T08:00:00+08:00"}"#
            ),
            Err(vec!["reason".into()])
        );
    }

    #[test]
    fn a_request_is_special_by_its_purpose_or_a_group() {
        let facts = |purpose, groups: Vec<Group>| RequestFacts {
            purpose: Some(purpose),
            groups,
            ..RequestFacts::default()
        };
        assert!(facts(Purpose::PregnancyCheck, vec![]).is_special());
        assert!(facts(Purpose::Other, vec![Group::Chronic]).is_special());
        assert!(!facts(Purpose::Other, vec![]).is_special());
    }

    #[test]
    fn request_subjects_round_trip() {
        assert_eq!(
            parse_request_subject(&request_subject(7, "R:1")),
            Some((7, "R:1".to_string()))
        );
    }
}
