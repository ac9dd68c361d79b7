//! The exactly-one-owner guarantee under crashes: two `chuanyu serve` processes (重庆 and
//! 四川) run many transfers at once while a killer sends SIGKILL to either node at random
//! moments and restarts it. Each transfer is driven from outside, as people would, retrying
//! whatever a dead node did not answer; some are rejected by the sending school and some
//! cancelled by the applicant just as the sending bureau approves (the race the handoff's
//! decline resolves). At the end `chuanyu check transfers` must report zero violations and
//! every transfer ended.
//!
//! `CHUANYU_FAULT_TRANSFERS` sets how many (default 1000).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chuanyu::federate::{self, Peer};
use chuanyu::seed::{self, DemoAccount};
use kernel::access::Role;
use rand::Rng;
use serde_json::{Value, json};
use synth::{Province, Spec};

use crate::for_each_engine;
use crate::support::{Engine, PASSWORD, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_chuanyu");

/// One node process, restartable.
struct Proc {
    config: PathBuf,
    log: PathBuf,
    child: Mutex<Option<Child>>,
}

impl Proc {
    fn start(&self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(BIN)
            .args(["serve", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        *self.child.lock().unwrap() = Some(child);
    }

    fn kill(&self) {
        if let Some(mut c) = self.child.lock().unwrap().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[derive(Clone)]
struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    async fn call(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Option<(u16, Value)> {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.ok()?;
        let status = r.status().as_u16();
        Some((status, r.json().await.unwrap_or(Value::Null)))
    }

    async fn get(&self, token: &str, path: &str) -> Option<(u16, Value)> {
        self.call(token, reqwest::Method::GET, path, None).await
    }

    async fn decide(&self, token: &str, id: &str, decision: &str) -> Option<(u16, Value)> {
        let body = json!({"decision": decision, "reason": "测试理由"});
        self.call(
            token,
            reqwest::Method::POST,
            &format!("/api/v1/transfers/{id}/decisions"),
            Some(body),
        )
        .await
    }

    /// A token, retried while the node is down.
    async fn token(&self, username: &str) -> String {
        loop {
            let r = self
                .client
                .post(format!("{}/api/v1/auth/token", self.base))
                .json(&json!({"username": username, "password": PASSWORD}))
                .send()
                .await;
            if let Ok(r) = r
                && r.status() == 200
            {
                let body: Value = r.json().await.unwrap();
                return body["token"].as_str().unwrap().to_owned();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Plan {
    Complete,
    /// The sending school rejects.
    Reject,
    /// The applicant cancels as the sending district approves.
    CancelLate,
}

struct Tokens {
    cq_school: String,
    cq_district: String,
    /// By school code and by the school's county.
    sc_school: std::collections::HashMap<String, String>,
    sc_district: std::collections::HashMap<String, String>,
}

/// Drives one transfer to its end; returns how it ended on 重庆's side.
async fn drive(
    cq: &Api,
    sc: &Api,
    tokens: &Tokens,
    no: &str,
    school: &str,
    plan: Plan,
) -> Result<String, String> {
    let started = Instant::now();
    let mut id: Option<String> = None;
    loop {
        if started.elapsed() > Duration::from_secs(900) {
            return Err(format!("{no}: not ended after 15 minutes (id {id:?})"));
        }
        tokio::time::sleep(Duration::from_millis(60)).await;
        let Some(tid) = id.clone() else {
            let body = json!({"student_no": no, "to_grade": "八年级", "reason": "随迁", "documents": "户口簿"});
            match cq
                .call(
                    &tokens.cq_school,
                    reqwest::Method::POST,
                    "/api/v1/transfers",
                    Some(body),
                )
                .await
            {
                Some((201, b)) => id = b["id"].as_str().map(str::to_owned),
                // Applied before, the answer lost to a kill: find it.
                Some((409, b)) if b["code"] == "transfer.not_applicable" => {
                    if let Some((200, list)) = cq
                        .get(
                            &tokens.cq_school,
                            &format!("/api/v1/transfers?student_no={no}"),
                        )
                        .await
                    {
                        id = list
                            .as_array()
                            .and_then(|l| l.first())
                            .and_then(|t| t["id"].as_str())
                            .map(str::to_owned);
                    }
                }
                Some((409, b)) if b["code"] == "transfer.peer_unavailable" => {}
                Some((status, b)) if status < 500 => {
                    return Err(format!("{no}: apply answered {status}: {b}"));
                }
                _ => {}
            }
            continue;
        };
        let Some((200, copy)) = cq
            .get(&tokens.cq_school, &format!("/api/v1/transfers/{tid}"))
            .await
        else {
            continue;
        };
        let state = copy["state"].as_str().unwrap_or_default().to_owned();
        let step = copy["step"].as_str().unwrap_or_default().to_owned();
        match (state.as_str(), step.as_str()) {
            ("completed" | "rejected" | "cancelled", _) => return Ok(state),
            ("arrived", _) => {
                cq.decide(&tokens.cq_school, &tid, "confirm").await;
            }
            ("pending", "receiving-district") => {
                cq.decide(&tokens.cq_district, &tid, "approve").await;
            }
            ("pending", _) => {
                let Some((200, theirs)) = sc
                    .get(
                        &tokens.sc_school[school],
                        &format!("/api/v1/transfers/{tid}"),
                    )
                    .await
                else {
                    continue;
                };
                let from_division = theirs["from_division"].as_str().unwrap_or_default();
                match (theirs["state"].as_str(), theirs["step"].as_str(), plan) {
                    (Some("pending"), Some("sending-school"), Plan::Reject) => {
                        sc.decide(&tokens.sc_school[school], &tid, "reject").await;
                    }
                    (Some("pending"), Some("sending-school"), _) => {
                        sc.decide(&tokens.sc_school[school], &tid, "approve").await;
                    }
                    (Some("pending"), Some("sending-district"), plan) => {
                        let district = &tokens.sc_district[from_division];
                        let approve = sc.decide(district, &tid, "approve");
                        if let Plan::CancelLate = plan {
                            let cancel = cq.decide(&tokens.cq_school, &tid, "cancel");
                            tokio::join!(approve, cancel);
                        } else {
                            approve.await;
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

fn write_config(
    path: &Path,
    member: &str,
    name: &str,
    port: u16,
    db: &str,
    f: &federate::Files,
    key: &Path,
) {
    let text = format!(
        "member = \"{member}\"\nname = \"{name}\"\nlisten = \"127.0.0.1:{port}\"\n\
         data_dir = \"{data}\"\ndatabase_url = \"{db}\"\nsigning_key = \"{key}\"\n\
         federation_directory = \"{dir}\"\nfederation_governance_key = \"{gov}\"\n\
         federation_index_key = \"{index}\"\ndb_max_connections = 8\nlogin_attempts_per_minute = 100000\n",
        data = path.parent().unwrap().join(member).display(),
        key = key.display(),
        dir = f.directory.display(),
        gov = f.governance_key,
        index = f.index_key.display(),
    );
    std::fs::write(path, text).unwrap();
}

async fn sigkill_both_nodes(engine: Engine) {
    let Some(cq_db) = TestDb::create(engine).await else {
        return;
    };
    let Some(sc_db) = TestDb::create(engine).await else {
        return;
    };
    let wanted: usize = std::env::var("CHUANYU_FAULT_TRANSFERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let work = cq_db.dir.join("fault");
    std::fs::create_dir_all(&work).unwrap();
    let (cq_port, sc_port) = (free_port(), free_port());
    let peers = [
        Peer {
            code: "CQ".into(),
            name: "重庆市教育委员会".into(),
            base_url: format!("http://127.0.0.1:{cq_port}"),
            signing_key: work.join("CQ.pem"),
        },
        Peer {
            code: "SC".into(),
            name: "四川省教育厅".into(),
            base_url: format!("http://127.0.0.1:{sc_port}"),
            signing_key: work.join("SC.pem"),
        },
    ];
    let files = federate::write(&work, &peers, 30).unwrap();
    let cq_config = work.join("cq.toml");
    let sc_config = work.join("sc.toml");
    write_config(
        &cq_config,
        "CQ",
        "重庆",
        cq_port,
        &cq_db.url,
        &files,
        &peers[0].signing_key,
    );
    write_config(
        &sc_config,
        "SC",
        "四川",
        sc_port,
        &sc_db.url,
        &files,
        &peers[1].signing_key,
    );

    // Seed both nodes in-process, then hand them to their processes.
    let cq_spec = crate::support::spec_of(Province::CQ);
    let sc_spec = Spec {
        students: wanted as u64 * 13 / 10 + 100,
        ..crate::support::spec_of(Province::SC)
    };
    let mut sc_accounts = Vec::new();
    for (config, spec) in [(&cq_config, &cq_spec), (&sc_config, &sc_spec)] {
        let node = chuanyu::Node::open(platform::Config::load(Some(config)).unwrap())
            .await
            .unwrap();
        seed::synthetic(
            &node.db,
            spec,
            "test",
            &work.join(format!("seed-{}", spec.province.tag())),
            &indicatif::ProgressBar::hidden(),
        )
        .await
        .unwrap();
        let mut accounts = seed::demo_accounts(spec);
        if spec.province == Province::SC {
            let schools = synth::schools(spec);
            for school in &schools {
                for (name, role, org) in [
                    (
                        format!("sc.s.{}", school.code),
                        Role::SchoolAdmin,
                        school.code.clone(),
                    ),
                    (
                        format!("sc.d.{}", school.division_code),
                        Role::Bureau,
                        format!("B{}", school.division_code),
                    ),
                ] {
                    if accounts.iter().any(|a: &DemoAccount| a.username == name) {
                        continue;
                    }
                    accounts.push(DemoAccount {
                        username: name,
                        what: "fault test",
                        role,
                        display_name: "测试".into(),
                        org_code: Some(org),
                        person_key: None,
                    });
                }
            }
            sc_accounts = schools;
        }
        seed::create_accounts(&node.db, &accounts, PASSWORD)
            .await
            .unwrap();
        node.db.close().await;
    }
    // The students to move: active ones, with their schools.
    let students: Vec<(String, String)> = {
        let node = chuanyu::Node::open(platform::Config::load(Some(&sc_config)).unwrap())
            .await
            .unwrap();
        let rows: Vec<(String, String)> = platform::on_db!(&node.db, p => sqlx::query_as(
            "SELECT student_no, school_code FROM students WHERE status IN ('在读', '转入') \
             ORDER BY student_no LIMIT $1").bind(wanted as i64).fetch_all(p).await.unwrap());
        node.db.close().await;
        rows
    };
    assert_eq!(students.len(), wanted, "enough active students in 四川");

    let cq = Arc::new(Proc {
        config: cq_config.clone(),
        log: work.join("cq.log"),
        child: Mutex::new(None),
    });
    let sc = Arc::new(Proc {
        config: sc_config.clone(),
        log: work.join("sc.log"),
        child: Mutex::new(None),
    });
    cq.start();
    sc.start();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let cq_api = Api {
        base: format!("http://127.0.0.1:{cq_port}"),
        client: client.clone(),
    };
    let sc_api = Api {
        base: format!("http://127.0.0.1:{sc_port}"),
        client,
    };
    let mut tokens = Tokens {
        cq_school: cq_api.token("cq.school").await,
        cq_district: cq_api.token("cq.district").await,
        sc_school: Default::default(),
        sc_district: Default::default(),
    };
    for school in &sc_accounts {
        let t = sc_api.token(&format!("sc.s.{}", school.code)).await;
        tokens.sc_school.insert(school.code.clone(), t);
        if !tokens.sc_district.contains_key(&school.division_code) {
            let t = sc_api
                .token(&format!("sc.d.{}", school.division_code))
                .await;
            tokens.sc_district.insert(school.division_code.clone(), t);
        }
    }
    let tokens = Arc::new(tokens);
    // 四川's blind index is built by its first pass after start; wait for it to find the
    // last student before applying.
    let last = &students[students.len() - 1].0;
    let ready = Instant::now();
    while cq_api
        .get(
            &tokens.cq_school,
            &format!("/api/v1/students/{last}?purpose=transfer-verification"),
        )
        .await
        .map(|(s, _)| s)
        != Some(200)
    {
        assert!(
            ready.elapsed() < Duration::from_secs(60),
            "四川's index never answered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The killer: SIGKILL one node at a random moment, restart it a moment later.
    let done = Arc::new(AtomicBool::new(false));
    let kills = Arc::new(AtomicUsize::new(0));
    let killer = {
        let (cq, sc, done, kills) = (cq.clone(), sc.clone(), done.clone(), kills.clone());
        std::thread::spawn(move || {
            let mut rng = rand::thread_rng();
            while !done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(rng.gen_range(700..2500)));
                if done.load(Ordering::SeqCst) {
                    break;
                }
                let victim = if rng.gen_bool(0.5) { &cq } else { &sc };
                victim.kill();
                kills.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(rng.gen_range(0..600)));
                victim.start();
            }
        })
    };

    let started = Instant::now();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(48));
    let mut tasks = Vec::new();
    for (i, (no, school)) in students.into_iter().enumerate() {
        let plan = match i % 10 {
            3 => Plan::Reject,
            7 => Plan::CancelLate,
            _ => Plan::Complete,
        };
        let (cq_api, sc_api, tokens, semaphore) = (
            cq_api.clone(),
            sc_api.clone(),
            tokens.clone(),
            semaphore.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let _permit = semaphore.acquire().await.unwrap();
            drive(&cq_api, &sc_api, &tokens, &no, &school, plan).await
        }));
    }
    let mut ended = std::collections::BTreeMap::<String, usize>::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(state) => *ended.entry(state).or_default() += 1,
            Err(e) => {
                done.store(true, Ordering::SeqCst);
                panic!("{e}");
            }
        }
    }
    done.store(true, Ordering::SeqCst);
    killer.join().unwrap();
    let driven = started.elapsed();

    // Both nodes up; let the last messages settle (the sending copies end once their
    // answers arrive), then stop both and compare.
    for p in [&cq, &sc] {
        if p.child.lock().unwrap().is_none() {
            p.start();
        }
    }
    let settle = Instant::now();
    let report = loop {
        let out = Command::new(BIN)
            .args(["check", "transfers", "--json", "--node"])
            .arg(&cq_config)
            .arg("--node")
            .arg(&sc_config)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        if report["open"] == 0 || settle.elapsed() > Duration::from_secs(120) {
            break report;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    cq.kill();
    sc.kill();
    eprintln!(
        "fault test ({engine:?}): {wanted} transfers in {:.0} s, {} kills; ended on 重庆 {:?}; check: {}",
        driven.as_secs_f64(),
        kills.load(Ordering::SeqCst),
        ended,
        report
    );
    assert_eq!(report["violations"], json!([]), "{report}");
    assert_eq!(report["transfers"], wanted, "{report}");
    assert_eq!(report["ended"], wanted, "{report}");
    assert!(kills.load(Ordering::SeqCst) >= 3, "the killer ran");
    let out = Command::new(BIN)
        .args(["check", "transfers", "--node"])
        .arg(&cq_config)
        .arg("--node")
        .arg(&sc_config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

for_each_engine!(sigkill_both_nodes);
