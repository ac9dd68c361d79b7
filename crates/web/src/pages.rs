//! The portal: server-rendered pages, Simplified Chinese first, working without JavaScript.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::Cookie;
use kernel::access::{Action, Resource, Role, Scope, authorize};
use kernel::ids::StudentNo;
use kernel::{Lang, division};
use platform::audit;
use platform::orgs::{self, Org};
use platform::users::{self, SessionKind, SessionUser};
use registry::{ChangeKind, ChangeRequest, StudentLine, StudentQuery, StudentView};
use serde::Deserialize;

use crate::auth::{self, ClientAddr, PageCtx};
use crate::i18n::{self, Strings};
use crate::{AppError, AppState};

const PAGE_SIZE: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/lang", get(switch_lang))
        .route("/me/access-log", get(access_log))
        .route("/orgs", get(org_list))
        .route("/orgs/{code}", get(org_page))
        .route("/students", get(student_list))
        .route("/students/{student_no}", get(student_page))
        .route("/students/{student_no}/changes", post(student_change))
        .route("/audit", get(audit_page))
        .route("/static/app.css", get(stylesheet))
        .fallback(not_found)
}

/// A page failed: sign-in redirects for anonymous users, an error page otherwise.
pub struct PageError {
    error: AppError,
    shell: Shell,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if matches!(self.error, AppError::Unauthenticated) {
            let next = urlencode(&self.shell.path);
            return Redirect::to(&format!("/login?next={next}")).into_response();
        }
        let status = self.error.status();
        let page = ErrorPage {
            message: self.error.message(self.shell.lang),
            code: self.error.code(),
            shell: self.shell,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => self.error.into_response(),
        }
    }
}

type PageResult = Result<Response, PageError>;

/// Percent-encodes a value for a query string.
fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub struct NavItem {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

pub struct ShellUser {
    pub display_name: String,
    pub role_label: &'static str,
    pub org_name: Option<String>,
    pub csrf: String,
}

/// The layout every page shares: header, navigation by role, account box, language switch.
pub struct Shell {
    pub s: &'static Strings,
    pub lang: Lang,
    pub node_name: String,
    pub member: String,
    pub nav: Vec<NavItem>,
    pub user: Option<ShellUser>,
    pub path: String,
    pub path_encoded: String,
}

impl Shell {
    pub(crate) fn new(state: &AppState, ctx: &PageCtx) -> Shell {
        let s = i18n::strings(ctx.lang);
        let mut nav = vec![(String::from("/"), s.nav_home)];
        if let Some(u) = &ctx.user {
            let p = &u.principal;
            match p.role {
                Role::PlatformAdmin => {
                    nav.push(("/orgs".into(), s.nav_orgs));
                    nav.push(("/students".into(), s.nav_students));
                    nav.push(("/import".into(), s.nav_import));
                    nav.push(("/audit".into(), s.nav_audit));
                }
                Role::JointOffice => nav.push(("/orgs".into(), s.nav_orgs)),
                Role::Bureau => {
                    nav.push(("/orgs".into(), s.nav_orgs));
                    nav.push(("/students".into(), s.nav_students));
                    nav.push(("/import".into(), s.nav_import));
                }
                Role::SchoolAdmin | Role::Teacher => {
                    nav.push(("/students".into(), s.nav_students));
                    if p.role == Role::SchoolAdmin {
                        nav.push(("/import".into(), s.nav_import));
                    }
                    if let Some(code) = &u.org_code {
                        nav.push((format!("/orgs/{code}"), s.nav_my_org));
                    }
                }
                Role::Student => {
                    if let Some(key) = &u.person_key {
                        nav.push((format!("/students/{key}"), s.nav_my_record));
                    }
                }
                Role::Employer => {
                    if let Some(code) = &u.org_code {
                        nav.push((format!("/orgs/{code}"), s.nav_my_org));
                    }
                }
            }
            if !matches!(p.role, Role::Student | Role::Employer | Role::JointOffice) {
                nav.push(("/certificates".into(), s.nav_certificates));
            }
            nav.push(("/me/access-log".into(), s.nav_access_log));
            if crate::federation_pages::may_look_up(p.role) {
                nav.push(("/federation/lookup".into(), s.nav_federation_lookup));
            }
            if transfer::flow::level_of(p).is_some() {
                nav.push(("/transfers".into(), s.nav_transfers));
            }
            if crate::federation_pages::may_see_status(p) {
                nav.push(("/federation".into(), s.nav_federation));
            }
        }
        crate::employment_pages::nav(ctx.user.as_ref().map(|u| &u.principal), s, &mut nav);
        nav.push(("/verify".into(), s.nav_verify));
        let path_only = ctx.path.split('?').next().unwrap_or("/");
        let nav = nav
            .into_iter()
            .map(|(href, label)| NavItem {
                current: href == path_only,
                href,
                label,
            })
            .collect();
        Shell {
            s,
            lang: ctx.lang,
            node_name: state.config.name.clone(),
            member: state.config.member.clone(),
            nav,
            user: ctx.user.as_ref().map(|u| ShellUser {
                display_name: u.display_name.clone(),
                role_label: u.principal.role.label(ctx.lang),
                org_name: u.org_name.clone(),
                csrf: u.csrf.clone(),
            }),
            path: ctx.path.clone(),
            path_encoded: urlencode(&ctx.path),
        }
    }

    pub(crate) fn fail(self, error: impl Into<AppError>) -> PageError {
        PageError {
            error: error.into(),
            shell: self,
        }
    }
}

pub(crate) fn render(page: impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => AppError::internal(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    shell: Shell,
    message: String,
    code: &'static str,
}

async fn not_found(State(state): State<AppState>, ctx: PageCtx) -> Response {
    if ctx.path.starts_with("/api/") {
        return AppError::NotFound.into_response();
    }
    Shell::new(&state, &ctx)
        .fail(AppError::NotFound)
        .into_response()
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    intro: &'static str,
    user: Option<HomeUser>,
    orgs: Vec<OrgRow>,
    students: Vec<StudentLine>,
    regions: Vec<RegionRow>,
    audit_entries: Option<i64>,
    /// Transfers waiting for this user (or flagged to them as overdue), if they act in any.
    transfers_waiting: Option<usize>,
    /// Employers and jobs awaiting this bureau's review.
    employment_waiting: Vec<crate::employment_pages::HomeLink>,
}

struct HomeUser {
    display_name: String,
    role_label: &'static str,
    org_name: Option<String>,
    person_key: Option<String>,
}

struct OrgRow {
    org: Org,
    kind_label: &'static str,
    place: String,
}

impl OrgRow {
    fn new(org: Org, lang: Lang) -> OrgRow {
        let kind_label = org.kind().map(|k| k.label(lang)).unwrap_or("");
        let place = org.place();
        OrgRow {
            org,
            kind_label,
            place,
        }
    }
}

struct RegionRow {
    name: String,
    schools: i64,
    bureaus: i64,
}

async fn home(State(state): State<AppState>, ctx: PageCtx) -> PageResult {
    let shell = Shell::new(&state, &ctx);
    let s = shell.s;
    let Some(u) = &ctx.user else {
        return Ok(render(HomePage {
            shell,
            intro: s.public_intro,
            user: None,
            orgs: vec![],
            students: vec![],
            regions: vec![],
            audit_entries: None,
            transfers_waiting: None,
            employment_waiting: vec![],
        }));
    };
    let lang = ctx.lang;
    let p = &u.principal;
    let mut page = HomePage {
        intro: match p.role {
            Role::PlatformAdmin => s.home_admin,
            Role::JointOffice => s.home_joint_office,
            Role::Bureau => s.home_bureau,
            Role::SchoolAdmin => s.home_school,
            Role::Teacher => s.home_teacher,
            Role::Student => s.home_student,
            Role::Employer => s.home_employer,
        },
        user: Some(HomeUser {
            display_name: u.display_name.clone(),
            role_label: p.role.label(lang),
            org_name: u.org_name.clone(),
            person_key: u.person_key.clone(),
        }),
        orgs: vec![],
        students: vec![],
        regions: vec![],
        audit_entries: None,
        transfers_waiting: None,
        employment_waiting: vec![],
        shell,
    };
    let loaded: Result<(), AppError> = async {
        if transfer::flow::level_of(p).is_some() {
            let waiting = transfer::Filter {
                waiting: true,
                student_no: None,
            };
            let lines = transfer::list(&state.db, p, &waiting, 500).await?;
            page.transfers_waiting = Some(lines.len());
        }
        page.employment_waiting = crate::employment_pages::home_links(&state, p, lang).await?;
        match &p.scope {
            Scope::Node => {
                page.audit_entries = Some(audit::head(&state.db).await?.0);
                page.regions = regions(&state).await?;
            }
            Scope::Aggregates => page.regions = regions(&state).await?,
            Scope::Division(prefix) => {
                let orgs = orgs::list(
                    &state.db,
                    prefix,
                    Some(kernel::access::OrgKind::School),
                    20,
                    0,
                )
                .await?;
                page.orgs = orgs.into_iter().map(|o| OrgRow::new(o, lang)).collect();
            }
            Scope::Org(_) if matches!(p.role, Role::SchoolAdmin | Role::Teacher) => {
                page.students = registry::search_students(
                    &state.db,
                    &state.audit,
                    p,
                    &StudentQuery::default(),
                    20,
                    0,
                )
                .await?;
            }
            Scope::Org(_) | Scope::Person(_) => {}
        }
        Ok(())
    }
    .await;
    match loaded {
        Ok(()) => Ok(render(page)),
        Err(e) => Err(page.shell.fail(e)),
    }
}

/// Schools and bureaus per prefecture: the aggregate view (no personal data).
async fn regions(state: &AppState) -> Result<Vec<RegionRow>, AppError> {
    let mut rows: Vec<RegionRow> = Vec::new();
    for (prefix, kind, n) in orgs::counts_by_prefecture(&state.db).await? {
        let name = division::lookup(&format!("{prefix}00"))
            .map(|d| d.full_name())
            .unwrap_or_else(|| prefix.clone());
        if rows.last().is_none_or(|r| r.name != name) {
            rows.push(RegionRow {
                name: name.clone(),
                schools: 0,
                bureaus: 0,
            });
        }
        if let Some(row) = rows.last_mut() {
            match kind.as_str() {
                "school" | "university" => row.schools += n,
                "province-bureau" | "district-bureau" => row.bureaus += n,
                _ => {}
            }
        }
    }
    Ok(rows)
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    shell: Shell,
    pre_session: String,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<NextQuery>,
) -> Response {
    let pre_session = users::random_token();
    let jar = ctx.jar.clone().add(auth::cookie(
        auth::PRE_SESSION_COOKIE,
        pre_session.clone(),
        state.config.cookie_secure,
    ));
    let page = LoginPage {
        shell: Shell::new(&state, &ctx),
        pre_session,
        next: auth::safe_next(q.next.as_deref()),
        username: String::new(),
        error: None,
    };
    (jar, render(page)).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    ctx: PageCtx,
    ClientAddr(client): ClientAddr,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> PageResult {
    let shell = Shell::new(&state, &ctx);
    let Form(form) = match form {
        Ok(f) => f,
        Err(e) => return Err(shell.fail(e)),
    };
    let expected = ctx
        .jar
        .get(auth::PRE_SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if expected.is_empty() || !auth::same_secret(&expected, &form.csrf) {
        return Err(shell.fail(AppError::Csrf));
    }
    let again = |shell: Shell, error: AppError| {
        let status = error.status();
        let page = LoginPage {
            error: Some(error.message(shell.lang)),
            shell,
            pre_session: expected.clone(),
            next: auth::safe_next(form.next.as_deref()),
            username: form.username.clone(),
        };
        (status, render(page)).into_response()
    };
    if let Err(e) = state.login_limiter.check(&client, &form.username) {
        return Ok(again(shell, e));
    }
    let user = match users::authenticate(&state.db, &form.username, &form.password).await {
        Ok(Some(user)) => user,
        Ok(None) => return Ok(again(shell, AppError::SignIn)),
        Err(e) => return Err(shell.fail(e)),
    };
    let session = users::start_session(
        &state.db,
        &user,
        SessionKind::Web,
        state.config.session_ttl_minutes,
        &client.to_string(),
    )
    .await
    .map_err(|e| Shell::new(&state, &ctx).fail(e))?;
    let jar = ctx
        .jar
        .clone()
        .remove(Cookie::from(auth::PRE_SESSION_COOKIE))
        .add(auth::cookie(
            auth::SESSION_COOKIE,
            session.token,
            state.config.cookie_secure,
        ));
    Ok((jar, Redirect::to(&auth::safe_next(form.next.as_deref()))).into_response())
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    let shell = Shell::new(&state, &ctx);
    if let Err(e) = ctx.check_csrf(&form.csrf) {
        return Err(shell.fail(e));
    }
    if let Some(c) = ctx.jar.get(auth::SESSION_COOKIE)
        && let Err(e) = async {
            state.sessions.forget(c.value());
            users::end_session(&state.db, c.value()).await
        }
        .await
    {
        return Err(shell.fail(e));
    }
    let jar = ctx.jar.clone().remove(Cookie::from(auth::SESSION_COOKIE));
    Ok((jar, Redirect::to("/")).into_response())
}

#[derive(Deserialize)]
struct LangQuery {
    set: Option<String>,
    next: Option<String>,
}

async fn switch_lang(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = Lang::from_tag(q.set.as_deref().unwrap_or("zh"));
    let mut c = auth::cookie(
        auth::LANG_COOKIE,
        lang.tag().to_owned(),
        state.config.cookie_secure,
    );
    c.set_http_only(false);
    c.set_max_age(time::Duration::days(365));
    (
        ctx.jar.clone().add(c),
        Redirect::to(&auth::safe_next(q.next.as_deref())),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "access_log.html")]
struct AccessLogPage {
    shell: Shell,
    has_record: bool,
    rows: Vec<AccessRow>,
}

struct AccessRow {
    when: String,
    who: String,
    role_label: String,
    org: String,
    action: String,
    purpose: String,
}

/// "我的访问记录": everyone who read the signed-in person's record.
async fn access_log(State(state): State<AppState>, ctx: PageCtx) -> PageResult {
    let shell = Shell::new(&state, &ctx);
    let user = match ctx.require_user() {
        Ok(u) => u,
        Err(e) => return Err(shell.fail(e)),
    };
    let Some(key) = &user.person_key else {
        return Ok(render(AccessLogPage {
            shell,
            has_record: false,
            rows: vec![],
        }));
    };
    let mut entries = match audit::accesses_to(&state.db, key, 500).await {
        Ok(e) => e,
        Err(e) => return Err(shell.fail(e)),
    };
    let lang = ctx.lang;
    crate::federation::name_peers(&state, &mut entries, lang);
    let rows = entries
        .into_iter()
        .map(|a| AccessRow {
            when: i18n::format_ms(a.at_ms, lang),
            who: a.actor_name.unwrap_or(a.actor),
            role_label: Role::parse(&a.actor_role)
                .map(|r| r.label(lang).to_owned())
                .unwrap_or(a.actor_role),
            org: a.actor_org.unwrap_or_default(),
            action: action_label(&a.action, lang).to_owned(),
            purpose: a.purpose,
        })
        .collect();
    Ok(render(AccessLogPage {
        shell,
        has_record: true,
        rows,
    }))
}

fn action_label(action: &str, lang: Lang) -> &str {
    match (action, lang) {
        ("student.read", Lang::Zh) => "查看学籍",
        ("student.read", Lang::En) => "Viewed student record",
        ("student.read.federated", Lang::Zh) => "跨省查阅学籍",
        ("student.read.federated", Lang::En) => "Viewed across provinces",
        _ => action,
    }
}

#[derive(Deserialize, Default)]
struct PageQuery {
    page: Option<i64>,
}

impl PageQuery {
    fn page(&self) -> i64 {
        self.page.unwrap_or(1).max(1)
    }
    fn offset(&self) -> i64 {
        (self.page() - 1).saturating_mul(PAGE_SIZE)
    }
}

#[derive(Template)]
#[template(path = "orgs.html")]
struct OrgListPage {
    shell: Shell,
    rows: Vec<OrgRow>,
    page: i64,
    has_more: bool,
}

async fn org_list(State(state): State<AppState>, ctx: PageCtx, q: Query<PageQuery>) -> PageResult {
    let shell = Shell::new(&state, &ctx);
    let result: Result<Vec<Org>, AppError> = async {
        let user = ctx.require_user()?;
        let prefix = match &user.principal.scope {
            Scope::Node | Scope::Aggregates => String::new(),
            Scope::Division(p) => p.clone(),
            Scope::Org(_) | Scope::Person(_) => return Err(AppError::NotFound),
        };
        Ok(orgs::list(&state.db, &prefix, None, PAGE_SIZE + 1, q.offset()).await?)
    }
    .await;
    let mut orgs = match result {
        Ok(o) => o,
        Err(e) => return Err(shell.fail(e)),
    };
    let has_more = orgs.len() as i64 > PAGE_SIZE;
    orgs.truncate(PAGE_SIZE as usize);
    let rows = orgs.into_iter().map(|o| OrgRow::new(o, ctx.lang)).collect();
    Ok(render(OrgListPage {
        shell,
        rows,
        page: q.page(),
        has_more,
    }))
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    shell: Shell,
    row: OrgRow,
    users: Vec<users::User>,
    students: Option<i64>,
}

/// Shared by the page and the API: the organisation if the caller's scope reaches it,
/// otherwise "not found" whether or not it exists.
pub(crate) async fn visible_org(
    state: &AppState,
    user: &SessionUser,
    code: &str,
) -> Result<Org, AppError> {
    let org = orgs::get(&state.db, code)
        .await?
        .ok_or(AppError::NotFound)?;
    authorize(
        &user.principal,
        Action::Read,
        Resource::Org {
            code: &org.code,
            division: &org.division_code,
        },
    )
    .map_err(|_| AppError::NotFound)?;
    Ok(org)
}

async fn org_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> PageResult {
    let shell = Shell::new(&state, &ctx);
    let result: Result<OrgPage, AppError> = async {
        let user = ctx.require_user()?;
        let org = visible_org(&state, user, &code).await?;
        // Rosters are for those who administer the organisation.
        let administers = authorize(
            &user.principal,
            Action::Write,
            Resource::Org {
                code: &org.code,
                division: &org.division_code,
            },
        )
        .is_ok();
        let users = if administers {
            users::list_by_org(&state.db, &org.code).await?
        } else {
            vec![]
        };
        let students =
            Some(registry::count_in_school(&state.db, &org.code).await?).filter(|n| *n > 0);
        Ok(OrgPage {
            row: OrgRow::new(org, ctx.lang),
            users,
            students,
            shell: Shell::new(&state, &ctx),
        })
    }
    .await;
    match result {
        Ok(page) => Ok(render(page)),
        Err(e) => Err(shell.fail(e)),
    }
}

#[derive(Template)]
#[template(path = "students.html")]
struct StudentListPage {
    shell: Shell,
    rows: Vec<StudentLine>,
    page: i64,
    has_more: bool,
    q: StudentQuery,
    /// The current filters as a query string, for pagination and export links.
    filters: String,
    grades: &'static [&'static str],
    statuses: &'static [&'static str],
}

/// The filters of a student search as a query string (empty values left out).
fn filter_query(q: &StudentQuery) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (key, value) in [
        ("student_no", &q.student_no),
        ("citizen_id", &q.citizen_id),
        ("name", &q.name),
        ("name_prefix", &q.name_prefix),
        ("school", &q.school),
        ("grade", &q.grade),
        ("status", &q.status),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            out.append_pair(key, v);
        }
    }
    out.finish()
}

async fn student_list(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<StudentQuery>,
    paging: Query<PageQuery>,
) -> PageResult {
    let shell = Shell::new(&state, &ctx);
    let result: Result<Vec<StudentLine>, AppError> = async {
        let user = ctx.require_user()?;
        Ok(registry::search_students(
            &state.db,
            &state.audit,
            &user.principal,
            &q,
            PAGE_SIZE + 1,
            paging.offset(),
        )
        .await?)
    }
    .await;
    let mut rows = match result {
        Ok(r) => r,
        Err(e) => return Err(shell.fail(e)),
    };
    let has_more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    Ok(render(StudentListPage {
        shell,
        rows,
        page: paging.page(),
        has_more,
        filters: filter_query(&q),
        q,
        grades: registry::validate::GRADES,
        statuses: registry::validate::STATUSES,
    }))
}

#[derive(Template)]
#[template(path = "student.html")]
struct StudentPage {
    shell: Shell,
    view: StudentView,
    hukou: String,
    residence: String,
    /// Whether the caller may record a 异动 on this record (the form is shown).
    can_change: bool,
    change_kinds: [ChangeKind; 9],
    today: String,
}

/// The purpose a portal read is recorded under, by role.
pub(crate) fn default_purpose(role: Role) -> &'static str {
    match role {
        Role::Student => "本人查询",
        _ => "学籍管理",
    }
}

async fn student_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(no): Path<String>,
) -> PageResult {
    let shell = Shell::new(&state, &ctx);
    let result: Result<StudentView, AppError> = async {
        let user = ctx.require_user()?;
        let p = &user.principal;
        let no = StudentNo::parse(&no).map_err(|e| AppError::invalid(&e))?;
        Ok(
            registry::read_student(&state.db, &state.audit, p, &no, default_purpose(p.role))
                .await?,
        )
    }
    .await;
    match result {
        Ok(view) => {
            let place = |code: &str| {
                division::lookup(code)
                    .map(|d| d.full_name())
                    .unwrap_or_else(|| code.to_owned())
            };
            let hukou = place(&view.student.hukou_division);
            let residence = place(&view.student.residence_division);
            let can_change = ctx.user.as_ref().is_some_and(|u| {
                let record = Resource::PersonRecord {
                    org_code: &view.student.school_code,
                    division: &view.school_division,
                    person_key: &view.student.student_no,
                };
                authorize(&u.principal, Action::Write, record).is_ok()
            });
            Ok(render(StudentPage {
                shell,
                view,
                hukou,
                residence,
                can_change,
                change_kinds: ChangeKind::ALL,
                today: registry::today(),
            }))
        }
        Err(e) => Err(shell.fail(e)),
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    shell: Shell,
    head_seq: i64,
    head_hash: String,
    rows: Vec<AuditRow>,
}

struct AuditRow {
    seq: i64,
    when: String,
    actor: String,
    role: String,
    action: String,
    subject: String,
    purpose: String,
}

#[derive(Deserialize)]
struct ChangeForm {
    csrf: String,
    kind: String,
    date: String,
    reason: String,
}

/// The 异动 form on a student's page: records the change, then shows the record again.
async fn student_change(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(no): Path<String>,
    Form(form): Form<ChangeForm>,
) -> PageResult {
    let shell = Shell::new(&state, &ctx);
    let result: Result<String, AppError> = async {
        let user = ctx.check_csrf(&form.csrf)?;
        let no = StudentNo::parse(&no).map_err(|e| AppError::invalid(&e))?;
        let kind = ChangeKind::parse(&form.kind).ok_or_else(|| {
            AppError::bad_request("请选择异动类型。", "Choose the kind of change.")
        })?;
        let request = ChangeRequest {
            kind,
            date: form.date.clone(),
            reason: form.reason.clone(),
        };
        registry::record_change(&state.db, &user.principal, &no, &request).await?;
        Ok(format!("/students/{}", no.as_str()))
    }
    .await;
    match result {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(e) => Err(shell.fail(e)),
    }
}

async fn audit_page(State(state): State<AppState>, ctx: PageCtx) -> PageResult {
    let shell = Shell::new(&state, &ctx);
    let result: Result<AuditPage, AppError> = async {
        let user = ctx.require_user()?;
        authorize(&user.principal, Action::Read, Resource::NodeAdministration)
            .map_err(|_| AppError::NotFound)?;
        let (head_seq, head_hash) = audit::head(&state.db).await?;
        let rows = audit::recent(&state.db, 100)
            .await?
            .into_iter()
            .map(|r| AuditRow {
                seq: r.seq,
                when: i18n::format_ms(r.at_ms, ctx.lang),
                actor: r.actor,
                role: r.actor_role,
                action: r.action,
                subject: r.subject.unwrap_or_default(),
                purpose: r.purpose,
            })
            .collect();
        Ok(AuditPage {
            shell: Shell::new(&state, &ctx),
            head_seq,
            head_hash,
            rows,
        })
    }
    .await;
    match result {
        Ok(page) => Ok(render(page)),
        Err(e) => Err(shell.fail(e)),
    }
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.css"),
    )
}
