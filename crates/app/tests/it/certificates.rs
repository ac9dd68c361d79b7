//! Teacher certificates and credentials between two real nodes over HTTP: a 四川 teacher's
//! credential verified on the 重庆 node (file and code), the public look-up across the
//! provinces, suspension / reinstatement / revocation seen on the other node and by the
//! offline verifier once the status list's lifetime has passed, the look-up rate limit,
//! and the W3C eddsa-jcs-2022 vector through `chuanyu verify`.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::federation::Pair;
use crate::for_each_engine;
use crate::support::{Engine, TestApp, hidden_field};

async fn post(app: &TestApp, token: Option<&str>, path: &str, body: &Value) -> (u16, Value) {
    let mut r = reqwest::Client::new().post(app.url(path)).json(body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The seeded teacher account's certificate number and name.
async fn teacher_certificate(app: &TestApp) -> (String, String) {
    let key = app
        .account("teacher")
        .person_key
        .clone()
        .expect("the demo teacher holds a certificate");
    let row: (String, String) = platform::on_db!(&app.db, p => sqlx::query_as(
        "SELECT cert_no, name FROM teacher_certificates WHERE citizen_id = $1")
        .bind(&key).fetch_one(p).await.unwrap());
    row
}

fn chuanyu(args: &[&str]) -> (i32, String) {
    run(std::process::Command::new(env!("CARGO_BIN_EXE_chuanyu")).args(args))
}

/// The binary against a test node's database.
fn chuanyu_on(app: &TestApp, member: &str, args: &[&str]) -> (i32, String) {
    run(std::process::Command::new(env!("CARGO_BIN_EXE_chuanyu"))
        .args(args)
        .env("CHUANYU_MEMBER", member)
        .env("CHUANYU_DATABASE_URL", app.database_url())
        .env("CHUANYU_DATA_DIR", app.dir().join("cli-data")))
}

fn run(command: &mut std::process::Command) -> (i32, String) {
    let out = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

async fn set_status(pair: &Pair, token: &str, no: &str, status: &str) {
    let (code, body) = post(
        &pair.sc,
        Some(token),
        &format!("/api/v1/certificates/{no}/status"),
        &json!({"status": status, "reason": "测试 test"}),
    )
    .await;
    assert_eq!(code, 204, "{status}: {body}");
}

/// Waits out the status lists' lifetime (2 s in these nodes, plus the second that rounding
/// to whole seconds adds).
async fn after_lifetime() {
    tokio::time::sleep(Duration::from_millis(3100)).await;
}

async fn across_provinces(engine: Engine) {
    let Some(pair) = Pair::start_with(engine, |o| o.status_list_ttl_seconds = 2).await else {
        return;
    };
    let (no, name) = teacher_certificate(&pair.sc).await;
    let teacher = pair.sc.token("sc.teacher").await;

    // The teacher downloads the credential: a VC 2.0 signed by 四川's node key.
    let r = pair
        .sc
        .get_as(&teacher, &format!("/api/v1/certificates/{no}/credential"))
        .await;
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["proof"]["cryptosuite"], "eddsa-jcs-2022");
    assert_eq!(doc["credentialSubject"]["certificateNumber"], no.as_str());
    assert!(
        !doc.to_string()
            .contains(&pair.sc.account("teacher").person_key.clone().unwrap()),
        "the full ID number is never in a credential"
    );
    // Issued once: the same document again.
    let again: Value = pair
        .sc
        .get_as(&teacher, &format!("/api/v1/certificates/{no}/credential"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, doc);
    // Another teacher's certificate is not theirs to download.
    let cq_teacher = pair.cq.token("cq.teacher").await;
    let r = pair
        .cq
        .get_as(
            &cq_teacher,
            &format!("/api/v1/certificates/{no}/credential"),
        )
        .await;
    assert_eq!(r.status(), 404);

    // 重庆 verifies the file: trusted issuer from the directory, live status from 四川.
    let (code, report) = post(&pair.cq, None, "/api/v1/credentials/verify", &doc).await;
    assert_eq!(code, 200);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["issuer"], "SC");
    // A one-character change anywhere breaks it.
    let mut forged = doc.clone();
    forged["credentialSubject"]["name"] = json!(format!("{name}甲"));
    let (_, report) = post(&pair.cq, None, "/api/v1/credentials/verify", &forged).await;
    assert_eq!(report["ok"], false);

    // A verification code, made on the portal, resolves on the other province's node.
    let portal = pair.sc.sign_in_form("sc.teacher").await;
    let page = portal
        .get(pair.sc.url(&format!("/certificates/{no}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&page, "csrf").unwrap();
    let r = portal
        .post(pair.sc.url(&format!("/certificates/{no}/codes")))
        .form(&[("csrf", csrf.as_str()), ("days", "30")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = portal
        .get(pair.sc.url(&format!("/certificates/{no}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let code = page
        .split("<code class=\"code\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the new code on the page")
        .to_owned();
    assert!(code.starts_with("SC-"), "{code}");
    let by_code = |app: &TestApp, code: String| {
        let url = app.url(&format!("/api/v1/credentials/by-code/{code}"));
        async move {
            let r = reqwest::get(url).await.unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, v) = by_code(&pair.cq, code.to_lowercase()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["state"], "active");
    assert_eq!(v["report"]["ok"], true, "{v}");
    let (_, v) = by_code(&pair.cq, "SC-0000-0000-0000".into()).await;
    assert_eq!(v["state"], "unknown");

    // The public look-up on 重庆 finds the 四川 certificate by number and name only.
    let lookup = |name: &str| json!({"cert_no": no, "name": name});
    let (status, v) = post(
        &pair.cq,
        None,
        "/api/v1/certificates/lookup",
        &lookup(&name),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["result"], "valid");
    assert_eq!(v["source"], "SC");
    let (_, v) = post(
        &pair.cq,
        None,
        "/api/v1/certificates/lookup",
        &lookup("张冒名"),
    )
    .await;
    assert_eq!(v["result"], "not-found");
    assert_eq!(
        v.as_object().unwrap().len(),
        3,
        "nothing but the verdict: {v}"
    );
    let (status, v) = post(
        &pair.cq,
        None,
        "/api/v1/certificates/lookup",
        &json!({"cert_no": "123", "name": name}),
    )
    .await;
    assert_eq!(status, 400, "{v}");

    // The offline verifier, with the bundle from the signed directory.
    let work = pair.work.join("offline");
    std::fs::create_dir_all(&work).unwrap();
    let bundle = work.join("trust.json");
    let file = work.join("cert.json");
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let dir = pair.files.directory.display().to_string();
    let (exit, out) = chuanyu(&[
        "federation",
        "trust-bundle",
        "--directory",
        &dir,
        "--governance-key",
        &pair.files.governance_key,
        "--out",
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(exit, 0, "{out}");
    let cache = work.join("status-cache");
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            file.to_str().unwrap(),
            "--trust-bundle",
            bundle.to_str().unwrap(),
            "--status-cache",
            cache.to_str().unwrap(),
            "--json",
        ];
        args.extend_from_slice(extra);
        chuanyu(&args)
    };
    let (exit, out) = verify(&[]);
    assert_eq!(exit, 0, "{out}");
    // The node's bulk export verifies as a directory.
    let exported = work.join("exported");
    let (exit, out) = chuanyu_on(
        &pair.sc,
        "SC",
        &["credentials", "export", "--out", exported.to_str().unwrap()],
    );
    assert_eq!(exit, 0, "{out}");
    let files = std::fs::read_dir(&exported).unwrap().count();
    assert_eq!(files, 1, "one credential issued so far");
    let (exit, out) = chuanyu(&[
        "verify",
        exported.to_str().unwrap(),
        "--trust-bundle",
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(exit, 0, "{out}");

    // Suspended on 四川: seen on 重庆 and offline once the cached list's lifetime is over;
    // reinstated, valid again; revoked, for good.
    let bureau = pair.sc.token("sc.province").await;
    set_status(&pair, &bureau, &no, "suspended").await;
    after_lifetime().await;
    let (_, report) = post(&pair.cq, None, "/api/v1/credentials/verify", &doc).await;
    assert_eq!(
        (report["ok"].clone(), report["status"].clone()),
        (json!(false), json!("suspended")),
        "{report}"
    );
    let (exit, out) = verify(&[]);
    assert_eq!(exit, 1, "{out}");
    assert!(out.contains("suspended"), "{out}");
    set_status(&pair, &bureau, &no, "valid").await;
    after_lifetime().await;
    let (_, report) = post(&pair.cq, None, "/api/v1/credentials/verify", &doc).await;
    assert_eq!(report["ok"], true, "{report}");
    set_status(&pair, &bureau, &no, "revoked").await;
    after_lifetime().await;
    let (_, report) = post(&pair.cq, None, "/api/v1/credentials/verify", &doc).await;
    assert_eq!(report["status"], "revoked", "{report}");
    let (_, v) = by_code(&pair.cq, code.clone()).await;
    assert_eq!(v["report"]["status"], "revoked", "{v}");
    let (_, v) = post(
        &pair.cq,
        None,
        "/api/v1/certificates/lookup",
        &lookup(&name),
    )
    .await;
    assert_eq!(v["result"], "revoked");
    let (exit, out) = verify(&[]);
    assert_eq!(exit, 1, "{out}");
    assert!(out.contains("revoked"), "{out}");
    // Offline with the cache only: an expired cached list is not trusted.
    after_lifetime().await;
    let (exit, out) = verify(&["--offline"]);
    assert_eq!(exit, 1, "{out}");
    assert!(out.contains("status_unavailable"), "{out}");
    // Revocation is final.
    let (status, _) = post(
        &pair.sc,
        Some(&bureau),
        &format!("/api/v1/certificates/{no}/status"),
        &json!({"status": "valid", "reason": "x"}),
    )
    .await;
    assert_eq!(status, 400);

    // Every read of the certificate on 四川 is in its audit chain, including peers' asks.
    let (n,): (i64,) = platform::on_db!(&pair.sc.db, p => sqlx::query_as(
        "SELECT COUNT(*) FROM audit_log WHERE action IN ('certificate.lookup', 'credential.verify_code')")
        .fetch_one(p).await.unwrap());
    assert!(n >= 3, "peer look-ups audited on the holder: {n}");

    // The look-up is rate-limited per client and per certificate number.
    let mut limited = false;
    for _ in 0..25 {
        let (status, _) = post(
            &pair.sc,
            None,
            "/api/v1/certificates/lookup",
            &lookup(&name),
        )
        .await;
        if status == 429 {
            limited = true;
            break;
        }
    }
    assert!(
        limited,
        "25 look-ups of one certificate in a minute are refused"
    );
}

/// The W3C eddsa-jcs-2022 vector through the offline verifier, trusted directly; then
/// one byte changed.
async fn w3c_vector(engine: Engine) {
    if engine != Engine::Sqlite {
        return; // No database involved: once is enough.
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../credential/tests/data");
    let signed = std::fs::read_to_string(data.join("signedJCS.json")).unwrap();
    let doc: Value = serde_json::from_str(&signed).unwrap();
    let vm = doc["proof"]["verificationMethod"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = std::env::temp_dir().join(format!("chuanyu-vc-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("signed.json");
    std::fs::write(&good, &signed).unwrap();
    let bad = dir.join("tampered.json");
    std::fs::write(
        &bad,
        signed.replace("The School of Examples", "The School of Examplez"),
    )
    .unwrap();
    let (exit, out) = chuanyu(&["verify", good.to_str().unwrap(), "--trust-key", &vm]);
    assert_eq!(exit, 0, "{out}");
    let (exit, out) = chuanyu(&[
        "verify",
        good.to_str().unwrap(),
        bad.to_str().unwrap(),
        "--trust-key",
        &vm,
        "--json",
    ]);
    assert_eq!(exit, 1, "{out}");
    let reports: Value = serde_json::from_str(&out[..out.rfind(']').unwrap() + 1]).unwrap();
    assert_eq!(reports[0]["ok"], true);
    assert_eq!(reports[1]["ok"], false);
    let (exit, _) = chuanyu(&["verify", good.to_str().unwrap()]);
    assert_eq!(exit, 2, "nothing trusted is a usage error");
    let _ = std::fs::remove_dir_all(&dir);
}

fn citizen_id(first17: &str) -> String {
    format!(
        "{first17}{}",
        kernel::ids::citizen_id_check_char(first17).unwrap()
    )
}

async fn upload(app: &TestApp, token: &str, name: &str, body: Vec<u8>) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/imports/teachers?file_name={name}")))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn codes(v: &Value) -> Vec<String> {
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_owned())
        .collect()
}

/// The certificate import: a GB18030 file with one good row (its number in full-width
/// digits) and each kind of bad row; the good row stored, each bad one reported with its
/// reason; a re-run changes nothing; a revocation by import is final; only bureaus import.
async fn import_and_bad_rows(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let school = app.account("school").org_code.clone().unwrap();
    let header = "身份证件号码,姓名,性别,出生日期,任职学校标识码,现任教学科,职称,教师资格证书号码,资格种类,证书任教学科,认定机构,认定机构所在地,发证日期,证书状态,注册起始日期,注册截止日期";
    let good = citizen_id("51010419900501123");
    let other = citizen_id("51010419900501135");
    let mut bad_id = good.clone();
    bad_id.replace_range(17.., if good.ends_with('1') { "2" } else { "1" });
    let row = |id: &str, cert: &str, kind: &str, school: &str, issued: &str, status: &str| {
        format!(
            "{id},李𬌗华,男,1990-05-01,{school},数学,一级教师,{cert},{kind},数学,成都市锦江区教育局,510104,{issued},{status},2024-07-01,2029-06-30"
        )
    };
    let rows = |status: &str| {
        [
            header.to_owned(),
            // The number typed in full-width digits: stored normalised.
            row(
                &good,
                "２０１９５１０４２４１９００００１",
                "高级中学教师资格",
                &school,
                "2019-07-01",
                status,
            ),
            row(
                &bad_id,
                "20195104241900002",
                "高级中学教师资格",
                &school,
                "2019-07-01",
                "",
            ),
            row(
                &good,
                "20195104241900001",
                "高级中学教师资格",
                &school,
                "2019-07-01",
                "",
            ),
            row(
                &good,
                "20195104241900003",
                "小学教师资格",
                &school,
                "2019-07-01",
                "",
            ),
            row(
                &other,
                "20195104241900004",
                "高级中学教师资格",
                "3451019999",
                "2019-07-01",
                "",
            ),
            row(
                &good,
                "20195104241900005",
                "高级中学教师资格",
                &school,
                "2018-07-01",
                "",
            ),
        ]
        .join("\n")
    };
    let gbk = |text: String| encoding_rs::GB18030.encode(&text).0.into_owned();
    let bureau = app.token("sc.province").await;
    let (status, v) = upload(&app, &bureau, "teachers.csv", gbk(rows(""))).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (
            v["summary"]["inserted"].clone(),
            v["summary"]["rejected"].clone()
        ),
        (json!(1), json!(5)),
        "{v}"
    );
    let mut found = codes(&v);
    found.sort();
    assert_eq!(
        found,
        [
            "id.checksum",
            "row.cert_type_mismatch",
            "row.duplicate_in_file",
            "row.issue_year_mismatch",
            "row.school_unknown"
        ],
        "{v}"
    );
    let (n,): (i64,) = platform::on_db!(&app.db, p => sqlx::query_as(
        "SELECT COUNT(*) FROM teacher_certificates WHERE cert_no = '20195104241900001' AND name = '李𬌗华'")
        .fetch_one(p).await.unwrap());
    assert_eq!(n, 1, "stored normalised, the rare character intact");
    // Again: nothing changes.
    let (_, v) = upload(&app, &bureau, "teachers.csv", gbk(rows(""))).await;
    assert_eq!(
        (
            v["summary"]["unchanged"].clone(),
            v["summary"]["inserted"].clone()
        ),
        (json!(1), json!(0)),
        "{v}"
    );
    // Revoked by import; then "valid" again is refused: revocation is final.
    let (_, v) = upload(&app, &bureau, "teachers.csv", gbk(rows("撤销"))).await;
    assert_eq!(v["summary"]["updated"], 1, "{v}");
    let (_, v) = upload(&app, &bureau, "teachers.csv", gbk(rows("有效"))).await;
    assert!(codes(&v).contains(&"row.cert_revoked".to_owned()), "{v}");
    // An empty file, a school administrator.
    let (status, v) = upload(&app, &bureau, "empty.csv", Vec::new()).await;
    assert_eq!(status, 400, "{v}");
    let school_admin = app.token("sc.school").await;
    let (status, _) = upload(&app, &school_admin, "teachers.csv", gbk(rows(""))).await;
    assert_eq!(status, 403);
}

/// A node with a public address: its credentials point there, and it publishes a did:web
/// document naming the same key as its did:key.
async fn public_address(engine: Engine) {
    let options = crate::support::Options {
        public_url: "https://jy.sc.example.cn".into(),
        ..Default::default()
    };
    let Some(app) = TestApp::spawn_with(engine, options).await else {
        return;
    };
    let (no, _) = teacher_certificate(&app).await;
    let teacher = app.token("sc.teacher").await;
    let doc: Value = app
        .get_as(&teacher, &format!("/api/v1/certificates/{no}/credential"))
        .await
        .json()
        .await
        .unwrap();
    let list = doc["credentialStatus"][0]["statusListCredential"]
        .as_str()
        .unwrap();
    assert!(
        list.starts_with("https://jy.sc.example.cn/credentials/status/revocation/"),
        "{list}"
    );
    let did: Value = reqwest::get(app.url("/.well-known/did.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(did["id"], "did:web:jy.sc.example.cn");
    assert_eq!(did["alsoKnownAs"][0], doc["issuer"]["id"]);
    let key = doc["proof"]["verificationMethod"]
        .as_str()
        .unwrap()
        .split('#')
        .nth(1)
        .unwrap();
    assert_eq!(did["verificationMethod"][0]["publicKeyMultibase"], key);
    // The status list is served here too, signed by the same key.
    let path = list.trim_start_matches("https://jy.sc.example.cn");
    let r = reqwest::get(app.url(path)).await.unwrap();
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=300")
    );
    let status: Value = r.json().await.unwrap();
    assert_eq!(
        status["proof"]["verificationMethod"],
        doc["proof"]["verificationMethod"]
    );
}

/// A diploma goes through the same engine: issued once, verified, shared by code (the
/// verification page shows its own fields), revoked.
async fn diploma_through_the_same_engine(engine: Engine) {
    let options = crate::support::Options {
        status_list_ttl_seconds: 2,
        ..Default::default()
    };
    let Some(app) = TestApp::spawn_with(engine, options).await else {
        return;
    };
    let state = &app.running.as_ref().unwrap().state;
    let issuer = state.issuer.as_ref().unwrap();
    let admin = chuanyu::operator_principal("registrar");
    let citizen = kernel::ids::CitizenId::parse(&citizen_id("51010419980301234")).unwrap();
    let diploma = certificates::issue::Diploma {
        diploma_no: kernel::ids::DiplomaNo::parse("106101202005001234").unwrap(),
        name: "王𬌗".into(),
        citizen_id: citizen.clone(),
        org_code: "4151010610".into(),
        division: "510104".into(),
        institution: "四川大学".into(),
        level: "本科".into(),
        major: "计算机科学与技术".into(),
        study_form: "普通全日制".into(),
        graduation_date: "2020-06-30".into(),
    };
    let origin = app.base.clone();
    let issued =
        certificates::issue::diploma_credential(&app.db, issuer, &origin, &admin, &diploma)
            .await
            .unwrap();
    let again = certificates::issue::diploma_credential(&app.db, issuer, &origin, &admin, &diploma)
        .await
        .unwrap();
    assert_eq!(issued.id, again.id, "one credential per diploma");
    let doc = issued.document();
    assert_eq!(doc["type"][1], "DiplomaCredential");
    assert!(
        !issued.document.contains(citizen.as_str()),
        "masked ID only"
    );
    // A school administrator elsewhere may not have it issued (and does not learn it exists).
    let other = kernel::access::Principal {
        user_id: 9,
        username: "other".into(),
        role: kernel::access::Role::SchoolAdmin,
        scope: kernel::access::Scope::Org("3451010001".into()),
    };
    assert!(matches!(
        certificates::issue::diploma_credential(&app.db, issuer, &origin, &other, &diploma).await,
        Err(certificates::CertError::NotFound)
    ));
    let (_, report) = post(&app, None, "/api/v1/credentials/verify", &doc).await;
    assert_eq!(report["ok"], true, "{report}");
    // Shared by code; the page shows the diploma's fields.
    let code =
        certificates::issue::create_code(&app.db, issuer, &admin, citizen.as_str(), &issued.id, 7)
            .await
            .unwrap()
            .code;
    let page = reqwest::get(app.url(&format!("/verify?code={code}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("计算机科学与技术") && page.contains("有效"),
        "{page}"
    );
    // Revoked (撤销学历): the lists say so once their lifetime has passed.
    certificates::issue::change_diploma_status(
        &app.db,
        &admin,
        &diploma,
        certificates::CertStatus::Revoked,
        "学籍注销",
    )
    .await
    .unwrap();
    after_lifetime().await;
    let (_, report) = post(&app, None, "/api/v1/credentials/verify", &doc).await;
    assert_eq!(report["status"], "revoked", "{report}");
}

/// 四川 down: 重庆 says so instead of answering "not found" or "valid" — the look-up names
/// the peer that did not answer, a code cannot be resolved, and a 四川 credential whose
/// status list can no longer be read is not verified. Oversized and malformed bodies get
/// their codes.
async fn peer_down(engine: Engine) {
    let Some(pair) = Pair::start_with(engine, |o| o.status_list_ttl_seconds = 2).await else {
        return;
    };
    let (no, name) = teacher_certificate(&pair.sc).await;
    let teacher = pair.sc.token("sc.teacher").await;
    let doc: Value = pair
        .sc
        .get_as(&teacher, &format!("/api/v1/certificates/{no}/credential"))
        .await
        .json()
        .await
        .unwrap();
    let (_, report) = post(&pair.cq, None, "/api/v1/credentials/verify", &doc).await;
    assert_eq!(report["ok"], true, "{report}");
    let Pair { cq, sc, work, .. } = pair;
    sc.stop().await;
    after_lifetime().await;
    let (status, v) = post(
        &cq,
        None,
        "/api/v1/certificates/lookup",
        &json!({"cert_no": no, "name": name}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["result"], "not-found");
    assert_eq!(v["unanswered"][0]["member"], "SC", "{v}");
    let r = reqwest::get(cq.url("/api/v1/credentials/by-code/SC-7K3M-9QXD-2HFA"))
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "credential.peer_unavailable");
    let (_, report) = post(&cq, None, "/api/v1/credentials/verify", &doc).await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["status"], "unknown", "{report}");
    // Bodies a visitor can send: too large, not JSON, not a credential.
    // Over the 64 KiB limit of these nodes, small enough to be sent whole before the answer.
    let huge = json!({ "pad": "x".repeat(200 * 1024) });
    let (status, v) = post(&cq, None, "/api/v1/credentials/verify", &huge).await;
    assert_eq!(
        (status, v["code"].clone()),
        (413, json!("payload_too_large"))
    );
    let r = reqwest::Client::new()
        .post(cq.url("/api/v1/credentials/verify"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // A list number beyond any index, here and in a credential pointing at this node.
    let r = reqwest::get(cq.url("/credentials/status/revocation/18446744073709551615"))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let mut forged = doc.clone();
    forged["credentialStatus"][0]["statusListCredential"] =
        json!(cq.url("/credentials/status/revocation/18446744073709551615"));
    let (status, _) = post(&cq, None, "/api/v1/credentials/verify", &forged).await;
    assert_eq!(status, 200, "a report, not a panic");
    let (status, report) = post(&cq, None, "/api/v1/credentials/verify", &json!([1, 2])).await;
    assert_eq!(status, 200);
    assert_eq!(
        report["checks"][0]["code"], "credential.malformed",
        "{report}"
    );
    cq.stop().await;
    let _ = std::fs::remove_dir_all(&work);
}

for_each_engine!(
    peer_down,
    across_provinces,
    w3c_vector,
    import_and_bad_rows,
    public_address,
    diploma_through_the_same_engine
);
