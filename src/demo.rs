//! `shouzhen serve --demo`: on an empty database, hospitals in Beijing, Shanghai and Dandong, a
//! supervisor, an inspector and an admin, and three weeks of intake traffic (thousands of
//! events) in which every event-driven rule fires a few times. The traffic goes through the
//! same validation, storage and rules as the API.

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use shouzhen_app::accounts::{self, Credentials, HospitalInput, UserInput};
use shouzhen_app::engine::Engine;
use shouzhen_app::error::{AppError, AppResult};
use shouzhen_app::intake::{self, Poster};
use shouzhen_app::keys::Keys;
use shouzhen_app::mail::Notifier;
use shouzhen_domain::policy::Policy;
use shouzhen_store::db::DbConn;

pub const PASSWORD: &str = "shouzhen-demo";

/// The demo hospital's own staff login (医务处) and its hospital.
pub const HOSPITAL_USER: (&str, &str) = ("yiwu.chaoyang@shouzhen.demo", "BJ-CY");
/// A second hospital's staff login, who answer that hospital's phone complaints (so that the
/// three rates rank more than one hospital).
pub const OTHER_HOSPITAL_USER: (&str, &str) = ("yiwu.haidian@shouzhen.demo", "BJ-HD");
pub const USERS: &[(&str, &str, Option<&str>)] = &[
    ("admin@shouzhen.demo", "admin", None),
    ("supervisor@shouzhen.demo", "supervisor", None),
    (
        "inspector.chaoyang@shouzhen.demo",
        "inspector",
        Some("朝阳区"),
    ),
    ("operator@shouzhen.demo", "operator", None),
];

const HOSPITALS: &[(&str, &str, &str, &str, i32)] = &[
    ("BJ-CY", "北京市朝阳医院", "朝阳区", "beijing", 60),
    ("BJ-HD", "北京市海淀医院", "海淀区", "beijing", 45),
    ("BJ-DC", "北京市东城区第一人民医院", "东城区", "beijing", 30),
    ("SH-PD", "上海市浦东医院", "浦东新区", "shanghai", 55),
    ("SH-XH", "上海市徐汇区中心医院", "徐汇区", "shanghai", 40),
    ("DD-ZX", "丹东市人民医院", "振兴区", "dandong", 50),
    ("DD-YB", "丹东市元宝区医院", "元宝区", "dandong", 25),
];

/// The designated (定点/黄码) hospital of each demo city and the zones it serves (001: the
/// regional medical centres; 002: the district's designated hospital; 003 item 1: 市人民医院).
const DESIGNATED: &[(&str, &str)] = &[
    ("BJ-CY", "sealed,controlled"),
    ("SH-PD", "sealed"),
    ("DD-ZX", "sealed"),
];

/// The hospital whose feed stops two days before now (so that `feed.silent` fires).
const SILENT: &str = "DD-YB";
const DAYS: i64 = 21;
const PATIENTS_PER_DAY: usize = 16;

pub struct DemoSummary {
    pub hospital: String,
    pub credentials: Credentials,
    /// A 120 centre's code and API client.
    pub centre: Option<(String, Credentials)>,
    /// A community desk's code and API client.
    pub desk: Option<(String, Credentials)>,
    pub events: usize,
    pub cases: i64,
}

struct Gen {
    rng: StdRng,
    events: Vec<Value>,
    seq: usize,
    prefix: String,
    now: DateTime<Utc>,
}

impl Gen {
    /// A generator of one log's events, named after `prefix`, seeded with `seed`.
    fn new(seed: u64, prefix: &str, now: DateTime<Utc>) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            events: Vec::new(),
            seq: 0,
            prefix: prefix.to_string(),
            now,
        }
    }

    fn push(&mut self, kind: &str, patient: &str, at: DateTime<Utc>, extra: Value) {
        // What would happen after now has not happened yet.
        if at > self.now {
            return;
        }
        self.seq += 1;
        let mut e = json!({
            "event_id": format!("{}-{:05}-{kind}", self.prefix, self.seq),
            "type": kind,
            "occurred_at": at.to_rfc3339(),
        });
        if !patient.is_empty() {
            e["patient"] = json!({"id_number": patient});
        }
        if let (Some(obj), Value::Object(more)) = (e.as_object_mut(), extra) {
            obj.extend(more);
        }
        self.events.push(e);
    }

    /// An event a random number of minutes in `range` after `base`.
    fn push_after(
        &mut self,
        kind: &str,
        patient: &str,
        base: DateTime<Utc>,
        range: (i64, i64),
        extra: Value,
    ) {
        let at = base + self.minutes(range.0, range.1);
        self.push(kind, patient, at, extra);
    }

    /// Posts the events made so far as `poster`'s log, through the intake's validation and
    /// rules (judged at the real clock); returns how many were posted and the report.
    fn post(
        &mut self,
        conn: &mut DbConn,
        keys: &Keys,
        policy: &Policy,
        notifier: &Notifier,
        poster: &Poster,
    ) -> AppResult<(usize, intake::IngestReport)> {
        let now = self.now;
        let register = intake::reachable_hospitals(conn)?;
        let items: Vec<_> = self
            .events
            .drain(..)
            .enumerate()
            .map(|(i, v)| intake::validate(i, v, now, &register))
            .collect();
        let posted = items.len();
        let engine = Engine::new(policy, notifier, shouzhen_store::now());
        Ok((posted, intake::ingest(conn, keys, &engine, poster, items)?))
    }

    fn minutes(&mut self, lo: i64, hi: i64) -> Duration {
        Duration::seconds(self.rng.gen_range(lo * 60..=hi * 60))
    }
}

/// The register's input for a demo 120 centre or community desk.
fn source_input(code: &str, name: &str, district: &str, jurisdiction: &str) -> HospitalInput {
    HospitalInput {
        code: code.to_string(),
        name: name.to_string(),
        district: district.to_string(),
        jurisdiction: jurisdiction.to_string(),
        capacity: 0,
        email: None,
        designated_for: String::new(),
    }
}

/// Loads the demo set if the database has no hospitals yet; `None` if it was not empty.
pub fn load(
    conn: &mut DbConn,
    keys: &Keys,
    policy: &Policy,
    notifier: &Notifier,
) -> AppResult<Option<DemoSummary>> {
    if !shouzhen_store::hospitals::all(conn)?.is_empty() {
        return Ok(None);
    }
    let now = Utc::now();
    let mut rng = StdRng::seed_from_u64(2022);
    let mut first = None;
    let mut posters = Vec::new();
    for (code, name, district, jurisdiction, capacity) in HOSPITALS {
        let (h, creds) = accounts::add_hospital(
            conn,
            &HospitalInput {
                code: code.to_string(),
                name: name.to_string(),
                district: district.to_string(),
                jurisdiction: jurisdiction.to_string(),
                capacity: *capacity,
                email: Some(format!("yiwu@{}.shouzhen.demo", code.to_lowercase())),
                designated_for: DESIGNATED
                    .iter()
                    .find(|(c, _)| c == code)
                    .map(|(_, zones)| zones.to_string())
                    .unwrap_or_default(),
            },
        )?;
        if first.is_none() {
            first = Some(creds);
        }
        posters.push(Poster {
            hospital_id: h.id,
            code: h.code,
            jurisdiction: h.jurisdiction,
        });
    }
    for (email, role, district) in USERS {
        accounts::add_user(
            conn,
            &UserInput {
                email: email.to_string(),
                role: role.to_string(),
                district: district.map(str::to_string),
                password: PASSWORD.to_string(),
                hospital: None,
            },
        )?;
    }
    for (email, hospital) in [HOSPITAL_USER, OTHER_HOSPITAL_USER] {
        accounts::add_user(
            conn,
            &UserInput {
                email: email.to_string(),
                role: "hospital".to_string(),
                district: None,
                password: PASSWORD.to_string(),
                hospital: Some(hospital.to_string()),
            },
        )?;
    }

    let mut total = 0;
    let mut patient_no = 0u32;
    for (hi, poster) in posters.iter().enumerate() {
        let mut g = Gen {
            rng: StdRng::seed_from_u64(rng.r#gen()),
            events: Vec::new(),
            seq: 0,
            prefix: poster.code.clone(),
            now,
        };
        let end = if poster.code == SILENT {
            now - Duration::hours(50)
        } else {
            now - Duration::minutes(40)
        };
        let start = now - Duration::days(DAYS);
        let mut referrals: Vec<(String, DateTime<Utc>, &'static str)> = Vec::new();
        for day in 0..DAYS {
            for _ in 0..PATIENTS_PER_DAY {
                patient_no += 1;
                let arrive = start + Duration::days(day) + g.minutes(0, 24 * 60 - 1);
                if arrive > end {
                    continue;
                }
                let patient = format!("2101021985{:08}", patient_no);
                let scenario = g.rng.gen_range(0..1000);
                patient_traffic(&mut g, &patient, arrive, scenario, &mut referrals);
            }
        }
        // Where this hospital's dialysis patients go while its unit is closed: at every other
        // hospital the next one of its city, elsewhere nowhere (continuity.no_diversion).
        let divert_to = posters
            .get(hi + 1)
            .filter(|n| hi.is_multiple_of(2) && n.jurisdiction == poster.jurisdiction)
            .map(|n| n.code.as_str());
        closures(&mut g, start, end, hi, divert_to);
        referrals_out(&mut g, start, &poster.jurisdiction, 100 * hi as u32);
        let (posted, report) = g.post(conn, keys, policy, notifier, poster)?;
        total += posted;
        if !report.rejected.is_empty() {
            return Err(AppError::internal(format!(
                "demo data rejected: {:?}",
                report.rejected[0]
            )));
        }
        // Patients refused here arrive at the next hospital of the same city, which treats them.
        if let Some(next) = posters
            .get(if hi % 2 == 0 { hi + 1 } else { hi - 1 })
            .filter(|n| n.jurisdiction == poster.jurisdiction)
        {
            let mut g2 = Gen {
                rng: StdRng::seed_from_u64(hi as u64),
                events: Vec::new(),
                seq: 0,
                prefix: format!("{}-from-{}", next.code, poster.code),
                now,
            };
            for (patient, at, acuity) in referrals {
                let arrive = at + g2.minutes(20, 50);
                g2.push("arrival", &patient, arrive, json!({"acuity": acuity, "arrived_by": "ambulance", "health_code": "yellow", "test_status": "none"}));
                g2.push_after("handover", &patient, arrive, (3, 10), json!({}));
                g2.push_after(
                    "test",
                    &patient,
                    arrive,
                    (5, 20),
                    json!({"test": {"kind": "antigen", "result": "negative"}}),
                );
                g2.push_after(
                    "treatment",
                    &patient,
                    arrive,
                    (20, 30),
                    json!({"department": "急诊"}),
                );
            }
            total += g2.post(conn, keys, policy, notifier, next)?.0;
        }
    }

    // The silent hospital's log stopped 50 hours ago.
    if let Some(silent) = posters.iter().find(|p| p.code == SILENT) {
        let engine = Engine::new(policy, notifier, (now - Duration::hours(50)).naive_utc());
        engine
            .feed_alive(conn, &[(silent.hospital_id, &silent.jurisdiction)])
            .map_err(AppError::from)?;
    }
    let (calls, centre) = dispatch_traffic(conn, keys, policy, notifier, now, &posters)?;
    total += calls;
    let (trips, desk) = community_traffic(conn, keys, policy, notifier, now)?;
    total += trips;
    complaints(conn, keys, policy, notifier, now)?;
    hotline_loop(conn, keys, policy, notifier, now)?;
    hospital_loop(conn, notifier, now)?;
    // Last, as the running service would: due deadlines, among them the overdue reply's
    // reminder and supervision.
    shouzhen_app::sweeper::sweep(conn, policy, notifier, shouzhen_store::now())?;
    late_log_withdraws(conn, keys, policy, notifier, &posters[1], now)?;
    let cases = shouzhen_store::cases::count(conn)?;
    let hospital = HOSPITALS[0].0.to_string();
    Ok(first.map(|credentials| DemoSummary {
        hospital,
        credentials,
        centre,
        desk,
        events: total,
        cases,
    }))
}

/// One patient's visit; `scenario` (0-999) picks what happens.
fn patient_traffic(
    g: &mut Gen,
    patient: &str,
    arrive: DateTime<Utc>,
    scenario: u32,
    referrals: &mut Vec<(String, DateTime<Utc>, &'static str)>,
) {
    let acuity = match g.rng.gen_range(0..10) {
        0..=1 => "critical",
        2..=4 => "urgent",
        _ => "routine",
    };
    let by = if acuity != "routine" && g.rng.gen_bool(0.6) {
        "ambulance"
    } else {
        "walk_in"
    };
    let tested = g.rng.gen_bool(0.7);
    let zone = ["none", "precaution", "controlled", "sealed"][g.rng.gen_range(0..4)];
    let mut arrival = json!({
        "acuity": acuity, "arrived_by": by,
        "origin_zone": zone,
        "health_code": if g.rng.gen_bool(0.85) { "green" } else { "yellow" },
        "test_status": if tested { "negative_48h" } else { "none" },
    });
    let critical_untested = acuity == "critical" && !tested;
    match scenario {
        // Refused for a health code, a missing test or fever (and so also first-diagnosis).
        0..=14 => {
            let acuity = if scenario.is_multiple_of(2) {
                "critical"
            } else {
                "urgent"
            };
            arrival["acuity"] = json!(acuity);
            arrival["arrived_by"] = json!("walk_in");
            arrival["health_code"] = json!("yellow");
            g.push("arrival", patient, arrive, arrival);
            let reasons = [["health_code"], ["no_test"], ["fever"]][scenario as usize % 3];
            g.push_after(
                "refusal",
                patient,
                arrive,
                (5, 12),
                json!({"reasons": reasons, "note": "预检分诊拒收"}),
            );
            referrals.push((patient.to_string(), arrive, acuity));
        }
        // Refused for no beds or a closed department.
        15..=24 => {
            arrival["acuity"] = json!("urgent");
            arrival["arrived_by"] = json!("walk_in");
            g.push("arrival", patient, arrive, arrival);
            let reasons = if scenario.is_multiple_of(2) {
                ["no_beds"]
            } else {
                ["department_closed"]
            };
            g.push_after(
                "refusal",
                patient,
                arrive,
                (5, 15),
                json!({"reasons": reasons}),
            );
            referrals.push((patient.to_string(), arrive, "urgent"));
        }
        // A pregnant or dialysis patient turned away.
        25..=32 => {
            arrival["acuity"] = json!("routine");
            arrival["arrived_by"] = json!("community_vehicle");
            arrival["groups"] = json!([if scenario.is_multiple_of(2) {
                "pregnant"
            } else {
                "dialysis"
            }]);
            g.push("arrival", patient, arrive, arrival);
            g.push_after(
                "refusal",
                patient,
                arrive,
                (10, 30),
                json!({"reasons": ["other"], "note": "建议去定点医院"}),
            );
        }
        // Transferred without any treatment.
        33..=42 => {
            arrival["acuity"] = json!("critical");
            arrival["arrived_by"] = json!("ambulance");
            arrival["test_status"] = json!("negative_48h");
            g.push("arrival", patient, arrive, arrival);
            g.push_after("handover", patient, arrive, (4, 10), json!({}));
            g.push_after(
                "transfer",
                patient,
                arrive,
                (15, 40),
                json!({"to_hospital": "OTHER"}),
            );
        }
        // Ambulance patient handed over late, or never.
        43..=62 => {
            arrival["arrived_by"] = json!("ambulance");
            arrival["acuity"] = json!("urgent");
            arrival["test_status"] = json!("negative_48h");
            g.push("arrival", patient, arrive, arrival);
            if scenario < 58 {
                g.push_after("handover", patient, arrive, (17, 45), json!({}));
                g.push_after("treatment", patient, arrive, (50, 70), json!({}));
            }
        }
        // Critical patient without a test, antigen test late.
        63..=75 => {
            arrival["acuity"] = json!("critical");
            arrival["arrived_by"] = json!("walk_in");
            arrival["test_status"] = json!("none");
            g.push("arrival", patient, arrive, arrival);
            g.push_after(
                "test",
                patient,
                arrive,
                (35, 70),
                json!({"test": {"kind": "antigen", "result": "negative"}}),
            );
            g.push_after("treatment", patient, arrive, (10, 20), json!({}));
        }
        // Refused for want of a community certificate (社区证明): prohibited for a critical
        // patient only (003 item 2 asks it of everyone else).
        76..=79 => {
            let acuity = if scenario.is_multiple_of(2) {
                "critical"
            } else {
                "routine"
            };
            arrival["acuity"] = json!(acuity);
            arrival["arrived_by"] = json!("walk_in");
            g.push("arrival", patient, arrive, arrival);
            g.push_after(
                "refusal",
                patient,
                arrive,
                (5, 15),
                json!({"reasons": ["no_community_certificate"], "note": "未出示社区证明"}),
            );
        }
        // A sealed zone's patient turned away (at its designated hospital: designated.refused).
        80..=83 => {
            arrival["acuity"] = json!("routine");
            arrival["arrived_by"] = json!("community_vehicle");
            arrival["origin_zone"] = json!("sealed");
            g.push("arrival", patient, arrive, arrival);
            g.push_after(
                "refusal",
                patient,
                arrive,
                (5, 20),
                json!({"reasons": ["other"], "note": "封控区患者请回社区"}),
            );
        }
        // Everything as it should be.
        _ => {
            g.push("arrival", patient, arrive, arrival);
            if by == "ambulance" {
                g.push_after("handover", patient, arrive, (3, 14), json!({}));
            }
            if critical_untested {
                g.push_after(
                    "test",
                    patient,
                    arrive,
                    (5, 25),
                    json!({"test": {"kind": "antigen", "result": "negative"}}),
                );
            }
            g.push_after(
                "treatment",
                patient,
                arrive,
                (10, 40),
                json!({"department": "急诊"}),
            );
            g.push_after("discharge", patient, arrive, (90, 300), json!({}));
        }
    }
}

/// A facility outside the register: (name, city, province, the approval's level).
type Referral = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

/// Referrals out of the city (003 item 5), per jurisdiction: (facility, city, province, the
/// approval's level). A transfer out of the province needs a provincial approval, out of the
/// city a municipal one; the unapproved ones are `referral.unapproved` cases.
const REFERRALS: &[(&str, &[Referral])] = &[
    (
        "beijing",
        &[
            ("天津市第一中心医院", "天津", "天津", Some("provincial")),
            ("河北医科大学第二医院", "石家庄", "河北", Some("municipal")),
            ("北京协和医院", "北京", "北京", None),
        ],
    ),
    (
        "shanghai",
        &[
            (
                "浙江大学医学院附属第一医院",
                "杭州",
                "浙江",
                Some("provincial"),
            ),
            ("江苏省人民医院", "南京", "江苏", None),
        ],
    ),
    (
        "dandong",
        &[
            (
                "中国医科大学附属第一医院",
                "沈阳",
                "辽宁",
                Some("municipal"),
            ),
            ("中国医科大学附属盛京医院", "沈阳", "辽宁", None),
            ("北京协和医院", "北京", "北京", Some("municipal")),
            ("北京大学第一医院", "北京", "北京", Some("provincial")),
        ],
    ),
];

/// The hospital's referrals of its jurisdiction: each patient treated, then transferred to a
/// facility outside the register, with or without its approval.
fn referrals_out(g: &mut Gen, start: DateTime<Utc>, jurisdiction: &str, patient_base: u32) {
    let Some((_, list)) = REFERRALS.iter().find(|(j, _)| *j == jurisdiction) else {
        return;
    };
    for (i, (name, city, province, level)) in list.iter().enumerate() {
        let patient = format!("2101021990{:08}", patient_base + i as u32);
        let arrive = start + Duration::days(3 + 4 * i as i64) + g.minutes(8 * 60, 16 * 60);
        g.push(
            "arrival",
            &patient,
            arrive,
            json!({"acuity": "urgent", "arrived_by": "walk_in",
            "origin_zone": "none", "health_code": "green", "test_status": "negative_48h"}),
        );
        g.push_after(
            "treatment",
            &patient,
            arrive,
            (10, 30),
            json!({"department": "急诊"}),
        );
        let mut transfer = json!({"to_facility": {"name": name, "city": city, "province": province},
            "note": "受医疗技术所限转诊"});
        if let Some(level) = level {
            transfer["approval"] = json!({"ref": format!("转诊审〔2022〕{}号", patient_base + i as u32), "level": level});
        }
        g.push_after("transfer", &patient, arrive, (180, 300), transfer);
    }
}

/// Closures: a fever clinic for a day; a dialysis unit for four days (diverted to `divert_to`
/// where there is one, else not: `continuity.no_diversion`); at every other hospital its
/// emergency department too long; at one hospital a facility closure still in force after three
/// days, and at another its emergency room closed since this morning. The emergency, dialysis
/// and facility closures are `closure.critical_unit` cases.
fn closures(
    g: &mut Gen,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    index: usize,
    divert_to: Option<&str>,
) {
    let close = |g: &mut Gen,
                 id: String,
                 scope: &str,
                 (kind, dept): (&str, &str),
                 from: DateTime<Utc>,
                 hours: Option<i64>| {
        let mut c =
            json!({"closure": {"id": id, "scope": scope, "kind": kind, "department": dept}});
        if kind == "dialysis"
            && let Some(to) = divert_to
        {
            c["closure"]["diverted_to"] = json!(to);
        }
        g.push("closure_start", "", from, c.clone());
        if let Some(h) = hours {
            let until = from + Duration::hours(h);
            if until <= end {
                g.push("closure_end", "", until, c);
            }
        }
    };
    close(
        g,
        format!("{}-C1", g.prefix),
        "department",
        ("fever_clinic", "发热门诊"),
        start + Duration::days(2),
        Some(20),
    );
    close(
        g,
        format!("{}-C2", g.prefix),
        "unit",
        ("dialysis", "透析室三单元"),
        start + Duration::days(5),
        Some(96),
    );
    if index.is_multiple_of(2) {
        close(
            g,
            format!("{}-C3", g.prefix),
            "department",
            ("emergency", "急诊科"),
            start + Duration::days(9),
            Some(60),
        );
    }
    if index == 3 {
        close(
            g,
            format!("{}-C4", g.prefix),
            "facility",
            ("other", ""),
            end - Duration::hours(72),
            None,
        );
    }
    // 北京市海淀医院's emergency room closed this morning and still closed: on the board.
    if index == 1 {
        close(
            g,
            format!("{}-C5", g.prefix),
            "unit",
            ("emergency", "急诊抢救室"),
            end - Duration::hours(6),
            None,
        );
    }
}

/// Citizens' complaints: a cluster against one hospital, some answered, some left unanswered
/// for two days (so that `complaint.unanswered` fires), one closed and rated.
fn complaints(
    conn: &mut DbConn,
    keys: &Keys,
    policy: &Policy,
    notifier: &Notifier,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let filed: [(&str, &str, i64, &str); 7] = [
        (
            "BJ-CY",
            "refused_health_code",
            50,
            "父亲胸口疼，急诊说健康码是黄码不让进，让我们自己去定点医院。",
        ),
        (
            "BJ-CY",
            "refused_test",
            49,
            "孩子高烧抽搐，没有 48 小时核酸，急诊让在门口等结果，等了一个多小时。",
        ),
        (
            "BJ-CY",
            "pushed_away",
            30,
            "救护车送到后医生没看就说去别的医院，来回折腾。",
        ),
        (
            "SH-PD",
            "special_group_care",
            26,
            "母亲做透析，原来的医院停诊了，附近医院也不收。",
        ),
        (
            "DD-ZX",
            "handover_delay",
            3,
            "救护车到了急诊门口二十多分钟没人来接。",
        ),
        ("BJ-HD", "transport", 2, "封控小区叫不到就医用车。"),
        // At the hospital whose log went silent: nothing in its log around that time, so
        // `complaint.unlogged` flags it an hour after filing.
        (
            "DD-YB",
            "refused_fever",
            20,
            "发烧咳嗽去急诊，门口说发热的不看，让回家。",
        ),
    ];
    for (i, (code, category, hours_ago, text)) in filed.iter().enumerate() {
        let at = now - Duration::hours(*hours_ago);
        let input = shouzhen_app::complaints::ComplaintInput {
            hospital: Some(code.to_string()),
            hospital_name: None,
            category: Some(category.to_string()),
            occurred_at: Some((at - Duration::hours(1)).to_rfc3339()),
            description: Some(text.to_string()),
            contact_name: Some("市民".to_string()),
            contact_phone: Some(format!("1390000{:04}", 1000 + i)),
            // Every other one was taken by phone at the 12320 desk, with its work order.
            channel: (i % 2 == 1).then(|| "phone".to_string()),
            external_ref: (i % 2 == 1).then(|| format!("12320-2026-{:05}", 100 + i)),
            callback_consent: (i % 2 == 1).then_some(true),
        };
        let valid = shouzhen_app::complaints::validate(conn, &input, now, i % 2 == 1)?;
        let engine = Engine::new(
            policy,
            notifier,
            shouzhen_domain::time::to_micros(at.naive_utc()),
        );
        let (complaint, _) = shouzhen_app::complaints::file(conn, keys, &engine, valid, "zh")?;
        if i == 3 {
            // Answered and closed, and the citizen rated it.
            let staff = staff_of(
                conn,
                "supervisor@shouzhen.demo",
                shouzhen_domain::actor::Role::Supervisor,
            )?;
            for (action, note) in [
                ("acknowledge", ""),
                ("close", "已协调区定点医院安排透析，并通报原医院。"),
            ] {
                let a = shouzhen_app::complaints::ComplaintAction {
                    action: action.into(),
                    note: note.into(),
                    ..Default::default()
                };
                shouzhen_app::complaints::act(
                    conn,
                    &Engine::new(policy, notifier, shouzhen_store::now()),
                    &staff,
                    complaint.id,
                    &a,
                    "",
                )?;
            }
            shouzhen_store::complaints::set_rating(conn, complaint.id, 4)?;
        }
    }
    Ok(())
}

/// A demo user as the actor of the steps the demo takes.
fn staff_of(
    conn: &mut DbConn,
    email: &str,
    role: shouzhen_domain::actor::Role,
) -> AppResult<shouzhen_domain::actor::Staff> {
    let u = shouzhen_store::users::by_email(conn, email)?
        .ok_or_else(|| AppError::internal(format!("demo user {email} missing")))?;
    Ok(shouzhen_domain::actor::Staff {
        user_id: u.id,
        email: u.email,
        role,
        district: u.district,
        hospital_id: u.hospital_id,
    })
}

/// The 12320 desk's loop on phone complaints against the demo hospital, each step taken by
/// its role at its time: one answered and called back satisfied (closed), one reopened at the
/// callback (forwarded again), one reopened twice (so that `complaint.reopened` elevates it),
/// one forwarded twelve days ago and never answered (so that `complaint.overdue` fires at the
/// sweep), one answered three days ago whose callback is due, and one just forwarded; and, so
/// that the three rates rank hospitals, BJ-HD's calls answered and called back satisfied, and
/// SH-PD's forwarded late and not answered.
fn hotline_loop(
    conn: &mut DbConn,
    keys: &Keys,
    policy: &Policy,
    notifier: &Notifier,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use shouzhen_domain::actor::Role;
    let operator = staff_of(conn, "operator@shouzhen.demo", Role::Operator)?;
    let staff = [
        (
            HOSPITAL_USER.1,
            staff_of(conn, HOSPITAL_USER.0, Role::HospitalStaff)?,
        ),
        (
            OTHER_HOSPITAL_USER.1,
            staff_of(conn, OTHER_HOSPITAL_USER.0, Role::HospitalStaff)?,
        ),
    ];
    // (hours ago filed, category, description, steps: (hours ago, action, note, resolved, satisfaction))
    type Step = (i64, &'static str, &'static str, bool, &'static str);
    let answer = "已核实：当日急诊分诊护士未按首诊负责制接诊，已约谈科室并向来电人致歉。";
    let mut calls: Vec<(&str, i64, &str, &str, Vec<Step>)> = [
        (
            9 * 24,
            "refused_test",
            "老人发烧咳嗽，急诊说没有核酸结果不给看，让回家等。",
            vec![
                (9 * 24 - 1, "forward", "", false, ""),
                (7 * 24, "answer", answer, false, ""),
                (
                    6 * 24,
                    "callback",
                    "来电人表示医院已道歉并复诊，满意。",
                    true,
                    "satisfied",
                ),
            ],
        ),
        (
            6 * 24,
            "pushed_away",
            "孩子摔伤去急诊，被告知本院不接外区病人，让去别的医院。",
            vec![
                (6 * 24 - 1, "forward", "", false, ""),
                (
                    4 * 24,
                    "answer",
                    "经查，当时外科医生在手术中，已建议转诊。",
                    false,
                    "",
                ),
                (
                    3 * 24,
                    "callback",
                    "来电人不认可答复：没有医生看过就被劝走。",
                    false,
                    "unsatisfied",
                ),
            ],
        ),
        (
            14 * 24,
            "refused_health_code",
            "家属胸痛，因健康码弹窗被拦在医院门外四十分钟。",
            vec![
                (14 * 24 - 1, "forward", "", false, ""),
                (
                    12 * 24,
                    "answer",
                    "门岗按防疫要求查验，已加强培训。",
                    false,
                    "",
                ),
                (
                    11 * 24,
                    "callback",
                    "来电人表示未说明为何不先救治。",
                    false,
                    "unsatisfied",
                ),
                (
                    10 * 24,
                    "answer",
                    "已明确急危重症患者先救治后查验，门岗已调整。",
                    false,
                    "",
                ),
                (
                    8 * 24,
                    "callback",
                    "来电人仍不认可：未对当事人作出处理。",
                    false,
                    "basically_satisfied",
                ),
            ],
        ),
        (
            12 * 24,
            "handover_delay",
            "救护车到急诊后二十多分钟没人接，病人一直躺在车上。",
            vec![(12 * 24 - 1, "forward", "", false, "")],
        ),
        (
            4 * 24,
            "refused_fever",
            "发热病人被急诊拒收，说要先去发热门诊排队。",
            vec![
                (4 * 24 - 1, "forward", "", false, ""),
                (3 * 24, "answer", answer, false, ""),
            ],
        ),
        (
            2,
            "special_group_care",
            "孕妇临产，医院说封控区来的要先隔离。",
            vec![(1, "forward", "", false, "")],
        ),
    ]
    .into_iter()
    .map(|(h, c, t, s)| (HOSPITAL_USER.1, h, c, t, s))
    .collect();
    // Elsewhere: BJ-HD answers quickly and its callers are satisfied; SH-PD's calls were
    // forwarded late and are not answered (the rank's other end).
    let quick = |h: i64, answer: &'static str, satisfaction: &'static str| -> Vec<Step> {
        vec![
            (h - 1, "forward", "", false, ""),
            (h - 20, "answer", answer, false, ""),
            (
                h - 30,
                "callback",
                "来电人表示问题已解决。",
                true,
                satisfaction,
            ),
        ]
    };
    calls.extend([
        (
            "BJ-HD",
            8 * 24,
            "medication",
            "来电反映：急诊药房夜间缺少常用退烧药。",
            quick(8 * 24, "已补充夜间急诊药品储备。", "satisfied"),
        ),
        (
            "BJ-HD",
            5 * 24,
            "other",
            "来电反映：急诊候诊区没有座位，老人站了一个多小时。",
            quick(5 * 24, "已增设候诊座椅并安排导医。", "basically_satisfied"),
        ),
        (
            "BJ-HD",
            3 * 24,
            "medication",
            "来电反映：取药窗口让先做核酸再取药。",
            quick(3 * 24, "已纠正，取药不再查验核酸结果。", "satisfied"),
        ),
        (
            "SH-PD",
            10 * 24,
            "other",
            "来电反映：急诊咨询电话一直打不通。",
            vec![(10 * 24 - 30, "forward", "", false, "")],
        ),
        (
            "SH-PD",
            2 * 24,
            "medication",
            "来电反映：透析病人取药被拖延。",
            vec![(2 * 24 - 28, "forward", "", false, "")],
        ),
    ]);
    for (i, (code, hours_ago, category, text, steps)) in calls.into_iter().enumerate() {
        let at = now - Duration::hours(hours_ago);
        let engine_at = |t: DateTime<Utc>| {
            Engine::new(
                policy,
                notifier,
                shouzhen_domain::time::to_micros(t.naive_utc()),
            )
        };
        let input = shouzhen_app::complaints::ComplaintInput {
            hospital: Some(code.to_string()),
            hospital_name: None,
            category: Some(category.to_string()),
            occurred_at: Some((at - Duration::hours(2)).to_rfc3339()),
            description: Some(text.to_string()),
            contact_name: Some("来电人".to_string()),
            contact_phone: Some(format!("1380000{:04}", 2000 + i)),
            channel: Some(if i == 3 { "12345" } else { "phone" }.to_string()),
            external_ref: Some(format!("12320-2026-{:05}", 200 + i)),
            callback_consent: Some(true),
        };
        let valid = shouzhen_app::complaints::validate(conn, &input, at, true)?;
        let (complaint, _) =
            shouzhen_app::complaints::file(conn, keys, &engine_at(at), valid, "zh")?;
        for (ago, action, note, resolved, satisfaction) in steps {
            let a = shouzhen_app::complaints::ComplaintAction {
                action: action.into(),
                note: note.into(),
                resolved: (action == "callback").then_some(resolved),
                satisfaction: (action == "callback").then(|| satisfaction.to_string()),
                ..Default::default()
            };
            let by = match staff.iter().find(|(h, _)| *h == code) {
                Some((_, hospital)) if action == "answer" => hospital,
                _ => &operator,
            };
            shouzhen_app::complaints::act(
                conn,
                &engine_at(now - Duration::hours(ago)),
                by,
                complaint.id,
                &a,
                "",
            )?;
        }
    }
    Ok(())
}

/// Inspectors at work on the demo hospital's open cases, so that every status shows: the
/// closed loop (one case left at each step: forwarded, replied, returned, in rectification,
/// rectified, verified; one forwarded two days ago and never answered, which the sweeper then
/// reminds and supervises), and one case each acknowledged, assigned, escalated and dismissed.
fn hospital_loop(conn: &mut DbConn, notifier: &Notifier, now: DateTime<Utc>) -> AppResult<()> {
    use shouzhen_domain::actor::Role;
    let supervisor = staff_of(conn, "supervisor@shouzhen.demo", Role::Supervisor)?;
    let hospital = staff_of(conn, HOSPITAL_USER.0, Role::HospitalStaff)?;
    let open = shouzhen_store::cases::list(
        conn,
        &shouzhen_store::cases::CaseFilter {
            filter: shouzhen_store::cases::QueueFilter {
                statuses: vec!["open".into()],
                hospital: Some(HOSPITAL_USER.1.into()),
                ..Default::default()
            },
            after: None,
            limit: 11,
        },
    )?;
    let rectify_by = (now + Duration::days(5)).to_rfc3339();
    let steps: [&[(&str, &str)]; 11] = [
        &[("forward", "请于时限内说明情况")],
        &[
            ("forward", "请于时限内说明情况"),
            ("reply", "不认可：当时急诊满负荷，已电话联系120改送"),
        ],
        &[
            ("forward", "请说明延误原因"),
            ("reply", "认可：交接登记延误"),
            ("return", "答复未说明整改措施，请补充"),
        ],
        &[
            ("forward", "请说明延误原因"),
            ("reply", "认可：交接登记延误"),
            ("accept", "认定违规，限期整改"),
        ],
        &[
            ("forward", "请说明"),
            ("reply", "认可"),
            ("accept", "认定违规，限期整改"),
            ("rectify", "已修订急诊交接制度并培训全员"),
        ],
        &[
            ("forward", "请说明"),
            ("reply", "认可"),
            ("accept", "认定违规，限期整改"),
            ("rectify", "已整改"),
            ("verify", "现场核实整改到位"),
        ],
        &[("forward", "请于时限内说明情况")],
        &[("acknowledge", "已受理，调取交接记录")],
        &[("assign", "请朝阳区监督员核查")],
        &[("escalate", "涉及危重患者，升级处理")],
        &[("dismiss", "核查为登记错误，非违规")],
    ];
    for (i, (case, actions)) in open.iter().zip(steps).enumerate() {
        // The last one was forwarded two days ago: its reply is a day overdue.
        let at = if i == 6 { now - Duration::days(2) } else { now };
        for (action, note) in actions {
            let by_hospital = matches!(*action, "reply" | "rectify");
            let request = shouzhen_domain::case::ActionRequest {
                action: action.to_string(),
                note: note.to_string(),
                assignee: (*action == "assign")
                    .then(|| "inspector.chaoyang@shouzhen.demo".to_string()),
                admits: by_hospital.then(|| !note.starts_with("不认可")),
                due: (*action == "accept").then(|| rectify_by.clone()),
            };
            shouzhen_app::workflow::apply(
                conn,
                notifier,
                if by_hospital { &hospital } else { &supervisor },
                case.id,
                &request,
                "",
                shouzhen_domain::time::to_micros(at.naive_utc()),
            )?;
        }
    }
    Ok(())
}

/// A handover logged late: the case the missing log opened is withdrawn (`withdrawn`) once
/// the log arrives and shows the handover in time.
fn late_log_withdraws(
    conn: &mut DbConn,
    keys: &Keys,
    policy: &Policy,
    notifier: &Notifier,
    poster: &Poster,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let patient = "110101195001010017";
    let arrived = now - Duration::hours(2);
    let post = |conn: &mut DbConn, event: Value| -> AppResult<()> {
        let items = vec![intake::validate(0, event, now, &Default::default())];
        let engine = Engine::new(policy, notifier, shouzhen_store::now());
        intake::ingest(conn, keys, &engine, poster, items)?;
        Ok(())
    };
    post(
        conn,
        json!({"event_id": "late-log-arrival", "type": "arrival", "occurred_at": arrived.to_rfc3339(),
               "patient": {"id_number": patient}, "acuity": "critical", "arrived_by": "ambulance"}),
    )?;
    // The sweeper finds no handover by minute 15 and opens the case ...
    shouzhen_app::sweeper::sweep(conn, policy, notifier, shouzhen_store::now())?;
    // ... which the handover, logged two hours late, clears.
    post(
        conn,
        json!({"event_id": "late-log-handover", "type": "handover",
               "occurred_at": (arrived + Duration::minutes(9)).to_rfc3339(),
               "patient": {"id_number": patient}, "note": "交接登记补录"}),
    )
}

/// A demo 120 centre: code, name, district, jurisdiction, the area of its fleet reports, and
/// the hospitals its ambulances reach.
type Centre = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

/// The demo's 120 centres.
pub const CENTRES: &[Centre] = &[
    (
        "DD-120",
        "丹东市120紧急救援中心",
        "振兴区",
        "dandong",
        "主城区",
        // Not DD-YB: its log stops two days before now (feed.silent).
        &["DD-ZX"],
    ),
    (
        "BJ-120",
        "北京急救中心",
        "东城区",
        "beijing",
        "城区",
        &["BJ-CY", "BJ-HD", "BJ-DC"],
    ),
];
const CALLS_PER_DAY: i64 = 60;

/// What the hospital's own log does with an ambulance patient of the demo.
#[derive(Clone, Copy, PartialEq)]
enum Logged {
    /// Arrival within 3 minutes, handover within 10; the centre logs its handover too.
    OnTime,
    /// The hospital logs the arrival 20 minutes late and the centre no handover: the
    /// ambulance's clock shows the handover 22 minutes after it arrived (handover.delay).
    Late,
    /// The hospital logs nothing; the centre hands over in 10 minutes (intake.unlogged_arrival).
    NeverHandedOver,
    /// The hospital logs nothing and the centre no handover (both rules).
    Never,
}

/// Three weeks of two centres' calls: most answered in a few seconds, one day a week slow
/// (below 95 % within 10 s), a few calls abandoned or answered after a minute, a slow dispatch
/// and a call never dispatched, the main city's fleet short on one morning, and ambulance
/// patients whom the hospitals logged on time, late or never. Returns the events posted and
/// the first centre's credentials.
fn dispatch_traffic(
    conn: &mut DbConn,
    keys: &Keys,
    policy: &Policy,
    notifier: &Notifier,
    now: DateTime<Utc>,
    posters: &[Poster],
) -> AppResult<(usize, Option<(String, Credentials)>)> {
    let reachable = intake::reachable_hospitals(conn)?;
    let mut total = 0;
    let mut first = None;
    for (ci, (code, name, district, jurisdiction, area, reach)) in CENTRES.iter().enumerate() {
        let (centre, creds) =
            accounts::add_dispatch_centre(conn, &source_input(code, name, district, jurisdiction))?;
        first.get_or_insert((centre.code.clone(), creds));
        let mut g = Gen::new(120 + ci as u64, &centre.code, now);
        // The hospitals' own logs of the ambulance patients, by hospital code.
        let mut at_hospitals: Vec<(usize, Gen)> = reach
            .iter()
            .enumerate()
            .map(|(hi, h)| {
                let log = Gen {
                    rng: StdRng::seed_from_u64(1200 + hi as u64),
                    events: Vec::new(),
                    seq: 0,
                    prefix: format!("{h}-from-{code}"),
                    now,
                };
                (hi, log)
            })
            .collect();
        let start = now - Duration::days(DAYS);
        let mut legs = 0;
        for day in 0..DAYS {
            let base = start + Duration::days(day);
            for k in 0..CALLS_PER_DAY {
                let call = format!("{code}-{day:02}{k:03}");
                let with = |extra: Value| {
                    let mut v = json!({"call_id": call});
                    if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), extra) {
                        obj.extend(more);
                    }
                    v
                };
                let received = base
                    + Duration::seconds(k * 24 * 3600 / CALLS_PER_DAY)
                    + Duration::seconds(g.rng.gen_range(0..600));
                g.push("call_received", "", received, with(json!({})));
                if day % 5 == 1 && k == 7 {
                    g.push(
                        "call_abandoned",
                        "",
                        received + Duration::seconds(20),
                        with(json!({})),
                    );
                    continue;
                }
                let slow_day = day % 7 == 2;
                let wait = if day == 9 && k == 8 {
                    70
                } else if g.rng.gen_range(0..100) < if slow_day { 12 } else { 2 } {
                    g.rng.gen_range(11..30)
                } else {
                    g.rng.gen_range(2..9)
                };
                let answered = received + Duration::seconds(wait);
                let roll = g.rng.gen_range(0..10);
                let slow_dispatch = day == 4 && k == 10;
                let never_dispatched = day == 12 && k == 11;
                let acuity = if slow_dispatch || never_dispatched || roll < 2 {
                    "critical"
                } else if roll < 5 {
                    "urgent"
                } else {
                    "routine"
                };
                g.push(
                    "call_answered",
                    "",
                    answered,
                    with(json!({"acuity": acuity})),
                );
                if never_dispatched {
                    continue;
                }
                let dispatched = answered
                    + if slow_dispatch {
                        Duration::minutes(5)
                    } else {
                        Duration::seconds(g.rng.gen_range(30..150))
                    };
                g.push("dispatched", "", dispatched, with(json!({})));
                if k % 10 != 3 || acuity == "routine" {
                    continue;
                }
                // An ambulance patient brought to one of the centre's hospitals.
                legs += 1;
                let logged = match (day, legs % 9) {
                    (6, _) => Logged::Late,
                    (8, _) => Logged::NeverHandedOver,
                    (10, _) => Logged::Never,
                    _ => Logged::OnTime,
                };
                let hi = (day as usize + k as usize) % reach.len();
                let hospital = reach[hi];
                let patient = format!("21060219{ci}{day:02}{k:03}0000");
                let at_scene = dispatched + g.minutes(6, 12);
                g.push("at_scene", "", at_scene, with(json!({})));
                let at_hospital = at_scene + g.minutes(15, 25);
                g.push(
                    "at_hospital",
                    &patient,
                    at_hospital,
                    with(json!({"hospital": hospital})),
                );
                let handed_over = match logged {
                    Logged::OnTime => Some(g.minutes(4, 10)),
                    Logged::NeverHandedOver => Some(Duration::minutes(10)),
                    Logged::Late | Logged::Never => None,
                };
                if let Some(after) = handed_over {
                    g.push(
                        "handed_over",
                        "",
                        at_hospital + after,
                        with(json!({"hospital": hospital})),
                    );
                }
                let (_, h) = &mut at_hospitals[hi];
                let arrival = match logged {
                    Logged::OnTime => at_hospital + h.minutes(0, 2),
                    Logged::Late => at_hospital + Duration::minutes(20),
                    Logged::NeverHandedOver | Logged::Never => continue,
                };
                h.push(
                    "arrival",
                    &patient,
                    arrival,
                    json!({"acuity": acuity, "arrived_by": "ambulance"}),
                );
                let handover = if logged == Logged::Late {
                    arrival + Duration::minutes(2)
                } else {
                    arrival + h.minutes(3, 8)
                };
                h.push("handover", &patient, handover, json!({}));
                h.push_after(
                    "treatment",
                    &patient,
                    handover,
                    (5, 20),
                    json!({"department": "急诊"}),
                );
            }
            // The fleet every four hours; Dandong's main city at 8 on the fifth day's morning.
            for slot in 0..6 {
                let at = base + Duration::hours(4 * slot) + Duration::minutes(5);
                let online = match (*area, day, slot) {
                    ("主城区", 5, 2) => 8,
                    ("主城区", ..) => g.rng.gen_range(10..14),
                    _ => g.rng.gen_range(25..32),
                };
                g.push(
                    "fleet_status",
                    "",
                    at,
                    json!({"vehicles_online": online, "area": area}),
                );
            }
        }
        total += g.events.len();
        let items = g
            .events
            .drain(..)
            .enumerate()
            .map(|(i, v)| intake::validate_dispatch(i, v, now, &reachable))
            .collect();
        let poster = Poster {
            hospital_id: centre.id,
            code: centre.code.clone(),
            jurisdiction: centre.jurisdiction.clone(),
        };
        // The hospitals' logs first, as they post them as they go: the centre's after them.
        for (hi, mut h) in at_hospitals {
            let Some(poster) = posters.iter().find(|p| p.code == reach[hi]) else {
                continue;
            };
            total += h.post(conn, keys, policy, notifier, poster)?.0;
        }
        let batch = intake::Batch::prepare_dispatch(keys, poster, items)?;
        if let Some(r) = batch.rejected.first() {
            return Err(AppError::internal(format!("demo call log rejected: {r:?}")));
        }
        let engine = Engine::new(policy, notifier, shouzhen_store::now());
        intake::ingest_group(conn, &engine, std::slice::from_ref(&batch))?;
    }
    Ok((total, first))
}

/// The community transport desks of the demo: (code, name, district, jurisdiction, the
/// hospitals their residents go to).
pub const DESKS: &[(&str, &str, &str, &str, &[&str])] = &[
    (
        "CY-SQ",
        "朝阳区双井街道社区专班",
        "朝阳区",
        "beijing",
        &["BJ-CY", "BJ-HD"],
    ),
    (
        "PD-SQ",
        "浦东新区塘桥街道社区专班",
        "浦东新区",
        "shanghai",
        &["SH-PD", "SH-XH"],
    ),
];

/// What becomes of one demo request.
#[derive(Clone, Copy)]
enum Trip {
    /// Fetched in time, taken there and brought back.
    Closed,
    /// A special group's resident fetched after the 2 hours.
    SlowSpecial,
    /// Another resident fetched after the 6 hours.
    SlowOrdinary,
    /// Taken there, never brought back.
    NotReturned,
    /// Brought back after 14 hours.
    LateReturn,
    /// Cancelled by the resident within the hour.
    Cancelled,
    /// Fetched after 95 minutes (in time), the car sent after 80.
    Waits,
    /// The car sent at once, the resident fetched after 20 minutes.
    Quick,
}

/// Three weeks of two desks' transport logs: special groups (dialysis, chemotherapy, oncology,
/// pregnancy checks) among the requests, most fetched, taken and brought back in time, some
/// fetched late, a special request passed over by a later ordinary one every few days, a
/// resident never brought back, one cancelled. Returns the events posted and the first desk's
/// credentials.
fn community_traffic(
    conn: &mut DbConn,
    keys: &Keys,
    policy: &Policy,
    notifier: &Notifier,
    now: DateTime<Utc>,
) -> AppResult<(usize, Option<(String, Credentials)>)> {
    let register = intake::reachable_hospitals(conn)?;
    let mut total = 0;
    let mut first = None;
    for (di, (code, name, district, jurisdiction, hospitals)) in DESKS.iter().enumerate() {
        let (desk, creds) =
            accounts::add_community_desk(conn, &source_input(code, name, district, jurisdiction))?;
        first.get_or_insert((desk.code.clone(), creds));
        let mut g = Gen::new(300 + di as u64, &desk.code, now);
        let start = now - Duration::days(DAYS);
        let mut n = 0u32;
        let mut request = |g: &mut Gen, at: DateTime<Utc>, purpose: &str, trip: Trip| {
            n += 1;
            let id = format!("{}-{:04}", desk.code, n);
            let resident = format!("3101151970{:04}{:04}", di, n);
            let special = purpose != "other";
            let groups: &[&str] = match purpose {
                "dialysis" => &["dialysis"],
                "chemotherapy" => &["chemotherapy"],
                "oncology" => &["oncology"],
                "pregnancy_check" => &["pregnant"],
                _ => &[],
            };
            let to = hospitals[n as usize % hospitals.len()];
            g.push(
                "request",
                &resident,
                at,
                json!({"request_id": id, "purpose": purpose,
                "groups": groups, "to_hospital": to}),
            );
            let step = |g: &mut Gen, kind: &str, at: DateTime<Utc>, more: Value| {
                let mut e = json!({"request_id": id});
                if let (Some(o), Value::Object(m)) = (e.as_object_mut(), more) {
                    o.extend(m);
                }
                g.push(kind, "", at, e);
            };
            if let Trip::Cancelled = trip {
                let when = at + g.minutes(10, 50);
                step(
                    g,
                    "cancelled",
                    when,
                    json!({"reason": "居民病情好转，取消就医"}),
                );
                return;
            }
            let pickup = at
                + match trip {
                    Trip::Waits => Duration::minutes(95),
                    Trip::Quick => Duration::minutes(20),
                    Trip::SlowSpecial => g.minutes(130, 170),
                    Trip::SlowOrdinary => g.minutes(370, 420),
                    _ if special => g.minutes(20, 100),
                    _ => g.minutes(30, 300),
                };
            let sent = match trip {
                Trip::Waits | Trip::Quick => pickup - Duration::minutes(15),
                _ => pickup - g.minutes(10, 20),
            };
            step(g, "dispatched", sent, json!({}));
            step(g, "picked_up", pickup, json!({}));
            let there = pickup + g.minutes(20, 50);
            step(g, "at_hospital", there, json!({}));
            let back = match trip {
                Trip::NotReturned => None,
                Trip::LateReturn => Some(there + g.minutes(14 * 60, 15 * 60)),
                _ => Some(there + g.minutes(120, 480)),
            };
            if let Some(back) = back {
                step(g, "returned", back, json!({"note": "闭环送回社区"}));
            }
        };
        for day in 0..DAYS {
            let base = start + Duration::days(day);
            for _ in 0..6 {
                let at = base + g.minutes(7 * 60, 17 * 60);
                let purpose = [
                    "dialysis",
                    "chemotherapy",
                    "oncology",
                    "pregnancy_check",
                    "other",
                    "other",
                    "other",
                ][g.rng.gen_range(0..7)];
                request(&mut g, at, purpose, Trip::Closed);
            }
            // Every few days something goes wrong.
            match day % 5 {
                0 => {
                    // A dialysis patient asks at 6 in the morning; an ordinary request made ten
                    // minutes later gets its car first (transport.priority).
                    let six = base + Duration::hours(6);
                    request(&mut g, six, "dialysis", Trip::Waits);
                    request(&mut g, six + Duration::minutes(10), "other", Trip::Quick);
                }
                1 => request(
                    &mut g,
                    base + Duration::hours(10),
                    "chemotherapy",
                    Trip::SlowSpecial,
                ),
                2 => request(
                    &mut g,
                    base + Duration::hours(8),
                    "other",
                    Trip::SlowOrdinary,
                ),
                3 => request(
                    &mut g,
                    base + Duration::hours(11),
                    "pregnancy_check",
                    Trip::LateReturn,
                ),
                _ => request(&mut g, base + Duration::hours(14), "other", Trip::Cancelled),
            }
            if day == DAYS - 3 {
                request(
                    &mut g,
                    base + Duration::hours(13),
                    "oncology",
                    Trip::NotReturned,
                );
            }
        }
        total += g.events.len();
        let items = g
            .events
            .drain(..)
            .enumerate()
            .map(|(i, v)| intake::validate_transport(i, v, now, &register))
            .collect();
        let poster = Poster {
            hospital_id: desk.id,
            code: desk.code.clone(),
            jurisdiction: desk.jurisdiction.clone(),
        };
        let batch = intake::Batch::prepare_transport(keys, poster, items)?;
        if let Some(r) = batch.rejected.first() {
            return Err(AppError::internal(format!(
                "demo transport log rejected: {r:?}"
            )));
        }
        let engine = Engine::new(policy, notifier, shouzhen_store::now());
        intake::ingest_group(conn, &engine, std::slice::from_ref(&batch))?;
    }
    Ok((total, first))
}
