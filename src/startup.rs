//! Builds the application: keys, pool, migrations, the HTTP server and the workers.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};

use crate::state::AppState;
use crate::telemetry;
use shouzhen_app::config::Settings;
use shouzhen_app::intake::queue::{IngestQueue, Writer};
use shouzhen_app::keys::{self, Keys};
use shouzhen_app::mail::Notifier;
use shouzhen_app::mail::worker::{self, Mailer, Retry};
use shouzhen_app::metrics::Metrics;
use shouzhen_domain::policy::Policy;
use shouzhen_store::db;

pub struct Application {
    pub port: u16,
    pub server: Server,
    pub state: web::Data<AppState>,
    /// Tells the background workers to stop (sent when the server has stopped).
    pub stop: tokio::sync::watch::Sender<bool>,
}

/// Opens the database (running pending migrations) and derives the keys.
pub fn prepare(settings: Settings) -> Result<AppState, String> {
    let secret = keys::resolve_secret(&settings)?;
    let pool = db::pool(&settings.database_url, settings.pool_size).map_err(|e| {
        format!(
            "SHOUZHEN_DATABASE_URL: cannot open {}: {e}",
            settings.database_url
        )
    })?;
    let read_pool = match &settings.read_database_url {
        Some(url) => db::pool(url, settings.pool_size)
            .map_err(|e| format!("SHOUZHEN_READ_DATABASE_URL: cannot open {url}: {e}"))?,
        None => pool.clone(),
    };
    let mut conn = pool.get().map_err(|e| format!("database: {e}"))?;
    let applied = db::migrate(&mut conn).map_err(|e| format!("migrations failed: {e}"))?;
    drop(conn);
    if !applied.is_empty() {
        tracing::info!(count = applied.len(), "applied migrations");
    }
    let policy = match &settings.policy {
        Some(path) => Policy::load(path).map_err(|e| format!("SHOUZHEN_POLICY: {e}"))?,
        None if settings.shipped_packs => Policy::shipped(),
        None => Policy::builtin(),
    };
    let notifier = Notifier::new(&settings, &policy)?;
    let mailer = Mailer::from_settings(&settings)?;
    let web = crate::web::Web::new(settings.complaint_rate_limit)?;
    let (notifier, policy, metrics) = (
        Arc::new(notifier),
        Arc::new(policy),
        Arc::new(Metrics::new()),
    );
    let writers = match (settings.ingest_writers, &settings.database_url) {
        (0, db::DatabaseUrl::Sqlite(_)) => 1,
        (0, db::DatabaseUrl::Postgres(_)) => 2.min(settings.pool_size as usize - 1).max(1),
        (n, _) => n,
    };
    let ingest_committed = Arc::new(tokio::sync::Notify::new());
    let ingest = IngestQueue::start(
        Writer {
            pool: pool.clone(),
            policy: policy.clone(),
            notifier: notifier.clone(),
            metrics: metrics.clone(),
            committed: ingest_committed.clone(),
            stopping: Default::default(),
        },
        writers,
    );
    Ok(AppState {
        web: Arc::new(web),
        notifier,
        mailer: Arc::new(mailer),
        policy,
        keys: Keys::derive(&secret),
        settings,
        pool,
        read_pool,
        metrics,
        ingest,
        ingest_committed,
        hospitals: Default::default(),
    })
}

impl Application {
    /// Binds the listener (port 0 picks a free port, as tests do) and builds the server.
    pub fn build(state: AppState) -> Result<Self, String> {
        let listener = TcpListener::bind(&state.settings.bind).map_err(|e| {
            format!(
                "SHOUZHEN_BIND: cannot listen on {}: {e}",
                state.settings.bind
            )
        })?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let state = web::Data::new(state);
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .wrap(ErrorHandlers::new().handler(
                    actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
                    crate::api::method_not_allowed,
                ))
                .wrap(from_fn(telemetry::observe))
                .configure(crate::api::configure)
        })
        // Signals are handled below, so that the ingest writers stop with the server.
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_GRACE)
        .listen(listener)
        .map_err(|e| e.to_string())?
        .run();
        actix_web::rt::spawn(stop_on_signal(server.handle(), state.clone()));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        actix_web::rt::spawn(shouzhen_app::sweeper::run(
            state.pool.clone(),
            state.policy.clone(),
            state.notifier.clone(),
            state.metrics.clone(),
            std::time::Duration::from_secs(state.settings.sweep_interval),
            state.settings.digest_hour,
            stopped.clone(),
        ));
        if matches!(state.settings.database_url, db::DatabaseUrl::Sqlite(_)) {
            actix_web::rt::spawn(checkpointer(
                state.pool.clone(),
                state.ingest_committed.clone(),
                stopped.clone(),
            ));
        }
        let s = &state.settings;
        let retry = Retry {
            base: chrono::Duration::seconds(s.smtp_retry_base as i64),
            max_attempts: s.smtp_max_attempts,
        };
        actix_web::rt::spawn(worker::run(
            state.pool.clone(),
            state.mailer.clone(),
            Arc::new((s.mail_from.clone(), retry)),
            state.metrics.clone(),
            std::time::Duration::from_secs(s.outbox_interval),
            stopped,
        ));
        Ok(Self {
            port,
            server,
            state,
            stop,
        })
    }
}

/// How long the server waits for requests in flight when it stops (seconds): the ingest
/// writers stop after the part they are committing (well within a second), so that the process
/// exits within 30 seconds of SIGTERM with every request answered or cut off between parts.
const SHUTDOWN_GRACE: u64 = 20;

/// On SIGTERM or Ctrl-C: stops accepting connections, tells the ingest writers to stop after
/// their current part (what remains of their requests gets a 503), and lets the server finish
/// the requests in flight for up to [`SHUTDOWN_GRACE`] seconds.
async fn stop_on_signal(server: actix_web::dev::ServerHandle, state: web::Data<AppState>) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await
            }
        }
    };
    tokio::select! {
        _ = terminate => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!(
        "stopping: no new connections; requests in flight finish or are cut off between parts"
    );
    state.ingest.stop();
    server.stop(true).await;
}

/// Checkpoints the SQLite write-ahead log beside the writers (see [`db::checkpoint`]): again as
/// soon as the last checkpoint is done if an intake commit came meanwhile, so that under load
/// the log is copied back continuously in small steps (a checkpoint every 200 ms left 80 ms
/// stalls; continuous ones, 25 ms), and every 200 ms for the other writes. Idle, it only ticks.
async fn checkpointer(
    pool: db::Pool,
    committed: Arc<tokio::sync::Notify>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(std::time::Duration::from_millis(200));
    loop {
        tokio::select! {
            _ = committed.notified() => {}
            _ = ticker.tick() => {}
            _ = stop.changed() => break,
        }
        let pool = pool.clone();
        let done = tokio::task::spawn_blocking(move || -> Result<(), String> {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            db::checkpoint(&mut conn).map_err(|e| e.to_string())
        })
        .await;
        if let Ok(Err(e)) = done {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}
