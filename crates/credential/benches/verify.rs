//! Offline credential verification on one core against raw Ed25519 over the very same
//! messages (`cargo bench -p credential --bench verify`). DESIGN.md §7 asks for at least
//! 0.7× the raw verify rate.
//!
//! (a) `verify_strict` over each credential's 64-byte hashData and signature;
//! (b) `Verifier::verify` of the parsed credential, with an in-memory status source holding
//!     the decoded lists (as the CLI does: each list fetched, checked and decoded once);
//! (c) `Verifier::verify_bytes` from the file bytes (parsing included).
//!
//! Rounds interleave (a), (b) and (c) chunk by chunk so they share the machine's noise;
//! the figures are medians over rounds (with the best round, the least disturbed, in
//! brackets), the ratios medians of the per-round ratios (and the ratio of best rounds).
//! `BENCH_N` (2000) and `BENCH_ROUNDS` (15) override the defaults.

use std::hint::black_box;
use std::time::Instant;

use credential::did;
use credential::proof::{self, PreparedProof};
use credential::status::{self, BitstringStatusList, StatusPurpose};
use credential::trust::TrustBundle;
use credential::verify::{FetchedList, InMemoryStatus, Verifier};
use ed25519_dalek::SigningKey;
use federation::directory::{Directory, Member, MemberKey, encode_public_key};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2025-03-01 0:00 UTC);
const BASE: &str = "http://127.0.0.1:8081";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn list_url(purpose: StatusPurpose) -> String {
    format!("{BASE}/credentials/status/{}/0", purpose.as_str())
}

/// A teacher qualification certificate as the issuing service writes it.
fn teacher_credential(issuer_did: &str, i: usize) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": format!("{BASE}/credentials/2024510012{i:07}"),
        "type": ["VerifiableCredential", "TeacherQualificationCredential"],
        "issuer": {"id": issuer_did, "name": "四川省教育厅"},
        "validFrom": "2024-07-01T00:00:00Z",
        "name": "教师资格证书",
        "credentialSubject": {
            "type": "TeacherQualification",
            "name": "张三",
            "sex": "男",
            "certificateNumber": format!("2024510012{i:07}"),
            "qualification": "高级中学教师资格",
            "subject": "数学",
            "certifyingBody": "四川省教育厅",
            "issueDate": "2024-07-01"
        },
        "credentialStatus": [
            status::status_entry(&list_url(StatusPurpose::Revocation), StatusPurpose::Revocation, i as u64),
            status::status_entry(&list_url(StatusPurpose::Suspension), StatusPurpose::Suspension, i as u64),
        ]
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let n = env("BENCH_N", 2000);
    let rounds = env("BENCH_ROUNDS", 15).max(1);

    let key = SigningKey::from_bytes(&[1; 32]);
    let vk = key.verifying_key();
    let vm = did::verification_method(&vk);
    let issuer_did = did::did_key(&vk);
    let directory = Directory {
        version: 1,
        issued_at: NOW - time::Duration::days(30),
        expires_at: NOW + time::Duration::days(30),
        governance_key: encode_public_key(&SigningKey::from_bytes(&[9; 32]).verifying_key()),
        purposes: vec![],
        members: vec![Member {
            code: "SC".into(),
            name: "四川省教育厅".into(),
            base_url: BASE.into(),
            keys: vec![MemberKey {
                kid: "sc-1".into(),
                public_key: encode_public_key(&vk),
                not_before: None,
                not_after: None,
            }],
            services: vec![],
        }],
        rules: vec![],
    };
    let bundle = TrustBundle::from_directory(&directory, NOW);

    // Status lists: signed, then checked and decoded once, as the CLI caches them.
    let mut source = InMemoryStatus::new();
    for purpose in [StatusPurpose::Revocation, StatusPurpose::Suspension] {
        let mut list = BitstringStatusList::default();
        // Some other credentials revoked/suspended; none of the benchmarked ones.
        for i in (n..n + 500).step_by(7) {
            list.set(i, true);
        }
        let unsigned = status::status_list_credential(
            &list_url(purpose),
            &json!(issuer_did),
            purpose,
            &list,
            NOW - time::Duration::hours(1),
            NOW + time::Duration::days(1),
        );
        let signed = proof::sign(&unsigned, &key, &vm, NOW - time::Duration::hours(1)).unwrap();
        source.insert(FetchedList::from_credential(&signed, &bundle, NOW).unwrap());
    }

    let docs: Vec<Value> = (0..n)
        .map(|i| {
            proof::sign(
                &teacher_credential(&issuer_did, i),
                &key,
                &vm,
                NOW - time::Duration::days(1),
            )
            .unwrap()
        })
        .collect();
    let files: Vec<Vec<u8>> = docs
        .iter()
        .map(|d| serde_json::to_vec_pretty(d).unwrap())
        .collect();
    let messages: Vec<([u8; 64], ed25519_dalek::Signature)> = docs
        .iter()
        .map(|d| {
            let p = PreparedProof::new(d).unwrap();
            (*p.hash_data(), *p.signature())
        })
        .collect();
    let verifier = Verifier::new(bundle, NOW);

    // Everything verifies before anything is timed.
    for ((doc, file), (hash, sig)) in docs.iter().zip(&files).zip(&messages) {
        assert!(vk.verify_strict(hash, sig).is_ok());
        let report = verifier.verify(doc, &source);
        assert!(report.ok && report.status.as_str() == "valid", "{report:?}");
        assert!(verifier.verify_bytes(file, &source).ok);
    }

    // Each round walks the credentials in chunks and times (a), (b) and (c) on every chunk
    // in turn, so a burst of load from elsewhere lands on all three alike.
    const CHUNK: usize = 50;
    let (mut raw, mut parsed, mut bytes) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let mut secs = [0f64; 3];
        let mut ok = [0usize; 3];
        for start in (0..n).step_by(CHUNK) {
            let range = start..(start + CHUNK).min(n);
            let t = Instant::now();
            ok[0] += messages[range.clone()]
                .iter()
                .filter(|(h, s)| black_box(&vk).verify_strict(black_box(h), s).is_ok())
                .count();
            secs[0] += t.elapsed().as_secs_f64();
            let t = Instant::now();
            ok[1] += docs[range.clone()]
                .iter()
                .filter(|d| verifier.verify(black_box(d), &source).ok)
                .count();
            secs[1] += t.elapsed().as_secs_f64();
            let t = Instant::now();
            ok[2] += files[range]
                .iter()
                .filter(|f| verifier.verify_bytes(black_box(f), &source).ok)
                .count();
            secs[2] += t.elapsed().as_secs_f64();
        }
        assert_eq!(ok, [n; 3]);
        raw.push(n as f64 / secs[0]);
        parsed.push(n as f64 / secs[1]);
        bytes.push(n as f64 / secs[2]);
    }
    let ratio = |x: &[f64]| median(x.iter().zip(&raw).map(|(x, a)| x / a).collect());
    let best = |x: &[f64]| x.iter().copied().fold(0.0, f64::max);
    let avg_file = files.iter().map(Vec::len).sum::<usize>() / n;

    println!(
        "# credential verification, one thread, n={n} credentials (avg file {avg_file} bytes), \
         {rounds} rounds; rates are medians (best round in brackets), ratios medians of per-round ratios"
    );
    println!(
        "raw_ed25519_verify_strict_per_s {:.0} [{:.0}]",
        median(raw.clone()),
        best(&raw)
    );
    println!(
        "verifier_verify_parsed_per_s {:.0} [{:.0}]",
        median(parsed.clone()),
        best(&parsed)
    );
    println!(
        "verifier_verify_bytes_per_s {:.0} [{:.0}]",
        median(bytes.clone()),
        best(&bytes)
    );
    println!(
        "ratio_parsed_vs_raw {:.3} [{:.3}]",
        ratio(&parsed),
        best(&parsed) / best(&raw)
    );
    println!(
        "ratio_bytes_vs_raw {:.3} [{:.3}]",
        ratio(&bytes),
        best(&bytes) / best(&raw)
    );
}
