//! The node's job search index, derived from the `jobs` table: rebuilt when it is new, of
//! another schema version or out of step with the database, then kept up to date by
//! following `jobs.updated_ms` (every change of a job sets it). Each instance keeps its own
//! index, so several instances on one PostgreSQL each follow the table.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use platform::{Db, DbError, on_db};
use search::{JobIndex, SearchQuery, SearchResult};

use crate::jobs::{COLUMNS, FROM, Job};

/// Changes are re-read for this long after they were made, so a transaction that committed
/// later than a newer one (or an instance whose clock is a little behind) is not missed.
/// Re-indexing a job is idempotent.
const OVERLAP_MS: i64 = 30_000;
const PAGE: i64 = 2_000;

#[derive(Clone)]
pub struct JobSearch {
    index: JobIndex,
    /// The newest `updated_ms` applied.
    seen_ms: Arc<AtomicI64>,
    /// Where `seen_ms` is kept next to an on-disk index, so a restart resumes from it.
    mark: Option<PathBuf>,
    /// (job, updated_ms) applied within the overlap window, so re-reading it does not
    /// re-index what is already there.
    applied: Arc<Mutex<HashMap<String, i64>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Search(#[from] search::SearchError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("index task failed: {0}")]
    Task(String),
}

const OPEN: &str = "j.status = 'published'";

impl JobSearch {
    /// Opens the index in `dir` (in memory when `None`); [`JobSearch::catch_up`] brings it
    /// in step with the database.
    pub fn new(dir: Option<&Path>) -> Result<JobSearch, IndexError> {
        let index = match dir {
            Some(d) => JobIndex::open(d)?,
            None => JobIndex::in_memory()?,
        };
        let mark = dir.map(|d| d.join("synced-ms"));
        let stored = mark
            .as_deref()
            .and_then(|m| std::fs::read_to_string(m).ok())
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|_| !index.needs_rebuild());
        Ok(JobSearch {
            index,
            // -1: nothing known, rebuild.
            seen_ms: Arc::new(AtomicI64::new(stored.unwrap_or(-1))),
            mark,
            applied: Arc::default(),
        })
    }

    /// Applies the changes made since the index was last written, rebuilding it from the
    /// database if it is new, of another schema version, or then does not hold exactly the
    /// published jobs.
    pub async fn catch_up(&self, db: &Db) -> Result<(), IndexError> {
        if self.seen_ms.load(Ordering::Relaxed) < 0 {
            self.rebuild(db).await?;
        }
        self.sync(db).await?;
        let (count,): (i64,) = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(
            format!("SELECT COUNT(*) FROM jobs j WHERE {OPEN}")))
            .fetch_one(p).await.map_err(DbError::from)?);
        if self.index.len() != count as u64 {
            tracing::warn!(
                index = self.index.len(),
                jobs = count,
                "job index out of step: rebuilding"
            );
            self.rebuild(db).await?;
            self.sync(db).await?;
        }
        Ok(())
    }

    fn remember(&self, ms: i64) {
        self.seen_ms.fetch_max(ms, Ordering::Relaxed);
        if let Some(mark) = &self.mark {
            let tmp = mark.with_extension("tmp");
            let written = std::fs::write(&tmp, self.seen_ms.load(Ordering::Relaxed).to_string())
                .and_then(|_| std::fs::rename(&tmp, mark));
            if let Err(e) = written {
                tracing::warn!(error = %e, "jobs: cannot record the index position");
            }
        }
    }

    /// Replaces the index with the open jobs of the database, read page by page and fed to
    /// the index writer on a blocking thread.
    pub async fn rebuild(&self, db: &Db) -> Result<u64, IndexError> {
        let started = platform::now_ms();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<search::JobDoc>>(4);
        let index = self.index.clone();
        let writer = tokio::task::spawn_blocking(move || {
            index.rebuild(
                std::iter::from_fn(move || rx.blocking_recv()).flatten(),
                None,
            )
        });
        let mut after = String::new();
        loop {
            let sql = format!(
                "SELECT {COLUMNS} {FROM} WHERE {OPEN} AND j.id > $1 ORDER BY j.id LIMIT {PAGE}"
            );
            let page: Vec<Job> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(&after).fetch_all(p).await.map_err(DbError::from)?);
            let Some(last) = page.last() else { break };
            after = last.id.clone();
            let full = page.len() as i64 == PAGE;
            if tx.send(self.indexable(&page)).await.is_err() || !full {
                break;
            }
        }
        drop(tx);
        let n = writer
            .await
            .map_err(|e| IndexError::Task(e.to_string()))??;
        self.seen_ms.store(0, Ordering::Relaxed);
        self.remember(started - OVERLAP_MS);
        tracing::info!(jobs = n, "job search index rebuilt");
        Ok(n)
    }

    /// Applies the changes made since the last sync; returns how many jobs were looked at.
    pub async fn sync(&self, db: &Db) -> Result<usize, IndexError> {
        let since = self.seen_ms.load(Ordering::Relaxed) - OVERLAP_MS;
        let sql = format!("SELECT {COLUMNS} {FROM} WHERE j.updated_ms >= $1 ORDER BY j.updated_ms");
        let changed: Vec<Job> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(since).fetch_all(p).await.map_err(DbError::from)?);
        let changed: Vec<Job> = {
            let mut applied = self.applied.lock().unwrap_or_else(|e| e.into_inner());
            applied.retain(|_, ms| *ms >= since);
            changed
                .into_iter()
                .filter(|j| applied.get(&j.id) != Some(&j.updated_ms))
                .collect()
        };
        if changed.is_empty() {
            return Ok(0);
        }
        let now = platform::now_ms();
        let (open, gone): (Vec<&Job>, Vec<&Job>) = changed.iter().partition(|j| j.is_open(now));
        let docs = self.indexable(open.iter().copied());
        // A job the index would not take is kept out of search (and logged), not allowed to
        // stop every later change from being indexed.
        let keys: Vec<String> = gone
            .iter()
            .map(|j| j.id.clone())
            .chain(
                open.iter()
                    .map(|j| j.id.clone())
                    .filter(|id| !docs.iter().any(|d| &d.key == id)),
            )
            .collect();
        let newest = changed.iter().map(|j| j.updated_ms).max().unwrap_or(since);
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || -> Result<(), search::SearchError> {
            if !keys.is_empty() {
                index.remove(&keys)?;
            }
            if !docs.is_empty() {
                index.upsert(&docs)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| IndexError::Task(e.to_string()))??;
        let mut applied = self.applied.lock().unwrap_or_else(|e| e.into_inner());
        applied.extend(changed.iter().map(|j| (j.id.clone(), j.updated_ms)));
        drop(applied);
        self.remember(newest);
        Ok(changed.len())
    }

    /// The documents of `jobs` the index takes; the others are logged and left out.
    fn indexable<'a>(&self, jobs: impl IntoIterator<Item = &'a Job>) -> Vec<search::JobDoc> {
        jobs.into_iter()
            .map(Job::doc)
            .filter(|d| match self.index.check(d) {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(job = %d.key, error = %e, "job left out of the search index");
                    false
                }
            })
            .collect()
    }

    /// Searches this node's open jobs (off the async threads: a query over a large index
    /// takes milliseconds of CPU).
    pub async fn search(&self, query: SearchQuery) -> Result<SearchResult, IndexError> {
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || index.search(&query))
            .await
            .map_err(|e| IndexError::Task(e.to_string()))?
            .map_err(IndexError::from)
    }

    pub fn len(&self) -> u64 {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Expires jobs past their deadline and follows the changes, every `every` (after
/// [`JobSearch::catch_up`]).
pub fn spawn_worker(db: Db, search: JobSearch, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = crate::jobs::expire(&db, platform::now_ms()).await {
                tracing::warn!(error = %e, "jobs: cannot expire");
            }
            if let Err(e) = search.sync(&db).await {
                tracing::warn!(error = %e, "jobs: cannot update the search index");
            }
        }
    })
}
