//! Conformance and end-to-end tests: the W3C eddsa-jcs-2022 test vector, the verifier's
//! checks with credentials and status lists issued here, status list encoding, and property
//! tests that nothing panics on input from anywhere.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use credential::proof::{self, PreparedProof};
use credential::status::{BitstringStatusList, MIN_BITS, StatusPurpose};
use credential::trust::TrustBundle;
use credential::verify::{
    CheckKind, FetchedList, InMemoryStatus, Report, StatusOutcome, StatusSource, Verifier,
};
use credential::{did, status};
use ed25519_dalek::SigningKey;
use federation::directory::{Directory, Member, MemberKey, encode_public_key};
use kernel::{Lang, Localized as _};
use proptest::prelude::*;
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

// ---------------------------------------------------------------------------------------
// The W3C vector (tests/data, from w3c/vc-di-eddsa TestVectors; see tests/data/SOURCE.md).

const VECTOR_VM: &str = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
/// TestVectors/eddsa-jcs-2022/combinedHashJCS.txt: SHA-256(proof config) || SHA-256(document).
const VECTOR_HASH_DATA: &str = "66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19";

fn data(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

fn vector() -> Value {
    serde_json::from_slice(&data("signedJCS.json")).unwrap()
}

/// The vector's key: privateKeyMultibase is `z` + base58btc(0x80 0x26 + 32-byte seed).
fn vector_key() -> SigningKey {
    let pair: Value = serde_json::from_slice(&data("keyPair.json")).unwrap();
    let private = pair["privateKeyMultibase"].as_str().unwrap();
    let bytes = bs58::decode(&private[1..]).into_vec().unwrap();
    assert_eq!(&bytes[..2], &[0x80, 0x26], "ed25519-priv multicodec");
    let key = SigningKey::from_bytes(bytes[2..].try_into().unwrap());
    assert_eq!(
        encode_public_key(&key.verifying_key()),
        pair["publicKeyMultibase"].as_str().unwrap()
    );
    key
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn w3c_vector_verifies() {
    let doc = vector();
    let verified = proof::verify(&doc).unwrap();
    assert_eq!(verified.verification_method, VECTOR_VM);
    assert_eq!(verified.created, Some(datetime!(2023-02-24 23:36:38 UTC)));
    let prepared = PreparedProof::new(&doc).unwrap();
    assert_eq!(hex(prepared.hash_data()), VECTOR_HASH_DATA);
    assert!(proof::verify_with(&doc, &vector_key().verifying_key()).is_ok());
}

#[test]
fn w3c_vector_is_reproduced_by_signing() {
    let signed = vector();
    let mut unsecured = signed.clone();
    unsecured.as_object_mut().unwrap().remove("proof");
    let ours = proof::sign(
        &unsecured,
        &vector_key(),
        VECTOR_VM,
        datetime!(2023-02-24 23:36:38 UTC),
    )
    .unwrap();
    assert_eq!(ours["proof"]["proofValue"], signed["proof"]["proofValue"]);
    assert_eq!(ours, signed);
}

#[test]
fn w3c_vector_wrong_key_fails() {
    let other = SigningKey::from_bytes(&[42; 32]).verifying_key();
    assert_eq!(
        proof::verify_with(&vector(), &other).unwrap_err().code(),
        "credential.proof_invalid"
    );
    // The proof naming another did:key fails too.
    let mut doc = vector();
    doc["proof"]["verificationMethod"] = json!(did::verification_method(&other));
    assert_eq!(
        proof::verify(&doc).unwrap_err().code(),
        "credential.proof_invalid"
    );
}

/// JSON pointers of every string value and every object member name.
fn strings(value: &Value, path: String, out: &mut Vec<(String, bool)>) {
    match value {
        Value::String(_) => out.push((path, false)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                strings(item, format!("{path}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let child = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push((child.clone(), true));
                strings(v, child, out);
            }
        }
        _ => {}
    }
}

/// `s` with the character at `i` replaced by another one.
fn change_char(s: &str, i: usize) -> String {
    s.chars()
        .enumerate()
        .map(|(j, c)| match (j == i, c) {
            (false, c) => c,
            (true, 'a') => 'b',
            (true, _) => 'a',
        })
        .collect()
}

#[test]
fn w3c_vector_any_changed_character_fails() {
    let doc = vector();
    let mut paths = Vec::new();
    strings(&doc, String::new(), &mut paths);
    let mut tried = 0;
    for (path, is_key) in &paths {
        let (parent, name) = path.rsplit_once('/').unwrap();
        let name = name.replace("~1", "/").replace("~0", "~");
        let text = if *is_key {
            name.clone()
        } else {
            doc.pointer(path).unwrap().as_str().unwrap().to_owned()
        };
        for i in 0..text.chars().count() {
            let changed = change_char(&text, i);
            let mut d = doc.clone();
            if *is_key {
                let map = d.pointer_mut(parent).unwrap().as_object_mut().unwrap();
                let v = map.remove(&name).unwrap();
                map.insert(changed, v);
            } else {
                *d.pointer_mut(path).unwrap() = json!(changed);
            }
            assert!(
                proof::verify(&d).is_err(),
                "changing character {i} of {path} (key: {is_key}) still verifies"
            );
            tried += 1;
        }
    }
    assert!(tried > 700, "{tried}");
}

#[test]
fn w3c_vector_any_changed_signature_byte_fails() {
    let doc = vector();
    let value = doc["proof"]["proofValue"].as_str().unwrap();
    let sig = bs58::decode(&value[1..]).into_vec().unwrap();
    assert_eq!(sig.len(), 64);
    for i in 0..64 {
        for flip in [0x01u8, 0x80] {
            let mut bad = sig.clone();
            bad[i] ^= flip;
            let mut d = doc.clone();
            d["proof"]["proofValue"] = json!(format!("z{}", bs58::encode(&bad).into_string()));
            assert_eq!(
                proof::verify(&d).unwrap_err().code(),
                "credential.proof_invalid",
                "byte {i} ^ {flip:#x}"
            );
        }
    }
}

#[test]
fn w3c_vector_byte_changes_of_the_file() {
    // Every one-byte change of the file that still parses: a different document fails, the
    // same document (a whitespace change) still verifies.
    let bytes = data("signedJCS.json");
    let original = vector();
    let verifier = trusting_vector();
    let mut changed = 0;
    for i in 0..bytes.len() {
        for delta in [1u8, 255, 32] {
            let mut b = bytes.clone();
            b[i] = b[i].wrapping_add(delta);
            let Ok(value) = serde_json::from_slice::<Value>(&b) else {
                continue;
            };
            let report = verifier.verify_bytes(&b, &InMemoryStatus::new());
            if value == original {
                assert!(report.ok, "byte {i}: same document refused");
            } else {
                assert!(!report.ok, "byte {i} + {delta} accepted");
                changed += 1;
            }
        }
    }
    assert!(changed > 500, "{changed}");
}

fn trusting_vector() -> Verifier {
    let mut bundle = TrustBundle::new(NOW);
    bundle.trust_key(VECTOR_VM).unwrap();
    Verifier::new(bundle, NOW)
}

#[test]
fn w3c_vector_through_the_verifier() {
    let report = trusting_vector().verify(&vector(), &InMemoryStatus::new());
    assert!(report.ok, "{report:?}");
    assert_eq!(report.status, StatusOutcome::None);
    assert_eq!(report.issuer.as_deref(), Some("direct"));
    assert_eq!(
        report.id.as_deref(),
        Some("urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33")
    );
    assert_eq!(report.checks.len(), 5);
    assert!(report.first_error().is_none());

    // The bare key and the DID are accepted by trust_key too.
    let mut bundle = TrustBundle::new(NOW);
    bundle
        .trust_key("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2")
        .unwrap();
    assert!(
        Verifier::new(bundle, NOW)
            .verify(&vector(), &InMemoryStatus::new())
            .ok
    );

    // Nobody trusted: the proof is fine but the issuer is not.
    let report =
        Verifier::new(TrustBundle::new(NOW), NOW).verify(&vector(), &InMemoryStatus::new());
    assert!(!report.ok);
    assert_eq!(
        failed(&report),
        (CheckKind::Issuer, "credential.untrusted_issuer")
    );
    assert_eq!(report.status, StatusOutcome::Unknown);
    assert_eq!(report.issuer, None);
    assert_eq!(report.checks.len(), 3, "later checks are not run");
}

// ---------------------------------------------------------------------------------------
// Credentials issued here.

const NOW: OffsetDateTime = datetime!(2025-03-01 0:00 UTC);

struct Node {
    key: SigningKey,
    base: &'static str,
}

impl Node {
    fn vm(&self) -> String {
        did::verification_method(&self.key.verifying_key())
    }

    fn did(&self) -> String {
        did::did_key(&self.key.verifying_key())
    }

    fn list_url(&self, purpose: StatusPurpose) -> String {
        format!("{}/credentials/status/{}/0", self.base, purpose.as_str())
    }

    fn sign(&self, doc: &Value) -> Value {
        proof::sign(doc, &self.key, &self.vm(), NOW - time::Duration::days(1)).unwrap()
    }

    fn signed_list(&self, purpose: StatusPurpose, set: &[usize]) -> Value {
        let mut list = BitstringStatusList::default();
        for &i in set {
            assert!(list.set(i, true));
        }
        let unsigned = status::status_list_credential(
            &self.list_url(purpose),
            &json!(self.did()),
            purpose,
            &list,
            NOW - time::Duration::hours(1),
            NOW + time::Duration::days(1),
        );
        proof::sign(
            &unsigned,
            &self.key,
            &self.vm(),
            NOW - time::Duration::hours(1),
        )
        .unwrap()
    }

    /// The issuer's revocation and suspension lists, checked as a verifier would.
    fn source(&self, revoked: &[usize], suspended: &[usize]) -> InMemoryStatus {
        let mut source = InMemoryStatus::new();
        for (purpose, set) in [
            (StatusPurpose::Revocation, revoked),
            (StatusPurpose::Suspension, suspended),
        ] {
            let list =
                FetchedList::from_credential(&self.signed_list(purpose, set), &bundle(), NOW)
                    .unwrap();
            source.insert(list);
        }
        source
    }

    /// A teacher qualification certificate (教师资格证书) with both status entries.
    fn teacher_credential(&self, index: u64) -> Value {
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": format!("urn:uuid:00000000-0000-4000-8000-{index:012}"),
            "type": ["VerifiableCredential", "TeacherQualificationCredential"],
            "issuer": {"id": self.did(), "name": "四川省教育厅"},
            "validFrom": "2024-07-01T00:00:00Z",
            "name": "教师资格证书",
            "credentialSubject": {
                "type": "TeacherQualification",
                "name": "张三",
                "certificateNumber": format!("2024510012{index:07}"),
                "qualification": "高级中学教师资格",
                "subject": "数学",
                "issueDate": "2024-07-01"
            },
            "credentialStatus": [
                status::status_entry(&self.list_url(StatusPurpose::Revocation), StatusPurpose::Revocation, index),
                status::status_entry(&self.list_url(StatusPurpose::Suspension), StatusPurpose::Suspension, index),
            ]
        })
    }
}

fn sc() -> Node {
    Node {
        key: SigningKey::from_bytes(&[1; 32]),
        base: "http://127.0.0.1:8081",
    }
}

fn cq() -> Node {
    Node {
        key: SigningKey::from_bytes(&[2; 32]),
        base: "http://127.0.0.1:8082",
    }
}

fn member(code: &str, node: &Node, not_after: Option<OffsetDateTime>) -> Member {
    Member {
        code: code.into(),
        name: format!("{code} 教育厅"),
        base_url: format!("{}/", node.base),
        keys: vec![MemberKey {
            kid: format!("{code}-1"),
            public_key: encode_public_key(&node.key.verifying_key()),
            not_before: None,
            not_after,
        }],
        services: vec![],
    }
}

fn directory() -> Directory {
    Directory {
        version: 1,
        issued_at: NOW - time::Duration::days(30),
        expires_at: NOW + time::Duration::days(30),
        governance_key: encode_public_key(&SigningKey::from_bytes(&[9; 32]).verifying_key()),
        purposes: vec![],
        members: vec![member("SC", &sc(), None), member("CQ", &cq(), None)],
        rules: vec![],
    }
}

fn bundle() -> TrustBundle {
    TrustBundle::from_directory(&directory(), NOW)
}

fn verifier() -> Verifier {
    Verifier::new(bundle(), NOW)
}

/// The first failed check and its code.
fn failed(report: &Report) -> (CheckKind, &'static str) {
    let check = report
        .checks
        .iter()
        .find(|c| !c.ok)
        .expect("a failed check");
    (check.check, check.code.unwrap())
}

#[test]
fn issued_credential_verifies() {
    let sc = sc();
    let doc = sc.sign(&sc.teacher_credential(94567));
    let report = verifier().verify(&doc, &sc.source(&[1, 2, 3], &[94566, 94568]));
    assert!(report.ok, "{report:?}");
    assert_eq!(report.status, StatusOutcome::Valid);
    assert_eq!(report.issuer.as_deref(), Some("SC"));
    // The report's JSON form.
    let json = serde_json::to_value(report.with_file("a.json")).unwrap();
    assert_eq!(json["file"], "a.json");
    assert_eq!(json["ok"], true);
    assert_eq!(json["status"], "valid");
    assert_eq!(json["issuer"], "SC");
    assert_eq!(
        json["checks"],
        json!([
            {"check": "format", "ok": true, "code": null, "message": null},
            {"check": "proof", "ok": true, "code": null, "message": null},
            {"check": "issuer", "ok": true, "code": null, "message": null},
            {"check": "dates", "ok": true, "code": null, "message": null},
            {"check": "status", "ok": true, "code": null, "message": null},
        ])
    );
    // Bytes with a BOM, as Windows tools write them.
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(serde_json::to_vec_pretty(&doc).unwrap());
    assert!(verifier().verify_bytes(&bytes, &sc.source(&[], &[])).ok);
}

#[test]
fn no_status_means_none() {
    let sc = sc();
    let mut doc = sc.teacher_credential(1);
    doc.as_object_mut().unwrap().remove("credentialStatus");
    let report = verifier().verify(&sc.sign(&doc), &InMemoryStatus::new());
    assert!(report.ok);
    assert_eq!(report.status, StatusOutcome::None);
}

#[test]
fn expired_and_not_yet_valid() {
    let sc = sc();
    let source = sc.source(&[], &[]);
    let mut doc = sc.teacher_credential(5);
    doc["validUntil"] = json!("2025-02-28T23:59:59Z");
    let report = verifier().verify(&sc.sign(&doc), &source);
    assert!(!report.ok);
    assert_eq!(failed(&report), (CheckKind::Dates, "credential.expired"));
    assert_eq!(report.status, StatusOutcome::Valid, "status still checked");
    assert!(report.first_error().unwrap().1.contains("过期"));

    // validUntil is exclusive.
    doc["validUntil"] = json!("2025-03-01T00:00:00Z");
    assert_eq!(
        verifier()
            .verify(&sc.sign(&doc), &source)
            .first_error()
            .unwrap()
            .0,
        "credential.expired"
    );
    doc["validUntil"] = json!("2025-03-01T00:00:01Z");
    assert!(verifier().verify(&sc.sign(&doc), &source).ok);

    let mut doc = sc.teacher_credential(5);
    doc["validFrom"] = json!("2025-03-02T00:00:00+08:00");
    let report = verifier().verify(&sc.sign(&doc), &source);
    assert_eq!(
        failed(&report),
        (CheckKind::Dates, "credential.not_yet_valid")
    );

    // A proof's `expires` is covered by the signature: adding one afterwards breaks it.
    let mut proofed = sc.sign(&sc.teacher_credential(5));
    proofed["proof"]["expires"] = json!("2025-02-01T00:00:00Z");
    let report = verifier().verify(&proofed, &source);
    assert_eq!(
        failed(&report),
        (CheckKind::Proof, "credential.proof_invalid")
    );
}

#[test]
fn revoked() {
    let sc = sc();
    let doc = sc.sign(&sc.teacher_credential(94567));
    let report = verifier().verify(&doc, &sc.source(&[94567], &[]));
    assert!(!report.ok);
    assert_eq!(report.status, StatusOutcome::Revoked);
    assert_eq!(failed(&report), (CheckKind::Status, "credential.revoked"));
    // Revocation wins over suspension.
    let report = verifier().verify(&doc, &sc.source(&[94567], &[94567]));
    assert_eq!(report.status, StatusOutcome::Revoked);
}

#[test]
fn suspended_then_reinstated() {
    let sc = sc();
    let doc = sc.sign(&sc.teacher_credential(7));
    let verifier = verifier();

    let mut source = sc.source(&[], &[]);
    assert_eq!(verifier.verify(&doc, &source).status, StatusOutcome::Valid);

    // The issuer suspends: it re-signs its suspension list with bit 7 set.
    source.insert(
        FetchedList::from_credential(
            &sc.signed_list(StatusPurpose::Suspension, &[7]),
            &bundle(),
            NOW,
        )
        .unwrap(),
    );
    let report = verifier.verify(&doc, &source);
    assert!(!report.ok);
    assert_eq!(report.status, StatusOutcome::Suspended);
    assert_eq!(failed(&report), (CheckKind::Status, "credential.suspended"));
    assert!(report.first_error().unwrap().1.contains("暂停"));

    // ... and reinstates.
    source.insert(
        FetchedList::from_credential(
            &sc.signed_list(StatusPurpose::Suspension, &[]),
            &bundle(),
            NOW,
        )
        .unwrap(),
    );
    let report = verifier.verify(&doc, &source);
    assert!(report.ok);
    assert_eq!(report.status, StatusOutcome::Valid);
}

#[test]
fn status_list_signed_by_another_key_is_refused() {
    let sc = sc();
    let intruder = Node {
        key: SigningKey::from_bytes(&[66; 32]),
        base: sc.base,
    };
    // The intruder publishes a clean list at SC's URL, naming SC as issuer.
    let mut forged = status::status_list_credential(
        &sc.list_url(StatusPurpose::Revocation),
        &json!(sc.did()),
        StatusPurpose::Revocation,
        &BitstringStatusList::default(),
        NOW - time::Duration::hours(1),
        NOW + time::Duration::days(1),
    );
    forged = proof::sign(&forged, &intruder.key, &intruder.vm(), NOW).unwrap();
    let err = FetchedList::from_credential(&forged, &bundle(), NOW).unwrap_err();
    assert_eq!(err.code(), "credential.status_untrusted");
    assert!(
        err.message(Lang::En).contains("not trusted"),
        "{}",
        err.message(Lang::En)
    );

    // Claiming SC's key in the proof: the signature does not verify.
    let mut claimed = forged.clone();
    claimed["proof"]["verificationMethod"] = json!(sc.vm());
    assert_eq!(
        FetchedList::from_credential(&claimed, &bundle(), NOW)
            .unwrap_err()
            .code(),
        "credential.status_untrusted"
    );

    // A trusted member (CQ) signing a list at SC's URL.
    let cq = cq();
    let mut cross = forged.clone();
    cross.as_object_mut().unwrap().remove("proof");
    cross["issuer"] = json!(cq.did());
    let cross = proof::sign(&cross, &cq.key, &cq.vm(), NOW).unwrap();
    assert_eq!(
        FetchedList::from_credential(&cross, &bundle(), NOW)
            .unwrap_err()
            .code(),
        "credential.status_untrusted"
    );

    // A status source handing the verifier a list the issuer did not sign, or another list.
    struct Fixed(Arc<FetchedList>);
    impl StatusSource for Fixed {
        fn status_list(&self, _url: &str) -> Result<Arc<FetchedList>, String> {
            Ok(self.0.clone())
        }
    }
    let doc = sc.sign(&sc.teacher_credential(3));
    let cq_list = FetchedList::from_credential(
        &cq.signed_list(StatusPurpose::Revocation, &[]),
        &bundle(),
        NOW,
    )
    .unwrap();
    let report = verifier().verify(&doc, &Fixed(Arc::new(cq_list.clone())));
    assert_eq!(
        failed(&report),
        (CheckKind::Status, "credential.status_untrusted")
    );
    assert_eq!(report.status, StatusOutcome::Unknown);
    let relabelled = FetchedList {
        id: sc.list_url(StatusPurpose::Revocation),
        ..cq_list
    };
    let report = verifier().verify(&doc, &Fixed(Arc::new(relabelled)));
    assert_eq!(
        failed(&report),
        (CheckKind::Status, "credential.status_untrusted")
    );
    assert!(report.first_error().unwrap().1.contains("其他密钥"));
}

#[test]
fn status_url_outside_the_issuer_prefix_is_refused() {
    let sc = sc();
    let mut doc = sc.teacher_credential(3);
    doc["credentialStatus"][0]["statusListCredential"] =
        json!("http://127.0.0.1:9999/credentials/status/revocation/0");
    let report = verifier().verify(&sc.sign(&doc), &sc.source(&[], &[]));
    assert!(!report.ok);
    assert_eq!(
        failed(&report),
        (CheckKind::Status, "credential.status_untrusted")
    );
    assert_eq!(report.status, StatusOutcome::Unknown);
    // Pointing at the other member's lists is outside the prefix as well.
    doc["credentialStatus"][0]["statusListCredential"] =
        json!(cq().list_url(StatusPurpose::Revocation));
    let report = verifier().verify(&sc.sign(&doc), &sc.source(&[], &[]));
    assert_eq!(
        failed(&report),
        (CheckKind::Status, "credential.status_untrusted")
    );
}

#[test]
fn status_problems() {
    let sc = sc();
    let doc = sc.sign(&sc.teacher_credential(3));

    // No list available.
    let report = verifier().verify(&doc, &InMemoryStatus::new());
    assert_eq!(
        failed(&report),
        (CheckKind::Status, "credential.status_unavailable")
    );
    assert_eq!(report.status, StatusOutcome::Unknown);
    // Only the suspension list available, and it says suspended: that is certain.
    let mut source = sc.source(&[], &[3]);
    source.remove(&sc.list_url(StatusPurpose::Revocation));
    assert_eq!(
        verifier().verify(&doc, &source).status,
        StatusOutcome::Suspended
    );

    // An expired list (as the source holds it) is not trusted for a later `now`.
    let later = Verifier::new(bundle(), NOW + time::Duration::days(2));
    let report = later.verify(&doc, &sc.source(&[], &[]));
    assert_eq!(
        failed(&report),
        (CheckKind::Status, "credential.status_unavailable")
    );
    // And from_credential refuses it.
    assert_eq!(
        FetchedList::from_credential(
            &sc.signed_list(StatusPurpose::Revocation, &[]),
            &bundle(),
            NOW + time::Duration::days(2)
        )
        .unwrap_err()
        .code(),
        "credential.status_unavailable"
    );

    // Index beyond the list, an unknown status type, a mismatched purpose, bad index.
    for (field, value, code) in [
        (
            "statusListIndex",
            json!("131072"),
            "credential.status_index_out_of_range",
        ),
        (
            "statusListIndex",
            json!("99999999999999999999999"),
            "credential.malformed",
        ),
        ("statusListIndex", json!("-1"), "credential.malformed"),
        ("statusListIndex", json!(""), "credential.malformed"),
        (
            "type",
            json!("StatusList2021Entry"),
            "credential.status_unavailable",
        ),
        (
            "statusPurpose",
            json!("suspension"),
            "credential.status_unavailable",
        ),
        (
            "statusPurpose",
            json!("refresh"),
            "credential.status_unavailable",
        ),
        ("statusSize", json!(2), "credential.status_unavailable"),
        ("statusListCredential", json!(7), "credential.malformed"),
    ] {
        let mut d = sc.teacher_credential(3);
        d["credentialStatus"][0][field] = value.clone();
        let report = verifier().verify(&sc.sign(&d), &sc.source(&[], &[]));
        assert_eq!(
            failed(&report),
            (CheckKind::Status, code),
            "{field} = {value}"
        );
    }
    // A numeric index and statusSize 1 are accepted.
    let mut d = sc.teacher_credential(3);
    d["credentialStatus"][0]["statusListIndex"] = json!(3);
    d["credentialStatus"][0]["statusSize"] = json!(1);
    assert!(verifier().verify(&sc.sign(&d), &sc.source(&[], &[])).ok);
    // A single entry object rather than an array.
    let mut d = sc.teacher_credential(3);
    d["credentialStatus"] = d["credentialStatus"][0].clone();
    assert!(verifier().verify(&sc.sign(&d), &sc.source(&[], &[])).ok);
    assert_eq!(
        verifier()
            .verify(&sc.sign(&d), &sc.source(&[3], &[]))
            .status,
        StatusOutcome::Revoked
    );
}

#[test]
fn issuer_checks() {
    let sc = sc();
    let source = sc.source(&[], &[]);
    // The issuer field must be the signing key's DID.
    let mut doc = sc.teacher_credential(3);
    doc["issuer"] = json!("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK");
    let report = verifier().verify(&sc.sign(&doc), &source);
    assert_eq!(
        failed(&report),
        (CheckKind::Issuer, "credential.issuer_mismatch")
    );
    // A plain string issuer is fine.
    doc["issuer"] = json!(sc.did());
    assert!(verifier().verify(&sc.sign(&doc), &source).ok);

    // A key that had been retired when the proof was created.
    let mut dir = directory();
    dir.members[0].keys[0].not_after = Some(NOW - time::Duration::days(2));
    let retired = Verifier::new(TrustBundle::from_directory(&dir, NOW), NOW);
    let report = retired.verify(&sc.sign(&sc.teacher_credential(3)), &source);
    assert_eq!(
        failed(&report),
        (CheckKind::Issuer, "credential.untrusted_issuer")
    );
    // ... but a credential signed before retirement still verifies (its status lists are
    // signed by the retired key in this test, so only the issuer check is asserted).
    let old = proof::sign(
        &sc.teacher_credential(3),
        &sc.key,
        &sc.vm(),
        NOW - time::Duration::days(3),
    )
    .unwrap();
    let report = retired.verify(&old, &source);
    assert!(report.checks[2].ok, "{report:?}");

    // A did:web method cannot be resolved offline.
    let mut doc = sc.sign(&sc.teacher_credential(3));
    doc["proof"]["verificationMethod"] = json!("did:web:sc.example#key-1");
    let report = verifier().verify(&doc, &source);
    assert_eq!(
        failed(&report),
        (CheckKind::Proof, "credential.key_unresolvable")
    );
}

/// A change to a document, and what it breaks.
type Mutation = (fn(&mut Value), &'static str);

#[test]
fn format_checks() {
    let sc = sc();
    let source = sc.source(&[], &[]);
    let cases: Vec<Mutation> = vec![
        (
            |d| d["@context"] = json!(["https://www.w3.org/2018/credentials/v1"]),
            "v1 context",
        ),
        (|d| d["@context"] = json!([]), "empty context"),
        (
            |d| d["type"] = json!(["TeacherQualificationCredential"]),
            "type",
        ),
        (|d| d["type"] = json!(5), "type number"),
        (|d| d["issuer"] = json!({"name": "x"}), "issuer without id"),
        (|d| d["issuer"] = json!(""), "empty issuer"),
        (
            |d| {
                d.as_object_mut().unwrap().remove("issuer");
            },
            "no issuer",
        ),
        (
            |d| {
                d.as_object_mut().unwrap().remove("credentialSubject");
            },
            "no subject",
        ),
        (
            |d| d["validFrom"] = json!("2024-07-01"),
            "date without time",
        ),
        (
            |d| d["validUntil"] = json!("2024-07-01T00:00:00"),
            "no time zone",
        ),
    ];
    for (mutate, what) in cases {
        let mut d = sc.teacher_credential(3);
        mutate(&mut d);
        // Signed after the change: only the format is wrong.
        let report = verifier().verify(&sc.sign(&d), &source);
        assert_eq!(
            failed(&report),
            (CheckKind::Format, "credential.malformed"),
            "{what}"
        );
        assert_eq!(report.checks.len(), 1);
    }
    for bytes in [&b""[..], b"{", b"[]", b"null", b"\"x\"", b"\xff\xfe"] {
        let report = verifier().verify_bytes(bytes, &source);
        assert!(!report.ok);
        assert_eq!(failed(&report), (CheckKind::Format, "credential.malformed"));
    }
    // Unsigned.
    let report = verifier().verify(&sc.teacher_credential(3), &source);
    assert_eq!(
        failed(&report),
        (CheckKind::Proof, "credential.proof_missing")
    );
}

#[test]
fn tampered_issued_credential_fails() {
    let sc = sc();
    let source = sc.source(&[], &[]);
    let doc = sc.sign(&sc.teacher_credential(3));
    for (pointer, value) in [
        ("/credentialSubject/name", json!("李四")),
        (
            "/credentialSubject/certificateNumber",
            json!("20245100120000004"),
        ),
        ("/credentialStatus/0/statusListIndex", json!("4")),
        ("/validFrom", json!("2024-07-02T00:00:00Z")),
        ("/issuer/name", json!("重庆市教育委员会")),
    ] {
        let mut d = doc.clone();
        *d.pointer_mut(pointer).unwrap() = value;
        let report = verifier().verify(&d, &source);
        assert_eq!(
            failed(&report),
            (CheckKind::Proof, "credential.proof_invalid"),
            "{pointer}"
        );
    }
    // An added field.
    let mut d = doc.clone();
    d["credentialSubject"]["grade"] = json!("A");
    assert!(!verifier().verify(&d, &source).ok);
}

// ---------------------------------------------------------------------------------------
// Status list encoding.

#[test]
fn status_list_round_trip_with_random_pattern() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2025);
    let mut list = BitstringStatusList::new(MIN_BITS);
    let mut expected = vec![false; MIN_BITS];
    for (i, bit) in expected.iter_mut().enumerate() {
        *bit = rng.gen_bool(0.3);
        assert!(list.set(i, *bit));
    }
    let encoded = list.encode();
    assert!(encoded.starts_with('u'));
    let decoded = BitstringStatusList::decode(&encoded).unwrap();
    assert_eq!(decoded.len(), MIN_BITS);
    for (i, bit) in expected.iter().enumerate() {
        assert_eq!(decoded.get(i), Some(*bit), "bit {i}");
    }
    assert_eq!(decoded, list);
}

#[test]
fn status_list_bit_order_follows_the_spec() {
    // Bitstring Status List v1.0: index 0 is the left-most bit of the bitstring, i.e. the
    // most significant bit of the first byte. Decode by hand to check.
    let mut list = BitstringStatusList::default();
    list.set(0, true);
    list.set(14, true);
    list.set(MIN_BITS - 1, true);
    let encoded = list.encode();
    let gz = URL_SAFE_NO_PAD.decode(&encoded[1..]).unwrap();
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut raw).unwrap();
    assert_eq!(raw.len(), MIN_BITS / 8);
    assert_eq!(raw[0], 0b1000_0000);
    assert_eq!(raw[1], 0b0000_0010);
    assert_eq!(raw[raw.len() - 1], 0b0000_0001);
    assert!(raw[2..raw.len() - 1].iter().all(|&b| b == 0));
}

fn gzip_u(raw_len: usize) -> String {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    let mut left = raw_len;
    while left > 0 {
        let n = left.min(zeros.len());
        gz.write_all(&zeros[..n]).unwrap();
        left -= n;
    }
    format!("u{}", URL_SAFE_NO_PAD.encode(gz.finish().unwrap()))
}

#[test]
fn status_list_gzip_bomb_is_refused() {
    // 17 MiB of zeros compresses to about 17 KB.
    let bomb = gzip_u(17 << 20);
    assert!(bomb.len() < 40_000, "{}", bomb.len());
    let err = BitstringStatusList::decode(&bomb).unwrap_err();
    assert_eq!(err.code(), "credential.malformed");
    assert!(err.message(Lang::En).contains("MiB"));
    // Exactly at the limit is accepted.
    assert!(BitstringStatusList::decode(&gzip_u(status::MAX_DECODED_BYTES)).is_ok());
}

#[test]
fn status_list_garbage_is_refused() {
    let valid = BitstringStatusList::default().encode();
    for bad in [
        String::new(),
        "u".into(),
        "uAAAA".into(),
        "u!!!!".into(),
        format!("z{}", &valid[1..]),
        valid[1..].to_owned(),
        format!("{valid}="),
        valid[..valid.len() - 4].to_owned(), // truncated gzip
        format!("u{}", URL_SAFE_NO_PAD.encode(b"not gzip at all")),
        gzip_u(MIN_BITS / 8 - 1), // shorter than the minimum
    ] {
        assert_eq!(
            BitstringStatusList::decode(&bad).unwrap_err().code(),
            "credential.malformed",
            "{bad:.40}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Nothing panics on input from anywhere.

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e300f64..1e300).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        Just(json!("https://www.w3.org/ns/credentials/v2")),
        Just(json!("VerifiableCredential")),
        Just(json!("DataIntegrityProof")),
        Just(json!("eddsa-jcs-2022")),
        Just(json!("BitstringStatusListEntry")),
        Just(json!("2025-01-01T00:00:00Z")),
        Just(json!(VECTOR_VM)),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z@]{1,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_pointers(value: &Value, path: String, out: &mut Vec<String>) {
    out.push(path.clone());
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                json_pointers(item, format!("{path}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                json_pointers(
                    v,
                    format!("{path}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        _ => {}
    }
}

struct Fixture {
    verifier: Verifier,
    source: InMemoryStatus,
    doc: Value,
    bytes: Vec<u8>,
    pointers: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(|| {
        let sc = sc();
        let doc = sc.sign(&sc.teacher_credential(11));
        let mut pointers = Vec::new();
        json_pointers(&doc, String::new(), &mut pointers);
        Fixture {
            verifier: verifier(),
            source: sc.source(&[], &[]),
            bytes: serde_json::to_vec(&doc).unwrap(),
            doc,
            pointers,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn verify_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let f = fixture();
        let report = f.verifier.verify_bytes(&bytes, &f.source);
        prop_assert!(!report.ok);
    }

    #[test]
    fn byte_mutations_never_panic_and_never_pass(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)
    ) {
        let f = fixture();
        let mut bytes = f.bytes.clone();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let report = f.verifier.verify_bytes(&bytes, &f.source);
        if report.ok {
            let value: Value = serde_json::from_slice(&bytes).unwrap();
            prop_assert_eq!(value, f.doc.clone());
        }
    }

    #[test]
    fn value_mutations_never_panic_and_never_pass(
        at in any::<prop::sample::Index>(),
        replacement in arb_json(),
    ) {
        let f = fixture();
        let pointer = at.get(&f.pointers);
        let mut doc = f.doc.clone();
        *doc.pointer_mut(pointer).unwrap() = replacement;
        let report = f.verifier.verify(&doc, &f.source);
        if report.ok {
            prop_assert_eq!(doc, f.doc.clone());
        }
        // The report always serialises.
        prop_assert!(serde_json::to_vec(&report).is_ok());
    }

    #[test]
    fn status_list_decode_never_panics(s in "u[A-Za-z0-9_-]{0,200}", raw in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = BitstringStatusList::decode(&s);
        let _ = BitstringStatusList::decode(&format!("u{}", URL_SAFE_NO_PAD.encode(&raw)));
        // A gzip header followed by garbage.
        let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        gz.extend(&raw);
        let _ = BitstringStatusList::decode(&format!("u{}", URL_SAFE_NO_PAD.encode(&gz)));
    }

    #[test]
    fn status_list_credential_checks_never_panic(
        at in any::<prop::sample::Index>(),
        replacement in arb_json(),
    ) {
        let sc = sc();
        let list = sc.signed_list(StatusPurpose::Revocation, &[1]);
        let mut pointers = Vec::new();
        json_pointers(&list, String::new(), &mut pointers);
        let mut doc = list.clone();
        let pointer: &String = at.get(&pointers);
        *doc.pointer_mut(pointer).unwrap() = replacement;
        if FetchedList::from_credential(&doc, &bundle(), NOW).is_ok() {
            prop_assert_eq!(doc, list);
        }
    }
}
