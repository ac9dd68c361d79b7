//! 双选会 (job fairs) at the edge: the fairs that have not ended, one fair with its jobs, a
//! bureau's form to hold one in its area, and an employer's form to bring a job to it.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use employment::EmploymentError;
use employment::fairs::{Fair, FairInput};
use employment::jobs::{JobStatus, Listing, place_name};
use kernel::Lang;
use kernel::access::Role;
use serde::Deserialize;

use crate::auth::PageCtx;
use crate::employment_pages::{day_of_ms, salary};
use crate::pages::{PageError, Shell, render};
use crate::{AppError, AppState, i18n};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/fairs", get(fairs_page).post(create_page))
        .route("/fairs/{id}", get(fair_page))
        .route("/fairs/{id}/jobs", post(attach_page))
}

struct FairRow {
    href: String,
    title: String,
    organiser: String,
    place: String,
    venue: String,
    when: String,
}

fn row(f: &Fair, lang: Lang) -> FairRow {
    FairRow {
        href: format!("/fairs/{}", f.id),
        title: f.title.clone(),
        organiser: f.organiser.clone(),
        place: place_name(&f.division),
        venue: f.venue.clone(),
        when: format!(
            "{} – {}",
            i18n::format_ms(f.starts_ms, lang),
            i18n::format_ms(f.ends_ms, lang)
        ),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FairForm {
    csrf: String,
    title: String,
    organiser: String,
    division: String,
    venue: String,
    starts: String,
    ends: String,
    description: String,
}

#[derive(Template)]
#[template(path = "fairs.html")]
struct FairsPage {
    shell: Shell,
    fairs: Vec<FairRow>,
    may_create: bool,
    form: FairForm,
    problems: Vec<String>,
}

async fn fairs_view(
    state: &AppState,
    ctx: &PageCtx,
    form: FairForm,
    problems: Vec<String>,
) -> Result<FairsPage, AppError> {
    let fairs = employment::fairs::upcoming(&state.db)
        .await
        .map_err(AppError::internal)?;
    Ok(FairsPage {
        shell: Shell::new(state, ctx),
        fairs: fairs.iter().map(|f| row(f, ctx.lang)).collect(),
        may_create: ctx
            .user
            .as_ref()
            .is_some_and(|u| matches!(u.principal.role, Role::Bureau | Role::PlatformAdmin)),
        form,
        problems,
    })
}

async fn fairs_page(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    match fairs_view(&state, &ctx, FairForm::default(), Vec::new()).await {
        Ok(page) => Ok(render(page)),
        Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
    }
}

async fn create_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(form): Form<FairForm>,
) -> Result<Response, PageError> {
    let user = match ctx.check_csrf(&form.csrf) {
        Ok(u) => u,
        Err(e) => return Err(Shell::new(&state, &ctx).fail(e)),
    };
    let input = FairInput {
        title: form.title.clone(),
        organiser: form.organiser.clone(),
        division: form.division.clone(),
        venue: form.venue.clone(),
        starts: form.starts.clone(),
        ends: form.ends.clone(),
        description: form.description.clone(),
    };
    match employment::fairs::create(&state.db, &user.principal, &input).await {
        Ok(id) => Ok(Redirect::to(&format!("/fairs/{id}")).into_response()),
        Err(EmploymentError::Invalid(p)) => match fairs_view(
            &state,
            &ctx,
            form,
            p.into_iter().map(|p| p.message).collect(),
        )
        .await
        {
            Ok(page) => Ok(render(page)),
            Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
        },
        Err(e) => Err(Shell::new(&state, &ctx).fail(AppError::from(e))),
    }
}

struct FairJob {
    href: String,
    title: String,
    employer: String,
    place: String,
    salary: String,
    deadline: String,
}

struct Choice {
    id: String,
    title: String,
}

#[derive(Template)]
#[template(path = "fair.html")]
struct FairPage {
    shell: Shell,
    fair: FairRow,
    description: String,
    id: String,
    jobs: Vec<FairJob>,
    /// The signed-in employer's published jobs not yet at this fair.
    mine: Vec<Choice>,
}

async fn fair_view(state: &AppState, ctx: &PageCtx, id: &str) -> Result<FairPage, AppError> {
    let (fair, jobs) = employment::fairs::get(&state.db, id).await?;
    let lang = ctx.lang;
    let mine = match &ctx.user {
        Some(u) if u.principal.role == Role::Employer => {
            employment::jobs::list(&state.db, &u.principal, Listing::Own)
                .await?
                .into_iter()
                .filter(|j| {
                    j.status() == JobStatus::Published && !jobs.iter().any(|x| x.id == j.id)
                })
                .map(|j| Choice {
                    id: j.id,
                    title: j.title,
                })
                .collect()
        }
        _ => Vec::new(),
    };
    Ok(FairPage {
        shell: Shell::new(state, ctx),
        description: fair.description.clone(),
        id: fair.id.clone(),
        fair: row(&fair, lang),
        jobs: jobs
            .iter()
            .map(|j| FairJob {
                href: format!("/jobs/{}", j.id),
                title: j.title.clone(),
                employer: j.employer_name.clone(),
                place: j.city_name(),
                salary: salary(j.salary_min, j.salary_max, lang),
                deadline: day_of_ms(j.deadline_ms, lang),
            })
            .collect(),
        mine,
    })
}

async fn fair_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    match fair_view(&state, &ctx, &id).await {
        Ok(page) => Ok(render(page)),
        Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AttachForm {
    csrf: String,
    job: String,
}

async fn attach_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(form): Form<AttachForm>,
) -> Result<Response, PageError> {
    let done: Result<(), AppError> = async {
        let user = ctx.check_csrf(&form.csrf)?;
        employment::fairs::attach(&state.db, &user.principal, &form.job, Some(&id)).await?;
        Ok(())
    }
    .await;
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/fairs/{id}")).into_response()),
        Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
    }
}
