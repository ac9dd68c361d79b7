//! did:key for Ed25519 issuer keys (W3C did:key method, Multikey form).
//!
//! A key `z6Mk…` (multibase base58btc of `0xed 0x01` + the 32-byte key, as
//! [`federation::directory::encode_public_key`] writes it) is the DID `did:key:z6Mk…`, and its
//! one verification method is `did:key:z6Mk…#z6Mk…`. Resolving needs no network: the key is
//! in the identifier.

use std::cell::RefCell;
use std::collections::HashMap;

use ed25519_dalek::VerifyingKey;
use federation::directory::{decode_public_key, encode_public_key};

use crate::CredentialError;

const PREFIX: &str = "did:key:";

/// `did:key:z6Mk…`.
pub fn did_key(key: &VerifyingKey) -> String {
    format!("{PREFIX}{}", encode_public_key(key))
}

/// `did:key:z6Mk…#z6Mk…`, the verification method a proof names.
pub fn verification_method(key: &VerifyingKey) -> String {
    let multikey = encode_public_key(key);
    format!("{PREFIX}{multikey}#{multikey}")
}

/// The key of a did:key verification method URL whose fragment is the key itself; anything
/// else (another DID method, a missing or different fragment, not an Ed25519 key) is
/// refused.
pub fn resolve_did_key(vm: &str) -> Result<VerifyingKey, CredentialError> {
    let unresolvable = || CredentialError::KeyUnresolvable {
        method: vm.to_owned(),
    };
    let (did, fragment) = vm.split_once('#').ok_or_else(unresolvable)?;
    let multikey = did.strip_prefix(PREFIX).ok_or_else(unresolvable)?;
    if multikey != fragment {
        return Err(unresolvable());
    }
    decode_public_key(multikey).ok_or_else(unresolvable)
}

/// [`resolve_did_key`] through a small per-thread memo. Decoding (base58 and Edwards point
/// decompression) costs about a fifth of a signature check, and a verifier sees the same few
/// issuer keys over and over. A did:key always decodes to the same key, so the memo can
/// never be stale; it is cleared when full, so odd inputs cannot grow it.
pub(crate) fn resolve_did_key_cached(vm: &str) -> Result<VerifyingKey, CredentialError> {
    const CAPACITY: usize = 64;
    thread_local! {
        static KEYS: RefCell<HashMap<String, VerifyingKey>> = RefCell::new(HashMap::new());
    }
    // try_with: during thread teardown the memo may be gone; resolve without it then.
    if let Ok(Some(key)) = KEYS.try_with(|keys| keys.borrow().get(vm).copied()) {
        return Ok(key);
    }
    let key = resolve_did_key(vm)?;
    let _ = KEYS.try_with(|keys| {
        let mut keys = keys.borrow_mut();
        if keys.len() >= CAPACITY {
            keys.clear();
        }
        keys.insert(vm.to_owned(), key);
    });
    Ok(key)
}

/// The DID part of a verification method URL (before `#`).
pub(crate) fn controller(vm: &str) -> &str {
    vm.split_once('#').map_or(vm, |(did, _)| did)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use kernel::Localized as _;

    #[test]
    fn round_trip() {
        let k = SigningKey::from_bytes(&[7; 32]).verifying_key();
        let did = did_key(&k);
        let vm = verification_method(&k);
        assert!(did.starts_with("did:key:z6Mk"));
        assert_eq!(vm, format!("{did}#{}", did.trim_start_matches("did:key:")));
        assert_eq!(resolve_did_key(&vm).unwrap(), k);
        assert_eq!(controller(&vm), did);
        for _ in 0..2 {
            assert_eq!(resolve_did_key_cached(&vm).unwrap(), k);
        }
        assert!(resolve_did_key_cached(&did).is_err());
        // Past capacity the memo starts over and still answers.
        for n in 0..100u8 {
            let k = SigningKey::from_bytes(&[n; 32]).verifying_key();
            assert_eq!(resolve_did_key_cached(&verification_method(&k)).unwrap(), k);
        }
    }

    #[test]
    fn w3c_vector_method() {
        let vm = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
        let k = resolve_did_key(vm).unwrap();
        assert_eq!(verification_method(&k), vm);
    }

    #[test]
    fn refuses_everything_else() {
        let k = SigningKey::from_bytes(&[7; 32]).verifying_key();
        let did = did_key(&k);
        let other = did_key(&SigningKey::from_bytes(&[8; 32]).verifying_key());
        let mk = did.trim_start_matches("did:key:");
        for vm in [
            String::new(),
            did.clone(),
            format!("{did}#"),
            format!("{did}#key-1"),
            format!("{did}#{}", other.trim_start_matches("did:key:")),
            format!("did:web:example.com#{mk}"),
            format!("did:key:{mk}x#{mk}x"),
            "did:key:#".into(),
            "did:key:z6Mk#z6Mk".into(),
            "#".into(),
            "did:key:é#é".into(),
        ] {
            let err = resolve_did_key(&vm).unwrap_err();
            assert_eq!(err.code(), "credential.key_unresolvable", "{vm}");
        }
    }
}
