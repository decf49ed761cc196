//! A 120 dispatch centre's call log as the contract defines it (003 item 6). A
//! [`RawDispatchEvent`] is what a centre sent; a [`DispatchEvent`] can only be built from a
//! valid one. Whether its `hospital` is registered is the service's to check (it needs the
//! register).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{
    Acuity, PatientId, RawPatient, event_id_field, occurred_at_field, patient_field,
};
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchEvent {
    pub event_id: String,
    pub patient: Option<PatientId>,
    pub body: DispatchBody,
}

fn text(errors: &mut Vec<FieldError>, field: &str, v: Option<&str>, max: usize) -> Option<String> {
    let v = v?.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            format!("must be 1-{max} characters, no control characters"),
        ));
        return None;
    }
    Some(v.to_string())
}

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
            Some(k) => {
                let kind = DispatchKind::parse(k);
                if kind.is_none() {
                    errors.push(FieldError::new(
                        "type",
                        format!("must be one of {}", DispatchKind::ALL.join(", ")),
                    ));
                }
                kind
            }
        };
        let occurred_at = occurred_at_field(&mut errors, raw.occurred_at.as_deref(), now);
        let call_id = text(&mut errors, "call_id", raw.call_id.as_deref(), MAX_CALL_ID);
        let acuity = raw.acuity.as_deref().and_then(|a| {
            let parsed = Acuity::parse(a);
            if parsed.is_none() {
                errors.push(FieldError::new(
                    "acuity",
                    format!("must be one of {}", Acuity::ALL.join(", ")),
                ));
            }
            parsed
        });
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
        assert!(matches!(at.patient, Some(PatientId::IdNumber(_))));
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
}
