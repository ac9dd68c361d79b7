//! The portal: sign-in by form with CSRF protection, sign-out, home pages per role, the
//! language switch and "我的访问记录".

use crate::on_both_engines;
use crate::support::{PASSWORD, TestApp, hidden_field};

on_both_engines!(
    form_sign_in_and_out,
    csrf_is_enforced,
    home_page_per_role,
    access_log_page_and_language
);

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn form_sign_in_and_out(app: TestApp) {
    let browser = app.sign_in_form("sc.school").await;
    let home = browser
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("学校管理员"), "role shown on the home page");
    let csrf = hidden_field(&home, "csrf").expect("sign-out form carries a CSRF token");
    let r = browser
        .post(app.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = browser.get(app.url("/students")).send().await.unwrap();
    assert_eq!(
        r.status(),
        303,
        "signed out: protected pages redirect to sign-in"
    );

    // A wrong password keeps the user on the form with a message, and no session.
    let client = no_redirects();
    let token = app.sign_in_token(&client).await;
    let r = client
        .post(app.url("/login"))
        .form(&[
            ("username", "sc.school"),
            ("password", "nope-nope"),
            ("csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("用户名或密码错误"));
    assert_eq!(app.status(&client, "/students").await, 303);

    // Sign-in never redirects off-site.
    let token = app.sign_in_token(&client).await;
    let r = client
        .post(app.url("/login"))
        .form(&[
            ("username", "sc.school"),
            ("password", PASSWORD),
            ("csrf", token.as_str()),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/");
    app.stop().await;
}

async fn csrf_is_enforced(app: TestApp) {
    // Sign-in without the form's token (a cross-site post) is refused.
    let client = no_redirects();
    let r = client
        .post(app.url("/login"))
        .form(&[
            ("username", "sc.school"),
            ("password", PASSWORD),
            ("csrf", "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("表单已过期"));
    let _ = client.get(app.url("/login")).send().await.unwrap();
    let r = client
        .post(app.url("/login"))
        .form(&[
            ("username", "sc.school"),
            ("password", PASSWORD),
            ("csrf", "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        403,
        "a token that does not match the cookie is refused"
    );

    // Sign-out with a wrong token is refused and the session survives.
    let browser = app.sign_in_form("sc.school").await;
    let r = browser
        .post(app.url("/logout"))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.status(&browser, "/students").await, 200);
    app.stop().await;
}

async fn home_page_per_role(app: TestApp) {
    let cases = [
        ("sc.admin", "平台管理员", "审计日志"),
        ("sc.joint", "联合办公室", "市（州）"),
        ("sc.province", "教育行政部门", "管辖范围内的机构"),
        ("sc.school", "学校管理员", "学生学籍"),
        ("sc.teacher", "教师", "本校学生名单"),
        ("sc.student", "学生", "我的学籍"),
        ("sc.employer", "用人单位", "本单位"),
    ];
    for (user, role, marker) in cases {
        let browser = app.sign_in_form(user).await;
        let home = browser
            .get(app.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            home.contains(&format!("<dd id=\"role\">{role}</dd>")),
            "{user}: role {role}"
        );
        assert!(home.contains(marker), "{user}: {marker}");
    }
    let anonymous = reqwest::get(app.url("/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        anonymous.contains("在学生学籍管理、毕业生就业信息、教师资格证书查询等方面实现数据共享")
    );
    app.stop().await;
}

async fn access_log_page_and_language(app: TestApp) {
    let mine = app.account("student").person_key.clone().unwrap();
    let school = app.sign_in_form("sc.school").await;
    assert_eq!(app.status(&school, &format!("/students/{mine}")).await, 200);

    let student = app.sign_in_form("sc.student").await;
    let page = student
        .get(app.url("/me/access-log"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let school_name = &app.account("school").display_name;
    assert!(
        page.contains(school_name.as_str()),
        "the school administrator's read is listed"
    );
    assert!(page.contains("学籍管理"));
    assert!(page.contains("查看学籍"));

    let r = student
        .get(app.url("/lang?set=en&next=%2Fme%2Faccess-log"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/me/access-log");
    let page = student
        .get(app.url("/me/access-log"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Who accessed my record"));
    assert!(page.contains("lang=\"en\""));
    app.stop().await;
}
