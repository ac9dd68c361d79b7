//! Bulk import and export of 学籍 on the portal and the API: upload a list, see exactly
//! which rows failed and why, download the problems, fix and re-upload; download templates
//! and exports. The work itself is `registry::files`, shared with the CLI.

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kernel::access::{Principal, Role, Scope};
use registry::StudentQuery;
use registry::files::{self, Kind};
use registry::import::{ImportError, Problem, Run};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use crate::api::{ApiPath, ApiQuery};
use crate::auth::{ApiUser, PageCtx};
use crate::pages::{PageError, Shell, render};
use crate::{AppError, AppState};

pub fn routes(upload_limit: usize) -> Router<AppState> {
    let uploads = Router::new()
        .route("/import", post(upload_page))
        .route("/api/v1/imports/{kind}", post(upload_api))
        .layer(DefaultBodyLimit::max(upload_limit));
    Router::new()
        .route("/import", get(import_page))
        .route("/templates/students.{ext}", get(template_students))
        .route("/templates/schools.{ext}", get(template_schools))
        .route("/templates/teachers.{ext}", get(template_teachers))
        .route("/templates/graduates.{ext}", get(template_graduates))
        .route("/import/{run}", get(result_page))
        .route("/import/{run}/report.{ext}", get(report_page))
        .route("/export/students.{ext}", get(export_page))
        .route("/api/v1/import-runs/{run}", get(run_api))
        .route("/api/v1/import-runs/{run}/report.{ext}", get(report_api))
        .route("/api/v1/exports/students.{ext}", get(export_api))
        .merge(uploads)
}

impl From<ImportError> for AppError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Source(s) => AppError::Invalid {
                code: s.code,
                zh: s.zh,
                en: s.en,
            },
            ImportError::NotAllowed => AppError::Forbidden,
            other => AppError::internal(other),
        }
    }
}

impl From<registry::ExportError> for AppError {
    fn from(e: registry::ExportError) -> Self {
        match e {
            registry::ExportError::Read(r) => r.into(),
            registry::ExportError::Io(e) => AppError::internal(e),
        }
    }
}

/// The lists the portal imports: the 学籍 ones, teacher certificates and graduates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Registry(Kind),
    Teachers,
    Graduates,
}

/// Who may upload which list: school administrators their students; bureaus and platform
/// administrators students, schools and the certificates their area certified; university
/// administrators (and bureaus over them) their graduates.
fn may_import(who: &Principal, list: List) -> bool {
    match list {
        List::Registry(Kind::Students) => matches!(
            who.role,
            Role::PlatformAdmin | Role::Bureau | Role::SchoolAdmin
        ),
        List::Registry(Kind::Schools) | List::Teachers => {
            matches!(who.role, Role::PlatformAdmin | Role::Bureau)
        }
        List::Graduates => matches!(
            who.role,
            Role::PlatformAdmin | Role::Bureau | Role::SchoolAdmin
        ),
    }
}

fn kind_of(slug: &str) -> Result<List, AppError> {
    match slug {
        "students" => Ok(List::Registry(Kind::Students)),
        "schools" => Ok(List::Registry(Kind::Schools)),
        "teachers" => Ok(List::Teachers),
        "graduates" => Ok(List::Graduates),
        _ => Err(AppError::NotFound),
    }
}

/// `xlsx` or `csv` from a route's extension; anything else is not a page.
fn wants_xlsx(ext: &str) -> Result<bool, AppError> {
    match ext {
        "xlsx" => Ok(true),
        "csv" => Ok(false),
        _ => Err(AppError::NotFound),
    }
}

fn attachment(bytes_or_body: Body, file_name: &str, xlsx: bool) -> Response {
    let mime = if xlsx {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else {
        "text/csv; charset=utf-8"
    };
    // RFC 6266/5987: an ASCII fallback and the UTF-8 name browsers show.
    let encoded: String = form_urlencoded::byte_serialize(file_name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    let disposition = format!(
        "attachment; filename=\"download.{}\"; filename*=UTF-8''{encoded}",
        if xlsx { "xlsx" } else { "csv" }
    );
    (
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes_or_body,
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    shell: Shell,
    schools_allowed: bool,
    /// A university's administrator: the list they upload is their graduates.
    university: bool,
    graduates_allowed: bool,
}

async fn import_page(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    let user = match ctx.require_user() {
        Ok(u) if may_import(&u.principal, List::Registry(Kind::Students)) => u,
        Ok(_) => return Err(shell.fail(AppError::NotFound)),
        Err(e) => return Err(shell.fail(e)),
    };
    let schools_allowed = may_import(&user.principal, List::Registry(Kind::Schools));
    let university = match (&user.principal.scope, &user.org_code) {
        (Scope::Org(_), Some(code)) => match platform::orgs::get(&state.db, code).await {
            Ok(org) => org.and_then(|o| o.kind()) == Some(kernel::access::OrgKind::University),
            Err(e) => return Err(shell.fail(e)),
        },
        _ => false,
    };
    Ok(render(ImportPage {
        shell,
        schools_allowed,
        university,
        graduates_allowed: may_import(&user.principal, List::Graduates),
    }))
}

async fn template_students(Path(ext): Path<String>) -> Result<Response, AppError> {
    template(List::Registry(Kind::Students), &ext, "学籍导入模板")
}

async fn template_schools(Path(ext): Path<String>) -> Result<Response, AppError> {
    template(List::Registry(Kind::Schools), &ext, "学校导入模板")
}

async fn template_teachers(Path(ext): Path<String>) -> Result<Response, AppError> {
    template(List::Teachers, &ext, "教师资格证书导入模板")
}

async fn template_graduates(Path(ext): Path<String>) -> Result<Response, AppError> {
    template(List::Graduates, &ext, "毕业生名单导入模板")
}

fn template(list: List, ext: &str, name: &str) -> Result<Response, AppError> {
    let xlsx = wants_xlsx(ext)?;
    let bytes = match list {
        List::Registry(kind) => files::template(kind, xlsx),
        List::Teachers => certificates::import::template(xlsx),
        List::Graduates => employment::graduates::template(xlsx),
    }
    .map_err(AppError::internal)?;
    Ok(attachment(
        Body::from(bytes),
        &format!("{name}.{ext}"),
        xlsx,
    ))
}

/// A file received into a temporary file, streamed so its size never sits in memory.
struct Upload {
    file: tempfile::NamedTempFile,
}

impl Upload {
    /// A temporary path keeping the upload's extension, which tells the reader its format.
    fn new(original_name: &str) -> Result<Upload, AppError> {
        let ext = std::path::Path::new(original_name)
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy().to_lowercase()))
            .unwrap_or_default();
        let file = tempfile::Builder::new()
            .prefix("chuanyu-upload-")
            .suffix(&ext)
            .tempfile()
            .map_err(AppError::internal)?;
        Ok(Upload { file })
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportResult {
    #[schema(value_type = Object)]
    summary: registry::import::ImportSummary,
    #[schema(value_type = Vec<Object>)]
    problems: Vec<Problem>,
    extra_columns: Vec<String>,
}

/// Imports a received file; the run records the name the user gave it.
async fn run_import(
    state: &AppState,
    who: &Principal,
    list: List,
    upload: &Upload,
    name: &str,
    dry_run: bool,
) -> Result<files::Outcome, AppError> {
    if !may_import(who, list) {
        return Err(AppError::Forbidden);
    }
    let path = upload.file.path();
    Ok(match list {
        List::Registry(kind) => {
            let bar = indicatif::ProgressBar::hidden();
            files::import_file(&state.db, who, kind, path, name, dry_run, &bar).await?
        }
        List::Teachers => {
            certificates::import::import_file(&state.db, who, path, name, dry_run).await?
        }
        List::Graduates => {
            employment::graduates::import_file(&state.db, who, path, name, dry_run).await?
        }
    })
}

/// The upload form: the file is streamed to a temporary file, checked against the form's
/// CSRF token, imported, and the browser is sent to the result page.
async fn upload_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    let result: Result<String, AppError> = async {
        let user = ctx.require_user()?;
        let mut csrf = String::new();
        let mut kind = List::Registry(Kind::Students);
        let mut dry_run = false;
        let mut upload = None;
        while let Some(mut field) = form.next_field().await.map_err(|e| {
            AppError::bad_request(
                format!("上传内容不完整：{e}"),
                format!("The upload is incomplete: {e}"),
            )
        })? {
            match field.name().unwrap_or("") {
                "csrf" => csrf = field.text().await.unwrap_or_default(),
                "kind" => kind = kind_of(&field.text().await.unwrap_or_default())?,
                "dry_run" => dry_run = true,
                "file" => {
                    let name = field.file_name().unwrap_or("upload.csv").to_owned();
                    let received = Upload::new(&name)?;
                    let mut out = tokio::fs::File::create(received.file.path())
                        .await
                        .map_err(AppError::internal)?;
                    while let Some(chunk) =
                        field.chunk().await.map_err(|_| AppError::PayloadTooLarge)?
                    {
                        out.write_all(&chunk).await.map_err(AppError::internal)?;
                    }
                    out.flush().await.map_err(AppError::internal)?;
                    upload = Some((received, name));
                }
                _ => {}
            }
        }
        ctx.check_csrf(&csrf)?;
        let (received, name) = upload.ok_or_else(|| {
            AppError::bad_request("请选择要上传的文件。", "Choose a file to upload.")
        })?;
        let outcome = run_import(&state, &user.principal, kind, &received, &name, dry_run).await?;
        Ok(format!("/import/{}", outcome.summary.run_id))
    }
    .await;
    match result {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(e) => Err(shell.fail(e)),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// Validate only; store nothing.
    #[serde(default)]
    dry_run: bool,
    /// The file's name: its extension (.csv, .xlsx) tells the format.
    file_name: Option<String>,
}

/// Uploads a list as the request body (`students`, `schools` or `teachers`), imports it and answers
/// the summary with the first problems.
#[utoipa::path(post, path = "/api/v1/imports/{kind}", params(UploadQuery), request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    security(("bearer" = [])), responses((status = 200, body = ImportResult), (status = 400, body = crate::error::ErrorBody)))]
pub(crate) async fn upload_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiPath(kind): ApiPath<String>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: Body,
) -> Result<axum::Json<ImportResult>, AppError> {
    let kind = kind_of(&kind)?;
    if !may_import(&u.principal, kind) {
        return Err(AppError::Forbidden);
    }
    let name = q.file_name.unwrap_or_else(|| "upload.csv".into());
    let upload = Upload::new(&name)?;
    let mut out = tokio::fs::File::create(upload.file.path())
        .await
        .map_err(AppError::internal)?;
    let mut stream = body.into_data_stream();
    use futures_util::StreamExt;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| AppError::PayloadTooLarge)?;
        out.write_all(&chunk).await.map_err(AppError::internal)?;
    }
    out.flush().await.map_err(AppError::internal)?;
    let outcome = run_import(&state, &u.principal, kind, &upload, &name, q.dry_run).await?;
    Ok(axum::Json(ImportResult {
        summary: outcome.summary,
        problems: outcome.problems,
        extra_columns: outcome.extra_columns,
    }))
}

/// A run is shown to whoever ran it, and to platform administrators.
async fn visible_run(state: &AppState, who: &Principal, run_id: &str) -> Result<Run, AppError> {
    let run = registry::import::run(&state.db, run_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if run.actor == who.username || who.scope == Scope::Node {
        Ok(run)
    } else {
        Err(AppError::NotFound)
    }
}

#[derive(Template)]
#[template(path = "import_result.html")]
struct ResultPage {
    shell: Shell,
    run: Run,
    problems: Vec<Problem>,
    truncated: bool,
}

async fn result_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(run_id): Path<String>,
) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    let result: Result<(Run, Vec<Problem>), AppError> = async {
        let user = ctx.require_user()?;
        let run = visible_run(&state, &user.principal, &run_id).await?;
        let problems =
            registry::import::problems(&state.db, &run.id, files::PROBLEMS_SHOWN + 1).await?;
        Ok((run, problems))
    }
    .await;
    match result {
        Ok((run, mut problems)) => {
            let truncated = problems.len() as i64 > files::PROBLEMS_SHOWN;
            problems.truncate(files::PROBLEMS_SHOWN as usize);
            Ok(render(ResultPage {
                shell,
                run,
                problems,
                truncated,
            }))
        }
        Err(e) => Err(shell.fail(e)),
    }
}

async fn report(
    state: &AppState,
    who: &Principal,
    run_id: &str,
    ext: &str,
) -> Result<Response, AppError> {
    let xlsx = wants_xlsx(ext)?;
    let run = visible_run(state, who, run_id).await?;
    let bytes = files::report_bytes(&state.db, &run.id, xlsx).await?;
    let stem = std::path::Path::new(&run.file_name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(attachment(
        Body::from(bytes),
        &format!("{stem}-问题清单.{ext}"),
        xlsx,
    ))
}

async fn report_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((run_id, ext)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    let result =
        async { report(&state, &ctx.require_user()?.principal, &run_id, &ext).await }.await;
    result.map_err(|e| shell.fail(e))
}

async fn report_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiPath((run_id, ext)): ApiPath<(String, String)>,
) -> Result<Response, AppError> {
    report(&state, &u.principal, &run_id, &ext).await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RunResult {
    #[schema(value_type = Object)]
    run: Run,
    #[schema(value_type = Vec<Object>)]
    problems: Vec<Problem>,
}

/// An import run and its first problems.
#[utoipa::path(get, path = "/api/v1/import-runs/{run}", security(("bearer" = [])), responses((status = 200, body = RunResult), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn run_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiPath(run_id): ApiPath<String>,
) -> Result<axum::Json<RunResult>, AppError> {
    let run = visible_run(&state, &u.principal, &run_id).await?;
    let problems = registry::import::problems(&state.db, &run.id, files::PROBLEMS_SHOWN).await?;
    Ok(axum::Json(RunResult { run, problems }))
}

/// Exports to a temporary file, then streams it; the file is unlinked at once and lives
/// only as long as the open handle.
async fn export(
    state: &AppState,
    who: &Principal,
    q: &StudentQuery,
    ext: &str,
) -> Result<Response, AppError> {
    let xlsx = wants_xlsx(ext)?;
    let file = tempfile::Builder::new()
        .suffix(&format!(".{ext}"))
        .tempfile()
        .map_err(AppError::internal)?;
    files::export_students(&state.db, &state.audit, who, q, file.path()).await?;
    let handle = tokio::fs::File::open(file.path())
        .await
        .map_err(AppError::internal)?;
    drop(file);
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(handle));
    Ok(attachment(
        body,
        &format!("学籍导出-{}.{ext}", registry::today()),
        xlsx,
    ))
}

async fn export_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(ext): Path<String>,
    Query(q): Query<StudentQuery>,
) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    let result = async { export(&state, &ctx.require_user()?.principal, &q, &ext).await }.await;
    result.map_err(|e| shell.fail(e))
}

/// Students within the caller's scope as .csv or .xlsx, in the import's columns (so the
/// file re-imports unchanged); ID numbers masked for roles that do not need them.
#[utoipa::path(get, path = "/api/v1/exports/students.{ext}", params(StudentQuery), security(("bearer" = [])), responses((status = 200, description = "the file")))]
pub(crate) async fn export_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
    ApiPath(ext): ApiPath<String>,
    ApiQuery(q): ApiQuery<StudentQuery>,
) -> Result<Response, AppError> {
    export(&state, &u.principal, &q, &ext).await
}
