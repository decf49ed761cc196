//! The foundation through real HTTP: tokens, roles, problem details, limits, migrations.

use crate::common;

use base64::Engine;
use common::TestApp;
use serde_json::json;

#[actix_web::test]
async fn a_hospital_gets_a_token_with_form_fields_or_basic_auth() {
    let app = TestApp::spawn().await;
    let creds = app.add_hospital("BJ-CY-1").await;

    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &creds.client_id),
                ("client_secret", &creds.client_secret),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let token = body["access_token"].as_str().expect("token");
    assert_eq!(token.split('.').count(), 3, "a JWT");

    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", creds.client_id, creds.client_secret));
    let mut resp = app
        .client
        .post(app.url("/oauth/token"))
        .insert_header(("authorization", format!("Basic {basic}")))
        .send_form(&[("grant_type", "client_credentials")])
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap_or("")),
        Some("no-store")
    );
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["token_type"], "Bearer");

    // The token opens the hospital's endpoint.
    let (status, body) = app
        .post_json("/api/v1/intake-events", Some(token), &json!([]))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[actix_web::test]
async fn wrong_secrets_and_malformed_token_requests_are_refused() {
    let app = TestApp::spawn().await;
    let creds = app.add_hospital("BJ-CY-1").await;

    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &creds.client_id),
                ("client_secret", "not-the-secret"),
            ],
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["status"], 401);
    assert!(!body.to_string().contains(&creds.client_secret));

    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "hc_nobody"),
                ("client_secret", &creds.client_secret),
            ],
        )
        .await;
    assert_eq!(status, 401, "{body}");

    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "password"),
                ("client_id", &creds.client_id),
                ("client_secret", &creds.client_secret),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "unsupported_grant_type");

    let (status, body) = app
        .post_form(
            "/oauth/token",
            &[
                ("client_id", &creds.client_id),
                ("client_secret", &creds.client_secret),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    assert!(body["detail"].as_str().unwrap_or("").contains("grant_type"));

    let (status, _) = app
        .post_raw("/oauth/token", None, "application/json", b"{}".to_vec())
        .await;
    assert_eq!(status, 415);
}

/// Builds a token signed with `key`, with the given header and claims.
fn forge(header: serde_json::Value, claims: serde_json::Value, key: &[u8]) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    let h = B64.encode(header.to_string());
    let c = B64.encode(claims.to_string());
    let signing_input = format!("{h}.{c}");
    if key.is_empty() {
        return format!("{signing_input}.");
    }
    let sig = shouzhen_app::keys::hmac(key, signing_input.as_bytes());
    format!("{signing_input}.{}", B64.encode(sig))
}

#[actix_web::test]
async fn expired_tampered_and_unsigned_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let creds = app.add_hospital("BJ-CY-1").await;
    let good = app.token_for(&creds).await;
    let key = app.state.keys.jwt;
    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64| json!({"sub": creds.client_id, "role": "hospital", "iat": now - 7200, "exp": exp, "iss": "shouzhen"});
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});

    // A correctly signed token of our own making passes: the forgery helper is faithful.
    let own = forge(hs256.clone(), claims(now + 600), &key);
    let (status, body) = app
        .post_json("/api/v1/intake-events", Some(&own), &json!([]))
        .await;
    assert_eq!(status, 200, "{body}");

    let expired = forge(hs256.clone(), claims(now - 3600), &key);
    let unsigned = forge(json!({"alg": "none", "typ": "JWT"}), claims(now + 600), &[]);
    let other_key = forge(hs256.clone(), claims(now + 600), &[9u8; 32]);
    // Signed with the right key, but announcing another algorithm: the algorithm is pinned.
    let other_alg = forge(
        json!({"alg": "HS384", "typ": "JWT"}),
        claims(now + 600),
        &key,
    );
    let as_admin = {
        // Payload changed after signing: the signature no longer matches.
        let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
        let admin = json!({"sub": creds.client_id, "role": "admin", "iat": now, "exp": now + 600, "iss": "shouzhen"});
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(admin.to_string());
        parts.join(".")
    };
    let wrong_issuer = forge(
        hs256.clone(),
        json!({"sub": creds.client_id, "role": "hospital", "iat": now, "exp": now + 600, "iss": "someone"}),
        &key,
    );
    for (name, token) in [
        ("expired", expired),
        ("alg none", unsigned),
        ("other key", other_key),
        ("other algorithm", other_alg),
        ("tampered", as_admin),
        ("wrong issuer", wrong_issuer),
        ("garbage", "not.a.token".to_string()),
    ] {
        let (status, body) = app
            .post_json("/api/v1/intake-events", Some(&token), &json!([]))
            .await;
        assert_eq!(status, 401, "{name} token: {body}");
        assert_eq!(body["title"], "Unauthorized", "{name}");
    }

    let (status, _) = app
        .post_json("/api/v1/intake-events", None, &json!([]))
        .await;
    assert_eq!(status, 401, "no token");
}

#[actix_web::test]
async fn roles_are_enforced_both_ways() {
    let app = TestApp::spawn().await;
    let hospital = app.hospital_token("BJ-CY-1").await;
    let inspector = app.inspector_token().await;

    let (status, body) = app
        .post_json("/api/v1/intake-events", Some(&inspector), &json!([]))
        .await;
    assert_eq!(status, 403, "inspector on the hospital endpoint: {body}");
    assert_eq!(body["status"], 403);

    let (status, body) = app.get("/api/v1/cases", Some(&hospital)).await;
    assert_eq!(status, 403, "hospital on the inspector endpoint: {body}");

    let (status, body) = app.get("/api/v1/cases", Some(&inspector)).await;
    assert_eq!(status, 200, "{body}");
}

#[actix_web::test]
async fn login_checks_the_password_and_errors_name_fields() {
    let app = TestApp::spawn().await;
    app.inspector_token().await;

    let (status, body) = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"email": "inspector@wjw.example.cn", "password": "wrong password!"}),
        )
        .await;
    assert_eq!(status, 401, "{body}");

    let (status, body) = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"email": "inspector@wjw.example.cn"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["field"], "password", "{body}");

    let (status, body) = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"email": "a@b.cn", "password": "x", "passwrd": "y"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["field"], "passwrd", "{body}");

    let (status, body) = app
        .post_raw(
            "/api/v1/auth/login",
            None,
            "application/json",
            b"{\"email\": ".to_vec(),
        )
        .await;
    assert_eq!(status, 400, "unparseable JSON");
    assert_eq!(body["errors"][0]["field"], "body", "{body}");
    assert!(
        body["type"]
            .as_str()
            .unwrap_or("")
            .contains("invalid-request"),
        "{body}"
    );

    let (status, _) = app
        .post_raw("/api/v1/auth/login", None, "text/plain", b"hello".to_vec())
        .await;
    assert_eq!(status, 415);
}

#[actix_web::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = TestApp::spawn().await;
    let big = format!(
        "{{\"email\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(100_000)
    );
    let (status, body) = app
        .post_raw(
            "/api/v1/auth/login",
            None,
            "application/json",
            big.into_bytes(),
        )
        .await;
    assert_eq!(status, 413, "{body}");

    let token = app.hospital_token("BJ-CY-1").await;
    let huge = vec![b' '; 17 * 1024 * 1024];
    let (status, _) = app
        .post_raw(
            "/api/v1/intake-events",
            Some(&token),
            "application/json",
            huge,
        )
        .await;
    assert_eq!(status, 413);
}

#[actix_web::test]
async fn operators_endpoints_answer() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get("/healthz", None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = app.get("/readyz", None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));

    let (status, metrics) = app.get_text("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains(
            "shouzhen_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("shouzhen_http_request_duration_seconds_bucket"));
    assert!(metrics.contains("shouzhen_db_pool_connections{state=\"max\"} 4"));

    let (status, body) = app.get("/no/such/thing", None).await;
    assert_eq!(status, 404);
    assert_eq!(body["status"], 404);
}

#[actix_web::test]
async fn the_openapi_document_covers_the_endpoints_and_auth_schemes() {
    let app = TestApp::spawn().await;
    let (status, doc) = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap_or("").starts_with("3."));
    for path in [
        "/oauth/token",
        "/api/v1/auth/login",
        "/api/v1/intake-events",
        "/api/v1/cases",
        "/api/v1/cases/{id}",
        "/api/v1/cases/{id}/actions",
        "/api/v1/complaints",
        "/api/v1/complaints/{tracking_code}",
        "/api/v1/hospitals",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["hospital_oauth"]["type"], "oauth2");
    assert_eq!(
        schemes["hospital_oauth"]["flows"]["clientCredentials"]["tokenUrl"],
        "/oauth/token"
    );
    assert_eq!(schemes["inspector_bearer"]["scheme"], "bearer");
}

#[actix_web::test]
async fn a_known_path_asked_with_another_method_answers_405_naming_the_allowed_ones() {
    let app = TestApp::spawn().await;
    for (method, path, allow) in [
        ("TRACE", "/api/v1/cases", "GET"),
        ("DELETE", "/api/v1/intake-events", "POST"),
        ("PUT", "/api/v1/complaints", "POST"),
    ] {
        let mut resp = app
            .client
            .request(method.parse().expect("method"), app.url(path))
            .send()
            .await
            .expect("sent");
        assert_eq!(resp.status().as_u16(), 405, "{method} {path}");
        let allowed = resp.headers().get("allow").and_then(|v| v.to_str().ok());
        assert!(
            allowed.is_some_and(|a| a.contains(allow)),
            "{method} {path}: {allowed:?}"
        );
        assert_eq!(
            resp.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        let body: serde_json::Value = resp.json().await.expect("problem");
        assert_eq!(body["status"], 405);
    }
    // An unknown path is still a 404.
    let (status, _) = app.get("/api/v1/nothing-here", None).await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn the_openapi_document_declares_every_error_as_a_problem() {
    let app = TestApp::spawn().await;
    let (_, doc) = app.get("/api/v1/openapi.json", None).await;
    let post = &doc["paths"]["/api/v1/cases/{id}/actions"]["post"]["responses"];
    for status in ["400", "401", "403", "404", "409", "413", "415", "503"] {
        assert!(
            post[status]["content"]["application/problem+json"].is_object(),
            "{status}: {}",
            post[status]
        );
    }
    let list = &doc["paths"]["/api/v1/cases"]["get"]["parameters"];
    let status = list
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "status"))
        .expect("status parameter");
    let statuses: Vec<&str> = status["schema"]["enum"]
        .as_array()
        .map(|e| e.iter().filter_map(|s| s.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(statuses, shouzhen_domain::case::STATUSES);
    assert!(statuses.contains(&"rectifying"), "{statuses:?}");
}
