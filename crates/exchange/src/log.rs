//! The message log: both nodes store each exchange's evidence (digests and signatures, no
//! bodies: bodies carry personal data that the records already hold) and append an audit
//! entry committing to it, in one transaction. So the audit chain covers the log, and
//! `chuanyu federation evidence MSGID` can hand a third party something to verify.

use federation::Evidence;
use platform::audit::{AuditEntry, AuditLog, Param, Statement};
use platform::db::{Db, DbError};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Sent,
    Received,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Sent => "sent",
            Direction::Received => "received",
        }
    }
}

/// A request's signature nonce, kept for good by the node that received it.
pub struct Nonce<'a> {
    pub keyid: &'a str,
    pub nonce: &'a str,
    pub created: i64,
}

/// Logs one exchange and appends `accesses` (the reads of personal data it carried) to the
/// audit chain in the same transaction — one of the audit writer's group commits; a
/// receiver also stores the request's nonce there, so a replay that outlived the in-memory
/// check (a restart, another instance) fails here with [`DbError::Duplicate`] and is never
/// answered. Returns the log entry's audit sequence number.
pub async fn record(
    audit: &AuditLog,
    direction: Direction,
    evidence: &Evidence,
    nonce: Option<Nonce<'_>>,
    accesses: Vec<AuditEntry>,
) -> Result<i64, DbError> {
    let text = serde_json::to_string(evidence)
        .map_err(|e| DbError::Sqlx(sqlx::Error::Encode(e.into())))?;
    let digest = hex::encode(Sha256::digest(text.as_bytes()));
    let peer = match direction {
        Direction::Sent => &evidence.callee,
        Direction::Received => &evidence.caller,
    };
    let entry = AuditEntry::new(
        &format!("node:{peer}"),
        "federation",
        &format!("federation.{}", direction.as_str()),
        &evidence.purpose,
    )
    .detail(serde_json::json!({
        "message_id": evidence.message_id,
        "caller": evidence.caller,
        "callee": evidence.callee,
        "service": evidence.service,
        "status": evidence.response.status,
        "evidence_sha256": digest,
    }));
    let mut entries = vec![entry];
    entries.extend(accesses);
    let mut statements = Vec::with_capacity(2);
    if let Some(n) = nonce {
        statements.push(Statement {
            sql: "INSERT INTO federation_nonces (keyid, nonce, created) VALUES ($1, $2, $3)",
            params: vec![
                Param::Text(n.keyid.to_owned()),
                Param::Text(n.nonce.to_owned()),
                Param::Int(n.created),
            ],
        });
    }
    let at_ms = evidence.time.unix_timestamp() * 1000 + i64::from(evidence.time.millisecond());
    statements.push(Statement {
        sql: "INSERT INTO federation_messages \
              (message_id, direction, at_ms, caller, callee, service, purpose, status, evidence, audit_seq) \
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        params: vec![
            Param::Text(evidence.message_id.clone()),
            Param::Text(direction.as_str().to_owned()),
            Param::Int(at_ms),
            Param::Text(evidence.caller.clone()),
            Param::Text(evidence.callee.clone()),
            Param::Text(evidence.service.clone()),
            Param::Text(evidence.purpose.clone()),
            Param::Int(i64::from(evidence.response.status)),
            Param::Text(text),
            // The exchange's own entry, first of the entries.
            Param::SeqOf(0),
        ],
    });
    let seqs = audit.append_with(entries, statements).await?;
    Ok(seqs.first().copied().unwrap_or_default())
}

/// The evidence this node logged for `message_id` (as caller, callee, or both in a test
/// where one node calls itself).
pub async fn evidence(db: &Db, message_id: &str) -> Result<Vec<Evidence>, DbError> {
    let rows: Vec<(String,)> = platform::on_db!(db, p => sqlx::query_as(
        "SELECT evidence FROM federation_messages WHERE message_id = $1 ORDER BY direction")
        .bind(message_id).fetch_all(p).await?);
    rows.into_iter()
        .map(|(text,)| {
            serde_json::from_str(&text).map_err(|e| DbError::Sqlx(sqlx::Error::Decode(e.into())))
        })
        .collect()
}

/// A line of the message log, newest first, for the federation page.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Logged {
    pub message_id: String,
    pub direction: String,
    pub at_ms: i64,
    pub caller: String,
    pub callee: String,
    pub service: String,
    pub purpose: String,
    pub status: i64,
}

pub async fn recent(db: &Db, limit: i64) -> Result<Vec<Logged>, DbError> {
    Ok(platform::on_db!(db, p => sqlx::query_as(
        "SELECT message_id, direction, at_ms, caller, callee, service, purpose, status \
         FROM federation_messages ORDER BY at_ms DESC LIMIT $1")
        .bind(limit).fetch_all(p).await?))
}
