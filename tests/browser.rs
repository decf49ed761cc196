//! The complaint form in a real browser (headless Chromium driven by playwright-core, both
//! installed by `.ci/run`): fill, fail validation, correct, submit, land on the tracking page,
//! in Chinese and in English, without JavaScript.

mod common;

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

#[actix_web::test]
async fn a_citizen_files_a_complaint_in_chinese_and_in_english() {
    if !browser_available() {
        eprintln!("skipped: install chromium and run `npm ci` in tests/browser (as .ci/run does)");
        return;
    }
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/complaint.mjs");
    let address = app.address.clone();
    let out = actix_web::rt::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .arg(address)
            .env("SCREENSHOT_DIR", std::env::temp_dir())
            .output()
    })
    .await
    .expect("join")
    .expect("node");
    assert!(
        out.status.success(),
        "browser script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("report");
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
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/dashboard.mjs");
    let address = app.address.clone();
    let out = actix_web::rt::task::spawn_blocking(move || {
        Command::new("node")
            .args([
                script,
                &address,
                "inspector@wjw.example.cn",
                "a long enough password",
            ])
            .output()
    })
    .await
    .expect("join")
    .expect("node");
    assert!(
        out.status.success(),
        "browser script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("report");
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
