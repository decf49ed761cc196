//! Group commit for the intake API: requests hand their prepared events to a few writer
//! threads, and a writer stores and judges every request waiting at that moment in one
//! transaction. Under load, concurrent requests share one commit (and one pass of the rules
//! over what they touched) instead of queueing for a transaction each; alone, a request is its
//! own group. The reply is sent only after the commit, so a 200 still means "stored".
//!
//! A hospital's requests always go to the same writer: its hash chain lets only one
//! transaction at a time store its events, so two writers sharing a hospital would take turns
//! on its lock with two small groups where one writer makes one larger group.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{mpsc, oneshot};

use super::{Batch, IngestReport};
use crate::engine::Engine;
use crate::error::{AppError, AppResult};
use crate::mail::Notifier;
use crate::metrics::Metrics;
use shouzhen_domain::policy::Policy;
use shouzhen_store::db::{Pool, PooledConn};

/// A request of more events than this is committed in parts, each a transaction of its own
/// ([`Writer::commit_part`]); the first part has this many.
const PART_EVENTS: usize = 2_000;
/// A group holds at most this many events, fewer when the last group's time says that so many
/// would hold the write lock past `PART_TARGET` (but always `PART_EVENTS`).
const GROUP_EVENTS: usize = 10_000;
/// How long one part should hold the write lock: the parts of a large request adapt their size
/// to it, so that other hospitals' requests, sign-ins and the sweeper take their turns between
/// them (well within a second each) however costly the request's events are to judge.
const PART_TARGET: std::time::Duration = std::time::Duration::from_millis(500);
/// The smallest part (the first part of a request has `PART_EVENTS` events). Each part
/// judges its patients' whole history again, so parts much smaller than this would spend
/// more time on the history than on the part.
const PART_MIN: usize = 500;
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
    /// Set by [`IngestQueue::stop`].
    pub stopping: Arc<AtomicBool>,
}

pub struct IngestQueue {
    /// One queue per writer thread; emptied only while the queue is being dropped.
    writers: Vec<mpsc::Sender<Job>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    /// Set when the service stops: the writers answer what remains of their requests with a
    /// 503 after the part they are committing.
    stopping: Arc<AtomicBool>,
}

impl IngestQueue {
    /// Starts `writers` writer threads. They end when the queue is dropped.
    pub fn start(writer: Writer, writers: usize) -> Self {
        let stopping = writer.stopping.clone();
        let writer = Arc::new(writer);
        let mut queue = Self {
            writers: Vec::new(),
            threads: Vec::new(),
            stopping,
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

    /// The service is stopping: requests still waiting, and what remains of a request being
    /// committed in parts, are answered with a 503 (what was committed stays: sent again, those
    /// events come back as duplicates).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
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

fn stopping(stored: usize) -> AppError {
    AppError::Unavailable(format!(
        "the service is stopping; {stored} of the request's events were stored and judged \
         before it stopped: send the request again (those come back as duplicates)"
    ))
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

/// A request larger than a group, being committed a part at a time.
struct InParts {
    poster: super::Poster,
    log: super::Log,
    rest: std::iter::Peekable<std::vec::IntoIter<super::Prepared>>,
    /// What the parts committed so far add up to.
    report: IngestReport,
    /// The next part's number of events.
    size: usize,
    reply: oneshot::Sender<AppResult<IngestReport>>,
}

impl Writer {
    /// Commits groups until the queue closes. A panic (a bug) fails its group's requests (their
    /// replies are dropped: a 500) but not the writer, which its hospitals' requests need.
    ///
    /// A request larger than a group is committed in parts ([`Writer::commit_part`]), taking
    /// turns with the groups of requests that come meanwhile (and with other large requests),
    /// so that one hospital's large request delays another's small one by one part at most.
    ///
    /// While requests keep coming, the writer keeps its connection from one group to the next
    /// (the pool would check it with a round trip each time); it gives the connection back
    /// whenever its queue runs empty, and after a failure, so that the next group takes a
    /// checked one.
    fn run(&self, rx: &mut mpsc::Receiver<Job>) {
        let mut held: Option<PooledConn> = None;
        let mut carried: Option<Job> = None;
        let mut large: VecDeque<InParts> = VecDeque::new();
        // The most events a group may hold: what the last group's time says fits `PART_TARGET`.
        let mut cap = GROUP_EVENTS;
        loop {
            let waiting = if large.is_empty() {
                match next_group(rx, &mut carried, cap, || held = None) {
                    Some(jobs) => jobs,
                    None => break,
                }
            } else {
                waiting_group(rx, &mut carried, cap)
            };
            let (big, small): (Vec<Job>, Vec<Job>) = waiting
                .into_iter()
                .partition(|job| job.batch.len() > PART_EVENTS);
            large.extend(big.into_iter().map(InParts::new));
            if self.stopping.load(Ordering::SeqCst) {
                for job in small {
                    let _ = job.reply.send(Err(stopping(0)));
                }
                for request in large.drain(..) {
                    let stored = request.report.accepted + request.report.duplicates;
                    let _ = request.reply.send(Err(stopping(stored)));
                }
                continue;
            }
            if !small.is_empty() {
                let (events, started) = (
                    small.iter().map(|j| j.batch.len()).sum(),
                    std::time::Instant::now(),
                );
                let committed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    self.commit(&mut held, small)
                }));
                cap = fitting(events, started.elapsed()).max(PART_EVENTS);
                if committed.is_err() {
                    held = None;
                    tracing::error!("an ingest writer panicked; its group's requests failed");
                }
            }
            if let Some(request) = large.pop_front() {
                let more = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    self.commit_part(&mut held, request)
                }));
                match more {
                    Ok(Some(request)) => large.push_back(request),
                    Ok(None) => {}
                    Err(_) => {
                        held = None;
                        tracing::error!("an ingest writer panicked; its request failed");
                    }
                }
            }
        }
    }

    /// Commits the next part of a large request, each part stored and judged in a transaction
    /// of its own, so that no transaction holds the write lock (on SQLite) or the hospital's
    /// chain (on PostgreSQL) for long: the first part has `PART_EVENTS` events, each next one
    /// the size that the last one's time says takes about `PART_TARGET`. Each event is still
    /// stored and judged together or not at all; the report adds up the parts. Returns the
    /// request if parts remain; else answers it. If a part fails, the parts committed before
    /// stay (sent again, they are duplicates).
    fn commit_part(&self, held: &mut Option<PooledConn>, mut request: InParts) -> Option<InParts> {
        let part = Batch {
            poster: request.poster.clone(),
            events: request.rest.by_ref().take(request.size).collect(),
            rejected: Vec::new(),
            log: request.log,
        };
        let started = std::time::Instant::now();
        match self.ingest(held, std::slice::from_ref(&part)) {
            Ok(mut done) => {
                let done = done.remove(0);
                let took = started.elapsed();
                if let Some(conn) = held.as_deref() {
                    shouzhen_store::db::yield_writes(conn, took);
                }
                request.size = fitting(request.size, took).max(PART_MIN);
                let report = &mut request.report;
                report.accepted += done.accepted;
                report.duplicates += done.duplicates;
                report.rejected.extend(done.rejected);
                report.effects.extend(done.effects);
            }
            Err(e) => {
                let _ = request.reply.send(Err(e));
                return None;
            }
        }
        if request.rest.peek().is_some() {
            return Some(request);
        }
        let mut report = request.report;
        report.rejected.sort_by_key(|r| r.index);
        let _ = request.reply.send(Ok(report));
        None
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
        // Logged once committed: a rolled-back group opened nothing.
        for report in &reports {
            for case in &report.effects.opened {
                self.metrics
                    .cases_opened
                    .with_label_values(&[case.rule.as_str()])
                    .inc();
                tracing::info!(case = case.id, rule = %case.rule, severity = %case.severity, "case opened");
            }
        }
        Ok(reports)
    }
}

/// The requests waiting now, without waiting for one (between two parts of a large request):
/// the one carried over, then others up to `cap` events, as [`next_group`] takes them.
fn waiting_group(rx: &mut mpsc::Receiver<Job>, carried: &mut Option<Job>, cap: usize) -> Vec<Job> {
    if carried.is_none() {
        match rx.try_recv() {
            Ok(job) => *carried = Some(job),
            Err(_) => return Vec::new(),
        }
    }
    next_group(rx, carried, cap, || {}).unwrap_or_default()
}

/// How many events fit `PART_TARGET`, if `events` took `took` (at most `GROUP_EVENTS`, and at
/// most twice as many as before, so that one fast group does not make the next one too large).
fn fitting(events: usize, took: std::time::Duration) -> usize {
    let per_event = took.as_secs_f64().max(1e-4) / events.max(1) as f64;
    ((PART_TARGET.as_secs_f64() / per_event) as usize)
        .min(GROUP_EVENTS)
        .min(events * 2)
}

/// Takes the request carried over from the last group, then every request already waiting,
/// up to `cap` events (the request that would pass it is carried over to the next
/// group; a request larger alone is a group of its own); if none is waiting, calls `idle` and
/// waits for one. `None` when the queue is closed.
fn next_group(
    rx: &mut mpsc::Receiver<Job>,
    carried: &mut Option<Job>,
    cap: usize,
    idle: impl FnOnce(),
) -> Option<Vec<Job>> {
    let first = match carried.take() {
        Some(job) => job,
        None => match rx.try_recv() {
            Ok(job) => job,
            Err(mpsc::error::TryRecvError::Empty) => {
                idle();
                rx.blocking_recv()?
            }
            Err(mpsc::error::TryRecvError::Disconnected) => return None,
        },
    };
    let mut events = first.batch.len();
    let mut jobs = vec![first];
    while events < cap {
        match rx.try_recv() {
            Ok(job) if events + job.batch.len() > cap => {
                *carried = Some(job);
                break;
            }
            Ok(job) => {
                events += job.batch.len();
                jobs.push(job);
            }
            Err(_) => break,
        }
    }
    Some(jobs)
}

impl InParts {
    fn new(job: Job) -> Self {
        let Batch {
            poster,
            events,
            rejected,
            log,
        } = job.batch;
        Self {
            poster,
            log,
            rest: events.into_iter().peekable(),
            report: IngestReport {
                rejected,
                ..Default::default()
            },
            size: PART_EVENTS,
            reply: job.reply,
        }
    }
}
