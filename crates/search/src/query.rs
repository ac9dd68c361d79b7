//! Turning a [`SearchQuery`] into tantivy queries.

use std::collections::HashSet;
use std::ops::Bound;

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery,
    TermSetQuery,
};
use tantivy::schema::IndexRecordOption;

use crate::analysis::QueryWord;
use crate::schema::{ANY_MAJOR, Fields};
use crate::types::{EmployerType, Level, SearchError, SearchQuery};

/// Field weights: a word in the title counts three times one in the description.
const TITLE_BOOST: f32 = 3.0;
const MAJORS_BOOST: f32 = 2.0;
const EMPLOYER_BOOST: f32 = 1.5;
const PLACE_BOOST: f32 = 1.5;
const DESCRIPTION_BOOST: f32 = 1.0;
/// A word matched only through its parts scores a little less than the word itself.
const PARTS_BOOST: f32 = 0.8;

fn invalid(name: &'static str, value: &str) -> SearchError {
    SearchError::InvalidParameter {
        name,
        value: value.chars().take(64).collect(),
    }
}

/// "51", "5101", "510104"; "510100" → "5101", "510000" → "51".
fn city_prefix(input: &str) -> Option<&str> {
    let input = input.trim();
    if !input.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match input.len() {
        2 | 4 => Some(input),
        6 if input.ends_with("0000") => Some(&input[..2]),
        6 if input.ends_with("00") => Some(&input[..4]),
        6 => Some(input),
        _ => None,
    }
}

/// The filters of `q`, each a query that scores 0. The deadline is not one of them: the
/// collector checks it (see `facets`).
pub(crate) fn filters(f: &Fields, q: &SearchQuery) -> Result<Vec<Box<dyn Query>>, SearchError> {
    let mut filters: Vec<Box<dyn Query>> = Vec::new();
    let term = |value: Term| -> Box<dyn Query> {
        Box::new(TermQuery::new(value, IndexRecordOption::Basic))
    };
    if let Some(city) = &q.city {
        let prefix = city_prefix(city).ok_or_else(|| invalid("city", city))?;
        filters.push(term(Term::from_field_text(f.city_path, prefix)));
    }
    if let Some(level) = &q.level {
        let level = Level::parse(level).ok_or_else(|| invalid("level", level))?;
        filters.push(Box::new(RangeQuery::new(
            Bound::Unbounded,
            Bound::Included(Term::from_field_u64(
                f.level,
                crate::types::level_rank(level),
            )),
        )));
    }
    if let Some(major) = &q.major {
        let major = major.trim();
        if major.is_empty() {
            return Err(invalid("major", major));
        }
        filters.push(Box::new(TermSetQuery::new([
            Term::from_field_text(f.major, major),
            Term::from_field_text(f.major, ANY_MAJOR),
        ])));
    }
    if let Some(band) = q.salary_band {
        filters.push(term(Term::from_field_u64(f.band, band.ordinal())));
    }
    if let Some(kind) = &q.employer_type {
        let kind = EmployerType::parse(kind).ok_or_else(|| invalid("employer_type", kind))?;
        filters.push(term(Term::from_field_u64(
            f.employer_type,
            crate::types::employer_ordinal(kind),
        )));
    }
    Ok(filters
        .into_iter()
        .map(|q| Box::new(ConstScoreQuery::new(q, 0.0)) as Box<dyn Query>)
        .collect())
}

/// The word matched in any text field, scores summed with the field weights.
fn in_any_field(f: &Fields, word: &str) -> Box<dyn Query> {
    let clauses = [
        (f.title, TITLE_BOOST),
        (f.majors_text, MAJORS_BOOST),
        (f.employer, EMPLOYER_BOOST),
        (f.place, PLACE_BOOST),
        (f.description, DESCRIPTION_BOOST),
    ]
    .into_iter()
    .map(|(field, boost)| {
        let q: Box<dyn Query> = Box::new(TermQuery::new(
            Term::from_field_text(field, word),
            IndexRecordOption::WithFreqs,
        ));
        let q: Box<dyn Query> = if boost == 1.0 {
            q
        } else {
            Box::new(BoostQuery::new(q, boost))
        };
        (Occur::Should, q)
    })
    .collect();
    Box::new(BooleanQuery::new(clauses))
}

/// The word, or all of its parts.
fn word_query(f: &Fields, word: &QueryWord) -> Box<dyn Query> {
    let whole = in_any_field(f, &word.word);
    if word.parts.is_empty() {
        return whole;
    }
    let parts = BooleanQuery::new(
        word.parts
            .iter()
            .map(|p| (Occur::Must, in_any_field(f, p)))
            .collect(),
    );
    Box::new(BooleanQuery::new(vec![
        (Occur::Should, whole),
        (
            Occur::Should,
            Box::new(BoostQuery::new(Box::new(parts), PARTS_BOOST)),
        ),
    ]))
}

/// All words (`strict`) or any word, intersected with the filters.
pub(crate) fn text_query(
    f: &Fields,
    words: &[QueryWord],
    filters: &[Box<dyn Query>],
    strict: bool,
) -> Box<dyn Query> {
    let occur = if strict { Occur::Must } else { Occur::Should };
    let text: Box<dyn Query> = match words {
        [one] => word_query(f, one),
        _ => Box::new(BooleanQuery::new(
            words.iter().map(|w| (occur, word_query(f, w))).collect(),
        )),
    };
    with_filters(text, filters)
}

/// Only the filters, for browsing.
pub(crate) fn browse_query(filters: &[Box<dyn Query>]) -> Box<dyn Query> {
    match filters {
        [] => Box::new(AllQuery),
        [one] => one.box_clone(),
        _ => Box::new(BooleanQuery::new(
            filters
                .iter()
                .map(|q| (Occur::Must, q.box_clone()))
                .collect(),
        )),
    }
}

fn with_filters(main: Box<dyn Query>, filters: &[Box<dyn Query>]) -> Box<dyn Query> {
    if filters.is_empty() {
        return main;
    }
    let mut clauses = vec![(Occur::Must, main)];
    clauses.extend(filters.iter().map(|q| (Occur::Must, q.box_clone())));
    Box::new(BooleanQuery::new(clauses))
}

/// Every term the query may match, for highlighting.
pub(crate) fn highlight_terms(words: &[QueryWord]) -> HashSet<String> {
    words
        .iter()
        .flat_map(|w| std::iter::once(&w.word).chain(&w.parts))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn city_prefixes() {
        assert_eq!(city_prefix("51"), Some("51"));
        assert_eq!(city_prefix("5101"), Some("5101"));
        assert_eq!(city_prefix(" 510104 "), Some("510104"));
        assert_eq!(city_prefix("510100"), Some("5101"));
        assert_eq!(city_prefix("510000"), Some("51"));
        assert_eq!(city_prefix("5"), None);
        assert_eq!(city_prefix("51a1"), None);
        assert_eq!(city_prefix("５１"), None);
        assert_eq!(city_prefix(""), None);
    }
}
