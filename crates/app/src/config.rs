//! Configuration from the `SHOUZHEN_*` environment variables, to which an optional TOML file
//! (`SHOUZHEN_CONFIG`) may add. Every value is checked at start; a wrong one stops the service
//! with a message that names the variable.

use std::collections::HashMap;
use std::fmt;
use std::net::ToSocketAddrs;
use std::path::PathBuf;

use shouzhen_store::db::DatabaseUrl;

/// A value that must never be printed (keys, passwords in URLs).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    /// A PostgreSQL read replica for the dashboard's lists, figures and exports (optional).
    pub read_database_url: Option<DatabaseUrl>,
    pub bind: String,
    /// As configured; `None` means "generate one beside the SQLite database".
    pub secret_key: Option<Secret>,
    pub smtp_url: Option<Secret>,
    pub mail_dir: PathBuf,
    pub escalation_to: Vec<String>,
    pub public_url: String,
    pub policy: Option<PathBuf>,
    /// Without `policy`: the packs the project ships (`serve --demo`) instead of the built-in
    /// national defaults alone.
    pub shipped_packs: bool,
    /// Lifetime of access tokens, in seconds.
    pub token_ttl: i64,
    pub pool_size: u32,
    /// How often the rule sweeper runs, in seconds (at most 60).
    pub sweep_interval: u64,
    pub log_format: LogFormat,
    /// Requests per minute per client on the public complaint endpoints (0 = no limit).
    pub complaint_rate_limit: u32,
    /// The From address of emails.
    pub mail_from: String,
    /// Seconds between outbox delivery passes.
    pub outbox_interval: u64,
    /// First retry delay of a failed email, in seconds; doubled at each attempt.
    pub smtp_retry_base: u64,
    /// Attempts before an email becomes a dead letter.
    pub smtp_max_attempts: i32,
    /// The hour (China time, 0-23) of the daily digest.
    pub digest_hour: u32,
    /// Intake writer threads (group commit); 0 picks 1 on SQLite and 2 on PostgreSQL.
    pub ingest_writers: usize,
    /// The Bearer token a metrics scraper sends; without it `/metrics` answers only to the
    /// machine itself (a loopback peer, not through a proxy).
    pub metrics_token: Option<Secret>,
}

pub const VARIABLES: &[(&str, &str)] = &[
    ("SHOUZHEN_DATABASE_URL", "sqlite://shouzhen.db"),
    ("SHOUZHEN_READ_DATABASE_URL", ""),
    ("SHOUZHEN_BIND", "127.0.0.1:8080"),
    ("SHOUZHEN_SECRET_KEY", ""),
    ("SHOUZHEN_SMTP_URL", ""),
    ("SHOUZHEN_MAIL_DIR", "./mail"),
    ("SHOUZHEN_ESCALATION_TO", ""),
    ("SHOUZHEN_PUBLIC_URL", ""),
    ("SHOUZHEN_POLICY", ""),
    ("SHOUZHEN_TOKEN_TTL", "900"),
    ("SHOUZHEN_DB_POOL_SIZE", "10"),
    ("SHOUZHEN_SWEEP_INTERVAL", "30"),
    ("SHOUZHEN_LOG_FORMAT", "text"),
    ("SHOUZHEN_COMPLAINT_RATE_LIMIT", "10"),
    (
        "SHOUZHEN_MAIL_FROM",
        "Shouzhen 首诊监督 <shouzhen@localhost>",
    ),
    ("SHOUZHEN_OUTBOX_INTERVAL", "5"),
    ("SHOUZHEN_SMTP_RETRY_BASE", "30"),
    ("SHOUZHEN_SMTP_MAX_ATTEMPTS", "10"),
    ("SHOUZHEN_DIGEST_HOUR", "8"),
    ("SHOUZHEN_INGEST_WRITERS", "0"),
    ("SHOUZHEN_METRICS_TOKEN", ""),
];

/// The minimum length of `SHOUZHEN_SECRET_KEY`, in characters.
pub const MIN_SECRET_LEN: usize = 32;

impl Settings {
    /// Reads the process environment (and `SHOUZHEN_CONFIG`, if set).
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut values: HashMap<String, String> = HashMap::new();
        if let Ok(path) = std::env::var("SHOUZHEN_CONFIG") {
            values.extend(read_file(&path)?);
        }
        for (name, _) in VARIABLES {
            if let Ok(v) = std::env::var(name) {
                values.insert((*name).to_string(), v);
            }
        }
        Self::from_map(&values)
    }

    /// Builds settings from variable names to values; absent or empty values take the default.
    pub fn from_map(values: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &str| -> Option<String> {
            values
                .get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let default = |name: &str| -> String {
            VARIABLES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, d)| d.to_string())
                .unwrap_or_default()
        };
        let value = |name: &str| get(name).unwrap_or_else(|| default(name));

        let database_url = DatabaseUrl::parse(&value("SHOUZHEN_DATABASE_URL"))
            .map_err(|m| err("SHOUZHEN_DATABASE_URL", m))?;
        let read_database_url = match get("SHOUZHEN_READ_DATABASE_URL") {
            None => None,
            Some(raw) => {
                let url =
                    DatabaseUrl::parse(&raw).map_err(|m| err("SHOUZHEN_READ_DATABASE_URL", m))?;
                if url.is_sqlite() || database_url.is_sqlite() {
                    return Err(err(
                        "SHOUZHEN_READ_DATABASE_URL",
                        "is a PostgreSQL replica of a PostgreSQL SHOUZHEN_DATABASE_URL",
                    ));
                }
                Some(url)
            }
        };

        let bind = value("SHOUZHEN_BIND");
        bind.to_socket_addrs()
            .map_err(|e| err("SHOUZHEN_BIND", format!("not a HOST:PORT address ({e})")))?;

        let secret_key = get("SHOUZHEN_SECRET_KEY").map(Secret::new);
        match &secret_key {
            Some(key) if key.expose().chars().count() < MIN_SECRET_LEN => {
                return Err(err(
                    "SHOUZHEN_SECRET_KEY",
                    format!("must be at least {MIN_SECRET_LEN} characters"),
                ));
            }
            None if !database_url.is_sqlite() => {
                return Err(err(
                    "SHOUZHEN_SECRET_KEY",
                    "is required with PostgreSQL (every instance must share it); \
                     generate one with `openssl rand -base64 48`",
                ));
            }
            _ => {}
        }

        let smtp_url = get("SHOUZHEN_SMTP_URL").map(Secret::new);
        if let Some(url) = &smtp_url {
            let ok = ["smtp://", "smtps://"]
                .iter()
                .any(|p| url.expose().starts_with(p));
            if !ok {
                return Err(err(
                    "SHOUZHEN_SMTP_URL",
                    "must start with smtp:// or smtps://",
                ));
            }
        }

        let escalation_to: Vec<String> = get("SHOUZHEN_ESCALATION_TO")
            .map(|v| {
                v.split(',')
                    .map(|a| a.trim().to_string())
                    .filter(|a| !a.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(bad) = escalation_to.iter().find(|a| !looks_like_email(a)) {
            return Err(err(
                "SHOUZHEN_ESCALATION_TO",
                format!("`{bad}` is not an email address"),
            ));
        }

        let public_url = get("SHOUZHEN_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(err(
                "SHOUZHEN_PUBLIC_URL",
                "must start with http:// or https://",
            ));
        }

        let policy = get("SHOUZHEN_POLICY").map(PathBuf::from);
        if let Some(path) = &policy
            && !path.exists()
        {
            return Err(err(
                "SHOUZHEN_POLICY",
                format!(
                    "{} is neither a pack file nor a folder of packs",
                    path.display()
                ),
            ));
        }

        let token_ttl = parse_number::<i64>("SHOUZHEN_TOKEN_TTL", &value("SHOUZHEN_TOKEN_TTL"))?;
        if !(60..=86_400).contains(&token_ttl) {
            return Err(err(
                "SHOUZHEN_TOKEN_TTL",
                "must be between 60 and 86400 seconds",
            ));
        }
        let pool_size =
            parse_number::<u32>("SHOUZHEN_DB_POOL_SIZE", &value("SHOUZHEN_DB_POOL_SIZE"))?;
        if !(1..=200).contains(&pool_size) {
            return Err(err("SHOUZHEN_DB_POOL_SIZE", "must be between 1 and 200"));
        }
        let ingest_writers =
            parse_number::<usize>("SHOUZHEN_INGEST_WRITERS", &value("SHOUZHEN_INGEST_WRITERS"))?;
        if ingest_writers >= pool_size as usize {
            return Err(err(
                "SHOUZHEN_INGEST_WRITERS",
                "must be below SHOUZHEN_DB_POOL_SIZE (0 picks a number)",
            ));
        }
        let metrics_token = get("SHOUZHEN_METRICS_TOKEN").map(Secret::new);
        if metrics_token
            .as_ref()
            .is_some_and(|t| t.expose().chars().count() < 24)
        {
            return Err(err(
                "SHOUZHEN_METRICS_TOKEN",
                "must be at least 24 characters (a random token)",
            ));
        }
        let sweep_interval =
            parse_number::<u64>("SHOUZHEN_SWEEP_INTERVAL", &value("SHOUZHEN_SWEEP_INTERVAL"))?;
        if !(1..=60).contains(&sweep_interval) {
            return Err(err(
                "SHOUZHEN_SWEEP_INTERVAL",
                "must be between 1 and 60 seconds (deadline rules are checked at least once a minute)",
            ));
        }
        let log_format = match value("SHOUZHEN_LOG_FORMAT").as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => return Err(err("SHOUZHEN_LOG_FORMAT", "must be `text` or `json`")),
        };
        let complaint_rate_limit = parse_number::<u32>(
            "SHOUZHEN_COMPLAINT_RATE_LIMIT",
            &value("SHOUZHEN_COMPLAINT_RATE_LIMIT"),
        )?;

        let mail_from = value("SHOUZHEN_MAIL_FROM");
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(err(
                "SHOUZHEN_MAIL_FROM",
                "is not an email address (e.g. Shouzhen <shouzhen@wjw.example.cn>)",
            ));
        }
        let outbox_interval = parse_number::<u64>(
            "SHOUZHEN_OUTBOX_INTERVAL",
            &value("SHOUZHEN_OUTBOX_INTERVAL"),
        )?;
        if !(1..=300).contains(&outbox_interval) {
            return Err(err(
                "SHOUZHEN_OUTBOX_INTERVAL",
                "must be between 1 and 300 seconds",
            ));
        }
        let smtp_retry_base = parse_number::<u64>(
            "SHOUZHEN_SMTP_RETRY_BASE",
            &value("SHOUZHEN_SMTP_RETRY_BASE"),
        )?;
        if !(1..=3600).contains(&smtp_retry_base) {
            return Err(err(
                "SHOUZHEN_SMTP_RETRY_BASE",
                "must be between 1 and 3600 seconds",
            ));
        }
        let smtp_max_attempts = parse_number::<i32>(
            "SHOUZHEN_SMTP_MAX_ATTEMPTS",
            &value("SHOUZHEN_SMTP_MAX_ATTEMPTS"),
        )?;
        if !(1..=100).contains(&smtp_max_attempts) {
            return Err(err(
                "SHOUZHEN_SMTP_MAX_ATTEMPTS",
                "must be between 1 and 100",
            ));
        }
        let digest_hour =
            parse_number::<u32>("SHOUZHEN_DIGEST_HOUR", &value("SHOUZHEN_DIGEST_HOUR"))?;
        if digest_hour > 23 {
            return Err(err(
                "SHOUZHEN_DIGEST_HOUR",
                "must be an hour from 0 to 23 (China time)",
            ));
        }
        Ok(Self {
            mail_from,
            outbox_interval,
            smtp_retry_base,
            smtp_max_attempts,
            digest_hour,
            ingest_writers,
            metrics_token,
            database_url,
            read_database_url,
            bind,
            secret_key,
            smtp_url,
            mail_dir: PathBuf::from(value("SHOUZHEN_MAIL_DIR")),
            escalation_to,
            public_url,
            policy,
            shipped_packs: false,
            token_ttl,
            pool_size,
            sweep_interval,
            log_format,
            complaint_rate_limit,
        })
    }
}

fn parse_number<T: std::str::FromStr>(var: &'static str, raw: &str) -> Result<T, ConfigError> {
    raw.parse()
        .map_err(|_| err(var, format!("`{raw}` is not a whole number")))
}

use shouzhen_domain::field::looks_like_email;

/// Reads the optional TOML file. Keys may be given with or without the `SHOUZHEN_` prefix, in
/// any case (`database_url = "..."` or `SHOUZHEN_DATABASE_URL = "..."`).
fn read_file(path: &str) -> Result<HashMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| err("SHOUZHEN_CONFIG", format!("cannot read {path}: {e}")))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| err("SHOUZHEN_CONFIG", format!("{path} is not valid TOML: {e}")))?;
    let mut out = HashMap::new();
    for (key, value) in table {
        let upper = key.to_ascii_uppercase();
        let name = if upper.starts_with("SHOUZHEN_") {
            upper
        } else {
            format!("SHOUZHEN_{upper}")
        };
        if !VARIABLES.iter().any(|(n, _)| *n == name) {
            return Err(err(
                "SHOUZHEN_CONFIG",
                format!("{path}: unknown setting `{key}`"),
            ));
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        out.insert(name, text);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_map(&map)
    }

    #[test]
    fn defaults_are_embedded_sqlite() {
        let s = settings(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert!(s.database_url.is_sqlite());
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
        assert_eq!(s.token_ttl, 900);
    }

    #[test]
    fn wrong_values_name_their_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("SHOUZHEN_DATABASE_URL", "mysql://x")],
                "SHOUZHEN_DATABASE_URL",
            ),
            (&[("SHOUZHEN_BIND", "nonsense")], "SHOUZHEN_BIND"),
            (&[("SHOUZHEN_SECRET_KEY", "short")], "SHOUZHEN_SECRET_KEY"),
            (
                &[("SHOUZHEN_DATABASE_URL", "postgres://h/db")],
                "SHOUZHEN_SECRET_KEY",
            ),
            (
                &[("SHOUZHEN_ESCALATION_TO", "a@b.cn, nope")],
                "SHOUZHEN_ESCALATION_TO",
            ),
            (&[("SHOUZHEN_SMTP_URL", "http://x")], "SHOUZHEN_SMTP_URL"),
            (&[("SHOUZHEN_TOKEN_TTL", "abc")], "SHOUZHEN_TOKEN_TTL"),
            (
                &[("SHOUZHEN_SWEEP_INTERVAL", "120")],
                "SHOUZHEN_SWEEP_INTERVAL",
            ),
            (
                &[("SHOUZHEN_POLICY", "/nonexistent.toml")],
                "SHOUZHEN_POLICY",
            ),
        ];
        for (pairs, var) in cases {
            match settings(pairs) {
                Err(e) => assert_eq!(e.var, *var, "{e}"),
                Ok(_) => panic!("{pairs:?} was accepted"),
            }
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let s = settings(&[("SHOUZHEN_SECRET_KEY", "k".repeat(40).as_str())])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!format!("{s:?}").contains("kkkk"));
    }
}
