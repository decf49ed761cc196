//! Intake events as the contract defines them. A [`RawEvent`] is what a hospital sent; an
//! [`IntakeEvent`] can only be built from a valid one, so the rule engine never sees invalid data.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::field::FieldError;

/// A closed set of text values: `ALL`, `as_str`, `parse`, and serde as the text.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

pub(crate) use string_enum;

string_enum!(EventKind {
    Arrival = "arrival",
    Handover = "handover",
    Treatment = "treatment",
    Refusal = "refusal",
    Transfer = "transfer",
    Discharge = "discharge",
    ClosureStart = "closure_start",
    ClosureEnd = "closure_end",
    Test = "test",
});

string_enum!(Acuity { Critical = "critical", Urgent = "urgent", Routine = "routine" });
string_enum!(ArrivedBy {
    Ambulance = "ambulance",
    WalkIn = "walk_in",
    Transfer = "transfer",
    CommunityVehicle = "community_vehicle",
});
string_enum!(OriginZone { Sealed = "sealed", Controlled = "controlled", Precaution = "precaution", None = "none" });
impl OriginZone {
    /// The zones a hospital may be designated for (all but `none`), as `hospital add
    /// --designated-for` takes them: comma-separated, each once, in this order.
    pub const DESIGNATED: &'static [&'static str] = &["sealed", "controlled", "precaution"];

    /// `sealed,controlled` as the zones (blank for none), or what is wrong with it.
    pub fn parse_designated(text: &str) -> Result<Vec<Self>, String> {
        let mut zones = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match Self::parse(part).filter(|z| *z != Self::None) {
                Some(z) if !zones.contains(&z) => zones.push(z),
                Some(_) => {}
                None => {
                    return Err(format!(
                        "`{part}` is not a zone: give one or more of {}, comma-separated",
                        Self::DESIGNATED.join(", ")
                    ));
                }
            }
        }
        zones.sort_by_key(|z| Self::DESIGNATED.iter().position(|d| *d == z.as_str()));
        Ok(zones)
    }

    /// The stored form of [`OriginZone::parse_designated`]'s zones; a stored text that no longer
    /// parses (it is written only through that function) reads as none.
    pub fn designated_text(zones: &[Self]) -> String {
        zones
            .iter()
            .map(|z| z.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

string_enum!(HealthCode { Green = "green", Yellow = "yellow", Red = "red", None = "none" });
string_enum!(TestStatus {
    Negative48h = "negative_48h",
    None = "none",
    Expired = "expired",
    Positive = "positive",
    Pending = "pending",
});
string_enum!(Group {
    Pregnant = "pregnant",
    Newborn = "newborn",
    Dialysis = "dialysis",
    Chemotherapy = "chemotherapy",
    Oncology = "oncology",
    RenalFailure = "renal_failure",
    Chronic = "chronic",
});
string_enum!(Reason {
    HealthCode = "health_code",
    TravelCode = "travel_code",
    NoTest = "no_test",
    ExpiredTest = "expired_test",
    Fever = "fever",
    CovidSymptoms = "covid_symptoms",
    Disinfection = "disinfection",
    DepartmentClosed = "department_closed",
    NoBeds = "no_beds",
    NoCommunityCertificate = "no_community_certificate",
    Other = "other",
});
string_enum!(ClosureScope { Facility = "facility", Department = "department", Unit = "unit" });
string_enum!(ClosureKind {
    Emergency = "emergency",
    Dialysis = "dialysis",
    FeverClinic = "fever_clinic",
    Oncology = "oncology",
    Obstetrics = "obstetrics",
    Other = "other",
});
string_enum!(ApprovalLevel { Municipal = "municipal", Provincial = "provincial" });
string_enum!(TestKind { Antigen = "antigen", NucleicAcid = "nucleic_acid" });
string_enum!(TestResult { Negative = "negative", Positive = "positive", Pending = "pending" });

impl EventKind {
    /// Events about a patient (all but closures) must name one.
    pub fn is_patient_event(self) -> bool {
        !matches!(self, Self::ClosureStart | Self::ClosureEnd)
    }
}

/// What a hospital sends. Every field is optional here so that each missing one is reported by
/// name; unknown fields are refused.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    pub event_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// RFC 3339 with offset; event time, not arrival time.
    pub occurred_at: Option<String>,
    pub patient: Option<RawPatient>,
    pub acuity: Option<String>,
    pub arrived_by: Option<String>,
    pub origin_zone: Option<String>,
    pub health_code: Option<String>,
    pub test_status: Option<String>,
    pub symptoms: Option<Vec<String>>,
    pub groups: Option<Vec<String>>,
    pub reasons: Option<Vec<String>>,
    pub to_hospital: Option<String>,
    /// On a `transfer` out of the register (another city or province).
    pub to_facility: Option<RawFacility>,
    /// On a `transfer`: the health administration's approval of the referral.
    pub approval: Option<RawApproval>,
    pub closure: Option<RawClosure>,
    pub test: Option<RawTest>,
    pub department: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RawFacility {
    pub name: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RawApproval {
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RawPatient {
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// Pseudonymised on receipt; never stored.
    pub id_number: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RawClosure {
    pub id: Option<String>,
    pub scope: Option<String>,
    pub department: Option<String>,
    /// What the closed part serves.
    pub kind: Option<String>,
    /// The registered hospital its patients are sent to meanwhile.
    pub diverted_to: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RawTest {
    pub kind: Option<String>,
    pub result: Option<String>,
}

/// How the patient was identified. Only the keyed hash of either is ever kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientId {
    /// The hospital's own reference: linked within that hospital only.
    Ref(String),
    /// A national identity number: linked across hospitals.
    IdNumber(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub id: String,
    pub scope: ClosureScope,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ClosureKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diverted_to: Option<String>,
}

/// A facility outside the register that a patient is referred to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facility {
    pub name: String,
    pub city: String,
    pub province: String,
}

/// The health administration's approval of a referral out of the city or the province.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    #[serde(rename = "ref")]
    pub reference: String,
    pub level: ApprovalLevel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestInfo {
    pub kind: TestKind,
    pub result: TestResult,
}

/// The stored form of an event: everything but the patient's identity. Its canonical JSON is
/// also what the idempotency check compares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBody {
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub occurred_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acuity: Option<Acuity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrived_by: Option<ArrivedBy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin_zone: Option<OriginZone>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_code: Option<HealthCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_status: Option<TestStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub symptoms: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Group>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_hospital: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_facility: Option<Facility>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closure: Option<Closure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<TestInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl EventBody {
    pub fn occurred_naive(&self) -> NaiveDateTime {
        crate::time::to_micros(self.occurred_at.naive_utc())
    }
}

/// A valid event of either log (a hospital's, a 120 centre's), its patient not yet
/// pseudonymised: its id, its patient, and the body that is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged<B> {
    pub event_id: String,
    pub patient: Option<PatientId>,
    pub body: B,
}

/// A valid hospital event.
pub type IntakeEvent = Logged<EventBody>;

pub const MAX_NOTE: usize = 2_000;
pub const MAX_FUTURE: Duration = Duration::minutes(5);

/// A value of a closed set, or an error naming `field` and the set.
pub(crate) fn one_of<T>(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
    all: &[&str],
) -> Option<T> {
    let value = value?;
    let parsed = parse(value);
    if parsed.is_none() {
        errors.push(FieldError::new(
            field,
            format!("must be one of {}", all.join(", ")),
        ));
    }
    parsed
}

pub(crate) fn list_of<T>(
    errors: &mut Vec<FieldError>,
    field: &str,
    values: Option<&[String]>,
    parse: fn(&str) -> Option<T>,
    all: &[&str],
) -> Vec<T> {
    let mut out = Vec::new();
    for (i, v) in values.unwrap_or_default().iter().enumerate() {
        match parse(v) {
            Some(p) => out.push(p),
            None => errors.push(FieldError::new(
                format!("{field}[{i}]"),
                format!("must be one of {}", all.join(", ")),
            )),
        }
    }
    out
}

pub(crate) fn short_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let v = value?.trim();
    if v.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    } else if crate::field::has_control(v) {
        errors.push(FieldError::new(field, crate::field::CONTROL));
    }
    (!v.is_empty()).then(|| v.to_string())
}

/// Text of at most `max` characters, not blank, without control characters (an identifier or
/// a code), or an error naming `field`.
pub(crate) fn clean_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    v: Option<&str>,
    max: usize,
) -> Option<String> {
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

/// [`short_text`] that must be given (and not blank).
fn required_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let text = short_text(errors, field, value, max);
    if text.is_none() {
        errors.push(FieldError::new(field, "is required"));
    }
    text
}

/// `event_id`: required, 1-128 characters, no control characters (the idempotency key).
pub(crate) fn event_id_field(errors: &mut Vec<FieldError>, id: Option<&str>) -> String {
    match id {
        None => errors.push(FieldError::new("event_id", "is required")),
        Some(id) if id.is_empty() || id.chars().count() > 128 => {
            errors.push(FieldError::new("event_id", "must be 1-128 characters"))
        }
        Some(id) if id.chars().any(char::is_control) => errors.push(FieldError::new(
            "event_id",
            "must not contain control characters",
        )),
        _ => {}
    }
    id.unwrap_or_default().to_string()
}

/// `occurred_at`: required, RFC 3339 with an offset, not in the future, not before 2000.
pub(crate) fn occurred_at_field(
    errors: &mut Vec<FieldError>,
    occurred_at: Option<&str>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match occurred_at {
        None => {
            errors.push(FieldError::new("occurred_at", "is required"));
            None
        }
        Some(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => {
                let t = t.with_timezone(&Utc);
                if t > now + MAX_FUTURE {
                    errors.push(FieldError::new(
                        "occurred_at",
                        "is more than 5 minutes in the future",
                    ));
                } else if t.timestamp() < 946_684_800 {
                    errors.push(FieldError::new("occurred_at", "is before the year 2000"));
                }
                Some(t)
            }
            Err(_) => {
                errors.push(FieldError::new(
                    "occurred_at",
                    "must be an RFC 3339 time with an offset, e.g. 2022-04-02T08:15:00+08:00",
                ));
                None
            }
        },
    }
}

/// `patient`: either the sender's own `ref` or an `id_number`, never both.
pub(crate) fn patient_field(
    errors: &mut Vec<FieldError>,
    patient: Option<RawPatient>,
) -> Option<PatientId> {
    match patient {
        None => None,
        Some(p) => match (p.reference, p.id_number) {
            (Some(r), None) if !r.trim().is_empty() && r.chars().count() <= 128 => {
                Some(PatientId::Ref(r.trim().to_string()))
            }
            (None, Some(n)) if !n.trim().is_empty() && n.chars().count() <= 64 => {
                Some(PatientId::IdNumber(n))
            }
            (Some(_), Some(_)) => {
                errors.push(FieldError::new(
                    "patient",
                    "give either ref or id_number, not both",
                ));
                None
            }
            (None, None) => {
                errors.push(FieldError::new("patient", "must have ref or id_number"));
                None
            }
            (Some(_), None) => {
                errors.push(FieldError::new("patient.ref", "must be 1-128 characters"));
                None
            }
            (None, Some(_)) => {
                errors.push(FieldError::new(
                    "patient.id_number",
                    "must be 1-64 characters",
                ));
                None
            }
        },
    }
}

impl IntakeEvent {
    /// Validates a raw event against the contract, reporting every field at fault.
    pub fn parse(raw: RawEvent, now: DateTime<Utc>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let required = |errors: &mut Vec<FieldError>, field: &str| {
            errors.push(FieldError::new(field, "is required"));
        };

        let event_id = event_id_field(&mut errors, raw.event_id.as_deref());
        let kind = match raw.kind.as_deref() {
            None => {
                required(&mut errors, "type");
                None
            }
            v => one_of(&mut errors, "type", v, EventKind::parse, EventKind::ALL),
        };

        let occurred_at = occurred_at_field(&mut errors, raw.occurred_at.as_deref(), now);
        let patient = patient_field(&mut errors, raw.patient);

        let acuity = one_of(
            &mut errors,
            "acuity",
            raw.acuity.as_deref(),
            Acuity::parse,
            Acuity::ALL,
        );
        let arrived_by = one_of(
            &mut errors,
            "arrived_by",
            raw.arrived_by.as_deref(),
            ArrivedBy::parse,
            ArrivedBy::ALL,
        );
        let origin_zone = one_of(
            &mut errors,
            "origin_zone",
            raw.origin_zone.as_deref(),
            OriginZone::parse,
            OriginZone::ALL,
        );
        let health_code = one_of(
            &mut errors,
            "health_code",
            raw.health_code.as_deref(),
            HealthCode::parse,
            HealthCode::ALL,
        );
        let test_status = one_of(
            &mut errors,
            "test_status",
            raw.test_status.as_deref(),
            TestStatus::parse,
            TestStatus::ALL,
        );
        let groups = list_of(
            &mut errors,
            "groups",
            raw.groups.as_deref(),
            Group::parse,
            Group::ALL,
        );
        let reasons = list_of(
            &mut errors,
            "reasons",
            raw.reasons.as_deref(),
            Reason::parse,
            Reason::ALL,
        );
        let mut symptoms = Vec::new();
        for (i, s) in raw.symptoms.unwrap_or_default().into_iter().enumerate() {
            let s = s.trim().to_string();
            if s.is_empty() || s.chars().count() > 64 {
                errors.push(FieldError::new(
                    format!("symptoms[{i}]"),
                    "must be 1-64 characters",
                ));
            } else {
                symptoms.push(s);
            }
        }
        if symptoms.len() > 32 {
            errors.push(FieldError::new("symptoms", "must list at most 32 symptoms"));
        }

        let to_hospital = short_text(&mut errors, "to_hospital", raw.to_hospital.as_deref(), 32);
        let department = short_text(&mut errors, "department", raw.department.as_deref(), 100);
        let to_facility = raw.to_facility.map(|f| {
            let name = required_text(&mut errors, "to_facility.name", f.name.as_deref(), 200);
            let city = required_text(&mut errors, "to_facility.city", f.city.as_deref(), 64);
            let province = required_text(
                &mut errors,
                "to_facility.province",
                f.province.as_deref(),
                64,
            );
            (name, city, province)
        });
        let to_facility = match to_facility {
            Some((Some(name), Some(city), Some(province))) => Some(Facility {
                name,
                city,
                province,
            }),
            _ => None,
        };
        let approval = match raw.approval {
            None => None,
            Some(a) => {
                let reference =
                    required_text(&mut errors, "approval.ref", a.reference.as_deref(), 128);
                let level = match a.level.as_deref() {
                    None => {
                        required(&mut errors, "approval.level");
                        None
                    }
                    v => one_of(
                        &mut errors,
                        "approval.level",
                        v,
                        ApprovalLevel::parse,
                        ApprovalLevel::ALL,
                    ),
                };
                reference
                    .zip(level)
                    .map(|(reference, level)| Approval { reference, level })
            }
        };
        // Free text may carry a patient's identity or phone number: masked on receipt, like
        // the id_number itself never stored.
        let note = short_text(&mut errors, "note", raw.note.as_deref(), MAX_NOTE)
            .map(|n| crate::redact::redact(&n).0);

        let closure = match raw.closure {
            None => None,
            Some(c) => {
                let id = match c.id.as_deref().map(str::trim) {
                    Some(id) if !id.is_empty() && id.chars().count() <= 128 => Some(id.to_string()),
                    Some(_) => {
                        errors.push(FieldError::new("closure.id", "must be 1-128 characters"));
                        None
                    }
                    None => {
                        required(&mut errors, "closure.id");
                        None
                    }
                };
                let scope = match c.scope.as_deref() {
                    None => {
                        required(&mut errors, "closure.scope");
                        None
                    }
                    v => one_of(
                        &mut errors,
                        "closure.scope",
                        v,
                        ClosureScope::parse,
                        ClosureScope::ALL,
                    ),
                };
                let department = short_text(
                    &mut errors,
                    "closure.department",
                    c.department.as_deref(),
                    100,
                );
                let kind = one_of(
                    &mut errors,
                    "closure.kind",
                    c.kind.as_deref(),
                    ClosureKind::parse,
                    ClosureKind::ALL,
                );
                let diverted_to = short_text(
                    &mut errors,
                    "closure.diverted_to",
                    c.diverted_to.as_deref(),
                    32,
                );
                match (id, scope) {
                    (Some(id), Some(scope)) => Some(Closure {
                        id,
                        scope,
                        department,
                        kind,
                        diverted_to,
                    }),
                    _ => None,
                }
            }
        };
        let closure_given = closure.is_some();

        let test = match raw.test {
            None => None,
            Some(t) => {
                let kind = match t.kind.as_deref() {
                    None => {
                        required(&mut errors, "test.kind");
                        None
                    }
                    v => one_of(&mut errors, "test.kind", v, TestKind::parse, TestKind::ALL),
                };
                let result = match t.result.as_deref() {
                    None => {
                        required(&mut errors, "test.result");
                        None
                    }
                    v => one_of(
                        &mut errors,
                        "test.result",
                        v,
                        TestResult::parse,
                        TestResult::ALL,
                    ),
                };
                kind.zip(result)
                    .map(|(kind, result)| TestInfo { kind, result })
            }
        };

        // Requirements per type.
        if let Some(kind) = kind {
            if kind.is_patient_event()
                && patient.is_none()
                && !errors.iter().any(|e| e.field.starts_with("patient"))
            {
                required(&mut errors, "patient");
            }
            match kind {
                EventKind::Arrival if raw.acuity.is_none() => required(&mut errors, "acuity"),
                EventKind::Refusal
                    if reasons.is_empty() && raw.reasons.as_ref().is_none_or(|r| r.is_empty()) =>
                {
                    errors.push(FieldError::new(
                        "reasons",
                        "is required on a refusal (at least one reason)",
                    ))
                }
                EventKind::ClosureStart | EventKind::ClosureEnd
                    if !closure_given && !errors.iter().any(|e| e.field.starts_with("closure")) =>
                {
                    required(&mut errors, "closure")
                }
                EventKind::Test
                    if test.is_none() && !errors.iter().any(|e| e.field.starts_with("test")) =>
                {
                    required(&mut errors, "test")
                }
                EventKind::Transfer
                    if to_hospital.is_none()
                        && raw.to_hospital.is_none()
                        && to_facility.is_none()
                        && !errors.iter().any(|e| e.field.starts_with("to_facility")) =>
                {
                    errors.push(FieldError::new(
                        "to_hospital",
                        "is required on a transfer (or to_facility, for a facility outside the register)",
                    ))
                }
                EventKind::Transfer if to_hospital.is_some() && to_facility.is_some() => errors
                    .push(FieldError::new(
                        "to_facility",
                        "give either to_hospital or to_facility, not both",
                    )),
                _ => {}
            }
        }

        if !errors.is_empty() {
            return Err(errors);
        }
        let (Some(kind), Some(occurred_at)) = (kind, occurred_at) else {
            return Err(vec![FieldError::new("type", "is required")]);
        };
        Ok(Self {
            event_id,
            patient,
            body: EventBody {
                kind,
                occurred_at: crate::time::to_micros(occurred_at.naive_utc()).and_utc(),
                acuity,
                arrived_by,
                origin_zone,
                health_code,
                test_status,
                symptoms,
                groups,
                reasons,
                to_hospital,
                to_facility,
                approval,
                closure,
                test,
                department,
                note,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<IntakeEvent, Vec<String>> {
        let raw: RawEvent = serde_json::from_str(json).map_err(|e| vec![e.to_string()])?;
        IntakeEvent::parse(raw, Utc::now())
            .map_err(|errs| errs.into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn a_full_arrival_parses() {
        let e = parse(r#"{"event_id":"a1","type":"arrival","occurred_at":"2022-04-02T08:15:00+08:00",
            "patient":{"id_number":"110105194912310021"},"acuity":"critical","arrived_by":"ambulance",
            "origin_zone":"sealed","health_code":"red","test_status":"none","symptoms":["fever"],"groups":["pregnant"]}"#)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(e.body.kind, EventKind::Arrival);
        assert_eq!(e.body.occurred_at.to_rfc3339(), "2022-04-02T00:15:00+00:00");
        assert_eq!(
            e.patient,
            Some(PatientId::IdNumber("110105194912310021".into()))
        );
    }

    #[test]
    fn every_fault_is_named() {
        assert_eq!(
            parse(
                r#"{"type":"arrival","occurred_at":"2022-04-02T08:15:00+08:00","patient":{"ref":"p"}}"#
            ),
            Err(vec!["event_id".into(), "acuity".into()])
        );
        assert_eq!(
            parse(r#"{"event_id":"x","type":"arival","occurred_at":"2022-04-02T08:15:00"}"#),
            Err(vec!["type".into(), "occurred_at".into()])
        );
        assert_eq!(
            parse(
                r#"{"event_id":"x","type":"refusal","occurred_at":"2022-04-02T08:15:00Z","patient":{"ref":"p"},"reasons":["fever","bad"]}"#
            ),
            Err(vec!["reasons[1]".into()])
        );
        assert_eq!(
            parse(
                r#"{"event_id":"x","type":"refusal","occurred_at":"2022-04-02T08:15:00Z","patient":{"ref":"p"}}"#
            ),
            Err(vec!["reasons".into()])
        );
        assert_eq!(
            parse(
                r#"{"event_id":"x","type":"closure_start","occurred_at":"2022-04-02T08:15:00Z","closure":{"scope":"wing"}}"#
            ),
            Err(vec!["closure.id".into(), "closure.scope".into()])
        );
        let future = (Utc::now() + Duration::minutes(10)).to_rfc3339();
        assert_eq!(
            parse(&format!(
                r#"{{"event_id":"x","type":"handover","occurred_at":"{future}","patient":{{"ref":"p"}}}}"#
            )),
            Err(vec!["occurred_at".into()])
        );
        let soon = (Utc::now() + Duration::minutes(4)).to_rfc3339();
        assert!(parse(&format!(r#"{{"event_id":"x","type":"handover","occurred_at":"{soon}","patient":{{"ref":"p"}}}}"#)).is_ok());
        assert_eq!(
            parse(r#"{"event_id":"x","type":"handover","occurred_at":"2022-04-02T08:15:00Z"}"#),
            Err(vec!["patient".into()])
        );
    }

    #[test]
    fn a_referral_out_of_the_register_names_each_missing_part() {
        let transfer = |more: &str| {
            parse(&format!(
                r#"{{"event_id":"t","type":"transfer","occurred_at":"2022-07-01T10:00:00+08:00","patient":{{"ref":"p"}}{more}}}"#
            ))
        };
        let ok = transfer(
            r#","to_facility":{"name":"中国医大一院","city":"沈阳","province":"辽宁"},"approval":{"ref":"丹卫转〔2022〕1号","level":"municipal"}"#,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            ok.body.approval.map(|a| a.level),
            Some(ApprovalLevel::Municipal)
        );
        assert_eq!(
            transfer(r#","to_facility":{"name":"中国医大一院","province":"辽宁"}"#),
            Err(vec!["to_facility.city".into()])
        );
        assert_eq!(
            transfer(
                r#","to_facility":{"name":"x","city":"沈阳","province":"辽宁"},"approval":{"ref":"a","level":"national"}"#
            ),
            Err(vec!["approval.level".into()])
        );
        assert_eq!(transfer(""), Err(vec!["to_hospital".into()]));
        assert_eq!(
            transfer(
                r#","to_hospital":"DD-ZX","to_facility":{"name":"x","city":"沈阳","province":"辽宁"}"#
            ),
            Err(vec!["to_facility".into()])
        );
    }

    #[test]
    fn a_closure_s_kind_is_one_of_the_six() {
        let closure = |kind: &str| {
            parse(&format!(
                r#"{{"event_id":"c","type":"closure_start","occurred_at":"2022-07-01T10:00:00+08:00","closure":{{"id":"c-1","scope":"unit","kind":"{kind}","diverted_to":"DD-ZX"}}}}"#
            ))
        };
        let ok = closure("dialysis").unwrap_or_else(|e| panic!("{e:?}"));
        let c = ok.body.closure.unwrap_or_else(|| panic!("no closure"));
        assert_eq!(
            (c.kind, c.diverted_to.as_deref()),
            (Some(ClosureKind::Dialysis), Some("DD-ZX"))
        );
        assert_eq!(closure("icu"), Err(vec!["closure.kind".into()]));
    }

    #[test]
    fn designated_zones_parse_from_a_comma_list_and_none_is_not_a_zone() {
        assert_eq!(
            OriginZone::parse_designated(" controlled, sealed,sealed "),
            Ok(vec![OriginZone::Sealed, OriginZone::Controlled])
        );
        assert_eq!(OriginZone::parse_designated(""), Ok(vec![]));
        assert!(OriginZone::parse_designated("sealed,none").is_err());
        assert!(OriginZone::parse_designated("yellow").is_err());
        assert_eq!(
            OriginZone::designated_text(&[OriginZone::Sealed, OriginZone::Controlled]),
            "sealed,controlled"
        );
    }
}
