//! Index build rate and query latency over synthetic jobs, against a bare tantivy reference.
//!
//! `cargo bench -p search --bench search`; environment: `BENCH_JOBS` (default 1,000,000,
//! half per province), `BENCH_THREADS` (2), `BENCH_SECONDS` (20, per run: ours, then the
//! reference). The reference runs the same query texts as a plain tantivy `QueryParser`
//! query (jieba words, OR) over title and description with `TopDocs` top-10: no filters, no
//! facets, no stored fields; an empty text is `AllQuery`.
//!
//! For profiling: `BENCH_INDEX_DIR` keeps the index in that directory and reuses it when it
//! already holds `BENCH_JOBS` jobs; `BENCH_QUERY` runs only the queries whose text is that;
//! `BENCH_REFERENCE=0` skips the reference run.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::NOW_MS;
use search::{JobIndex, SalaryBand, SearchQuery};
use tantivy::collector::TopDocs;
use tantivy::query::{AllQuery, Query, QueryParser};
use tantivy::tokenizer::{LowerCaser, TextAnalyzer, TokenStream, TokenizerManager};
use tantivy_jieba::JiebaTokenizer;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn q(text: &str) -> SearchQuery {
    SearchQuery {
        limit: 10,
        ..SearchQuery::text(text, NOW_MS)
    }
}

fn with(text: &str, edit: impl FnOnce(&mut SearchQuery)) -> SearchQuery {
    let mut query = q(text);
    edit(&mut query);
    query
}

fn queries() -> Vec<SearchQuery> {
    let s = |v: &str| Some(v.to_owned());
    let mut all: Vec<SearchQuery> = [
        // The brief's examples and common searches.
        "重庆 Java 开发",
        "成都 护理",
        "小学语文教师",
        "数据分析 实习",
        "Java开发工程师",
        "Python",
        "护士",
        "会计",
        "产品经理",
        "初中数学教师",
        "临床医师",
        "软件测试",
        "机械设计",
        "数控操作工",
        "电商运营 直播",
        "幼儿教师 学前教育",
        "财务 审计",
        "物流 仓库管理员",
        // Nicknames and places.
        "蓉城 会计",
        "山城 前端开发",
        "绵阳 电子工程师",
        "宜宾 酒都",
        "渝北区 Java",
        "导游 九寨沟",
        // The long tail.
        "Kubernetes",
        "康复治疗师",
        "中欧班列",
        "火锅店店长",
        "川菜厨师",
        "算法工程师 博士",
        "造价工程师 广联达",
        "无人机植保",
        "锂电池研发",
        "水电站",
        "乡村振兴",
        "Rust 开发",
        "公务员",
        // Very common words.
        "工程师",
        "教师",
        "负责",
        "五险一金 双休",
    ]
    .into_iter()
    .map(q)
    .collect();
    all.extend([
        // Browsing with filters.
        with("", |q| {
            q.city = s("5101");
            q.level = s("bachelor");
        }),
        with("", |q| {
            q.city = s("50");
            q.salary_band = Some(SalaryBand::From8kTo12k);
        }),
        with("", |q| {
            q.employer_type = s("institution");
            q.city = s("51");
        }),
        with("", |q| {
            q.major = s("计算机科学与技术");
            q.level = s("master");
        }),
        with("", |_| {}),
        // Text with filters.
        with("工程师", |q| q.city = s("5101")),
        with("教师", |q| {
            q.level = s("bachelor");
            q.employer_type = s("institution");
        }),
        with("开发", |q| q.salary_band = Some(SalaryBand::From12kTo20k)),
        with("护士", |q| {
            q.city = s("50");
            q.level = s("junior-college");
        }),
        with("会计", |q| q.major = s("会计学")),
        with("销售", |q| q.offset = 100),
    ]);
    all
}

/// The reference query: jieba's words, joined by spaces for tantivy's query parser.
struct Reference {
    parser: QueryParser,
    precise: TextAnalyzer,
}

impl Reference {
    fn new(index: &JobIndex) -> Reference {
        let tantivy = index.tantivy_index();
        let schema = tantivy.schema();
        let fields = ["title", "description"].map(|f| schema.get_field(f).unwrap());
        let precise = TextAnalyzer::builder(JiebaTokenizer::with_search_mode(false))
            .filter(LowerCaser)
            .build();
        // The parser analyses each word with jieba's precise mode, so a word gives one term
        // and no phrase (the fields have no positions).
        let manager = TokenizerManager::default();
        manager.register("jieba_search", precise.clone());
        let parser = QueryParser::new(schema, fields.to_vec(), manager);
        Reference { parser, precise }
    }

    fn query(&self, text: &str) -> Box<dyn Query> {
        let mut words = Vec::new();
        let mut analyzer = self.precise.clone();
        let mut stream = analyzer.token_stream(text);
        while let Some(token) = stream.next() {
            if token.text.chars().any(char::is_alphanumeric) {
                words.push(token.text.clone());
            }
        }
        if words.is_empty() {
            return Box::new(AllQuery);
        }
        self.parser.parse_query_lenient(&words.join(" ")).0
    }
}

struct Run {
    queries: u64,
    seconds: f64,
    latencies: Vec<Duration>,
}

impl Run {
    fn qps(&self) -> f64 {
        self.queries as f64 / self.seconds
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies.len() - 1) as f64 * p).round() as usize;
        self.latencies[i].as_secs_f64() * 1000.0
    }
}

/// Runs `work(i)` for query numbers i from `threads` threads for `seconds`.
fn run(threads: u64, seconds: u64, count: usize, work: &(dyn Fn(usize) + Sync)) -> Run {
    let next = AtomicU64::new(0);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut latencies: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    while Instant::now() < deadline {
                        let i = next.fetch_add(1, Ordering::Relaxed) as usize % count;
                        let t = Instant::now();
                        work(i);
                        mine.push(t.elapsed());
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("bench thread"))
            .collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    Run {
        queries: latencies.len() as u64,
        seconds,
        latencies,
    }
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    // `cargo bench` passes "--bench"; nothing else is expected.
    let jobs = env_or("BENCH_JOBS", 1_000_000);
    let threads = env_or("BENCH_THREADS", 2).max(1);
    let seconds = env_or("BENCH_SECONDS", 20);
    let tmp = tempfile::tempdir().expect("temporary directory");
    let dir = match std::env::var_os("BENCH_INDEX_DIR") {
        Some(dir) => dir.into(),
        None => tmp.path().join("jobs"),
    };
    let index = JobIndex::open(&dir).expect("open index");

    let (built, build_rate) = if !index.needs_rebuild() && index.len() == jobs {
        println!("reusing the index of {jobs} jobs in {}", dir.display());
        (jobs, 0.0)
    } else {
        println!("building an index of {jobs} jobs in {}", dir.display());
        let start = Instant::now();
        let progress = |n: u64| {
            if n.is_multiple_of(100_000) && n < jobs {
                eprintln!("  {n} jobs, {:.1} s", start.elapsed().as_secs_f64());
            }
        };
        let built = index
            .rebuild(common::synthetic(2026, jobs), Some(&progress))
            .expect("rebuild");
        let build_seconds = start.elapsed().as_secs_f64();
        println!("build: {built} jobs in {build_seconds:.1} s");
        (built, built as f64 / build_seconds)
    };
    let index_mb = dir_size(&dir) as f64 / 1e6;
    let segments = index.searcher().segment_readers().len();
    println!("build: {build_rate:.0} docs/s; index {index_mb:.0} MB in {segments} segments");

    let mut queries = queries();
    if let Ok(only) = std::env::var("BENCH_QUERY") {
        queries.retain(|q| q.text == only);
    }
    let reference = Reference::new(&index);
    let ref_queries: Vec<Box<dyn Query>> =
        queries.iter().map(|q| reference.query(&q.text)).collect();
    // Warm up both, and show what each query finds.
    println!("{:<28} {:>8} {:>7} {:>9}", "query", "total", "ms", "ref ms");
    for (q, rq) in queries.iter().zip(&ref_queries) {
        let t = Instant::now();
        let result = index.search(q).expect("search");
        let ours = t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        index
            .searcher()
            .search(&**rq, &TopDocs::with_limit(10).order_by_score())
            .expect("reference search");
        let theirs = t.elapsed().as_secs_f64() * 1000.0;
        let mut label = q.text.clone();
        for (name, value) in [
            ("city", &q.city),
            ("level", &q.level),
            ("major", &q.major),
            ("type", &q.employer_type),
        ] {
            if let Some(v) = value {
                label.push_str(&format!(" {name}={v}"));
            }
        }
        if let Some(b) = q.salary_band {
            label.push_str(&format!(" band={}", b.slug()));
        }
        if q.offset > 0 {
            label.push_str(&format!(" offset={}", q.offset));
        }
        let relaxed = if result.relaxed { " (any word)" } else { "" };
        println!(
            "{:<28} {:>8} {:>7.2} {:>9.2}{relaxed}",
            label, result.total, ours, theirs
        );
    }

    println!("running our queries: {threads} threads, {seconds} s");
    let ours = run(threads, seconds, queries.len(), &|i| {
        let result = index.search(&queries[i]).expect("search");
        std::hint::black_box(result);
    });
    // BENCH_REFERENCE=0 skips the reference run (for profiling our side alone).
    let ref_seconds = if env_or("BENCH_REFERENCE", 1) == 0 {
        0
    } else {
        seconds
    };
    println!("running the reference: {threads} threads, {ref_seconds} s");
    let theirs = run(threads, ref_seconds, queries.len(), &|i| {
        let top = index
            .searcher()
            .search(&*ref_queries[i], &TopDocs::with_limit(10).order_by_score())
            .expect("reference search");
        std::hint::black_box(top);
    });

    for (name, r) in [("ours", &ours), ("reference", &theirs)] {
        println!(
            "{name:<10} {:>8} queries {:>8.1} q/s  p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
            r.queries,
            r.qps(),
            r.percentile_ms(0.5),
            r.percentile_ms(0.9),
            r.percentile_ms(0.99),
            r.percentile_ms(1.0),
        );
    }
    let qps_ratio = ours.qps() / theirs.qps();
    let p99_ratio = ours.percentile_ms(0.99) / theirs.percentile_ms(0.99);
    println!(
        "RESULT jobs={built} build_docs_per_s={build_rate:.0} index_mb={index_mb:.0} qps={:.1} p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} max_ms={:.2} ref_qps={:.1} ref_p50_ms={:.2} ref_p99_ms={:.2} ratio_qps={qps_ratio:.3} ratio_p99={p99_ratio:.3}",
        ours.qps(),
        ours.percentile_ms(0.5),
        ours.percentile_ms(0.9),
        ours.percentile_ms(0.99),
        ours.percentile_ms(1.0),
        theirs.qps(),
        theirs.percentile_ms(0.5),
        theirs.percentile_ms(0.99),
    );
}
