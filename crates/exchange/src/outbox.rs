//! Messages that must arrive (DESIGN.md §2): a persistent outbox on the sending node and an
//! inbox keyed by message id on the receiving one.
//!
//! - [`enqueue`] writes the message inside the sender's own transaction, so it exists if and
//!   only if the change that sends it is committed.
//! - [`deliver_due`] (run by [`spawn_worker`]) sends each due message, signed like every
//!   exchange; the callee's signed, verified answer is the receipt, logged in the message log.
//!   While the peer is down or failing, the message stays pending with its reason and is
//!   retried with exponential backoff (1 s doubling up to 5 min). A refusal that retrying
//!   cannot change (the directory forbids it, the service is unknown) ends as `refused`,
//!   visible with its reason. Nothing is dropped silently.
//! - The receiver stores each message id once with its answer ([`receive_notice`]); a
//!   redelivery (the receipt was lost on the way back) gets the same answer and changes
//!   nothing: exactly once, as the receiver sees it.

use std::time::Duration;

use platform::db::{Db, DbError, Tx};
use platform::{on_db, on_tx};
use serde::{Deserialize, Serialize};

use crate::call::{self, Exchanged};
use crate::serve::{Asked, Failed};
use crate::{Federation, PeerError};

/// A notice from one node to another (the joint office's).
pub const NOTICE_DELIVER: &str = "notice.deliver";

/// A step of a cross-province transfer, applied by the `transfer` crate from
/// `federation_deliveries` after the receipt is given.
pub const TRANSFER_MESSAGE: &str = "transfer.message";

/// The services whose messages arrive through an outbox (and are received by
/// [`receive_message`]).
pub const QUEUED_SERVICES: [&str; 2] = [NOTICE_DELIVER, TRANSFER_MESSAGE];

const BATCH: i64 = 50;
const FIRST_RETRY_MS: i64 = 1000;
const LAST_RETRY_MS: i64 = 5 * 60 * 1000;

/// What an outbox message carries on the wire: its id (the receiver's idempotency key) and
/// the service's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub message_id: String,
    pub payload: serde_json::Value,
}

/// A notice as `notice.deliver` takes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Notice {
    /// A dotted kind, e.g. `joint-office.circular`.
    pub kind: String,
    pub title: String,
    pub body: String,
}

/// Queues `payload` for `service` at `callee` inside `tx`; returns the message id.
pub async fn enqueue(
    tx: &mut Tx<'_>,
    callee: &str,
    service: &str,
    purpose: &str,
    payload: &serde_json::Value,
) -> Result<String, DbError> {
    let message_id = new_message_id();
    let now = platform::now_ms();
    on_tx!(&mut *tx, c => sqlx::query(
        "INSERT INTO federation_outbox \
         (message_id, callee, service, purpose, payload, state, attempts, next_ms, created_ms) \
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)")
        .bind(&message_id).bind(callee).bind(service).bind(purpose)
        .bind(payload.to_string()).bind(now)
        .execute(&mut *c).await.map(|_| ())?);
    Ok(message_id)
}

fn new_message_id() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}

/// One line of the outbox, for the queue page and the tests.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Queued {
    pub message_id: String,
    pub callee: String,
    pub service: String,
    pub purpose: String,
    pub state: String,
    pub attempts: i64,
    pub next_ms: i64,
    pub last_error: Option<String>,
    pub created_ms: i64,
    pub delivered_ms: Option<i64>,
}

/// Messages not yet delivered (pending or refused), oldest first.
pub async fn undelivered(db: &Db, limit: i64) -> Result<Vec<Queued>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT message_id, callee, service, purpose, state, attempts, next_ms, last_error, \
                created_ms, delivered_ms \
         FROM federation_outbox WHERE state <> 'delivered' ORDER BY created_ms LIMIT $1")
        .bind(limit).fetch_all(p).await?))
}

/// How many messages are in each state, for `/metrics`.
pub async fn counts(db: &Db) -> Result<Vec<(String, i64)>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT state, COUNT(*) FROM federation_outbox GROUP BY state ORDER BY state")
        .fetch_all(p).await?))
}

#[derive(sqlx::FromRow)]
struct Due {
    message_id: String,
    callee: String,
    service: String,
    purpose: String,
    payload: String,
    attempts: i64,
}

/// Sends every message that is due; returns how many were delivered.
pub async fn deliver_due(federation: &Federation, db: &Db) -> Result<usize, DbError> {
    let now = platform::now_ms();
    let due: Vec<Due> = on_db!(db, p => sqlx::query_as(
        "SELECT message_id, callee, service, purpose, payload, attempts FROM federation_outbox \
         WHERE state = 'pending' AND next_ms <= $1 ORDER BY next_ms LIMIT $2")
        .bind(now).bind(BATCH).fetch_all(p).await?);
    if due.is_empty() {
        return Ok(0);
    }
    let current = match federation.current() {
        Ok(c) => c,
        Err(e) => {
            for d in &due {
                retry_later(db, d, &PeerError::of(&e)).await?;
            }
            return Ok(0);
        }
    };
    let mut delivered = 0;
    for d in due {
        let payload: serde_json::Value =
            serde_json::from_str(&d.payload).unwrap_or(serde_json::Value::Null);
        let envelope = Envelope {
            message_id: d.message_id.clone(),
            payload,
        };
        let body = serde_json::to_vec(&envelope).unwrap_or_default();
        let sent = call::call(
            federation, &current, &d.callee, &d.service, &d.purpose, body,
        )
        .await;
        match sent {
            Ok(exchanged) => {
                receipt(federation, db, &d, &exchanged).await?;
                delivered += 1;
            }
            Err(e) if is_final(&e) => refuse(db, &d, &e).await?,
            Err(e) => retry_later(db, &d, &e).await?,
        }
    }
    Ok(delivered)
}

/// Refusals that no retry can change.
fn is_final(e: &PeerError) -> bool {
    matches!(
        e.code.as_str(),
        "federation.not_allowed" | "federation.service_unknown" | "federation.body_invalid"
    )
}

async fn receipt(
    federation: &Federation,
    db: &Db,
    d: &Due,
    exchanged: &Exchanged,
) -> Result<(), DbError> {
    // The receipt (the callee's signed answer) goes into the message log first: once the
    // message is marked delivered, its proof is already on record.
    if let Err(e) = call::log_exchange(federation, exchanged, Vec::new()).await {
        tracing::error!(
            code = e.code,
            "outbox: receipt not logged; will deliver again"
        );
        return Ok(());
    }
    on_db!(db, p => sqlx::query(
        "UPDATE federation_outbox SET state = 'delivered', attempts = attempts + 1, \
         delivered_ms = $2, last_error = NULL WHERE message_id = $1 AND state = 'pending'")
        .bind(&d.message_id).bind(platform::now_ms()).execute(p).await.map(|_| ())?);
    Ok(())
}

async fn refuse(db: &Db, d: &Due, e: &PeerError) -> Result<(), DbError> {
    tracing::warn!(
        message_id = d.message_id,
        code = e.code,
        "outbox: message refused by the peer"
    );
    on_db!(db, p => sqlx::query(
        "UPDATE federation_outbox SET state = 'refused', attempts = attempts + 1, last_error = $2 \
         WHERE message_id = $1 AND state = 'pending'")
        .bind(&d.message_id).bind(format!("{}: {}", e.code, e.message))
        .execute(p).await.map(|_| ())?);
    Ok(())
}

async fn retry_later(db: &Db, d: &Due, e: &PeerError) -> Result<(), DbError> {
    let wait = FIRST_RETRY_MS
        .saturating_mul(1i64 << d.attempts.clamp(0, 20))
        .min(LAST_RETRY_MS);
    on_db!(db, p => sqlx::query(
        "UPDATE federation_outbox SET attempts = attempts + 1, next_ms = $2, last_error = $3 \
         WHERE message_id = $1 AND state = 'pending'")
        .bind(&d.message_id).bind(platform::now_ms() + wait)
        .bind(format!("{}: {}", e.code, e.message))
        .execute(p).await.map(|_| ())?);
    Ok(())
}

/// Delivers due messages every half second until aborted.
pub fn spawn_worker(federation: Federation, db: Db) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(500));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(e) = deliver_due(&federation, &db).await {
                tracing::warn!(error = %e, "outbox: delivery round failed; will retry");
            }
        }
    })
}

/// A queued service's message: stored once per message id with its answer (the receipt);
/// a redelivery gets the first answer again. A notice is stored for reading; any other
/// message waits in `federation_deliveries` for its feature to apply it ([`pending`]).
pub(crate) async fn receive_message(
    federation: &Federation,
    db: &Db,
    service: &str,
    asked: &Asked<'_>,
) -> Result<(Vec<u8>, Vec<platform::audit::AuditEntry>), Failed> {
    let envelope: Envelope = serde_json::from_slice(asked.body).map_err(|_| Failed::Body)?;
    if envelope.message_id.is_empty() || envelope.message_id.len() > 64 {
        return Err(Failed::Body);
    }
    let notice = if service == NOTICE_DELIVER {
        Some(serde_json::from_value::<Notice>(envelope.payload.clone()).map_err(|_| Failed::Body)?)
    } else {
        None
    };
    if let Some(answer) = answered(db, &envelope.message_id).await? {
        return Ok((answer.into_bytes(), Vec::new()));
    }
    let answer = serde_json::json!({
        "member": federation.member(),
        "received": envelope.message_id,
    })
    .to_string();
    let now = platform::now_ms();
    let mut tx = db.begin().await?;
    let stored = async {
        on_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO federation_inbox (message_id, caller, service, received_ms, answer) \
             VALUES ($1, $2, $3, $4, $5)")
            .bind(&envelope.message_id).bind(asked.caller).bind(service).bind(now)
            .bind(&answer).execute(&mut *c).await.map(|_| ())?);
        match &notice {
            Some(notice) => on_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO federation_notices (message_id, caller, kind, title, body, received_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&envelope.message_id).bind(asked.caller).bind(&notice.kind)
                .bind(&notice.title).bind(&notice.body).bind(now)
                .execute(&mut *c).await.map(|_| ())?),
            None => on_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO federation_deliveries (message_id, caller, service, payload, received_ms) \
                 VALUES ($1, $2, $3, $4, $5)")
                .bind(&envelope.message_id).bind(asked.caller).bind(service)
                .bind(envelope.payload.to_string()).bind(now)
                .execute(&mut *c).await.map(|_| ())?),
        }
        Ok::<_, DbError>(())
    }
    .await;
    match stored {
        Ok(()) => {
            tx.commit().await?;
            Ok((answer.into_bytes(), Vec::new()))
        }
        // Delivered twice at once (two instances of the sender): the first one's answer.
        Err(DbError::Duplicate { .. }) => {
            drop(tx);
            let first = answered(db, &envelope.message_id)
                .await?
                .ok_or(Failed::Body)?;
            Ok((first.into_bytes(), Vec::new()))
        }
        Err(e) => Err(e.into()),
    }
}

/// A received message waiting to be applied by its feature.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Delivery {
    pub message_id: String,
    pub caller: String,
    pub payload: String,
}

/// Received messages of `service` not yet applied, in the order they arrived.
pub async fn pending(db: &Db, service: &str, limit: i64) -> Result<Vec<Delivery>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT message_id, caller, payload FROM federation_deliveries \
         WHERE service = $1 AND processed_ms IS NULL ORDER BY received_ms, message_id LIMIT $2")
        .bind(service).bind(limit).fetch_all(p).await?))
}

/// Claims `message_id` for applying inside `tx`; `false` when it was applied already (by
/// another instance, or before a crash), so the caller applies it at most once.
pub async fn claim(tx: &mut Tx<'_>, message_id: &str, outcome: &str) -> Result<bool, DbError> {
    let claimed = on_tx!(&mut *tx, c => sqlx::query(
        "UPDATE federation_deliveries SET processed_ms = $2, outcome = $3 \
         WHERE message_id = $1 AND processed_ms IS NULL")
        .bind(message_id).bind(platform::now_ms()).bind(outcome)
        .execute(&mut *c).await?.rows_affected());
    Ok(claimed == 1)
}

async fn answered(db: &Db, message_id: &str) -> Result<Option<String>, DbError> {
    let row: Option<(String,)> = on_db!(db, p => sqlx::query_as(
        "SELECT answer FROM federation_inbox WHERE message_id = $1")
        .bind(message_id).fetch_optional(p).await?);
    Ok(row.map(|(a,)| a))
}

/// Notices received, newest first.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Received {
    pub message_id: String,
    pub caller: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub received_ms: i64,
}

pub async fn notices(db: &Db, limit: i64) -> Result<Vec<Received>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT message_id, caller, kind, title, body, received_ms FROM federation_notices \
         ORDER BY received_ms DESC LIMIT $1")
        .bind(limit).fetch_all(p).await?))
}
