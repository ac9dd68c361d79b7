//! The JSON API under `/api/v1`, `/healthz`, `/metrics` and the OpenAPI document.

use axum::extract::{FromRequest, FromRequestParts, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kernel::Lang;
use kernel::access::{OrgKind, Role, Scope};
use kernel::ids::StudentNo;
use platform::audit::{self, Access};
use platform::orgs::{self, Org};
use platform::users::{self, SessionKind};
use registry::{Change, ChangeRequest, StudentLine, StudentQuery, StudentView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::{ApiUser, ClientAddr};
use crate::error::ErrorBody;
use crate::pages::{default_purpose, visible_org};
use crate::{AppError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/auth/token", post(issue_token))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/access-log", get(my_access_log))
        .route("/api/v1/orgs", get(list_orgs))
        .route("/api/v1/orgs/{code}", get(get_org))
        .route("/api/v1/students", get(list_students))
        .route("/api/v1/students/{student_no}", get(get_student))
        .route("/api/v1/students/{student_no}/changes", post(add_change))
}

/// JSON body extractor whose rejections are our stable error codes.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// Query-string extractor whose rejections are our stable error codes.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

/// Path extractor whose rejections are our stable error codes.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

#[derive(OpenApi)]
#[openapi(
    info(title = "chuanyu 川渝教育协同平台 node API", description = "JSON API of one provincial node. Errors are `{code, message, message_en}` with stable codes."),
    paths(healthz, issue_token, me, my_access_log, list_orgs, get_org, list_students, get_student, add_change,
        crate::imports::upload_api, crate::imports::run_api, crate::imports::export_api,
        crate::transfers::list_api, crate::transfers::apply_api, crate::transfers::get_api, crate::transfers::decide_api, crate::transfers::events_api,
        crate::certificates::lookup_api, crate::certificates::by_code_api, crate::certificates::verify_api,
        crate::certificates::credential_api, crate::certificates::status_api,
        crate::employment::register_api, crate::employment::employers_api, crate::employment::review_api,
        crate::employment::search_api, crate::employment::create_api, crate::employment::update_api,
        crate::employment::decide_api, crate::employment::job_api, crate::employment::mine_api,
        crate::employment::to_review_api, crate::employment::apply_api, crate::employment::me_api,
        crate::employment::profile_api, crate::employment::destination_api, crate::employment::applications_api,
        crate::employment::application_api, crate::employment::application_decision_api,
        crate::employment_stats::stats_api, crate::employment::recommended_api, crate::employment::saved_api,
        crate::employment::save_api, crate::employment::seen_api, crate::employment::delete_saved_api,
        crate::employment::fairs_api, crate::employment::create_fair_api, crate::employment::fair_api,
        crate::employment::attach_api),
    components(schemas(ErrorBody, Health, TokenRequest, TokenResponse, Me, Org, Access, StudentView, StudentLine, Change, ChangeRequest,
        crate::imports::ImportResult, crate::imports::RunResult,
        transfer::Transfer, transfer::TransferLine, transfer::Event, transfer::Application, transfer::Decision,
        crate::transfers::TransferDetail, crate::transfers::DecisionRequest,
        crate::certificates::LookupRequest, crate::certificates::CodeVerification, crate::certificates::StatusRequest,
        certificates::service::LookupOutcome, certificates::LookupResult,
        employment::employers::Registration, employment::employers::Employer, employment::jobs::JobInput,
        employment::jobs::Job, employment::service::FederatedResult, employment::service::JobHit,
        employment::service::PublicJob, employment::Problem,
        crate::employment::Registered, crate::employment::ReviewRequest, crate::employment::NewJob,
        crate::employment::Created, crate::employment::DecisionRequest, crate::employment::DecisionAnswer,
        crate::employment::JobAnswer, crate::employment::Me, crate::employment::DestinationRequest,
        crate::employment::ApplicationDetail, crate::employment::ApplicationDecision, crate::employment_stats::StatsAnswer,
        crate::employment::SaveRequest, crate::employment::FairAnswer, crate::employment::AttachRequest,
        employment::saved::SavedSearch, employment::fairs::Fair, employment::fairs::FairInput,
        employment::graduates::Graduate, employment::graduates::Profile, employment::applications::Application)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
    member: String,
    version: &'static str,
}

/// Liveness: answers without touching the database.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
async fn healthz(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        member: state.config.member.clone(),
        version: env!("CARGO_PKG_VERSION"),
    })
}

async fn metrics(State(state): State<AppState>) -> Response {
    if state.federation.is_some() {
        match exchange::outbox::counts(&state.db).await {
            Ok(counts) => state.metrics.set_outbox(&counts),
            Err(e) => tracing::warn!(error = %e, "metrics: cannot count the outbox"),
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    username: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`.
    token: String,
    /// Expiry, milliseconds since the Unix epoch.
    expires_ms: i64,
}

/// Exchanges a user name and password for a bearer token. Rate-limited per client and user.
#[utoipa::path(post, path = "/api/v1/auth/token", request_body = TokenRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, body = ErrorBody, description = "`sign_in_failed`"),
    (status = 429, body = ErrorBody, description = "`rate_limited`")))]
async fn issue_token(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Json<TokenResponse>, AppError> {
    state.login_limiter.check(&client, &req.username)?;
    let user = users::authenticate(&state.db, &req.username, &req.password)
        .await?
        .ok_or(AppError::SignIn)?;
    let session = users::start_session(
        &state.db,
        &user,
        SessionKind::Api,
        state.config.api_token_ttl_minutes,
        &client.to_string(),
    )
    .await?;
    Ok(Json(TokenResponse {
        token: session.token,
        expires_ms: session.expires_ms,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    username: String,
    display_name: String,
    role: String,
    org_code: Option<String>,
    org_name: Option<String>,
    person_key: Option<String>,
    #[schema(value_type = Object)]
    scope: Scope,
}

#[utoipa::path(get, path = "/api/v1/me", security(("bearer" = [])), responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(ApiUser(u): ApiUser) -> Json<Me> {
    Json(Me {
        username: u.principal.username,
        display_name: u.display_name,
        role: u.principal.role.as_str().to_owned(),
        org_code: u.org_code,
        org_name: u.org_name,
        person_key: u.person_key,
        scope: u.principal.scope,
    })
}

/// Who accessed the caller's own record (我的访问记录).
#[utoipa::path(get, path = "/api/v1/me/access-log", security(("bearer" = [])), responses((status = 200, body = [Access])))]
async fn my_access_log(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
) -> Result<Json<Vec<Access>>, AppError> {
    match &u.person_key {
        Some(key) => {
            let mut entries = audit::accesses_to(&state.db, key, 500).await?;
            crate::federation::name_peers(&state, &mut entries, Lang::Zh);
            Ok(Json(entries))
        }
        None => Ok(Json(vec![])),
    }
}

#[derive(Deserialize, IntoParams)]
pub struct OrgQuery {
    /// Organisation kind, e.g. `school`.
    kind: Option<String>,
}

/// Organisations within the caller's scope.
#[utoipa::path(get, path = "/api/v1/orgs", params(OrgQuery, Paging), security(("bearer" = [])), responses((status = 200, body = [Org])))]
async fn list_orgs(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiQuery(q): ApiQuery<OrgQuery>,
    ApiQuery(page): ApiQuery<Paging>,
) -> Result<Json<Vec<Org>>, AppError> {
    let kind = match q.kind.as_deref() {
        None | Some("") => None,
        Some(k) => Some(OrgKind::parse(k).ok_or_else(|| {
            AppError::bad_request(
                format!("未知的机构类型：{k}"),
                format!("unknown organisation kind: {k}"),
            )
        })?),
    };
    let prefix = match &u.principal.scope {
        Scope::Node | Scope::Aggregates => String::new(),
        Scope::Division(p) => p.clone(),
        // Members of one organisation see just their own.
        Scope::Org(code) => {
            let org = visible_org(&state, &u, code).await?;
            return Ok(Json(vec![org]));
        }
        Scope::Person(_) => return Ok(Json(vec![])),
    };
    Ok(Json(
        orgs::list(&state.db, &prefix, kind, page.limit(), page.offset()).await?,
    ))
}

/// One organisation; 404 both when unknown and when outside the caller's scope.
#[utoipa::path(get, path = "/api/v1/orgs/{code}", security(("bearer" = [])), responses((status = 200, body = Org), (status = 404, body = ErrorBody)))]
async fn get_org(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<Org>, AppError> {
    Ok(Json(visible_org(&state, &u, &code).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct Paging {
    /// At most 500.
    limit: Option<i64>,
    offset: Option<i64>,
}

impl Paging {
    fn limit(&self) -> i64 {
        self.limit.unwrap_or(50).clamp(1, 500)
    }
    fn offset(&self) -> i64 {
        self.offset.unwrap_or(0).max(0)
    }
}

/// Students within the caller's scope, by 学籍号, ID number, name (exact or prefix), school,
/// grade or status; paginated; audited as one search.
#[utoipa::path(get, path = "/api/v1/students", params(StudentQuery, Paging), security(("bearer" = [])), responses((status = 200, body = [StudentLine])))]
async fn list_students(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiQuery(q): ApiQuery<StudentQuery>,
    ApiQuery(page): ApiQuery<Paging>,
) -> Result<Json<Vec<StudentLine>>, AppError> {
    Ok(Json(
        registry::search_students(
            &state.db,
            &state.audit,
            &u.principal,
            &q,
            page.limit(),
            page.offset(),
        )
        .await?,
    ))
}

/// Records a 异动 (休学, 复学, 升级, 留级, 毕业, ...) for a student of the caller's school.
#[utoipa::path(post, path = "/api/v1/students/{student_no}/changes", request_body = ChangeRequest, security(("bearer" = [])), responses(
    (status = 201, body = Change), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`change.not_applicable`")))]
async fn add_change(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiPath(no): ApiPath<String>,
    ApiJson(change): ApiJson<ChangeRequest>,
) -> Result<(axum::http::StatusCode, Json<Change>), AppError> {
    let no = StudentNo::parse(&no).map_err(|e| AppError::invalid(&e))?;
    let done = registry::record_change(&state.db, &u.principal, &no, &change).await?;
    Ok((axum::http::StatusCode::CREATED, Json(done)))
}

#[derive(Deserialize, IntoParams)]
pub struct PurposeQuery {
    /// Why the record is read (recorded in the audit log), e.g. `学籍管理`.
    purpose: Option<String>,
}

/// One student's record by 学籍号, audited; ID number masked unless the role needs it. A
/// malformed 学籍号 is refused with the rule it breaks (`id.checksum`, `id.length`, ...).
/// A student this node does not hold is asked for on the peer nodes the federation allows
/// for the purpose (e.g. `transfer-verification` / 转学核验), by blind index; `source` names
/// the member that answered. `federation.incomplete` (404): not found, and some peers could
/// not be asked.
#[utoipa::path(get, path = "/api/v1/students/{student_no}", params(PurposeQuery), security(("bearer" = [])), responses((status = 200, body = StudentView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_student(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiPath(no): ApiPath<String>,
    ApiQuery(q): ApiQuery<PurposeQuery>,
) -> Result<Response, AppError> {
    /// The record as this node holds it, serialised straight into the response (this is the
    /// node's hottest path: no intermediate JSON value).
    #[derive(Serialize)]
    struct Held<'a> {
        #[serde(flatten)]
        view: StudentView,
        source: &'a str,
        source_name: &'a str,
    }
    let no = StudentNo::parse(&no).map_err(|e| AppError::invalid(&e))?;
    let purpose = purpose(q.purpose.as_deref(), u.principal.role)?;
    match registry::read_student(&state.db, &state.audit, &u.principal, &no, &purpose).await {
        Ok(view) => Ok(Json(Held {
            view,
            source: &state.config.member,
            source_name: &state.config.name,
        })
        .into_response()),
        Err(registry::ReadError::NotFound) => crate::federation::lookup_elsewhere(
            &state,
            &u.principal,
            federation::IdentifierKind::StudentNo,
            no.as_str(),
            &purpose,
        )
        .await?
        .map(|found| Json(found).into_response())
        .ok_or(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// A declared purpose is short plain text; none means the role's default.
fn purpose(declared: Option<&str>, role: Role) -> Result<String, AppError> {
    match declared.map(str::trim) {
        None | Some("") => Ok(default_purpose(role).to_owned()),
        Some(p) if p.chars().count() <= 32 && !p.chars().any(char::is_control) => Ok(p.to_owned()),
        Some(_) => Err(AppError::bad_request(
            "用途说明须为不超过 32 个字的文字。",
            "A purpose is plain text of at most 32 characters.",
        )),
    }
}
