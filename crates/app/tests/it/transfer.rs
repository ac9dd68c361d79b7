//! Cross-province transfers between two real nodes over real HTTP: the whole chain, each
//! rejection and cancellation (including a cancellation that crosses the handoff), a record
//! that cannot be created on the receiving node, deadlines and escalation, scope, and
//! `chuanyu check transfers`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::federation::Pair;
use crate::for_each_engine;
use crate::support::{Engine, TestApp};

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let r = app.get_as(token, path).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn decide(
    app: &TestApp,
    token: &str,
    id: &str,
    decision: &str,
    reason: &str,
) -> (u16, Value) {
    post(
        app,
        token,
        &format!("/api/v1/transfers/{id}/decisions"),
        json!({"decision": decision, "reason": reason}),
    )
    .await
}

/// Waits (up to 30 s) until `app`'s copy of transfer `id`, seen by `token`, satisfies `done`.
async fn wait_for(app: &TestApp, token: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = get(app, token, &format!("/api/v1/transfers/{id}")).await;
        if status == 200 && done(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "timed out; last answer {status}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn state_is(state: &'static str) -> impl Fn(&Value) -> bool {
    move |b| b["state"] == state
}

async fn apply(pair: &Pair, no: &str) -> String {
    let token = pair.cq.token("cq.school").await;
    let (status, body) = post(
        &pair.cq,
        &token,
        "/api/v1/transfers",
        json!({"student_no": no, "to_grade": "七年级", "reason": "随父母工作调动迁居重庆", "documents": "户口簿、居住证"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["state"], "pending");
    assert_eq!(body["step"], "receiving-district");
    assert_eq!(body["from_member"], "SC");
    body["id"].as_str().unwrap().to_owned()
}

async fn record(app: &TestApp, token: &str, no: &str) -> Value {
    let (status, body) = get(app, token, &format!("/api/v1/students/{no}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn violations(pair: &Pair) -> transfer::check::Report {
    transfer::check::run(&[
        transfer::check::Node {
            member: "CQ".into(),
            db: pair.cq.db.clone(),
        },
        transfer::check::Node {
            member: "SC".into(),
            db: pair.sc.db.clone(),
        },
    ])
    .await
    .unwrap()
}

async fn whole_chain(engine: Engine) {
    let Some(pair) = Pair::start(engine).await else {
        return;
    };
    let (cq, sc) = (&pair.cq, &pair.sc);
    let no = sc.account("student").person_key.clone().unwrap();
    let before = record(sc, &sc.token("sc.school").await, &no).await;
    let id = apply(&pair, &no).await;

    let cq_school = cq.token("cq.school").await;
    let cq_district = cq.token("cq.district").await;
    let sc_school = sc.token("sc.school").await;
    let sc_district = sc.token("sc.district").await;

    // Nobody but the step's owner decides it; another school does not even see it.
    let (status, body) = decide(cq, &cq_school, &id, "approve", "").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("transfer.not_your_step"))
    );
    let other = cq.token("cq.school2").await;
    assert_eq!(
        get(cq, &other, &format!("/api/v1/transfers/{id}")).await.0,
        404
    );
    assert_eq!(decide(cq, &other, &id, "cancel", "x").await.0, 404);
    // The district bureau sees it waiting for it.
    let (_, waiting) = get(cq, &cq_district, "/api/v1/transfers?waiting=true").await;
    assert!(
        waiting
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id.as_str()),
        "{waiting}"
    );

    let (status, body) = decide(cq, &cq_district, &id, "approve", "材料齐全").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["step"], "sending-school");

    // 四川 receives the request; its school agrees, its district approves.
    let t = wait_for(sc, &sc_school, &id, state_is("pending")).await;
    assert_eq!(t["side"], "sending");
    assert_eq!(t["step"], "sending-school");
    assert_eq!(t["waiting_for_me"], true);
    assert_eq!(t["from_school"], before["school_code"]);
    let sc_other = sc.token("sc.school2").await;
    assert_eq!(decide(sc, &sc_other, &id, "approve", "").await.0, 404);
    assert_eq!(
        decide(sc, &sc_school, &id, "approve", "同意转出").await.0,
        200
    );
    // 重庆's copy follows.
    wait_for(cq, &cq_school, &id, |b| b["step"] == "sending-district").await;
    let (status, body) = decide(sc, &sc_district, &id, "approve", "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "handing-over");

    // The record moves: active in 重庆 (转入, with 四川's history), 转出 in 四川.
    wait_for(cq, &cq_school, &id, state_is("arrived")).await;
    wait_for(sc, &sc_school, &id, state_is("completed")).await;
    let moved = record(cq, &cq_school, &no).await;
    assert_eq!(moved["status"], "转入");
    assert_eq!(moved["source"], "CQ");
    assert_eq!(moved["grade"], "七年级");
    assert_eq!(moved["name"], before["name"]);
    let history = moved["changes"].as_array().unwrap();
    assert!(
        history.iter().any(|c| c["to_status"] == "转出中"),
        "四川's lock entry travelled: {history:?}"
    );
    assert!(history.iter().any(|c| c["to_status"] == "转入"));
    let left = record(sc, &sc_school, &no).await;
    assert_eq!(left["status"], "转出");
    assert!(
        left["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["detail"].as_str().unwrap().contains("CQ")),
        "the 转出 entry points at 重庆: {left}"
    );
    // 重庆 answers peers' look-ups for the student now: its blind index has the record.
    let indexed: (i64,) = platform::on_db!(&cq.db, p => sqlx::query_as(
        "SELECT COUNT(*) FROM federation_index WHERE student_no = $1").bind(&no).fetch_one(p).await.unwrap());
    assert!(indexed.0 >= 1);

    // Too late to cancel; the receiving school confirms enrolment.
    let (status, body) = decide(cq, &cq_school, &id, "cancel", "不转了").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("transfer.not_applicable"))
    );
    assert_eq!(decide(cq, &cq_school, &id, "confirm", "").await.0, 200);
    let done = wait_for(cq, &cq_school, &id, state_is("completed")).await;
    let actions: Vec<&str> = done["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["applied", "approved", "approved", "arrived", "confirmed"],
        "{done}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, t) = get(sc, &sc_school, &format!("/api/v1/transfers/{id}")).await;
        if t["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "confirmed")
        {
            break;
        }
        assert!(Instant::now() < deadline, "{t}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The family sees who read the record, the other province named.
    let (_, log) = get(sc, &sc.token("sc.student").await, "/api/v1/me/access-log").await;
    assert!(log.to_string().contains("CQ"), "{log}");
    // The feed other systems read.
    let (_, feed) = get(cq, &cq_district, "/api/v1/transfers/events?after=0").await;
    assert!(feed.as_array().unwrap().len() >= 5, "{feed}");

    let report = violations(&pair).await;
    assert_eq!(report.violations, vec![], "{report:?}");
    assert_eq!((report.transfers, report.ended), (1, 1));

    // The check does find a broken invariant: the record active on both nodes, and a
    // history entry that did not arrive.
    platform::on_db!(&sc.db, p => sqlx::query("UPDATE students SET status = '在读' WHERE student_no = $1")
        .bind(&no).execute(p).await.unwrap().rows_affected());
    platform::on_db!(&cq.db, p => sqlx::query(
        "DELETE FROM student_changes WHERE student_no = $1 AND to_status = '转出中'")
        .bind(&no).execute(p).await.unwrap().rows_affected());
    let kinds: Vec<&str> = violations(&pair)
        .await
        .violations
        .iter()
        .map(|v| v.kind)
        .collect();
    assert_eq!(kinds, ["history-lost", "active-twice"]);
    pair.stop().await;
}

async fn rejections_and_cancellations(engine: Engine) {
    let Some(pair) = Pair::start(engine).await else {
        return;
    };
    let (cq, sc) = (&pair.cq, &pair.sc);
    let no = sc.account("student").person_key.clone().unwrap();
    let cq_school = cq.token("cq.school").await;
    let cq_district = cq.token("cq.district").await;
    let sc_school = sc.token("sc.school").await;

    // A bad application is refused with what is wrong.
    let (status, body) = post(
        cq,
        &cq_school,
        "/api/v1/transfers",
        json!({"student_no": "G123", "to_grade": "七年级", "reason": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("transfer.invalid")),
        "{body}"
    );
    let (status, body) = post(
        cq,
        &cq_school,
        "/api/v1/transfers",
        json!({"student_no": no, "to_grade": "九年级半", "reason": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("transfer.invalid")),
        "{body}"
    );
    let (status, _) = post(
        cq,
        &cq_school,
        "/api/v1/transfers",
        json!({"student_no": no, "to_grade": "七年级", "reason": " "}),
    )
    .await;
    assert_eq!(status, 400);
    // Only schools apply.
    let (status, _) = post(
        cq,
        &cq_district,
        "/api/v1/transfers",
        json!({"student_no": no, "to_grade": "七年级", "reason": "x"}),
    )
    .await;
    assert_eq!(status, 409);

    // 1. The receiving district rejects: 四川 never hears of it.
    let id = apply(&pair, &no).await;
    // One open application per student.
    let (status, _) = post(
        cq,
        &cq_school,
        "/api/v1/transfers",
        json!({"student_no": no, "to_grade": "七年级", "reason": "x"}),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        decide(cq, &cq_district, &id, "reject", "").await.0,
        400,
        "a rejection needs a reason"
    );
    let (status, body) = decide(cq, &cq_district, &id, "reject", "学位已满").await;
    assert_eq!((status, body["state"].as_str()), (200, Some("rejected")));
    assert_eq!(
        get(sc, &sc_school, &format!("/api/v1/transfers/{id}"))
            .await
            .0,
        404
    );

    // 2. The sending school rejects: 重庆's copy ends with the reason.
    let id = apply(&pair, &no).await;
    decide(cq, &cq_district, &id, "approve", "").await;
    wait_for(sc, &sc_school, &id, state_is("pending")).await;
    assert_eq!(
        decide(sc, &sc_school, &id, "reject", "学生本学期不宜转学")
            .await
            .0,
        200
    );
    let t = wait_for(cq, &cq_school, &id, state_is("rejected")).await;
    assert_eq!(t["outcome_reason"], "学生本学期不宜转学");

    // 3. The applicant cancels while 四川 decides: 四川's copy is cancelled too.
    let id = apply(&pair, &no).await;
    decide(cq, &cq_district, &id, "approve", "").await;
    wait_for(sc, &sc_school, &id, state_is("pending")).await;
    assert_eq!(
        decide(cq, &cq_school, &id, "cancel", "家长改变主意")
            .await
            .0,
        200
    );
    wait_for(sc, &sc_school, &id, state_is("cancelled")).await;
    assert_eq!(decide(sc, &sc_school, &id, "approve", "").await.0, 409);

    // 4. The sending district rejects after its school agreed.
    let sc_district = sc.token("sc.district").await;
    let id = apply(&pair, &no).await;
    decide(cq, &cq_district, &id, "approve", "").await;
    wait_for(sc, &sc_school, &id, state_is("pending")).await;
    decide(sc, &sc_school, &id, "approve", "").await;
    assert_eq!(
        decide(sc, &sc_district, &id, "reject", "转入学校学段不符")
            .await
            .0,
        200
    );
    let t = wait_for(cq, &cq_school, &id, state_is("rejected")).await;
    assert_eq!(t["outcome_reason"], "转入学校学段不符");

    // The record never moved.
    assert_eq!(record(sc, &sc_school, &no).await["status"], "在读");
    assert_eq!(
        get(
            cq,
            &cq_school,
            &format!("/api/v1/students/{no}?purpose=学籍管理")
        )
        .await
        .0,
        404
    );
    let report = violations(&pair).await;
    assert_eq!(report.violations, vec![], "{report:?}");
    assert_eq!((report.transfers, report.ended, report.open), (4, 4, 0));

    // 5. The student's status changes before the last approval (here: leaves school): there
    // is nothing to move, and both sides end rejected with the reason.
    let id = apply(&pair, &no).await;
    decide(cq, &cq_district, &id, "approve", "").await;
    wait_for(sc, &sc_school, &id, state_is("pending")).await;
    decide(sc, &sc_school, &id, "approve", "").await;
    let (status, body) = post(
        sc,
        &sc_school,
        &format!("/api/v1/students/{no}/changes"),
        json!({"kind": "退学", "date": "2026-11-01", "reason": "出国"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = decide(sc, &sc_district, &id, "approve", "").await;
    assert_eq!(
        (status, body["state"].as_str()),
        (200, Some("rejected")),
        "{body}"
    );
    let t = wait_for(cq, &cq_school, &id, state_is("rejected")).await;
    assert!(
        t["outcome_reason"]
            .as_str()
            .unwrap()
            .contains("学籍状态已变化"),
        "{t}"
    );
    assert_eq!(record(sc, &sc_school, &no).await["status"], "退学");
    // A student no longer studying cannot be applied for.
    let (status, body) = post(
        cq,
        &cq_school,
        "/api/v1/transfers",
        json!({"student_no": no, "to_grade": "七年级", "reason": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("transfer.not_applicable")),
        "{body}"
    );
    pair.stop().await;
}

/// Stops a node and starts it again on the same address after `between` ran.
async fn outage<F: std::future::Future<Output = ()>>(app: &mut TestApp, between: F) {
    let running = app.running.take().unwrap();
    let config = running.state.config.clone();
    let addr = running.addr;
    running.stop().await.unwrap();
    between.await;
    let node = chuanyu::Node::open(config).await.unwrap();
    app.db = node.db.clone();
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    app.running = Some(chuanyu::start(node, listener).unwrap());
}

/// The applicant cancels after 四川 locked the record and sent it, while 重庆 was down: the
/// file is declined and the record given back to its school. And a record that cannot be
/// created in 重庆 (its ID number is already held there) goes back too.
async fn handoff_declined(engine: Engine) {
    let Some(mut pair) = Pair::start(engine).await else {
        return;
    };
    let no = pair.sc.account("student").person_key.clone().unwrap();
    let sc_school = pair.sc.token("sc.school").await;
    let sc_district = pair.sc.token("sc.district").await;
    let id = apply(&pair, &no).await;
    let cq_district = pair.cq.token("cq.district").await;
    decide(&pair.cq, &cq_district, &id, "approve", "").await;
    wait_for(&pair.sc, &sc_school, &id, state_is("pending")).await;
    decide(&pair.sc, &sc_school, &id, "approve", "").await;
    wait_for(&pair.cq, &cq_district, &id, |b| {
        b["step"] == "sending-district"
    })
    .await;

    // 重庆 goes down; 四川 approves and its file waits in the outbox.
    let sc = &pair.sc;
    let sc_db = sc.db.clone();
    let (status, _) = decide(sc, &sc_district, &id, "approve", "").await;
    assert_eq!(status, 200);
    outage(&mut pair.cq, async {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let waiting = exchange::outbox::undelivered(&sc_db, 10).await.unwrap();
            if waiting.iter().any(|q| q.attempts >= 3) {
                break;
            }
            assert!(Instant::now() < deadline, "{waiting:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    // Locked in 四川 meanwhile: active nowhere, never twice.
    assert_eq!(record(&pair.sc, &sc_school, &no).await["status"], "转出中");
    // 重庆 is back; its applicant cancels before the file is retried.
    let cq_school = pair.cq.token("cq.school").await;
    let (status, body) = decide(&pair.cq, &cq_school, &id, "cancel", "家长决定不转学").await;
    assert_eq!(status, 200, "{body}");
    wait_for(&pair.sc, &sc_school, &id, state_is("cancelled")).await;
    assert_eq!(record(&pair.sc, &sc_school, &no).await["status"], "在读");
    assert_eq!(
        get(
            &pair.cq,
            &cq_school,
            &format!("/api/v1/students/{no}?purpose=学籍管理")
        )
        .await
        .0,
        404
    );

    // 重庆 already holds another record with the student's ID number: the file is declined.
    let citizen: (Option<String>,) = platform::on_db!(&pair.sc.db, p => sqlx::query_as(
        "SELECT citizen_id FROM students WHERE student_no = $1").bind(&no).fetch_one(p).await.unwrap());
    let clash = pair.cq.other_student.clone();
    platform::on_db!(&pair.cq.db, p => sqlx::query("UPDATE students SET citizen_id = $1 WHERE student_no = $2")
        .bind(&citizen.0).bind(&clash).execute(p).await.unwrap().rows_affected());
    let id = apply(&pair, &no).await;
    decide(&pair.cq, &cq_district, &id, "approve", "").await;
    wait_for(&pair.sc, &sc_school, &id, state_is("pending")).await;
    decide(&pair.sc, &sc_school, &id, "approve", "").await;
    decide(&pair.sc, &sc_district, &id, "approve", "").await;
    let t = wait_for(&pair.sc, &sc_school, &id, state_is("rejected")).await;
    assert!(
        t["outcome_reason"]
            .as_str()
            .unwrap()
            .contains("身份证件号码"),
        "{t}"
    );
    wait_for(&pair.cq, &cq_school, &id, state_is("rejected")).await;
    assert_eq!(record(&pair.sc, &sc_school, &no).await["status"], "在读");

    let report = violations(&pair).await;
    assert_eq!(report.violations, vec![], "{report:?}");
    assert_eq!(report.open, 0);
    pair.stop().await;
}

/// With steps due at once, the district's step is flagged to the province; a school's
/// late step to its district.
async fn deadlines_escalate(engine: Engine) {
    let Some(pair) = Pair::start_with(engine, |o| o.transfer_step_hours = 0).await else {
        return;
    };
    let no = pair.sc.account("student").person_key.clone().unwrap();
    let id = apply(&pair, &no).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (cq, sc) = (&pair.cq, &pair.sc);
    let waiting = |v: &Value| -> Vec<Value> {
        v.as_array()
            .unwrap()
            .iter()
            .filter(|t| t["id"] == id.as_str())
            .cloned()
            .collect()
    };
    let (_, province) = get(
        cq,
        &cq.token("cq.province").await,
        "/api/v1/transfers?waiting=true",
    )
    .await;
    let flagged = waiting(&province);
    assert_eq!(flagged.len(), 1, "{province}");
    assert_eq!(
        (
            flagged[0]["overdue"].as_bool(),
            flagged[0]["escalated_to_me"].as_bool(),
            flagged[0]["waiting_for_me"].as_bool()
        ),
        (Some(true), Some(true), Some(false))
    );
    decide(cq, &cq.token("cq.district").await, &id, "approve", "").await;
    let sc_school = sc.token("sc.school").await;
    wait_for(sc, &sc_school, &id, state_is("pending")).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (_, district) = get(
        sc,
        &sc.token("sc.district").await,
        "/api/v1/transfers?waiting=true",
    )
    .await;
    let flagged = waiting(&district);
    assert_eq!(flagged.len(), 1, "{district}");
    assert_eq!(flagged[0]["escalated_to_me"], true);
    assert_eq!(flagged[0]["step"], "sending-school");
    // The province does not see a school's late step (only its districts').
    let (_, province) = get(
        sc,
        &sc.token("sc.province").await,
        "/api/v1/transfers?waiting=true",
    )
    .await;
    assert!(waiting(&province).is_empty(), "{province}");
    pair.stop().await;
}

/// The pages: who sees them, a bad application answered on the form with what is wrong
/// (and what was typed kept), a forged form refused.
async fn pages(engine: Engine) {
    let Some(pair) = Pair::start(engine).await else {
        return;
    };
    let cq = &pair.cq;
    for (who, status) in [
        ("cq.teacher", 404),
        ("cq.student", 404),
        ("cq.employer", 404),
        ("cq.school", 200),
        ("cq.district", 200),
        ("cq.province", 200),
    ] {
        let client = cq.sign_in_form(who).await;
        assert_eq!(cq.status(&client, "/transfers").await, status, "{who}");
    }
    let client = cq.sign_in_form("cq.school").await;
    let html = client
        .get(cq.url("/transfers"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("提出转学申请"));
    let csrf = crate::support::hidden_field(&html, "csrf").unwrap();
    let bad = [
        ("csrf", csrf.as_str()),
        ("student_no", "G51010820150412684X"),
        ("to_grade", "七年级"),
        ("reason", "随迁"),
        ("documents", ""),
    ];
    let r = client
        .post(cq.url("/transfers"))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"apply-problem\""), "{html}");
    assert!(html.contains("学籍号无效"), "{html}");
    assert!(html.contains("value=\"随迁\""), "what was typed is kept");
    let forged = [
        ("csrf", "forged"),
        ("student_no", "x"),
        ("to_grade", "七年级"),
        ("reason", "x"),
        ("documents", ""),
    ];
    let r = client
        .post(cq.url("/transfers"))
        .form(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A good application lands on its page.
    let no = pair.sc.account("student").person_key.clone().unwrap();
    let good = [
        ("csrf", csrf.as_str()),
        ("student_no", no.as_str()),
        ("to_grade", "七年级"),
        ("reason", "随迁"),
        ("documents", "户口簿"),
    ];
    let r = client
        .post(cq.url("/transfers"))
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let html = client
        .get(cq.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("转入地教育局审核"));
    assert!(
        html.contains("id=\"decide-cancel\""),
        "the applicant may cancel"
    );
    assert!(!html.contains("id=\"decide-approve\""), "but not approve");
    pair.stop().await;
}

/// A member that adds a provincial step: its provincial authority decides after its
/// district bureau, on each side.
async fn provincial_step(engine: Engine) {
    let Some(pair) = Pair::start_with(engine, |o| o.transfer_provincial_step = true).await else {
        return;
    };
    let (cq, sc) = (&pair.cq, &pair.sc);
    let no = sc.account("student").person_key.clone().unwrap();
    let id = apply(&pair, &no).await;
    let (_, t) = decide(cq, &cq.token("cq.district").await, &id, "approve", "").await;
    assert_eq!(t["step"], "receiving-province");
    // The district cannot take the province's step.
    assert_eq!(
        decide(cq, &cq.token("cq.district").await, &id, "approve", "")
            .await
            .0,
        409
    );
    let (_, t) = decide(cq, &cq.token("cq.province").await, &id, "approve", "").await;
    assert_eq!(t["step"], "sending-school");
    let sc_school = sc.token("sc.school").await;
    wait_for(sc, &sc_school, &id, state_is("pending")).await;
    decide(sc, &sc_school, &id, "approve", "").await;
    let (_, t) = decide(sc, &sc.token("sc.district").await, &id, "approve", "").await;
    assert_eq!(t["step"], "sending-province");
    let (_, t) = decide(sc, &sc.token("sc.province").await, &id, "approve", "").await;
    assert_eq!(t["state"], "handing-over");
    wait_for(cq, &cq.token("cq.school").await, &id, state_is("arrived")).await;
    pair.stop().await;
}

for_each_engine!(
    provincial_step,
    pages,
    whole_chain,
    rejections_and_cancellations,
    handoff_declined,
    deadlines_escalate
);
