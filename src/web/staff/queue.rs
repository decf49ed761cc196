//! The case queue and its CSV export.

use super::*;
use actix_web::web::Bytes;
use futures_util::StreamExt;

#[derive(Debug, Default, Deserialize, serde::Serialize, Clone)]
pub struct DashQuery {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub rule: Option<String>,
    pub hospital: Option<String>,
    pub district: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub cursor: Option<String>,
    pub lang: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A China date as the UTC instant its day begins.
fn china_day(s: &str) -> Option<NaiveDateTime> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(0, 0, 0)
        .map(shouzhen_domain::time::from_china)
}

fn queue_filter(q: &DashQuery, staff: &Staff) -> AppResult<QueueFilter> {
    let status = nonempty(&q.status);
    let statuses = match status.as_deref() {
        // Everything still in hand, the closed loop with the hospitals included.
        None => STATUSES
            .iter()
            .filter(|s| !matches!(**s, "resolved" | "dismissed" | "withdrawn"))
            .map(|s| s.to_string())
            .collect(),
        Some("all") => Vec::new(),
        Some(s) if STATUSES.contains(&s) => vec![s.to_string()],
        Some(_) => return Err(AppError::field("status", "is not a status")),
    };
    let severity = nonempty(&q.severity);
    if severity
        .as_deref()
        .is_some_and(|s| rules::Severity::parse(s).is_none())
    {
        return Err(AppError::field("severity", "must be low, medium or high"));
    }
    let rule = nonempty(&q.rule);
    if rule.as_deref().is_some_and(|r| RuleId::parse(r).is_none()) {
        return Err(AppError::field("rule", "is not a rule id"));
    }
    let day = |v: &Option<String>, field: &str| -> AppResult<Option<NaiveDateTime>> {
        match nonempty(v) {
            None => Ok(None),
            Some(s) => china_day(&s)
                .map(Some)
                .ok_or_else(|| AppError::field(field, "must be a date, YYYY-MM-DD")),
        }
    };
    Ok(QueueFilter {
        statuses,
        rule,
        hospital: nonempty(&q.hospital),
        severity,
        district: staff.district_scope().or_else(|| nonempty(&q.district)),
        forwarded_to: None,
        since: day(&q.since, "since")?,
        until: day(&q.until, "until")?.map(|t| t + Duration::days(1)),
    })
}

fn rank(severity: &str) -> i32 {
    rules::Severity::parse(severity)
        .map(|s| s.rank())
        .unwrap_or(1)
}

fn decode_cursor(c: &str) -> Option<(i32, NaiveDateTime, i64)> {
    let mut parts = c.splitn(3, '_');
    let r = parts.next()?.parse().ok()?;
    let t = chrono::DateTime::from_timestamp_micros(parts.next()?.parse().ok()?)?.naive_utc();
    Some((r, t, parts.next()?.parse().ok()?))
}

fn options(values: Vec<(String, String)>, chosen: &Option<String>) -> Vec<Value> {
    values
        .into_iter()
        .map(|(v, label)| json!({"selected": chosen.as_deref() == Some(v.as_str()), "value": v, "label": label}))
        .collect()
}

pub async fn dashboard(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<DashQuery>,
) -> HttpResponse {
    let staff = match require(&req, &state, Role::Inspector).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let l = lang(&req);
    let q = query.into_inner();
    let filter = match queue_filter(&q, &staff) {
        Ok(f) => f,
        Err(e) => return actix_web::ResponseError::error_response(&ApiError(e)),
    };
    let after = q.cursor.as_deref().and_then(decode_cursor);
    let f = filter.clone();
    // The counts per status read every case the filter keeps: they run on a connection of their
    // own, beside the rest of the page.
    let counted = state.read({
        let f = filter.clone();
        move |conn| Ok(shouzhen_store::cases::status_counts(conn, &f)?)
    });
    let loaded = state.read(move |conn| {
        let rows = shouzhen_store::cases::queue(conn, &f, after, PAGE)?;
        let overdue = shouzhen_store::cases::overdue(conn, &f, shouzhen_store::now(), PAGE)?;
        let mut hospitals = shouzhen_store::hospitals::all(conn)?;
        for kind in [
            shouzhen_store::hospitals::DISPATCH,
            shouzhen_store::hospitals::COMMUNITY,
        ] {
            hospitals.extend(shouzhen_store::hospitals::all_of(conn, kind)?);
        }
        let complaints = shouzhen_store::complaints::queue(conn, f.district.as_deref(), None, 20)?;
        let mut complaint_rows = Vec::new();
        for c in complaints {
            let duplicates = shouzhen_app::complaints::likely_duplicates(conn, &c)?.join(", ");
            complaint_rows.push((c, duplicates));
        }
        let ratings = shouzhen_store::complaints::ratings(conn, None)?;
        let dead = shouzhen_store::outbox::counts(conn)?
            .into_iter()
            .find(|(s, _)| s == "dead")
            .map(|(_, n)| n)
            .unwrap_or(0);
        Ok(((rows, overdue), hospitals, complaint_rows, ratings, dead))
    });
    let (counted, loaded) = futures_util::future::join(counted, loaded).await;
    let (((rows, overdue), hospitals, complaints, ratings, dead), counts) = match (loaded, counted)
    {
        (Ok(v), Ok(c)) => (v, c),
        (Err(e), _) | (_, Err(e)) => return actix_web::ResponseError::error_response(&e),
    };
    let web = &state.web;
    let next = (rows.len() as i64 == PAGE).then(|| {
        let last = rows
            .last()
            .map(|r| {
                format!(
                    "{}_{}_{}",
                    rank(&r.severity),
                    r.opened_at.and_utc().timestamp_micros(),
                    r.id
                )
            })
            .unwrap_or_default();
        let mut nq = q.clone();
        nq.cursor = Some(last);
        serde_urlencoded::to_string(&nq).unwrap_or_default()
    });
    let mut plain = q.clone();
    plain.cursor = None;
    let mut districts: Vec<String> = hospitals.iter().map(|h| h.district.clone()).collect();
    districts.sort();
    districts.dedup();
    let rating_count = ratings.len();
    let rating_avg = if rating_count == 0 {
        "—".to_string()
    } else {
        format!(
            "{:.1}",
            ratings.iter().map(|r| f64::from(*r)).sum::<f64>() / rating_count as f64
        )
    };
    // Overdue cases first in their severity: on the first page all of them (of the filter),
    // and left out of the later pages, which the keyset walks as before.
    let overdue_ids: std::collections::HashSet<i64> = overdue.iter().map(|r| r.id).collect();
    let mut shown: Vec<&shouzhen_store::cases::CaseRow> = if after.is_none() {
        overdue.iter().collect()
    } else {
        Vec::new()
    };
    shown.extend(rows.iter().filter(|r| !overdue_ids.contains(&r.id)));
    shown.sort_by_key(|r| std::cmp::Reverse(rank(&r.severity)));
    let now = shouzhen_store::now();
    let data = json!({
        "title": web.t(l, "dash.dashboard_title"),
        "f": q,
        "query": serde_urlencoded::to_string(&plain).unwrap_or_default(),
        "statuses": options(STATUSES.iter().map(|s| (s.to_string(), web.t(l, &format!("dash.statuses.{s}")))).collect(), &q.status),
        "severities": options(["high", "medium", "low"].iter().map(|s| (s.to_string(), web.t(l, &format!("dash.severities.{s}")))).collect(), &q.severity),
        "rules": options(rules::ALL.iter().map(|r| (r.as_str().to_string(), format!("{} · {}", rule_title(l, r.as_str()), r.as_str()))).collect(), &q.rule),
        "hospitals": options(hospitals.iter().map(|h| (h.code.clone(), format!("{} {}", h.code, h.name))).collect(), &q.hospital),
        "districts": options(districts.into_iter().map(|d| (d.clone(), d)).collect(), &q.district),
        "counts": counts.iter().map(|(s, n)| json!({"status": s, "label": web.t(l, &format!("dash.statuses.{s}")), "count": n})).collect::<Vec<_>>(),
        "rows": shown.iter().map(|r| json!({
            "id": r.id, "rule": r.rule, "rule_title": rule_title(l, &r.rule), "severity": r.severity,
            "severity_label": web.t(l, &format!("dash.severities.{}", r.severity)),
            "status_label": web.t(l, &format!("dash.statuses.{}", r.status)),
            "hospital": r.source(), "centre": r.centre.is_some(), "desk": r.desk.is_some(), "opened": china(r.opened_at), "summary": r.summary,
            "deadline": r.pending_deadline().map(china),
            "overdue": r.pending_deadline().is_some_and(|d| d < now),
        })).collect::<Vec<_>>(),
        "next": next,
        "complaints": complaints.iter().map(|(c, dups)| json!({
            "id": c.id,
            "filed": china(c.created_at),
            "status": web.t(l, &format!("status.{}", c.status)),
            "category": web.strings(l)["categories"][&c.category][0],
            "hospital": c.hospital_name,
            "description": c.description.chars().take(80).collect::<String>(),
            "duplicates": dups,
        })).collect::<Vec<_>>(),
        "rating_avg": rating_avg,
        "rating_count": rating_count,
        "dead_letters": (dead > 0).then_some(dead),
    });
    staff_page(&req, &state, &staff, "dashboard", StatusCode::OK, data)
}

/// A CSV cell: quoted, and with a leading formula character defused (Excel injection).
fn cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Appends one CSV line of `cells` (each quoted and defused), ended by CRLF.
pub(super) fn push_csv_line(out: &mut String, cells: &[String]) {
    let line = cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
    out.push_str(&line);
    out.push_str("\r\n");
}

/// The filtered queue as CSV (UTF-8 with a BOM, so that Excel opens Chinese text correctly).
pub async fn export(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<DashQuery>,
) -> HttpResponse {
    let staff = match require(&req, &state, Role::Inspector).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let filter = match queue_filter(&query, &staff) {
        Ok(f) => f,
        Err(e) => return actix_web::ResponseError::error_response(&ApiError(e)),
    };
    let l = lang(&req);
    // Streamed a page at a time (keyset), so that memory stays flat however many cases match.
    let head = Bytes::from_static(
        "\u{feff}id,rule,rule_title,severity,status,hospital,centre,district,occurred_at,opened_at,summary,desk\r\n"
            .as_bytes(),
    );
    let pages = futures_util::stream::unfold(Some(None), move |after| {
        let (state, filter) = (state.clone(), filter.clone());
        async move {
            let after = after?;
            let page = state
                .read(move |conn| {
                    Ok(shouzhen_store::cases::queue(
                        conn,
                        &filter,
                        after,
                        EXPORT_PAGE,
                    )?)
                })
                .await;
            let rows = match page {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(error = %e, "CSV export stopped");
                    return Some((
                        Err(actix_web::error::ErrorServiceUnavailable("database")),
                        None,
                    ));
                }
            };
            let next = (rows.len() as i64 == EXPORT_PAGE)
                .then(|| rows.last().map(|r| (rank(&r.severity), r.opened_at, r.id)));
            Some((Ok(Bytes::from(csv_lines(rows, l))), next))
        }
    });
    let body = futures_util::stream::once(async move { Ok(head) }).chain(pages);
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"shouzhen-cases.csv\"",
        ))
        .streaming(body)
}

/// Rows per page of the CSV export.
const EXPORT_PAGE: i64 = 1_000;

fn csv_lines(rows: Vec<shouzhen_store::cases::CaseRow>, l: Lang) -> String {
    let mut out = String::with_capacity(rows.len() * 160);
    for r in rows {
        push_csv_line(
            &mut out,
            &[
                r.id.to_string(),
                r.rule.clone(),
                rule_title(l, &r.rule),
                r.severity,
                r.status,
                r.hospital.unwrap_or_default(),
                r.centre.unwrap_or_default(),
                r.district,
                shouzhen_domain::time::rfc3339(r.occurred_at),
                shouzhen_domain::time::rfc3339(r.opened_at),
                r.summary,
                r.desk.unwrap_or_default(),
            ],
        );
    }
    out
}
