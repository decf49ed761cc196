//! Community transport for sealed areas over HTTP: a desk's token and log, each rule at its
//! boundary (2:00 and 6:00 exactly on time, 12 hours to bring the resident back), the priority
//! rule with its two requests in either order of arrival, events before their request, bad
//! input named by field, and a desk's case carrying the desk.

use crate::common;

use chrono::{DateTime, Duration, Utc};
use common::{TestApp, at};
use serde_json::{Value, json};

async fn post(app: &TestApp, token: &str, events: Value) -> Value {
    let (status, body) = app
        .post_json("/api/v1/transport-events", Some(token), &events)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A desk's event of `request` at `t` (RFC 3339), with more fields.
fn ev(id: &str, kind: &str, request: &str, t: &str, more: Value) -> Value {
    let mut e = json!({"event_id": id, "type": kind, "request_id": request, "occurred_at": t});
    if let (Some(o), Value::Object(m)) = (e.as_object_mut(), more) {
        o.extend(m);
    }
    e
}

fn request(id: &str, t: &str, purpose: &str) -> Value {
    ev(
        &format!("{id}-req"),
        "request",
        id,
        t,
        json!({"patient": {"id_number": format!("1101011960{id:0>8}")}, "purpose": purpose,
               "to_hospital": "BJ-CY"}),
    )
}

async fn cases_of(app: &TestApp, token: &str, rule: &str) -> Vec<Value> {
    app.cases(token, &format!("rule={rule}")).await
}

/// The request ids the cases' summaries name, sorted.
fn requests_of(cases: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = cases
        .iter()
        .filter_map(|c| c["summary"].as_str())
        .filter_map(|s| s.split("申请 ").nth(1))
        .map(|s| s.split_whitespace().next().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    ids
}

#[actix_web::test]
async fn special_groups_are_picked_up_within_2_hours_and_others_within_6_exactly() {
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    let desk = app.desk_token("CY-SQ1").await;
    let sup = app.supervisor_token().await;
    let picked = |id: &str, t: &str| ev(&format!("{id}-pick"), "picked_up", id, t, json!({}));
    let report = post(
        &app,
        &desk,
        json!([
            request("D1", &at("08:00", 0), "dialysis"),
            picked("D1", &at("10:00", 0)),
            request("D2", &at("08:00", 0), "pregnancy_check"),
            picked("D2", &at("10:00", 1)),
            request("O1", &at("08:00", 0), "other"),
            picked("O1", &at("14:00", 0)),
            request("O2", &at("08:00", 0), "other"),
            picked("O2", &at("14:00", 1)),
        ]),
    )
    .await;
    assert_eq!(report["accepted"], 8, "{report}");
    let cases = cases_of(&app, &sup, "transport.wait").await;
    assert_eq!(requests_of(&cases), ["D2", "O2"], "{cases:?}");
    assert!(
        cases
            .iter()
            .all(|c| c["desk"] == "CY-SQ1" && c["hospital"].is_null())
    );
    assert_eq!(cases[0]["severity"], "medium");
}

#[actix_web::test]
async fn a_request_still_waiting_is_a_case_from_its_limit_and_events_before_their_request_wait_for_it()
 {
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    let desk = app.desk_token("CY-SQ1").await;
    let sup = app.supervisor_token().await;
    let made: DateTime<Utc> = Utc::now() - Duration::minutes(30);
    post(
        &app,
        &desk,
        json!([request("W1", &made.to_rfc3339(), "chemotherapy")]),
    )
    .await;
    assert_eq!(
        app.sweep_at(made + Duration::hours(2) - Duration::seconds(1))
            .await,
        0
    );
    assert_eq!(app.sweep_at(made + Duration::hours(2)).await, 1);
    assert_eq!(
        requests_of(&cases_of(&app, &sup, "transport.wait").await),
        ["W1"]
    );
    // A pick-up logged before its request: stored, judged once the request arrives.
    post(
        &app,
        &desk,
        json!([ev("L1-pick", "picked_up", "L1", &at("15:00", 0), json!({}))]),
    )
    .await;
    assert_eq!(cases_of(&app, &sup, "transport.wait").await.len(), 1);
    post(
        &app,
        &desk,
        json!([request("L1", &at("12:00", 0), "oncology")]),
    )
    .await;
    assert_eq!(
        requests_of(&cases_of(&app, &sup, "transport.wait").await),
        ["L1", "W1"]
    );
}

#[actix_web::test]
async fn a_special_request_passed_over_is_found_whichever_request_arrives_first() {
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    let sup = app.supervisor_token().await;
    let dispatched = |id: &str, t: &str| ev(&format!("{id}-sent"), "dispatched", id, t, json!({}));
    let special = json!([
        request("S", &at("08:00", 0), "dialysis"),
        dispatched("S", &at("09:00", 0)),
    ]);
    let ordinary = json!([
        request("O", &at("08:10", 0), "other"),
        dispatched("O", &at("08:30", 0)),
    ]);
    // The special request first at one desk, the ordinary one first at another.
    let first = app.desk_token("CY-SQ1").await;
    post(&app, &first, special.clone()).await;
    post(&app, &first, ordinary.clone()).await;
    let second = app.desk_token("CY-SQ2").await;
    post(&app, &second, ordinary).await;
    post(&app, &second, special).await;
    let cases = cases_of(&app, &sup, "transport.priority").await;
    let mut desks: Vec<&str> = cases.iter().filter_map(|c| c["desk"].as_str()).collect();
    desks.sort();
    assert_eq!(desks, ["CY-SQ1", "CY-SQ2"], "{cases:?}");
    let summary = cases[0]["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("申请 S") && summary.contains("普通用车申请 O"),
        "{summary}"
    );
    // Its evidence: the special request, the ordinary request and its dispatch.
    let id = cases[0]["id"].as_i64().unwrap_or_default();
    let (_, detail) = app.get(&format!("/api/v1/cases/{id}"), Some(&sup)).await;
    let mut ids: Vec<&str> = detail["evidence"]["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["event_id"].as_str())
        .collect();
    ids.sort();
    assert_eq!(ids, ["O-req", "O-sent", "S-req"], "{detail}");
    assert_eq!(detail["desk"], cases[0]["desk"]);
    // The request's whole timeline, and the ordinary request that went first.
    let steps: Vec<(&str, bool)> = detail["transport"]["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| (s["step"].as_str().unwrap_or_default(), s["at"].is_string()))
        .collect();
    assert_eq!(
        steps,
        [
            ("request", true),
            ("dispatched", true),
            ("picked_up", false),
            ("at_hospital", false),
            ("returned", false)
        ]
    );
    assert_eq!(detail["transport"]["special"], true);
    assert_eq!(detail["passed_over_by"]["request_id"], "O");
    assert_eq!(detail["passed_over_by"]["special"], false);
    // An ordinary request made before the special one, served first: fine.
    let third = app.desk_token("CY-SQ3").await;
    post(
        &app,
        &third,
        json!([
            request("O", &at("07:50", 0), "other"),
            dispatched("O", &at("08:30", 0)),
            request("S", &at("08:00", 0), "dialysis"),
            dispatched("S", &at("09:00", 0)),
        ]),
    )
    .await;
    assert_eq!(cases_of(&app, &sup, "transport.priority").await.len(), 2);
}

#[actix_web::test]
async fn a_resident_brought_back_within_12_hours_exactly_closes_the_loop() {
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    let desk = app.desk_token("CY-SQ1").await;
    let sup = app.supervisor_token().await;
    let step = |id: &str, kind: &str, t: &str| ev(&format!("{id}-{kind}"), kind, id, t, json!({}));
    post(
        &app,
        &desk,
        json!([
            request("B1", &at("08:00", 0), "dialysis"),
            step("B1", "picked_up", &at("08:30", 0)),
            step("B1", "at_hospital", &at("09:00", 0)),
            step("B1", "returned", &at("21:00", 0)),
            request("B2", &at("08:00", 0), "dialysis"),
            step("B2", "picked_up", &at("08:30", 0)),
            step("B2", "at_hospital", &at("09:00", 0)),
            step("B2", "returned", &at("21:01", 0)),
        ]),
    )
    .await;
    let cases = cases_of(&app, &sup, "transport.no_return").await;
    assert_eq!(requests_of(&cases), ["B2"], "{cases:?}");
    assert_eq!(cases[0]["severity"], "low");
    // Never brought back: a case at the 12th hour.
    let there = Utc::now() - Duration::hours(1);
    post(
        &app,
        &desk,
        json!([
            request("B3", &(there - Duration::hours(1)).to_rfc3339(), "other"),
            step(
                "B3",
                "picked_up",
                &(there - Duration::minutes(30)).to_rfc3339()
            ),
            step("B3", "at_hospital", &there.to_rfc3339()),
        ]),
    )
    .await;
    app.sweep_at(there + Duration::hours(12) - Duration::seconds(1))
        .await;
    assert_eq!(cases_of(&app, &sup, "transport.no_return").await.len(), 1);
    app.sweep_at(there + Duration::hours(12)).await;
    assert_eq!(
        requests_of(&cases_of(&app, &sup, "transport.no_return").await),
        ["B2", "B3"]
    );
}

#[actix_web::test]
async fn bad_transport_events_are_named_by_field_and_tokens_do_not_cross() {
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    let desk = app.desk_token("CY-SQ1").await;
    let hospital = app.hospital_token("BJ-HD").await;
    let report = post(
        &app,
        &desk,
        json!([
            json!({"event_id": "x1", "type": "request", "occurred_at": at("08:00", 0),
                   "patient": {"ref": "p"}, "purpose": "dialysis", "to_hospital": "BJ-CY"}),
            ev(
                "x2",
                "request",
                "R2",
                &at("08:00", 0),
                json!({"patient": {"ref": "p"}, "to_hospital": "BJ-CY"})
            ),
            ev(
                "x3",
                "request",
                "R3",
                &at("08:00", 0),
                json!({"patient": {"ref": "p"}, "purpose": "shopping", "to_hospital": "BJ-CY"})
            ),
            ev(
                "x4",
                "request",
                "R4",
                &at("08:00", 0),
                json!({"patient": {"ref": "p"}, "purpose": "other", "to_hospital": "NOPE"})
            ),
            ev("x5", "cancelled", "R5", &at("08:00", 0), json!({})),
            ev(
                "ok",
                "request",
                "R6",
                &at("08:00", 0),
                json!({"patient": {"ref": "p"}, "purpose": "other", "to_hospital": "BJ-CY"})
            ),
        ]),
    )
    .await;
    assert_eq!(report["accepted"], 1, "{report}");
    let fields: Vec<(&str, &str)> = report["rejected"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["event_id"].as_str().unwrap_or_default(),
                r["errors"][0]["field"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("x1", "request_id"),
            ("x2", "purpose"),
            ("x3", "purpose"),
            ("x4", "to_hospital"),
            ("x5", "reason"),
        ]
    );
    // A desk's token is for its log only, a hospital's for its own.
    let event = request("T1", &at("08:00", 0), "other");
    let (status, _) = app
        .post_json("/api/v1/intake-events", Some(&desk), &event)
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post_json("/api/v1/transport-events", Some(&hospital), &event)
        .await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn a_desk_s_case_is_not_forwarded() {
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    let desk = app.desk_token("CY-SQ1").await;
    let sup = app.supervisor_token().await;
    post(
        &app,
        &desk,
        json!([request("N1", &at("08:00", 0), "other")]),
    )
    .await;
    let cases = cases_of(&app, &sup, "transport.wait").await;
    assert_eq!(cases.len(), 1, "{cases:?}");
    let id = cases[0]["id"].as_i64().unwrap_or_default();
    let (status, body) = app
        .post_json(
            &format!("/api/v1/cases/{id}/actions"),
            Some(&sup),
            &json!({"action": "forward", "note": "请社区说明"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("community desk"),
        "{body}"
    );
}

#[actix_web::test]
async fn a_transport_complaint_links_to_the_desks_cases_for_its_hospital_and_time_either_way() {
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    app.add_hospital("BJ-HD").await;
    let desk = app.desk_token("CY-SQ1").await;
    let sup = app.supervisor_token().await;
    let file = |hospital: &'static str, t: String| {
        let app = &app;
        async move {
            let body = json!({"hospital": hospital, "category": "transport", "occurred_at": t,
                              "description": "约车后一直没有车来接"});
            let (status, r) = app.post_json("/api/v1/complaints", None, &body).await;
            assert_eq!(status, 201, "{r}");
            r["tracking_code"].as_str().unwrap_or_default().to_string()
        }
    };
    // Before the desk's log: a complaint about the hospital the resident was going to, and one
    // about another hospital.
    let early = file("BJ-CY", at("09:00", 0)).await;
    file("BJ-HD", at("09:00", 0)).await;
    post(
        &app,
        &desk,
        json!([request("C1", &at("08:00", 0), "dialysis")]),
    )
    .await;
    let late = file("BJ-CY", at("12:00", 0)).await;
    let cases = cases_of(&app, &sup, "transport.wait").await;
    assert_eq!(cases.len(), 1, "{cases:?}");
    let (_, detail) = app
        .get(&format!("/api/v1/cases/{}", cases[0]["id"]), Some(&sup))
        .await;
    let mut linked: Vec<String> = detail["evidence"]["complaints"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["tracking_code"].as_str().map(str::to_string))
        .collect();
    linked.sort();
    let mut expected = vec![early, late];
    expected.sort();
    assert_eq!(linked, expected);
}

#[actix_web::test]
async fn the_board_shows_each_districts_transport_share_and_emergency_and_dialysis_closures() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("BJ-CY").await;
    let desk = app.desk_token("CY-SQ1").await;
    let day = Utc::now() - Duration::days(2);
    let t = |mins: i64| (day + Duration::minutes(mins)).to_rfc3339();
    let picked =
        |id: &str, mins: i64| ev(&format!("{id}-pick"), "picked_up", id, &t(mins), json!({}));
    post(
        &app,
        &desk,
        json!([
            request("G1", &t(0), "dialysis"),
            picked("G1", 60),
            request("G2", &t(0), "other"),
            picked("G2", 7 * 60),
            // Cancelled within its limit: not counted.
            request("G3", &t(0), "other"),
            ev(
                "G3-c",
                "cancelled",
                "G3",
                &t(30),
                json!({"reason": "不需要了"})
            ),
        ]),
    )
    .await;
    let closure = |id: &str, kind: &str| {
        json!({"event_id": id, "type": "closure_start", "occurred_at": t(0),
               "closure": {"id": id, "scope": "unit", "kind": kind, "department": format!("{kind}科")}})
    };
    app.post_events(
        &h,
        json!([closure("K1", "emergency"), closure("K2", "fever_clinic")]),
    )
    .await;
    let (status, page) = app.get_text("/hospitals").await;
    assert_eq!(status, 200);
    let table = page
        .split("id=\"districts\"")
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .unwrap_or_default()
        .to_string();
    let row = table
        .split("<tr>")
        .find(|r| r.contains("朝阳区"))
        .unwrap_or_default();
    assert!(
        row.contains("<td>2</td>") && row.contains("50.0 %"),
        "{row}"
    );
    assert!(
        row.contains("BJ-CY 医院 · 急诊") && !row.contains("发热门诊"),
        "{row}"
    );
}

#[actix_web::test]
async fn an_escalated_desk_case_is_emailed_naming_the_desk_and_its_steps() {
    let app = TestApp::builder()
        .var("SHOUZHEN_ESCALATION_TO", "wjw@health.example.cn")
        .var("SHOUZHEN_OUTBOX_INTERVAL", "300")
        .spawn()
        .await;
    app.add_hospital("BJ-CY").await;
    let desk = app.desk_token("CY-SQ1").await;
    let sup = app.supervisor_token().await;
    post(
        &app,
        &desk,
        json!([
            request("E1", &at("08:00", 0), "dialysis"),
            ev("E1-pick", "picked_up", "E1", &at("11:00", 0), json!({})),
        ]),
    )
    .await;
    let cases = cases_of(&app, &sup, "transport.wait").await;
    assert_eq!(cases.len(), 1, "{cases:?}");
    let (status, body) = app
        .post_json(
            &format!("/api/v1/cases/{}/actions", cases[0]["id"]),
            Some(&sup),
            &json!({"action": "escalate", "note": "请街道说明"}),
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
        text.contains("社区转运专班：CY-SQ1 社区（CY-SQ1）"),
        "{text}"
    );
    assert!(
        text.contains("社区用车申请") && text.contains("接到居民"),
        "{text}"
    );
    assert!(
        !text.contains("110101196"),
        "no resident identifier: {text}"
    );
}
