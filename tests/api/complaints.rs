//! Complaints through real HTTP: the JSON twin, the form's protections, privacy, the complaint
//! rules, links to cases, the inspectors' actions, ratings, duplicates and retention.

use crate::common;

use chrono::{Duration, Utc};
use common::{TestApp, at};
use serde_json::{Value, json};

fn complaint(hospital: &str, category: &str, occurred: &str, description: &str) -> Value {
    json!({"hospital": hospital, "category": category, "occurred_at": occurred, "description": description})
}

async fn file(app: &TestApp, body: &Value) -> String {
    let (status, r) = app.post_json("/api/v1/complaints", None, body).await;
    assert_eq!(status, 201, "{r}");
    r["tracking_code"].as_str().expect("code").to_string()
}

#[actix_web::test]
async fn the_json_twin_files_and_the_code_shows_status_but_nothing_personal() {
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    let mut body = complaint(
        "BJ-CY",
        "refused_health_code",
        "2026-11-20T10:30",
        "因为黄码不让进急诊，父亲身份证110105194912310021",
    );
    body["contact_name"] = json!("王秀英");
    body["contact_phone"] = json!("13900001111");
    let code = file(&app, &body).await;
    assert_eq!(code.len(), 13);
    // Case and dashes do not matter.
    let dashed = format!("{}-{}-{}", &code[..4], &code[4..8], &code[8..]).to_lowercase();
    let (status, view) = app.get(&format!("/api/v1/complaints/{dashed}"), None).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "received");
    assert_eq!(view["timeline"][0]["kind"], "filed");
    assert_eq!(view["hospital"], "BJ-CY 医院");
    let text = view.to_string();
    for secret in ["王秀英", "13900001111", "110105194912310021", "黄码"] {
        assert!(!text.contains(secret), "{secret} on the public view");
    }
    let (_, page) = app.get_text(&format!("/complaints/{code}")).await;
    for secret in ["王秀英", "13900001111", "110105194912310021"] {
        assert!(!page.contains(secret), "{secret} on the public page");
    }
    assert!(page.contains(&format!("{}-{}-{}", &code[..4], &code[4..8], &code[8..])));

    // Contact details are not in the database in clear.
    if let Some(path) = app.sqlite_file() {
        let bytes: Vec<u8> = ["", "-wal"]
            .iter()
            .flat_map(|s| std::fs::read(format!("{}{s}", path.display())).unwrap_or_default())
            .collect();
        for secret in ["王秀英", "13900001111", "110105194912310021"] {
            let needle = secret.as_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{secret} in the database file"
            );
        }
    } else {
        let hits: i64 = app
            .state
            .db(|conn| {
                use diesel::prelude::*;
                use shouzhen_store::schema::complaints::dsl::*;
                Ok(complaints
                    .filter(
                        description
                            .like("%13900001111%")
                            .or(contact_sealed.like("%王秀英%"))
                            .or(description.like("%110105194912310021%")),
                    )
                    .count()
                    .get_result(conn)?)
            })
            .await
            .expect("query");
        assert_eq!(hits, 0);
    }

    // Inspectors see it masked; a reveal shows it, and is audited.
    let sup = app.supervisor_token().await;
    let (_, queue) = app.get("/api/v1/complaints", Some(&sup)).await;
    let item = &queue[0];
    assert_eq!(item["contact"], "王** 139****1111");
    let desc = item["description"].as_str().unwrap_or("");
    assert!(
        desc.contains("[身份证号已隐去]") && !desc.contains("110105194912310021"),
        "{desc}"
    );
    let (status, revealed) = app
        .post_json(
            &format!("/api/v1/complaints/{}/reveal", item["id"]),
            Some(&sup),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(revealed["contact_phone"], "13900001111");
    assert!(
        revealed["description"]
            .as_str()
            .unwrap_or("")
            .contains("110105194912310021")
    );
    let audited: i64 = app
        .state
        .db(|conn| {
            use diesel::prelude::*;
            use shouzhen_store::schema::audit_log::dsl::*;
            Ok(audit_log
                .filter(action.eq("complaint.reveal"))
                .count()
                .get_result(conn)?)
        })
        .await
        .expect("audit");
    assert_eq!(audited, 1);
}

#[actix_web::test]
async fn bad_complaints_name_their_fields() {
    let app = TestApp::spawn().await;
    let (status, r) = app
        .post_json(
            "/api/v1/complaints",
            None,
            &json!({"category": "nope", "occurred_at": "later"}),
        )
        .await;
    assert_eq!(status, 400);
    let fields: Vec<&str> = r["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        fields,
        ["hospital_name", "category", "occurred_at", "description"]
    );
    let (status, r) = app.post_json("/api/v1/complaints", None, &json!({"hospital": "NOPE", "category": "other", "occurred_at": "2026-11-20T10:00", "description": "x"})).await;
    assert_eq!(
        (status, r["errors"][0]["field"].as_str()),
        (400, Some("hospital"))
    );
    let (status, r) = app.post_json("/api/v1/complaints", None, &json!({"hospital_name": "x", "category": "other", "occurred_at": "2026-11-20T10:00", "description": "x".repeat(5001)})).await;
    assert_eq!(
        (status, r["errors"][0]["field"].as_str()),
        (400, Some("description"))
    );
    let (status, r) = app.post_json("/api/v1/complaints", None, &json!({"hospital_name": "x", "category": "other", "occurred_at": "2026-11-20T10:00", "description": "x", "email": "a@b"})).await;
    assert_eq!(
        (status, r["errors"][0]["field"].as_str()),
        (400, Some("email"))
    );
    let future = (Utc::now() + Duration::hours(2)).to_rfc3339();
    let (status, r) = app.post_json("/api/v1/complaints", None, &json!({"hospital_name": "x", "category": "other", "occurred_at": future, "description": "x"})).await;
    assert_eq!(
        (status, r["errors"][0]["field"].as_str()),
        (400, Some("occurred_at"))
    );
    let (status, _) = app.get("/api/v1/complaints/NOTACODE", None).await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn the_form_refuses_posts_without_its_csrf_token_and_drops_robots() {
    let app = TestApp::spawn().await;
    let form = [
        ("hospital_name", "某医院"),
        ("category", "other"),
        ("occurred_at", "2026-11-20T10:00"),
        ("description", "测试"),
    ];
    let resp = app
        .client
        .post(app.url("/complaints"))
        .send_form(&form)
        .await
        .expect("post");
    assert_eq!(resp.status(), 403, "no token, no cookie");
    // With a token from the form but a forged one in the body: refused too.
    let get = app
        .client
        .get(app.url("/complaints/new"))
        .send()
        .await
        .expect("get");
    let cookie = get.cookie("sz_csrf").expect("csrf cookie");
    assert!(cookie.http_only().unwrap_or(false));
    assert_eq!(
        cookie.same_site(),
        Some(actix_web::cookie::SameSite::Strict)
    );
    let forged = format!("{}.{}", cookie.value(), "0".repeat(64));
    let mut with = form.to_vec();
    with.push(("csrf_token", &forged));
    let resp = app
        .client
        .post(app.url("/complaints"))
        .cookie(cookie.clone())
        .send_form(&with)
        .await
        .expect("post");
    assert_eq!(resp.status(), 403);
    // The honeypot: answered like a success, nothing stored.
    let (_, page) = app.get_text("/complaints/new").await;
    let token = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("token")
        .to_string();
    let mut bot = form.to_vec();
    bot.push(("csrf_token", &token));
    bot.push(("website", "http://spam.example"));
    // The page above set its own cookie; use the one its token belongs to.
    let nonce = token.split('.').next().expect("nonce").to_string();
    let resp = app
        .client
        .post(app.url("/complaints"))
        .cookie(actix_web::cookie::Cookie::new("sz_csrf", nonce))
        .send_form(&bot)
        .await
        .expect("post");
    assert_eq!(resp.status(), 303);
    let sup = app.supervisor_token().await;
    let (_, queue) = app.get("/api/v1/complaints", Some(&sup)).await;
    assert_eq!(queue.as_array().map(Vec::len), Some(0));
}

#[actix_web::test]
async fn complaints_are_rate_limited_per_client() {
    let app = TestApp::builder()
        .var("SHOUZHEN_COMPLAINT_RATE_LIMIT", "3")
        .spawn()
        .await;
    let body = complaint("", "other", "2026-11-20T10:00", "测试");
    let mut body = body;
    body["hospital_name"] = json!("某医院");
    for _ in 0..3 {
        file(&app, &body).await;
    }
    let mut resp = app
        .client
        .post(app.url("/api/v1/complaints"))
        .send_json(&body)
        .await
        .expect("post");
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry));
    let problem: Value = resp.json().await.expect("json");
    assert_eq!(problem["status"], 429);
}

#[actix_web::test]
async fn hostile_text_is_stored_as_given_and_shown_escaped() {
    let app = TestApp::spawn().await;
    let payload = "<script>alert('x')</script><img src=x onerror=alert(1)>";
    let mut body = complaint("", "other", "2026-11-20T10:00", payload);
    body["hospital_name"] = json!(format!("{payload}医院"));
    let code = file(&app, &body).await;
    let (status, page) = app.get_text(&format!("/complaints/{code}")).await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("<script>alert") && !page.contains("<img src=x"),
        "unescaped on the page"
    );
    assert!(page.contains("&lt;script&gt;"), "escaped on the page");
    let sup = app.supervisor_token().await;
    let (_, queue) = app.get("/api/v1/complaints", Some(&sup)).await;
    assert_eq!(queue[0]["description"], payload, "stored as given");
}

#[actix_web::test]
async fn complaint_rules_cluster_unanswered_and_links_to_cases() {
    let app = TestApp::builder()
        .var("SHOUZHEN_ESCALATION_TO", "wjw@health.example.cn")
        .var("SHOUZHEN_OUTBOX_INTERVAL", "300")
        .spawn()
        .await;
    let h = app.hospital_token("BJ-CY").await;
    let sup = app.supervisor_token().await;
    // A complaint first, then the hospital's own log shows the refusal: linked either way.
    let early = file(
        &app,
        &complaint("BJ-CY", "refused_health_code", &at("10:10", 0), "黄码被拒"),
    )
    .await;
    app.post_events(
        &h,
        json!([{"event_id": "a1", "type": "arrival", "occurred_at": at("10:00", 0), "patient": {"ref": "p"}, "acuity": "critical", "arrived_by": "walk_in"},
               {"event_id": "r1", "type": "refusal", "occurred_at": at("10:05", 0), "patient": {"ref": "p"}, "reasons": ["health_code"]}]),
    )
    .await;
    let late = file(
        &app,
        &complaint("BJ-CY", "pushed_away", &at("11:00", 0), "被推到别的医院"),
    )
    .await;
    let case = &app.cases(&sup, "rule=refusal.prohibited_reason").await[0];
    let (_, detail) = app
        .get(&format!("/api/v1/cases/{}", case["id"]), Some(&sup))
        .await;
    let mut linked: Vec<String> = detail["evidence"]["complaints"]
        .as_array()
        .expect("complaints")
        .iter()
        .map(|c| c["tracking_code"].as_str().unwrap_or("").to_string())
        .collect();
    linked.sort();
    let mut expected = vec![early.clone(), late.clone()];
    expected.sort();
    assert_eq!(linked, expected);
    // A transport complaint corroborates nothing.
    file(
        &app,
        &complaint("BJ-CY", "transport", &at("10:30", 0), "叫不到车"),
    )
    .await;
    // Three complaints within 7 days: a cluster.
    let clusters = app.cases(&sup, "rule=complaint.cluster").await;
    assert_eq!(clusters.len(), 1);
    let (_, detail) = app
        .get(&format!("/api/v1/cases/{}", clusters[0]["id"]), Some(&sup))
        .await;
    assert_eq!(
        detail["evidence"]["complaints"].as_array().map(Vec::len),
        Some(3)
    );

    // Acknowledge one; after 24 hours the other two are unanswered, and emailed.
    let (_, queue) = app.get("/api/v1/complaints", Some(&sup)).await;
    let id_of = |code: &str| {
        queue
            .as_array()
            .expect("queue")
            .iter()
            .find(|c| c["tracking_code"] == code)
            .expect("in queue")["id"]
            .clone()
    };
    let (status, _) = app
        .post_json(
            &format!("/api/v1/complaints/{}/actions", id_of(&early)),
            Some(&sup),
            &json!({"action": "acknowledge"}),
        )
        .await;
    assert_eq!(status, 204);
    app.sweep_at(Utc::now() + Duration::hours(23)).await;
    assert!(
        app.cases(&sup, "rule=complaint.unanswered")
            .await
            .is_empty()
    );
    app.sweep_at(Utc::now() + Duration::hours(24) + Duration::minutes(1))
        .await;
    let unanswered = app.cases(&sup, "rule=complaint.unanswered").await;
    assert_eq!(unanswered.len(), 2);
    assert!(
        unanswered
            .iter()
            .all(|c| !c["summary"].as_str().unwrap_or("").contains(&early))
    );
    let emails = app
        .state
        .db(|conn| Ok(shouzhen_store::outbox::all(conn)?))
        .await
        .expect("outbox");
    assert_eq!(
        emails
            .iter()
            .filter(|e| e.subject.contains("complaint.unanswered"))
            .count(),
        2
    );
}

#[actix_web::test]
async fn inspectors_answer_close_and_citizens_rate() {
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    let sup = app.supervisor_token().await;
    let code = file(
        &app,
        &complaint(
            "BJ-CY",
            "handover_delay",
            "2026-11-20T10:00",
            "救护车到了半小时没人接",
        ),
    )
    .await;
    let (_, queue) = app.get("/api/v1/complaints", Some(&sup)).await;
    let id = queue[0]["id"].clone();
    let act = |body: Value| {
        let app = &app;
        let sup = sup.clone();
        let id = id.clone();
        async move {
            app.post_json(
                &format!("/api/v1/complaints/{id}/actions"),
                Some(&sup),
                &body,
            )
            .await
        }
    };
    let (status, _) = act(json!({"action": "close"})).await;
    assert_eq!(status, 400, "closing needs an outcome the citizen reads");
    let (status, r) = app
        .post_json(
            &format!("/api/v1/complaints/{code}/rating"),
            None,
            &json!({"rating": 5}),
        )
        .await;
    assert_eq!(status, 409, "not closed yet: {r}");
    assert_eq!(act(json!({"action": "acknowledge"})).await.0, 204);
    assert_eq!(act(json!({"action": "acknowledge"})).await.0, 409);
    assert_eq!(
        act(json!({"action": "request_info", "note": "请提供救护车到达的大致时间"}))
            .await
            .0,
        204
    );
    assert_eq!(
        act(json!({"action": "close", "note": "经核查属实，已责令医院整改并通报"}))
            .await
            .0,
        204
    );
    let (_, view) = app.get(&format!("/api/v1/complaints/{code}"), None).await;
    assert_eq!(view["status"], "closed");
    assert_eq!(view["outcome"], "经核查属实，已责令医院整改并通报");
    let kinds: Vec<&str> = view["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|u| u["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["filed", "acknowledged", "info_requested", "closed"]);
    assert_eq!(view["timeline"][2]["note"], "请提供救护车到达的大致时间");
    let (status, _) = app
        .post_json(
            &format!("/api/v1/complaints/{code}/rating"),
            None,
            &json!({"rating": 9}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = app
        .post_json(
            &format!("/api/v1/complaints/{code}/rating"),
            None,
            &json!({"rating": 4}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .post_json(
            &format!("/api/v1/complaints/{code}/rating"),
            None,
            &json!({"rating": 1}),
        )
        .await;
    assert_eq!(status, 409, "rated once");
    let (_, view) = app.get(&format!("/api/v1/complaints/{code}"), None).await;
    assert_eq!(view["rating"], 4);

    // Past the retention period the contact details are deleted.
    let mut with_contact = complaint("BJ-CY", "other", "2026-11-20T10:00", "联系我");
    with_contact["contact_phone"] = json!("13900002222");
    file(&app, &with_contact).await;
    let (_, queue) = app
        .get("/api/v1/complaints?status=received", Some(&sup))
        .await;
    let id2 = queue[0]["id"].clone();
    assert_eq!(
        app.post_json(
            &format!("/api/v1/complaints/{id2}/actions"),
            Some(&sup),
            &json!({"action": "close", "note": "已处理"})
        )
        .await
        .0,
        204
    );
    let later = shouzhen_store::now() + Duration::days(181);
    let purged = app
        .state
        .db(move |conn| Ok(shouzhen_app::complaints::purge_expired(conn, 180, later)?))
        .await
        .expect("purge");
    assert_eq!(purged, 1);
    let (_, revealed) = app
        .post_json(
            &format!("/api/v1/complaints/{id2}/reveal"),
            Some(&sup),
            &json!({}),
        )
        .await;
    assert!(revealed["contact_phone"].is_null());
}

#[actix_web::test]
async fn likely_duplicates_are_shown_and_merged_codes_keep_working() {
    let app = TestApp::spawn().await;
    app.add_hospital("BJ-CY").await;
    let sup = app.supervisor_token().await;
    let a = file(
        &app,
        &complaint(
            "BJ-CY",
            "refused_fever",
            "2026-11-20T10:00",
            "我母亲发烧，急诊不让进，让去发热门诊，发热门诊又不收",
        ),
    )
    .await;
    let b = file(
        &app,
        &complaint(
            "BJ-CY",
            "refused_fever",
            "2026-11-20T15:00",
            "我母亲发烧，急诊不让进，让去发热门诊，可是发热门诊也不收",
        ),
    )
    .await;
    let c = file(
        &app,
        &complaint(
            "BJ-CY",
            "refused_fever",
            "2026-11-21T10:00",
            "我母亲发烧，急诊不让进，让去发热门诊，发热门诊又不收",
        ),
    )
    .await;
    let (_, queue) = app.get("/api/v1/complaints", Some(&sup)).await;
    let find = |code: &str| {
        queue
            .as_array()
            .expect("q")
            .iter()
            .find(|x| x["tracking_code"] == code)
            .expect("item")
            .clone()
    };
    assert_eq!(find(&a)["likely_duplicates"], json!([b.clone()]));
    assert_eq!(find(&b)["likely_duplicates"], json!([a.clone()]));
    assert_eq!(find(&c)["likely_duplicates"], json!([]), "another day");
    let (status, _) = app
        .post_json(
            &format!("/api/v1/complaints/{}/actions", find(&b)["id"]),
            Some(&sup),
            &json!({"action": "merge", "into": a}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .post_json(
            &format!("/api/v1/complaints/{}/actions", find(&a)["id"]),
            Some(&sup),
            &json!({"action": "close", "note": "已核实处理"}),
        )
        .await;
    assert_eq!(status, 204);
    let (_, view) = app.get(&format!("/api/v1/complaints/{b}"), None).await;
    assert_eq!(
        (view["status"].as_str(), view["merged"].as_bool()),
        (Some("closed"), Some(true))
    );
    assert_eq!(view["outcome"], "已核实处理");
}
