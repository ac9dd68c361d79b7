//! The federation at the edge: `POST /federation/v1/{service}` for peers (all checks in
//! `exchange::serve`), and the cross-node fallback of the student look-up.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use federation::IdentifierKind;
use kernel::access::Principal;
use kernel::lang::Lang;

use crate::{AppError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new().route("/federation/v1/{service}", post(receive))
}

async fn receive(
    State(state): State<AppState>,
    Path(service): Path<String>,
    req: Request<axum::body::Body>,
) -> Response {
    let Some(federation) = &state.federation else {
        return AppError::invalid(&exchange::FederationError::NotConfigured).into_response();
    };
    let (parts, body) = req.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => return AppError::PayloadTooLarge.into_response(),
    };
    let req = Request::from_parts(parts, body);
    exchange::serve::receive(federation, &state.db, &service, req)
        .await
        .map(axum::body::Body::from)
        .into_response()
}

/// The directory's purpose id for a declared purpose: its id or its Chinese or English name.
fn purpose_id(current: &exchange::Current, declared: &str) -> Option<String> {
    current
        .directory
        .purposes
        .iter()
        .find(|p| p.id == declared || p.name == declared || p.name_en.as_deref() == Some(declared))
        .map(|p| p.id.clone())
}

/// Asks the peers for a student this node does not hold. `Ok(None)`: nobody holds it (or
/// the node runs alone, or the purpose is not one the federation knows).
pub async fn lookup_elsewhere(
    state: &AppState,
    who: &Principal,
    kind: IdentifierKind,
    value: &str,
    purpose: &str,
) -> Result<Option<serde_json::Value>, AppError> {
    let Some(federation) = &state.federation else {
        return Ok(None);
    };
    if !crate::federation_pages::may_look_up(who.role) {
        return Ok(None);
    }
    let current = federation.current().map_err(|e| AppError::invalid(&e))?;
    let Some(purpose) = purpose_id(&current, purpose) else {
        return Ok(None);
    };
    let outcome = exchange::call::lookup_student(federation, who, kind, value, &purpose)
        .await
        .map_err(AppError::internal)?;
    if let Some(found) = outcome.found {
        let mut record = found.record;
        if let Some(map) = record.as_object_mut() {
            map.insert("source".into(), found.source.into());
            map.insert("source_name".into(), found.source_name.into());
        }
        return Ok(Some(record));
    }
    if outcome.unanswered.is_empty() {
        return Ok(None);
    }
    let list = |lang: Lang| {
        outcome
            .unanswered
            .iter()
            .map(|u| match lang {
                Lang::Zh => format!("{}（{}）", u.member, u.error.message),
                Lang::En => format!("{} ({})", u.member, u.error.message_en),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(AppError::NotFoundIncomplete {
        zh: format!("本节点未找到该记录；以下节点未能应答：{}", list(Lang::Zh)),
        en: format!(
            "Not found on this node; these nodes did not answer: {}",
            list(Lang::En)
        ),
    })
}

/// Says who read a record from another province, as the person should see it on
/// 我的访问记录: the member's name as the organisation, the user name as who, and the
/// purpose by its name. (Peers' users are not in this node's user table.)
pub fn name_peers(state: &AppState, entries: &mut [platform::audit::Access], lang: Lang) {
    let Some(current) = state.federation.as_ref().and_then(|f| f.current().ok()) else {
        return;
    };
    for a in entries.iter_mut().filter(|a| a.actor_org.is_none()) {
        let Some((code, user)) = a.actor.split_once(':') else {
            continue;
        };
        let Some(member) = current.directory.member(code) else {
            continue;
        };
        a.actor_org = Some(format!("{}（{}）", member.name, member.code));
        a.actor_name = Some(user.to_owned());
        if let Some(p) = current.directory.purpose(&a.purpose) {
            a.purpose = match lang {
                Lang::En => p.name_en.clone().unwrap_or_else(|| p.name.clone()),
                _ => p.name.clone(),
            };
        }
    }
}
