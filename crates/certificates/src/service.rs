//! The certificate services between nodes, and the look-ups built on them:
//!
//! - `certificate.lookup`: "does a certificate with this number and holder name (and this
//!   ID number, as a blind index) exist, and what is its standing?" — the answer is one
//!   word, never the record.
//! - `credential.by-code`: the credential a verification code stands for and its standing,
//!   or why the code does not resolve.
//!
//! Both run under the purpose `teacher-cert-verification`; the directory decides who may
//! ask. A visitor on either portal reaches the other province through them.

use std::sync::Arc;

use credential::code::VerificationCode;
use exchange::Federation;
use exchange::call::{self, Unanswered};
use exchange::serve::{Answered, Asked, Failed, Service};
use federation::IdentifierKind;
use futures_util::future::BoxFuture;
use kernel::ids::{CitizenId, TeacherCertNo};
use platform::audit::{AuditEntry, AuditLog};
use platform::db::Db;
use serde::{Deserialize, Serialize};

use crate::issue::{CodeState, Resolved};
use crate::{CertError, IdCheck, LookupResult};

pub const CERTIFICATE_LOOKUP: &str = "certificate.lookup";
pub const CREDENTIAL_BY_CODE: &str = "credential.by-code";
pub const PURPOSE: &str = "teacher-cert-verification";

/// Registers both services on a node's federation.
pub fn register(federation: &Federation) {
    federation.serve(
        CERTIFICATE_LOOKUP,
        Arc::new(LookupService(federation.clone())),
    );
    federation.serve(CREDENTIAL_BY_CODE, Arc::new(CodeService));
}

#[derive(Debug, Serialize, Deserialize)]
struct LookupRequest {
    cert_no: String,
    name: String,
    /// Blind index of the holder's ID number, when the visitor gave one.
    #[serde(default)]
    id_index: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct LookupAnswer {
    result: LookupResult,
}

#[derive(Debug, Serialize, Deserialize)]
struct CodeRequest {
    code: String,
}

struct LookupService(Federation);

impl Service for LookupService {
    fn answer<'a>(&'a self, db: &'a Db, asked: &'a Asked<'a>) -> BoxFuture<'a, Answered> {
        Box::pin(async move {
            let req: LookupRequest =
                serde_json::from_slice(asked.body).map_err(|_| Failed::Body)?;
            let cert_no = TeacherCertNo::parse(&req.cert_no).map_err(|_| Failed::Body)?;
            let id = match &req.id_index {
                Some(digest) => IdCheck::Blind(self.0.index_key(), digest),
                None => IdCheck::None,
            };
            let found = crate::match_certificate(db, &cert_no, &req.name, id).await?;
            let accesses = found
                .iter()
                .map(|c| lookup_access(&format!("{}:public", asked.caller), c))
                .collect();
            let answer = LookupAnswer {
                result: crate::result_of(found.as_ref()),
            };
            Ok((serde_json::to_vec(&answer).unwrap_or_default(), accesses))
        })
    }
}

struct CodeService;

impl Service for CodeService {
    fn answer<'a>(&'a self, db: &'a Db, asked: &'a Asked<'a>) -> BoxFuture<'a, Answered> {
        Box::pin(async move {
            let req: CodeRequest = serde_json::from_slice(asked.body).map_err(|_| Failed::Body)?;
            let code = VerificationCode::parse(&req.code).map_err(|_| Failed::Body)?;
            let actor = format!("{}:anonymous", asked.caller);
            let (resolved, access) = crate::issue::resolve_code(db, &code, &actor).await?;
            Ok((
                serde_json::to_vec(&resolved).unwrap_or_default(),
                access.into_iter().collect(),
            ))
        })
    }
}

fn lookup_access(actor: &str, c: &crate::Certificate) -> AuditEntry {
    AuditEntry::new(actor, "public", "certificate.lookup", "教师资格证书查询")
        .subject(&c.citizen_id, Some(&c.school_code))
        .detail(serde_json::json!({ "cert_no": c.cert_no }))
}

/// The public look-up's answer and where it came from.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LookupOutcome {
    pub result: LookupResult,
    /// The member that answered (this node or a peer); absent when nobody holds it.
    pub source: Option<String>,
    /// Peers that could not answer: a "not found" is then not final.
    #[schema(value_type = Vec<Object>)]
    pub unanswered: Vec<Unanswered>,
}

/// Looks a certificate up here, then on every peer the directory allows: by number and name
/// (and ID number, sent to peers only as its blind index). Every match is audited.
pub async fn lookup(
    db: &Db,
    audit: &AuditLog,
    federation: Option<&Federation>,
    cert_no: &TeacherCertNo,
    name: &str,
    id: Option<&CitizenId>,
) -> Result<LookupOutcome, CertError> {
    let local =
        crate::match_certificate(db, cert_no, name, id.map_or(IdCheck::None, IdCheck::Plain))
            .await?;
    if let Some(c) = &local {
        audit.record(lookup_access("anonymous", c)).await?;
    }
    let mut outcome = LookupOutcome {
        result: crate::result_of(local.as_ref()),
        source: local.as_ref().map(|_| member_here(federation)),
        unanswered: Vec::new(),
    };
    let Some(federation) = federation.filter(|_| local.is_none()) else {
        return Ok(outcome);
    };
    let body = LookupRequest {
        cert_no: cert_no.as_str().to_owned(),
        name: name.trim().to_owned(),
        id_index: id.map(|id| {
            exchange::index::digest_of(
                federation.index_key(),
                IdentifierKind::CitizenId,
                id.as_str(),
            )
        }),
    };
    let body = serde_json::to_vec(&body).unwrap_or_default();
    for (peer, answer) in call::ask_peers(federation, CERTIFICATE_LOOKUP, PURPOSE, &body).await {
        match answer.and_then(|bytes| {
            serde_json::from_slice::<LookupAnswer>(&bytes).map_err(|_| call::unreadable_answer())
        }) {
            Ok(a) if a.result != LookupResult::NotFound => {
                outcome.result = a.result;
                outcome.source = Some(peer);
                break;
            }
            Ok(_) => {}
            Err(error) => outcome.unanswered.push(Unanswered {
                member: peer,
                error,
            }),
        }
    }
    Ok(outcome)
}

fn member_here(federation: Option<&Federation>) -> String {
    federation
        .map(|f| f.member().to_owned())
        .unwrap_or_default()
}

/// Resolves a verification code: here when it is this node's, otherwise on the member its
/// prefix names. The credential document is returned for the caller to verify.
pub async fn resolve(
    db: &Db,
    audit: &AuditLog,
    federation: Option<&Federation>,
    here: &str,
    code: &VerificationCode,
) -> Result<Result<Resolved, exchange::PeerError>, CertError> {
    if code.member() == here {
        let (resolved, access) = crate::issue::resolve_code(db, code, "anonymous").await?;
        if let Some(access) = access {
            audit.record(access).await?;
        }
        return Ok(Ok(resolved));
    }
    let Some(federation) = federation else {
        return Ok(Ok(unknown()));
    };
    let body = serde_json::to_vec(&CodeRequest {
        code: code.as_str().to_owned(),
    })
    .unwrap_or_default();
    let current = match federation.current() {
        Ok(c) => c,
        Err(e) => return Ok(Err(exchange::PeerError::of(&e))),
    };
    if current.directory.member(code.member()).is_none() {
        return Ok(Ok(unknown()));
    }
    let answer = call::ask(
        federation,
        &current,
        code.member(),
        CREDENTIAL_BY_CODE,
        PURPOSE,
        &body,
    )
    .await;
    Ok(answer
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|_| call::unreadable_answer())))
}

fn unknown() -> Resolved {
    Resolved {
        state: CodeState::Unknown,
        document: None,
        revoked: false,
        suspended: false,
        expires_ms: 0,
    }
}
