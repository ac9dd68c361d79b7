//! The API edge: health, metrics, OpenAPI, tokens, rate limits and bad input.

use serde_json::Value;

use crate::on_both_engines;
use crate::support::{Engine, Options, PASSWORD, TestApp};

on_both_engines!(
    health_metrics_and_openapi,
    tokens_and_identity,
    bad_input_is_refused_cleanly
);

async fn health_metrics_and_openapi(app: TestApp) {
    let health: Value = reqwest::get(app.url("/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["member"], "SC");

    let spec: Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        spec["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        spec["openapi"]
    );
    for path in [
        "/api/v1/auth/token",
        "/api/v1/students/{student_no}",
        "/api/v1/me/access-log",
        "/healthz",
    ] {
        assert!(spec["paths"].get(path).is_some(), "OpenAPI lacks {path}");
    }

    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("chuanyu_node_info"), "{metrics}");
    assert!(
        metrics.contains("route=\"/healthz\""),
        "requests are counted by route: {metrics}"
    );
    app.stop().await;
}

async fn tokens_and_identity(app: TestApp) {
    let client = reqwest::Client::new();
    let token = app.token("sc.school").await;
    let me: Value = app.get_as(&token, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["role"], "school-admin");
    assert_eq!(
        me["org_code"].as_str(),
        app.account("school").org_code.as_deref()
    );

    for (username, password) in [("sc.school", "wrong-password"), ("nobody.here", PASSWORD)] {
        let r = client
            .post(app.url("/api/v1/auth/token"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let body: Value = r.json().await.unwrap();
        // Unknown users and wrong passwords are indistinguishable.
        assert_eq!(body["code"], "sign_in_failed");
        assert_eq!(body["message"], "用户名或密码错误。");
    }

    let r = client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "unauthenticated");
    let r = app.get_as("not-a-token", "/api/v1/me").await;
    assert_eq!(r.status(), 401);
    // A portal session cookie value is not an API token, and the reverse.
    let web = app.sign_in_form("sc.school").await;
    let r = web.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    app.stop().await;
}

async fn bad_input_is_refused_cleanly(app: TestApp) {
    let client = reqwest::Client::new();
    let post = |body: &'static str, content_type: &'static str| {
        client
            .post(app.url("/api/v1/auth/token"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases: [(&str, &str, u16, &str); 5] = [
        (
            "{\"username\": \"sc.school\", ",
            "application/json",
            400,
            "invalid_request",
        ),
        (
            "{\"username\": 42, \"password\": []}",
            "application/json",
            400,
            "invalid_request",
        ),
        ("{}", "application/json", 400, "invalid_request"),
        (
            "username=sc.school",
            "application/x-www-form-urlencoded",
            415,
            "unsupported_media_type",
        ),
        (
            "\u{0}\u{1}garbage",
            "application/json",
            400,
            "invalid_request",
        ),
    ];
    for (body, content_type, status, code) in cases {
        let r = post(body, content_type).await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{body:?}");
        let json: Value = r.json().await.unwrap();
        assert_eq!(json["code"], code, "{body:?}");
        assert!(!json["message"].as_str().unwrap().is_empty());
    }
    // Bodies over the limit are refused before they are read.
    let huge = format!(
        "{{\"username\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(200 * 1024)
    );
    let r = client
        .post(app.url("/api/v1/auth/token"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "payload_too_large"
    );

    let token = app.token("sc.school").await;
    for path in [
        "/api/v1/students/%F0%9F%92%A9",
        "/api/v1/students/%FF%FE",
        "/api/v1/students/G'%20OR%201=1--",
        "/api/v1/orgs?limit=abc",
        "/api/v1/orgs?kind=castle",
        "/api/v1/nothing-here",
    ] {
        let r = app.get_as(&token, path).await;
        assert!(
            [400, 404].contains(&r.status().as_u16()),
            "{path}: {}",
            r.status()
        );
        let json: Value = r
            .json()
            .await
            .unwrap_or_else(|_| panic!("{path} answers JSON"));
        assert!(json["code"].is_string(), "{path}");
    }
    let long_purpose = format!(
        "/api/v1/students/{}?purpose={}",
        app.other_student,
        "目".repeat(40)
    );
    assert_eq!(app.get_as(&token, &long_purpose).await.status(), 400);
    // Still healthy after all of it.
    assert_eq!(
        reqwest::get(app.url("/healthz")).await.unwrap().status(),
        200
    );
    app.stop().await;
}

mod rate_limit {
    use super::*;

    async fn run(engine: Engine) {
        let options = Options {
            login_attempts_per_minute: 3,
            ..Options::default()
        };
        let Some(app) = TestApp::spawn_with(engine, options).await else {
            return;
        };
        let client = reqwest::Client::new();
        let attempt = |password: &'static str| {
            client
                .post(app.url("/api/v1/auth/token"))
                .json(&serde_json::json!({"username": "sc.teacher", "password": password}))
                .send()
        };
        for _ in 0..3 {
            assert_eq!(attempt("guess").await.unwrap().status(), 401);
        }
        let r = attempt(PASSWORD).await.unwrap();
        assert_eq!(
            r.status(),
            429,
            "even the right password waits once the limit is hit"
        );
        assert!(r.headers().get("retry-after").is_some());
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "rate_limited");
        app.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(Engine::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        run(Engine::Postgres).await;
    }
}

on_both_engines!(student_numbers_are_parsed_at_the_edge);

async fn student_numbers_are_parsed_at_the_edge(app: TestApp) {
    let token = app.token("sc.school").await;
    let mine = app.account("student").person_key.clone().unwrap();
    // Full-width digits and a lowercase x are normalised, not refused.
    let full_width: String = mine
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                char::from_u32(c as u32 - 0x30 + 0xFF10).unwrap()
            } else {
                c
            }
        })
        .collect();
    let r = app
        .get_as(
            &token,
            &format!("/api/v1/students/{}", full_width.to_lowercase()),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["student_no"],
        mine.as_str()
    );

    // A wrong check character is named, in Chinese, with its stable code.
    let last = mine.chars().last().unwrap();
    let wrong = if last == '0' { '1' } else { '0' };
    let bad = format!("{}{wrong}", &mine[..mine.len() - 1]);
    let r = app.get_as(&token, &format!("/api/v1/students/{bad}")).await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "id.checksum");
    assert!(
        body["message"].as_str().unwrap().contains("校验位"),
        "{body}"
    );
    let r = app.get_as(&token, "/api/v1/students/X123").await;
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "id.prefix");
    app.stop().await;
}
