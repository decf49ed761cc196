//! The rest of the chain on the hospital's log, over HTTP: designated hospitals, referral
//! approval, critical closures and continuity of care, the community certificate, each at its
//! boundary, and the bad input each brings named by field.

use crate::common;

use chrono::{Duration, Utc};
use common::{TestApp, at};
use serde_json::{Value, json};

async fn cases_of(app: &TestApp, token: &str, rule: &str) -> Vec<Value> {
    app.cases(token, &format!("rule={rule}")).await
}

/// A service judging by the shipped packs (their `[[jurisdiction]]` places).
async fn with_packs() -> TestApp {
    TestApp::builder()
        .var(
            "SHOUZHEN_POLICY",
            concat!(env!("CARGO_MANIFEST_DIR"), "/policies"),
        )
        .spawn()
        .await
}

fn arrival(id: &str, patient: &str, acuity: &str, zone: &str) -> Value {
    json!({"event_id": id, "type": "arrival", "occurred_at": at("10:00", 0),
           "patient": {"id_number": patient}, "acuity": acuity, "arrived_by": "community_vehicle",
           "origin_zone": zone})
}

fn refusal(id: &str, patient: &str, reasons: &[&str]) -> Value {
    json!({"event_id": id, "type": "refusal", "occurred_at": at("10:05", 0),
           "patient": {"id_number": patient}, "reasons": reasons})
}

#[actix_web::test]
async fn a_hospital_designated_for_sealed_zones_may_refuse_a_controlled_patient_but_not_a_sealed_one()
 {
    let app = TestApp::spawn().await;
    let yellow = app
        .designated_hospital_token("DD-ZX", "dandong", "sealed")
        .await;
    let other = app.hospital_token("DD-YB").await;
    let sup = app.supervisor_token().await;
    app.post_events(
        &yellow,
        json!([
            // A routine patient of a sealed zone: the designated hospital is where they must go.
            arrival("a1", "P1", "routine", "sealed"),
            refusal("r1", "P1", &["no_beds"]),
            // A controlled zone's patient: the hospital is designated for sealed zones only.
            arrival("a2", "P2", "routine", "controlled"),
            refusal("r2", "P2", &["other"]),
        ]),
    )
    .await;
    // A hospital designated for nothing refusing a sealed-zone patient: not this rule.
    app.post_events(
        &other,
        json!([
            arrival("b1", "P3", "routine", "sealed"),
            refusal("b2", "P3", &["other"])
        ]),
    )
    .await;
    let cases = cases_of(&app, &sup, "designated.refused").await;
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert_eq!(cases[0]["hospital"], "DD-ZX");
    assert_eq!(cases[0]["severity"], "high");
    let summary = cases[0]["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("封控区定点医院"), "{summary}");
    assert!(summary.contains("r1"), "{summary}");
}

#[actix_web::test]
async fn referrals_need_a_municipal_approval_out_of_the_city_and_a_provincial_one_out_of_the_province()
 {
    let app = with_packs().await;
    let h = app.designated_hospital_token("DD-ZX", "dandong", "").await;
    let national = app.hospital_token("XX-1").await;
    let sup = app.supervisor_token().await;
    let transfer = |id: &str, city: &str, province: &str, level: Option<&str>| {
        let mut e = json!({"event_id": id, "type": "transfer", "occurred_at": at("11:00", 0),
            "patient": {"id_number": format!("P-{id}")},
            "to_facility": {"name": format!("{city}某医院"), "city": city, "province": province}});
        if let Some(level) = level {
            e["approval"] = json!({"ref": format!("审-{id}"), "level": level});
        }
        e
    };
    let report = app
        .post_events(
            &h,
            json!([
                transfer("t1", "丹东市", "辽宁省", None),
                transfer("t2", "沈阳", "辽宁", Some("municipal")),
                transfer("t3", "沈阳", "辽宁", None),
                transfer("t4", "北京", "北京", Some("municipal")),
                transfer("t5", "北京", "北京", Some("provincial")),
            ]),
        )
        .await;
    assert_eq!(report["accepted"], 5, "{report}");
    // A hospital of a jurisdiction no pack places: not judged.
    app.post_events(&national, json!([transfer("n1", "北京", "北京", None)]))
        .await;
    let cases = cases_of(&app, &sup, "referral.unapproved").await;
    let mut flagged: Vec<String> = cases
        .iter()
        .map(|c| {
            let s = c["summary"].as_str().unwrap_or_default();
            s.split("事件 ")
                .nth(1)
                .unwrap_or_default()
                .trim_end_matches('）')
                .to_string()
        })
        .collect();
    flagged.sort();
    assert_eq!(flagged, ["t3", "t4"], "{cases:?}");
    let t4 = cases
        .iter()
        .find(|c| c["summary"].as_str().is_some_and(|s| s.contains("t4")))
        .map(|c| c["summary"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    assert!(
        t4.contains("出省") && t4.contains("仅有市级审核") && t4.contains("需省级审核"),
        "{t4}"
    );
}

#[actix_web::test]
async fn bad_referrals_and_diversions_are_rejected_naming_the_field() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("DD-ZX").await;
    app.hospital_token("DD-YB").await;
    let base = |id: &str, more: Value| {
        let mut e = json!({"event_id": id, "type": "transfer", "occurred_at": at("11:00", 0),
                           "patient": {"ref": "p"}});
        if let (Some(o), Value::Object(m)) = (e.as_object_mut(), more) {
            o.extend(m);
        }
        e
    };
    let closure = |id: &str, diverted_to: &str| {
        json!({"event_id": id, "type": "closure_start", "occurred_at": at("08:00", 0),
               "closure": {"id": id, "scope": "unit", "kind": "dialysis", "diverted_to": diverted_to}})
    };
    let report = app
        .post_events(
            &h,
            json!([
                base(
                    "x1",
                    json!({"to_facility": {"name": "某医院", "province": "辽宁"}})
                ),
                base(
                    "x2",
                    json!({"to_facility": {"name": "某医院", "city": "沈阳", "province": "辽宁"},
                                  "approval": {"ref": "a-1", "level": "national"}})
                ),
                base("x3", json!({})),
                closure("x4", "NO-SUCH"),
                closure("ok1", "DD-YB"),
                json!({"event_id": "x5", "type": "closure_start", "occurred_at": at("08:00", 0),
                       "closure": {"id": "c", "scope": "unit", "kind": "icu"}}),
            ]),
        )
        .await;
    assert_eq!(report["accepted"], 1, "{report}");
    let fields: Vec<(String, String)> = report["rejected"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["event_id"].as_str().unwrap_or_default().to_string(),
                r["errors"][0]["field"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("x1".to_string(), "to_facility.city".to_string()),
            ("x2".into(), "approval.level".into()),
            ("x3".into(), "to_hospital".into()),
            ("x4".into(), "closure.diverted_to".into()),
            ("x5".into(), "closure.kind".into()),
        ]
    );
    assert_eq!(
        app.stored_events().await,
        1,
        "nothing of the bad events is stored"
    );
}

#[actix_web::test]
async fn emergency_and_dialysis_closures_open_a_case_at_once_and_a_dialysis_closure_must_divert_within_24_hours()
 {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("DD-ZX").await;
    app.hospital_token("DD-YB").await;
    let sup = app.supervisor_token().await;
    let start = Utc::now() - Duration::hours(1);
    let closure =
        |id: &str, kind: &str, scope: &str, at: chrono::DateTime<Utc>, to: Option<&str>| {
            let mut c = json!({"id": id, "scope": scope, "kind": kind});
            if let Some(to) = to {
                c["diverted_to"] = json!(to);
            }
            json!({"event_id": format!("{id}-{}", at.timestamp()), "type": "closure_start",
               "occurred_at": at.to_rfc3339(), "closure": c})
        };
    app.post_events(
        &h,
        json!([
            closure("ER", "emergency", "unit", start, None),
            closure("HD1", "dialysis", "unit", start, None),
            closure("HD2", "dialysis", "unit", start, Some("DD-YB")),
            closure("FC", "fever_clinic", "department", start, None),
            closure("ONC", "oncology", "department", start, None),
        ]),
    )
    .await;
    let critical = cases_of(&app, &sup, "closure.critical_unit").await;
    let mut ids: Vec<String> = critical
        .iter()
        .filter_map(|c| c["summary"].as_str())
        .map(|s| {
            s.split("停诊编号 ")
                .nth(1)
                .unwrap_or_default()
                .trim_end_matches('）')
                .to_string()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, ["ER", "HD1", "HD2"], "{critical:?}");
    // Not yet 24 hours: no continuity case.
    assert!(
        cases_of(&app, &sup, "continuity.no_diversion")
            .await
            .is_empty()
    );
    assert_eq!(
        app.sweep_at(start + Duration::hours(24) - Duration::seconds(1))
            .await,
        0
    );
    assert!(
        cases_of(&app, &sup, "continuity.no_diversion")
            .await
            .is_empty()
    );
    // At exactly 24 hours the dialysis and oncology closures that named no diversion are due.
    app.sweep_at(start + Duration::hours(24)).await;
    let continuity = cases_of(&app, &sup, "continuity.no_diversion").await;
    let mut ids: Vec<String> = continuity
        .iter()
        .filter_map(|c| c["summary"].as_str())
        .map(|s| {
            s.split("停诊编号 ")
                .nth(1)
                .unwrap_or_default()
                .trim_end_matches('）')
                .to_string()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, ["HD1", "ONC"], "{continuity:?}");
    assert_eq!(continuity[0]["severity"], "high");
}

#[actix_web::test]
async fn a_diversion_named_by_the_24th_hour_on_a_later_event_of_the_closure_keeps_it_clear() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("DD-ZX").await;
    app.hospital_token("DD-YB").await;
    let sup = app.supervisor_token().await;
    let event = |id: &str, kind: &str, t: &str, to: Option<&str>| {
        let mut c = json!({"id": "HD", "scope": "facility"});
        if let Some(to) = to {
            c["diverted_to"] = json!(to);
        }
        json!({"event_id": id, "type": kind, "occurred_at": t, "closure": c})
    };
    // The whole hospital closes at 08:00; its diversion is named at 08:00 the next day.
    app.post_events(
        &h,
        json!([
            event("s1", "closure_start", &at("08:00", 0), None),
            event(
                "s2",
                "closure_start",
                "2022-07-02T08:00:00+08:00",
                Some("DD-YB")
            ),
        ]),
    )
    .await;
    assert!(
        cases_of(&app, &sup, "continuity.no_diversion")
            .await
            .is_empty()
    );
    assert_eq!(cases_of(&app, &sup, "closure.critical_unit").await.len(), 1);
    // Another hospital's closure names it a second later: too late.
    let late = app.hospital_token("DD-3").await;
    app.post_events(
        &late,
        json!([
            event("s1", "closure_start", &at("08:00", 0), None),
            event(
                "s2",
                "closure_end",
                "2022-07-02T08:00:01+08:00",
                Some("DD-YB")
            ),
        ]),
    )
    .await;
    let cases = cases_of(&app, &sup, "continuity.no_diversion").await;
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert_eq!(cases[0]["hospital"], "DD-3");
}

#[actix_web::test]
async fn a_missing_community_certificate_is_no_reason_to_refuse_a_critical_patient_only() {
    let app = TestApp::spawn().await;
    let h = app.hospital_token("DD-ZX").await;
    let sup = app.supervisor_token().await;
    app.post_events(
        &h,
        json!([
            arrival("a1", "P1", "critical", "none"),
            refusal("r1", "P1", &["no_community_certificate"]),
            arrival("a2", "P2", "urgent", "none"),
            refusal("r2", "P2", &["no_community_certificate"]),
        ]),
    )
    .await;
    let cases = cases_of(&app, &sup, "refusal.prohibited_reason").await;
    assert_eq!(cases.len(), 1, "{cases:?}");
    let summary = cases[0]["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("无社区证明") && summary.contains("r1"),
        "{summary}"
    );
}
