//! Graduate employment at the edge (action plan §二.2 毕业生就业信息, §五.8 大学生就业信息共享
//! 平台): employer registration and the bureau's verification, jobs and their review, and the
//! job search that answers for every node (`GET /api/v1/jobs?q=…`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use employment::EmploymentError;
use employment::applications::{Application, ApplicationStatus, DiplomaIssuer};
use employment::employers::{Employer, EmployerStatus, Registration};
use employment::fairs::{Fair, FairInput};
use employment::graduates::{Destination, Graduate, Profile};
use employment::jobs::{Job, JobDecision, JobInput, Listing};
use employment::saved::SavedSearch;
use employment::service::{FederatedResult, JobQuery, PublicJob};
use kernel::access::Scope;
use kernel::{Lang, Localized};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::{ApiJson, ApiPath, ApiQuery};
use crate::auth::ApiUser;
use crate::{AppError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/employers", post(register_api).get(employers_api))
        .route("/api/v1/employers/{code}/review", post(review_api))
        .route("/api/v1/jobs", get(search_api).post(create_api))
        .route("/api/v1/jobs/mine", get(mine_api))
        .route("/api/v1/jobs/to-review", get(to_review_api))
        .route("/api/v1/jobs/{id}", get(job_api).put(update_api))
        .route("/api/v1/jobs/{id}/decision", post(decide_api))
        .route("/api/v1/jobs/{id}/apply", post(apply_api))
        .route("/api/v1/jobs/{id}/fair", post(attach_api))
        .route("/api/v1/jobs/recommended", get(recommended_api))
        .route("/api/v1/saved-searches", get(saved_api).post(save_api))
        .route(
            "/api/v1/saved-searches/{id}",
            axum::routing::delete(delete_saved_api),
        )
        .route("/api/v1/saved-searches/{id}/seen", post(seen_api))
        .route("/api/v1/job-fairs", get(fairs_api).post(create_fair_api))
        .route("/api/v1/job-fairs/{id}", get(fair_api))
        .route("/api/v1/graduates/me", get(me_api).put(profile_api))
        .route("/api/v1/graduates/{id}/destination", post(destination_api))
        .route("/api/v1/applications", get(applications_api))
        .route("/api/v1/applications/{id}", get(application_api))
        .route(
            "/api/v1/applications/{id}/decision",
            post(application_decision_api),
        )
}

impl From<EmploymentError> for AppError {
    fn from(e: EmploymentError) -> Self {
        match e {
            EmploymentError::NotFound => AppError::NotFound,
            EmploymentError::NotAllowed => AppError::Forbidden,
            EmploymentError::Invalid(_) => AppError::invalid(&e),
            EmploymentError::State(_) => AppError::Conflict {
                code: e.code(),
                zh: e.message(kernel::Lang::Zh),
                en: e.message(kernel::Lang::En),
            },
            EmploymentError::Audit(a) => AppError::internal(a),
            EmploymentError::Db(d) => AppError::internal(d),
        }
    }
}

/// The member code of this node (its jobs' keys start with it).
fn here(state: &AppState) -> &str {
    &state.config.member
}

#[derive(Serialize, ToSchema)]
pub struct Registered {
    credit_code: String,
    status: &'static str,
}

/// Registers an employer and its first account; it may post once a bureau has verified it.
#[utoipa::path(post, path = "/api/v1/employers", request_body = Registration,
    responses((status = 201, body = Registered), (status = 400, description = "a field is wrong: `id.checksum`, `field.phone`, `employer.registered`, ...")))]
pub(crate) async fn register_api(
    State(state): State<AppState>,
    crate::auth::ClientAddr(client): crate::auth::ClientAddr,
    ApiJson(r): ApiJson<Registration>,
) -> Result<(StatusCode, Json<Registered>), AppError> {
    // Each registration hashes a password: limited per client and per credit code.
    state.lookup_limiter.check(&client, &r.credit_code)?;
    let credit_code = employment::employers::register(&state.db, &r).await?;
    Ok((
        StatusCode::CREATED,
        Json(Registered {
            credit_code,
            status: EmployerStatus::Pending.as_str(),
        }),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct EmployersQuery {
    /// pending, verified or rejected
    #[serde(default)]
    status: Option<String>,
}

/// Employers registered in the caller's area (bureaus), pending first.
#[utoipa::path(get, path = "/api/v1/employers", params(EmployersQuery), responses((status = 200, body = Vec<Employer>)))]
pub(crate) async fn employers_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiQuery(q): ApiQuery<EmployersQuery>,
) -> Result<Json<Vec<Employer>>, AppError> {
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(EmployerStatus::parse(s).ok_or_else(|| {
            AppError::bad_request(
                "状态应为 pending、verified 或 rejected。",
                "status must be pending, verified or rejected",
            )
        })?),
        None => None,
    };
    Ok(Json(
        employment::employers::list(&state.db, &u.principal, status).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct ReviewRequest {
    verified: bool,
    #[serde(default)]
    note: String,
}

/// The bureau's decision on an employer's registration.
#[utoipa::path(post, path = "/api/v1/employers/{code}/review", request_body = ReviewRequest, responses((status = 204)))]
pub(crate) async fn review_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(r): ApiJson<ReviewRequest>,
) -> Result<StatusCode, AppError> {
    employment::employers::review(&state.db, &u.principal, &code, r.verified, &r.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Searches the open jobs of every node: merged, ranked, each naming its `source` member;
/// members that did not answer are listed in `unanswered`.
#[utoipa::path(get, path = "/api/v1/jobs", params(JobQuery), responses((status = 200, body = FederatedResult)))]
pub(crate) async fn search_api(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<JobQuery>,
) -> Result<Json<FederatedResult>, AppError> {
    let found = employment::service::search_everywhere(
        &state.jobs,
        state.federation.as_ref(),
        here(&state),
        &q,
    )
    .await?;
    Ok(Json(found))
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct NewJob {
    #[serde(flatten)]
    job: JobInput,
    /// Send it for review at once (otherwise it is kept as a draft).
    #[serde(default)]
    submit: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    id: String,
}

/// Creates a job for the caller's employer.
#[utoipa::path(post, path = "/api/v1/jobs", request_body = NewJob, responses((status = 201, body = Created)))]
pub(crate) async fn create_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiJson(new): ApiJson<NewJob>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let id = employment::jobs::create(&state.db, &u.principal, here(&state), &new.job, new.submit)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Rewrites a job (a published one goes back to review).
#[utoipa::path(put, path = "/api/v1/jobs/{id}", request_body = JobInput, responses((status = 204)))]
pub(crate) async fn update_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(job): ApiJson<JobInput>,
) -> Result<StatusCode, AppError> {
    employment::jobs::update(&state.db, &u.principal, &id, &job).await?;
    sync_index(&state).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct DecisionRequest {
    #[schema(value_type = String)]
    decision: JobDecision,
    #[serde(default)]
    note: String,
}

#[derive(Serialize, ToSchema)]
pub struct DecisionAnswer {
    status: &'static str,
}

/// submit / close (the employer), approve / send-back / close (the bureau over it).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/decision", request_body = DecisionRequest, responses((status = 200, body = DecisionAnswer)))]
pub(crate) async fn decide_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<DecisionRequest>,
) -> Result<Json<DecisionAnswer>, AppError> {
    let to = employment::jobs::decide(&state.db, &u.principal, &id, r.decision, &r.note).await?;
    sync_index(&state).await;
    Ok(Json(DecisionAnswer {
        status: to.as_str(),
    }))
}

/// Makes a change visible to this instance's searches at once (the worker would within a
/// second; other instances do within theirs).
pub(crate) async fn sync_index(state: &AppState) {
    if let Err(e) = state.jobs.sync(&state.db).await {
        tracing::warn!(error = %e, "jobs: cannot update the search index");
    }
}

#[derive(Serialize, ToSchema)]
pub struct JobAnswer {
    #[serde(flatten)]
    job: PublicJob,
    /// The member that holds the job.
    source: String,
    /// Set for the employer's users and the bureaus over it.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    review_note: Option<String>,
}

/// A job as `who` may see it: its full record when it is theirs to manage (the employer's
/// users, the bureaus over it), otherwise as published, from whichever node holds it.
pub(crate) async fn find_job(
    state: &AppState,
    who: Option<&kernel::access::Principal>,
    id: &str,
) -> Result<(PublicJob, String, Option<Job>), AppError> {
    if let Some(p) = who
        && let Ok(job) = employment::jobs::get(&state.db, Some(p), id).await
    {
        return Ok((
            PublicJob::from(job.clone()),
            here(state).to_owned(),
            Some(job),
        ));
    }
    let found =
        employment::service::get_anywhere(&state.db, state.federation.as_ref(), here(state), id)
            .await?;
    match found {
        Ok(Some((job, source))) => Ok((job, source, None)),
        Ok(None) => Err(AppError::NotFound),
        Err(peer) => {
            let member = employment::service::member_of(id).unwrap_or("?");
            let name = |lang| crate::employment_pages::member_name(state, member, lang);
            Err(AppError::NotFoundIncomplete {
                zh: format!(
                    "岗位所在的{}节点暂时无法连接：{}",
                    name(Lang::Zh),
                    peer.message
                ),
                en: format!(
                    "The {} node holding this job cannot be reached: {}",
                    name(Lang::En),
                    peer.message_en
                ),
            })
        }
    }
}

/// One job: an open one from any node; any status for its employer and the bureaus over it.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", responses((status = 200, body = JobAnswer), (status = 404)))]
pub(crate) async fn job_api(
    State(state): State<AppState>,
    user: Option<ApiUser>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<JobAnswer>, AppError> {
    let (job, source, own) = find_job(&state, user.as_ref().map(|u| &u.0.principal), &id).await?;
    Ok(Json(JobAnswer {
        job,
        source,
        status: own.as_ref().map(|j| j.status.clone()),
        review_note: own.and_then(|j| j.review_note),
    }))
}

/// The caller's employer's jobs, every status.
#[utoipa::path(get, path = "/api/v1/jobs/mine", responses((status = 200, body = Vec<Job>)))]
pub(crate) async fn mine_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
) -> Result<Json<Vec<Job>>, AppError> {
    Ok(Json(
        employment::jobs::list(&state.db, &u.principal, Listing::Own).await?,
    ))
}

/// Jobs awaiting the caller's review (bureaus).
#[utoipa::path(get, path = "/api/v1/jobs/to-review", responses((status = 200, body = Vec<Job>)))]
pub(crate) async fn to_review_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
) -> Result<Json<Vec<Job>>, AppError> {
    Ok(Json(
        employment::jobs::list(&state.db, &u.principal, Listing::ToReview).await?,
    ))
}

/// The diploma issuer of this node, when it can sign.
pub(crate) fn diploma_issuer<'a>(
    state: &'a AppState,
    origin: &'a str,
) -> Option<DiplomaIssuer<'a>> {
    state
        .issuer
        .as_deref()
        .map(|issuer| DiplomaIssuer { issuer, origin })
}

/// Applies to an open job of any node as the signed-in graduate, sending their résumé and
/// their diploma credential (when their institution recorded a diploma).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/apply", responses((status = 201, body = Created), (status = 409, description = "already applied, job closed, peer unreachable")))]
pub(crate) async fn apply_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiUser(u): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let origin = crate::certificates::origin(&state, &headers);
    let id = employment::applications::apply(
        &state.db,
        state.federation.as_ref(),
        here(&state),
        diploma_issuer(&state, &origin).as_ref(),
        &u.principal,
        &id,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    graduate: Graduate,
    profile: Profile,
}

/// The signed-in graduate's record (as their institution registered it) and profile.
#[utoipa::path(get, path = "/api/v1/graduates/me", responses((status = 200, body = Me)))]
pub(crate) async fn me_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
) -> Result<Json<Me>, AppError> {
    let Scope::Person(key) = &u.principal.scope else {
        return Err(AppError::NotFound);
    };
    let graduate =
        employment::graduates::read(&state.db, &state.audit, &u.principal, key, "我的就业档案")
            .await?;
    let profile = employment::graduates::profile(&state.db, key).await?;
    Ok(Json(Me { graduate, profile }))
}

/// Saves the signed-in graduate's profile (简历).
#[utoipa::path(put, path = "/api/v1/graduates/me", request_body = Profile, responses((status = 204)))]
pub(crate) async fn profile_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiJson(p): ApiJson<Profile>,
) -> Result<StatusCode, AppError> {
    employment::graduates::save_profile(&state.db, &u.principal, &p).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct DestinationRequest {
    /// employed, further-study, enlisted, self-employed or pending
    destination: String,
    /// Where they work or study on (division code), if known.
    #[serde(default)]
    division: Option<String>,
}

/// Records a graduate's destination (their institution, or a bureau over it).
#[utoipa::path(post, path = "/api/v1/graduates/{id}/destination", request_body = DestinationRequest, responses((status = 204)))]
pub(crate) async fn destination_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<DestinationRequest>,
) -> Result<StatusCode, AppError> {
    let destination = Destination::parse(&r.destination).ok_or_else(|| {
        AppError::bad_request(
            "毕业去向应为 employed、further-study、enlisted、self-employed 或 pending。",
            "destination must be employed, further-study, enlisted, self-employed or pending",
        )
    })?;
    employment::graduates::set_destination(
        &state.db,
        &u.principal,
        &id,
        destination,
        r.division.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct ApplicationsQuery {
    /// For an employer: only the applications to this job.
    #[serde(default)]
    job: Option<String>,
}

/// An employer's applications (to its jobs), or a graduate's own, their progress refreshed
/// from the employers' nodes.
#[utoipa::path(get, path = "/api/v1/applications", params(ApplicationsQuery), responses((status = 200, body = Vec<Application>)))]
pub(crate) async fn applications_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiQuery(q): ApiQuery<ApplicationsQuery>,
) -> Result<Json<Vec<Application>>, AppError> {
    let p = &u.principal;
    let rows = match p.scope {
        Scope::Person(_) => {
            employment::applications::mine(&state.db, state.federation.as_ref(), here(&state), p)
                .await?
        }
        _ => {
            employment::applications::for_employer(&state.db, &state.audit, p, q.job.as_deref())
                .await?
        }
    };
    Ok(Json(rows))
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationDetail {
    #[serde(flatten)]
    pub(crate) application: Application,
    /// The diploma credential the graduate sent.
    #[schema(value_type = Option<Object>)]
    pub(crate) diploma: Option<serde_json::Value>,
    /// Its verification here and now: signature, issuer, dates, live status.
    #[schema(value_type = Option<Object>)]
    pub(crate) diploma_report: Option<credential::verify::Report>,
}

/// One application: the employer's (with the diploma verified now) or the graduate's own.
pub(crate) async fn application_detail(
    state: &AppState,
    headers: &HeaderMap,
    who: &kernel::access::Principal,
    id: &str,
) -> Result<ApplicationDetail, AppError> {
    let application = employment::applications::get(&state.db, &state.audit, who, id).await?;
    let diploma = application.diploma();
    let diploma_report = match &diploma {
        Some(doc) => {
            let origin = crate::certificates::origin(state, headers);
            Some(crate::certificates::verify_document(state, &origin, doc).await)
        }
        None => None,
    };
    Ok(ApplicationDetail {
        application,
        diploma,
        diploma_report,
    })
}

#[utoipa::path(get, path = "/api/v1/applications/{id}", responses((status = 200, body = ApplicationDetail), (status = 404)))]
pub(crate) async fn application_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiUser(u): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ApplicationDetail>, AppError> {
    Ok(Json(
        application_detail(&state, &headers, &u.principal, &id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct ApplicationDecision {
    /// The employer: reviewing, interview, offer, rejected. The graduate: accepted,
    /// declined, withdrawn.
    to: String,
    #[serde(default)]
    note: String,
}

/// Moves an application on: the employer through review, interview and offer; the
/// graduate accepting or declining an offer, or withdrawing.
#[utoipa::path(post, path = "/api/v1/applications/{id}/decision", request_body = ApplicationDecision, responses((status = 204)))]
pub(crate) async fn application_decision_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<ApplicationDecision>,
) -> Result<StatusCode, AppError> {
    decide_application(&state, &u.principal, &id, &r.to, &r.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn decide_application(
    state: &AppState,
    who: &kernel::access::Principal,
    id: &str,
    to: &str,
    note: &str,
) -> Result<(), AppError> {
    let to = ApplicationStatus::parse(to)
        .ok_or_else(|| AppError::bad_request("申请状态不正确。", "unknown application status"))?;
    match who.scope {
        Scope::Person(_) => {
            employment::applications::respond(
                &state.db,
                state.federation.as_ref(),
                here(state),
                who,
                id,
                to,
            )
            .await?
        }
        _ => employment::applications::decide(&state.db, who, id, to, note).await?,
    }
    Ok(())
}

/// Jobs for the signed-in graduate: their major and level, in their preferred places.
#[utoipa::path(get, path = "/api/v1/jobs/recommended", responses((status = 200, body = FederatedResult)))]
pub(crate) async fn recommended_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
) -> Result<Json<FederatedResult>, AppError> {
    Ok(Json(
        employment::saved::recommendations(
            &state.db,
            &state.jobs,
            state.federation.as_ref(),
            here(&state),
            &u.principal,
        )
        .await?,
    ))
}

/// The signed-in person's saved searches, each with its matches published since last seen.
#[utoipa::path(get, path = "/api/v1/saved-searches", responses((status = 200, body = Vec<SavedSearch>)))]
pub(crate) async fn saved_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
) -> Result<Json<Vec<SavedSearch>>, AppError> {
    let saved = employment::saved::list(&state.db, &u.principal).await?;
    Ok(Json(
        employment::saved::with_news(&state.jobs, state.federation.as_ref(), here(&state), saved)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct SaveRequest {
    name: String,
    #[schema(value_type = Object)]
    query: JobQuery,
}

#[utoipa::path(post, path = "/api/v1/saved-searches", request_body = SaveRequest, responses((status = 201, body = Created)))]
pub(crate) async fn save_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiJson(r): ApiJson<SaveRequest>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let id = employment::saved::save(&state.db, &u.principal, &r.name, &r.query).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Marks a saved search's matches as seen.
#[utoipa::path(post, path = "/api/v1/saved-searches/{id}/seen", responses((status = 204)))]
pub(crate) async fn seen_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    employment::saved::touch(&state.db, &u.principal, &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/saved-searches/{id}", responses((status = 204)))]
pub(crate) async fn delete_saved_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    employment::saved::touch(&state.db, &u.principal, &id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Job fairs that have not ended (public).
#[utoipa::path(get, path = "/api/v1/job-fairs", responses((status = 200, body = Vec<Fair>)))]
pub(crate) async fn fairs_api(State(state): State<AppState>) -> Result<Json<Vec<Fair>>, AppError> {
    Ok(Json(
        employment::fairs::upcoming(&state.db)
            .await
            .map_err(AppError::internal)?,
    ))
}

/// Creates a job fair (a bureau, in its area).
#[utoipa::path(post, path = "/api/v1/job-fairs", request_body = FairInput, responses((status = 201, body = Created)))]
pub(crate) async fn create_fair_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiJson(input): ApiJson<FairInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let id = employment::fairs::create(&state.db, &u.principal, &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Serialize, ToSchema)]
pub struct FairAnswer {
    fair: Fair,
    jobs: Vec<PublicJob>,
}

/// A job fair with its open jobs (public).
#[utoipa::path(get, path = "/api/v1/job-fairs/{id}", responses((status = 200, body = FairAnswer), (status = 404)))]
pub(crate) async fn fair_api(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<FairAnswer>, AppError> {
    let (fair, jobs) = employment::fairs::get(&state.db, &id).await?;
    Ok(Json(FairAnswer {
        fair,
        jobs: jobs.into_iter().map(PublicJob::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct AttachRequest {
    /// The fair, or null to take the job out of its fair.
    fair_id: Option<String>,
}

/// Attaches the employer's job to a job fair.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/fair", request_body = AttachRequest, responses((status = 204)))]
pub(crate) async fn attach_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<AttachRequest>,
) -> Result<StatusCode, AppError> {
    employment::fairs::attach(&state.db, &u.principal, &id, r.fair_id.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
