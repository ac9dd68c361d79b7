//! Authorisation by role and scope, through the API and the pages: nobody reads outside
//! their scope, and a refusal looks exactly like "not found".

use serde_json::Value;

use crate::on_both_engines;
use crate::support::TestApp;

on_both_engines!(
    api_scope_rules,
    pages_do_not_leak_existence,
    reads_are_audited_with_purpose
);

fn own_student(app: &TestApp) -> String {
    app.account("student")
        .person_key
        .clone()
        .expect("demo student has a 学籍号")
}

async fn api_scope_rules(app: TestApp) {
    let mine = own_student(&app);
    let theirs = app.other_student.clone();
    let school = app.token("sc.school").await;

    // The school administrator reads their own student, with the full ID number.
    let r = app
        .get_as(&school, &format!("/api/v1/students/{mine}"))
        .await;
    assert_eq!(r.status(), 200);
    let record: Value = r.json().await.unwrap();
    assert_eq!(record["student_no"], mine.as_str());
    assert_eq!(record["id_masked"], false);
    assert!(!record["citizen_id"].as_str().unwrap().contains('*'));

    // Another school's student and a student who does not exist answer the same.
    let other = app
        .get_as(&school, &format!("/api/v1/students/{theirs}"))
        .await;
    let missing = app
        .get_as(&school, "/api/v1/students/G510104201001019996")
        .await;
    assert_eq!(other.status(), 404);
    assert_eq!(missing.status(), 404);
    assert_eq!(other.text().await.unwrap(), missing.text().await.unwrap());
    assert_eq!(
        app.get_as(&school, &format!("/api/v1/orgs/{}", app.other_school))
            .await
            .status(),
        404
    );
    let schools: Vec<Value> = app
        .get_as(&school, "/api/v1/orgs")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(schools.len(), 1, "a school sees only itself");

    // The school's list holds only its own students.
    let list: Vec<Value> = app
        .get_as(&school, "/api/v1/students?limit=500")
        .await
        .json()
        .await
        .unwrap();
    let own_code = app.account("school").org_code.clone().unwrap();
    assert!(!list.is_empty());
    assert!(list.iter().all(|s| s["school_code"] == own_code.as_str()));
    let forced: Vec<Value> = app
        .get_as(
            &school,
            &format!("/api/v1/students?school={}", app.other_school),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        forced.is_empty(),
        "asking for another school's list yields nothing"
    );

    // A teacher reads their school's students, with the ID number masked.
    let teacher = app.token("sc.teacher").await;
    let record: Value = app
        .get_as(&teacher, &format!("/api/v1/students/{mine}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["id_masked"], true);
    assert!(
        record["citizen_id"]
            .as_str()
            .unwrap()
            .contains("**********")
    );
    assert_eq!(
        app.get_as(&teacher, &format!("/api/v1/students/{theirs}"))
            .await
            .status(),
        404
    );

    // The province bureau reaches every school of the province; masked.
    let province = app.token("sc.province").await;
    for no in [&mine, &theirs] {
        let r = app
            .get_as(&province, &format!("/api/v1/students/{no}"))
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["id_masked"], true);
    }

    // The joint office and employers never see personal rows.
    for who in ["sc.joint", "sc.employer"] {
        let token = app.token(who).await;
        assert_eq!(
            app.get_as(&token, &format!("/api/v1/students/{mine}"))
                .await
                .status(),
            404,
            "{who}"
        );
        let list: Vec<Value> = app
            .get_as(&token, "/api/v1/students")
            .await
            .json()
            .await
            .unwrap();
        assert!(list.is_empty(), "{who}");
    }

    // A student reads their own record only.
    let student = app.token("sc.student").await;
    assert_eq!(
        app.get_as(&student, &format!("/api/v1/students/{mine}"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get_as(&student, &format!("/api/v1/students/{theirs}"))
            .await
            .status(),
        404
    );
    app.stop().await;
}

async fn pages_do_not_leak_existence(app: TestApp) {
    let mine = own_student(&app);
    let browser = app.sign_in_form("sc.school").await;
    let get = |path: String| {
        let browser = browser.clone();
        let url = app.url(&path);
        async move { browser.get(url).send().await.unwrap() }
    };
    let own = get(format!("/students/{mine}")).await;
    assert_eq!(own.status(), 200);
    assert!(own.text().await.unwrap().contains(&mine));

    let other = get(format!("/students/{}", app.other_student)).await;
    let missing = get("/students/G510104201001019996".into()).await;
    assert_eq!(other.status(), 404);
    assert_eq!(missing.status(), 404);
    let (other, missing) = (other.text().await.unwrap(), missing.text().await.unwrap());
    // Identical but for the requested number echoed in the language-switch link.
    assert_eq!(
        other.replace(&app.other_student, "X"),
        missing.replace("G510104201001019996", "X")
    );
    assert!(other.contains("未找到该记录或页面"));

    assert_eq!(
        get(format!("/orgs/{}", app.other_school)).await.status(),
        404
    );
    assert_eq!(
        get("/audit".into()).await.status(),
        404,
        "only platform admins see the audit log"
    );
    let org = app.account("school").org_code.clone().unwrap();
    assert_eq!(get(format!("/orgs/{org}")).await.status(), 200);

    // Anonymous visitors are sent to sign in, and learn nothing either.
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = anonymous
        .get(app.url(&format!("/students/{mine}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login?next=")
    );
    app.stop().await;
}

async fn reads_are_audited_with_purpose(app: TestApp) {
    let mine = own_student(&app);
    let school = app.token("sc.school").await;
    let r = app
        .get_as(
            &school,
            &format!("/api/v1/students/{mine}?purpose=转学核验"),
        )
        .await;
    assert_eq!(r.status(), 200);
    // A refused read leaves no access on anyone's record.
    let theirs = app.other_student.clone();
    assert_eq!(
        app.get_as(&school, &format!("/api/v1/students/{theirs}"))
            .await
            .status(),
        404
    );

    let student = app.token("sc.student").await;
    let log: Vec<Value> = app
        .get_as(&student, "/api/v1/me/access-log")
        .await
        .json()
        .await
        .unwrap();
    let entry = log
        .iter()
        .find(|e| e["actor"] == "sc.school")
        .expect("the school's read is in my access log");
    assert_eq!(entry["purpose"], "转学核验");
    assert_eq!(entry["action"], "student.read");
    assert_eq!(entry["actor_role"], "school-admin");

    let recent = platform::audit::recent(&app.db, 1000).await.unwrap();
    assert!(
        !recent
            .iter()
            .any(|r| r.subject.as_deref() == Some(theirs.as_str()))
    );
    assert!(
        recent
            .iter()
            .any(|r| r.action == "auth.token" && r.actor == "sc.school"),
        "sign-ins are audited"
    );
    app.stop().await;
}
