//! RFC 9530 `Content-Digest`: a dictionary of algorithm → byte sequence.

use http::HeaderMap;
use sfv::{BareItem, Dictionary, FieldType as _, Item, KeyRef, ListEntry, Parser};
use sha2::{Digest as _, Sha256, Sha512};

use super::{CONTENT_DIGEST, SignatureError};

const SHA_256: &KeyRef = KeyRef::constant("sha-256");

/// The `Content-Digest` value for `body`: `sha-256=:<base64>:`.
pub fn content_digest(body: &[u8]) -> String {
    let mut dict = Dictionary::new();
    dict.insert(
        SHA_256.to_owned(),
        ListEntry::Item(Item::new(BareItem::ByteSequence(
            Sha256::digest(body).to_vec(),
        ))),
    );
    // A one-member dictionary always serialises.
    dict.serialize().unwrap_or_default()
}

/// Checks the message's `Content-Digest` against `body` and returns the header value.
///
/// `sha-256` and `sha-512` are understood; every one present must match, and at least one
/// must be present. Unknown algorithms are ignored, as RFC 9530 allows.
pub fn check_content_digest(headers: &HeaderMap, body: &[u8]) -> Result<String, SignatureError> {
    let mut values = headers.get_all(CONTENT_DIGEST).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        // Absent, or repeated (which a peer has no reason to do): no single value to trust.
        return Err(SignatureError::DigestMissing);
    };
    let text = value.to_str().map_err(|_| SignatureError::DigestMissing)?;
    let dict: Dictionary = Parser::new(text)
        .parse()
        .map_err(|_| SignatureError::DigestMissing)?;
    let mut checked = 0;
    for (alg, entry) in &dict {
        let computed = match alg.as_str() {
            "sha-256" => Sha256::digest(body).to_vec(),
            "sha-512" => Sha512::digest(body).to_vec(),
            _ => continue,
        };
        let ListEntry::Item(Item {
            bare_item: BareItem::ByteSequence(given),
            ..
        }) = entry
        else {
            return Err(SignatureError::DigestMismatch);
        };
        if *given != computed {
            return Err(SignatureError::DigestMismatch);
        }
        checked += 1;
    }
    if checked == 0 {
        return Err(SignatureError::DigestMissing);
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use kernel::Localized as _;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_DIGEST, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn rfc9530_examples() {
        // RFC 9530 §2's sha-256 example and the sha-512 digest of RFC 9421's test request,
        // both over {"hello": "world"}.
        assert_eq!(
            content_digest(b"{\"hello\": \"world\"}"),
            "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
        );
        let h = with(
            "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
        );
        assert!(check_content_digest(&h, b"{\"hello\": \"world\"}").is_ok());
    }

    #[test]
    fn checks() {
        let body = b"{\"a\":1}";
        assert!(check_content_digest(&with(&content_digest(body)), body).is_ok());
        let code = |h: &HeaderMap, b: &[u8]| check_content_digest(h, b).unwrap_err().code();
        assert_eq!(
            code(&with(&content_digest(body)), b"{\"a\":2}"),
            "federation.digest_mismatch"
        );
        assert_eq!(code(&HeaderMap::new(), body), "federation.digest_missing");
        assert_eq!(code(&with("md5=:AAAA:"), body), "federation.digest_missing");
        assert_eq!(code(&with("sha-256"), body), "federation.digest_mismatch");
        assert_eq!(code(&with("((("), body), "federation.digest_missing");
        let both = format!("{}, sha-512=:AAAA:", content_digest(body));
        assert_eq!(code(&with(&both), body), "federation.digest_mismatch");
        let mut twice = with(&content_digest(body));
        twice.append(CONTENT_DIGEST, HeaderValue::from_static("sha-256=:AAAA:"));
        assert_eq!(code(&twice, body), "federation.digest_missing");
    }
}
