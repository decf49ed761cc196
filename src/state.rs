//! What every handler and worker shares: settings, the pool, keys, metrics. Travels in actix's
//! app data, never in a global.

use std::sync::Arc;

use actix_web::web;

use crate::error::ApiResult;
use shouzhen_app::config::Settings;
use shouzhen_app::error::AppResult;
use shouzhen_app::keys::Keys;
use shouzhen_app::mail::Notifier;
use shouzhen_app::mail::worker::Mailer;
use shouzhen_app::metrics::Metrics;
use shouzhen_domain::policy::Policy;
use shouzhen_store::db::{DbConn, Pool};

pub struct AppState {
    pub settings: Settings,
    pub pool: Pool,
    /// The read replica's pool when `SHOUZHEN_READ_DATABASE_URL` is set, else `pool` again.
    pub read_pool: Pool,
    pub keys: Keys,
    pub metrics: Arc<Metrics>,
    pub policy: Arc<Policy>,
    pub notifier: Arc<Notifier>,
    pub mailer: Arc<Mailer>,
    pub web: Arc<crate::web::Web>,
    /// The intake writers (group commit).
    pub ingest: shouzhen_app::intake::queue::IngestQueue,
    /// Woken after each intake commit (see `startup::checkpointer`).
    pub ingest_committed: Arc<tokio::sync::Notify>,
    /// Hospitals as the token check last read them (a few seconds).
    pub hospitals: crate::auth::principal::HospitalCache,
}

impl AppState {
    /// Runs `f` with a pooled connection on actix's blocking thread pool.
    pub async fn db<F, T>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        run(self.pool.clone(), f).await
    }

    /// As `db`, on the read replica if there is one: for the dashboard's lists, figures and
    /// exports, which may be a moment behind and never write. A page that shows what its user
    /// has just changed (a case, a complaint) reads with `db`.
    pub async fn read<F, T>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        run(self.read_pool.clone(), f).await
    }
}

async fn run<F, T>(pool: Pool, f: F) -> ApiResult<T>
where
    F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let result = web::block(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?;
    Ok(result?)
}
