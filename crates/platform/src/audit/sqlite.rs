//! The SQLite audit writer: a thread with a connection of its own.
//!
//! Why a thread and not a task on the runtime: sqlx runs each SQLite connection on a worker
//! thread and hands every statement over to it, and a batch took five such hand-offs; under
//! load the writer spent more time waking threads than writing. Why its own connection: in
//! WAL mode a connection drops its whole page cache whenever *another* connection has
//! committed, so readers on the pool start from a cold cache after every audit commit, while
//! the connection that commits keeps its cache. So the hot point reads run here too
//! ([`super::AuditLog::read_audited`]), between batches.
//!
//! Why a second thread for checkpoints: a checkpoint copies the log's pages into the
//! database file and syncs both (two `fsync`s, milliseconds each on a virtual disk). Run by
//! the writer after its commit, as SQLite does by default, it held back every read and
//! audit entry waiting behind it, a dozen times a second under load. The checkpointer
//! copies alongside the writer instead, and holds writers back only to let the log start
//! over once it has grown ([`RESTART_FRAMES`]).

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, TransactionBehavior, params};

use super::{
    ADVANCE_HEAD_SQL, AuditEntry, AuditRecord, BATCH, Bound, COLUMNS, Committed, HEAD_SQL,
    Statement, Write, chain, last_of,
};
use crate::db::{DbError, WriteGate};

pub(super) enum Job {
    Stage(Staged),
    Read(Read),
}

/// A read, returning the audit entry it calls for, if any, to commit with the next batch.
pub(super) type Read = Box<dyn FnOnce(&Connection) -> Option<Staged> + Send>;

/// What waits for the next commit: a read's audit entry, or entries with statements.
pub(super) enum Staged {
    Record(AuditEntry, Committed),
    Write(Write),
}

type Outcome = Result<Vec<i64>, DbError>;

impl Staged {
    /// The entries to chain and the statements to run with them.
    fn parts(&self) -> (&[AuditEntry], &[Statement]) {
        match self {
            Staged::Record(entry, _) => (std::slice::from_ref(entry), &[]),
            Staged::Write(w) => (&w.entries, &w.statements),
        }
    }

    /// Tells the requester; it may have gone away, and what committed stays committed.
    fn answer(self, outcome: Outcome) {
        match self {
            Staged::Record(_, committed) => committed(
                outcome
                    .map(|seqs| seqs.first().copied().unwrap_or_default())
                    .map_err(|e| e.to_string()),
            ),
            Staged::Write(w) => {
                let _ = w.reply.send(outcome);
            }
        }
    }
}

/// Page cache of the writer's connection: the audit indexes' leaves. Larger costs more at
/// each commit (SQLite walks the cache), and the hot reads' pages are mapped anyway.
const CACHE_KIB: i64 = 2 * 1024;
/// One row of the log; the statement is prepared once and kept by the connection.
static INSERT_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    )
});

/// How much of the file the writer's connection maps (SQLite's `mmap_size`).
const MMAP_BYTES: i64 = 1 << 30;

/// How often the checkpointer copies the log. Often, because every read searches the frames
/// not yet copied: with checkpoints left to grow, the look-up's CPU rose by half.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// Log frames (pages) beyond which the checkpointer holds writers back to copy the last
/// frames: a log the writer keeps appending to is never wholly copied otherwise, and SQLite
/// starts it over only when it is. 256 MiB of log at 4 KiB pages: under full load a pause
/// of milliseconds every few seconds rather than every second.
const RESTART_FRAMES: i64 = 64 * 1024;

pub(super) fn start(pool: &sqlx::SqlitePool, gate: &WriteGate) -> Sender<Job> {
    let (sender, jobs) = std::sync::mpsc::channel();
    let path = pool.connect_options().get_filename().to_path_buf();
    let gate = gate.clone();
    let spawned = std::thread::Builder::new()
        .name("audit-sqlite".into())
        .spawn(move || match open(&path) {
            Ok(conn) => {
                let (running, stopped) = std::sync::mpsc::channel::<()>();
                let checkpointer = start_checkpointer(path, gate.clone(), stopped);
                run(conn, &gate, &jobs);
                // The checkpointer's connection closes before the writer thread ends.
                drop(running);
                if let Some(thread) = checkpointer {
                    let _ = thread.join();
                }
            }
            Err(e) => refuse(&e.to_string(), &jobs),
        });
    if let Err(e) = spawned {
        // No writer: every job fails at once, as the dropped receiver makes `send` fail.
        tracing::error!(error = %e, "the audit writer thread could not start");
    }
    sender
}

/// Runs until `stopped`'s sender is dropped.
fn start_checkpointer(
    path: std::path::PathBuf,
    gate: WriteGate,
    stopped: Receiver<()>,
) -> Option<std::thread::JoinHandle<()>> {
    let spawned = std::thread::Builder::new()
        .name("audit-checkpoint".into())
        .spawn(move || {
            // Opened as the writer's (`synchronous=NORMAL`: a checkpoint syncs both files).
            let conn = match open(&path) {
                Ok(conn) => conn,
                Err(e) => return tracing::error!(error = %e, "the checkpointer could not open the database"),
            };
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                if let Err(e) = checkpoint(&conn, &gate, RESTART_FRAMES) {
                    tracing::warn!(error = %e, "a checkpoint failed; the next one will try again");
                }
            }
        });
    spawned
        .inspect_err(|e| {
            // The log still gets copied: the pool's connections checkpoint after their commits.
            tracing::error!(error = %e, "the checkpointer thread could not start");
        })
        .ok()
}

/// Copies the log into the database file alongside the writer, and lets the log start
/// over once it has grown past `restart_frames`.
fn checkpoint(conn: &Connection, gate: &WriteGate, restart_frames: i64) -> rusqlite::Result<()> {
    let frames = |mode: &str| {
        // (busy, frames in the log, frames copied); a log of -1 frames means no WAL.
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            r.get::<_, i64>(1)
        })
    };
    if frames("PASSIVE")? <= restart_frames {
        return Ok(());
    }
    // Copies what the writer appended during that pass, so that writers then wait only for
    // the frames of this shorter one.
    frames("PASSIVE")?;
    let _turn = gate.enter_blocking();
    frames("RESTART")?;
    Ok(())
}

fn open(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // Per connection, as the pool's (db.rs): durable across application crashes in WAL mode.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    // Pages of the hot reads are mapped rather than copied into the cache; the mapping is
    // dropped only when another connection commits, which is rare on a busy node.
    conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    // No checkpoint after a commit: the checkpointer thread copies the log on its own turn.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    // A job with statements runs under a savepoint, whose journal keeps the original of
    // every page the job touches. Past SQLite's 64 KiB spill threshold (a federated
    // exchange's accesses, a chunk of the subject index) the journal became a temporary
    // file, opened, written and closed in every batch. In memory it is bounded by the batch.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

/// The file could not be opened: every job is answered with the reason.
fn refuse(reason: &str, jobs: &Receiver<Job>) {
    tracing::error!(reason, "the audit writer could not open the database");
    for job in jobs {
        // A read's reply sender is dropped unanswered, which the caller reports.
        if let Job::Stage(staged) = job {
            staged.answer(Err(DbError::GroupCommit(reason.to_owned())));
        }
    }
}

/// Answers reads as they come and commits the writes gathered meanwhile whenever the queue
/// runs dry (or a batch is full): under load, a batch is whatever arrived while the last one
/// was being written.
fn run(mut conn: Connection, gate: &WriteGate, jobs: &Receiver<Job>) {
    let mut staged: Vec<Staged> = Vec::with_capacity(BATCH);
    while let Ok(first) = jobs.recv() {
        let mut next = Some(first);
        while let Some(job) = next.take().or_else(|| jobs.try_recv().ok()) {
            match job {
                Job::Read(query) => staged.extend(query(&conn)),
                Job::Stage(job) => staged.push(job),
            }
            if staged.len() >= BATCH {
                flush(&mut conn, gate, &mut staged);
            }
        }
        if !staged.is_empty() {
            flush(&mut conn, gate, &mut staged);
        }
    }
}

fn flush(conn: &mut Connection, gate: &WriteGate, staged: &mut Vec<Staged>) {
    let result = {
        // The pool's writers queue on the same gate, so neither meets SQLite's busy handler.
        let _turn = gate.enter_blocking();
        write(conn, staged)
    };
    // One outcome per staged job, in order.
    let outcomes: Vec<Outcome> = match result {
        Ok(outcomes) => outcomes,
        Err(e) => {
            tracing::error!(error = %e, "the audit writer could not commit a batch");
            let reason = e.to_string();
            staged
                .iter()
                .map(|_| Err(DbError::GroupCommit(reason.clone())))
                .collect()
        }
    };
    for (job, outcome) in staged.drain(..).zip(outcomes) {
        job.answer(outcome);
    }
}

/// One transaction for the whole batch, each job with statements under a savepoint of its
/// own: the outcome of every staged job, in order, or the error that failed the batch.
fn write(conn: &mut Connection, staged: &[Staged]) -> Result<Vec<Outcome>, DbError> {
    let now = crate::now_ms();
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read inside the write lock: another writer (the pool's `append`, a CLI command) may
    // have appended since our last batch.
    let start: (i64, String) = tx
        .prepare_cached(HEAD_SQL)?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut head = start.clone();
    let mut outcomes = Vec::with_capacity(staged.len());
    for job in staged {
        let (entries, statements) = job.parts();
        let records = chain(entries, head.0, head.1.clone(), now);
        let seqs: Vec<i64> = records.iter().map(|r| r.seq).collect();
        if statements.is_empty() {
            // Only audit rows: nothing of its own can fail.
            insert(&tx, &records)?;
        } else {
            let mut savepoint = tx.savepoint()?;
            let done =
                insert(&savepoint, &records).and_then(|()| execute(&savepoint, statements, &seqs));
            if let Err(e) = done {
                // This job alone is undone; the chain goes on from where it was.
                savepoint.rollback()?;
                outcomes.push(Err(e));
                continue;
            }
            savepoint.commit()?;
        }
        head = last_of(&records, &head);
        outcomes.push(Ok(seqs));
    }
    let moved = tx.execute(ADVANCE_HEAD_SQL, params![head.0, head.1, start.0, start.1])?;
    if moved != 1 {
        return Err(DbError::Changed(
            "the audit chain head moved under the write lock".into(),
        ));
    }
    tx.commit()?;
    Ok(outcomes)
}

fn insert(conn: &Connection, records: &[AuditRecord]) -> Result<(), DbError> {
    let mut insert = conn.prepare_cached(&INSERT_SQL)?;
    for r in records {
        insert.execute(params![
            r.seq,
            r.at_ms,
            r.actor,
            r.actor_role,
            r.action,
            r.subject,
            r.subject_org,
            r.purpose,
            r.detail,
            r.prev_hash,
            r.hash
        ])?;
    }
    Ok(())
}

fn execute(conn: &Connection, statements: &[Statement], seqs: &[i64]) -> Result<(), DbError> {
    for statement in statements {
        let params = statement.bound(seqs)?;
        conn.prepare_cached(statement.sql)?
            .execute(rusqlite::params_from_iter(params))?;
    }
    Ok(())
}

impl rusqlite::ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Bound::Int(i) => ToSqlOutput::from(*i),
            Bound::Text(t) => ToSqlOutput::from(*t),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that never pauses would grow the log for ever: SQLite starts it over only
    /// when a write begins with every frame copied. The checkpointer's pass under the gate
    /// is what bounds it.
    #[test]
    fn the_log_stays_bounded_under_a_writer_that_never_pauses() {
        let dir = std::env::temp_dir().join(format!("chuanyu-ckpt-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let writer = open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode=WAL; CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB);",
            )
            .unwrap();
        let gate = WriteGate::default();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writing = {
            let (gate, stop) = (gate.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut commits = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _turn = gate.enter_blocking();
                    // Five pages a commit (four of blob, one leaf), each adding to the log.
                    writer
                        .execute("INSERT INTO t (v) VALUES (zeroblob(16000))", [])
                        .unwrap();
                    commits += 1;
                }
                commits
            })
        };
        let checkpointer = open(&path).unwrap();
        let wal = path.with_extension("db-wal");
        let mut largest = 0;
        for _ in 0..40 {
            std::thread::sleep(Duration::from_millis(10));
            checkpoint(&checkpointer, &gate, 256).unwrap();
            largest = largest.max(std::fs::metadata(&wal).unwrap().len());
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let commits = writing.join().unwrap();
        // Without the restart the log would hold every commit's frames (5 pages each).
        let unbounded = commits * 5 * 4096;
        assert!(commits > 400, "the writer made only {commits} commits");
        assert!(
            largest < unbounded / 4,
            "the log reached {largest} bytes for {commits} commits"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
