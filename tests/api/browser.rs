//! The complaint form in a real browser (headless Chromium driven by playwright-core, both
//! installed by `.ci/run`): fill, fail validation, correct, submit, land on the tracking page,
//! in Chinese and in English, without JavaScript.

use crate::common;

use std::process::Command;

use common::TestApp;
use serde_json::Value;

fn browser_available() -> bool {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/browser/node_modules/playwright-core"
    );
    let ok =
        std::path::Path::new("/usr/bin/chromium").exists() && std::path::Path::new(dir).exists();
    if !ok && std::env::var("CI").is_ok() {
        panic!("CI must install chromium and tests/browser's node modules (see .ci/run)");
    }
    ok
}

/// Runs one of the browser scripts in `tests/browser` with node; its JSON report.
async fn run_script(name: &str, args: Vec<String>) -> Value {
    let script = format!("{}/tests/browser/{name}", env!("CARGO_MANIFEST_DIR"));
    let out = actix_web::rt::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .args(args)
            .env("SCREENSHOT_DIR", std::env::temp_dir())
            .output()
    })
    .await
    .expect("join")
    .expect("node");
    assert!(
        out.status.success(),
        "browser script {name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("report")
}

#[actix_web::test]
async fn a_citizen_files_a_complaint_in_chinese_and_in_english() {
    if !browser_available() {
        eprintln!("skipped: install chromium and run `npm ci` in tests/browser (as .ci/run does)");
        return;
    }
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    let report = run_script("complaint.mjs", vec![app.address.clone()]).await;
    for (lang, h1, status, error_word) in [
        (
            "zh",
            "投诉医院拒诊、推诿或延误救治",
            "已收到，等待受理",
            "请填写此项",
        ),
        (
            "en",
            "Report a hospital that refused, pushed away or delayed care",
            "Received, waiting for an inspector",
            "Please fill this in",
        ),
    ] {
        let r = &report[lang];
        assert_eq!(r["h1"], h1, "{lang}: {r}");
        assert!(r["emergency"].as_str().unwrap_or("").contains("120"));
        assert!(
            r["invalid_url"]
                .as_str()
                .unwrap_or("")
                .contains("/complaints?lang="),
            "stays on the form: {r}"
        );
        assert!(
            r["description_error"]
                .as_str()
                .unwrap_or("")
                .contains(error_word),
            "{lang}: {r}"
        );
        assert!(
            r["error_summary"]
                .as_str()
                .unwrap_or("")
                .contains(error_word)
        );
        assert_eq!(r["kept_name"], "测试医院<b>", "the citizen's input is kept");
        assert_eq!(r["kept_category"], true);
        let code = r["code"].as_str().unwrap_or("").replace('-', "");
        assert_eq!(code.len(), 13, "{lang}: {r}");
        assert!(
            r["landed"]
                .as_str()
                .unwrap_or("")
                .contains(&format!("/complaints/{code}")),
            "{lang}: {r}"
        );
        assert_eq!(r["status"], status);
        assert_eq!(r["page_has_phone"], false);
        // The API agrees with the page.
        let (s, view) = app.get(&format!("/api/v1/complaints/{code}"), None).await;
        assert_eq!((s, view["status"].as_str()), (200, Some("received")));
    }
    assert_eq!(report["zh"]["html_lang"], "zh-CN");
    assert_eq!(report["en"]["html_lang"], "en");
}

#[actix_web::test]
async fn an_inspector_signs_in_filters_opens_a_case_and_acts() {
    if !browser_available() {
        eprintln!("skipped: install chromium and run `npm ci` in tests/browser (as .ci/run does)");
        return;
    }
    let app = TestApp::spawn().await;
    let h = app.hospital_token("BJ-CY").await;
    app.post_events(
        &h,
        serde_json::json!([
            {"event_id": "a1", "type": "arrival", "occurred_at": common::at("10:00", 0), "patient": {"ref": "p"}, "acuity": "urgent", "arrived_by": "ambulance"},
            {"event_id": "h1", "type": "handover", "occurred_at": common::at("10:40", 0), "patient": {"ref": "p"}},
            {"event_id": "a2", "type": "arrival", "occurred_at": common::at("11:00", 0), "patient": {"ref": "q"}, "acuity": "critical", "arrived_by": "walk_in"},
            {"event_id": "r2", "type": "refusal", "occurred_at": common::at("11:05", 0), "patient": {"ref": "q"}, "reasons": ["fever"]},
        ]),
    )
    .await;
    app.inspector_token().await;
    let r = run_script(
        "dashboard.mjs",
        vec![
            app.address.clone(),
            "inspector@wjw.example.cn".into(),
            "a long enough password".into(),
        ],
    )
    .await;
    assert!(
        r["redirected"]
            .as_str()
            .unwrap_or("")
            .contains("/login?next="),
        "{r}"
    );
    assert!(
        r["after_login"]
            .as_str()
            .unwrap_or("")
            .contains("/dashboard"),
        "{r}"
    );
    assert_eq!(r["title"], "案件队列");
    assert!(
        r["filtered_url"]
            .as_str()
            .unwrap_or("")
            .contains("rule=handover.delay")
    );
    assert_eq!(r["rows"], 1, "only the handover case: {r}");
    assert_eq!(r["status_before"], "待受理");
    assert_eq!(r["status_after"], "已受理");
    let history = r["history"].as_str().unwrap_or("");
    assert!(
        history.contains("已联系医院核实交接记录") && history.contains("inspector@wjw.example.cn"),
        "{history}"
    );
    assert!(r["evidence"].as_str().unwrap_or("").contains("a1"), "{r}");
    // The API shows the same history.
    let sup = app.supervisor_token().await;
    let cases = app.cases(&sup, "rule=handover.delay").await;
    assert_eq!(cases[0]["status"], "acknowledged");
}

/// SQL-injection and XSS payloads in every text field: what hospitals post, what citizens file,
/// what inspectors write, a hospital's name and a login email.
const PAYLOAD: &str =
    r#"<img src=x onerror=__pwned=1><script>__pwned=1</script>' OR '1'='1'; DROP TABLE cases; --"#;
/// A complainant's name (a name inside the description would be masked there).
const NAME: &str = "\"><svg onload=__pwned=1>";
/// Its markup half, for fields of at most 64 characters.
const MARKUP: &str = "<img src=x onerror=__pwned=1><script>__pwned=1</script>";

#[actix_web::test]
async fn injected_markup_and_sql_are_stored_as_given_and_shown_as_text() {
    if !browser_available() {
        eprintln!("skipped: install chromium and run `npm ci` in tests/browser (as .ci/run does)");
        return;
    }
    let app = TestApp::spawn().await;
    // A hospital whose name is a payload.
    let input = shouzhen_app::accounts::HospitalInput {
        code: "BJ-CY".into(),
        name: PAYLOAD.into(),
        district: "朝阳区".into(),
        jurisdiction: "beijing".into(),
        capacity: 40,
        email: None,
        designated_for: String::new(),
    };
    let (_, creds) = app
        .state
        .db(move |conn| shouzhen_app::accounts::add_hospital(conn, &input))
        .await
        .expect("hospital");
    let h = app.token_for(&creds).await;
    // Events whose every free text is a payload; the refusal opens a case.
    let report = app
        .post_events(
            &h,
            serde_json::json!([
                {"event_id": PAYLOAD, "type": "arrival", "occurred_at": common::at("10:00", 0),
                 "patient": {"ref": PAYLOAD}, "acuity": "critical", "arrived_by": "walk_in",
                 "department": PAYLOAD, "note": PAYLOAD, "symptoms": [MARKUP]},
                {"event_id": format!("{PAYLOAD}-r"), "type": "refusal", "occurred_at": common::at("10:05", 0),
                 "patient": {"ref": PAYLOAD}, "reasons": ["fever"], "note": PAYLOAD},
            ]),
        )
        .await;
    assert_eq!(report["accepted"], 2, "{report}");
    let sup = app.supervisor_token().await;
    let cases = app.cases(&sup, "rule=refusal.prohibited_reason").await;
    let case_id = cases[0]["id"].as_i64().expect("a case");
    // An inspector's action, with a payload as its note; the status it answers.
    let act = |path: String, action: &'static str| {
        let (app, sup) = (&app, &sup);
        async move {
            let body = serde_json::json!({"action": action, "note": PAYLOAD});
            app.post_json(&path, Some(sup), &body).await.0
        }
    };
    let status = act(format!("/api/v1/cases/{case_id}/actions"), "acknowledge").await;
    assert_eq!(status, 200);
    // A complaint whose every text field is a payload, answered with a payload.
    let (status, filed) = app
        .post_json(
            "/api/v1/complaints",
            None,
            &serde_json::json!({"hospital": "", "hospital_name": PAYLOAD, "category": "pushed_away",
                "occurred_at": common::at("11:00", 0), "description": PAYLOAD, "contact_name": NAME}),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let code = filed["tracking_code"]
        .as_str()
        .expect("code")
        .replace('-', "");
    let (_, queue) = app.get("/api/v1/complaints", Some(&sup)).await;
    let complaint_id = queue[0]["id"].as_i64().expect("complaint");
    let status = act(
        format!("/api/v1/complaints/{complaint_id}/actions"),
        "request_info",
    )
    .await;
    assert_eq!(status, 204);

    // Stored as given: the API gives every payload back unchanged, and no table was dropped.
    let (_, detail) = app
        .get(&format!("/api/v1/cases/{case_id}"), Some(&sup))
        .await;
    let text = detail.to_string();
    assert!(
        text.contains(&serde_json::to_string(PAYLOAD).expect("json")),
        "the case shows the payloads as given: {detail}"
    );
    assert_eq!(detail["actions"][1]["note"], PAYLOAD, "{detail}");
    assert_eq!(
        detail["evidence"]["events"][0]["details"]["department"],
        PAYLOAD
    );
    assert_eq!(queue[0]["description"], PAYLOAD);
    assert_eq!(queue[0]["hospital_name"], PAYLOAD);
    let (_, hospitals) = app.get("/api/v1/hospitals", None).await;
    assert_eq!(hospitals[0]["name"], PAYLOAD);
    let all = app.cases(&sup, "").await;
    assert!(
        all.iter().any(|c| c["id"] == case_id),
        "the cases table is whole"
    );

    // Shown as text: no page runs it or turns it into markup (an administrator sees them all).
    app.staff_token("admin@wjw.example.cn", "admin", None).await;
    let paths = [
        "/dashboard".to_string(),
        format!("/cases/{case_id}"),
        format!("/inspect/complaints/{complaint_id}"),
        format!("/complaints/{code}"),
        "/complaints/new".to_string(),
        "/hospitals".to_string(),
        "/audit".to_string(),
    ];
    let mut args: Vec<String> = vec![
        app.address.clone(),
        "admin@wjw.example.cn".into(),
        "a long enough password".into(),
        PAYLOAD.into(),
    ];
    args.extend(paths.iter().cloned());
    let r = run_script("injection.mjs", args).await;
    let harmless = |what: &str, p: &Value| {
        assert_eq!(p["pwned"], false, "{what} ran the payload: {p}");
        assert_eq!(
            p["injected"], 0,
            "{what} turned the payload into markup: {p}"
        );
        assert_eq!(p["dialogs"], 0, "{what} opened a dialog: {p}");
    };
    harmless("the login page", &r["login"]);
    assert_eq!(r["login"]["kept_email"], true, "{r}");
    for path in &paths {
        let p = &r["pages"][path];
        assert_eq!(p["status"], 200, "{path}: {p}");
        harmless(path, p);
        // Every page but the form (which lists only the hospital, in a <select>) shows a payload.
        if path != "/complaints/new" {
            assert_eq!(p["shows"], true, "{path} shows the payload as text: {p}");
        }
    }
}

#[actix_web::test]
async fn a_hospital_replies_to_a_forwarded_case_from_its_inbox() {
    if !browser_available() {
        eprintln!("skipped: install chromium and run `npm ci` in tests/browser (as .ci/run does)");
        return;
    }
    let app = TestApp::spawn().await;
    let h = app.hospital_token("BJ-CY").await;
    app.post_events(
        &h,
        serde_json::json!([
            {"event_id": "a1", "type": "arrival", "occurred_at": common::at("10:00", 0), "patient": {"ref": "p"}, "acuity": "urgent", "arrived_by": "ambulance"},
            {"event_id": "h1", "type": "handover", "occurred_at": common::at("10:40", 0), "patient": {"ref": "p"}},
        ]),
    )
    .await;
    let sup = app.supervisor_token().await;
    let id = app.cases(&sup, "rule=handover.delay").await[0]["id"]
        .as_i64()
        .expect("id");
    let (status, _) = app
        .post_json(
            &format!("/api/v1/cases/{id}/actions"),
            Some(&sup),
            &serde_json::json!({"action": "forward", "note": "请说明延误原因"}),
        )
        .await;
    assert_eq!(status, 200);
    app.hospital_user_token("yiwu@bj-cy.example.cn", "BJ-CY")
        .await;
    let r = run_script(
        "hospital.mjs",
        vec![
            app.address.clone(),
            "yiwu@bj-cy.example.cn".into(),
            "a long enough password".into(),
        ],
    )
    .await;
    assert!(
        r["after_login"]
            .as_str()
            .unwrap_or("")
            .contains("/hospital"),
        "{r}"
    );
    assert_eq!(r["rows"], 1, "{r}");
    assert!(
        r["case_url"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("/hospital/cases/{id}")),
        "{r}"
    );
    assert_eq!(r["status_before"], "已转办");
    assert!(!r["reply_due"].as_str().unwrap_or("").is_empty(), "{r}");
    assert_eq!(r["status_after"], "医院已答复");
    assert_eq!(r["reply_form_after"], 0, "nothing more to answer: {r}");
    let history = r["history"].as_str().unwrap_or("");
    assert!(
        history.contains("【申辩】当时抢救室满员") && history.contains("yiwu@bj-cy.example.cn"),
        "{history}"
    );
    // The inspector's view changed with it.
    let (_, case) = app.get(&format!("/api/v1/cases/{id}"), Some(&sup)).await;
    assert_eq!(case["status"], "replied");
}

#[actix_web::test]
async fn an_operator_takes_a_call_forwards_it_the_hospital_answers_and_the_callback_closes_it() {
    if !browser_available() {
        eprintln!("skipped: install chromium and run `npm ci` in tests/browser (as .ci/run does)");
        return;
    }
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    app.staff_token("op1@12320.example.cn", "operator", None)
        .await;
    app.hospital_user_token("yiwu@bj-cy.example.cn", "BJ-CY")
        .await;
    let r = run_script(
        "desk.mjs",
        vec![
            app.address.clone(),
            "op1@12320.example.cn".into(),
            "yiwu@bj-cy.example.cn".into(),
            "a long enough password".into(),
        ],
    )
    .await;
    let text = |k: &str| r[k].as_str().unwrap_or("").to_string();
    assert!(text("operator_landing").contains("/desk"), "{r}");
    assert_eq!(r["focused"], "hospital", "{r}");
    assert!(text("filed").contains("已登记"), "{r}");
    assert_eq!(r["still_to_forward"], 0, "{r}");
    assert!(text("hospital_landing").contains("/hospital"), "{r}");
    assert_eq!(r["hospital_status_before"], "已转交医院办理", "{r}");
    let page = text("hospital_page");
    assert!(
        !page.contains("13800138000") && !page.contains("王先生") && !page.contains("8000"),
        "the hospital saw the caller's contact"
    );
    let code = text("code");
    assert!(
        r["inbox_has_code"] == false && !page.contains(&code),
        "the hospital saw the tracking code {code}"
    );
    assert_eq!(r["hospital_status_after"], "医院已答复，待回访", "{r}");
    assert_eq!(r["callback_rows"], 1, "{r}");
    assert!(text("callback_answer").contains("交接登记延误"), "{r}");
    assert_eq!(r["callbacks_after"], 0, "{r}");
    let code = text("code").replace('-', "");
    let (_, public) = app.get(&format!("/api/v1/complaints/{code}"), None).await;
    assert_eq!(public["status"], "closed", "{public}");
}

#[actix_web::test]
async fn an_operator_reads_the_three_rates_by_district_and_by_hospital_and_prints_the_bulletin() {
    if !browser_available() {
        eprintln!("skipped: install chromium and run `npm ci` in tests/browser (as .ci/run does)");
        return;
    }
    let app = crate::reports::scripted().await;
    let r = run_script(
        "reports.mjs",
        vec![
            app.address.clone(),
            crate::reports::OPERATOR.into(),
            "a long enough password".into(),
            "2022-10-10".into(),
            "2022-10-16".into(),
        ],
    )
    .await;
    assert_eq!(r["heading"], "投诉办理三率通报", "{r}");
    assert!(
        r["url_by_district"]
            .as_str()
            .unwrap_or("")
            .contains("by=district"),
        "{r}"
    );
    // Rank, district, filed, response rate (in time / due), ...: as counted by hand in
    // reports.rs.
    assert_eq!(r["by_district"][0][1], "海淀区", "{r}");
    assert_eq!(r["by_district"][0][3], "66.7% (2/3)", "{r}");
    assert_eq!(r["by_district"][1][1], "朝阳区", "{r}");
    assert_eq!(r["by_district"][2][1], "未登记的医院", "{r}");
    assert_eq!(r["by_hospital"][0][1], "BJ-HD 医院", "{r}");
    assert_eq!(r["by_hospital"][0][9], "88.9%", "{r}");
    assert_eq!(r["total"][3], "7", "{r}");
    assert_eq!(r["charts"], 1, "{r}");
    assert!(
        r["csv_href"]
            .as_str()
            .unwrap_or("")
            .contains("from=2022-10-10&until=2022-10-16&by=hospital"),
        "{r}"
    );
    assert_eq!(r["bulletin_h1"], "12320 投诉办理情况通报", "{r}");
    assert!(
        r["bulletin_text"]
            .as_str()
            .unwrap_or("")
            .contains("本期共受理投诉 7 件"),
        "{r}"
    );
    assert_eq!(r["nav_in_print"], "none", "{r}");
    assert!(r["pdf_pages"].as_u64().unwrap_or(0) >= 1, "{r}");
    // A4 is 595 × 842 points (210 × 297 mm).
    let size: Vec<f64> = r["pdf_media_box"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_f64())
        .collect();
    assert!(
        size.len() == 4 && (size[2] - 595.0).abs() < 1.5 && (size[3] - 842.0).abs() < 1.5,
        "the bulletin prints on A4: {r}"
    );
}

#[actix_web::test]
async fn an_inspector_reads_a_centres_day_and_an_ambulances_two_clocks() {
    if !browser_available() {
        eprintln!("skipped: install chromium and run `npm ci` in tests/browser (as .ci/run does)");
        return;
    }
    let app = TestApp::spawn().await;
    let hospital = app.hospital_token("DD-1").await;
    let centre = app.centre_token("DD-120").await;
    let sup = app.supervisor_token().await;
    let t = |hh_mm_ss: &str| format!("2022-07-01T{hh_mm_ss}+08:00");
    let (status, body) = app
        .post_json(
            "/api/v1/dispatch-events",
            Some(&centre),
            &serde_json::json!([
                {"event_id": "r1", "type": "call_received", "call_id": "C-1", "occurred_at": t("10:00:00")},
                {"event_id": "a1", "type": "call_answered", "call_id": "C-1", "acuity": "urgent", "occurred_at": t("10:00:04")},
                {"event_id": "d1", "type": "dispatched", "call_id": "C-1", "occurred_at": t("10:01:00")},
                {"event_id": "h1", "type": "at_hospital", "call_id": "C-1", "hospital": "DD-1",
                 "patient": {"id_number": "210602198001010011"}, "occurred_at": t("10:20:00")},
                {"event_id": "r2", "type": "call_received", "call_id": "C-2", "occurred_at": t("11:00:00")},
                {"event_id": "a2", "type": "call_answered", "call_id": "C-2", "acuity": "routine", "occurred_at": t("11:00:25")}
            ]),
        )
        .await;
    assert_eq!(
        (status, &body["rejected"]),
        (200, &serde_json::json!([])),
        "{body}"
    );
    app.post_events(
        &hospital,
        serde_json::json!([
            {"event_id": "x1", "type": "arrival", "occurred_at": t("10:40:00"), "acuity": "urgent",
             "arrived_by": "ambulance", "patient": {"id_number": "210602198001010011"}},
            {"event_id": "x2", "type": "handover", "occurred_at": t("10:42:00"),
             "patient": {"id_number": "210602198001010011"}}
        ]),
    )
    .await;
    let handover = app.cases(&sup, "rule=handover.delay").await;
    assert_eq!(handover.len(), 1, "{handover:?}");
    let r = run_script(
        "dispatch.mjs",
        vec![
            app.address.clone(),
            "supervisor@wjw.example.cn".into(),
            "a long enough password".into(),
            "DD-120".into(),
            handover[0]["id"].to_string(),
        ],
    )
    .await;
    // The queue names the centre where a hospital's case names the hospital.
    assert!(
        r["queue"][0][4]
            .as_str()
            .unwrap_or("")
            .starts_with("DD-120"),
        "{r}"
    );
    assert_eq!(r["centre"], "DD-120 DD-120 急救中心", "{r}");
    // Calls, within 10 s, the share, within 60 s, abandoned, the answer rate.
    let figures: Vec<&str> = r["figures"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| row[1].as_str())
        .collect();
    assert_eq!(figures[..2], ["2", "1"], "{r}");
    assert!(figures[2].starts_with("50.0 %"), "{r}");
    assert_eq!(figures[3..], ["2", "0", "100.0 %"], "{r}");
    assert_eq!(r["late"], "C-2", "{r}");
    assert_eq!(r["figures_en"][0][0], "Calls received", "{r}");
    // The ambulance at the door at 10:20, the hospital's log at 10:40: side by side.
    assert_eq!(
        r["clocks"][0],
        serde_json::json!(["120 急救中心", "2022-07-01 10:20", "未记录"]),
        "{r}"
    );
    assert_eq!(
        r["clocks"][1],
        serde_json::json!(["医院", "2022-07-01 10:40", "2022-07-01 10:42"]),
        "{r}"
    );
    assert_eq!(r["clocks_en"][0][2], "not logged", "{r}");
    // The board: 2 calls, half within 10 s, all answered.
    assert_eq!(r["board"][0][0], "DD-120 急救中心", "{r}");
}

#[actix_web::test]
async fn an_inspector_reads_a_transport_request_passed_over_and_the_districts_board() {
    if !browser_available() {
        eprintln!("skipped: install chromium and run `npm ci` in tests/browser (as .ci/run does)");
        return;
    }
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    let desk = app.desk_token("CY-SQ1").await;
    let t = |hh_mm: &str| format!("2022-07-01T{hh_mm}:00+08:00");
    let (status, body) = app
        .post_json(
            "/api/v1/transport-events",
            Some(&desk),
            &serde_json::json!([
                {"event_id": "s1", "type": "request", "request_id": "S-1", "occurred_at": t("08:00"),
                 "patient": {"ref": "r-1"}, "purpose": "dialysis", "to_hospital": "BJ-CY"},
                {"event_id": "s2", "type": "dispatched", "request_id": "S-1", "occurred_at": t("09:00")},
                {"event_id": "s3", "type": "picked_up", "request_id": "S-1", "occurred_at": t("09:20")},
                {"event_id": "o1", "type": "request", "request_id": "O-1", "occurred_at": t("08:10"),
                 "patient": {"ref": "r-2"}, "purpose": "other", "to_hospital": "BJ-CY"},
                {"event_id": "o2", "type": "dispatched", "request_id": "O-1", "occurred_at": t("08:20")}
            ]),
        )
        .await;
    assert_eq!(
        (status, &body["rejected"]),
        (200, &serde_json::json!([])),
        "{body}"
    );
    app.supervisor_token().await;
    let r = run_script(
        "transport.mjs",
        vec![
            app.address.clone(),
            "supervisor@wjw.example.cn".into(),
            "a long enough password".into(),
            "CY-SQ1".into(),
        ],
    )
    .await;
    // The queue names the desk where a hospital's case names the hospital.
    assert!(
        r["queue"][0][4]
            .as_str()
            .unwrap_or("")
            .starts_with("CY-SQ1"),
        "{r}"
    );
    assert_eq!(r["desk"], "CY-SQ1 CY-SQ1 社区", "{r}");
    // Requested, dispatched, picked up; not yet at hospital nor back.
    assert_eq!(
        r["transport"],
        serde_json::json!([
            ["社区用车申请", "2022-07-01 08:00"],
            ["社区派车", "2022-07-01 09:00"],
            ["接到居民", "2022-07-01 09:20"],
            ["送达医院", "未记录"],
            ["送回社区", "未记录"]
        ]),
        "{r}"
    );
    assert_eq!(
        r["passed_over_by"][1],
        serde_json::json!(["社区派车", "2022-07-01 08:20"]),
        "{r}"
    );
    assert_eq!(r["transport_en"][0][0], "Transport requested", "{r}");
    // The board's district row: the desk's requests of 2022 are older than 30 days.
    let row = r["districts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|row| row[0] == "朝阳区")
        .cloned()
        .unwrap_or_default();
    assert_eq!(row[1], "0", "{r}");
}
