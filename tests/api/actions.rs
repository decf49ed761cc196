//! Case actions through the API: the state machine, notes, roles and districts, the history.

use crate::common;

use common::{TestApp, at};
use serde_json::json;

async fn a_case(app: &TestApp) -> (i64, String, String) {
    let h = app.hospital_token("BJ-CY").await;
    app.post_events(
        &h,
        json!([{"event_id": "a1", "type": "arrival", "occurred_at": at("10:00", 0), "patient": {"ref": "p"}, "acuity": "urgent", "arrived_by": "ambulance"},
               {"event_id": "h1", "type": "handover", "occurred_at": at("10:40", 0), "patient": {"ref": "p"}}]),
    )
    .await;
    let sup = app.supervisor_token().await;
    let insp = app.inspector_token().await;
    let id = app.cases(&sup, "rule=handover.delay").await[0]["id"]
        .as_i64()
        .expect("id");
    (id, sup, insp)
}

#[actix_web::test]
async fn actions_follow_the_state_machine_and_are_recorded() {
    let app = TestApp::spawn().await;
    let (id, sup, insp) = a_case(&app).await;
    let act = |token: String, body: serde_json::Value| {
        let app = &app;
        async move {
            app.post_json(&format!("/api/v1/cases/{id}/actions"), Some(&token), &body)
                .await
        }
    };
    // Resolving an unacknowledged case is illegal.
    let (status, body) = act(
        insp.clone(),
        json!({"action": "resolve", "note": "处理完毕"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    // A note is required, and a dismissal needs a reason.
    let (status, body) = act(insp.clone(), json!({"action": "acknowledge"})).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("note"))
    );
    let (status, body) = act(insp.clone(), json!({"action": "dismiss", "note": " "})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("reason"),
        "{status} {body}"
    );
    let (status, body) = act(insp.clone(), json!({"action": "fly", "note": "x"})).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("action"))
    );

    let (status, body) = act(
        insp.clone(),
        json!({"action": "acknowledge", "note": "已受理，联系医院核实"}),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("acknowledged")),
        "{body}"
    );
    let (status, _) = act(
        insp.clone(),
        json!({"action": "acknowledge", "note": "again"}),
    )
    .await;
    assert_eq!(status, 409);
    // Inspectors do not assign; supervisors do, to an existing user.
    let (status, _) = act(
        insp.clone(),
        json!({"action": "assign", "note": "x", "assignee": "inspector@wjw.example.cn"}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = act(
        sup.clone(),
        json!({"action": "assign", "note": "请跟进", "assignee": "nobody@x.cn"}),
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("assignee"))
    );
    let (status, body) = act(
        sup.clone(),
        json!({"action": "assign", "note": "请跟进", "assignee": "inspector@wjw.example.cn"}),
    )
    .await;
    assert_eq!(
        (status, body["assignee"].as_str()),
        (200, Some("inspector@wjw.example.cn"))
    );
    let (status, body) = act(
        insp.clone(),
        json!({"action": "resolve", "note": "医院已整改"}),
    )
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("resolved")));
    let (status, body) = act(sup.clone(), json!({"action": "reopen", "note": "复查"})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("open")));

    let history: Vec<(String, String)> = body["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap_or("").to_string(),
                a["actor"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let expected = [
        ("open", "system"),
        ("acknowledge", "inspector@wjw.example.cn"),
        ("assign", "supervisor@wjw.example.cn"),
        ("resolve", "inspector@wjw.example.cn"),
        ("reopen", "supervisor@wjw.example.cn"),
    ];
    assert_eq!(
        history,
        expected.map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert!(
        body["actions"][1]["note"]
            .as_str()
            .unwrap_or("")
            .contains("联系医院核实")
    );
    assert!(
        body["actions"][1]["at"]
            .as_str()
            .unwrap_or("")
            .ends_with('Z')
    );
}

#[actix_web::test]
async fn inspectors_act_only_in_their_district_and_hospitals_not_at_all() {
    let app = TestApp::spawn().await;
    let (id, sup, _insp) = a_case(&app).await;
    let other = app
        .staff_token("haidian@wjw.example.cn", "inspector", Some("海淀区"))
        .await;
    let (status, _) = app
        .post_json(
            &format!("/api/v1/cases/{id}/actions"),
            Some(&other),
            &json!({"action": "acknowledge", "note": "x"}),
        )
        .await;
    assert_eq!(status, 403);
    let hospital = app.hospital_token("BJ-2").await;
    let (status, _) = app
        .post_json(
            &format!("/api/v1/cases/{id}/actions"),
            Some(&hospital),
            &json!({"action": "acknowledge", "note": "x"}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post_json(
            "/api/v1/cases/424242/actions",
            Some(&sup),
            &json!({"action": "acknowledge", "note": "x"}),
        )
        .await;
    assert_eq!(status, 404);
}
