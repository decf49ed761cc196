//! Delivers the outbox: SMTP (plain, STARTTLS or TLS, by `SHOUZHEN_SMTP_URL`) or `.eml` files,
//! with exponential backoff and jitter, then a dead letter.
//!
//! Exactly once in practice: on PostgreSQL each email is claimed with `FOR UPDATE SKIP LOCKED`
//! in a transaction held while it is sent, so several instances never send one row twice. The
//! one window left is a crash after the SMTP server accepted the message and before the commit
//! that marks it sent: the row is then sent again, with the same Message-ID, so receivers can
//! drop the copy. On SQLite (one instance) the row is read, sent, then marked.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use lettre::message::{Mailbox, MultiPart};
use lettre::{FileTransport, Message, SmtpTransport, Transport};
use rand::Rng;

use crate::config::Settings;
use crate::metrics::Metrics;
use shouzhen_store::QueryResult;
use shouzhen_store::db::{DbConn, Pool};
use shouzhen_store::outbox::{self, Email};

pub enum Mailer {
    Smtp(SmtpTransport),
    /// `.eml` files in a folder: what would be sent.
    Files(FileTransport),
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        match &settings.smtp_url {
            Some(url) => {
                let transport = SmtpTransport::from_url(url.expose())
                    .map_err(|e| format!("SHOUZHEN_SMTP_URL: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(20)))
                    .build();
                Ok(Self::Smtp(transport))
            }
            None => {
                std::fs::create_dir_all(&settings.mail_dir).map_err(|e| {
                    format!(
                        "SHOUZHEN_MAIL_DIR: cannot create {}: {e}",
                        settings.mail_dir.display()
                    )
                })?;
                Ok(Self::Files(FileTransport::new(&settings.mail_dir)))
            }
        }
    }

    fn send(&self, message: &Message) -> Result<(), String> {
        match self {
            Self::Smtp(t) => t.send(message).map(|_| ()).map_err(|e| e.to_string()),
            Self::Files(t) => t.send(message).map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

/// Builds the MIME message: multipart text and HTML, the row's stable Message-ID.
pub fn message(email: &Email, from: &str) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("from: {e}"))?;
    let mut builder = Message::builder()
        .from(from)
        .subject(email.subject.clone())
        .message_id(Some(email.message_id.clone()));
    for to in email.recipients.split(',').filter(|a| !a.is_empty()) {
        builder = builder.to(to.parse().map_err(|e| format!("recipient {to}: {e}"))?);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            email.body_text.clone(),
            email.body_html.clone(),
        ))
        .map_err(|e| e.to_string())
}

pub struct Retry {
    pub base: Duration,
    pub max_attempts: i32,
}

impl Retry {
    /// `base` × 2^attempts, ±25 % jitter, at most an hour.
    fn backoff(&self, attempts: i32) -> Duration {
        let exp = self.base * 2i32.saturating_pow(attempts.clamp(0, 16) as u32);
        let capped = exp.min(Duration::hours(1));
        let ms = capped.num_milliseconds().max(1);
        let jitter = rand::thread_rng().gen_range(-(ms / 4)..=(ms / 4));
        Duration::milliseconds(ms + jitter)
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub sent: usize,
    pub failed: usize,
    pub dead: usize,
}

enum Step {
    Idle,
    Sent,
    Failed { dead: bool },
}

fn step(
    conn: &mut DbConn,
    email: Email,
    mailer: &Mailer,
    from: &str,
    retry: &Retry,
    now: NaiveDateTime,
) -> QueryResult<Step> {
    let result = message(&email, from).and_then(|m| mailer.send(&m));
    match result {
        Ok(()) => {
            outbox::mark_sent(conn, email.id, shouzhen_store::now())?;
            tracing::info!(email = email.id, kind = %email.kind, "email sent");
            Ok(Step::Sent)
        }
        Err(e) => {
            let dead = outbox::mark_failed(
                conn,
                &email,
                &e,
                retry.backoff(email.attempts),
                retry.max_attempts,
                now,
            )?;
            if dead {
                tracing::error!(email = email.id, attempts = email.attempts + 1, error = %e, "email is a dead letter");
            } else {
                tracing::warn!(email = email.id, attempts = email.attempts + 1, error = %e, "email delivery failed; will retry");
            }
            Ok(Step::Failed { dead })
        }
    }
}

/// Sends what is due (at most 200 emails a pass).
pub fn deliver_due(
    conn: &mut DbConn,
    mailer: &Mailer,
    from: &str,
    retry: &Retry,
    now: NaiveDateTime,
) -> QueryResult<Pass> {
    let mut pass = Pass::default();
    for _ in 0..200 {
        let done = outbox::with_next_due(conn, now, |c, email| {
            step(c, email, mailer, from, retry, now)
        })?
        .unwrap_or(Step::Idle);
        match done {
            Step::Idle => break,
            Step::Sent => pass.sent += 1,
            Step::Failed { dead } => {
                pass.failed += 1;
                pass.dead += usize::from(dead);
            }
        }
    }
    Ok(pass)
}

/// Runs delivery passes every `interval` until `stop` fires.
pub async fn run(
    pool: Pool,
    mailer: Arc<Mailer>,
    settings: Arc<(String, Retry)>,
    metrics: Arc<Metrics>,
    interval: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => break,
        }
        let (pool, mailer, settings) = (pool.clone(), mailer.clone(), settings.clone());
        let result = tokio::task::spawn_blocking(move || -> Result<Vec<(String, i64)>, String> {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            deliver_due(
                &mut conn,
                &mailer,
                &settings.0,
                &settings.1,
                shouzhen_store::now(),
            )
            .map_err(|e| e.to_string())?;
            outbox::counts(&mut conn).map_err(|e| e.to_string())
        })
        .await;
        match result {
            Ok(Ok(counts)) => {
                for status in [
                    outbox::PENDING,
                    outbox::SENT,
                    outbox::DEAD,
                    outbox::RECORDED,
                ] {
                    let n = counts
                        .iter()
                        .find(|(s, _)| s == status)
                        .map(|(_, n)| *n)
                        .unwrap_or(0);
                    metrics.outbox.with_label_values(&[status]).set(n);
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "outbox pass failed"),
            Err(e) => tracing::error!(error = %e, "outbox task panicked"),
        }
    }
}
