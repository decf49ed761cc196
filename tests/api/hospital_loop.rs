//! The closed loop with hospitals through the API: forward, reply, accept, rectify, return,
//! verify; who may act and see; deadlines; the notices in the outbox; elevation.

use crate::common;

use common::{TestApp, at};
use serde_json::{Value, json};

const ID_NUMBER: &str = "110105194912310021";

/// A `handover.delay` case at `code` (an ambulance patient handed over after 40 minutes).
async fn case_at(app: &TestApp, sup: &str, code: &str, event: &str) -> i64 {
    let h = app.hospital_token(code).await;
    app.post_events(
        &h,
        json!([{"event_id": format!("{event}-a"), "type": "arrival", "occurred_at": at("10:00", 0), "patient": {"id_number": ID_NUMBER}, "acuity": "urgent", "arrived_by": "ambulance"},
               {"event_id": format!("{event}-h"), "type": "handover", "occurred_at": at("10:40", 0), "patient": {"id_number": ID_NUMBER}}]),
    )
    .await;
    let found = app
        .cases(sup, &format!("rule=handover.delay&hospital={code}"))
        .await;
    found[0]["id"].as_i64().expect("a case id")
}

async fn act(app: &TestApp, token: &str, id: i64, body: Value) -> (u16, Value) {
    app.post_json(&format!("/api/v1/cases/{id}/actions"), Some(token), &body)
        .await
}

/// An action that must succeed; the case after it.
async fn ok(app: &TestApp, token: &str, id: i64, body: Value) -> Value {
    let (status, after) = act(app, token, id, body).await;
    assert_eq!(status, 200, "{after}");
    after
}

async fn case_of(app: &TestApp, token: &str, id: i64) -> Value {
    let (status, body) = app.get(&format!("/api/v1/cases/{id}"), Some(token)).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn field(body: &Value) -> Option<&str> {
    body["errors"][0]["field"].as_str()
}

async fn outbox(app: &TestApp) -> Vec<shouzhen_store::outbox::Email> {
    app.state
        .db(|conn| Ok(shouzhen_store::outbox::all(conn)?))
        .await
        .expect("outbox")
}

#[actix_web::test]
async fn the_loop_runs_from_forward_to_verify_each_step_by_its_own_role() {
    let app = TestApp::builder()
        .var("SHOUZHEN_ESCALATION_TO", "commission@wjw.example.cn")
        .spawn()
        .await;
    let sup = app.supervisor_token().await;
    let id = case_at(&app, &sup, "BJ-CY", "cy").await;
    let insp = app.inspector_token().await;
    let yiwu = app
        .hospital_user_token("yiwu@bj-cy.example.cn", "BJ-CY")
        .await;

    // Not forwarded yet: the hospital's staff do not see it, in the list or by id.
    assert_eq!(app.cases(&yiwu, "").await.len(), 0);
    let (status, _) = app.get(&format!("/api/v1/cases/{id}"), Some(&yiwu)).await;
    assert_eq!(status, 404);
    let (status, _) = act(
        &app,
        &yiwu,
        id,
        json!({"action": "reply", "note": "x", "admits": true}),
    )
    .await;
    assert_eq!(
        status, 404,
        "an unforwarded case does not exist for the hospital"
    );

    // 转办.
    let before = chrono::Utc::now();
    let (status, body) = act(
        &app,
        &insp,
        id,
        json!({"action": "forward", "note": "请说明延误原因"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "forwarded");
    let due = chrono::DateTime::parse_from_rfc3339(body["reply_due"].as_str().expect("reply_due"))
        .expect("an RFC 3339 deadline");
    let hours = (due.with_timezone(&chrono::Utc) - before).num_minutes();
    assert!(
        (1439..=1441).contains(&hours),
        "a day to reply, by default: {hours} minutes"
    );

    // The hospital sees it now, with its own events and no identity number.
    let listed = app.cases(&yiwu, "").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id);
    let (status, seen) = app.get(&format!("/api/v1/cases/{id}"), Some(&yiwu)).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["evidence"]["events"].as_array().map(Vec::len), Some(2));
    assert!(!seen.to_string().contains(ID_NUMBER));

    // Each action only to its role: 403; a wrong status: 409; a missing field: 400.
    for action in [
        "forward",
        "accept",
        "return",
        "verify",
        "dismiss",
        "acknowledge",
    ] {
        let (status, body) = act(
            &app,
            &yiwu,
            id,
            json!({"action": action, "note": "x", "due": "2030-01-01T00:00:00+08:00"}),
        )
        .await;
        assert_eq!(status, 403, "{action}: {body}");
    }
    let (status, _) = act(
        &app,
        &insp,
        id,
        json!({"action": "reply", "note": "x", "admits": true}),
    )
    .await;
    assert_eq!(status, 403, "inspectors do not reply for the hospital");
    let (status, body) = act(
        &app,
        &yiwu,
        id,
        json!({"action": "reply", "note": "院方说明"}),
    )
    .await;
    assert_eq!((status, field(&body)), (400, Some("admits")), "{body}");
    let (status, body) = act(
        &app,
        &yiwu,
        id,
        json!({"action": "rectify", "note": "已整改"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["detail"].as_str().unwrap_or("").contains("forwarded"),
        "{body}"
    );

    // 答复.
    let body = ok(
        &app,
        &yiwu,
        id,
        json!({"action": "reply", "note": "情况属实，当班医生已处理", "admits": true}),
    )
    .await;
    assert_eq!(body["status"], "replied");

    // 认定 with a deadline: not in the past, not unparseable.
    for (due, why) in [
        ("2020-01-01T00:00:00+08:00", "past"),
        ("next friday", "unparseable"),
    ] {
        let (status, body) = act(
            &app,
            &insp,
            id,
            json!({"action": "accept", "note": "责令整改", "due": due}),
        )
        .await;
        assert_eq!((status, field(&body)), (400, Some("due")), "{why}: {body}");
    }
    let due = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let body = ok(
        &app,
        &insp,
        id,
        json!({"action": "accept", "note": "责令整改", "due": due}),
    )
    .await;
    assert_eq!(body["status"], "rectifying");
    assert!(body["rectification_due"].is_string(), "{body}");

    // 整改, then 退回 three times: the third elevates.
    ok(
        &app,
        &yiwu,
        id,
        json!({"action": "rectify", "note": "已修订急救交接流程"}),
    )
    .await;
    for round in 1..=3 {
        let body = ok(
            &app,
            &insp,
            id,
            json!({"action": "return", "note": format!("第{round}次退回：材料不全")}),
        )
        .await;
        assert_eq!(body["status"], "forwarded");
        assert_eq!(body["returns"], round);
        ok(
            &app,
            &yiwu,
            id,
            json!({"action": "reply", "note": "补充材料", "admits": true}),
        )
        .await;
    }
    ok(
        &app,
        &insp,
        id,
        json!({"action": "accept", "note": "责令整改", "due": due}),
    )
    .await;
    ok(
        &app,
        &yiwu,
        id,
        json!({"action": "rectify", "note": "已整改并培训"}),
    )
    .await;
    // 核实.
    let body = ok(
        &app,
        &insp,
        id,
        json!({"action": "verify", "note": "现场核实"}),
    )
    .await;
    assert_eq!(body["status"], "resolved");

    // The history: every step with its actor, the hospital's replies among them, one elevation.
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
    let of = |action: &str| history.iter().filter(|(a, _)| a == action).count();
    assert_eq!(
        (of("forward"), of("reply"), of("return"), of("accept")),
        (1, 4, 3, 2)
    );
    assert_eq!(
        (of("rectify"), of("verify"), of("elevate")),
        (2, 1, 1),
        "{history:?}"
    );
    assert!(
        history
            .iter()
            .filter(|(a, _)| a == "reply")
            .all(|(_, who)| who == "yiwu@bj-cy.example.cn")
    );
    assert!(
        history
            .iter()
            .any(|(a, who)| a == "elevate" && who == "system")
    );
    let replies: Vec<&str> = body["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["action"] == "reply")
        .filter_map(|a| a["note"].as_str())
        .collect();
    assert!(replies[0].starts_with("【认可】"), "{replies:?}");

    // The notices: the forward and each return to the hospital, with the deadline and its
    // link; the elevation to the commission; no identity number anywhere; each once.
    let mails = outbox(&app).await;
    let to_hospital: Vec<_> = mails
        .iter()
        .filter(|m| m.recipients.contains("yiwu@bj-cy.example.cn"))
        .collect();
    let kinds: Vec<&str> = to_hospital.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "case_forwarded").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "case_returned").count(),
        3,
        "{kinds:?}"
    );
    for m in &to_hospital {
        assert!(m.body_text.contains("办理时限"), "{}", m.body_text);
        assert!(
            m.body_text.contains(&format!("/hospital/cases/{id}")),
            "{}",
            m.body_text
        );
    }
    let elevated: Vec<_> = mails.iter().filter(|m| m.kind == "case_elevated").collect();
    assert_eq!(elevated.len(), 1);
    assert!(elevated[0].recipients.contains("commission@wjw.example.cn"));
    assert!(
        mails
            .iter()
            .all(|m| !m.body_text.contains(ID_NUMBER) && !m.body_html.contains(ID_NUMBER))
    );

    // The public board and the scorecard, against a hand count: one forward and three returns
    // (four reply deadlines, each answered at once), three returns, two rectifications.
    let (_, board) = app.get("/api/v1/hospitals", None).await;
    let row = board
        .as_array()
        .and_then(|b| b.iter().find(|r| r["code"] == "BJ-CY"))
        .expect("BJ-CY on the board");
    assert_eq!(row["loop"]["forwards"], 4, "{row}");
    assert_eq!(row["loop"]["reply_rate"], 100.0, "{row}");
    assert_eq!(
        (
            row["loop"]["returns"].as_i64(),
            row["loop"]["rectified"].as_i64()
        ),
        (Some(3), Some(2))
    );
    assert_eq!(row["loop"]["rectification_overdue"], 0);
    let mut admin_view = common::Visitor::new(&app);
    app.staff_token("insp2@wjw.example.cn", "inspector", None)
        .await;
    assert_eq!(admin_view.login("insp2@wjw.example.cn").await, 303);
    let (_, _, card) = admin_view.get("/hospitals/BJ-CY").await;
    assert!(
        card.contains("<dd id=\"reply-rate\">100%</dd>")
            && card.contains("<dd id=\"returns\">3</dd>"),
        "{card}"
    );
    let (_, _, public_board) = common::Visitor::new(&app).get("/hospitals").await;
    assert!(
        public_board.contains("按时答复率") && public_board.contains("<td>100%</td>"),
        "{public_board}"
    );

    // Every step is on the hash chain of case actions, and the chain holds.
    let report = app
        .state
        .db(|conn| Ok(shouzhen_store::record::verify(conn)?))
        .await
        .expect("verify");
    assert!(report.breaks.is_empty(), "{:?}", report.breaks);
    assert!(report.actions >= 14, "{}", report.actions);
}

#[actix_web::test]
async fn a_hospital_sees_only_what_was_forwarded_to_it_and_machines_see_no_cases() {
    let app = TestApp::spawn().await;
    let sup = app.supervisor_token().await;
    let cy = case_at(&app, &sup, "BJ-CY", "cy").await;
    let hd = case_at(&app, &sup, "BJ-HD", "hd").await;
    for id in [cy, hd] {
        let (status, body) = act(
            &app,
            &sup,
            id,
            json!({"action": "forward", "note": "请答复"}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let cy_staff = app
        .hospital_user_token("yiwu@bj-cy.example.cn", "BJ-CY")
        .await;
    // Another hospital's forwarded case: 404 for reading and acting alike.
    let (status, _) = app
        .get(&format!("/api/v1/cases/{hd}"), Some(&cy_staff))
        .await;
    assert_eq!(status, 404);
    let (status, _) = act(
        &app,
        &cy_staff,
        hd,
        json!({"action": "reply", "note": "x", "admits": false}),
    )
    .await;
    assert_eq!(status, 404);
    let listed: Vec<i64> = app
        .cases(&cy_staff, "")
        .await
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .collect();
    assert_eq!(listed, [cy]);
    // The hospital's machine token reads no cases.
    let machine = app.hospital_token("BJ-XC").await;
    let (status, _) = app.get("/api/v1/cases", Some(&machine)).await;
    assert_eq!(status, 403);
    let (status, _) = app
        .get(&format!("/api/v1/cases/{cy}"), Some(&machine))
        .await;
    assert_eq!(status, 403);

    // The forward BJ-HD never answered counts against it.
    let (_, board) = app.get("/api/v1/hospitals", None).await;
    let hd_row = board
        .as_array()
        .and_then(|b| b.iter().find(|r| r["code"] == "BJ-HD"))
        .expect("BJ-HD on the board");
    assert_eq!(
        (
            hd_row["loop"]["forwards"].as_i64(),
            hd_row["loop"]["reply_rate"].as_f64()
        ),
        (Some(1), Some(0.0)),
        "{hd_row}"
    );
    // Two inspectors act on one replied case at once: one wins, the other gets 409.
    ok(
        &app,
        &cy_staff,
        cy,
        json!({"action": "reply", "note": "我院不认可", "admits": false}),
    )
    .await;
    let due = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    let insp = app.inspector_token().await;
    let (a, b) = futures_util::future::join(
        act(
            &app,
            &sup,
            cy,
            json!({"action": "accept", "note": "认定", "due": due}),
        ),
        act(&app, &insp, cy, json!({"action": "return", "note": "退回"})),
    )
    .await;
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
}

#[actix_web::test]
async fn a_hospital_user_needs_its_hospital_and_no_one_else_has_one() {
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    let add = |role: &str, hospital: Option<&str>| {
        let input = shouzhen_app::accounts::UserInput {
            email: format!("{role}@example.cn"),
            role: role.into(),
            district: None,
            password: "a long enough password".into(),
            hospital: hospital.map(str::to_string),
        };
        let state = app.state.clone();
        async move {
            state
                .db(move |conn| shouzhen_app::accounts::add_user(conn, &input))
                .await
                .map(|u| u.hospital_id)
                .map_err(|e| match e.0 {
                    shouzhen_app::error::AppError::BadRequest { errors, .. } => {
                        errors[0].field.clone()
                    }
                    other => other.to_string(),
                })
        }
    };
    assert_eq!(add("hospital", None).await, Err("hospital".into()));
    assert_eq!(add("hospital", Some("NOPE")).await, Err("hospital".into()));
    assert_eq!(
        add("inspector", Some("BJ-CY")).await,
        Err("hospital".into())
    );
    assert!(matches!(add("hospital", Some("BJ-CY")).await, Ok(Some(_))));
}

#[actix_web::test]
async fn a_late_hospital_is_reminded_then_supervised_once_per_deadline_by_two_instances() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pack = dir.path().join("fast.toml");
    std::fs::write(&pack, "hospital_reply_minutes = 1\n").expect("pack");
    let pack = pack.display().to_string();
    let a = TestApp::builder()
        .var("SHOUZHEN_POLICY", &pack)
        .spawn()
        .await;
    let b = TestApp::builder()
        .database_of(&a)
        .var("SHOUZHEN_POLICY", &pack)
        .spawn()
        .await;
    let sup = a
        .staff_token("zhuguan@wjw.example.cn", "supervisor", Some("朝阳区"))
        .await;
    let id = case_at(&a, &sup, "BJ-CY", "cy").await;
    let yiwu = a
        .hospital_user_token("yiwu@bj-cy.example.cn", "BJ-CY")
        .await;
    let forwarded = ok(&a, &sup, id, json!({"action": "forward", "note": "请答复"})).await;
    let due = chrono::DateTime::parse_from_rfc3339(forwarded["reply_due"].as_str().expect("due"))
        .expect("a time")
        .with_timezone(&chrono::Utc);
    let entries = |body: &Value, action: &str| {
        body["actions"]
            .as_array()
            .map(|a| a.iter().filter(|x| x["action"] == action).count())
            .unwrap_or(0)
    };
    // Before the deadline: nothing. Just after it, on both instances at once: one reminder.
    a.sweep_at(due - chrono::Duration::seconds(5)).await;
    assert_eq!(entries(&case_of(&a, &sup, id).await, "remind"), 0);
    let late = due + chrono::Duration::seconds(1);
    futures_util::future::join(a.sweep_at(late), b.sweep_at(late)).await;
    a.sweep_at(late + chrono::Duration::seconds(20)).await;
    let body = case_of(&a, &sup, id).await;
    assert_eq!(
        (entries(&body, "remind"), entries(&body, "supervise")),
        (1, 0),
        "{body}"
    );
    // As long again: the supervisors, once.
    let later = due + chrono::Duration::seconds(61);
    futures_util::future::join(a.sweep_at(later), b.sweep_at(later)).await;
    b.sweep_at(later + chrono::Duration::minutes(5)).await;
    let body = case_of(&a, &sup, id).await;
    assert_eq!(
        (entries(&body, "remind"), entries(&body, "supervise")),
        (1, 1),
        "{body}"
    );
    let mails = outbox(&a).await;
    let reminded: Vec<_> = mails.iter().filter(|m| m.kind == "case_reminded").collect();
    let supervised: Vec<_> = mails
        .iter()
        .filter(|m| m.kind == "case_supervised")
        .collect();
    assert_eq!((reminded.len(), supervised.len()), (1, 1));
    assert_eq!(reminded[0].recipients, "yiwu@bj-cy.example.cn");
    assert!(
        reminded[0].body_text.contains("催办"),
        "{}",
        reminded[0].body_text
    );
    assert!(supervised[0].recipients.contains("zhuguan@wjw.example.cn"));
    assert!(mails.iter().all(|m| !m.body_text.contains(ID_NUMBER)));

    // A hospital that answers in time is not reminded: the rectification deadline, met.
    ok(
        &a,
        &yiwu,
        id,
        json!({"action": "reply", "note": "已说明", "admits": true}),
    )
    .await;
    let fix_by = chrono::Utc::now() + chrono::Duration::minutes(10);
    ok(
        &a,
        &sup,
        id,
        json!({"action": "accept", "note": "整改", "due": fix_by.to_rfc3339()}),
    )
    .await;
    ok(
        &a,
        &yiwu,
        id,
        json!({"action": "rectify", "note": "已整改"}),
    )
    .await;
    a.sweep_at(fix_by + chrono::Duration::minutes(30)).await;
    let body = case_of(&a, &sup, id).await;
    assert_eq!(
        (entries(&body, "remind"), entries(&body, "supervise")),
        (1, 1),
        "{body}"
    );
}

#[actix_web::test]
async fn the_loop_through_the_pages_inspector_and_hospital_each_see_the_other() {
    let app = TestApp::spawn().await;
    let sup = app.supervisor_token().await;
    let id = case_at(&app, &sup, "BJ-CY", "cy").await;
    app.staff_token("insp@wjw.example.cn", "inspector", Some("朝阳区"))
        .await;
    app.hospital_user_token("yiwu@bj-cy.example.cn", "BJ-CY")
        .await;
    app.hospital_token("BJ-HD").await;
    app.hospital_user_token("yiwu@bj-hd.example.cn", "BJ-HD")
        .await;
    let mut inspector = common::Visitor::new(&app);
    let mut hospital = common::Visitor::new(&app);
    let mut other = common::Visitor::new(&app);
    assert_eq!(inspector.login("insp@wjw.example.cn").await, 303);
    // A hospital's staff land on their inbox.
    let token = hospital.token("/login").await;
    let (status, location, _) = hospital
        .post(
            "/login",
            &token,
            &[
                ("email", "yiwu@bj-cy.example.cn"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!((status, location.as_str()), (303, "/hospital?lang=zh"));
    assert_eq!(other.login("yiwu@bj-hd.example.cn").await, 303);
    let (_, _, inbox) = hospital.get("/hospital").await;
    assert!(inbox.contains("暂无转办"), "nothing forwarded yet: {inbox}");
    let (status, _, _) = hospital.get(&format!("/hospital/cases/{id}")).await;
    assert_eq!(status, 404);

    // The inspector forwards from the case page.
    let page = format!("/cases/{id}");
    let token = inspector.token(&page).await;
    let (status, _, _) = inspector
        .post(
            &format!("{page}/actions"),
            &token,
            &[("action", "forward"), ("note", "请说明延误原因")],
        )
        .await;
    assert_eq!(status, 303);
    let (_, _, shown) = inspector.get(&page).await;
    assert!(
        shown.contains("已转办") && shown.contains("答复时限"),
        "{shown}"
    );
    // The queue shows the reply deadline, not yet overdue.
    let (_, case) = app.get(&format!("/api/v1/cases/{id}"), Some(&sup)).await;
    let due = chrono::DateTime::parse_from_rfc3339(case["reply_due"].as_str().expect("due"))
        .expect("a time")
        .naive_utc();
    let (_, _, queue) = inspector.get("/dashboard").await;
    assert!(
        queue.contains("办理时限") && queue.contains(&shouzhen_app::mail::china(due)),
        "{queue}"
    );
    assert!(!queue.contains("class=\"overdue\""), "{queue}");

    // The hospital sees it in its inbox with the deadline, opens it and replies (contesting).
    let (_, _, inbox) = hospital.get("/hospital").await;
    assert!(inbox.contains(&format!("/hospital/cases/{id}")), "{inbox}");
    let title = shouzhen_domain::rules::RuleId::HandoverDelay
        .info()
        .title_zh;
    assert!(inbox.contains(title), "the rule's Chinese title: {inbox}");
    let mine = format!("/hospital/cases/{id}");
    let (status, _, case_page) = hospital.get(&mine).await;
    assert_eq!(status, 200);
    assert!(
        case_page.contains("id=\"reply\"") && !case_page.contains(ID_NUMBER),
        "{case_page}"
    );
    let token = hospital.token(&mine).await;
    let (status, _, body) = hospital
        .post(
            &format!("{mine}/actions"),
            &token,
            &[("action", "reply"), ("note", "当班医生正在抢救另一名患者")],
        )
        .await;
    assert_eq!(status, 400, "admits is required: {body}");
    assert!(body.contains("admits"), "{body}");
    let (status, location, _) = hospital
        .post(
            &format!("{mine}/actions"),
            &token,
            &[
                ("action", "reply"),
                ("admits", "false"),
                ("note", "当班医生正在抢救另一名患者"),
            ],
        )
        .await;
    assert_eq!((status, location), (303, format!("{mine}?lang=zh")));
    // Another hospital's staff: 404; the inspector at the hospital's page: 403.
    let (status, _, _) = other.get(&mine).await;
    assert_eq!(status, 404);
    let (status, _, _) = inspector.get("/hospital").await;
    assert_eq!(status, 403);
    let (status, _, _) = hospital.get(&page).await;
    assert_eq!(
        status, 403,
        "the inspectors' case page is not the hospital's"
    );

    // The inspector sees the reply in the timeline and accepts with a deadline from the form.
    let (_, _, shown) = inspector.get(&page).await;
    assert!(
        shown.contains("医院已答复") && shown.contains("【申辩】当班医生正在抢救另一名患者"),
        "{shown}"
    );
    assert!(shown.contains("id=\"due\""), "{shown}");
    let token = inspector.token(&page).await;
    let due = (shouzhen_domain::time::to_china(chrono::Utc::now().naive_utc())
        + chrono::Duration::days(5))
    .format("%Y-%m-%dT%H:%M")
    .to_string();
    let (status, _, _) = inspector
        .post(
            &format!("{page}/actions"),
            &token,
            &[
                ("action", "accept"),
                ("note", "认定违规，限期整改"),
                ("due", &due),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let (_, _, case_page) = hospital.get(&mine).await;
    assert!(
        case_page.contains("整改中") && case_page.contains("id=\"rectify\""),
        "{case_page}"
    );
    let token = hospital.token(&mine).await;
    let (status, _, _) = hospital
        .post(
            &format!("{mine}/actions"),
            &token,
            &[("action", "rectify"), ("note", "已修订交接制度")],
        )
        .await;
    assert_eq!(status, 303);
    let (_, _, shown) = inspector.get(&page).await;
    assert!(
        shown.contains("已报整改") && shown.contains("核实办结"),
        "{shown}"
    );
}

#[actix_web::test]
async fn an_admin_sets_where_a_hospitals_notices_go() {
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    app.staff_token("admin@wjw.example.cn", "admin", None).await;
    let mut admin = common::Visitor::new(&app);
    assert_eq!(admin.login("admin@wjw.example.cn").await, 303);
    let token = admin.token("/admin").await;
    let path = "/admin/hospitals/BJ-CY/email";
    let (status, _, page) = admin
        .post(path, &token, &[("email", "not an address")])
        .await;
    assert_eq!(status, 400, "{page}");
    let (status, _, page) = admin
        .post(path, &token, &[("email", "YiWuChu@BJ-CY.example.cn")])
        .await;
    assert!(status == 200 || status == 303, "{status} {page}");
    let hospital = app
        .state
        .db(|conn| Ok(shouzhen_store::hospitals::by_code(conn, "BJ-CY")?))
        .await
        .expect("read")
        .expect("the hospital");
    assert_eq!(hospital.email.as_deref(), Some("yiwuchu@bj-cy.example.cn"));
    let (_, _, page) = admin.get("/admin").await;
    assert!(
        page.contains("value=\"yiwuchu@bj-cy.example.cn\""),
        "{page}"
    );
}

#[actix_web::test]
async fn the_queue_shows_an_overdue_case_first_in_its_severity() {
    let app = TestApp::spawn().await;
    let sup = app.supervisor_token().await;
    let h = app.hospital_token("BJ-CY").await;
    // Three handover cases of one severity, opened in order.
    for p in ["p1", "p2", "p3"] {
        app.post_events(
            &h,
            json!([{"event_id": format!("{p}-a"), "type": "arrival", "occurred_at": at("10:00", 0), "patient": {"ref": p}, "acuity": "urgent", "arrived_by": "ambulance"},
                   {"event_id": format!("{p}-h"), "type": "handover", "occurred_at": at("10:40", 0), "patient": {"ref": p}}]),
        )
        .await;
    }
    let mut ids: Vec<i64> = app
        .cases(&sup, "rule=handover.delay")
        .await
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .collect();
    ids.sort();
    let last = ids[2];
    ok(
        &app,
        &sup,
        last,
        json!({"action": "forward", "note": "请答复"}),
    )
    .await;
    // Its reply deadline long passed (set here: the test does not wait a day).
    app.run_sql(format!(
        "UPDATE cases SET reply_due = '2026-01-01 00:00:00' WHERE id = {last}"
    ))
    .await;
    app.staff_token("admin@wjw.example.cn", "admin", None).await;
    let mut admin = common::Visitor::new(&app);
    assert_eq!(admin.login("admin@wjw.example.cn").await, 303);
    let (_, _, page) = admin.get("/dashboard?rule=handover.delay").await;
    let order: Vec<i64> = page
        .split("class=\"case-link\">")
        .skip(1)
        .filter_map(|s| s.split('<').next()?.parse().ok())
        .collect();
    assert_eq!(order, [last, ids[0], ids[1]], "{page}");
    assert!(page.contains("class=\"overdue\""), "{page}");
}
