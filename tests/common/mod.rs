//! The black-box harness: each test starts the real service on port 0 with a database of its
//! own (a temporary SQLite file, or a fresh PostgreSQL database when
//! `SHOUZHEN_TEST_DATABASE_URL` names a PostgreSQL server) and talks to it over HTTP.
//! `tests/api/main.rs` and the benches (`benches/*.rs`) include it.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::web;
use diesel::connection::SimpleConnection;
use serde_json::Value;
use shouzhen::startup::{self, Application};
use shouzhen::state::AppState;
use shouzhen_app::accounts::{self, HospitalInput, UserInput};
use shouzhen_app::config::Settings;

pub const SECRET_KEY: &str = "test-secret-key-0123456789-abcdefghijklmnop";

pub struct TestApp {
    pub address: String,
    pub state: web::Data<AppState>,
    pub client: awc::Client,
    pub dir: tempfile::TempDir,
    pub database_url: String,
    /// Keeps the background workers running while the test lives.
    _stop: tokio::sync::watch::Sender<bool>,
    /// The test's own PostgreSQL database, dropped with the app.
    _pg: Option<PgDatabase>,
}

/// A PostgreSQL database made for one test and dropped after it.
pub struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = shouzhen_store::db::establish_pg(&self.admin_url) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// `url` with its database name replaced by `name` (keeps any `?host=...` query).
pub fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with ://");
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let query = path.split_once('?').map(|(_, q)| q);
    match query {
        Some(q) => format!("{scheme}://{authority}/{name}?{q}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

/// A number from the environment (benchmarks' settings), or `default` when unset or unreadable.
#[allow(dead_code)] // the benches'
pub fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `url` with one more query parameter (`name=value`, already encoded).
pub fn with_param(url: &str, param: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{param}")
}

pub fn test_backend_url() -> Option<String> {
    std::env::var("SHOUZHEN_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

pub fn is_postgres() -> bool {
    test_backend_url().is_some_and(|u| u.starts_with("postgres"))
}

/// A database URL for one test: a fresh PostgreSQL database or a SQLite file in `dir`.
pub fn fresh_database(dir: &std::path::Path) -> (String, Option<PgDatabase>) {
    match test_backend_url() {
        Some(url) if url.starts_with("postgres") => {
            let name = format!("shouzhen_test_{}", uuid::Uuid::new_v4().simple());
            let db = PgDatabase::create(&url, &name);
            (with_database(&url, &name), Some(db))
        }
        _ => (
            format!("sqlite://{}", dir.join("shouzhen.db").display()),
            None,
        ),
    }
}

impl PgDatabase {
    /// Creates the database `name` on the server of `admin_url`; dropped with the value.
    pub fn create(admin_url: &str, name: &str) -> Self {
        let mut conn = shouzhen_store::db::establish_pg(admin_url)
            .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL server: {e}"));
        conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create test database");
        PgDatabase {
            admin_url: admin_url.to_string(),
            name: name.to_string(),
        }
    }
}

pub struct Builder {
    vars: HashMap<String, String>,
}

impl TestApp {
    pub fn builder() -> Builder {
        Builder {
            vars: HashMap::new(),
        }
    }

    pub async fn spawn() -> TestApp {
        Self::builder().spawn().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Registers a hospital directly (as `shouzhen hospital add` does).
    pub async fn add_hospital(&self, code: &str) -> accounts::Credentials {
        self.add_hospital_in(code, "朝阳区", "beijing").await
    }

    pub async fn add_hospital_in(
        &self,
        code: &str,
        district: &str,
        jurisdiction: &str,
    ) -> accounts::Credentials {
        let input = HospitalInput {
            code: code.into(),
            name: format!("{code} 医院"),
            district: district.into(),
            jurisdiction: jurisdiction.into(),
            capacity: 40,
            email: Some(format!("yiwu@{}.example.cn", code.to_lowercase())),
            designated_for: String::new(),
        };
        let (_, creds) = self
            .state
            .db(move |conn| accounts::add_hospital(conn, &input))
            .await
            .expect("add hospital");
        creds
    }

    /// Registers a hospital of `jurisdiction` designated for `zones` (e.g. `sealed`) and
    /// returns a Bearer token for it.
    pub async fn designated_hospital_token(
        &self,
        code: &str,
        jurisdiction: &str,
        zones: &str,
    ) -> String {
        let input = HospitalInput {
            code: code.into(),
            name: format!("{code} 医院"),
            district: "振兴区".into(),
            jurisdiction: jurisdiction.into(),
            capacity: 40,
            email: None,
            designated_for: zones.into(),
        };
        let (_, creds) = self
            .state
            .db(move |conn| accounts::add_hospital(conn, &input))
            .await
            .expect("add hospital");
        self.token_for(&creds).await
    }

    /// Registers a community transport desk (in Beijing) and returns a Bearer token for it.
    pub async fn desk_token(&self, code: &str) -> String {
        let input = HospitalInput {
            code: code.into(),
            name: format!("{code} 社区"),
            district: "朝阳区".into(),
            jurisdiction: "beijing".into(),
            capacity: 0,
            email: None,
            designated_for: String::new(),
        };
        let (_, creds) = self
            .state
            .db(move |conn| accounts::add_community_desk(conn, &input))
            .await
            .expect("add desk");
        assert!(creds.client_id.starts_with("cd_"), "{}", creds.client_id);
        self.token_for(&creds).await
    }

    /// Registers a 120 dispatch centre (in Dandong) and returns a Bearer token for it.
    pub async fn centre_token(&self, code: &str) -> String {
        let input = HospitalInput {
            code: code.into(),
            name: format!("{code} 急救中心"),
            district: "振兴区".into(),
            jurisdiction: "dandong".into(),
            capacity: 0,
            email: None,
            designated_for: String::new(),
        };
        let (_, creds) = self
            .state
            .db(move |conn| accounts::add_dispatch_centre(conn, &input))
            .await
            .expect("add centre");
        assert!(creds.client_id.starts_with("dc_"), "{}", creds.client_id);
        self.token_for(&creds).await
    }

    /// Registers a hospital and returns a Bearer token for it.
    pub async fn hospital_token(&self, code: &str) -> String {
        let creds = self.add_hospital(code).await;
        self.token_for(&creds).await
    }

    pub async fn token_for(&self, creds: &accounts::Credentials) -> String {
        let (status, body) = self
            .post_form(
                "/oauth/token",
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &creds.client_id),
                    ("client_secret", &creds.client_secret),
                ],
            )
            .await;
        assert_eq!(status, 200, "token request failed: {body}");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// Creates a dashboard user and returns a Bearer token for it.
    pub async fn staff_token(&self, email: &str, role: &str, district: Option<&str>) -> String {
        self.user_token(email, role, district, None).await
    }

    /// Creates a hospital's staff member (role `hospital`) and returns a Bearer token for it.
    pub async fn hospital_user_token(&self, email: &str, hospital: &str) -> String {
        self.user_token(email, "hospital", None, Some(hospital))
            .await
    }

    async fn user_token(
        &self,
        email: &str,
        role: &str,
        district: Option<&str>,
        hospital: Option<&str>,
    ) -> String {
        let password = "a long enough password";
        let input = UserInput {
            email: email.into(),
            role: role.into(),
            district: district.map(str::to_string),
            password: password.into(),
            hospital: hospital.map(str::to_string),
        };
        self.state
            .db(move |conn| accounts::add_user(conn, &input))
            .await
            .expect("add user");
        let (status, body) = self
            .post_json(
                "/api/v1/auth/login",
                None,
                &serde_json::json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, 200, "login failed: {body}");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    pub async fn inspector_token(&self) -> String {
        self.staff_token("inspector@wjw.example.cn", "inspector", Some("朝阳区"))
            .await
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let resp = self.client.post(self.url(path)).send_form(&form).await;
        read(resp).await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut req = self.client.post(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        read(req.send_json(body).await).await
    }

    /// Posts raw bytes with the given content type.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .post(self.url(path))
            .insert_header(("content-type", content_type));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        read(req.send_body(body).await).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        read(req.send().await).await
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let mut resp = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        let body = resp.body().limit(8 << 20).await.expect("body");
        (
            resp.status().as_u16(),
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    /// The path of the SQLite file, when the test runs on SQLite.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        self.database_url
            .strip_prefix("sqlite://")
            .map(std::path::PathBuf::from)
    }
}

type Resp = Result<
    awc::ClientResponse<actix_web::dev::Decompress<actix_web::dev::Payload>>,
    awc::error::SendRequestError,
>;

async fn read(resp: Resp) -> (u16, Value) {
    let mut resp = resp.expect("request sent");
    let status = resp.status().as_u16();
    let bytes = resp.body().limit(32 << 20).await.expect("body read");
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    (status, value)
}

impl Builder {
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// Shares another test app's database (a second instance behind the same load balancer).
    pub fn database_of(self, other: &TestApp) -> Self {
        let url = other.database_url.clone();
        self.var("SHOUZHEN_DATABASE_URL", &url)
    }

    pub async fn spawn(self) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let (database_url, pg) = match self.vars.get("SHOUZHEN_DATABASE_URL") {
            Some(shared) => (shared.clone(), None),
            None => fresh_database(dir.path()),
        };
        let mut vars: HashMap<String, String> = HashMap::from([
            ("SHOUZHEN_DATABASE_URL".into(), database_url.clone()),
            ("SHOUZHEN_BIND".into(), "127.0.0.1:0".into()),
            ("SHOUZHEN_SECRET_KEY".into(), SECRET_KEY.into()),
            ("SHOUZHEN_DB_POOL_SIZE".into(), "4".into()),
            (
                "SHOUZHEN_MAIL_DIR".into(),
                dir.path().join("mail").display().to_string(),
            ),
        ]);
        vars.extend(self.vars);
        let settings = Settings::from_map(&vars).expect("test settings");
        let state = startup::prepare(settings).expect("prepare");
        let app = Application::build(state).expect("build");
        let address = format!("http://127.0.0.1:{}", app.port);
        actix_web::rt::spawn(app.server);
        // Redirects are not followed: tests check the 303s themselves.
        let client = awc::Client::builder()
            .disable_redirects()
            .timeout(Duration::from_secs(60))
            .finish();
        TestApp {
            address,
            state: app.state,
            client,
            dir,
            database_url,
            _stop: app.stop,
            _pg: pg,
        }
    }
}

impl TestApp {
    /// Posts events as JSON and returns the report (asserting a 200).
    pub async fn post_events(&self, token: &str, events: Value) -> Value {
        let (status, body) = self
            .post_json("/api/v1/intake-events", Some(token), &events)
            .await;
        assert_eq!(status, 200, "intake failed: {body}");
        body
    }

    /// Runs SQL on the service's database behind its back (bulk set-up, tampering).
    pub async fn run_sql(&self, sql: impl Into<String>) {
        let sql: String = sql.into();
        let statements = sql.clone();
        self.state
            .db(move |conn| {
                conn.batch_execute(&statements)?;
                Ok(())
            })
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// How many intake events are stored.
    pub async fn stored_events(&self) -> i64 {
        use diesel::prelude::*;
        self.state
            .db(|conn| {
                Ok(shouzhen_store::schema::intake_events::table
                    .count()
                    .get_result(conn)?)
            })
            .await
            .expect("count events")
    }

    /// Runs one sweeper pass as if the clock showed `now`.
    pub async fn sweep_at(&self, now: chrono::DateTime<chrono::Utc>) -> usize {
        let (policy, notifier) = (self.state.policy.clone(), self.state.notifier.clone());
        self.state
            .db(move |conn| {
                Ok(
                    shouzhen_app::sweeper::sweep(conn, &policy, &notifier, now.naive_utc())?
                        .opened
                        .len(),
                )
            })
            .await
            .expect("sweep")
    }

    /// The cases the API lists for `query` (e.g. `rule=handover.delay`).
    pub async fn cases(&self, token: &str, query: &str) -> Vec<Value> {
        let (status, body) = self
            .get(&format!("/api/v1/cases?limit=200&{query}"), Some(token))
            .await;
        assert_eq!(status, 200, "cases: {body}");
        body["items"].as_array().cloned().unwrap_or_default()
    }

    /// A supervisor's token (sees every district).
    pub async fn supervisor_token(&self) -> String {
        self.staff_token("supervisor@wjw.example.cn", "supervisor", None)
            .await
    }
}

/// An RFC 3339 time in China (UTC+8) on 2022-07-01 at `hh:mm`, plus `extra_secs`.
pub fn at(hh_mm: &str, extra_secs: i64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339(&format!("2022-07-01T{hh_mm}:00+08:00"))
        .expect("time");
    (base + chrono::Duration::seconds(extra_secs)).to_rfc3339()
}

/// A browser-like visitor of the web pages: keeps the cookies it is given.
pub struct Visitor<'a> {
    pub app: &'a TestApp,
    pub cookies: std::collections::HashMap<String, String>,
}

impl<'a> Visitor<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: Default::default(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, headers: &actix_web::http::header::HeaderMap) {
        for v in headers.get_all("set-cookie") {
            if let Ok(c) = actix_web::cookie::Cookie::parse(v.to_str().unwrap_or("").to_string()) {
                if c.value().is_empty() {
                    self.cookies.remove(c.name());
                } else {
                    self.cookies
                        .insert(c.name().to_string(), c.value().to_string());
                }
            }
        }
    }

    /// GET a page: (status, Location header, body).
    pub async fn get(&mut self, path: &str) -> (u16, String, String) {
        let mut resp = self
            .app
            .client
            .get(self.app.url(path))
            .insert_header(("cookie", self.cookie_header()))
            .send()
            .await
            .expect("get");
        self.keep(resp.headers());
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = resp.body().limit(16 << 20).await.expect("body");
        (
            resp.status().as_u16(),
            location,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    /// The CSRF token of the last form the visitor fetched from `path`.
    pub async fn token(&mut self, path: &str) -> String {
        let (_, _, body) = self.get(path).await;
        body.split("name=\"csrf_token\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("csrf_token")
            .to_string()
    }

    /// POST a form (the CSRF token is added): (status, Location, body).
    pub async fn post(
        &mut self,
        path: &str,
        token: &str,
        form: &[(&str, &str)],
    ) -> (u16, String, String) {
        let mut fields = form.to_vec();
        fields.push(("csrf_token", token));
        let mut resp = self
            .app
            .client
            .post(self.app.url(path))
            .insert_header(("cookie", self.cookie_header()))
            .send_form(&fields)
            .await
            .expect("post");
        self.keep(resp.headers());
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = resp.body().limit(16 << 20).await.expect("body");
        (
            resp.status().as_u16(),
            location,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    /// Downloads a page as a stream, keeping nothing: (status, bytes, lines).
    #[allow(dead_code)] // the dashboard bench's
    pub async fn download(&mut self, path: &str) -> (u16, usize, usize) {
        use futures_util::StreamExt;
        let mut resp = self
            .app
            .client
            .get(self.app.url(path))
            .insert_header(("cookie", self.cookie_header()))
            .send()
            .await
            .expect("get");
        let (mut bytes, mut lines) = (0, 0);
        while let Some(chunk) = resp.next().await {
            let chunk = chunk.expect("chunk");
            bytes += chunk.len();
            lines += chunk.iter().filter(|b| **b == b'\n').count();
        }
        (resp.status().as_u16(), bytes, lines)
    }

    /// Signs in (the user must exist with the test password).
    pub async fn login(&mut self, email: &str) -> u16 {
        let token = self.token("/login").await;
        self.post(
            "/login",
            &token,
            &[("email", email), ("password", "a long enough password")],
        )
        .await
        .0
    }
}

/// The peak resident size of this process (the service and its client), in MiB.
#[allow(dead_code)] // the benches'
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}
