//! 120 dispatch centres as machine clients: their tokens, their call log through
//! `POST /api/v1/dispatch-events` (validation naming every field, idempotency and a hash chain
//! per centre, patients pseudonymised with the hospitals' key), kept apart from the hospitals.

use crate::common;

use common::TestApp;
use serde_json::{Value, json};

async fn post(app: &TestApp, token: &str, events: Value) -> (u16, Value) {
    app.post_json("/api/v1/dispatch-events", Some(token), &events)
        .await
}

fn call(id: &str, kind: &str, hh_mm_ss: &str) -> Value {
    json!({"event_id": id, "type": kind, "call_id": "C-1",
           "occurred_at": format!("2022-07-01T{hh_mm_ss}+08:00")})
}

/// The stored rows of a source, as (kind, call id, patient key, payload).
async fn rows_of(
    app: &TestApp,
    code: &str,
) -> Vec<(String, Option<String>, Option<String>, String)> {
    use diesel::prelude::*;
    use shouzhen_store::schema::{hospitals, intake_events};
    let code = code.to_string();
    app.state
        .db(move |conn| {
            Ok(intake_events::table
                .inner_join(hospitals::table)
                .filter(hospitals::code.eq(code))
                .order(intake_events::id.asc())
                .select((
                    intake_events::kind,
                    intake_events::call_id,
                    intake_events::patient_key,
                    intake_events::payload,
                ))
                .load(conn)?)
        })
        .await
        .expect("rows")
}

#[actix_web::test]
async fn a_centres_token_posts_its_call_log_and_nothing_else_and_a_hospitals_cannot_post_it() {
    let app = TestApp::spawn().await;
    let hospital = app.hospital_token("DD-1").await;
    let centre = app.centre_token("DD-120").await;
    // Each token where it belongs only.
    let (status, body) = post(&app, &hospital, call("c1", "call_received", "10:00:00")).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = app
        .post_json(
            "/api/v1/intake-events",
            Some(&centre),
            &json!({"event_id": "a1", "type": "arrival", "occurred_at": common::at("10:00", 0),
                    "patient": {"ref": "p1"}, "acuity": "urgent", "arrived_by": "walk_in"}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = app.get("/api/v1/cases", Some(&centre)).await;
    assert_eq!(status, 403);
    let (status, _) = post(&app, "not-a-token", call("c1", "call_received", "10:00:00")).await;
    assert_eq!(status, 401);
    // A centre's code is not a hospital's: no complaint can name it.
    let (status, body) = app
        .post_json(
            "/api/v1/complaints",
            None,
            &json!({"hospital": "DD-120", "category": "other", "occurred_at": "2022-07-01T10:00",
                    "description": "电话打不通"}),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("hospital")),
        "{body}"
    );
    let (_, board) = app.get("/api/v1/hospitals", None).await;
    assert!(!board.to_string().contains("DD-120"), "{board}");
}

#[actix_web::test]
async fn a_call_log_is_stored_once_chained_and_linked_to_the_hospitals_patient() {
    let app = TestApp::spawn().await;
    let hospital = app.hospital_token("DD-1").await;
    let centre = app.centre_token("DD-120").await;
    let mut answered = call("c2", "call_answered", "10:00:08");
    answered["acuity"] = json!("critical");
    let mut at_hospital = call("c5", "at_hospital", "10:25:00");
    at_hospital["hospital"] = json!("DD-1");
    at_hospital["patient"] = json!({"id_number": "210602198001010011"});
    let mut handed = call("c6", "handed_over", "10:31:00");
    handed["hospital"] = json!("DD-1");
    let log = json!([
        call("c1", "call_received", "10:00:00"),
        answered,
        call("c3", "dispatched", "10:01:00"),
        call("c4", "at_scene", "10:12:00"),
        at_hospital,
        handed,
        {"event_id": "f1", "type": "fleet_status", "occurred_at": "2022-07-01T10:00:00+08:00",
         "vehicles_online": 8, "area": "主城区"},
        // A call answered that was never received (or whose receipt comes later): data.
        {"event_id": "c9", "type": "call_answered", "call_id": "C-9", "acuity": "routine",
         "occurred_at": "2022-07-01T10:05:00+08:00"},
    ]);
    let (status, report) = post(&app, &centre, log.clone()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (
            report["accepted"].as_u64(),
            report["rejected"].as_array().map(Vec::len)
        ),
        (Some(8), Some(0)),
        "{report}"
    );
    // The same log again: nothing new; an id reused for other content: refused.
    let (_, again) = post(&app, &centre, log).await;
    assert_eq!(
        (again["accepted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(8)),
        "{again}"
    );
    let (_, clash) = post(&app, &centre, call("c1", "call_received", "10:00:01")).await;
    assert_eq!(
        clash["rejected"][0]["errors"][0]["field"], "event_id",
        "{clash}"
    );
    // NDJSON too.
    let (status, nd) = app
        .post_raw(
            "/api/v1/dispatch-events",
            Some(&centre),
            "application/x-ndjson",
            format!(
                "{}\n{}\n",
                call("n1", "call_received", "11:00:00"),
                call("n2", "call_abandoned", "11:00:40")
            )
            .into_bytes(),
        )
        .await;
    assert_eq!((status, nd["accepted"].as_u64()), (200, Some(2)), "{nd}");

    let rows = rows_of(&app, "DD-120").await;
    assert_eq!(rows.len(), 10);
    assert_eq!(rows[0].0, "call_received");
    assert_eq!(rows[0].1.as_deref(), Some("C-1"));
    assert!(
        rows.iter().all(|r| !r.3.contains("210602198001010011")),
        "the identity number is never stored"
    );
    // The hospital's own arrival of the same person has the same pseudonym.
    app.post_events(
        &hospital,
        json!([{"event_id": "a1", "type": "arrival", "occurred_at": common::at("10:40", 0),
                "patient": {"id_number": "210602198001010011"}, "acuity": "critical", "arrived_by": "ambulance"}]),
    )
    .await;
    let ambulance_key = rows
        .iter()
        .find(|r| r.0 == "at_hospital")
        .and_then(|r| r.2.clone());
    let hospital_key = rows_of(&app, "DD-1").await[0].2.clone();
    assert!(
        ambulance_key.is_some() && ambulance_key == hospital_key,
        "{ambulance_key:?} {hospital_key:?}"
    );
    // Each source's chain holds, the centre's among them.
    let record = app
        .state
        .db(|conn| Ok(shouzhen_store::record::verify(conn)?))
        .await
        .expect("verify");
    assert!(record.breaks.is_empty(), "{:?}", record.breaks);
    assert_eq!(record.events, 11);
    assert!(
        record
            .heads
            .iter()
            .any(|(chain, head)| chain.contains("DD-120") && !head.is_empty()),
        "{:?}",
        record.heads
    );
}

#[actix_web::test]
async fn bad_dispatch_events_are_refused_naming_the_field_and_nothing_of_them_is_stored() {
    let app = TestApp::spawn().await;
    app.add_hospital("DD-1").await;
    let centre = app.centre_token("DD-120").await;
    let mut unknown_hospital = call("b3", "at_hospital", "10:25:00");
    unknown_hospital["hospital"] = json!("XX-9");
    let mut extra = call("b5", "call_received", "10:00:00");
    extra["caller_phone"] = json!("13800138000");
    let (status, report) = post(
        &app,
        &centre,
        json!([
            {"event_id": "b1", "type": "call_received", "occurred_at": "2022-07-01T10:00:00+08:00"},
            call("b2", "ring", "10:00:00"),
            unknown_hospital,
            {"event_id": "b4", "type": "fleet_status", "occurred_at": "2022-07-01T10:00:00+08:00",
             "vehicles_online": -2, "area": "主城区"},
            extra,
            call("ok", "call_received", "10:00:00"),
        ]),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    let fields: Vec<(u64, String)> = report["rejected"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["index"].as_u64().unwrap_or(99),
                r["errors"][0]["field"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            (0, "call_id".to_string()),
            (1, "type".into()),
            (2, "hospital".into()),
            (3, "vehicles_online".into()),
            (4, "caller_phone".into())
        ],
        "{report}"
    );
    assert!(!report.to_string().contains("13800138000"), "{report}");
    assert_eq!(report["accepted"], 1);
    assert_eq!(
        rows_of(&app, "DD-120").await.len(),
        1,
        "only the good event is stored"
    );
}

#[actix_web::test]
async fn an_admin_sees_the_centres_and_a_disabled_centres_token_stops_working() {
    let app = TestApp::spawn().await;
    let centre = app.centre_token("DD-120").await;
    app.staff_token("admin@wjw.example.cn", "admin", None).await;
    let mut admin = common::Visitor::new(&app);
    assert_eq!(admin.login("admin@wjw.example.cn").await, 303);
    let (status, _, page) = admin.get("/admin").await;
    assert_eq!(status, 200);
    let centres = page.split("id=\"centres\"").nth(1).unwrap_or("");
    assert!(
        centres.contains("DD-120") && centres.contains("dc_"),
        "{page}"
    );
    let token = admin.token("/admin").await;
    assert_eq!(
        admin
            .post("/admin/hospitals/DD-120/toggle", &token, &[])
            .await
            .0,
        200
    );
    let (status, body) = post(&app, &centre, call("c1", "call_received", "10:00:00")).await;
    assert_eq!(status, 401, "{body}");
    let (_, _, page) = admin.get("/admin?lang=en").await;
    assert!(
        page.split("id=\"centres\"")
            .nth(1)
            .unwrap_or("")
            .contains("(disabled)"),
        "{page}"
    );
}
