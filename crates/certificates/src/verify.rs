//! Verifying credentials on a node or offline: the status lists a credential points to are
//! fetched over HTTP (or read from a cache directory), checked against the trust bundle
//! (signed by the same trusted issuer, under its status-list prefix) and kept until their
//! `validUntil`, the issuer's cache lifetime. So a revocation on one node is seen by a
//! verifier elsewhere within that lifetime, and never trusted longer.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use credential::verify::{FetchedList, Report, StatusSource, Verifier};
use credential::{CredentialError, Reason, TrustBundle};
use serde_json::Value;
use time::OffsetDateTime;

/// How long a list without `validUntil` is kept.
const DEFAULT_KEEP: time::Duration = time::Duration::seconds(60);

/// Status lists already fetched, in memory and (for the CLI) on disk.
pub struct StatusCache {
    client: Option<reqwest::Client>,
    dir: Option<PathBuf>,
    memory: Mutex<HashMap<String, (Arc<FetchedList>, OffsetDateTime)>>,
}

impl StatusCache {
    /// `client` None: never fetch (offline); `dir`: keep fetched lists there across runs.
    pub fn new(client: Option<reqwest::Client>, dir: Option<PathBuf>) -> StatusCache {
        StatusCache {
            client,
            dir,
            memory: Mutex::default(),
        }
    }

    /// Forgets lists under `prefix` (this node's own, after one of its statuses changed).
    pub fn forget(&self, prefix: &str) {
        self.lock().retain(|url, _| !url.starts_with(prefix));
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (Arc<FetchedList>, OffsetDateTime)>> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fresh(&self, url: &str, now: OffsetDateTime) -> Option<Arc<FetchedList>> {
        self.lock()
            .get(url)
            .filter(|(_, until)| *until > now)
            .map(|(l, _)| l.clone())
    }

    fn keep(&self, url: &str, list: Arc<FetchedList>, now: OffsetDateTime) {
        let until = list.valid_until.unwrap_or(now + DEFAULT_KEEP);
        self.lock().insert(url.to_owned(), (list, until));
    }

    fn file(&self, url: &str) -> Option<PathBuf> {
        let name: String = url
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        self.dir.as_ref().map(|d| d.join(format!("{name}.json")))
    }

    /// A verified list for `url`: from memory, from disk, or fetched. `own` answers for this
    /// node's own lists without a round trip.
    pub async fn get(
        &self,
        url: &str,
        bundle: &TrustBundle,
        now: OffsetDateTime,
        own: Option<&Value>,
    ) -> Result<Arc<FetchedList>, CredentialError> {
        if let Some(l) = self.fresh(url, now) {
            return Ok(l);
        }
        let unavailable = |zh: String, en: String| CredentialError::StatusUnavailable {
            list: url.to_owned(),
            reason: Reason::new(zh, en),
        };
        let accept = |doc: &Value| -> Result<Arc<FetchedList>, CredentialError> {
            // Judged when it arrives: a list signed after `now` was taken (its issuer's clock
            // crossed into the next second meanwhile) is not "not yet valid".
            let now = OffsetDateTime::now_utc().max(now);
            let list = FetchedList::from_credential(doc, bundle, now)?;
            if list.valid_until.is_some_and(|u| u <= now) {
                return Err(unavailable(
                    "状态列表已过期".into(),
                    "the status list has expired".into(),
                ));
            }
            Ok(Arc::new(list))
        };
        if let Some(doc) = own {
            let list = accept(doc)?;
            self.keep(url, list.clone(), now);
            return Ok(list);
        }
        if let Some(path) = self.file(url)
            && let Ok(bytes) = tokio::fs::read(&path).await
            && let Ok(doc) = serde_json::from_slice::<Value>(&bytes)
            && let Ok(list) = accept(&doc)
        {
            self.keep(url, list.clone(), now);
            return Ok(list);
        }
        let Some(client) = &self.client else {
            return Err(unavailable(
                "离线模式下没有未过期的状态列表缓存".into(),
                "offline, and no unexpired cached status list".into(),
            ));
        };
        let fetch_failed = |e: &dyn std::fmt::Display| {
            unavailable(
                format!("无法获取状态列表：{e}"),
                format!("cannot fetch the status list: {e}"),
            )
        };
        let res = client.get(url).send().await.map_err(|e| fetch_failed(&e))?;
        if !res.status().is_success() {
            return Err(fetch_failed(&format!("HTTP {}", res.status().as_u16())));
        }
        let bytes = res.bytes().await.map_err(|e| fetch_failed(&e))?;
        let doc: Value = serde_json::from_slice(&bytes).map_err(|e| fetch_failed(&e))?;
        let list = accept(&doc)?;
        if let Some(path) = self.file(url) {
            // Best effort: a cache that cannot be written only costs a fetch next time.
            let _ = tokio::fs::write(&path, &bytes).await;
        }
        self.keep(url, list.clone(), now);
        Ok(list)
    }
}

/// The status-list URLs a credential points to.
pub fn status_urls(doc: &Value) -> Vec<String> {
    let entries = match doc.get("credentialStatus") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    entries
        .into_iter()
        .filter_map(|e| e.get("statusListCredential")?.as_str().map(str::to_owned))
        .collect()
}

/// The lists fetched for one credential, as the verifier asks for them.
struct Fetched(HashMap<String, Result<Arc<FetchedList>, CredentialError>>);

impl StatusSource for Fetched {
    fn status_list(&self, url: &str) -> Result<Arc<FetchedList>, String> {
        match self.0.get(url) {
            Some(Ok(list)) => Ok(list.clone()),
            Some(Err(e)) => Err(kernel::Localized::message(e, kernel::Lang::Zh)),
            None => Err("状态列表未获取".into()),
        }
    }
}

/// Verifies one credential: its lists fetched first (only those under a trusted issuer's
/// prefix are ever requested), then every check. `own` gives this node's own lists.
pub async fn verify<F, Fut>(verifier: &Verifier, cache: &StatusCache, doc: &Value, own: F) -> Report
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Option<Value>>,
{
    let mut fetched = HashMap::new();
    for url in status_urls(doc) {
        if fetched.contains_key(&url) {
            continue;
        }
        let trusted = verifier
            .bundle
            .issuers
            .iter()
            .any(|i| i.owns_status_url(&url));
        let result = if let Some(list) = cache.fresh(&url, verifier.now) {
            Ok(list)
        } else if trusted {
            let own_doc = own(url.clone()).await;
            cache
                .get(&url, &verifier.bundle, verifier.now, own_doc.as_ref())
                .await
        } else {
            Err(CredentialError::StatusUntrusted {
                list: url.clone(),
                reason: Reason::new(
                    "状态列表不在受信任签发方的地址下",
                    "not under a trusted issuer's address",
                ),
            })
        };
        fetched.insert(url, result);
    }
    verifier.verify(doc, &Fetched(fetched))
}
