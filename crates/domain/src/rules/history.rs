//! What the patient rules look at: one patient's events across hospitals, in event time, and
//! the episodes they form.

use std::collections::HashMap;
use std::ops::Range;

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
///
/// A history may be long (a dialysis patient visits three times a week for years; a buggy
/// export sends thousands of events of one patient at once), so the rules never walk it once
/// per event: episodes are cut in one pass ([`Episodes`]), and "the first event of this kind
/// at this hospital from this time" is a binary search in a [`Lookup`] built once per pass.
#[derive(Debug, Clone, Default)]
pub struct PatientHistory {
    pub events: Vec<EventView>,
    pub legs: Vec<AmbulanceLeg>,
    /// The legs of each hospital, as indices into `legs` (in time).
    legs_by_hospital: HashMap<i64, Vec<usize>>,
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
            legs_by_hospital: HashMap::new(),
        }
    }

    /// The history with the ambulances that brought the patient, in time.
    pub fn with_legs(mut self, mut legs: Vec<AmbulanceLeg>) -> Self {
        legs.sort_by_key(|l| (l.at, l.row_id));
        let mut by_hospital: HashMap<i64, Vec<usize>> = HashMap::new();
        for (i, l) in legs.iter().enumerate() {
            by_hospital.entry(l.hospital_id).or_default().push(i);
        }
        self.legs = legs;
        self.legs_by_hospital = by_hospital;
        self
    }

    /// The ambulance leg that is the same arrival as the hospital's `arrival`: at the same
    /// hospital, within [`SAME_ARRIVAL`], the nearest in time (the first recorded of equals).
    pub fn leg_for(&self, arrival: &EventView) -> Option<&AmbulanceLeg> {
        let legs = self.legs_by_hospital.get(&arrival.hospital_id)?;
        let t = arrival.occurred_at;
        // The last leg at or before `t` and the first after it are the nearest on each side;
        // of legs at the same time the first holds the smallest row.
        let after = legs.partition_point(|&i| self.legs[i].at <= t);
        let before = after
            .checked_sub(1)
            .map(|b| {
                let at = self.legs[legs[b]].at;
                legs[legs.partition_point(|&i| self.legs[i].at < at)]
            })
            .map(|i| &self.legs[i]);
        let after = legs.get(after).map(|&i| &self.legs[i]);
        [before, after]
            .into_iter()
            .flatten()
            .filter(|l| (l.at - t).abs() <= SAME_ARRIVAL)
            .min_by_key(|l| ((l.at - t).abs(), l.row_id))
    }

    /// The episodes of the history under `gap` (runs of events no more than `gap` apart).
    pub fn episodes(&self, gap: Duration) -> Episodes {
        Episodes::new(&self.events, gap)
    }

    /// The episode (a run of events no more than `gap` apart) that holds event `index`. Cuts
    /// every episode: a rule that asks for many builds [`Episodes`] once instead.
    pub fn episode_of(&self, index: usize, gap: Duration) -> &[EventView] {
        &self.events[self.episodes(gap).of(index)]
    }

    /// The arrivals of the history, per hospital.
    pub fn arrivals(&self) -> Lookup<'_> {
        Lookup::new(&self.events, |e| e.kind() == EventKind::Arrival)
    }

    /// Event `index` as an act of care (a refusal, a transfer) in its episode.
    pub fn act<'a>(&'a self, episodes: &Episodes, arrivals: &Lookup<'a>, index: usize) -> Act<'a> {
        let range = episodes.of(index);
        let ev = &self.events[index];
        // The arrival at the event's hospital it belongs to: the last one at or before it in
        // the episode, else the first after it.
        let arrival = arrivals
            .last_until(ev.hospital_id, ev.occurred_at, range.clone())
            .or_else(|| arrivals.first_within(ev.hospital_id, range.clone()));
        Act {
            ev,
            episode: &self.events[range.clone()],
            range,
            arrival,
        }
    }

    /// Each refusal in the history as an act in its episode (what the refusal rules judge).
    pub fn refusals(&self, gap: Duration) -> Vec<Act<'_>> {
        let episodes = self.episodes(gap);
        let arrivals = self.arrivals();
        (0..self.events.len())
            .filter(|&i| self.events[i].kind() == EventKind::Refusal)
            .map(|i| self.act(&episodes, &arrivals, i))
            .collect()
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
}

/// Where each event's episode starts and ends under one gap: cut in one pass over the history.
#[derive(Debug, Clone)]
pub struct Episodes {
    /// For each event, the index of the first event of its episode.
    start: Vec<usize>,
    /// For each event, one past the index of the last event of its episode.
    end: Vec<usize>,
}

impl Episodes {
    pub fn new(events: &[EventView], gap: Duration) -> Self {
        let n = events.len();
        let mut start = vec![0; n];
        for i in 1..n {
            start[i] = if events[i].occurred_at - events[i - 1].occurred_at <= gap {
                start[i - 1]
            } else {
                i
            };
        }
        let mut end = vec![n; n];
        for i in (0..n.saturating_sub(1)).rev() {
            end[i] = if events[i + 1].occurred_at - events[i].occurred_at <= gap {
                end[i + 1]
            } else {
                i + 1
            };
        }
        Self { start, end }
    }

    /// The indices of event `index`'s episode.
    pub fn of(&self, index: usize) -> Range<usize> {
        self.start[index]..self.end[index]
    }
}

/// The events of a history that match a test, per hospital, in time: built in one pass, then
/// each question ("the first such event at this hospital from this time in this episode") is a
/// binary search.
pub struct Lookup<'a> {
    events: &'a [EventView],
    by_hospital: HashMap<i64, Vec<usize>>,
}

impl<'a> Lookup<'a> {
    pub fn new(events: &'a [EventView], matches: impl Fn(&EventView) -> bool) -> Self {
        let mut by_hospital: HashMap<i64, Vec<usize>> = HashMap::new();
        for (i, e) in events.iter().enumerate() {
            if matches(e) {
                by_hospital.entry(e.hospital_id).or_default().push(i);
            }
        }
        Self {
            events,
            by_hospital,
        }
    }

    fn of(&self, hospital: i64) -> &[usize] {
        self.by_hospital.get(&hospital).map_or(&[], Vec::as_slice)
    }

    /// The first matching event at `hospital` at or after `t`, if its index is `within`.
    pub fn first_from(
        &self,
        hospital: i64,
        t: NaiveDateTime,
        within: Range<usize>,
    ) -> Option<&'a EventView> {
        let list = self.of(hospital);
        let first = list.partition_point(|&i| i < within.start || self.events[i].occurred_at < t);
        list.get(first)
            .filter(|&&i| within.contains(&i))
            .map(|&i| &self.events[i])
    }

    /// The last matching event at `hospital` at or before `t`, if its index is `within`.
    pub fn last_until(
        &self,
        hospital: i64,
        t: NaiveDateTime,
        within: Range<usize>,
    ) -> Option<&'a EventView> {
        let list = self.of(hospital);
        let past = list.partition_point(|&i| self.events[i].occurred_at <= t && i < within.end);
        past.checked_sub(1)
            .map(|last| list[last])
            .filter(|i| within.contains(i))
            .map(|i| &self.events[i])
    }

    /// The first matching event at `hospital` whose index is `within`.
    pub fn first_within(&self, hospital: i64, within: Range<usize>) -> Option<&'a EventView> {
        let list = self.of(hospital);
        list.get(list.partition_point(|&i| i < within.start))
            .filter(|&&i| within.contains(&i))
            .map(|&i| &self.events[i])
    }
}

/// An act of care (a refusal, a transfer) in its episode, with the arrival it belongs to.
pub struct Act<'a> {
    pub ev: &'a EventView,
    pub episode: &'a [EventView],
    /// The episode's indices in the history.
    pub range: Range<usize>,
    /// The arrival at the act's hospital it belongs to.
    pub arrival: Option<&'a EventView>,
}

impl Act<'_> {
    /// The evidence of the act: its arrival (if any) and the event itself.
    pub fn evidence(&self) -> Vec<i64> {
        match self.arrival {
            Some(a) if a.row_id != self.ev.row_id => vec![a.row_id, self.ev.row_id],
            _ => vec![self.ev.row_id],
        }
    }

    /// The patient's acuity: given on the event itself, else on its arrival.
    pub fn acuity(&self) -> Option<Acuity> {
        self.ev
            .body
            .acuity
            .or_else(|| self.arrival.and_then(|a| a.body.acuity))
    }

    /// The zone the patient came from: given on the event itself, else on its arrival.
    pub fn zone(&self) -> Option<OriginZone> {
        self.ev
            .body
            .origin_zone
            .or_else(|| self.arrival.and_then(|a| a.body.origin_zone))
    }

    /// Special groups recorded on the event or on its arrival.
    pub fn groups(&self) -> Vec<Group> {
        let mut groups = self.ev.body.groups.clone();
        if let Some(a) = self.arrival {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    /// A history of `n` events at three hospitals, of every kind in turn, whose gaps vary from
    /// nothing to a few hours (so that some episodes break and some times repeat).
    fn jumbled(n: usize) -> PatientHistory {
        let kinds = [
            EventKind::Arrival,
            EventKind::Refusal,
            EventKind::Treatment,
            EventKind::Arrival,
            EventKind::Transfer,
        ];
        let mut minutes = 0;
        let events = (0..n)
            .map(|i| {
                minutes += [0, 7, 0, 150, 30, 400][(i * 7) % 6];
                let at = cn("2022-07-01 00:00") + Duration::minutes(minutes);
                let mut e = ev(
                    i as i64 + 1,
                    (i * 5 % 3) as i64 + 1,
                    kinds[i % 5],
                    "2022-07-01 00:00",
                );
                e.occurred_at = at;
                e
            })
            .collect();
        history(events)
    }

    #[test]
    fn episodes_cut_in_one_pass_are_the_runs_no_more_than_the_gap_apart() {
        let h = jumbled(300);
        let gap = Duration::hours(2);
        let episodes = h.episodes(gap);
        for i in 0..h.events.len() {
            let range = episodes.of(i);
            assert!(range.contains(&i));
            let inside = &h.events[range.clone()];
            assert!(
                inside
                    .windows(2)
                    .all(|w| w[1].occurred_at - w[0].occurred_at <= gap)
            );
            if range.start > 0 {
                assert!(
                    h.events[range.start].occurred_at - h.events[range.start - 1].occurred_at > gap
                );
            }
            if range.end < h.events.len() {
                assert!(
                    h.events[range.end].occurred_at - h.events[range.end - 1].occurred_at > gap
                );
            }
        }
        assert!(
            (0..h.events.len())
                .map(|i| episodes.of(i).start)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
                > 5
        );
    }

    #[test]
    fn an_act_s_arrival_is_the_last_at_its_hospital_up_to_it_else_the_first_after_it() {
        let h = jumbled(300);
        let episodes = h.episodes(Duration::hours(2));
        let arrivals = h.arrivals();
        let mut before = 0;
        let mut after = 0;
        for i in 0..h.events.len() {
            let act = h.act(&episodes, &arrivals, i);
            let ev = &h.events[i];
            // What the rules meant, read the slow way: a walk through the episode.
            let here = || {
                act.episode
                    .iter()
                    .filter(|e| e.kind() == EventKind::Arrival && e.hospital_id == ev.hospital_id)
            };
            let expected = here()
                .rfind(|e| e.occurred_at <= ev.occurred_at)
                .inspect(|_| before += 1)
                .or_else(|| here().next().inspect(|_| after += 1));
            assert_eq!(
                act.arrival.map(|a| a.row_id),
                expected.map(|a| a.row_id),
                "event {i}"
            );
        }
        assert!(before > 50 && after > 5, "{before} {after}");
    }

    #[test]
    fn a_lookup_finds_the_first_match_from_a_time_within_an_episode_only() {
        let events = vec![
            ev(1, 1, EventKind::Arrival, "2022-07-01 10:00"),
            ev(2, 2, EventKind::Handover, "2022-07-01 10:05"),
            ev(3, 1, EventKind::Handover, "2022-07-01 10:05"),
            ev(4, 1, EventKind::Handover, "2022-07-01 10:30"),
        ];
        let h = history(events);
        let handovers = Lookup::new(&h.events, |e| e.kind() == EventKind::Handover);
        let row = |e: Option<&EventView>| e.map(|e| e.row_id);
        assert_eq!(
            row(handovers.first_from(1, cn("2022-07-01 10:00"), 0..4)),
            Some(3)
        );
        assert_eq!(
            row(handovers.first_from(1, cn("2022-07-01 10:06"), 0..4)),
            Some(4)
        );
        assert_eq!(
            row(handovers.first_from(1, cn("2022-07-01 10:06"), 0..3)),
            None
        );
        assert_eq!(
            row(handovers.last_until(1, cn("2022-07-01 10:29"), 0..4)),
            Some(3)
        );
        assert_eq!(
            row(handovers.last_until(1, cn("2022-07-01 10:29"), 3..4)),
            None
        );
        assert_eq!(row(handovers.first_within(2, 0..4)), Some(2));
        assert_eq!(row(handovers.first_within(3, 0..4)), None);
    }

    fn leg(row: i64, hospital: i64, at: &str) -> AmbulanceLeg {
        AmbulanceLeg {
            row_id: row,
            event_id: format!("l-{row}"),
            centre_name: "120".into(),
            call_id: format!("c-{row}"),
            hospital_id: hospital,
            hospital_name: String::new(),
            jurisdiction: "beijing".into(),
            at: cn(at),
            handed_over: None,
        }
    }

    #[test]
    fn an_arrival_s_leg_is_the_nearest_at_its_hospital_within_two_hours_the_first_recorded_of_equals()
     {
        let h = history(vec![]).with_legs(vec![
            leg(9, 1, "2022-07-01 09:50"),
            leg(8, 1, "2022-07-01 10:10"),
            leg(7, 1, "2022-07-01 10:10"),
            leg(6, 2, "2022-07-01 10:00"),
            leg(5, 1, "2022-07-01 13:00"),
        ]);
        let row = |at: &str| {
            h.leg_for(&ev(1, 1, EventKind::Arrival, at))
                .map(|l| l.row_id)
        };
        // 10:00: 09:50 and 10:10 are as near; of the three legs the first recorded (row 7).
        assert_eq!(row("2022-07-01 10:00"), Some(7));
        assert_eq!(row("2022-07-01 09:55"), Some(9));
        assert_eq!(row("2022-07-01 10:10"), Some(7));
        assert_eq!(row("2022-07-01 12:00"), Some(5));
        assert_eq!(row("2022-07-01 15:01"), None);
        assert_eq!(row("2022-07-01 07:49"), None);
    }
}
