//! What a graduate is offered without searching: recommendations from their record and
//! profile (their major — jobs asking for it or for any major —, their level and their
//! preferred places), and saved searches whose new matches
//! are counted since they last looked (the notification 我的求职 shows).

use exchange::Federation;
use kernel::access::{Principal, Scope};
use platform::{Db, on_db};
use serde::{Deserialize, Serialize};

use crate::graduates;
use crate::index::JobSearch;
use crate::service::{FederatedResult, JobQuery, search_everywhere};
use crate::{EmploymentError, Problem};

/// The prefecture-level prefixes (4 digits) of the places a graduate typed ("成都、重庆",
/// "510100", "渝中区"), as far as the division table knows them; 重庆 is its province.
pub fn city_prefixes(typed: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in typed
        .split(['、', ',', '，', ';', '；', ' ', '\u{3000}'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        let code = kernel::ids::normalize_code(word);
        let found = if code.len() >= 2 && code.bytes().all(|b| b.is_ascii_digit()) {
            Some(code[..code.len().min(4)].to_owned())
        } else {
            let name = word.trim_end_matches(['市', '省']);
            kernel::division::all()
                .iter()
                .find(|d| {
                    d.name.trim_end_matches(['市', '省', '区', '县'])
                        == name.trim_end_matches(['区', '县'])
                })
                .map(|d| {
                    if d.code.starts_with("50") {
                        "50".to_owned()
                    } else {
                        d.code[..4].to_owned()
                    }
                })
        };
        if let Some(p) = found.filter(|p| !out.contains(p)) {
            out.push(p);
        }
    }
    out
}

/// Jobs for the signed-in graduate: for their major and level, in each preferred place (or
/// anywhere), newest first.
pub async fn recommendations(
    db: &Db,
    index: &JobSearch,
    federation: Option<&Federation>,
    here: &str,
    who: &Principal,
) -> Result<FederatedResult, EmploymentError> {
    let g = graduates::of_person(db, who)
        .await?
        .ok_or(EmploymentError::NotFound)?;
    let profile = graduates::profile(db, &g.citizen_id).await?;
    let base = JobQuery {
        q: String::new(),
        major: Some(g.major.clone()),
        level: Some(g.level.clone()),
        limit: Some(10),
        ..JobQuery::default()
    };
    let places = city_prefixes(&profile.preferred_cities);
    let queries: Vec<JobQuery> = if places.is_empty() {
        vec![base]
    } else {
        places
            .into_iter()
            .map(|c| JobQuery {
                city: Some(c),
                ..base.clone()
            })
            .collect()
    };
    let mut merged: Option<FederatedResult> = None;
    for q in queries {
        let found = search_everywhere(index, federation, here, &q).await?;
        merged = Some(match merged {
            None => found,
            Some(mut m) => {
                m.total += found.total;
                m.results.extend(found.results);
                for u in found.unanswered {
                    if !m.unanswered.iter().any(|x| x.member == u.member) {
                        m.unanswered.push(u);
                    }
                }
                m
            }
        });
    }
    let mut out = merged.unwrap_or_else(|| FederatedResult {
        total: 0,
        results: Vec::new(),
        facets: Default::default(),
        unanswered: Vec::new(),
        relaxed: false,
    });
    out.results
        .sort_by_key(|h| std::cmp::Reverse(h.hit.published_ms));
    out.results.truncate(10);
    Ok(out)
}

/// A saved search and how many of its matches are new since it was last looked at.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SavedSearch {
    pub id: String,
    pub name: String,
    #[schema(value_type = Object)]
    pub query: JobQuery,
    pub seen_ms: i64,
    /// Matches published after `seen_ms` (filled in by [`with_news`]).
    #[serde(default)]
    pub new_matches: usize,
}

fn owner(who: &Principal) -> Result<&str, EmploymentError> {
    match &who.scope {
        Scope::Person(key) => Ok(key),
        _ => Err(EmploymentError::NotAllowed),
    }
}

const MAX_SAVED: i64 = 20;

/// Saves a search for the signed-in person (at most 20).
pub async fn save(
    db: &Db,
    who: &Principal,
    name: &str,
    query: &JobQuery,
) -> Result<String, EmploymentError> {
    let owner = owner(who)?;
    let query = query.normalized()?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(EmploymentError::Invalid(vec![Problem::new(
            "name",
            "field.length",
            "请为订阅起一个 1–40 字的名称。",
        )]));
    }
    let (n,): (i64,) = on_db!(db, p => sqlx::query_as("SELECT COUNT(*) FROM saved_searches WHERE owner = $1")
        .bind(owner).fetch_one(p).await?);
    if n >= MAX_SAVED {
        return Err(EmploymentError::State(format!(
            "最多保存 {MAX_SAVED} 个订阅，请先删除不用的。"
        )));
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let now = platform::now_ms();
    on_db!(db, p => sqlx::query(
        "INSERT INTO saved_searches (id, owner, name, query, seen_ms, created_ms) VALUES ($1, $2, $3, $4, $5, $5)")
        .bind(&id).bind(owner).bind(name).bind(serde_json::to_string(&query).unwrap_or_default()).bind(now)
        .execute(p).await?.rows_affected());
    Ok(id)
}

/// The signed-in person's saved searches, oldest first.
pub async fn list(db: &Db, who: &Principal) -> Result<Vec<SavedSearch>, EmploymentError> {
    let owner = owner(who)?;
    let rows: Vec<(String, String, String, i64)> = on_db!(db, p => sqlx::query_as(
        "SELECT id, name, query, seen_ms FROM saved_searches WHERE owner = $1 ORDER BY created_ms")
        .bind(owner).fetch_all(p).await?);
    Ok(rows
        .into_iter()
        .map(|(id, name, query, seen_ms)| SavedSearch {
            id,
            name,
            query: serde_json::from_str(&query).unwrap_or_default(),
            seen_ms,
            new_matches: 0,
        })
        .collect())
}

/// Counts each saved search's matches published since it was last seen (on every node).
pub async fn with_news(
    index: &JobSearch,
    federation: Option<&Federation>,
    here: &str,
    mut saved: Vec<SavedSearch>,
) -> Result<Vec<SavedSearch>, EmploymentError> {
    for s in &mut saved {
        let q = JobQuery {
            offset: Some(0),
            limit: Some(50),
            ..s.query.clone()
        };
        let found = search_everywhere(index, federation, here, &q).await?;
        s.new_matches = found
            .results
            .iter()
            .filter(|h| h.hit.published_ms > s.seen_ms)
            .count();
    }
    Ok(saved)
}

/// Marks a saved search as seen now (its matches so far are no longer new), or deletes it.
pub async fn touch(
    db: &Db,
    who: &Principal,
    id: &str,
    delete: bool,
) -> Result<(), EmploymentError> {
    let owner = owner(who)?;
    let changed = if delete {
        on_db!(db, p => sqlx::query("DELETE FROM saved_searches WHERE id = $1 AND owner = $2")
            .bind(id).bind(owner).execute(p).await?.rows_affected())
    } else {
        on_db!(db, p => sqlx::query("UPDATE saved_searches SET seen_ms = $3 WHERE id = $1 AND owner = $2")
            .bind(id).bind(owner).bind(platform::now_ms()).execute(p).await?.rows_affected())
    };
    if changed == 1 {
        Ok(())
    } else {
        Err(EmploymentError::NotFound)
    }
}
