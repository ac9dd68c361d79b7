//! The federation in the portal: 跨省学籍查询 (`/federation/lookup`: this node first, then
//! the other members, the answer shown read-only with the province it came from) and
//! 联盟状态 (`/federation`: the directory in force, the outbox queue with the reason each
//! message waits, the message log and the notices received).
//!
//! Nothing here talks to peers or writes the logs itself: the look-up is
//! [`crate::federation::lookup_elsewhere`] (which logs and audits on both nodes before it
//! returns), the queue and the log are read through `exchange`.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use federation::IdentifierKind;
use kernel::access::{Action, Resource, Role, authorize};
use kernel::ids::{CitizenId, StudentNo};
use kernel::{Lang, Localized};
use registry::{StudentLine, StudentQuery};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::PageCtx;
use crate::i18n::{self, Strings};
use crate::pages::{Shell, render};
use crate::{AppError, AppState};

/// The purpose a look-up is made for unless the user picks another.
const DEFAULT_PURPOSE: &str = "transfer-verification";
const QUEUE_LIMIT: i64 = 200;
const LOG_LIMIT: i64 = 50;
const NOTICE_LIMIT: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/federation", get(status_page))
        .route("/federation/lookup", get(lookup_page))
}

/// Who asks other provinces for a record: those who run 学籍 (schools and bureaus), and
/// the node's administrators. The same set `lookup_elsewhere` serves.
pub(crate) fn may_look_up(role: Role) -> bool {
    matches!(role, Role::SchoolAdmin | Role::Bureau | Role::PlatformAdmin)
}

/// Who sees the federation's state: the node's administrators and the joint office (the
/// page carries no personal data: no payloads, no identifiers).
pub(crate) fn may_see_status(p: &kernel::access::Principal) -> bool {
    authorize(p, Action::Read, Resource::NodeAdministration).is_ok() || p.role == Role::JointOffice
}

// ---------------------------------------------------------------------------------------
// 跨省学籍查询

#[derive(Deserialize, Default)]
struct LookupQuery {
    q: Option<String>,
    purpose: Option<String>,
}

struct PurposeOption {
    id: String,
    label: String,
    selected: bool,
}

/// One line of the remote record: which field, its label, its value.
struct Fact {
    key: &'static str,
    label: &'static str,
    value: String,
}

struct RemoteChange {
    change_date: String,
    change_type: String,
    from_status: String,
    to_status: String,
    reason: String,
    detail: String,
    actor: String,
}

/// A record another member holds, as it answered: read-only, minimised by the holder.
struct Remote {
    name: String,
    source: String,
    source_name: String,
    facts: Vec<Fact>,
    /// `None` when the purpose does not carry the history.
    changes: Option<Vec<RemoteChange>>,
}

#[derive(Template)]
#[template(path = "federation_lookup.html")]
struct LookupPage {
    shell: Shell,
    q: String,
    purposes: Vec<PurposeOption>,
    /// Why cross-province look-ups cannot be made now (federation off, no directory).
    unavailable: Option<String>,
    /// The input could not be read as a 学籍号 or an ID number.
    problem: Option<String>,
    /// Not found here, and some members did not answer (named).
    incomplete: Option<String>,
    /// Looked everywhere that answered; nobody holds it.
    not_found: bool,
    /// Records of this node matching an ID number.
    local: Vec<StudentLine>,
    remote: Option<Remote>,
    purpose_label: String,
}

/// What was typed, read once: a 学籍号 if it parses as one, else an ID number.
fn parse_identifier(input: &str) -> Result<(IdentifierKind, String), kernel::ids::IdError> {
    match StudentNo::parse(input) {
        Ok(no) => Ok((IdentifierKind::StudentNo, no.as_str().to_owned())),
        Err(as_student_no) => match CitizenId::parse(input) {
            Ok(id) => Ok((IdentifierKind::CitizenId, id.to_18().as_str().to_owned())),
            // Say what was wrong with the kind of number it looks like: 学籍号 start with a
            // letter (G, J, L), ID numbers are digits.
            Err(as_id) => Err(if input.trim().starts_with(|c: char| c.is_alphabetic()) {
                as_student_no
            } else {
                as_id
            }),
        },
    }
}

async fn lookup_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<LookupQuery>,
) -> Result<Response, crate::pages::PageError> {
    let shell = Shell::new(&state, &ctx);
    let user = match ctx.require_user() {
        Ok(u) => u,
        Err(e) => return Err(shell.fail(e)),
    };
    // Others are answered as for a page that does not exist, like the other admin pages.
    if !may_look_up(user.principal.role) {
        return Err(shell.fail(AppError::NotFound));
    }
    let lang = ctx.lang;
    let current = match &state.federation {
        None => Err(exchange::FederationError::NotConfigured),
        Some(f) => f.current(),
    };
    let input = q.q.as_deref().unwrap_or("").trim().to_owned();
    let chosen = q
        .purpose
        .as_deref()
        .filter(|p| !p.is_empty())
        .unwrap_or(DEFAULT_PURPOSE)
        .to_owned();
    let purposes: Vec<PurposeOption> = match &current {
        Ok(c) => c
            .directory
            .purposes
            .iter()
            .map(|p| PurposeOption {
                id: p.id.clone(),
                label: match lang {
                    Lang::Zh => p.name.clone(),
                    Lang::En => p.name_en.clone().unwrap_or_else(|| p.name.clone()),
                },
                selected: p.id == chosen,
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let purpose_label = purposes
        .iter()
        .find(|p| p.selected)
        .map(|p| p.label.clone())
        .unwrap_or_else(|| chosen.clone());
    let mut page = LookupPage {
        shell,
        q: input.clone(),
        unavailable: current.as_ref().err().map(|e| e.message(lang)),
        purposes,
        problem: None,
        incomplete: None,
        not_found: false,
        local: Vec::new(),
        remote: None,
        purpose_label,
    };
    if input.is_empty() {
        return Ok(render(page));
    }
    let (kind, value) = match parse_identifier(&input) {
        Ok(parsed) => parsed,
        Err(e) => {
            page.problem = Some(e.message(lang));
            return Ok((StatusCode::BAD_REQUEST, render(page)).into_response());
        }
    };
    if current.is_ok() && !page.purposes.iter().any(|p| p.selected) {
        page.problem = Some(page.shell.s.fed_choose_purpose.to_owned());
        return Ok((StatusCode::BAD_REQUEST, render(page)).into_response());
    }

    // This node first. A search (one audit entry, no values) rather than a read: the
    // record's own page audits the read once, when it is shown.
    let mut local_query = StudentQuery::default();
    match kind {
        IdentifierKind::StudentNo => local_query.student_no = Some(value.clone()),
        _ => local_query.citizen_id = Some(value.clone()),
    }
    let local = registry::search_students(
        &state.db,
        &state.audit,
        &user.principal,
        &local_query,
        20,
        0,
    )
    .await;
    let local = match local {
        Ok(rows) => rows,
        Err(e) => return Err(page.shell.fail(e)),
    };
    if kind == IdentifierKind::StudentNo
        && let Some(found) = local.first()
    {
        return Ok(Redirect::to(&format!("/students/{}", found.student_no)).into_response());
    }
    if !local.is_empty() {
        page.local = local;
        return Ok(render(page));
    }

    // Then the other members, for the chosen purpose.
    match crate::federation::lookup_elsewhere(&state, &user.principal, kind, &value, &chosen).await
    {
        Ok(Some(record)) => page.remote = Some(remote_record(&record, page.shell.s)),
        // With federation off the notice at the top already says why.
        Ok(None) => page.not_found = current.is_ok(),
        Err(e @ AppError::NotFoundIncomplete { .. }) => page.incomplete = Some(e.message(lang)),
        Err(e) => return Err(page.shell.fail(e)),
    }
    Ok(render(page))
}

/// A JSON value as text: strings as they are, numbers printed, anything else empty.
fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// The fields a member answered, in the order of the local record page. Fields it left
/// out (the purpose does not allow them) are not shown; the ID number never is.
fn remote_record(record: &Value, s: &Strings) -> Remote {
    let get = |k: &str| record.get(k).filter(|v| !v.is_null());
    // The school after the person, as on the local page: name (code).
    let school = match (get("school_name"), get("school_code")) {
        (Some(n), Some(c)) => Some(format!("{}（{}）", text(Some(n)), text(Some(c)))),
        (Some(n), None) => Some(text(Some(n))),
        (None, Some(c)) => Some(text(Some(c))),
        (None, None) => None,
    };
    let order: [(&'static str, &'static str); 10] = [
        ("student_no", s.student_no),
        ("name", s.person_name),
        ("sex", s.sex),
        ("birth_date", s.birth_date),
        ("school", s.school),
        ("stage", s.stage),
        ("grade", s.grade),
        ("class_name", s.class_name),
        ("enrol_date", s.enrol_date),
        ("status", s.status),
    ];
    let facts = order
        .into_iter()
        .filter_map(|(key, label)| {
            let value = match key {
                "school" => school.clone()?,
                _ => text(Some(get(key)?)),
            };
            Some(Fact { key, label, value })
        })
        .collect();
    let changes = get("changes").and_then(Value::as_array).map(|list| {
        list.iter()
            .map(|c| RemoteChange {
                change_date: text(c.get("change_date")),
                change_type: text(c.get("change_type")),
                from_status: text(c.get("from_status")),
                to_status: text(c.get("to_status")),
                reason: text(c.get("reason")),
                detail: text(c.get("detail")),
                actor: text(c.get("actor")),
            })
            .collect()
    });
    Remote {
        name: text(get("name")),
        source: text(record.get("source")),
        source_name: text(record.get("source_name")),
        facts,
        changes,
    }
}

// ---------------------------------------------------------------------------------------
// 联盟状态

struct DirectoryView {
    version: u64,
    issued: String,
    expires: String,
    members: Vec<MemberRow>,
    purposes: Vec<String>,
}

struct MemberRow {
    code: String,
    name: String,
    base_url: String,
    services: String,
    is_self: bool,
}

struct QueueRow {
    message_id: String,
    callee: String,
    service: String,
    purpose: String,
    state_label: &'static str,
    state_class: &'static str,
    attempts: i64,
    next: String,
    reason: String,
}

struct LogRow {
    when: String,
    direction: &'static str,
    caller: String,
    callee: String,
    service: String,
    purpose: String,
    status: i64,
    ok: bool,
}

struct NoticeRow {
    when: String,
    caller: String,
    kind: String,
    title: String,
    body: String,
}

struct StateCount {
    label: &'static str,
    class: &'static str,
    count: i64,
}

#[derive(Template)]
#[template(path = "federation.html")]
struct StatusPage {
    shell: Shell,
    member: String,
    /// Why federation is off; `None` when it is on.
    off_reason: Option<String>,
    directory: Option<DirectoryView>,
    counts: Vec<StateCount>,
    queue: Vec<QueueRow>,
    log: Vec<LogRow>,
    notices: Vec<NoticeRow>,
}

fn state_label(state: &str, s: &'static Strings) -> (&'static str, &'static str) {
    match state {
        "pending" => (s.fed_state_pending, "pending"),
        "refused" => (s.fed_state_refused, "refused"),
        "delivered" => (s.fed_state_delivered, "delivered"),
        _ => ("", "unknown"),
    }
}

fn time_ms(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

async fn status_page(
    State(state): State<AppState>,
    ctx: PageCtx,
) -> Result<Response, crate::pages::PageError> {
    let shell = Shell::new(&state, &ctx);
    let user = match ctx.require_user() {
        Ok(u) => u,
        Err(e) => return Err(shell.fail(e)),
    };
    if !may_see_status(&user.principal) {
        return Err(shell.fail(AppError::NotFound));
    }
    let lang = ctx.lang;
    let s = shell.s;
    let current = match &state.federation {
        None => Err(exchange::FederationError::NotConfigured),
        Some(f) => f.current(),
    };
    let member = state
        .federation
        .as_ref()
        .map(|f| f.member().to_owned())
        .unwrap_or_else(|| state.config.member.clone());
    // Purposes by their names in the directory, falling back to the id on the wire.
    let purpose_name = |id: String| -> String {
        let named = current.as_ref().ok().and_then(|c| {
            let p = c.directory.purposes.iter().find(|p| p.id == id)?;
            Some(match lang {
                Lang::Zh => p.name.clone(),
                Lang::En => p.name_en.clone().unwrap_or_else(|| p.name.clone()),
            })
        });
        named.unwrap_or(id)
    };
    let directory = current.as_ref().ok().map(|c| {
        let d = &c.directory;
        DirectoryView {
            version: d.version,
            issued: i18n::format_ms(time_ms(d.issued_at), lang),
            expires: i18n::format_ms(time_ms(d.expires_at), lang),
            members: d
                .members
                .iter()
                .map(|m| MemberRow {
                    is_self: m.code == member,
                    code: m.code.clone(),
                    name: m.name.clone(),
                    base_url: m.base_url.clone(),
                    services: m.services.join("、"),
                })
                .collect(),
            purposes: d
                .purposes
                .iter()
                .map(|p| match lang {
                    Lang::Zh => format!("{}（{}）", p.name, p.id),
                    Lang::En => format!("{} ({})", p.name_en.as_deref().unwrap_or(&p.name), p.id),
                })
                .collect(),
        }
    });
    let loaded: Result<_, AppError> = async {
        let counts = exchange::outbox::counts(&state.db).await?;
        let queue = exchange::outbox::undelivered(&state.db, QUEUE_LIMIT).await?;
        let log = exchange::log::recent(&state.db, LOG_LIMIT).await?;
        let notices = exchange::outbox::notices(&state.db, NOTICE_LIMIT).await?;
        Ok((counts, queue, log, notices))
    }
    .await;
    let (counts, queue, log, notices) = match loaded {
        Ok(l) => l,
        Err(e) => return Err(shell.fail(e)),
    };
    let counts = ["pending", "refused", "delivered"]
        .into_iter()
        .map(|st| {
            let (label, class) = state_label(st, s);
            StateCount {
                label,
                class,
                count: counts
                    .iter()
                    .find(|(k, _)| k == st)
                    .map(|(_, n)| *n)
                    .unwrap_or(0),
            }
        })
        .collect();
    let queue = queue
        .into_iter()
        .map(|q| {
            let (state_label, state_class) = state_label(&q.state, s);
            QueueRow {
                state_label: if state_label.is_empty() {
                    s.fed_state_unknown
                } else {
                    state_label
                },
                state_class,
                message_id: q.message_id,
                callee: q.callee,
                service: q.service,
                purpose: purpose_name(q.purpose),
                attempts: q.attempts,
                next: if q.state == "pending" {
                    i18n::format_ms(q.next_ms, lang)
                } else {
                    String::new()
                },
                reason: q.last_error.unwrap_or_default(),
            }
        })
        .collect();
    let log = log
        .into_iter()
        .map(|l| LogRow {
            when: i18n::format_ms(l.at_ms, lang),
            direction: match l.direction.as_str() {
                "sent" => s.fed_sent,
                "received" => s.fed_received,
                _ => "",
            },
            caller: l.caller,
            callee: l.callee,
            service: l.service,
            purpose: purpose_name(l.purpose),
            ok: (200..300).contains(&l.status),
            status: l.status,
        })
        .collect();
    let notices = notices
        .into_iter()
        .map(|n| NoticeRow {
            when: i18n::format_ms(n.received_ms, lang),
            caller: n.caller,
            kind: n.kind,
            title: n.title,
            body: n.body,
        })
        .collect();
    Ok(render(StatusPage {
        shell,
        member,
        off_reason: current.as_ref().err().map(|e| e.message(lang)),
        directory,
        counts,
        queue,
        log,
        notices,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_read_as_student_numbers_first() {
        let id = format!(
            "51010420100101123{}",
            kernel::ids::citizen_id_check_char("51010420100101123").unwrap()
        );
        let (kind, value) = parse_identifier(&format!(" G{id} ")).unwrap();
        assert_eq!(kind, IdentifierKind::StudentNo);
        assert_eq!(value, format!("G{id}"));
        let (kind, value) = parse_identifier(&id).unwrap();
        assert_eq!((kind, value), (IdentifierKind::CitizenId, id));
        assert_eq!(kind, IdentifierKind::CitizenId);
        // A letter first: the 学籍号's rules are the ones explained.
        let e = parse_identifier("Q123").unwrap_err();
        assert_eq!(e.code(), "id.prefix");
        let e = parse_identifier("51010420100101123").unwrap_err();
        assert_eq!(e.code(), "id.length");
    }

    #[test]
    fn a_remote_record_shows_only_what_was_answered() {
        let record = serde_json::json!({
            "source": "SC", "source_name": "四川省教育厅",
            "student_no": "G1", "name": "张三", "school_name": "成都一中",
            "school_code": "2151010001", "status": "在读",
            "changes": [{"change_date": "2025-09-01", "change_type": "升级",
                         "from_status": null, "to_status": "在读", "reason": "学年升级",
                         "detail": "", "actor": "sc.school"}]
        });
        let r = remote_record(&record, &i18n::ZH);
        assert_eq!(r.source_name, "四川省教育厅");
        let keys: Vec<_> = r.facts.iter().map(|f| f.key).collect();
        assert_eq!(keys, ["student_no", "name", "school", "status"]);
        assert_eq!(r.facts[2].value, "成都一中（2151010001）");
        let changes = r.changes.unwrap();
        assert_eq!(changes[0].from_status, "");
        assert_eq!(changes[0].to_status, "在读");
    }
}
