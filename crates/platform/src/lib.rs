//! The node's platform: configuration, storage on SQLite or PostgreSQL, organisations,
//! users and sessions, the hash-chained audit log, and the node's signing key.
//!
//! Architecture invariant: no HTTP here. The web edge, the CLI and (later) federation
//! handlers all call these functions; none of them writes SQL of its own for these tables.

pub mod audit;
pub mod config;
pub mod db;
pub mod keys;
pub mod orgs;
pub mod users;

pub use config::Config;
pub use db::{Backend, Conn, Db, DbError, Tx};

/// Milliseconds since the Unix epoch: the one timestamp representation stored on both
/// engines, so the audit chain hashes the same bytes wherever it is verified.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
