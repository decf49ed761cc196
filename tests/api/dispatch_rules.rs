//! The 120 rules over HTTP: each at its boundary (exactly 10 s, 95.0 %, 3:00, the pack's
//! count), a day judged only once it is over and again when a late call of it arrives, the
//! two-sided handover (the ambulance's clock and its `handed_over`), a centre's cases carrying
//! the centre, and a re-posted log changing nothing.

use crate::common;

use common::TestApp;
use serde_json::{Value, json};

async fn post(app: &TestApp, token: &str, events: Value) -> Value {
    let (status, body) = app
        .post_json("/api/v1/dispatch-events", Some(token), &events)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rejected"], json!([]), "{body}");
    body
}

/// A call event at `t` (RFC 3339), with more fields.
fn ev(id: &str, kind: &str, call: &str, t: &str, more: Value) -> Value {
    let mut e = json!({"event_id": id, "type": kind, "call_id": call, "occurred_at": t});
    if let (Some(o), Value::Object(m)) = (e.as_object_mut(), more) {
        o.extend(m);
    }
    e
}

/// A call of 2022-07-01 received at `hh:mm:00` China time and answered `secs` later.
fn answered_after(n: usize, hh_mm: &str, secs: i64) -> Vec<Value> {
    let call = format!("C-{n}");
    vec![
        ev(
            &format!("{call}-r"),
            "call_received",
            &call,
            &common::at(hh_mm, 0),
            json!({}),
        ),
        ev(
            &format!("{call}-a"),
            "call_answered",
            &call,
            &common::at(hh_mm, secs),
            json!({"acuity": "routine"}),
        ),
    ]
}

async fn cases_of(app: &TestApp, token: &str, rule: &str) -> Vec<Value> {
    app.cases(token, &format!("rule={rule}")).await
}

#[actix_web::test]
async fn a_day_at_exactly_95_percent_within_10_seconds_passes_and_a_late_call_of_it_rejudges_it() {
    let app = TestApp::spawn().await;
    let centre = app.centre_token("DD-120").await;
    let sup = app.supervisor_token().await;
    // 19 calls answered at exactly 10 s and one at 11 s: 95.0 %, every call within 60 s.
    let mut log: Vec<Value> = (0..19)
        .flat_map(|n| answered_after(n, "10:00", 10))
        .collect();
    log.extend(answered_after(19, "11:00", 11));
    post(&app, &centre, Value::Array(log.clone())).await;
    assert!(
        cases_of(&app, &sup, "dispatch.answer_rate")
            .await
            .is_empty()
    );
    assert!(cases_of(&app, &sup, "dispatch.unanswered").await.is_empty());
    // A call of that day logged late, answered at 61 s: 19 of 21 in time (90.5 %), one unanswered.
    post(&app, &centre, Value::Array(answered_after(20, "12:00", 61))).await;
    let rate = cases_of(&app, &sup, "dispatch.answer_rate").await;
    assert_eq!(rate.len(), 1, "{rate:?}");
    assert_eq!(rate[0]["centre"], "DD-120");
    assert_eq!(rate[0]["hospital"], Value::Null);
    let summary = rate[0]["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("受理 21 个") && summary.contains("90.5%"),
        "{summary}"
    );
    let unanswered = cases_of(&app, &sup, "dispatch.unanswered").await;
    assert_eq!(unanswered.len(), 1, "{unanswered:?}");
    // The case shows the day's figures and the calls that missed.
    let id = rate[0]["id"].as_i64().unwrap_or_default();
    let (_, detail) = app.get(&format!("/api/v1/cases/{id}"), Some(&sup)).await;
    let day = &detail["day"];
    assert_eq!(day["date"], "2022-07-01");
    assert_eq!(
        (
            &day["figures"]["calls"],
            &day["figures"]["answered_in_time"],
            &day["figures"]["answered"]
        ),
        (&json!(21), &json!(19), &json!(20))
    );
    let late: Vec<&str> = day["figures"]["late"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["call_id"].as_str())
        .collect();
    assert_eq!(late, ["C-19", "C-20"]);
    assert_eq!(detail["evidence"]["events"][0]["centre"], "DD-120");
    // Posting the whole log again changes nothing.
    log.extend(answered_after(20, "12:00", 61));
    let again = post(&app, &centre, Value::Array(log)).await;
    assert_eq!(
        (again["accepted"].as_i64(), again["duplicates"].as_i64()),
        (Some(0), Some(42))
    );
    assert_eq!(cases_of(&app, &sup, "dispatch.answer_rate").await.len(), 1);
    // A centre's case is the inspectors' to take up: there is no one to forward it to.
    let (status, body) = app
        .post_json(
            &format!("/api/v1/cases/{id}/actions"),
            Some(&sup),
            &json!({"action": "forward", "note": "请说明"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
}

#[actix_web::test]
async fn today_is_judged_only_once_it_is_over() {
    let app = TestApp::spawn().await;
    let centre = app.centre_token("DD-120").await;
    let sup = app.supervisor_token().await;
    let now = chrono::Utc::now();
    let start = shouzhen_domain::time::china_day_start(now.naive_utc()).and_utc();
    // A call of today the caller abandoned (at the start of the day, so not in the future).
    let t = |secs: i64| (start + chrono::Duration::seconds(secs)).to_rfc3339();
    post(
        &app,
        &centre,
        json!([
            ev("t1", "call_received", "T-1", &t(0), json!({})),
            ev("t2", "call_abandoned", "T-1", &t(1), json!({})),
        ]),
    )
    .await;
    assert!(
        cases_of(&app, &sup, "dispatch.unanswered").await.is_empty(),
        "the day is not over"
    );
    let end = start + chrono::Duration::days(1);
    app.sweep_at(end - chrono::Duration::seconds(1)).await;
    assert!(
        cases_of(&app, &sup, "dispatch.unanswered").await.is_empty(),
        "not at 23:59:59"
    );
    app.sweep_at(end).await;
    let cases = cases_of(&app, &sup, "dispatch.unanswered").await;
    assert_eq!(cases.len(), 1, "judged at midnight: {cases:?}");
    assert_eq!(cases[0]["centre"], "DD-120");
}

#[actix_web::test]
async fn a_critical_call_dispatched_at_3_minutes_is_on_time_and_a_second_later_is_not() {
    let app = TestApp::spawn().await;
    let centre = app.centre_token("DD-120").await;
    let sup = app.supervisor_token().await;
    let call = |call: &str, acuity: &str, dispatched_after: i64| {
        vec![
            ev(
                &format!("{call}-r"),
                "call_received",
                call,
                &common::at("10:00", 0),
                json!({}),
            ),
            ev(
                &format!("{call}-a"),
                "call_answered",
                call,
                &common::at("10:00", 5),
                json!({"acuity": acuity}),
            ),
            ev(
                &format!("{call}-d"),
                "dispatched",
                call,
                &common::at("10:00", 5 + dispatched_after),
                json!({}),
            ),
        ]
    };
    let mut log = call("K-1", "critical", 180);
    log.extend(call("K-2", "urgent", 181));
    log.extend(call("K-3", "routine", 900));
    post(&app, &centre, Value::Array(log)).await;
    let cases = cases_of(&app, &sup, "dispatch.delay").await;
    assert_eq!(cases.len(), 1, "{cases:?}");
    let summary = cases[0]["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("K-2"), "{summary}");
    assert_eq!(cases[0]["centre"], "DD-120");
}

#[actix_web::test]
async fn dandongs_main_city_needs_10_ambulances_on_line_and_one_case_a_day_holds_each_shortfall() {
    let app = TestApp::builder()
        .var(
            "SHOUZHEN_POLICY",
            concat!(env!("CARGO_MANIFEST_DIR"), "/policies"),
        )
        .spawn()
        .await;
    let centre = app.centre_token("DD-120").await;
    let sup = app.supervisor_token().await;
    let fleet = |id: &str, hh_mm: &str, area: &str, n: i64| {
        json!({"event_id": id, "type": "fleet_status", "occurred_at": common::at(hh_mm, 0),
               "vehicles_online": n, "area": area})
    };
    post(
        &app,
        &centre,
        json!([
            fleet("f1", "08:00", "主城区", 10),
            fleet("f2", "08:00", "东港市", 3)
        ]),
    )
    .await;
    assert!(
        cases_of(&app, &sup, "dispatch.fleet_short")
            .await
            .is_empty(),
        "exactly 10; no count for 东港市"
    );
    post(
        &app,
        &centre,
        json!([
            fleet("f3", "12:00", "主城区", 9),
            fleet("f4", "16:00", "主城区", 8)
        ]),
    )
    .await;
    let cases = cases_of(&app, &sup, "dispatch.fleet_short").await;
    assert_eq!(cases.len(), 1, "{cases:?}");
    let id = cases[0]["id"].as_i64().unwrap_or_default();
    let (_, detail) = app.get(&format!("/api/v1/cases/{id}"), Some(&sup)).await;
    let shown: Vec<&str> = detail["evidence"]["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["event_id"].as_str())
        .collect();
    assert_eq!(shown, ["f3", "f4"]);
}

#[actix_web::test]
async fn a_handover_is_timed_from_both_sides() {
    let app = TestApp::spawn().await;
    let hospital = app.hospital_token("DD-1").await;
    let centre = app.centre_token("DD-120").await;
    let sup = app.supervisor_token().await;
    let patient = |n: u32| json!({"id_number": format!("21060219800101{n:04}")});
    let at_hospital = |id: &str, call: &str, hh_mm: &str, n: u32| {
        ev(
            id,
            "at_hospital",
            call,
            &common::at(hh_mm, 0),
            json!({"hospital": "DD-1", "patient": patient(n)}),
        )
    };
    let hospital_event = |id: &str, kind: &str, hh_mm: &str, n: u32| {
        let mut e = json!({"event_id": id, "type": kind, "occurred_at": common::at(hh_mm, 0),
                           "patient": patient(n)});
        if kind == "arrival" {
            e["acuity"] = json!("urgent");
            e["arrived_by"] = json!("ambulance");
        }
        e
    };
    // X: at the door at 10:00 by the ambulance's log; the hospital logged it at 10:20 and
    // handed over at 10:22: 22 minutes.
    // Y: the ambulance handed over at 11:10; the hospital's own log is late, its handover at 11:40.
    // Z: the ambulance at 12:00, and nothing in the hospital's log.
    post(
        &app,
        &centre,
        json!([
            at_hospital("x1", "X", "10:00", 1),
            at_hospital("y1", "Y", "11:00", 2),
            ev(
                "y2",
                "handed_over",
                "Y",
                &common::at("11:10", 0),
                json!({"hospital": "DD-1"})
            ),
            at_hospital("z1", "Z", "12:00", 3),
        ]),
    )
    .await;
    app.post_events(
        &hospital,
        json!([
            hospital_event("hx1", "arrival", "10:20", 1),
            hospital_event("hx2", "handover", "10:22", 1),
            hospital_event("hy1", "arrival", "11:20", 2),
            hospital_event("hy2", "handover", "11:40", 2),
        ]),
    )
    .await;
    let handovers = cases_of(&app, &sup, "handover.delay").await;
    let mut summaries: Vec<&str> = handovers
        .iter()
        .filter(|c| c["status"] == "open")
        .filter_map(|c| c["summary"].as_str())
        .collect();
    summaries.sort();
    // X's case opened on the ambulance's log alone (no handover 15 minutes after 10:00) and
    // took the hospital's late arrival and its handover at 10:22 as evidence when they came.
    assert_eq!(
        summaries.len(),
        2,
        "X late, Z never handed over: {handovers:?}"
    );
    assert!(
        summaries
            .iter()
            .all(|s| s.contains("按 120 报告的到院时间起算")),
        "{summaries:?}"
    );
    assert!(
        handovers
            .iter()
            .all(|c| c["hospital"] == "DD-1" && c["centre"].is_null())
    );
    let x = handovers
        .iter()
        .find(|c| c["summary"].as_str().is_some_and(|s| s.contains("x1")))
        .expect("X's case");
    let (_, detail) = app
        .get(&format!("/api/v1/cases/{}", x["id"]), Some(&sup))
        .await;
    let shown: Vec<&str> = detail["evidence"]["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["event_id"].as_str())
        .collect();
    assert_eq!(shown, ["x1", "hx1", "hx2"]);
    // Logged the other way round (the hospital first), the same arrival is judged the same.
    let other = TestApp::spawn().await;
    let hospital = other.hospital_token("DD-1").await;
    let centre2 = other.centre_token("DD-120").await;
    let sup2 = other.supervisor_token().await;
    other
        .post_events(
            &hospital,
            json!([
                hospital_event("hx1", "arrival", "10:20", 1),
                hospital_event("hx2", "handover", "10:22", 1),
            ]),
        )
        .await;
    assert!(
        cases_of(&other, &sup2, "handover.delay").await.is_empty(),
        "2 minutes by its own log"
    );
    post(
        &other,
        &centre2,
        json!([at_hospital("x1", "X", "10:00", 1)]),
    )
    .await;
    let late = cases_of(&other, &sup2, "handover.delay").await;
    assert_eq!(late.len(), 1, "{late:?}");
    let summary = late[0]["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("22 分钟") && summary.contains("120"),
        "{summary}"
    );
    // X and Y were flagged while only the ambulance's log was in; the hospital's arrivals,
    // within 30 minutes, withdrew them.
    let unlogged: Vec<Value> = cases_of(&app, &sup, "intake.unlogged_arrival")
        .await
        .into_iter()
        .filter(|c| c["status"] != "withdrawn")
        .collect();
    assert_eq!(unlogged.len(), 1, "Z only: {unlogged:?}");
    let id = unlogged[0]["id"].as_i64().unwrap_or_default();
    let (_, detail) = app.get(&format!("/api/v1/cases/{id}"), Some(&sup)).await;
    let e = &detail["evidence"]["events"][0];
    assert_eq!(
        (
            e["event_id"].as_str(),
            e["centre"].as_str(),
            e["hospital"].as_str()
        ),
        (Some("z1"), Some("DD-120"), Some("DD-1"))
    );
    assert!(
        e["patient"].as_str().is_some_and(|p| p.starts_with("P-")),
        "{e}"
    );
    assert!(
        !detail.to_string().contains("21060219800101"),
        "no identity number shown"
    );
}

#[actix_web::test]
async fn an_escalated_centre_case_is_emailed_naming_the_centre() {
    let app = TestApp::builder()
        .var("SHOUZHEN_ESCALATION_TO", "wjw@health.example.cn")
        .var("SHOUZHEN_OUTBOX_INTERVAL", "300")
        .spawn()
        .await;
    let centre = app.centre_token("DD-120").await;
    let sup = app.supervisor_token().await;
    post(
        &app,
        &centre,
        json!([
            ev(
                "k1",
                "call_received",
                "K-1",
                &common::at("10:00", 0),
                json!({})
            ),
            ev(
                "k2",
                "call_answered",
                "K-1",
                &common::at("10:00", 5),
                json!({"acuity": "critical"})
            ),
        ]),
    )
    .await;
    let cases = cases_of(&app, &sup, "dispatch.delay").await;
    assert_eq!(cases.len(), 1, "never dispatched: {cases:?}");
    let (status, body) = app
        .post_json(
            &format!("/api/v1/cases/{}/actions", cases[0]["id"]),
            Some(&sup),
            &json!({"action": "escalate", "note": "请调度科说明"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let rows = app
        .state
        .db(|conn| Ok(shouzhen_store::outbox::all(conn)?))
        .await
        .expect("outbox");
    assert_eq!(rows.len(), 1);
    let text = &rows[0].body_text;
    assert!(
        text.contains("120 急救中心：DD-120 急救中心（DD-120）"),
        "{text}"
    );
    assert!(!text.contains("医院："), "{text}");
    assert!(
        rows[0].subject.contains("DD-120 急救中心"),
        "{}",
        rows[0].subject
    );
}
