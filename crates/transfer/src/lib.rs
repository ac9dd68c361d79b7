//! Cross-province transfers (跨省转学, action plan §二.2).
//!
//! Each node keeps its own copy of a transfer (`transfers`, with its timeline in
//! `transfer_events`) and runs the steps of its side; the nodes tell each other through the
//! outbox (`transfer.message`, see [`flow::Message`]). Every change of a copy, the record
//! operations it implies (`registry::transfer`), the audit entries and the messages it sends
//! are one transaction; every received message is applied once, in one transaction that
//! also marks it applied. So either node can be killed at any moment and the transfer goes
//! on where it stopped when the node is back.
//!
//! Invariant: a student is active (在读/转入) on at most one node at every moment and, once
//! a transfer has ended, on exactly one. The sending node locks the record (转出中) in the
//! transaction that sends the file; the receiving node makes it active in the transaction
//! that answers `received`; only that answer ends the record on the sending node (转出),
//! and a `declined` answer gives it back. [`check`] verifies this across nodes.

pub mod check;
pub mod flow;

use exchange::Federation;
use exchange::outbox::{self, TRANSFER_MESSAGE};
use federation::IdentifierKind;
use kernel::access::{Action, Principal, Resource, Scope, authorize};
use kernel::ids::StudentNo;
use platform::audit::{self, AuditEntry, AuditLog};
use platform::db::{Db, DbError, Tx};
use platform::{on_db, on_tx};
use registry::transfer::{Movement, TransferRecordError};
use serde::{Deserialize, Serialize};

pub use flow::{Chain, Decision, Level, Side, State, Step};
use flow::{Head, Message};

/// The purpose every transfer exchange is declared under.
pub const PURPOSE: &str = "transfer-verification";

/// This node's part in transfers: who it is and its chain.
#[derive(Debug, Clone)]
pub struct Settings {
    pub member: String,
    pub chain: Chain,
    /// How long each step may wait before it is overdue.
    pub step_ms: i64,
}

/// A node's copy of a transfer.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Transfer {
    pub id: String,
    pub side: String,
    pub student_no: String,
    pub student_name: String,
    pub from_member: String,
    pub from_school: String,
    pub from_school_name: String,
    pub from_division: String,
    pub to_member: String,
    pub to_school: String,
    pub to_school_name: String,
    pub to_division: String,
    pub to_grade: String,
    pub reason: String,
    pub documents: String,
    pub state: String,
    /// The step waiting for a decision (on either node), if any.
    pub step: Option<String>,
    pub due_ms: Option<i64>,
    pub applicant: String,
    pub outcome_reason: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Transfer {
    pub fn side(&self) -> Side {
        Side::parse(&self.side).unwrap_or(Side::Receiving)
    }

    pub fn state(&self) -> State {
        State::parse(&self.state).unwrap_or(State::Pending)
    }

    pub fn step(&self) -> Option<Step> {
        self.step.as_deref().and_then(Step::parse)
    }

    /// The other node.
    pub fn peer(&self) -> &str {
        match self.side() {
            Side::Receiving => &self.from_member,
            Side::Sending => &self.to_member,
        }
    }

    /// The school and division of this node's side.
    fn own_school(&self) -> (&str, &str) {
        match self.side() {
            Side::Receiving => (&self.to_school, &self.to_division),
            Side::Sending => (&self.from_school, &self.from_division),
        }
    }

    pub fn overdue(&self, now_ms: i64) -> bool {
        !self.state().is_final() && self.due_ms.is_some_and(|d| d < now_ms)
    }
}

/// One line of a transfer's timeline, and of the feed other systems read.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Event {
    pub seq: i64,
    pub transfer_id: String,
    pub at_ms: i64,
    /// The node where it happened.
    pub member: String,
    pub actor: String,
    pub action: String,
    pub step: Option<String>,
    /// The state after it.
    pub state: String,
    pub next_step: Option<String>,
    pub reason: Option<String>,
}

/// What a receiving school fills in.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Application {
    /// The student's 学籍号 (held by another member's node).
    pub student_no: String,
    /// The grade the student joins here (e.g. 七年级).
    pub to_grade: String,
    /// The family's reason (e.g. 随迁、户籍迁移).
    pub reason: String,
    /// The documents the family handed in (a list for the record, not the files).
    #[serde(default)]
    pub documents: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// Unknown, or outside the caller's scope: deliberately indistinguishable.
    #[error("not found")]
    NotFound,
    /// The caller sees the transfer but does not act at its present step.
    #[error("{0}")]
    NotYours(String),
    /// The decision does not apply to the transfer's present state.
    #[error("{0}")]
    NotApplicable(String),
    #[error("{0}")]
    Invalid(String),
    /// Another node could not be asked; try later.
    #[error("{0}")]
    PeerUnavailable(String),
    #[error(transparent)]
    Db(DbError),
}

impl From<DbError> for TransferError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Changed(_) => {
                TransferError::NotApplicable("该转学刚刚已被他人办理，请刷新后再看".into())
            }
            e => TransferError::Db(e),
        }
    }
}

impl From<TransferRecordError> for TransferError {
    fn from(e: TransferRecordError) -> Self {
        match e {
            TransferRecordError::NotApplicable(m) => TransferError::NotApplicable(m),
            TransferRecordError::Db(e) => e.into(),
        }
    }
}

const COLUMNS: &str = "id, side, student_no, student_name, from_member, from_school, \
    from_school_name, from_division, to_member, to_school, to_school_name, to_division, \
    to_grade, reason, documents, state, step, due_ms, applicant, outcome_reason, created_ms, \
    updated_ms";

fn text(value: &str, what: &str, max: usize, required: bool) -> Result<String, TransferError> {
    let v = value.trim();
    if (required && v.is_empty()) || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(TransferError::Invalid(format!(
            "请填写{what}（不超过 {max} 字）"
        )));
    }
    Ok(v.to_owned())
}

/// A receiving school applies for a student held by another member's node. The student is
/// found (and their status checked) through the federation for 转学核验.
pub async fn apply(
    db: &Db,
    settings: &Settings,
    federation: &Federation,
    who: &Principal,
    application: &Application,
) -> Result<Transfer, TransferError> {
    let (Some(Level::School), Scope::Org(school_code)) = (flow::level_of(who), &who.scope) else {
        return Err(TransferError::NotYours(
            "转学申请由转入学校的学校管理员提出".into(),
        ));
    };
    let no = StudentNo::parse(&application.student_no).map_err(|e| {
        TransferError::Invalid(format!(
            "学籍号无效：{}",
            kernel::lang::Localized::message(&e, kernel::Lang::Zh)
        ))
    })?;
    let to_grade = application.to_grade.trim().to_owned();
    if kernel::student_status::grade_no(&to_grade) == 0 {
        return Err(TransferError::Invalid(format!(
            "拟入年级“{to_grade}”无效，请写作“七年级”“高一”等"
        )));
    }
    let reason = text(&application.reason, "转学原因", 500, true)?;
    let documents = text(&application.documents, "材料说明", 500, false)?;
    let school = platform::orgs::get(db, school_code)
        .await?
        .ok_or(TransferError::NotFound)?;
    if let Some(here) = registry::record_for_peer(db, federation.audit(), no.as_str()).await?
        && registry::ACTIVE.contains(&here.student.status.as_str())
    {
        return Err(TransferError::NotApplicable(
            "该学生的学籍在本省在读，省内转学不走跨省流程".into(),
        ));
    }
    if open_for(db, no.as_str(), None).await? {
        return Err(TransferError::NotApplicable(
            "该学生已有进行中的转学申请".into(),
        ));
    }
    let outcome = exchange::call::lookup_student(
        federation,
        who,
        IdentifierKind::StudentNo,
        no.as_str(),
        PURPOSE,
    )
    .await
    .map_err(|e| TransferError::PeerUnavailable(e.to_string()))?;
    let Some(found) = outcome.found else {
        return Err(match outcome.unanswered.first() {
            Some(u) => TransferError::PeerUnavailable(format!(
                "暂时无法查询 {} 的学籍（{}），请稍后再试",
                u.member, u.error.message
            )),
            None => TransferError::Invalid("其他省份没有该学籍号的学生".into()),
        });
    };
    let field = |name: &str| {
        found
            .record
            .get(name)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let status = field("status");
    if !registry::ACTIVE.contains(&status.as_str()) {
        return Err(TransferError::NotApplicable(format!(
            "该学生在 {} 的学籍状态为“{status}”，不能转学",
            found.source_name
        )));
    }
    let now = platform::now_ms();
    let t = Transfer {
        id: uuid::Uuid::new_v4().to_string(),
        side: Side::Receiving.as_str().into(),
        student_no: no.as_str().into(),
        student_name: field("name"),
        from_member: found.source.clone(),
        from_school: field("school_code"),
        from_school_name: field("school_name"),
        // The sending node fills in its own division; this copy does not need it.
        from_division: String::new(),
        to_member: settings.member.clone(),
        to_school: school.code.clone(),
        to_school_name: school.name.clone(),
        to_division: school.division_code.clone(),
        to_grade,
        reason,
        documents,
        state: State::Pending.as_str().into(),
        step: Some(settings.chain.first(Side::Receiving).as_str().into()),
        due_ms: Some(now + settings.step_ms),
        applicant: who.username.clone(),
        outcome_reason: None,
        created_ms: now,
        updated_ms: now,
    };
    let mut tx = db.begin().await?;
    match insert(&mut tx, &t).await {
        // Another instance took an application for the student a moment ago.
        Err(DbError::Duplicate { .. }) => {
            return Err(TransferError::NotApplicable(
                "该学生已有进行中的转学申请".into(),
            ));
        }
        other => other?,
    }
    event(&mut tx, settings, &t, &who.username, "applied", None, None).await?;
    audit::append(
        &mut tx,
        &[
            AuditEntry::new(&who.username, who.role.as_str(), "transfer.apply", "转学")
                .subject(&t.student_no, Some(&t.to_school))
                .detail(serde_json::json!({ "transfer": t.id, "from": t.from_member })),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(t)
}

/// Whether the student has a transfer under way here (on `side`, or on either).
async fn open_for(db: &Db, student_no: &str, side: Option<Side>) -> Result<bool, DbError> {
    let n: i64 = on_db!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM transfers WHERE student_no = $1 AND ($2 = '' OR side = $2) \
         AND state NOT IN ('completed', 'rejected', 'cancelled')")
        .bind(student_no).bind(side.map(Side::as_str).unwrap_or_default()).fetch_one(p).await?);
    Ok(n > 0)
}

async fn insert(tx: &mut Tx<'_>, t: &Transfer) -> Result<(), DbError> {
    let sql = format!(
        "INSERT INTO transfers ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
    );
    on_tx!(&mut *tx, c => sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&t.id).bind(&t.side).bind(&t.student_no).bind(&t.student_name)
        .bind(&t.from_member).bind(&t.from_school).bind(&t.from_school_name).bind(&t.from_division)
        .bind(&t.to_member).bind(&t.to_school).bind(&t.to_school_name).bind(&t.to_division)
        .bind(&t.to_grade).bind(&t.reason).bind(&t.documents).bind(&t.state).bind(&t.step)
        .bind(t.due_ms).bind(&t.applicant).bind(&t.outcome_reason).bind(t.created_ms)
        .bind(t.updated_ms)
        .execute(&mut *c).await.map(|_| ())?);
    Ok(())
}

async fn load(tx: &mut Tx<'_>, id: &str) -> Result<Option<Transfer>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM transfers WHERE id = $1");
    Ok(
        on_tx!(&mut *tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id).fetch_optional(&mut *c).await?),
    )
}

/// Moves this copy to `state` at `step` (a new step gets a new deadline), provided it is
/// still where `t` says it was: two decisions on the same step (two instances, a user and a
/// peer's message) cannot both apply; the later one fails with [`DbError::Changed`].
async fn set(
    tx: &mut Tx<'_>,
    settings: &Settings,
    t: &mut Transfer,
    state: State,
    step: Option<Step>,
    outcome_reason: Option<&str>,
) -> Result<(), DbError> {
    let now = platform::now_ms();
    let (was_state, was_step) = (t.state.clone(), t.step.clone().unwrap_or_default());
    let step_changed = t.step() != step;
    t.state = state.as_str().into();
    t.step = step.map(|s| s.as_str().into());
    if step_changed {
        t.due_ms = step.map(|_| now + settings.step_ms);
    }
    if state.is_final() {
        t.due_ms = None;
    }
    if let Some(r) = outcome_reason {
        t.outcome_reason = Some(r.to_owned());
    }
    t.updated_ms = now;
    let changed = on_tx!(&mut *tx, c => sqlx::query(
        "UPDATE transfers SET state = $2, step = $3, due_ms = $4, outcome_reason = $5, \
         updated_ms = $6 WHERE id = $1 AND state = $7 AND COALESCE(step, '') = $8")
        .bind(&t.id).bind(&t.state).bind(&t.step).bind(t.due_ms).bind(&t.outcome_reason)
        .bind(now).bind(&was_state).bind(&was_step).execute(&mut *c).await?.rows_affected());
    if changed == 1 {
        Ok(())
    } else {
        Err(DbError::Changed(format!("transfer {}", t.id)))
    }
}

async fn event(
    tx: &mut Tx<'_>,
    settings: &Settings,
    t: &Transfer,
    actor: &str,
    action: &str,
    step: Option<Step>,
    reason: Option<&str>,
) -> Result<(), DbError> {
    on_tx!(&mut *tx, c => sqlx::query(
        "INSERT INTO transfer_events (transfer_id, at_ms, member, actor, action, step, state, \
         next_step, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(&t.id).bind(platform::now_ms()).bind(&settings.member).bind(actor).bind(action)
        .bind(step.map(Step::as_str)).bind(&t.state).bind(&t.step).bind(reason)
        .execute(&mut *c).await.map(|_| ())?);
    Ok(())
}

async fn send(tx: &mut Tx<'_>, to: &str, message: &Message) -> Result<(), DbError> {
    let payload = serde_json::to_value(message).unwrap_or_default();
    outbox::enqueue(tx, to, TRANSFER_MESSAGE, PURPOSE, &payload).await?;
    Ok(())
}

/// Whether the transfer is within `who`'s scope (the school or area of this node's side).
fn visible(who: &Principal, t: &Transfer) -> bool {
    let (school, division) = t.own_school();
    visible_at(who, school, division, &t.student_no)
}

fn visible_at(who: &Principal, school: &str, division: &str, student_no: &str) -> bool {
    !matches!(who.scope, Scope::Person(_))
        && authorize(
            who,
            Action::Read,
            Resource::PersonRecord {
                org_code: school,
                division,
                person_key: student_no,
            },
        )
        .is_ok()
}

/// Whether `who` acts at the transfer's present step (or, for the applicant school,
/// cancels or confirms).
fn acts_now(who: &Principal, t: &Transfer) -> bool {
    let Some(step) = t.step() else {
        return false;
    };
    if step.side() != t.side() || !visible(who, t) {
        return false;
    }
    let (school, division) = t.own_school();
    flow::level_of(who) == Some(step.level())
        && authorize(
            who,
            Action::Write,
            Resource::PersonRecord {
                org_code: school,
                division,
                person_key: &t.student_no,
            },
        )
        .is_ok()
}

fn movement<'a>(settings: &'a Settings, t: &'a Transfer, who: &'a Principal) -> Movement<'a> {
    let (peer, peer_school) = match t.side() {
        Side::Receiving => (&t.from_member, &t.from_school_name),
        Side::Sending => (&t.to_member, &t.to_school_name),
    };
    Movement {
        transfer_id: &t.id,
        member: &settings.member,
        peer,
        peer_school,
        actor: &who.username,
        actor_role: who.role.as_str(),
        date: "",
    }
}

/// A user's decision on a transfer: approve or reject their step, cancel (the applicant
/// school, before the record moves) or confirm enrolment (the receiving school).
pub async fn decide(
    db: &Db,
    settings: &Settings,
    who: &Principal,
    id: &str,
    decision: Decision,
    reason: Option<&str>,
) -> Result<Transfer, TransferError> {
    let reason = match decision {
        Decision::Reject | Decision::Cancel => {
            Some(text(reason.unwrap_or_default(), "理由", 500, true)?)
        }
        _ => reason
            .map(|r| text(r, "意见", 500, false))
            .transpose()?
            .filter(|r| !r.is_empty()),
    };
    let today = registry::today();
    let mut tx = db.begin().await?;
    let mut t = load(&mut tx, id)
        .await?
        .filter(|t| visible(who, t))
        .ok_or(TransferError::NotFound)?;
    flow::applies(decision, t.side(), t.state(), t.step())
        .map_err(|m| TransferError::NotApplicable(m.into()))?;
    let allowed = match decision {
        Decision::Approve | Decision::Reject => acts_now(who, &t),
        Decision::Cancel | Decision::Confirm => {
            flow::level_of(who) == Some(Level::School)
                && who.scope == Scope::Org(t.to_school.clone())
        }
    };
    if !allowed {
        return Err(TransferError::NotYours(
            "该转学目前不在您所在的审批环节".into(),
        ));
    }
    let step = t.step();
    let peer = t.peer().to_owned();
    let actor = who.username.clone();
    let reason_ref = reason.as_deref();
    match decision {
        Decision::Approve => {
            let next = step.and_then(|s| settings.chain.next(s));
            match (t.side(), next) {
                (_, Some(next)) => {
                    set(&mut tx, settings, &mut t, State::Pending, Some(next), None).await?;
                    if t.side() == Side::Sending {
                        let progress = Message::Progress {
                            id: t.id.clone(),
                            step: step.unwrap_or(next),
                            next,
                            actor: actor.clone(),
                        };
                        send(&mut tx, &peer, &progress).await?;
                    }
                }
                (Side::Receiving, None) => {
                    set(
                        &mut tx,
                        settings,
                        &mut t,
                        State::Pending,
                        Some(Step::SendingSchool),
                        None,
                    )
                    .await?;
                    let head = Head {
                        id: t.id.clone(),
                        student_no: t.student_no.clone(),
                        student_name: t.student_name.clone(),
                        from_member: t.from_member.clone(),
                        to_member: t.to_member.clone(),
                        to_school: t.to_school.clone(),
                        to_school_name: t.to_school_name.clone(),
                        to_division: t.to_division.clone(),
                        to_grade: t.to_grade.clone(),
                        reason: t.reason.clone(),
                        documents: t.documents.clone(),
                        applicant: t.applicant.clone(),
                    };
                    send(&mut tx, &peer, &Message::Request { head }).await?;
                }
                (Side::Sending, None) => {
                    let mut m = movement(settings, &t, who);
                    m.date = &today;
                    match registry::transfer::lock(&mut tx, &t.student_no, &t.from_school, &m).await
                    {
                        Ok(file) => {
                            set(&mut tx, settings, &mut t, State::HandingOver, None, None).await?;
                            let handoff = Message::Handoff {
                                id: t.id.clone(),
                                from_school: t.from_school.clone(),
                                from_school_name: t.from_school_name.clone(),
                                file,
                            };
                            send(&mut tx, &peer, &handoff).await?;
                        }
                        // The record changed meanwhile (graduated, left): nothing to move.
                        Err(TransferRecordError::NotApplicable(why)) => {
                            let why = format!("学籍状态已变化：{why}");
                            set(&mut tx, settings, &mut t, State::Rejected, None, Some(&why))
                                .await?;
                            let rejected = Message::Rejected {
                                id: t.id.clone(),
                                step,
                                actor: actor.clone(),
                                reason: why,
                            };
                            send(&mut tx, &peer, &rejected).await?;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        Decision::Reject => {
            set(&mut tx, settings, &mut t, State::Rejected, None, reason_ref).await?;
            if t.side() == Side::Sending {
                let rejected = Message::Rejected {
                    id: t.id.clone(),
                    step,
                    actor: actor.clone(),
                    reason: reason.clone().unwrap_or_default(),
                };
                send(&mut tx, &peer, &rejected).await?;
            }
        }
        Decision::Cancel => {
            set(
                &mut tx,
                settings,
                &mut t,
                State::Cancelled,
                None,
                reason_ref,
            )
            .await?;
            // The sending node holds a copy once the receiving side has approved.
            if step.is_some_and(|s| s.side() == Side::Sending) {
                let cancelled = Message::Cancelled {
                    id: t.id.clone(),
                    actor: actor.clone(),
                    reason: reason.clone().unwrap_or_default(),
                };
                send(&mut tx, &peer, &cancelled).await?;
            }
        }
        Decision::Confirm => {
            set(&mut tx, settings, &mut t, State::Completed, None, None).await?;
            let confirmed = Message::Confirmed {
                id: t.id.clone(),
                actor: actor.clone(),
            };
            send(&mut tx, &peer, &confirmed).await?;
        }
    }
    let action = match decision {
        Decision::Approve => "approved",
        Decision::Reject => "rejected",
        Decision::Cancel => "cancelled",
        Decision::Confirm => "confirmed",
    };
    event(&mut tx, settings, &t, &actor, action, step, reason_ref).await?;
    audit::append(
        &mut tx,
        &[AuditEntry::new(
            &actor,
            who.role.as_str(),
            &format!("transfer.{action}"),
            "转学",
        )
        .subject(&t.student_no, Some(t.own_school().0))
        .detail(serde_json::json!({ "transfer": t.id, "step": step.map(Step::as_str) }))],
    )
    .await?;
    tx.commit().await?;
    Ok(t)
}

/// Applies every received transfer message waiting; returns how many were applied.
pub async fn process_pending(
    db: &Db,
    settings: &Settings,
    federation: &Federation,
) -> Result<usize, DbError> {
    let waiting = outbox::pending(db, TRANSFER_MESSAGE, 50).await?;
    let mut arrived = Vec::new();
    let mut applied = 0;
    for delivery in waiting {
        arrived.extend(apply_message(db, federation.audit(), settings, &delivery).await?);
        applied += 1;
    }
    // A record that arrived must be findable by peers' look-ups at once.
    exchange::index::index_students(db, federation.index_key(), &arrived).await?;
    Ok(applied)
}

/// A record that arrived: its 学籍号 and ID number, for the blind index.
type Arrived = (String, Option<String>);

/// Applies one received message in one transaction; returns the record that arrived, if any.
async fn apply_message(
    db: &Db,
    audit: &AuditLog,
    settings: &Settings,
    delivery: &outbox::Delivery,
) -> Result<Option<Arrived>, DbError> {
    let message: Result<Message, _> = serde_json::from_str(&delivery.payload);
    // Read before the transaction: the sending side's view of the student it is asked for
    // (the partial unique index on open transfers backs the `open` read up).
    let holding = match &message {
        Ok(Message::Request { head }) => Holding {
            record: registry::record_for_peer(db, audit, &head.student_no).await?,
            open: open_for(db, &head.student_no, Some(Side::Sending)).await?,
        },
        _ => Holding::default(),
    };
    let mut tx = db.begin().await?;
    let outcome = match &message {
        Ok(m) => m.transfer_id().to_owned(),
        Err(_) => "unreadable".to_owned(),
    };
    if !outbox::claim(&mut tx, &delivery.message_id, &outcome).await? {
        return Ok(None);
    }
    let arrived = match message {
        Ok(m) => on_message(&mut tx, settings, &delivery.caller, m, holding).await?,
        Err(e) => {
            tracing::warn!(message_id = delivery.message_id, error = %e, "transfer: unreadable message");
            None
        }
    };
    tx.commit().await?;
    Ok(arrived)
}

/// What the sending node holds of a requested student: the record, and whether another
/// transfer of theirs is under way.
#[derive(Default)]
struct Holding {
    record: Option<registry::StudentView>,
    open: bool,
}

/// The node acting for a peer's message, as history and audit name it.
fn node_actor(caller: &str) -> Principal {
    Principal {
        user_id: 0,
        username: format!("node:{caller}"),
        role: kernel::access::Role::PlatformAdmin,
        scope: Scope::Node,
    }
}

async fn on_message(
    tx: &mut Tx<'_>,
    settings: &Settings,
    caller: &str,
    message: Message,
    holding: Holding,
) -> Result<Option<Arrived>, DbError> {
    let actor = node_actor(caller);
    if let Message::Request { head } = &message {
        if head.to_member != caller || head.from_member != settings.member {
            tracing::warn!(caller, "transfer: request names other members; ignored");
            return Ok(None);
        }
        if load(tx, &head.id).await?.is_some() {
            return Ok(None);
        }
        on_request(tx, settings, head, holding, &actor).await?;
        return Ok(None);
    }
    let Some(mut t) = load(tx, message.transfer_id()).await? else {
        tracing::warn!(
            caller,
            "transfer: message about an unknown transfer; ignored"
        );
        return Ok(None);
    };
    // Only the other party of a transfer speaks about it.
    if t.peer() != caller {
        tracing::warn!(
            caller,
            id = t.id,
            "transfer: message from a member not party to it"
        );
        return Ok(None);
    }
    let state = t.state();
    let side = t.side();
    let mut arrived = None;
    match message {
        Message::Request { .. } => {}
        Message::Progress {
            step,
            next,
            actor: by,
            ..
        } if side == Side::Receiving && state == State::Pending => {
            set(tx, settings, &mut t, State::Pending, Some(next), None).await?;
            event(
                tx,
                settings,
                &t,
                &format!("{caller}:{by}"),
                "approved",
                Some(step),
                None,
            )
            .await?;
        }
        Message::Rejected {
            step,
            actor: by,
            reason,
            ..
        } if side == Side::Receiving && state == State::Pending => {
            set(tx, settings, &mut t, State::Rejected, None, Some(&reason)).await?;
            event(
                tx,
                settings,
                &t,
                &format!("{caller}:{by}"),
                "rejected",
                step,
                Some(&reason),
            )
            .await?;
        }
        Message::Cancelled {
            actor: by, reason, ..
        } if side == Side::Sending && state == State::Pending => {
            set(tx, settings, &mut t, State::Cancelled, None, Some(&reason)).await?;
            event(
                tx,
                settings,
                &t,
                &format!("{caller}:{by}"),
                "cancelled",
                None,
                Some(&reason),
            )
            .await?;
        }
        // Cancelled after the record was locked: the handoff's decline will give it back.
        Message::Cancelled { .. } => {}
        Message::Handoff {
            from_school,
            from_school_name,
            file,
            ..
        } if side == Side::Receiving => {
            arrived = on_handoff(
                tx,
                settings,
                &mut t,
                from_school,
                from_school_name,
                &file,
                &actor,
            )
            .await?;
        }
        Message::Received { .. } if side == Side::Sending && state == State::HandingOver => {
            let m = movement(settings, &t, &actor);
            let today = registry::today();
            let m = Movement { date: &today, ..m };
            match registry::transfer::complete_out(tx, &t.student_no, &m).await {
                Ok(()) => {
                    set(tx, settings, &mut t, State::Completed, None, None).await?;
                    event(tx, settings, &t, &actor.username, "handed-over", None, None).await?;
                }
                Err(e) => blocked(tx, settings, &t, &actor, e).await?,
            }
        }
        Message::Declined {
            state: why, reason, ..
        } if side == Side::Sending && state == State::HandingOver => {
            let m = movement(settings, &t, &actor);
            let today = registry::today();
            let m = Movement { date: &today, ..m };
            match registry::transfer::release(tx, &t.student_no, &m, &reason).await {
                Ok(()) => {
                    let end = if why == State::Cancelled {
                        State::Cancelled
                    } else {
                        State::Rejected
                    };
                    set(tx, settings, &mut t, end, None, Some(&reason)).await?;
                    event(
                        tx,
                        settings,
                        &t,
                        &actor.username,
                        "declined",
                        None,
                        Some(&reason),
                    )
                    .await?;
                }
                Err(e) => blocked(tx, settings, &t, &actor, e).await?,
            }
        }
        Message::Confirmed { actor: by, .. } if side == Side::Sending => {
            event(
                tx,
                settings,
                &t,
                &format!("{caller}:{by}"),
                "confirmed",
                None,
                None,
            )
            .await?;
        }
        other => {
            tracing::warn!(id = t.id, state = t.state, kind = ?std::mem::discriminant(&other),
                "transfer: message does not apply to this copy; ignored");
        }
    }
    Ok(arrived)
}

/// A record operation the message needs does not apply (the record is not 转出中 any more,
/// which only a change outside the transfer could cause): the transfer stays where it is,
/// with an event saying why, for `chuanyu check transfers` and the people to resolve.
async fn blocked(
    tx: &mut Tx<'_>,
    settings: &Settings,
    t: &Transfer,
    actor: &Principal,
    e: TransferRecordError,
) -> Result<(), DbError> {
    let why = match e {
        TransferRecordError::NotApplicable(m) => m,
        TransferRecordError::Db(e) => return Err(e),
    };
    tracing::error!(
        id = t.id,
        why,
        "transfer: blocked; needs a person to resolve it"
    );
    event(
        tx,
        settings,
        t,
        &actor.username,
        "blocked",
        None,
        Some(&why),
    )
    .await
}

async fn on_request(
    tx: &mut Tx<'_>,
    settings: &Settings,
    head: &Head,
    holding: Holding,
    actor: &Principal,
) -> Result<(), DbError> {
    let record = holding.record;
    let now = platform::now_ms();
    let active = record
        .as_ref()
        .is_some_and(|v| registry::ACTIVE.contains(&v.student.status.as_str()));
    let (from_school, from_school_name, from_division, name) = match &record {
        Some(v) => (
            v.student.school_code.clone(),
            v.school_name.clone(),
            v.school_division.clone(),
            v.student.name.clone(),
        ),
        None => Default::default(),
    };
    let mut t = Transfer {
        id: head.id.clone(),
        side: Side::Sending.as_str().into(),
        student_no: head.student_no.clone(),
        student_name: if name.is_empty() {
            head.student_name.clone()
        } else {
            name
        },
        from_member: settings.member.clone(),
        from_school,
        from_school_name,
        from_division,
        to_member: head.to_member.clone(),
        to_school: head.to_school.clone(),
        to_school_name: head.to_school_name.clone(),
        to_division: head.to_division.clone(),
        to_grade: head.to_grade.clone(),
        reason: head.reason.clone(),
        documents: head.documents.clone(),
        state: State::Pending.as_str().into(),
        step: Some(settings.chain.first(Side::Sending).as_str().into()),
        due_ms: Some(now + settings.step_ms),
        applicant: head.applicant.clone(),
        outcome_reason: None,
        created_ms: now,
        updated_ms: now,
    };
    let refusal = if !active {
        Some("该学生的学籍不在本省在读，不能转出")
    } else if holding.open {
        Some("该学生已有另一项进行中的转学")
    } else {
        None
    };
    if let Some(why) = refusal {
        // Stored as it ends: a second open copy for the student is not allowed.
        t.state = State::Rejected.as_str().into();
        t.step = None;
        t.due_ms = None;
        t.outcome_reason = Some(why.into());
    }
    insert(tx, &t).await?;
    event(tx, settings, &t, &actor.username, "requested", None, None).await?;
    if let Some(why) = refusal {
        event(
            tx,
            settings,
            &t,
            &actor.username,
            "rejected",
            None,
            Some(why),
        )
        .await?;
        let rejected = Message::Rejected {
            id: t.id.clone(),
            step: None,
            actor: actor.username.clone(),
            reason: why.into(),
        };
        send(tx, &t.to_member, &rejected).await?;
    }
    Ok(())
}

async fn on_handoff(
    tx: &mut Tx<'_>,
    settings: &Settings,
    t: &mut Transfer,
    from_school: String,
    from_school_name: String,
    file: &registry::transfer::StudentFile,
    actor: &Principal,
) -> Result<Option<Arrived>, DbError> {
    let peer = t.peer().to_owned();
    let id = t.id.clone();
    let decline = |state: State, reason: String| Message::Declined {
        id: id.clone(),
        state,
        reason,
    };
    if t.state() != State::Pending {
        // Cancelled (or rejected) here before the file arrived: give it back.
        let reason = t
            .outcome_reason
            .clone()
            .unwrap_or_else(|| "转入方已撤销申请".into());
        let declined = decline(t.state(), reason);
        send(tx, &peer, &declined).await?;
        event(tx, settings, t, &actor.username, "declined", None, None).await?;
        return Ok(None);
    }
    if file.student.student_no != t.student_no {
        let declined = decline(State::Rejected, "移交的学籍与申请不符".into());
        send(tx, &peer, &declined).await?;
        set(
            tx,
            settings,
            t,
            State::Rejected,
            None,
            Some("移交的学籍与申请不符"),
        )
        .await?;
        event(tx, settings, t, &actor.username, "declined", None, None).await?;
        return Ok(None);
    }
    if !from_school.is_empty() {
        t.from_school = from_school;
        t.from_school_name = from_school_name;
    }
    let today = registry::today();
    let m = Movement {
        date: &today,
        ..movement(settings, t, actor)
    };
    // A savepoint: a record that cannot be created here must not leave half of it behind.
    on_tx!(&mut *tx, c => sqlx::query("SAVEPOINT handoff").execute(&mut *c).await.map(|_| ())?);
    let (school, grade) = (t.to_school.clone(), t.to_grade.clone());
    match registry::transfer::receive(tx, file, &school, &grade, &m).await {
        Ok(()) => {
            on_tx!(&mut *tx, c => sqlx::query("RELEASE SAVEPOINT handoff").execute(&mut *c).await.map(|_| ())?);
            let arrived = (
                file.student.student_no.clone(),
                file.student.citizen_id.clone(),
            );
            on_tx!(&mut *tx, c => sqlx::query(
                "UPDATE transfers SET from_school = $2, from_school_name = $3 WHERE id = $1")
                .bind(&t.id).bind(&t.from_school).bind(&t.from_school_name)
                .execute(&mut *c).await.map(|_| ())?);
            set(
                tx,
                settings,
                t,
                State::Arrived,
                Some(Step::ReceivingConfirm),
                None,
            )
            .await?;
            event(tx, settings, t, &actor.username, "arrived", None, None).await?;
            send(tx, &peer, &Message::Received { id: t.id.clone() }).await?;
            Ok(Some(arrived))
        }
        Err(e) => {
            on_tx!(&mut *tx, c => sqlx::query("ROLLBACK TO SAVEPOINT handoff").execute(&mut *c).await.map(|_| ())?);
            let why = match e {
                TransferRecordError::NotApplicable(m) => m,
                TransferRecordError::Db(DbError::Duplicate { .. }) => {
                    "本省已有该身份证件号码的另一学籍，不能转入".into()
                }
                TransferRecordError::Db(e) => return Err(e),
            };
            set(tx, settings, t, State::Rejected, None, Some(&why)).await?;
            event(
                tx,
                settings,
                t,
                &actor.username,
                "declined",
                None,
                Some(&why),
            )
            .await?;
            send(tx, &peer, &decline(State::Rejected, why)).await?;
            Ok(None)
        }
    }
}

/// Applies received transfer messages every quarter second until aborted.
pub fn spawn_worker(
    db: Db,
    settings: Settings,
    federation: Federation,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_millis(250));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(e) = process_pending(&db, &settings, &federation).await {
                tracing::warn!(error = %e, "transfer: applying messages failed; will retry");
            }
        }
    })
}

/// A transfer as a user sees it: the copy, whether it waits for them, whether it is late.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TransferLine {
    #[serde(flatten)]
    pub transfer: Transfer,
    /// The present step is theirs to decide (or theirs to confirm).
    pub waiting_for_me: bool,
    pub overdue: bool,
    /// Late at a level below theirs: flagged for them to follow up.
    pub escalated_to_me: bool,
}

fn line(who: &Principal, t: Transfer, now: i64) -> TransferLine {
    let overdue = t.overdue(now);
    let waiting_for_me = acts_now(who, &t)
        || (t.state() == State::Arrived
            && flow::level_of(who) == Some(Level::School)
            && who.scope == Scope::Org(t.to_school.clone()));
    let escalated_to_me = overdue
        && t.step().is_some_and(|s| {
            s.side() == t.side() && flow::escalation(s.level()) == flow::level_of(who)
        });
    TransferLine {
        transfer: t,
        waiting_for_me,
        overdue,
        escalated_to_me,
    }
}

/// Which transfers a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only those that wait for the caller or are flagged to them as overdue.
    pub waiting: bool,
    /// Only this student's.
    pub student_no: Option<String>,
}

/// Transfers of this node within `who`'s scope, newest first.
pub async fn list(
    db: &Db,
    who: &Principal,
    filter: &Filter,
    limit: i64,
) -> Result<Vec<TransferLine>, DbError> {
    let (condition, value) = match &who.scope {
        Scope::Node => ("$1 = ''", String::new()),
        Scope::Org(code) => (
            "((side = 'receiving' AND to_school = $1) OR (side = 'sending' AND from_school = $1))",
            code.clone(),
        ),
        Scope::Division(prefix) => (
            "((side = 'receiving' AND to_division LIKE $1) OR \
              (side = 'sending' AND from_division LIKE $1))",
            format!("{prefix}%"),
        ),
        Scope::Aggregates | Scope::Person(_) => return Ok(Vec::new()),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM transfers WHERE {condition} AND ($2 = 0 OR state NOT IN \
         ('completed', 'rejected', 'cancelled')) AND ($3 = '' OR student_no = $3) \
         ORDER BY updated_ms DESC, id LIMIT $4"
    );
    let waiting = filter.waiting;
    let rows: Vec<Transfer> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&value).bind(i64::from(waiting))
        .bind(filter.student_no.as_deref().unwrap_or_default())
        .bind(if waiting { 2000 } else { limit })
        .fetch_all(p).await?);
    let now = platform::now_ms();
    Ok(rows
        .into_iter()
        .filter(|t| visible(who, t))
        .map(|t| line(who, t, now))
        .filter(|l| !waiting || l.waiting_for_me || l.escalated_to_me)
        .take(limit.max(0) as usize)
        .collect())
}

/// One transfer with its timeline, if within `who`'s scope.
pub async fn get(
    db: &Db,
    who: &Principal,
    id: &str,
) -> Result<(TransferLine, Vec<Event>), TransferError> {
    let sql = format!("SELECT {COLUMNS} FROM transfers WHERE id = $1");
    let t: Transfer = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id).fetch_optional(p).await.map_err(DbError::from)?)
    .filter(|t| visible(who, t))
    .ok_or(TransferError::NotFound)?;
    let events = on_db!(db, p => sqlx::query_as(
        "SELECT seq, transfer_id, at_ms, member, actor, action, step, state, next_step, reason \
         FROM transfer_events WHERE transfer_id = $1 ORDER BY seq")
        .bind(id).fetch_all(p).await.map_err(DbError::from)?);
    Ok((line(who, t, platform::now_ms()), events))
}

#[derive(sqlx::FromRow)]
struct EventOf {
    #[sqlx(flatten)]
    event: Event,
    own_school: String,
    own_division: String,
    student_no: String,
}

/// The feed other systems subscribe to: events after `after`, oldest first, of transfers
/// within `who`'s scope.
pub async fn events_after(
    db: &Db,
    who: &Principal,
    after: i64,
    limit: i64,
) -> Result<Vec<Event>, DbError> {
    let sql = "SELECT e.seq, e.transfer_id, e.at_ms, e.member, e.actor, e.action, e.step, \
         e.state, e.next_step, e.reason, \
         CASE WHEN t.side = 'receiving' THEN t.to_school ELSE t.from_school END AS own_school, \
         CASE WHEN t.side = 'receiving' THEN t.to_division ELSE t.from_division END AS own_division, \
         t.student_no FROM transfer_events e JOIN transfers t ON t.id = e.transfer_id \
         WHERE e.seq > $1 ORDER BY e.seq LIMIT $2";
    let rows: Vec<EventOf> = on_db!(db, p => sqlx::query_as(sql)
        .bind(after).bind(limit.clamp(1, 1000)).fetch_all(p).await?);
    let out = rows
        .into_iter()
        .filter(|r| visible_at(who, &r.own_school, &r.own_division, &r.student_no))
        .map(|r| r.event)
        .collect();
    Ok(out)
}
