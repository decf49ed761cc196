//! Escalation emails with a real SMTP server (aiosmtpd): delivery and content, the server down
//! then up, two instances on one PostgreSQL, the `.eml` fallback, triggers and dead letters.

use crate::common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use common::{TestApp, at};
use serde_json::{Value, json};
use shouzhen_store::outbox;

/// A real SMTP server keeping what it receives in a Maildir.
struct SmtpSink {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl SmtpSink {
    /// A sink on a port that nothing listens on yet.
    fn down() -> Self {
        Self {
            port: free_port(),
            dir: tempfile::tempdir().expect("tempdir"),
            child: None,
        }
    }

    fn up() -> Self {
        let mut s = Self::down();
        s.start();
        s
    }

    fn start(&mut self) {
        let child = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{}", self.port),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(self.dir.path().join("maildir"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn messages(&self) -> Vec<Value> {
        let maildir = self.dir.path().join("maildir");
        if !maildir.exists() {
            return Vec::new();
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/maildir_json.py");
        let out = Command::new("python3")
            .arg(script)
            .arg(&maildir)
            .output()
            .expect("maildir_json");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("json")
    }

    /// Waits until `n` messages arrived (at most 30 s), then returns them.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let m = self.messages();
            if m.len() >= n || Instant::now() > deadline {
                return m;
            }
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// [`Self::wait_for`] after the server was down: emails that failed meanwhile wait out a
    /// backoff that doubles with each attempt, so this waits at least 30 s, and until 30 s
    /// after the last retry that `app`'s outbox still has scheduled (on a loaded machine the
    /// emails may have failed often before the server came up).
    async fn wait_for_retried(&self, app: &TestApp, n: usize) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let m = self.messages();
            let last_retry = outbox_rows(app)
                .await
                .iter()
                .filter(|r| r.status == "pending")
                .map(|r| r.next_attempt_at)
                .max();
            let waited_out = last_retry
                .is_none_or(|t| Utc::now().naive_utc() > t + chrono::Duration::seconds(30));
            if m.len() >= n || (started.elapsed() > Duration::from_secs(30) && waited_out) {
                return m;
            }
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

const ID_NUMBER: &str = "21010219850307123X";

/// Posts a critical patient refused over a health code: a high-severity case.
async fn refuse(app: &TestApp, token: &str, n: usize) {
    let p = format!("{ID_NUMBER}{n}");
    app.post_events(
        token,
        json!([
            {"event_id": format!("a{n}"), "type": "arrival", "occurred_at": at("10:00", n as i64), "patient": {"id_number": p},
             "acuity": "critical", "arrived_by": "walk_in", "test_status": "negative_48h"},
            {"event_id": format!("r{n}"), "type": "refusal", "occurred_at": at("10:05", n as i64), "patient": {"id_number": p},
             "reasons": ["health_code"]},
        ]),
    )
    .await;
}

async fn outbox_rows(app: &TestApp) -> Vec<outbox::Email> {
    app.state
        .db(|conn| Ok(outbox::all(conn)?))
        .await
        .expect("outbox")
}

fn mail_app(smtp: Option<&SmtpSink>) -> common::Builder {
    let mut b = TestApp::builder()
        .var("SHOUZHEN_ESCALATION_TO", "wjw@health.example.cn")
        .var("SHOUZHEN_OUTBOX_INTERVAL", "1")
        .var("SHOUZHEN_SMTP_RETRY_BASE", "1")
        .var("SHOUZHEN_PUBLIC_URL", "https://shouzhen.example.cn");
    if let Some(s) = smtp {
        b = b.var("SHOUZHEN_SMTP_URL", &s.url());
    }
    b
}

#[actix_web::test]
async fn a_high_severity_case_is_emailed_with_its_rule_source_and_link_and_no_patient_identifier() {
    let smtp = SmtpSink::up();
    let app = mail_app(Some(&smtp)).spawn().await;
    let h = app.hospital_token("BJ-CY").await;
    refuse(&app, &h, 1).await;
    // refusal.prohibited_reason and first_diagnosis.shirked: both high.
    let msgs = smtp.wait_for(2).await;
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    let m = msgs
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .unwrap_or("")
                .contains("refusal.prohibited_reason")
        })
        .expect("the refusal email");
    let subject = m["subject"].as_str().unwrap_or("");
    assert!(
        subject.starts_with("[高]") && subject.contains("BJ-CY 医院"),
        "{subject}"
    );
    assert_eq!(m["to"], "wjw@health.example.cn");
    let text = m["text"].as_str().expect("a text part");
    let html = m["html"].as_str().expect("an HTML part");
    let insp = app.supervisor_token().await;
    let case = &app.cases(&insp, "rule=refusal.prohibited_reason").await[0];
    let link = format!("https://shouzhen.example.cn/cases/{}", case["id"]);
    for body in [text, html] {
        assert!(
            body.contains("以健康码、核酸或症状为由拒收急危重症患者"),
            "rule in plain words"
        );
        assert!(
            body.contains("004, 001") && body.contains("健康码或行程码异常"),
            "policy source"
        );
        assert!(body.contains("朝阳区"), "district");
        assert!(body.contains(&link), "link to the case");
        assert!(
            !body.contains(ID_NUMBER) && !body.contains(&ID_NUMBER[..12]),
            "a patient identifier in the email"
        );
    }
    assert!(
        text.contains("拒收") && text.contains("到院"),
        "evidence summary: {text}"
    );
    // The Message-ID is the outbox row's, and the row is marked sent once.
    let rows = outbox_rows(&app).await;
    let row = rows.iter().find(|r| r.subject == subject).expect("row");
    assert_eq!(m["message_id"], row.message_id);
    assert_eq!((row.status.as_str(), row.attempts), ("sent", 1));
}

#[actix_web::test]
async fn the_server_down_then_up_every_email_arrives_once() {
    let mut smtp = SmtpSink::down();
    let app = mail_app(Some(&smtp)).spawn().await;
    let h = app.hospital_token("BJ-CY").await;
    for n in 0..4 {
        refuse(&app, &h, n).await;
    }
    // Wait until every email failed at least once.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = outbox_rows(&app).await;
        if rows.len() == 8
            && rows
                .iter()
                .all(|r| r.attempts >= 1 && r.status == "pending" && r.last_error.is_some())
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "emails were not tried: {:?}",
            rows.iter()
                .map(|r| (&r.status, r.attempts))
                .collect::<Vec<_>>()
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    smtp.start();
    let msgs = smtp.wait_for_retried(&app, 8).await;
    // A little longer: nothing arrives twice.
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    let msgs_after = smtp.messages();
    assert_eq!(msgs.len(), 8);
    assert_eq!(msgs_after.len(), 8, "an email arrived twice");
    let mut ids: Vec<&str> = msgs_after
        .iter()
        .map(|m| m["message_id"].as_str().unwrap_or(""))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8);
    assert!(outbox_rows(&app).await.iter().all(|r| r.status == "sent"));
}

#[actix_web::test]
async fn two_instances_on_one_postgresql_send_each_email_once() {
    if !common::is_postgres() {
        eprintln!(
            "runs with SHOUZHEN_TEST_DATABASE_URL=postgres://... (one SQLite file serves one instance)"
        );
        return;
    }
    let mut smtp = SmtpSink::down();
    let a = mail_app(Some(&smtp)).spawn().await;
    let b = mail_app(Some(&smtp)).database_of(&a).spawn().await;
    let h = a.hospital_token("BJ-CY").await;
    for n in 0..15 {
        refuse(&a, &h, n).await;
    }
    assert_eq!(
        outbox_rows(&b).await.len(),
        30,
        "both instances see one outbox"
    );
    smtp.start();
    let msgs = smtp.wait_for_retried(&a, 30).await;
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    let msgs = if smtp.messages().len() > msgs.len() {
        smtp.messages()
    } else {
        msgs
    };
    assert_eq!(msgs.len(), 30, "each email exactly once");
    let mut ids: Vec<&str> = msgs
        .iter()
        .map(|m| m["message_id"].as_str().unwrap_or(""))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 30);
}

#[actix_web::test]
async fn without_smtp_emails_are_written_as_eml_files() {
    let app = mail_app(None).spawn().await;
    let h = app.hospital_token("BJ-CY").await;
    refuse(&app, &h, 1).await;
    let dir = app.dir.path().join("mail");
    let deadline = Instant::now() + Duration::from_secs(20);
    let files = loop {
        let files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        if files.len() >= 2 || Instant::now() > deadline {
            break files;
        }
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(files.len(), 2, "{files:?}");
    let rows = outbox_rows(&app).await;
    for f in &files {
        let text = std::fs::read_to_string(f).expect("eml");
        assert!(
            rows.iter().any(|r| text.contains(&r.message_id)),
            "the row's Message-ID"
        );
        assert!(text.contains("wjw@health.example.cn"));
        assert!(!text.contains(ID_NUMBER));
    }
}

#[actix_web::test]
async fn without_recipients_emails_are_only_recorded() {
    let app = TestApp::builder()
        .var("SHOUZHEN_OUTBOX_INTERVAL", "1")
        .spawn()
        .await;
    let h = app.hospital_token("BJ-CY").await;
    refuse(&app, &h, 1).await;
    actix_web::rt::time::sleep(Duration::from_secs(2)).await;
    let rows = outbox_rows(&app).await;
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r.status == "recorded" && r.attempts == 0)
    );
}

#[actix_web::test]
async fn escalate_emails_any_case_and_an_unacknowledged_high_case_goes_to_the_supervisors() {
    let app = mail_app(None)
        .var("SHOUZHEN_OUTBOX_INTERVAL", "300")
        .spawn()
        .await;
    let h = app.hospital_token("BJ-CY").await;
    let sup = app.supervisor_token().await;
    let insp = app.inspector_token().await;
    // A medium case (late handover) is not emailed when it opens...
    app.post_events(
        &h,
        json!([{"event_id": "a1", "type": "arrival", "occurred_at": at("10:00", 0), "patient": {"ref": "p1"}, "acuity": "urgent", "arrived_by": "ambulance"},
               {"event_id": "h1", "type": "handover", "occurred_at": at("10:30", 0), "patient": {"ref": "p1"}}]),
    )
    .await;
    assert!(outbox_rows(&app).await.is_empty());
    let id = app.cases(&insp, "rule=handover.delay").await[0]["id"]
        .as_i64()
        .expect("id");
    // ...but is when an inspector escalates it; the note's phone number is masked.
    let (status, body) = app
        .post_json(
            &format!("/api/v1/cases/{id}/actions"),
            Some(&insp),
            &json!({"action": "escalate", "note": "家属来电 13800138000 反映等候过久"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "escalated");
    let rows = outbox_rows(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, "case_escalated");
    assert!(rows[0].body_text.contains("等候过久") && !rows[0].body_text.contains("13800138000"));

    // A high case nobody acknowledges: after 30 minutes the supervisors are emailed, once.
    refuse(&app, &h, 2).await;
    let now = Utc::now();
    app.sweep_at(now + chrono::Duration::minutes(29)).await;
    let reminders = |rows: &[outbox::Email]| {
        rows.iter()
            .filter(|r| r.kind == "case_unacknowledged")
            .count()
    };
    assert_eq!(reminders(&outbox_rows(&app).await), 0);
    // One of the two high cases is acknowledged in time.
    let high = app.cases(&sup, "severity=high").await;
    assert_eq!(high.len(), 2);
    let (status, _) = app
        .post_json(
            &format!("/api/v1/cases/{}/actions", high[0]["id"]),
            Some(&sup),
            &json!({"action": "acknowledge", "note": "已受理"}),
        )
        .await;
    assert_eq!(status, 200);
    app.sweep_at(now + chrono::Duration::minutes(31)).await;
    app.sweep_at(now + chrono::Duration::minutes(45)).await;
    let rows = outbox_rows(&app).await;
    assert_eq!(reminders(&rows), 1);
    let reminder = rows
        .iter()
        .find(|r| r.kind == "case_unacknowledged")
        .expect("reminder");
    assert_eq!(reminder.recipients, "supervisor@wjw.example.cn");
    assert!(reminder.body_text.contains("超时无人受理"));
}

#[actix_web::test]
async fn a_failing_email_becomes_a_dead_letter_shown_in_metrics() {
    let smtp = SmtpSink::down();
    let app = mail_app(Some(&smtp))
        .var("SHOUZHEN_SMTP_MAX_ATTEMPTS", "2")
        .spawn()
        .await;
    let h = app.hospital_token("BJ-CY").await;
    refuse(&app, &h, 1).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = outbox_rows(&app).await;
        if rows.len() == 2 && rows.iter().all(|r| r.status == "dead") {
            assert!(rows.iter().all(|r| r.attempts == 2));
            break;
        }
        assert!(Instant::now() < deadline, "no dead letters");
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    }
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    let (_, metrics) = app.get_text("/metrics").await;
    assert!(
        metrics.contains("shouzhen_outbox_emails{status=\"dead\"} 2"),
        "{metrics}"
    );
}

#[actix_web::test]
async fn the_daily_digest_goes_once_per_district_and_day_and_hostile_text_is_escaped() {
    let app = mail_app(None)
        .var("SHOUZHEN_OUTBOX_INTERVAL", "300")
        .spawn()
        .await;
    let h = app.hospital_token("BJ-CY").await;
    // A medium case whose summary carries the hospital's event id, hostile on purpose.
    app.post_events(
        &h,
        json!([{"event_id": "<script>alert(1)</script>", "type": "arrival", "occurred_at": at("10:00", 0), "patient": {"ref": "p1"}, "acuity": "urgent", "arrived_by": "ambulance"}]),
    )
    .await;
    let (state, notifier) = (app.state.clone(), app.state.notifier.clone());
    let run = move |hour: u32| {
        let notifier = notifier.clone();
        let state = state.clone();
        async move {
            state
                .db(move |conn| {
                    Ok(shouzhen_app::notify::daily_digest(
                        conn,
                        &notifier,
                        hour,
                        shouzhen_store::now(),
                    )?)
                })
                .await
                .expect("digest")
        }
    };
    assert_eq!(run(0).await, 1);
    assert_eq!(run(0).await, 1, "the district has a digest to write");
    let rows = outbox_rows(&app).await;
    let digests: Vec<_> = rows.iter().filter(|r| r.kind == "digest").collect();
    assert_eq!(digests.len(), 1, "written once per district and day");
    assert!(digests[0].subject.contains("朝阳区"));
    assert!(
        digests[0].body_html.contains("&lt;script&gt;")
            && !digests[0].body_html.contains("<script>")
    );
    assert!(
        digests[0].body_text.contains("<script>"),
        "plain text is not HTML-escaped"
    );
}

#[actix_web::test]
async fn the_hospital_receives_its_forwarded_case_over_smtp_once_with_its_deadline() {
    let smtp = SmtpSink::up();
    let app = mail_app(Some(&smtp)).spawn().await;
    let h = app.hospital_token("BJ-CY").await;
    app.post_events(
        &h,
        json!([{"event_id": "a1", "type": "arrival", "occurred_at": at("10:00", 0), "patient": {"id_number": ID_NUMBER}, "acuity": "urgent", "arrived_by": "ambulance"},
               {"event_id": "h1", "type": "handover", "occurred_at": at("10:40", 0), "patient": {"id_number": ID_NUMBER}}]),
    )
    .await;
    let sup = app.supervisor_token().await;
    let id = app.cases(&sup, "rule=handover.delay").await[0]["id"]
        .as_i64()
        .expect("id");
    let before = smtp.messages().len();
    let (status, body) = app
        .post_json(
            &format!("/api/v1/cases/{id}/actions"),
            Some(&sup),
            &json!({"action": "forward", "note": "请说明延误原因"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let msgs = smtp.wait_for(before + 1).await;
    let to_hospital: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["to"] == "yiwu@bj-cy.example.cn")
        .collect();
    assert_eq!(to_hospital.len(), 1, "{msgs:?}");
    let text = to_hospital[0]["text"].as_str().expect("a text part");
    assert!(text.contains("转办") && text.contains("办理时限"), "{text}");
    assert!(
        text.contains(&format!("https://shouzhen.example.cn/hospital/cases/{id}")),
        "{text}"
    );
    assert!(
        !text.contains(ID_NUMBER) && !text.contains(&ID_NUMBER[..12]),
        "{text}"
    );
    // Another pass of the worker sends nothing again.
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    let again = smtp
        .messages()
        .into_iter()
        .filter(|m| m["to"] == "yiwu@bj-cy.example.cn")
        .count();
    assert_eq!(again, 1);
}

#[actix_web::test]
async fn a_forwarded_and_a_reopened_complaint_reach_the_hospital_and_the_supervisors_once() {
    let smtp = SmtpSink::up();
    let app = mail_app(Some(&smtp)).spawn().await;
    app.add_hospital("BJ-CY").await;
    let sup = app.supervisor_token().await;
    let operator = app
        .staff_token("op1@12320.example.cn", "operator", None)
        .await;
    let hospital = app
        .hospital_user_token("staff@bj-cy.example.cn", "BJ-CY")
        .await;
    let (status, filed) = app
        .post_json(
            "/api/v1/complaints",
            Some(&operator),
            &json!({"hospital": "BJ-CY", "category": "handover_delay", "occurred_at": "2026-11-20T10:30",
                    "description": format!("来电反映：病人（身份证 {ID_NUMBER}）在救护车上等了四十分钟"),
                    "contact_phone": "13800138000", "contact_name": "王先生", "external_ref": "12320-MAIL-1"}),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let (_, queue) = app.get("/api/v1/complaints", Some(&sup)).await;
    let id = queue[0]["id"].as_i64().expect("id");
    let act = |token: String, body: Value| {
        let app = &app;
        async move {
            let (status, body) = app
                .post_json(
                    &format!("/api/v1/complaints/{id}/actions"),
                    Some(&token),
                    &body,
                )
                .await;
            assert_eq!(status, 204, "{body}");
        }
    };
    let before = smtp.messages().len();
    act(operator.clone(), json!({"action": "forward"})).await;
    let msgs = smtp.wait_for(before + 1).await;
    let to_hospital: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["to"] == "yiwu@bj-cy.example.cn")
        .collect();
    assert_eq!(to_hospital.len(), 1, "{msgs:?}");
    let text = to_hospital[0]["text"].as_str().expect("a text part");
    assert!(
        text.contains("12320 转办投诉") && text.contains("答复期限"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "https://shouzhen.example.cn/hospital/complaints/{id}"
        )),
        "{text}"
    );
    // Named by number, never by the complainant's tracking code (with it, the hospital could
    // rate its own answer).
    let code = filed["tracking_code"].as_str().expect("code");
    let subject = to_hospital[0]["subject"].as_str().unwrap_or_default();
    assert!(
        text.contains(&format!("#{id}")) && !text.contains(code) && !subject.contains(code),
        "{subject}\n{text}"
    );
    act(
        hospital.clone(),
        json!({"action": "answer", "note": "已整改"}),
    )
    .await;
    act(
        operator.clone(),
        json!({"action": "callback", "resolved": false, "satisfaction": "unsatisfied", "note": "来电人不认可"}),
    )
    .await;
    let msgs = smtp.wait_for(before + 3).await;
    let to_supervisor: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["to"] == "supervisor@wjw.example.cn")
        .collect();
    assert_eq!(to_supervisor.len(), 1, "{msgs:?}");
    let text = to_supervisor[0]["text"].as_str().expect("a text part");
    assert!(
        text.contains("已重新转办医院") && text.contains("来电人不认可"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "https://shouzhen.example.cn/inspect/complaints/{id}"
        )),
        "{text}"
    );
    let again: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["to"] == "yiwu@bj-cy.example.cn")
        .collect();
    assert_eq!(again.len(), 2, "forwarded, then forwarded again: {msgs:?}");
    // The order the sink stores them in is not the order sent.
    assert!(
        again.iter().any(|m| m["text"]
            .as_str()
            .unwrap_or("")
            .contains("回访不满意，投诉重新转办")),
        "{again:?}"
    );
    for m in &msgs {
        let all = m.to_string();
        for secret in [ID_NUMBER, &ID_NUMBER[..12], "13800138000", "王先生"] {
            assert!(!all.contains(secret), "{secret} in {all}");
        }
    }
    // Another pass of the worker sends nothing again.
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(smtp.messages().len(), msgs.len());
}
