//! Chinese full-text search over job postings (招聘岗位), with filters and facets.
//!
//! The index is derived data: it is built from the database (`JobIndex::rebuild`) and kept
//! up to date by `upsert`/`remove`; an index directory written by another schema version is
//! wiped and reported as needing a rebuild ([`JobIndex::needs_rebuild`]).
//!
//! # Tokenisation
//!
//! Text fields are segmented with jieba through `tantivy-jieba` in *search mode*: a word is
//! indexed together with the dictionary words inside it ("软件开发工程师" gives 软件, 开发,
//! 软件开发, 工程, 工程师), so a query word matches wherever it occurs inside a longer word.
//! Tokens without a letter or digit (spaces, punctuation, emoji) are dropped, Latin letters
//! are lower-cased ("Java" = "java"), and a few function words (的, 和, 在...) are not indexed.
//!
//! A query is never parsed with a query language: its text is cut into words with jieba's
//! *precise* mode ("小学语文教师" → 小学, 语文, 教师) and the query is built from those words
//! as terms, so quotes, colons, brackets, AND/OR, full-width punctuation or emoji are just
//! characters that are dropped. The text is cut at 200 characters and 16 distinct words;
//! an empty text (or one of punctuation only) browses the filtered jobs by recency.
//!
//! # Ranking
//!
//! Every query word must match (AND) in at least one of title (BM25 ×3), majors (×2),
//! employer (×1.5), place names (×1.5) or description (×1); the BM25 scores are summed, so a
//! title match ranks above a description-only match. AND keeps "重庆 Java 开发" or
//! "成都 护理" precise where OR would return every 开发 or 护理 job first-ranked by chance.
//! A word that jieba does not split the same way in the query and in a posting
//! ("数据分析" in "大数据分析师", indexed as 大数据/数据/分析/分析师) also matches through
//! its parts: each word is `word OR (all of its sub-words)` when its sub-words cover it.
//! Only when the AND query matches nothing does the search fall back to "any word matches"
//! (ranked by BM25, so documents matching more words come first) and says so in
//! [`SearchResult::relaxed`]. Ties are broken by publication time, newest first.
//!
//! # Places and synonyms
//!
//! Postings only carry a county code, so the index adds a `place` text field derived from
//! it with the kernel's GB/T 2260 table: county, prefecture and province names, short forms
//! (武侯区 → 武侯, 成都市 → 成都) and a small alias table (蓉城/锦官城 → 成都, 山城/渝/雾都 →
//! 重庆, 川/蜀 → 四川, 酒城 → 泸州, ...; see `places`). "蓉城 护士" therefore finds 成都 jobs
//! without a query-side rewrite. Changing the aliases changes [`SCHEMA_VERSION`].
//!
//! # Filters and facets
//!
//! Filters are tantivy queries intersected with the text query inside the engine: the
//! division prefix (2, 4 or 6 digits; "510100" is read as "5101") is a term of a raw field
//! holding "51", "5101" and "510104"; level is a range on a fast field; band and employer
//! type are indexed numbers; a major is a term. The level filter means "jobs this graduate
//! may apply for": a bachelor sees jobs requiring 中职, 专科 or 本科. A major filter also
//! returns jobs open to every major (专业不限, which the major facet counts as "不限").
//!
//! The deadline is applied by the search's collector, before anything is counted or
//! ranked: as a query it would match three quarters of the index and only add a seek per
//! match, while the collector reads it for free from the column it reads anyway (see
//! below). Nothing is filtered after the top hits are chosen.
//!
//! Facets count every live match of the query and filters (not only the returned page), in
//! the same single pass as scoring and ranking. Prefecture, level, band, employer type and
//! the deadline (in seconds; the exact millisecond value is read only within the second of
//! `now_ms`) are packed into one u64 fast field, and a job's set of majors is one
//! single-valued string column whose ordinals are counted and split into majors once per
//! segment; so a match costs two column reads, in batches of 128. At a million jobs a
//! query matching 700,000 of them takes about 11 ms on one core. Level and band facets
//! are listed in their natural order, the others by decreasing count (majors: the top 20).
//! Ranking keeps the best `offset + limit` documents in a heap by (score, publication
//! time), reading the publication time only for documents that can enter it.
//!
//! # Snippets
//!
//! A hit's snippet is plain text from the description (about 60 characters around the best
//! matches, or its beginning) with the matched words given as byte ranges, never as markup,
//! so nothing a job description contains can inject HTML.

mod analysis;
mod facets;
mod index;
mod places;
mod query;
mod schema;
mod types;

pub use index::JobIndex;
pub use schema::SCHEMA_VERSION;
pub use types::{
    EmployerType, Facets, Hit, JobDoc, Level, SalaryBand, SearchError, SearchQuery, SearchResult,
};
