//! One pass over the matching documents: the deadline check, facet counts and the top hits.
//!
//! The deadline is checked here rather than intersected as a range query: it keeps three
//! quarters of the index, so as a query it would only add a seek per match. It is packed,
//! in seconds, with the facet values into one column, so a match costs one column read
//! (two for the major set, and the exact deadline only within the second of `now`).
//! Facets are counted over every live match. The top hits are kept in a
//! bounded heap ordered by (score, publication time), reading the publication time only for
//! documents that can still enter the heap.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::fmt::Debug;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Cardinality, Column, ColumnValues, StrColumn};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use crate::schema::{
    DEADLINE, FACET_KEY, MAJOR_SEPARATOR, MAJOR_SET, PUBLISHED, open_at, unpack_facets,
};
use crate::types::{EmployerType, Facets, Level, SalaryBand};

/// Prefecture codes have four digits.
const PREFECTURES: usize = 10_000;
pub(crate) const TOP_MAJORS: usize = 20;

/// Collects live matches: their number, facet counts and the best `offset + limit`.
pub(crate) struct JobCollector {
    /// Documents with a deadline before this are skipped.
    pub now_ms: i64,
    /// How many of the best documents to keep (offset + limit).
    pub keep: usize,
    /// Whether the query computes scores (else documents are ranked by recency only).
    pub scoring: bool,
}

/// A kept document; `Ord` puts the better one last (greater).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ranked {
    score: Score,
    published: i64,
    /// Lower addresses win remaining ties, for a stable order.
    address: Reverse<(u32, DocId)>,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.published.cmp(&other.published))
            .then(self.address.cmp(&other.address))
    }
}

pub(crate) struct Fruit {
    pub counts: Counts,
    /// Best first.
    pub top: Vec<(Score, DocAddress)>,
}

pub(crate) struct Counts {
    pub total: u64,
    city: Vec<u64>,
    level: [u64; 16],
    band: [u64; 16],
    employer_type: [u64; 16],
    major: HashMap<String, u64>,
}

impl Counts {
    fn new() -> Counts {
        Counts {
            total: 0,
            city: vec![0; PREFECTURES],
            level: [0; 16],
            band: [0; 16],
            employer_type: [0; 16],
            major: HashMap::new(),
        }
    }

    fn add(&mut self, other: Counts) {
        self.total += other.total;
        for (a, b) in self.city.iter_mut().zip(other.city) {
            *a += b;
        }
        for (a, b) in self.level.iter_mut().zip(other.level) {
            *a += b;
        }
        for (a, b) in self.band.iter_mut().zip(other.band) {
            *a += b;
        }
        for (a, b) in self.employer_type.iter_mut().zip(other.employer_type) {
            *a += b;
        }
        for (major, n) in other.major {
            *self.major.entry(major).or_default() += n;
        }
    }

    pub(crate) fn facets(&self) -> Facets {
        let by_count = |mut v: Vec<(String, u64)>| {
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v
        };
        let city = self
            .city
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(code, n)| (format!("{code:04}"), *n))
            .collect();
        let level = Level::ALL
            .iter()
            .map(|l| {
                (
                    l.as_str().to_owned(),
                    self.level[crate::types::level_rank(*l) as usize],
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        let salary_band = SalaryBand::ALL
            .iter()
            .map(|b| (b.slug().to_owned(), self.band[b.ordinal() as usize]))
            .filter(|(_, n)| *n > 0)
            .collect();
        let employer_type = EmployerType::ALL
            .iter()
            .map(|t| {
                (
                    t.as_str().to_owned(),
                    self.employer_type[crate::types::employer_ordinal(*t) as usize],
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        let mut major = by_count(self.major.iter().map(|(m, n)| (m.clone(), *n)).collect());
        major.truncate(TOP_MAJORS);
        Facets {
            city: by_count(city),
            level,
            salary_band,
            employer_type: by_count(employer_type),
            major,
        }
    }
}

/// Matches are processed in batches of this many, so that each column is read with one
/// dynamically dispatched call per batch.
const BATCH: usize = 128;

pub(crate) struct SegmentJobCollector {
    segment: SegmentOrdinal,
    now_ms: i64,
    keep: usize,
    scoring: bool,
    deadline: Arc<dyn ColumnValues<i64>>,
    published: Arc<dyn ColumnValues<i64>>,
    keys: Arc<dyn ColumnValues<u64>>,
    /// The term ordinals of the jobs' major sets (single-valued), and their dictionary.
    majors: Option<Arc<dyn ColumnValues<u64>>>,
    major_dictionary: Option<StrColumn>,
    /// A min-heap of the best documents so far (the worst kept one on top).
    heap: BinaryHeap<Reverse<Ranked>>,
    docs: Vec<DocId>,
    scores: Vec<Score>,
    i64s: Vec<i64>,
    u64s: Vec<u64>,
    keys_buf: Vec<u64>,
    total: u64,
    city: Vec<u64>,
    level: [u64; 16],
    band: [u64; 16],
    employer_type: [u64; 16],
    /// Matches per major-set ordinal.
    major_sets: Vec<u64>,
}

/// The values of a column that every document has, read directly; others through the
/// "first value or default" view.
fn values<T>(column: Column<T>, default: T) -> Arc<dyn ColumnValues<T>>
where
    T: PartialOrd + Debug + Send + Sync + Copy + 'static,
{
    if column.get_cardinality() == Cardinality::Full {
        column.values
    } else {
        column.first_or_default_col(default)
    }
}

impl Collector for JobCollector {
    type Fruit = Fruit;
    type Child = SegmentJobCollector;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentJobCollector> {
        let fast = reader.fast_fields();
        let major_dictionary = fast.str(MAJOR_SET)?;
        let terms = major_dictionary.as_ref().map_or(0, |m| m.num_terms());
        let majors = major_dictionary
            .as_ref()
            .map(|m| values(m.ords().clone(), u64::MAX));
        Ok(SegmentJobCollector {
            segment,
            now_ms: self.now_ms,
            keep: self.keep,
            scoring: self.scoring,
            deadline: values(fast.i64(DEADLINE)?, i64::MIN),
            published: values(fast.i64(PUBLISHED)?, i64::MIN),
            keys: values(fast.u64(FACET_KEY)?, 0),
            majors,
            major_dictionary,
            heap: BinaryHeap::with_capacity(self.keep.min(1024) + 1),
            docs: Vec::with_capacity(BATCH),
            scores: Vec::with_capacity(BATCH),
            i64s: Vec::with_capacity(BATCH),
            u64s: Vec::with_capacity(BATCH),
            keys_buf: Vec::with_capacity(BATCH),
            total: 0,
            city: vec![0; PREFECTURES],
            level: [0; 16],
            band: [0; 16],
            employer_type: [0; 16],
            major_sets: vec![0; terms],
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scoring
    }

    fn merge_fruits(&self, fruits: Vec<(Counts, Vec<Ranked>)>) -> tantivy::Result<Fruit> {
        let mut counts = Counts::new();
        let mut top = Vec::new();
        for (c, t) in fruits {
            counts.add(c);
            top.extend(t);
        }
        top.sort_unstable_by(|a, b| b.cmp(a));
        top.truncate(self.keep);
        Ok(Fruit {
            counts,
            top: top
                .into_iter()
                .map(|r| {
                    let (segment, doc) = r.address.0;
                    (r.score, DocAddress::new(segment, doc))
                })
                .collect(),
        })
    }
}

impl SegmentJobCollector {
    /// Processes the buffered matches.
    fn flush(&mut self) {
        let n = self.docs.len();
        if n == 0 {
            return;
        }
        // Drop expired jobs: the packed key decides, except within the second of `now_ms`.
        self.keys_buf.resize(n, 0);
        self.keys.get_vals(&self.docs, &mut self.keys_buf);
        let mut live = 0;
        for i in 0..n {
            let key = self.keys_buf[i];
            let doc = self.docs[i];
            let open = open_at(unpack_facets(key).deadline_s, self.now_ms)
                .unwrap_or_else(|| self.deadline.get_val(doc) >= self.now_ms);
            if open {
                self.docs[live] = doc;
                self.scores[live] = self.scores[i];
                self.keys_buf[live] = key;
                live += 1;
            }
        }
        self.docs.truncate(live);
        self.scores.truncate(live);
        self.keys_buf.truncate(live);
        self.total += live as u64;

        for &key in &self.keys_buf {
            let p = unpack_facets(key);
            // Level, band and type are masked to 4 bits; a prefecture outside 0..10,000
            // (not from a six-digit code) is not counted.
            if let Some(n) = self.city.get_mut(p.prefecture as usize) {
                *n += 1;
            }
            self.level[p.level as usize] += 1;
            self.band[p.band as usize] += 1;
            self.employer_type[p.employer_type as usize] += 1;
        }

        if let Some(majors) = &self.majors {
            self.u64s.resize(live, 0);
            majors.get_vals(&self.docs, &mut self.u64s);
            for &ord in &self.u64s {
                if let Some(n) = self.major_sets.get_mut(ord as usize) {
                    *n += 1;
                }
            }
        }

        if self.keep > 0 {
            if self.scoring {
                for i in 0..live {
                    // The publication time is read only if the document can enter the heap.
                    let score = self.scores[i];
                    if self.heap.len() == self.keep
                        && let Some(Reverse(worst)) = self.heap.peek()
                        && score < worst.score
                    {
                        continue;
                    }
                    let doc = self.docs[i];
                    let published = self.published.get_val(doc);
                    self.offer(score, published, doc);
                }
            } else {
                self.i64s.resize(live, 0);
                self.published.get_vals(&self.docs, &mut self.i64s);
                for i in 0..live {
                    self.offer(0.0, self.i64s[i], self.docs[i]);
                }
            }
        }
        self.docs.clear();
        self.scores.clear();
    }

    #[inline]
    fn offer(&mut self, score: Score, published: i64, doc: DocId) {
        let candidate = Ranked {
            score,
            published,
            address: Reverse((self.segment, doc)),
        };
        if self.heap.len() < self.keep {
            self.heap.push(Reverse(candidate));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && candidate > worst.0
        {
            *worst = Reverse(candidate);
        }
    }
}

impl SegmentCollector for SegmentJobCollector {
    type Fruit = (Counts, Vec<Ranked>);

    fn collect(&mut self, doc: DocId, score: Score) {
        self.docs.push(doc);
        self.scores.push(score);
        if self.docs.len() == BATCH {
            self.flush();
        }
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        for chunk in docs.chunks(BATCH) {
            if self.docs.len() + chunk.len() > BATCH {
                self.flush();
            }
            self.docs.extend_from_slice(chunk);
            self.scores.resize(self.docs.len(), 0.0);
        }
        if self.docs.len() == BATCH {
            self.flush();
        }
    }

    fn harvest(mut self) -> (Counts, Vec<Ranked>) {
        self.flush();
        // Each major of a counted set gets its count.
        let mut major: HashMap<String, u64> = HashMap::new();
        if let Some(dictionary) = &self.major_dictionary {
            let ords: Vec<u64> = (0u64..)
                .zip(&self.major_sets)
                .filter(|(_, n)| **n > 0)
                .map(|(ord, _)| ord)
                .collect();
            let mut counts = ords.iter().map(|&ord| self.major_sets[ord as usize]);
            // A dictionary that cannot be read leaves the major facet empty rather than
            // failing the search.
            let _ = dictionary
                .dictionary()
                .sorted_ords_to_term_cb(&ords, |bytes| {
                    let n = counts.next().unwrap_or(0);
                    for name in String::from_utf8_lossy(bytes).split(MAJOR_SEPARATOR) {
                        *major.entry(name.to_owned()).or_default() += n;
                    }
                });
        }
        let counts = Counts {
            total: self.total,
            city: self.city,
            level: self.level,
            band: self.band,
            employer_type: self.employer_type,
            major,
        };
        let top = self.heap.into_iter().map(|Reverse(r)| r).collect();
        (counts, top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranking_order() {
        let r = |score, published, doc| Ranked {
            score,
            published,
            address: Reverse((0, doc)),
        };
        assert!(r(2.0, 0, 0) > r(1.0, 9, 0));
        assert!(r(1.0, 9, 5) > r(1.0, 8, 0));
        assert!(r(1.0, 9, 1) > r(1.0, 9, 2));
    }
}
