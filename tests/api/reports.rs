//! The hotline's report (三率): complaints scripted at known times through the services, then
//! the API, the page, the CSV and the bulletin checked against a count made by hand.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::common;

use common::{TestApp, Visitor};
use serde_json::{Value, json};
use shouzhen_app::complaints::{self, ComplaintAction, ComplaintInput};
use shouzhen_domain::actor::{Role, Staff};

pub const OPERATOR: &str = "op1@12320.example.cn";

/// The platform's work-order numbers, one per complaint.
static ORDER: AtomicU64 = AtomicU64::new(1);

fn china(s: &str) -> chrono::DateTime<chrono::Utc> {
    let local = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("a time");
    (local - chrono::Duration::hours(8)).and_utc()
}

/// The staff member behind an account, as the services take one.
async fn staff(app: &TestApp, email: &str, role: Role) -> Staff {
    let email = email.to_string();
    let user = app
        .state
        .db(move |conn| Ok(shouzhen_store::users::by_email(conn, &email)?))
        .await
        .expect("read")
        .expect("the user");
    Staff {
        user_id: user.id,
        email: user.email,
        role,
        district: user.district,
        hospital_id: user.hospital_id,
    }
}

/// Files a phone complaint at `when` (China time) about a registered hospital's code, or a
/// hospital's name when it is not registered; returns its id.
async fn file_at(app: &TestApp, when: &str, hospital: &str, registered: bool) -> i64 {
    let at = china(when);
    let (policy, notifier, keys) = (
        app.state.policy.clone(),
        app.state.notifier.clone(),
        app.state.keys.clone(),
    );
    let input = ComplaintInput {
        hospital: registered.then(|| hospital.to_string()),
        hospital_name: (!registered).then(|| hospital.to_string()),
        category: Some("medication".into()),
        occurred_at: Some((at - chrono::Duration::hours(2)).to_rfc3339()),
        description: Some("来电反映：医院药房缺药".into()),
        contact_phone: Some("13800138000".into()),
        channel: Some("phone".into()),
        external_ref: Some(format!("12320-{}", ORDER.fetch_add(1, Ordering::Relaxed))),
        callback_consent: Some(true),
        ..Default::default()
    };
    app.state
        .db(move |conn| {
            let engine = shouzhen_app::engine::Engine::new(&policy, &notifier, at.naive_utc());
            let valid = complaints::validate(conn, &input, at, true)?;
            Ok(complaints::file(conn, &keys, &engine, valid, "zh")?.0.id)
        })
        .await
        .expect("file")
}

/// Takes a step of the loop at `when` (China time).
async fn act_at(app: &TestApp, when: &str, who: &Staff, id: i64, action: ComplaintAction) {
    let at = china(when).naive_utc();
    let (policy, notifier, who) = (
        app.state.policy.clone(),
        app.state.notifier.clone(),
        who.clone(),
    );
    app.state
        .db(move |conn| {
            let engine = shouzhen_app::engine::Engine::new(&policy, &notifier, at);
            complaints::act(conn, &engine, &who, id, &action, "")
        })
        .await
        .expect("the step");
}

fn action(name: &str) -> ComplaintAction {
    ComplaintAction {
        action: name.into(),
        note: "已核实处理".into(),
        ..Default::default()
    }
}

fn callback(resolved: bool, satisfaction: &str) -> ComplaintAction {
    ComplaintAction {
        resolved: Some(resolved),
        satisfaction: Some(satisfaction.into()),
        ..action("callback")
    }
}

/// Seven complaints in the week of 2022-10-10 (and two just outside it), their history told in
/// the comments; the hand count is in the test below.
pub async fn scripted() -> TestApp {
    let app = TestApp::spawn().await;
    app.add_hospital_in("BJ-CY", "朝阳区", "beijing").await;
    app.add_hospital_in("BJ-HD", "海淀区", "beijing").await;
    app.staff_token(OPERATOR, "operator", None).await;
    app.hospital_user_token("yiwu@bj-cy.example.cn", "BJ-CY")
        .await;
    app.hospital_user_token("yiwu@bj-hd.example.cn", "BJ-HD")
        .await;
    let op = staff(&app, OPERATOR, Role::Operator).await;
    let cy = staff(&app, "yiwu@bj-cy.example.cn", Role::HospitalStaff).await;
    let hd = staff(&app, "yiwu@bj-hd.example.cn", Role::HospitalStaff).await;
    // BJ-CY 1: forwarded within the hour, answered, called back: resolved and satisfied.
    let c1 = file_at(&app, "2022-10-10 09:00", "BJ-CY", true).await;
    act_at(&app, "2022-10-10 10:00", &op, c1, action("forward")).await;
    act_at(&app, "2022-10-11 09:00", &cy, c1, action("answer")).await;
    act_at(
        &app,
        "2022-10-11 15:00",
        &op,
        c1,
        callback(true, "satisfied"),
    )
    .await;
    // BJ-CY 2: forwarded 27 hours after filing (late: the limit is 24 h), answered in time,
    // called back unresolved though basically satisfied: reopened, forwarded again, and never
    // answered again (overdue).
    let c2 = file_at(&app, "2022-10-10 09:00", "BJ-CY", true).await;
    act_at(&app, "2022-10-11 12:00", &op, c2, action("forward")).await;
    act_at(&app, "2022-10-12 09:00", &cy, c2, action("answer")).await;
    act_at(
        &app,
        "2022-10-12 15:00",
        &op,
        c2,
        callback(false, "basically_satisfied"),
    )
    .await;
    // BJ-CY 3: never taken up.
    file_at(&app, "2022-10-12 09:00", "BJ-CY", true).await;
    // BJ-HD 4: forwarded, answered, called back: resolved, satisfied.
    let c4 = file_at(&app, "2022-10-13 09:00", "BJ-HD", true).await;
    act_at(&app, "2022-10-13 10:00", &op, c4, action("forward")).await;
    act_at(&app, "2022-10-14 09:00", &hd, c4, action("answer")).await;
    act_at(
        &app,
        "2022-10-14 15:00",
        &op,
        c4,
        callback(true, "satisfied"),
    )
    .await;
    // BJ-HD 5: forwarded in time and never answered (due 2022-10-20): overdue.
    let c5 = file_at(&app, "2022-10-13 09:00", "BJ-HD", true).await;
    act_at(&app, "2022-10-13 10:00", &op, c5, action("forward")).await;
    // BJ-HD 8: filed in the last half hour of the period, never taken up.
    file_at(&app, "2022-10-16 23:30", "BJ-HD", true).await;
    // A clinic that is not registered: cannot be forwarded, never acknowledged.
    file_at(&app, "2022-10-14 09:00", "某社区诊所", false).await;
    // Outside the period: a minute before it, and the day after it.
    file_at(&app, "2022-10-09 23:59", "BJ-CY", true).await;
    file_at(&app, "2022-10-17 09:00", "BJ-HD", true).await;
    app
}

const WEEK: &str = "from=2022-10-10&until=2022-10-16";

fn row<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no row {name}: {report}"))
}

#[actix_web::test]
async fn the_three_rates_and_the_rank_match_a_hand_count() {
    let app = scripted().await;
    let sup = app.supervisor_token().await;
    let (status, report) = app
        .get(&format!("/api/v1/reports/complaints?{WEEK}"), Some(&sup))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["from"].as_str(), report["until"].as_str()),
        (Some("2022-10-10"), Some("2022-10-16"))
    );
    // By hand. BJ-HD: 3 filed, 2 of 3 in time, 1 called back (resolved, satisfied), 1 overdue:
    // (66.7 + 100 + 100) / 3 = 88.9, first. BJ-CY: 1 of 3 in time, 2 called back (1 resolved,
    // 2 satisfied or basically), 1 reopened and not answered again (overdue):
    // (33.3 + 50 + 100) / 3 = 61.1, second. The clinic:
    // 0 of 1 in time and nothing else: 0, third.
    let hd = row(&report, "BJ-HD 医院");
    assert_eq!(
        json!([
            hd["hospital"],
            hd["district"],
            hd["filed"],
            hd["response_due"],
            hd["responded_in_time"],
            hd["response_rate"],
            hd["called_back"],
            hd["resolution_rate"],
            hd["satisfaction_rate"],
            hd["overdue"],
            hd["reopened"],
            hd["score"],
            hd["rank"]
        ]),
        json!([
            "BJ-HD",
            "海淀区",
            3,
            3,
            2,
            66.7,
            1,
            100.0,
            100.0,
            1,
            0,
            88.9,
            1
        ]),
        "{hd}"
    );
    let cy = row(&report, "BJ-CY 医院");
    assert_eq!(
        json!([
            cy["filed"],
            cy["responded_in_time"],
            cy["response_rate"],
            cy["called_back"],
            cy["resolved"],
            cy["resolution_rate"],
            cy["satisfied"],
            cy["satisfaction_rate"],
            cy["overdue"],
            cy["reopened"],
            cy["score"],
            cy["rank"]
        ]),
        json!([3, 1, 33.3, 2, 1, 50.0, 2, 100.0, 1, 1, 61.1, 2]),
        "{cy}"
    );
    let clinic = row(&report, "某社区诊所");
    assert_eq!(
        json!([
            clinic["hospital"],
            clinic["district"],
            clinic["filed"],
            clinic["response_rate"],
            clinic["resolution_rate"],
            clinic["score"],
            clinic["rank"]
        ]),
        json!([null, null, 1, 0.0, null, 0.0, 3]),
        "{clinic}"
    );
    let names: Vec<&str> = report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["BJ-HD 医院", "BJ-CY 医院", "某社区诊所"],
        "best first"
    );
    // All seven: 3 of 7 in time, 2 of 3 resolved, 3 of 3 satisfied.
    let t = &report["total"];
    assert_eq!(
        json!([
            t["filed"],
            t["response_rate"],
            t["resolution_rate"],
            t["satisfaction_rate"],
            t["overdue"],
            t["reopened"],
            t["rank"]
        ]),
        json!([7, 42.9, 66.7, 100.0, 2, 1, null]),
        "{t}"
    );

    // By district: the clinic's complaint in a row of its own, with no district.
    let (status, by_district) = app
        .get(
            &format!("/api/v1/reports/complaints?{WEEK}&by=district"),
            Some(&sup),
        )
        .await;
    assert_eq!(status, 200, "{by_district}");
    let hd = row(&by_district, "海淀区");
    assert_eq!(
        (
            hd["filed"].as_u64(),
            hd["rank"].as_u64(),
            hd["hospital"].is_null()
        ),
        (Some(3), Some(1), true)
    );
    let none = row(&by_district, "");
    assert_eq!(
        (none["district"].is_null(), none["filed"].as_u64()),
        (true, Some(1))
    );

    // A sweep raises the two overdue answers as cases; the counts stay.
    app.sweep_at(china("2022-10-21 08:00")).await;
    assert_eq!(app.cases(&sup, "rule=complaint.overdue").await.len(), 2);
    let (_, again) = app
        .get(&format!("/api/v1/reports/complaints?{WEEK}"), Some(&sup))
        .await;
    assert_eq!(row(&again, "BJ-HD 医院")["overdue"], 1);

    // A day's report: the bounds are China days, both included.
    let (_, day) = app
        .get(
            "/api/v1/reports/complaints?from=2022-10-16&until=2022-10-16",
            Some(&sup),
        )
        .await;
    assert_eq!(day["total"]["filed"], 1, "{day}");
}

#[actix_web::test]
async fn each_role_sees_its_reach_and_bad_queries_name_the_field() {
    let app = scripted().await;
    // An inspector of 朝阳区 sees its hospitals only; an operator sees all; a hospital's staff
    // member none; nobody signed in, nothing.
    let inspector = app.inspector_token().await;
    let (status, report) = app
        .get(
            &format!("/api/v1/reports/complaints?{WEEK}"),
            Some(&inspector),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let names: Vec<&str> = report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["BJ-CY 医院"]);
    assert_eq!(report["total"]["filed"], 3);
    let operator = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"email": OPERATOR, "password": "a long enough password"}),
        )
        .await
        .1["access_token"]
        .as_str()
        .expect("a token")
        .to_string();
    let (status, report) = app
        .get(
            &format!("/api/v1/reports/complaints?{WEEK}"),
            Some(&operator),
        )
        .await;
    assert_eq!((status, report["total"]["filed"].as_u64()), (200, Some(7)));
    let hospital = app
        .hospital_user_token("another@bj-cy.example.cn", "BJ-CY")
        .await;
    let (status, _) = app
        .get(
            &format!("/api/v1/reports/complaints?{WEEK}"),
            Some(&hospital),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app.get("/api/v1/reports/complaints", None).await;
    assert_eq!(status, 401);
    for (query, field) in [
        ("from=2022-10-17&until=2022-10-16", "until"),
        ("from=2022-10-32", "from"),
        ("until=yesterday", "until"),
        ("until=262142-12-31", "until"),
        ("from=-262143-01-01", "from"),
        ("by=street", "by"),
        ("until=", "until"),
        ("from=2021-01-01&until=2022-10-16", "from"),
        ("period=week", "period"),
    ] {
        let (status, body) = app
            .get(
                &format!("/api/v1/reports/complaints?{query}"),
                Some(&operator),
            )
            .await;
        assert_eq!(
            (status, body["errors"][0]["field"].as_str()),
            (400, Some(field)),
            "{query}: {body}"
        );
    }
}

#[actix_web::test]
async fn the_page_its_csv_and_the_printed_bulletin_show_the_same_figures() {
    let app = scripted().await;
    let mut v = Visitor::new(&app);
    assert_eq!(v.login(OPERATOR).await, 303);
    let (status, _, page) = v.get(&format!("/reports?{WEEK}")).await;
    assert_eq!(status, 200, "{page}");
    for text in [
        "投诉办理三率通报",
        "BJ-HD 医院",
        "88.9%",
        "(2/3)",
        "61.1%",
        "某社区诊所",
        "合计",
        "42.9%",
        "<svg",
    ] {
        assert!(page.contains(text), "{text} missing from the page");
    }
    let hd = page.find("BJ-HD 医院").expect("BJ-HD");
    assert!(
        hd < page.find("BJ-CY 医院").expect("BJ-CY"),
        "the first ranked comes first"
    );
    let (_, _, en) = v.get(&format!("/reports?{WEEK}&lang=en")).await;
    assert!(en.contains("Response rate") && en.contains("88.9%"));
    // A bad date: the page names the field.
    let (status, _, bad) = v.get("/reports?from=2022-10-17&until=2022-10-16").await;
    assert_eq!(status, 400);
    assert!(
        bad.contains("id=\"errors\"") && bad.contains("href=\"#until\""),
        "{bad}"
    );

    let resp = app
        .client
        .get(app.url(&format!("/reports/export.csv?{WEEK}&by=hospital")))
        .insert_header((
            "cookie",
            v.cookies
                .iter()
                .map(|(k, c)| format!("{k}={c}"))
                .collect::<Vec<_>>()
                .join("; "),
        ))
        .send()
        .await
        .expect("csv");
    let mut resp = resp;
    assert_eq!(resp.status().as_u16(), 200);
    let csv = String::from_utf8(resp.body().await.expect("body").to_vec()).expect("utf-8");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("\u{feff}rank,hospital,name,district,filed"),
        "{csv}"
    );
    assert_eq!(lines.len(), 5, "a header, three rows and the total: {csv}");
    assert!(
        lines[1]
            .starts_with("\"1\",\"BJ-HD\",\"BJ-HD 医院\",\"海淀区\",\"3\",\"3\",\"2\",\"66.7\""),
        "{csv}"
    );
    assert!(
        lines[4].starts_with("\"total\",\"\",\"合计\",\"\",\"7\""),
        "{csv}"
    );

    let (status, _, bulletin) = v.get(&format!("/reports/bulletin?{WEEK}&lang=en")).await;
    assert_eq!(status, 200);
    for text in [
        "12320 投诉办理情况通报",
        "（2022-10-10 至 2022-10-16）",
        "本期共受理投诉 7 件",
        "响应率 42.9%",
        "解决率 66.7%",
        "满意率 100.0%",
        "逾期答复 2 件",
        "重新办理 1 件",
        "三率排名靠前的医院：BJ-HD 医院、BJ-CY 医院、某社区诊所。",
    ] {
        assert!(
            bulletin.contains(text),
            "{text} missing from the bulletin: {bulletin}"
        );
    }
    // A hospital's staff are refused the page.
    let mut h = Visitor::new(&app);
    assert_eq!(h.login("yiwu@bj-cy.example.cn").await, 303);
    let (status, _, _) = h.get("/reports").await;
    assert_eq!(status, 403);
}
