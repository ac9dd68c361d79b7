//! Replay protection: each (keyid, nonce) is accepted once.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use time::Duration;

/// Remembers the nonces of accepted messages.
///
/// Called only after a message's signature and time window have been checked, so only
/// authenticated, timely messages take space; `created` is in Unix seconds.
pub trait NonceStore: Send + Sync {
    /// Records the nonce and returns `true` if it was not seen before; `false` means a
    /// replay (or a message too old to be tracked any more).
    fn check_and_remember(&self, keyid: &str, nonce: &str, created: i64) -> bool;
}

/// An in-process [`NonceStore`] for one node instance.
///
/// A nonce with `created = t` matters only while a verifier could still accept `t`, that is
/// until `now > t + window`. Accepted messages have `created` within `now ± window`, so once
/// a message created at `c` has been seen, `now >= c - window` and every entry older than
/// `c - 2 × window` can be forgotten. Memory is therefore bounded by the number of messages
/// accepted in two windows. Replicated nodes need a shared store (e.g. in the database)
/// implementing the same trait.
#[derive(Debug)]
pub struct InMemoryNonceStore {
    horizon: i64,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    seen: HashSet<(String, String)>,
    /// Entries by `created`, then insertion order, for pruning oldest first.
    by_created: BTreeMap<(i64, u64), (String, String)>,
    sequence: u64,
    newest: i64,
}

impl InMemoryNonceStore {
    /// A store for a verifier using `window` (e.g. [`super::DEFAULT_WINDOW`]).
    pub fn new(window: Duration) -> Self {
        InMemoryNonceStore {
            horizon: window.whole_seconds().saturating_abs().saturating_mul(2),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// How many nonces are remembered now.
    pub fn len(&self) -> usize {
        self.lock().seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The data stays consistent between statements, so a panic elsewhere while holding the
        // lock does not make it unusable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl NonceStore for InMemoryNonceStore {
    fn check_and_remember(&self, keyid: &str, nonce: &str, created: i64) -> bool {
        let mut inner = self.lock();
        inner.newest = inner.newest.max(created);
        let cutoff = inner.newest.saturating_sub(self.horizon);
        while let Some(entry) = inner.by_created.first_entry() {
            if entry.key().0 >= cutoff {
                break;
            }
            let key = entry.remove();
            inner.seen.remove(&key);
        }
        if created < cutoff {
            // Already forgotten nonces of this age could be replays: refuse.
            return false;
        }
        let key = (keyid.to_owned(), nonce.to_owned());
        if !inner.seen.insert(key.clone()) {
            return false;
        }
        inner.sequence += 1;
        let sequence = inner.sequence;
        inner.by_created.insert((created, sequence), key);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn once_per_key_and_nonce() {
        let store = InMemoryNonceStore::new(Duration::seconds(300));
        assert!(store.check_and_remember("k1", "n", 1000));
        assert!(!store.check_and_remember("k1", "n", 1000));
        assert!(
            !store.check_and_remember("k1", "n", 1001),
            "same nonce, other time"
        );
        assert!(store.check_and_remember("k2", "n", 1000), "other key");
        assert!(store.check_and_remember("k1", "m", 1000));
        assert_eq!(store.len(), 3);
    }

    #[test]
    fn bounded_by_the_window() {
        let store = InMemoryNonceStore::new(Duration::seconds(300));
        for i in 0..1000 {
            assert!(store.check_and_remember("k", &format!("n{i}"), 1000 + i));
        }
        // Only the last 2 × 300 s worth remain.
        assert!(store.len() <= 601, "{}", store.len());
        // Still remembered inside the horizon.
        assert!(!store.check_and_remember("k", "n999", 1999));
        // Too old to track: refused rather than accepted.
        assert!(!store.check_and_remember("k", "fresh", 1000));
    }

    #[test]
    fn thread_safe() {
        let store = Arc::new(InMemoryNonceStore::new(Duration::seconds(300)));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let store = Arc::clone(&store);
                std::thread::spawn(move || {
                    (0..500)
                        .filter(|i| store.check_and_remember("k", &format!("n{i}"), 1000))
                        .count()
                })
            })
            .collect();
        let accepted: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(
            accepted, 500,
            "each nonce accepted exactly once across threads"
        );
    }
}
