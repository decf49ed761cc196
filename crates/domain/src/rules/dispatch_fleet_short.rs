//! `dispatch.fleet_short`: a 120 centre reported fewer ambulances on line in an area than its
//! jurisdiction's pack requires there (Dandong: 10 in 主城区 from 2022-06-27). One case per
//! centre, area and China day; an area no pack names a count for is not judged.

use chrono::NaiveDateTime;

use super::{Finding, Outcome, RuleId, RuleInfo, Setting, Severity, Verdict};
use crate::dispatch::{CentreDay, FleetStatus};

pub static INFO: RuleInfo = RuleInfo {
    id: RuleId::DispatchFleetShort,
    title_zh: "在线救护车不足",
    title_en: "Too few ambulances on line",
    plain_zh: "120 急救中心报告某区域在线院前急救车辆少于政策包规定的数量（丹东主城区 10 辆）。",
    plain_en: "A 120 centre reported fewer ambulances on line in an area than its policy pack requires there (10 in Dandong's main city).",
    sources: "003 (item 6)",
    quote: "主城区保持10辆在线院前急救车辆，由各急救站所在医院负责保证人员、车辆、车载设备随时处于待命状态。（003 第六条）",
    default_severity: Severity::Medium,
    default_limit: None,
    default_count: None,
};

/// At most this many short statuses are linked to one day's case.
const EVIDENCE_CAP: usize = 50;

pub fn subject(centre_id: i64, area: &str, date: chrono::NaiveDate) -> String {
    format!("fleet:{centre_id}:{date}:{area}")
}

/// One verdict per area the day's statuses report.
pub fn evaluate(
    day: &CentreDay<'_>,
    setting: &dyn Fn(RuleId, &str, NaiveDateTime) -> Setting,
) -> Vec<Verdict> {
    let rule = RuleId::DispatchFleetShort;
    let mut areas: Vec<&str> = day.fleet.iter().map(|f| f.area.as_str()).collect();
    areas.sort_unstable();
    areas.dedup();
    areas
        .into_iter()
        .map(|area| {
            let statuses: Vec<&FleetStatus> = day.fleet.iter().filter(|f| f.area == area).collect();
            let first = statuses.iter().map(|f| f.at).min().unwrap_or(day.start());
            let s = setting(rule, day.jurisdiction, first);
            let required = s.areas.get(area).copied();
            let mut short: Vec<&&FleetStatus> = match required {
                Some(n) if s.enabled => statuses
                    .iter()
                    .filter(|f| f.vehicles_online < i64::from(n))
                    .collect(),
                _ => Vec::new(),
            };
            short.sort_by_key(|f| (f.at, f.row_id));
            let outcome = match (short.first(), required) {
                (Some(low), Some(n)) => {
                    let fewest = short.iter().map(|f| f.vehicles_online).min().unwrap_or(0);
                    Outcome::Violation(Finding {
                        severity: s.severity,
                        occurred_at: low.at,
                        summary: format!(
                            "{} {} {} 在线救护车 {} 次低于 {} 辆（最少 {} 辆，首次 {}）",
                            day.centre_name,
                            day.date,
                            area,
                            short.len(),
                            n,
                            fewest,
                            super::history::china_time(low.at)
                        ),
                        evidence: short.iter().take(EVIDENCE_CAP).map(|f| f.row_id).collect(),
                        complaints: Vec::new(),
                    })
                }
                _ => Outcome::Clear,
            };
            Verdict {
                rule,
                subject: subject(day.centre_id, area, day.date),
                hospital_id: Some(day.centre_id),
                outcome,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    fn status(row: i64, at: &str, area: &str, n: i64) -> FleetStatus {
        FleetStatus {
            row_id: row,
            at: cn(at),
            area: area.into(),
            vehicles_online: n,
        }
    }

    fn judge(fleet: &[FleetStatus], jurisdiction: &str, date: &str) -> Vec<Outcome> {
        let policy = shipped();
        let setting = |r: RuleId, j: &str, t: NaiveDateTime| policy.setting(r, j, t);
        let day = CentreDay {
            centre_id: 9,
            centre_name: "丹东市120",
            jurisdiction,
            date: date.parse().expect("date"),
            calls: &[],
            fleet,
        };
        evaluate(&day, &setting)
            .into_iter()
            .map(|v| v.outcome)
            .collect()
    }

    #[test]
    fn dandong_requires_10_in_the_main_city_from_2022_06_27() {
        let day = |n: i64, d: &str| {
            judge(
                &[status(1, &format!("{d} 08:00"), "主城区", n)],
                "dandong",
                d,
            )
        };
        assert_eq!(day(10, "2022-07-01"), [Outcome::Clear], "exactly 10");
        assert_eq!(violation(&day(9, "2022-07-01")[0]), Some(vec![1]));
        assert_eq!(
            day(8, "2022-06-26"),
            [Outcome::Clear],
            "before the directive"
        );
        assert_eq!(
            judge(
                &[status(1, "2022-07-01 08:00", "东港市", 2)],
                "dandong",
                "2022-07-01"
            ),
            [Outcome::Clear],
            "no count for the area"
        );
        assert_eq!(
            judge(
                &[status(1, "2022-07-01 08:00", "主城区", 2)],
                "beijing",
                "2022-07-01"
            ),
            [Outcome::Clear],
            "no count for the jurisdiction"
        );
    }

    #[test]
    fn one_case_per_area_and_day_holds_every_short_status() {
        let out = judge(
            &[
                status(1, "2022-07-01 08:00", "主城区", 12),
                status(2, "2022-07-01 09:00", "主城区", 8),
                status(3, "2022-07-01 10:00", "主城区", 9),
            ],
            "dandong",
            "2022-07-01",
        );
        assert_eq!(out.len(), 1);
        assert_eq!(violation(&out[0]), Some(vec![2, 3]));
    }
}
