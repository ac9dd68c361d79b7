//! What a federated exchange costs in cryptography and canonical bytes, per operation, on
//! one core, against raw Ed25519 in the same run (`cargo bench -p federation`). The
//! end-to-end cost with HTTP and both message logs is bench/federated.sh.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signer, SigningKey, Verifier as _};
use federation::directory::{Member, MemberKey, Purpose, Rule, encode_public_key};
use federation::evidence::Exchange;
use federation::httpsig::{RequestParts, Verifier, content_digest, sign_request, sign_response};
use federation::{
    BlindIndexKey, Directory, Evidence, IdentifierKind, InMemoryNonceStore, NodeSigner,
};
use http::{Request, Response};
use time::OffsetDateTime;

/// Runs `f` for about `budget` and returns microseconds per call.
fn per_call(budget: Duration, mut f: impl FnMut()) -> f64 {
    let mut n = 0u64;
    let started = Instant::now();
    while started.elapsed() < budget {
        for _ in 0..64 {
            f();
        }
        n += 64;
    }
    started.elapsed().as_secs_f64() * 1e6 / n as f64
}

fn member(code: &str, key: &SigningKey) -> Member {
    Member {
        code: code.into(),
        name: code.into(),
        base_url: format!("http://{}.example", code.to_lowercase()),
        keys: vec![MemberKey {
            kid: format!("{code}#1"),
            public_key: encode_public_key(&key.verifying_key()),
            not_before: None,
            not_after: None,
        }],
        services: vec!["student.lookup".into()],
    }
}

fn main() {
    let budget = Duration::from_millis(
        std::env::var("BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000),
    );
    let now = OffsetDateTime::now_utc();
    let (cq_key, sc_key) = (
        SigningKey::from_bytes(&[1; 32]),
        SigningKey::from_bytes(&[2; 32]),
    );
    let directory = Directory {
        version: 1,
        issued_at: now - time::Duration::days(1),
        expires_at: now + time::Duration::days(1),
        governance_key: encode_public_key(&SigningKey::from_bytes(&[3; 32]).verifying_key()),
        purposes: vec![Purpose {
            id: "transfer-verification".into(),
            name: "转学核验".into(),
            name_en: None,
        }],
        members: vec![member("CQ", &cq_key), member("SC", &sc_key)],
        rules: vec![Rule {
            caller: "CQ".into(),
            callee: "SC".into(),
            service: "student.lookup".into(),
            purpose: "transfer-verification".into(),
            fields: vec!["name".into()],
        }],
    };
    let cq = NodeSigner::new("CQ#1", cq_key.clone()).unwrap();
    let sc = NodeSigner::new("SC#1", sc_key.clone()).unwrap();
    // An exchange of one look-up (`exchange::serve::LookupRequest`).
    let body = br#"{"lookups":[{"kind":"student-no","index":"xbq1y2mG7o3gU2cM0N5P2lD6c0PQw1uMzD0vK8yq9qE","actor":{"username":"cq.school","role":"school-admin"}}]}"#.to_vec();
    let answer = vec![b'x'; 700]; // about the size of a minimised record
    let new_request = || {
        Request::post("http://sc.example/federation/v1/student.lookup")
            .body(body.clone())
            .unwrap()
    };
    let mut signed = new_request();
    sign_request(&mut signed, &cq, "transfer-verification", now).unwrap();
    let mut response = Response::new(answer.clone());
    sign_response(&mut response, &RequestParts::from(&signed), &sc, now).unwrap();
    let message = [7u8; 200];
    let raw_signature = cq_key.sign(&message);
    let index_key = BlindIndexKey::from_bytes([9; 32]);

    let rows: Vec<(&str, f64)> = vec![
        (
            "raw Ed25519 sign (200 B)",
            per_call(budget, || {
                black_box(cq_key.sign(black_box(&message)));
            }),
        ),
        (
            "raw Ed25519 verify (200 B)",
            per_call(budget, || {
                black_box(
                    cq_key
                        .verifying_key()
                        .verify(black_box(&message), &raw_signature),
                )
                .ok();
            }),
        ),
        (
            "Content-Digest of a 700 B body",
            per_call(budget, || {
                black_box(content_digest(black_box(&answer)));
            }),
        ),
        (
            "blind index (HMAC-SHA256)",
            per_call(budget, || {
                black_box(
                    index_key.index(IdentifierKind::StudentNo, black_box("G510118201001214191")),
                );
            }),
        ),
        (
            "sign a request (digest + base + Ed25519)",
            per_call(budget, || {
                let mut r = new_request();
                black_box(sign_request(&mut r, &cq, "transfer-verification", now)).ok();
            }),
        ),
        (
            "verify a request (fresh nonce store)",
            per_call(budget, || {
                // A new store each time: the same signed request would be a replay otherwise.
                let nonces = InMemoryNonceStore::new(time::Duration::minutes(5));
                black_box(Verifier::new(&directory).verify_request(&signed, None, &nonces, now))
                    .ok();
            }),
        ),
        (
            "sign a response bound to the request",
            per_call(budget, || {
                let mut r = Response::new(answer.clone());
                black_box(sign_response(
                    &mut r,
                    &RequestParts::from(&signed),
                    &sc,
                    now,
                ))
                .ok();
            }),
        ),
        (
            "verify a response against the request",
            per_call(budget, || {
                black_box(Verifier::new(&directory).verify_response(
                    &response,
                    &RequestParts::from(&signed),
                    "SC",
                    now,
                ))
                .ok();
            }),
        ),
        (
            "capture evidence + JSON",
            per_call(budget, || {
                let e = Evidence::capture(
                    Exchange {
                        message_id: "m",
                        time: now,
                        caller: "CQ",
                        callee: "SC",
                        service: "student.lookup",
                    },
                    &signed,
                    None,
                    &response,
                    false,
                )
                .unwrap();
                black_box(serde_json::to_string(&e).unwrap());
            }),
        ),
    ];
    let sign = rows[0].1;
    let verify = rows[1].1;
    println!(
        "{:<44} {:>10} {:>12} {:>22}",
        "operation", "µs/op", "ops/s", "vs raw Ed25519 op"
    );
    for (name, us) in &rows {
        let reference = if name.contains("verify") {
            verify
        } else {
            sign
        };
        println!(
            "{name:<44} {us:>10.2} {:>12.0} {:>21.2}×",
            1e6 / us,
            reference / us
        );
    }
    // Both sides of one exchange: the caller signs a request and verifies a response, the
    // callee verifies a request and signs a response; each captures evidence.
    let total = rows[4].1 + rows[5].1 + rows[6].1 + rows[7].1 + 2.0 * rows[8].1 + rows[3].1;
    println!("one exchange, both sides, crypto and evidence only: {total:.1} µs of CPU");
}
