//! `chuanyu federation …` as the joint office runs it: the real binary on temporary
//! workspaces; what it publishes is checked with `federation::directory::verify`, as a node
//! checks it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use federation::directory::{self, encode_public_key};
use serde_json::Value;

use crate::support::{Engine, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_chuanyu");

const CQ_FIELDS: &str = "student_no,name,sex,birth_date,school_code,grade,status";

fn chuanyu(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("CHUANYU_CONFIG")
        .output()
        .expect("run chuanyu")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn ok(args: &[&str]) -> String {
    let out = chuanyu(args);
    assert!(
        out.status.success(),
        "chuanyu {args:?} failed ({:?}):\n{}\n{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// Runs a command that must fail with `exit`, and returns its standard error.
#[track_caller]
fn fails(args: &[&str], exit: i32) -> String {
    let out = chuanyu(args);
    assert_eq!(
        out.status.code(),
        Some(exit),
        "chuanyu {args:?}:\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    stderr(&out)
}

/// A temporary directory, removed afterwards (through `TestDb`'s drop).
async fn temp() -> TestDb {
    TestDb::create(Engine::Sqlite).await.expect("temp dir")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `chuanyu federation show <path>`, checked against the governance key.
fn show_with_key<'a>(path: &'a Path, governance_key: &'a str) -> [&'a str; 5] {
    [
        "federation",
        "show",
        s(path),
        "--governance-key",
        governance_key,
    ]
}

/// `chuanyu federation add-member --dir <ws> --code <code>`, then `rest`.
fn add_member_args<'a>(ws: &'a Path, code: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["federation", "add-member", "--dir", s(ws), "--code", code];
    args.extend_from_slice(rest);
    args
}

/// `chuanyu federation allow --dir <ws>` for the rule (caller, callee, service, purpose),
/// then `rest` (`--fields …` or `--remove`).
fn allow_args<'a>(
    ws: &'a Path,
    [caller, callee, service, purpose]: [&'a str; 4],
    rest: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "federation",
        "allow",
        "--dir",
        s(ws),
        "--caller",
        caller,
        "--callee",
        callee,
        "--service",
        service,
        "--purpose",
        purpose,
    ];
    args.extend_from_slice(rest);
    args
}

/// Allows the rule (caller, callee, service, purpose) to see `fields`; returns the output.
#[track_caller]
fn allow(ws: &Path, rule: [&str; 4], fields: &str) -> String {
    ok(&allow_args(ws, rule, &["--fields", fields]))
}

/// The rules of both test workspaces: CQ may look up SC's students for transfer
/// verification, SC everyone's for status sharing (name and status).
const CQ_TO_SC: [&str; 4] = ["CQ", "SC", "student.lookup", "transfer-verification"];
const SC_TO_ALL: [&str; 4] = ["SC", "*", "student.lookup", "status-sharing"];

/// Adds CQ (重庆市教育委员会 at http://127.0.0.1:8080, its key from a node key file) and
/// SC (四川省教育厅: `sc_code` as typed, then `sc_rest`: URL, key, services…) to the
/// workspace, and the rules [`CQ_TO_SC`] and [`SC_TO_ALL`].
#[track_caller]
fn two_member_workspace(ws: &Path, cq_node_key: &Path, sc_code: &str, sc_rest: &[&str]) {
    ok(&add_member_args(
        ws,
        "CQ",
        &[
            "--name",
            "重庆市教育委员会",
            "--url",
            "http://127.0.0.1:8080",
            "--node-key",
            s(cq_node_key),
        ],
    ));
    ok(&add_member_args(
        ws,
        sc_code,
        &[&["--name", "四川省教育厅"], sc_rest].concat(),
    ));
    allow(ws, CQ_TO_SC, CQ_FIELDS);
    allow(ws, SC_TO_ALL, "name,status");
}

/// A workspace with CQ and SC and one rule each way; returns the governance key, CQ's key
/// file and SC's public key.
fn workspace(ws: &Path, keys: &Path) -> (String, PathBuf, String) {
    let out = ok(&["federation", "init", "--dir", s(ws)]);
    let gov = governance_key_of(&out);
    let cq_pem = keys.join("cq.pem");
    platform::keys::generate(&cq_pem).unwrap();
    let sc_key = encode_public_key(
        &platform::keys::generate(&keys.join("sc.pem"))
            .unwrap()
            .verifying_key(),
    );
    two_member_workspace(
        ws,
        &cq_pem,
        "sc",
        &[
            "--url",
            "http://127.0.0.1:8090/",
            "--public-key",
            &sc_key,
            "--service",
            "student.lookup",
            "--service",
            "teacher-cert.verify",
        ],
    );
    (gov, cq_pem, sc_key)
}

fn governance_key_of(init_output: &str) -> String {
    let line = init_output
        .lines()
        .find(|l| l.starts_with("治理公钥 governance public key: "))
        .expect("init prints the governance key");
    let key = line.rsplit(' ').next().unwrap().to_owned();
    assert!(key.starts_with("z6Mk"), "{key}");
    key
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test]
async fn init_add_allow_sign_show() {
    let tmp = temp().await;
    let ws = tmp.dir.join("office");
    // CQ's key comes from a real node made by `chuanyu init`.
    let node = tmp.dir.join("node-cq");
    ok(&[
        "init",
        "--member",
        "CQ",
        "--dir",
        s(&node),
        "--listen",
        "127.0.0.1:0",
    ]);
    let cq_node_key = node.join("data/keys/node-ed25519.pem");

    let out = ok(&["federation", "init", "--dir", s(&ws)]);
    let gov = governance_key_of(&out);
    assert!(out.contains(&format!("federation_governance_key = \"{gov}\"")));
    let key_file = ws.join("governance.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let draft = read_json(&ws.join("directory.json"));
    assert_eq!(draft["version"], 0);
    assert_eq!(draft["governance_key"], gov.as_str());
    assert_eq!(draft["members"], serde_json::json!([]));
    assert_eq!(draft["rules"], serde_json::json!([]));
    let purposes: Vec<_> = draft["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (id, name) in [
        ("transfer-verification", "转学核验"),
        ("status-sharing", "学籍信息共享"),
        ("teacher-cert-verification", "教师资格核验"),
        ("employment", "就业服务"),
    ] {
        assert!(
            purposes.contains(&(id.to_owned(), name.to_owned())),
            "{id} {name}"
        );
    }
    assert!(
        draft["purposes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["name_en"].is_string())
    );

    // init again: refused; --force resets the draft and keeps the key.
    let key_pem = std::fs::read(&key_file).unwrap();
    let err = fails(&["federation", "init", "--dir", s(&ws)], 2);
    assert!(err.contains("federation.cli.workspace_exists"), "{err}");
    let again = ok(&["federation", "init", "--dir", s(&ws), "--force"]);
    assert_eq!(governance_key_of(&again), gov);
    assert_eq!(std::fs::read(&key_file).unwrap(), key_pem);

    // Members: CQ from the node's key file, SC from a multibase public key; and the rules.
    let sc = platform::keys::generate(&tmp.dir.join("sc.pem")).unwrap();
    let sc_key = encode_public_key(&sc.verifying_key());
    two_member_workspace(
        &ws,
        &cq_node_key,
        "SC",
        &[
            "--url",
            "https://sc.example.cn/",
            "--public-key",
            &sc_key,
            "--service",
            "student.lookup,teacher-cert.verify",
            "--not-before",
            "2025-01-01T00:00:00+08:00",
        ],
    );
    // The same (caller, callee, service, purpose) again replaces the rule.
    let out = allow(&ws, SC_TO_ALL, "name,status,grade");
    assert!(out.contains("rule replaced"), "{out}");

    let out = ok(&["federation", "sign", "--dir", s(&ws)]);
    assert!(out.contains("version 1"), "{out}");
    let signed_path = ws.join("directory.signed.json");

    // A node's check: the published bytes verify against the governance key.
    let gov_vk = directory::decode_public_key(&gov).unwrap();
    let dir = directory::verify(
        &std::fs::read(&signed_path).unwrap(),
        &gov_vk,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    assert_eq!(dir.version, 1);
    let days = (dir.expires_at - dir.issued_at).whole_days();
    assert_eq!(days, 365);
    let cq = dir.member("CQ").unwrap();
    assert_eq!(cq.name, "重庆市教育委员会");
    assert_eq!(cq.base_url, "http://127.0.0.1:8080");
    assert_eq!(cq.services, ["student.lookup"], "default service");
    let cq_vk = platform::keys::load(&cq_node_key).unwrap().verifying_key();
    let cq_multibase = encode_public_key(&cq_vk);
    assert_eq!(cq.keys.len(), 1);
    assert_eq!(cq.keys[0].public_key, cq_multibase);
    // Key id: CODE# + the 16 characters after z6Mk.
    assert_eq!(cq.keys[0].kid, format!("CQ#{}", &cq_multibase[4..20]));
    let sc_member = dir.member("SC").unwrap();
    assert_eq!(sc_member.base_url, "https://sc.example.cn");
    assert_eq!(
        sc_member.services,
        ["student.lookup", "teacher-cert.verify"]
    );
    assert_eq!(
        sc_member.keys[0].not_before,
        Some(time::macros::datetime!(2024-12-31 16:00 UTC))
    );
    assert_eq!(
        dir.allowed("CQ", "SC", "student.lookup", "transfer-verification")
            .unwrap()
            .join(","),
        CQ_FIELDS
    );
    assert_eq!(
        dir.allowed("SC", "CQ", "student.lookup", "status-sharing")
            .unwrap()
            .join(","),
        "name,status,grade"
    );
    assert!(
        dir.key(&cq.keys[0].kid, time::OffsetDateTime::now_utc())
            .is_some()
    );

    // show verifies and prints the table.
    let out = ok(&show_with_key(&signed_path, &gov));
    for needle in [
        "已验证 verified",
        "版本 version: 1",
        "CQ  重庆市教育委员会  http://127.0.0.1:8080",
        "SC  四川省教育厅  https://sc.example.cn",
        &cq.keys[0].kid,
        &sc_key,
        "当前有效 valid now",
        "transfer-verification",
        "转学核验",
        "CQ → SC  student.lookup  用途 purpose transfer-verification",
        "student_no, name, sex, birth_date, school_code, grade, status",
        "SC → *",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    // Without a key: shown, marked unverified; --json gives the document.
    let out = ok(&["federation", "show", s(&signed_path)]);
    assert!(out.contains("未核验 not verified"), "{out}");
    let out = ok(&[show_with_key(&signed_path, &gov).as_slice(), &["--json"]].concat());
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json, read_json(&signed_path));
    assert_eq!(json["signature"]["kid"], gov.as_str());
    // The draft (also reachable as the workspace directory) is shown as a draft.
    let out = ok(&["federation", "show", s(&ws)]);
    assert!(out.contains("unsigned draft"), "{out}");
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(&ws)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        names.iter().all(|n| !n.contains(".tmp")),
        "leftovers: {names:?}"
    );
}

#[tokio::test]
async fn show_refuses_wrong_key_tampered_unsigned_and_expired() {
    let tmp = temp().await;
    let ws = tmp.dir.join("office");
    let (gov, _, _) = workspace(&ws, &tmp.dir);
    ok(&["federation", "sign", "--dir", s(&ws)]);
    let signed = ws.join("directory.signed.json");
    ok(&show_with_key(&signed, &gov));

    // Another office's key.
    let other = tmp.dir.join("other");
    let other_gov = governance_key_of(&ok(&["federation", "init", "--dir", s(&other)]));
    let err = fails(&show_with_key(&signed, &other_gov), 1);
    assert!(err.contains("federation.directory_wrong_key"), "{err}");
    assert!(err.contains("非治理密钥"), "{err}");

    // Tampered: a rule widened after signing.
    let mut doc = read_json(&signed);
    doc["directory"]["rules"][0]["fields"] = serde_json::json!(["name", "citizen_id"]);
    let tampered = tmp.dir.join("tampered.json");
    std::fs::write(&tampered, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let err = fails(&show_with_key(&tampered, &gov), 1);
    assert!(
        err.contains("federation.directory_signature_invalid"),
        "{err}"
    );
    assert!(err.contains("签名无效"), "{err}");

    // The unsigned draft.
    let err = fails(&show_with_key(&ws.join("directory.json"), &gov), 1);
    assert!(err.contains("federation.directory_unsigned"), "{err}");
    assert!(err.contains("未签名"), "{err}");

    // Expired: issued in the past for one day.
    let expired = tmp.dir.join("expired.json");
    let out = chuanyu(&[
        "federation",
        "sign",
        "--dir",
        s(&ws),
        "--issued-at",
        "2020-01-01T00:00:00Z",
        "--valid-days",
        "1",
        "--out",
        s(&expired),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("already expired"), "{}", stderr(&out));
    let err = fails(&show_with_key(&expired, &gov), 1);
    assert!(err.contains("federation.directory_expired"), "{err}");
    assert!(err.contains("过期"), "{err}");
    // ... and shown as expired without the key.
    let out = ok(&["federation", "show", s(&expired)]);
    assert!(out.contains("已过期 expired"), "{out}");

    // Not yet valid.
    let future = tmp.dir.join("future.json");
    ok(&[
        "federation",
        "sign",
        "--dir",
        s(&ws),
        "--issued-at",
        "2999-01-01T00:00:00Z",
        "--out",
        s(&future),
    ]);
    let err = fails(&show_with_key(&future, &gov), 1);
    assert!(err.contains("federation.directory_not_yet_valid"), "{err}");

    // Zero days, an expiry before the issue time, a key that is not a key: usage errors.
    fails(
        &["federation", "sign", "--dir", s(&ws), "--valid-days", "0"],
        2,
    );
    let err = fails(
        &[
            "federation",
            "sign",
            "--dir",
            s(&ws),
            "--issued-at",
            "2030-01-01T00:00:00Z",
            "--expires-at",
            "2029-01-01T00:00:00Z",
        ],
        2,
    );
    assert!(err.contains("federation.cli.invalid_input"), "{err}");
    let err = fails(&show_with_key(&signed, "z6Mknotakey"), 2);
    assert!(err.contains("federation.cli.public_key_invalid"), "{err}");
    let err = fails(&["federation", "show", s(&tmp.dir.join("missing.json"))], 2);
    assert!(err.contains("federation.cli.io"), "{err}");
}

#[tokio::test]
async fn allow_refuses_unknown_members_and_purposes() {
    let tmp = temp().await;
    let ws = tmp.dir.join("office");
    workspace(&ws, &tmp.dir);
    let before = std::fs::read(ws.join("directory.json")).unwrap();
    let refused =
        |dir: &Path, rule: [&str; 4]| fails(&allow_args(dir, rule, &["--fields", "name"]), 2);
    let err = refused(&ws, ["XZ", "SC", "student.lookup", "transfer-verification"]);
    assert!(err.contains("federation.cli.unknown_member"), "{err}");
    assert!(err.contains("目录中没有成员“XZ”"), "{err}");
    assert!(err.contains("has no member “XZ”; members: CQ, SC"), "{err}");
    let err = refused(&ws, ["CQ", "GZ", "student.lookup", "transfer-verification"]);
    assert!(err.contains("federation.cli.unknown_member"), "{err}");
    let err = refused(&ws, ["CQ", "SC", "student.lookup", "curiosity"]);
    assert!(err.contains("federation.cli.unknown_purpose"), "{err}");
    assert!(err.contains("目录中没有用途“curiosity”"), "{err}");
    // A service name out of form is refused by the directory's own rules.
    let err = refused(&ws, ["CQ", "SC", "Student Lookup", "transfer-verification"]);
    assert!(err.contains("federation.directory_name_invalid"), "{err}");
    // Nothing was written by the refused commands.
    assert_eq!(std::fs::read(ws.join("directory.json")).unwrap(), before);

    // --remove drops a rule; removing it twice is an error.
    let remove = allow_args(&ws, CQ_TO_SC, &["--remove"]);
    ok(&remove);
    let err = fails(&remove, 2);
    assert!(err.contains("federation.cli.rule_not_found"), "{err}");
    assert_eq!(
        read_json(&ws.join("directory.json"))["rules"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Not a workspace.
    let err = refused(&tmp.dir.join("nowhere"), CQ_TO_SC);
    assert!(err.contains("federation.cli.workspace_missing"), "{err}");
}

#[tokio::test]
async fn add_member_rotates_keys_and_refuses_conflicts() {
    let tmp = temp().await;
    let ws = tmp.dir.join("office");
    let (gov, cq_pem, sc_key) = workspace(&ws, &tmp.dir);
    let old = encode_public_key(&platform::keys::load(&cq_pem).unwrap().verifying_key());
    let old_kid = format!("CQ#{}", &old[4..20]);

    // Rotation: a new key for CQ, valid from a date; the old one stays.
    let new_pem = tmp.dir.join("cq-2.pem");
    let new = encode_public_key(&platform::keys::generate(&new_pem).unwrap().verifying_key());
    let new_kid = format!("CQ#{}", &new[4..20]);
    ok(&add_member_args(
        &ws,
        "CQ",
        &[
            "--public-key",
            &new,
            "--not-before",
            "2025-06-01T00:00:00+08:00",
        ],
    ));
    let draft = read_json(&ws.join("directory.json"));
    let cq = &draft["members"][0];
    assert_eq!(cq["code"], "CQ");
    assert_eq!(cq["name"], "重庆市教育委员会", "name kept");
    assert_eq!(cq["base_url"], "http://127.0.0.1:8080", "url kept");
    assert_eq!(cq["services"], serde_json::json!(["student.lookup"]));
    let kids: Vec<_> = cq["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kids, [old_kid.clone(), new_kid.clone()]);
    assert_eq!(cq["keys"][1]["public_key"], new.as_str());
    assert_eq!(cq["keys"][1]["not_before"], "2025-05-31T16:00:00Z");

    // Closing the old key's window: the same key again with --not-after.
    ok(&add_member_args(
        &ws,
        "CQ",
        &[
            "--node-key",
            s(&cq_pem),
            "--not-after",
            "2025-07-01T00:00:00Z",
        ],
    ));
    let draft = read_json(&ws.join("directory.json"));
    assert_eq!(draft["members"][0]["keys"].as_array().unwrap().len(), 2);
    assert_eq!(
        draft["members"][0]["keys"][0]["not_after"],
        "2025-07-01T00:00:00Z"
    );

    // Update of name/url/services without a key.
    ok(&add_member_args(
        &ws,
        "CQ",
        &[
            "--url",
            "https://cq.example.cn",
            "--service",
            "student.lookup",
            "--service",
            "transfer",
        ],
    ));
    ok(&["federation", "sign", "--dir", s(&ws)]);
    let out = ok(&show_with_key(&ws.join("directory.signed.json"), &gov));
    assert!(out.contains(&old_kid) && out.contains(&new_kid), "{out}");
    assert!(
        out.contains("已失效 expired"),
        "old key shown expired:\n{out}"
    );
    assert!(out.contains("https://cq.example.cn"), "{out}");
    assert!(out.contains("student.lookup, transfer"), "{out}");

    // --remove-key drops the old key.
    ok(&add_member_args(&ws, "CQ", &["--remove-key", &old_kid]));
    let draft = read_json(&ws.join("directory.json"));
    assert_eq!(draft["members"][0]["keys"].as_array().unwrap().len(), 1);
    assert_eq!(draft["members"][0]["keys"][0]["kid"], new_kid.as_str());
    let err = fails(&add_member_args(&ws, "CQ", &["--remove-key", &old_kid]), 2);
    assert!(err.contains("federation.cli.key_not_found"), "{err}");

    // Conflicts and incomplete input.
    let err = fails(&add_member_args(&ws, "CQ", &["--public-key", &sc_key]), 2);
    assert!(err.contains("federation.cli.key_conflict"), "{err}");
    assert!(err.contains("已登记给成员 SC"), "{err}");
    let err = fails(
        &add_member_args(
            &ws,
            "GZ",
            &["--name", "贵州省教育厅", "--url", "https://gz.example.cn"],
        ),
        2,
    );
    assert!(err.contains("federation.cli.member_incomplete"), "{err}");
    let gz = encode_public_key(
        &platform::keys::generate(&tmp.dir.join("gz.pem"))
            .unwrap()
            .verifying_key(),
    );
    for (flag, value, code) in [
        (
            "--url",
            "ftp://gz.example.cn",
            "federation.cli.invalid_input",
        ),
        ("--url", "not a url", "federation.cli.invalid_input"),
        (
            "--public-key",
            "z6Mkxyz",
            "federation.cli.public_key_invalid",
        ),
        ("--kid", new_kid.as_str(), "federation.cli.key_conflict"),
    ] {
        let mut args = add_member_args(&ws, "GZ", &[]);
        for (f, v) in [
            ("--name", "贵州省教育厅"),
            ("--url", "https://gz.example.cn"),
            ("--public-key", gz.as_str()),
            ("--kid", ""),
        ] {
            if f == flag {
                args.extend([flag, value]);
            } else if !v.is_empty() {
                args.extend([f, v]);
            }
        }
        let err = fails(&args, 2);
        assert!(err.contains(code), "{flag} {value}: {err}");
    }
    let err = fails(
        &add_member_args(
            &ws,
            "g z",
            &[
                "--name",
                "x",
                "--url",
                "https://gz.example.cn",
                "--public-key",
                &gz,
            ],
        ),
        2,
    );
    assert!(err.contains("federation.cli.invalid_input"), "{err}");
    let draft = read_json(&ws.join("directory.json"));
    assert_eq!(
        draft["members"].as_array().unwrap().len(),
        2,
        "GZ not added"
    );

    // A public key PEM works as --node-key too.
    let pem = tmp.dir.join("gz.pub.pem");
    {
        use ed25519_dalek::pkcs8::EncodePublicKey as _;
        let vk = directory::decode_public_key(&gz).unwrap();
        std::fs::write(
            &pem,
            vk.to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
                .unwrap(),
        )
        .unwrap();
    }
    ok(&add_member_args(
        &ws,
        "GZ",
        &[
            "--name",
            "贵州省教育厅",
            "--url",
            "https://gz.example.cn",
            "--node-key",
            s(&pem),
        ],
    ));
    let draft = read_json(&ws.join("directory.json"));
    assert_eq!(draft["members"][2]["keys"][0]["public_key"], gz.as_str());
}

#[tokio::test]
async fn sign_bumps_the_version_and_writes_atomically() {
    let tmp = temp().await;
    let ws = tmp.dir.join("office");
    let (gov, _, _) = workspace(&ws, &tmp.dir);
    let signed = ws.join("directory.signed.json");
    let version = |path: &Path| read_json(path)["directory"]["version"].as_u64().unwrap();

    let out = ok(&["federation", "sign", "--dir", s(&ws), "--valid-days", "30"]);
    assert!(out.contains("version 1"), "{out}");
    assert!(out.contains("到期 expires:"), "{out}");
    assert_eq!(version(&signed), 1);
    let doc = read_json(&signed);
    let issued = time::OffsetDateTime::parse(
        doc["directory"]["issued_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let expires = time::OffsetDateTime::parse(
        doc["directory"]["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(expires - issued, time::Duration::days(30));

    ok(&["federation", "sign", "--dir", s(&ws)]);
    assert_eq!(version(&signed), 2);
    assert_eq!(read_json(&ws.join("directory.json"))["version"], 2);

    // Another output counts on from the draft; the default output then goes on from there.
    let elsewhere = tmp.dir.join("published/directory.json");
    ok(&[
        "federation",
        "sign",
        "--dir",
        s(&ws),
        "--out",
        s(&elsewhere),
    ]);
    assert_eq!(version(&elsewhere), 3);
    ok(&["federation", "sign", "--dir", s(&ws)]);
    assert_eq!(version(&signed), 4);

    // A published file newer than the draft (another copy of the workspace signed it) is
    // never gone back on.
    let mut doc = read_json(&ws.join("directory.json"));
    doc["version"] = 1.into();
    std::fs::write(
        ws.join("directory.json"),
        serde_json::to_vec_pretty(&doc).unwrap(),
    )
    .unwrap();
    ok(&["federation", "sign", "--dir", s(&ws)]);
    assert_eq!(version(&signed), 5);

    // A node's check accepts each issue and would refuse going back.
    let vk = directory::decode_public_key(&gov).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let latest = directory::verify(&std::fs::read(&signed).unwrap(), &vk, now).unwrap();
    let older = directory::verify(&std::fs::read(&elsewhere).unwrap(), &vk, now).unwrap();
    assert!(older.check_newer(latest.version).is_err());

    // Refuses to overwrite a file that is not a signed directory.
    let precious = tmp.dir.join("notes.txt");
    std::fs::write(&precious, "not a directory").unwrap();
    let err = fails(
        &["federation", "sign", "--dir", s(&ws), "--out", s(&precious)],
        2,
    );
    assert!(err.contains("federation.cli.output_not_directory"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&precious).unwrap(),
        "not a directory"
    );

    // A draft whose governance key is not the workspace's key is refused.
    let mut doc = read_json(&ws.join("directory.json"));
    doc["governance_key"] = Value::String(governance_key_of(&ok(&[
        "federation",
        "init",
        "--dir",
        s(&tmp.dir.join("x")),
    ])));
    std::fs::write(
        ws.join("directory.json"),
        serde_json::to_vec_pretty(&doc).unwrap(),
    )
    .unwrap();
    let err = fails(&["federation", "sign", "--dir", s(&ws)], 2);
    assert!(err.contains("federation.directory_wrong_key"), "{err}");
    assert_eq!(version(&signed), 5, "nothing published");
}
