//! Federation primitives for chuanyu nodes: what two provincial nodes need to trust each
//! other's messages, without a database or a web server (those stay in `platform`, the
//! feature crates and `web`).
//!
//! - [`directory`]: the federation directory (X-Road's "global configuration"): members,
//!   node URLs, public keys with validity periods, offered services, purposes and access
//!   rules. It is a JSON document signed with the joint office's governance key over its
//!   RFC 8785 (JCS) canonical bytes; nodes refuse it unsigned, tampered, signed by another
//!   key, expired or internally inconsistent.
//! - [`httpsig`]: node-to-node HTTP messages signed per RFC 9421 with Ed25519, covering
//!   `@method`, `@target-uri`, `content-digest` (RFC 9530, `sha-256=:…:`) and the purpose
//!   header [`httpsig::PURPOSE_HEADER`], with `created`, `keyid`, `nonce` and `alg`; responses
//!   are signed over `@status`, `content-digest` and the request's signature (`;req`), so a
//!   response cannot be presented as the answer to another request. Verification enforces a
//!   time window and refuses replayed nonces ([`httpsig::NonceStore`]).
//! - [`blind_index`]: HMAC-SHA256 of a normalised identifier under a federation key, so a
//!   query never carries a raw ID number to a node that does not hold it.
//! - [`evidence`]: a serialisable record of one exchange that a third party holding only the
//!   directory can check ([`evidence::verify_evidence`]).
//!
//! # Formats
//!
//! - Public keys in the directory are Multikey / did:key style: `z` + base58btc of the
//!   multicodec prefix `0xed 0x01` followed by the 32-byte Ed25519 key (so `z6Mk…`), the same
//!   form W3C Data Integrity (`eddsa-jcs-2022`) uses for issuer keys. The governance key is
//!   identified by exactly that string, which makes "signed by another key" detectable.
//! - Directory signatures are base64url without padding; times are RFC 3339.
//! - HTTP signatures use the label [`httpsig::SIGNATURE_LABEL`] (`chuanyu`); nonces are 128
//!   random bits in base64url without padding; `created` is Unix seconds.
//! - Blind indexes are base64url without padding of the 32-byte HMAC.
//!
//! # Libraries, and why
//!
//! - `ed25519-dalek` 2: the Ed25519 implementation the node key already uses
//!   (`platform::keys`, PKCS#8 PEM); strict verification (`verify_strict`) everywhere.
//! - `sha2` / `hmac` (RustCrypto): SHA-256 for Content-Digest, HMAC-SHA256 for blind indexes.
//! - `serde_json_canonicalizer`: RFC 8785 canonical JSON, as the audit chain uses.
//! - `sfv`: RFC 8941/9651 structured fields. Every structured header we read or write
//!   (`Signature-Input`, `Signature`, `Content-Digest`) and every structured line of the
//!   signature base is parsed and serialised by it; nothing here concatenates quoted strings
//!   by hand.
//! - `bs58`: base58btc for the multibase key form; `base64` for the rest.
//! - `http` 1: plain `Request`/`Response`/`HeaderMap`, which axum and reqwest both use.
//!
//! We evaluated the `httpsig` crate (0.0.26) for RFC 9421 and did not use it: it rebuilds the
//! `@signature-params` line from its own struct in a fixed parameter order (created,
//! expires, nonce, alg, keyid, tag), drops unknown parameters and does not escape string
//! values, whereas RFC 9421 §2.3 signs the parameters exactly as they appear in
//! `Signature-Input` — so it cannot verify a valid signature whose parameters come in another
//! order (RFC 9421's own B.2.1 vector lists `keyid` before `nonce`). It also reads the clock
//! itself (no injectable `now`), uses `ed25519-compact` rather than the workspace's
//! `ed25519-dalek`, pulls in ECDSA/RSA stacks we do not need, binds to HTTP messages only
//! through its async hyper extension, and is marked work in progress. Instead the signature
//! base is built here (module `httpsig::base`: the RFC 9421 §2 rules for component values) with
//! `sfv` doing all structured-field parsing and serialisation, and checked against the RFC's
//! Ed25519 test vector (B.2.6).
//!
//! Every error a peer or user can trigger implements [`kernel::Localized`]: a stable code
//! such as `federation.signature_invalid` and a message in Chinese and English. Nothing in
//! this crate panics on peer input.

pub mod blind_index;
pub mod directory;
pub mod evidence;
pub mod httpsig;

pub use blind_index::{BlindIndex, BlindIndexKey, IdentifierKind};
pub use directory::{AccessDenied, Directory, DirectoryError, Member, SignedDirectory};
pub use evidence::{Evidence, EvidenceError, verify_evidence};
pub use httpsig::{
    InMemoryNonceStore, KeyResolver, NodeSigner, NonceStore, ResolvedKey, SignatureError, Verifier,
};
