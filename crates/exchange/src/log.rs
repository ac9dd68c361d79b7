//! The message log: both nodes store each exchange's evidence (digests and signatures, no
//! bodies: bodies carry personal data that the records already hold) and append an audit
//! entry committing to it, in one transaction. So the audit chain covers the log, and
//! `chuanyu federation evidence MSGID` can hand a third party something to verify.

use federation::Evidence;
use platform::audit::{self, AuditEntry};
use platform::db::{Db, DbError};
use platform::on_tx;
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
/// audit chain in the same transaction; a receiver also stores the request's nonce there,
/// so a replay that outlived the in-memory check (a restart, another instance) fails here
/// with [`DbError::Duplicate`] and is never answered. Returns the log entry's audit
/// sequence number.
pub async fn record(
    db: &Db,
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
    let mut tx = db.begin().await?;
    if let Some(n) = nonce {
        on_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO federation_nonces (keyid, nonce, created) VALUES ($1, $2, $3)")
            .bind(n.keyid).bind(n.nonce).bind(n.created)
            .execute(&mut *c).await.map(|_| ())?);
    }
    let seqs = audit::append(&mut tx, &entries).await?;
    let seq = seqs.first().copied().unwrap_or_default();
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO federation_messages \
         (message_id, direction, at_ms, caller, callee, service, purpose, status, evidence, audit_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(&evidence.message_id).bind(direction.as_str())
        .bind(evidence.time.unix_timestamp() * 1000 + i64::from(evidence.time.millisecond()))
        .bind(&evidence.caller).bind(&evidence.callee).bind(&evidence.service)
        .bind(&evidence.purpose).bind(i64::from(evidence.response.status))
        .bind(&text).bind(seq)
        .execute(&mut *c).await.map(|_| ())?);
    tx.commit().await?;
    Ok(seq)
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
