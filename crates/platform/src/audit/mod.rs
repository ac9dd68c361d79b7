//! The append-only, hash-chained audit log.
//!
//! Each row's hash is SHA-256 over the RFC 8785 canonical JSON of its fields and the previous
//! row's hash; `audit_head` holds the last sequence number and hash. So any altered, removed,
//! reordered or truncated row breaks the chain at a point [`verify`] can name.
//!
//! Writes append their entry inside their own transaction ([`append`]), so a write is never
//! committed unaudited. Reads go through [`AuditLog::record`], which batches entries from
//! concurrent requests into one transaction (group commit) and returns only once the entry
//! is durable: a read is answered only after it has been audited.

use std::collections::HashMap;
use std::sync::Arc;

use kernel::jcs;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::postgres::PgRow;
use tokio::sync::{mpsc, oneshot};

use crate::db::{Backend, Db, DbError, Tx};
use crate::{on_db, on_tx};

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, by whom, to whose record, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuditEntry {
    /// User name, or `system` / a CLI marker for work done outside a session.
    pub actor: String,
    pub actor_role: String,
    /// Dotted verb, e.g. `student.read`, `user.create`, `auth.sign_in`.
    pub action: String,
    /// Whose record: a person key (学籍号), or `None` for no personal data.
    pub subject: Option<String>,
    /// The organisation holding the subject's record.
    pub subject_org: Option<String>,
    /// Why: the declared purpose of a read (e.g. `学籍管理`), or `管理操作` for writes.
    pub purpose: String,
    /// Further facts as JSON (never personal data beyond the subject key).
    pub detail: serde_json::Value,
}

impl AuditEntry {
    pub fn new(actor: &str, actor_role: &str, action: &str, purpose: &str) -> AuditEntry {
        AuditEntry {
            actor: actor.to_owned(),
            actor_role: actor_role.to_owned(),
            action: action.to_owned(),
            subject: None,
            subject_org: None,
            purpose: purpose.to_owned(),
            detail: serde_json::Value::Null,
        }
    }

    pub fn subject(mut self, subject: &str, org: Option<&str>) -> AuditEntry {
        self.subject = Some(subject.to_owned());
        self.subject_org = org.map(str::to_owned);
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> AuditEntry {
        self.detail = detail;
        self
    }
}

/// A stored audit row.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq)]
pub struct AuditRecord {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: String,
    pub actor_role: String,
    pub action: String,
    pub subject: Option<String>,
    pub subject_org: Option<String>,
    pub purpose: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// The hash this row must carry, computed from its own fields and `prev_hash`.
    pub fn expected_hash(&self) -> String {
        // Members in JCS order (ASCII names, sorted), so that serde_json's compact output is
        // the canonical form whenever both numbers are within ±2^53 (kernel::jcs says why).
        #[derive(Serialize)]
        struct Hashed<'a> {
            action: &'a str,
            actor: &'a str,
            actor_role: &'a str,
            at_ms: i64,
            detail: &'a str,
            prev_hash: &'a str,
            purpose: &'a str,
            seq: i64,
            subject: Option<&'a str>,
            subject_org: Option<&'a str>,
        }
        let hashed = Hashed {
            action: &self.action,
            actor: &self.actor,
            actor_role: &self.actor_role,
            at_ms: self.at_ms,
            detail: &self.detail,
            prev_hash: &self.prev_hash,
            purpose: &self.purpose,
            seq: self.seq,
            subject: self.subject.as_deref(),
            subject_org: self.subject_org.as_deref(),
        };
        // Serialising plain strings and integers cannot fail.
        let canonical = if jcs::safe_integer(self.seq) && jcs::safe_integer(self.at_ms) {
            serde_json::to_vec(&hashed)
        } else {
            serde_json_canonicalizer::to_vec(&hashed)
        };
        hex::encode(Sha256::digest(canonical.unwrap_or_default()))
    }
}

/// Audit rows per INSERT statement (11 parameters each, under SQLite's 32,766 limit).
const ROWS_PER_INSERT: usize = 1000;

const COLUMNS: &str =
    "seq, at_ms, actor, actor_role, action, subject, subject_org, purpose, detail, prev_hash, hash";

/// The chain continued from (`seq`, `prev`) over `entries`: sequence numbers, canonical
/// details and hashes, ready to insert.
fn chain(entries: &[AuditEntry], mut seq: i64, mut prev: String, now: i64) -> Vec<AuditRecord> {
    let mut records = Vec::with_capacity(entries.len());
    for e in entries {
        seq += 1;
        let mut record = AuditRecord {
            seq,
            at_ms: now,
            actor: e.actor.clone(),
            actor_role: e.actor_role.clone(),
            action: e.action.clone(),
            subject: e.subject.clone(),
            subject_org: e.subject_org.clone(),
            purpose: e.purpose.clone(),
            detail: jcs::to_string(&e.detail).unwrap_or_default(),
            prev_hash: prev,
            hash: String::new(),
        };
        record.hash = record.expected_hash();
        prev = record.hash.clone();
        records.push(record);
    }
    records
}

/// Writes chained records with one multi-row INSERT per chunk, so a group commit of
/// hundreds of reads costs a handful of statements.
async fn insert(tx: &mut Tx<'_>, records: &[AuditRecord]) -> Result<(), DbError> {
    for chunk in records.chunks(ROWS_PER_INSERT) {
        on_tx!(&mut *tx, conn => {
            let mut q = sqlx::QueryBuilder::new(format!("INSERT INTO audit_log ({COLUMNS}) "));
            q.push_values(chunk, |mut b, r| {
                b.push_bind(r.seq).push_bind(r.at_ms).push_bind(&r.actor).push_bind(&r.actor_role)
                    .push_bind(&r.action).push_bind(&r.subject).push_bind(&r.subject_org)
                    .push_bind(&r.purpose).push_bind(&r.detail).push_bind(&r.prev_hash).push_bind(&r.hash);
            });
            q.build().execute(&mut *conn).await?;
        });
    }
    Ok(())
}

/// Moves the chain head from `from` to `to` if it is still at `from`; false when another
/// writer (a CLI command, another instance on the same PostgreSQL) appended meanwhile.
async fn advance_head(
    tx: &mut Tx<'_>,
    from: &(i64, String),
    to: &(i64, String),
) -> Result<bool, DbError> {
    let moved = on_tx!(&mut *tx, conn => sqlx::query(ADVANCE_HEAD_SQL)
        .bind(to.0).bind(&to.1).bind(from.0).bind(&from.1)
        .execute(&mut *conn).await?.rows_affected());
    Ok(moved == 1)
}

/// Appends entries inside the caller's write transaction. Call it last in the transaction:
/// on PostgreSQL it holds the chain-head row lock until commit.
pub async fn append(tx: &mut Tx<'_>, entries: &[AuditEntry]) -> Result<Vec<i64>, DbError> {
    // Only PostgreSQL has row locks; SQLite's `BEGIN IMMEDIATE` already holds the write lock.
    let lock = match tx.backend() {
        Backend::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
        Backend::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
    };
    let head: (i64, String) =
        on_tx!(&mut *tx, conn => sqlx::query_as(lock).fetch_one(&mut *conn).await?);
    let records = chain(entries, head.0, head.1.clone(), crate::now_ms());
    let last = last_of(&records, &head);
    insert(tx, &records).await?;
    // The head is locked, so this cannot lose a race.
    advance_head(tx, &head, &last).await?;
    Ok(records.iter().map(|r| r.seq).collect())
}

mod sqlite;

/// Told the entry's sequence number once it is committed, or why it is not.
type Committed = Box<dyn FnOnce(Result<i64, String>) + Send>;
type Pending = (AuditEntry, Committed);

/// A value bound to a [`Statement`].
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Int(i64),
    Text(String),
    /// The sequence number the chain gives entry `i` of the same [`AuditLog::append_with`].
    SeqOf(usize),
}

/// A write that must commit with its audit entries: SQL with `$1`, `$2`, … (one text for
/// both engines) and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: &'static str,
    pub params: Vec<Param>,
}

/// A parameter's value once the chain has numbered the entries.
enum Bound<'a> {
    Int(i64),
    Text(&'a str),
}

impl Statement {
    /// The parameters with each [`Param::SeqOf`] replaced by the number the chain gave.
    fn bound(&self, seqs: &[i64]) -> Result<Vec<Bound<'_>>, DbError> {
        self.params
            .iter()
            .map(|p| match p {
                Param::Int(i) => Ok(Bound::Int(*i)),
                Param::Text(t) => Ok(Bound::Text(t)),
                Param::SeqOf(i) => seqs.get(*i).map(|s| Bound::Int(*s)).ok_or_else(|| {
                    DbError::Changed(format!("no audit entry {i} for {}", self.sql))
                }),
            })
            .collect()
    }
}

/// Entries and the statements that commit with them, and who waits for the outcome.
struct Write {
    entries: Vec<AuditEntry>,
    statements: Vec<Statement>,
    reply: oneshot::Sender<Result<Vec<i64>, DbError>>,
}

/// Audits reads with group commit. Cloning is cheap; all clones feed one writer.
///
/// On PostgreSQL the writer is a task on the runtime that borrows a pooled connection per
/// batch, and keyed reads ([`AuditLog::read_audited`]) are batched too: one statement for
/// all the look-ups waiting at that moment. On SQLite the writer is a thread that owns a
/// connection of its own ([`sqlite`]): it also runs the hot point reads, because a
/// connection keeps its page cache across its own commits but loses it whenever another
/// connection commits — and the audit log commits hundreds of times a second.
#[derive(Clone)]
pub struct AuditLog {
    sender: Sender,
}

#[derive(Clone)]
enum Sender {
    Postgres(Arc<Postgres>),
    Thread(std::sync::mpsc::Sender<sqlite::Job>),
}

/// The group-commit task, a batching task per keyed read statement, and the pool for writes
/// with statements.
struct Postgres {
    writer: mpsc::Sender<Pending>,
    readers: std::sync::Mutex<HashMap<&'static str, mpsc::Sender<KeyedJob>>>,
    /// For [`AuditLog::append_with`]'s transactions.
    db: Db,
    /// The same pool, for the readers.
    pool: sqlx::PgPool,
}

impl Postgres {
    /// The task batching `sql`'s reads, started on first use.
    fn reader(&self, sql: &'static str) -> mpsc::Sender<KeyedJob> {
        let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        readers
            .entry(sql)
            .or_insert_with(|| start_reader(self.pool.clone(), sql, self.writer.clone()))
            .clone()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the audit log could not record the access: {0}")]
pub struct AuditUnavailable(String);

/// Most entries one group-commit transaction takes, and most keys one batched read asks for.
const BATCH: usize = 512;

/// A read of one row by its key, written for each engine. On SQLite it runs on the audit
/// writer's connection. On PostgreSQL it joins the other reads of the same statement waiting
/// at that moment: `postgres` takes all their keys as one array (`$1`) and returns each row
/// found with its key as the first column.
pub struct KeyedRead<R> {
    pub key: String,
    pub sqlite: fn(&rusqlite::Connection, &str) -> rusqlite::Result<Option<R>>,
    pub postgres: &'static str,
}

impl AuditLog {
    /// Starts the writer. It ends when every clone is dropped, after writing what it holds.
    pub fn start(db: Db) -> AuditLog {
        match &db {
            Db::Sqlite(pool, gate) => AuditLog {
                sender: Sender::Thread(sqlite::start(pool, gate)),
            },
            Db::Postgres(pool) => AuditLog {
                sender: Sender::Postgres(Arc::new(Postgres {
                    writer: start_task(pool.clone()),
                    readers: Default::default(),
                    pool: pool.clone(),
                    db,
                })),
            },
        }
    }

    /// Records `entry` and returns its sequence number once it is committed.
    pub async fn record(&self, entry: AuditEntry) -> Result<i64, AuditUnavailable> {
        let (ack, done) = oneshot::channel();
        let committed: Committed = Box::new(move |outcome| {
            let _ = ack.send(outcome);
        });
        let sent = match &self.sender {
            Sender::Postgres(pg) => pg.writer.send((entry, committed)).await.is_ok(),
            Sender::Thread(s) => s
                .send(sqlite::Job::Stage(sqlite::Staged::Record(entry, committed)))
                .is_ok(),
        };
        if !sent {
            return Err(writer_stopped());
        }
        done.await
            .map_err(|_| writer_stopped())?
            .map_err(AuditUnavailable)
    }

    /// Appends `entries` to the chain and runs `statements` in the same transaction, all or
    /// nothing; returns the entries' sequence numbers once committed. On SQLite it joins the
    /// writer's next group commit (under a savepoint of its own, so a failing statement —
    /// a duplicate key, say — undoes this write alone); on PostgreSQL it is a transaction of
    /// its own. A unique violation is [`DbError::Duplicate`] on both.
    pub async fn append_with(
        &self,
        entries: Vec<AuditEntry>,
        statements: Vec<Statement>,
    ) -> Result<Vec<i64>, DbError> {
        match &self.sender {
            Sender::Thread(s) => {
                let (reply, done) = oneshot::channel();
                let write = Write {
                    entries,
                    statements,
                    reply,
                };
                let stopped = || DbError::GroupCommit("the audit writer stopped".into());
                s.send(sqlite::Job::Stage(sqlite::Staged::Write(write)))
                    .map_err(|_| stopped())?;
                done.await.map_err(|_| stopped())?
            }
            Sender::Postgres(pg) => {
                let mut tx = pg.db.begin().await?;
                // Without entries the chain's head need not be locked.
                let seqs = if entries.is_empty() {
                    Vec::new()
                } else {
                    append(&mut tx, &entries).await?
                };
                for statement in &statements {
                    let params = statement.bound(&seqs)?;
                    on_tx!(&mut tx, c => {
                        let mut q = sqlx::query(sqlx::AssertSqlSafe(statement.sql));
                        for p in params {
                            q = match p {
                                Bound::Int(i) => q.bind(i),
                                Bound::Text(t) => q.bind(t),
                            };
                        }
                        q.execute(&mut *c).await?;
                    });
                }
                tx.commit().await?;
                Ok(seqs)
            }
        }
    }

    /// On SQLite, runs `query` on the audit writer's own connection, whose page cache the
    /// log's commits do not clear, and returns what it found; `None` on PostgreSQL, whose
    /// shared buffers every connection reads warm — query the pool there. For point reads
    /// only: the writer does nothing else meanwhile.
    pub async fn read_warm<T, F>(&self, query: F) -> Option<Result<T, DbError>>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let Sender::Thread(s) = &self.sender else {
            return None;
        };
        // Calls for no entry, so the only audit error is a writer that has stopped.
        let read = on_writer(s, query, |_| None).await;
        Some(read.map(|(found, _)| found).map_err(DbError::from))
    }

    /// Reads a row by its key and records the access it makes: `entry_for` names the audit
    /// entry the row found calls for (`None`: nothing to disclose, so nothing to record), and
    /// the answer comes back once that entry is committed, with whether it was recorded. A
    /// key that finds nothing records nothing. One trip to the writer (SQLite) or to the
    /// batched read, which hands the entry on to the writer (PostgreSQL), instead of a read
    /// and then a [`AuditLog::record`].
    pub async fn read_audited<R, E>(
        &self,
        read: KeyedRead<R>,
        entry_for: E,
    ) -> Result<(Option<R>, bool), AuditedReadError>
    where
        R: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin + 'static,
        E: FnOnce(&R) -> Option<AuditEntry> + Send + 'static,
    {
        let entry_for = move |found: &Option<R>| found.as_ref().and_then(entry_for);
        match &self.sender {
            Sender::Thread(s) => {
                let KeyedRead { key, sqlite, .. } = read;
                on_writer(s, move |c| sqlite(c, &key), entry_for).await
            }
            Sender::Postgres(pg) => {
                let (reply, answer) = oneshot::channel();
                let job = KeyedJob {
                    key: read.key,
                    found: Box::new(move |row| {
                        let found = row
                            .map_err(DbError::GroupCommit)
                            .and_then(|row| Ok(row.map(R::from_row).transpose()?));
                        settle(found.map_err(Into::into), entry_for, reply)
                    }),
                };
                if pg.reader(read.postgres).send(job).await.is_err() {
                    return Err(writer_stopped().into());
                }
                answer
                    .await
                    .unwrap_or_else(|_| Err(writer_stopped().into()))
            }
        }
    }
}

fn writer_stopped() -> AuditUnavailable {
    AuditUnavailable("writer stopped".into())
}

/// Runs `query` on the SQLite writer's connection and stages the entry `entry_for` calls
/// for in its next batch; answers once that is committed.
async fn on_writer<T, Q, E>(
    s: &std::sync::mpsc::Sender<sqlite::Job>,
    query: Q,
    entry_for: E,
) -> Result<(T, bool), AuditedReadError>
where
    T: Send + 'static,
    Q: FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    E: FnOnce(&T) -> Option<AuditEntry> + Send + 'static,
{
    let (reply, answer) = oneshot::channel();
    let job = sqlite::Job::Read(Box::new(move |conn| {
        let read = query(conn).map_err(|e| DbError::from(e).into());
        settle(read, entry_for, reply)
            .map(|(entry, committed)| sqlite::Staged::Record(entry, committed))
    }));
    if s.send(job).is_err() {
        return Err(writer_stopped().into());
    }
    answer
        .await
        .unwrap_or_else(|_| Err(writer_stopped().into()))
}

type Reply<T> = oneshot::Sender<Result<(T, bool), AuditedReadError>>;

/// What a finished read calls for: an answer now (it failed, or there is nothing to record),
/// or an entry to commit first, with the answer travelling along to be sent once it is.
fn settle<T: Send + 'static>(
    read: Result<T, AuditedReadError>,
    entry_for: impl FnOnce(&T) -> Option<AuditEntry>,
    reply: Reply<T>,
) -> Option<Pending> {
    let read = match read {
        Ok(read) => read,
        Err(e) => {
            let _ = reply.send(Err(e));
            return None;
        }
    };
    let Some(entry) = entry_for(&read) else {
        let _ = reply.send(Ok((read, false)));
        return None;
    };
    let committed: Committed = Box::new(move |outcome| {
        let _ = reply.send(match outcome {
            Ok(_) => Ok((read, true)),
            Err(e) => Err(AuditUnavailable(e).into()),
        });
    });
    Some((entry, committed))
}

/// Why [`AuditLog::read_audited`] has no answer: the read failed, or its entry could not be
/// committed (then nothing read is returned).
#[derive(Debug, thiserror::Error)]
pub enum AuditedReadError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Audit(#[from] AuditUnavailable),
}

impl From<AuditedReadError> for DbError {
    fn from(e: AuditedReadError) -> DbError {
        match e {
            AuditedReadError::Db(e) => e,
            AuditedReadError::Audit(e) => DbError::GroupCommit(e.to_string()),
        }
    }
}

/// Hands each entry of a committed (or failed) batch its sequence number (or the error).
fn acknowledge(batch: impl Iterator<Item = Committed>, result: &Result<Vec<i64>, DbError>) {
    for (i, committed) in batch.enumerate() {
        // The requester may have gone away; the entry is recorded regardless.
        committed(match result {
            Ok(seqs) => Ok(seqs[i]),
            Err(e) => Err(e.to_string()),
        });
    }
}

/// A pooled connection that a batching task keeps from one batch to the next. Borrowing one
/// per batch cost a round trip more than the batch's own statement, and a task spawned to
/// take it back: sqlx pings every connection given back to its pool. The task pings it only
/// after it has been idle (the server may have restarted meanwhile; the pool does not test
/// the connections it lends), and gives it back when the pool closes (so [`Db::close`] does
/// not wait for it) and after an error.
struct HeldConnection {
    pool: sqlx::PgPool,
    /// The connection and when a statement last succeeded on it.
    conn: Option<(
        sqlx::pool::PoolConnection<sqlx::Postgres>,
        std::time::Instant,
    )>,
}

/// How long a held connection may sit unused before it is pinged before its next statement.
const HELD_IDLE_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

impl HeldConnection {
    fn new(pool: sqlx::PgPool) -> HeldConnection {
        HeldConnection { pool, conn: None }
    }

    /// Runs `statement` on the held connection, borrowing one first if none is held or the
    /// one held has gone; gives the connection back if the statement fails, as its state is
    /// unknown then.
    async fn run<T>(
        &mut self,
        statement: impl AsyncFnOnce(&mut sqlx::PgConnection) -> Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        use sqlx::Connection;
        if let Some((conn, used)) = &mut self.conn
            && used.elapsed() > HELD_IDLE_CHECK
            && conn.ping().await.is_err()
        {
            self.conn = None;
        }
        let (conn, used) = match &mut self.conn {
            Some(held) => held,
            None => self
                .conn
                .insert((self.pool.acquire().await?, std::time::Instant::now())),
        };
        let result = statement(conn).await;
        match result {
            Ok(_) => *used = std::time::Instant::now(),
            Err(_) => self.conn = None,
        }
        result
    }
}

/// Waits for work, then takes what else is queued, up to [`BATCH`]; `false` once every
/// sender is gone and the queue is empty. Gives `held` back if the pool closes meanwhile.
async fn next_batch<T>(
    receiver: &mut mpsc::Receiver<T>,
    batch: &mut Vec<T>,
    held: &mut HeldConnection,
) -> bool {
    // `recv_many` is cancel-safe: nothing is taken from the queue unless it returns.
    let received = if held.conn.is_some() {
        tokio::select! {
            n = receiver.recv_many(batch, BATCH) => n,
            () = held.pool.close_event() => {
                held.conn = None;
                receiver.recv_many(batch, BATCH).await
            }
        }
    } else {
        receiver.recv_many(batch, BATCH).await
    };
    if received == 0 {
        return false;
    }
    // Let requests already on their way join this batch: one more round of the scheduler
    // costs microseconds and can double the batch.
    tokio::task::yield_now().await;
    while batch.len() < BATCH {
        match receiver.try_recv() {
            Ok(p) => batch.push(p),
            Err(_) => break,
        }
    }
    true
}

fn start_task(pool: sqlx::PgPool) -> mpsc::Sender<Pending> {
    let (sender, mut receiver) = mpsc::channel::<Pending>(4 * BATCH);
    tokio::spawn(async move {
        let mut writer = Writer {
            conn: HeldConnection::new(pool),
            head: None,
        };
        let mut batch: Vec<Pending> = Vec::with_capacity(BATCH);
        while next_batch(&mut receiver, &mut batch, &mut writer.conn).await {
            let (entries, acks): (Vec<AuditEntry>, Vec<Committed>) = batch.drain(..).unzip();
            let result = writer.write(&entries).await;
            acknowledge(acks.into_iter(), &result);
        }
    });
    sender
}

/// A keyed read waiting for its statement's next batch: the key, and what to do with the
/// row found for it (decode it and answer, or name the entry to commit first).
struct KeyedJob {
    key: String,
    found: Found,
}

/// Given the row found for a key (or why the batch failed): answers, or returns the entry to
/// commit before answering.
type Found = Box<dyn for<'r> FnOnce(Result<Option<&'r PgRow>, String>) -> Option<Pending> + Send>;

/// Runs `sql` for every key waiting at that moment, one batch at a time, and hands the audit
/// entries the rows call for to the writer. While the writer commits one batch's entries,
/// the next batch is being read.
fn start_reader(
    pool: sqlx::PgPool,
    sql: &'static str,
    writer: mpsc::Sender<Pending>,
) -> mpsc::Sender<KeyedJob> {
    let (sender, mut receiver) = mpsc::channel::<KeyedJob>(4 * BATCH);
    tokio::spawn(async move {
        let mut conn = HeldConnection::new(pool);
        let mut batch: Vec<KeyedJob> = Vec::with_capacity(BATCH);
        while next_batch(&mut receiver, &mut batch, &mut conn).await {
            let keys: Vec<&str> = batch.iter().map(|job| job.key.as_str()).collect();
            let rows = read_keyed(&mut conn, sql, &keys).await;
            for job in batch.drain(..) {
                let found = match &rows {
                    Ok(rows) => Ok(rows.get(&job.key)),
                    Err(e) => Err(e.clone()),
                };
                if let Some(pending) = (job.found)(found) {
                    // A writer that has stopped drops the entry, and with it the answer:
                    // the requester reports the writer stopped.
                    let _ = writer.send(pending).await;
                }
            }
        }
    });
    sender
}

/// The rows `sql` finds for `keys`, by their key (the first column).
async fn read_keyed(
    conn: &mut HeldConnection,
    sql: &'static str,
    keys: &[&str],
) -> Result<HashMap<String, PgRow>, String> {
    let rows = conn
        .run(async |c| sqlx::query(sql).bind(keys).fetch_all(c).await)
        .await
        .map_err(|e| e.to_string())?;
    rows.into_iter()
        .map(|row| Ok((row.try_get::<String, _>(0)?, row)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(|e| e.to_string())
}

/// The group-commit writer on PostgreSQL and the chain head it last wrote. A batch is one
/// statement ([`APPEND_IF_HEAD_SQL`]) in a transaction of its own: one round trip and one
/// commit whatever the batch's size, and one prepared statement for every size.
struct Writer {
    conn: HeldConnection,
    head: Option<(i64, String)>,
}

impl Writer {
    async fn write(&mut self, entries: &[AuditEntry]) -> Result<Vec<i64>, DbError> {
        let result = self.try_write(entries).await;
        if result.is_err() {
            // The head is unknown after a failure: read it again next time.
            self.head = None;
        }
        result
    }

    async fn try_write(&mut self, entries: &[AuditEntry]) -> Result<Vec<i64>, DbError> {
        // Another writer may append between our batches; the conditional UPDATE notices,
        // nothing is inserted, and the batch is chained again from the real head.
        for _ in 0..HEAD_RETRIES {
            let head = match self.head.take() {
                Some(h) => h,
                None => {
                    self.conn
                        .run(async |c| sqlx::query_as(HEAD_SQL).fetch_one(c).await)
                        .await?
                }
            };
            let records = chain(entries, head.0, head.1.clone(), crate::now_ms());
            let last = last_of(&records, &head);
            let seqs: Vec<i64> = records.iter().map(|r| r.seq).collect();
            let text = |f: fn(&AuditRecord) -> &str| records.iter().map(f).collect::<Vec<_>>();
            let optional =
                |f: fn(&AuditRecord) -> Option<&str>| records.iter().map(f).collect::<Vec<_>>();
            let append = sqlx::query(sqlx::AssertSqlSafe(APPEND_IF_HEAD_SQL.as_str()))
                .bind(last.0)
                .bind(&last.1)
                .bind(head.0)
                .bind(&head.1)
                .bind(&seqs)
                .bind(records.iter().map(|r| r.at_ms).collect::<Vec<_>>())
                .bind(text(|r| &r.actor))
                .bind(text(|r| &r.actor_role))
                .bind(text(|r| &r.action))
                .bind(optional(|r| r.subject.as_deref()))
                .bind(optional(|r| r.subject_org.as_deref()))
                .bind(text(|r| &r.purpose))
                .bind(text(|r| &r.detail))
                .bind(text(|r| &r.prev_hash))
                .bind(text(|r| &r.hash));
            let inserted = self
                .conn
                .run(async |c| append.execute(c).await)
                .await?
                .rows_affected();
            if inserted == records.len() as u64 {
                self.head = Some(last);
                return Ok(seqs);
            }
        }
        Err(head_kept_moving())
    }
}

const HEAD_SQL: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";
const ADVANCE_HEAD_SQL: &str =
    "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3 AND hash = $4";
/// [`ADVANCE_HEAD_SQL`] and the batch's rows in one statement, so in one transaction: the
/// rows (one array per column, in [`COLUMNS`] order) go in only if the head moved, i.e. was
/// still where this writer left it. The uncorrelated `EXISTS` runs first, once, and with it
/// the UPDATE.
static APPEND_IF_HEAD_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "WITH moved AS ({ADVANCE_HEAD_SQL} RETURNING 1) \
         INSERT INTO audit_log ({COLUMNS}) \
         SELECT * FROM UNNEST($5::int8[], $6::int8[], $7::text[], $8::text[], $9::text[], \
           $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[]) \
         WHERE EXISTS (SELECT 1 FROM moved)"
    )
});
/// Attempts to chain a batch onto a head that other writers keep moving.
const HEAD_RETRIES: usize = 8;

fn head_kept_moving() -> DbError {
    DbError::Changed("the audit chain head kept moving".into())
}

/// The head after `records`, or `head` itself when there are none.
fn last_of(records: &[AuditRecord], head: &(i64, String)) -> (i64, String) {
    records
        .last()
        .map(|r| (r.seq, r.hash.clone()))
        .unwrap_or_else(|| head.clone())
}

/// One access to a person's record, with who the actor is as people know them.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Access {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: String,
    pub actor_role: String,
    pub actor_name: Option<String>,
    pub actor_org: Option<String>,
    pub action: String,
    pub purpose: String,
}

/// Entries about one person's record, newest first: what "我的访问记录" shows. They are the
/// ones `audit_subjects` holds and the ones after it (at most a pass of [`index_subjects`]
/// behind the log, read by sequence number); a pass under way may have put some in both.
pub async fn accesses_to(db: &Db, subject: &str, limit: i64) -> Result<Vec<Access>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT a.seq, a.at_ms, a.actor, a.actor_role, u.display_name AS actor_name, \
                o.name AS actor_org, a.action, a.purpose \
         FROM audit_log a LEFT JOIN users u ON u.username = a.actor \
         LEFT JOIN orgs o ON o.code = u.org_code \
         WHERE a.seq IN (SELECT seq FROM audit_subjects WHERE subject = $1 \
                         UNION SELECT seq FROM audit_log WHERE subject = $1 \
                           AND seq > (SELECT seq FROM audit_subjects_upto WHERE id = 1)) \
         ORDER BY a.seq DESC LIMIT $2")
        .bind(subject).bind(limit).fetch_all(p).await?))
}

/// Most log entries one pass of [`index_subjects`] takes.
const INDEX_PASS_MOST: i64 = 200_000;
/// Entries per write of a pass on SQLite. Sorted by subject, a chunk is a contiguous range
/// of the index: it touches few pages, and adds about a millisecond to the audit writer's
/// batch it joins.
const INDEX_CHUNK: usize = 500;
/// A chunk of the subject index on SQLite, given as a JSON array of `[subject, seq]` pairs.
/// A pass cut short leaves chunks behind, which the next pass adds again.
const SQLITE_INDEX_SQL: &str = "INSERT INTO audit_subjects (subject, seq) \
     SELECT value ->> 0, value ->> 1 FROM json_each($1) WHERE true ON CONFLICT DO NOTHING";
/// The entries of a pass (those with a subject after `$1` up to `$2`), sorted by subject.
macro_rules! pass_entries_sql {
    () => {
        "SELECT subject, seq FROM audit_log WHERE seq > $1 AND seq <= $2 \
         AND subject IS NOT NULL ORDER BY subject, seq"
    };
}
/// A whole pass on PostgreSQL, copied inside the server: sending the entries through the
/// node and back as JSON cost more than the inserts themselves.
macro_rules! postgres_index_sql {
    () => {
        concat!(
            "INSERT INTO audit_subjects (subject, seq) ",
            pass_entries_sql!()
        )
    };
}
/// On PostgreSQL a pass is one transaction, so its inserts need no conflict check, which
/// costs a speculative insertion per row there ...
const POSTGRES_INDEX_SQL: &str = postgres_index_sql!();
/// ... unless entries after the mark are indexed already: by another instance's pass, or by
/// an older release's pass cut short.
const POSTGRES_INDEX_AGAIN_SQL: &str = concat!(postgres_index_sql!(), " ON CONFLICT DO NOTHING");

/// Adds the entries after `audit_subjects_upto` to the subject index, sorted by subject,
/// and moves the mark; returns how many log entries it passed (0: it had caught up). On
/// SQLite the chunks go through `audit` one by one, joining the writer's batches instead of
/// taking the write lock from it; on PostgreSQL the pass is one transaction with its mark.
pub async fn index_subjects(db: &Db, audit: &AuditLog) -> Result<usize, DbError> {
    let (upto,): (i64,) = on_db!(db, p => sqlx::query_as(
        "SELECT seq FROM audit_subjects_upto WHERE id = 1").fetch_one(p).await?);
    // The head is committed with the entries up to it, so they are all visible now.
    let (head, _) = self::head(db).await?;
    let target = head.min(upto + INDEX_PASS_MOST);
    if target <= upto {
        return Ok(0);
    }
    let mark = || Statement {
        sql: "UPDATE audit_subjects_upto SET seq = $1 WHERE id = 1 AND seq = $2",
        params: vec![Param::Int(target), Param::Int(upto)],
    };
    match db.backend() {
        Backend::Sqlite => {
            let tail: Vec<(String, i64)> = on_db!(db, p => sqlx::query_as(pass_entries_sql!())
                .bind(upto).bind(target).fetch_all(p).await?);
            // One write per chunk; the last also moves the mark (alone when there is none).
            let mut writes = tail
                .chunks(INDEX_CHUNK)
                .map(|chunk| {
                    let pairs = serde_json::to_string(chunk)
                        .map_err(|e| DbError::Changed(e.to_string()))?;
                    Ok(vec![Statement {
                        sql: SQLITE_INDEX_SQL,
                        params: vec![Param::Text(pairs)],
                    }])
                })
                .collect::<Result<Vec<_>, DbError>>()?;
            match writes.last_mut() {
                Some(last) => last.push(mark()),
                None => writes.push(vec![mark()]),
            }
            for statements in writes {
                audit.append_with(Vec::new(), statements).await?;
            }
        }
        Backend::Postgres => {
            let pass = |sql| {
                let range = vec![Param::Int(upto), Param::Int(target)];
                vec![Statement { sql, params: range }, mark()]
            };
            match audit
                .append_with(Vec::new(), pass(POSTGRES_INDEX_SQL))
                .await
            {
                Err(DbError::Duplicate { .. }) => {
                    audit
                        .append_with(Vec::new(), pass(POSTGRES_INDEX_AGAIN_SQL))
                        .await?;
                }
                written => {
                    written?;
                }
            }
        }
    }
    Ok((target - upto) as usize)
}

/// Runs [`index_subjects`] every `every` until aborted.
pub fn spawn_subject_indexer(
    db: Db,
    audit: AuditLog,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = index_subjects(&db, &audit).await {
                tracing::warn!(error = %e, "audit: the subject index could not catch up; trying again");
            }
        }
    })
}

/// The chain head: how many entries the log holds.
pub async fn head(db: &Db) -> Result<(i64, String), DbError> {
    Ok(on_db!(db, p => sqlx::query_as(HEAD_SQL).fetch_one(p).await?))
}

/// The newest entries of the whole log (administrators).
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<AuditRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT $1");
    Ok(on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(p).await?))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum BrokenLink {
    /// The row with this sequence number is missing (deleted, or renumbered).
    Missing { seq: i64, found: i64 },
    /// The row's content does not match its hash (altered or moved).
    Altered { seq: i64 },
    /// The row does not point at its predecessor's hash (a row before it was removed or
    /// rows were reordered).
    Unlinked { seq: i64 },
    /// The log ends before the recorded head (rows at the end were removed), or the head
    /// itself was changed.
    Head { head_seq: i64, last_seq: i64 },
}

impl BrokenLink {
    pub fn seq(&self) -> i64 {
        match self {
            BrokenLink::Missing { seq, .. }
            | BrokenLink::Altered { seq }
            | BrokenLink::Unlinked { seq } => *seq,
            BrokenLink::Head { last_seq, .. } => last_seq + 1,
        }
    }
}

impl std::fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BrokenLink::Missing { seq, found } => {
                write!(
                    f,
                    "entry {seq} is missing (the next entry present is {found})"
                )
            }
            BrokenLink::Altered { seq } => write!(
                f,
                "entry {seq} was altered: its hash does not match its content"
            ),
            BrokenLink::Unlinked { seq } => write!(
                f,
                "entry {seq} does not link to entry {}: entries were removed or reordered",
                seq - 1
            ),
            BrokenLink::Head { head_seq, last_seq } => write!(
                f,
                "the chain head records entry {head_seq}, but the log ends at entry {last_seq}"
            ),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub entries: i64,
    pub head_seq: i64,
    pub first_broken: Option<BrokenLink>,
}

/// Walks the whole chain in sequence order, in pages, and names the first broken link.
pub async fn verify(db: &Db) -> Result<VerifyReport, DbError> {
    const PAGE: i64 = 10_000;
    let (head_seq, head_hash): (i64, String) = on_db!(db, p => sqlx::query_as(
        "SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(p).await?);
    let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
    let mut expected_seq = 1;
    let mut prev = GENESIS_HASH.to_owned();
    let mut entries = 0;
    loop {
        let page: Vec<AuditRecord> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(expected_seq - 1).bind(PAGE).fetch_all(p).await?);
        let done = (page.len() as i64) < PAGE;
        for row in page {
            let broken = if row.seq != expected_seq {
                Some(BrokenLink::Missing {
                    seq: expected_seq,
                    found: row.seq,
                })
            } else if row.expected_hash() != row.hash {
                Some(BrokenLink::Altered { seq: row.seq })
            } else if row.prev_hash != prev {
                Some(BrokenLink::Unlinked { seq: row.seq })
            } else {
                None
            };
            if broken.is_some() {
                return Ok(VerifyReport {
                    entries,
                    head_seq,
                    first_broken: broken,
                });
            }
            entries += 1;
            expected_seq += 1;
            prev = row.hash;
        }
        if done {
            break;
        }
    }
    let last_seq = expected_seq - 1;
    let first_broken = (head_seq != last_seq || head_hash != prev)
        .then_some(BrokenLink::Head { head_seq, last_seq });
    Ok(VerifyReport {
        entries,
        head_seq,
        first_broken,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The hash as the chain has always defined it: the RFC 8785 library over the fields.
    fn reference_hash(r: &AuditRecord) -> String {
        let fields = serde_json::json!({
            "seq": r.seq, "at_ms": r.at_ms, "actor": r.actor, "actor_role": r.actor_role,
            "action": r.action, "subject": r.subject, "subject_org": r.subject_org,
            "purpose": r.purpose, "detail": r.detail, "prev_hash": r.prev_hash,
        });
        hex::encode(Sha256::digest(
            serde_json_canonicalizer::to_vec(&fields).unwrap(),
        ))
    }

    fn record(seq: i64, at_ms: i64, text: String, subject: Option<String>) -> AuditRecord {
        AuditRecord {
            seq,
            at_ms,
            actor: text.clone(),
            actor_role: "school_admin".into(),
            action: "student.read".into(),
            subject: subject.clone(),
            subject_org: subject,
            purpose: text.clone(),
            detail: text,
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Chains written before the fast path verify after it, and the other way round.
        #[test]
        fn hash_is_the_canonical_one(
            seq in prop_oneof![0..1_000_000i64, any::<i64>()],
            at_ms in prop_oneof![1_700_000_000_000..1_900_000_000_000i64, any::<i64>()],
            text in "[a-z\\x00-\\x1f\"\\\\/\u{e9}\u{2028}\u{e000}\u{1f600}学籍]{0,12}",
            subject in proptest::option::of("[0-9Gx]{0,19}"),
        ) {
            let r = record(seq, at_ms, text, subject);
            prop_assert_eq!(r.expected_hash(), reference_hash(&r));
        }
    }

    #[test]
    fn details_are_canonical() {
        let detail =
            serde_json::json!({"z": 1, "message_id": "m", "a": {"c": [1, "二"], "b": null}});
        let e = AuditEntry::new("u", "r", "a", "p").detail(detail);
        let records = chain(&[e], 0, GENESIS_HASH.into(), 1);
        assert_eq!(
            records[0].detail,
            r#"{"a":{"b":null,"c":[1,"二"]},"message_id":"m","z":1}"#
        );
        assert_eq!(records[0].hash, reference_hash(&records[0]));
    }
}
