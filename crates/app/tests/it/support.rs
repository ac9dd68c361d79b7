//! Test harness: a real node on port 0 with a fresh database per test — a temporary SQLite
//! file, or a new PostgreSQL database named by a UUID that is dropped afterwards.

use std::path::PathBuf;

use chuanyu::seed::{self, DemoAccount};
use chuanyu::{Node, Running};
use platform::{Config, Db};
use synth::{Province, Spec};

pub const PASSWORD: &str = "correct-horse-42";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Where tests find PostgreSQL; the database named here is only used to create and drop
/// the per-test databases.
pub fn pg_admin_url() -> String {
    std::env::var("CHUANYU_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A fresh, empty database for one test.
pub struct TestDb {
    pub url: String,
    pub dir: PathBuf,
    pg_name: Option<String>,
}

impl TestDb {
    /// `None` when PostgreSQL is unreachable outside CI (said loudly); in CI that panics.
    pub async fn create(engine: Engine) -> Option<TestDb> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("chuanyu-test-{id}"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        match engine {
            Engine::Sqlite => {
                let url = format!("sqlite://{}", dir.join("node.db").display());
                Some(TestDb {
                    url,
                    dir,
                    pg_name: None,
                })
            }
            Engine::Postgres => {
                use sqlx::Connection;
                let admin = pg_admin_url();
                let mut conn = match sqlx::PgConnection::connect(&admin).await {
                    Ok(c) => c,
                    Err(e) if !in_ci() => {
                        eprintln!(
                            "SKIPPED (PostgreSQL unreachable at {admin}: {e}); CI=true makes this a failure"
                        );
                        return None;
                    }
                    Err(e) => {
                        panic!("PostgreSQL is required in CI but unreachable at {admin}: {e}")
                    }
                };
                let name = format!("chuanyu_t_{id}");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Some(TestDb {
                    url: format!("{base}/{name}"),
                    dir,
                    pg_name: Some(name),
                })
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(name) = self.pg_name.take() {
            // Drop runs outside async; a small runtime on its own thread does the cleanup.
            let admin = pg_admin_url();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    use sqlx::Connection;
                    let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await
                    .ok()
                })
            })
            .join();
        }
    }
}

/// A running node with seeded data and one account per role.
pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub running: Option<Running>,
    pub accounts: Vec<DemoAccount>,
    /// A second school and its administrator, for scope tests.
    pub other_school: String,
    pub other_student: String,
    /// The account prefix: `sc` or `cq`.
    pub prefix: String,
    /// Held for its `Drop`, which removes the database.
    _test_db: TestDb,
}

pub struct Options {
    pub login_attempts_per_minute: u32,
    pub max_body_bytes: usize,
    pub province: Province,
    /// Bound beforehand when the address must be known first (a federation directory).
    pub listener: Option<tokio::net::TcpListener>,
    pub federation: Option<FederationFiles>,
    /// `transfer_step_hours` (0: every transfer step is overdue at once).
    pub transfer_step_hours: u32,
    /// `transfer_provincial_step`.
    pub transfer_provincial_step: bool,
    /// How long published status lists may be cached (short in tests of revocation).
    pub status_list_ttl_seconds: u32,
    pub public_url: String,
}

/// A node's federation settings: the files its config points at.
pub struct FederationFiles {
    pub directory: PathBuf,
    pub governance_key: String,
    pub index_key: PathBuf,
    pub signing_key: PathBuf,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            login_attempts_per_minute: 1000,
            max_body_bytes: 64 * 1024,
            province: Province::SC,
            listener: None,
            federation: None,
            transfer_step_hours: 120,
            transfer_provincial_step: false,
            status_list_ttl_seconds: 300,
            public_url: String::new(),
        }
    }
}

pub fn spec_of(province: Province) -> Spec {
    Spec {
        province,
        seed: 7,
        schools: 6,
        students: 120,
        teachers: 0,
    }
}

impl TestApp {
    pub async fn spawn(engine: Engine) -> Option<TestApp> {
        TestApp::spawn_with(engine, Options::default()).await
    }

    pub async fn spawn_with(engine: Engine, options: Options) -> Option<TestApp> {
        let test_db = TestDb::create(engine).await?;
        let member = options.province.tag();
        let mut config =
            Config::from_toml(&format!("member = \"{member}\""), &test_db.dir).expect("config");
        config.database_url = test_db.url.clone();
        if let Some(f) = &options.federation {
            config.federation_directory = f.directory.clone();
            config.federation_governance_key = f.governance_key.clone();
            config.federation_index_key = f.index_key.clone();
            config.signing_key = f.signing_key.clone();
        }
        config.login_attempts_per_minute = options.login_attempts_per_minute;
        config.max_body_bytes = options.max_body_bytes;
        config.db_max_connections = 4;
        config.transfer_step_hours = options.transfer_step_hours;
        config.transfer_provincial_step = options.transfer_provincial_step;
        config.status_list_ttl_seconds = options.status_list_ttl_seconds;
        config.public_url = options.public_url.clone();
        // What `chuanyu init` does: a node has its signing key (it issues credentials).
        if !config.signing_key.exists() {
            platform::keys::generate(&config.signing_key).expect("node key");
        }
        let node = Node::open(config).await.expect("open node");
        let spec = spec_of(options.province);
        seed::synthetic(
            &node.db,
            &spec,
            "test",
            &test_db.dir.join("synthetic"),
            &indicatif::ProgressBar::hidden(),
        )
        .await
        .expect("seed");
        let accounts = seed::demo_accounts(&spec);
        seed::create_accounts(&node.db, &accounts, PASSWORD)
            .await
            .expect("accounts");
        // A student of another school, and that school's administrator.
        let school = accounts
            .iter()
            .find(|a| a.username == format!("{}.school", member.to_ascii_lowercase()))
            .and_then(|a| a.org_code.clone())
            .unwrap();
        let schools = synth::schools(&spec);
        let other = synth::students(&spec, &schools)
            .find(|s| s.school_code != school)
            .expect("another school");
        seed::create_accounts(
            &node.db,
            &[DemoAccount {
                username: format!("{}.school2", member.to_ascii_lowercase()),
                what: "另一所学校的管理员 another school's admin",
                role: kernel::access::Role::SchoolAdmin,
                display_name: "另一所学校管理员".into(),
                org_code: Some(other.school_code.clone()),
                person_key: None,
            }],
            PASSWORD,
        )
        .await
        .expect("second school admin");
        let db = node.db.clone();
        let listener = match options.listener {
            Some(l) => l,
            None => tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind"),
        };
        let running = chuanyu::start(node, listener).expect("start");
        Some(TestApp {
            base: running.url(),
            db,
            running: Some(running),
            accounts,
            other_school: other.school_code,
            other_student: other.student_no,
            prefix: member.to_ascii_lowercase(),
            _test_db: test_db,
        })
    }

    pub fn account(&self, short: &str) -> &DemoAccount {
        let name = format!("{}.{short}", self.prefix);
        self.accounts
            .iter()
            .find(|a| a.username == name)
            .unwrap_or_else(|| panic!("no account {name}"))
    }

    /// The node's database, for running the `chuanyu` binary against it.
    pub fn database_url(&self) -> &str {
        &self._test_db.url
    }

    /// A scratch directory that lives as long as the app.
    pub fn dir(&self) -> PathBuf {
        let dir = self._test_db.dir.join("work");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The running node's side of the federation (a federated node's).
    pub fn federation(&self) -> exchange::Federation {
        let running = self.running.as_ref().expect("the node is running");
        running
            .state
            .federation
            .clone()
            .expect("the node is federated")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The status `client` gets for GET `path`.
    pub async fn status(&self, client: &reqwest::Client, path: &str) -> u16 {
        client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// A bearer token for a demo account.
    pub async fn token(&self, username: &str) -> String {
        let response = reqwest::Client::new()
            .post(self.url("/api/v1/auth/token"))
            .json(&serde_json::json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "token for {username}");
        let body: serde_json::Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn get_as(&self, token: &str, path: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Opens the sign-in form with `client` (which keeps the pre-session cookie) and returns
    /// the form's CSRF token.
    pub async fn sign_in_token(&self, client: &reqwest::Client) -> String {
        let page = client
            .get(self.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        hidden_field(&page, "csrf").expect("csrf field on sign-in form")
    }

    /// A browser-like client (cookies kept, redirects not followed) signed in by the form.
    pub async fn sign_in_form(&self, username: &str) -> reqwest::Client {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let csrf = self.sign_in_token(&client).await;
        let response = client
            .post(self.url("/login"))
            .form(&[
                ("username", username),
                ("password", PASSWORD),
                ("csrf", &csrf),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            303,
            "sign-in of {username} should redirect"
        );
        client
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("clean stop");
        }
    }
}

/// The value of `<input type="hidden" name=NAME value="...">` in a page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// Defines `NAME::sqlite` and `NAME::postgres`, each running `async fn NAME(app: TestApp)`
/// against a freshly spawned node on that engine.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use $crate::support::{Engine, TestApp};
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = TestApp::spawn(Engine::Sqlite).await.expect("sqlite always runs");
                super::$name(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = TestApp::spawn(Engine::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    )*};
}

/// Like [`on_both_engines!`] for tests that start their own nodes (e.g. a federated pair):
/// each `name(engine: Engine)` runs once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! for_each_engine {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use $crate::support::Engine;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$name(Engine::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$name(Engine::Postgres).await }
        }
    )*};
}
