//! Real Chromium (Debian's chromium + chromium-driver) signing in to a real node.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

use crate::support::{Engine, PASSWORD, TestApp};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find(candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

/// Starts chromedriver and a headless Chromium session, or `None` (said loudly) when they
/// are not installed outside CI; in CI their absence fails the test.
async fn browser() -> Option<(Driver, Client)> {
    let chromium = find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]);
    let driver = find(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
    let (Some(chromium), Some(driver)) = (chromium, driver) else {
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!(
                "CI needs chromium and chromium-driver (apt-get install -y chromium chromium-driver)"
            );
        }
        eprintln!("SKIPPED: chromium/chromedriver not installed; CI=true makes this a failure");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child);
    let profile = std::env::temp_dir().join(format!("chuanyu-chromium-{port}"));
    let caps: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }))
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // chromedriver speaks plain HTTP on loopback: no TLS stack needed.
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&url)
        .await
        .expect("chromium session");
    Some((driver, client))
}

/// The text of the element with this id.
async fn text_of(c: &Client, id: &str) -> String {
    c.find(Locator::Id(id)).await.unwrap().text().await.unwrap()
}

async fn sign_in(c: &Client, app: &TestApp, username: &str) {
    c.goto(&app.url("/login")).await.unwrap();
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(username)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("role")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_home_and_access_log_in_chromium() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();

    sign_in(&c, &app, "sc.school").await;
    let role = text_of(&c, "role").await;
    assert_eq!(role, "学校管理员");
    let welcome = text_of(&c, "welcome").await;
    assert!(
        welcome.contains(&app.account("school").display_name),
        "{welcome}"
    );
    let shot = c.screenshot().await.unwrap();
    let _ = std::fs::write(std::env::temp_dir().join("chuanyu-home-school.png"), shot);

    // The school administrator opens a student's record: the read is audited.
    let mine = app.account("student").person_key.clone().unwrap();
    c.goto(&app.url(&format!("/students/{mine}")))
        .await
        .unwrap();
    let id = text_of(&c, "citizen-id").await;
    assert_eq!(
        id.len(),
        18,
        "a school administrator sees the full ID number: {id}"
    );

    // Sign out with the header button, then sign in as that student.
    c.find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("a.button[href='/login']"))
        .await
        .unwrap();
    sign_in(&c, &app, "sc.student").await;
    assert_eq!(text_of(&c, "role").await, "学生");
    c.find(Locator::LinkText("我的访问记录"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let log = c
        .wait()
        .for_element(Locator::Id("access-log"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(log.contains(&app.account("school").display_name), "{log}");
    assert!(log.contains("学籍管理"));

    // The English switch keeps the page.
    c.find(Locator::Css("a.lang"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::XPath("//h1[text()='Who accessed my record']"))
        .await
        .unwrap();
    let shot = c.screenshot().await.unwrap();
    let _ = std::fs::write(std::env::temp_dir().join("chuanyu-access-log-en.png"), shot);

    c.close().await.unwrap();
    app.stop().await;
}

/// A school administrator uploads a list with a bad row, sees which row failed and why,
/// fixes it and uploads again — in Chromium, through the real form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_fix_and_reupload_in_chromium() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    let school = app.account("school").org_code.clone().unwrap();
    let mut rows = vec![
        crate::registry::row(&school, 701, "浏览器一"),
        crate::registry::row(&school, 702, "浏览器二"),
    ];
    let wrong = if rows[1][5].ends_with('0') { "1" } else { "0" };
    rows[1][5].replace_range(17.., wrong);
    let dir = app.dir();
    let write = |rows: &[Vec<String>]| {
        let path = dir.join("学籍.csv");
        let mut w = csv::Writer::from_path(&path).unwrap();
        w.write_record(registry::validate::COLUMNS).unwrap();
        for r in rows {
            w.write_record(r).unwrap();
        }
        w.flush().unwrap();
        path
    };

    sign_in(&c, &app, "sc.school").await;
    c.find(Locator::LinkText("批量导入"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let template = c
        .find(Locator::Id("template-xlsx"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap();
    assert_eq!(template.as_deref(), Some("/templates/students.xlsx"));

    let upload = |path: std::path::PathBuf| {
        let c = c.clone();
        let url = app.url("/import");
        async move {
            c.goto(&url).await.unwrap();
            c.find(Locator::Id("file"))
                .await
                .unwrap()
                .send_keys(path.to_str().unwrap())
                .await
                .unwrap();
            c.find(Locator::Id("upload"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            c.wait()
                .for_element(Locator::Id("import-summary"))
                .await
                .unwrap();
        }
    };
    upload(write(&rows)).await;
    let rejected = text_of(&c, "rows-rejected").await;
    assert_eq!(rejected, "1");
    let problems = text_of(&c, "problems").await;
    assert!(
        problems.contains("身份证件号码") && problems.contains("校验位"),
        "{problems}"
    );
    assert!(
        problems.contains('3'),
        "the failing row is named by its row number: {problems}"
    );
    let shot = c.screenshot().await.unwrap();
    let _ = std::fs::write(std::env::temp_dir().join("chuanyu-import-result.png"), shot);

    // The registrar fixes the row and uploads the same file again.
    rows[1] = crate::registry::row(&school, 702, "浏览器二");
    upload(write(&rows)).await;
    assert_eq!(text_of(&c, "rows-rejected").await, "0");
    assert_eq!(text_of(&c, "rows-inserted").await, "1");
    assert_eq!(text_of(&c, "rows-unchanged").await, "1");
    c.close().await.unwrap();
    app.stop().await;
}

/// A 重庆 school administrator finds a 四川 student on 跨省查询 in Chromium: the record shows
/// its source province; then the student, on the 四川 portal, sees that read on 我的访问记录.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_province_lookup_in_chromium() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let pair = crate::federation::Pair::start(Engine::Sqlite)
        .await
        .unwrap();
    let no = pair.sc.account("student").person_key.clone().unwrap();

    sign_in(&c, &pair.cq, "cq.school").await;
    c.find(Locator::LinkText("跨省查询"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("fed-q"))
        .await
        .unwrap()
        .send_keys(&no)
        .await
        .unwrap();
    c.find(Locator::Id("fed-search"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("remote-source"))
        .await
        .unwrap();
    assert!(text_of(&c, "remote-source").await.contains("四川省教育厅"));
    assert_eq!(text_of(&c, "remote-student_no").await, no);
    let page = c.source().await.unwrap();
    assert!(!page.contains("citizen-id"), "no ID number leaves 四川");
    let shot = c.screenshot().await.unwrap();
    let _ = std::fs::write(
        std::env::temp_dir().join("chuanyu-cross-province.png"),
        shot,
    );

    sign_in(&c, &pair.sc, "sc.student").await;
    c.goto(&pair.sc.url("/me/access-log")).await.unwrap();
    let log = text_of(&c, "access-log").await;
    assert!(log.contains("重庆市教育委员会"), "{log}");
    assert!(log.contains("转学核验"), "{log}");
    c.close().await.unwrap();
    pair.stop().await;
}

async fn click(c: &Client, id: &str) {
    c.wait()
        .for_element(Locator::Id(id))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Opens `url` until the element `id` reads `expected` (the other node's message may still
/// be on its way).
async fn open_until(c: &Client, url: &str, id: &str, expected: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        c.goto(url).await.unwrap();
        if let Ok(e) = c.find(Locator::Id(id)).await
            && e.text().await.unwrap_or_default() == expected
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{url}: #{id} never read {expected}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_through_both_portals_in_chromium() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let pair = crate::federation::Pair::start(Engine::Sqlite)
        .await
        .unwrap();
    let no = pair.sc.account("student").person_key.clone().unwrap();

    // 重庆's school applies.
    sign_in(&c, &pair.cq, "cq.school").await;
    c.find(Locator::LinkText("跨省转学"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("apply-student-no"))
        .await
        .unwrap()
        .send_keys(&no)
        .await
        .unwrap();
    c.find(Locator::Css("#apply-grade option[value='八年级']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("apply-reason"))
        .await
        .unwrap()
        .send_keys("随父母工作调动迁居重庆")
        .await
        .unwrap();
    c.find(Locator::Id("apply-documents"))
        .await
        .unwrap()
        .send_keys("户口簿、居住证")
        .await
        .unwrap();
    click(&c, "apply-submit").await;
    c.wait()
        .for_element(Locator::Id("transfer-id"))
        .await
        .unwrap();
    let id = text_of(&c, "transfer-id").await;
    assert_eq!(text_of(&c, "transfer-state").await, "审核中");
    assert_eq!(text_of(&c, "transfer-step").await, "转入地教育局审核");
    let cq_page = pair.cq.url(&format!("/transfers/{id}"));
    let sc_page = pair.sc.url(&format!("/transfers/{id}"));

    // 重庆's district bureau is told on its home page, finds it waiting and approves.
    sign_in(&c, &pair.cq, "cq.district").await;
    assert!(
        text_of(&c, "transfers-waiting").await.ends_with("：1"),
        "the home page counts what waits"
    );
    c.goto(&pair.cq.url("/transfers")).await.unwrap();
    assert_eq!(text_of(&c, "waiting-count").await, "1");
    let shot = c.screenshot().await.unwrap();
    let _ = std::fs::write(
        std::env::temp_dir().join("chuanyu-transfer-inbox.png"),
        shot,
    );
    c.find(Locator::Css(&format!(
        "#waiting tr[data-transfer='{id}'] a"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    click(&c, "decide-approve").await;
    c.wait()
        .for_element(Locator::Id("transfer-step"))
        .await
        .unwrap();
    assert_eq!(text_of(&c, "transfer-step").await, "转出学校同意");

    // 四川's school and district bureau approve on their portal.
    sign_in(&c, &pair.sc, "sc.school").await;
    open_until(&c, &sc_page, "transfer-step", "转出学校同意").await;
    click(&c, "decide-approve").await;
    sign_in(&c, &pair.sc, "sc.district").await;
    open_until(&c, &sc_page, "transfer-step", "转出地教育局审核").await;
    click(&c, "decide-approve").await;

    // 重庆's school sees the record arrive and confirms enrolment.
    sign_in(&c, &pair.cq, "cq.school").await;
    open_until(&c, &cq_page, "transfer-state", "已转入，待报到").await;
    click(&c, "decide-confirm").await;
    c.wait()
        .for_element(Locator::Id("transfer-state"))
        .await
        .unwrap();
    assert_eq!(text_of(&c, "transfer-state").await, "已完成");
    let timeline = text_of(&c, "transfer-timeline").await;
    assert!(timeline.contains("学籍已转入"), "{timeline}");
    let shot = c.screenshot().await.unwrap();
    let _ = std::fs::write(std::env::temp_dir().join("chuanyu-transfer-page.png"), shot);

    // The record is in 重庆 now, with its history from 四川.
    c.goto(&pair.cq.url(&format!("/students/{no}")))
        .await
        .unwrap();
    let record = text_of(&c, "student-record").await;
    assert!(record.contains("转入"), "{record}");
    let history = text_of(&c, "history").await;
    assert!(
        history.contains("转出中"),
        "四川's entries came along: {history}"
    );
    assert!(history.contains("自 SC"), "{history}");
    let shot = c.screenshot().await.unwrap();
    let _ = std::fs::write(std::env::temp_dir().join("chuanyu-transfer.png"), shot);

    // And 四川's school sees it gone, pointing at 重庆.
    sign_in(&c, &pair.sc, "sc.school").await;
    open_until(&c, &sc_page, "transfer-state", "已完成").await;
    c.goto(&pair.sc.url(&format!("/students/{no}")))
        .await
        .unwrap();
    assert!(text_of(&c, "history").await.contains("已转入 CQ"));
    c.close().await.unwrap();
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_issued_verified_and_revoked_in_chromium() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let pair =
        crate::federation::Pair::start_with(Engine::Sqlite, |o| o.status_list_ttl_seconds = 2)
            .await
            .unwrap();

    // A 四川 teacher opens their certificate, downloads the credential and prints it.
    sign_in(&c, &pair.sc, "sc.teacher").await;
    c.find(Locator::LinkText("教师资格证书"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("#mine a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let no = text_of(&c, "cert-no").await;
    let href = c
        .find(Locator::Id("download"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let downloaded = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.json()).then(j => done(j.proof.cryptosuite + ' ' + j.credentialSubject.certificateNumber));",
            vec![serde_json::json!(href)],
        )
        .await
        .unwrap();
    assert_eq!(
        downloaded,
        serde_json::json!(format!("eddsa-jcs-2022 {no}"))
    );
    click(&c, "print").await;
    c.wait().for_element(Locator::Css(".qr svg")).await.unwrap();
    let code = text_of(&c, "print-code").await;
    assert!(code.starts_with("SC-"), "{code}");
    let shot = c.screenshot().await.unwrap();
    let _ = std::fs::write(
        std::env::temp_dir().join("chuanyu-certificate-print.png"),
        shot,
    );

    // An anonymous visitor checks the code on 重庆's portal.
    c.delete_all_cookies().await.unwrap();
    c.goto(&pair.cq.url("/verify")).await.unwrap();
    c.find(Locator::Id("verify-code"))
        .await
        .unwrap()
        .send_keys(&code.to_lowercase())
        .await
        .unwrap();
    click(&c, "verify-submit").await;
    c.wait()
        .for_element(Locator::Id("verify-verdict"))
        .await
        .unwrap();
    let result = text_of(&c, "verify-result").await;
    assert_eq!(text_of(&c, "verify-verdict").await, "有效", "{result}");
    assert!(result.contains(&no), "{result}");
    let verify_url = c.current_url().await.unwrap().to_string();

    // The issuing bureau revokes it on 四川's portal.
    sign_in(&c, &pair.sc, "sc.province").await;
    c.goto(&pair.sc.url(&format!("/certificates/{no}")))
        .await
        .unwrap();
    c.find(Locator::Id("status-reason"))
        .await
        .unwrap()
        .send_keys("以欺骗手段取得 obtained by deception")
        .await
        .unwrap();
    click(&c, "status-revoked").await;
    c.wait()
        .for_element(Locator::Id("cert-status"))
        .await
        .unwrap();
    assert_eq!(text_of(&c, "cert-status").await, "撤销");

    // The visitor, back on 重庆's page, sees it revoked once 四川's list has been re-read.
    c.delete_all_cookies().await.unwrap();
    open_until(&c, &verify_url, "verify-verdict", "已撤销").await;
    let shot = c.screenshot().await.unwrap();
    let _ = std::fs::write(
        std::env::temp_dir().join("chuanyu-certificate-revoked.png"),
        shot,
    );
    c.close().await.unwrap();
    pair.stop().await;
}
