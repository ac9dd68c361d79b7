//! The `chuanyu` binary's library half: opening a node, `init`, seeding synthetic data,
//! running servers and the two-node demo. `main.rs` only parses arguments and calls these,
//! so the integration tests drive exactly what the CLI does.

pub mod credentials_cli;
pub mod demo;
pub mod federate;
pub mod federation_cli;
pub mod seed;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use platform::{Config, Db};
use tokio::sync::oneshot;

/// A node's configuration and its migrated database.
pub struct Node {
    pub config: Config,
    pub db: Db,
}

impl Node {
    /// Connects to the configured database and brings its schema up to date.
    pub async fn open(config: Config) -> anyhow::Result<Node> {
        let db = Db::connect(&config.database_url, config.db_max_connections)
            .await
            .with_context(|| format!("cannot open database {}", redact(&config.database_url)))?;
        db.migrate().await.context("cannot migrate the database")?;
        Ok(Node { config, db })
    }
}

/// Hides a password in a database URL for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***{}", &url[..scheme], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// `chuanyu init`: writes `DIR/chuanyu.toml`, the node's signing key (mode 0600) and an
/// empty, migrated database. Refuses to overwrite an existing config or key.
pub async fn init(
    dir: &Path,
    member: &str,
    listen: &str,
    database_url: Option<&str>,
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("chuanyu.toml");
    anyhow::ensure!(
        !path.exists(),
        "{} already exists; refusing to overwrite it",
        path.display()
    );
    let text = Config::init_toml(member, listen, database_url);
    let config = Config::from_toml(&text, dir)?;
    platform::keys::generate(&config.signing_key)?;
    let node = Node::open(config).await?;
    node.db.close().await;
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// A server running in this process.
pub struct Running {
    pub addr: SocketAddr,
    pub state: web::AppState,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish, waits, and closes the database
    /// (so SQLite checkpoints its WAL).
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await??;
        self.state.db.close().await;
        Ok(())
    }
}

/// Starts serving `node` on `listener`.
pub fn start(node: Node, listener: tokio::net::TcpListener) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    let state = web::AppState::new(node.config, node.db);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(web::serve(listener, state.clone(), async move {
        let _ = stopped.await;
    }));
    Ok(Running {
        addr,
        state,
        stop,
        task,
    })
}

/// The principal CLI commands act as: the node operator, with the whole node in scope
/// (whoever can run the binary against the node's database already holds all of it).
pub fn operator_principal(name: &str) -> kernel::access::Principal {
    kernel::access::Principal {
        user_id: 0,
        username: name.to_owned(),
        role: kernel::access::Role::PlatformAdmin,
        scope: kernel::access::Scope::Node,
    }
}

/// A progress bar on a terminal, nothing otherwise (logs and CI stay clean). For work of
/// known size; [`progress_counter`] for work whose size shows only at the end.
pub fn progress_bar(message: String) -> indicatif::ProgressBar {
    progress(
        message,
        "{msg} [{bar:40}] {human_pos}/{human_len} ({per_sec}, {eta})",
    )
}

/// A running count (rows imported so far) on a terminal, nothing otherwise.
pub fn progress_counter(message: String) -> indicatif::ProgressBar {
    progress(
        message,
        "{spinner} {msg} {human_pos} 行 rows ({per_sec}, {elapsed})",
    )
}

fn progress(message: String, template: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0).with_message(message);
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}
