//! One federated look-up end to end, through the public API only, as the nodes and a
//! third-party auditor would run it: the joint office publishes a directory, CQ asks SC about
//! a student by blind index, SC answers with only the fields the purpose allows, both keep
//! evidence, and an auditor holding only the directory checks it.

use ed25519_dalek::SigningKey;
use federation::directory::{self, Member, MemberKey, Purpose, Rule, encode_public_key, minimise};
use federation::evidence::{Exchange, verify_evidence};
use federation::httpsig::{
    DEFAULT_WINDOW, PURPOSE_HEADER, RequestParts, Verifier, sign_request, sign_response,
};
use federation::{
    BlindIndexKey, Directory, Evidence, IdentifierKind, InMemoryNonceStore, NodeSigner,
};
use http::{Request, Response};
use kernel::Localized as _;
use serde_json::{Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2025-06-01 10:00 UTC);

fn member(code: &str, name: &str, key: &SigningKey, services: &[&str]) -> Member {
    Member {
        code: code.into(),
        name: name.into(),
        base_url: format!("https://{}.edu.example", code.to_lowercase()),
        keys: vec![MemberKey {
            kid: format!("{}-1", code.to_lowercase()),
            public_key: encode_public_key(&key.verifying_key()),
            not_before: None,
            not_after: None,
        }],
        services: services.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn federated_lookup_end_to_end() {
    let governance = SigningKey::from_bytes(&[40; 32]);
    let cq_key = SigningKey::from_bytes(&[41; 32]);
    let sc_key = SigningKey::from_bytes(&[42; 32]);

    // The joint office publishes the directory.
    let published = Directory {
        version: 1,
        issued_at: NOW - Duration::days(1),
        expires_at: NOW + Duration::days(30),
        governance_key: encode_public_key(&governance.verifying_key()),
        purposes: vec![Purpose {
            id: "transfer-verification".into(),
            name: "转学核验".into(),
            name_en: Some("Transfer verification".into()),
        }],
        members: vec![
            member("CQ", "重庆市教育委员会", &cq_key, &["student.lookup"]),
            member("SC", "四川省教育厅", &sc_key, &["student.lookup"]),
        ],
        rules: vec![Rule {
            caller: "CQ".into(),
            callee: "SC".into(),
            service: "student.lookup".into(),
            purpose: "transfer-verification".into(),
            fields: vec!["name".into(), "status".into()],
        }],
    }
    .sign(&governance)
    .unwrap()
    .to_json();

    // Each node verifies it with the governance key it was configured with.
    let dir = directory::verify(&published, &governance.verifying_key(), NOW).unwrap();
    let cq = NodeSigner::new("cq-1", cq_key).unwrap();
    let sc = NodeSigner::new("sc-1", sc_key).unwrap();

    // CQ: a query by blind index, never by ID number.
    let index_key = BlindIndexKey::from_bytes([43; 32]);
    let citizen_id = "11010519491231002X";
    let query = json!({"citizen_id_index": index_key.index(IdentifierKind::CitizenId, citizen_id)});
    let body = serde_json::to_vec(&query).unwrap();
    assert!(!String::from_utf8_lossy(&body).contains("110105"));
    let sc_base = &dir.member("SC").unwrap().base_url;
    let mut sent = Request::builder()
        .method("POST")
        .uri(format!("{sc_base}/api/federation/v1/student.lookup"))
        .header("content-type", "application/json")
        .body(body)
        .unwrap();
    sign_request(&mut sent, &cq, "transfer-verification", NOW).unwrap();

    // SC (behind a proxy: path only), a little later by its own clock.
    let sc_now = NOW + Duration::seconds(2);
    let mut received = Request::builder()
        .method("POST")
        .uri("/api/federation/v1/student.lookup")
        .body(sent.body().clone())
        .unwrap();
    *received.headers_mut() = sent.headers().clone();
    let nonces = InMemoryNonceStore::new(DEFAULT_WINDOW);
    let verifier = Verifier::new(&dir);
    let verified = verifier
        .verify_request(&received, Some(sc_base), &nonces, sc_now)
        .unwrap();
    assert_eq!(verified.member, "CQ");
    let fields = dir
        .authorize(&verified.member, "SC", "student.lookup", &verified.purpose)
        .unwrap();
    // SC's record has more than the purpose allows; only the allowed fields leave the node.
    let asked: Value = serde_json::from_slice(received.body()).unwrap();
    let stored_index = index_key.index(
        IdentifierKind::CitizenId,
        "１１０１０５１９４９１２３１００２ｘ",
    );
    assert_eq!(asked["citizen_id_index"], json!(stored_index));
    let record =
        json!({"name": "张三", "status": "在读", "citizen_id": citizen_id, "phone": "138"});
    let answer = serde_json::to_vec(&minimise(record, fields)).unwrap();
    let mut response = Response::new(answer);
    sign_response(&mut response, &RequestParts::from(&received), &sc, sc_now).unwrap();

    // A replay of the same request is refused.
    let replay = verifier
        .verify_request(&received, Some(sc_base), &nonces, sc_now)
        .unwrap_err();
    assert_eq!(replay.code(), "federation.nonce_replayed");

    // CQ verifies the answer against the request it sent.
    let answered = verifier
        .verify_response(&response, &RequestParts::from(&sent), "SC", NOW)
        .unwrap();
    assert_eq!(answered.member, "SC");
    let got: Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(got, json!({"name": "张三", "status": "在读"}));

    // Both keep evidence; they agree, and an auditor with only the directory checks it.
    let facts = Exchange {
        message_id: "2025-06-01-0001",
        time: NOW,
        caller: "CQ",
        callee: "SC",
        service: "student.lookup",
    };
    let at_cq = Evidence::capture(facts, &sent, None, &response, true).unwrap();
    let at_sc = Evidence::capture(facts, &received, Some(sc_base), &response, true).unwrap();
    assert_eq!(at_cq, at_sc);
    assert_eq!(at_cq.purpose, received.headers()[&PURPOSE_HEADER]);
    let stored = serde_json::to_string(&at_sc).unwrap();
    let audited: Evidence = serde_json::from_str(&stored).unwrap();
    let auditor_dir = directory::verify(&published, &governance.verifying_key(), NOW).unwrap();
    verify_evidence(&audited, &auditor_dir).unwrap();
}
