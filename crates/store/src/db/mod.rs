//! Storage: one connection type over PostgreSQL and SQLite, a pool, and the embedded migrations.
//!
//! Queries are written once against [`DbConn`]; the few statements whose SQL really differs
//! between the backends (advisory locks, `SKIP LOCKED`) match on the variant, in this module.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub mod url;

pub use url::DatabaseUrl;

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// An arbitrary, fixed key for the advisory lock that serialises migrations across instances.
const MIGRATION_LOCK_KEY: i64 = 0x5348_4f55_5a48_454e; // "SHOUZHEN"

/// Opens connections of the backend the URL names, so that a failure shows the backend's own
/// message (diesel's `MultiConnection::establish` would hide it).
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl Manager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }

    /// One new connection, set up for the service.
    pub fn connect_once(&self) -> Result<DbConn, diesel::ConnectionError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn = establish_pg(url)?;
                // Plan each execution with its parameters and the tables' current size: a
                // generic plan cached while the tables were small (a seq scan) would otherwise
                // stay until autovacuum's next ANALYZE.
                conn.batch_execute("SET plan_cache_mode = force_custom_plan")
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Pg(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                create_private(path).map_err(|e| {
                    diesel::ConnectionError::BadConnection(format!(
                        "cannot create {}: {e}",
                        path.display()
                    ))
                })?;
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
                // WAL lets readers and one writer work at once; the busy timeout makes writers
                // queue instead of failing; foreign keys are off by default in SQLite.
                // The WAL is copied back into the database by `checkpoint`, off the writers'
                // path; a commit does it itself only if the WAL grows past 40 MB meanwhile.
                // Temporary storage in memory: a multi-row insert's statement journal (the
                // pages it changed, kept to undo it alone) otherwise spills past 64 KiB into a
                // file in /var/tmp, created, written and deleted within the statement.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                     PRAGMA wal_autocheckpoint = 10000; PRAGMA temp_store = MEMORY;",
                )
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        self.connect_once().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    /// A connection given back by a panicking thread, or whose transaction was left open by
    /// one, is closed rather than reused (as diesel's own pool manager does).
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking()
            || match conn {
                DbConn::Pg(c) => c.is_broken(),
                DbConn::Sqlite(c) => c.is_broken(),
            }
    }
}

/// Opens a PostgreSQL connection. Every connection of the service (and of its tests) opens
/// here, so that OpenSSL is first set up without its exit handler: libpq uses OpenSSL, and
/// that handler frees OpenSSL's state at process exit while another thread may still be
/// opening or closing a connection (the pool opens connections on its own threads), which
/// crashed processes at exit (diesel-rs/diesel#3441).
pub fn establish_pg(url: &str) -> ConnectionResult<PgConnection> {
    openssl_sys::init();
    PgConnection::establish(url)
}

/// Builds the pool. The first connection is opened here, so a wrong URL or an unreachable
/// server stops start-up with the backend's own message.
pub fn pool(url: &DatabaseUrl, max_size: u32) -> Result<Pool, String> {
    let manager = Manager::new(url.clone());
    // Fail fast with the backend's message rather than r2d2's timeout.
    manager.connect_once().map_err(|e| e.to_string())?;
    r2d2::Pool::builder()
        .max_size(max_size)
        // Connections are opened when a caller waits for one (and kept for r2d2's idle
        // timeout, 10 minutes), never in the background: a connection being opened while the
        // process exits can crash it inside libpq's Kerberos libraries.
        .min_idle(Some(0))
        // A PostgreSQL connection may have died with a restart of the server: checked (one
        // round trip) before use, so that a dead one is replaced. A SQLite file does not go away.
        .test_on_check_out(matches!(url, DatabaseUrl::Postgres(_)))
        .connection_timeout(Duration::from_secs(5))
        .build(manager)
        .map_err(|e| e.to_string())
}

/// Runs pending migrations. On PostgreSQL under an advisory lock, so that several instances
/// starting together migrate once; SQLite serialises writers itself.
pub fn migrate(conn: &mut DbConn) -> Result<Vec<String>, String> {
    let applied = match conn {
        DbConn::Pg(pg) => {
            pg.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .map_err(|e| e.to_string())?;
            let result = pg
                .run_pending_migrations(PG_MIGRATIONS)
                .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>())
                .map_err(|e| e.to_string());
            pg.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .map_err(|e| e.to_string())?;
            result?
        }
        DbConn::Sqlite(sqlite) => sqlite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>())
            .map_err(|e| e.to_string())?,
    };
    Ok(applied)
}

/// Copies the SQLite write-ahead log back into the database without blocking writers
/// (`PASSIVE`), so that the checkpoint's I/O and fsync do not fall on a commit. `serve` runs it
/// after intake commits and every 200 ms (`startup::checkpointer`); a no-op on PostgreSQL.
pub fn checkpoint(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(c) => c.batch_execute("PRAGMA wal_checkpoint(PASSIVE)"),
        DbConn::Pg(_) => Ok(()),
    }
}

/// Whether a database error means "unavailable for now" (try again) rather than a fault: a
/// lost or refused connection, a server shutting down, a serialization failure or deadlock,
/// SQLite busy or locked, a full disk.
pub fn is_transient(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind as Kind, Error};
    match e {
        Error::DatabaseError(Kind::ClosedConnection | Kind::SerializationFailure, _) => true,
        Error::DatabaseError(_, info) => {
            let m = info.message().to_ascii_lowercase();
            [
                "database is locked",
                "database table is locked",
                "database or disk is full",
                "disk i/o error",
                "server closed the connection",
                "terminating connection",
                "connection to server",
                "no connection to the server",
                "the database system is",
                "could not connect",
                "deadlock detected",
                "could not serialize",
                // SQLite rolls a transaction back by itself only after a full disk, an I/O
                // error, a busy lock or no memory; the rollback that follows then fails so.
                "cannot rollback - no transaction is active",
            ]
            .iter()
            .any(|needle| m.contains(needle))
        }
        Error::BrokenTransactionManager => true,
        _ => false,
    }
}

/// True when the error is a unique-constraint violation (a duplicate key), on either backend.
pub fn is_unique_violation(err: &diesel::result::Error) -> bool {
    matches!(
        err,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// How long a SQLite writer waits for its turn, as long as the busy timeout set on each
/// connection: then "database is locked" (a 503, try again).
const SQLITE_WRITE_WAIT: Duration = Duration::from_secs(10);

/// Runs `f` in a write transaction. On SQLite the transaction takes the write lock at once
/// (`BEGIN IMMEDIATE`), so that two writers queue instead of one failing when it upgrades a
/// read lock, and this process's writers take it in the order they asked for it
/// ([`WriteGate`]); on PostgreSQL it is an ordinary transaction. Nested `conn.transaction(..)`
/// calls inside `f` become savepoints on both.
pub fn write_tx<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    if matches!(conn, DbConn::Pg(_)) {
        return conn.transaction(f);
    }
    let _turn = WriteGate::of(conn)?.enter(SQLITE_WRITE_WAIT)?;
    if let DbConn::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    }
    let result = f(conn);
    let DbConn::Sqlite(c) = conn else {
        unreachable!("the variant does not change")
    };
    match result {
        Ok(value) => {
            if let Err(e) =
                <AnsiTransactionManager as TransactionManager<SqliteConnection>>::commit_transaction(
                    c,
                )
            {
                let _ = <AnsiTransactionManager as TransactionManager<SqliteConnection>>::rollback_transaction(c);
                return Err(e.into());
            }
            Ok(value)
        }
        Err(e) => {
            <AnsiTransactionManager as TransactionManager<SqliteConnection>>::rollback_transaction(
                c,
            )?;
            Err(e)
        }
    }
}

/// Lets other writers in after a writer held the lock for `held` and is about to take it again
/// (the parts of a large request). On SQLite, writers outside the gate (statements without a
/// transaction of their own) wait in SQLite's busy handler, which polls every 100 ms once it
/// has waited a while: a pause that long lets each of them in; shorter after a short hold. A
/// no-op on PostgreSQL, whose writers wait on the rows they need, not on one lock.
pub fn yield_writes(conn: &DbConn, held: Duration) {
    if matches!(conn, DbConn::Sqlite(_)) {
        std::thread::sleep((held / 4).min(Duration::from_millis(100)));
    }
}

/// Whether a write could begin now: the write lock had within `wait` (readiness). On SQLite a
/// turn at the gate and `BEGIN IMMEDIATE` under a busy timeout of `wait`; on PostgreSQL the
/// lock an insert of events takes (`ROW EXCLUSIVE` on `intake_events`, which a server in
/// recovery or read-only refuses) under a lock timeout of `wait`. Nothing is written.
pub fn write_probe(conn: &mut DbConn, wait: Duration) -> QueryResult<()> {
    let ms = wait.as_millis();
    match conn {
        DbConn::Pg(pg) => pg.transaction(|pg| {
            pg.batch_execute(&format!(
                "SET LOCAL lock_timeout = {ms}; SET LOCAL statement_timeout = {}; \
                 SET LOCAL transaction_read_only = off; \
                 LOCK TABLE intake_events IN ROW EXCLUSIVE MODE",
                ms * 2
            ))
        }),
        DbConn::Sqlite(_) => {
            let _turn = WriteGate::of(conn)?.enter(wait)?;
            let DbConn::Sqlite(c) = conn else {
                unreachable!("matched above")
            };
            c.batch_execute(&format!("PRAGMA busy_timeout = {ms}"))?;
            let began = c.batch_execute("BEGIN IMMEDIATE");
            if began.is_ok() {
                c.batch_execute("ROLLBACK")?;
            }
            c.batch_execute(&format!(
                "PRAGMA busy_timeout = {}",
                SQLITE_WRITE_WAIT.as_millis()
            ))?;
            began
        }
    }
}

/// The order in which this process's SQLite writers of one database file take its write lock:
/// first come, first served. SQLite's busy handler polls (every 100 ms once it has waited a
/// while), so a writer that commits and begins again at once (an ingest writer committing a
/// large request in parts) would take the lock again before writers that have waited longer:
/// the gate queues it behind them. A ticket lock: each writer draws a number and waits for it
/// to be served; a writer that stops waiting leaves its number to be skipped.
struct WriteGate {
    state: std::sync::Mutex<Tickets>,
    turn: std::sync::Condvar,
}

#[derive(Default)]
struct Tickets {
    next: u64,
    serving: u64,
    abandoned: std::collections::BTreeSet<u64>,
}

/// The gates, one per database file (a test process opens many).
static GATES: std::sync::Mutex<Vec<(String, &'static WriteGate)>> =
    std::sync::Mutex::new(Vec::new());

#[derive(QueryableByName)]
struct MainFile {
    #[diesel(sql_type = diesel::sql_types::Text)]
    file: String,
}

/// A writer's turn at the gate; the next writer's begins when it is dropped.
struct Turn(&'static WriteGate);

impl WriteGate {
    /// The gate of the database file `conn` writes to (a gate lives as long as the process).
    fn of(conn: &mut DbConn) -> QueryResult<&'static WriteGate> {
        let file = diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .get_result::<MainFile>(conn)?
            .file;
        let mut gates = GATES.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, gate)) = gates.iter().find(|(f, _)| *f == file) {
            return Ok(gate);
        }
        let gate: &'static WriteGate = Box::leak(Box::new(WriteGate {
            state: Default::default(),
            turn: Default::default(),
        }));
        gates.push((file, gate));
        Ok(gate)
    }

    /// Waits for this writer's turn, at most `wait`; then "database is locked".
    fn enter(&'static self, wait: Duration) -> QueryResult<Turn> {
        let deadline = std::time::Instant::now() + wait;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let ticket = state.next;
        state.next += 1;
        while state.serving != ticket {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                state.abandoned.insert(ticket);
                return Err(locked());
            }
            state = self
                .turn
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        Ok(Turn(self))
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        state.serving += 1;
        // Numbers whose writers stopped waiting are skipped.
        loop {
            let serving = state.serving;
            if !state.abandoned.remove(&serving) {
                break;
            }
            state.serving += 1;
        }
        drop(state);
        self.0.turn.notify_all();
    }
}

/// SQLite's own words for a write lock not had in time, so that callers treat it as such
/// (transient: a 503).
fn locked() -> diesel::result::Error {
    diesel::result::Error::DatabaseError(
        diesel::result::DatabaseErrorKind::Unknown,
        Box::new("database is locked (waited for this process's other writers)".to_string()),
    )
}

/// Runs `f` in a savepoint, so that a failed statement (a duplicate key) does not abort the
/// surrounding transaction on PostgreSQL.
pub fn savepoint<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> QueryResult<T>,
) -> QueryResult<T> {
    conn.transaction(f)
}

/// Serialises, until the end of the transaction, everyone who judges the same subject (a
/// patient, a closure, a hospital's feed): on PostgreSQL with an advisory transaction lock, so
/// that of two concurrent requests about one patient the later always sees the earlier's
/// events; SQLite's write transactions are serial already. Take such locks in a stable order
/// (callers iterate sorted sets) so that they cannot deadlock.
pub fn lock_subject(conn: &mut DbConn, subject: &str) -> QueryResult<()> {
    lock_subjects(conn, &[subject.to_string()])
}

/// [`lock_subject`] for several subjects in one statement, taken in sorted order.
pub fn lock_subjects(conn: &mut DbConn, subjects: &[String]) -> QueryResult<()> {
    match conn {
        DbConn::Pg(pg) => {
            let mut sorted = subjects.to_vec();
            sorted.sort();
            sorted.dedup();
            diesel::sql_query(
                // unnest yields the array's elements in order, so the locks are taken sorted.
                "SELECT pg_advisory_xact_lock(hashtextextended(s, 0)) FROM unnest($1::text[]) AS s",
            )
            .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(sorted)
            .execute(pg)
            .map(|_| ())
        }
        DbConn::Sqlite(_) => Ok(()),
    }
}

/// Creates a new SQLite database file readable by its owner only (0600, like the secret key
/// beside it); SQLite gives its WAL and shared-memory files the database file's mode. An
/// existing file is left as it is.
fn create_private(path: &std::path::Path) -> std::io::Result<()> {
    if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" || path.exists() {
        return Ok(());
    }
    match create_new_private(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// A new file (an error if it exists) that only its owner may read and write (0600), its
/// folder created if needed: the SQLite database, and the secret key beside it.
pub fn create_new_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}
