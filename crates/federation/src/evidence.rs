//! Evidence of one exchange: enough of the request and the response that a third party
//! holding only the directory can check who sent what to whom, for which purpose, and what
//! came back.
//!
//! [`verify_evidence`] proves, from signatures alone: the caller (owner of the request key),
//! the callee (owner of the response key), the method, target URI, purpose and request body
//! digest, the response status and body digest, that the response answers exactly this
//! request, and — when the bodies are kept — that the bodies are the ones signed. It does not
//! prove `message_id`, `time` or `service`, which the logging node adds (the service is part
//! of the signed target URI by the routing convention of the application). Keys are looked up
//! as valid at each signature's `created` time, so a directory that keeps rotated-out keys
//! listed (with `not_after`) verifies old evidence; no clock window or nonce check applies.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri};
use kernel::{Lang, Localized};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::directory::Directory;
use crate::httpsig::{
    self, CONTENT_DIGEST, PURPOSE_HEADER, RequestParts, ResponseParts, SIGNATURE, SIGNATURE_INPUT,
    SignatureError,
};

/// A record of one request/response exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The logging node's id for the exchange.
    pub message_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// Member codes.
    pub caller: String,
    pub callee: String,
    pub service: String,
    /// The purpose id, as sent in [`PURPOSE_HEADER`].
    pub purpose: String,
    pub request: RequestEvidence,
    pub response: ResponseEvidence,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestEvidence {
    pub method: String,
    /// Absolute and normalised, as signed.
    pub target_uri: String,
    pub content_digest: String,
    pub signature_input: String,
    pub signature: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<RawBody>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseEvidence {
    pub status: u16,
    pub content_digest: String,
    pub signature_input: String,
    pub signature: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<RawBody>,
}

/// Exact body bytes, serialised as base64url without padding (bodies are bytes, and a
/// digest is over bytes, not over a re-serialised JSON value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBody(pub Vec<u8>);

impl Serialize for RawBody {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&URL_SAFE_NO_PAD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for RawBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        URL_SAFE_NO_PAD
            .decode(text.as_bytes())
            .map(RawBody)
            .map_err(serde::de::Error::custom)
    }
}

/// The logging node's facts about an exchange, for [`Evidence::capture`].
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    pub message_id: &'a str,
    pub time: OffsetDateTime,
    pub caller: &'a str,
    pub callee: &'a str,
    pub service: &'a str,
}

/// Why evidence could not be captured or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// A field cannot be read back (not a method, URI, status or header value).
    Malformed { field: &'static str },
    /// A message lacks a header the evidence needs.
    Incomplete { header: String },
    /// The request part failed verification.
    Request(SignatureError),
    /// The response part failed verification.
    Response(SignatureError),
}

impl Localized for EvidenceError {
    fn code(&self) -> &'static str {
        match self {
            EvidenceError::Malformed { .. } => "federation.evidence_malformed",
            EvidenceError::Incomplete { .. } => "federation.evidence_incomplete",
            EvidenceError::Request(e) | EvidenceError::Response(e) => e.code(),
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (EvidenceError::Malformed { field }, Lang::Zh) => {
                format!("交换凭证字段 {field} 无法解析")
            }
            (EvidenceError::Malformed { field }, Lang::En) => {
                format!("Evidence field {field} cannot be read")
            }
            (EvidenceError::Incomplete { header }, Lang::Zh) => {
                format!("消息缺少 {header}，无法留存凭证")
            }
            (EvidenceError::Incomplete { header }, Lang::En) => {
                format!("The message lacks {header}; no evidence can be kept")
            }
            (EvidenceError::Request(e), Lang::Zh) => format!("请求：{}", e.message(lang)),
            (EvidenceError::Request(e), Lang::En) => format!("Request: {}", e.message(lang)),
            (EvidenceError::Response(e), Lang::Zh) => format!("响应：{}", e.message(lang)),
            (EvidenceError::Response(e), Lang::En) => format!("Response: {}", e.message(lang)),
        }
    }
}

impl std::fmt::Display for EvidenceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::Zh))
    }
}

fn header_text(headers: &HeaderMap, name: &HeaderName) -> Result<String, EvidenceError> {
    let incomplete = || EvidenceError::Incomplete {
        header: name.as_str().to_owned(),
    };
    let mut values = headers.get_all(name).iter().peekable();
    values.peek().ok_or_else(incomplete)?;
    let parts = values
        .map(|v| v.to_str().map_err(|_| incomplete()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(parts.join(", "))
}

impl Evidence {
    /// Records a signed request and its signed response. `origin` is as for
    /// [`httpsig::Verifier::verify_request`]: the receiving node's public origin when its
    /// request URI is only a path; `None` when the URI is absolute (the calling node).
    pub fn capture<B: AsRef<[u8]>, C: AsRef<[u8]>>(
        exchange: Exchange<'_>,
        request: &Request<B>,
        origin: Option<&str>,
        response: &Response<C>,
        keep_bodies: bool,
    ) -> Result<Evidence, EvidenceError> {
        let target = match origin {
            Some(origin) => httpsig::absolute(origin, request.uri())
                .map_err(|_| EvidenceError::Malformed { field: "origin" })?,
            None => request.uri().clone(),
        };
        let target_uri = httpsig::normalised_target(&target).ok_or(EvidenceError::Malformed {
            field: "request.target_uri",
        })?;
        let rh = request.headers();
        let sh = response.headers();
        Ok(Evidence {
            message_id: exchange.message_id.to_owned(),
            time: exchange.time,
            caller: exchange.caller.to_owned(),
            callee: exchange.callee.to_owned(),
            service: exchange.service.to_owned(),
            purpose: header_text(rh, &PURPOSE_HEADER)?,
            request: RequestEvidence {
                method: request.method().as_str().to_owned(),
                target_uri,
                content_digest: header_text(rh, &CONTENT_DIGEST)?,
                signature_input: header_text(rh, &SIGNATURE_INPUT)?,
                signature: header_text(rh, &SIGNATURE)?,
                body: keep_bodies.then(|| RawBody(request.body().as_ref().to_vec())),
            },
            response: ResponseEvidence {
                status: response.status().as_u16(),
                content_digest: header_text(sh, &CONTENT_DIGEST)?,
                signature_input: header_text(sh, &SIGNATURE_INPUT)?,
                signature: header_text(sh, &SIGNATURE)?,
                body: keep_bodies.then(|| RawBody(response.body().as_ref().to_vec())),
            },
        })
    }
}

fn value(text: &str, field: &'static str) -> Result<HeaderValue, EvidenceError> {
    HeaderValue::from_str(text).map_err(|_| EvidenceError::Malformed { field })
}

/// Checks both signatures and digests of `evidence` against `directory`; see the module
/// documentation for what this proves.
pub fn verify_evidence(evidence: &Evidence, directory: &Directory) -> Result<(), EvidenceError> {
    let req = &evidence.request;
    let method =
        Method::from_bytes(req.method.as_bytes()).map_err(|_| EvidenceError::Malformed {
            field: "request.method",
        })?;
    let target: Uri = req
        .target_uri
        .parse()
        .map_err(|_| EvidenceError::Malformed {
            field: "request.target_uri",
        })?;
    let mut request_headers = HeaderMap::new();
    request_headers.insert(
        CONTENT_DIGEST,
        value(&req.content_digest, "request.content_digest")?,
    );
    request_headers.insert(PURPOSE_HEADER, value(&evidence.purpose, "purpose")?);
    request_headers.insert(
        SIGNATURE_INPUT,
        value(&req.signature_input, "request.signature_input")?,
    );
    request_headers.insert(SIGNATURE, value(&req.signature, "request.signature")?);
    let request = RequestParts {
        method: &method,
        target_uri: &target,
        headers: &request_headers,
    };
    httpsig::check_request_at_rest(
        request,
        req.body.as_ref().map(|b| b.0.as_slice()),
        directory,
        &evidence.caller,
    )
    .map_err(EvidenceError::Request)?;

    let res = &evidence.response;
    let status = StatusCode::from_u16(res.status).map_err(|_| EvidenceError::Malformed {
        field: "response.status",
    })?;
    let mut response_headers = HeaderMap::new();
    response_headers.insert(
        CONTENT_DIGEST,
        value(&res.content_digest, "response.content_digest")?,
    );
    response_headers.insert(
        SIGNATURE_INPUT,
        value(&res.signature_input, "response.signature_input")?,
    );
    response_headers.insert(SIGNATURE, value(&res.signature, "response.signature")?);
    httpsig::check_response_at_rest(
        ResponseParts {
            status,
            headers: &response_headers,
        },
        request,
        res.body.as_ref().map(|b| b.0.as_slice()),
        directory,
        &evidence.callee,
    )
    .map_err(EvidenceError::Response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::tests::{NOW, key, sample};
    use crate::httpsig::{InMemoryNonceStore, NodeSigner, Verifier, sign_request, sign_response};

    const TARGET: &str = "https://sc.example.cn/api/federation/v1/student.lookup";

    /// A full exchange CQ → SC as both sides would see it.
    fn exchange(keep_bodies: bool) -> (Evidence, Evidence) {
        let dir = sample(&key(9));
        let cq = NodeSigner::new("cq-2025", key(1)).unwrap();
        let sc = NodeSigner::new("sc-2025", key(2)).unwrap();

        let mut sent = Request::builder()
            .method("POST")
            .uri(TARGET)
            .body(br#"{"blind_index":"abc"}"#.to_vec())
            .unwrap();
        sign_request(&mut sent, &cq, "transfer-verification", NOW).unwrap();

        // SC receives the path only.
        let mut received = Request::builder()
            .method("POST")
            .uri("/api/federation/v1/student.lookup")
            .body(sent.body().clone())
            .unwrap();
        *received.headers_mut() = sent.headers().clone();
        let nonces = InMemoryNonceStore::new(httpsig::DEFAULT_WINDOW);
        Verifier::new(&dir)
            .verify_request(&received, Some("https://sc.example.cn"), &nonces, NOW)
            .unwrap();
        let mut answer = Response::new(r#"{"status":"在读"}"#.as_bytes().to_vec());
        sign_response(&mut answer, &RequestParts::from(&received), &sc, NOW).unwrap();
        Verifier::new(&dir)
            .verify_response(&answer, &RequestParts::from(&sent), "SC", NOW)
            .unwrap();

        let facts = Exchange {
            message_id: "m-1",
            time: NOW,
            caller: "CQ",
            callee: "SC",
            service: "student.lookup",
        };
        let caller_side = Evidence::capture(facts, &sent, None, &answer, keep_bodies).unwrap();
        let callee_side = Evidence::capture(
            facts,
            &received,
            Some("https://sc.example.cn"),
            &answer,
            keep_bodies,
        )
        .unwrap();
        (caller_side, callee_side)
    }

    fn code(e: &Evidence) -> &'static str {
        verify_evidence(e, &sample(&key(9)))
            .map(|_| "ok")
            .unwrap_or_else(|e| e.code())
    }

    #[test]
    fn both_sides_record_the_same_provable_facts() {
        let (a, b) = exchange(true);
        assert_eq!(a, b);
        assert_eq!(code(&a), "ok");
        assert_eq!(code(&exchange(false).0), "ok");
        // Serialisable and back.
        let json = serde_json::to_string(&a).unwrap();
        let back: Evidence = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
        assert_eq!(code(&back), "ok");
        assert!(json.contains("\"status\":200"));
    }

    #[test]
    fn verifies_long_after_the_fact() {
        // No clock: evidence from months ago still verifies against the directory.
        let (a, _) = exchange(true);
        let mut later = a.clone();
        later.time = NOW + time::Duration::days(300);
        assert_eq!(code(&later), "ok");
    }

    #[test]
    fn tampering_is_detected() {
        let (good, _) = exchange(true);
        let mut e = good.clone();
        e.request.body = Some(RawBody(br#"{"blind_index":"abd"}"#.to_vec()));
        assert_eq!(code(&e), "federation.digest_mismatch");
        assert!(
            verify_evidence(&e, &sample(&key(9)))
                .unwrap_err()
                .message(Lang::En)
                .starts_with("Request")
        );

        let mut e = good.clone();
        e.response.body = Some(RawBody(r#"{"status":"毕业"}"#.as_bytes().to_vec()));
        assert_eq!(code(&e), "federation.digest_mismatch");

        let mut e = good.clone();
        e.purpose = "certificate-check".into();
        assert_eq!(code(&e), "federation.signature_invalid");

        let mut e = good.clone();
        e.request.target_uri = TARGET.replace("student.lookup", "transfer");
        assert_eq!(code(&e), "federation.signature_invalid");

        let mut e = good.clone();
        e.request.method = "GET".into();
        assert_eq!(code(&e), "federation.signature_invalid");

        let mut e = good.clone();
        e.response.status = 404;
        assert_eq!(code(&e), "federation.signature_invalid");

        // Roles swapped: the request was not signed by SC.
        let mut e = good.clone();
        std::mem::swap(&mut e.caller, &mut e.callee);
        assert_eq!(code(&e), "federation.signer_mismatch");

        // A response taken from another exchange.
        let (other, _) = exchange(true);
        let mut e = good.clone();
        e.response = other.response;
        assert_eq!(code(&e), "federation.signature_invalid");

        let mut e = good.clone();
        e.request.method = "BAD METHOD".into();
        assert_eq!(code(&e), "federation.evidence_malformed");
        let mut e = good.clone();
        e.response.status = 1000;
        assert_eq!(code(&e), "federation.evidence_malformed");
        let mut e = good;
        e.request.signature = "\n".into();
        assert_eq!(code(&e), "federation.evidence_malformed");
    }

    #[test]
    fn unknown_key_in_another_directory() {
        let (good, _) = exchange(false);
        let mut dir = sample(&key(9));
        dir.members[0].keys[0].kid = "cq-2026".into();
        assert_eq!(
            verify_evidence(&good, &dir).unwrap_err().code(),
            "federation.key_unknown"
        );
    }

    #[test]
    fn capture_needs_signed_messages() {
        let req = Request::builder().uri(TARGET).body(Vec::new()).unwrap();
        let res = Response::new(Vec::new());
        let facts = Exchange {
            message_id: "m",
            time: NOW,
            caller: "CQ",
            callee: "SC",
            service: "s",
        };
        assert_eq!(
            Evidence::capture(facts, &req, None, &res, false)
                .unwrap_err()
                .code(),
            "federation.evidence_incomplete"
        );
        let relative = Request::builder().uri("/x").body(Vec::new()).unwrap();
        assert_eq!(
            Evidence::capture(facts, &relative, None, &res, false)
                .unwrap_err()
                .code(),
            "federation.evidence_malformed"
        );
    }
}
