//! Graduate employment on real nodes over HTTP, on both engines: employer registration and
//! the unified social credit code, the bureau's verification, the job lifecycle (draft,
//! review, publish, edit back to review, close, expiry) as search sees it, Chinese search
//! across both provinces with a peer down, graduates imported with row errors, and an
//! application from a 四川 graduate to a 重庆 job with the diploma verified on 重庆.

use std::time::Duration;

use serde_json::{Value, json};

use crate::federation::Pair;
use crate::support::{Engine, PASSWORD, TestApp, hidden_field};
use crate::{for_each_engine, on_both_engines};

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    token: Option<&str>,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut r = reqwest::Client::new().request(method, app.url(path));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post(app: &TestApp, token: Option<&str>, path: &str, body: &Value) -> (u16, Value) {
    send(app, reqwest::Method::POST, token, path, Some(body)).await
}

async fn get(app: &TestApp, token: Option<&str>, path: &str) -> (u16, Value) {
    send(app, reqwest::Method::GET, token, path, None).await
}

fn q(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A valid credit code registered in `division` (the sequence makes it distinct).
fn credit_code(division: &str, seq: u32) -> String {
    kernel::ids::complete_credit_code(&format!("91{division}MA{seq:06}")).unwrap()
}

fn registration(code: &str, username: &str) -> Value {
    json!({
        "credit_code": code, "name": "川渝智行交通科技有限公司", "employer_type": "private",
        "division": kernel::ids::normalize_code(code)[2..8], "address": "重庆市江北区观音桥", "contact_name": "张经理",
        "contact_phone": "023-63861234", "username": username, "password": PASSWORD,
    })
}

/// A county of the node's province.
fn county(app: &TestApp) -> &'static str {
    if app.prefix == "cq" {
        "500105"
    } else {
        "510104"
    }
}

fn job(title: &str, deadline: &str) -> Value {
    json!({
        "title": title,
        "description": "负责城市交通大数据的采集、清洗与建模分析，参与智慧交通信号优化项目。要求熟悉 Python 与 SQL。",
        "city": "510104", "salary_min": "８０００", "salary_max": "12000", "level": "bachelor",
        "majors": "计算机科学与技术、交通工程", "headcount": "3", "deadline": deadline,
        "contact": "hr@example.com", "submit": false,
    })
}

fn in_days(days: i64) -> String {
    (employment::jobs::today_cst() + time::Duration::days(days)).to_string()
}

fn codes(v: &Value) -> String {
    format!("{} {}", v["code"], v["message"])
}

/// Searches until `ok` holds for the answer (the index follows the database within a second).
async fn search_until(app: &TestApp, query: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..50 {
        let (status, v) = get(app, None, &format!("/api/v1/jobs?{query}")).await;
        assert_eq!(status, 200, "{v}");
        if ok(&v) {
            return v;
        }
        last = v;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("search {query} never satisfied the condition; last answer {last}");
}

fn keys(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["key"].as_str().unwrap().to_owned())
        .collect()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = platform::on_db!(&app.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(p).await.unwrap());
    n
}

async fn employers_and_jobs(app: TestApp) {
    let p = app.prefix.clone();
    let member = p.to_uppercase();
    let before = count(&app, "SELECT COUNT(*) FROM employers").await;
    let users_before = count(&app, "SELECT COUNT(*) FROM users").await;
    // A wrong check character, a bad phone and an unknown division: all reported, nothing stored.
    let good = credit_code(county(&app), 1);
    let mut wrong = good.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '0' { '1' } else { '0' });
    let (status, v) = post(
        &app,
        None,
        "/api/v1/employers",
        &registration(&wrong, "zhixing.hr"),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("id.checksum")),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("统一社会信用代码第 18 位校验码错误"),
        "{v}"
    );
    let mut bad = registration(&good, "zhixing.hr");
    bad["contact_phone"] = json!("12345");
    bad["division"] = json!("500199");
    let (status, v) = post(&app, None, "/api/v1/employers", &bad).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("employment.invalid")),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("联系电话"), "{v}");
    // A taken user name: the organisation and employer are not left behind either.
    let (status, v) = post(
        &app,
        None,
        "/api/v1/employers",
        &registration(&good, &format!("{p}.employer")),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("user.taken")),
        "{v}"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM employers").await, before);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM users").await,
        users_before
    );
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM orgs WHERE code = '{good}'")
        )
        .await,
        0
    );

    // Full-width characters are normalised; a second registration of the code is refused.
    let full_width: String = good
        .chars()
        .map(|c| char::from_u32(u32::from(c) + 0xFEE0).unwrap())
        .collect();
    let (status, v) = post(
        &app,
        None,
        "/api/v1/employers",
        &registration(&full_width, "zhixing.hr"),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(
        (v["credit_code"].as_str(), v["status"].as_str()),
        (Some(good.as_str()), Some("pending"))
    );
    let (status, v) = post(
        &app,
        None,
        "/api/v1/employers",
        &registration(&good, "zhixing.hr2"),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("employer.registered")),
        "{v}"
    );

    // Not yet verified: drafts only.
    let hr = app.token("zhixing.hr").await;
    let mut j = job("川渝智慧交通数据分析师", &in_days(30));
    j["submit"] = json!(true);
    let (status, v) = post(&app, Some(&hr), "/api/v1/jobs", &j).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (409, Some("employment.state")),
        "{v}"
    );
    let mut bad_job = job("x", &in_days(-1));
    bad_job["salary_min"] = json!("20000");
    bad_job["city"] = json!("990000");
    let (status, v) = post(&app, Some(&hr), "/api/v1/jobs", &bad_job).await;
    assert_eq!(status, 400, "{v}");
    let message = v["message"].as_str().unwrap();
    for part in [
        "岗位名称",
        "最高月薪不能低于最低月薪",
        "截止日期",
        "行政区划",
    ] {
        assert!(message.contains(part), "{part} missing in {message}");
    }
    let (status, v) = post(
        &app,
        Some(&hr),
        "/api/v1/jobs",
        &job("川渝智慧交通数据分析师", &in_days(30)),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with(&format!("{member}-J-")), "{id}");

    // The employer cannot verify itself; the provincial bureau can.
    let (status, _) = post(
        &app,
        Some(&hr),
        &format!("/api/v1/employers/{good}/review"),
        &json!({"verified": true}),
    )
    .await;
    assert_eq!(status, 403);
    let bureau = app.token(&format!("{p}.province")).await;
    let (status, pending) = get(&app, Some(&bureau), "/api/v1/employers?status=pending").await;
    assert_eq!(status, 200);
    assert!(
        pending
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["credit_code"] == good.as_str()),
        "{pending}"
    );
    let (status, v) = post(
        &app,
        Some(&bureau),
        &format!("/api/v1/employers/{good}/review"),
        &json!({"verified": false}),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("field.required")),
        "a rejection needs its reason: {v}"
    );
    let (status, _) = post(
        &app,
        Some(&bureau),
        &format!("/api/v1/employers/{good}/review"),
        &json!({"verified": true}),
    )
    .await;
    assert_eq!(status, 204);

    // Draft → review → published; only then found, and by its Chinese words.
    let query = format!("q={}", q("智慧交通 数据分析"));
    let decide = |token: String, to: &'static str, note: &'static str| {
        let app = &app;
        let id = id.clone();
        async move {
            post(
                app,
                Some(&token),
                &format!("/api/v1/jobs/{id}/decision"),
                &json!({"decision": to, "note": note}),
            )
            .await
        }
    };
    let (status, v) = decide(hr.clone(), "submit", "").await;
    assert_eq!(
        (status, v["status"].as_str()),
        (200, Some("pending")),
        "{v}"
    );
    let (_, found) = get(&app, None, &format!("/api/v1/jobs?{query}")).await;
    assert!(
        !keys(&found).contains(&id),
        "a job under review is not public"
    );
    let (status, _) = get(&app, None, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(status, 404, "nor is it readable by anyone");
    let other = app.token(&format!("{p}.employer")).await;
    assert_eq!(
        get(&app, Some(&other), &format!("/api/v1/jobs/{id}"))
            .await
            .0,
        404,
        "nor by another employer"
    );
    let (status, v) = decide(hr.clone(), "approve", "").await;
    assert_eq!(status, 403, "an employer does not approve its own job: {v}");
    let (status, v) = decide(bureau.clone(), "approve", "").await;
    assert_eq!(
        (status, v["status"].as_str()),
        (200, Some("published")),
        "{v}"
    );
    let found = search_until(&app, &query, |v| keys(v).first() == Some(&id)).await;
    assert_eq!(found["results"][0]["source"], member.as_str());
    assert_eq!(found["results"][0]["title"], "川渝智慧交通数据分析师");
    assert!(found["unanswered"].as_array().unwrap().is_empty());

    // Editing a published job sends it back to review (and out of search).
    let mut edited = job("川渝智慧交通数据分析师（高级）", &in_days(30));
    edited.as_object_mut().unwrap().remove("submit");
    let (status, v) = send(
        &app,
        reqwest::Method::PUT,
        Some(&hr),
        &format!("/api/v1/jobs/{id}"),
        Some(&edited),
    )
    .await;
    assert_eq!(status, 204, "{v}");
    search_until(&app, &query, |v| !keys(v).contains(&id)).await;
    let (_, v) = decide(bureau.clone(), "send-back", "").await;
    assert_eq!(v["code"], "field.required");
    let (status, _) = decide(bureau.clone(), "send-back", "薪资描述不清").await;
    assert_eq!(status, 200);
    let (_, v) = get(&app, Some(&hr), &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(
        (v["status"].as_str(), v["review_note"].as_str()),
        (Some("rejected"), Some("薪资描述不清")),
        "{v}"
    );
    decide(hr.clone(), "submit", "").await;
    decide(bureau.clone(), "approve", "").await;
    search_until(&app, &query, |v| keys(v).contains(&id)).await;
    // Closed by the employer: gone.
    let (status, v) = decide(hr.clone(), "close", "").await;
    assert_eq!((status, v["status"].as_str()), (200, Some("closed")), "{v}");
    search_until(&app, &query, |v| !keys(v).contains(&id)).await;
    let (status, v) = decide(bureau.clone(), "approve", "").await;
    assert_eq!(
        (status, v["code"].as_str()),
        (409, Some("employment.state")),
        "{v}"
    );

    // A job whose deadline passes expires by itself.
    let (_, v) = post(
        &app,
        Some(&hr),
        "/api/v1/jobs",
        &job("川渝智慧交通仿真工程师", &in_days(0)),
    )
    .await;
    let short = v["id"].as_str().unwrap().to_owned();
    let (status, _) = post(
        &app,
        Some(&hr),
        &format!("/api/v1/jobs/{short}/decision"),
        &json!({"decision": "submit"}),
    )
    .await;
    assert_eq!(status, 200);
    post(
        &app,
        Some(&bureau),
        &format!("/api/v1/jobs/{short}/decision"),
        &json!({"decision": "approve"}),
    )
    .await;
    let sim = format!("q={}", q("仿真工程师"));
    search_until(&app, &sim, |v| keys(v).contains(&short)).await;
    let tomorrow = employment::jobs::end_of_day_ms(employment::jobs::today_cst()) + 1;
    assert!(employment::jobs::expire(&app.db, tomorrow).await.unwrap() >= 1);
    search_until(&app, &sim, |v| !keys(v).contains(&short)).await;
    let (_, v) = get(&app, Some(&hr), &format!("/api/v1/jobs/{short}")).await;
    assert_eq!(v["status"], "expired");

    // Filters: level, city prefix, salary band, employer type; facets count what matched.
    let (_, all) = get(&app, None, "/api/v1/jobs?limit=50").await;
    let total = all["total"].as_u64().unwrap();
    assert!(total > 100, "the seeded jobs are searchable: {total}");
    let facet_sum: u64 = all["facets"]["employer_type"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_u64().unwrap())
        .sum();
    assert_eq!(facet_sum, total);
    let (_, soe) = get(&app, None, "/api/v1/jobs?employer_type=soe&limit=50").await;
    let soe_count = all["facets"]["employer_type"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == "soe")
        .map_or(0, |p| p[1].as_u64().unwrap());
    assert_eq!(soe["total"].as_u64().unwrap(), soe_count);
    for (param, code) in [
        ("level=nonsense", "field.choice"),
        ("city=abc", "job.city"),
        ("salary=huge", "field.choice"),
    ] {
        let (status, v) = get(&app, None, &format!("/api/v1/jobs?{param}")).await;
        assert_eq!(
            (status, v["code"].as_str()),
            (400, Some(code)),
            "{param}: {v}"
        );
    }
    // Hostile query text is words, never syntax.
    for text in [
        "\"",
        "title:(a OR b)^9",
        "*",
        "\\",
        "工程师 AND NOT",
        "🙂🙂",
        &"长".repeat(5000),
    ] {
        let (status, v) = get(&app, None, &format!("/api/v1/jobs?q={}", q(text))).await;
        assert_eq!(status, 200, "{text}: {}", codes(&v));
    }
}

async fn federated_search(engine: Engine) {
    let Some(pair) = Pair::start(engine).await else {
        return;
    };
    // Both provinces' jobs in one list, each naming its source.
    let (status, v) = get(
        &pair.sc,
        None,
        &format!("/api/v1/jobs?q={}&limit=50", q("工程师")),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let sources: std::collections::BTreeSet<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["CQ", "SC"].into_iter().collect(), "{v}");
    let scores: Vec<f64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["score"].as_f64().unwrap())
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "merged by score: {scores:?}"
    );
    // A city filter reaches the other node too.
    let (_, cq_only) = get(&pair.sc, None, "/api/v1/jobs?city=50&limit=50").await;
    assert!(
        cq_only["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["source"] == "CQ" && h["city"].as_str().unwrap().starts_with("50"))
    );
    assert!(cq_only["total"].as_u64().unwrap() > 0);

    // A job approved in 重庆 is found from 四川 by its Chinese words and read there.
    let hr = pair.cq.token("cq.employer").await;
    let bureau = pair.cq.token("cq.province").await;
    let mut j = job("渝蓉双城轨道交通调度员", &in_days(20));
    j["submit"] = json!(true);
    let (status, v) = post(&pair.cq, Some(&hr), "/api/v1/jobs", &j).await;
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let (status, _) = post(
        &pair.cq,
        Some(&bureau),
        &format!("/api/v1/jobs/{id}/decision"),
        &json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(status, 200);
    let found = search_until(&pair.sc, &format!("q={}", q("轨道交通 调度")), |v| {
        keys(v).first() == Some(&id)
    })
    .await;
    assert_eq!(found["results"][0]["source"], "CQ");
    let (status, v) = get(&pair.sc, None, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(
        (status, v["source"].as_str(), v["title"].as_str()),
        (200, Some("CQ"), Some("渝蓉双城轨道交通调度员")),
        "{v}"
    );
    // Logged on both sides as exchanges under the purpose `employment`.
    let logged = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            let (n,): (i64,) = platform::on_db!(&db, p => sqlx::query_as(
                "SELECT COUNT(*) FROM federation_messages WHERE service = 'jobs.search' AND purpose = 'employment'")
                .fetch_one(p).await.unwrap());
            n
        }
    };
    assert!(logged(&pair.sc).await > 0 && logged(&pair.cq).await > 0);

    // 重庆 down: 四川 answers with its own jobs and says who did not answer.
    let Pair { cq, sc, work, .. } = pair;
    cq.stop().await;
    let (status, v) = get(&sc, None, &format!("/api/v1/jobs?q={}", q("工程师"))).await;
    assert_eq!(status, 200, "{v}");
    assert!(
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["source"] == "SC")
    );
    assert!(!v["results"].as_array().unwrap().is_empty());
    assert_eq!(v["unanswered"][0]["member"], "CQ", "{v}");
    let (status, v) = get(&sc, None, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(status, 404, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("暂时无法连接"),
        "{v}"
    );
    sc.stop().await;
    let _ = std::fs::remove_dir_all(work);
}

/// 四川's demo graduate applies to a 重庆 job; 重庆's employer sees the application with
/// the diploma verified, makes an offer; the graduate sees it on 四川 and accepts.
async fn application_across_provinces(engine: Engine) {
    let Some(pair) = Pair::start_with(engine, |o| o.status_list_ttl_seconds = 2).await else {
        return;
    };
    let graduate = pair.sc.token("sc.graduate").await;
    let citizen_id = pair.sc.account("graduate").person_key.clone().unwrap();
    let (status, me) = get(&pair.sc, Some(&graduate), "/api/v1/graduates/me").await;
    assert_eq!(status, 200, "{me}");
    assert_ne!(
        me["graduate"]["citizen_id"],
        citizen_id.as_str(),
        "masked for the graduate's own view too"
    );
    assert!(me["graduate"]["diploma_no"].is_string(), "{me}");

    let hr = pair.cq.token("cq.employer").await;
    let (_, mine) = get(&pair.cq, Some(&hr), "/api/v1/jobs/mine").await;
    let job_id = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["status"] == "published")
        .expect("the demo employer has published jobs")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, v) = post(
        &pair.sc,
        Some(&graduate),
        &format!("/api/v1/jobs/{job_id}/apply"),
        &json!({}),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let app_id = v["id"].as_str().unwrap().to_owned();
    let (status, v) = post(
        &pair.sc,
        Some(&graduate),
        &format!("/api/v1/jobs/{job_id}/apply"),
        &json!({}),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (409, Some("employment.state")),
        "once per job: {v}"
    );
    // Only graduates apply.
    let teacher = pair.sc.token("sc.teacher").await;
    assert_ne!(
        post(
            &pair.sc,
            Some(&teacher),
            &format!("/api/v1/jobs/{job_id}/apply"),
            &json!({})
        )
        .await
        .0,
        201
    );

    // 重庆's employer: the application, the diploma verified against 四川's key and status list.
    let (status, list) = get(&pair.cq, Some(&hr), "/api/v1/applications").await;
    assert_eq!(status, 200);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == app_id.as_str()),
        "{list}"
    );
    let (status, detail) = get(
        &pair.cq,
        Some(&hr),
        &format!("/api/v1/applications/{app_id}"),
    )
    .await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["diploma_report"]["ok"], true, "{detail}");
    assert_eq!(
        detail["diploma"]["credentialSubject"]["diplomaNumber"],
        me["graduate"]["diploma_no"]
    );
    assert_eq!(detail["name"], me["graduate"]["name"]);
    assert!(
        !detail.to_string().contains(&citizen_id),
        "the ID number never reaches 重庆"
    );
    let stored: (String,) = platform::on_db!(&pair.cq.db, p => sqlx::query_as(
        "SELECT applicant FROM applications WHERE id = $1").bind(&app_id).fetch_one(p).await.unwrap());
    assert!(
        stored.0.starts_with("SC:") && !stored.0.contains(&citizen_id),
        "{}",
        stored.0
    );
    // Another employer does not see it.
    let other = crate::support::PASSWORD;
    let code = credit_code("500105", 77);
    let mut r = registration(&code, "other.hr");
    r["password"] = json!(other);
    assert_eq!(post(&pair.cq, None, "/api/v1/employers", &r).await.0, 201);
    let other_hr = pair.cq.token("other.hr").await;
    assert_eq!(
        get(
            &pair.cq,
            Some(&other_hr),
            &format!("/api/v1/applications/{app_id}")
        )
        .await
        .0,
        404
    );

    // Offer; an employer cannot accept for the graduate.
    let (status, v) = post(
        &pair.cq,
        Some(&hr),
        &format!("/api/v1/applications/{app_id}/decision"),
        &json!({"to": "accepted"}),
    )
    .await;
    assert_eq!(status, 409, "{v}");
    let (status, v) = post(
        &pair.cq,
        Some(&hr),
        &format!("/api/v1/applications/{app_id}/decision"),
        &json!({"to": "offer", "note": "请于 7 月 1 日报到"}),
    )
    .await;
    assert_eq!(status, 204, "{v}");
    // 四川 sees the offer (refreshed from 重庆) and accepts it there.
    let (_, mine) = get(&pair.sc, Some(&graduate), "/api/v1/applications").await;
    let a = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == app_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        (a["status"].as_str(), a["note"].as_str()),
        (Some("offer"), Some("请于 7 月 1 日报到")),
        "{a}"
    );
    let (status, v) = post(
        &pair.sc,
        Some(&graduate),
        &format!("/api/v1/applications/{app_id}/decision"),
        &json!({"to": "accepted"}),
    )
    .await;
    assert_eq!(status, 204, "{v}");
    let (_, detail) = get(
        &pair.cq,
        Some(&hr),
        &format!("/api/v1/applications/{app_id}"),
    )
    .await;
    assert_eq!(detail["status"], "accepted");
    // Audited where it happened: the graduate's consent on 四川, the receipt on 重庆.
    let audited = |app: &TestApp, action: &'static str| {
        let db = app.db.clone();
        async move {
            let (n,): (i64,) = platform::on_db!(&db, p => sqlx::query_as(
                "SELECT COUNT(*) FROM audit_log WHERE action = $1").bind(action).fetch_one(p).await.unwrap());
            n
        }
    };
    assert_eq!(audited(&pair.sc, "application.submit").await, 1);
    assert_eq!(audited(&pair.cq, "application.receive").await, 1);

    // 四川 revokes the diploma: once the status list's lifetime has passed, 重庆 says so.
    let g = employment::graduates::read(
        &pair.sc.db,
        &platform::audit::AuditLog::start(pair.sc.db.clone()),
        &app_operator(),
        &citizen_id,
        "test",
    )
    .await
    .unwrap();
    let diploma = certificates::issue::Diploma {
        diploma_no: kernel::ids::DiplomaNo::parse(g.diploma_no.as_deref().unwrap()).unwrap(),
        name: g.name.clone(),
        citizen_id: kernel::ids::CitizenId::parse(&citizen_id).unwrap(),
        org_code: g.institution.clone(),
        division: g.division.clone(),
        institution: g.institution_name.clone(),
        level: g.level_label().into(),
        major: g.major.clone(),
        study_form: g.study_form.clone(),
        graduation_date: g.graduation_date.clone(),
    };
    certificates::issue::change_diploma_status(
        &pair.sc.db,
        &app_operator(),
        &diploma,
        certificates::CertStatus::Revoked,
        "学历注销",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let (_, detail) = get(
        &pair.cq,
        Some(&hr),
        &format!("/api/v1/applications/{app_id}"),
    )
    .await;
    assert_eq!(detail["diploma_report"]["ok"], false, "{detail}");
    pair.stop().await;
}

/// Counts of (key, destination) straight from a node's records.
async fn direct(app: &TestApp, sql: &str) -> Vec<(String, String, i64)> {
    platform::on_db!(&app.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned())).fetch_all(p).await.unwrap())
}

/// The joint office's statistics equal the counts taken directly from both nodes' records;
/// with a node down, they cover the other and say so.
async fn statistics(engine: Engine) {
    let Some(pair) = Pair::start(engine).await else {
        return;
    };
    let joint = pair.cq.token("cq.joint").await;
    let (status, v) = get(&pair.cq, Some(&joint), "/api/v1/employment/stats").await;
    assert_eq!(status, 200, "{v}");
    let stats = &v["stats"];
    let destinations: Vec<String> = employment::graduates::Destination::ALL
        .iter()
        .map(|d| d.as_str().to_owned())
        .collect();
    // By level, over both nodes.
    let mut expected: std::collections::BTreeMap<(String, String), i64> = Default::default();
    let mut total = 0;
    for app in [&pair.cq, &pair.sc] {
        for (level, destination, n) in direct(
            app,
            "SELECT level, destination, COUNT(*) FROM graduates GROUP BY level, destination",
        )
        .await
        {
            *expected.entry((level, destination)).or_default() += n;
            total += n;
        }
    }
    assert!(total >= 600, "both nodes' graduates: {total}");
    assert_eq!(stats["total"]["total"].as_i64(), Some(total), "{stats}");
    for g in stats["by_level"].as_array().unwrap() {
        for (i, d) in destinations.iter().enumerate() {
            let want = expected
                .get(&(g["key"].as_str().unwrap().to_owned(), d.clone()))
                .copied()
                .unwrap_or(0);
            assert_eq!(
                g["destinations"][i].as_i64(),
                Some(want),
                "{} {d}",
                g["key"]
            );
        }
    }
    // By institution: each node's own.
    for app in [&pair.cq, &pair.sc] {
        for (institution, destination, n) in direct(app, "SELECT institution, destination, COUNT(*) FROM graduates GROUP BY institution, destination").await {
            let g = stats["by_institution"].as_array().unwrap().iter().find(|g| g["key"] == institution.as_str()).unwrap();
            let i = destinations.iter().position(|d| *d == destination).unwrap();
            assert_eq!(g["destinations"][i].as_i64(), Some(n), "{institution} {destination}");
        }
    }
    // Flows between the provinces.
    let mut flows: std::collections::BTreeMap<(String, String), i64> = Default::default();
    for app in [&pair.cq, &pair.sc] {
        for (from, to, n) in direct(app, "SELECT SUBSTR(division, 1, 2), SUBSTR(destination_division, 1, 2), COUNT(*) FROM graduates \
             WHERE destination = 'employed' AND destination_division IS NOT NULL GROUP BY SUBSTR(division, 1, 2), SUBSTR(destination_division, 1, 2)").await {
            *flows.entry((from, to)).or_default() += n;
        }
    }
    let got: std::collections::BTreeMap<(String, String), i64> = stats["flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                (
                    f["from"].as_str().unwrap().to_owned(),
                    f["to"].as_str().unwrap().to_owned(),
                ),
                f["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, flows);
    assert!(
        flows.contains_key(&("51".into(), "50".into())),
        "someone studied in 四川 and works in 重庆"
    );
    // No personal data in it.
    let any_id = pair.sc.account("graduate").person_key.clone().unwrap();
    assert!(!v.to_string().contains(&any_id));
    // The page draws it; the export opens in Excel.
    let client = pair.cq.sign_in_form("cq.joint").await;
    let page = client
        .get(pair.cq.url("/employment/stats"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<svg") && page.contains("去向落实率"),
        "{page}"
    );
    let csv = client
        .get(pair.cq.url("/employment/stats.csv"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBF") && String::from_utf8_lossy(&csv).contains("川渝合计"));
    // Employers and graduates do not see statistics.
    let employer = pair.cq.token("cq.employer").await;
    assert_eq!(
        get(&pair.cq, Some(&employer), "/api/v1/employment/stats")
            .await
            .0,
        403
    );
    // 四川 down: 重庆's counts, and a notice.
    let cq_total: i64 = direct(&pair.cq, "SELECT 'x', 'x', COUNT(*) FROM graduates").await[0].2;
    let Pair { cq, sc, work, .. } = pair;
    sc.stop().await;
    let (_, v) = get(&cq, Some(&joint), "/api/v1/employment/stats").await;
    assert_eq!(v["stats"]["total"]["total"].as_i64(), Some(cq_total));
    assert_eq!(v["unanswered"][0]["member"], "SC", "{v}");
    cq.stop().await;
    let _ = std::fs::remove_dir_all(work);
}

/// A bureau's job fair with an employer's job; a graduate's recommendations and a saved
/// search that counts a job published after it was last seen.
async fn fairs_recommendations_saved(app: TestApp) {
    let p = app.prefix.clone();
    let bureau = app.token(&format!("{p}.province")).await;
    let hr = app.token(&format!("{p}.employer")).await;
    let graduate = app.token(&format!("{p}.graduate")).await;
    let fair = |starts: &str, ends: &str| {
        json!({"title": "2027届毕业生春季双选会", "organiser": "教育行政部门", "division": county(&app),
               "venue": "会展中心", "starts": starts, "ends": ends})
    };
    let later = |days: i64, hm: &str| format!("{} {hm}", in_days(days));
    let (status, v) = post(
        &app,
        Some(&bureau),
        "/api/v1/job-fairs",
        &fair(&later(5, "18:00"), &later(5, "09:00")),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("fair.period")),
        "{v}"
    );
    let (status, v) = post(
        &app,
        Some(&bureau),
        "/api/v1/job-fairs",
        &fair("下周一", &later(5, "09:00")),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("field.datetime")),
        "{v}"
    );
    assert_eq!(
        post(
            &app,
            Some(&hr),
            "/api/v1/job-fairs",
            &fair(&later(5, "09:00"), &later(5, "17:00"))
        )
        .await
        .0,
        403
    );
    let (status, v) = post(
        &app,
        Some(&bureau),
        "/api/v1/job-fairs",
        &fair(&later(5, "09:00"), &later(5, "17:00")),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let fair_id = v["id"].as_str().unwrap().to_owned();
    let (_, mine) = get(&app, Some(&hr), "/api/v1/jobs/mine").await;
    let job_id = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["status"] == "published")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, v) = post(
        &app,
        Some(&hr),
        &format!("/api/v1/jobs/{job_id}/fair"),
        &json!({"fair_id": fair_id}),
    )
    .await;
    assert_eq!(status, 204, "{v}");
    assert_eq!(
        post(
            &app,
            Some(&graduate),
            &format!("/api/v1/jobs/{job_id}/fair"),
            &json!({"fair_id": fair_id})
        )
        .await
        .0,
        404
    );
    let (_, listed) = get(&app, None, "/api/v1/job-fairs").await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == fair_id.as_str())
    );
    let (_, one) = get(&app, None, &format!("/api/v1/job-fairs/{fair_id}")).await;
    assert_eq!(one["jobs"][0]["id"], job_id.as_str(), "{one}");

    // Recommendations: the graduate's level or below, in their preferred places (重庆、成都).
    let (status, rec) = get(&app, Some(&graduate), "/api/v1/jobs/recommended").await;
    assert_eq!(status, 200, "{rec}");
    let (_, me) = get(&app, Some(&graduate), "/api/v1/graduates/me").await;
    let level =
        kernel::employment::Level::parse(me["graduate"]["level"].as_str().unwrap()).unwrap();
    let results = rec["results"].as_array().unwrap();
    assert!(!results.is_empty(), "{rec}");
    for r in results {
        assert!(
            kernel::employment::Level::parse(r["level"].as_str().unwrap()).unwrap() <= level,
            "{r}"
        );
        let city = r["city"].as_str().unwrap();
        assert!(city.starts_with("50") || city.starts_with("5101"), "{r}");
    }
    assert_eq!(
        get(&app, Some(&hr), "/api/v1/jobs/recommended").await.0,
        404,
        "employers get none"
    );

    // A saved search: nothing new at first; a job published afterwards is new until seen.
    let (status, v) = post(
        &app,
        Some(&graduate),
        "/api/v1/saved-searches",
        &json!({"name": "数据分析", "query": {"q": "数据分析"}}),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let saved_id = v["id"].as_str().unwrap().to_owned();
    let (_, list) = get(&app, Some(&graduate), "/api/v1/saved-searches").await;
    assert_eq!(list[0]["new_matches"], 0, "{list}");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut j = job("川渝智慧交通数据分析师", &in_days(30));
    j["submit"] = json!(true);
    let (_, v) = post(&app, Some(&hr), "/api/v1/jobs", &j).await;
    let new_job = v["id"].as_str().unwrap().to_owned();
    post(
        &app,
        Some(&bureau),
        &format!("/api/v1/jobs/{new_job}/decision"),
        &json!({"decision": "approve"}),
    )
    .await;
    search_until(&app, &format!("q={}", q("数据分析")), |v| {
        keys(v).contains(&new_job)
    })
    .await;
    let (_, list) = get(&app, Some(&graduate), "/api/v1/saved-searches").await;
    assert_eq!(list[0]["new_matches"], 1, "{list}");
    let other = app.token(&format!("{p}.student")).await;
    assert_eq!(
        post(
            &app,
            Some(&other),
            &format!("/api/v1/saved-searches/{saved_id}/seen"),
            &json!({})
        )
        .await
        .0,
        404
    );
    assert_eq!(
        post(
            &app,
            Some(&graduate),
            &format!("/api/v1/saved-searches/{saved_id}/seen"),
            &json!({})
        )
        .await
        .0,
        204
    );
    let (_, list) = get(&app, Some(&graduate), "/api/v1/saved-searches").await;
    assert_eq!(list[0]["new_matches"], 0, "{list}");
    let (status, _) = send(
        &app,
        reqwest::Method::DELETE,
        Some(&graduate),
        &format!("/api/v1/saved-searches/{saved_id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = send(
        &app,
        reqwest::Method::DELETE,
        Some(&graduate),
        &format!("/api/v1/saved-searches/{saved_id}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
}

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let r = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

async fn submit(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client.post(app.url(path)).form(form).send().await.unwrap()
}

/// The portal's own forms for what the API tests above cover: a subscription saved from the
/// search page and listed on 我的求职 with its recommendations; a fair held by a bureau and an
/// employer bringing a job to it; a form without its CSRF token refused.
async fn portal_forms(app: TestApp) {
    let p = app.prefix.clone();
    let anonymous = reqwest::Client::new();
    let jobs = page(&anonymous, &app, &format!("/jobs?q={}", q("工程师"))).await;
    assert!(
        jobs.contains("jobs-results") && jobs.contains("/fairs"),
        "{jobs}"
    );
    assert!(
        !jobs.contains("jobs-subscribe"),
        "only a signed-in person saves a search"
    );

    let graduate = app.sign_in_form(&format!("{p}.graduate")).await;
    let search = page(&graduate, &app, &format!("/jobs?q={}", q("工程师"))).await;
    let csrf = hidden_field(&search, "csrf").unwrap();
    assert!(search.contains("jobs-subscribe"));
    let r = submit(
        &graduate,
        &app,
        "/graduate/subscriptions",
        &[("csrf", &csrf), ("q", "工程师"), ("name", "工程师岗位")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let mine = page(&graduate, &app, "/graduate").await;
    assert!(mine.contains("recommended-jobs"), "recommendations shown");
    assert!(
        mine.contains("工程师岗位") && mine.contains("subscription-list"),
        "{mine}"
    );
    let r = submit(&graduate, &app, "/graduate/subscriptions", &[("q", "x")]).await;
    assert_ne!(r.status(), 303, "no CSRF token, no subscription");

    let bureau = app.sign_in_form(&format!("{p}.province")).await;
    let fairs = page(&bureau, &app, "/fairs").await;
    let csrf = hidden_field(&fairs, "csrf").unwrap();
    let day = in_days(3);
    let r = submit(
        &bureau,
        &app,
        "/fairs",
        &[
            ("csrf", &csrf),
            ("title", "川渝高校联合双选会"),
            ("organiser", "教育行政部门"),
            ("division", county(&app)),
            ("venue", "体育馆"),
            ("starts", &format!("{day} 09:00")),
            ("ends", &format!("{day} 17:00")),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let fair = r.headers()["location"].to_str().unwrap().to_owned();
    let r = submit(
        &bureau,
        &app,
        "/fairs",
        &[("csrf", &csrf), ("title", "缺少时间")],
    )
    .await;
    let text = r.text().await.unwrap();
    assert!(
        text.contains("fair-problems"),
        "problems on the form: {text}"
    );

    let employer = app.sign_in_form(&format!("{p}.employer")).await;
    let html = page(&employer, &app, &fair).await;
    assert!(html.contains("fair-attach"), "{html}");
    let job = hidden_option(&html).expect("a job to bring");
    let csrf = hidden_field(&html, "csrf").unwrap();
    let r = submit(
        &employer,
        &app,
        &format!("{fair}/jobs"),
        &[("csrf", &csrf), ("job", &job)],
    )
    .await;
    assert_eq!(r.status(), 303);
    let html = page(&anonymous, &app, &fair).await;
    assert!(html.contains(&format!("/jobs/{job}")), "{html}");
}

/// The first `<option value="…">` of a page.
fn hidden_option(html: &str) -> Option<String> {
    let start = html.find("<option value=\"")? + "<option value=\"".len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

fn app_operator() -> kernel::access::Principal {
    chuanyu::operator_principal("test")
}

async fn upload(app: &TestApp, token: &str, name: &str, body: Vec<u8>) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/imports/graduates?file_name={name}")))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn citizen(area: &str, birth: &str, seq: u32) -> String {
    let first17 = format!("{area}{birth}{seq:03}");
    format!(
        "{first17}{}",
        kernel::ids::citizen_id_check_char(&first17).unwrap()
    )
}

async fn graduates_import(app: TestApp) {
    let p = app.prefix.clone();
    // A university of the node's province and the county it is in.
    let (university, area) = if p == "cq" {
        ("4150010611", "500106")
    } else {
        ("4151010610", "510107")
    };
    let admin = app.token(&format!("{p}.admin")).await;
    let header = "身份证件号码,姓名,性别,院校代码,专业,学历层次,学习形式,毕业日期,毕业证书编号,毕业去向,去向所在地\n";
    let a = citizen(area, "20030105", 211); // 男
    let b = citizen(area, "20030105", 222); // 女
    let c = citizen(area, "20030106", 233);
    let bad_check = {
        let mut x = citizen(area, "20030107", 245);
        let last = x.pop().unwrap();
        x.push(if last == '1' { '2' } else { '1' });
        x
    };
    let rows = [
        format!(
            "{a},王小川,男,{university},软件工程,本科,,2026-06-30,106111202606900001,已就业,510107"
        ),
        format!("{b},李渝,女,{university},会计学,本科,,2026-06-30,,升学,"),
        format!("{c},赵一,男,{university},会计学,本科,,2026-06-30,106111202507900002,,"),
        format!("{bad_check},钱二,女,{university},会计学,本科,,2026-06-30,,,"),
        format!("{a},王小川,男,{university},软件工程,本科,,2026-06-30,,,"),
        format!(
            "{},孙三,女,9999999999,会计学,本科,,2026-06-30,,,",
            citizen(area, "20030108", 252)
        ),
        format!(
            "{},周四,女,{university},会计学,研究生,,2026-06-30,,,",
            citizen(area, "20030109", 262)
        ),
    ];
    // GB18030, as Excel saves a CSV on a Chinese Windows; full-width digits in one cell.
    let text = format!("{header}{}\n", rows.join("\n"))
        .replace("2026-06-30,,升学", "２０２６-０６-３０,,升学");
    let (gbk, _, _) = encoding_rs::GB18030.encode(&text);
    let (status, v) = upload(&app, &admin, "graduates.csv", gbk.into_owned()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["summary"]["inserted"], 2, "{v}");
    assert_eq!(v["summary"]["rejected"], 5, "{v}");
    let problems: Vec<(u64, String)> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["row_no"].as_u64().unwrap(),
                p["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        (4, "row.diploma_mismatch"),
        (5, "id.checksum"),
        (6, "row.duplicate_in_file"),
        (7, "row.school_code"),
        (8, "row.enum"),
    ] {
        assert!(
            problems.iter().any(|(r, c)| (*r, c.as_str()) == expected),
            "{expected:?} in {problems:?}"
        );
    }
    // Re-importing the same file changes nothing.
    let (_, again) = upload(
        &app,
        &admin,
        "graduates.csv",
        encoding_rs::GB18030.encode(&text).0.into_owned(),
    )
    .await;
    assert_eq!(
        (
            again["summary"]["inserted"].as_u64(),
            again["summary"]["unchanged"].as_u64()
        ),
        (Some(0), Some(2)),
        "{again}"
    );
    // A school administrator of a 中小学 imports no graduates; the employer neither.
    let school = app.token(&format!("{p}.school")).await;
    assert_eq!(
        upload(&app, &school, "graduates.csv", text.clone().into_bytes())
            .await
            .1["summary"]["inserted"],
        0
    );
    let employer = app.token(&format!("{p}.employer")).await;
    assert_eq!(
        upload(&app, &employer, "graduates.csv", text.into_bytes())
            .await
            .0,
        403
    );

    // The destination recorded by the institution's side (here the platform administrator);
    // a bureau elsewhere or the employer may not.
    let (status, v) = post(
        &app,
        Some(&admin),
        &format!("/api/v1/graduates/{b}/destination"),
        &json!({"destination": "employed", "division": "500112"}),
    )
    .await;
    assert_eq!(status, 204, "{v}");
    let (status, _) = post(
        &app,
        Some(&employer),
        &format!("/api/v1/graduates/{b}/destination"),
        &json!({"destination": "pending"}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, v) = post(
        &app,
        Some(&admin),
        &format!("/api/v1/graduates/{b}/destination"),
        &json!({"destination": "abroad"}),
    )
    .await;
    assert_eq!(status, 400, "{v}");
    let row: (String, Option<String>) = platform::on_db!(&app.db, p => sqlx::query_as(
        "SELECT destination, destination_division FROM graduates WHERE citizen_id = $1").bind(&b).fetch_one(p).await.unwrap());
    assert_eq!(row, ("employed".into(), Some("500112".into())));
}

on_both_engines!(
    employers_and_jobs,
    graduates_import,
    fairs_recommendations_saved,
    portal_forms
);
for_each_engine!(federated_search, application_across_provinces, statistics);
