//! A case: evidence, chain, history, and the actions.

use super::*;

/// An RFC 3339 time of the API as China time for a page.
pub(super) fn china_text(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| china(t.naive_utc()))
        .unwrap_or_default()
}

/// Events and complaints in one timeline, in event time.
pub(super) fn timeline(
    web: &crate::web::Web,
    l: Lang,
    detail: &crate::api::cases::CaseDetail,
) -> Vec<Value> {
    let mut timeline: Vec<(String, Value)> = detail
        .evidence
        .events
        .iter()
        .map(|e| {
            let reasons = e.details["reasons"].as_array().map(|r| r.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default();
            let who = match e.centre.as_ref().or(e.desk.as_ref()) {
                Some(c) if e.hospital.is_empty() => c.clone(),
                Some(c) => format!("{c} → {}", e.hospital),
                None => e.hospital.clone(),
            };
            // A desk's events share some types with a centre's: their own names.
            let kind = match &e.desk {
                Some(_) => format!("transport_{}", e.kind),
                None => e.kind.clone(),
            };
            let facts = facts(web, l, &e.details);
            (e.occurred_at.clone(), json!({"at": china_text(&e.occurred_at), "kind": web.t(l, &format!("dash.kinds.{kind}")), "who": who, "text": format!("{} {} {} {}", e.event_id, e.patient.clone().unwrap_or_default(), reasons, facts).trim_end().to_string()}))
        })
        .chain(detail.evidence.complaints.iter().map(|c| {
            (c.occurred_at.clone(), json!({"at": china_text(&c.occurred_at), "kind": web.t(l, "dash.kinds.complaint"), "who": c.tracking_code, "text": c.description}))
        }))
        .collect();
    timeline.sort_by(|a, b| a.0.cmp(&b.0));
    timeline.into_iter().map(|(_, v)| v).collect()
}

/// What an event says of the zone it came from, where it was referred (with what approval) and
/// what a closure shuts and diverts to: "来自封控区", "转往 沈阳 中国医大一院（辽宁） · 市级审核".
fn facts(web: &crate::web::Web, l: Lang, details: &Value) -> String {
    let t = |key: &str| web.t(l, &format!("dash.facts.{key}"));
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let mut out = Vec::new();
    if let Some(z) = details["origin_zone"].as_str() {
        out.push(format!("{} {}", t("zone"), t(&format!("zones.{z}"))));
    }
    let to = &details["to_facility"];
    if to.is_object() {
        out.push(format!(
            "{} {} {}（{}）",
            t("to"),
            text(&to["city"]),
            text(&to["name"]),
            text(&to["province"])
        ));
        out.push(match details["approval"]["level"].as_str() {
            Some(level) => format!(
                "{} {} {}",
                t(&format!("levels.{level}")),
                t("approval"),
                text(&details["approval"]["ref"])
            ),
            None => t("no_approval"),
        });
    } else if let Some(h) = details["to_hospital"].as_str() {
        out.push(format!("{} {h}", t("to")));
    }
    let closure = &details["closure"];
    if closure.is_object() {
        let mut what = t(&format!("scopes.{}", text(&closure["scope"])));
        if let Some(k) = closure["kind"].as_str() {
            what = format!("{what} {}", t(&format!("units.{k}")));
        }
        out.push(format!("{} {what} {}", t("unit"), text(&closure["id"])));
        if let Some(h) = closure["diverted_to"].as_str() {
            out.push(format!("{} {h}", t("diverted_to")));
        }
    }
    out.join(" · ")
}

/// A community request's timeline for the case page: each step's name and China time.
fn transport_view(
    web: &crate::web::Web,
    l: Lang,
    t: &crate::api::cases::TransportTimeline,
) -> Value {
    let steps: Vec<Value> = t
        .steps
        .iter()
        .map(|s| {
            json!({
                "label": web.t(l, &format!("dash.kinds.transport_{}", s.step)),
                "at": s.at.as_deref().map(china_text).unwrap_or_else(|| web.t(l, "dash.clock_none")),
            })
        })
        .collect();
    json!({
        "request_id": t.request_id,
        "purpose": t.purpose.as_deref().map(|p| web.t(l, &format!("dash.purposes.{p}"))),
        "group": web.t(l, if t.special { "dash.transport_special" } else { "dash.transport_ordinary" }),
        "to_hospital": t.to_hospital,
        "steps": steps,
    })
}

/// A handover case's two clocks, side by side: when the 120 centre and the hospital each logged
/// the arrival and the handover (or a treatment), from the case's evidence.
pub(super) fn clocks(
    web: &crate::web::Web,
    l: Lang,
    detail: &crate::api::cases::CaseDetail,
) -> Option<Vec<Value>> {
    let rule = RuleId::parse(&detail.case.rule)?;
    if !matches!(rule, RuleId::HandoverDelay | RuleId::IntakeUnloggedArrival) {
        return None;
    }
    let events = &detail.evidence.events;
    if !events.iter().any(|e| e.centre.is_some()) {
        return None;
    }
    let first = |ambulance: bool, kinds: &[&str]| {
        events
            .iter()
            .find(|e| e.centre.is_some() == ambulance && kinds.contains(&e.kind.as_str()))
            .map(|e| china_text(&e.occurred_at))
            .unwrap_or_else(|| web.t(l, "dash.clock_none"))
    };
    Some(vec![
        json!({"side": web.t(l, "dash.clock_ambulance"), "arrived": first(true, &["at_hospital"]), "handed": first(true, &["handed_over"])}),
        json!({"side": web.t(l, "dash.clock_hospital"), "arrived": first(false, &["arrival"]), "handed": first(false, &["handover", "treatment", "refusal", "transfer", "discharge"])}),
    ])
}

/// The case's history: every action with its actor, the hospital's replies among them.
pub(super) fn history(
    web: &crate::web::Web,
    l: Lang,
    detail: &crate::api::cases::CaseDetail,
) -> Vec<Value> {
    detail
        .actions
        .iter()
        .map(|a| json!({"at": china_text(&a.at), "action": web.t(l, &format!("dash.actions.{}", a.action)), "actor": a.actor, "note": a.note}))
        .collect()
}

async fn render_case(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: i64,
    status: StatusCode,
    error: Option<String>,
) -> HttpResponse {
    let l = lang(req);
    let policy = state.policy.clone();
    let loaded = state
        .db(move |conn| {
            let detail = crate::api::cases::load_detail(conn, id, &policy)?;
            let assignees = shouzhen_store::users::enabled_emails(conn)?;
            let source = match detail
                .case
                .hospital
                .as_ref()
                .or(detail.case.centre.as_ref())
                .or(detail.case.desk.as_ref())
            {
                Some(code) => shouzhen_store::hospitals::any_by_code(conn, code)?.map(|h| h.name),
                None => None,
            };
            Ok((detail, assignees, source))
        })
        .await;
    let (detail, assignees, source_name) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(req, state, &e),
    };
    if staff
        .district_scope()
        .is_some_and(|d| d != detail.case.district)
    {
        return error_page(req, state, &ApiError(AppError::Forbidden(String::new())));
    }
    let web = &state.web;
    let (timeline, history) = (timeline(web, l, &detail), history(web, l, &detail));
    let actions: Vec<&str> = shouzhen_domain::case::ACTIONS
        .iter()
        .copied()
        .filter(|a| shouzhen_domain::case::transition(a, &detail.case.status).is_some())
        .filter(|a| shouzhen_domain::case::allowed(staff.role, a))
        .collect();
    let rule = RuleId::parse(&detail.case.rule);
    let occurred = chrono::DateTime::parse_from_rfc3339(&detail.case.occurred_at)
        .map(|t| china(t.naive_utc()))
        .unwrap_or_default();
    let opened = chrono::DateTime::parse_from_rfc3339(&detail.case.opened_at)
        .map(|t| china(t.naive_utc()))
        .unwrap_or_default();
    let data = json!({
        "title": format!("#{}", detail.case.id),
        "case": detail.case,
        "detail": detail,
        "severity": web.t(l, &format!("dash.severities.{}", detail.case.severity)),
        "status": web.t(l, &format!("dash.statuses.{}", detail.case.status)),
        "rule_title": rule.map(|r| if l == Lang::En { r.info().title_en } else { r.info().title_zh }),
        "rule_plain": rule.map(|r| if l == Lang::En { r.info().plain_en } else { r.info().plain_zh }),
        "occurred": occurred,
        "opened": opened,
        "timeline": timeline,
        "history": history,
        "source_name": source_name,
        "day": detail.day,
        "day_share": detail.day.as_ref().and_then(|d| d.share).map(|s| format!("{s:.1}")),
        "day_answer_rate": detail.day.as_ref().and_then(|d| d.answer_rate).map(|s| format!("{s:.1}")),
        "clocks": clocks(web, l, &detail),
        "transport": detail.transport.as_ref().map(|t| transport_view(web, l, t)),
        "passed_over_by": detail.passed_over_by.as_ref().map(|t| transport_view(web, l, t)),
        "reply_due": detail.reply_due.as_deref().map(china_text),
        "rectification_due": detail.rectification_due.as_deref().map(china_text),
        "can_accept": actions.contains(&"accept"),
        "actions": actions.iter().map(|a| json!({"value": a, "label": web.t(l, &format!("dash.actions.{a}"))})).collect::<Vec<_>>(),
        "assignees": (staff.role >= Role::Supervisor).then_some(assignees),
        "error": error,
    });
    staff_page(req, state, staff, "case", status, data)
}

pub async fn case_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let staff = match require(&req, &state, Role::Inspector).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let Ok(id) = path.parse::<i64>() else {
        return error_page(&req, &state, &ApiError(AppError::NotFound(String::new())));
    };
    render_case(&req, &state, &staff, id, StatusCode::OK, None).await
}

pub async fn case_action(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let (staff, f) = match staff_form(&req, payload, &state, Role::Inspector).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let l = lang(&req);
    let Ok(id) = path.parse::<i64>() else {
        return error_page(&req, &state, &ApiError(AppError::NotFound(String::new())));
    };
    match post_action(&req, &state, &staff, id, &f).await {
        Posted::Done => see_other(&format!("/cases/{id}?lang={}", l.code())),
        Posted::Again(status, message) => {
            render_case(&req, &state, &staff, id, status, Some(message)).await
        }
        Posted::Failed(e) => error_page(&req, &state, &e),
    }
}

/// What a posted action form came to.
pub(super) enum Posted {
    Done,
    /// Show the form's page again with this status and message (a field at fault, a conflict).
    Again(StatusCode, String),
    Failed(ApiError),
}

/// Applies the action a case page's form posted (the inspectors' or the hospital's).
pub(super) async fn post_action(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: i64,
    f: &HashMap<String, String>,
) -> Posted {
    let l = lang(req);
    let request = shouzhen_domain::case::ActionRequest {
        action: get(f, "action"),
        note: f.get("note").cloned().unwrap_or_default(),
        assignee: f.get("assignee").cloned().filter(|a| !a.is_empty()),
        admits: match f.get("admits").map(String::as_str) {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        },
        due: f.get("due").map(|d| form_time(d)).filter(|d| !d.is_empty()),
    };
    let ip = crate::auth::client_ip_text(req);
    let (notifier, who) = (state.notifier.clone(), staff.clone());
    let result = state
        .db(move |conn| {
            shouzhen_app::workflow::apply(
                conn,
                &notifier,
                &who,
                id,
                &request,
                &ip,
                shouzhen_store::now(),
            )
        })
        .await;
    match result {
        Ok(()) => Posted::Done,
        Err(ApiError(AppError::BadRequest { detail, .. })) => {
            Posted::Again(StatusCode::BAD_REQUEST, detail)
        }
        Err(ApiError(AppError::Conflict(_))) => {
            Posted::Again(StatusCode::CONFLICT, state.web.t(l, "dash.conflict"))
        }
        Err(e) => Posted::Failed(e),
    }
}

/// A form's `datetime-local` value (China time, no offset) as RFC 3339; anything else as given
/// (so that the validation names it).
fn form_time(value: &str) -> String {
    let v = value.trim();
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
        .map(|local| format!("{}+08:00", local.format("%Y-%m-%dT%H:%M:%S")))
        .unwrap_or_else(|| v.to_string())
}
