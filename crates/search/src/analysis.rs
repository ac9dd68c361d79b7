//! Text analysis: the index-time analyzer and the cutting of query text into words.

use std::collections::HashSet;

use aho_corasick::{AhoCorasick, MatchKind};

use tantivy::tokenizer::{
    LowerCaser, RemoveLongFilter, StopWordFilter, TextAnalyzer, Token, TokenFilter, TokenStream,
    Tokenizer,
};
use tantivy_jieba::JiebaTokenizer;

/// The name the analyzer is registered under for the text fields.
pub(crate) const TOKENIZER: &str = "jieba_search";

/// Query text beyond this many characters is ignored.
const MAX_QUERY_CHARS: usize = 200;
/// Query words beyond this many distinct ones are ignored.
const MAX_QUERY_WORDS: usize = 16;
/// Longer tokens are not indexed (bytes).
const MAX_TOKEN_BYTES: usize = 60;

/// Function words, neither indexed nor searched.
const STOP_WORDS: &[&str] = &[
    "的", "了", "和", "与", "及", "或", "在", "是", "等", "为", "对", "以", "并", "将", "被", "把",
    "也", "就", "而", "之", "其", "这", "那", "个", "着", "及其", "或者", "以及", "我", "你", "他",
    "她", "我们", "你们",
];

/// Words that say "a job" and nothing more: dropped from a query that has other words.
const QUERY_NOISE: &[&str] = &[
    "招聘", "岗位", "职位", "工作", "相关", "求职", "找", "想", "要", "求", "有", "吗", "呢", "啊",
    "吧", "哪些", "什么", "附近",
];

/// jieba in search mode, lower-cased, without punctuation-only tokens and stop words.
pub(crate) fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(JiebaTokenizer::new())
        .filter(WordsOnly)
        .filter(LowerCaser)
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(StopWordFilter::remove(
            STOP_WORDS.iter().map(|w| (*w).to_owned()),
        ))
        .build()
}

/// jieba in precise mode with the same filters, to cut a query into words.
fn precise_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(JiebaTokenizer::with_search_mode(false))
        .filter(WordsOnly)
        .filter(LowerCaser)
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(StopWordFilter::remove(
            STOP_WORDS.iter().map(|w| (*w).to_owned()),
        ))
        .build()
}

/// A query word and, when the index may hold it only in pieces, the pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryWord {
    pub word: String,
    /// Non-overlapping dictionary words that together spell `word` ("数据分析" → 数据,
    /// 分析); empty when `word` has no such cover.
    pub parts: Vec<String>,
}

/// The words of a query, in order, deduplicated.
pub(crate) fn query_words(text: &str) -> Vec<QueryWord> {
    let text = match text.char_indices().nth(MAX_QUERY_CHARS) {
        Some((cut, _)) => &text[..cut],
        None => text,
    };
    let mut precise = precise_analyzer();
    let mut seen = HashSet::new();
    let mut words = Vec::new();
    let mut stream = precise.token_stream(text);
    while let Some(token) = stream.next() {
        if words.len() == MAX_QUERY_WORDS {
            break;
        }
        if seen.insert(token.text.clone()) {
            words.push(token.text.clone());
        }
    }
    if words.iter().any(|w| !QUERY_NOISE.contains(&w.as_str())) {
        words.retain(|w| !QUERY_NOISE.contains(&w.as_str()));
    }
    let mut search = analyzer();
    words
        .into_iter()
        .map(|word| {
            let parts = cover(&mut search, &word);
            QueryWord { word, parts }
        })
        .collect()
}

/// Greedy longest-first cover of `word` by the shorter dictionary words that jieba's search
/// mode finds inside it; empty unless they spell all of it with at least two parts.
fn cover(search: &mut TextAnalyzer, word: &str) -> Vec<String> {
    let mut inner: Vec<(usize, usize, String)> = Vec::new();
    let mut stream = search.token_stream(word);
    while let Some(token) = stream.next() {
        if token.text != word {
            inner.push((token.offset_from, token.offset_to, token.text.clone()));
        }
    }
    let mut parts = Vec::new();
    let mut at = 0;
    while at < word.len() {
        let longest = inner
            .iter()
            .filter(|(from, _, _)| *from == at)
            .max_by_key(|(from, to, _)| to - from);
        match longest {
            Some((_, to, text)) => {
                parts.push(text.clone());
                at = *to;
            }
            None => return Vec::new(),
        }
    }
    if parts.len() < 2 {
        return Vec::new();
    }
    parts
}

/// Finds the query's words in a hit's title and snippet, for highlighting.
///
/// Only the few hits shown are highlighted, but tokenising each whole description with jieba
/// was the largest cost of a search (a profile of the federated search endpoint): the words
/// are found by substring search instead (Aho-Corasick, ASCII case-insensitive), longest
/// first. A Latin-script word counts only as a whole word ("java" is not marked inside
/// "javascript"); a Chinese word is marked wherever it appears, as jieba's search mode
/// indexes the words inside longer ones.
pub(crate) struct Highlighter {
    words: Option<AhoCorasick>,
}

impl Highlighter {
    pub(crate) fn new(terms: &HashSet<String>) -> Highlighter {
        let words = (!terms.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(terms)
                    .ok()
            })
            .flatten();
        Highlighter { words }
    }

    /// Byte ranges of `text` holding the words, merged where they touch.
    pub(crate) fn ranges(&self, text: &str) -> Vec<(usize, usize)> {
        let Some(words) = &self.words else {
            return Vec::new();
        };
        let latin = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        let ranges = words
            .find_iter(text)
            .filter(|m| {
                let found = &text[m.start()..m.end()];
                !found.chars().all(|c| c.is_ascii_alphanumeric())
                    || !(latin(text[..m.start()].chars().next_back())
                        || latin(text[m.end()..].chars().next()))
            })
            .map(|m| (m.start(), m.end()))
            .collect();
        merge_ranges(ranges)
    }
}

pub(crate) fn merge_ranges(mut ranges: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (from, to) in ranges {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    merged
}

/// Drops tokens without a letter or digit: spaces, punctuation, symbols and emoji.
#[derive(Clone)]
struct WordsOnly;

impl TokenFilter for WordsOnly {
    type Tokenizer<T: Tokenizer> = WordsOnlyTokenizer<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> WordsOnlyTokenizer<T> {
        WordsOnlyTokenizer(tokenizer)
    }
}

#[derive(Clone)]
struct WordsOnlyTokenizer<T>(T);

impl<T: Tokenizer> Tokenizer for WordsOnlyTokenizer<T> {
    type TokenStream<'a> = WordsOnlyStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        WordsOnlyStream(self.0.token_stream(text))
    }
}

struct WordsOnlyStream<S>(S);

impl<S: TokenStream> TokenStream for WordsOnlyStream<S> {
    fn advance(&mut self) -> bool {
        while self.0.advance() {
            if self.0.token().text.chars().any(char::is_alphanumeric) {
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.0.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        let mut analyzer = analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(t) = stream.next() {
            out.push(t.text.clone());
        }
        out
    }

    fn words(text: &str) -> Vec<String> {
        query_words(text).into_iter().map(|w| w.word).collect()
    }

    #[test]
    fn search_mode_indexes_words_inside_words() {
        let t = tokens("Java后端开发工程师，负责微服务的开发！😀");
        for w in ["java", "后端", "开发", "工程师", "工程", "负责", "服务"] {
            assert!(t.contains(&w.to_owned()), "{w} in {t:?}");
        }
        assert!(
            !t.iter()
                .any(|w| w == "的" || w == "，" || w == "！" || w == "😀")
        );
    }

    #[test]
    fn query_words_are_precise_words() {
        assert_eq!(words("小学语文教师"), ["小学", "语文", "教师"]);
        assert_eq!(words("重庆 Java 开发"), ["重庆", "java", "开发"]);
        assert_eq!(words("在重庆的Java开发岗位"), ["重庆", "java", "开发"]);
        assert_eq!(words("招聘"), ["招聘"]);
        assert!(words("\"(:)^~*+-[]{}\\，。！😀 ").is_empty());
        assert_eq!(words("AND OR"), ["and", "or"]);
        assert!(words("").is_empty());
        assert_eq!(words(&"软件".repeat(5000)), ["软件"]);
    }

    #[test]
    fn covers() {
        let w = query_words("数据分析");
        assert_eq!(w[0].word, "数据分析");
        assert_eq!(w[0].parts, ["数据", "分析"]);
        // 工程 alone does not spell 工程师.
        assert!(query_words("工程师")[0].parts.is_empty());
        assert!(query_words("护理")[0].parts.is_empty());
    }

    #[test]
    fn highlights_are_merged() {
        let terms: HashSet<String> = ["软件开发", "软件", "开发"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let text = "负责软件开发工作";
        let ranges = Highlighter::new(&terms).ranges(text);
        assert_eq!(ranges, [(6, 18)]);
        assert_eq!(&text[6..18], "软件开发");
    }

    #[test]
    fn latin_words_are_whole_words_in_any_case() {
        let terms: HashSet<String> = ["java", "开发"].iter().map(|s| (*s).to_owned()).collect();
        let h = Highlighter::new(&terms);
        let text = "Java开发，JavaScript 与 java";
        let marked: Vec<&str> = h.ranges(text).iter().map(|&(a, b)| &text[a..b]).collect();
        assert_eq!(marked, ["Java开发", "java"]);
        assert!(Highlighter::new(&HashSet::new()).ranges(text).is_empty());
    }
}
