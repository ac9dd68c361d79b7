//! Node-to-node HTTP Message Signatures (RFC 9421) with Ed25519, and `Content-Digest`
//! (RFC 9530).
//!
//! A request carries:
//!
//! ```text
//! Content-Digest: sha-256=:<base64 of SHA-256(body)>:
//! X-Chuanyu-Purpose: transfer-verification
//! Signature-Input: chuanyu=("@method" "@target-uri" "content-digest" "x-chuanyu-purpose")\
//!     ;created=1741996800;keyid="cq-2025";nonce="<22 chars>";alg="ed25519"
//! Signature: chuanyu=:<base64 of the 64-byte Ed25519 signature>:
//! ```
//!
//! and its response:
//!
//! ```text
//! Content-Digest: sha-256=:…:
//! Signature-Input: chuanyu=("@status" "content-digest" "signature";key="chuanyu";req)\
//!     ;created=…;keyid="sc-2025";nonce="…";alg="ed25519"
//! Signature: chuanyu=:…:
//! ```
//!
//! The response covers the request's own signature (`"signature";key="chuanyu";req`), which
//! covers the request's method, target, body digest, purpose and nonce: a response verifies
//! only against the request it answers.
//!
//! `@target-uri` is signed in a normalised absolute form (lowercase scheme and host, no
//! default port, `/` for an empty path). A client signs the URI it sends to (build it from a
//! parsed URL, as reqwest does); a server behind a proxy sees only the path, so
//! [`Verifier::verify_request`] takes the node's public origin (scheme and authority of its
//! `base_url` in the directory) and rebuilds the URI from it — which also means a request
//! signed for one node does not verify at another.

mod base;
mod digest;
mod nonce;

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use http::header::HeaderName;
use http::{HeaderMap, HeaderValue, Request, Response, Uri};
use kernel::{Lang, Localized};
use rand::RngCore as _;
use sfv::{BareItem, Dictionary, FieldType as _, InnerList, Item, KeyRef, ListEntry};
use time::{Duration, OffsetDateTime};

pub use base::{ComponentId, Message, RequestParts, ResponseParts, SignatureParams};
pub use digest::{check_content_digest, content_digest};
pub use nonce::{InMemoryNonceStore, NonceStore};

use base::{find_signature, malformed, sf_string, signature_base};

/// The label of our signature in `Signature-Input` and `Signature`.
pub const SIGNATURE_LABEL: &str = "chuanyu";
/// The header naming the purpose of a request (a directory purpose id); always signed.
pub const PURPOSE_HEADER: HeaderName = HeaderName::from_static("x-chuanyu-purpose");
/// RFC 9530.
pub const CONTENT_DIGEST: HeaderName = HeaderName::from_static("content-digest");
/// RFC 9421.
pub const SIGNATURE: HeaderName = HeaderName::from_static("signature");
/// RFC 9421.
pub const SIGNATURE_INPUT: HeaderName = HeaderName::from_static("signature-input");
/// The only algorithm we sign and accept.
pub const ALG: &str = "ed25519";
/// How far `created` may be from the verifier's clock, either way.
pub const DEFAULT_WINDOW: Duration = Duration::seconds(300);

/// Accepted nonce lengths: ours are 22 characters; a floor keeps nonces unguessable and a
/// ceiling keeps the nonce store small.
const NONCE_LEN: std::ops::RangeInclusive<usize> = 16..=64;

const CREATED: &KeyRef = KeyRef::constant("created");
const KEYID: &KeyRef = KeyRef::constant("keyid");
const NONCE: &KeyRef = KeyRef::constant("nonce");
const ALG_PARAM: &KeyRef = KeyRef::constant("alg");
const LABEL: &KeyRef = KeyRef::constant(SIGNATURE_LABEL);

/// Why a message signature was refused, or could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Signature-Input`/`Signature` for our label.
    Missing,
    /// The signature headers or parameters are not what RFC 9421 or this profile allows.
    MalformedInput {
        detail: String,
    },
    /// A component this profile requires is not covered, or a covered one is absent.
    MissingComponent {
        component: String,
    },
    /// The directory has no key with this id valid at the signature's `created` time.
    UnknownKey {
        keyid: String,
    },
    UnsupportedAlgorithm {
        alg: String,
    },
    /// The signature does not verify: the message or key differs from what was signed.
    Invalid,
    /// No usable `Content-Digest`.
    DigestMissing,
    /// The body does not match `Content-Digest`.
    DigestMismatch,
    /// `created` too far from the verifier's clock (Unix seconds).
    OutsideWindow {
        created: i64,
        now: i64,
    },
    /// The signature's own `expires` has passed.
    Expired,
    /// The nonce was already used with this key.
    Replayed,
    /// Signed by a key of another member than the one expected.
    SignerMismatch {
        expected: String,
        found: String,
    },
    /// A local mistake (bad key id, purpose, URI or configured origin); never a peer's doing.
    Signing {
        detail: String,
    },
}

impl Localized for SignatureError {
    fn code(&self) -> &'static str {
        match self {
            SignatureError::Missing => "federation.signature_missing",
            SignatureError::MalformedInput { .. } => "federation.signature_input_malformed",
            SignatureError::MissingComponent { .. } => "federation.component_missing",
            SignatureError::UnknownKey { .. } => "federation.key_unknown",
            SignatureError::UnsupportedAlgorithm { .. } => "federation.alg_unsupported",
            SignatureError::Invalid => "federation.signature_invalid",
            SignatureError::DigestMissing => "federation.digest_missing",
            SignatureError::DigestMismatch => "federation.digest_mismatch",
            SignatureError::OutsideWindow { .. } => "federation.created_out_of_window",
            SignatureError::Expired => "federation.signature_expired",
            SignatureError::Replayed => "federation.nonce_replayed",
            SignatureError::SignerMismatch { .. } => "federation.signer_mismatch",
            SignatureError::Signing { .. } => "federation.signing_failed",
        }
    }

    fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        let pick = |z: String, e: String| if zh { z } else { e };
        match self {
            SignatureError::Missing => pick(
                "消息未签名（缺少 Signature-Input 或 Signature）".into(),
                "The message is not signed (Signature-Input or Signature missing)".into(),
            ),
            SignatureError::MalformedInput { detail } => pick(
                format!("签名参数格式错误：{detail}"),
                format!("The signature input is malformed: {detail}"),
            ),
            SignatureError::MissingComponent { component } => pick(
                format!("签名未覆盖或消息缺少必需的组成部分 {component}"),
                format!("The required component {component} is not signed or not present"),
            ),
            SignatureError::UnknownKey { keyid } => pick(
                format!("联盟目录中没有在签名时有效的密钥 {keyid}"),
                format!("The directory has no key {keyid} valid at the time of signing"),
            ),
            SignatureError::UnsupportedAlgorithm { alg } => pick(
                format!("签名算法 {alg} 不受支持，应为 ed25519"),
                format!("Signature algorithm {alg} is not supported; use ed25519"),
            ),
            SignatureError::Invalid => pick(
                "签名无效：消息在签名后被改动，或签名密钥不符".into(),
                "The signature is invalid: the message was changed or signed with another key"
                    .into(),
            ),
            SignatureError::DigestMissing => pick(
                "缺少可用的 Content-Digest（sha-256）".into(),
                "No usable Content-Digest (sha-256)".into(),
            ),
            SignatureError::DigestMismatch => pick(
                "消息正文与 Content-Digest 不符".into(),
                "The message body does not match its Content-Digest".into(),
            ),
            SignatureError::OutsideWindow { created, now } => pick(
                format!("签名时间 {created} 与本机时间 {now} 相差过大"),
                format!("The signature time {created} is too far from the local time {now}"),
            ),
            SignatureError::Expired => {
                pick("签名已过期".into(), "The signature has expired".into())
            }
            SignatureError::Replayed => pick(
                "重复的请求：该 nonce 已被使用".into(),
                "Replayed message: this nonce was already used".into(),
            ),
            SignatureError::SignerMismatch { expected, found } => pick(
                format!("消息应由 {expected} 签名，实为 {found}"),
                format!("The message should be signed by {expected}, but {found} signed it"),
            ),
            SignatureError::Signing { detail } => pick(
                format!("无法签名：{detail}"),
                format!("Cannot sign: {detail}"),
            ),
        }
    }
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::Zh))
    }
}

fn signing(detail: impl Into<String>) -> SignatureError {
    SignatureError::Signing {
        detail: detail.into(),
    }
}

/// A node's signing key and the key id it is listed under in the directory.
pub struct NodeSigner {
    keyid: String,
    key: SigningKey,
}

impl fmt::Debug for NodeSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the private key.
        f.debug_struct("NodeSigner")
            .field("keyid", &self.keyid)
            .finish_non_exhaustive()
    }
}

impl NodeSigner {
    /// `keyid` must be printable ASCII (it travels as an sf-string).
    pub fn new(keyid: impl Into<String>, key: SigningKey) -> Result<Self, SignatureError> {
        let keyid = keyid.into();
        sf_string(&keyid)
            .map_err(|_| signing(format!("key id {keyid:?} is not printable ASCII")))?;
        Ok(NodeSigner { keyid, key })
    }

    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }
}

/// A key found for a `keyid`: whose it is and the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedKey {
    pub member: String,
    pub key: VerifyingKey,
}

/// Finds the verifying key for a `keyid`, valid at `at` (the signature's `created` time).
///
/// Implemented by [`crate::Directory`] and by any `Fn(&str, OffsetDateTime) ->
/// Option<ResolvedKey>`.
pub trait KeyResolver {
    fn resolve(&self, keyid: &str, at: OffsetDateTime) -> Option<ResolvedKey>;
}

impl<F> KeyResolver for F
where
    F: Fn(&str, OffsetDateTime) -> Option<ResolvedKey>,
{
    fn resolve(&self, keyid: &str, at: OffsetDateTime) -> Option<ResolvedKey> {
        self(keyid, at)
    }
}

impl KeyResolver for crate::Directory {
    fn resolve(&self, keyid: &str, at: OffsetDateTime) -> Option<ResolvedKey> {
        self.key(keyid, at).map(|(member, key)| ResolvedKey {
            member: member.code.clone(),
            key,
        })
    }
}

/// What a signer added to a message, for the message log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureRecord {
    pub keyid: String,
    pub created: i64,
    pub nonce: String,
    pub content_digest: String,
    pub signature_input: String,
    pub signature: String,
}

/// What a verifier established about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// The calling member (owner of the key).
    pub member: String,
    pub keyid: String,
    pub created: i64,
    pub nonce: String,
    /// The signed purpose id; check it with [`crate::Directory::authorize`].
    pub purpose: String,
    /// The header values as received, for the message log.
    pub content_digest: String,
    pub signature_input: String,
    pub signature: String,
}

/// What a verifier established about a response; also what any check of our profile finds
/// (a request adds its purpose).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedResponse {
    pub member: String,
    pub keyid: String,
    pub created: i64,
    pub nonce: String,
    pub content_digest: String,
    pub signature_input: String,
    pub signature: String,
}

fn request_components() -> [ComponentId; 4] {
    [
        ComponentId::new("@method"),
        ComponentId::new("@target-uri"),
        ComponentId::new(CONTENT_DIGEST.as_str()),
        ComponentId::new(PURPOSE_HEADER.as_str()),
    ]
}

fn response_components() -> [ComponentId; 3] {
    [
        ComponentId::new("@status"),
        ComponentId::new(CONTENT_DIGEST.as_str()),
        ComponentId {
            name: SIGNATURE.as_str().to_owned(),
            req: true,
            key: Some(SIGNATURE_LABEL.to_owned()),
        },
    ]
}

fn random_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn header_value(s: &str) -> Result<HeaderValue, SignatureError> {
    HeaderValue::from_str(s).map_err(|_| signing(format!("{s:?} is not a header value")))
}

/// Signs `message` over `components` and records the `Signature-Input` and `Signature` it
/// gets, with `content_digest` (already set in its headers); [`add_signature`] then sets
/// them.
fn sign_message(
    message: &Message<'_>,
    components: &[ComponentId],
    signer: &NodeSigner,
    created: i64,
    nonce: &str,
    content_digest: String,
) -> Result<SignatureRecord, SignatureError> {
    let mut inner = InnerList::new(
        components
            .iter()
            .map(ComponentId::to_item)
            .collect::<Result<Vec<_>, _>>()?,
    );
    let created_item =
        sfv::Integer::try_from(created).map_err(|_| signing("created out of range"))?;
    inner
        .params
        .insert(CREATED.to_owned(), BareItem::Integer(created_item));
    inner.params.insert(
        KEYID.to_owned(),
        BareItem::String(sf_string(&signer.keyid)?),
    );
    inner
        .params
        .insert(NONCE.to_owned(), BareItem::String(sf_string(nonce)?));
    inner
        .params
        .insert(ALG_PARAM.to_owned(), BareItem::String(sf_string(ALG)?));
    let base = signature_base(message, &inner).map_err(|e| signing(e.message(Lang::En)))?;
    let signature = signer.key.sign(&base);

    let mut input = Dictionary::new();
    input.insert(LABEL.to_owned(), ListEntry::InnerList(inner));
    let mut sig = Dictionary::new();
    sig.insert(
        LABEL.to_owned(),
        ListEntry::Item(Item::new(BareItem::ByteSequence(
            signature.to_bytes().to_vec(),
        ))),
    );
    let input = input
        .serialize()
        .ok_or_else(|| signing("empty Signature-Input"))?;
    let sig = sig.serialize().ok_or_else(|| signing("empty Signature"))?;
    Ok(SignatureRecord {
        keyid: signer.keyid.clone(),
        created,
        nonce: nonce.to_owned(),
        content_digest,
        signature_input: input,
        signature: sig,
    })
}

/// Sets the record's `Signature-Input` and `Signature` in the signed message's `headers`,
/// replacing any earlier ones, and hands the record on.
fn add_signature(
    headers: &mut HeaderMap,
    record: SignatureRecord,
) -> Result<SignatureRecord, SignatureError> {
    headers.insert(SIGNATURE_INPUT, header_value(&record.signature_input)?);
    headers.insert(SIGNATURE, header_value(&record.signature)?);
    Ok(record)
}

/// Signs an outgoing request: sets `Content-Digest` (of the body), [`PURPOSE_HEADER`],
/// `Signature-Input` and `Signature`. The request URI must be absolute.
pub fn sign_request<B: AsRef<[u8]>>(
    req: &mut Request<B>,
    signer: &NodeSigner,
    purpose: &str,
    now: OffsetDateTime,
) -> Result<SignatureRecord, SignatureError> {
    sign_request_with(req, signer, purpose, unix(now), &random_nonce())
}

fn sign_request_with<B: AsRef<[u8]>>(
    req: &mut Request<B>,
    signer: &NodeSigner,
    purpose: &str,
    created: i64,
    nonce: &str,
) -> Result<SignatureRecord, SignatureError> {
    if base::target_uri(req.uri()).is_none() {
        return Err(signing("the request URI is not absolute"));
    }
    if purpose.is_empty() || !purpose.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(signing(format!("purpose {purpose:?} is not an ASCII id")));
    }
    let digest = content_digest(req.body().as_ref());
    let headers = req.headers_mut();
    headers.insert(CONTENT_DIGEST, header_value(&digest)?);
    headers.insert(PURPOSE_HEADER, header_value(purpose)?);
    let record = sign_message(
        &Message::Request(RequestParts::from(&*req)),
        &request_components(),
        signer,
        created,
        nonce,
        digest,
    )?;
    add_signature(req.headers_mut(), record)
}

/// Signs a response to `request` (the request as received, with its signature headers):
/// sets `Content-Digest`, `Signature-Input` and `Signature`, binding the response to the
/// request's signature.
pub fn sign_response<B: AsRef<[u8]>>(
    res: &mut Response<B>,
    request: &RequestParts<'_>,
    signer: &NodeSigner,
    now: OffsetDateTime,
) -> Result<SignatureRecord, SignatureError> {
    sign_response_with(res, request, signer, unix(now), &random_nonce())
}

fn sign_response_with<B: AsRef<[u8]>>(
    res: &mut Response<B>,
    request: &RequestParts<'_>,
    signer: &NodeSigner,
    created: i64,
    nonce: &str,
) -> Result<SignatureRecord, SignatureError> {
    let digest = content_digest(res.body().as_ref());
    res.headers_mut()
        .insert(CONTENT_DIGEST, header_value(&digest)?);
    let record = sign_message(
        &Message::Response(ResponseParts::from(&*res), Some(*request)),
        &response_components(),
        signer,
        created,
        nonce,
        digest,
    )?;
    add_signature(res.headers_mut(), record)
}

/// Verifies one labelled signature with a known key, covering whatever it covers: no
/// profile, window or replay checks. For interoperability tests and tools; nodes use
/// [`Verifier`].
pub fn verify_signature(
    message: &Message<'_>,
    label: &str,
    key: &VerifyingKey,
) -> Result<SignatureParams, SignatureError> {
    let (inner, signature) = find_signature(message.headers(), label)?;
    let params = SignatureParams::parse(&inner)?;
    if let Some(alg) = params.alg.as_deref().filter(|a| *a != ALG) {
        return Err(SignatureError::UnsupportedAlgorithm {
            alg: alg.to_owned(),
        });
    }
    let base = signature_base(message, &inner)?;
    let signature = Signature::from_slice(&signature).map_err(|_| SignatureError::Invalid)?;
    key.verify_strict(&base, &signature)
        .map_err(|_| SignatureError::Invalid)?;
    Ok(params)
}

/// The signature base of the signature labelled `label`, exactly as signed (RFC 9421 §2.5);
/// for debugging interoperability.
pub fn signature_base_of(message: &Message<'_>, label: &str) -> Result<Vec<u8>, SignatureError> {
    let (inner, _) = find_signature(message.headers(), label)?;
    signature_base(message, &inner)
}

/// The checks of our profile, in order: signature present and well formed; required
/// components covered; `alg`; time window; key known (and of the expected member); body
/// digest; signature; nonce unused. The nonce is recorded last, so a message that fails
/// any other check does not use up its nonce.
struct Profile<'a> {
    required: &'a [ComponentId],
    /// `None` skips the window (evidence checked long after the fact).
    clock: Option<(OffsetDateTime, Duration)>,
    nonces: Option<&'a dyn NonceStore>,
    expected_member: Option<&'a str>,
}

/// `body` is `None` only for evidence kept without bodies: the signed digest header is then
/// taken as it stands.
fn check(
    message: &Message<'_>,
    body: Option<&[u8]>,
    keys: &dyn KeyResolver,
    profile: &Profile<'_>,
) -> Result<VerifiedResponse, SignatureError> {
    let headers = message.headers();
    let (inner, signature) = find_signature(headers, SIGNATURE_LABEL)?;
    let params = SignatureParams::parse(&inner)?;
    let keyid = params
        .keyid
        .clone()
        .ok_or_else(|| malformed("keyid missing"))?;
    let created = params.created.ok_or_else(|| malformed("created missing"))?;
    let nonce = params
        .nonce
        .clone()
        .ok_or_else(|| malformed("nonce missing"))?;
    if !NONCE_LEN.contains(&nonce.len()) {
        return Err(malformed("nonce length out of range"));
    }
    if let Some(missing) = profile
        .required
        .iter()
        .find(|c| !params.components.contains(c))
    {
        return Err(SignatureError::MissingComponent {
            component: missing.name.clone(),
        });
    }
    if let Some(alg) = params.alg.as_deref().filter(|a| *a != ALG) {
        return Err(SignatureError::UnsupportedAlgorithm {
            alg: alg.to_owned(),
        });
    }
    if let Some((now, window)) = profile.clock {
        let now = unix(now);
        if created.abs_diff(now) > window.whole_seconds().unsigned_abs() {
            return Err(SignatureError::OutsideWindow { created, now });
        }
        if params.expires.is_some_and(|e| now >= e) {
            return Err(SignatureError::Expired);
        }
    }
    let at = OffsetDateTime::from_unix_timestamp(created)
        .map_err(|_| malformed("created out of range"))?;
    let resolved = keys
        .resolve(&keyid, at)
        .ok_or_else(|| SignatureError::UnknownKey {
            keyid: keyid.clone(),
        })?;
    if let Some(expected) = profile.expected_member.filter(|e| *e != resolved.member) {
        return Err(SignatureError::SignerMismatch {
            expected: expected.to_owned(),
            found: resolved.member,
        });
    }
    let content_digest = match body {
        Some(body) => check_content_digest(headers, body)?,
        None => headers
            .get(CONTENT_DIGEST)
            .and_then(|v| v.to_str().ok())
            .ok_or(SignatureError::DigestMissing)?
            .to_owned(),
    };
    let base = signature_base(message, &inner)?;
    let sig = Signature::from_slice(&signature).map_err(|_| SignatureError::Invalid)?;
    resolved
        .key
        .verify_strict(&base, &sig)
        .map_err(|_| SignatureError::Invalid)?;
    if let Some(nonces) = profile.nonces
        && !nonces.check_and_remember(&keyid, &nonce, created)
    {
        return Err(SignatureError::Replayed);
    }
    let text = |name: &HeaderName| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(", ")
    };
    Ok(VerifiedResponse {
        member: resolved.member,
        keyid,
        created,
        nonce,
        content_digest,
        signature_input: text(&SIGNATURE_INPUT),
        signature: text(&SIGNATURE),
    })
}

/// Verifies messages of our profile against a key resolver (normally the directory).
pub struct Verifier<'a> {
    keys: &'a dyn KeyResolver,
    window: Duration,
}

impl<'a> Verifier<'a> {
    /// A verifier with the [`DEFAULT_WINDOW`].
    pub fn new(keys: &'a dyn KeyResolver) -> Self {
        Verifier {
            keys,
            window: DEFAULT_WINDOW,
        }
    }

    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Verifies an incoming request and records its nonce.
    ///
    /// `origin` is this node's public `scheme://authority`; when given, the target URI is
    /// rebuilt as origin + the request's path and query (whatever authority the request
    /// itself shows); when `None`, the request URI must be absolute.
    ///
    /// The caller then checks [`VerifiedRequest::member`] and [`VerifiedRequest::purpose`]
    /// against the access rules ([`crate::Directory::authorize`]).
    pub fn verify_request<B: AsRef<[u8]>>(
        &self,
        req: &Request<B>,
        origin: Option<&str>,
        nonces: &dyn NonceStore,
        now: OffsetDateTime,
    ) -> Result<VerifiedRequest, SignatureError> {
        let target = match origin {
            Some(origin) => absolute(origin, req.uri())?,
            None => req.uri().clone(),
        };
        let parts = RequestParts {
            method: req.method(),
            target_uri: &target,
            headers: req.headers(),
        };
        let required = request_components();
        let checked = check(
            &Message::Request(parts),
            Some(req.body().as_ref()),
            self.keys,
            &Profile {
                required: &required,
                clock: Some((now, self.window)),
                nonces: Some(nonces),
                expected_member: None,
            },
        )?;
        let purpose = purpose_of(req.headers())?;
        Ok(VerifiedRequest {
            member: checked.member,
            keyid: checked.keyid,
            created: checked.created,
            nonce: checked.nonce,
            purpose,
            content_digest: checked.content_digest,
            signature_input: checked.signature_input,
            signature: checked.signature,
        })
    }

    /// Verifies the response to `sent` (the request as it was signed and sent), which must
    /// be signed by a key of member `callee`.
    ///
    /// No nonce store is needed: the response is bound to the request's signature, whose
    /// nonce is unique, so a replayed response fails to verify against any other request.
    pub fn verify_response<B: AsRef<[u8]>>(
        &self,
        res: &Response<B>,
        sent: &RequestParts<'_>,
        callee: &str,
        now: OffsetDateTime,
    ) -> Result<VerifiedResponse, SignatureError> {
        let required = response_components();
        check(
            &Message::Response(ResponseParts::from(res), Some(*sent)),
            Some(res.body().as_ref()),
            self.keys,
            &Profile {
                required: &required,
                clock: Some((now, self.window)),
                nonces: None,
                expected_member: Some(callee),
            },
        )
    }
}

/// Checks a request of our profile without clock or nonce store, expecting a signer of
/// `caller`; for evidence.
pub(crate) fn check_request_at_rest(
    parts: RequestParts<'_>,
    body: Option<&[u8]>,
    keys: &dyn KeyResolver,
    caller: &str,
) -> Result<(), SignatureError> {
    let required = request_components();
    check_at_rest(Message::Request(parts), body, keys, &required, caller)
}

/// As [`check_request_at_rest`] for the response to `request`, expecting `callee`.
pub(crate) fn check_response_at_rest(
    parts: ResponseParts<'_>,
    request: RequestParts<'_>,
    body: Option<&[u8]>,
    keys: &dyn KeyResolver,
    callee: &str,
) -> Result<(), SignatureError> {
    let required = response_components();
    check_at_rest(
        Message::Response(parts, Some(request)),
        body,
        keys,
        &required,
        callee,
    )
}

fn check_at_rest(
    message: Message<'_>,
    body: Option<&[u8]>,
    keys: &dyn KeyResolver,
    required: &[ComponentId],
    member: &str,
) -> Result<(), SignatureError> {
    let profile = Profile {
        required,
        clock: None,
        nonces: None,
        expected_member: Some(member),
    };
    check(&message, body, keys, &profile).map(|_| ())
}

fn purpose_of(headers: &HeaderMap) -> Result<String, SignatureError> {
    let value = headers
        .get(PURPOSE_HEADER)
        .ok_or_else(|| SignatureError::MissingComponent {
            component: PURPOSE_HEADER.as_str().to_owned(),
        })?;
    value
        .to_str()
        .map(|s| s.trim().to_owned())
        .map_err(|_| malformed("purpose is not ASCII"))
}

/// The normalised absolute form in which `@target-uri` is signed.
pub(crate) fn normalised_target(uri: &Uri) -> Option<String> {
    base::target_uri(uri)
}

/// `origin`'s scheme and authority with `uri`'s path and query.
pub fn absolute(origin: &str, uri: &Uri) -> Result<Uri, SignatureError> {
    let origin: Uri = origin
        .parse()
        .map_err(|_| signing(format!("origin {origin:?} is not a URI")))?;
    let (Some(scheme), Some(authority)) = (origin.scheme(), origin.authority()) else {
        return Err(signing("origin has no scheme or authority"));
    };
    let path = uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
    Uri::builder()
        .scheme(scheme.clone())
        .authority(authority.clone())
        .path_and_query(path)
        .build()
        .map_err(|_| malformed("request target cannot be made absolute"))
}

#[cfg(test)]
mod tests;
