//! One error type for the edge, mapped to HTTP in one place with stable codes. Internal
//! details are logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kernel::{Lang, Localized};
use serde::Serialize;

#[derive(Debug)]
pub enum AppError {
    /// Input that failed validation, with a stable code and messages in both languages.
    Invalid {
        code: &'static str,
        zh: String,
        en: String,
    },
    Unauthenticated,
    /// Wrong user name or password.
    SignIn,
    Csrf,
    RateLimited {
        retry_after_secs: u64,
    },
    /// Unknown, or outside the caller's scope: the two answer the same.
    NotFound,
    /// Not found here, and some peer nodes could not be asked (named in the messages).
    NotFoundIncomplete {
        zh: String,
        en: String,
    },
    Forbidden,
    PayloadTooLarge,
    /// A JSON endpoint received something that is not JSON.
    UnsupportedMediaType,
    Conflict {
        code: &'static str,
        zh: String,
        en: String,
    },
    Internal(String),
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `not_found`, `id.checksum`.
    pub code: &'static str,
    /// Chinese message for people.
    pub message: String,
    /// English message.
    pub message_en: String,
}

impl AppError {
    pub fn invalid(e: &impl Localized) -> AppError {
        AppError::Invalid {
            code: e.code(),
            zh: e.message(Lang::Zh),
            en: e.message(Lang::En),
        }
    }

    pub fn bad_request(zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::Invalid {
            code: "bad_request",
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> AppError {
        AppError::Internal(e.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Invalid { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthenticated | AppError::SignIn => StatusCode::UNAUTHORIZED,
            AppError::Csrf | AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::NotFound | AppError::NotFoundIncomplete { .. } => StatusCode::NOT_FOUND,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid { code, .. } | AppError::Conflict { code, .. } => code,
            AppError::Unauthenticated => "unauthenticated",
            AppError::SignIn => "sign_in_failed",
            AppError::Csrf => "csrf",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::NotFound => "not_found",
            AppError::NotFoundIncomplete { .. } => "federation.incomplete",
            AppError::Forbidden => "forbidden",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        let (zh, en) = match self {
            AppError::Invalid { zh, en, .. }
            | AppError::Conflict { zh, en, .. }
            | AppError::NotFoundIncomplete { zh, en } => {
                return match lang {
                    Lang::Zh => zh.clone(),
                    Lang::En => en.clone(),
                };
            }
            AppError::Unauthenticated => ("请先登录。", "Please sign in."),
            AppError::SignIn => ("用户名或密码错误。", "Wrong user name or password."),
            AppError::Csrf => (
                "表单已过期或来源不明，请刷新页面后重试。",
                "The form has expired or did not come from this site; reload the page and try again.",
            ),
            AppError::RateLimited { .. } => (
                "尝试次数过多，请稍后再试。",
                "Too many attempts; please try again later.",
            ),
            AppError::NotFound => ("未找到该记录或页面。", "Not found."),
            AppError::Forbidden => ("您无权执行此操作。", "You may not do this."),
            AppError::PayloadTooLarge => ("提交的内容过大。", "The request body is too large."),
            AppError::UnsupportedMediaType => (
                "请求须为 JSON（Content-Type: application/json）。",
                "The request body must be JSON (Content-Type: application/json).",
            ),
            AppError::Internal(_) => (
                "系统暂时无法处理，请稍后再试。",
                "Something went wrong on our side; please try again later.",
            ),
        };
        match lang {
            Lang::Zh => zh.to_owned(),
            Lang::En => en.to_owned(),
        }
    }

    fn log(&self) {
        if let AppError::Internal(detail) = self {
            tracing::error!(%detail, "internal error");
        }
    }

    pub fn retry_after(&self) -> Option<HeaderValue> {
        match self {
            AppError::RateLimited { retry_after_secs } => {
                Some(HeaderValue::from(*retry_after_secs))
            }
            _ => None,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let body = ErrorBody {
            code: self.code(),
            message: self.message(Lang::Zh),
            message_en: self.message(Lang::En),
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let Some(v) = self.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if matches!(self, AppError::Unauthenticated) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<platform::DbError> for AppError {
    fn from(e: platform::DbError) -> Self {
        AppError::internal(e)
    }
}

impl From<platform::audit::AuditUnavailable> for AppError {
    fn from(e: platform::audit::AuditUnavailable) -> Self {
        AppError::internal(e)
    }
}

impl From<registry::ReadError> for AppError {
    fn from(e: registry::ReadError) -> Self {
        match e {
            registry::ReadError::NotFound => AppError::NotFound,
            other => AppError::internal(other),
        }
    }
}

impl From<registry::ChangeError> for AppError {
    fn from(e: registry::ChangeError) -> Self {
        match e {
            registry::ChangeError::NotFound => AppError::NotFound,
            registry::ChangeError::NotApplicable(zh) => AppError::Conflict {
                code: "change.not_applicable",
                en: "This change does not apply to the record's present status or grade.".into(),
                zh,
            },
            registry::ChangeError::Invalid(zh) => AppError::Invalid {
                code: "change.invalid",
                en: "The change is incomplete or its date is not a valid date.".into(),
                zh,
            },
            registry::ChangeError::Db(e) => AppError::internal(e),
        }
    }
}

impl From<transfer::TransferError> for AppError {
    fn from(e: transfer::TransferError) -> Self {
        use transfer::TransferError as E;
        match e {
            E::NotFound => AppError::NotFound,
            E::NotYours(zh) => AppError::Conflict {
                code: "transfer.not_your_step",
                en: "This transfer is not at a step you decide.".into(),
                zh,
            },
            E::NotApplicable(zh) => AppError::Conflict {
                code: "transfer.not_applicable",
                en: "This does not apply to the transfer or the student's record as they stand."
                    .into(),
                zh,
            },
            E::Invalid(zh) => AppError::Invalid {
                code: "transfer.invalid",
                en: "The application is incomplete or names an unknown student or grade.".into(),
                zh,
            },
            E::PeerUnavailable(zh) => AppError::Conflict {
                code: "transfer.peer_unavailable",
                en: "The other province's node cannot be asked now; try again later.".into(),
                zh,
            },
            E::Db(e) => AppError::internal(e),
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for AppError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        rejection(r.status(), r.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for AppError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        rejection(r.status(), r.body_text())
    }
}

impl From<axum::extract::rejection::FormRejection> for AppError {
    fn from(r: axum::extract::rejection::FormRejection) -> Self {
        rejection(r.status(), r.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for AppError {
    fn from(r: axum::extract::rejection::PathRejection) -> Self {
        rejection(r.status(), r.body_text())
    }
}

/// Turns axum's extractor rejections into our codes; the detail axum gives (which field,
/// which type) is safe to show and helps the caller.
fn rejection(status: StatusCode, detail: String) -> AppError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType,
        _ => AppError::Invalid {
            code: "invalid_request",
            zh: format!("请求格式或字段类型不正确：{detail}"),
            en: format!("The request is malformed or has a field of the wrong type: {detail}"),
        },
    }
}
