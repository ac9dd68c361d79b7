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

/// Clicks a link or a form's button and waits for the page it leads to (the clicked
/// element goes stale), so the next step never acts on the page being left.
async fn click(c: &Client, id: &str) {
    let element = c.wait().for_element(Locator::Id(id)).await.unwrap();
    element.clone().click().await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while element.is_displayed().await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "clicking #{id} led nowhere within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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

async fn type_into(c: &Client, id: &str, text: &str) {
    let field = c.wait().for_element(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn shoot(c: &Client, name: &str) {
    let shot = c.screenshot().await.unwrap();
    let _ = std::fs::write(std::env::temp_dir().join(name), shot);
}

/// 就业: a 重庆 employer posts a job and submits it; 重庆's provincial bureau approves it on
/// 就业审核; a 四川 graduate, on the 四川 portal, finds it with a query that needs word
/// segmentation, sees it is 重庆's, opens it and applies; the employer opens the application
/// on 招聘管理 and sees the applicant with their diploma verified. A failing step leaves
/// `chuanyu-employment-failure.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn employment_job_posted_approved_found_and_applied_in_chromium() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let pair = std::sync::Arc::new(
        crate::federation::Pair::start(Engine::Sqlite)
            .await
            .unwrap(),
    );
    // The steps run in their own task so that a failed one can be photographed first.
    let steps = tokio::spawn(employment_steps(c.clone(), pair.clone())).await;
    if let Err(failed) = steps {
        let shot = std::env::temp_dir().join("chuanyu-employment-failure.png");
        if let Ok(png) = c.screenshot().await {
            let _ = std::fs::write(&shot, png);
        }
        eprintln!("the page at the failure: {}", shot.display());
        let _ = c.close().await;
        if let Ok(pair) = std::sync::Arc::try_unwrap(pair) {
            pair.stop().await;
        }
        match failed.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("the steps did not finish: {e}"),
        }
    }
    c.close().await.unwrap();
    std::sync::Arc::try_unwrap(pair)
        .ok()
        .expect("the steps are done with the nodes")
        .stop()
        .await;
}

async fn employment_steps(c: Client, pair: std::sync::Arc<crate::federation::Pair>) {
    let title = "川渝智慧交通数据分析师";
    let deadline = (employment::jobs::today_cst() + time::Duration::days(60)).to_string();

    // 重庆's verified employer writes the job on 招聘管理 and submits it for review.
    sign_in(&c, &pair.cq, "cq.employer").await;
    c.find(Locator::LinkText("招聘管理"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&c, "new-job").await;
    type_into(&c, "job-title-input", title).await;
    type_into(
        &c,
        "job-description",
        "负责城市道路、公交与轨道客流数据的采集、清洗与建模分析，建设智慧交通数据看板，支撑成渝两地交通协同决策。",
    )
    .await;
    type_into(&c, "job-city", "500103").await;
    c.find(Locator::Css("#job-level option[value='bachelor']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    type_into(&c, "job-salary-min", "9000").await;
    type_into(&c, "job-salary-max", "15000").await;
    type_into(&c, "job-headcount", "3").await;
    type_into(&c, "job-majors", "交通运输、计算机科学与技术、统计学").await;
    type_into(&c, "job-contact", "人事部 王经理 023-63861234").await;
    // A date input is typed in the browser's locale; its value is always YYYY-MM-DD.
    c.execute(
        "document.getElementById('job-deadline').value = arguments[0];",
        vec![serde_json::json!(deadline)],
    )
    .await
    .unwrap();
    click(&c, "job-submit").await;
    c.wait()
        .for_element(Locator::Id("job-status"))
        .await
        .unwrap();
    assert_eq!(text_of(&c, "job-status").await, "待审核");
    assert_eq!(text_of(&c, "job-title").await, title);
    let url = c.current_url().await.unwrap();
    let id = url
        .path()
        .strip_prefix("/jobs/")
        .expect("the job's page after submitting")
        .to_owned();
    assert!(id.starts_with("CQ-J-"), "{id}");

    // 重庆's provincial bureau (over the employer, registered at 500000) is told on its home
    // page, opens 就业审核 and approves.
    sign_in(&c, &pair.cq, "cq.province").await;
    let waiting = text_of(&c, "employment-waiting").await;
    assert!(waiting.contains("待我审核的岗位：1"), "{waiting}");
    c.find(Locator::LinkText("就业审核"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css(&format!(
            "#review-jobs li[data-job='{id}'] button[value='approve']"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("review-jobs-none"))
        .await
        .unwrap();
    c.goto(&pair.cq.url(&format!("/jobs/{id}"))).await.unwrap();
    assert_eq!(text_of(&c, "job-status").await, "招聘中");

    // A 四川 graduate searches on the 四川 portal: "智慧交通 数据分析" only matches once
    // jieba has cut the title into words.
    sign_in(&c, &pair.sc, "sc.graduate").await;
    c.find(Locator::LinkText("就业岗位"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    type_into(&c, "jobs-q", "智慧交通 数据分析").await;
    click(&c, "jobs-search").await;
    // The browse list before the search may hold the job too: wait for the results page.
    let deadline_at = std::time::Instant::now() + Duration::from_secs(30);
    while !c.current_url().await.unwrap().as_str().contains("q=") {
        assert!(
            std::time::Instant::now() < deadline_at,
            "the search never ran"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let hit = format!("#jobs-results li[data-job='{id}']");
    let found = c.wait().for_element(Locator::Css(&hit)).await.unwrap();
    let shown = found
        .find(Locator::Css("a.job-title"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(shown, title);
    let marked = found
        .find_all(Locator::Css("a.job-title mark"))
        .await
        .unwrap();
    assert!(!marked.is_empty(), "the matched words are highlighted");
    let badge = found
        .find(Locator::Css(".badge.member"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(badge, "CQ 重庆", "the job is 重庆's");
    assert!(
        c.find(Locator::Id("jobs-unanswered")).await.is_err(),
        "重庆 answered"
    );
    shoot(&c, "chuanyu-jobs.png").await;
    c.set_window_size(390, 844).await.unwrap();
    shoot(&c, "chuanyu-jobs-phone.png").await;
    c.execute(
        "document.getElementById('jobs-total').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    shoot(&c, "chuanyu-jobs-phone-results.png").await;
    c.set_window_size(1280, 900).await.unwrap();

    // The graduate opens it (fetched from 重庆 by the 四川 node) and applies.
    found
        .find(Locator::Css("a.job-title"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("job-source"))
        .await
        .unwrap();
    assert_eq!(text_of(&c, "job-source").await, "CQ 重庆");
    assert_eq!(text_of(&c, "job-title").await, title);
    shoot(&c, "chuanyu-job.png").await;
    click(&c, "apply-button").await;
    c.wait()
        .for_element(Locator::Id("my-application-status"))
        .await
        .unwrap();
    assert_eq!(text_of(&c, "my-application-status").await, "已投递");

    // 重庆's employer finds the application under 招聘管理, with the diploma 四川 issued
    // verified on 重庆's node.
    let graduate = pair.sc.account("graduate").display_name.clone();
    sign_in(&c, &pair.cq, "cq.employer").await;
    c.find(Locator::LinkText("招聘管理"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css(&format!(
            "#my-jobs tr[data-job='{id}'] a[href^='/employer/applications']"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("#applications tr[data-application] td a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("applicant-name"))
        .await
        .unwrap();
    assert_eq!(text_of(&c, "applicant-name").await, graduate);
    let verdict = text_of(&c, "diploma-verdict").await;
    let detail = text_of(&c, "diploma").await;
    assert!(verdict.starts_with("已核验"), "{detail}");
    assert!(detail.contains("四川节点"), "{detail}");
    assert!(detail.contains("状态有效"), "{detail}");
    shoot(&c, "chuanyu-application.png").await;
}
