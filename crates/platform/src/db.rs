//! One storage layer over SQLite (the embedded default) and PostgreSQL.
//!
//! SQL is written once with `$N` placeholders, which both engines accept, and compiled
//! against each driver by the [`on_db!`] and [`on_tx!`] macros. That keeps one text per
//! query while letting hot paths (bulk import, later) use each engine's fast path.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool, WriteGate),
    Postgres(PgPool),
}

/// SQLite write transactions of this process, one at a time and in arrival order. SQLite
/// itself lets a second writer sleep and retry (its busy handler backs off up to 100 ms a
/// try), which under concurrent writes turns milliseconds of work into seconds of latency.
/// Other processes (a CLI import) still meet the busy timeout.
#[derive(Clone, Debug, Default)]
pub struct WriteGate(Arc<tokio::sync::Mutex<()>>);

impl WriteGate {
    async fn enter(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.0.clone().lock_owned().await
    }

    /// The same turn, for a thread outside the runtime (the SQLite audit writer).
    pub(crate) fn enter_blocking(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.0.blocking_lock()
    }
}

/// Runs the same body against whichever pool `$db` holds; `$pool` is bound to the
/// engine's pool (a `&SqlitePool` or `&PgPool`).
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool, _) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Runs the same body inside a transaction; `$conn` is bound to the engine's connection
/// (`&mut SqliteConnection` or `&mut PgConnection`).
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t, _) => {
                let $conn = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// A write transaction on either engine, on a pooled connection (`'static`) or on a
/// connection the caller holds ([`Conn::begin`]).
pub enum Tx<'c> {
    /// The transaction, then the gate: dropped in that order.
    Sqlite(
        sqlx::Transaction<'c, sqlx::Sqlite>,
        tokio::sync::OwnedMutexGuard<()>,
    ),
    Postgres(sqlx::Transaction<'c, sqlx::Postgres>),
}

/// One connection held for a whole job, e.g. an import that stages rows in a TEMP table
/// (which lives and dies with its connection, so a killed import leaves nothing behind).
pub enum Conn {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>, WriteGate),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

/// Runs the same body on a held connection; `$conn` is `&mut SqliteConnection` or
/// `&mut PgConnection`.
#[macro_export]
macro_rules! on_conn {
    ($c:expr, $conn:ident => $body:expr) => {
        match $c {
            $crate::db::Conn::Sqlite(c, _) => {
                let $conn = &mut **c;
                $body
            }
            $crate::db::Conn::Postgres(c) => {
                let $conn = &mut **c;
                $body
            }
        }
    };
}

impl Conn {
    /// A write transaction on this connection (`BEGIN IMMEDIATE` on SQLite, as [`Db::begin`]).
    pub async fn begin(&mut self) -> Result<Tx<'_>, DbError> {
        use sqlx::Connection;
        Ok(match self {
            Conn::Sqlite(c, gate) => {
                let entered = gate.enter().await;
                Tx::Sqlite(c.begin_with("BEGIN IMMEDIATE").await?, entered)
            }
            Conn::Postgres(c) => Tx::Postgres(c.begin().await?),
        })
    }

    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(..) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }
}

impl Tx<'_> {
    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t, _) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(..) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database URL {0:?} is neither sqlite:// nor postgres://")]
    Url(String),
    #[error("a record with this {constraint} already exists")]
    Duplicate { constraint: String },
    #[error("database error: {0}")]
    Sqlx(sqlx::Error),
    /// From the connections that bypass sqlx (the SQLite audit writer's).
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// A batched statement (a group commit, a batched read) failed as a whole; every request
    /// it carried reports this.
    #[error("database error: {0}")]
    GroupCommit(String),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A conditional write found the row changed since it was read (another instance or
    /// user got there first); read again and decide again.
    #[error("changed meanwhile: {0}")]
    Changed(String),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(d) = &e
            && d.is_unique_violation()
        {
            // SQLite names the columns in its message; PostgreSQL names the constraint.
            let constraint = d
                .constraint()
                .map(str::to_owned)
                .unwrap_or_else(|| d.message().rsplit(": ").next().unwrap_or("").to_owned());
            return DbError::Duplicate { constraint };
        }
        DbError::Sqlx(e)
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::{SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE};
        if let rusqlite::Error::SqliteFailure(f, message) = &e
            && matches!(
                f.extended_code,
                SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY
            )
        {
            // As sqlx reports it: SQLite names the columns in its message.
            let message = message.as_deref().unwrap_or_default();
            let constraint = message.rsplit(": ").next().unwrap_or("").to_owned();
            return DbError::Duplicate { constraint };
        }
        DbError::Sqlite(e)
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Opens a pool for `url`, creating the SQLite file (and its directory) if missing.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, DbError> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or(path);
            if let Some(dir) = std::path::Path::new(path).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|e| DbError::Sqlx(sqlx::Error::Io(e)))?;
            }
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // WAL + NORMAL is durable across application crashes; only an OS crash can
                // lose the last commits, which is SQLite's documented trade-off for WAL.
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            // No ping before each use: it doubles the round trips of every query, and a
            // local file has no connection to lose.
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections.max(1))
                .test_before_acquire(false)
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite(pool, WriteGate::default()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // Room for the TEMP tables imports stage rows in; allocated only when used.
            let options = PgConnectOptions::from_str(url)?.options([("temp_buffers", "64MB")]);
            // No ping before each use (a round trip per query); a connection the server
            // dropped fails its next query and is replaced.
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(1))
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(DbError::Url(url.to_owned()))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(..) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations. Refuses a database that has migrations this binary does
    /// not know (a newer schema): running old code on it could corrupt data.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(p, _) => SQLITE_MIGRATIONS.run(p).await?,
            Db::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction that reads then writes cannot fail half-way
    /// with a busy snapshot.
    pub async fn begin(&self) -> Result<Tx<'static>, DbError> {
        Ok(match self {
            Db::Sqlite(p, gate) => {
                let entered = gate.enter().await;
                Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?, entered)
            }
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    pub async fn acquire(&self) -> Result<Conn, DbError> {
        Ok(match self {
            Db::Sqlite(p, gate) => Conn::Sqlite(p.acquire().await?, gate.clone()),
            Db::Postgres(p) => Conn::Postgres(p.acquire().await?),
        })
    }

    pub async fn close(&self) {
        on_db!(self, p => p.close().await)
    }
}
