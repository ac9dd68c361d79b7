//! Employment statistics (就业统计) shared between the provinces: destinations (去向) and
//! the placement rate by institution, major and level, and the flows between provinces
//! (studied in one, works in the other). Only counts leave a node (`employment.stats`);
//! personal rows never do.
//!
//! The placement rate (去向落实率) counts every destination but 待就业, as the Ministry of
//! Education's statistics do.

use std::collections::BTreeMap;
use std::sync::Arc;

use exchange::Federation;
use exchange::call::{self, Unanswered};
use exchange::serve::{Answered, Asked, Failed, Service};
use futures_util::future::BoxFuture;
use kernel::Lang;
use kernel::access::{Principal, Role};
use platform::audit::{AuditEntry, AuditLog};
use platform::{Db, DbError, on_db};
use serde::{Deserialize, Serialize};

use crate::graduates::Destination;
use crate::service::PURPOSE;
use crate::{EmploymentError, Level};

pub const EMPLOYMENT_STATS: &str = "employment.stats";

/// Counts of one group of graduates by destination, in [`Destination::ALL`] order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Group {
    pub key: String,
    pub label: String,
    pub total: u64,
    pub destinations: Vec<u64>,
}

impl Group {
    /// 去向落实率 in percent (0 with no graduates).
    pub fn placement_rate(&self) -> f64 {
        let pending = self.destinations.get(pending_index()).copied().unwrap_or(0);
        if self.total == 0 {
            0.0
        } else {
            (self.total - pending.min(self.total)) as f64 * 100.0 / self.total as f64
        }
    }

    fn add(&mut self, other: &Group) {
        self.total += other.total;
        if self.destinations.len() < other.destinations.len() {
            self.destinations.resize(other.destinations.len(), 0);
        }
        for (a, b) in self.destinations.iter_mut().zip(&other.destinations) {
            *a += b;
        }
    }
}

fn pending_index() -> usize {
    Destination::ALL
        .iter()
        .position(|d| *d == Destination::Pending)
        .unwrap_or(0)
}

/// Graduates who studied in one province and work in another (or the same).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Flow {
    /// Two-digit province code where they studied.
    pub from: String,
    /// Where they work.
    pub to: String,
    pub count: u64,
}

/// One member's statistics, or several merged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Stats {
    /// The members counted.
    pub members: Vec<String>,
    pub total: Group,
    /// By the member whose institutions registered them (one row per member).
    pub by_member: Vec<Group>,
    pub by_institution: Vec<Group>,
    pub by_major: Vec<Group>,
    pub by_level: Vec<Group>,
    pub flows: Vec<Flow>,
}

impl Stats {
    /// Sums another member's statistics into these.
    pub fn merge(mut self, other: Stats) -> Stats {
        fn merge_groups(a: &mut Vec<Group>, b: &[Group]) {
            for g in b {
                match a.iter_mut().find(|x| x.key == g.key) {
                    Some(x) => x.add(g),
                    None => a.push(g.clone()),
                }
            }
            a.sort_by(|x, y| y.total.cmp(&x.total).then_with(|| x.key.cmp(&y.key)));
        }
        self.members.extend(other.members);
        self.total.add(&other.total);
        merge_groups(&mut self.by_member, &other.by_member);
        merge_groups(&mut self.by_institution, &other.by_institution);
        merge_groups(&mut self.by_major, &other.by_major);
        merge_groups(&mut self.by_level, &other.by_level);
        for f in other.flows {
            match self
                .flows
                .iter_mut()
                .find(|x| x.from == f.from && x.to == f.to)
            {
                Some(x) => x.count += f.count,
                None => self.flows.push(f),
            }
        }
        self.flows
            .sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
        self
    }
}

/// (group key, label, destination, count) rows, grouped into [`Group`]s.
fn groups(rows: Vec<(String, String, String, i64)>) -> Vec<Group> {
    let mut by_key: BTreeMap<String, Group> = BTreeMap::new();
    for (key, label, destination, n) in rows {
        let g = by_key.entry(key.clone()).or_insert_with(|| Group {
            key,
            label,
            total: 0,
            destinations: vec![0; Destination::ALL.len()],
        });
        let n = n.max(0) as u64;
        g.total += n;
        if let Some(i) = Destination::ALL
            .iter()
            .position(|d| d.as_str() == destination)
        {
            g.destinations[i] += n;
        }
    }
    let mut out: Vec<Group> = by_key.into_values().collect();
    out.sort_by(|x, y| y.total.cmp(&x.total).then_with(|| x.key.cmp(&y.key)));
    out
}

/// This node's statistics, computed from its graduate records.
pub async fn local(db: &Db, member: &str) -> Result<Stats, DbError> {
    let query = |group: &str, label: &str| {
        format!(
            "SELECT {group}, {label}, g.destination, COUNT(*) FROM graduates g LEFT JOIN orgs o ON o.code = g.institution \
             GROUP BY {group}, {label}, g.destination"
        )
    };
    let run = |sql: String| async move {
        let rows: Vec<(String, String, String, i64)> =
            on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await?);
        Ok::<_, DbError>(rows)
    };
    let by_institution =
        groups(run(query("g.institution", "COALESCE(o.name, g.institution)")).await?);
    let by_major = groups(run(query("g.major", "g.major")).await?);
    let mut by_level = groups(run(query("g.level", "g.level")).await?);
    for g in &mut by_level {
        g.label =
            Level::parse(&g.key).map_or_else(|| g.key.clone(), |l| l.label(Lang::Zh).to_owned());
    }
    let mut total = Group {
        key: member.to_owned(),
        label: member.to_owned(),
        total: 0,
        destinations: vec![0; Destination::ALL.len()],
    };
    for g in &by_level {
        total.add(g);
    }
    let flows: Vec<(String, String, i64)> = on_db!(db, p => sqlx::query_as(
        "SELECT SUBSTR(g.division, 1, 2), SUBSTR(g.destination_division, 1, 2), COUNT(*) FROM graduates g \
         WHERE g.destination = 'employed' AND g.destination_division IS NOT NULL \
         GROUP BY SUBSTR(g.division, 1, 2), SUBSTR(g.destination_division, 1, 2)")
        .fetch_all(p).await?);
    Ok(Stats {
        members: vec![member.to_owned()],
        by_member: vec![total.clone()],
        total,
        by_institution,
        by_major,
        by_level,
        flows: flows
            .into_iter()
            .map(|(from, to, count)| Flow {
                from,
                to,
                count: count.max(0) as u64,
            })
            .collect(),
    })
}

/// Who may see the statistics: the joint office, bureaus and platform administrators.
pub fn may_see(who: &Principal) -> bool {
    matches!(
        who.role,
        Role::JointOffice | Role::Bureau | Role::PlatformAdmin
    )
}

/// The statistics of this node and every peer that answers, merged; the members that did
/// not answer are listed (the totals then cover the others only).
pub async fn everywhere(
    db: &Db,
    audit: &AuditLog,
    federation: Option<&Federation>,
    here: &str,
    who: &Principal,
) -> Result<(Stats, Vec<Unanswered>), EmploymentError> {
    if !may_see(who) {
        return Err(EmploymentError::NotAllowed);
    }
    let mut stats = local(db, here).await?;
    let mut unanswered = Vec::new();
    if let Some(f) = federation {
        for (peer, answer) in call::ask_peers(f, EMPLOYMENT_STATS, PURPOSE, b"{}").await {
            match answer.and_then(|b| {
                serde_json::from_slice::<Stats>(&b).map_err(|_| call::unreadable_answer())
            }) {
                Ok(s) => {
                    stats = stats.merge(Stats {
                        members: vec![peer],
                        ..s
                    })
                }
                Err(error) => unanswered.push(Unanswered {
                    member: peer,
                    error,
                }),
            }
        }
    }
    audit
        .record(
            AuditEntry::new(
                &who.username,
                who.role.as_str(),
                "employment.stats",
                "就业统计",
            )
            .detail(serde_json::json!({ "members": stats.members })),
        )
        .await?;
    Ok((stats, unanswered))
}

struct StatsService(String);

impl Service for StatsService {
    fn answer<'a>(&'a self, db: &'a Db, _asked: &'a Asked<'a>) -> BoxFuture<'a, Answered> {
        Box::pin(async move {
            let stats = local(db, &self.0).await.map_err(Failed::Db)?;
            Ok((serde_json::to_vec(&stats).unwrap_or_default(), Vec::new()))
        })
    }
}

/// Registers `employment.stats` on a node's federation.
pub fn register(federation: &Federation) {
    federation.serve(
        EMPLOYMENT_STATS,
        Arc::new(StatsService(federation.member().to_owned())),
    );
}
