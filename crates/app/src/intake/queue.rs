//! Group commit for the intake API: requests hand their prepared events to a few writer
//! threads, and a writer stores and judges every request waiting at that moment in one
//! transaction. Under load, concurrent requests share one commit (and one pass of the rules
//! over what they touched) instead of queueing for a transaction each; alone, a request is its
//! own group. The reply is sent only after the commit, so a 200 still means "stored".
//!
//! A hospital's requests always go to the same writer: its hash chain lets only one
//! transaction at a time store its events, so two writers sharing a hospital would take turns
//! on its lock with two small groups where one writer makes one larger group.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{Batch, IngestReport};
use crate::engine::Engine;
use crate::error::{AppError, AppResult};
use crate::mail::Notifier;
use crate::metrics::Metrics;
use shouzhen_domain::policy::Policy;
use shouzhen_store::db::{Pool, PooledConn};

/// A group holds at most this many events (one full request is a group of its own).
const GROUP_EVENTS: usize = 10_000;
/// Requests that may wait for a writer before `submit` waits for room.
const QUEUE_DEPTH: usize = 1_024;

struct Job {
    batch: Batch,
    reply: oneshot::Sender<AppResult<IngestReport>>,
}

/// What a writer needs; shared by the writer threads.
pub struct Writer {
    pub pool: Pool,
    pub policy: Arc<Policy>,
    pub notifier: Arc<Notifier>,
    pub metrics: Arc<Metrics>,
    /// Woken after each commit: the SQLite checkpointer follows the writers with it.
    pub committed: Arc<tokio::sync::Notify>,
}

pub struct IngestQueue {
    /// One queue per writer thread; emptied only while the queue is being dropped.
    writers: Vec<mpsc::Sender<Job>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl IngestQueue {
    /// Starts `writers` writer threads. They end when the queue is dropped.
    pub fn start(writer: Writer, writers: usize) -> Self {
        let writer = Arc::new(writer);
        let mut queue = Self {
            writers: Vec::new(),
            threads: Vec::new(),
        };
        for n in 0..writers.max(1) {
            let (tx, mut rx) = mpsc::channel(QUEUE_DEPTH);
            let writer = writer.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("ingest-{n}"))
                .spawn(move || writer.run(&mut rx));
            match spawned {
                Ok(thread) => {
                    queue.writers.push(tx);
                    queue.threads.push(thread);
                }
                Err(e) => tracing::error!(error = %e, "cannot start an ingest writer"),
            }
        }
        queue
    }

    /// Stores and judges one request's events; returns after they are committed.
    pub async fn submit(&self, batch: Batch) -> AppResult<IngestReport> {
        let (reply, answer) = oneshot::channel();
        let writers = self.writers.len() as i64;
        if writers == 0 {
            return Err(stopped());
        }
        let tx = &self.writers[batch.poster.hospital_id.rem_euclid(writers) as usize];
        tx.send(Job { batch, reply }).await.map_err(|_| stopped())?;
        answer
            .await
            .map_err(|_| AppError::Internal("an ingest writer stopped mid-request".into()))?
    }
}

fn stopped() -> AppError {
    AppError::Unavailable("the ingest writers have stopped".into())
}

/// Closes the queue and waits for the writers to commit what they hold and end, so that the
/// pool's connections are closed here, before the process may exit, not by a writer thread
/// racing the exit.
impl Drop for IngestQueue {
    fn drop(&mut self) {
        self.writers.clear();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Writer {
    /// Commits groups until the queue closes. A panic (a bug) fails its group's requests (their
    /// replies are dropped: a 500) but not the writer, which its hospitals' requests need.
    ///
    /// While requests keep coming, the writer keeps its connection from one group to the next
    /// (the pool would check it with a round trip each time); it gives the connection back
    /// whenever its queue runs empty, and after a failure, so that the next group takes a
    /// checked one.
    fn run(&self, rx: &mut mpsc::Receiver<Job>) {
        let mut held: Option<PooledConn> = None;
        while let Some(jobs) = next_group(rx, || held = None) {
            let committed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.commit(&mut held, jobs)
            }));
            if committed.is_err() {
                held = None;
                tracing::error!("an ingest writer panicked; its group's requests failed");
            }
        }
    }

    /// Commits a group; if the group fails, each request is tried alone, so that one request's
    /// fault (or a deadlock with another instance) fails no other request. If the database is
    /// unavailable, every request of the group is answered so at once (503).
    fn commit(&self, held: &mut Option<PooledConn>, jobs: Vec<Job>) {
        if jobs.len() > 1 {
            let (batches, replies): (Vec<Batch>, Vec<_>) =
                jobs.into_iter().map(|j| (j.batch, j.reply)).unzip();
            match self.ingest(held, &batches) {
                Ok(reports) => {
                    for (reply, report) in replies.into_iter().zip(reports) {
                        let _ = reply.send(Ok(report));
                    }
                }
                Err(e) if e.is_outage() => {
                    // The database is away: each request alone would wait out the same timeout.
                    let cause = e.to_string();
                    for reply in replies {
                        let _ = reply.send(Err(AppError::Unavailable(cause.clone())));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, requests = replies.len(), "group commit failed; committing its requests one by one");
                    for (batch, reply) in batches.iter().zip(replies) {
                        let result = self
                            .ingest(held, std::slice::from_ref(batch))
                            .map(|mut r| r.remove(0));
                        let _ = reply.send(result);
                    }
                }
            }
        } else {
            for job in jobs {
                let result = self
                    .ingest(held, std::slice::from_ref(&job.batch))
                    .map(|mut r| r.remove(0));
                let _ = job.reply.send(result);
            }
        }
    }

    fn ingest(
        &self,
        held: &mut Option<PooledConn>,
        batches: &[Batch],
    ) -> AppResult<Vec<IngestReport>> {
        let conn = match held {
            Some(conn) => conn,
            None => held.insert(self.pool.get()?),
        };
        let engine = Engine::new(&self.policy, &self.notifier, shouzhen_store::now());
        let reports = match super::ingest_group(conn, &engine, batches) {
            Ok(reports) => reports,
            Err(e) => {
                // Given back: if the connection is at fault, the pool replaces it.
                *held = None;
                return Err(e.into());
            }
        };
        self.committed.notify_one();
        self.metrics.group_commits.inc();
        for report in &reports {
            for case in &report.effects.opened {
                self.metrics
                    .cases_opened
                    .with_label_values(&[case.rule.as_str()])
                    .inc();
            }
        }
        Ok(reports)
    }
}

/// Takes every request already waiting, up to `GROUP_EVENTS` events; if none is, calls
/// `idle` and waits for one. `None` when the queue is closed.
fn next_group(rx: &mut mpsc::Receiver<Job>, idle: impl FnOnce()) -> Option<Vec<Job>> {
    let first = match rx.try_recv() {
        Ok(job) => job,
        Err(mpsc::error::TryRecvError::Empty) => {
            idle();
            rx.blocking_recv()?
        }
        Err(mpsc::error::TryRecvError::Disconnected) => return None,
    };
    let mut events = first.batch.len();
    let mut jobs = vec![first];
    while events < GROUP_EVENTS {
        match rx.try_recv() {
            Ok(job) => {
                events += job.batch.len();
                jobs.push(job);
            }
            Err(_) => break,
        }
    }
    Some(jobs)
}
