//! Policy packs: TOML files that change thresholds, severities and which rules are on, per
//! jurisdiction and with the dates each setting is in force. An event is judged by the
//! settings in force at its `occurred_at`.
//!
//! ```toml
//! name = "丹东市 2022"
//! [[setting]]
//! jurisdiction = "dandong"        # or "*" for every jurisdiction
//! rule = "handover.delay"
//! from = "2022-06-27"             # inclusive; a date (China time) or an RFC 3339 time
//! until = "2022-12-31"            # exclusive; optional
//! enabled = true
//! severity = "medium"
//! limit_minutes = 15              # or limit_seconds / limit_hours / limit_days
//! count = 3                       # complaint.cluster (complaints), dispatch.answer_rate
//!                                 # (percent), dispatch.fleet_short (ambulances, with area)
//! area = "主城区"                  # dispatch.fleet_short only: the area the count is for
//! window_minutes = 120            # complaint.unlogged only: either side of the complaint's time
//! ordinary_limit_hours = 6        # transport.wait only: residents of no special group (the
//!                                 # limit is the special groups'); or ordinary_limit_minutes
//! source = "003 第三条：原则上要在15分钟内完成接诊和交接工作"
//!
//! [[jurisdiction]]                # where a jurisdiction is (referral.unapproved)
//! id = "dandong"
//! city = "丹东"
//! province = "辽宁"
//! ```
//! Settings apply over the built-in defaults in file order; a later match overrides an earlier.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime};
use serde::Deserialize;

use crate::calendar::Calendar;
use crate::rules::{self, RuleId, Setting, Severity};
use crate::time::china_date;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    name: Option<String>,
    /// Days after a complaint is closed before its contact details are deleted.
    complaint_retention_days: Option<u32>,
    /// Minutes within which a high-severity case must be acknowledged before the supervisors
    /// are emailed.
    escalation_ack_minutes: Option<u32>,
    /// Minutes a hospital has to reply to a forwarded case (default 1440).
    hospital_reply_minutes: Option<u32>,
    /// Working days from a complaint's forwarding to the hospital's answer (default 5).
    complaint_answer_workdays: Option<u32>,
    /// Working days from the answer to the operator's callback (default 1).
    complaint_callback_workdays: Option<u32>,
    /// Public holidays and make-up working days (调休).
    calendar: Option<RawCalendar>,
    #[serde(default)]
    setting: Vec<RawSetting>,
    /// Escalation addresses per district.
    #[serde(default)]
    route: Vec<RawRoute>,
    /// Where the jurisdictions are.
    #[serde(default)]
    jurisdiction: Vec<RawJurisdiction>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJurisdiction {
    id: String,
    city: String,
    province: String,
}

/// Where a jurisdiction is: its city and province (a municipality is its own province).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub city: String,
    pub province: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    /// `*` (every jurisdiction: the State Council's calendar) unless a local one.
    jurisdiction: Option<String>,
    #[serde(default)]
    holidays: Vec<toml::Spanned<String>>,
    #[serde(default)]
    workdays: Vec<toml::Spanned<String>>,
    source: Option<String>,
}

/// The State Council's calendars the project ships (`policies/calendar-*.toml`): in force
/// whenever no pack loaded brings a national (`*`) calendar of its own.
const NATIONAL_CALENDARS: &[&str] = &[
    include_str!("../../../policies/calendar-2022.toml"),
    include_str!("../../../policies/calendar-2026.toml"),
];

/// The jurisdictions' packs the project ships.
const SHIPPED_PACKS: &[&str] = &[
    include_str!("../../../policies/beijing.toml"),
    include_str!("../../../policies/shanghai.toml"),
    include_str!("../../../policies/dandong.toml"),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    district: String,
    to: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSetting {
    jurisdiction: String,
    rule: String,
    from: Option<String>,
    until: Option<String>,
    enabled: Option<bool>,
    severity: Option<String>,
    limit_seconds: Option<i64>,
    limit_minutes: Option<i64>,
    limit_hours: Option<i64>,
    limit_days: Option<i64>,
    count: Option<u32>,
    area: Option<String>,
    window_minutes: Option<i64>,
    /// transport.wait only: the limit for residents of no special group.
    ordinary_limit_minutes: Option<i64>,
    ordinary_limit_hours: Option<i64>,
    source: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PackSetting {
    pub jurisdiction: String,
    pub rule: RuleId,
    pub from: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    pub enabled: Option<bool>,
    pub severity: Option<Severity>,
    pub limit: Option<Duration>,
    pub count: Option<u32>,
    /// dispatch.fleet_short: the area `count` is for.
    pub area: Option<String>,
    pub window: Option<Duration>,
    /// transport.wait: the limit for residents of no special group.
    pub ordinary_limit: Option<Duration>,
    pub source: String,
}

impl PackSetting {
    fn applies(&self, rule: RuleId, jurisdiction: &str, at: NaiveDateTime) -> bool {
        self.rule == rule
            && (self.jurisdiction == "*" || self.jurisdiction == jurisdiction)
            && self.from.is_none_or(|f| f <= at)
            && self.until.is_none_or(|u| at < u)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub names: Vec<String>,
    pub settings: Vec<PackSetting>,
    pub complaint_retention_days: Option<u32>,
    pub escalation_ack_minutes: Option<u32>,
    pub hospital_reply_minutes: Option<u32>,
    pub complaint_answer_workdays: Option<u32>,
    pub complaint_callback_workdays: Option<u32>,
    /// (jurisdiction or `*`, the calendar, its source), one per pack that has one.
    pub calendars: Vec<(String, Calendar, String)>,
    /// (district, addresses) for escalation emails.
    pub routes: Vec<(String, Vec<String>)>,
    /// The jurisdictions' places, by id (a later pack's declaration overrides).
    pub places: std::collections::BTreeMap<String, Place>,
}

/// A date is midnight in China (UTC+8); a time must carry its offset.
fn parse_instant(s: &str) -> Result<NaiveDateTime, String> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let midnight = d.and_hms_opt(0, 0, 0).ok_or("bad date")?;
        return Ok(crate::time::from_china(midnight));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.naive_utc())
        .map_err(|_| format!("`{s}` is neither YYYY-MM-DD nor an RFC 3339 time"))
}

impl Policy {
    /// The packs the project ships (`policies/`: Beijing, Shanghai, Dandong) over the
    /// built-in defaults, as `serve --demo` runs without `SHOUZHEN_POLICY`.
    pub fn shipped() -> Self {
        let mut policy = Self::default();
        for text in SHIPPED_PACKS {
            policy.add(text).expect("the shipped packs parse");
        }
        policy.add_national_calendars();
        policy
    }

    /// The built-in national defaults only.
    pub fn builtin() -> Self {
        let mut policy = Self::default();
        policy.add_national_calendars();
        policy
    }

    /// Adds the shipped national calendars unless a pack brought one.
    fn add_national_calendars(&mut self) {
        if self.calendars.iter().any(|(j, _, _)| j == "*") {
            return;
        }
        let mut shipped = Self::default();
        for text in NATIONAL_CALENDARS {
            shipped.add(text).expect("the shipped calendars parse");
        }
        self.calendars.extend(shipped.calendars);
    }

    /// Loads a pack file, or every `*.toml` file of a directory in name order.
    pub fn load(path: &Path) -> Result<Self, String> {
        let files: Vec<PathBuf> = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            files.sort();
            files
        } else {
            vec![path.to_path_buf()]
        };
        let mut policy = Self::default();
        for file in files {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            policy
                .add(&text)
                .map_err(|e| format!("{}: {e}", file.display()))?;
        }
        policy.add_national_calendars();
        Ok(policy)
    }

    /// Adds the settings of one pack (TOML text).
    pub fn add(&mut self, text: &str) -> Result<(), String> {
        let pack: PackFile = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(name) = pack.name {
            self.names.push(name);
        }
        if pack.complaint_retention_days.is_some() {
            self.complaint_retention_days = pack.complaint_retention_days;
        }
        if let Some(m) = pack.escalation_ack_minutes {
            if m == 0 {
                return Err("escalation_ack_minutes: must be at least 1".into());
            }
            self.escalation_ack_minutes = Some(m);
        }
        if pack.complaint_answer_workdays.is_some() {
            self.complaint_answer_workdays = pack.complaint_answer_workdays;
        }
        if pack.complaint_callback_workdays.is_some() {
            self.complaint_callback_workdays = pack.complaint_callback_workdays;
        }
        if let Some(raw) = pack.calendar {
            let day = |field: &str, s: &toml::Spanned<String>| {
                NaiveDate::parse_from_str(s.get_ref(), "%Y-%m-%d").map_err(|_| {
                    let line = text[..s.span().start.min(text.len())].matches('\n').count() + 1;
                    format!(
                        "line {line}: calendar.{field}: `{}` is not a date (YYYY-MM-DD)",
                        s.get_ref()
                    )
                })
            };
            let mut calendar = Calendar::default();
            for h in &raw.holidays {
                calendar.holidays.insert(day("holidays", h)?);
            }
            for w in &raw.workdays {
                calendar.workdays.insert(day("workdays", w)?);
            }
            if let Some(both) = calendar.holidays.intersection(&calendar.workdays).next() {
                return Err(format!(
                    "calendar: {both} is both a holiday and a working day"
                ));
            }
            self.calendars.push((
                raw.jurisdiction.unwrap_or_else(|| "*".into()),
                calendar,
                raw.source.unwrap_or_else(|| "policy pack".into()),
            ));
        }
        if let Some(m) = pack.hospital_reply_minutes {
            if m == 0 {
                return Err("hospital_reply_minutes: must be at least 1".into());
            }
            self.hospital_reply_minutes = Some(m);
        }
        for (i, r) in pack.route.into_iter().enumerate() {
            if let Some(bad) = r.to.iter().find(|a| !crate::field::looks_like_email(a)) {
                return Err(format!("route[{i}].to: `{bad}` is not an email address"));
            }
            self.routes.push((r.district, r.to));
        }
        for (i, j) in pack.jurisdiction.into_iter().enumerate() {
            let (id, city, province) = (j.id.trim(), j.city.trim(), j.province.trim());
            for (field, value) in [("id", id), ("city", city), ("province", province)] {
                if value.is_empty() {
                    return Err(format!("jurisdiction[{i}].{field}: must not be empty"));
                }
            }
            self.places.insert(
                id.to_string(),
                Place {
                    city: city.to_string(),
                    province: province.to_string(),
                },
            );
        }
        for (i, raw) in pack.setting.into_iter().enumerate() {
            let at = |field: &str| format!("setting[{i}].{field}");
            let rule = RuleId::parse(&raw.rule)
                .ok_or_else(|| format!("{}: unknown rule `{}`", at("rule"), raw.rule))?;
            if raw.jurisdiction.trim().is_empty() {
                return Err(format!(
                    "{}: must not be empty (use \"*\" for all)",
                    at("jurisdiction")
                ));
            }
            let from = raw
                .from
                .as_deref()
                .map(parse_instant)
                .transpose()
                .map_err(|e| format!("{}: {e}", at("from")))?;
            let until = raw
                .until
                .as_deref()
                .map(parse_instant)
                .transpose()
                .map_err(|e| format!("{}: {e}", at("until")))?;
            if let (Some(f), Some(u)) = (from, until)
                && f >= u
            {
                return Err(format!("{}: must be after from", at("until")));
            }
            let severity = raw
                .severity
                .as_deref()
                .map(|s| {
                    Severity::parse(s)
                        .ok_or_else(|| format!("{}: must be low, medium or high", at("severity")))
                })
                .transpose()?;
            let limits = [
                raw.limit_seconds.map(Duration::seconds),
                raw.limit_minutes.map(Duration::minutes),
                raw.limit_hours.map(Duration::hours),
                raw.limit_days.map(Duration::days),
            ];
            let given: Vec<Duration> = limits.into_iter().flatten().collect();
            if given.len() > 1 {
                return Err(format!(
                    "{}: give one of limit_seconds, limit_minutes, limit_hours, limit_days",
                    at("limit")
                ));
            }
            let limit = given.first().copied();
            if let Some(l) = limit {
                if l <= Duration::zero() {
                    return Err(format!("{}: must be positive", at("limit")));
                }
                if rule.info().default_limit.is_none() {
                    return Err(format!(
                        "{}: rule {} has no limit",
                        at("limit"),
                        rule.as_str()
                    ));
                }
            }
            let counted = [
                RuleId::ComplaintCluster,
                RuleId::DispatchAnswerRate,
                RuleId::DispatchFleetShort,
            ];
            if raw.count.is_some() && !counted.contains(&rule) {
                return Err(format!(
                    "{}: only complaint.cluster, dispatch.answer_rate and dispatch.fleet_short have a count",
                    at("count")
                ));
            }
            if rule == RuleId::DispatchAnswerRate && raw.count.is_some_and(|c| c > 100) {
                return Err(format!("{}: is a percentage, at most 100", at("count")));
            }
            let area = raw.area.as_deref().map(str::trim).map(str::to_string);
            if area.is_some() != (rule == RuleId::DispatchFleetShort && raw.count.is_some()) {
                return Err(format!(
                    "{}: dispatch.fleet_short takes a count with the area it is for, and no other rule an area",
                    at("area")
                ));
            }
            if area.as_deref() == Some("") {
                return Err(format!("{}: must not be empty", at("area")));
            }
            if raw.count == Some(0) {
                return Err(format!("{}: must be at least 1", at("count")));
            }
            if raw.window_minutes.is_some() && rule != RuleId::ComplaintUnlogged {
                return Err(format!(
                    "{}: only complaint.unlogged has a window",
                    at("window_minutes")
                ));
            }
            if raw.window_minutes.is_some_and(|m| m <= 0) {
                return Err(format!("{}: must be positive", at("window_minutes")));
            }
            let ordinary_limit = match (raw.ordinary_limit_minutes, raw.ordinary_limit_hours) {
                (Some(_), Some(_)) => {
                    return Err(format!(
                        "{}: give one of ordinary_limit_minutes, ordinary_limit_hours",
                        at("ordinary_limit")
                    ));
                }
                (m, h) => m.map(Duration::minutes).or(h.map(Duration::hours)),
            };
            if ordinary_limit.is_some() && rule != RuleId::TransportWait {
                return Err(format!(
                    "{}: only transport.wait has a limit for ordinary residents",
                    at("ordinary_limit")
                ));
            }
            if ordinary_limit.is_some_and(|l| l <= Duration::zero()) {
                return Err(format!("{}: must be positive", at("ordinary_limit")));
            }
            self.settings.push(PackSetting {
                jurisdiction: raw.jurisdiction.trim().to_string(),
                rule,
                from,
                until,
                enabled: raw.enabled,
                severity,
                limit,
                count: raw.count,
                area,
                window: raw.window_minutes.map(Duration::minutes),
                ordinary_limit,
                source: raw.source.unwrap_or_else(|| "policy pack".to_string()),
            });
        }
        Ok(())
    }

    /// Where `jurisdiction` is, if a pack declares it.
    pub fn place(&self, jurisdiction: &str) -> Option<Place> {
        self.places.get(jurisdiction).cloned()
    }

    /// The setting of `rule` for `jurisdiction` in force at `at`.
    pub fn setting(&self, rule: RuleId, jurisdiction: &str, at: NaiveDateTime) -> Setting {
        let mut s = Setting::default_for(rule);
        for p in self
            .settings
            .iter()
            .filter(|p| p.applies(rule, jurisdiction, at))
        {
            if let Some(e) = p.enabled {
                s.enabled = e;
            }
            if let Some(v) = p.severity {
                s.severity = v;
            }
            if p.limit.is_some() {
                s.limit = p.limit;
            }
            match (&p.area, p.count) {
                (Some(area), Some(c)) => {
                    s.areas.insert(area.clone(), c);
                }
                (None, Some(c)) => s.count = Some(c),
                _ => {}
            }
            if p.window.is_some() {
                s.window = p.window;
            }
            if p.ordinary_limit.is_some() {
                s.ordinary_limit = p.ordinary_limit;
            }
            s.source = p.source.clone();
        }
        s
    }

    /// Days after closing before a complaint's contact details are deleted.
    pub fn retention_days(&self) -> u32 {
        self.complaint_retention_days.unwrap_or(180)
    }

    /// Minutes within which a high-severity case must be acknowledged (default 30).
    pub fn escalation_ack_minutes(&self) -> u32 {
        self.escalation_ack_minutes.unwrap_or(30)
    }

    /// Minutes a hospital has to reply to a forwarded or returned case (default 1440, one day);
    /// as long again after the deadline, the supervisors are told.
    pub fn hospital_reply_minutes(&self) -> u32 {
        self.hospital_reply_minutes.unwrap_or(1440)
    }

    /// Working days from a complaint's forwarding to the hospital's answer (default 5).
    pub fn complaint_answer_workdays(&self) -> u32 {
        self.complaint_answer_workdays.unwrap_or(5)
    }

    /// Working days from the hospital's answer to the callback (default 1).
    pub fn complaint_callback_workdays(&self) -> u32 {
        self.complaint_callback_workdays.unwrap_or(1)
    }

    /// The working-day calendar of a jurisdiction: every pack's national (`*`) calendar and
    /// its own, together.
    pub fn calendar(&self, jurisdiction: &str) -> Calendar {
        let mut all = Calendar::default();
        for (j, c, _) in &self.calendars {
            if j == "*" || j == jurisdiction {
                all.extend(c);
            }
        }
        all
    }

    /// The jurisdictions the packs name (besides "*").
    pub fn jurisdictions(&self) -> Vec<String> {
        let set: BTreeSet<String> = self
            .settings
            .iter()
            .filter(|s| s.jurisdiction != "*")
            .map(|s| s.jurisdiction.clone())
            .chain(self.places.keys().cloned())
            .collect();
        set.into_iter().collect()
    }

    /// The effective rules as text: for each jurisdiction and rule, each period in which the
    /// setting differs, with its source.
    pub fn describe(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Policy: {}",
            if self.names.is_empty() {
                "built-in national defaults".to_string()
            } else {
                self.names.join("; ")
            }
        );
        for (j, c, source) in &self.calendars {
            let span = |days: &BTreeSet<NaiveDate>| match (days.first(), days.last()) {
                (Some(a), Some(b)) => format!("{a} to {b}"),
                _ => "none".into(),
            };
            let _ = writeln!(
                out,
                "calendar ({}): {} holidays ({}), {} make-up working days ({}); {source}",
                if j == "*" { "every jurisdiction" } else { j },
                c.holidays.len(),
                span(&c.holidays),
                c.workdays.len(),
                span(&c.workdays),
            );
        }
        let mut jurisdictions = vec!["(any other)".to_string()];
        jurisdictions.extend(self.jurisdictions());
        for j in &jurisdictions {
            let key = if j == "(any other)" {
                "\u{0}none"
            } else {
                j.as_str()
            };
            match self.places.get(j) {
                Some(p) => {
                    let _ = writeln!(
                        out,
                        "\njurisdiction {j} (city {}, province {})",
                        p.city, p.province
                    );
                }
                None => {
                    let _ = writeln!(out, "\njurisdiction {j}");
                }
            }
            for rule in rules::ALL {
                let mut points: BTreeSet<NaiveDateTime> = BTreeSet::new();
                for p in self
                    .settings
                    .iter()
                    .filter(|p| p.rule == rule && (p.jurisdiction == "*" || p.jurisdiction == key))
                {
                    points.extend(p.from);
                    points.extend(p.until);
                }
                let start = NaiveDateTime::MIN;
                let mut bounds: Vec<NaiveDateTime> = vec![start];
                bounds.extend(points.iter().copied());
                let _ = writeln!(out, "  {}  ({})", rule.as_str(), rule.info().title_en);
                let mut last: Option<Setting> = None;
                for (k, from) in bounds.iter().enumerate() {
                    let s = self.setting(rule, key, *from);
                    if last.as_ref() == Some(&s) {
                        continue;
                    }
                    let until = bounds.get(k + 1);
                    let period = match (k, until) {
                        (0, None) => "always".to_string(),
                        (0, Some(u)) => format!("until {}", china_date(*u)),
                        (_, None) => format!("from {}", china_date(*from)),
                        (_, Some(u)) => format!("{} – {}", china_date(*from), china_date(*u)),
                    };
                    let mut thresholds = Vec::new();
                    if let Some(l) = s.limit {
                        thresholds.push(format!("limit {}", describe_duration(l)));
                    }
                    if let Some(c) = s.count {
                        thresholds.push(format!("count {c}"));
                    }
                    for (area, c) in &s.areas {
                        thresholds.push(format!("{area} {c}"));
                    }
                    if let Some(o) = s.ordinary_limit {
                        thresholds.push(format!("others {}", describe_duration(o)));
                    }
                    if let Some(w) = s.window {
                        thresholds.push(format!("window ±{}", describe_duration(w)));
                    }
                    let _ = writeln!(
                        out,
                        "    {period:<26} {:<3} {:<6} {:<16} {}",
                        if s.enabled { "on" } else { "off" },
                        s.severity.as_str(),
                        thresholds.join(", "),
                        s.source
                    );
                    last = Some(s);
                }
            }
        }
        out
    }
}

fn describe_duration(d: Duration) -> String {
    if d.num_seconds() % 60 != 0 {
        format!("{}s", d.num_seconds())
    } else if d.num_minutes() % (60 * 24) == 0 {
        format!("{}d", d.num_days())
    } else if d.num_minutes() % 60 == 0 {
        format!("{}h", d.num_hours())
    } else {
        format!("{}min", d.num_minutes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        parse_instant(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_embedded_packs_are_the_shipped_folder() {
        let folder = Policy::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies"))
            .unwrap_or_else(|e| panic!("{e}"));
        // The folder holds the calendars as packs of their own; the jurisdictions' settings
        // and calendars are the same.
        let settings = |p: &Policy| {
            p.describe()
                .lines()
                .filter(|l| !l.starts_with("Policy:"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(settings(&Policy::shipped()), settings(&folder));
        let main_city = Policy::shipped().setting(
            RuleId::DispatchFleetShort,
            "dandong",
            at("2022-07-01T00:00:00+08:00"),
        );
        assert_eq!(main_city.areas.get("主城区"), Some(&10));
    }

    #[test]
    fn the_shipped_packs_carry_the_state_councils_calendars_of_2022_and_2026() {
        let policy = Policy::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies"))
            .expect("the shipped packs load");
        let c = policy.calendar("beijing");
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date");
        // 国办发明电〔2021〕11号: the Spring Festival 1-31 to 2-6 off, 1-29 and 1-30 worked.
        assert!(!c.is_workday(day("2022-02-04")));
        assert!(c.is_workday(day("2022-01-29")) && c.is_workday(day("2022-01-30")));
        assert!(
            c.is_workday(day("2022-04-24")),
            "a Sunday worked for Labour Day"
        );
        assert!(!c.is_workday(day("2022-10-07")));
        // 2026 (the notice of 2025-11-04): 2-15 to 2-23 off, 2-14 and 2-28 worked.
        assert!(
            !c.is_workday(day("2026-02-23")),
            "a Monday in the Spring Festival"
        );
        assert!(c.is_workday(day("2026-02-28")) && c.is_workday(day("2026-01-04")));
        assert!(!c.is_workday(day("2026-10-07")) && c.is_workday(day("2026-10-10")));
        assert_eq!(policy.complaint_answer_workdays(), 5);
        assert_eq!(policy.complaint_callback_workdays(), 1);
        assert!(policy.describe().contains("calendar (every jurisdiction)"));
        // The built-in defaults carry the same national calendars; a pack's own replaces them.
        assert_eq!(Policy::builtin().calendar("beijing"), c);
        let mut own = Policy::default();
        own.add("[calendar]\nholidays = [\"2026-12-03\"]")
            .expect("a pack");
        own.add_national_calendars();
        assert!(!own.calendar("x").is_workday(day("2026-12-03")));
        assert!(
            own.calendar("x").is_workday(day("2026-10-07")),
            "no shipped calendar added"
        );
    }

    #[test]
    fn a_calendar_day_must_be_a_date_and_not_both_kinds() {
        let bad = Policy::builtin()
            .add("name = \"x\"\n[calendar]\nholidays = [\n  \"2026-10-01\",\n  \"2026-13-01\",\n]")
            .expect_err("no such month");
        assert_eq!(
            bad,
            "line 5: calendar.holidays: `2026-13-01` is not a date (YYYY-MM-DD)"
        );
        let both = Policy::builtin()
            .add("[calendar]\nholidays = [\"2026-10-10\"]\nworkdays = [\"2026-10-10\"]")
            .expect_err("both");
        assert!(both.contains("2026-10-10"), "{both}");
    }

    #[test]
    fn a_pack_sets_the_hospitals_reply_time_and_refuses_none() {
        let mut policy = Policy::builtin();
        assert_eq!(policy.hospital_reply_minutes(), 1440);
        policy
            .add("hospital_reply_minutes = 1")
            .expect("a valid pack");
        assert_eq!(policy.hospital_reply_minutes(), 1);
        let err = Policy::builtin()
            .add("hospital_reply_minutes = 0")
            .expect_err("zero minutes");
        assert!(err.contains("hospital_reply_minutes"), "{err}");
    }

    #[test]
    fn settings_apply_by_jurisdiction_and_date() {
        let mut p = Policy::default();
        p.add(
            r#"
            [[setting]]
            jurisdiction = "dandong"
            rule = "handover.delay"
            until = "2022-06-27"
            enabled = false
            source = "before 003"
            [[setting]]
            jurisdiction = "dandong"
            rule = "handover.delay"
            from = "2022-06-27"
            limit_minutes = 10
            severity = "high"
            source = "003"
            "#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let before = p.setting(
            RuleId::HandoverDelay,
            "dandong",
            at("2022-06-26T12:00:00+08:00"),
        );
        assert!(!before.enabled);
        let after = p.setting(
            RuleId::HandoverDelay,
            "dandong",
            at("2022-06-27T00:00:00+08:00"),
        );
        assert!(after.enabled);
        assert_eq!(after.limit, Some(Duration::minutes(10)));
        assert_eq!(after.severity, Severity::High);
        assert_eq!(after.source, "003");
        let elsewhere = p.setting(RuleId::HandoverDelay, "beijing", at("2022-07-01"));
        assert_eq!(elsewhere, Setting::default_for(RuleId::HandoverDelay));
        assert!(p.describe().contains("limit 10min"));
    }

    #[test]
    fn bad_packs_name_the_setting() {
        let mut p = Policy::default();
        let e = p
            .add("[[setting]]\njurisdiction = \"x\"\nrule = \"no.such\"\n")
            .err()
            .unwrap_or_default();
        assert!(e.contains("setting[0].rule"), "{e}");
        let e = p
            .add("[[setting]]\njurisdiction = \"x\"\nrule = \"refusal.prohibited_reason\"\nlimit_minutes = 5\n")
            .err()
            .unwrap_or_default();
        assert!(e.contains("has no limit"), "{e}");
        let e = p
            .add("[[setting]]\njurisdiction = \"x\"\nrule = \"handover.delay\"\nspeed = 5\n")
            .err()
            .unwrap_or_default();
        assert!(e.contains("speed"), "{e}");
    }

    #[test]
    fn shipped_packs_load() {
        let p = Policy::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../policies"
        )))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.jurisdictions(), ["beijing", "dandong", "shanghai"]);
        let s = p.setting(RuleId::HandoverDelay, "dandong", at("2022-07-01"));
        assert!(s.enabled && s.source.contains("003"));
        let place = |j: &str| p.place(j).map(|p| format!("{} {}", p.city, p.province));
        assert_eq!(place("dandong").as_deref(), Some("丹东 辽宁"));
        assert_eq!(place("beijing").as_deref(), Some("北京 北京"));
        assert_eq!(place("shanghai").as_deref(), Some("上海 上海"));
        assert_eq!(place("national"), None);
        assert!(
            p.describe()
                .contains("jurisdiction dandong (city 丹东, province 辽宁)")
        );
    }

    #[test]
    fn a_jurisdiction_without_its_city_is_refused() {
        let e = Policy::default()
            .add("[[jurisdiction]]\nid = \"x\"\ncity = \" \"\nprovince = \"辽宁\"\n")
            .err()
            .unwrap_or_default();
        assert_eq!(e, "jurisdiction[0].city: must not be empty");
    }
}
