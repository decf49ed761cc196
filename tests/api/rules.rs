//! Every rule through real HTTP: what the policies forbid opens a case, what they allow does
//! not, at the boundaries exactly.

use crate::common;

use chrono::{Duration, Utc};
use common::{TestApp, at};
use serde_json::{Value, json};

fn arrival(id: &str, patient: &str, time: &str, acuity: &str, by: &str) -> Value {
    json!({"event_id": id, "type": "arrival", "occurred_at": time, "patient": {"id_number": patient},
           "acuity": acuity, "arrived_by": by, "health_code": "green", "test_status": "negative_48h"})
}

fn event(id: &str, kind: &str, patient: &str, time: &str) -> Value {
    json!({"event_id": id, "type": kind, "occurred_at": time, "patient": {"id_number": patient}})
}

fn refusal(id: &str, patient: &str, time: &str, reasons: &[&str]) -> Value {
    json!({"event_id": id, "type": "refusal", "occurred_at": time, "patient": {"id_number": patient}, "reasons": reasons})
}

/// (rule, summary) of every case, sorted, for comparisons.
fn rules_of(cases: &[Value]) -> Vec<String> {
    let mut r: Vec<String> = cases
        .iter()
        .map(|c| c["rule"].as_str().unwrap_or("").to_string())
        .collect();
    r.sort();
    r
}

#[actix_web::test]
async fn refusals_for_prohibited_and_operational_reasons() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("BJ-1").await;
    let insp = app.supervisor_token().await;
    app.post_events(
        &h,
        json!([
            // Critical patient refused over a red health code and fever: forbidden.
            arrival("a1", "P1", &at("10:00", 0), "critical", "walk_in"),
            refusal("r1", "P1", &at("10:05", 0), &["health_code", "fever"]),
            // Routine patient refused for fever: the rule protects critical and urgent patients.
            arrival("a2", "P2", &at("10:00", 0), "routine", "walk_in"),
            refusal("r2", "P2", &at("10:05", 0), &["fever"]),
            // Urgent patient refused for no beds: operational, not prohibited.
            arrival("a3", "P3", &at("10:00", 0), "urgent", "walk_in"),
            refusal("r3", "P3", &at("10:05", 0), &["no_beds"]),
            // Urgent patient refused for "other": neither rule.
            arrival("a4", "P4", &at("10:00", 0), "urgent", "walk_in"),
            refusal("r4", "P4", &at("10:05", 0), &["other"]),
        ]),
    )
    .await;
    let prohibited = app.cases(&insp, "rule=refusal.prohibited_reason").await;
    assert_eq!(prohibited.len(), 1, "{prohibited:?}");
    assert_eq!(prohibited[0]["severity"], "high");
    assert_eq!(prohibited[0]["hospital"], "BJ-1");
    assert_eq!(prohibited[0]["status"], "open");
    let summary = prohibited[0]["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("健康码异常") && summary.contains("r1"),
        "{summary}"
    );

    let operational = app.cases(&insp, "rule=refusal.operational_reason").await;
    assert_eq!(operational.len(), 1);
    assert!(
        operational[0]["summary"]
            .as_str()
            .unwrap_or("")
            .contains("r3")
    );

    // The first-diagnosis rule sees the same refusals of critical/urgent patients at their
    // first hospital: r1, r3 and r4 (r2's patient is routine).
    assert_eq!(
        app.cases(&insp, "rule=first_diagnosis.shirked").await.len(),
        3
    );

    // The case shows its evidence, its rule and the policy source.
    let id = prohibited[0]["id"].as_i64().expect("id");
    let (status, case) = app.get(&format!("/api/v1/cases/{id}"), Some(&insp)).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = case["evidence"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["event_id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(ids, ["a1", "r1"]);
    assert!(
        case["rule_info"]["quote"]
            .as_str()
            .unwrap_or("")
            .contains("健康码")
    );
    assert_eq!(case["rule_info"]["sources"], "004, 001, 003 (item 2)");
    assert_eq!(case["actions"][0]["action"], "open");
    assert_eq!(case["actions"][0]["actor"], "system");
}

#[actix_web::test]
async fn special_groups_refused_whatever_the_reason() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("SH-1").await;
    let insp = app.supervisor_token().await;
    let mut pregnant = arrival("a1", "P1", &at("09:00", 0), "routine", "community_vehicle");
    pregnant["groups"] = json!(["pregnant"]);
    let mut dialysis = arrival("a2", "P2", &at("09:00", 0), "routine", "walk_in");
    dialysis["groups"] = json!(["dialysis"]);
    app.post_events(
        &h,
        json!([
            pregnant,
            refusal("r1", "P1", &at("09:10", 0), &["other"]),
            dialysis,
            event("t2", "treatment", "P2", &at("09:10", 0)),
            // Not in a group, routine, refused for "other": nothing to flag.
            arrival("a3", "P3", &at("09:00", 0), "routine", "walk_in"),
            refusal("r3", "P3", &at("09:10", 0), &["other"]),
        ]),
    )
    .await;
    let cases = app.cases(&insp, "").await;
    assert_eq!(rules_of(&cases), ["special_group.refused"]);
    assert!(
        cases[0]["summary"]
            .as_str()
            .unwrap_or("")
            .contains("孕产妇")
    );
}

#[actix_web::test]
async fn handover_within_15_minutes_exactly_is_allowed_and_one_second_more_is_not() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("DD-1").await;
    let insp = app.supervisor_token().await;
    app.post_events(
        &h,
        json!([
            arrival("a1", "P1", &at("10:00", 0), "urgent", "ambulance"),
            event("h1", "handover", "P1", &at("10:15", 0)),
            arrival("a2", "P2", &at("11:00", 0), "urgent", "ambulance"),
            event("h2", "handover", "P2", &at("11:15", 1)),
            // No handover at all, long ago: the deadline has passed.
            arrival("a3", "P3", &at("12:00", 0), "urgent", "ambulance"),
            // Walk-in patients are not ambulance handovers.
            arrival("a4", "P4", &at("12:00", 0), "urgent", "walk_in"),
        ]),
    )
    .await;
    let cases = app.cases(&insp, "rule=handover.delay").await;
    let mut subjects: Vec<String> = Vec::new();
    for c in &cases {
        let id = c["id"].as_i64().expect("id");
        let (_, detail) = app.get(&format!("/api/v1/cases/{id}"), Some(&insp)).await;
        subjects.push(
            detail["evidence"]["events"][0]["event_id"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        );
        assert_eq!(c["severity"], "medium");
    }
    subjects.sort();
    assert_eq!(subjects, ["a2", "a3"]);
}

#[actix_web::test]
async fn a_handover_deadline_is_found_by_the_sweeper_and_cleared_by_a_timely_handover() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("DD-1").await;
    let insp = app.supervisor_token().await;
    let now = Utc::now();
    let five_ago = (now - Duration::minutes(5)).to_rfc3339();
    app.post_events(
        &h,
        json!([
            arrival("a1", "P1", &five_ago, "critical", "ambulance"),
            arrival("a2", "P2", &five_ago, "critical", "ambulance")
        ]),
    )
    .await;
    assert!(
        app.cases(&insp, "rule=handover.delay").await.is_empty(),
        "not due yet"
    );
    assert_eq!(app.sweep_at(now).await, 0, "nothing due at 5 minutes");

    // P2 is handed over at minute 14, reported before the deadline.
    let at14 = (now + Duration::minutes(9))
        .min(Utc::now() + Duration::minutes(4))
        .to_rfc3339();
    app.post_events(&h, json!([event("h2", "handover", "P2", &at14)]))
        .await;

    // At minute 16 the sweeper finds P1 without a handover.
    app.sweep_at(now + Duration::minutes(11)).await;
    let cases = app.cases(&insp, "rule=handover.delay").await;
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert!(cases[0]["summary"].as_str().unwrap_or("").contains("a1"));
    // A second pass opens nothing more: one case per subject.
    app.sweep_at(now + Duration::minutes(30)).await;
    assert_eq!(app.cases(&insp, "rule=handover.delay").await.len(), 1);
}

#[actix_web::test]
async fn one_sweep_over_hundreds_of_due_deadlines_opens_each_case_once() {
    // More due handovers than the sweeper judges in one transaction, half of them handed over
    // in time, and a closure deadline among them (judged on its own).
    let app = TestApp::spawn().await;
    let h = app.hospital_token("DD-1").await;
    let insp = app.supervisor_token().await;
    let now = Utc::now();
    let at = (now - Duration::minutes(5)).to_rfc3339();
    let handed = (now - Duration::minutes(1)).to_rfc3339();
    let mut events: Vec<serde_json::Value> = (0..250)
        .map(|i| {
            arrival(
                &format!("a{i}"),
                &format!("P{i}"),
                &at,
                "urgent",
                "ambulance",
            )
        })
        .collect();
    events.extend(
        (0..250)
            .step_by(2)
            .map(|i| event(&format!("h{i}"), "handover", &format!("P{i}"), &handed)),
    );
    events.push(
        json!({"event_id": "c1", "type": "closure_start", "occurred_at": at,
        "closure": {"id": "k1", "scope": "facility"}}),
    );
    app.post_events(&h, json!(events)).await;
    assert_eq!(app.sweep_at(now + Duration::minutes(11)).await, 125);
    let cases = app.cases(&insp, "rule=handover.delay").await;
    assert_eq!(cases.len(), 125);
    assert!(
        cases.iter().all(|c| {
            let n: usize = c["summary"]
                .as_str()
                .unwrap_or("")
                .split(|ch: char| !ch.is_ascii_digit())
                .find(|s| !s.is_empty())
                .and_then(|s| s.parse().ok())
                .unwrap_or(1);
            n % 2 == 1
        }),
        "only the patients not handed over: {cases:?}"
    );
    // Nothing is left due; the closure and the hospital's feed are judged at their own times
    // (the facility's closure twice: it names no diversion by its 24th hour, and lasts 48).
    assert_eq!(app.sweep_at(now + Duration::minutes(30)).await, 0);
    assert_eq!(app.sweep_at(now + Duration::hours(49)).await, 3);
    assert_eq!(app.cases(&insp, "rule=closure.too_long").await.len(), 1);
    assert_eq!(
        app.cases(&insp, "rule=continuity.no_diversion").await.len(),
        1
    );
    assert_eq!(app.cases(&insp, "rule=feed.silent").await.len(), 1);
    assert_eq!(app.cases(&insp, "rule=handover.delay").await.len(), 125);
}

#[actix_web::test]
async fn the_background_sweeper_runs_by_itself() {
    let app = TestApp::builder()
        .var("SHOUZHEN_SWEEP_INTERVAL", "1")
        .spawn()
        .await;
    let h = app.hospital_token("DD-1").await;
    let insp = app.supervisor_token().await;
    let almost = (Utc::now() - Duration::minutes(15) + Duration::seconds(2)).to_rfc3339();
    app.post_events(
        &h,
        json!([arrival("a1", "P1", &almost, "critical", "ambulance")]),
    )
    .await;
    assert!(app.cases(&insp, "rule=handover.delay").await.is_empty());
    let mut found = false;
    for _ in 0..40 {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(250)).await;
        if !app.cases(&insp, "rule=handover.delay").await.is_empty() {
            found = true;
            break;
        }
    }
    assert!(found, "the sweeper did not open the case within 10 seconds");
}

#[actix_web::test]
async fn first_diagnosis_and_the_chain_of_hospitals() {
    let app = TestApp::spawn().await;
    let h1 = app.hospital_token("BJ-1").await;
    let h2 = app.hospital_token("BJ-2").await;
    let insp = app.supervisor_token().await;
    // P1: BJ-1 receives a critical patient and transfers without treatment (shirked); BJ-2 then
    // refuses (BJ-2 was not the first hospital).
    let mut transfer = event("x1", "transfer", "P1", &at("10:20", 0));
    transfer["to_hospital"] = json!("BJ-2");
    app.post_events(
        &h1,
        json!([
            arrival("a1", "P1", &at("10:00", 0), "critical", "walk_in"),
            transfer
        ]),
    )
    .await;
    app.post_events(
        &h2,
        json!([
            arrival("b1", "P1", &at("10:50", 0), "critical", "ambulance"),
            event("bh", "handover", "P1", &at("10:55", 0)),
            refusal("br", "P1", &at("11:00", 0), &["other"])
        ]),
    )
    .await;
    // P2: BJ-1 treats, then transfers: a proper referral.
    let mut referral = event("x2", "transfer", "P2", &at("12:00", 0));
    referral["to_hospital"] = json!("BJ-2");
    app.post_events(
        &h1,
        json!([
            arrival("a2", "P2", &at("11:00", 0), "urgent", "walk_in"),
            event("t2", "treatment", "P2", &at("11:10", 0)),
            referral
        ]),
    )
    .await;

    let cases = app.cases(&insp, "rule=first_diagnosis.shirked").await;
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert_eq!(cases[0]["hospital"], "BJ-1");
    let id = cases[0]["id"].as_i64().expect("id");
    let (_, detail) = app.get(&format!("/api/v1/cases/{id}"), Some(&insp)).await;
    assert_eq!(detail["chain"], json!(["BJ-1", "BJ-2"]));

    // P3: a critical patient first seen at BJ-1 more than 72 hours before BJ-2 refuses: two
    // episodes, so BJ-2 is the first hospital of the second and shirks.
    app.post_events(
        &h1,
        json!([
            arrival("a3", "P3", &at("08:00", 0), "critical", "walk_in"),
            event("t3", "treatment", "P3", &at("08:10", 0))
        ]),
    )
    .await;
    let later = |secs: i64| at("08:10", secs);
    app.post_events(
        &h2,
        json!([
            arrival("c3", "P3", &later(72 * 3600 + 1), "critical", "walk_in"),
            refusal("r3", "P3", &later(72 * 3600 + 60), &["other"])
        ]),
    )
    .await;
    let cases = app
        .cases(&insp, "rule=first_diagnosis.shirked&hospital=BJ-2")
        .await;
    assert_eq!(cases.len(), 1, "{cases:?}");
    // Exactly 72 hours apart is one episode: BJ-2 is not first.
    app.post_events(
        &h1,
        json!([
            arrival("a4", "P4", &at("08:00", 0), "critical", "walk_in"),
            event("t4", "treatment", "P4", &at("08:10", 0))
        ]),
    )
    .await;
    app.post_events(
        &h2,
        json!([refusal("r4", "P4", &later(72 * 3600), &["other"])]),
    )
    .await;
    assert_eq!(
        app.cases(&insp, "rule=first_diagnosis.shirked&hospital=BJ-2")
            .await
            .len(),
        1
    );
}

#[actix_web::test]
async fn antigen_test_for_critical_patients_within_30_minutes() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("DD-1").await;
    let insp = app.supervisor_token().await;
    let untested = |id: &str, p: &str, t: &str, acuity: &str| {
        let mut a = arrival(id, p, t, acuity, "walk_in");
        a["test_status"] = json!("none");
        a
    };
    let antigen = |id: &str, p: &str, t: &str| json!({"event_id": id, "type": "test", "occurred_at": t, "patient": {"id_number": p}, "test": {"kind": "antigen", "result": "negative"}});
    app.post_events(
        &h,
        json!([
            untested("a1", "P1", &at("10:00", 0), "critical"),
            antigen("t1", "P1", &at("10:30", 0)),
            untested("a2", "P2", &at("10:00", 0), "critical"),
            antigen("t2", "P2", &at("10:31", 0)),
            untested("a3", "P3", &at("10:00", 0), "critical"),
            // Negative test within 48 hours: no antigen test needed.
            arrival("a4", "P4", &at("10:00", 0), "critical", "walk_in"),
            // Urgent, not critical.
            untested("a5", "P5", &at("10:00", 0), "urgent"),
        ]),
    )
    .await;
    let cases = app.cases(&insp, "rule=critical.test_delay").await;
    let mut s: Vec<String> = cases
        .iter()
        .map(|c| c["summary"].as_str().unwrap_or("").to_string())
        .collect();
    s.sort();
    assert_eq!(s.len(), 2, "{s:?}");
    assert!(
        s.iter().any(|x| x.contains("a2") && x.contains("31 分钟")),
        "{s:?}"
    );
    assert!(s.iter().any(|x| x.contains("a3")), "{s:?}");
}

fn closure(id: &str, kind: &str, cid: &str, scope: &str, time: &str) -> Value {
    json!({"event_id": id, "type": kind, "occurred_at": time, "closure": {"id": cid, "scope": scope, "department": "急诊"}})
}

#[actix_web::test]
async fn closures_beyond_48_hours() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("DD-1").await;
    let insp = app.supervisor_token().await;
    let plus = |secs: i64| at("08:00", secs);
    app.post_events(
        &h,
        json!([
            closure("c1s", "closure_start", "C1", "facility", &plus(0)),
            closure("c1e", "closure_end", "C1", "facility", &plus(48 * 3600)),
            closure("c2s", "closure_start", "C2", "department", &plus(0)),
            closure(
                "c2e",
                "closure_end",
                "C2",
                "department",
                &plus(48 * 3600 + 60)
            ),
            // A unit may be closed longer.
            closure("c3s", "closure_start", "C3", "unit", &plus(0)),
            closure("c3e", "closure_end", "C3", "unit", &plus(5 * 24 * 3600)),
            // Never reopened: overdue now.
            closure("c4s", "closure_start", "C4", "facility", &plus(0)),
        ]),
    )
    .await;
    let cases = app.cases(&insp, "rule=closure.too_long").await;
    let mut s: Vec<String> = cases
        .iter()
        .map(|c| c["summary"].as_str().unwrap_or("").to_string())
        .collect();
    s.sort();
    assert_eq!(s.len(), 2, "{s:?}");
    assert!(
        s.iter().any(|x| x.contains("C2")) && s.iter().any(|x| x.contains("C4")),
        "{s:?}"
    );

    // A closure that began an hour ago is pending until 48 hours have passed.
    let now = Utc::now();
    app.post_events(
        &h,
        json!([closure(
            "c5s",
            "closure_start",
            "C5",
            "department",
            &(now - Duration::hours(1)).to_rfc3339()
        )]),
    )
    .await;
    assert_eq!(app.cases(&insp, "rule=closure.too_long").await.len(), 2);
    app.sweep_at(now + Duration::hours(46)).await;
    assert_eq!(app.cases(&insp, "rule=closure.too_long").await.len(), 2);
    app.sweep_at(now + Duration::hours(48)).await;
    assert_eq!(app.cases(&insp, "rule=closure.too_long").await.len(), 3);
}

#[actix_web::test]
async fn a_silent_feed_is_flagged_after_24_hours_of_receipt_time() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("BJ-1").await;
    app.hospital_token("BJ-NEVER").await; // never posts: nothing to flag
    let insp = app.supervisor_token().await;
    let now = Utc::now();
    app.post_events(&h, json!([event("t1", "treatment", "P1", &at("10:00", 0))]))
        .await;
    app.sweep_at(now + Duration::hours(23)).await;
    assert!(app.cases(&insp, "rule=feed.silent").await.is_empty());
    app.sweep_at(now + Duration::hours(24) + Duration::seconds(1))
        .await;
    let cases = app.cases(&insp, "rule=feed.silent").await;
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["hospital"], "BJ-1");
    assert_eq!(cases[0]["severity"], "low");
}

/// A busy feed is noted alive at most once a minute (its hospital's row is not rewritten by
/// every request), and again once that minute is over, which moves its silence deadline on.
#[actix_web::test]
async fn a_feed_is_noted_alive_again_once_its_minute_is_over() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("BJ-1").await;
    // (last noted alive, the silence deadline's due time)
    let noted = || {
        app.state.db(|conn| {
            use diesel::prelude::*;
            use shouzhen_store::schema::{deadlines, hospitals};
            let last: Option<chrono::NaiveDateTime> = hospitals::table
                .filter(hospitals::code.eq("BJ-1"))
                .select(hospitals::last_received_at)
                .first(conn)?;
            let due: chrono::NaiveDateTime = deadlines::table
                .filter(deadlines::rule.eq("feed.silent"))
                .select(deadlines::due_at)
                .first(conn)?;
            Ok((last.expect("noted alive"), due))
        })
    };
    app.post_events(&h, json!([event("t1", "treatment", "P1", &at("10:00", 0))]))
        .await;
    let (first, first_due) = noted().await.expect("read");
    app.post_events(&h, json!([event("t2", "treatment", "P2", &at("10:01", 0))]))
        .await;
    assert_eq!(
        noted().await.expect("read"),
        (first, first_due),
        "within the minute"
    );
    // Two minutes pass (the row is moved back instead).
    let earlier = first - Duration::minutes(2);
    app.state
        .db(move |conn| {
            use diesel::prelude::*;
            use shouzhen_store::schema::hospitals;
            Ok(
                diesel::update(hospitals::table.filter(hospitals::code.eq("BJ-1")))
                    .set(hospitals::last_received_at.eq(earlier))
                    .execute(conn)?,
            )
        })
        .await
        .expect("move back");
    app.post_events(&h, json!([event("t3", "treatment", "P3", &at("10:02", 0))]))
        .await;
    let (again, due) = noted().await.expect("read");
    assert!(again >= first, "noted alive again: {again} after {first}");
    assert!(
        due >= first_due,
        "the deadline moved on: {due} after {first_due}"
    );
    assert_eq!(
        due - again,
        first_due - first,
        "24 hours after the last request"
    );
}

#[actix_web::test]
async fn out_of_order_late_and_duplicate_delivery_give_the_same_cases() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("BJ-1").await;
    let insp = app.supervisor_token().await;
    let batch = vec![
        arrival("a1", "P1", &at("10:00", 0), "critical", "ambulance"),
        event("h1", "handover", "P1", &at("10:10", 0)),
        event("t1", "treatment", "P1", &at("10:12", 0)),
        arrival("a2", "P2", &at("10:00", 0), "urgent", "ambulance"),
        event("h2", "handover", "P2", &at("10:40", 0)),
        refusal("r2", "P2", &at("10:45", 0), &["expired_test"]),
    ];
    // In reverse order, one request per event.
    for e in batch.iter().rev() {
        app.post_events(&h, json!([e])).await;
    }
    let reversed = rules_of(&app.cases(&insp, "status=open").await);
    // And the whole batch again, twice: duplicates change nothing.
    let again = app.post_events(&h, json!(batch)).await;
    assert_eq!(
        (again["accepted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(6))
    );
    app.post_events(&h, json!(batch)).await;
    let after = rules_of(&app.cases(&insp, "status=open").await);
    assert_eq!(reversed, after);
    assert_eq!(
        after,
        [
            "first_diagnosis.shirked",
            "handover.delay",
            "refusal.prohibited_reason"
        ]
    );

    // In order, on a fresh service: the same cases.
    let fresh = TestApp::spawn().await;
    let h = fresh.hospital_token("BJ-1").await;
    let insp = fresh.supervisor_token().await;
    fresh.post_events(&h, json!(batch)).await;
    assert_eq!(rules_of(&fresh.cases(&insp, "status=open").await), after);

    // The same id with other content is rejected, and nothing changes.
    let mut changed = batch[1].clone();
    changed["occurred_at"] = json!(at("10:11", 0));
    let r = fresh.post_events(&h, json!([changed])).await;
    assert_eq!(r["accepted"], 0);
    assert_eq!(r["rejected"][0]["event_id"], "h1");
    assert!(
        r["rejected"][0]["error"]
            .as_str()
            .unwrap_or("")
            .contains("event_id")
    );
}

#[actix_web::test]
async fn a_late_treatment_withdraws_an_untouched_first_diagnosis_case() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("BJ-1").await;
    let insp = app.supervisor_token().await;
    let mut transfer = event("x1", "transfer", "P1", &at("10:30", 0));
    transfer["to_hospital"] = json!("BJ-2");
    app.post_events(
        &h,
        json!([
            arrival("a1", "P1", &at("10:00", 0), "critical", "walk_in"),
            transfer
        ]),
    )
    .await;
    assert_eq!(
        app.cases(&insp, "rule=first_diagnosis.shirked&status=open")
            .await
            .len(),
        1
    );
    // The treatment before the transfer arrives late: no violation after all.
    app.post_events(&h, json!([event("t1", "treatment", "P1", &at("10:10", 0))]))
        .await;
    assert!(
        app.cases(&insp, "rule=first_diagnosis.shirked&status=open")
            .await
            .is_empty()
    );
    let withdrawn = app
        .cases(&insp, "rule=first_diagnosis.shirked&status=withdrawn")
        .await;
    assert_eq!(withdrawn.len(), 1);
}

#[actix_web::test]
async fn the_same_event_posted_by_two_requests_at_once_is_stored_once() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("BJ-1").await;
    let insp = app.supervisor_token().await;
    let batch = json!([
        arrival("a1", "P1", &at("10:00", 0), "critical", "walk_in"),
        refusal("r1", "P1", &at("10:05", 0), &["health_code"]),
    ]);
    let (one, two) = futures_util::join!(
        app.post_events(&h, batch.clone()),
        app.post_events(&h, batch.clone())
    );
    let accepted = one["accepted"].as_u64().unwrap_or(9) + two["accepted"].as_u64().unwrap_or(9);
    let duplicates =
        one["duplicates"].as_u64().unwrap_or(9) + two["duplicates"].as_u64().unwrap_or(9);
    assert_eq!((accepted, duplicates), (2, 2), "{one} {two}");
    assert_eq!(
        app.cases(&insp, "rule=refusal.prohibited_reason")
            .await
            .len(),
        1
    );
}

#[actix_web::test]
async fn a_mixed_batch_stores_the_good_and_names_the_faults_of_the_bad() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("BJ-1").await;
    let insp = app.supervisor_token().await;
    let future = (Utc::now() + Duration::minutes(10)).to_rfc3339();
    let r = app
        .post_events(
            &h,
            json!([
                arrival("a1", "P1", &at("10:00", 0), "critical", "walk_in"),
                {"event_id": "bad1", "type": "arrival", "occurred_at": at("10:00", 0), "patient": {"ref": "x"}, "acuity": "very"},
                {"event_id": "bad2", "type": "handover", "occurred_at": future, "patient": {"ref": "x"}},
                {"event_id": "bad3", "type": "refusal", "occurred_at": at("10:00", 0), "patient": {"ref": "x"}, "reasons": ["fever"], "colour": "red"},
                {"type": "treatment", "occurred_at": at("10:00", 0), "patient": {"ref": "x"}},
                refusal("r1", "P1", &at("10:05", 0), &["fever"]),
            ]),
        )
        .await;
    assert_eq!(r["accepted"], 2);
    let rejected = r["rejected"].as_array().expect("rejected");
    let got: Vec<(u64, String)> = rejected
        .iter()
        .map(|x| {
            (
                x["index"].as_u64().unwrap_or(99),
                x["errors"][0]["field"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, "acuity".to_string()),
            (2, "occurred_at".into()),
            (3, "colour".into()),
            (4, "event_id".into())
        ]
    );
    assert_eq!(rejected[0]["event_id"], "bad1");
    assert_eq!(
        app.cases(&insp, "rule=refusal.prohibited_reason")
            .await
            .len(),
        1
    );
    // The rejected ones were not stored: posting a corrected bad1 is accepted, not a conflict.
    let mut fixed = arrival("bad1", "P9", &at("10:00", 0), "urgent", "walk_in");
    fixed["patient"] = json!({"ref": "x"});
    let r = app.post_events(&h, json!([fixed])).await;
    assert_eq!(r["accepted"], 1, "{r}");
}

#[actix_web::test]
async fn ndjson_content_types_and_limits() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("BJ-1").await;
    let lines = [
        arrival("a1", "P1", &at("10:00", 0), "critical", "walk_in").to_string(),
        String::new(),
        event("t1", "treatment", "P1", &at("10:05", 0)).to_string(),
    ]
    .join("\n");
    let (status, r) = app
        .post_raw(
            "/api/v1/intake-events",
            Some(&h),
            "application/x-ndjson",
            lines.into_bytes(),
        )
        .await;
    assert_eq!((status, r["accepted"].as_u64()), (200, Some(2)), "{r}");

    let (status, r) = app
        .post_raw(
            "/api/v1/intake-events",
            Some(&h),
            "application/x-ndjson",
            b"{\"event_id\": \"x\"}\nnot json\n".to_vec(),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(r["errors"][0]["field"], "line 2", "{r}");

    let (status, _) = app
        .post_raw(
            "/api/v1/intake-events",
            Some(&h),
            "text/csv",
            b"a,b".to_vec(),
        )
        .await;
    assert_eq!(status, 415);
    let (status, r) = app
        .post_raw(
            "/api/v1/intake-events",
            Some(&h),
            "application/json",
            b"[1,".to_vec(),
        )
        .await;
    assert_eq!(status, 400, "{r}");
    // A single event object is accepted as well as an array.
    let one = event("t2", "treatment", "P1", &at("10:06", 0));
    let (status, r) = app.post_json("/api/v1/intake-events", Some(&h), &one).await;
    assert_eq!((status, r["accepted"].as_u64()), (200, Some(1)));

    let many: Vec<Value> = (0..10_001)
        .map(|i| json!({"event_id": format!("e{i}")}))
        .collect();
    let (status, _) = app
        .post_json("/api/v1/intake-events", Some(&h), &json!(many))
        .await;
    assert_eq!(status, 413);
}

#[actix_web::test]
async fn identity_numbers_never_reach_the_database() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("BJ-1").await;
    let id_number = "11010519900307123X";
    let r = app
        .post_events(
            &h,
            json!([
                arrival("a1", id_number, &at("10:00", 0), "critical", "walk_in"),
                refusal("r1", id_number, &at("10:01", 0), &["fever"])
            ]),
        )
        .await;
    assert_eq!(r["accepted"], 2);
    assert!(!r.to_string().contains(id_number));
    // Sent as a number by mistake: rejected, and the error does not repeat it.
    let wrong = app
        .post_events(&h, json!([{"event_id": "x1", "type": "treatment", "occurred_at": at("10:02", 0), "patient": {"id_number": 110105199003071234u64}}]))
        .await;
    assert_eq!(
        wrong["rejected"][0]["errors"][0]["field"],
        "patient.id_number"
    );
    assert!(!wrong.to_string().contains("110105199003071234"), "{wrong}");
    let insp = app.supervisor_token().await;
    let cases = app.cases(&insp, "").await;
    assert!(!cases.is_empty());
    for c in &cases {
        let (_, detail) = app
            .get(&format!("/api/v1/cases/{}", c["id"]), Some(&insp))
            .await;
        assert!(!detail.to_string().contains(id_number));
        assert!(
            detail["evidence"]["events"][0]["patient"]
                .as_str()
                .unwrap_or("")
                .starts_with("P-")
        );
    }
    match app.sqlite_file() {
        Some(path) => {
            // Checkpoint the WAL into the file, then read every byte of the database files.
            let mut bytes = Vec::new();
            for suffix in ["", "-wal", "-shm"] {
                let p = format!("{}{suffix}", path.display());
                bytes.extend(std::fs::read(&p).unwrap_or_default());
            }
            assert!(!bytes.is_empty());
            let needle = id_number.as_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "the id number is in the database file"
            );
            assert!(!bytes.windows(12).any(|w| w == &needle[..12]));
        }
        None => {
            let found: i64 = app
                .state
                .db(move |conn| {
                    use diesel::prelude::*;
                    use shouzhen_store::schema::intake_events::dsl::*;
                    Ok(intake_events
                        .filter(
                            payload
                                .like("%1101051990%")
                                .or(patient_key.like("%1101051990%"))
                                .or(event_id.like("%1101051990%")),
                        )
                        .count()
                        .get_result(conn)?)
                })
                .await
                .expect("query");
            assert_eq!(found, 0);
        }
    }
}

#[actix_web::test]
async fn policy_packs_judge_events_by_the_rules_in_force_when_they_happened() {
    let packs = concat!(env!("CARGO_MANIFEST_DIR"), "/policies");
    let app = TestApp::builder()
        .var("SHOUZHEN_POLICY", packs)
        .spawn()
        .await;
    let creds = app.add_hospital_in("DD-1", "振兴区", "dandong").await;
    let h = app.token_for(&creds).await;
    let insp = app.supervisor_token().await;
    let on = |day: &str, hm: &str| format!("2022-06-{day}T{hm}:00+08:00");
    app.post_events(
        &h,
        json!([
            // Before Dandong's 2022-06-27 directive the 15-minute handover rule was not in force.
            arrival("a1", "P1", &on("26", "10:00"), "urgent", "ambulance"),
            event("h1", "handover", "P1", &on("26", "10:40")),
            arrival("a2", "P2", &on("27", "10:00"), "urgent", "ambulance"),
            event("h2", "handover", "P2", &on("27", "10:40")),
        ]),
    )
    .await;
    let cases = app.cases(&insp, "rule=handover.delay").await;
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert!(cases[0]["summary"].as_str().unwrap_or("").contains("a2"));
    let (_, detail) = app
        .get(&format!("/api/v1/cases/{}", cases[0]["id"]), Some(&insp))
        .await;
    assert_eq!(detail["district"], "振兴区");
}

#[actix_web::test]
async fn the_case_list_pages_by_cursor_filters_and_scopes_inspectors_to_their_district() {
    let app = TestApp::spawn().await;
    let cy = app.hospital_token("BJ-CY").await; // 朝阳区
    let hd = {
        let c = app.add_hospital_in("BJ-HD", "海淀区", "beijing").await;
        app.token_for(&c).await
    };
    for (h, prefix) in [(&cy, "c"), (&hd, "h")] {
        let events: Vec<Value> = (0..3)
            .flat_map(|i| {
                let p = format!("{prefix}{i}");
                vec![
                    arrival(&format!("{p}a"), &p, &at("10:00", 0), "critical", "walk_in"),
                    refusal(&format!("{p}r"), &p, &at("10:05", 0), &["fever"]),
                ]
            })
            .collect();
        app.post_events(h, json!(events)).await;
    }
    let sup = app.supervisor_token().await;
    let all = app.cases(&sup, "rule=refusal.prohibited_reason").await;
    assert_eq!(all.len(), 6);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/api/v1/cases?rule=refusal.prohibited_reason&limit=4&cursor={c}"),
            None => "/api/v1/cases?rule=refusal.prohibited_reason&limit=4".to_string(),
        };
        let (status, page) = app.get(&q, Some(&sup)).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|c| c["id"].as_i64().unwrap_or(0)),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let mut expected: Vec<i64> = all.iter().map(|c| c["id"].as_i64().unwrap_or(0)).collect();
    assert_eq!(seen, expected, "pages in order, nothing twice");
    expected.dedup();
    assert_eq!(expected.len(), 6);

    let insp = app.inspector_token().await; // 朝阳区
    let mine = app.cases(&insp, "rule=refusal.prohibited_reason").await;
    assert_eq!(mine.len(), 3);
    assert!(mine.iter().all(|c| c["hospital"] == "BJ-CY"));
    let other = all
        .iter()
        .find(|c| c["hospital"] == "BJ-HD")
        .expect("a Haidian case");
    let (status, _) = app
        .get(&format!("/api/v1/cases/{}", other["id"]), Some(&insp))
        .await;
    assert_eq!(status, 403);

    for (q, field) in [
        ("severity=urgent", "severity"),
        ("rule=nope", "rule"),
        ("limit=0", "limit"),
        ("since=yesterday", "since"),
        ("cursor=zzz", "cursor"),
        ("colour=red", "colour"),
    ] {
        let (status, body) = app.get(&format!("/api/v1/cases?{q}"), Some(&sup)).await;
        assert_eq!(status, 400, "{q}: {body}");
        assert_eq!(body["errors"][0]["field"], field, "{q}: {body}");
    }
    let (status, _) = app.get("/api/v1/cases/999999", Some(&sup)).await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn an_arrival_and_a_refusal_posted_at_once_by_two_requests_are_judged_together() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("BJ-1").await;
    let insp = app.supervisor_token().await;
    for round in 0..5 {
        let p = format!("P{round}");
        let a = json!([arrival(
            &format!("a{round}"),
            &p,
            &at("10:00", 0),
            "critical",
            "walk_in"
        )]);
        let r = json!([refusal(
            &format!("r{round}"),
            &p,
            &at("10:05", 0),
            &["no_test"]
        )]);
        futures_util::join!(app.post_events(&h, a), app.post_events(&h, r));
    }
    // Whichever committed first, the later request saw both events.
    assert_eq!(
        app.cases(&insp, "rule=refusal.prohibited_reason")
            .await
            .len(),
        5
    );
}

/// A case's status, its history as "action by actor", and its evidence's event ids.
async fn history_of(app: &TestApp, token: &str, id: i64) -> (String, Vec<String>, Vec<String>) {
    let (status, body) = app.get(&format!("/api/v1/cases/{id}"), Some(token)).await;
    assert_eq!(status, 200, "{body}");
    let items = |list: &Value| list.as_array().cloned().unwrap_or_default();
    let actions = items(&body["actions"])
        .iter()
        .map(|a| format!("{} by {}", a["action"], a["actor"]).replace('"', ""))
        .collect();
    let events = items(&body["evidence"]["events"])
        .iter()
        .map(|e| e["event_id"].as_str().unwrap_or("").to_string())
        .collect();
    (
        body["status"].as_str().unwrap_or("").to_string(),
        actions,
        events,
    )
}

#[actix_web::test]
async fn later_evidence_withdraws_untouched_cases_and_notes_those_under_review_once() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("BJ-1").await;
    let sup = app.supervisor_token().await;
    let insp = app.inspector_token().await;
    // Three ambulance patients with no handover recorded: three cases.
    app.post_events(
        &h,
        json!([
            arrival("a1", "P1", &at("10:00", 0), "urgent", "ambulance"),
            arrival("a2", "P2", &at("10:00", 0), "urgent", "ambulance"),
            arrival("a3", "P3", &at("10:00", 0), "urgent", "ambulance"),
        ]),
    )
    .await;
    let cases = app.cases(&sup, "rule=handover.delay").await;
    assert_eq!(cases.len(), 3);
    let case_of = |event: &str| {
        cases
            .iter()
            .find(|c| c["summary"].as_str().unwrap_or("").contains(event))
            .and_then(|c| c["id"].as_i64())
            .expect("a case per arrival")
    };
    let (c1, c2, c3) = (case_of("a1"), case_of("a2"), case_of("a3"));
    // An inspector takes up P2's case.
    let (status, body) = app
        .post_json(
            &format!("/api/v1/cases/{c2}/actions"),
            Some(&insp),
            &json!({"action": "acknowledge", "note": "核实中"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // One request: P1 and P2 were handed over in time after all; P3 late.
    app.post_events(
        &h,
        json!([
            event("h1", "handover", "P1", &at("10:05", 0)),
            event("h2", "handover", "P2", &at("10:06", 0)),
            event("h3", "handover", "P3", &at("10:40", 0)),
        ]),
    )
    .await;
    let system = |a: &str| format!("{a} by system");
    assert_eq!(
        history_of(&app, &sup, c1).await,
        (
            "withdrawn".into(),
            vec![system("open"), system("withdraw")],
            vec!["a1".into()]
        )
    );
    let acknowledged = vec![
        system("open"),
        "acknowledge by inspector@wjw.example.cn".into(),
        system("note"),
    ];
    assert_eq!(
        history_of(&app, &sup, c2).await,
        (
            "acknowledged".into(),
            acknowledged.clone(),
            vec!["a2".into()]
        )
    );
    assert_eq!(
        history_of(&app, &sup, c3).await,
        (
            "open".into(),
            vec![system("open")],
            vec!["a3".into(), "h3".into()]
        )
    );
    // More of P1's and P2's care changes nothing: no second note, no second withdrawal.
    app.post_events(
        &h,
        json!([
            event("t1", "treatment", "P1", &at("10:20", 0)),
            event("t2", "treatment", "P2", &at("10:20", 0)),
        ]),
    )
    .await;
    assert_eq!(history_of(&app, &sup, c1).await.1.len(), 2);
    assert_eq!(history_of(&app, &sup, c2).await.1, acknowledged);
}
