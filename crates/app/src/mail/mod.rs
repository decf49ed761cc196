//! Escalation emails: rendered from handlebars templates into the outbox, in the transaction
//! that opens or escalates a case; delivered by `worker`.

pub mod worker;

use std::collections::{BTreeSet, HashMap};

use chrono::{Duration, NaiveDateTime};
use handlebars::Handlebars;
use serde::Serialize;
use shouzhen_store::QueryResult;

use crate::config::Settings;
use shouzhen_domain::policy::Policy;
use shouzhen_domain::rules::RuleId;
use shouzhen_store::db::DbConn;
use shouzhen_store::{self, cases::Case};

/// Why a case is emailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A high-severity case (or `complaint.unanswered`) opened.
    Opened,
    /// An inspector's `escalate` action.
    Escalated,
    /// A high-severity case no inspector acknowledged in time: to the supervisors.
    Unacknowledged,
    /// An inspector forwarded the case to its hospital (转办): to the hospital.
    Forwarded,
    /// An inspector sent the hospital's reply or rectification back (退回): to the hospital.
    Returned,
    /// The third return (提级督办): to the commission (`SHOUZHEN_ESCALATION_TO`).
    Elevated,
    /// The hospital's deadline passed with nothing from it (催办): to the hospital.
    Reminded,
    /// As long again passed (督办): to the supervisors.
    Supervised,
}

impl Trigger {
    fn kind(self) -> &'static str {
        match self {
            Self::Opened => "case_opened",
            Self::Escalated => "case_escalated",
            Self::Unacknowledged => "case_unacknowledged",
            Self::Forwarded => "case_forwarded",
            Self::Returned => "case_returned",
            Self::Elevated => "case_elevated",
            Self::Reminded => "case_reminded",
            Self::Supervised => "case_supervised",
        }
    }

    /// Whether the email goes to the hospital (its own link, its own address).
    fn to_hospital(self) -> bool {
        matches!(self, Self::Forwarded | Self::Returned | Self::Reminded)
    }
    fn reason_zh(self, case: &Case) -> &'static str {
        match self {
            Self::Opened if case.rule == RuleId::ComplaintUnanswered.as_str() => "投诉超时未受理",
            Self::Opened => "新立高风险案件",
            Self::Escalated => "监督员已升级案件",
            Self::Unacknowledged => "高风险案件超时无人受理，再次升级",
            Self::Forwarded => "卫生健康委转办案件，请在时限内答复",
            Self::Returned => "贵院的答复或整改报告被退回，请在时限内重新答复",
            Self::Elevated => "案件第三次被退回，提级督办",
            Self::Reminded if case.status == "rectifying" => "催办：整改期限已过，尚未报告整改",
            Self::Reminded => "催办：答复期限已过，尚未答复",
            Self::Supervised => "督办：医院逾期仍未办理",
        }
    }
}

/// Renders and routes emails. Built once from the settings and the policy.
pub struct Notifier {
    public_url: String,
    escalation_to: Vec<String>,
    /// Extra addresses per district, from the policy packs.
    routes: Vec<(String, Vec<String>)>,
    html: Handlebars<'static>,
    text: Handlebars<'static>,
    /// The complaint categories' Chinese titles.
    categories: std::collections::HashMap<String, String>,
    /// Minutes within which a high-severity case must be acknowledged.
    pub ack_limit: Duration,
    /// How long a hospital has to reply to a forwarded or returned case.
    pub reply_limit: Duration,
}

#[derive(Serialize)]
struct EventLine {
    time: String,
    hospital: String,
    kind: String,
}

#[derive(Serialize)]
struct CaseMail<'a> {
    subject: &'a str,
    reason: &'a str,
    case_id: i64,
    rule: &'a str,
    rule_title: &'a str,
    rule_plain: &'a str,
    sources: &'a str,
    quote: &'a str,
    severity: &'a str,
    summary: &'a str,
    hospital: String,
    hospital_code: String,
    /// 医院, or 120 急救中心 for a centre's case.
    source_label: &'static str,
    district: &'a str,
    occurred_at: String,
    opened_at: String,
    events: Vec<EventLine>,
    complaints: usize,
    note: Option<String>,
    link: String,
    /// The hospital's deadline (China time), on notices of the loop.
    deadline: Option<String>,
}

/// Why a complaint is emailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComplaintTrigger {
    /// Forwarded to its hospital (转办), or forwarded again after a reopening: to the hospital.
    Forwarded,
    /// A callback found it unresolved or the caller unsatisfied: to the supervisors.
    Reopened,
}

#[derive(Serialize)]
struct ComplaintMail<'a> {
    subject: &'a str,
    reason: &'a str,
    tracking_code: String,
    category: String,
    hospital: &'a str,
    hospital_code: String,
    occurred_at: String,
    filed_at: String,
    deadline: Option<String>,
    description: &'a str,
    note: Option<String>,
    link: String,
}

#[derive(Serialize)]
pub struct DigestLine {
    pub id: i64,
    pub severity: String,
    pub rule: String,
    pub summary: String,
    pub link: String,
}

#[derive(Serialize)]
struct DigestMail<'a> {
    subject: &'a str,
    district: &'a str,
    date: &'a str,
    count: usize,
    cases: &'a [DigestLine],
}

pub fn severity_zh(s: &str) -> &'static str {
    match s {
        "high" => "高",
        "medium" => "中",
        _ => "低",
    }
}

/// An event's type in words; a community desk's events (`transport`) by their own names, since
/// some share a 120 centre's types.
fn kind_zh(kind: &str, transport: bool) -> &'static str {
    if transport {
        return match kind {
            "request" => "社区用车申请",
            "dispatched" => "社区派车",
            "picked_up" => "接到居民",
            "at_hospital" => "送达医院",
            "returned" => "送回社区",
            "cancelled" => "申请取消",
            _ => "记录",
        };
    }
    match kind {
        "arrival" => "到院",
        "handover" => "交接",
        "treatment" => "救治",
        "refusal" => "拒收",
        "transfer" => "转出",
        "discharge" => "离院",
        "closure_start" => "停诊开始",
        "closure_end" => "停诊结束",
        "test" => "检测",
        "call_received" => "120 来电",
        "call_answered" => "120 接听",
        "call_abandoned" => "呼叫方挂断",
        "dispatched" => "120 派车",
        "at_scene" => "到达现场",
        "at_hospital" => "救护车到院",
        "handed_over" => "救护车交接",
        "fleet_status" => "在线车辆",
        _ => "记录",
    }
}

/// China time, for people.
pub fn china(t: NaiveDateTime) -> String {
    shouzhen_domain::time::to_china(t)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

impl Notifier {
    pub fn new(settings: &Settings, policy: &Policy) -> Result<Self, String> {
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);
        let templates = [
            (
                "case",
                include_str!("../../../../templates/email/case.html.hbs"),
                include_str!("../../../../templates/email/case.txt.hbs"),
            ),
            (
                "digest",
                include_str!("../../../../templates/email/digest.html.hbs"),
                include_str!("../../../../templates/email/digest.txt.hbs"),
            ),
            (
                "complaint",
                include_str!("../../../../templates/email/complaint.html.hbs"),
                include_str!("../../../../templates/email/complaint.txt.hbs"),
            ),
        ];
        // The categories' Chinese titles, as the complaint form shows them.
        let zh: serde_json::Value =
            serde_json::from_str(include_str!("../../../../templates/i18n/zh.json"))
                .map_err(|e| format!("templates/i18n/zh.json: {e}"))?;
        let categories = zh["categories"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v[0].as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        for (name, html_source, text_source) in templates {
            html.register_template_string(name, html_source)
                .map_err(|e| format!("email template {name}.html: {e}"))?;
            text.register_template_string(name, text_source)
                .map_err(|e| format!("email template {name}.txt: {e}"))?;
        }
        Ok(Self {
            public_url: settings.public_url.clone(),
            escalation_to: settings.escalation_to.clone(),
            routes: policy.routes.clone(),
            html,
            text,
            categories,
            ack_limit: Duration::minutes(i64::from(policy.escalation_ack_minutes())),
            reply_limit: Duration::minutes(i64::from(policy.hospital_reply_minutes())),
        })
    }

    /// The health commission's addresses for a district: `SHOUZHEN_ESCALATION_TO`, the policy
    /// packs' routes for the district, and the hospital's own escalation address.
    fn recipients(&self, district: &str, hospital_email: Option<&str>) -> Vec<String> {
        let mut all: BTreeSet<String> = self.escalation_to.iter().cloned().collect();
        for (d, addrs) in &self.routes {
            if d == district {
                all.extend(addrs.iter().cloned());
            }
        }
        all.extend(hospital_email.map(str::to_string));
        all.into_iter().collect()
    }

    /// Writes the email about `case` into the outbox (once per case and trigger and `round`).
    pub fn case_email(
        &self,
        conn: &mut DbConn,
        case: &Case,
        trigger: Trigger,
        note: Option<&str>,
        round: i64,
        to: Option<Vec<String>>,
    ) -> QueryResult<()> {
        let mut facts = CaseFacts::read(conn, &[case])?;
        let email = self.compose_case(&mut facts, case, trigger, note, round, to)?;
        shouzhen_store::outbox::enqueue(conn, &email)
    }

    /// Writes the emails of cases just opened into the outbox, with one read of their
    /// hospitals, evidence and events and one insert for all (a large request may open
    /// thousands of cases in one transaction).
    pub fn opened_emails(&self, conn: &mut DbConn, cases: &[&Case]) -> QueryResult<()> {
        if cases.is_empty() {
            return Ok(());
        }
        let mut facts = CaseFacts::read(conn, cases)?;
        let emails = cases
            .iter()
            .map(|case| self.compose_case(&mut facts, case, Trigger::Opened, None, 0, None))
            .collect::<QueryResult<Vec<_>>>()?;
        shouzhen_store::outbox::enqueue_all(conn, &emails)
    }

    /// The email about `case`, from what [`CaseFacts`] read.
    fn compose_case(
        &self,
        facts: &mut CaseFacts,
        case: &Case,
        trigger: Trigger,
        note: Option<&str>,
        round: i64,
        to: Option<Vec<String>>,
    ) -> QueryResult<shouzhen_store::outbox::NewEmail<'static>> {
        let hospital = case
            .hospital_id
            .and_then(|id| facts.hospitals.get(&id).cloned().flatten());
        let recipients = to.unwrap_or_else(|| {
            if trigger.to_hospital() {
                // No address known: the notice is recorded in the outbox, not sent.
                hospital.iter().filter_map(|h| h.email.clone()).collect()
            } else {
                self.recipients(
                    &case.district,
                    hospital
                        .as_ref()
                        .and_then(|h| h.escalation_email.as_deref()),
                )
            }
        });
        let deadline = match trigger {
            Trigger::Forwarded | Trigger::Returned => case.reply_due,
            Trigger::Reminded | Trigger::Supervised if case.status == "rectifying" => {
                case.rectification_due
            }
            Trigger::Reminded | Trigger::Supervised => case.reply_due,
            _ => None,
        }
        .map(china);
        let rule = RuleId::parse(&case.rule);
        let info = rule.map(|r| r.info());
        let (event_ids, complaint_ids) = facts.evidence.remove(&case.id).unwrap_or_default();
        let events = event_ids
            .iter()
            .filter_map(|id| facts.events.get(id))
            .map(|v| EventLine {
                time: china(v.occurred_at),
                kind: kind_zh(&v.kind, v.is_transport()).to_string(),
                hospital: v.source_name.clone(),
            })
            .collect();
        let hospital_name = hospital
            .as_ref()
            .map(|h| h.name.clone())
            .unwrap_or_default();
        let title = info.map(|i| i.title_zh).unwrap_or("");
        let subject = format!(
            "[{}] {} · {} · {}",
            severity_zh(&case.severity),
            case.rule,
            if hospital_name.is_empty() {
                "—"
            } else {
                &hospital_name
            },
            title
        );
        let data = CaseMail {
            subject: &subject,
            reason: trigger.reason_zh(case),
            case_id: case.id,
            rule: &case.rule,
            rule_title: title,
            rule_plain: info.map(|i| i.plain_zh).unwrap_or(""),
            sources: info.map(|i| i.sources).unwrap_or(""),
            quote: info.map(|i| i.quote).unwrap_or(""),
            severity: severity_zh(&case.severity),
            summary: &case.summary,
            hospital: hospital_name.clone(),
            hospital_code: hospital
                .as_ref()
                .map(|h| h.code.clone())
                .unwrap_or_default(),
            source_label: match &hospital {
                Some(h) if h.kind == shouzhen_store::hospitals::DISPATCH => "120 急救中心",
                Some(h) if h.kind == shouzhen_store::hospitals::COMMUNITY => "社区转运专班",
                _ => "医院",
            },
            district: &case.district,
            occurred_at: china(case.occurred_at),
            opened_at: china(case.opened_at),
            events,
            complaints: complaint_ids.len(),
            note: note
                .map(|n| shouzhen_domain::redact::redact(n).0)
                .filter(|n| !n.trim().is_empty()),
            link: if trigger.to_hospital() {
                self.hospital_link(case.id)
            } else {
                self.link(case.id)
            },
            deadline,
        };
        let render = |reg: &Handlebars<'static>| {
            reg.render("case", &data)
                .map_err(|e| shouzhen_store::StoreError::SerializationError(Box::new(e)))
        };
        let email = shouzhen_store::outbox::NewEmail {
            dedupe_key: format!("case:{}:{}:{round}", case.id, trigger.kind()),
            case_id: Some(case.id),
            kind: trigger.kind(),
            recipients,
            subject: subject.clone(),
            body_text: render(&self.text)?,
            body_html: render(&self.html)?,
        };
        Ok(email)
    }

    /// Writes the email about a complaint of the hotline loop into the outbox, once per
    /// complaint, trigger and round (its reopenings so far). Never the caller's contact
    /// details: the description is the redacted one.
    pub fn complaint_email(
        &self,
        conn: &mut DbConn,
        c: &shouzhen_store::complaints::Complaint,
        trigger: ComplaintTrigger,
        note: Option<&str>,
    ) -> QueryResult<()> {
        let hospital = match c.hospital_id {
            Some(id) => shouzhen_store::hospitals::by_id(conn, id)?,
            None => None,
        };
        let (kind, reason, recipients, link) = match trigger {
            ComplaintTrigger::Forwarded => (
                "complaint_forwarded",
                if c.reopened > 0 {
                    "回访不满意，投诉重新转办，请在期限内重新答复"
                } else {
                    "12320 转办投诉，请在期限内答复"
                },
                hospital.iter().filter_map(|h| h.email.clone()).collect(),
                format!("{}/hospital/complaints/{}", self.public_url, c.id),
            ),
            ComplaintTrigger::Reopened => (
                "complaint_reopened",
                "回访发现投诉未解决或来电人不满意，已重新转办医院",
                shouzhen_store::users::supervisors_for(
                    conn,
                    hospital.as_ref().map_or("", |h| h.district.as_str()),
                )?,
                format!("{}/inspect/complaints/{}", self.public_url, c.id),
            ),
        };
        let hospital_name = hospital
            .as_ref()
            .map_or(c.hospital_name.as_str(), |h| h.name.as_str());
        // The hospital is never told the tracking code (with it, anyone may rate the answer as
        // the complainant): its email names the complaint by number.
        let named = match trigger {
            ComplaintTrigger::Forwarded => format!("#{}", c.id),
            ComplaintTrigger::Reopened => {
                shouzhen_domain::complaint::display_code(&c.tracking_code)
            }
        };
        let subject = format!("[12320] {reason} · {hospital_name} · {named}");
        let data = ComplaintMail {
            subject: &subject,
            reason,
            tracking_code: named,
            category: self
                .categories
                .get(&c.category)
                .cloned()
                .unwrap_or_else(|| c.category.clone()),
            hospital: hospital_name,
            hospital_code: hospital
                .as_ref()
                .map(|h| h.code.clone())
                .unwrap_or_default(),
            occurred_at: china(c.occurred_at),
            filed_at: china(c.created_at),
            deadline: c.answer_due.map(china),
            description: &c.description,
            note: note
                .map(|n| shouzhen_domain::redact::redact(n).0)
                .filter(|n| !n.trim().is_empty()),
            link,
        };
        let render = |reg: &Handlebars<'static>| {
            reg.render("complaint", &data)
                .map_err(|e| shouzhen_store::StoreError::SerializationError(Box::new(e)))
        };
        let email = shouzhen_store::outbox::NewEmail {
            dedupe_key: format!("complaint:{}:{kind}:{}", c.id, c.reopened),
            case_id: None,
            kind,
            recipients,
            subject: subject.clone(),
            body_text: render(&self.text)?,
            body_html: render(&self.html)?,
        };
        shouzhen_store::outbox::enqueue(conn, &email)
    }

    /// Writes a district's daily digest (once per district and day).
    pub fn digest_email(
        &self,
        conn: &mut DbConn,
        district: &str,
        date: &str,
        cases: &[DigestLine],
    ) -> QueryResult<()> {
        let subject = format!("[汇总] {district} 中低风险案件 {} 件 · {date}", cases.len());
        let data = DigestMail {
            subject: &subject,
            district,
            date,
            count: cases.len(),
            cases,
        };
        let render = |reg: &Handlebars<'static>| {
            reg.render("digest", &data)
                .map_err(|e| shouzhen_store::StoreError::SerializationError(Box::new(e)))
        };
        let email = shouzhen_store::outbox::NewEmail {
            dedupe_key: format!("digest:{district}:{date}"),
            case_id: None,
            kind: "digest",
            recipients: self.recipients(district, None),
            subject: subject.clone(),
            body_text: render(&self.text)?,
            body_html: render(&self.html)?,
        };
        shouzhen_store::outbox::enqueue(conn, &email)
    }

    pub fn link(&self, case_id: i64) -> String {
        format!("{}/cases/{case_id}", self.public_url)
    }

    /// The case as its hospital's staff open it.
    pub fn hospital_link(&self, case_id: i64) -> String {
        format!("{}/hospital/cases/{case_id}", self.public_url)
    }
}

/// What the emails of some cases show besides the cases: their hospitals, their evidence and
/// its events, read together.
struct CaseFacts {
    hospitals: HashMap<i64, Option<shouzhen_store::hospitals::Hospital>>,
    evidence: shouzhen_store::cases::Evidence,
    events: HashMap<i64, shouzhen_store::events::StoredEvent>,
}

impl CaseFacts {
    fn read(conn: &mut DbConn, cases: &[&Case]) -> QueryResult<Self> {
        let mut hospitals = HashMap::new();
        for id in cases.iter().filter_map(|c| c.hospital_id) {
            if let std::collections::hash_map::Entry::Vacant(slot) = hospitals.entry(id) {
                slot.insert(shouzhen_store::hospitals::by_id(conn, id)?);
            }
        }
        let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
        let evidence = shouzhen_store::cases::evidence_of_all(conn, &ids)?;
        let rows: BTreeSet<i64> = evidence
            .values()
            .flat_map(|(e, _)| e.iter().copied())
            .collect();
        let rows: Vec<i64> = rows.into_iter().collect();
        let events = shouzhen_store::events::by_ids(conn, &rows)?
            .into_iter()
            .map(|v| (v.row_id, v))
            .collect();
        Ok(Self {
            hospitals,
            evidence,
            events,
        })
    }
}
