//! Who is calling: session cookies for the portal (with CSRF tokens on forms), bearer
//! tokens for the API, and the sign-in rate limit.

use std::net::SocketAddr;
use std::num::NonZeroU32;

use axum::extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use kernel::Lang;
use platform::users::{SessionKind, SessionUser};
use subtle::ConstantTimeEq;

use crate::{AppError, AppState};

pub const SESSION_COOKIE: &str = "cy_session";
/// Double-submit token protecting the sign-in form, which has no session yet.
pub const PRE_SESSION_COOKIE: &str = "cy_presession";
pub const LANG_COOKIE: &str = "cy_lang";

/// Limits sign-in attempts per client address and per user name, so neither one address
/// trying many names nor many addresses trying one name gets far.
pub struct LoginLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl LoginLimiter {
    pub fn new(per_minute: u32) -> LoginLimiter {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        LoginLimiter {
            limiter: RateLimiter::keyed(Quota::per_minute(n)),
        }
    }

    pub fn check(&self, client: &SocketAddr, username: &str) -> Result<(), AppError> {
        let keys = [
            format!("ip:{}", client.ip()),
            format!("user:{}", username.trim().to_lowercase()),
        ];
        for key in keys {
            if let Err(not_until) = self.limiter.check_key(&key) {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                return Err(AppError::RateLimited {
                    retry_after_secs: wait.as_secs().max(1),
                });
            }
        }
        Ok(())
    }
}

/// Compares secrets in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The API caller, authenticated by `Authorization: Bearer <token>`.
pub struct ApiUser(pub SessionUser);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        <ApiUser as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
            .await?
            .ok_or(AppError::Unauthenticated)
    }
}

/// For endpoints open to anyone that show more to a signed-in caller: no token is `None`;
/// a token that is wrong or expired is still refused, so a caller never silently gets less.
impl OptionalFromRequestParts<AppState> for ApiUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, AppError> {
        let Some(header) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(None);
        };
        let token = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AppError::Unauthenticated)?;
        state
            .sessions
            .get(&state.db, token, SessionKind::Api)
            .await?
            .map(|u| Some(ApiUser(u)))
            .ok_or(AppError::Unauthenticated)
    }
}

/// Everything a portal page needs to know about its request: language, the signed-in user
/// (if any) and the path, for the language switch and sign-in redirects.
pub struct PageCtx {
    pub lang: Lang,
    pub user: Option<SessionUser>,
    pub path: String,
    pub jar: CookieJar,
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let jar = CookieJar::from_headers(&parts.headers);
        let lang = jar
            .get(LANG_COOKIE)
            .map(|c| Lang::from_tag(c.value()))
            .unwrap_or_default();
        let user = match jar.get(SESSION_COOKIE) {
            Some(c) => {
                state
                    .sessions
                    .get(&state.db, c.value(), SessionKind::Web)
                    .await?
            }
            None => None,
        };
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        Ok(PageCtx {
            lang,
            user,
            path,
            jar,
        })
    }
}

impl PageCtx {
    /// The signed-in user, or an error that sends the browser to the sign-in page.
    pub fn require_user(&self) -> Result<&SessionUser, AppError> {
        self.user.as_ref().ok_or(AppError::Unauthenticated)
    }

    /// Checks a form's CSRF token against the session's.
    pub fn check_csrf(&self, form_token: &str) -> Result<&SessionUser, AppError> {
        let user = self.require_user()?;
        if same_secret(&user.csrf, form_token) {
            Ok(user)
        } else {
            Err(AppError::Csrf)
        }
    }
}

/// The client's socket address (the sign-in limiter keys on it).
pub fn client_addr(parts: &Parts) -> SocketAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
}

pub struct ClientAddr(pub SocketAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_addr(parts)))
    }
}

pub fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

/// A sign-in redirect target must stay on this site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_site() {
        assert_eq!(safe_next(Some("/students?page=2")), "/students?page=2");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
