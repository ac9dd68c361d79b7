//! A node's side of the federation (DESIGN.md §2), built on the `federation` primitives:
//!
//! - [`Federation`]: this member's code and signing key, the directory it trusts (re-read
//!   when the file changes, refused unless signed by the governance key and unexpired), the
//!   blind-index key and an HTTP client for peers.
//! - [`serve`]: answering `POST /federation/v1/{service}`: verify the RFC 9421 signature,
//!   refuse replays (in memory, then durably by the nonce table), check the directory's rule
//!   for (caller, service, purpose), answer only the fields the purpose allows, sign the
//!   response bound to the request, and log the exchange.
//! - [`call`]: the calling side, and the cross-node student look-up built on it, whose
//!   look-ups waiting for the same peer share one exchange (`batch`).
//! - [`log`]: the message log. Every exchange is stored with its evidence and appended to the
//!   audit chain in the same transaction, on both nodes.
//! - [`index`]: the blind index of this node's students, which lets a peer ask "do you hold
//!   HMAC(x)?" without ever sending x.

mod batch;
pub mod call;
pub mod index;
pub mod log;
pub mod outbox;
pub mod serve;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use ed25519_dalek::VerifyingKey;
use federation::directory::{DecodedKeys, decode_public_key, encode_public_key};
use federation::{BlindIndexKey, Directory, InMemoryNonceStore, NodeSigner};
use kernel::lang::{Lang, Localized};
use platform::Config;
use platform::audit::AuditLog;
use time::OffsetDateTime;

/// The services this node answers.
pub const STUDENT_LOOKUP: &str = "student.lookup";

/// How often the directory file's modification time is looked at.
const RELOAD_CHECK: Duration = Duration::from_secs(1);

/// Why federation cannot be used right now, or why a peer was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FederationError {
    #[error("federation is not configured on this node")]
    NotConfigured,
    #[error("no valid federation directory: {0}")]
    NoDirectory(String),
    #[error("this node ({0}) is not a member of the federation directory with its key")]
    NotAMember(String),
    #[error("{0}")]
    Setup(String),
}

impl Localized for FederationError {
    fn code(&self) -> &'static str {
        match self {
            FederationError::NotConfigured => "federation.not_configured",
            FederationError::NoDirectory(_) => "federation.directory_unavailable",
            FederationError::NotAMember(_) => "federation.not_a_member",
            FederationError::Setup(_) => "federation.setup",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (FederationError::NotConfigured, Lang::Zh) => "本节点未加入联盟，无法跨省查询。".into(),
            (FederationError::NoDirectory(e), Lang::Zh) => {
                format!("没有有效的联盟目录（{e}），跨省服务暂停。")
            }
            (FederationError::NotAMember(m), Lang::Zh) => {
                format!("联盟目录中没有本节点（{m}）及其密钥。")
            }
            (FederationError::Setup(e), Lang::Zh) => format!("联盟配置有误：{e}"),
            (e, _) => e.to_string(),
        }
    }
}

/// The federation as this node sees it. Cheap to clone.
#[derive(Clone)]
pub struct Federation(Arc<Inner>);

struct Inner {
    member: String,
    signing: ed25519_dalek::SigningKey,
    governance: VerifyingKey,
    path: PathBuf,
    index_key: BlindIndexKey,
    loaded: RwLock<Loaded>,
    nonces: InMemoryNonceStore,
    client: reqwest::Client,
    /// Where exchanges are logged: with the audit chain, in its group commits.
    audit: AuditLog,
    /// Services that feature crates answer (registered at start, before serving).
    services: RwLock<std::collections::HashMap<&'static str, Arc<dyn serve::Service>>>,
    /// The queues of look-ups waiting to be sent to a peer together.
    queues: batch::Queues,
}

#[derive(Default)]
struct Loaded {
    current: Option<Current>,
    modified: Option<SystemTime>,
    checked: Option<Instant>,
    error: Option<String>,
}

/// A verified directory and what this node is in it.
#[derive(Clone)]
pub struct Current {
    pub directory: Arc<Directory>,
    /// The directory's member keys, decoded once: what signatures are verified with.
    pub keys: Arc<DecodedKeys>,
    pub signer: Arc<NodeSigner>,
    /// This node's public origin (`scheme://authority`) as the directory lists it.
    pub origin: String,
}

impl Federation {
    /// The federation from `config`, or `None` when the node is configured to run alone.
    /// A missing or bad directory is not an error here: the node starts, and federation
    /// stays off (with the reason logged) until a good directory is published.
    pub fn from_config(
        config: &Config,
        audit: AuditLog,
    ) -> Result<Option<Federation>, FederationError> {
        if config.federation_directory.as_os_str().is_empty() {
            return Ok(None);
        }
        let setup =
            |what: &str, e: &dyn std::fmt::Display| FederationError::Setup(format!("{what}: {e}"));
        let governance =
            decode_public_key(config.federation_governance_key.trim()).ok_or_else(|| {
                setup(
                    "federation_governance_key",
                    &"not a multibase Ed25519 key (z6Mk…)",
                )
            })?;
        let text = std::fs::read_to_string(&config.federation_index_key)
            .map_err(|e| setup(&config.federation_index_key.display().to_string(), &e))?;
        let index_key = BlindIndexKey::from_base64url(text.trim())
            .map_err(|e| setup("federation_index_key", &e))?;
        let signing = platform::keys::load(&config.signing_key)
            .map_err(|e| setup(&config.signing_key.display().to_string(), &e))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.federation_timeout_ms.max(1)))
            .build()
            .map_err(|e| setup("HTTP client", &e))?;
        let federation = Federation(Arc::new(Inner {
            member: config.member.clone(),
            signing,
            governance,
            path: config.federation_directory.clone(),
            index_key,
            loaded: RwLock::new(Loaded::default()),
            nonces: InMemoryNonceStore::new(federation::httpsig::DEFAULT_WINDOW),
            client,
            audit,
            services: RwLock::default(),
            queues: batch::Queues::default(),
        }));
        if let Err(e) = federation.current() {
            tracing::error!(error = %e, "federation is off until a valid directory is published");
        }
        Ok(Some(federation))
    }

    pub fn member(&self) -> &str {
        &self.0.member
    }

    /// Registers a service a feature crate answers (`POST /federation/v1/{name}`); the
    /// directory still decides who may call it and for which purpose.
    pub fn serve(&self, name: &'static str, service: Arc<dyn serve::Service>) {
        self.0
            .services
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name, service);
    }

    fn service(&self, name: &str) -> Option<Arc<dyn serve::Service>> {
        let services = self.0.services.read().unwrap_or_else(|p| p.into_inner());
        services.get(name).cloned()
    }

    /// The HTTP client peers are called with (also for their public documents).
    pub fn client(&self) -> &reqwest::Client {
        &self.0.client
    }

    /// The audit log this node's exchanges are logged with.
    pub fn audit(&self) -> &AuditLog {
        &self.0.audit
    }

    pub fn index_key(&self) -> &BlindIndexKey {
        &self.0.index_key
    }

    /// This node's public key as the directory lists keys.
    pub fn public_key(&self) -> String {
        encode_public_key(&self.0.signing.verifying_key())
    }

    /// The directory in force, re-read if the file changed since it was last looked at.
    /// A newly published directory that does not verify is refused and the previous one
    /// stays in force (until it expires).
    pub fn current(&self) -> Result<Current, FederationError> {
        let now = OffsetDateTime::now_utc();
        {
            let loaded = self.read();
            let fresh = loaded.checked.is_some_and(|t| t.elapsed() < RELOAD_CHECK);
            if fresh {
                return usable(&loaded, now);
            }
        }
        let mut loaded = self.write();
        loaded.checked = Some(Instant::now());
        let modified = std::fs::metadata(&self.0.path)
            .and_then(|m| m.modified())
            .ok();
        if modified.is_some() && modified != loaded.modified {
            loaded.modified = modified;
            match self.load(now, loaded.current.as_ref()) {
                Ok(current) => {
                    tracing::info!(
                        version = current.directory.version,
                        members = current.directory.members.len(),
                        "federation directory in force"
                    );
                    loaded.current = Some(current);
                    loaded.error = None;
                }
                Err(e) => {
                    tracing::error!(error = %e, path = %self.0.path.display(), "federation directory refused");
                    loaded.error = Some(e);
                }
            }
        } else if modified.is_none() && loaded.current.is_none() {
            loaded.error = Some(format!("{} is missing", self.0.path.display()));
        }
        usable(&loaded, now)
    }

    fn load(&self, now: OffsetDateTime, previous: Option<&Current>) -> Result<Current, String> {
        let bytes = std::fs::read(&self.0.path).map_err(|e| e.to_string())?;
        let directory = federation::directory::verify(&bytes, &self.0.governance, now)
            .map_err(|e| format!("{} ({})", e.message(Lang::Zh), e.code()))?;
        if let Some(previous) = previous {
            directory
                .check_newer(previous.directory.version)
                .map_err(|e| format!("{} ({})", e.message(Lang::Zh), e.code()))?;
        }
        let member = directory
            .member(&self.0.member)
            .ok_or_else(|| FederationError::NotAMember(self.0.member.clone()).to_string())?;
        let ours = self.0.signing.verifying_key();
        let key = member
            .keys
            .iter()
            .filter(|k| k.valid_at(now))
            .find(|k| decode_public_key(&k.public_key) == Some(ours))
            .ok_or_else(|| FederationError::NotAMember(self.0.member.clone()).to_string())?;
        let signer =
            NodeSigner::new(key.kid.clone(), self.0.signing.clone()).map_err(|e| e.to_string())?;
        Ok(Current {
            origin: origin_of(&member.base_url),
            keys: Arc::new(DecodedKeys::of(&directory)),
            directory: Arc::new(directory),
            signer: Arc::new(signer),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Loaded> {
        self.0.loaded.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Loaded> {
        self.0.loaded.write().unwrap_or_else(|p| p.into_inner())
    }
}

fn usable(loaded: &Loaded, now: OffsetDateTime) -> Result<Current, FederationError> {
    match &loaded.current {
        Some(c) if c.directory.expires_at > now => Ok(c.clone()),
        Some(_) => Err(FederationError::NoDirectory(
            "联盟目录已过期 (expired)".into(),
        )),
        None => Err(FederationError::NoDirectory(
            loaded.error.clone().unwrap_or_else(|| "not loaded".into()),
        )),
    }
}

/// `scheme://authority` of a base URL, as signatures name the target.
fn origin_of(base_url: &str) -> String {
    match base_url.find("://") {
        Some(i) => {
            let rest = &base_url[i + 3..];
            let end = rest.find('/').unwrap_or(rest.len());
            format!("{}://{}", &base_url[..i], &rest[..end])
        }
        None => base_url.trim_end_matches('/').to_owned(),
    }
}

/// The answer a peer gives about itself in an error: a stable code and the message.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PeerError {
    pub code: String,
    pub message: String,
    pub message_en: String,
}

impl PeerError {
    pub fn of(e: &dyn Localized) -> PeerError {
        PeerError {
            code: e.code().to_owned(),
            message: e.message(Lang::Zh),
            message_en: e.message(Lang::En),
        }
    }
}
