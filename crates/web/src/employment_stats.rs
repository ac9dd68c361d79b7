//! Employment statistics at the edge (就业统计, action plan §二.2 毕业生就业信息共享): the
//! placement rate and destinations by province, institution, major and level, and the
//! flows between the provinces, merged from every node's counts; as a page with SVG
//! charts, as JSON and as a CSV for Excel. Only aggregates: personal rows stay on their node.

use askama::Template;
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use employment::graduates::Destination;
use employment::stats::{Group, Stats};
use exchange::call::Unanswered;
use kernel::Lang;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{ApiUser, PageCtx};
use crate::pages::{PageError, Shell, render};
use crate::{AppError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/employment/stats", get(stats_page))
        .route("/employment/stats.csv", get(stats_csv))
        .route("/api/v1/employment/stats", get(stats_api))
}

#[derive(Serialize, ToSchema)]
pub struct StatsAnswer {
    #[schema(value_type = Object)]
    stats: Stats,
    /// Members whose counts are missing from the totals.
    #[schema(value_type = Vec<Object>)]
    unanswered: Vec<Unanswered>,
}

async fn gather(
    state: &AppState,
    who: &kernel::access::Principal,
) -> Result<(Stats, Vec<Unanswered>), AppError> {
    Ok(employment::stats::everywhere(
        &state.db,
        &state.audit,
        state.federation.as_ref(),
        &state.config.member,
        who,
    )
    .await?)
}

/// The statistics of every node that answers (joint office, bureaus, platform administrators).
#[utoipa::path(get, path = "/api/v1/employment/stats", responses((status = 200, body = StatsAnswer), (status = 403)))]
pub(crate) async fn stats_api(
    State(state): State<AppState>,
    ApiUser(u): ApiUser,
) -> Result<Json<StatsAnswer>, AppError> {
    let (stats, unanswered) = gather(&state, &u.principal).await?;
    Ok(Json(StatsAnswer { stats, unanswered }))
}

fn destination_names(lang: Lang) -> Vec<&'static str> {
    Destination::ALL.iter().map(|d| d.label(lang)).collect()
}

/// One table row as shown and exported.
struct Row {
    dimension: &'static str,
    label: String,
    total: u64,
    destinations: Vec<u64>,
    rate: String,
}

fn rows(dimension: &'static str, groups: &[Group]) -> Vec<Row> {
    groups
        .iter()
        .map(|g| Row {
            dimension,
            label: g.label.clone(),
            total: g.total,
            destinations: g.destinations.clone(),
            rate: format!("{:.1}", g.placement_rate()),
        })
        .collect()
}

/// 重庆 / 四川 for the charts' narrow labels (the table says 重庆市 / 四川省).
fn short_name(code: &str) -> String {
    province_name(code)
        .trim_end_matches(['市', '省'])
        .to_owned()
}

fn province_name(code: &str) -> String {
    kernel::division::lookup(&format!("{code}0000"))
        .map_or_else(|| code.to_owned(), |d| d.name.clone())
}

fn all_rows(state: &AppState, stats: &Stats) -> Vec<Row> {
    let mut by_member = stats.by_member.clone();
    for g in &mut by_member {
        g.label = crate::employment_pages::member_name(state, &g.key, Lang::Zh);
    }
    let mut out = rows("省市", &by_member);
    out.extend(rows("院校", &stats.by_institution));
    out.extend(rows("学历层次", &stats.by_level));
    out.extend(rows("专业", &stats.by_major));
    out
}

#[derive(Template)]
#[template(path = "employment_stats.html")]
struct StatsPage {
    shell: Shell,
    destinations: Vec<&'static str>,
    total: Row,
    rows: Vec<Row>,
    unanswered: Vec<String>,
    rate_chart: String,
    level_chart: String,
    flow_chart: String,
}

fn charts_of(stats: &Stats) -> (String, String, String) {
    let bars: Vec<charts::Bar> = stats
        .by_institution
        .iter()
        .map(|g| charts::Bar {
            label: g.label.clone(),
            value: g.placement_rate(),
        })
        .collect();
    let rate_chart = charts::bar_chart(&charts::BarChart {
        title: "各院校毕业去向落实率",
        unit: "%",
        bars: &bars,
        max: Some(100.0),
    });
    let names = destination_names(Lang::Zh);
    let stacks: Vec<charts::Stack> = stats
        .by_level
        .iter()
        .map(|g| charts::Stack {
            label: g.label.clone(),
            parts: g.destinations.iter().map(|n| *n as f64).collect(),
        })
        .collect();
    let level_chart = charts::stacked_percent_chart("各学历层次毕业去向构成", &names, &stacks);
    let flows: Vec<charts::Flow> = stats
        .flows
        .iter()
        .map(|f| charts::Flow {
            from: format!("{}就读", short_name(&f.from)),
            to: format!("{}就业", short_name(&f.to)),
            value: f.count as f64,
        })
        .collect();
    let flow_chart = charts::flow_chart("川渝毕业生就业流向", &flows);
    (rate_chart, level_chart, flow_chart)
}

async fn stats_page(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    let user = match ctx.require_user() {
        Ok(u) => u.principal.clone(),
        Err(e) => return Err(shell.fail(e)),
    };
    let (stats, unanswered) = match gather(&state, &user).await {
        Ok(found) => found,
        Err(e) => return Err(shell.fail(e)),
    };
    let (rate_chart, level_chart, flow_chart) = charts_of(&stats);
    let mut total = rows("合计", std::slice::from_ref(&stats.total)).remove(0);
    total.label = "川渝合计".into();
    Ok(render(StatsPage {
        shell,
        destinations: destination_names(ctx.lang),
        total,
        rows: all_rows(&state, &stats),
        unanswered: unanswered
            .iter()
            .map(|u| {
                format!(
                    "{}：{}",
                    crate::employment_pages::member_name(&state, &u.member, Lang::Zh),
                    u.error.message
                )
            })
            .collect(),
        rate_chart,
        level_chart,
        flow_chart,
    }))
}

/// The tables as CSV (UTF-8 with BOM, opens in Excel).
async fn stats_csv(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    let user = match ctx.require_user() {
        Ok(u) => u.principal.clone(),
        Err(e) => return Err(shell.fail(e)),
    };
    let (stats, _) = match gather(&state, &user).await {
        Ok(found) => found,
        Err(e) => return Err(shell.fail(e)),
    };
    match csv_bytes(&state, &stats) {
        Ok(bytes) => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"employment-stats.csv\"; filename*=UTF-8''%E5%B0%B1%E4%B8%9A%E7%BB%9F%E8%AE%A1.csv",
                ),
            ],
            Body::from(bytes),
        )
            .into_response()),
        Err(e) => Err(shell.fail(AppError::internal(e))),
    }
}

fn csv_bytes(state: &AppState, stats: &Stats) -> std::io::Result<Vec<u8>> {
    const fn col(name: &'static str) -> tabular::ColumnSpec {
        tabular::ColumnSpec {
            name,
            aliases: &[],
            required: true,
        }
    }
    const COLUMNS: [tabular::ColumnSpec; 9] = [
        col("维度"),
        col("分组"),
        col("毕业生人数"),
        col("已就业"),
        col("升学"),
        col("参军入伍"),
        col("自主创业"),
        col("待就业"),
        col("去向落实率(%)"),
    ];
    let mut w = tabular::CsvWriter::new(Vec::new(), &COLUMNS)?;
    let mut total = rows("合计", std::slice::from_ref(&stats.total)).remove(0);
    total.label = "川渝合计".into();
    for r in std::iter::once(total).chain(all_rows(state, stats)) {
        let mut values = vec![r.dimension.to_owned(), r.label, r.total.to_string()];
        values.extend(r.destinations.iter().map(u64::to_string));
        values.push(r.rate);
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        w.push(&refs)?;
    }
    for f in &stats.flows {
        let label = format!("{} → {}", province_name(&f.from), province_name(&f.to));
        w.push(&[
            "就业流向",
            &label,
            &f.count.to_string(),
            "",
            "",
            "",
            "",
            "",
            "",
        ])?;
    }
    w.finish()
}
