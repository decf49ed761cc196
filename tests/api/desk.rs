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

/// The id of the complaint with `code`, as the operator's queue lists it.
async fn complaint_id(app: &TestApp, token: &str, code: &str) -> i64 {
    let (status, list) = app.get("/api/v1/complaints?limit=500", Some(token)).await;
    assert_eq!(status, 200, "{list}");
    list.as_array()
        .into_iter()
        .flatten()
        .find(|c| c["tracking_code"] == code)
        .and_then(|c| c["id"].as_i64())
        .unwrap_or_else(|| panic!("{code} not in the queue: {list}"))
}

async fn act(
    app: &TestApp,
    token: &str,
    id: i64,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    app.post_json(
        &format!("/api/v1/complaints/{id}/actions"),
        Some(token),
        &body,
    )
    .await
}

/// Every response a hospital's staff get is searched for the caller's contact.
fn no_contact(body: &impl std::fmt::Display) {
    let text = body.to_string();
    for secret in ["13800138000", "王先生", "138****8000", "王*"] {
        assert!(!text.contains(secret), "the hospital saw {secret}: {text}");
    }
}

#[actix_web::test]
async fn the_whole_loop_forward_answer_callback_reopen_twice_elevates_then_closes() {
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    app.add_hospital("BJ-HD").await;
    let operator = app
        .staff_token("op1@12320.example.cn", "operator", None)
        .await;
    let hospital = app
        .hospital_user_token("yiwu@bj-cy.example.cn", "BJ-CY")
        .await;
    let other = app
        .hospital_user_token("yiwu@bj-hd.example.cn", "BJ-HD")
        .await;
    let sup = app.supervisor_token().await;
    let (status, filed) = app
        .post_json(
            "/api/v1/complaints",
            Some(&operator),
            &phone_complaint("12320-0100"),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let code = filed["tracking_code"].as_str().expect("code").to_string();
    let id = complaint_id(&app, &operator, &code).await;
    let staff_view = |token: String| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/complaints/{id}"), Some(&token))
                .await
        }
    };

    // Not forwarded yet: the hospital has nothing, and cannot open it.
    let (status, list) = app.get("/api/v1/complaints", Some(&hospital)).await;
    assert_eq!(
        (status, list.as_array().map(Vec::len)),
        (200, Some(0)),
        "{list}"
    );
    let (status, body) = staff_view(hospital.clone()).await;
    assert_eq!(status, 404, "{body}");
    // A callback before any answer is a conflict naming the status.
    let (status, body) = act(
        &app,
        &operator,
        id,
        json!({"action": "callback", "resolved": true, "satisfaction": "satisfied"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["detail"].as_str().unwrap_or("").contains("received"),
        "{body}"
    );
    // The hospital cannot forward, the operator cannot answer.
    let (status, _) = act(&app, &hospital, id, json!({"action": "forward"})).await;
    assert_eq!(status, 403);

    let (status, body) = act(&app, &operator, id, json!({"action": "forward"})).await;
    assert_eq!(status, 204, "{body}");
    let (status, view) = staff_view(operator.clone()).await;
    assert_eq!(
        (status, view["status"].as_str()),
        (200, Some("forwarded")),
        "{view}"
    );
    assert!(
        view["answer_due"].is_string() && view["contact"].is_string(),
        "{view}"
    );
    let (status, _) = act(
        &app,
        &operator,
        id,
        json!({"action": "answer", "note": "x"}),
    )
    .await;
    assert_eq!(status, 403);

    // The hospital sees it now, without the contact or the tracking code (with which anyone
    // may rate the answer as the complainant); another hospital does not.
    let (status, list) = app.get("/api/v1/complaints", Some(&hospital)).await;
    assert_eq!((status, list[0]["id"].as_i64()), (200, Some(id)), "{list}");
    assert!(list[0].get("tracking_code").is_none(), "{list}");
    assert!(!list.to_string().contains(&code), "{list}");
    assert!(
        list[0]["contact"].is_null() && list[0]["answer_due"].is_string(),
        "{list}"
    );
    no_contact(&list);
    let (status, view) = staff_view(hospital.clone()).await;
    assert_eq!(status, 200, "{view}");
    no_contact(&view);
    for token in [&other] {
        let (status, body) = staff_view(token.clone()).await;
        assert_eq!(status, 404, "{body}");
        let (status, _) = act(&app, token, id, json!({"action": "answer", "note": "x"})).await;
        assert_eq!(status, 404);
        let (status, list) = app.get("/api/v1/complaints", Some(token)).await;
        assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(0)));
    }
    let (status, body) = app
        .post_json(
            &format!("/api/v1/complaints/{id}/reveal"),
            Some(&hospital),
            &json!({}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    no_contact(&body);

    // The answer: required, then shown on the citizen's timeline.
    let (status, body) = act(&app, &hospital, id, json!({"action": "answer"})).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("note")),
        "{body}"
    );
    no_contact(&body);
    let first_answer = "经核实：当晚急诊交接登记延误，已整改。";
    let (status, body) = act(
        &app,
        &hospital,
        id,
        json!({"action": "answer", "note": first_answer}),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (_, view) = staff_view(hospital.clone()).await;
    assert_eq!(view["status"], "answered", "{view}");
    assert!(view["callback_due"].is_string(), "{view}");
    no_contact(&view);
    let (status, public) = app.get(&format!("/api/v1/complaints/{code}"), None).await;
    assert_eq!(status, 200);
    assert!(public.to_string().contains(first_answer), "{public}");

    // The callback: an unknown satisfaction names the field; nothing changes.
    let (status, body) = act(
        &app,
        &operator,
        id,
        json!({"action": "callback", "resolved": true, "satisfaction": "meh"}),
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("satisfaction")),
        "{body}"
    );
    let (status, body) = act(
        &app,
        &operator,
        id,
        json!({"action": "callback", "satisfaction": "satisfied"}),
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("resolved")),
        "{body}"
    );
    let (status, _) = act(
        &app,
        &hospital,
        id,
        json!({"action": "callback", "resolved": true, "satisfaction": "satisfied"}),
    )
    .await;
    assert_eq!(status, 403);
    // Unresolved: reopened and forwarded again.
    let (status, _) = act(&app, &operator, id, json!({"action": "callback", "resolved": false, "satisfaction": "unsatisfied", "note": "来电人不认可"})).await;
    assert_eq!(status, 204);
    let (_, view) = staff_view(operator.clone()).await;
    assert_eq!(
        (view["status"].as_str(), view["reopened"].as_i64()),
        (Some("reopened"), Some(1)),
        "{view}"
    );
    assert!(
        view["answer_due"].is_string() && view["callback_due"].is_null(),
        "{view}"
    );
    assert!(app.cases(&sup, "rule=complaint.reopened").await.is_empty());
    // The hospital sees it again, waiting for its answer.
    let (_, list) = app.get("/api/v1/complaints", Some(&hospital)).await;
    assert_eq!(list[0]["status"], "reopened", "{list}");
    no_contact(&list);
    // Answered, and the second callback finds it resolved but the caller unsatisfied:
    // reopened a second time, which elevates it.
    let (status, _) = act(
        &app,
        &hospital,
        id,
        json!({"action": "answer", "note": "已约谈当班医生并书面致歉。"}),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = act(
        &app,
        &operator,
        id,
        json!({"action": "callback", "resolved": true, "satisfaction": "unsatisfied"}),
    )
    .await;
    assert_eq!(status, 204);
    let (_, view) = staff_view(operator.clone()).await;
    assert_eq!(view["reopened"], 2, "{view}");
    let elevated = app.cases(&sup, "rule=complaint.reopened").await;
    assert_eq!(elevated.len(), 1, "{elevated:?}");
    assert_eq!(elevated[0]["severity"], "high");
    // The third answer satisfies the caller: closed, with the answer as its outcome.
    let (status, _) = act(
        &app,
        &hospital,
        id,
        json!({"action": "answer", "note": "已对当事医生作出处理。"}),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = act(
        &app,
        &operator,
        id,
        json!({"action": "callback", "resolved": true, "satisfaction": "basically_satisfied"}),
    )
    .await;
    assert_eq!(status, 204);
    let (_, view) = staff_view(operator.clone()).await;
    assert_eq!(
        (
            view["status"].as_str(),
            view["satisfaction"].as_str(),
            view["resolved"].as_bool()
        ),
        (Some("closed"), Some("basically_satisfied"), Some(true)),
        "{view}"
    );
    let kinds: Vec<&str> = view["timeline"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "filed",
            "forwarded",
            "answered",
            "called_back",
            "reopened",
            "answered",
            "called_back",
            "reopened",
            "answered",
            "called_back"
        ],
        "{view}"
    );
    let (status, _) = act(
        &app,
        &operator,
        id,
        json!({"action": "callback", "resolved": true, "satisfaction": "satisfied"}),
    )
    .await;
    assert_eq!(status, 409);
    // The operator still sees no case.
    let (status, _) = app.get("/api/v1/cases", Some(&operator)).await;
    assert_eq!(status, 403);
}

/// Files a phone complaint and forwards it as if the clock showed `at`; returns its id.
async fn forward_at(app: &TestApp, at: chrono::DateTime<chrono::Utc>, external_ref: &str) -> i64 {
    let (policy, notifier, keys) = (
        app.state.policy.clone(),
        app.state.notifier.clone(),
        app.state.keys.clone(),
    );
    let external_ref = external_ref.to_string();
    app.state
        .db(move |conn| {
            let now = at.naive_utc();
            let engine = shouzhen_app::engine::Engine::new(&policy, &notifier, now);
            let input = shouzhen_app::complaints::ComplaintInput {
                hospital: Some("BJ-CY".into()),
                // Not a category `complaint.unlogged` judges: this test is about deadlines.
                category: Some("medication".into()),
                occurred_at: Some((at - chrono::Duration::hours(1)).to_rfc3339()),
                description: Some("来电反映：医院药房缺药".into()),
                contact_phone: Some("13800138000".into()),
                channel: Some("phone".into()),
                external_ref: Some(external_ref),
                callback_consent: Some(true),
                ..Default::default()
            };
            let valid = shouzhen_app::complaints::validate(conn, &input, at, true)?;
            let (c, _) = shouzhen_app::complaints::file(conn, &keys, &engine, valid, "zh")?;
            let user = shouzhen_store::users::by_email(conn, "op1@12320.example.cn")?
                .expect("the operator");
            let operator = shouzhen_domain::actor::Staff {
                user_id: user.id,
                email: user.email,
                role: shouzhen_domain::actor::Role::Operator,
                district: None,
                hospital_id: None,
            };
            let forward = shouzhen_app::complaints::ComplaintAction {
                action: "forward".into(),
                ..Default::default()
            };
            shouzhen_app::complaints::act(conn, &engine, &operator, c.id, &forward, "")?;
            Ok(c.id)
        })
        .await
        .expect("file and forward")
}

fn china(s: &str) -> chrono::DateTime<chrono::Utc> {
    let local = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("a time");
    (local - chrono::Duration::hours(8)).and_utc()
}

#[actix_web::test]
async fn answer_due_counts_working_days_across_national_day_2022_and_late_answers_are_flagged() {
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    app.staff_token("op1@12320.example.cn", "operator", None)
        .await;
    // Friday 30 September 2022: 1-7 October are off, Saturday 8 and Sunday 9 are worked
    // (国办发明电〔2021〕11号), so the 5 working days are 8, 9, 10, 11 and 12 October.
    let id = forward_at(&app, china("2022-09-30 15:00"), "12320-2022-0930").await;
    let sup = app.supervisor_token().await;
    let (status, view) = app
        .get(&format!("/api/v1/complaints/{id}"), Some(&sup))
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["answer_due"], "2022-10-12T16:00:00Z", "{view}");
    // Across an ordinary weekend: forwarded on Friday 14 October, due Friday 21 October.
    let weekend = forward_at(&app, china("2022-10-14 09:00"), "12320-2022-1014").await;
    let (_, view) = app
        .get(&format!("/api/v1/complaints/{weekend}"), Some(&sup))
        .await;
    assert_eq!(view["answer_due"], "2022-10-21T16:00:00Z", "{view}");
    // Not late at the last minute of the 12th; late a minute after midnight; flagged once.
    assert_eq!(app.sweep_at(china("2022-10-12 23:59")).await, 0);
    assert!(app.cases(&sup, "rule=complaint.overdue").await.is_empty());
    app.sweep_at(china("2022-10-13 00:01")).await;
    app.sweep_at(china("2022-10-13 08:00")).await;
    let overdue = app.cases(&sup, "rule=complaint.overdue").await;
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    assert_eq!(overdue[0]["severity"], "medium");
}

#[actix_web::test]
async fn a_complaint_with_no_trace_in_the_hospitals_log_is_flagged_an_hour_after_filing() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("BJ-CY").await;
    // The hospital's log: an arrival at 10:00, the patient discharged at 15:30.
    app.post_events(
        &h,
        json!([{"event_id": "a1", "type": "arrival", "occurred_at": common::at("10:00", 0), "patient": {"ref": "p1"}, "acuity": "routine", "arrived_by": "walk_in"},
               {"event_id": "d1", "type": "discharge", "occurred_at": common::at("15:30", 0), "patient": {"ref": "p1"}}]),
    )
    .await;
    let file = |occurred: String, category: &'static str| {
        let app = &app;
        async move {
            let (status, body) = app
                .post_json(
                    "/api/v1/complaints",
                    None,
                    &json!({"hospital": "BJ-CY", "category": category, "occurred_at": occurred,
                            "description": "急诊门口不让进", "contact_phone": "13800138000"}),
                )
                .await;
            assert_eq!(status, 201, "{body}");
            body["tracking_code"].as_str().expect("code").to_string()
        }
    };
    // 11:00: the arrival at 10:00 is within two hours: the log has a trace.
    file(common::at("11:00", 0), "refused_fever").await;
    // 15:00: within 13:00-17:00 the log holds only a discharge: no trace of the refusal.
    let unlogged = file(common::at("15:00", 0), "pushed_away").await;
    // 15:00, but about medicines: not this rule's.
    file(common::at("15:00", 0), "medication").await;
    let sup = app.supervisor_token().await;
    let now = chrono::Utc::now();
    app.sweep_at(now + chrono::Duration::minutes(30)).await;
    assert!(
        app.cases(&sup, "rule=complaint.unlogged").await.is_empty(),
        "judged before the hour"
    );
    app.sweep_at(now + chrono::Duration::minutes(61)).await;
    app.sweep_at(now + chrono::Duration::minutes(90)).await;
    let cases = app.cases(&sup, "rule=complaint.unlogged").await;
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert_eq!(cases[0]["severity"], "medium");
    let id = cases[0]["id"].as_i64().expect("id");
    let (status, case) = app.get(&format!("/api/v1/cases/{id}"), Some(&sup)).await;
    assert_eq!(status, 200, "{case}");
    let text = case.to_string();
    assert!(
        text.contains("\"d1\"") && !text.contains("\"a1\""),
        "the log around 15:00: {text}"
    );
    assert!(
        text.contains(&unlogged),
        "the complaint is evidence: {text}"
    );
}
