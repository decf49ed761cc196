//! The hotline's report page `/reports` (三率: table, charts), its CSV, and the period's
//! bulletin (通报) for print on A4.

use super::figures::{Bar, svg_bars};
use super::*;

use shouzhen_app::complaints::report::{Report, ReportQuery, ReportRow};

/// A rate in percent with one decimal, or a dash when there was nothing to count.
fn pct(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.1}%")).unwrap_or_else(|| "—".into())
}

/// What a row is called: its hospital or district, or the complaints naming no registered one.
fn row_name(state: &AppState, l: Lang, r: &ReportRow) -> String {
    if r.name.is_empty() {
        state.web.t(l, "report.unregistered")
    } else {
        r.name.clone()
    }
}

/// The query string that asks for the same report (for the CSV and the bulletin links).
fn same_query(r: &Report, l: Lang) -> String {
    format!(
        "from={}&until={}&by={}&lang={}",
        r.from,
        r.until,
        r.by,
        l.code()
    )
}

/// Reads the query (a bad one: the page with its errors named, 400) and the report.
async fn load(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
) -> Result<Report, (ReportQuery, ApiError)> {
    let query = match web::Query::<ReportQuery>::from_query(req.query_string()) {
        Ok(q) => q.into_inner(),
        Err(e) => {
            return Err((
                ReportQuery::default(),
                ApiError(AppError::field("query", e.to_string())),
            ));
        }
    };
    crate::api::reports::load(state, staff, &query)
        .await
        .map_err(|e| (query, e))
}

fn row_json(state: &AppState, l: Lang, r: &ReportRow, link: bool) -> Value {
    let counted = |part: u32, whole: u32| format!("{part}/{whole}");
    json!({
        "rank": r.rank.map(|n| n.to_string()).unwrap_or_else(|| "—".into()),
        "name": row_name(state, l, r),
        "code": if link { r.hospital.clone() } else { None },
        "district": r.district.clone().unwrap_or_else(|| "—".into()),
        "filed": r.filed,
        "response_rate": pct(r.response_rate),
        "response_count": counted(r.responded_in_time, r.response_due),
        "resolution_rate": pct(r.resolution_rate),
        "resolution_count": counted(r.resolved, r.called_back),
        "satisfaction_rate": pct(r.satisfaction_rate),
        "satisfaction_count": counted(r.satisfied, r.called_back),
        "overdue": r.overdue,
        "reopened": r.reopened,
        "score": pct(r.score),
    })
}

/// The bar chart of the rows' scores, in rank order.
fn score_chart(state: &AppState, l: Lang, rows: &[ReportRow]) -> Value {
    let bars = rows
        .iter()
        .map(|r| Bar {
            label: row_name(state, l, r),
            note: None,
            value: r.score.unwrap_or(0.0),
            text: pct(r.score),
        })
        .collect();
    svg_bars(
        "chart-score",
        state.web.t(l, "report.chart_score"),
        bars,
        100.0,
    )
}

/// `GET /reports`: the table, the charts, and the links to the CSV and the bulletin.
pub async fn reports(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let staff = match require(&req, &state, Role::Operator).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let l = lang(&req);
    let web = &state.web;
    let (report, query, errors) = match load(&req, &state, &staff).await {
        Ok(r) => {
            let q = ReportQuery {
                from: Some(r.from.clone()),
                until: Some(r.until.clone()),
                by: Some(r.by.clone()),
                lang: None,
            };
            (Some(r), q, Vec::new())
        }
        Err((q, ApiError(AppError::BadRequest { errors, .. }))) => {
            (None, q, web.errors(l, &errors))
        }
        Err((_, e)) => return error_page(&req, &state, &e),
    };
    let by = query.by.clone().unwrap_or_else(|| "hospital".into());
    let mut data = json!({
        "title": web.t(l, "report.title"),
        "query": query,
        "by_options": [
            {"value": "hospital", "label": web.t(l, "report.by_hospital"), "selected": by != "district"},
            {"value": "district", "label": web.t(l, "report.by_district"), "selected": by == "district"},
        ],
        "errors": errors,
    });
    let status = if report.is_some() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    if let Some(r) = &report {
        let link = staff.is_inspector();
        data["rows"] = json!(
            r.rows
                .iter()
                .map(|x| row_json(&state, l, x, link))
                .collect::<Vec<_>>()
        );
        data["total"] = row_json(&state, l, &r.total, false);
        data["by_district"] = json!(r.by == "district");
        data["same_query"] = json!(same_query(r, l));
        if !r.rows.is_empty() {
            data["charts"] = json!([score_chart(&state, l, &r.rows)]);
        }
    }
    staff_page(&req, &state, &staff, "reports", status, data)
}

/// `GET /reports/export.csv`: the same rows as CSV (UTF-8 with a BOM), the total last.
pub async fn reports_csv(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let staff = match require(&req, &state, Role::Operator).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let l = lang(&req);
    let r = match load(&req, &state, &staff).await {
        Ok(r) => r,
        Err((_, e)) => return actix_web::ResponseError::error_response(&e),
    };
    let mut out = String::from(
        "\u{feff}rank,hospital,name,district,filed,response_due,responded_in_time,response_rate,called_back,resolved,resolution_rate,satisfied,satisfaction_rate,overdue,reopened,score\r\n",
    );
    let number = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
    let rows = r.rows.iter().map(|x| {
        let rank = x.rank.map(|n| n.to_string()).unwrap_or_default();
        (rank, row_name(&state, l, x), x)
    });
    let total = (
        "total".to_string(),
        state.web.t(l, "report.total"),
        &r.total,
    );
    for (rank, name, x) in rows.chain(std::iter::once(total)) {
        push_csv_line(
            &mut out,
            &[
                rank,
                x.hospital.clone().unwrap_or_default(),
                name,
                x.district.clone().unwrap_or_default(),
                x.filed.to_string(),
                x.response_due.to_string(),
                x.responded_in_time.to_string(),
                number(x.response_rate),
                x.called_back.to_string(),
                x.resolved.to_string(),
                number(x.resolution_rate),
                x.satisfied.to_string(),
                number(x.satisfaction_rate),
                x.overdue.to_string(),
                x.reopened.to_string(),
                number(x.score),
            ],
        );
    }
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"shouzhen-complaints-{}-{}.csv\"",
                r.from, r.until
            ),
        ))
        .body(out)
}

/// `GET /reports/bulletin`: the period's bulletin (通报), in Chinese whatever the reader's
/// language, laid out to print on A4.
pub async fn reports_bulletin(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let staff = match require(&req, &state, Role::Operator).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let r = match load(&req, &state, &staff).await {
        Ok(r) => r,
        Err((_, e)) => return actix_web::ResponseError::error_response(&e),
    };
    let zh = Lang::Zh;
    let names = |rows: &[&ReportRow]| {
        rows.iter()
            .map(|x| row_name(&state, zh, x))
            .collect::<Vec<_>>()
            .join("、")
    };
    let ranked: Vec<&ReportRow> = r.rows.iter().filter(|x| x.rank.is_some()).collect();
    let top = names(&ranked[..ranked.len().min(3)]);
    // The last three, worst last, only when they are not also the first three.
    let bottom = (ranked.len() > 3).then(|| {
        let from = ranked.len().saturating_sub(3).max(3);
        names(&ranked[from..])
    });
    let t = &r.total;
    let data = json!({
        "title": format!("12320 投诉办理情况通报（{} 至 {}）", r.from, r.until),
        "from": r.from,
        "until": r.until,
        "unit": if r.by == "district" { "区" } else { "医院" },
        "generated": china(shouzhen_store::now()),
        "total": row_json(&state, zh, t, false),
        "counts": {
            "filed": t.filed, "response_due": t.response_due, "responded": t.responded_in_time,
            "called_back": t.called_back, "resolved": t.resolved, "satisfied": t.satisfied,
            "overdue": t.overdue, "reopened": t.reopened,
        },
        "rows": r.rows.iter().map(|x| row_json(&state, zh, x, false)).collect::<Vec<_>>(),
        "top": (!top.is_empty()).then_some(top),
        "bottom": bottom,
        "back": format!("/reports?{}", same_query(&r, lang(&req))),
    });
    staff_page(&req, &state, &staff, "bulletin", StatusCode::OK, data)
}
