//! `chuanyu check transfers`: compares the nodes' copies of every transfer and the records
//! they moved, and reports each violation of the invariants:
//!
//! - a student active (在读/转入) on more than one node;
//! - a transfer that has ended but leaves its student active on no node;
//! - the two copies of a transfer disagreeing once both have ended (completed on one side,
//!   cancelled on the other);
//! - a completed transfer whose receiving node lacks a history entry the sending node holds.
//!
//! It reads each node's database (the joint office runs it with read access to both, or
//! each province runs it against a restored copy of the other's backup); it prints student
//! numbers only, never other personal data.

use std::collections::{BTreeMap, BTreeSet};

use platform::db::{Db, DbError};
use platform::on_db;
use serde::Serialize;

/// One node as the check sees it.
pub struct Node {
    pub member: String,
    pub db: Db,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Violation {
    pub kind: &'static str,
    pub student_no: String,
    pub transfer_id: Option<String>,
    pub detail: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub transfers: usize,
    pub ended: usize,
    pub open: usize,
    pub students: usize,
    pub violations: Vec<Violation>,
}

#[derive(sqlx::FromRow)]
struct Copy {
    id: String,
    side: String,
    student_no: String,
    state: String,
    from_member: String,
    to_member: String,
}

/// Runs the check over `nodes` (each member once).
pub async fn run(nodes: &[Node]) -> Result<Report, DbError> {
    let mut copies: BTreeMap<String, Vec<(String, Copy)>> = BTreeMap::new();
    for node in nodes {
        let rows: Vec<Copy> = on_db!(&node.db, p => sqlx::query_as(
            "SELECT id, side, student_no, state, from_member, to_member FROM transfers")
            .fetch_all(p).await?);
        for row in rows {
            copies
                .entry(row.id.clone())
                .or_default()
                .push((node.member.clone(), row));
        }
    }
    let mut report = Report {
        transfers: copies.len(),
        ..Report::default()
    };
    let students: BTreeSet<String> = copies
        .values()
        .flat_map(|c| c.iter().map(|(_, r)| r.student_no.clone()))
        .collect();
    report.students = students.len();
    // Per student: status on each node.
    let mut status: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    for no in &students {
        for node in nodes {
            if let Some(s) = registry::transfer::status_of(&node.db, no).await? {
                status.entry(no).or_default().push((node.member.clone(), s));
            }
        }
    }
    let final_state = |s: &str| ["completed", "rejected", "cancelled"].contains(&s);
    let mut open_students = BTreeSet::new();
    for (id, sides) in &copies {
        // Ended only when every copy has ended and the sending side (if it has a copy)
        // agrees; a copy only on the receiving node ends on its own.
        let ended = sides.iter().all(|(_, c)| final_state(&c.state));
        if ended {
            report.ended += 1;
        } else {
            report.open += 1;
            open_students.insert(sides[0].1.student_no.clone());
        }
        let receiving = sides.iter().find(|(_, c)| c.side == "receiving");
        let sending = sides.iter().find(|(_, c)| c.side == "sending");
        if let (Some((_, r)), Some((_, s))) = (receiving, sending)
            && ended
            && (r.state == "completed") != (s.state == "completed")
        {
            report.violations.push(Violation {
                kind: "copies-disagree",
                student_no: r.student_no.clone(),
                transfer_id: Some(id.clone()),
                detail: format!(
                    "{} 为 {}，{} 为 {}",
                    r.to_member, r.state, s.from_member, s.state
                ),
            });
        }
        if let (Some((rm, r)), Some((sm, _))) = (receiving, sending)
            && r.state == "completed"
        {
            let (Some(rn), Some(sn)) = (
                nodes.iter().find(|n| &n.member == rm),
                nodes.iter().find(|n| &n.member == sm),
            ) else {
                continue;
            };
            let (held, _) =
                registry::transfer::history_origins(&rn.db, &r.student_no, &rn.member, id).await?;
            let held: BTreeSet<String> = held.into_iter().map(|(o, _)| o).collect();
            let (sent, lock) =
                registry::transfer::history_origins(&sn.db, &r.student_no, &sn.member, id).await?;
            // Every entry the sending node held when it locked the record (the lock entry
            // included) must have arrived; entries written after it (the 转出 itself,
            // later transfers) did not travel with this file.
            let cut = lock.unwrap_or(i64::MAX);
            let missing: Vec<&String> = sent
                .iter()
                .filter(|(origin, local)| *local <= cut && !held.contains(origin))
                .map(|(o, _)| o)
                .collect();
            if !missing.is_empty() {
                report.violations.push(Violation {
                    kind: "history-lost",
                    student_no: r.student_no.clone(),
                    transfer_id: Some(id.clone()),
                    detail: format!("转入方缺少 {} 条异动记录", missing.len()),
                });
            }
        }
    }
    for no in &students {
        let active: Vec<&String> = status
            .get(no.as_str())
            .map(|v| {
                v.iter()
                    .filter(|(_, s)| registry::ACTIVE.contains(&s.as_str()))
                    .map(|(m, _)| m)
                    .collect()
            })
            .unwrap_or_default();
        if active.len() > 1 {
            report.violations.push(Violation {
                kind: "active-twice",
                student_no: no.clone(),
                transfer_id: None,
                detail: format!("同时在 {} 在籍", join(&active)),
            });
        }
        if active.is_empty() && !open_students.contains(no) {
            let here: Vec<String> = status
                .get(no.as_str())
                .map(|v| v.iter().map(|(m, s)| format!("{m}:{s}")).collect())
                .unwrap_or_default();
            // Only a student who was active when their transfers began is owed an active
            // record; one who graduated meanwhile is not.
            if here.iter().any(|h| h.ends_with("转出中")) {
                report.violations.push(Violation {
                    kind: "active-nowhere",
                    student_no: no.clone(),
                    transfer_id: None,
                    detail: format!("转学已办结，但学籍无在籍节点（{}）", here.join("，")),
                });
            }
        }
    }
    Ok(report)
}

fn join(members: &[&String]) -> String {
    members
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join("、")
}
