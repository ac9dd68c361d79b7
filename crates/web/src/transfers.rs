//! Cross-province transfers at the edge (action plan §二.2, 川渝学籍信息共享与跨省转学):
//! the JSON API under `/api/v1/transfers` and the portal's 跨省转学 pages (the inbox of what
//! waits for the user, the application form, one transfer with its timeline and actions).
//! Everything is decided in the `transfer` crate; this module parses and renders.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kernel::Lang;
use kernel::access::Principal;
use serde::Deserialize;
use transfer::{Application, Decision, Event, Side, State as TState, Step, TransferLine};
use utoipa::{IntoParams, ToSchema};

use crate::api::{ApiJson, ApiPath, ApiQuery};
use crate::auth::{ApiUser, PageCtx};
use crate::i18n;
use crate::pages::{PageError, Shell, render};
use crate::{AppError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/transfers", get(list_api).post(apply_api))
        .route("/api/v1/transfers/events", get(events_api))
        .route("/api/v1/transfers/{id}", get(get_api))
        .route("/api/v1/transfers/{id}/decisions", post(decide_api))
        .route("/transfers", get(inbox_page).post(apply_page))
        .route("/transfers/{id}", get(transfer_page))
        .route("/transfers/{id}/decisions", post(decide_page))
}

/// This node's transfer settings, from its configuration.
pub fn settings(config: &platform::Config) -> transfer::Settings {
    transfer::Settings {
        member: config.member.clone(),
        chain: transfer::Chain {
            provincial_step: config.transfer_provincial_step,
        },
        step_ms: i64::from(config.transfer_step_hours) * 3_600_000,
    }
}

fn federation(state: &AppState) -> Result<&exchange::Federation, AppError> {
    state
        .federation
        .as_ref()
        .ok_or_else(|| AppError::invalid(&exchange::FederationError::NotConfigured))
}

// ---------------------------------------------------------------------------------------
// JSON API

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only what waits for the caller (or is overdue below them).
    waiting: Option<bool>,
    /// Only this student's transfers (学籍号).
    student_no: Option<String>,
    /// At most 500.
    limit: Option<i64>,
}

/// Transfers of this node within the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/transfers", params(ListQuery), security(("bearer" = [])), responses((status = 200, body = [TransferLine])))]
pub(crate) async fn list_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<TransferLine>>, AppError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    Ok(Json(
        transfer::list(
            &state.db,
            &u.principal,
            &transfer::Filter {
                waiting: q.waiting.unwrap_or(false),
                student_no: q.student_no.filter(|n| !n.trim().is_empty()),
            },
            limit,
        )
        .await?,
    ))
}

/// A receiving school applies to take a student held by another member's node.
#[utoipa::path(post, path = "/api/v1/transfers", request_body = Application, security(("bearer" = [])), responses(
    (status = 201, body = transfer::Transfer), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub(crate) async fn apply_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiJson(application): ApiJson<Application>,
) -> Result<(StatusCode, Json<transfer::Transfer>), AppError> {
    let settings = settings(&state.config);
    let t = transfer::apply(
        &state.db,
        &settings,
        federation(&state)?,
        &u.principal,
        &application,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(t)))
}

#[derive(serde::Serialize, ToSchema)]
pub struct TransferDetail {
    #[serde(flatten)]
    transfer: TransferLine,
    events: Vec<Event>,
}

/// One transfer with its timeline.
#[utoipa::path(get, path = "/api/v1/transfers/{id}", security(("bearer" = [])), responses((status = 200, body = TransferDetail), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn get_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TransferDetail>, AppError> {
    let (transfer, events) = transfer::get(&state.db, &u.principal, &id).await?;
    Ok(Json(TransferDetail { transfer, events }))
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionRequest {
    /// `approve`, `reject`, `cancel` or `confirm`.
    decision: Decision,
    /// Required to reject or cancel.
    reason: Option<String>,
}

/// A decision at the caller's step: approve or reject; the applicant school cancels (before
/// the record moves) or confirms enrolment.
#[utoipa::path(post, path = "/api/v1/transfers/{id}/decisions", request_body = DecisionRequest, security(("bearer" = [])), responses(
    (status = 200, body = transfer::Transfer), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub(crate) async fn decide_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(d): ApiJson<DecisionRequest>,
) -> Result<Json<transfer::Transfer>, AppError> {
    let settings = settings(&state.config);
    Ok(Json(
        transfer::decide(
            &state.db,
            &settings,
            &u.principal,
            &id,
            d.decision,
            d.reason.as_deref(),
        )
        .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct EventsQuery {
    /// The last `seq` already seen (0 for the start).
    after: Option<i64>,
    /// At most 1000.
    limit: Option<i64>,
}

/// What happened to transfers in the caller's scope after `after`, oldest first: the feed
/// other systems subscribe to (poll with the last `seq` seen).
#[utoipa::path(get, path = "/api/v1/transfers/events", params(EventsQuery), security(("bearer" = [])), responses((status = 200, body = [Event])))]
pub(crate) async fn events_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Json<Vec<Event>>, AppError> {
    Ok(Json(
        transfer::events_after(
            &state.db,
            &u.principal,
            q.after.unwrap_or(0),
            q.limit.unwrap_or(200),
        )
        .await?,
    ))
}

// ---------------------------------------------------------------------------------------
// Pages

/// The pages' own strings, once per language (a missing translation does not compile).
pub struct Texts {
    title: &'static str,
    intro: &'static str,
    plan: &'static str,
    waiting: &'static str,
    waiting_none: &'static str,
    all: &'static str,
    all_none: &'static str,
    apply_title: &'static str,
    apply_intro: &'static str,
    student_no: &'static str,
    to_grade: &'static str,
    reason: &'static str,
    documents: &'static str,
    documents_hint: &'static str,
    submit: &'static str,
    student: &'static str,
    from: &'static str,
    to: &'static str,
    state: &'static str,
    step: &'static str,
    due: &'static str,
    overdue: &'static str,
    escalated: &'static str,
    our_side: &'static str,
    timeline: &'static str,
    approve: &'static str,
    reject: &'static str,
    cancel: &'static str,
    confirm: &'static str,
    comment: &'static str,
    reason_required: &'static str,
    outcome: &'static str,
    view_record: &'static str,
    applicant: &'static str,
    id: &'static str,
    actor: &'static str,
    acted_step: &'static str,
}

const ZH: Texts = Texts {
    title: "跨省转学",
    intro: "转入学校提出申请，转入地教育局审核，转出学校同意，转出地教育局审核，学籍随后移交，转入学校确认报到。每一步都记录在案，并通知下一步的办理人。",
    plan: "《川渝教育协同发展行动计划》二.2：推进学籍信息共享，便利随迁子女跨省转学。",
    waiting: "待我办理",
    waiting_none: "目前没有等待您办理的转学。",
    all: "全部转学",
    all_none: "还没有转学记录。",
    apply_title: "提出转学申请（转入学校）",
    apply_intro: "填写学生在外省的学籍号。系统将以“转学核验”为用途向学籍所在省份核验学生身份和学籍状态。",
    student_no: "学籍号",
    to_grade: "拟入年级",
    reason: "转学原因",
    documents: "已收材料",
    documents_hint: "如：户口簿、居住证、监护人申请书",
    submit: "提交申请",
    student: "学生",
    from: "转出",
    to: "转入",
    state: "状态",
    step: "当前环节",
    due: "办理期限",
    overdue: "已逾期",
    escalated: "下级逾期，请督办",
    our_side: "本节点角色",
    timeline: "办理记录",
    approve: "同意",
    reject: "驳回",
    cancel: "撤销申请",
    confirm: "确认报到",
    comment: "意见或理由",
    reason_required: "驳回、撤销须填写理由",
    outcome: "结果说明",
    view_record: "查看学籍（转学核验）",
    applicant: "申请人",
    id: "转学编号",
    actor: "办理人",
    acted_step: "环节",
};

const EN: Texts = Texts {
    title: "Cross-province transfers",
    intro: "The receiving school applies, its district bureau approves, the sending school agrees, the sending district bureau approves, the record moves, and the receiving school confirms enrolment. Every step is recorded and the next person is told.",
    plan: "Action plan §二.2: share student-status data and make transfers between the provinces easy for families who move.",
    waiting: "Waiting for me",
    waiting_none: "Nothing waits for you.",
    all: "All transfers",
    all_none: "No transfers yet.",
    apply_title: "Apply for a transfer (receiving school)",
    apply_intro: "Enter the student's number in the other province. The node checks the student and their status there for the purpose of transfer verification.",
    student_no: "Student number",
    to_grade: "Grade joined",
    reason: "Reason",
    documents: "Documents received",
    documents_hint: "e.g. household register, residence permit, guardian's request",
    submit: "Apply",
    student: "Student",
    from: "From",
    to: "To",
    state: "State",
    step: "Step",
    due: "Due",
    overdue: "Overdue",
    escalated: "Overdue below you: follow up",
    our_side: "This node",
    timeline: "Timeline",
    approve: "Approve",
    reject: "Reject",
    cancel: "Cancel application",
    confirm: "Confirm enrolment",
    comment: "Comment or reason",
    reason_required: "A reason is required to reject or cancel",
    outcome: "Outcome",
    view_record: "View the record (transfer verification)",
    applicant: "Applicant",
    id: "Transfer id",
    actor: "By",
    acted_step: "Step",
};

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// A transfer as a row of the pages.
struct Row {
    id: String,
    student_no: String,
    student_name: String,
    from: String,
    to: String,
    state: &'static str,
    state_class: &'static str,
    step: String,
    due: String,
    overdue: bool,
    escalated: bool,
}

fn row(l: &TransferLine, lang: Lang) -> Row {
    let t = &l.transfer;
    let state = t.state();
    Row {
        id: t.id.clone(),
        student_no: t.student_no.clone(),
        student_name: t.student_name.clone(),
        from: format!("{} · {}", t.from_member, t.from_school_name),
        to: format!("{} · {}", t.to_member, t.to_school_name),
        state: state.label(lang),
        state_class: state.as_str(),
        step: t.step().map(|s| s.label(lang)).unwrap_or("—").to_owned(),
        due: t
            .due_ms
            .map(|d| i18n::format_ms(d, lang))
            .unwrap_or_default(),
        overdue: l.overdue,
        escalated: l.escalated_to_me,
    }
}

#[derive(Template)]
#[template(path = "transfers.html")]
struct InboxPage {
    shell: Shell,
    t: &'static Texts,
    waiting: Vec<Row>,
    all: Vec<Row>,
    may_apply: bool,
    grades: &'static [&'static str],
    problem: Option<String>,
    form: ApplyForm,
}

#[derive(Deserialize, Default)]
struct ApplyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    student_no: String,
    #[serde(default)]
    to_grade: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    documents: String,
}

fn may_apply(p: &Principal) -> bool {
    transfer::flow::level_of(p) == Some(transfer::Level::School)
}

async fn inbox(
    state: &AppState,
    ctx: &PageCtx,
    shell: Shell,
    problem: Option<String>,
    form: ApplyForm,
) -> Result<InboxPage, PageError> {
    let user = match ctx.require_user() {
        Ok(u) => u,
        Err(e) => return Err(shell.fail(e)),
    };
    if transfer::flow::level_of(&user.principal).is_none() {
        return Err(shell.fail(AppError::NotFound));
    }
    let lines = match transfer::list(
        &state.db,
        &user.principal,
        &transfer::Filter::default(),
        200,
    )
    .await
    {
        Ok(l) => l,
        Err(e) => return Err(shell.fail(AppError::internal(e))),
    };
    let waiting = match transfer::list(
        &state.db,
        &user.principal,
        &transfer::Filter {
            waiting: true,
            student_no: None,
        },
        200,
    )
    .await
    {
        Ok(l) => l,
        Err(e) => return Err(shell.fail(AppError::internal(e))),
    };
    Ok(InboxPage {
        t: texts(ctx.lang),
        waiting: waiting.iter().map(|l| row(l, ctx.lang)).collect(),
        all: lines.iter().map(|l| row(l, ctx.lang)).collect(),
        may_apply: may_apply(&user.principal),
        grades: kernel::student_status::GRADES,
        problem,
        form,
        shell,
    })
}

async fn inbox_page(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    Ok(render(
        inbox(&state, &ctx, shell, None, ApplyForm::default()).await?,
    ))
}

async fn apply_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(form): Form<ApplyForm>,
) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    let result: Result<transfer::Transfer, AppError> = async {
        let user = ctx.check_csrf(&form.csrf)?;
        let application = Application {
            student_no: form.student_no.clone(),
            to_grade: form.to_grade.clone(),
            reason: form.reason.clone(),
            documents: form.documents.clone(),
        };
        let settings = settings(&state.config);
        Ok(transfer::apply(
            &state.db,
            &settings,
            federation(&state)?,
            &user.principal,
            &application,
        )
        .await?)
    }
    .await;
    match result {
        Ok(t) => Ok(Redirect::to(&format!("/transfers/{}", t.id)).into_response()),
        // Input problems are shown above the form, which keeps what was typed.
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. } | AppError::NotFound)) => {
            let status = e.status();
            let message = e.message(ctx.lang);
            let page = inbox(&state, &ctx, shell, Some(message), form).await?;
            Ok((status, render(page)).into_response())
        }
        Err(e) => Err(shell.fail(e)),
    }
}

struct EventRow {
    when: String,
    member: String,
    actor: String,
    action: &'static str,
    step: String,
    reason: String,
}

fn action_label(action: &str, lang: Lang) -> &'static str {
    let zh = match action {
        "applied" => ("提出申请", "Applied"),
        "approved" => ("同意", "Approved"),
        "rejected" => ("驳回", "Rejected"),
        "cancelled" => ("撤销", "Cancelled"),
        "requested" => ("收到转学请求", "Request received"),
        "arrived" => ("学籍已转入", "Record arrived"),
        "handed-over" => ("学籍已移交，本省标记转出", "Record handed over"),
        "declined" => ("移交未完成，学籍退回", "Handoff declined"),
        "confirmed" => ("确认报到", "Enrolment confirmed"),
        "blocked" => ("受阻，需人工处理", "Blocked: needs a person"),
        _ => ("", ""),
    };
    match lang {
        Lang::Zh => zh.0,
        Lang::En => zh.1,
    }
}

#[derive(Template)]
#[template(path = "transfer.html")]
struct TransferPage {
    shell: Shell,
    t: &'static Texts,
    row: Row,
    side: &'static str,
    reason: String,
    documents: String,
    applicant: String,
    outcome: Option<String>,
    events: Vec<EventRow>,
    may_decide: bool,
    may_cancel: bool,
    may_confirm: bool,
    /// Where to read the student's record.
    lookup_href: Option<String>,
}

async fn transfer_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    let user = match ctx.require_user() {
        Ok(u) => u,
        Err(e) => return Err(shell.fail(e)),
    };
    let (line, events) = match transfer::get(&state.db, &user.principal, &id).await {
        Ok(found) => found,
        Err(e) => return Err(shell.fail(AppError::from(e))),
    };
    let lang = ctx.lang;
    let t = &line.transfer;
    let side = t.side();
    let receiving_school = may_apply(&user.principal)
        && user.principal.scope == kernel::access::Scope::Org(t.to_school.clone());
    let page = TransferPage {
        t: texts(lang),
        row: row(&line, lang),
        side: side.label(lang),
        reason: t.reason.clone(),
        documents: t.documents.clone(),
        applicant: t.applicant.clone(),
        outcome: t.outcome_reason.clone(),
        events: events
            .iter()
            .map(|e| EventRow {
                when: i18n::format_ms(e.at_ms, lang),
                member: e.member.clone(),
                actor: e.actor.clone(),
                action: action_label(&e.action, lang),
                step: e
                    .step
                    .as_deref()
                    .and_then(Step::parse)
                    .map(|s| s.label(lang))
                    .unwrap_or("")
                    .to_owned(),
                reason: e.reason.clone().unwrap_or_default(),
            })
            .collect(),
        may_decide: line.waiting_for_me && t.state() == TState::Pending,
        may_cancel: receiving_school && side == Side::Receiving && t.state() == TState::Pending,
        may_confirm: line.waiting_for_me && t.state() == TState::Arrived,
        // The receiving side reads the record from the other province, minimised for
        // 转学核验; the sending side has it here.
        lookup_href: match side {
            Side::Receiving if !t.state().is_final() => Some(format!(
                "/federation/lookup?q={}&purpose={}",
                t.student_no,
                transfer::PURPOSE
            )),
            Side::Receiving => None,
            Side::Sending => Some(format!("/students/{}", t.student_no)),
        },
        shell,
    };
    Ok(render(page))
}

#[derive(Deserialize)]
struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

async fn decide_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    let result: Result<(), AppError> = async {
        let user = ctx.check_csrf(&form.csrf)?;
        let decision = Decision::parse(&form.decision)
            .ok_or_else(|| AppError::bad_request("请选择办理意见。", "Choose a decision."))?;
        let settings = settings(&state.config);
        let reason = Some(form.reason.as_str()).filter(|r| !r.trim().is_empty());
        transfer::decide(&state.db, &settings, &user.principal, &id, decision, reason).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/transfers/{id}")).into_response()),
        Err(e) => Err(shell.fail(e)),
    }
}
