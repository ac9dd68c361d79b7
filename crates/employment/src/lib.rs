//! Graduate employment (毕业生就业信息共享, action plan §二.2 and §五.8): employers verified by
//! a bureau, jobs with their review and lifecycle, Chinese full-text search over the jobs of
//! every node, graduates registered by their institutions, applications and the graduates'
//! destinations (去向).
//!
//! The jobs of a node live in its database; the search index (`search` crate) is derived
//! from them and follows `jobs.updated_ms` (`index`). Other nodes are searched through the
//! federation service `jobs.search` (`service`).

pub mod applications;
pub mod employers;
pub mod fairs;
pub mod graduates;
pub mod index;
pub mod jobs;
pub mod saved;
pub mod service;
pub mod stats;

use kernel::{Lang, Localized};
use platform::DbError;
use platform::audit::AuditUnavailable;
use serde::Serialize;

pub use kernel::employment::{EmployerType, Level};

/// One thing wrong with a form or a request, named by its field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    pub field: &'static str,
    /// Stable, e.g. `job.salary_range`, `id.checksum`.
    pub code: &'static str,
    /// In Chinese, for the person filling in the form.
    pub message: String,
}

impl Problem {
    pub fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            field,
            code,
            message: message.into(),
        }
    }

    pub fn required(field: &'static str, label: &str) -> Problem {
        Problem::new(field, "field.required", format!("请填写{label}。"))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmploymentError {
    /// Unknown or outside the caller's scope (deliberately indistinguishable).
    #[error("not found")]
    NotFound,
    #[error("not allowed")]
    NotAllowed,
    /// The request was understood but its content is wrong; every problem is listed.
    #[error("invalid input")]
    Invalid(Vec<Problem>),
    /// The record is not in a state where this can be done (e.g. approving a published job).
    #[error("{0}")]
    State(String),
    #[error(transparent)]
    Audit(#[from] AuditUnavailable),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for EmploymentError {
    fn from(e: sqlx::Error) -> Self {
        EmploymentError::Db(DbError::from(e))
    }
}

impl EmploymentError {
    pub fn invalid(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        EmploymentError::Invalid(vec![Problem::new(field, code, message)])
    }
}

impl Localized for EmploymentError {
    fn code(&self) -> &'static str {
        match self {
            EmploymentError::NotFound => "employment.not_found",
            EmploymentError::NotAllowed => "employment.not_allowed",
            EmploymentError::Invalid(p) if p.len() == 1 => p[0].code,
            EmploymentError::Invalid(_) => "employment.invalid",
            EmploymentError::State(_) => "employment.state",
            EmploymentError::Audit(_) => "audit.unavailable",
            EmploymentError::Db(_) => "internal",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (EmploymentError::NotFound, Lang::Zh) => "没有找到该记录，或您无权查看。".into(),
            (EmploymentError::NotFound, _) => "No such record, or you may not see it.".into(),
            (EmploymentError::NotAllowed, Lang::Zh) => "您的账号不能办理此事项。".into(),
            (EmploymentError::NotAllowed, _) => "Your account may not do this.".into(),
            (EmploymentError::Invalid(p), _) => p
                .iter()
                .map(|p| p.message.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            (EmploymentError::State(m), _) => m.clone(),
            (e, _) => e.to_string(),
        }
    }
}
