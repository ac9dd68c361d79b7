//! Jobs across the federation: `jobs.search` (a query → this node's ranked hits and facet
//! counts) and `jobs.get` (one published job), both under the purpose `employment`. They
//! carry no personal data: jobs are public.
//!
//! Merging: each node ranks its own jobs (BM25 over its own index) and the asking node
//! merges the lists by score, then by publication time. BM25 scores of two indexes are
//! comparable enough for jobs of one region (similar vocabulary and sizes); a hit names the
//! member it came from, and members that did not answer are listed, so "no results" is never
//! mistaken for "no jobs".

use std::sync::Arc;

use exchange::Federation;
use exchange::call::{self, Unanswered};
use exchange::serve::{Answered, Asked, Failed, Service};
use futures_util::future::BoxFuture;
use platform::Db;
use search::{Facets, SalaryBand, SearchQuery};
use serde::{Deserialize, Serialize};

use crate::index::JobSearch;
use crate::jobs::Job;
use crate::{EmploymentError, Level};

pub const JOBS_SEARCH: &str = "jobs.search";
pub const JOBS_GET: &str = "jobs.get";
pub const PURPOSE: &str = "employment";
/// The most results one search returns (a page of it is shown).
pub const MAX_RESULTS: usize = 200;

/// Registers the services on a node's federation.
pub fn register(federation: &Federation, search: JobSearch) {
    federation.serve(JOBS_SEARCH, Arc::new(SearchService(search)));
    federation.serve(JOBS_GET, Arc::new(GetService));
}

/// A job search as the portal, the API and peers send it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
pub struct JobQuery {
    /// Words in Chinese (or English), e.g. 重庆 Java 开发.
    #[serde(default)]
    pub q: String,
    /// A division-code prefix: 51 四川, 5101 成都, 510104 锦江区.
    #[serde(default)]
    pub city: Option<String>,
    /// The searcher's level: jobs asking for no more than it.
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub major: Option<String>,
    /// lt5k, 5k-8k, 8k-12k, 12k-20k, 20k-plus
    #[serde(default)]
    pub salary: Option<String>,
    #[serde(default)]
    pub employer_type: Option<String>,
    #[serde(default)]
    pub offset: Option<usize>,
    #[serde(default)]
    pub limit: Option<usize>,
}

impl JobQuery {
    /// Empty filters dropped and each filter checked, so a peer gets only meaningful ones.
    pub fn normalized(&self) -> Result<JobQuery, EmploymentError> {
        let some = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let city = some(&self.city).map(|c| kernel::ids::normalize_code(&c));
        if let Some(c) = &city
            && (c.len() > 6 || !c.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(EmploymentError::invalid(
                "city",
                "job.city",
                "地区应为行政区划代码的前 2、4 或 6 位。",
            ));
        }
        let level = some(&self.level);
        if level.as_deref().is_some_and(|l| Level::parse(l).is_none()) {
            return Err(EmploymentError::invalid(
                "level",
                "field.choice",
                "学历层次不正确。",
            ));
        }
        let salary = some(&self.salary);
        if salary
            .as_deref()
            .is_some_and(|s| SalaryBand::parse(s).is_none())
        {
            return Err(EmploymentError::invalid(
                "salary",
                "field.choice",
                "薪资区间不正确。",
            ));
        }
        let employer_type = some(&self.employer_type);
        if employer_type
            .as_deref()
            .is_some_and(|t| crate::EmployerType::parse(t).is_none())
        {
            return Err(EmploymentError::invalid(
                "employer_type",
                "field.choice",
                "单位性质不正确。",
            ));
        }
        let q: String = self.q.trim().chars().take(100).collect();
        Ok(JobQuery {
            q,
            city,
            level,
            major: some(&self.major).map(|m| m.chars().take(30).collect()),
            salary,
            employer_type,
            offset: Some(self.offset.unwrap_or(0).min(MAX_RESULTS)),
            limit: Some(self.limit.unwrap_or(20).clamp(1, 50)),
        })
    }

    /// The index query for the first `offset + limit` hits (merging needs them all).
    fn index_query(&self, now_ms: i64) -> SearchQuery {
        SearchQuery {
            text: self.q.clone(),
            city: self.city.clone(),
            level: self.level.clone(),
            major: self.major.clone(),
            salary_band: self.salary.as_deref().and_then(SalaryBand::parse),
            employer_type: self.employer_type.clone(),
            now_ms,
            offset: 0,
            limit: (self.offset.unwrap_or(0) + self.limit.unwrap_or(20)).min(MAX_RESULTS),
        }
    }
}

/// One job found, as the API answers it and peers send it: the index's hit and the member
/// that holds the job.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobHit {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub hit: search::Hit,
    #[serde(default)]
    pub source: String,
}

impl JobHit {
    fn of(hit: search::Hit, source: &str) -> JobHit {
        JobHit {
            hit,
            source: source.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SearchAnswer {
    total: usize,
    hits: Vec<JobHit>,
    facets: Facets,
    /// No job matched every word, so these match some of them.
    #[serde(default)]
    relaxed: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FederatedResult {
    /// Matching open jobs on every member that answered.
    pub total: usize,
    /// Ranked across members; each names its `source`.
    pub results: Vec<JobHit>,
    #[schema(value_type = Object)]
    pub facets: Facets,
    /// Members that were asked and did not answer, with why.
    #[schema(value_type = Vec<Object>)]
    pub unanswered: Vec<Unanswered>,
    /// No member had a job matching every word: these match some of them.
    pub relaxed: bool,
}

struct SearchService(JobSearch);

impl Service for SearchService {
    fn answer<'a>(&'a self, _db: &'a Db, asked: &'a Asked<'a>) -> BoxFuture<'a, Answered> {
        Box::pin(async move {
            let query: JobQuery = serde_json::from_slice(asked.body).map_err(|_| Failed::Body)?;
            let query = query.normalized().map_err(|_| Failed::Body)?;
            let found = self
                .0
                .search(query.index_query(platform::now_ms()))
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, "jobs.search failed");
                    Failed::Body
                })?;
            let answer = SearchAnswer {
                total: found.total,
                hits: found.hits.into_iter().map(|h| JobHit::of(h, "")).collect(),
                facets: found.facets,
                relaxed: found.relaxed,
            };
            Ok((serde_json::to_vec(&answer).unwrap_or_default(), Vec::new()))
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct GetRequest {
    id: String,
}

struct GetService;

impl Service for GetService {
    fn answer<'a>(&'a self, db: &'a Db, asked: &'a Asked<'a>) -> BoxFuture<'a, Answered> {
        Box::pin(async move {
            let req: GetRequest = serde_json::from_slice(asked.body).map_err(|_| Failed::Body)?;
            let job = crate::jobs::get(db, None, &req.id).await.ok();
            Ok((
                serde_json::to_vec(&job.map(PublicJob::from)).unwrap_or_default(),
                Vec::new(),
            ))
        })
    }
}

/// What anyone may see of a published job (no review notes).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicJob {
    pub id: String,
    pub employer: String,
    pub employer_name: String,
    pub employer_type: String,
    pub title: String,
    pub description: String,
    pub city: String,
    pub salary_min: i64,
    pub salary_max: i64,
    pub level: String,
    pub majors: Vec<String>,
    pub headcount: i64,
    pub deadline: String,
    pub contact: String,
    pub published_ms: Option<i64>,
}

impl From<Job> for PublicJob {
    fn from(j: Job) -> Self {
        PublicJob {
            majors: j.majors(),
            id: j.id,
            employer: j.employer,
            employer_name: j.employer_name,
            employer_type: j.employer_type,
            title: j.title,
            description: j.description,
            city: j.city,
            salary_min: j.salary_min,
            salary_max: j.salary_max,
            level: j.level,
            headcount: j.headcount,
            deadline: j.deadline,
            contact: j.contact,
            published_ms: j.published_ms,
        }
    }
}

/// The member a job key names ("CQ-J-…" → "CQ").
pub fn member_of(job_id: &str) -> Option<&str> {
    job_id
        .split_once("-J-")
        .map(|(m, _)| m)
        .filter(|m| !m.is_empty())
}

/// A published job by its key: from this node, or from the member the key names.
pub async fn get_anywhere(
    db: &Db,
    federation: Option<&Federation>,
    here: &str,
    id: &str,
) -> Result<Result<Option<(PublicJob, String)>, exchange::PeerError>, EmploymentError> {
    let member = member_of(id).unwrap_or(here);
    let Some(federation) = federation.filter(|_| member != here) else {
        return Ok(Ok(crate::jobs::get(db, None, id)
            .await
            .ok()
            .map(|j| (PublicJob::from(j), here.to_owned()))));
    };
    let current = match federation.current() {
        Ok(c) => c,
        Err(e) => return Ok(Err(exchange::PeerError::of(&e))),
    };
    if current.directory.member(member).is_none() {
        return Ok(Ok(None));
    }
    let body = serde_json::to_vec(&GetRequest { id: id.to_owned() }).unwrap_or_default();
    let answer = call::ask(federation, &current, member, JOBS_GET, PURPOSE, &body).await;
    Ok(answer.and_then(|bytes| {
        serde_json::from_slice::<Option<PublicJob>>(&bytes)
            .map(|j| j.map(|j| (j, member.to_owned())))
            .map_err(|_| call::unreadable_answer())
    }))
}

/// Searches this node and every peer the directory allows, merged and ranked.
pub async fn search_everywhere(
    index: &JobSearch,
    federation: Option<&Federation>,
    here: &str,
    query: &JobQuery,
) -> Result<FederatedResult, EmploymentError> {
    let query = query.normalized()?;
    let local = async {
        index
            .search(query.index_query(platform::now_ms()))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "job search failed");
                EmploymentError::State("检索暂时不可用，请稍后再试。".into())
            })
    };
    let body = serde_json::to_vec(&query).unwrap_or_default();
    let peers = async {
        match federation {
            Some(f) => call::ask_peers(f, JOBS_SEARCH, PURPOSE, &body).await,
            None => Vec::new(),
        }
    };
    let (local, peers) = futures_util::future::join(local, peers).await;
    let local = local?;
    let mut answers = vec![(
        here.to_owned(),
        SearchAnswer {
            total: local.total,
            hits: local
                .hits
                .into_iter()
                .map(|h| JobHit::of(h, here))
                .collect(),
            facets: local.facets,
            relaxed: local.relaxed,
        },
    )];
    let mut unanswered = Vec::new();
    for (peer, answer) in peers {
        match answer.and_then(|b| {
            serde_json::from_slice::<SearchAnswer>(&b).map_err(|_| call::unreadable_answer())
        }) {
            Ok(a) => answers.push((peer, a)),
            Err(error) => unanswered.push(Unanswered {
                member: peer,
                error,
            }),
        }
    }
    // A member that matched some words only is left out when another matched them all, so
    // a loose match never outranks an exact one.
    let exact = answers.iter().any(|(_, a)| !a.relaxed && a.total > 0);
    let loose = answers.iter().any(|(_, a)| a.relaxed && a.total > 0);
    let mut out = FederatedResult {
        total: 0,
        results: Vec::new(),
        facets: Facets::default(),
        unanswered,
        relaxed: loose && !exact,
    };
    for (member, a) in answers {
        if exact && a.relaxed {
            continue;
        }
        out.total += a.total;
        out.results.extend(a.hits.into_iter().map(|h| JobHit {
            source: member.clone(),
            ..h
        }));
        out.facets = out.facets.merge(a.facets);
    }
    // Equal scores (an empty query ranks by recency on each node): the newest first.
    out.results.sort_by(|a, b| {
        b.hit
            .score
            .total_cmp(&a.hit.score)
            .then(b.hit.published_ms.cmp(&a.hit.published_ms))
    });
    let offset = query.offset.unwrap_or(0);
    let limit = query.limit.unwrap_or(20);
    out.results = out.results.into_iter().skip(offset).take(limit).collect();
    Ok(out)
}
