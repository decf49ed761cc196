//! What the patient rules look at: one patient's events across hospitals, in event time, and
//! the episodes they form.

use chrono::{Duration, NaiveDateTime};

use crate::event::{Acuity, EventBody, EventKind, Group, OriginZone, Reason};

/// A stored event as the rules see it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventView {
    pub row_id: i64,
    pub event_id: String,
    pub hospital_id: i64,
    pub hospital_code: String,
    pub hospital_name: String,
    pub jurisdiction: String,
    /// The zones the hospital is a designated hospital for.
    pub designated_for: Vec<OriginZone>,
    pub occurred_at: NaiveDateTime,
    pub body: EventBody,
}

impl EventView {
    pub fn kind(&self) -> EventKind {
        self.body.kind
    }
}

/// An ambulance that a 120 centre reported at a hospital with this patient (`at_hospital`),
/// and the centre's `handed_over` of the same call at that hospital, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmbulanceLeg {
    /// The `at_hospital` event's row.
    pub row_id: i64,
    pub event_id: String,
    pub centre_name: String,
    pub call_id: String,
    /// The hospital reached (its jurisdiction's settings apply).
    pub hospital_id: i64,
    pub hospital_name: String,
    pub jurisdiction: String,
    pub at: NaiveDateTime,
    /// The centre's `handed_over` at that hospital: (row, time).
    pub handed_over: Option<(i64, NaiveDateTime)>,
}

/// How far apart an ambulance's `at_hospital` and the hospital's own arrival of the same
/// patient may be and still be one arrival.
pub const SAME_ARRIVAL: Duration = Duration::hours(2);

/// One patient's events, sorted by event time (then by row id, so that the order does not
/// depend on the order of arrival), and the ambulances that brought them.
#[derive(Debug, Clone, Default)]
pub struct PatientHistory {
    pub events: Vec<EventView>,
    pub legs: Vec<AmbulanceLeg>,
}

impl PatientHistory {
    pub fn new(mut events: Vec<EventView>) -> Self {
        events.sort_by(|a, b| {
            (a.occurred_at, &a.hospital_code, &a.event_id).cmp(&(
                b.occurred_at,
                &b.hospital_code,
                &b.event_id,
            ))
        });
        Self {
            events,
            legs: Vec::new(),
        }
    }

    /// The history with the ambulances that brought the patient, in time.
    pub fn with_legs(mut self, mut legs: Vec<AmbulanceLeg>) -> Self {
        legs.sort_by_key(|l| (l.at, l.row_id));
        self.legs = legs;
        self
    }

    /// The ambulance leg that is the same arrival as the hospital's `arrival`: at the same
    /// hospital, within [`SAME_ARRIVAL`], the nearest in time.
    pub fn leg_for(&self, arrival: &EventView) -> Option<&AmbulanceLeg> {
        self.legs
            .iter()
            .filter(|l| {
                l.hospital_id == arrival.hospital_id
                    && (l.at - arrival.occurred_at).abs() <= SAME_ARRIVAL
            })
            .min_by_key(|l| ((l.at - arrival.occurred_at).abs(), l.row_id))
    }

    /// The episode (a run of events no more than `gap` apart) that holds event `index`.
    pub fn episode_of(&self, index: usize, gap: Duration) -> &[EventView] {
        let mut start = index;
        while start > 0
            && self.events[start].occurred_at - self.events[start - 1].occurred_at <= gap
        {
            start -= 1;
        }
        let mut end = index;
        while end + 1 < self.events.len()
            && self.events[end + 1].occurred_at - self.events[end].occurred_at <= gap
        {
            end += 1;
        }
        &self.events[start..=end]
    }

    /// Each refusal in the history with the episode it belongs to (what the refusal rules
    /// judge).
    pub fn refusals(&self, gap: Duration) -> impl Iterator<Item = (&EventView, &[EventView])> {
        self.events
            .iter()
            .enumerate()
            .filter(|(_, ev)| ev.kind() == EventKind::Refusal)
            .map(move |(i, ev)| (ev, self.episode_of(i, gap)))
    }

    /// The hospitals of an episode in the order the patient went through them.
    pub fn chain(episode: &[EventView]) -> Vec<String> {
        let mut chain: Vec<String> = Vec::new();
        for e in episode {
            if chain.last() != Some(&e.hospital_code) {
                chain.push(e.hospital_code.clone());
            }
        }
        chain
    }

    /// The arrival at `ev`'s hospital that `ev` belongs to: the last one at or before it in
    /// the episode, else the first after it.
    pub fn arrival_for<'a>(episode: &'a [EventView], ev: &EventView) -> Option<&'a EventView> {
        let arrivals = episode
            .iter()
            .filter(|e| e.kind() == EventKind::Arrival && e.hospital_id == ev.hospital_id);
        arrivals
            .clone()
            .rfind(|e| e.occurred_at <= ev.occurred_at)
            .or_else(|| arrivals.clone().next())
    }

    /// The evidence of an act: its arrival (if any) and the event itself.
    pub fn with_arrival(episode: &[EventView], ev: &EventView) -> Vec<i64> {
        match Self::arrival_for(episode, ev) {
            Some(a) if a.row_id != ev.row_id => vec![a.row_id, ev.row_id],
            _ => vec![ev.row_id],
        }
    }

    /// The patient's acuity at `ev`: given on the event itself, else on its arrival.
    pub fn acuity_for(episode: &[EventView], ev: &EventView) -> Option<Acuity> {
        ev.body
            .acuity
            .or_else(|| Self::arrival_for(episode, ev).and_then(|a| a.body.acuity))
    }

    /// The zone the patient came from: given on the event itself, else on its arrival.
    pub fn zone_for(episode: &[EventView], ev: &EventView) -> Option<OriginZone> {
        ev.body
            .origin_zone
            .or_else(|| Self::arrival_for(episode, ev).and_then(|a| a.body.origin_zone))
    }

    /// Special groups recorded on the event or on its arrival.
    pub fn groups_for(episode: &[EventView], ev: &EventView) -> Vec<Group> {
        let mut groups = ev.body.groups.clone();
        if let Some(a) = Self::arrival_for(episode, ev) {
            for g in &a.body.groups {
                if !groups.contains(g) {
                    groups.push(*g);
                }
            }
        }
        groups
    }
}

pub fn is_critical_or_urgent(acuity: Option<Acuity>) -> bool {
    matches!(acuity, Some(Acuity::Critical | Acuity::Urgent))
}

pub fn acuity_zh(a: Option<Acuity>) -> &'static str {
    match a {
        Some(Acuity::Critical) => "危重",
        Some(Acuity::Urgent) => "急症",
        Some(Acuity::Routine) => "普通",
        None => "",
    }
}

pub fn reason_zh(r: Reason) -> &'static str {
    match r {
        Reason::HealthCode => "健康码异常",
        Reason::TravelCode => "行程码异常",
        Reason::NoTest => "无核酸结果",
        Reason::ExpiredTest => "核酸结果超时",
        Reason::Fever => "发热",
        Reason::CovidSymptoms => "新冠症状",
        Reason::Disinfection => "消毒消杀",
        Reason::DepartmentClosed => "科室封控",
        Reason::NoBeds => "床位不足",
        Reason::NoCommunityCertificate => "无社区证明",
        Reason::Other => "其他",
    }
}

pub fn zone_zh(z: OriginZone) -> &'static str {
    match z {
        OriginZone::Sealed => "封控区",
        OriginZone::Controlled => "管控区",
        OriginZone::Precaution => "防范区",
        OriginZone::None => "非封管控区",
    }
}

pub fn group_zh(g: Group) -> &'static str {
    match g {
        Group::Pregnant => "孕产妇",
        Group::Newborn => "新生儿",
        Group::Dialysis => "透析患者",
        Group::Chemotherapy => "放化疗患者",
        Group::Oncology => "肿瘤患者",
        Group::RenalFailure => "肾功能衰竭患者",
        Group::Chronic => "慢性病患者",
    }
}

/// Local time in China for summaries.
pub fn china_time(t: NaiveDateTime) -> String {
    crate::time::to_china(t).format("%m-%d %H:%M").to_string()
}
