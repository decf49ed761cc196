//! The hotline's report (三率通报): per hospital or district and period, complaints filed, the
//! three rates, overdue answers, reopenings, and the rank. The API, the page `/reports`, its
//! CSV and its print view all read [`report`].

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use shouzhen_domain::field::FieldError;
use shouzhen_domain::policy::Policy;
use shouzhen_domain::report::{Item, Tally, ranks};
use shouzhen_domain::rules::RuleId;
use shouzhen_domain::time::from_china;
use shouzhen_store::QueryResult;
use shouzhen_store::complaints as rows;
use shouzhen_store::db::DbConn;

/// The longest period one report covers.
pub const MAX_DAYS: i64 = 366;

/// What the report is asked for, as the query string gives it.
#[derive(Debug, Default, Clone, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First day (China date, YYYY-MM-DD) of complaints filed; default 29 days before `until`
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last day (China date, YYYY-MM-DD), included; default today
    #[param(value_type = Option<String>, format = Date)]
    pub until: Option<String>,
    /// `hospital` (the default) or `district`
    #[param(schema_with = by_schema)]
    pub by: Option<String>,
    /// The page's language (`zh`, `en`); the API ignores it
    #[serde(default)]
    #[param(ignore)]
    pub lang: Option<String>,
}

fn by_schema() -> utoipa::openapi::Object {
    shouzhen_domain::openapi::one_of(["hospital", "district"])
}

/// A checked period and grouping.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub by_district: bool,
}

impl ReportQuery {
    /// Checks the query (every bad field named); `today` is the China date now.
    pub fn period(&self, today: NaiveDate) -> AppResult<Period> {
        let mut errors = Vec::new();
        let date = |v: &Option<String>, field: &str, errors: &mut Vec<FieldError>| {
            // Given empty, it is not a date (left out, the default applies).
            let s = v.as_deref().map(str::trim)?;
            // Years far from ours are refused, so that a day's arithmetic cannot overflow.
            let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .filter(|d| (1900..=9999).contains(&d.year()));
            if d.is_none() {
                errors.push(FieldError::new(field, "must be a date, YYYY-MM-DD"));
            }
            d
        };
        let until = date(&self.until, "until", &mut errors).unwrap_or(today);
        let from = date(&self.from, "from", &mut errors).unwrap_or(until - Duration::days(29));
        let by_district = match self.by.as_deref().map(str::trim) {
            None | Some("hospital") => false,
            Some("district") => true,
            Some(_) => {
                errors.push(FieldError::new("by", "must be hospital or district"));
                false
            }
        };
        if errors.is_empty() {
            if from > until {
                errors.push(FieldError::new("until", "must not be before from"));
            } else if (until - from).num_days() >= MAX_DAYS {
                errors.push(FieldError::new(
                    "from",
                    format!("the period must be at most {MAX_DAYS} days"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::fields(errors));
        }
        Ok(Period {
            from,
            until,
            by_district,
        })
    }
}

/// One row: a hospital (or a district), its counts, rates and rank.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportRow {
    /// The hospital's code (by hospital); null for a hospital not registered, and by district
    pub hospital: Option<String>,
    /// The hospital's name, or the district; empty for the complaints naming no registered
    /// hospital, by district
    pub name: String,
    /// The hospital's district, or the row's (null: not registered)
    pub district: Option<String>,
    /// Complaints filed in the period (duplicates merged into another left out)
    pub filed: u32,
    /// Of those, the ones whose first response is due: responded, or unanswered past the
    /// limit of `complaint.unanswered`
    pub response_due: u32,
    /// Acknowledged or forwarded within that limit
    pub responded_in_time: u32,
    /// 响应率: responded_in_time of response_due, in percent (one decimal); null: none due
    pub response_rate: Option<f64>,
    /// Called back (回访)
    pub called_back: u32,
    /// Resolved at the last callback
    pub resolved: u32,
    /// 解决率: resolved of called_back, in percent; null: none called back
    pub resolution_rate: Option<f64>,
    /// Satisfied or basically satisfied at the last callback
    pub satisfied: u32,
    /// 满意率: satisfied of called_back, in percent; null: none called back
    pub satisfaction_rate: Option<f64>,
    /// Complaints answered late or not by their answer deadline (a round of `complaint.overdue`)
    pub overdue: u32,
    /// Complaints a callback reopened at least once
    pub reopened: u32,
    /// The mean of the rates that are not null, in percent; null: none
    pub score: Option<f64>,
    /// 三率排名: 1 is best; equal scores share a rank; null: no score (and for the total)
    pub rank: Option<u32>,
}

/// The report of a period.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Report {
    /// First day, China date
    pub from: String,
    /// Last day, China date, included
    pub until: String,
    /// `hospital` or `district`
    pub by: String,
    /// Best rank first; rows without a rank last, by name
    pub rows: Vec<ReportRow>,
    /// All the rows together (no rank)
    pub total: ReportRow,
}

fn one_decimal(v: Option<f64>) -> Option<f64> {
    v.map(|v| (v * 10.0).round() / 10.0)
}

fn row(key: (Option<String>, String, Option<String>), t: &Tally) -> ReportRow {
    ReportRow {
        hospital: key.0,
        name: key.1,
        district: key.2,
        filed: t.filed,
        response_due: t.response_due,
        responded_in_time: t.responded_in_time,
        response_rate: one_decimal(t.response_rate()),
        called_back: t.called_back,
        resolved: t.resolved,
        resolution_rate: one_decimal(t.resolution_rate()),
        satisfied: t.satisfied,
        satisfaction_rate: one_decimal(t.satisfaction_rate()),
        overdue: t.overdue,
        reopened: t.reopened,
        score: one_decimal(t.score()),
        rank: None,
    }
}

/// The report of `period`; `district`: only that district's hospitals (an inspector's scope).
pub fn report(
    conn: &mut DbConn,
    policy: &Policy,
    period: Period,
    district: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<Report> {
    let day_start = |d: NaiveDate| from_china(d.and_hms_opt(0, 0, 0).unwrap_or_default());
    let (from, until) = (
        day_start(period.from),
        day_start(period.until + Duration::days(1)),
    );
    let complaints = rows::for_report(conn, from, until, district)?;
    let overdue: HashSet<i64> =
        rows::with_case_of(conn, RuleId::ComplaintOverdue.as_str(), from, until)?
            .into_iter()
            .collect();
    // Keyed by (district or hospital) so that a row's complaints add up in one place.
    let mut groups: BTreeMap<(Option<String>, String, Option<String>), Tally> = BTreeMap::new();
    let mut total = Tally::default();
    for c in &complaints {
        let jurisdiction = c.jurisdiction.as_deref().unwrap_or("");
        let limit = policy
            .setting(RuleId::ComplaintUnanswered, jurisdiction, c.created_at)
            .limit_or_default(RuleId::ComplaintUnanswered);
        let late_now = c.answered_at.is_none() && c.answer_due.is_some_and(|d| d <= now);
        let late_answer = matches!((c.answered_at, c.answer_due), (Some(a), Some(d)) if a > d);
        let item = Item {
            responded_at: c.acknowledged_at,
            respond_by: c.created_at + limit,
            callback: c.called_back_at.map(|_| {
                (
                    c.resolved.unwrap_or(false),
                    c.satisfaction.clone().unwrap_or_default(),
                )
            }),
            overdue: overdue.contains(&c.id) || late_now || late_answer,
            reopened: c.reopened > 0,
        };
        let key = if period.by_district {
            (
                None,
                c.district.clone().unwrap_or_default(),
                c.district.clone(),
            )
        } else {
            (
                c.hospital_code.clone(),
                c.hospital_name.clone(),
                c.district.clone(),
            )
        };
        groups.entry(key).or_default().add(&item, now);
        total.add(&item, now);
    }
    let mut out: Vec<ReportRow> = groups.iter().map(|(k, t)| row(k.clone(), t)).collect();
    let rank = ranks(&out.iter().map(|r| r.score).collect::<Vec<_>>());
    for (r, n) in out.iter_mut().zip(rank) {
        r.rank = n;
    }
    out.sort_by(|a, b| {
        (a.rank.is_none(), a.rank, &a.name).cmp(&(b.rank.is_none(), b.rank, &b.name))
    });
    Ok(Report {
        from: period.from.to_string(),
        until: period.until.to_string(),
        by: if period.by_district {
            "district"
        } else {
            "hospital"
        }
        .into(),
        rows: out,
        total: row((None, String::new(), None), &total),
    })
}
