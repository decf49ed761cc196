//! No single request stops the service: a request of thousands of events of one patient is
//! judged whole (a case for every refusal) while other hospitals are answered between its
//! parts, and readiness says whether a write could begin. How long each takes is measured in
//! `benches/history.rs`, not here.

use std::time::Duration;

use crate::common::TestApp;
use diesel::prelude::*;
use serde_json::{Value, json};

/// `pairs` critical walk-ins of one patient, each refused over a health code a minute later.
fn one_patient(pairs: usize) -> Value {
    let base = chrono::DateTime::parse_from_rfc3339("2022-07-01T08:00:00+08:00").expect("time");
    Value::Array(
        (0..pairs)
            .flat_map(|i| {
                let t = base + chrono::Duration::minutes(2 * i as i64);
                [
                    json!({"event_id": format!("a{i}"), "type": "arrival", "occurred_at": t.to_rfc3339(),
                           "patient": {"ref": "the-one"}, "acuity": "critical", "arrived_by": "walk_in"}),
                    json!({"event_id": format!("r{i}"), "type": "refusal",
                           "occurred_at": (t + chrono::Duration::minutes(1)).to_rfc3339(),
                           "patient": {"ref": "the-one"}, "reasons": ["health_code"]}),
                ]
            })
            .collect(),
    )
}

async fn cases_of(app: &TestApp, rule: &'static str) -> i64 {
    use shouzhen_store::schema::cases;
    app.state
        .db(move |conn| {
            Ok(cases::table
                .filter(cases::rule.eq(rule))
                .count()
                .get_result(conn)?)
        })
        .await
        .expect("count cases")
}

#[actix_web::test]
async fn thousands_of_events_of_one_patient_are_judged_whole_while_another_hospital_is_answered() {
    let app = std::rc::Rc::new(TestApp::spawn().await);
    let big = app.hospital_token("BIG-1").await;
    let other = app.hospital_token("OTHER-1").await;
    app.inspector_token().await;
    // 6,000 events: more than one part (a part has at most 2,000).
    let pairs = 3_000;
    let body = one_patient(pairs);
    let poster = app.clone();
    let request = actix_web::rt::spawn(async move {
        poster
            .post_json("/api/v1/intake-events", Some(&big), &body)
            .await
    });
    // Another hospital's single events and an inspector's sign-ins, one after another until the
    // big request is answered: at least one of each is answered before it.
    let mut answered_meanwhile = 0;
    let mut k = 0;
    while !request.is_finished() {
        k += 1;
        let ev = json!({"event_id": format!("o{k}"), "type": "arrival",
            "occurred_at": "2022-07-01T09:00:00+08:00", "patient": {"ref": format!("o{k}")},
            "acuity": "routine", "arrived_by": "walk_in"});
        let (status, report) = app
            .post_json("/api/v1/intake-events", Some(&other), &ev)
            .await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["accepted"], 1, "{report}");
        let (status, body) = app
            .post_json(
                "/api/v1/auth/login",
                None,
                &json!({"email": "inspector@wjw.example.cn", "password": "a long enough password"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        if !request.is_finished() {
            answered_meanwhile += 1;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, report) = request.await.expect("the big request");
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["accepted"], 2 * pairs, "{report}");
    assert!(
        answered_meanwhile >= 1,
        "no other hospital's event or sign-in was answered while the big request ran"
    );
    // Every refusal judged: a case each, under both rules it breaks.
    for rule in ["refusal.prohibited_reason", "first_diagnosis.shirked"] {
        assert_eq!(cases_of(&app, rule).await, pairs as i64, "{rule}");
    }
}

#[actix_web::test]
async fn readiness_fails_while_a_write_cannot_get_its_lock_and_recovers_after() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get("/readyz", None).await;
    assert_eq!(status, 200, "{body}");
    // Another client takes the lock a write of events needs, and keeps it.
    let url = app.database_url.clone();
    let (hold, held) = std::sync::mpsc::channel::<()>();
    let (locked, is_locked) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        use diesel::connection::SimpleConnection;
        let url = shouzhen_store::db::DatabaseUrl::parse(&url).expect("url");
        let mut conn = shouzhen_store::db::Manager::new(url)
            .connect_once()
            .expect("connect");
        let lock = match conn {
            shouzhen_store::db::DbConn::Sqlite(_) => "BEGIN IMMEDIATE",
            shouzhen_store::db::DbConn::Pg(_) => {
                "BEGIN; LOCK TABLE intake_events IN ACCESS EXCLUSIVE MODE"
            }
        };
        conn.batch_execute(lock).expect("lock");
        locked.send(()).expect("signal");
        let _ = held.recv();
        conn.batch_execute("ROLLBACK").expect("release");
    });
    is_locked.recv().expect("locked");
    let (status, body) = app.get("/readyz", None).await;
    assert_eq!(status, 503, "ready while writes wait for the lock: {body}");
    assert_eq!(body["status"], 503, "a problem document: {body}");
    hold.send(()).expect("release");
    holder.join().expect("holder");
    let (status, body) = app.get("/readyz", None).await;
    assert_eq!(
        status, 200,
        "not ready again after the lock is free: {body}"
    );
    // The probe wrote nothing.
    assert_eq!(app.stored_events().await, 0);
}
