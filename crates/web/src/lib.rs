//! The HTTP edge of a node: the portal (server-rendered, Chinese first), the JSON API under
//! `/api/v1` with its OpenAPI document, `/healthz` and `/metrics`.
//!
//! Architecture invariant: only this crate (and later feature crates' route modules) knows
//! HTTP. Handlers parse input, call platform/feature functions and render; they never write
//! SQL and never decide access themselves (`kernel::access::authorize` does).

pub mod api;
pub mod auth;
pub mod certificates;
pub mod employment;
pub mod employment_pages;
pub mod employment_stats;
pub mod error;
pub mod federation;
pub mod federation_pages;
pub mod i18n;
pub mod imports;
pub mod job_fairs;
pub mod metrics;
pub mod pages;
pub mod transfers;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use platform::audit::AuditLog;
use platform::{Config, Db};

pub use error::AppError;

/// How long a session looked up once is trusted without asking the database again.
const SESSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub db: Db,
    pub audit: AuditLog,
    pub metrics: metrics::Metrics,
    pub login_limiter: auth::LoginLimiter,
    pub sessions: platform::users::SessionCache,
    /// `None` when the node runs alone (no directory configured) or its federation settings
    /// are unusable (logged at start).
    pub federation: Option<exchange::Federation>,
    /// This node as the issuer of credentials (`None` if its signing key cannot be read).
    pub issuer: Option<Arc<::certificates::issue::Issuer>>,
    /// Public look-ups (证书核验) per client address and per certificate number or code.
    pub lookup_limiter: auth::LoginLimiter,
    /// Status lists of credentials verified here, kept for their lifetime.
    pub status_cache: ::certificates::verify::StatusCache,
    /// The trust bundle of the directory version in force.
    pub trust: std::sync::Mutex<Option<(u64, credential::TrustBundle)>>,
    /// This node's job search index (`<data_dir>/search/jobs`).
    pub jobs: ::employment::index::JobSearch,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state and starts the audit writer; call inside a Tokio runtime.
    pub fn new(config: Config, db: Db) -> AppState {
        let audit = AuditLog::start(db.clone());
        let metrics = metrics::Metrics::new(&config.member, db.backend().as_str());
        let login_limiter = auth::LoginLimiter::new(config.login_attempts_per_minute);
        let sessions = platform::users::SessionCache::new(SESSION_CACHE_TTL);
        let federation = exchange::Federation::from_config(&config, audit.clone()).unwrap_or_else(|e| {
            tracing::error!(error = %e, "federation settings are unusable; the node runs alone");
            None
        });
        let jobs = job_index(&config);
        if let Some(f) = &federation {
            ::certificates::service::register(f);
            ::employment::service::register(f, jobs.clone());
            ::employment::applications::register(f);
            ::employment::stats::register(f);
        }
        let issuer = match platform::keys::load(&config.signing_key) {
            Ok(key) => Some(Arc::new(::certificates::issue::Issuer::new(
                &config.member,
                if config.name.is_empty() {
                    &config.member
                } else {
                    &config.name
                },
                key,
                time::Duration::seconds(i64::from(config.status_list_ttl_seconds)),
            ))),
            Err(e) => {
                tracing::error!(error = %e, "no signing key: this node issues no credentials");
                None
            }
        };
        let lookup_limiter = auth::LoginLimiter::new(config.lookup_per_minute);
        let client = federation
            .as_ref()
            .map(|f| f.client().clone())
            .unwrap_or_default();
        let status_cache = ::certificates::verify::StatusCache::new(Some(client), None);
        AppState(Arc::new(Inner {
            config,
            db,
            audit,
            metrics,
            login_limiter,
            sessions,
            federation,
            issuer,
            lookup_limiter,
            status_cache,
            trust: std::sync::Mutex::default(),
            jobs,
        }))
    }
}

/// The job index on disk, or (if it cannot be opened: another process holds it, the disk is
/// read-only) in memory, rebuilt from the database either way.
fn job_index(config: &Config) -> ::employment::index::JobSearch {
    let dir = config.data_dir.join("search").join("jobs");
    ::employment::index::JobSearch::new(Some(&dir))
        .or_else(|e| {
            tracing::error!(error = %e, dir = %dir.display(), "job index unusable: kept in memory");
            ::employment::index::JobSearch::new(None)
        })
        .expect("an in-memory index opens")
}

pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .merge(pages::routes())
        .merge(api::routes())
        .merge(imports::routes(state.config.max_upload_bytes))
        .merge(federation::routes())
        .merge(federation_pages::routes())
        .merge(transfers::routes())
        .merge(certificates::routes())
        .merge(employment::routes())
        .merge(employment_stats::routes())
        .merge(employment_pages::routes())
        .merge(job_fairs::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        // Enforced by every body extractor, so an oversized body gets our JSON error code.
        .layer(DefaultBodyLimit::max(limit))
        // A panic must never take the node down or leak a backtrace; it becomes a 500.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(AppError::Internal(
                "handler panicked".into(),
            ))
        }))
        .with_state(state)
}

/// Serves until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let db = state.db.clone();
    let purge = tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(e) = platform::users::purge_expired_sessions(&db).await {
                tracing::warn!(error = %e, "could not purge expired sessions");
            }
        }
    });
    // Searches answer only once the index holds every published job (after a first start or
    // a schema change this rebuilds it; otherwise it applies what changed while stopped).
    if let Err(e) = state.jobs.catch_up(&state.db).await {
        tracing::error!(error = %e, "jobs: cannot bring the search index up to date");
    }
    let jobs = ::employment::index::spawn_worker(
        state.db.clone(),
        state.jobs.clone(),
        std::time::Duration::from_secs(1),
    );
    let subjects = platform::audit::spawn_subject_indexer(
        state.db.clone(),
        state.audit.clone(),
        std::time::Duration::from_secs(1),
    );
    let workers: Vec<_> = [jobs, subjects]
        .into_iter()
        .chain(state.federation.iter().flat_map(|f| {
            [
                exchange::index::spawn_indexer(state.db.clone(), f.index_key().clone()),
                exchange::outbox::spawn_worker(f.clone(), state.db.clone()),
                transfer::spawn_worker(
                    state.db.clone(),
                    transfers::settings(&state.config),
                    f.clone(),
                ),
            ]
        }))
        .collect();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    purge.abort();
    for worker in workers {
        worker.abort();
    }
    result
}
