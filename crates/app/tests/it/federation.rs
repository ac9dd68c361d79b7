//! Two real nodes, 重庆 and 四川, in one federation over real HTTP on loopback: the
//! cross-node look-up, both message logs and their evidence, every refusal of a bad
//! request, a peer that is down, and directory changes picked up without a restart.

use crate::for_each_engine;
use std::path::PathBuf;

use chuanyu::federate::{self, Files, Peer};
use federation::httpsig::{self, NodeSigner};
use federation::{Directory, verify_evidence};
use serde_json::Value;
use synth::Province;
use time::OffsetDateTime;

use crate::support::{Engine, FederationFiles, Options, TestApp};

pub const PURPOSE: &str = "transfer-verification";

/// Two federated nodes; other test modules (the portal's) start them too.
pub struct Pair {
    pub cq: TestApp,
    pub sc: TestApp,
    pub files: Files,
    pub work: PathBuf,
}

impl Pair {
    pub async fn start(engine: Engine) -> Option<Pair> {
        Pair::start_with(engine, |_| {}).await
    }

    /// Two nodes whose options `tweak` adjusts (both get the same).
    pub async fn start_with(engine: Engine, tweak: impl Fn(&mut Options)) -> Option<Pair> {
        let work = std::env::temp_dir().join(format!("chuanyu-fed-{}", uuid::Uuid::new_v4()));
        let cq_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sc_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let peer = |code: &str, name: &str, l: &tokio::net::TcpListener| Peer {
            code: code.into(),
            name: name.into(),
            base_url: format!("http://{}", l.local_addr().unwrap()),
            signing_key: work.join(format!("{code}.pem")),
        };
        let peers = [
            peer("CQ", "重庆市教育委员会", &cq_listener),
            peer("SC", "四川省教育厅", &sc_listener),
        ];
        let files = federate::write(&work, &peers, 30).unwrap();
        let options = |province, listener, p: &Peer| {
            let mut o = Options {
                province,
                listener: Some(listener),
                federation: Some(FederationFiles {
                    directory: files.directory.clone(),
                    governance_key: files.governance_key.clone(),
                    index_key: files.index_key.clone(),
                    signing_key: p.signing_key.clone(),
                }),
                ..Options::default()
            };
            tweak(&mut o);
            o
        };
        let cq = TestApp::spawn_with(engine, options(Province::CQ, cq_listener, &peers[0])).await?;
        let sc = TestApp::spawn_with(engine, options(Province::SC, sc_listener, &peers[1])).await?;
        // Deterministic: index now rather than wait for the indexer's first pass.
        let key = federation::BlindIndexKey::from_base64url(
            std::fs::read_to_string(&files.index_key).unwrap().trim(),
        )
        .unwrap();
        exchange::index::reindex(&sc.db, &key).await.unwrap();
        exchange::index::reindex(&cq.db, &key).await.unwrap();
        Some(Pair {
            cq,
            sc,
            files,
            work,
        })
    }

    fn directory(&self) -> Directory {
        let bytes = std::fs::read(&self.files.directory).unwrap();
        let key = federation::directory::decode_public_key(&self.files.governance_key).unwrap();
        federation::directory::verify(&bytes, &key, OffsetDateTime::now_utc()).unwrap()
    }

    /// A signer holding 重庆's node key, for hand-made requests.
    fn cq_signer(&self) -> NodeSigner {
        let key = platform::keys::load(&self.work.join("CQ.pem")).unwrap();
        let kid = chuanyu::federation_cli::key_id("CQ", &key.verifying_key());
        NodeSigner::new(kid, key).unwrap()
    }

    /// Publishes a new version of the directory, changed by `edit`.
    fn republish(&self, edit: impl FnOnce(&mut Directory)) {
        let mut d = self.directory();
        d.version += 1;
        edit(&mut d);
        let governance = platform::keys::load(&self.files.governance_key_file).unwrap();
        let signed = d.sign(&governance).unwrap();
        federate::publish(&self.files.directory, &signed.to_json()).unwrap();
    }

    pub async fn stop(self) {
        self.cq.stop().await;
        self.sc.stop().await;
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

async fn lookup(app: &TestApp, token: &str, no: &str, purpose: &str) -> (u16, Value) {
    let purpose: String = form_urlencoded::byte_serialize(purpose.as_bytes()).collect();
    let r = app
        .get_as(token, &format!("/api/v1/students/{no}?purpose={purpose}"))
        .await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A request to 四川's look-up service signed as 重庆 would sign it, with `tamper` applied
/// after signing; returns the status and the error code.
async fn send_signed(
    pair: &Pair,
    purpose: &str,
    body: &str,
    created: OffsetDateTime,
    tamper: impl FnOnce(&mut http::Request<Vec<u8>>),
) -> (u16, String) {
    let mut req = http::Request::post(pair.sc.url("/federation/v1/student.lookup"))
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .unwrap();
    httpsig::sign_request(&mut req, &pair.cq_signer(), purpose, created).unwrap();
    tamper(&mut req);
    send(req).await
}

async fn send(req: http::Request<Vec<u8>>) -> (u16, String) {
    let (parts, body) = req.into_parts();
    let mut out = reqwest::Client::new()
        .post(parts.uri.to_string())
        .body(body);
    for (name, value) in &parts.headers {
        out = out.header(name, value);
    }
    let r = out.send().await.unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

fn lookup_body(pair: &Pair, no: &str) -> String {
    let key = federation::BlindIndexKey::from_base64url(
        std::fs::read_to_string(&pair.files.index_key)
            .unwrap()
            .trim(),
    )
    .unwrap();
    let index = exchange::index::digest_of(&key, federation::IdentifierKind::StudentNo, no);
    serde_json::json!({"lookups": [{"kind": "student-no", "index": index,
        "actor": {"username": "cq.school", "role": "school-admin"}}]})
    .to_string()
}

async fn count(db: &platform::Db, sql: &'static str) -> i64 {
    let n: (i64,) = platform::on_db!(db, p => sqlx::query_as(sql).fetch_one(p).await.unwrap());
    n.0
}

async fn cross_node_lookup(engine: Engine) {
    let Some(pair) = Pair::start(engine).await else {
        return;
    };
    let (cq, sc) = (&pair.cq, &pair.sc);
    let no = sc.account("student").person_key.clone().unwrap();
    let token = cq.token("cq.school").await;

    // 重庆 does not hold the student; 四川 answers, minimised to the purpose's fields.
    let (status, body) = lookup(cq, &token, &no, PURPOSE).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "SC");
    assert_eq!(body["source_name"], "四川省教育厅");
    assert_eq!(body["student_no"], no.as_str());
    assert!(body["name"].as_str().is_some_and(|n| !n.is_empty()));
    for withheld in [
        "citizen_id",
        "hukou_division",
        "residence_division",
        "id_type",
    ] {
        assert!(
            body.get(withheld).is_none(),
            "{withheld} must not leave 四川: {body}"
        );
    }
    // The purpose may be given by its Chinese name too.
    assert_eq!(lookup(cq, &token, &no, "转学核验").await.0, 200);
    // A purpose the directory does not allow across provinces finds nothing there.
    assert_eq!(lookup(cq, &token, &no, "学籍管理").await.0, 404);
    // Students and employers do not query other provinces.
    let student_token = cq.token("cq.student").await;
    assert_eq!(lookup(cq, &student_token, &no, PURPOSE).await.0, 404);

    // Both nodes logged both exchanges; each record is evidence a third party can check.
    let sent = count(
        &cq.db,
        "SELECT COUNT(*) FROM federation_messages WHERE direction = 'sent'",
    )
    .await;
    let received = count(
        &sc.db,
        "SELECT COUNT(*) FROM federation_messages WHERE direction = 'received'",
    )
    .await;
    assert_eq!((sent, received), (2, 2));
    let directory = pair.directory();
    for logged in exchange::log::recent(&cq.db, 10).await.unwrap() {
        let mine = exchange::log::evidence(&cq.db, &logged.message_id)
            .await
            .unwrap();
        let theirs = exchange::log::evidence(&sc.db, &logged.message_id)
            .await
            .unwrap();
        assert_eq!((mine.len(), theirs.len()), (1, 1));
        verify_evidence(&mine[0], &directory).unwrap();
        verify_evidence(&theirs[0], &directory).unwrap();
        assert_eq!(
            mine[0].request, theirs[0].request,
            "both sides logged the same request"
        );
        let mut forged = mine[0].clone();
        forged.response.status = 404;
        assert!(verify_evidence(&forged, &directory).is_err());
    }
    // A third party: the evidence exported by 重庆's CLI checks against the directory alone,
    // and a forged copy does not.
    let logged = exchange::log::recent(&cq.db, 1).await.unwrap().remove(0);
    let file = pair.work.join("evidence.json");
    let chuanyu = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_chuanyu"))
            .args(args)
            .env("CHUANYU_MEMBER", "CQ")
            .env("CHUANYU_DATABASE_URL", cq.database_url())
            .env("CHUANYU_DATA_DIR", pair.work.join("cli-data"))
            .output()
            .unwrap()
    };
    let path = |p: &PathBuf| p.to_str().unwrap().to_owned();
    let export = chuanyu(&[
        "federation",
        "evidence",
        &logged.message_id,
        "--out",
        &path(&file),
    ]);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let check = |file: &PathBuf| {
        chuanyu(&[
            "federation",
            "verify-evidence",
            &path(file),
            "--directory",
            &path(&pair.files.directory),
            "--governance-key",
            &pair.files.governance_key,
        ])
    };
    let verified = check(&file);
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    let forged = pair.work.join("forged.json");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("\"status\": 200", "\"status\": 404");
    std::fs::write(&forged, text).unwrap();
    assert_eq!(check(&forged).status.code(), Some(1));
    assert_eq!(
        chuanyu(&["federation", "evidence", "no-such-message"])
            .status
            .code(),
        Some(1)
    );

    // Both audit chains hold, and the student sees who from 重庆 looked, on their page.
    for db in [&cq.db, &sc.db] {
        assert!(
            platform::audit::verify(db)
                .await
                .unwrap()
                .first_broken
                .is_none()
        );
    }
    let student = sc.token("sc.student").await;
    let accesses: Value = sc
        .get_as(&student, "/api/v1/me/access-log")
        .await
        .json()
        .await
        .unwrap();
    let from_cq: Vec<&Value> = accesses
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["actor"].as_str().is_some_and(|s| s.starts_with("CQ:")))
        .collect();
    assert_eq!(from_cq.len(), 2, "{accesses}");
    assert_eq!(from_cq[0]["purpose"], "转学核验");
    assert_eq!(from_cq[0]["actor_org"], "重庆市教育委员会（CQ）");
    assert_eq!(from_cq[0]["actor_name"], "cq.school");
    pair.stop().await;
}

/// Look-ups waiting at one moment for the same peer share an exchange; each still gets its
/// own record, and its own access on both nodes.
async fn concurrent_lookups_share_exchanges(engine: Engine) {
    let Some(pair) = Pair::start(engine).await else {
        return;
    };
    let federation = pair.cq.federation();
    let held: Vec<(String,)> = platform::on_db!(&pair.sc.db, p => sqlx::query_as(
        "SELECT student_no FROM students ORDER BY student_no LIMIT 24").fetch_all(p).await.unwrap());
    assert_eq!(held.len(), 24);
    let who = kernel::access::Principal {
        user_id: 1,
        username: "cq.bureau".into(),
        role: kernel::access::Role::Bureau,
        scope: kernel::access::Scope::Division("50".into()),
    };
    let asked: Vec<&str> = held
        .iter()
        .map(|(no,)| no.as_str())
        .chain(["G510000000000000000"]) // nobody holds it
        .collect();
    let calls: Vec<_> = asked
        .iter()
        .map(|no| {
            let (federation, who, no) = (federation.clone(), who.clone(), no.to_string());
            tokio::spawn(async move {
                let kind = federation::IdentifierKind::StudentNo;
                exchange::call::lookup_student(&federation, &who, kind, &no, PURPOSE).await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for call in calls {
        outcomes.push(call.await.unwrap());
    }
    let mut message_ids = std::collections::BTreeSet::new();
    for (no, outcome) in asked.iter().zip(&outcomes) {
        let outcome = outcome.as_ref().unwrap();
        assert!(
            outcome.unanswered.is_empty(),
            "{no}: {:?}",
            outcome.unanswered
        );
        match &outcome.found {
            Some(found) => {
                assert_eq!(
                    found.record["student_no"], *no,
                    "each look-up gets its own record"
                );
                assert_eq!(found.source, "SC");
                assert!(
                    found.record.get("citizen_id").is_none(),
                    "minimised: {}",
                    found.record
                );
                message_ids.insert(found.message_id.clone());
            }
            None => assert_eq!(*no, "G510000000000000000"),
        }
    }
    let sent = count(
        &pair.cq.db,
        "SELECT COUNT(*) FROM federation_messages WHERE direction = 'sent'",
    )
    .await;
    let received = count(
        &pair.sc.db,
        "SELECT COUNT(*) FROM federation_messages WHERE direction = 'received'",
    )
    .await;
    assert_eq!(sent, received);
    assert!(
        sent < asked.len() as i64,
        "{} look-ups in {sent} exchanges",
        asked.len()
    );
    assert!(message_ids.len() as i64 <= sent);
    // One access per record found, on each node, each naming the exchange that carried it.
    for (db, actor) in [(&pair.cq.db, "cq.bureau"), (&pair.sc.db, "CQ:cq.bureau")] {
        let accesses: Vec<(String, String, String)> = platform::on_db!(db, p => sqlx::query_as(
            "SELECT actor, subject, detail FROM audit_log WHERE action = 'student.read.federated' ORDER BY subject")
            .fetch_all(p).await.unwrap());
        assert_eq!(accesses.len(), held.len());
        for ((a, subject, detail), (no,)) in accesses.iter().zip(&held) {
            assert_eq!((a.as_str(), subject), (actor, no));
            let detail: Value = serde_json::from_str(detail).unwrap();
            assert!(
                message_ids.contains(detail["message_id"].as_str().unwrap()),
                "{detail}"
            );
        }
        assert_eq!(
            platform::audit::verify(db).await.unwrap().first_broken,
            None
        );
    }
    let directory = pair.directory();
    for id in &message_ids {
        for db in [&pair.cq.db, &pair.sc.db] {
            let logged = exchange::log::evidence(db, id).await.unwrap();
            assert_eq!(logged.len(), 1);
            verify_evidence(&logged[0], &directory).unwrap();
        }
    }
    pair.stop().await;
}

async fn refusals(engine: Engine) {
    let Some(pair) = Pair::start(engine).await else {
        return;
    };
    let no = pair.sc.account("student").person_key.clone().unwrap();
    let body = lookup_body(&pair, &no);
    let now = OffsetDateTime::now_utc();
    let refused_before = count(
        &pair.sc.db,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'federation.refused'",
    )
    .await;

    // A correctly signed request is answered (the baseline the refusals differ from).
    assert_eq!(
        send_signed(&pair, PURPOSE, &body, now, |_| {}).await,
        (200, String::new())
    );
    // Unsigned.
    let unsigned = http::Request::post(pair.sc.url("/federation/v1/student.lookup"))
        .header("content-type", "application/json")
        .body(body.clone().into_bytes())
        .unwrap();
    assert_eq!(
        send(unsigned).await,
        (401, "federation.signature_missing".into())
    );
    // Body changed after signing.
    let tampered = send_signed(&pair, PURPOSE, &body, now, |r| {
        r.body_mut().push(b' ');
    });
    assert_eq!(tampered.await, (401, "federation.digest_mismatch".into()));
    // Body and digest changed together: the signature no longer matches.
    let redigested = send_signed(&pair, PURPOSE, &body, now, |r| {
        r.body_mut().push(b' ');
        let digest = httpsig::content_digest(r.body());
        r.headers_mut()
            .insert("content-digest", digest.parse().unwrap());
    });
    assert_eq!(
        redigested.await,
        (401, "federation.signature_invalid".into())
    );
    // A signed header changed after signing: the purpose.
    let header = send_signed(&pair, PURPOSE, &body, now, |r| {
        r.headers_mut()
            .insert(httpsig::PURPOSE_HEADER, "status-sharing".parse().unwrap());
    });
    assert_eq!(header.await, (401, "federation.signature_invalid".into()));
    // Too old, and from the future.
    let old = send_signed(
        &pair,
        PURPOSE,
        &body,
        now - time::Duration::minutes(6),
        |_| {},
    );
    assert_eq!(old.await, (401, "federation.created_out_of_window".into()));
    let future = send_signed(
        &pair,
        PURPOSE,
        &body,
        now + time::Duration::minutes(6),
        |_| {},
    );
    assert_eq!(
        future.await,
        (401, "federation.created_out_of_window".into())
    );
    // Replayed: the same signed request twice.
    let mut req = http::Request::post(pair.sc.url("/federation/v1/student.lookup"))
        .header("content-type", "application/json")
        .body(body.clone().into_bytes())
        .unwrap();
    httpsig::sign_request(&mut req, &pair.cq_signer(), PURPOSE, now).unwrap();
    let copy = {
        let mut c = http::Request::post(req.uri().clone())
            .body(req.body().clone())
            .unwrap();
        *c.headers_mut() = req.headers().clone();
        c
    };
    assert_eq!(send(req).await.0, 200);
    assert_eq!(send(copy).await, (401, "federation.nonce_replayed".into()));
    // Signed by a key the directory does not list.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let mut req = http::Request::post(pair.sc.url("/federation/v1/student.lookup"))
        .body(body.clone().into_bytes())
        .unwrap();
    let signer = NodeSigner::new("CQ#stranger", stranger).unwrap();
    httpsig::sign_request(&mut req, &signer, PURPOSE, now).unwrap();
    assert_eq!(send(req).await, (401, "federation.key_unknown".into()));
    // A purpose the directory does not allow for this service.
    let other = send_signed(&pair, "employment", &body, now, |_| {});
    assert_eq!(other.await, (403, "federation.not_allowed".into()));
    // No look-ups, and more than one exchange may carry.
    let empty = send_signed(&pair, PURPOSE, r#"{"lookups": []}"#, now, |_| {});
    assert_eq!(empty.await, (400, "federation.body_invalid".into()));
    let one: Value = serde_json::from_str(&body).unwrap();
    let too_many = serde_json::json!({
        "lookups": vec![one["lookups"][0].clone(); exchange::serve::MAX_LOOKUPS + 1]
    })
    .to_string();
    let too_many = send_signed(&pair, PURPOSE, &too_many, now, |_| {});
    assert_eq!(too_many.await, (400, "federation.body_invalid".into()));
    // A service the node does not offer.
    let mut req = http::Request::post(pair.sc.url("/federation/v1/student.delete"))
        .body(body.clone().into_bytes())
        .unwrap();
    httpsig::sign_request(&mut req, &pair.cq_signer(), PURPOSE, now).unwrap();
    assert_eq!(send(req).await, (404, "federation.service_unknown".into()));

    // Every refusal is in 四川's audit chain.
    let refused = count(
        &pair.sc.db,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'federation.refused'",
    )
    .await;
    assert_eq!(refused - refused_before, 12);
    pair.stop().await;
}

async fn peer_down_and_directory_changes(engine: Engine) {
    let Some(mut pair) = Pair::start(engine).await else {
        return;
    };
    let no = pair.sc.account("student").person_key.clone().unwrap();
    let token = pair.cq.token("cq.school").await;
    assert_eq!(lookup(&pair.cq, &token, &no, PURPOSE).await.0, 200);

    // A tampered directory is refused; the one in force stays.
    let good = std::fs::read(&pair.files.directory).unwrap();
    let text = String::from_utf8(good.clone())
        .unwrap()
        .replace("四川省教育厅", "四川省教育厅X");
    federate::publish(&pair.files.directory, text.as_bytes()).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, body) = lookup(&pair.cq, &token, &no, PURPOSE).await;
    assert_eq!(
        (status, body["source_name"].as_str()),
        (200, Some("四川省教育厅"))
    );

    // A newly signed version without the rules is picked up without a restart.
    federate::publish(&pair.files.directory, &good).unwrap();
    pair.republish(|d| d.rules.clear());
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(lookup(&pair.cq, &token, &no, PURPOSE).await.0, 404);
    let body = lookup_body(&pair, &no);
    let refused = send_signed(&pair, PURPOSE, &body, OffsetDateTime::now_utc(), |_| {});
    assert_eq!(refused.await, (403, "federation.not_allowed".into()));
    // And the rules back again, in a newer version (an older one would be a rollback).
    pair.republish(|d| d.rules = pair_rules(&good));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(lookup(&pair.cq, &token, &no, PURPOSE).await.0, 200);

    // 四川 is down: 重庆 says so instead of "not found".
    if let Some(running) = pair.sc.running.take() {
        running.stop().await.unwrap();
    }
    let (status, body) = lookup(&pair.cq, &token, &no, PURPOSE).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("federation.incomplete")),
        "{body}"
    );
    assert!(body["message"].as_str().unwrap().contains("SC"), "{body}");
    pair.stop().await;
}

fn pair_rules(signed: &[u8]) -> Vec<federation::directory::Rule> {
    let v: Value = serde_json::from_slice(signed).unwrap();
    serde_json::from_value(v["directory"]["rules"].clone()).unwrap()
}

/// 重庆 rotates its key: both keys work while the directory lists both, then only the new.
async fn key_rotation(engine: Engine) {
    let Some(pair) = Pair::start(engine).await else {
        return;
    };
    let no = pair.sc.account("student").person_key.clone().unwrap();
    let body = lookup_body(&pair, &no);
    let new_key = platform::keys::generate(&pair.work.join("CQ-2.pem")).unwrap();
    let new_kid = chuanyu::federation_cli::key_id("CQ", &new_key.verifying_key());
    let entry = federation::directory::MemberKey {
        kid: new_kid.clone(),
        public_key: federation::directory::encode_public_key(&new_key.verifying_key()),
        not_before: None,
        not_after: None,
    };
    let with_new = entry.clone();
    pair.republish(move |d| {
        let cq = d.members.iter_mut().find(|m| m.code == "CQ").unwrap();
        cq.keys.push(with_new);
    });
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let signed_by = |signer: NodeSigner| {
        let mut req = http::Request::post(pair.sc.url("/federation/v1/student.lookup"))
            .header("content-type", "application/json")
            .body(body.clone().into_bytes())
            .unwrap();
        httpsig::sign_request(&mut req, &signer, PURPOSE, OffsetDateTime::now_utc()).unwrap();
        send(req)
    };
    let new_signer = || NodeSigner::new(new_kid.clone(), new_key.clone()).unwrap();
    assert_eq!(
        signed_by(pair.cq_signer()).await.0,
        200,
        "old key during the overlap"
    );
    assert_eq!(
        signed_by(new_signer()).await.0,
        200,
        "new key during the overlap"
    );
    // The old key is withdrawn.
    pair.republish(move |d| {
        let cq = d.members.iter_mut().find(|m| m.code == "CQ").unwrap();
        cq.keys = vec![entry];
    });
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        signed_by(pair.cq_signer()).await,
        (401, "federation.key_unknown".into())
    );
    assert_eq!(signed_by(new_signer()).await.0, 200);
    pair.stop().await;
}

/// Notices go through the outbox: queued while 四川 is down, delivered exactly once when it
/// is back, a lost receipt redelivered without a duplicate, a forbidden one refused.
async fn outbox_delivers_after_an_outage(engine: Engine) {
    let Some(mut pair) = Pair::start(engine).await else {
        return;
    };
    let sc_running = pair.sc.running.take().unwrap();
    let sc_config = sc_running.state.config.clone();
    let sc_addr = sc_running.addr;
    sc_running.stop().await.unwrap();

    let notice = |i: usize| serde_json::json!({"kind": "joint-office.circular", "title": format!("通知 {i}"), "body": "川渝教育协同"});
    let mut tx = pair.cq.db.begin().await.unwrap();
    for i in 0..20 {
        exchange::outbox::enqueue(
            &mut tx,
            "SC",
            exchange::outbox::NOTICE_DELIVER,
            "notice",
            &notice(i),
        )
        .await
        .unwrap();
    }
    exchange::outbox::enqueue(
        &mut tx,
        "SC",
        exchange::outbox::NOTICE_DELIVER,
        "employment",
        &notice(99),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // While 四川 is down the messages wait, each with its reason.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let waiting = exchange::outbox::undelivered(&pair.cq.db, 100)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 21);
    assert!(
        waiting
            .iter()
            .all(|q| q.state == "pending" && q.attempts >= 1),
        "{waiting:?}"
    );
    assert!(
        waiting[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("federation.peer_unreachable")
    );

    // 四川 comes back on the same address.
    let node = chuanyu::Node::open(sc_config).await.unwrap();
    pair.sc.db = node.db.clone();
    let listener = tokio::net::TcpListener::bind(sc_addr).await.unwrap();
    pair.sc.running = Some(chuanyu::start(node, listener).unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let left = exchange::outbox::undelivered(&pair.cq.db, 100)
            .await
            .unwrap();
        if left.iter().all(|q| q.state != "pending") || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let left = exchange::outbox::undelivered(&pair.cq.db, 100)
        .await
        .unwrap();
    assert_eq!(left.len(), 1, "only the forbidden one is left: {left:?}");
    assert_eq!(left[0].state, "refused");
    assert!(
        left[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("federation.not_allowed")
    );
    let received = exchange::outbox::notices(&pair.sc.db, 100).await.unwrap();
    assert_eq!(received.len(), 20);

    // A receipt lost on the way back: the message is sent again and changes nothing.
    let again = received[0].message_id.clone();
    platform::on_db!(&pair.cq.db, p => sqlx::query(
        "UPDATE federation_outbox SET state = 'pending', next_ms = 0 WHERE message_id = $1")
        .bind(&again).execute(p).await.unwrap().rows_affected());
    exchange::outbox::deliver_due(&pair.cq.federation(), &pair.cq.db)
        .await
        .unwrap();
    assert_eq!(
        exchange::outbox::notices(&pair.sc.db, 100)
            .await
            .unwrap()
            .len(),
        20
    );
    let sent = count(&pair.cq.db, "SELECT COUNT(*) FROM federation_messages WHERE service = 'notice.deliver' AND status = 200").await;
    assert_eq!(
        sent, 21,
        "every delivery, the repeat included, has its receipt logged"
    );
    let metrics = reqwest::get(pair.cq.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("chuanyu_federation_outbox_messages{state=\"delivered\"} 20"),
        "{metrics}"
    );
    assert!(metrics.contains("chuanyu_federation_outbox_messages{state=\"refused\"} 1"));
    pair.stop().await;
}

/// A node whose directory is unsigned keeps federation off and says why.
async fn unsigned_directory_is_refused(engine: Engine) {
    let Some(pair) = Pair::start(engine).await else {
        return;
    };
    let bytes = std::fs::read(&pair.files.directory).unwrap();
    let signed: Value = serde_json::from_slice(&bytes).unwrap();
    let unsigned = serde_json::to_vec(&signed["directory"]).unwrap();
    let path = pair.work.join("unsigned.json");
    std::fs::write(&path, &unsigned).unwrap();
    let config = platform::Config {
        federation_directory: path,
        federation_governance_key: pair.files.governance_key.clone(),
        federation_index_key: pair.files.index_key.clone(),
        signing_key: pair.work.join("SC.pem"),
        ..Default::default()
    };
    let audit = platform::audit::AuditLog::start(pair.sc.db.clone());
    let federation = exchange::Federation::from_config(&config, audit)
        .unwrap()
        .unwrap();
    let e = federation
        .current()
        .err()
        .expect("an unsigned directory is refused");
    assert!(e.to_string().contains("directory_unsigned"), "{e}");
    pair.stop().await;
}

for_each_engine!(
    cross_node_lookup,
    concurrent_lookups_share_exchanges,
    refusals,
    peer_down_and_directory_changes,
    unsigned_directory_is_refused,
    key_rotation,
    outbox_delivers_after_an_outage
);
