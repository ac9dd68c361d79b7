//! The job index: opening, writing and searching.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tantivy::directory::MmapDirectory;
use tantivy::query::Query;
use tantivy::schema::Value;
use tantivy::{
    DocAddress, Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Searcher,
    TantivyDocument, Term,
};

use crate::analysis::{self, QueryWord, TOKENIZER};
use crate::facets::JobCollector;
use crate::query;
use crate::schema::{self, Fields, SCHEMA_VERSION};
use crate::types::{Hit, JobDoc, SearchError, SearchQuery, SearchResult};

const VERSION_FILE: &str = "chuanyu-search.version";
/// The writer's indexing memory, shared by its threads.
const WRITER_MEMORY: usize = 96 * 1024 * 1024;
const WRITER_THREADS: usize = 2;
/// Snippet length in bytes (about 60 Chinese characters).
const SNIPPET_BYTES: usize = 180;
/// How far before the first match a snippet may start, to begin at a sentence part.
const SNIPPET_LEAD_BYTES: usize = 45;
const PROGRESS_EVERY: u64 = 10_000;

/// A searchable index of job postings. Cheap to clone; all clones share one index, one
/// reader and one writer.
#[derive(Clone)]
pub struct JobIndex {
    inner: Arc<Inner>,
}

struct Inner {
    index: Index,
    reader: IndexReader,
    /// tantivy allows one writer per index; it is created on the first write.
    writer: Mutex<Option<IndexWriter>>,
    fields: Fields,
    needs_rebuild: AtomicBool,
}

impl std::fmt::Debug for JobIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobIndex")
            .field("docs", &self.len())
            .field("needs_rebuild", &self.needs_rebuild())
            .finish()
    }
}

type Page = Vec<(f32, DocAddress)>;

impl JobIndex {
    /// Opens the index in `dir`, creating the directory and the index as needed. An index
    /// written with another [`SCHEMA_VERSION`] or schema is wiped and created anew; then,
    /// as for a new index, [`JobIndex::needs_rebuild`] is true. A non-empty directory that
    /// holds no index is refused rather than wiped.
    pub fn open(dir: &Path) -> Result<JobIndex, SearchError> {
        fs::create_dir_all(dir)?;
        let (schema, fields) = schema::build();
        let version_path = dir.join(VERSION_FILE);
        let has_meta = dir.join("meta.json").exists();
        let version = fs::read_to_string(&version_path).ok();
        let current = version.as_deref().map(str::trim) == Some(SCHEMA_VERSION);
        let existing = if has_meta && current {
            Index::open(MmapDirectory::open(dir)?)
                .ok()
                .filter(|index| index.schema() == schema)
        } else {
            None
        };
        let (index, created) = match existing {
            Some(index) => (index, false),
            None => {
                if has_meta || version.is_some() {
                    wipe(dir)?;
                } else if fs::read_dir(dir)?.next().is_some() {
                    return Err(SearchError::NotAnIndex(dir.to_owned()));
                }
                let index =
                    Index::create(MmapDirectory::open(dir)?, schema, IndexSettings::default())?;
                fs::write(&version_path, SCHEMA_VERSION)?;
                (index, true)
            }
        };
        JobIndex::from_index(index, fields, created)
    }

    /// An index in memory, for tests and small tools.
    pub fn in_memory() -> Result<JobIndex, SearchError> {
        let (schema, fields) = schema::build();
        JobIndex::from_index(Index::create_in_ram(schema), fields, true)
    }

    fn from_index(index: Index, fields: Fields, created: bool) -> Result<JobIndex, SearchError> {
        index.tokenizers().register(TOKENIZER, analysis::analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(JobIndex {
            inner: Arc::new(Inner {
                index,
                reader,
                writer: Mutex::new(None),
                fields,
                needs_rebuild: AtomicBool::new(created),
            }),
        })
    }

    /// Whether the index was created or wiped when opened and has not been rebuilt since:
    /// its contents do not reflect the database.
    pub fn needs_rebuild(&self) -> bool {
        self.inner.needs_rebuild.load(Ordering::Relaxed)
    }

    /// The number of searchable jobs (expired ones included).
    pub fn len(&self) -> u64 {
        self.inner.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The underlying tantivy index, for benchmarks and diagnostics.
    pub fn tantivy_index(&self) -> &Index {
        &self.inner.index
    }

    /// A searcher over the last committed state, for benchmarks and diagnostics.
    pub fn searcher(&self) -> Searcher {
        self.inner.reader.searcher()
    }

    fn writer(&self) -> Result<MutexGuard<'_, Option<IndexWriter>>, SearchError> {
        // A panic while holding the lock leaves the writer usable: tantivy keeps its own
        // state consistent and uncommitted work is simply not visible.
        let mut guard = self
            .inner
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.is_none() {
            let threads = std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(WRITER_THREADS);
            *guard = Some(
                self.inner
                    .index
                    .writer_with_num_threads(threads, WRITER_MEMORY)?,
            );
        }
        Ok(guard)
    }

    /// Adds the jobs, replacing any with the same key, and commits.
    /// Whether the index would take `doc` (`upsert` and `rebuild` refuse a batch holding one
    /// it would not), so a caller can set such a document aside instead.
    pub fn check(&self, doc: &JobDoc) -> Result<(), SearchError> {
        schema::to_document(&self.inner.fields, doc).map(|_| ())
    }

    pub fn upsert(&self, docs: &[JobDoc]) -> Result<(), SearchError> {
        let f = &self.inner.fields;
        // Validate everything before touching the index.
        let documents = docs
            .iter()
            .map(|d| schema::to_document(f, d))
            .collect::<Result<Vec<_>, _>>()?;
        let mut guard = self.writer()?;
        let Some(writer) = guard.as_mut() else {
            return Ok(());
        };
        let result = (|| {
            for (doc, document) in docs.iter().zip(documents) {
                writer.delete_term(Term::from_field_text(f.key, &doc.key));
                writer.add_document(document)?;
            }
            writer.commit()?;
            Ok::<_, SearchError>(())
        })();
        if result.is_err() {
            let _ = writer.rollback();
        }
        result?;
        self.inner.reader.reload()?;
        Ok(())
    }

    /// Removes the jobs with these keys (unknown keys are ignored) and commits.
    pub fn remove(&self, keys: &[String]) -> Result<(), SearchError> {
        let f = &self.inner.fields;
        let mut guard = self.writer()?;
        let Some(writer) = guard.as_mut() else {
            return Ok(());
        };
        for key in keys {
            writer.delete_term(Term::from_field_text(f.key, key));
        }
        if let Err(e) = writer.commit() {
            let _ = writer.rollback();
            return Err(e.into());
        }
        self.inner.reader.reload()?;
        Ok(())
    }

    /// Replaces the whole contents with `docs` in one commit and waits for segment merges,
    /// so the rebuilt index is searched at full speed. `progress` is called every 10,000
    /// documents and at the end. On error (an invalid document included) the index keeps
    /// its previous contents. Returns the number of documents.
    pub fn rebuild(
        &self,
        docs: impl Iterator<Item = JobDoc>,
        progress: Option<&dyn Fn(u64)>,
    ) -> Result<u64, SearchError> {
        let f = self.inner.fields;
        let mut guard = self.writer()?;
        let Some(writer) = guard.as_mut() else {
            return Ok(0);
        };
        let mut count = 0u64;
        let result = (|| {
            writer.delete_all_documents()?;
            for doc in docs {
                writer.add_document(schema::to_document(&f, &doc)?)?;
                count += 1;
                if count.is_multiple_of(PROGRESS_EVERY)
                    && let Some(progress) = progress
                {
                    progress(count);
                }
            }
            writer.commit()?;
            Ok::<_, SearchError>(())
        })();
        if let Err(e) = result {
            let _ = writer.rollback();
            return Err(e);
        }
        if let Some(writer) = guard.take() {
            writer.wait_merging_threads()?;
        }
        self.inner.reader.reload()?;
        self.inner.needs_rebuild.store(false, Ordering::Relaxed);
        if let Some(progress) = progress {
            progress(count);
        }
        Ok(count)
    }

    /// Searches; see the crate documentation for how text is matched and ranked.
    pub fn search(&self, q: &SearchQuery) -> Result<SearchResult, SearchError> {
        if q.offset > SearchQuery::MAX_OFFSET {
            return Err(SearchError::InvalidParameter {
                name: "offset",
                value: q.offset.to_string(),
            });
        }
        let limit = q.limit.min(SearchQuery::MAX_LIMIT);
        let f = &self.inner.fields;
        let filters = query::filters(f, q)?;
        let words = analysis::query_words(&q.text);
        let searcher = self.inner.reader.searcher();

        let collect = |query: &dyn Query, scoring: bool| {
            let collector = JobCollector {
                now_ms: q.now_ms,
                keep: if limit == 0 { 0 } else { q.offset + limit },
                scoring,
            };
            searcher.search(query, &collector)
        };
        let (fruit, relaxed) = if words.is_empty() {
            (collect(&*query::browse_query(&filters), false)?, false)
        } else {
            let strict = collect(&*query::text_query(f, &words, &filters, true), true)?;
            if strict.counts.total == 0 && words.len() > 1 {
                let any = query::text_query(f, &words, &filters, false);
                (collect(&*any, true)?, true)
            } else {
                (strict, false)
            }
        };
        let page: Page = fruit.top.into_iter().skip(q.offset).collect();
        let counts = fruit.counts;

        let hits = if limit == 0 {
            Vec::new()
        } else {
            self.hits(&searcher, &page, &words)?
        };
        Ok(SearchResult {
            total: usize::try_from(counts.total).unwrap_or(usize::MAX),
            hits,
            facets: counts.facets(),
            relaxed,
        })
    }

    fn hits(
        &self,
        searcher: &Searcher,
        ranked: &Page,
        words: &[QueryWord],
    ) -> Result<Vec<Hit>, SearchError> {
        let f = &self.inner.fields;
        let words = analysis::Highlighter::new(&query::highlight_terms(words));
        let mut hits = Vec::with_capacity(ranked.len());
        for &(score, address) in ranked {
            let doc: TantivyDocument = searcher.doc(address)?;
            let text = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let number = |field| doc.get_first(field).and_then(|v| v.as_u64());
            let title = text(f.title);
            let description = text(f.description);
            let (snippet, highlights) = snippet(&description, &words);
            hits.push(Hit {
                key: text(f.key),
                score,
                title_highlights: words.ranges(&title),
                title,
                employer: text(f.employer),
                city: text(f.city),
                level: number(f.level)
                    .and_then(crate::types::level_from_rank)
                    .map(|l| l.as_str().to_owned())
                    .unwrap_or_default(),
                salary_min: number(f.salary_min)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or_default(),
                salary_max: number(f.salary_max)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or_default(),
                deadline_ms: doc
                    .get_first(f.deadline)
                    .and_then(|v| v.as_i64())
                    .unwrap_or_default(),
                published_ms: doc
                    .get_first(f.published)
                    .and_then(|v| v.as_i64())
                    .unwrap_or_default(),
                snippet,
                highlights,
            });
        }
        Ok(hits)
    }
}

/// About 60 characters of the description: from the start of the sentence part holding the
/// window with the most matched words, or its beginning; with the matches as byte ranges.
fn snippet(description: &str, words: &analysis::Highlighter) -> (String, Vec<(usize, usize)>) {
    let ranges = words.ranges(description);
    // The first window of SNIPPET_BYTES holding the most matches.
    let best = (0..ranges.len()).max_by_key(|&i| {
        let limit = ranges[i].0 + SNIPPET_BYTES;
        let n = ranges[i..].iter().take_while(|r| r.1 <= limit).count();
        (n, std::cmp::Reverse(i))
    });
    let start = match best {
        None => 0,
        Some(i) => {
            let first = ranges[i].0;
            // Back to just after the punctuation before the match, if it is close.
            description[..first]
                .char_indices()
                .rev()
                .take_while(|(at, _)| first - at <= SNIPPET_LEAD_BYTES)
                .find(|(_, c)| "。；，！？：、,.;!?:\n".contains(*c))
                .map_or(first, |(at, c)| at + c.len_utf8())
        }
    };
    let mut end = (start + SNIPPET_BYTES).min(description.len());
    while !description.is_char_boundary(end) {
        end -= 1;
    }
    let highlights = ranges
        .into_iter()
        .filter(|&(from, to)| from >= start && to <= end)
        .map(|(from, to)| (from - start, to - start))
        .collect();
    (description[start..end].to_owned(), highlights)
}

/// Removes the files of a derived index; nothing else lives in its directory.
fn wipe(dir: &Path) -> Result<(), SearchError> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}
