//! The binary itself: init, user add, serve, audit verify and gen, as a person runs them.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{Engine, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_chuanyu");

fn chuanyu(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("CHUANYU_CONFIG")
        .output()
        .expect("run chuanyu")
}

fn add_user(config: &str, args: &[&str], password: &str) -> std::process::Output {
    let mut child = Command::new(BIN)
        .args(["user", "add", "--config", config, "--password-stdin"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(password.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

async fn init_serve_and_verify(engine: Engine) {
    let Some(db) = TestDb::create(engine).await else {
        return;
    };
    let dir = db.dir.join("node");
    let dir_s = dir.to_str().unwrap();
    let mut args = vec![
        "init",
        "--member",
        "CQ",
        "--dir",
        dir_s,
        "--listen",
        "127.0.0.1:0",
    ];
    if engine == Engine::Postgres {
        args.extend(["--database", db.url.as_str()]);
    }
    let out = chuanyu(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = dir.join("chuanyu.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("member = \"CQ\""));
    assert!(text.contains("listen = \"127.0.0.1:0\""));
    let key = dir.join("data/keys/node-ed25519.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    if engine == Engine::Sqlite {
        assert!(dir.join("data/chuanyu.db").exists());
    }
    // Re-running init never overwrites a node.
    let again = chuanyu(&args);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let config_s = config.to_str().unwrap();
    let out = add_user(
        config_s,
        &["--username", "admin", "--role", "platform-admin"],
        "a-long-password\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = add_user(
        config_s,
        &["--username", "admin", "--role", "platform-admin"],
        "a-long-password\n",
    );
    assert_eq!(out.status.code(), Some(2), "duplicate user name refused");
    let out = add_user(
        config_s,
        &["--username", "x1", "--role", "school-admin"],
        "a-long-password\n",
    );
    assert_eq!(out.status.code(), Some(2), "a school admin needs a school");
    let out = add_user(
        config_s,
        &["--username", "x2", "--role", "wizard"],
        "a-long-password\n",
    );
    assert_eq!(out.status.code(), Some(2));
    let out = add_user(
        config_s,
        &["--username", "x3", "--role", "platform-admin"],
        "short\n",
    );
    assert_eq!(out.status.code(), Some(2), "short passwords refused");

    // serve, with CHUANYU_LISTEN from the environment overriding the file's port 0... and
    // --listen overriding both.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = Command::new(BIN)
        .args(["serve", "--config", config_s, "--listen", &listen])
        .env("CHUANYU_LISTEN", "127.0.0.1:1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut healthy = false;
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("http://{listen}/healthz")).send().await {
            healthy = r.status() == 200;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(healthy, "chuanyu serve answers /healthz");
    let r = client
        .post(format!("http://{listen}/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "admin", "password": "a-long-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the password read from stdin works");
    #[cfg(unix)]
    unsafe_term(&server);
    let status = server.wait().unwrap();
    assert!(
        status.success(),
        "SIGTERM stops the server cleanly: {status}"
    );

    let out = chuanyu(&["audit", "verify", "--config", config_s, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["entries"].as_i64().unwrap() >= 2,
        "user creation and sign-in were audited"
    );
    assert!(report["first_broken"].is_null());

    // Tamper behind the node's back; verify names the entry and exits 1.
    let node = chuanyu::Node::open(platform::Config::load(Some(&config)).unwrap())
        .await
        .unwrap();
    let sql = match engine {
        Engine::Sqlite => {
            "DROP TRIGGER audit_log_append_only_update; UPDATE audit_log SET actor = 'ghost' WHERE seq = 1;"
        }
        Engine::Postgres => {
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; UPDATE audit_log SET actor = 'ghost' WHERE seq = 1;"
        }
    };
    platform::on_db!(&node.db, p => sqlx::raw_sql(sql).execute(p).await.unwrap().rows_affected());
    node.db.close().await;
    let out = chuanyu(&["audit", "verify", "--config", config_s]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("entry 1"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[cfg(unix)]
fn unsafe_term(child: &std::process::Child) {
    // `kill` is the portable way to send SIGTERM without an extra crate.
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

mod init_serve_verify {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        init_serve_and_verify(Engine::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        init_serve_and_verify(Engine::Postgres).await;
    }
}

#[test]
fn gen_writes_deterministic_csv_and_xlsx() {
    let dir = std::env::temp_dir().join(format!("chuanyu-gen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = |out: &std::path::Path| {
        let out = chuanyu(&[
            "gen",
            "--member",
            "SC",
            "--out",
            out.to_str().unwrap(),
            "--seed",
            "9",
            "--schools",
            "12",
            "--students",
            "3000",
            "--teachers",
            "100",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&dir.join("a"));
    run(&dir.join("b"));
    let students = std::fs::read_to_string(dir.join("a/students.csv")).unwrap();
    assert_eq!(students.lines().count(), 3001);
    assert!(students.starts_with("学籍号,姓名,性别,出生日期"));
    assert_eq!(
        students,
        std::fs::read_to_string(dir.join("b/students.csv")).unwrap(),
        "same seed, same bytes"
    );
    for file in [
        "bureaus.xlsx",
        "schools.xlsx",
        "students.xlsx",
        "teachers.xlsx",
        "teachers.csv",
    ] {
        assert!(
            std::fs::metadata(dir.join("a").join(file)).unwrap().len() > 0,
            "{file}"
        );
    }
    let bad = chuanyu(&["gen", "--member", "XZ", "--out", dir.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}
