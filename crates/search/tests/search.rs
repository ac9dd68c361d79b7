mod common;

use std::collections::{BTreeMap, HashMap, HashSet};

use common::{DAY_MS, NOW_MS, synthetic};
use proptest::prelude::*;
use search::{
    Facets, JobDoc, JobIndex, Level, SCHEMA_VERSION, SalaryBand, SearchError, SearchQuery,
    SearchResult,
};

fn doc(key: &str, title: &str, description: &str, city: &str) -> JobDoc {
    JobDoc {
        key: key.to_owned(),
        title: title.to_owned(),
        description: description.to_owned(),
        employer: "某某有限公司".to_owned(),
        employer_type: "private".to_owned(),
        city: city.to_owned(),
        level: "bachelor".to_owned(),
        majors: Vec::new(),
        salary_min: 6000,
        salary_max: 9000,
        published_ms: NOW_MS - DAY_MS,
        deadline_ms: NOW_MS + 30 * DAY_MS,
    }
}

fn index_of(docs: &[JobDoc]) -> JobIndex {
    let index = JobIndex::in_memory().unwrap();
    index.upsert(docs).unwrap();
    index
}

fn search(index: &JobIndex, text: &str) -> SearchResult {
    index
        .search(&SearchQuery {
            limit: 100,
            ..SearchQuery::text(text, NOW_MS)
        })
        .unwrap()
}

fn keys(result: &SearchResult) -> Vec<&str> {
    result.hits.iter().map(|h| h.key.as_str()).collect()
}

#[test]
fn words_are_segmented_not_characters() {
    let index = index_of(&[
        doc("a", "软件开发工程师", "负责系统研发。", "500105"),
        doc("b", "开票员", "负责开具发票，开朗。", "500105"),
        doc("c", "软件测试工程师", "负责测试。", "500105"),
        doc("d", "数据分析师", "负责大数据分析与报表。", "510104"),
    ]);
    assert_eq!(keys(&search(&index, "软件开发")), ["a"]);
    assert_eq!(keys(&search(&index, "开")), Vec::<&str>::new());
    let engineers = search(&index, "工程师");
    assert_eq!(engineers.total, 2);
    // "数据分析" is one word in the query but 大数据/分析 in the posting.
    assert_eq!(keys(&search(&index, "数据分析")), ["d"]);
    // Latin words are case-insensitive.
    let index = index_of(&[doc("j", "Java后端开发", "熟悉Spring Boot。", "500105")]);
    assert_eq!(keys(&search(&index, "JAVA")), ["j"]);
    assert_eq!(keys(&search(&index, "spring boot")), ["j"]);
}

#[test]
fn title_matches_rank_above_description_matches() {
    let index = index_of(&[
        doc(
            "desc",
            "前台接待",
            "协助护士做好护理工作，护士站值守。",
            "510104",
        ),
        doc("title", "护士", "负责病房工作。", "510104"),
        doc("none", "会计", "负责账务。", "510104"),
    ]);
    let result = search(&index, "护士");
    assert_eq!(keys(&result), ["title", "desc"]);
    assert!(result.hits[0].score > result.hits[1].score);
    assert_eq!(result.hits[0].title_highlights, [(0, "护士".len())]);
}

#[test]
fn all_words_must_match_then_any() {
    let index = index_of(&[
        doc("cq-java", "Java开发工程师", "负责后端开发。", "500105"),
        doc("sc-java", "Java开发工程师", "负责后端开发。", "510104"),
        doc("cq-nurse", "护士", "负责护理。", "500105"),
    ]);
    let result = search(&index, "重庆 Java 开发");
    assert_eq!(keys(&result), ["cq-java"]);
    assert!(!result.relaxed);
    // Nothing has both words: any word, flagged.
    let result = search(&index, "护士 Java");
    assert!(result.relaxed);
    assert_eq!(result.total, 3);
}

#[test]
fn city_names_and_nicknames_match_the_place() {
    let index = index_of(&[
        doc("chengdu", "护士", "负责护理。", "510107"),
        doc("yubei", "护士", "负责护理。", "500112"),
        doc("mianyang", "护士", "负责护理。", "510703"),
    ]);
    assert_eq!(keys(&search(&index, "成都 护理")), ["chengdu"]);
    assert_eq!(keys(&search(&index, "蓉城 护士")), ["chengdu"]);
    assert_eq!(keys(&search(&index, "武侯区护士")), ["chengdu"]);
    assert_eq!(keys(&search(&index, "山城 护士")), ["yubei"]);
    assert_eq!(keys(&search(&index, "渝 护士")), ["yubei"]);
    assert_eq!(keys(&search(&index, "渝北")), ["yubei"]);
    assert_eq!(keys(&search(&index, "绵阳")), ["mianyang"]);
    let result = search(&index, "四川 护士");
    let mut sichuan = keys(&result);
    sichuan.sort_unstable();
    assert_eq!(sichuan, ["chengdu", "mianyang"]);
}

fn filtered(index: &JobIndex, edit: impl FnOnce(&mut SearchQuery)) -> Vec<String> {
    let mut q = SearchQuery {
        limit: 100,
        now_ms: NOW_MS,
        ..SearchQuery::default()
    };
    edit(&mut q);
    let mut keys: Vec<String> = index
        .search(&q)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.key)
        .collect();
    keys.sort_unstable();
    keys
}

#[test]
fn filters() {
    let mut docs = vec![
        doc("wuhou", "会计", "账务。", "510107"),
        doc("jinjiang", "会计", "账务。", "510104"),
        doc("mianyang", "会计", "账务。", "510703"),
        doc("yuzhong", "会计", "账务。", "500103"),
    ];
    docs[0].level = "master".into();
    docs[1].level = "junior-college".into();
    docs[2].level = "doctor".into();
    docs[0].salary_min = 20_000;
    docs[0].salary_max = 30_000;
    docs[3].salary_min = 3_000;
    docs[3].salary_max = 4_000;
    docs[1].employer_type = "soe".into();
    docs[2].majors = vec!["会计学".into(), "财务管理".into()];
    docs[3].majors = vec!["金融学".into()];
    let mut expired = doc("expired", "会计", "账务。", "510107");
    expired.deadline_ms = NOW_MS - 1;
    docs.push(expired);
    let mut today = doc("today", "会计", "账务。", "510107");
    today.deadline_ms = NOW_MS;
    docs.push(today);
    let index = index_of(&docs);

    let city = |c: &str| filtered(&index, |q| q.city = Some(c.to_owned()));
    assert_eq!(city("5101"), ["jinjiang", "today", "wuhou"]);
    assert_eq!(city("510100"), ["jinjiang", "today", "wuhou"]);
    assert_eq!(city("51"), ["jinjiang", "mianyang", "today", "wuhou"]);
    assert_eq!(city("50"), ["yuzhong"]);
    assert_eq!(city("510104"), ["jinjiang"]);
    assert!(matches!(
        index.search(&SearchQuery {
            city: Some("5x".into()),
            ..SearchQuery::default()
        }),
        Err(SearchError::InvalidParameter { name: "city", .. })
    ));

    let level = |l: &str| filtered(&index, |q| q.level = Some(l.to_owned()));
    assert_eq!(level("junior-college"), ["jinjiang"]);
    assert_eq!(
        level("bachelor"),
        ["jinjiang", "today", "yuzhong"],
        "a bachelor may apply for jobs asking for 专科 or 本科"
    );
    assert_eq!(level("master").len(), 4);
    assert_eq!(level("doctor").len(), 5);

    let band = |b: SalaryBand| filtered(&index, |q| q.salary_band = Some(b));
    assert_eq!(band(SalaryBand::From20k), ["wuhou"]);
    assert_eq!(band(SalaryBand::Below5k), ["yuzhong"]);
    assert_eq!(band(SalaryBand::From5kTo8k).len(), 3);

    let kind = |t: &str| filtered(&index, |q| q.employer_type = Some(t.to_owned()));
    assert_eq!(kind("soe"), ["jinjiang"]);
    assert_eq!(kind("private").len(), 4);

    let major = |m: &str| filtered(&index, |q| q.major = Some(m.to_owned()));
    // Jobs open to any major count too.
    assert_eq!(major("会计学"), ["jinjiang", "mianyang", "today", "wuhou"]);
    assert_eq!(major("金融学"), ["jinjiang", "today", "wuhou", "yuzhong"]);

    // Expired jobs are never returned; a deadline of exactly now still is.
    let all = filtered(&index, |_| {});
    assert!(!all.contains(&"expired".to_owned()));
    assert!(all.contains(&"today".to_owned()));
    let later = filtered(&index, |q| q.now_ms = NOW_MS + 31 * DAY_MS);
    assert!(later.is_empty());

    // Filters combine with text.
    let combined = filtered(&index, |q| {
        q.text = "会计".into();
        q.city = Some("51".into());
        q.level = Some("bachelor".into());
    });
    assert_eq!(combined, ["jinjiang", "today"]);
}

#[test]
fn browse_by_recency_and_paging() {
    let docs: Vec<JobDoc> = (0..30)
        .map(|i| {
            let mut d = doc(&format!("k{i:02}"), "会计", "账务。", "500105");
            d.published_ms = NOW_MS - i * 1000;
            d
        })
        .collect();
    let index = index_of(&docs);
    let page = |offset, limit| {
        index
            .search(&SearchQuery {
                offset,
                limit,
                now_ms: NOW_MS,
                ..SearchQuery::default()
            })
            .unwrap()
    };
    let first = page(0, 10);
    assert_eq!(first.total, 30);
    assert_eq!(keys(&first)[..3], ["k00", "k01", "k02"]);
    let second = page(10, 10);
    assert_eq!(keys(&second)[0], "k10");
    let none = page(0, 0);
    assert!(none.hits.is_empty());
    assert_eq!(none.total, 30);
    assert_eq!(page(25, 10).hits.len(), 5);
    // Equal scores are ordered newest first.
    let ranked = search(&index, "会计");
    let published: Vec<&str> = keys(&ranked);
    assert_eq!(published[..3], ["k00", "k01", "k02"]);
    assert!(matches!(
        index.search(&SearchQuery {
            offset: 1_000_000,
            ..SearchQuery::default()
        }),
        Err(SearchError::InvalidParameter { name: "offset", .. })
    ));
}

#[test]
fn snippets_are_plain_text_with_valid_ranges() {
    let description = "<script>alert(1)</script>公司简介：我们是一家大型企业。岗位职责：负责Java后端开发，参与系统设计与维护，编写技术文档。任职要求：本科及以上学历，熟悉Spring Boot和MySQL，有良好的沟通能力。福利待遇：五险一金、带薪年假。";
    let index = index_of(&[doc("a", "后端工程师", description, "500105")]);
    let result = search(&index, "Java 开发");
    let hit = &result.hits[0];
    assert!(!hit.snippet.is_empty() && description.contains(&hit.snippet));
    assert!(!hit.highlights.is_empty());
    for &(from, to) in &hit.highlights {
        let marked = &hit.snippet[from..to];
        assert!(["Java", "开发"].contains(&marked), "{marked}");
    }
    // Without text: the beginning, unmarked.
    let browse = index
        .search(&SearchQuery {
            now_ms: NOW_MS,
            ..SearchQuery::default()
        })
        .unwrap();
    assert!(browse.hits[0].snippet.starts_with("<script>"));
    assert!(browse.hits[0].highlights.is_empty());
}

#[test]
fn upsert_replaces_and_remove_deletes() {
    let index = JobIndex::in_memory().unwrap();
    index
        .upsert(&[
            doc("a", "会计", "x", "500105"),
            doc("b", "出纳", "x", "500105"),
        ])
        .unwrap();
    index.upsert(&[doc("a", "审计", "x", "500105")]).unwrap();
    assert_eq!(index.len(), 2);
    assert!(search(&index, "会计").hits.is_empty());
    assert_eq!(keys(&search(&index, "审计")), ["a"]);
    // The same key twice in one batch: the last one wins.
    index
        .upsert(&[
            doc("c", "出纳", "x", "500105"),
            doc("c", "会计", "x", "500105"),
        ])
        .unwrap();
    assert_eq!(index.len(), 3);
    assert_eq!(keys(&search(&index, "会计")), ["c"]);
    index.remove(&["a".to_owned(), "nope".to_owned()]).unwrap();
    assert_eq!(index.len(), 2);
    assert!(search(&index, "审计").hits.is_empty());
    // An invalid document changes nothing.
    let mut bad = doc("d", "会计", "x", "500105");
    bad.level = "phd".into();
    assert!(matches!(
        index.upsert(&[doc("e", "会计", "x", "500105"), bad]),
        Err(SearchError::InvalidDoc { .. })
    ));
    assert_eq!(index.len(), 2);
    let mut bad = doc("d", "会计", "x", "5001");
    bad.city = "5001".into();
    assert!(index.upsert(&[bad]).is_err());
}

#[test]
fn rebuild_replaces_everything_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs");
    let index = JobIndex::open(&path).unwrap();
    assert!(index.needs_rebuild());
    index.upsert(&[doc("old", "会计", "x", "500105")]).unwrap();
    let seen = std::cell::Cell::new(0);
    let progress = |n: u64| seen.set(n);
    let count = index
        .rebuild(synthetic(3, 25_000), Some(&progress))
        .unwrap();
    assert_eq!(count, 25_000);
    assert_eq!(seen.get(), 25_000);
    assert_eq!(index.len(), 25_000);
    assert!(!index.needs_rebuild());
    assert!(search(&index, "会计").hits.iter().all(|h| h.key != "old"));
    let before = search(&index, "小学语文教师");
    assert!(before.total > 0);
    drop(index);

    let index = JobIndex::open(&path).unwrap();
    assert!(!index.needs_rebuild());
    assert_eq!(index.len(), 25_000);
    assert_eq!(search(&index, "小学语文教师"), before);
    // A failed rebuild keeps the old contents.
    let mut bad = doc("bad", "x", "x", "500105");
    bad.employer_type = "?".into();
    let docs = synthetic(4, 100).chain(std::iter::once(bad));
    assert!(index.rebuild(docs, None).is_err());
    assert_eq!(index.len(), 25_000);
    drop(index);

    // Another schema version: wiped, to be rebuilt.
    std::fs::write(path.join("chuanyu-search.version"), "chuanyu-search jobs 0").unwrap();
    let index = JobIndex::open(&path).unwrap();
    assert!(index.needs_rebuild());
    assert_eq!(index.len(), 0);
    assert_eq!(
        std::fs::read_to_string(path.join("chuanyu-search.version")).unwrap(),
        SCHEMA_VERSION
    );
    drop(index);

    // A directory with other files is not ours to wipe.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "keep me").unwrap();
    assert!(matches!(
        JobIndex::open(&other),
        Err(SearchError::NotAnIndex(_))
    ));
    assert!(other.join("notes.txt").exists());
}

/// Facet counts computed by brute force over the matching documents.
fn brute_facets(docs: &[&JobDoc]) -> Facets {
    let mut city: BTreeMap<String, u64> = BTreeMap::new();
    let mut level: HashMap<String, u64> = HashMap::new();
    let mut band: HashMap<String, u64> = HashMap::new();
    let mut kind: HashMap<String, u64> = HashMap::new();
    let mut major: HashMap<String, u64> = HashMap::new();
    for d in docs {
        *city.entry(d.city[..4].to_owned()).or_default() += 1;
        *level.entry(d.level.clone()).or_default() += 1;
        *band
            .entry(SalaryBand::of(d.salary_min, d.salary_max).slug().to_owned())
            .or_default() += 1;
        *kind.entry(d.employer_type.clone()).or_default() += 1;
        let majors: HashSet<&String> = d.majors.iter().collect();
        if majors.is_empty() {
            *major.entry("不限".to_owned()).or_default() += 1;
        }
        for m in majors {
            *major.entry(m.clone()).or_default() += 1;
        }
    }
    let by_count = |m: HashMap<String, u64>| {
        let mut v: Vec<(String, u64)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    };
    let mut major = by_count(major);
    major.truncate(20);
    Facets {
        city: by_count(city.into_iter().collect()),
        level: Level::ALL
            .iter()
            .filter_map(|l| level.get(l.as_str()).map(|n| (l.as_str().to_owned(), *n)))
            .collect(),
        salary_band: SalaryBand::ALL
            .iter()
            .filter_map(|b| band.get(b.slug()).map(|n| (b.slug().to_owned(), *n)))
            .collect(),
        employer_type: by_count(kind),
        major,
    }
}

#[test]
fn facets_count_every_match() {
    let docs: Vec<JobDoc> = synthetic(11, 3000).collect();
    let by_key: HashMap<&str, &JobDoc> = docs.iter().map(|d| (d.key.as_str(), d)).collect();
    let index = JobIndex::in_memory().unwrap();
    index.rebuild(docs.iter().cloned(), None).unwrap();
    let queries = [
        SearchQuery::text("", NOW_MS),
        SearchQuery::text("工程师", NOW_MS),
        SearchQuery::text("教师", NOW_MS),
        SearchQuery {
            city: Some("51".into()),
            level: Some("bachelor".into()),
            ..SearchQuery::text("", NOW_MS)
        },
        SearchQuery {
            city: Some("5001".into()),
            salary_band: Some(SalaryBand::From8kTo12k),
            ..SearchQuery::text("开发", NOW_MS)
        },
        SearchQuery {
            employer_type: Some("institution".into()),
            ..SearchQuery::text("护士 护理", NOW_MS)
        },
    ];
    for q in queries {
        let mut matched: Vec<&JobDoc> = Vec::new();
        let mut offset = 0;
        let first = loop {
            let page = index
                .search(&SearchQuery {
                    offset,
                    limit: 100,
                    ..q.clone()
                })
                .unwrap();
            matched.extend(page.hits.iter().map(|h| by_key[h.key.as_str()]));
            offset += 100;
            if offset >= page.total {
                break page;
            }
        };
        assert!(first.total > 0, "{q:?}");
        assert_eq!(matched.len(), first.total, "{q:?}");
        let distinct: HashSet<&str> = matched.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(distinct.len(), matched.len(), "pages do not overlap");
        assert!(matched.iter().all(|d| d.deadline_ms >= NOW_MS));
        assert_eq!(first.facets, brute_facets(&matched), "{q:?}");
    }
    // Browsing counts exactly the unexpired jobs.
    let all = index.search(&SearchQuery::text("", NOW_MS)).unwrap();
    let live = docs.iter().filter(|d| d.deadline_ms >= NOW_MS).count();
    assert_eq!(all.total, live);
}

#[test]
fn typical_queries_find_relevant_jobs() {
    let docs: Vec<JobDoc> = synthetic(5, 20_000).collect();
    let index = JobIndex::in_memory().unwrap();
    index.rebuild(docs.into_iter(), None).unwrap();
    let top = |text: &str| {
        let result = index
            .search(&SearchQuery {
                limit: 10,
                ..SearchQuery::text(text, NOW_MS)
            })
            .unwrap();
        assert!(result.total > 0 && !result.relaxed, "{text}");
        result.hits
    };
    for hit in top("重庆 Java 开发") {
        assert!(
            hit.city.starts_with("50") && hit.title.contains("Java"),
            "{hit:?}"
        );
    }
    for hit in top("成都 护理") {
        assert!(hit.city.starts_with("5101"), "{hit:?}");
    }
    for hit in top("小学语文教师") {
        assert!(hit.title.contains("小学语文教师"), "{hit:?}");
    }
    for hit in top("数据分析 实习") {
        assert!(
            hit.title.contains("数据分析") && hit.title.contains("实习"),
            "{hit:?}"
        );
    }
    for hit in top("蓉城 会计") {
        assert!(hit.city.starts_with("5101"), "{hit:?}");
    }
}

const HOSTILE: &[&str] = &[
    "",
    " ",
    "\"",
    "\"\"",
    ":",
    "title:会计",
    "(",
    ")",
    "((会计",
    "^",
    "会计^2",
    "~",
    "会计~2",
    "*",
    "会*",
    "+",
    "-",
    "+会计 -出纳",
    "[",
    "]",
    "[a TO z]",
    "{",
    "}",
    "{* TO *}",
    "\\",
    "\\\\\\",
    "AND",
    "OR",
    "NOT",
    "会计 AND OR NOT",
    "，。！？、；：“”‘’（）【】《》",
    "😀🔥👩‍💻",
    "\u{0}\u{1}\u{7f}",
    "\u{200b}\u{feff}",
    "𠀀𪚥",
    "IN [1 2 3]",
    "a:b:c:",
    "/regex.*/",
];

#[test]
fn hostile_query_strings_never_fail() {
    let docs: Vec<JobDoc> = synthetic(9, 500).collect();
    let index = index_of(&docs);
    let long = "重庆 Java 开发 ".repeat(1000);
    assert!(long.len() > 10_000);
    let strange = "的".repeat(4000) + &"(".repeat(4000);
    for text in HOSTILE
        .iter()
        .copied()
        .chain([long.as_str(), strange.as_str()])
    {
        let result = index.search(&SearchQuery::text(text, NOW_MS));
        assert!(result.is_ok(), "{text:?}: {result:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_text_never_fails(text in "\\PC{0,60}", syntax in "[\"():^~*+\\-\\[\\]{}\\\\ 会计软件开发ANDOR]{0,30}") {
        let index = shared_index();
        for t in [text.as_str(), syntax.as_str()] {
            let result = index.search(&SearchQuery::text(t, NOW_MS));
            prop_assert!(result.is_ok(), "{:?}: {:?}", t, result);
        }
    }
}

fn shared_index() -> &'static JobIndex {
    static INDEX: std::sync::OnceLock<JobIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| index_of(&synthetic(2, 300).collect::<Vec<_>>()))
}
