//! Calling peers: sign, send, verify the signed answer against what was sent, log both.

use bytes::Bytes;
use federation::evidence::Exchange;
use federation::httpsig::{self, RequestParts};
use federation::{Evidence, IdentifierKind, Verifier};
use http::{HeaderValue, Method, Request, Response, header};
use kernel::access::Principal;
use kernel::ids::StudentNo;
use kernel::lang::{Lang, Localized};
use platform::audit::AuditEntry;
use serde::Serialize;
use time::OffsetDateTime;

use crate::log::{self, Direction};
use crate::serve::{Actor, Lookup};
use crate::{Current, Federation, FederationError, PeerError, STUDENT_LOOKUP};

/// A record found on a peer.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    /// The member holding the record, and its name.
    pub source: String,
    pub source_name: String,
    /// The record, minimised by the holder to the purpose's fields.
    pub record: serde_json::Value,
    pub message_id: String,
}

/// What the federation said: the record if a peer holds it, and the peers that could not
/// answer (down, refused, or an answer that did not verify), so callers can say so.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    pub found: Option<Found>,
    pub unanswered: Vec<Unanswered>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unanswered {
    pub member: String,
    #[serde(flatten)]
    pub error: PeerError,
}

/// Looks a student up on every peer the directory allows for `purpose`, by the blind index
/// of `value` (a 学籍号 or an ID number); each exchange is logged and each access audited
/// (look-ups waiting for the same peer share one exchange: see the `batch` module).
pub async fn lookup_student(
    federation: &Federation,
    who: &Principal,
    kind: IdentifierKind,
    value: &str,
    purpose: &str,
) -> Result<Outcome, FederationError> {
    let current = federation.current()?;
    let directory = &current.directory;
    let peers: Vec<_> = directory
        .members
        .iter()
        .filter(|m| m.code != federation.member())
        .filter(|m| {
            directory
                .allowed(federation.member(), &m.code, STUDENT_LOOKUP, purpose)
                .is_some()
        })
        .collect();
    let lookup = Lookup {
        kind: kind.label().to_owned(),
        index: crate::index::digest_of(federation.index_key(), kind, value),
        actor: Actor {
            username: who.username.clone(),
            role: who.role.as_str().to_owned(),
        },
    };
    // What a record for this 学籍号 must carry: an answer about someone else is not shown.
    let asked_no = match kind {
        IdentifierKind::StudentNo => StudentNo::parse(value).ok(),
        _ => None,
    };
    let calls = peers.iter().map(|peer| {
        let lookup = lookup.clone();
        async move {
            let answer = federation.look_up(&peer.code, purpose, lookup).await;
            (peer.code.clone(), peer.name.clone(), answer)
        }
    });
    let mut outcome = Outcome::default();
    for (member, name, answer) in futures_util::future::join_all(calls).await {
        let answer = answer.and_then(|(message_id, record)| {
            let other = record
                .as_ref()
                .and_then(|r| r.get("student_no"))
                .and_then(|v| v.as_str())
                .zip(asked_no.as_ref())
                .is_some_and(|(got, asked)| got != asked.as_str());
            if other {
                tracing::warn!(
                    peer = member,
                    message_id,
                    "federation: an answer is about another student"
                );
                return Err(PeerError::of(&CallError::Unreadable));
            }
            Ok((message_id, record))
        });
        match answer {
            Ok((message_id, record)) => {
                if let (Some(record), None) = (record, &outcome.found) {
                    outcome.found = Some(Found {
                        source: member,
                        source_name: name,
                        record,
                        message_id,
                    });
                }
            }
            Err(error) => outcome.unanswered.push(Unanswered { member, error }),
        }
    }
    Ok(outcome)
}

/// A verified exchange: the callee's answer and the evidence of what was asked and said.
pub struct Exchanged {
    pub message_id: String,
    pub response: Response<Bytes>,
    pub evidence: Evidence,
}

/// One signed call to `callee`. The answer is returned only if its signature verifies and
/// binds it to this request; a signed refusal is logged and returned as the error.
pub async fn call(
    federation: &Federation,
    current: &Current,
    callee: &str,
    service: &str,
    purpose: &str,
    body: Vec<u8>,
) -> Result<Exchanged, PeerError> {
    let base_url = current
        .directory
        .member(callee)
        .map(|m| m.base_url.clone())
        .ok_or_else(|| PeerError::of(&CallError::BadUrl))?;
    let now = OffsetDateTime::now_utc();
    let url = format!("{}/federation/v1/{service}", base_url.trim_end_matches('/'));
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(&url)
        .header(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )
        .body(Bytes::from(body))
        .map_err(|_| PeerError::of(&CallError::BadUrl))?;
    let signature = httpsig::sign_request(&mut req, &current.signer, purpose, now)
        .map_err(|e| PeerError::of(&e))?;
    let res = send(federation, &req).await?;
    let verified = Verifier::new(&*current.keys).verify_response(
        &res,
        &RequestParts::from(&req),
        callee,
        OffsetDateTime::now_utc(),
    );
    if let Err(e) = verified {
        tracing::warn!(peer = callee, error = %e, "federation: an answer did not verify");
        return Err(PeerError::of(&e));
    }
    let exchange = Exchange {
        message_id: &signature.nonce,
        time: now,
        caller: federation.member(),
        callee,
        service,
    };
    let evidence =
        Evidence::capture(exchange, &req, None, &res, false).map_err(|e| PeerError::of(&e))?;
    if !res.status().is_success() {
        // A signed refusal: logged like any exchange, then reported.
        let error = serde_json::from_slice::<PeerError>(res.body())
            .unwrap_or_else(|_| PeerError::of(&CallError::Unreadable));
        let logged = log::record(
            federation.audit(),
            Direction::Sent,
            &evidence,
            None,
            Vec::new(),
        );
        if let Err(e) = logged.await {
            tracing::error!(error = %e, "federation: cannot log an exchange");
        }
        return Err(error);
    }
    Ok(Exchanged {
        message_id: signature.nonce,
        response: res,
        evidence,
    })
}

/// Logs a verified exchange with the accesses it carried; until that is committed, the
/// answer must not be used.
pub async fn log_exchange(
    federation: &Federation,
    exchanged: &Exchanged,
    accesses: Vec<AuditEntry>,
) -> Result<(), PeerError> {
    let audit = federation.audit();
    log::record(audit, Direction::Sent, &exchanged.evidence, None, accesses)
        .await
        .map(|_| ())
        .map_err(|e| {
            tracing::error!(error = %e, "federation: cannot log an exchange");
            PeerError::of(&CallError::NotLogged)
        })
}

async fn send(federation: &Federation, req: &Request<Bytes>) -> Result<Response<Bytes>, PeerError> {
    let mut out = reqwest::Request::new(
        req.method().clone(),
        req.uri()
            .to_string()
            .parse()
            .map_err(|_| PeerError::of(&CallError::BadUrl))?,
    );
    *out.headers_mut() = req.headers().clone();
    *out.body_mut() = Some(reqwest::Body::from(req.body().clone()));
    let res = federation.0.client.execute(out).await.map_err(|e| {
        tracing::warn!(peer = %req.uri(), error = %e, "federation: peer unreachable");
        PeerError::of(&CallError::Unreachable)
    })?;
    let status = res.status();
    let headers = res.headers().clone();
    let body = res
        .bytes()
        .await
        .map_err(|_| PeerError::of(&CallError::Unreachable))?;
    let mut back = Response::new(body);
    *back.status_mut() = status;
    *back.headers_mut() = headers;
    Ok(back)
}

/// One signed call that carries no personal data of this node's, logged on both sides;
/// the answer's body. The accesses the answer made are audited by the node that answered.
pub async fn ask(
    federation: &Federation,
    current: &Current,
    peer: &str,
    service: &str,
    purpose: &str,
    body: &[u8],
) -> Result<Vec<u8>, PeerError> {
    let exchanged = call(federation, current, peer, service, purpose, body.to_vec()).await?;
    log_exchange(federation, &exchanged, Vec::new()).await?;
    Ok(exchanged.response.body().to_vec())
}

/// [`ask`] of every peer the directory lets this member call `service` for `purpose`, in
/// parallel; each peer's answer or why it gave none.
pub async fn ask_peers(
    federation: &Federation,
    service: &str,
    purpose: &str,
    body: &[u8],
) -> Vec<(String, Result<Vec<u8>, PeerError>)> {
    let current = match federation.current() {
        Ok(c) => c,
        Err(_) => return Vec::new(),
    };
    let peers: Vec<String> = current
        .directory
        .members
        .iter()
        .filter(|m| m.code != federation.member())
        .filter(|m| {
            current
                .directory
                .allowed(federation.member(), &m.code, service, purpose)
                .is_some()
        })
        .map(|m| m.code.clone())
        .collect();
    let current = &current;
    let calls = peers.into_iter().map(|peer| async move {
        let answer = ask(federation, current, &peer, service, purpose, body).await;
        (peer, answer)
    });
    futures_util::future::join_all(calls).await
}

/// What a caller reports when a verified answer is not in the format its service defines.
pub fn unreadable_answer() -> PeerError {
    PeerError::of(&CallError::Unreadable)
}

#[derive(Debug)]
pub(crate) enum CallError {
    BadUrl,
    Unreachable,
    Unreadable,
    NotLogged,
    /// The task sending this peer's exchanges ended before answering (it panicked).
    Interrupted,
}

impl Localized for CallError {
    fn code(&self) -> &'static str {
        match self {
            CallError::BadUrl => "federation.peer_url_invalid",
            CallError::Unreachable => "federation.peer_unreachable",
            CallError::Unreadable => "federation.answer_invalid",
            CallError::NotLogged => "federation.not_logged",
            CallError::Interrupted => "federation.interrupted",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (CallError::BadUrl, Lang::Zh) => "联盟目录中该节点的地址无效。",
            (CallError::BadUrl, _) => "The directory lists an invalid address for this node.",
            (CallError::Unreachable, Lang::Zh) => "对方节点暂时无法连接。",
            (CallError::Unreachable, _) => "The peer node cannot be reached right now.",
            (CallError::Unreadable, Lang::Zh) => "对方节点的应答格式无效。",
            (CallError::Unreadable, _) => "The peer's answer is not in the expected format.",
            (CallError::NotLogged, Lang::Zh) => "交换记录无法写入，结果未显示。",
            (CallError::NotLogged, _) => "The exchange could not be logged, so it is not shown.",
            (CallError::Interrupted, Lang::Zh) => "跨省查询中断，请重试。",
            (CallError::Interrupted, _) => "The cross-node look-up was interrupted; try again.",
        }
        .into()
    }
}
