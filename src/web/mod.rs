//! Server-rendered pages: templates, languages (Chinese first, English by `?lang=en` or
//! `Accept-Language`), CSRF tokens, and the per-client rate limit of public forms.

pub mod complaints;
pub mod csrf;
pub mod ratelimit;
pub mod session;
pub mod staff;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, http::StatusCode};
use handlebars::Handlebars;
use serde_json::{Value, json};

use shouzhen_domain::field::FieldError;

pub struct Web {
    templates: Handlebars<'static>,
    zh: Value,
    en: Value,
    pub limiter: ratelimit::RateLimiter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Self::Zh => "zh",
            Self::En => "en",
        }
    }
    pub fn other(self) -> Self {
        match self {
            Self::Zh => Self::En,
            Self::En => Self::Zh,
        }
    }
}

/// `?lang=` first, then the first of zh/en in `Accept-Language`; Chinese by default.
/// A rule's title in the page's language, for a rule id as stored (the id itself if unknown).
pub fn rule_title(l: Lang, id: &str) -> String {
    match shouzhen_domain::rules::RuleId::parse(id) {
        Some(r) if l == Lang::En => r.info().title_en.to_string(),
        Some(r) => r.info().title_zh.to_string(),
        None => id.to_string(),
    }
}

pub fn lang(req: &HttpRequest) -> Lang {
    let query = req.query_string();
    for pair in query.split('&') {
        match pair {
            "lang=en" => return Lang::En,
            "lang=zh" | "lang=zh-CN" => return Lang::Zh,
            _ => {}
        }
    }
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for tag in accept.split(',') {
        let tag = tag
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if tag.starts_with("zh") {
            return Lang::Zh;
        }
        if tag.starts_with("en") {
            return Lang::En;
        }
    }
    Lang::Zh
}

impl Web {
    pub fn new(rate_per_minute: u32) -> Result<Self, String> {
        let mut templates = Handlebars::new();
        for (name, source) in [
            ("header", include_str!("../../templates/web/header.hbs")),
            ("footer", include_str!("../../templates/web/footer.hbs")),
            ("chart", include_str!("../../templates/web/chart.hbs")),
            ("clocks", include_str!("../../templates/web/clocks.hbs")),
            (
                "complaint_new",
                include_str!("../../templates/web/complaint_new.hbs"),
            ),
            (
                "complaint_show",
                include_str!("../../templates/web/complaint_show.hbs"),
            ),
            ("message", include_str!("../../templates/web/message.hbs")),
            ("login", include_str!("../../templates/web/login.hbs")),
            (
                "dashboard",
                include_str!("../../templates/web/dashboard.hbs"),
            ),
            ("case", include_str!("../../templates/web/case.hbs")),
            ("hospital", include_str!("../../templates/web/hospital.hbs")),
            (
                "hospital_case",
                include_str!("../../templates/web/hospital_case.hbs"),
            ),
            ("admin", include_str!("../../templates/web/admin.hbs")),
            ("audit", include_str!("../../templates/web/audit.hbs")),
            ("board", include_str!("../../templates/web/board.hbs")),
            ("charts", include_str!("../../templates/web/charts.hbs")),
            ("reports", include_str!("../../templates/web/reports.hbs")),
            ("bulletin", include_str!("../../templates/web/bulletin.hbs")),
            (
                "scorecard",
                include_str!("../../templates/web/scorecard.hbs"),
            ),
            (
                "complaint_admin",
                include_str!("../../templates/web/complaint_admin.hbs"),
            ),
            ("desk", include_str!("../../templates/web/desk.hbs")),
            (
                "hospital_complaint",
                include_str!("../../templates/web/hospital_complaint.hbs"),
            ),
        ] {
            templates
                .register_template_string(name, source)
                .map_err(|e| format!("template {name}: {e}"))?;
        }
        let parse =
            |s: &str| serde_json::from_str::<Value>(s).map_err(|e| format!("translations: {e}"));
        Ok(Self {
            templates,
            zh: parse(include_str!("../../templates/i18n/zh.json"))?,
            en: parse(include_str!("../../templates/i18n/en.json"))?,
            limiter: ratelimit::RateLimiter::new(rate_per_minute),
        })
    }

    pub fn strings(&self, lang: Lang) -> &Value {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// A translated string by dotted path (`status.closed`), or the key itself.
    pub fn t(&self, lang: Lang, path: &str) -> String {
        let mut v = self.strings(lang);
        for part in path.split('.') {
            v = &v[part];
        }
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| path.to_string())
    }

    /// Field errors in the reader's language: `{field, label, message}`.
    pub fn errors(&self, lang: Lang, errors: &[FieldError]) -> Vec<Value> {
        let s = self.strings(lang);
        errors
            .iter()
            .map(|e| {
                json!({
                    "field": e.field,
                    "label": s["field"][&e.field].as_str().unwrap_or(&e.field),
                    "message": s["message"][&e.message].as_str().unwrap_or(&e.message),
                })
            })
            .collect()
    }

    /// Renders a page; `data` gets `t`, `lang` and the other language's link.
    pub fn page(
        &self,
        req: &HttpRequest,
        status: StatusCode,
        name: &str,
        lang: Lang,
        mut data: Value,
    ) -> HttpResponse {
        let other = lang.other();
        let path = req.path();
        data["t"] = self.strings(lang).clone();
        data["lang"] = json!(lang.code());
        data["other_lang"] = json!(other.code());
        data["other_lang_url"] = json!(format!("{path}?lang={}", other.code()));
        match self.templates.render(name, &data) {
            Ok(html) => HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .insert_header(("content-security-policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; form-action 'self'; frame-ancestors 'none'"))
                .insert_header(("x-content-type-options", "nosniff"))
                .insert_header(("referrer-policy", "no-referrer"))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(html),
            Err(e) => {
                tracing::error!(template = name, error = %e, "page rendering failed");
                HttpResponse::InternalServerError().body("internal error")
            }
        }
    }

    /// A page with a heading and a sentence (errors, refusals).
    pub fn message(
        &self,
        req: &HttpRequest,
        status: StatusCode,
        lang: Lang,
        heading: &str,
        body: &str,
    ) -> HttpResponse {
        let data = json!({"title": self.t(lang, heading), "heading": self.t(lang, heading), "body": self.t(lang, body)});
        self.page(req, status, "message", lang, data)
    }
}

/// The stylesheet (served from the binary: no resource from outside the service).
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../static/app.css"))
}
