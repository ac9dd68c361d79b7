//! Teacher certificates and credentials at the edge (action plan §二.2 教师资格证书查询,
//! §五.8): a teacher's 我的证书 with the credential download, the printable certificate with
//! its QR code and verification code; bureaus' certificate list and status changes; the
//! public 证书核验 page (by verification code, or by name + certificate number) that answers
//! for both provinces; the published status lists; and the JSON API.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use certificates::issue::{CodeState, Issuer, Resolved};
use certificates::service::LookupOutcome;
use certificates::{CertError, CertStatus, CertificateView, LookupResult};
use credential::verify::{Report, Verifier};
use credential::{StatusPurpose, TrustBundle, VerificationCode};
use kernel::Lang;
use kernel::access::Role;
use kernel::ids::{CitizenId, TeacherCertNo};
use platform::users::SessionUser;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::api::ApiJson;
use crate::auth::{ApiUser, ClientAddr, PageCtx};
use crate::pages::{PageError, Shell, render};
use crate::{AppError, AppState, i18n};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/certificates", get(list_page))
        .route("/certificates/{no}", get(certificate_page))
        .route("/certificates/{no}/credential.json", get(download))
        .route("/certificates/{no}/print", get(print_page))
        .route("/certificates/{no}/status", post(status_page))
        .route("/certificates/{no}/codes", post(create_code_page))
        .route("/codes/{code}/revoke", post(revoke_code_page))
        .route("/verify", get(verify_page).post(lookup_page))
        .route("/credentials/status/{purpose}/{list}", get(status_list))
        .route("/.well-known/did.json", get(did_web))
        .route("/api/v1/certificates/lookup", post(lookup_api))
        .route("/api/v1/certificates/{no}/credential", get(credential_api))
        .route("/api/v1/certificates/{no}/status", post(status_api))
        .route("/api/v1/credentials/by-code/{code}", get(by_code_api))
        .route("/api/v1/credentials/verify", post(verify_api))
}

impl From<CertError> for AppError {
    fn from(e: CertError) -> Self {
        match e {
            CertError::NotFound => AppError::NotFound,
            CertError::NotAllowed => AppError::Forbidden,
            CertError::Invalid(_) => AppError::invalid(&e),
            CertError::Audit(a) => AppError::internal(a),
            CertError::Db(d) => AppError::internal(d),
        }
    }
}

/// The issuer of this node, or why it cannot issue.
fn issuer(state: &AppState) -> Result<&Arc<Issuer>, AppError> {
    state
        .issuer
        .as_ref()
        .ok_or_else(|| AppError::Internal("the node's signing key is unavailable".into()))
}

/// This node's address as others reach it: configured, else the directory's, else the one
/// the request came in on.
pub(crate) fn origin(state: &AppState, headers: &HeaderMap) -> String {
    if !state.config.public_url.is_empty() {
        return state.config.public_url.trim_end_matches('/').to_owned();
    }
    if let Some(current) = state.federation.as_ref().and_then(|f| f.current().ok()) {
        return current.origin;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or(&state.config.listen);
    format!("http://{host}")
}

/// Whom this node trusts to issue credentials: every member of the directory in force, or
/// (running alone) itself.
fn trust(state: &AppState, origin: &str) -> TrustBundle {
    let now = OffsetDateTime::now_utc();
    if let Some(current) = state.federation.as_ref().and_then(|f| f.current().ok()) {
        // Built once per directory version: it decodes every member's key.
        let mut cached = state.trust.lock().unwrap_or_else(|p| p.into_inner());
        return match &*cached {
            Some((version, bundle)) if *version == current.directory.version => bundle.clone(),
            _ => {
                let bundle = TrustBundle::from_directory(&current.directory, now);
                *cached = Some((current.directory.version, bundle.clone()));
                bundle
            }
        };
    }
    let mut bundle = TrustBundle::new(now);
    if let Some(issuer) = &state.issuer {
        bundle.issuers.push(credential::TrustedIssuer {
            member: issuer.member.clone(),
            name: issuer.name.clone(),
            verification_methods: vec![credential::TrustedMethod {
                id: issuer.verification_method().to_owned(),
                not_before: None,
                not_after: None,
            }],
            status_list_prefix: certificates::issue::status_base(origin),
        });
    }
    bundle
}

/// Verifies a credential as this node sees it: trust from the directory, status lists
/// fetched from their issuers (this node's own computed here) and cached for their lifetime.
pub(crate) async fn verify_document(state: &AppState, origin: &str, doc: &Value) -> Report {
    let verifier = Verifier {
        bundle: trust(state, origin),
        now: OffsetDateTime::now_utc(),
    };
    let own_base = certificates::issue::status_base(origin);
    let own = |url: String| {
        let own_base = own_base.clone();
        async move {
            let rest = url.strip_prefix(&own_base)?;
            let (purpose, list) = rest.split_once('/')?;
            let purpose = purpose_of(purpose)?;
            let list: u64 = list.parse().ok()?;
            let issuer = state.issuer.as_ref()?;
            certificates::issue::status_list(&state.db, issuer, origin, purpose, list)
                .await
                .ok()
        }
    };
    certificates::verify::verify(&verifier, &state.status_cache, doc, own).await
}

fn purpose_of(s: &str) -> Option<StatusPurpose> {
    match s {
        "revocation" => Some(StatusPurpose::Revocation),
        "suspension" => Some(StatusPurpose::Suspension),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Public look-up and verification

#[derive(Deserialize, ToSchema)]
pub struct LookupRequest {
    /// 17-digit teacher qualification certificate number.
    cert_no: String,
    /// The holder's name as on the certificate.
    name: String,
    /// Optional: the holder's ID number, for a stricter match.
    id_number: Option<String>,
}

async fn run_lookup(
    state: &AppState,
    client: SocketAddr,
    req: &LookupRequest,
) -> Result<LookupOutcome, AppError> {
    let cert_no = TeacherCertNo::parse(&req.cert_no).map_err(|e| AppError::invalid(&e))?;
    state.lookup_limiter.check(&client, cert_no.as_str())?;
    if req.name.trim().is_empty() {
        return Err(AppError::Invalid {
            code: "certificate.lookup_invalid",
            zh: "请填写持证人姓名。".into(),
            en: "Enter the holder's name.".into(),
        });
    }
    let id = match req
        .id_number
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => Some(CitizenId::parse(s).map_err(|e| AppError::invalid(&e))?),
        None => None,
    };
    Ok(certificates::service::lookup(
        &state.db,
        &state.audit,
        state.federation.as_ref(),
        &cert_no,
        &req.name,
        id.as_ref(),
    )
    .await?)
}

/// Public look-up of a teacher qualification certificate (as 中国教师资格网 offers): the
/// standing of a certificate whose number and holder's name (and ID number) match, in
/// either province, and nothing more. Rate-limited per client and per certificate number.
#[utoipa::path(post, path = "/api/v1/certificates/lookup", request_body = LookupRequest, responses(
    (status = 200, body = LookupOutcome), (status = 400, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub(crate) async fn lookup_api(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(req): ApiJson<LookupRequest>,
) -> Result<Json<LookupOutcome>, AppError> {
    Ok(Json(run_lookup(&state, client, &req).await?))
}

/// What a verification code shows: the code's state, the credential and the full check of
/// it (signature, issuer, dates, live status).
#[derive(Serialize, ToSchema)]
pub struct CodeVerification {
    /// `active`, `expired`, `withdrawn` or `unknown`.
    #[schema(value_type = String)]
    state: CodeState,
    #[schema(value_type = Option<Object>)]
    credential: Option<Value>,
    #[schema(value_type = Option<Object>)]
    report: Option<Report>,
}

async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
    client: SocketAddr,
    code: &str,
) -> Result<CodeVerification, AppError> {
    let code = VerificationCode::parse(code).map_err(|e| AppError::invalid(&e))?;
    state.lookup_limiter.check(&client, code.as_str())?;
    let resolved: Resolved = certificates::service::resolve(
        &state.db,
        &state.audit,
        state.federation.as_ref(),
        &state.config.member,
        &code,
    )
    .await?
    .map_err(|e| AppError::Conflict {
        code: "credential.peer_unavailable",
        zh: format!("签发省份的节点暂时无法应答：{}", e.message),
        en: format!(
            "The issuing province's node cannot answer now: {}",
            e.message_en
        ),
    })?;
    let origin = origin(state, headers);
    let report = match &resolved.document {
        Some(doc) => Some(verify_document(state, &origin, doc).await),
        None => None,
    };
    Ok(CodeVerification {
        state: resolved.state,
        credential: resolved.document,
        report,
    })
}

/// Verification by a holder's code (`SC-7K3M-9QXD-2HFA`), on either province's node.
#[utoipa::path(get, path = "/api/v1/credentials/by-code/{code}", responses(
    (status = 200, body = CodeVerification), (status = 400, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub(crate) async fn by_code_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddr(client): ClientAddr,
    crate::api::ApiPath(code): crate::api::ApiPath<String>,
) -> Result<Json<CodeVerification>, AppError> {
    Ok(Json(resolve(&state, &headers, client, &code).await?))
}

/// Verifies a credential document (the JSON file a holder downloaded): signature, trusted
/// issuer, validity dates and live status. Discloses nothing the document does not hold.
#[utoipa::path(post, path = "/api/v1/credentials/verify", request_body(content = Object, description = "A W3C Verifiable Credential"), responses(
    (status = 200, body = Object, description = "The verification report; `ok` is true only when every check passed")))]
pub(crate) async fn verify_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(doc): ApiJson<Value>,
) -> Json<Report> {
    let origin = origin(&state, &headers);
    Json(verify_document(&state, &origin, &doc).await)
}

/// A published status list (W3C Bitstring Status List), cacheable for the configured
/// lifetime.
async fn status_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((purpose, list)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let purpose = purpose_of(&purpose).ok_or(AppError::NotFound)?;
    let list: u64 = list.parse().map_err(|_| AppError::NotFound)?;
    let issuer = issuer(&state)?;
    let origin = origin(&state, &headers);
    let doc = certificates::issue::status_list(&state.db, issuer, &origin, purpose, list).await?;
    let max_age = format!("public, max-age={}", state.config.status_list_ttl_seconds);
    Ok((
        [
            (header::CONTENT_TYPE, "application/vc+json".to_owned()),
            (header::CACHE_CONTROL, max_age),
        ],
        doc.to_string(),
    )
        .into_response())
}

/// The node's did:web document, when it has a public address with a domain: the same key as
/// its did:key, so a verifier that resolves did:web reaches the same key.
async fn did_web(State(state): State<AppState>) -> Result<Response, AppError> {
    let issuer = issuer(&state)?;
    let host = state
        .config
        .public_url
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(""))
        .filter(|h| !h.is_empty())
        .ok_or(AppError::NotFound)?;
    // did:web percent-encodes the port's colon.
    let did = format!("did:web:{}", host.replace(':', "%3A"));
    let key = issuer.did().trim_start_matches("did:key:");
    let method = format!("{did}#{key}");
    let doc = serde_json::json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "alsoKnownAs": [issuer.did()],
        "verificationMethod": [{
            "id": method, "type": "Multikey", "controller": did, "publicKeyMultibase": key,
        }],
        "assertionMethod": [method],
    });
    Ok((
        [(header::CONTENT_TYPE, "application/did+json")],
        doc.to_string(),
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------
// Signed-in API

fn person_key(u: &SessionUser) -> Option<&str> {
    u.person_key.as_deref()
}

/// The credential (W3C VC 2.0, eddsa-jcs-2022) for a certificate the caller holds or may
/// read; issued on first request.
#[utoipa::path(get, path = "/api/v1/certificates/{no}/credential", security(("bearer" = [])), responses(
    (status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn credential_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiUser(u): ApiUser,
    crate::api::ApiPath(no): crate::api::ApiPath<String>,
) -> Result<Json<Value>, AppError> {
    let (issued, _) = certificates::issue::credential_for(
        &state.db,
        &state.audit,
        issuer(&state)?,
        &origin(&state, &headers),
        &u.principal,
        person_key(&u),
        &no,
    )
    .await?;
    Ok(Json(issued.document()))
}

#[derive(Deserialize, ToSchema)]
pub struct StatusRequest {
    /// `valid` (reinstate a suspended certificate), `suspended` or `revoked`.
    status: String,
    reason: String,
}

async fn change_status(
    state: &AppState,
    headers: &HeaderMap,
    u: &SessionUser,
    no: &str,
    status: &str,
    reason: &str,
) -> Result<(), AppError> {
    let to = CertStatus::parse(status).ok_or_else(|| AppError::Invalid {
        code: "certificate.status_invalid",
        zh: "状态应为 valid、suspended 或 revoked。".into(),
        en: "The status must be valid, suspended or revoked.".into(),
    })?;
    certificates::change_status(&state.db, &u.principal, no, to, reason).await?;
    // This node's own lists are cached for its verify endpoint: drop them now.
    state
        .status_cache
        .forget(&certificates::issue::status_base(&origin(state, headers)));
    Ok(())
}

/// A bureau over the certifying body suspends, revokes or reinstates a certificate; every
/// credential issued for it follows in the node's status lists.
#[utoipa::path(post, path = "/api/v1/certificates/{no}/status", request_body = StatusRequest, security(("bearer" = [])), responses(
    (status = 204), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn status_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiUser(u): ApiUser,
    crate::api::ApiPath(no): crate::api::ApiPath<String>,
    ApiJson(req): ApiJson<StatusRequest>,
) -> Result<axum::http::StatusCode, AppError> {
    change_status(&state, &headers, &u, &no, &req.status, &req.reason).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------
// Pages

pub struct Texts {
    title: &'static str,
    plan: &'static str,
    mine: &'static str,
    mine_none: &'static str,
    in_scope: &'static str,
    search: &'static str,
    search_hint: &'static str,
    none: &'static str,
    cert_no: &'static str,
    holder: &'static str,
    id_number: &'static str,
    cert_type: &'static str,
    subject: &'static str,
    body: &'static str,
    issue_date: &'static str,
    status: &'static str,
    school: &'static str,
    title_rank: &'static str,
    registrations: &'static str,
    download: &'static str,
    print: &'static str,
    codes: &'static str,
    codes_intro: &'static str,
    new_code: &'static str,
    days: &'static str,
    expires: &'static str,
    withdraw: &'static str,
    withdrawn: &'static str,
    expired: &'static str,
    change_status: &'static str,
    reason: &'static str,
    suspend: &'static str,
    revoke: &'static str,
    reinstate: &'static str,
    verify_title: &'static str,
    verify_intro: &'static str,
    by_code: &'static str,
    code: &'static str,
    code_hint: &'static str,
    by_number: &'static str,
    id_optional: &'static str,
    check: &'static str,
    result: &'static str,
    source: &'static str,
    checks_passed: &'static str,
    checks_failed: &'static str,
    print_note: &'static str,
    print_button: &'static str,
}

const ZH: Texts = Texts {
    title: "教师资格证书",
    plan: "《川渝教育协同发展行动计划》二.2：推进教师资格证书查询等信息共享。",
    mine: "我的证书",
    mine_none: "您的账号下没有登记的教师资格证书。",
    in_scope: "辖区内的证书",
    search: "查询",
    search_hint: "证书号码或姓名",
    none: "没有符合条件的证书。",
    cert_no: "证书号码",
    holder: "持证人",
    id_number: "身份证件号码",
    cert_type: "资格种类",
    subject: "任教学科",
    body: "认定机构",
    issue_date: "发证日期",
    status: "状态",
    school: "任职学校",
    title_rank: "职称",
    registrations: "定期注册",
    download: "下载电子证书（JSON）",
    print: "打印证书",
    codes: "在线验证码",
    codes_intro: "把验证码告诉用人单位，对方可在川渝任一节点的“证书核验”页面查验；您可随时撤回。",
    new_code: "生成验证码",
    days: "有效天数",
    expires: "有效期至",
    withdraw: "撤回",
    withdrawn: "已撤回",
    expired: "已过期",
    change_status: "变更证书状态",
    reason: "原因",
    suspend: "暂停",
    revoke: "撤销（不可恢复）",
    reinstate: "恢复有效",
    verify_title: "证书核验",
    verify_intro: "核验重庆、四川两地签发的教师资格电子证书。只显示核验结果，不显示其他个人信息。",
    by_code: "按在线验证码核验",
    code: "验证码",
    code_hint: "如 SC-7K3M-9QXD-2HFA，不区分大小写",
    by_number: "按姓名和证书号码查询",
    id_optional: "身份证件号码（选填）",
    check: "核验",
    result: "核验结果",
    source: "签发省份",
    checks_passed: "签名、签发机构、有效期与状态均核验通过。",
    checks_failed: "核验未通过：",
    print_note: "扫描二维码或在证书核验页面输入验证码，可查验本证书的真伪与当前状态。",
    print_button: "打印 / 另存为 PDF",
};

const EN: Texts = Texts {
    title: "Teacher certificates",
    plan: "Action plan §二.2: share teacher qualification certificate look-up between the provinces.",
    mine: "My certificates",
    mine_none: "No teacher qualification certificate is registered under your account.",
    in_scope: "Certificates in your area",
    search: "Search",
    search_hint: "Certificate number or name",
    none: "No matching certificates.",
    cert_no: "Certificate number",
    holder: "Holder",
    id_number: "ID number",
    cert_type: "Qualification",
    subject: "Subject",
    body: "Certifying body",
    issue_date: "Issued",
    status: "Status",
    school: "School",
    title_rank: "Professional title",
    registrations: "Periodic registration",
    download: "Download credential (JSON)",
    print: "Print certificate",
    codes: "Verification codes",
    codes_intro: "Give a code to an employer; they can check it on the verification page of either province's node. You can withdraw it at any time.",
    new_code: "Create a code",
    days: "Valid for (days)",
    expires: "Expires",
    withdraw: "Withdraw",
    withdrawn: "Withdrawn",
    expired: "Expired",
    change_status: "Change the certificate's status",
    reason: "Reason",
    suspend: "Suspend",
    revoke: "Revoke (final)",
    reinstate: "Reinstate",
    verify_title: "Verify a certificate",
    verify_intro: "Verify teacher qualification credentials issued in Chongqing or Sichuan. Only the result is shown, no other personal data.",
    by_code: "Verify by code",
    code: "Verification code",
    code_hint: "e.g. SC-7K3M-9QXD-2HFA, any case",
    by_number: "Look up by name and certificate number",
    id_optional: "ID number (optional)",
    check: "Verify",
    result: "Result",
    source: "Issued in",
    checks_passed: "Signature, issuer, validity and status all verified.",
    checks_failed: "Verification failed: ",
    print_note: "Scan the QR code or enter the code on the verification page to check this certificate and its current status.",
    print_button: "Print / save as PDF",
};

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

fn status_class(status: &str) -> &'static str {
    match status {
        "valid" => "valid",
        "suspended" => "suspended",
        _ => "revoked",
    }
}

#[derive(Template)]
#[template(path = "certificates.html")]
struct ListPage {
    shell: Shell,
    t: &'static Texts,
    mine: Vec<CertificateView>,
    is_teacher: bool,
    scoped: Option<Vec<CertificateView>>,
    q: String,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    q: String,
}

fn may_search(role: Role) -> bool {
    matches!(role, Role::PlatformAdmin | Role::Bureau | Role::SchoolAdmin)
}

async fn list_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    let user = match ctx.require_user() {
        Ok(u) => u,
        Err(e) => return Err(shell.fail(e)),
    };
    let result: Result<ListPage, AppError> = async {
        let p = &user.principal;
        let mine = match (p.role, person_key(user)) {
            (Role::Teacher, Some(key)) => {
                certificates::own_certificates(&state.db, &state.audit, p, key).await?
            }
            _ => Vec::new(),
        };
        let scoped = if may_search(p.role) {
            Some(certificates::search(&state.db, &state.audit, p, &q.q, 200).await?)
        } else {
            None
        };
        Ok(ListPage {
            shell: Shell::new(&state, &ctx),
            t: texts(ctx.lang),
            mine,
            is_teacher: p.role == Role::Teacher,
            scoped,
            q: q.q.clone(),
        })
    }
    .await;
    match result {
        Ok(page) => Ok(render(page)),
        Err(e) => Err(shell.fail(e)),
    }
}

struct CodeRow {
    code: String,
    expires: String,
    state: &'static str,
    active: bool,
}

#[derive(Template)]
#[template(path = "certificate.html")]
struct DetailPage {
    shell: Shell,
    t: &'static Texts,
    c: CertificateView,
    status_class: &'static str,
    own: bool,
    codes: Vec<CodeRow>,
    may_change: bool,
    problem: Option<String>,
}

async fn detail(
    state: &AppState,
    ctx: &PageCtx,
    no: &str,
    problem: Option<String>,
) -> Result<DetailPage, AppError> {
    let user = ctx.require_user()?;
    let p = &user.principal;
    let c = certificates::read_certificate(
        &state.db,
        &state.audit,
        p,
        person_key(user),
        no,
        "证书查看",
    )
    .await?;
    // Only the holder sees (and makes) codes; the holder's ID number is theirs to see.
    let own = certificates::is_holder(&state.db, no, person_key(user)).await?;
    let issued = certificates::issue::issued_for(
        &state.db,
        certificates::KIND_TEACHER_CERTIFICATE,
        &c.certificate.cert_no,
    )
    .await
    .map_err(AppError::internal)?;
    let codes = if let (true, Some(issued)) = (own, issued) {
        let now = platform::now_ms();
        let t = texts(ctx.lang);
        certificates::issue::codes(&state.db, person_key(user).unwrap_or_default())
            .await
            .map_err(AppError::internal)?
            .into_iter()
            .filter(|info| info.credential_id == issued.id)
            .map(|info| CodeRow {
                expires: i18n::format_ms(info.expires_ms, ctx.lang),
                state: if info.revoked_ms.is_some() {
                    t.withdrawn
                } else if info.expires_ms <= now {
                    t.expired
                } else {
                    ""
                },
                active: info.active(now),
                code: info.code,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(DetailPage {
        shell: Shell::new(state, ctx),
        t: texts(ctx.lang),
        status_class: status_class(&c.certificate.status),
        may_change: matches!(p.role, Role::Bureau | Role::PlatformAdmin)
            && c.certificate.status != CertStatus::Revoked.as_str(),
        own,
        codes,
        c,
        problem,
    })
}

async fn certificate_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(no): Path<String>,
) -> Result<Response, PageError> {
    match detail(&state, &ctx, &no, None).await {
        Ok(page) => Ok(render(page)),
        Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
    }
}

async fn download(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(no): Path<String>,
) -> Result<Response, PageError> {
    let result: Result<Response, AppError> = async {
        let user = ctx.require_user()?;
        let (issued, _) = certificates::issue::credential_for(
            &state.db,
            &state.audit,
            issuer(&state)?,
            &origin(&state, &headers),
            &user.principal,
            person_key(user),
            &no,
        )
        .await?;
        let name = format!(
            "attachment; filename=\"teacher-certificate-{}.json\"",
            issued.subject_ref
        );
        Ok((
            [
                (header::CONTENT_TYPE, "application/vc+json".to_owned()),
                (header::CONTENT_DISPOSITION, name),
            ],
            serde_json::to_string_pretty(&issued.document()).unwrap_or_default(),
        )
            .into_response())
    }
    .await;
    result.map_err(|e| Shell::new(&state, &ctx).fail(e))
}

#[derive(Template)]
#[template(path = "certificate_print.html")]
struct PrintPage {
    shell: Shell,
    t: &'static Texts,
    c: CertificateView,
    code: String,
    url: String,
    qr_svg: String,
    issuer: String,
}

/// The printable certificate: the holder's page carries an active verification code (made
/// for 180 days if there is none) and its QR code.
async fn print_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(no): Path<String>,
) -> Result<Response, PageError> {
    let result: Result<PrintPage, AppError> = async {
        let user = ctx.require_user()?;
        let issuer = issuer(&state)?;
        let origin = origin(&state, &headers);
        let (issued, c) = certificates::issue::credential_for(
            &state.db,
            &state.audit,
            issuer,
            &origin,
            &user.principal,
            person_key(user),
            &no,
        )
        .await?;
        let key = person_key(user)
            .filter(|k| *k == issued.holder)
            .ok_or(AppError::NotFound)?;
        let now = platform::now_ms();
        let existing = certificates::issue::codes(&state.db, key)
            .await
            .map_err(AppError::internal)?
            .into_iter()
            .find(|c| c.credential_id == issued.id && c.active(now));
        let code = match existing {
            Some(c) => c.code,
            None => {
                certificates::issue::create_code(
                    &state.db,
                    issuer,
                    &user.principal,
                    key,
                    &issued.id,
                    180,
                )
                .await?
                .code
            }
        };
        let url = format!("{origin}/verify?code={code}");
        let qr_svg = qrcode::QrCode::new(url.as_bytes())
            .map_err(AppError::internal)?
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(160, 160)
            .build();
        Ok(PrintPage {
            shell: Shell::new(&state, &ctx),
            t: texts(ctx.lang),
            c,
            code,
            url,
            qr_svg,
            issuer: issuer.name.clone(),
        })
    }
    .await;
    match result {
        Ok(page) => Ok(render(page)),
        Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
    }
}

#[derive(Deserialize)]
struct StatusForm {
    csrf: String,
    status: String,
    #[serde(default)]
    reason: String,
}

async fn status_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(no): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, PageError> {
    let done: Result<(), AppError> = async {
        let user = ctx.check_csrf(&form.csrf)?;
        change_status(&state, &headers, user, &no, &form.status, &form.reason).await
    }
    .await;
    after(&state, &ctx, &no, done).await
}

#[derive(Deserialize)]
struct CodeForm {
    csrf: String,
    days: i64,
}

async fn create_code_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(no): Path<String>,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    let done: Result<(), AppError> = async {
        let user = ctx.check_csrf(&form.csrf)?;
        let (issued, _) = certificates::issue::credential_for(
            &state.db,
            &state.audit,
            issuer(&state)?,
            &origin(&state, &headers),
            &user.principal,
            person_key(user),
            &no,
        )
        .await?;
        let key = person_key(user).ok_or(AppError::NotFound)?;
        certificates::issue::create_code(
            &state.db,
            issuer(&state)?,
            &user.principal,
            key,
            &issued.id,
            form.days,
        )
        .await?;
        Ok(())
    }
    .await;
    after(&state, &ctx, &no, done).await
}

#[derive(Deserialize)]
struct RevokeForm {
    csrf: String,
    cert_no: String,
}

async fn revoke_code_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Result<Response, PageError> {
    let done: Result<(), AppError> = async {
        let user = ctx.check_csrf(&form.csrf)?;
        let code = VerificationCode::parse(&code).map_err(|e| AppError::invalid(&e))?;
        let key = person_key(user).ok_or(AppError::NotFound)?;
        certificates::issue::revoke_code(&state.db, &user.principal, key, &code).await?;
        Ok(())
    }
    .await;
    after(&state, &ctx, &form.cert_no, done).await
}

/// Back to the certificate after a form: redirected when done, the page with the problem
/// otherwise.
async fn after(
    state: &AppState,
    ctx: &PageCtx,
    no: &str,
    done: Result<(), AppError>,
) -> Result<Response, PageError> {
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/certificates/{no}")).into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            let problem = Some(e.message(ctx.lang));
            match detail(state, ctx, no, problem).await {
                Ok(page) => Ok(render(page)),
                Err(e) => Err(Shell::new(state, ctx).fail(e)),
            }
        }
        Err(e) => Err(Shell::new(state, ctx).fail(e)),
    }
}

/// One line of the public verification result.
struct Fact {
    label: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    shell: Shell,
    t: &'static Texts,
    code: String,
    cert_no: String,
    name: String,
    problem: Option<String>,
    /// By code: the verdict, its class, the credential's facts and the failed check.
    verdict: Option<(String, &'static str)>,
    facts: Vec<Fact>,
    failure: Option<String>,
    /// By number: the answer and where it came from.
    lookup: Option<(String, &'static str, String)>,
}

impl VerifyPage {
    fn new(state: &AppState, ctx: &PageCtx) -> VerifyPage {
        VerifyPage {
            shell: Shell::new(state, ctx),
            t: texts(ctx.lang),
            code: String::new(),
            cert_no: String::new(),
            name: String::new(),
            problem: None,
            verdict: None,
            facts: Vec::new(),
            failure: None,
            lookup: None,
        }
    }
}

#[derive(Deserialize, Default)]
struct VerifyQuery {
    #[serde(default)]
    code: String,
}

async fn verify_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    ClientAddr(client): ClientAddr,
    Query(q): Query<VerifyQuery>,
) -> Response {
    let mut page = VerifyPage::new(&state, &ctx);
    if q.code.trim().is_empty() {
        return render(page);
    }
    page.code = q.code.trim().to_owned();
    match resolve(&state, &headers, client, &q.code).await {
        Err(e) => page.problem = Some(e.message(ctx.lang)),
        Ok(v) if v.state != CodeState::Active => page.problem = Some(v.state.message().into()),
        Ok(v) => {
            let t = page.t;
            page.facts = v
                .credential
                .as_ref()
                .and_then(|d| d.get("credentialSubject"))
                .and_then(Value::as_object)
                .map(|subject| {
                    subject
                        .iter()
                        .filter_map(|(k, v)| Some((subject_label(k, ctx.lang)?, v.as_str()?)))
                        .map(|(label, value)| Fact {
                            label,
                            value: value.to_owned(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            if let Some(report) = &v.report {
                page.verdict = Some(verdict(report, ctx.lang));
                page.facts.push(Fact {
                    label: t.source,
                    value: report.issuer.clone().unwrap_or_default(),
                });
                if !report.ok {
                    page.failure = report.first_error().map(|(_, m)| m);
                }
            }
        }
    }
    render(page)
}

/// The label of a `credentialSubject` field on the verification page; fields without one
/// (`type`, anything unknown) are not shown.
fn subject_label(key: &str, lang: Lang) -> Option<&'static str> {
    let zh = lang == Lang::Zh;
    Some(match key {
        "name" => {
            if zh {
                "持证人"
            } else {
                "Holder"
            }
        }
        "idNumberMasked" => {
            if zh {
                "身份证件号码"
            } else {
                "ID number"
            }
        }
        "certificateNumber" => {
            if zh {
                "证书号码"
            } else {
                "Certificate number"
            }
        }
        "qualificationType" => {
            if zh {
                "资格种类"
            } else {
                "Qualification"
            }
        }
        "teachingSubject" => {
            if zh {
                "任教学科"
            } else {
                "Subject"
            }
        }
        "certifyingBody" => {
            if zh {
                "认定机构"
            } else {
                "Certifying body"
            }
        }
        "issueDate" => {
            if zh {
                "发证日期"
            } else {
                "Issued"
            }
        }
        "diplomaNumber" => {
            if zh {
                "证书编号"
            } else {
                "Diploma number"
            }
        }
        "institution" => {
            if zh {
                "院校"
            } else {
                "Institution"
            }
        }
        "level" => {
            if zh {
                "层次"
            } else {
                "Level"
            }
        }
        "major" => {
            if zh {
                "专业"
            } else {
                "Major"
            }
        }
        "studyForm" => {
            if zh {
                "学习形式"
            } else {
                "Mode of study"
            }
        }
        "graduationDate" => {
            if zh {
                "毕业日期"
            } else {
                "Graduated"
            }
        }
        _ => return None,
    })
}

/// A report as one word and a badge class: 有效 / 已撤销 / 已暂停 / 无效.
fn verdict(report: &Report, lang: Lang) -> (String, &'static str) {
    let zh = lang == Lang::Zh;
    match (report.ok, report.status.as_str()) {
        (true, _) => (CertStatus::Valid.label(lang).into(), "valid"),
        (false, "revoked") => ((if zh { "已撤销" } else { "Revoked" }).into(), "revoked"),
        (false, "suspended") => (
            (if zh { "已暂停" } else { "Suspended" }).into(),
            "suspended",
        ),
        _ => (
            (if zh {
                "核验未通过"
            } else {
                "Not verified"
            })
            .into(),
            "revoked",
        ),
    }
}

#[derive(Deserialize)]
struct LookupForm {
    cert_no: String,
    name: String,
    #[serde(default)]
    id_number: String,
}

async fn lookup_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    ClientAddr(client): ClientAddr,
    Form(form): Form<LookupForm>,
) -> Response {
    let mut page = VerifyPage::new(&state, &ctx);
    page.cert_no = form.cert_no.clone();
    page.name = form.name.clone();
    let req = LookupRequest {
        cert_no: form.cert_no,
        name: form.name,
        id_number: Some(form.id_number),
    };
    match run_lookup(&state, client, &req).await {
        Err(e) => page.problem = Some(e.message(ctx.lang)),
        Ok(outcome) => {
            let class = match outcome.result {
                LookupResult::Valid => "valid",
                LookupResult::Suspended => "suspended",
                LookupResult::Revoked => "revoked",
                LookupResult::NotFound => "none",
            };
            let mut note = outcome.source.unwrap_or_default();
            if outcome.result == LookupResult::NotFound && !outcome.unanswered.is_empty() {
                let peers: Vec<String> = outcome
                    .unanswered
                    .iter()
                    .map(|u| u.member.clone())
                    .collect();
                note = format!(
                    "{}{}",
                    i18n::strings(ctx.lang).fed_unavailable,
                    peers.join("、")
                );
            }
            page.lookup = Some((outcome.result.label(ctx.lang).into(), class, note));
        }
    }
    render(page)
}
