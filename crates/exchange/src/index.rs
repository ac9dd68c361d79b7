//! The blind index of this node's students: HMAC(学籍号) and HMAC(ID number) under the
//! federation key, so a peer can ask "do you hold this?" with a digest instead of the number.
//!
//! Rows are added for students that have none, in batches, at start and after every import
//! run. A record whose ID number changed keeps its old citizen-id digest until the student is
//! indexed anew; answers therefore re-check the digest against the record ([`find`]).

use std::time::Duration;

use federation::{BlindIndexKey, IdentifierKind};
use kernel::ids::{CitizenId, StudentNo};
use platform::audit::AuditLog;
use platform::db::{Db, DbError};
use platform::on_db;

const BATCH: i64 = 5000;

/// Indexes every student that has no index row yet; returns how many were indexed.
pub async fn reindex(db: &Db, key: &BlindIndexKey) -> Result<u64, DbError> {
    let mut total = 0u64;
    loop {
        let rows: Vec<(String, Option<String>)> = on_db!(db, p => sqlx::query_as(
            "SELECT s.student_no, s.citizen_id FROM students s WHERE NOT EXISTS \
             (SELECT 1 FROM federation_index f WHERE f.student_no = s.student_no) LIMIT $1")
            .bind(BATCH).fetch_all(p).await?);
        if rows.is_empty() {
            return Ok(total);
        }
        total += rows.len() as u64;
        index_students(db, key, &rows).await?;
    }
}

/// Indexes these students (学籍号 and ID number), e.g. records that just arrived by
/// transfer; rows already there are kept.
pub async fn index_students(
    db: &Db,
    key: &BlindIndexKey,
    students: &[(String, Option<String>)],
) -> Result<(), DbError> {
    if students.is_empty() {
        return Ok(());
    }
    let mut entries: Vec<(&'static str, String, &str)> = Vec::with_capacity(students.len() * 2);
    for (no, citizen) in students {
        if let Some(id) = citizen.as_deref().and_then(|c| CitizenId::parse(c).ok()) {
            let kind = IdentifierKind::CitizenId.label();
            entries.push((kind, key.citizen_id(&id).as_str().to_owned(), no));
        }
        let digest = digest_of(key, IdentifierKind::StudentNo, no);
        entries.push((IdentifierKind::StudentNo.label(), digest, no));
    }
    on_db!(db, p => {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO federation_index (kind, digest, student_no) ");
        q.push_values(&entries, |mut b, (kind, digest, no)| {
            b.push_bind(*kind).push_bind(digest).push_bind(*no);
        });
        q.push(" ON CONFLICT DO NOTHING");
        q.build().execute(p).await?;
    });
    Ok(())
}

/// The digest of `value` as an identifier of `kind`, normalised as the kernel parses it.
pub fn digest_of(key: &BlindIndexKey, kind: IdentifierKind, value: &str) -> String {
    match kind {
        IdentifierKind::StudentNo => match StudentNo::parse(value) {
            Ok(no) => key.student_no(&no).as_str().to_owned(),
            Err(_) => key.index(kind, value).as_str().to_owned(),
        },
        IdentifierKind::CitizenId => match CitizenId::parse(value) {
            Ok(id) => key.citizen_id(&id).as_str().to_owned(),
            Err(_) => key.index(kind, value).as_str().to_owned(),
        },
        other => key.index(other, value).as_str().to_owned(),
    }
}

/// The 学籍号 and ID number filed under a digest.
const FIND_SQL: &str = "SELECT s.student_no, s.citizen_id FROM federation_index f \
     JOIN students s ON s.student_no = f.student_no WHERE f.kind = $1 AND f.digest = $2";

/// The 学籍号 of the student this node holds under `digest`, if any. The digest is checked
/// against the record itself, so a stale index row never answers for someone else. Read on
/// the audit writer's warm connection where there is one (SQLite): every peer's look-up
/// lands here.
pub async fn find(
    db: &Db,
    audit: &AuditLog,
    key: &BlindIndexKey,
    kind: IdentifierKind,
    digest: &str,
) -> Result<Option<String>, DbError> {
    let (label, owned) = (kind.label(), digest.to_owned());
    let warm = audit
        .read_warm(move |c| {
            use rusqlite::OptionalExtension;
            c.prepare_cached(FIND_SQL)?
                .query_row([label, &owned], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .await;
    let row: Option<(String, Option<String>)> = match warm {
        Some(found) => found?,
        None => on_db!(db, p => sqlx::query_as(FIND_SQL)
            .bind(label).bind(digest).fetch_optional(p).await?),
    };
    Ok(row.and_then(|(no, citizen)| {
        let current = match kind {
            IdentifierKind::CitizenId => digest_of(key, kind, citizen.as_deref()?),
            _ => digest_of(key, kind, &no),
        };
        (current == digest).then_some(no)
    }))
}

/// Keeps the index complete: a pass now, then one after every import run.
pub fn spawn_indexer(db: Db, key: BlindIndexKey) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen: Option<i64> = None;
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            let runs: Result<(i64,), _> = on_db!(&db, p => sqlx::query_as(
                "SELECT COUNT(*) FROM import_runs WHERE finished_ms IS NOT NULL").fetch_one(p).await);
            let runs = match runs {
                Ok((n,)) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "blind index: cannot count import runs");
                    continue;
                }
            };
            if seen == Some(runs) {
                continue;
            }
            match reindex(&db, &key).await {
                Ok(n) => {
                    seen = Some(runs);
                    if n > 0 {
                        tracing::info!(students = n, "blind index updated");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "blind index update failed; will retry"),
            }
        }
    })
}
