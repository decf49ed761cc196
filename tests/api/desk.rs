//! The 12320 hotline desk, first part: operators file phone complaints through the API, with
//! the platform's work-order number filed once; citizens cannot set the desk's fields; an
//! operator sees no case.

use crate::common;

use common::TestApp;
use serde_json::json;

fn phone_complaint(external_ref: &str) -> serde_json::Value {
    json!({"hospital": "BJ-CY", "category": "handover_delay", "occurred_at": "2026-11-20T10:30",
           "description": "来电反映：救护车到院后四十分钟无人交接", "contact_phone": "13800138000",
           "contact_name": "王先生", "external_ref": external_ref, "callback_consent": true})
}

#[actix_web::test]
async fn an_operator_files_a_phone_complaint_once_per_work_order() {
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    let operator = app
        .staff_token("op1@12320.example.cn", "operator", None)
        .await;
    let (status, first) = app
        .post_json(
            "/api/v1/complaints",
            Some(&operator),
            &phone_complaint("12320-0001"),
        )
        .await;
    assert_eq!(
        (status, first["duplicate"].as_bool()),
        (201, Some(false)),
        "{first}"
    );
    // The same work order again (the platform resends it): nothing new, the same code.
    let (status, again) = app
        .post_json(
            "/api/v1/complaints",
            Some(&operator),
            &phone_complaint("12320-0001"),
        )
        .await;
    assert_eq!(
        (status, again["duplicate"].as_bool()),
        (200, Some(true)),
        "{again}"
    );
    assert_eq!(again["tracking_code"], first["tracking_code"]);
    // Another work order, or the same number on another channel, is another complaint.
    let (status, other) = app
        .post_json(
            "/api/v1/complaints",
            Some(&operator),
            &phone_complaint("12320-0002"),
        )
        .await;
    assert_eq!(status, 201, "{other}");
    let mut via_12345 = phone_complaint("12320-0001");
    via_12345["channel"] = json!("12345");
    let (status, _) = app
        .post_json("/api/v1/complaints", Some(&operator), &via_12345)
        .await;
    assert_eq!(status, 201);
    let stored = app
        .state
        .db(|conn| {
            Ok(shouzhen_store::complaints::by_external_ref(
                conn,
                "phone",
                "12320-0001",
            )?)
        })
        .await
        .expect("read")
        .expect("the phone complaint");
    assert_eq!(
        (stored.channel.as_str(), stored.callback_consent),
        ("phone", true)
    );
    assert!(stored.contact_sealed.is_some() && !stored.description.contains("13800138000"));
    // Sent twice at once: one files it, the other gets its code.
    let body = phone_complaint("12320-0009");
    let (a, b) = futures_util::future::join(
        app.post_json("/api/v1/complaints", Some(&operator), &body),
        app.post_json("/api/v1/complaints", Some(&operator), &body),
    )
    .await;
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 201], "{a:?} {b:?}");
    assert_eq!(a.1["tracking_code"], b.1["tracking_code"]);
    let mut bad = phone_complaint("x");
    bad["channel"] = json!("fax");
    let (status, body) = app
        .post_json("/api/v1/complaints", Some(&operator), &bad)
        .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("channel")),
        "{body}"
    );
    let (status, body) = app
        .post_json(
            "/api/v1/complaints",
            Some(&operator),
            &phone_complaint(&"9".repeat(65)),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("external_ref"))
    );
}

#[actix_web::test]
async fn citizens_cannot_set_the_desks_fields_and_other_tokens_cannot_file_for_callers() {
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    let (status, body) = app
        .post_json("/api/v1/complaints", None, &phone_complaint("12320-0001"))
        .await;
    assert_eq!(status, 400, "{body}");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["external_ref", "callback_consent"], "{body}");
    let machine = app.hospital_token("BJ-HD").await;
    let (status, _) = app
        .post_json(
            "/api/v1/complaints",
            Some(&machine),
            &phone_complaint("12320-0003"),
        )
        .await;
    assert_eq!(status, 403);
    let hospital_user = app
        .hospital_user_token("yiwu@bj-cy.example.cn", "BJ-CY")
        .await;
    let (status, _) = app
        .post_json(
            "/api/v1/complaints",
            Some(&hospital_user),
            &phone_complaint("12320-0004"),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post_json(
            "/api/v1/complaints",
            Some("not-a-token"),
            &phone_complaint("12320-0005"),
        )
        .await;
    assert_eq!(status, 401);
}

#[actix_web::test]
async fn an_operator_sees_no_case() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("BJ-CY").await;
    app.post_events(
        &h,
        json!([{"event_id": "a1", "type": "arrival", "occurred_at": common::at("10:00", 0), "patient": {"ref": "p"}, "acuity": "urgent", "arrived_by": "ambulance"},
               {"event_id": "h1", "type": "handover", "occurred_at": common::at("10:40", 0), "patient": {"ref": "p"}}]),
    )
    .await;
    let sup = app.supervisor_token().await;
    let id = app.cases(&sup, "").await[0]["id"].as_i64().expect("a case");
    let operator = app
        .staff_token("op1@12320.example.cn", "operator", None)
        .await;
    for path in ["/api/v1/cases".to_string(), format!("/api/v1/cases/{id}")] {
        let (status, _) = app.get(&path, Some(&operator)).await;
        assert_eq!(status, 403, "{path}");
    }
    let (status, _) = app
        .post_json(
            &format!("/api/v1/cases/{id}/actions"),
            Some(&operator),
            &json!({"action": "acknowledge", "note": "x"}),
        )
        .await;
    assert_eq!(status, 403);
    let mut page = common::Visitor::new(&app);
    assert_eq!(page.login("op1@12320.example.cn").await, 303);
    for path in [
        "/dashboard".to_string(),
        format!("/cases/{id}"),
        "/hospital".to_string(),
    ] {
        let (status, _, _) = page.get(&path).await;
        assert_eq!(status, 403, "{path}");
    }
}
