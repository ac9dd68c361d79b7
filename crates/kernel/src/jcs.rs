//! RFC 8785 (JCS) canonical bytes of a JSON object, optionally without one member, written
//! without cloning the object: what credential proofs sign and what the audit chain hashes.
//!
//! `serde_json_canonicalizer` is the reference and handles every document. It is general
//! (it buffers each member, re-parses each key to sort by UTF-16 code units, and formats
//! every number as an ECMAScript double), which costs about 30 µs for a 1.7 KB credential,
//! more than half an Ed25519 verification. Most credentials are in a subset where
//! `serde_json`'s own compact output is already byte-for-byte the canonical form:
//!
//! - every number is an integer within ±2^53 (both print its decimal digits; beyond that
//!   JCS prints the nearest double, and floats have ECMAScript's shortest form);
//! - every object's keys are in strictly ascending byte order as stored (true of
//!   `serde_json::Map` unless its `preserve_order` feature is on, so checked here rather
//!   than assumed) and contain no character at or above U+E000, so UTF-8 byte order, which
//!   is code point order, equals JCS's UTF-16 code unit order (they differ only between
//!   U+E000..=U+FFFF and characters beyond U+FFFF);
//! - strings need nothing: serde_json escapes exactly what JCS escapes (`"`, `\`, and
//!   control characters as `\b \t \n \f \r` or lowercase `\u00xx`) and writes everything
//!   else, `/` and U+2028 included, as UTF-8.
//!
//! For such a document `serde_json` writes the bytes (about 4 µs); for any other, the
//! reference library does. A property test holds the two to identical output.

use std::io;

use serde::ser::{Serialize, SerializeMap as _, Serializer};
use serde_json::{Map, Value};

/// The largest integer a double holds exactly.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Whether JCS writes `i` as serde_json does (its decimal digits).
pub fn safe_integer(i: i64) -> bool {
    i.unsigned_abs() <= MAX_SAFE_INTEGER
}

/// An object without one member (none when `skip` is not a key of it).
pub struct Without<'a> {
    pub map: &'a Map<String, Value>,
    pub skip: &'a str,
}

impl Serialize for Without<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (k, v) in self.map {
            if k != self.skip {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

/// Writes the canonical form of `value` to `out`.
pub fn to_writer<W: io::Write>(value: &Without<'_>, out: &mut W) -> serde_json::Result<()> {
    if plain_object(value.map, Some(value.skip)) {
        serde_json::to_writer(out, value)
    } else {
        serde_json_canonicalizer::to_writer(value, out)
    }
}

/// The canonical text of any JSON value.
pub fn to_string(value: &Value) -> serde_json::Result<String> {
    if plain(value) {
        serde_json::to_string(value)
    } else {
        serde_json_canonicalizer::to_string(value)
    }
}

/// Whether serde_json's compact form of the object (less `skip`) is canonical.
fn plain_object(map: &Map<String, Value>, skip: Option<&str>) -> bool {
    let mut previous: Option<&str> = None;
    for (k, v) in map {
        if skip == Some(k.as_str()) {
            continue;
        }
        if k.bytes().any(|b| b >= 0xEE) || previous.is_some_and(|p| p >= k.as_str()) || !plain(v) {
            return false;
        }
        previous = Some(k);
    }
    true
}

fn plain(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(_) | Value::String(_) => true,
        Value::Number(n) => n
            .as_u64()
            .map(|u| u <= MAX_SAFE_INTEGER)
            .or_else(|| n.as_i64().map(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER))
            .unwrap_or(false),
        Value::Array(items) => items.iter().all(plain),
        Value::Object(map) => plain_object(map, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn ours(value: &Value) -> Vec<u8> {
        let map = value.as_object().unwrap();
        let mut out = Vec::new();
        // No generated key contains `#`.
        to_writer(&Without { map, skip: "#" }, &mut out).unwrap();
        out
    }

    fn reference(value: &Value) -> Vec<u8> {
        serde_json_canonicalizer::to_vec(value).unwrap()
    }

    #[test]
    fn typical_credentials_take_the_fast_path() {
        let doc = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": {"id": "did:key:z6Mk", "name": "四川省教育厅"},
            "credentialSubject": {"name": "张三𠀀", "credits": 3, "certificateNumber": "20245100120000123"},
            "credentialStatus": [{"statusListIndex": "94567"}]
        });
        assert!(plain_object(doc.as_object().unwrap(), None));
        assert_eq!(ours(&doc), reference(&doc));
    }

    #[test]
    fn other_documents_take_the_reference_path() {
        for doc in [
            json!({"n": 3.5}),
            json!({"n": 1e21}),
            json!({"n": 9007199254740993u64}),
            json!({"n": -9007199254740993i64}),
            json!({"\u{E000}": 1, "\u{10000}": 2}),
            json!({"a": {"\u{FFFF}": 1, "\u{1F600}": 2}}),
            json!({"a": [{"b": 0.1}]}),
        ] {
            assert!(!plain_object(doc.as_object().unwrap(), None), "{doc}");
            assert_eq!(ours(&doc), reference(&doc), "{doc}");
        }
        // The order that differs: U+E000 sorts after U+10000 in UTF-16.
        assert_eq!(
            ours(&json!({"\u{E000}": 1, "\u{10000}": 2})),
            "{\"\u{10000}\":2,\"\u{E000}\":1}".as_bytes()
        );
    }

    #[test]
    fn any_value_as_text() {
        for value in [
            json!(null),
            json!([1, 2.5]),
            json!("a"),
            json!({"b": 1, "a": [true]}),
        ] {
            let reference = serde_json_canonicalizer::to_string(&value).unwrap();
            assert_eq!(to_string(&value).unwrap(), reference);
        }
    }

    #[test]
    fn skip_leaves_out_one_member() {
        let doc = json!({"a": 1, "proof": {"x": 1}, "z": 2});
        let mut out = Vec::new();
        to_writer(
            &Without {
                map: doc.as_object().unwrap(),
                skip: "proof",
            },
            &mut out,
        )
        .unwrap();
        assert_eq!(out, br#"{"a":1,"z":2}"#);
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let text = "[a-z\\x00-\\x1f\"\\\\/\\x7f\u{e9}\u{2028}\u{d7ff}\u{e000}\u{ffff}\u{10000}\u{1f600}]{0,6}";
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-(1i64 << 53)..=(1i64 << 53)).prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            (-1000i32..1000).prop_map(|i| Value::from(f64::from(i) / 8.0)),
            text.prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 40, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
                prop::collection::btree_map(text, inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Values the fast path takes.
    fn plain_value() -> impl Strategy<Value = Value> {
        let text = "[a-z\\x00-\\x1f\"\\\\/\\x7f\u{e9}\u{2028}\u{d7ff}\u{e000}\u{ffff}\u{10000}\u{1f600}]{0,8}";
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (-(1i64 << 53) + 1..(1i64 << 53)).prop_map(Value::from),
            text.prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
                prop::collection::btree_map("[a-z\u{e9}\u{d7ff}]{0,3}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn identical_to_the_reference_on_the_fast_path(
            map in prop::collection::btree_map("[a-z@\u{e9}\u{4e00}\u{d7ff}]{0,4}", plain_value(), 0..8)
        ) {
            let value = Value::Object(map.into_iter().collect());
            prop_assert!(plain(&value));
            prop_assert_eq!(ours(&value), reference(&value));
        }

        #[test]
        fn identical_to_the_reference(
            map in prop::collection::btree_map("[a-z\u{e9}\u{e000}\u{1f600}]{0,4}", arb_value(), 0..6)
        ) {
            let value = Value::Object(map.into_iter().collect());
            prop_assert_eq!(ours(&value), reference(&value));
            prop_assert_eq!(to_string(&value).unwrap().into_bytes(), reference(&value));
        }
    }
}
