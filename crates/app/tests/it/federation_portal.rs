//! The federation in the portal, over two real nodes: 跨省学籍查询 (`/federation/lookup`)
//! shows 四川's record with its source and without the ID number, finds it by ID number too,
//! sends local numbers to the local page, refuses those who may not ask, says which node did
//! not answer; 联盟状态 (`/federation`) shows the directory, the outbox with its reasons, the
//! message log and the notices received.

use crate::federation::{PURPOSE, Pair};
use crate::for_each_engine;
use crate::support::{Engine, TestApp};

/// A 学籍号's name and ID number, read from the node that holds it.
async fn person(app: &TestApp, no: &str) -> (String, String) {
    let row: (String, Option<String>) = platform::on_db!(&app.db, p => sqlx::query_as(
        "SELECT name, citizen_id FROM students WHERE student_no = $1")
        .bind(no).fetch_one(p).await.unwrap());
    (row.0, row.1.expect("the seeded student has an ID number"))
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn get(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

fn lookup_path(q: &str) -> String {
    format!("/federation/lookup?q={}&purpose={PURPOSE}", encode(q))
}

/// The part of a page between `start` and the next `end`.
fn section<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in {html}"));
    let rest = &html[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// `id` does not appear in `html` other than inside the G-type 学籍号 it is part of.
fn shows_no_id(html: &str, id: &str) -> bool {
    !html.replace(&format!("G{id}"), "").contains(id)
}

async fn lookup_page(engine: Engine) {
    let Some(pair) = Pair::start(engine).await else {
        return;
    };
    let (cq, sc) = (&pair.cq, &pair.sc);
    let no = sc.account("student").person_key.clone().unwrap();
    let (name, id) = person(sc, &no).await;
    let school = cq.sign_in_form("cq.school").await;

    // The form, with the directory's purposes and 转学核验 chosen.
    let (status, page) = get(cq, &school, "/federation/lookup").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(r#"<option value="transfer-verification" selected>转学核验</option>"#),
        "{page}"
    );
    assert!(page.contains(r#"href="/federation/lookup" aria-current="page""#));

    // By 学籍号: 四川 answers, shown with its source, read-only, without the ID number.
    let (status, page) = get(cq, &school, &lookup_path(&no)).await;
    assert_eq!(status, 200, "{page}");
    let record = section(&page, r#"id="remote-record""#, "</section>");
    assert!(
        record.contains("来源：四川省教育厅（SC）"),
        "the source is named: {record}"
    );
    assert!(record.contains(&format!(r#"id="remote-name">{name}<"#)));
    assert!(record.contains(&format!(r#"id="remote-student_no">{no}<"#)));
    assert!(record.contains("转学核验"), "the purpose is named");
    assert!(shows_no_id(&page, &id), "no ID number on the page: {page}");

    // By ID number: found at 四川 by its blind index; the record shows no ID number either.
    let (status, page) = get(cq, &school, &lookup_path(&id)).await;
    assert_eq!(status, 200, "{page}");
    let record = section(&page, r#"id="remote-record""#, "</section>");
    assert!(record.contains("四川省教育厅"), "{record}");
    assert!(record.contains(&format!(r#"id="remote-name">{name}<"#)));
    assert!(shows_no_id(record, &id), "{record}");

    // Both reads are on the student's own 我的访问记录 at 四川, with cq.school named.
    let student = sc.sign_in_form("sc.student").await;
    let (_, log) = get(sc, &student, "/me/access-log").await;
    assert!(log.contains("cq.school"), "{log}");

    // In English, the same record with the English purpose name.
    let (_, _) = get(cq, &school, "/lang?set=en&next=/").await;
    let (_, page) = get(cq, &school, &lookup_path(&no)).await;
    assert!(page.contains("Source: 四川省教育厅"), "{page}");
    assert!(page.contains("Cross-province student look-up"));
    let (_, _) = get(cq, &school, "/lang?set=zh&next=/").await;

    // A number this node holds goes to its own page; an ID number held here is linked.
    let own = cq.account("student").person_key.clone().unwrap();
    let r = school.get(cq.url(&lookup_path(&own))).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], format!("/students/{own}").as_str());
    let (_, own_id) = person(cq, &own).await;
    let (status, page) = get(cq, &school, &lookup_path(&own_id)).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!(r#"href="/students/{own}""#)),
        "{page}"
    );
    assert!(!page.contains(r#"id="remote-record""#));

    // Nobody holds it: said so, after asking.
    let nobody = format!("L{}", "9".repeat(12));
    let (status, page) = get(cq, &school, &lookup_path(&nobody)).await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"id="fed-not-found""#), "{page}");

    // Not a 学籍号 nor an ID number: the parser's reason, in Chinese, on the form.
    let (status, page) = get(cq, &school, &lookup_path("51010420")).await;
    assert_eq!(status, 400);
    let reason = kernel::ids::CitizenId::parse("51010420").unwrap_err();
    let reason = kernel::Localized::message(&reason, kernel::Lang::Zh);
    assert!(page.contains(&reason), "{reason} in {page}");

    // A purpose the directory does not know is refused on the form.
    let path = format!("/federation/lookup?q={no}&purpose=curiosity");
    let (status, page) = get(cq, &school, &path).await;
    assert_eq!(status, 400);
    assert!(page.contains("请选择联盟目录中的用途"), "{page}");

    // Only those who run 学籍 ask other provinces; the others get "not found", anonymous
    // visitors the sign-in page.
    for who in ["cq.student", "cq.teacher", "cq.employer", "cq.joint"] {
        let client = cq.sign_in_form(who).await;
        assert_eq!(cq.status(&client, &lookup_path(&no)).await, 404, "{who}");
        let (_, home) = get(cq, &client, "/").await;
        assert!(!home.contains("/federation/lookup"), "{who} has no link");
    }
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    assert_eq!(cq.status(&anonymous, "/federation/lookup").await, 303);
    for who in ["cq.district", "cq.province", "cq.admin"] {
        let client = cq.sign_in_form(who).await;
        let (status, page) = get(cq, &client, &lookup_path(&no)).await;
        assert_eq!(status, 200, "{who}");
        assert!(page.contains("来源：四川省教育厅"), "{who}: {page}");
    }
    pair.stop().await;
}

async fn lookup_with_a_peer_down(engine: Engine) {
    let Some(mut pair) = Pair::start(engine).await else {
        return;
    };
    let no = pair.sc.account("student").person_key.clone().unwrap();
    pair.sc.running.take().unwrap().stop().await.unwrap();
    let school = pair.cq.sign_in_form("cq.school").await;
    let (status, page) = get(&pair.cq, &school, &lookup_path(&no)).await;
    assert_eq!(status, 200, "a notice, not an error page: {page}");
    let notice = section(&page, r#"id="fed-incomplete""#, "</p>");
    assert!(notice.contains("SC"), "{notice}");
    assert!(notice.contains("未能应答"), "{notice}");
    assert!(!page.contains(r#"id="remote-record""#));
    pair.stop().await;
}

async fn status_page(engine: Engine) {
    let Some(mut pair) = Pair::start(engine).await else {
        return;
    };
    let directory: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&pair.files.directory).unwrap()).unwrap();
    let version = directory["directory"]["version"].as_u64().unwrap();

    // A look-up, and a notice delivered to 四川, so both logs have something to show.
    let no = pair.sc.account("student").person_key.clone().unwrap();
    let school = pair.cq.sign_in_form("cq.school").await;
    assert_eq!(get(&pair.cq, &school, &lookup_path(&no)).await.0, 200);
    let notice = serde_json::json!({"kind": "joint-office.circular", "title": "川渝联席会议通知", "body": "请各校核对学籍"});
    let mut tx = pair.cq.db.begin().await.unwrap();
    exchange::outbox::enqueue(
        &mut tx,
        "SC",
        exchange::outbox::NOTICE_DELIVER,
        "notice",
        &notice,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let cq_federation = pair.cq.federation();
    exchange::outbox::deliver_due(&cq_federation, &pair.cq.db)
        .await
        .unwrap();

    let admin = pair.cq.sign_in_form("cq.admin").await;
    let (status, page) = get(&pair.cq, &admin, "/federation").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("联盟已启用"), "{page}");
    assert!(page.contains(&format!(r#"id="directory-version">{version}<"#)));
    assert!(page.contains("重庆市教育委员会") && page.contains("四川省教育厅"));
    assert!(page.contains("student.lookup"));
    assert!(page.contains(r#"id="outbox-empty""#), "nothing waits yet");
    let log = section(&page, r#"id="message-log""#, "</table>");
    assert!(log.contains("CQ → SC"), "{log}");
    assert!(log.contains("200 成功"), "{log}");
    assert!(page.contains(r#"href="/federation" aria-current="page""#));

    // 四川 received the notice and shows it.
    let sc_admin = pair.sc.sign_in_form("sc.admin").await;
    let (status, page) = get(&pair.sc, &sc_admin, "/federation").await;
    assert_eq!(status, 200);
    let notices = section(&page, r#"id="notices""#, "</table>");
    assert!(notices.contains("川渝联席会议通知"), "{notices}");

    // 四川 goes down; a message for it waits in the queue with the reason.
    pair.sc.running.take().unwrap().stop().await.unwrap();
    let mut tx = pair.cq.db.begin().await.unwrap();
    let waiting = exchange::outbox::enqueue(
        &mut tx,
        "SC",
        exchange::outbox::NOTICE_DELIVER,
        "notice",
        &notice,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    exchange::outbox::deliver_due(&cq_federation, &pair.cq.db)
        .await
        .unwrap();
    let (_, page) = get(&pair.cq, &admin, "/federation").await;
    let queue = section(&page, r#"id="outbox""#, "</table>");
    assert!(queue.contains(&waiting), "{queue}");
    assert!(queue.contains("待发送"), "{queue}");
    assert!(queue.contains("federation.peer_unreachable"), "{queue}");
    let counts = section(&page, r#"id="outbox-counts""#, "</p>");
    assert!(
        counts.contains("待发送 <strong>1</strong>"),
        "the count: {counts}"
    );

    // The joint office sees it too; a school does not, nor is it offered the link.
    let joint = pair.cq.sign_in_form("cq.joint").await;
    assert_eq!(pair.cq.status(&joint, "/federation").await, 200);
    let (_, home) = get(&pair.cq, &joint, "/").await;
    assert!(home.contains(r#"href="/federation""#));
    assert_eq!(pair.cq.status(&school, "/federation").await, 404);
    let (_, home) = get(&pair.cq, &school, "/").await;
    assert!(!home.contains(r#"href="/federation""#));
    assert!(home.contains(r#"href="/federation/lookup""#));
    pair.stop().await;
}

/// A node that runs alone says federation is off, and why, on both pages.
async fn federation_off(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let admin = app.sign_in_form(&format!("{}.admin", app.prefix)).await;
    let (status, page) = get(&app, &admin, "/federation").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("联盟未启用"), "{page}");
    assert!(page.contains("本节点未加入联盟"), "{page}");
    let school = app.sign_in_form(&format!("{}.school", app.prefix)).await;
    let no = app.other_student.clone();
    let (status, page) = get(&app, &school, &lookup_path(&no)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"id="federation-unavailable""#), "{page}");
    app.stop().await;
}

for_each_engine!(
    lookup_page,
    lookup_with_a_peer_down,
    status_page,
    federation_off
);
