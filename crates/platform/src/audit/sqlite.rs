//! The SQLite audit writer: a thread with a connection of its own.
//!
//! Why a thread and not a task on the runtime: sqlx runs each SQLite connection on a worker
//! thread and hands every statement over to it, and a batch took five such hand-offs; under
//! load the writer spent more time waking threads than writing. Why its own connection: in
//! WAL mode a connection drops its whole page cache whenever *another* connection has
//! committed, so readers on the pool start from a cold cache after every audit commit, while
//! the connection that commits keeps its cache. So the hot point reads run here too
//! ([`super::AuditLog::read_warm`]), between batches.

use std::sync::mpsc::{Receiver, Sender};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior, params};

use super::{
    ADVANCE_HEAD_SQL, AuditEntry, AuditRecord, BATCH, COLUMNS, HEAD_RETRIES, HEAD_SQL, Pending,
    acknowledge, chain, head_kept_moving, last_of,
};
use crate::db::{DbError, WriteGate};

pub(super) enum Job {
    Record(AuditEntry, super::Ack),
    Read(Box<dyn FnOnce(&Connection) + Send>),
}

/// Page cache of the writer's connection: the audit indexes' leaves. Larger costs more at
/// each commit (SQLite walks the cache), and the hot reads' pages are mapped anyway.
const CACHE_KIB: i64 = 8 * 1024;
/// One row of the log; the statement is prepared once and kept by the connection.
static INSERT_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    )
});

/// How much of the file the writer's connection maps (SQLite's `mmap_size`).
const MMAP_BYTES: i64 = 1 << 30;

pub(super) fn start(pool: &sqlx::SqlitePool, gate: &WriteGate) -> Sender<Job> {
    let (sender, jobs) = std::sync::mpsc::channel();
    let path = pool.connect_options().get_filename().to_path_buf();
    let gate = gate.clone();
    let spawned = std::thread::Builder::new()
        .name("audit-sqlite".into())
        .spawn(move || match open(&path) {
            Ok(conn) => run(conn, &gate, &jobs),
            Err(e) => refuse(&e.to_string(), &jobs),
        });
    if let Err(e) = spawned {
        // No writer: every job fails at once, as the dropped receiver makes `send` fail.
        tracing::error!(error = %e, "the audit writer thread could not start");
    }
    sender
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
    Ok(conn)
}

/// The file could not be opened: every job is answered with the reason.
fn refuse(reason: &str, jobs: &Receiver<Job>) {
    tracing::error!(reason, "the audit writer could not open the database");
    for job in jobs {
        if let Job::Record(_, ack) = job {
            let _ = ack.send(Err(reason.to_owned()));
        }
        // A read's reply sender is dropped unanswered, which the caller reports.
    }
}

/// Answers reads as they come and commits the entries gathered meanwhile whenever the queue
/// runs dry (or a batch is full): under load, a batch is whatever arrived while the last one
/// was being written.
fn run(mut conn: Connection, gate: &WriteGate, jobs: &Receiver<Job>) {
    let mut head: Option<(i64, String)> = None;
    let mut staged: Vec<Pending> = Vec::with_capacity(BATCH);
    while let Ok(first) = jobs.recv() {
        let mut next = Some(first);
        while let Some(job) = next.take().or_else(|| jobs.try_recv().ok()) {
            match job {
                Job::Read(query) => query(&conn),
                Job::Record(entry, ack) => staged.push((entry, ack)),
            }
            if staged.len() >= BATCH {
                flush(&mut conn, gate, &mut head, &mut staged);
            }
        }
        if !staged.is_empty() {
            flush(&mut conn, gate, &mut head, &mut staged);
        }
    }
}

fn flush(
    conn: &mut Connection,
    gate: &WriteGate,
    head: &mut Option<(i64, String)>,
    staged: &mut Vec<Pending>,
) {
    let entries: Vec<AuditEntry> = staged.iter().map(|(e, _)| e.clone()).collect();
    let result = {
        // The pool's writers queue on the same gate, so neither meets SQLite's busy handler.
        let _turn = gate.enter_blocking();
        write(conn, head, &entries)
    };
    if result.is_err() {
        // The head is unknown after a failure: read it again next time.
        *head = None;
    }
    acknowledge(staged.drain(..).map(|(_, ack)| ack), &result);
}

fn write(
    conn: &mut Connection,
    cached: &mut Option<(i64, String)>,
    entries: &[AuditEntry],
) -> Result<Vec<i64>, DbError> {
    // Another writer (the pool's `append`, a CLI command) may append between our batches;
    // the conditional UPDATE notices, and the batch is chained again from the real head.
    for _ in 0..HEAD_RETRIES {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let head = match cached.take() {
            Some(h) => h,
            None => tx.query_row(HEAD_SQL, [], |r| Ok((r.get(0)?, r.get(1)?)))?,
        };
        let records: Vec<AuditRecord> = chain(entries, head.0, head.1.clone(), crate::now_ms());
        let last = last_of(&records, &head);
        let moved = tx.execute(ADVANCE_HEAD_SQL, params![last.0, last.1, head.0, head.1])?;
        if moved != 1 {
            continue; // dropping `tx` rolls back
        }
        {
            let mut insert = tx.prepare_cached(&INSERT_SQL)?;
            for r in &records {
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
        }
        tx.commit()?;
        *cached = Some(last);
        return Ok(records.iter().map(|r| r.seq).collect());
    }
    Err(head_kept_moving())
}
