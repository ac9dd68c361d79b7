//! The index schema, and turning a [`JobDoc`] into a tantivy document.

use tantivy::TantivyDocument;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use crate::analysis::TOKENIZER;
use crate::places;
use crate::types::{EmployerType, JobDoc, Level, SalaryBand, SearchError};

/// Written next to the index; an index with another version is wiped and rebuilt. Bump it
/// whenever the schema, the analyzer or the place aliases change.
pub const SCHEMA_VERSION: &str = "chuanyu-search jobs 2";

/// The major value of jobs open to every major (专业不限).
pub(crate) const ANY_MAJOR: &str = "不限";

pub(crate) const PUBLISHED: &str = "published_ms";
pub(crate) const DEADLINE: &str = "deadline_ms";
pub(crate) const FACET_KEY: &str = "facet_key";
pub(crate) const MAJOR_SET: &str = "major_set";
/// Separates the majors of a job in its `major_set` value.
pub(crate) const MAJOR_SEPARATOR: char = '\u{1f}';

const MAX_KEY_BYTES: usize = 256;

#[derive(Clone, Copy)]
pub(crate) struct Fields {
    pub key: Field,
    pub title: Field,
    pub employer: Field,
    pub description: Field,
    pub majors_text: Field,
    pub place: Field,
    pub city: Field,
    pub city_path: Field,
    pub major: Field,
    pub major_set: Field,
    pub level: Field,
    pub band: Field,
    pub employer_type: Field,
    pub facet_key: Field,
    pub salary_min: Field,
    pub salary_max: Field,
    pub published: Field,
    pub deadline: Field,
}

/// Word fields: jieba, with term frequencies (BM25) but no positions (no phrase queries are
/// built, and positions would make the index a third larger).
fn words(stored: bool) -> TextOptions {
    let options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    if stored {
        options.set_stored()
    } else {
        options
    }
}

pub(crate) fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        key: b.add_text_field("key", STRING | STORED),
        title: b.add_text_field("title", words(true)),
        employer: b.add_text_field("employer", words(true)),
        description: b.add_text_field("description", words(true)),
        majors_text: b.add_text_field("majors_text", words(false)),
        place: b.add_text_field("place", words(false)),
        city: b.add_text_field("city", STORED),
        // "51", "5101", "510104": the city filter is one term.
        city_path: b.add_text_field("city_path", STRING),
        // One term per major, for the filter.
        major: b.add_text_field("major", STRING),
        // The job's whole set of majors as one value, for the facet: a single-valued
        // column is read with one lookup per document, where a multi-valued one needs three.
        major_set: b.add_text_field(MAJOR_SET, TextOptions::default().set_fast("raw")),
        level: b.add_u64_field("level", INDEXED | FAST | STORED),
        band: b.add_u64_field("band", INDEXED),
        employer_type: b.add_u64_field("employer_type", INDEXED),
        facet_key: b.add_u64_field(FACET_KEY, FAST),
        salary_min: b.add_u64_field("salary_min", STORED),
        salary_max: b.add_u64_field("salary_max", STORED),
        published: b.add_i64_field(PUBLISHED, FAST | STORED),
        deadline: b.add_i64_field(DEADLINE, FAST | STORED),
    };
    (b.build(), fields)
}

/// The facet values and the deadline of one document, packed into the `facet_key` column so
/// that the collector reads one value per document: bits 0–3 employer type, 4–7 band, 8–11
/// level, 12–25 prefecture (4 digits), 26–59 the deadline in whole seconds rounded up.
pub(crate) fn pack_facets(
    prefecture: u64,
    level: u64,
    band: u64,
    employer_type: u64,
    deadline_ms: i64,
) -> u64 {
    let ceil = deadline_ms.div_euclid(1000) + i64::from(deadline_ms.rem_euclid(1000) != 0);
    let deadline_s = u64::try_from(ceil).unwrap_or(0).min(MAX_DEADLINE_S);
    (deadline_s << 26)
        | ((prefecture & 0x3fff) << 12)
        | ((level & 0xf) << 8)
        | ((band & 0xf) << 4)
        | (employer_type & 0xf)
}

/// Deadlines are packed in 34 bits of seconds (until the year 2514); later ones saturate.
pub(crate) const MAX_DEADLINE_S: u64 = (1 << 34) - 1;

pub(crate) struct Packed {
    pub prefecture: u64,
    pub level: u64,
    pub band: u64,
    pub employer_type: u64,
    pub deadline_s: u64,
}

pub(crate) fn unpack_facets(key: u64) -> Packed {
    Packed {
        prefecture: (key >> 12) & 0x3fff,
        level: (key >> 8) & 0xf,
        band: (key >> 4) & 0xf,
        employer_type: key & 0xf,
        deadline_s: key >> 26,
    }
}

/// Whether a job with this packed deadline is still open at `now_ms`: `Some` when the
/// seconds decide it, `None` when the deadline falls in the same second as `now_ms` (or
/// was out of the packed range) and the exact value must be read.
#[inline]
pub(crate) fn open_at(deadline_s: u64, now_ms: i64) -> Option<bool> {
    if deadline_s == 0 || deadline_s == MAX_DEADLINE_S {
        return None;
    }
    // deadline_s is below 2^34, so these products fit in i64. The deadline in ms lies in
    // ((deadline_s - 1) * 1000, deadline_s * 1000].
    let upper = deadline_s as i64 * 1000;
    if upper < now_ms {
        Some(false)
    } else if upper - 1000 >= now_ms {
        Some(true)
    } else {
        None
    }
}

fn invalid(doc: &JobDoc, reason: &'static str) -> SearchError {
    SearchError::InvalidDoc {
        key: doc.key.clone(),
        reason,
    }
}

pub(crate) fn to_document(f: &Fields, doc: &JobDoc) -> Result<TantivyDocument, SearchError> {
    if doc.key.is_empty() || doc.key.len() > MAX_KEY_BYTES {
        return Err(invalid(doc, "the key must have 1 to 256 bytes"));
    }
    if doc.city.len() != 6 || !doc.city.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(doc, "the city must be a six-digit division code"));
    }
    let level = Level::parse(&doc.level).ok_or_else(|| invalid(doc, "unknown level"))?;
    let employer_type = EmployerType::parse(&doc.employer_type)
        .ok_or_else(|| invalid(doc, "unknown employer type"))?;
    let band = SalaryBand::of(doc.salary_min, doc.salary_max);
    // Six ASCII digits, checked above.
    let prefecture: u64 = doc.city[..4].parse().unwrap_or_default();

    let mut d = TantivyDocument::new();
    d.add_text(f.key, &doc.key);
    d.add_text(f.title, &doc.title);
    d.add_text(f.employer, &doc.employer);
    d.add_text(f.description, &doc.description);
    d.add_text(f.place, places::place_text(&doc.city));
    d.add_text(f.city, &doc.city);
    for len in [2, 4, 6] {
        d.add_text(f.city_path, &doc.city[..len]);
    }
    let mut majors: Vec<String> = doc
        .majors
        .iter()
        .map(|m| m.trim().replace(char::is_control, ""))
        .filter(|m| !m.is_empty())
        .collect();
    majors.sort_unstable();
    majors.dedup();
    if majors.is_empty() {
        d.add_text(f.major, ANY_MAJOR);
        d.add_text(f.major_set, ANY_MAJOR);
    } else {
        d.add_text(f.major_set, majors.join(&MAJOR_SEPARATOR.to_string()));
    }
    for major in &majors {
        d.add_text(f.majors_text, major);
        d.add_text(f.major, major);
    }
    d.add_u64(f.level, crate::types::level_rank(level));
    d.add_u64(f.band, band.ordinal());
    d.add_u64(
        f.employer_type,
        crate::types::employer_ordinal(employer_type),
    );
    d.add_u64(
        f.facet_key,
        pack_facets(
            prefecture,
            crate::types::level_rank(level),
            band.ordinal(),
            crate::types::employer_ordinal(employer_type),
            doc.deadline_ms,
        ),
    );
    d.add_u64(f.salary_min, u64::from(doc.salary_min));
    d.add_u64(f.salary_max, u64::from(doc.salary_max));
    d.add_i64(f.published, doc.published_ms);
    d.add_i64(f.deadline, doc.deadline_ms);
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facets_round_trip() {
        let now = 1_780_272_000_123;
        let p = unpack_facets(pack_facets(5134, 4, 3, 5, now));
        assert_eq!(
            (p.prefecture, p.level, p.band, p.employer_type),
            (5134, 4, 3, 5)
        );
        assert_eq!(p.deadline_s, 1_780_272_001);
    }

    #[test]
    fn packed_deadlines_decide_or_defer() {
        let now = 1_780_272_000_500;
        let open = |deadline_ms: i64| {
            open_at(
                unpack_facets(pack_facets(0, 0, 0, 0, deadline_ms)).deadline_s,
                now,
            )
        };
        assert_eq!(open(now + 1000), Some(true));
        assert_eq!(open(now - 1000), Some(false));
        // Same second: the exact value decides.
        assert_eq!(open(now), None);
        assert_eq!(open(now - 1), None);
        assert_eq!(open(now + 499), None);
        assert_eq!(open(1_780_272_001_000), None);
        assert_eq!(open(1_780_272_001_001), Some(true));
        assert_eq!(open(1_780_272_000_000), Some(false));
        // Out of range.
        assert_eq!(open(-5), None);
        assert_eq!(open(i64::MAX), None);
    }
}
