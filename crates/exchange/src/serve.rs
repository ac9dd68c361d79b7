//! Answering peers: `POST /federation/v1/{service}`.
//!
//! Order of checks, each refusal logged in the audit chain and answered with a stable code
//! (signed and bound to the request whenever the request carried a signature to bind to):
//! directory in force (503) → service offered (404) → RFC 9421 signature, digest, time
//! window, key, in-memory nonce (401) → the directory's rule for (caller, this node, service,
//! purpose) (403) → the service → the log, with the nonce kept durably (401 on a replay
//! that outlived the in-memory check, e.g. across a restart; nothing is answered).

use bytes::Bytes;
use federation::evidence::Exchange;
use federation::httpsig::{self, RequestParts};
use federation::{Evidence, IdentifierKind, Verifier};
use http::{HeaderValue, Request, Response, StatusCode, header};
use kernel::lang::{Lang, Localized};
use platform::audit::{self, AuditEntry};
use platform::db::{Db, DbError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::log::{self, Direction};
use crate::{Current, Federation, PeerError, STUDENT_LOOKUP};

/// What a caller asks `student.lookup`: the look-ups waiting on the calling node for this
/// peer and purpose, as one signed exchange (one signature each way however many there
/// are); blind indexes, never the identifiers themselves.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LookupRequest {
    /// Between 1 and [`MAX_LOOKUPS`].
    pub lookups: Vec<Lookup>,
}

/// The most look-ups one `student.lookup` exchange may carry.
pub const MAX_LOOKUPS: usize = 64;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Lookup {
    /// `student-no` or `citizen-id`.
    pub kind: String,
    /// The blind index (base64url HMAC-SHA256) of the normalised identifier.
    pub index: String,
    /// The person on the calling node who asked, for the holder's audit log.
    pub actor: Actor,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Actor {
    pub username: String,
    pub role: String,
}

/// The holder's answer: for each look-up, in the order asked, the record minimised to the
/// fields the purpose allows, or `null` where it holds none.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LookupAnswer {
    pub member: String,
    pub records: Vec<Option<serde_json::Value>>,
}

/// A refusal: HTTP status plus a stable code and message.
struct Refusal {
    status: StatusCode,
    error: PeerError,
    caller: Option<String>,
}

impl Refusal {
    fn new(status: StatusCode, e: &dyn Localized) -> Refusal {
        Refusal {
            status,
            error: PeerError::of(e),
            caller: None,
        }
    }
}

/// Answers one request to `service`. `req` carries the path as received; the node's public
/// origin from the directory completes it for the signature check.
pub async fn receive(
    federation: &Federation,
    db: &Db,
    service: &str,
    req: Request<Bytes>,
) -> Response<Vec<u8>> {
    let now = OffsetDateTime::now_utc();
    let current = match federation.current() {
        Ok(c) => c,
        Err(e) => {
            let refusal = Refusal::new(StatusCode::SERVICE_UNAVAILABLE, &e);
            return refuse(federation, db, None, service, &req, refusal, now).await;
        }
    };
    match answer(federation, &current, db, service, &req, now).await {
        Ok(res) => res,
        Err(refusal) => refuse(federation, db, Some(&current), service, &req, refusal, now).await,
    }
}

async fn answer(
    federation: &Federation,
    current: &Current,
    db: &Db,
    service: &str,
    req: &Request<Bytes>,
    now: OffsetDateTime,
) -> Result<Response<Vec<u8>>, Refusal> {
    let directory = &current.directory;
    let plugged = federation.service(service);
    let known = service == STUDENT_LOOKUP
        || crate::outbox::QUEUED_SERVICES.contains(&service)
        || plugged.is_some();
    if !known || !directory.offers(federation.member(), service) {
        return Err(Refusal::new(StatusCode::NOT_FOUND, &Unknown::Service));
    }
    let verified = Verifier::new(&*current.keys)
        .verify_request(req, Some(&current.origin), &federation.0.nonces, now)
        .map_err(|e| Refusal::new(StatusCode::UNAUTHORIZED, &e))?;
    let caller = verified.member.clone();
    let with_caller = |mut r: Refusal| {
        r.caller = Some(caller.clone());
        r
    };
    let fields = directory
        .authorize(&caller, federation.member(), service, &verified.purpose)
        .map_err(|e| with_caller(Refusal::new(StatusCode::FORBIDDEN, &e)))?
        .to_vec();
    let internal = |e: DbError| {
        tracing::error!(error = %e, service, "federation: answering failed");
        with_caller(Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            &Unknown::Internal,
        ))
    };
    let asked = Asked {
        caller: &caller,
        purpose: &verified.purpose,
        message_id: &verified.nonce,
        fields: &fields,
        body: req.body(),
    };
    let (body, accesses) = match (service, plugged) {
        (STUDENT_LOOKUP, _) => student_lookup(federation, db, &asked).await,
        (_, Some(plugged)) => plugged.answer(db, &asked).await,
        _ => crate::outbox::receive_message(federation, db, service, &asked).await,
    }
    .map_err(|e| match e {
        Failed::Body => with_caller(Refusal::new(StatusCode::BAD_REQUEST, &Unknown::Body)),
        Failed::Db(e) => internal(e),
    })?;
    let res = signed(current, req, StatusCode::OK, body, now);
    let evidence = capture(
        current,
        &verified.nonce,
        &caller,
        federation.member(),
        service,
        req,
        &res,
        now,
    )
    .map_err(|_| {
        with_caller(Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            &Unknown::Internal,
        ))
    })?;
    let nonce = log::Nonce {
        keyid: &verified.keyid,
        nonce: &verified.nonce,
        created: verified.created,
    };
    let logged = log::record(
        federation.audit(),
        Direction::Received,
        &evidence,
        Some(nonce),
        accesses,
    );
    match logged.await {
        Ok(_) => {}
        // Seen before, durably: a replay that outlived the in-memory check.
        Err(DbError::Duplicate { .. }) => {
            let replayed = federation::SignatureError::Replayed;
            return Err(with_caller(Refusal::new(
                StatusCode::UNAUTHORIZED,
                &replayed,
            )));
        }
        Err(e) => return Err(internal(e)),
    }
    Ok(res)
}

/// What a service answers: the body and the accesses to audit with the exchange.
pub type Answered = Result<(Vec<u8>, Vec<AuditEntry>), Failed>;

/// A service a feature crate answers: given a verified, allowed request, the answer's body
/// and the accesses to personal data it made (audited with the exchange, in its
/// transaction). [`Failed::Body`] answers 400.
pub trait Service: Send + Sync {
    fn answer<'a>(
        &'a self,
        db: &'a Db,
        asked: &'a Asked<'a>,
    ) -> futures_util::future::BoxFuture<'a, Answered>;
}

/// A verified, allowed request, as a service sees it.
pub struct Asked<'a> {
    pub caller: &'a str,
    pub purpose: &'a str,
    /// The request's nonce: the exchange's id in both nodes' logs.
    pub message_id: &'a str,
    /// The fields the purpose allows in an answer.
    pub fields: &'a [String],
    pub body: &'a [u8],
}

pub enum Failed {
    Body,
    Db(DbError),
}

impl From<DbError> for Failed {
    fn from(e: DbError) -> Self {
        Failed::Db(e)
    }
}

/// `student.lookup`: the records under the blind indexes asked for, minimised, with the
/// accesses to audit. The look-ups are read concurrently, so that the engine's batched
/// audited reads see them together.
async fn student_lookup(
    federation: &Federation,
    db: &Db,
    asked: &Asked<'_>,
) -> Result<(Vec<u8>, Vec<AuditEntry>), Failed> {
    let request: LookupRequest = serde_json::from_slice(asked.body).map_err(|_| Failed::Body)?;
    if request.lookups.is_empty() || request.lookups.len() > MAX_LOOKUPS {
        return Err(Failed::Body);
    }
    let kinds = request
        .lookups
        .iter()
        .map(|l| match l.kind.as_str() {
            "student-no" => Ok(IdentifierKind::StudentNo),
            "citizen-id" => Ok(IdentifierKind::CitizenId),
            _ => Err(Failed::Body),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let audit = federation.audit();
    let reads = request
        .lookups
        .iter()
        .zip(kinds)
        .map(|(lookup, kind)| async move {
            let found =
                crate::index::find(db, audit, federation.index_key(), kind, &lookup.index).await?;
            match &found {
                Some(no) => registry::record_for_peer(db, audit, no).await,
                None => Ok(None),
            }
        });
    let views = futures_util::future::try_join_all(reads).await?;
    let mut accesses = Vec::new();
    let records = request
        .lookups
        .iter()
        .zip(views)
        .map(|(lookup, view)| {
            view.map(|v| {
                accesses.push(
                    AuditEntry::new(
                        &format!("{}:{}", asked.caller, lookup.actor.username),
                        &lookup.actor.role,
                        "student.read.federated",
                        asked.purpose,
                    )
                    .subject(&v.student.student_no, Some(&v.student.school_code))
                    .detail(
                        serde_json::json!({ "member": asked.caller, "message_id": asked.message_id }),
                    ),
                );
                let value = serde_json::to_value(&v).unwrap_or_default();
                federation::directory::minimise(value, asked.fields)
            })
        })
        .collect();
    let answer = LookupAnswer {
        member: federation.member().to_owned(),
        records,
    };
    Ok((serde_json::to_vec(&answer).unwrap_or_default(), accesses))
}

/// Logs a refusal in the audit chain and answers it, signed when the request had a
/// signature to bind the answer to.
async fn refuse(
    federation: &Federation,
    db: &Db,
    current: Option<&Current>,
    service: &str,
    req: &Request<Bytes>,
    refusal: Refusal,
    now: OffsetDateTime,
) -> Response<Vec<u8>> {
    let caller = refusal.caller.clone().unwrap_or_else(|| "unknown".into());
    tracing::warn!(
        caller,
        service,
        code = refusal.error.code,
        "federation request refused"
    );
    let entry = AuditEntry::new(
        &format!("node:{caller}"),
        "federation",
        "federation.refused",
        "联盟安全",
    )
    .detail(serde_json::json!({
        "service": service,
        "callee": federation.member(),
        "code": refusal.error.code,
        "status": refusal.status.as_u16(),
    }));
    let logged = async {
        let mut tx = db.begin().await?;
        audit::append(&mut tx, &[entry]).await?;
        tx.commit().await
    };
    if let Err(e) = logged.await {
        tracing::error!(error = %e, "federation: cannot log a refusal");
    }
    let body = serde_json::to_vec(&refusal.error).unwrap_or_default();
    match current {
        Some(c) if req.headers().contains_key(httpsig::SIGNATURE) => {
            signed(c, req, refusal.status, body, now)
        }
        _ => plain(refusal.status, body),
    }
}

fn plain(status: StatusCode, body: Vec<u8>) -> Response<Vec<u8>> {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// A response signed by this node and bound to `req`'s signature.
fn signed(
    current: &Current,
    req: &Request<Bytes>,
    status: StatusCode,
    body: Vec<u8>,
    now: OffsetDateTime,
) -> Response<Vec<u8>> {
    let mut res = plain(status, body);
    let target =
        httpsig::absolute(&current.origin, req.uri()).unwrap_or_else(|_| req.uri().clone());
    let parts = RequestParts {
        method: req.method(),
        target_uri: &target,
        headers: req.headers(),
    };
    if let Err(e) = httpsig::sign_response(&mut res, &parts, &current.signer, now) {
        tracing::error!(error = %e, "federation: cannot sign a response");
    }
    res
}

#[allow(clippy::too_many_arguments)]
fn capture(
    current: &Current,
    message_id: &str,
    caller: &str,
    callee: &str,
    service: &str,
    req: &Request<Bytes>,
    res: &Response<Vec<u8>>,
    now: OffsetDateTime,
) -> Result<Evidence, federation::EvidenceError> {
    Evidence::capture(
        Exchange {
            message_id,
            time: now,
            caller,
            callee,
            service,
        },
        req,
        Some(&current.origin),
        res,
        false,
    )
}

/// Refusals that are not the signature's or the directory's.
#[derive(Debug)]
enum Unknown {
    Service,
    Body,
    Internal,
}

impl Localized for Unknown {
    fn code(&self) -> &'static str {
        match self {
            Unknown::Service => "federation.service_unknown",
            Unknown::Body => "federation.body_invalid",
            Unknown::Internal => "federation.internal",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Unknown::Service, Lang::Zh) => "本节点不提供该联盟服务。",
            (Unknown::Service, _) => "This node does not offer that federation service.",
            (Unknown::Body, Lang::Zh) => "请求内容不符合该服务的格式。",
            (Unknown::Body, _) => "The request body does not match the service's format.",
            (Unknown::Internal, Lang::Zh) => "本节点处理请求时出错，请稍后重试。",
            (Unknown::Internal, _) => "The node failed to answer; try again later.",
        }
        .into()
    }
}
