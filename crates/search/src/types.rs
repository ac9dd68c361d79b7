//! The public vocabulary of the crate: documents, queries, results and errors.

use std::path::PathBuf;

/// What the index holds for one published job.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobDoc {
    /// Globally unique job key, e.g. "CQ-J-7f3a…"; at most 256 bytes.
    pub key: String,
    /// 岗位名称, e.g. "Java后端开发工程师".
    pub title: String,
    /// 岗位描述.
    pub description: String,
    /// 单位名称, e.g. "重庆长安汽车股份有限公司".
    pub employer: String,
    /// An [`EmployerType`] slug.
    pub employer_type: String,
    /// Six-digit GB/T 2260 county code, e.g. "500105".
    pub city: String,
    /// The minimum education, a [`Level`] slug.
    pub level: String,
    /// Majors wanted (Chinese names); empty means 专业不限.
    pub majors: Vec<String>,
    /// Yuan per month.
    pub salary_min: u32,
    pub salary_max: u32,
    /// Milliseconds since the Unix epoch.
    pub published_ms: i64,
    /// Milliseconds since the Unix epoch; jobs past it are not returned.
    pub deadline_ms: i64,
}

/// A search: free text plus optional filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Free text in any form; empty browses by recency.
    pub text: String,
    /// A division-code prefix: "51" (province), "5101" (prefecture) or "510104" (county);
    /// six-digit codes ending in 00 or 0000 are read as the shorter prefix.
    pub city: Option<String>,
    /// The applicant's education (a [`Level`] slug): only jobs whose minimum level is at or
    /// below it are returned.
    pub level: Option<String>,
    /// A major: jobs that want it, or any major.
    pub major: Option<String>,
    pub salary_band: Option<SalaryBand>,
    /// An [`EmployerType`] slug.
    pub employer_type: Option<String>,
    /// Jobs with `deadline_ms < now_ms` are not returned.
    pub now_ms: i64,
    /// At most [`SearchQuery::MAX_OFFSET`].
    pub offset: usize,
    /// At most [`SearchQuery::MAX_LIMIT`]; 0 returns only the total and the facets.
    pub limit: usize,
}

impl SearchQuery {
    pub const MAX_LIMIT: usize = 100;
    pub const MAX_OFFSET: usize = 10_000;

    /// A query for `text` with no filters, the first 10 hits.
    pub fn text(text: impl Into<String>, now_ms: i64) -> SearchQuery {
        SearchQuery {
            text: text.into(),
            now_ms,
            ..SearchQuery::default()
        }
    }
}

impl Default for SearchQuery {
    fn default() -> Self {
        SearchQuery {
            text: String::new(),
            city: None,
            level: None,
            major: None,
            salary_band: None,
            employer_type: None,
            now_ms: 0,
            offset: 0,
            limit: 10,
        }
    }
}

/// Monthly salary bands, by the midpoint of a job's range (`salary_min + salary_max) / 2`,
/// or `salary_min` when no maximum is given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SalaryBand {
    Below5k,
    From5kTo8k,
    From8kTo12k,
    From12kTo20k,
    From20k,
}

impl SalaryBand {
    pub const ALL: [SalaryBand; 5] = [
        SalaryBand::Below5k,
        SalaryBand::From5kTo8k,
        SalaryBand::From8kTo12k,
        SalaryBand::From12kTo20k,
        SalaryBand::From20k,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            SalaryBand::Below5k => "lt5k",
            SalaryBand::From5kTo8k => "5k-8k",
            SalaryBand::From8kTo12k => "8k-12k",
            SalaryBand::From12kTo20k => "12k-20k",
            SalaryBand::From20k => "gte20k",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SalaryBand::Below5k => "5千以下",
            SalaryBand::From5kTo8k => "5千-8千",
            SalaryBand::From8kTo12k => "8千-1.2万",
            SalaryBand::From12kTo20k => "1.2万-2万",
            SalaryBand::From20k => "2万以上",
        }
    }

    /// Accepts the slug, in any case, with surrounding spaces.
    pub fn parse(input: &str) -> Option<SalaryBand> {
        let input = input.trim();
        SalaryBand::ALL
            .into_iter()
            .find(|b| b.slug().eq_ignore_ascii_case(input))
    }

    /// The band of a salary range in yuan per month.
    pub fn of(salary_min: u32, salary_max: u32) -> SalaryBand {
        let mid = if salary_max == 0 {
            u64::from(salary_min)
        } else {
            (u64::from(salary_min) + u64::from(salary_max)) / 2
        };
        match mid {
            0..5_000 => SalaryBand::Below5k,
            5_000..8_000 => SalaryBand::From5kTo8k,
            8_000..12_000 => SalaryBand::From8kTo12k,
            12_000..20_000 => SalaryBand::From12kTo20k,
            _ => SalaryBand::From20k,
        }
    }

    pub(crate) fn ordinal(self) -> u64 {
        self as u64
    }
}

pub use kernel::employment::{EmployerType, Level};

/// A level's place in the order, as indexed (lowest 0).
pub(crate) fn level_rank(l: Level) -> u64 {
    l as u64
}

pub(crate) fn level_from_rank(rank: u64) -> Option<Level> {
    Level::ALL.get(usize::try_from(rank).ok()?).copied()
}

pub(crate) fn employer_ordinal(t: EmployerType) -> u64 {
    t as u64
}

/// One result.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hit {
    pub key: String,
    /// The BM25 score; 0 when browsing without text.
    pub score: f32,
    pub title: String,
    /// Byte ranges of `title` that matched query words.
    pub title_highlights: Vec<(usize, usize)>,
    pub employer: String,
    /// The six-digit county code.
    pub city: String,
    /// A [`Level`] slug.
    pub level: String,
    pub salary_min: u32,
    pub salary_max: u32,
    pub deadline_ms: i64,
    /// When the job was published (ms since the epoch).
    pub published_ms: i64,
    /// Plain text from the description (escape it like any text when rendering).
    pub snippet: String,
    /// Byte ranges of `snippet` that matched query words, sorted and not overlapping.
    pub highlights: Vec<(usize, usize)>,
}

/// Counts over all documents that match the query and the filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Facets {
    /// Per prefecture-level code (4 digits; Chongqing's districts are "5001", its counties
    /// "5002"), by decreasing count.
    pub city: Vec<(String, u64)>,
    /// Per [`Level`] slug of the jobs' minimum level, lowest level first.
    pub level: Vec<(String, u64)>,
    /// Per [`SalaryBand`] slug, lowest band first.
    pub salary_band: Vec<(String, u64)>,
    /// Per [`EmployerType`] slug, by decreasing count.
    pub employer_type: Vec<(String, u64)>,
    /// The 20 most frequent majors, by decreasing count; "不限" counts jobs open to any major.
    pub major: Vec<(String, u64)>,
}

/// Sums two facet lists; `order` gives the order of a fixed vocabulary (levels, bands),
/// otherwise by decreasing count; at most `keep`.
fn sum(
    a: Vec<(String, u64)>,
    b: Vec<(String, u64)>,
    order: Option<&[&str]>,
    keep: usize,
) -> Vec<(String, u64)> {
    let mut counts: Vec<(String, u64)> = Vec::new();
    for (k, n) in a.into_iter().chain(b) {
        match counts.iter_mut().find(|(x, _)| *x == k) {
            Some((_, m)) => *m += n,
            None => counts.push((k, n)),
        }
    }
    match order {
        Some(order) => {
            counts.sort_by_key(|(k, _)| order.iter().position(|o| o == k).unwrap_or(usize::MAX))
        }
        None => counts.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0))),
    }
    counts.truncate(keep);
    counts
}

impl Facets {
    /// The counts of two indexes' matches together (the results of several nodes).
    pub fn merge(self, other: Facets) -> Facets {
        let levels: Vec<&str> = Level::ALL.iter().map(|l| l.as_str()).collect();
        let bands: Vec<&str> = SalaryBand::ALL.iter().map(|b| b.slug()).collect();
        Facets {
            city: sum(self.city, other.city, None, usize::MAX),
            level: sum(self.level, other.level, Some(&levels), usize::MAX),
            salary_band: sum(
                self.salary_band,
                other.salary_band,
                Some(&bands),
                usize::MAX,
            ),
            employer_type: sum(self.employer_type, other.employer_type, None, usize::MAX),
            major: sum(self.major, other.major, None, crate::facets::TOP_MAJORS),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchResult {
    /// The number of matching jobs.
    pub total: usize,
    pub hits: Vec<Hit>,
    pub facets: Facets,
    /// Nothing matched every query word, so these jobs match at least one of them.
    pub relaxed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search engine error: {0}")]
    Engine(#[from] tantivy::TantivyError),
    #[error("cannot open the index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("index directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0} is not empty and holds no job index; refusing to wipe it")]
    NotAnIndex(PathBuf),
    #[error("job {key:?} is invalid: {reason}")]
    InvalidDoc { key: String, reason: &'static str },
    #[error("invalid search parameter {name}: {value:?}")]
    InvalidParameter { name: &'static str, value: String },
}
