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
