//! Charts, hospital scorecards, and the public board.

use super::*;

use shouzhen_store::reports::{ChartRow, Statuses};

/// One bar of a chart: its label, a note in small type beside it, its length's value and the
/// text shown at its end.
pub(super) struct Bar {
    pub label: String,
    pub note: Option<String>,
    pub value: f64,
    pub text: String,
}

/// A horizontal bar chart (server-side SVG) whose longest bar stands for `max`.
pub(super) fn svg_bars(id: &str, title: String, items: Vec<Bar>, max: f64) -> Value {
    let max = if max > 0.0 { max } else { 1.0 };
    let bars: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(i, b)| {
            // 270 of the 640 units, so that a figure as long as `100.0%` fits beside the longest.
            let width = (b.value / max * 270.0).round().max(0.0) as i64;
            json!({"label": b.label, "note": b.note, "text": b.text, "y": i * 24, "width": width, "text_x": 306 + width})
        })
        .collect();
    json!({"id": id, "title": title, "bars": bars, "height": (items.len() * 24).max(24)})
}

/// A bar chart of counts by key; `label` gives a key's label and a note in small type beside
/// it (a rule's title, and its id).
fn bars(
    id: &str,
    title: String,
    items: Vec<(String, i64)>,
    label: &dyn Fn(&str) -> (String, Option<String>),
) -> Value {
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(1) as f64;
    let items = items
        .into_iter()
        .map(|(key, v)| {
            let (label, note) = label(&key);
            Bar {
                label,
                note,
                value: v as f64,
                text: v.to_string(),
            }
        })
        .collect();
    svg_bars(id, title, items, max)
}

/// A rate in percent, or a dash when there was nothing to count.
fn rate(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.0}%")).unwrap_or_else(|| "—".into())
}

fn plain(key: &str) -> (String, Option<String>) {
    (key.to_string(), None)
}

pub async fn charts(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let staff = match require(&req, &state, Role::Inspector).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let l = lang(&req);
    let scope = staff.district_scope();
    let loaded = state
        .read(move |conn| {
            // The weekly chart covers 12 weeks, the others 90 days: the longer of the two.
            let since = shouzhen_store::now() - Duration::days(90).max(Duration::weeks(12));
            Ok(shouzhen_store::reports::chart_rows(
                conn,
                since,
                scope.as_deref(),
            )?)
        })
        .await;
    let rows = match loaded {
        Ok(r) => r,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let count = |key: &dyn Fn(&ChartRow) -> String| {
        let mut m: Vec<(String, i64)> = Vec::new();
        for r in &rows {
            let k = key(r);
            match m.iter_mut().find(|(x, _)| *x == k) {
                Some((_, n)) => *n += 1,
                None => m.push((k, 1)),
            }
        }
        m
    };
    let mut weeks = count(&|r| {
        let local = shouzhen_domain::time::to_china(r.occurred_at);
        let monday = local.date()
            - Duration::days(i64::from(
                chrono::Datelike::weekday(&local.date()).num_days_from_monday(),
            ));
        monday.format("%Y-%m-%d").to_string()
    });
    weeks.sort();
    let mut by_rule = count(&|r| r.rule.clone());
    by_rule.sort_by_key(|x| std::cmp::Reverse(x.1));
    let mut by_hospital = count(&|r| r.hospital.clone().unwrap_or_default());
    by_hospital.sort_by_key(|x| std::cmp::Reverse(x.1));
    let mut by_district = count(&|r| r.district.clone());
    by_district.sort_by_key(|x| std::cmp::Reverse(x.1));
    let web = &state.web;
    let data = json!({
        "title": web.t(l, "dash.charts_title"),
        "charts": [
            bars("chart-week", web.t(l, "dash.by_week"), weeks, &plain),
            bars("chart-rule", web.t(l, "dash.by_rule"), by_rule, &|id| (rule_title(l, id), Some(id.to_string()))),
            bars("chart-hospital", web.t(l, "dash.by_hospital"), by_hospital, &plain),
            bars("chart-district", web.t(l, "dash.by_district"), by_district, &plain),
        ],
    });
    staff_page(&req, &state, &staff, "charts", StatusCode::OK, data)
}

pub async fn scorecard(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let staff = match require(&req, &state, Role::Inspector).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let l = lang(&req);
    let code = path.into_inner();
    let reply_limit = state.notifier.reply_limit;
    let loaded = state
        .read(move |conn| {
            let h = shouzhen_store::hospitals::by_code(conn, &code)?
                .ok_or_else(|| AppError::NotFound(String::new()))?;
            let now = shouzhen_store::now();
            let since = now - Duration::days(90);
            let events = shouzhen_store::reports::events_of_kinds_since(
                conn,
                h.id,
                &["arrival", "handover", "closure_start", "closure_end"],
                since,
            )?;
            let cases = shouzhen_store::reports::cases_since(
                conn,
                h.id,
                Statuses::NotIn(&["withdrawn", "dismissed"]),
                since,
            )?;
            let ratings = shouzhen_store::complaints::ratings(conn, Some(h.id))?;
            let answers = shouzhen_app::board::hospital_loop(conn, h.id, now, reply_limit)?;
            Ok((h, events, cases, ratings, now, answers))
        })
        .await;
    let (h, events, case_count, ratings, now, answers) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(&req, &state, &e),
    };
    let arrivals = events.iter().filter(|e| e.0 == "arrival").count();
    // Median minutes from an ambulance arrival to its patient's first handover.
    let mut waits: Vec<i64> = Vec::new();
    for (kind, at, key, payload) in &events {
        if kind != "arrival" || !payload.contains("\"arrived_by\":\"ambulance\"") {
            continue;
        }
        if let Some(h) = events
            .iter()
            .find(|e| e.0 == "handover" && e.2 == *key && e.1 >= *at)
        {
            waits.push((h.1 - *at).num_minutes());
        }
    }
    waits.sort();
    let median = waits
        .get(waits.len() / 2)
        .map(|m| m.to_string())
        .unwrap_or_else(|| "—".into());
    let web = &state.web;
    let closures: Vec<Value> = events
        .iter()
        .filter(|e| e.0 == "closure_start")
        .map(|(_, start, _, payload)| {
            let body: Option<shouzhen_domain::event::EventBody> =
                serde_json::from_str(payload).ok();
            let closure = body.and_then(|b| b.closure);
            let id = closure.as_ref().map(|c| c.id.clone()).unwrap_or_default();
            let end = events.iter().find(|e| {
                e.0 == "closure_end"
                    && e.1 >= *start
                    && serde_json::from_str::<shouzhen_domain::event::EventBody>(&e.3)
                        .ok()
                        .and_then(|b| b.closure)
                        .is_some_and(|c| c.id == id)
            });
            let what = closure
                .map(|c| c.department.unwrap_or_else(|| web.t(l, "dash.facility")))
                .unwrap_or_default();
            let length = match end {
                Some(e) => format!("{} {}", (e.1 - *start).num_hours(), web.t(l, "dash.hours")),
                None => format!(
                    "{} {} ({})",
                    (now - *start).num_hours(),
                    web.t(l, "dash.hours"),
                    web.t(l, "dash.still_closed")
                ),
            };
            json!({"start": china(*start), "what": what, "length": length})
        })
        .collect();
    let rated = ratings;
    let data = json!({
        "title": web.t(l, "dash.scorecard_title"),
        "hospital": {"code": h.code, "name": h.name, "district": h.district, "jurisdiction": h.jurisdiction},
        "arrivals": arrivals,
        "cases": case_count,
        "per_1000": if arrivals == 0 { "—".to_string() } else { format!("{:.1}", case_count as f64 * 1000.0 / arrivals as f64) },
        "median_handover": median,
        "closures": closures,
        "reply_rate": rate(answers.reply_rate),
        "answers": answers,
        "rating": if rated.is_empty() { "—".to_string() } else { format!("{:.1} / 5", rated.iter().map(|r| f64::from(*r)).sum::<f64>() / rated.len() as f64) },
    });
    staff_page(&req, &state, &staff, "scorecard", StatusCode::OK, data)
}

/// `GET /hospitals`: the public board.
pub async fn board(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let l = lang(&req);
    let rows = match crate::api::complaints::load_board(&state).await {
        Ok(r) => r,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let web = &state.web;
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let closures: Vec<String> = r.closures.iter().map(|c| if c == "facility" { web.t(l, "dash.facility") } else { c.clone() }).collect();
            json!({
                "name": r.name, "district": r.district, "crowding": r.crowding,
                "crowding_label": web.t(l, &format!("dash.crowd.{}", r.crowding)),
                "arrivals_recent": r.arrivals_recent, "capacity": r.capacity,
                "closures": if closures.is_empty() { web.t(l, "dash.none") } else { closures.join("、") },
                "violations_90d": r.violations_90d,
                "reply_rate": rate(r.answers.reply_rate),
                "returns": r.answers.returns,
                "rectified": r.answers.rectified,
                "rectification_overdue": r.answers.rectification_overdue,
            })
        })
        .collect();
    let centres = match crate::api::complaints::load_centres(&state).await {
        Ok(c) => c,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let percent = |p: Option<f64>| p.map(|p| format!("{p:.1} %")).unwrap_or_else(|| "—".into());
    let centres: Vec<Value> = centres
        .iter()
        .map(|c| {
            json!({
                "code": c.code, "name": c.name, "district": c.district, "calls": c.calls,
                "share": percent(c.share), "answer_rate": percent(c.answer_rate),
                "below": c.share.is_some_and(|s| s < f64::from(c.required_share)),
                "required_share": c.required_share,
            })
        })
        .collect();
    let districts = match crate::api::complaints::load_districts(&state).await {
        Ok(d) => d,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let districts: Vec<Value> = districts
        .iter()
        .map(|d| {
            json!({
                "district": d.district, "requests": d.requests,
                "share": percent(d.share),
                "closures": if d.critical_closures.is_empty() { web.t(l, "dash.none") } else { d.critical_closures.join("；") },
                "closed": !d.critical_closures.is_empty(),
            })
        })
        .collect();
    let data = json!({"title": web.t(l, "dash.board_title"), "rows": rows, "centres": centres, "districts": districts});
    state.web.page(&req, StatusCode::OK, "board", l, data)
}
