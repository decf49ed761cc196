//! What an outside scan of the service found (issue 34, item 9), each fixed and tested here:
//! an open redirect after sign-in, HEAD answered 405, no HSTS behind https, a rotated secret
//! leaving its tokens alive, metrics open to anyone, control characters stored and shown back.

use crate::common::{TestApp, Visitor};

#[actix_web::test]
async fn only_a_path_of_this_service_follows_a_sign_in() {
    let app = TestApp::spawn().await;
    app.inspector_token().await;
    for next in [
        "/\\evil.example",
        "//evil.example",
        "/\\/evil.example",
        "https://evil.example",
        "/dash\tboard",
    ] {
        let mut visitor = Visitor::new(&app);
        let token = visitor.token("/login").await;
        let (status, location, _) = visitor
            .post(
                "/login",
                &token,
                &[
                    ("email", "inspector@wjw.example.cn"),
                    ("password", "a long enough password"),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(status, 303, "{next:?}");
        assert!(
            location.starts_with("/dashboard?lang="),
            "{next:?} led to {location:?}"
        );
    }
    // From the query string too: the form does not carry it on.
    let mut visitor = Visitor::new(&app);
    let (status, _, page) = visitor.get("/login?next=/%5Cevil.example").await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("evil.example"),
        "the form carries the next on"
    );
    let token = visitor.token("/login?next=/%5Cevil.example").await;
    let (_, location, _) = visitor
        .post(
            "/login?next=/%5Cevil.example",
            &token,
            &[
                ("email", "inspector@wjw.example.cn"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert!(location.starts_with("/dashboard?lang="), "{location:?}");
    // A path of the service still follows.
    let mut visitor = Visitor::new(&app);
    let token = visitor.token("/login").await;
    let (_, location, _) = visitor
        .post(
            "/login",
            &token,
            &[
                ("email", "inspector@wjw.example.cn"),
                ("password", "a long enough password"),
                ("next", "/cases/1?lang=en"),
            ],
        )
        .await;
    assert_eq!(location, "/cases/1?lang=en");
}

#[actix_web::test]
async fn head_answers_as_get_without_the_body() {
    let app = TestApp::spawn().await;
    for path in [
        "/healthz",
        "/complaints/new",
        "/api/v1/hospitals",
        "/hospitals",
    ] {
        let get = app.client.get(app.url(path)).send().await.expect("get");
        let mut head = app.client.head(app.url(path)).send().await.expect("head");
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert_eq!(head.status(), 200, "HEAD {path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "{path}"
        );
        let body = head.body().await.expect("body");
        assert!(body.is_empty(), "HEAD {path} sent a body");
    }
    // A path with POST only still answers 405, naming what it allows.
    let head = app
        .client
        .head(app.url("/oauth/token"))
        .send()
        .await
        .expect("head");
    assert_eq!(head.status(), 405);
    assert_eq!(
        head.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
}

#[actix_web::test]
async fn hsts_is_sent_when_the_public_address_is_https_only() {
    let plain = TestApp::spawn().await;
    let resp = plain
        .client
        .get(plain.url("/healthz"))
        .send()
        .await
        .expect("get");
    assert!(resp.headers().get("strict-transport-security").is_none());
    let behind_tls = TestApp::builder()
        .var("SHOUZHEN_PUBLIC_URL", "https://shouzhen.wjw.example.cn")
        .spawn()
        .await;
    let resp = behind_tls
        .client
        .get(behind_tls.url("/healthz"))
        .send()
        .await
        .expect("get");
    assert_eq!(
        resp.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000; includeSubDomains")
    );
}

#[actix_web::test]
async fn a_rotated_secret_refuses_the_tokens_issued_before_on_every_instance() {
    let app = TestApp::spawn().await;
    let other = TestApp::builder().database_of(&app).spawn().await;
    let creds = app.add_hospital("ROT-1").await;
    let old = app.token_for(&creds).await;
    let ev = |id: &str| {
        serde_json::json!({"event_id": id, "type": "arrival", "occurred_at": "2022-07-01T08:00:00+08:00",
            "patient": {"ref": id}, "acuity": "routine", "arrived_by": "walk_in"})
    };
    // Both instances know the token (and cache the client).
    for (n, instance) in [&app, &other].into_iter().enumerate() {
        let (status, body) = instance
            .post_json(
                "/api/v1/intake-events",
                Some(&old),
                &ev(&format!("before-{n}")),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    // A second later (tokens are dated to the second), the secret is replaced as `shouzhen
    // hospital rotate-secret` does, from outside both instances: each refuses the old token
    // within seconds.
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;
    let fresh = app
        .state
        .db(|conn| shouzhen_app::accounts::rotate_secret(conn, "ROT-1"))
        .await
        .expect("rotate");
    let started = std::time::Instant::now();
    for (n, instance) in [&app, &other].into_iter().enumerate() {
        loop {
            let (status, body) = instance
                .post_json(
                    "/api/v1/intake-events",
                    Some(&old),
                    &ev(&format!("after-{n}")),
                )
                .await;
            if status == 401 {
                break;
            }
            assert_eq!(status, 200, "{body}");
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "instance {n} still takes the old token"
            );
            actix_web::rt::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }
    // A token of the new secret works on both.
    let new = app.token_for(&fresh).await;
    for (n, instance) in [&app, &other].into_iter().enumerate() {
        let (status, body) = instance
            .post_json(
                "/api/v1/intake-events",
                Some(&new),
                &ev(&format!("new-{n}")),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
}

#[actix_web::test]
async fn the_metrics_answer_a_scraper_s_token_or_this_machine_only() {
    let local = TestApp::spawn().await;
    let (status, text) = local.get_text("/metrics").await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("shouzhen_db_pool_connections"), "{text}");
    // Through a proxy on this machine: the public, refused.
    let resp = local
        .client
        .get(local.url("/metrics"))
        .insert_header(("x-forwarded-for", "203.0.113.9"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 403);
    let token = "scraper-token-0123456789abcdef";
    let scraped = TestApp::builder()
        .var("SHOUZHEN_METRICS_TOKEN", token)
        .spawn()
        .await;
    let (status, _) = scraped.get_text("/metrics").await;
    assert_eq!(status, 401, "no token");
    for (given, expected) in [("wrong-token-0123456789abcdef", 401), (token, 200)] {
        let resp = scraped
            .client
            .get(scraped.url("/metrics"))
            .insert_header(("authorization", format!("Bearer {given}")))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), expected, "{given}");
    }
}

#[actix_web::test]
async fn control_characters_in_text_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let hospital = app.hospital_token("CTL-1").await;
    // An intake event's note: the event is rejected, naming `note`; a line break is fine.
    let report = app
        .post_events(
            &hospital,
            serde_json::json!([
                {"event_id": "n1", "type": "arrival", "occurred_at": "2022-07-01T08:00:00+08:00",
                 "patient": {"ref": "p1"}, "acuity": "routine", "arrived_by": "walk_in", "note": "bad\u{0}note"},
                {"event_id": "n2", "type": "arrival", "occurred_at": "2022-07-01T08:00:00+08:00",
                 "patient": {"ref": "p2"}, "acuity": "routine", "arrived_by": "walk_in", "note": "two\nlines"}
            ]),
        )
        .await;
    assert_eq!(report["accepted"], 1, "{report}");
    assert_eq!(report["rejected"][0]["index"], 0, "{report}");
    assert!(
        report["rejected"][0].to_string().contains("note"),
        "{report}"
    );
    // A citizen's complaint: 400 naming `description`, nothing filed.
    let (status, body) = app
        .post_json(
            "/api/v1/complaints",
            None,
            &serde_json::json!({"hospital": "CTL-1", "category": "other", "occurred_at": "2026-11-20T10:30",
                                "description": "急诊\u{1b}[31m拒收"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["field"], "description", "{body}");
    // A sign-in's email: 400 naming `email`, no NUL in the audit trail.
    let (status, body) = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &serde_json::json!({"email": "a\u{0}b@wjw.example.cn", "password": "a long enough password"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["field"], "email", "{body}");
    // The same on the page: the form again, in Chinese, without the NUL.
    let mut visitor = Visitor::new(&app);
    let token = visitor.token("/login").await;
    let (status, _, page) = visitor
        .post(
            "/login",
            &token,
            &[
                ("email", "a\u{0}b@wjw.example.cn"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("<form") && !page.contains('\u{0}'), "{page}");
    // A client id of the OAuth token endpoint: no client's (401), never a 500.
    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "hc_\u{0}x"),
                ("client_secret", "whatever"),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
    // A case action's note.
    app.post_events(
        &hospital,
        serde_json::json!([
            {"event_id": "a1", "type": "arrival", "occurred_at": "2022-07-01T10:00:00+08:00",
             "patient": {"ref": "c"}, "acuity": "critical", "arrived_by": "walk_in"},
            {"event_id": "r1", "type": "refusal", "occurred_at": "2022-07-01T10:05:00+08:00",
             "patient": {"ref": "c"}, "reasons": ["health_code"]}
        ]),
    )
    .await;
    let sup = app.supervisor_token().await;
    let id = app.cases(&sup, "").await[0]["id"].as_i64().expect("a case");
    let (status, body) = app
        .post_json(
            &format!("/api/v1/cases/{id}/actions"),
            Some(&sup),
            &serde_json::json!({"action": "acknowledge", "note": "seen\u{7}"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["field"], "note", "{body}");
}
