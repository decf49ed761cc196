//! The record holds up: the hash chains reveal rows changed, deleted or inserted behind the
//! service's back; a `kill -9` loses nothing acknowledged and leaves no half-written request;
//! no identity number or complainant contact is in clear on disk or in the log; a complainant's
//! data request is answered; every response carries the security headers.

use crate::common;

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_shouzhen");

/// The binary, against a database, with the test key.
fn shouzhen(url: &str, dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SHOUZHEN_DATABASE_URL", url)
        .env("SHOUZHEN_SECRET_KEY", common::SECRET_KEY)
        .env("SHOUZHEN_LOG", "warn");
    c
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn verify(app: &common::TestApp) -> Output {
    shouzhen(&app.database_url, app.dir.path())
        .args(["audit", "verify"])
        .output()
        .expect("run audit verify")
}

/// `audit verify` succeeds and finds `events` intake events, every chain intact.
fn assert_intact(app: &common::TestApp, events: usize) {
    let out = verify(app);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains(&format!("ok: {events} intake events")),
        "{}",
        text(&out.stdout)
    );
}

/// A hospital's day: a critical patient refused over a health code (a high case with its
/// history) and five routine walk-ins. Returns the app and the hospital token.
async fn seeded() -> (common::TestApp, String) {
    let app = common::TestApp::spawn().await;
    let token = app.hospital_token("BJ-1").await;
    let mut events = vec![
        json!({"event_id": "a-1", "type": "arrival", "occurred_at": common::at("10:00", 0),
               "patient": {"id_number": "110105199003071234"}, "acuity": "critical",
               "arrived_by": "walk_in", "health_code": "yellow"}),
        json!({"event_id": "r-1", "type": "refusal", "occurred_at": common::at("10:05", 0),
               "patient": {"id_number": "110105199003071234"}, "reasons": ["health_code"]}),
    ];
    for i in 0..5 {
        events.push(json!({"event_id": format!("w-{i}"), "type": "arrival",
            "occurred_at": common::at("11:00", i * 60), "patient": {"ref": format!("p-{i}")},
            "acuity": "routine", "arrived_by": "walk_in"}));
    }
    let report = app.post_events(&token, json!(events)).await;
    assert_eq!(report["accepted"], 7, "{report}");
    // A second request continues the hospital's chain.
    let report = app
        .post_events(
            &token,
            json!({"event_id": "w-9", "type": "arrival", "occurred_at": common::at("12:00", 0),
                   "patient": {"ref": "p-9"}, "acuity": "routine", "arrived_by": "walk_in"}),
        )
        .await;
    assert_eq!(report["accepted"], 1);
    (app, token)
}

/// The row id of a hospital's event.
async fn row_id(app: &common::TestApp, event_id: &'static str) -> i64 {
    app.state
        .db(move |conn| {
            use diesel::prelude::*;
            use shouzhen_store::schema::intake_events as e;
            Ok(e::table
                .filter(e::event_id.eq(event_id))
                .select(e::id)
                .first::<i64>(conn)?)
        })
        .await
        .expect("row id")
}

#[actix_web::test]
async fn an_untouched_record_verifies_and_prints_its_chain_heads() {
    let (app, _) = seeded().await;
    let out = verify(&app);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("ok: 8 intake events and"), "{stdout}");
    assert!(stdout.contains("head BJ-1: "), "{stdout}");
    assert!(stdout.contains("head case actions: "), "{stdout}");
}

#[actix_web::test]
async fn an_event_changed_behind_the_services_back_is_reported() {
    let (app, _) = seeded().await;
    let id = row_id(&app, "a-1").await;
    // The critical patient becomes routine: the refusal would no longer be a violation.
    app.run_sql("UPDATE intake_events SET payload = replace(payload, 'critical', 'routine') WHERE event_id = 'a-1'")
    .await;
    let out = verify(&app);
    let stdout = text(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains(&format!(
            "BROKEN intake_events row {id} (BJ-1): its content was changed"
        )),
        "{stdout}"
    );
    assert!(text(&out.stderr).contains("1 chain(s) broken"));
}

#[actix_web::test]
async fn a_deleted_event_is_reported_at_the_row_after_it() {
    let (app, _) = seeded().await;
    let next = row_id(&app, "w-3").await;
    app.run_sql("DELETE FROM intake_events WHERE event_id = 'w-2'")
        .await;
    let out = verify(&app);
    let stdout = text(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains(&format!(
            "BROKEN intake_events row {next} (BJ-1): the row before it in the chain was deleted"
        )),
        "{stdout}"
    );
}

#[actix_web::test]
async fn events_deleted_from_the_end_of_a_chain_are_reported() {
    let (app, _) = seeded().await;
    // The hospital's last event, stored by the second request: no row after it would break.
    app.run_sql("DELETE FROM intake_events WHERE event_id = 'w-9'")
        .await;
    let hospital_id = app
        .state
        .db(|conn| {
            use diesel::prelude::*;
            use shouzhen_store::schema::hospitals as h;
            Ok(h::table
                .filter(h::code.eq("BJ-1"))
                .select(h::id)
                .first::<i64>(conn)?)
        })
        .await
        .expect("hospital id");
    let out = verify(&app);
    let stdout = text(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "BROKEN hospitals row {hospital_id} (BJ-1): its chain does not reach the head noted with the hospital: events were deleted from the end of the chain"
        )),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("1 chain(s) broken among 7 intake events"),
        "{}",
        text(&out.stderr)
    );
}

#[actix_web::test]
async fn events_stored_while_verify_runs_are_no_break() {
    let (app, _) = seeded().await;
    // What a verify reading the head before the second request's commit (and that request's
    // event on a later page) sees: the chain passes its head and goes on.
    app.run_sql(
        "UPDATE hospitals SET event_chain_head = \
         (SELECT chain_hash FROM intake_events WHERE event_id = 'w-4')",
    )
    .await;
    assert_intact(&app, 8);
}

#[actix_web::test]
async fn an_event_inserted_out_of_order_is_reported() {
    let (app, _) = seeded().await;
    // A forged event, hashed as if it were the hospital's first, appended at the end.
    let forged = app
        .state
        .db(|conn| {
            use diesel::prelude::*;
            use shouzhen_store::schema::intake_events as e;
            let (hospital_id, t): (i64, chrono::NaiveDateTime) = e::table
                .select((e::hospital_id, e::occurred_at))
                .first(conn)?;
            let payload =
                r#"{"type":"arrival","occurred_at":"2022-07-01T01:00:00Z","acuity":"routine"}"#;
            let content = shouzhen_domain::record::content_hash("forged", None, payload);
            let row_hash = shouzhen_domain::record::EventContent {
                hospital_id,
                event_id: "forged",
                content_hash: &content,
                kind: "arrival",
                occurred_at: t,
                received_at: t,
                patient_key: None,
                acuity: Some("routine"),
                closure_id: None,
                payload,
                call_id: None,
            }
            .hash();
            let chain_hash =
                shouzhen_domain::record::link(shouzhen_domain::record::GENESIS, &row_hash);
            diesel::insert_into(e::table)
                .values((
                    e::hospital_id.eq(hospital_id),
                    e::event_id.eq("forged"),
                    e::content_hash.eq(&content),
                    e::kind.eq("arrival"),
                    e::occurred_at.eq(t),
                    e::received_at.eq(t),
                    e::acuity.eq("routine"),
                    e::payload.eq(payload),
                    e::row_hash.eq(&row_hash),
                    e::chain_hash.eq(&chain_hash),
                ))
                .returning(e::id)
                .get_result::<i64>(conn)
                .map_err(Into::into)
        })
        .await
        .expect("forge");
    let out = verify(&app);
    let stdout = text(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains(&format!("BROKEN intake_events row {forged} (BJ-1): the row before it in the chain was deleted or changed, or this row was inserted out of order")),
        "{stdout}"
    );
}

#[actix_web::test]
async fn a_case_action_changed_behind_the_services_back_is_reported() {
    let (app, _) = seeded().await;
    app.run_sql("UPDATE case_actions SET note = 'nothing happened' WHERE action = 'open'")
        .await;
    let out = verify(&app);
    let stdout = text(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains("BROKEN case_actions row 1 (case actions): its content was changed"),
        "{stdout}"
    );
}

#[actix_web::test]
async fn chains_stay_whole_when_requests_race_and_repeat() {
    // One writer, so that the two hospitals' requests share commits on both backends; a second
    // instance on the same database races the first for one hospital's chain.
    let app = common::TestApp::builder()
        .var("SHOUZHEN_INGEST_WRITERS", "1")
        .spawn()
        .await;
    let other = common::TestApp::builder().database_of(&app).spawn().await;
    let a = app.hospital_token("BJ-1").await;
    let b = app.hospital_token("BJ-2").await;
    let batch = |prefix: &str, n: usize| {
        json!((0..n)
            .map(|i| json!({"event_id": format!("{prefix}-{i}"), "type": "arrival",
                "occurred_at": common::at("09:00", i as i64), "patient": {"ref": format!("{prefix}-{i}")},
                "acuity": "urgent", "arrived_by": "ambulance"}))
            .collect::<Vec<_>>())
    };
    // Concurrent requests of two hospitals (shared commits), one of them half re-posted.
    let posts = (0..8).map(|k| {
        let (token, body) = if k % 2 == 0 {
            (&a, batch(&format!("a{k}"), 50))
        } else {
            (&b, batch(&format!("b{k}"), 50))
        };
        let app = &app;
        async move { app.post_events(token, body).await }
    });
    futures_util::future::join_all(posts).await;
    let mut again = batch("a0", 50).as_array().cloned().unwrap_or_default();
    again.truncate(25);
    again.extend(batch("a-new", 10).as_array().cloned().unwrap_or_default());
    let report = app.post_events(&a, json!(again)).await;
    assert_eq!(
        (report["accepted"].as_i64(), report["duplicates"].as_i64()),
        (Some(10), Some(25))
    );
    // The same request four times at once (a client retrying early, half of the time through
    // the other instance): stored once.
    let same = (0..4).map(|k| {
        let (instance, a) = (if k % 2 == 0 { &app } else { &other }, &a);
        async move { instance.post_events(a, batch("c", 30)).await }
    });
    let reports = futures_util::future::join_all(same).await;
    let sum = |field: &str| -> i64 { reports.iter().filter_map(|r| r[field].as_i64()).sum() };
    assert_eq!((sum("accepted"), sum("duplicates")), (30, 90));
    assert_intact(&app, 440);
}

/// Event ids are per hospital, also when several hospitals' requests share one commit (their
/// stored ids are looked up with one query): an id one hospital stored is new for another,
/// and each hospital's chain continues from its own head. Each hospital's feed is noted alive
/// (one statement for all of them).
#[actix_web::test]
async fn one_commit_of_several_hospitals_keeps_their_ids_chains_and_feeds_apart() {
    use shouzhen_app::engine::Engine;
    use shouzhen_app::intake::{self, Batch, Poster};
    let app = common::TestApp::spawn().await;
    let a = app.hospital_token("BJ-1").await;
    app.hospital_token("BJ-2").await;
    let arrivals = |n: usize| -> Vec<serde_json::Value> {
        (0..n)
            .map(|i| {
                json!({"event_id": format!("shared-{i}"), "type": "arrival",
                "occurred_at": common::at("09:00", i as i64), "patient": {"ref": format!("p-{i}")},
                "acuity": "urgent", "arrived_by": "ambulance"})
            })
            .collect()
    };
    // BJ-1 stores ten ids first; then one commit holds BJ-1 posting them again (with five new
    // ones) and BJ-2 posting the same fifteen ids for the first time.
    app.post_events(&a, json!(arrivals(10))).await;
    let state = app.state.clone();
    let reports = app
        .state
        .db(move |conn| {
            let now = chrono::Utc::now();
            let engine = Engine::new(&state.policy, &state.notifier, now.naive_utc());
            let mut batches = Vec::new();
            for code in ["BJ-1", "BJ-2"] {
                let h = shouzhen_store::hospitals::by_code(conn, code)?.expect("hospital");
                let items = arrivals(15)
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| intake::validate(i, v, now, &Default::default()))
                    .collect();
                let poster = Poster {
                    hospital_id: h.id,
                    code: h.code,
                    jurisdiction: h.jurisdiction,
                };
                batches.push(Batch::prepare(&state.keys, poster, items)?);
            }
            Ok(intake::ingest_group(conn, &engine, &batches)?)
        })
        .await
        .expect("one commit");
    let counts: Vec<(usize, usize)> = reports.iter().map(|r| (r.accepted, r.duplicates)).collect();
    assert_eq!(counts, [(5, 10), (15, 0)]);
    assert_intact(&app, 30);
    // A day later both feeds are silent: the commit scheduled BJ-2's deadline too.
    let later = chrono::Utc::now() + chrono::Duration::hours(24) + chrono::Duration::minutes(1);
    app.sweep_at(later).await;
    let sup = app.supervisor_token().await;
    let mut silent: Vec<String> = app
        .cases(&sup, "rule=feed.silent")
        .await
        .iter()
        .map(|c| c["hospital"].as_str().unwrap_or("").to_string())
        .collect();
    silent.sort();
    assert_eq!(silent, ["BJ-1", "BJ-2"]);
}

#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let app = common::TestApp::spawn().await;
    for path in [
        "/healthz",
        "/api/v1/hospitals",
        "/api/v1/cases",
        "/complaints/new",
        "/nope",
    ] {
        let resp = app.client.get(app.url(path)).send().await.expect("get");
        let h = resp.headers();
        let csp = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(
            h.get("x-content-type-options")
                .and_then(|v| v.to_str().ok()),
            Some("nosniff"),
            "{path}"
        );
        assert!(h.get("referrer-policy").is_some(), "{path}");
    }
}

#[actix_web::test]
async fn a_complainant_gets_everything_held_about_their_complaint() {
    let app = common::TestApp::spawn().await;
    app.add_hospital("BJ-1").await;
    let (status, body) = app
        .post_json(
            "/api/v1/complaints",
            None,
            &json!({"hospital": "BJ-1", "category": "refused_health_code",
                    "occurred_at": "2022-07-01T10:00:00+08:00",
                    "description": "我父亲（身份证 110105194912310021）发烧被拒收",
                    "contact_name": "王小明", "contact_phone": "13912345678"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let code = body["tracking_code"].as_str().expect("code").to_string();
    let out = shouzhen(&app.database_url, app.dir.path())
        .args(["export", "--tracking-code", &code])
        .output()
        .expect("export");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let export: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(export["contact"]["name"], "王小明");
    assert_eq!(export["contact"]["phone"], "13912345678");
    assert_eq!(
        export["description_as_filed"],
        "我父亲（身份证 110105194912310021）发烧被拒收"
    );
    assert!(
        !export["description_shown_to_staff"]
            .as_str()
            .unwrap_or("")
            .contains("110105194912310021")
    );
    assert_eq!(export["hospital"], "BJ-1");
    assert!(export["timeline"].as_array().is_some_and(|t| !t.is_empty()));

    let out = shouzhen(&app.database_url, app.dir.path())
        .args(["export", "--tracking-code", "ABCD-EFGH-JKMNP"])
        .output()
        .expect("export");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--tracking-code"));
}

/// The service as a process of its own, on a free port, its log in a file.
struct Service {
    child: Child,
    base: String,
    log: std::path::PathBuf,
}

impl Service {
    fn start(url: &str, dir: &std::path::Path, log_name: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let log = dir.join(log_name);
        let child = shouzhen(url, dir)
            .arg("serve")
            .env("SHOUZHEN_BIND", format!("127.0.0.1:{port}"))
            .env("SHOUZHEN_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn serve");
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "serve did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, base, log }
    }

    fn kill9(mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let mut log = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut log);
        }
        log
    }
}

fn credentials(url: &str, dir: &std::path::Path, code: &str) -> (String, String) {
    let out = shouzhen(url, dir)
        .args([
            "hospital", "add", "--code", code, "--name", "医院", "--json",
        ])
        .output()
        .expect("hospital add");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    (
        v["client_id"].as_str().unwrap_or_default().to_string(),
        v["client_secret"].as_str().unwrap_or_default().to_string(),
    )
}

async fn fetch_token(client: &awc::Client, base: &str, id: &str, secret: &str) -> String {
    let mut resp = client
        .post(format!("{base}/oauth/token"))
        .send_form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .await
        .expect("token");
    let v: Value = resp.json().await.expect("json");
    v["access_token"].as_str().unwrap_or_default().to_string()
}

#[actix_web::test]
async fn kill_9_under_load_loses_nothing_acknowledged_and_half_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, _pg) = common::fresh_database(dir.path());
    let (id, secret) = credentials(&url, dir.path(), "BJ-1");
    let service = Service::start(&url, dir.path(), "serve-1.log");
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let token = fetch_token(&client, &service.base, &id, &secret).await;
    let batch = |k: usize| {
        json!((0..200)
            .map(|i| json!({"event_id": format!("b{k}-{i}"), "type": "arrival",
                "occurred_at": common::at("08:00", (k * 200 + i) as i64),
                "patient": {"ref": format!("p{k}-{i}")}, "acuity": "urgent", "arrived_by": "ambulance"}))
            .collect::<Vec<_>>())
    };
    // Four clients post batches until the service dies under them.
    let acknowledged = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let base = service.base.clone();
    let clients = (0..4).map(|c| {
        let (client, token, base, acknowledged) = (
            client.clone(),
            token.clone(),
            base.clone(),
            acknowledged.clone(),
        );
        async move {
            for n in 0..1000 {
                let k = n * 4 + c;
                let sent = client
                    .post(format!("{base}/api/v1/intake-events"))
                    .bearer_auth(&token)
                    .send_json(&batch(k))
                    .await;
                match sent {
                    Ok(resp) if resp.status() == 200 => acknowledged.borrow_mut().push(k),
                    Ok(mut resp) => {
                        // Only the kill may stop a client: any other answer is a failure.
                        let body = resp.body().await.unwrap_or_default();
                        panic!("batch {k}: {} {}", resp.status(), text(&body));
                    }
                    Err(_) => return k,
                }
            }
            usize::MAX
        }
    });
    // The kill comes once a dozen batches are acknowledged, with others in flight.
    let watched = acknowledged.clone();
    let killer = async move {
        let started = Instant::now();
        while watched.borrow().len() < 12 && started.elapsed() < Duration::from_secs(60) {
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        service.kill9();
    };
    let (in_flight, ()) = futures_util::join!(futures_util::future::join_all(clients), killer);
    let acknowledged = acknowledged.borrow().clone();
    assert!(
        acknowledged.len() >= 4,
        "too few batches before the kill: {acknowledged:?}"
    );

    let service = Service::start(&url, dir.path(), "serve-2.log");
    let token = fetch_token(&client, &service.base, &id, &secret).await;
    for k in &acknowledged {
        let mut resp = client
            .post(format!("{}/api/v1/intake-events", service.base))
            .bearer_auth(&token)
            .send_json(&batch(*k))
            .await
            .expect("re-post");
        let report: Value = resp.json().await.expect("json");
        assert_eq!(
            (report["accepted"].as_i64(), report["duplicates"].as_i64()),
            (Some(0), Some(200)),
            "acknowledged batch {k} lost events: {report}"
        );
    }
    // A batch cut off by the kill was stored whole or not at all.
    for k in in_flight.into_iter().filter(|k| *k != usize::MAX) {
        let mut resp = client
            .post(format!("{}/api/v1/intake-events", service.base))
            .bearer_auth(&token)
            .send_json(&batch(k))
            .await
            .expect("re-post");
        let report: Value = resp.json().await.expect("json");
        let accepted = report["accepted"].as_i64().unwrap_or(-1);
        assert!(
            accepted == 0 || accepted == 200,
            "batch {k} half-written: {report}"
        );
    }
    service.stop();
    let out = shouzhen(&url, dir.path())
        .args(["audit", "verify"])
        .output()
        .expect("verify");
    assert!(out.status.success(), "{}", text(&out.stdout));
}

#[actix_web::test]
async fn no_identity_number_or_contact_in_clear_on_disk_or_in_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, _pg) = common::fresh_database(dir.path());
    let (id, secret) = credentials(&url, dir.path(), "BJ-1");
    let service = Service::start(&url, dir.path(), "serve.log");
    let client = awc::Client::default();
    let token = fetch_token(&client, &service.base, &id, &secret).await;
    let id_number = "110105199003071234";
    let phone = "13987654321";
    let name = "赵大海";
    let mut resp = client
        .post(format!("{}/api/v1/intake-events", service.base))
        .bearer_auth(&token)
        .send_json(&json!([
            {"event_id": "a-1", "type": "arrival", "occurred_at": common::at("10:00", 0),
             "patient": {"id_number": id_number}, "acuity": "critical", "arrived_by": "ambulance",
             "health_code": "red"},
            {"event_id": "r-1", "type": "refusal", "occurred_at": common::at("10:03", 0),
             "patient": {"id_number": id_number}, "reasons": ["health_code"],
             "note": format!("家属电话 {phone}")},
            // A misplaced identity number, in a field that does not exist: rejected, not echoed.
            {"event_id": "x-1", "type": "arrival", "occurred_at": common::at("10:04", 0),
             "patient": {"ref": "p-1"}, "acuity": "critical", "idcard": id_number}
        ]))
        .await
        .expect("post");
    let report: Value = resp.json().await.expect("json");
    assert_eq!(report["accepted"], 2, "{report}");
    assert!(!report.to_string().contains(id_number), "{report}");
    let mut resp = client
        .post(format!("{}/api/v1/complaints", service.base))
        .send_json(
            &json!({"hospital": "BJ-1", "category": "refused_health_code",
            "occurred_at": "2022-07-01T10:00:00+08:00",
            "description": format!("我叫{name}，身份证 {id_number}，电话 {phone}，被拒收"),
            "contact_name": name, "contact_phone": phone}),
        )
        .await
        .expect("complaint");
    assert_eq!(resp.status(), 201, "{:?}", resp.body().await);
    let log = service.stop();
    assert!(log.contains("intake events"), "the log was captured: {log}");

    let mut haystacks: Vec<(String, Vec<u8>)> = vec![("log".into(), log.into_bytes())];
    if let Some(path) = url.strip_prefix("sqlite://") {
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{path}{suffix}");
            if let Ok(bytes) = std::fs::read(&file) {
                haystacks.push((file, bytes));
            }
        }
    } else {
        let dump = Command::new("pg_dump").arg(&url).output().expect("pg_dump");
        assert!(dump.status.success(), "{}", text(&dump.stderr));
        haystacks.push(("pg_dump".into(), dump.stdout));
    }
    for (what, bytes) in &haystacks {
        for secret in [id_number, phone, name] {
            let needle = secret.as_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{secret} found in clear in {what}"
            );
        }
    }
}

/// A TCP proxy in front of PostgreSQL that can cut every connection and refuse new ones, as a
/// restart of the server does.
struct Proxy {
    port: u16,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Proxy {
    fn start(upstream: &str) -> Self {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let open = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (d, o, upstream) = (down.clone(), open.clone(), upstream.to_string());
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                if d.load(Ordering::SeqCst) {
                    continue; // refused: dropped at once
                }
                let Ok(server) = std::net::TcpStream::connect(&upstream) else {
                    continue;
                };
                let pairs = [
                    (client.try_clone(), server.try_clone()),
                    (server.try_clone(), client.try_clone()),
                ];
                if let Ok(mut open) = o.lock() {
                    open.extend([client, server]);
                }
                for pair in pairs {
                    if let (Ok(mut from), Ok(mut to)) = pair {
                        std::thread::spawn(move || {
                            let _ = std::io::copy(&mut from, &mut to);
                            let _ = to.shutdown(std::net::Shutdown::Both);
                        });
                    }
                }
            }
        });
        Self { port, down, open }
    }

    fn cut(&self) {
        self.down.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut open) = self.open.lock() {
            for s in open.drain(..) {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        }
    }

    fn restore(&self) {
        self.down.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Posts a batch of events; the status, the Retry-After header and the body.
async fn post_batch(
    app: &common::TestApp,
    token: &str,
    body: Value,
) -> (u16, Option<String>, Value) {
    let mut resp = app
        .client
        .post(app.url("/api/v1/intake-events"))
        .bearer_auth(token)
        .send_json(&body)
        .await
        .expect("the service answers during a database fault");
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: Value = resp.json().limit(1 << 20).await.unwrap_or_default();
    (resp.status().as_u16(), retry, body)
}

/// `n` routine walk-ins; `note` characters of note each (so that a batch takes room on disk).
fn walk_ins(prefix: &str, n: usize, note: usize) -> Value {
    json!((0..n)
        .map(|i| json!({"event_id": format!("{prefix}-{i}"), "type": "arrival",
            "occurred_at": common::at("09:00", i as i64), "patient": {"ref": format!("{prefix}-p{i}")},
            "acuity": "routine", "arrived_by": "walk_in", "note": "候".repeat(note)}))
        .collect::<Vec<_>>())
}

#[actix_web::test]
async fn a_locked_sqlite_database_answers_503_writes_nothing_and_recovers() {
    let app = common::TestApp::spawn().await;
    let Some(file) = app.sqlite_file() else {
        eprintln!("skipped: SQLite only (PostgreSQL's outage has its own test)");
        return;
    };
    let token = app.hospital_token("BJ-1").await;
    let (status, _, body) = post_batch(&app, &token, walk_ins("before", 5, 0)).await;
    assert_eq!(status, 200, "{body}");
    // Another process holds the write lock longer than the service's busy timeout (10 s).
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (locked, is_locked) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        use diesel::Connection;
        let mut conn = diesel::SqliteConnection::establish(&file.display().to_string())
            .expect("open the file");
        conn.batch_execute("BEGIN EXCLUSIVE")
            .expect("take the write lock");
        locked.send(()).expect("tell");
        let _ = released.recv();
        conn.batch_execute("ROLLBACK").expect("release");
    });
    is_locked.recv().expect("locked");
    let (status, retry, body) = post_batch(&app, &token, walk_ins("during", 20, 0)).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(retry.as_deref(), Some("5"));
    assert_eq!(body["title"], "Service unavailable");
    release.send(()).expect("release");
    holder.join().expect("the lock holder");
    // Nothing of the refused request was written: posted again, all of it is new.
    let (status, _, body) = post_batch(&app, &token, walk_ins("during", 20, 0)).await;
    assert_eq!(
        (status, &body["accepted"], &body["duplicates"]),
        (200, &json!(20), &json!(0)),
        "{body}"
    );
    assert_eq!(app.stored_events().await, 25);
}

/// A small tmpfs mounted for one test, unmounted when dropped (needs root, as CI has).
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(at: &std::path::Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(at).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Self(at.to_path_buf()))
    }

    /// Writes zeros into `filler` until the disk is full.
    fn fill(&self, filler: &std::path::Path) {
        use std::io::Write;
        let mut f = std::fs::File::create(filler).expect("filler");
        for chunk in [64 * 1024, 4096, 512] {
            while f
                .write_all(&vec![0u8; chunk])
                .and_then(|_| f.flush())
                .is_ok()
            {}
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[actix_web::test]
async fn a_full_disk_under_sqlite_answers_503_writes_nothing_and_recovers() {
    if common::is_postgres() {
        eprintln!("skipped: SQLite only");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some(disk) = SmallDisk::mount(&tmp.path().join("disk"), "16m") else {
        assert!(
            std::env::var("CI").is_err(),
            "CI runs as root and must mount a tmpfs"
        );
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    };
    let url = format!("sqlite://{}", disk.0.join("shouzhen.db").display());
    let app = common::TestApp::builder()
        .var("SHOUZHEN_DATABASE_URL", &url)
        .spawn()
        .await;
    let token = app.hospital_token("BJ-1").await;
    let (status, _, body) = post_batch(&app, &token, walk_ins("before", 5, 0)).await;
    assert_eq!(status, 200, "{body}");
    let filler = disk.0.join("filler");
    disk.fill(&filler);
    // 1,000 events with 500-character notes: far more than the WAL has room for.
    let big = walk_ins("big", 1000, 500);
    let (status, retry, body) = post_batch(&app, &token, big.clone()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(retry.as_deref(), Some("5"));
    std::fs::remove_file(&filler).expect("free the disk");
    let (status, _, body) = post_batch(&app, &token, big).await;
    assert_eq!(
        (status, &body["accepted"], &body["duplicates"]),
        (200, &json!(1000), &json!(0)),
        "{body}"
    );
    assert_eq!(app.stored_events().await, 1005);
    let out = verify(&app);
    assert!(
        out.status.success(),
        "the chain holds: {}",
        text(&out.stdout)
    );
}

#[actix_web::test]
async fn a_database_outage_answers_503_with_retry_after_and_the_service_recovers_by_itself() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, _pg) = common::fresh_database(dir.path());
    let Some(rest) = url.strip_prefix("postgres://postgres@127.0.0.1:5432/") else {
        eprintln!(
            "skipped: needs PostgreSQL on 127.0.0.1:5432 (SQLite's faults: error.rs unit tests)"
        );
        return;
    };
    let proxy = Proxy::start("127.0.0.1:5432");
    let proxied = format!("postgres://postgres@127.0.0.1:{}/{rest}", proxy.port);
    let app = common::TestApp::builder()
        .var("SHOUZHEN_DATABASE_URL", &proxied)
        .spawn()
        .await;
    let token = app.hospital_token("BJ-1").await;
    let batch = |k: usize| {
        json!((0..20)
            .map(|i| json!({"event_id": format!("b{k}-{i}"), "type": "arrival",
                "occurred_at": common::at("08:00", (k * 20 + i) as i64),
                "patient": {"ref": format!("p{k}-{i}")}, "acuity": "routine", "arrived_by": "walk_in"}))
            .collect::<Vec<_>>())
    };
    let post = |k: usize| post_batch(&app, &token, batch(k));
    let mut acknowledged = Vec::new();
    for k in 0..5 {
        let (status, _, body) = post(k).await;
        assert_eq!(status, 200, "{body}");
        acknowledged.push(k);
    }
    proxy.cut();
    let mut unavailable = 0;
    for k in 5..8 {
        let (status, retry, body) = post(k).await;
        match status {
            200 => acknowledged.push(k),
            503 => {
                assert!(retry.is_some(), "503 without Retry-After: {body}");
                assert_eq!(body["status"], 503);
                unavailable += 1;
            }
            other => panic!("during the outage: {other} {body}"),
        }
    }
    assert!(unavailable > 0, "the outage was not noticed");
    let (status, _) = app.get("/readyz", None).await;
    assert_eq!(status, 503, "readiness reports the outage");
    proxy.restore();
    // It recovers by itself: no restart, the next requests succeed.
    let started = Instant::now();
    let mut k = 8;
    while acknowledged.iter().filter(|a| **a >= 8).count() < 3 {
        assert!(started.elapsed() < Duration::from_secs(60), "no recovery");
        let (status, _, body) = post(k).await;
        match status {
            200 => acknowledged.push(k),
            503 => {}
            other => panic!("after the outage: {other} {body}"),
        }
        k += 1;
    }
    // Nothing acknowledged was lost.
    for k in acknowledged {
        let (status, _, body) = post(k).await;
        assert_eq!(status, 200);
        assert_eq!(body["duplicates"], 20, "batch {k}: {body}");
    }
}
