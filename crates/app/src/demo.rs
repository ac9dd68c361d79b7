//! `chuanyu demo`: two nodes, 重庆 (CQ) and 四川 (SC), each with its own SQLite file and
//! data directory, seeded with synthetic data and served on two ports of 127.0.0.1.

use std::path::Path;

use anyhow::Context;
use platform::Config;
use synth::{Province, Spec};

use crate::federate::{self, Peer};
use crate::seed::{self, DEMO_PASSWORD, DemoAccount};
use crate::{Node, Running};

pub struct DemoNode {
    pub province: Province,
    pub running: Running,
    pub accounts: Vec<DemoAccount>,
    pub data_dir: std::path::PathBuf,
    /// Set when the configured port was taken and another was used.
    pub moved_from: Option<String>,
}

/// Starts 重庆 and 四川 under `dir`, in one federation: the joint office's keys and a
/// directory signed for the addresses the nodes got live in `dir/federation`.
pub async fn start(dir: &Path, cq_listen: &str, sc_listen: &str) -> anyhow::Result<Vec<DemoNode>> {
    let mut prepared = vec![
        prepare(dir, Province::CQ, cq_listen).await?,
        prepare(dir, Province::SC, sc_listen).await?,
    ];
    let peers: Vec<Peer> = prepared
        .iter()
        .map(|p| {
            Ok(Peer {
                code: p.province.tag().into(),
                name: p.node.config.name.clone(),
                base_url: format!("http://{}", p.listener.local_addr()?),
                signing_key: p.node.config.signing_key.clone(),
            })
        })
        .collect::<std::io::Result<_>>()?;
    let files = federate::write(&dir.join("federation"), &peers, 365)?;
    let mut nodes = Vec::new();
    for mut p in prepared.drain(..) {
        let config = &mut p.node.config;
        config.federation_directory = files.directory.clone();
        config.federation_governance_key = files.governance_key.clone();
        config.federation_index_key = files.index_key.clone();
        let data_dir = config.data_dir.clone();
        // The demo's records are indexed before anyone asks for them.
        let key = federation::BlindIndexKey::from_base64url(
            std::fs::read_to_string(&files.index_key)?.trim(),
        )?;
        exchange::index::reindex(&p.node.db, &key).await?;
        nodes.push(DemoNode {
            province: p.province,
            running: crate::start(p.node, p.listener)?,
            accounts: p.accounts,
            data_dir,
            moved_from: p.moved_from,
        });
    }
    Ok(nodes)
}

struct Prepared {
    province: Province,
    node: Node,
    accounts: Vec<DemoAccount>,
    listener: tokio::net::TcpListener,
    moved_from: Option<String>,
}

/// Creates (first run) or reuses (later runs) a node under `dir`, seeds it, and binds its
/// address.
async fn prepare(dir: &Path, province: Province, listen: &str) -> anyhow::Result<Prepared> {
    let node_dir = dir.join(province.tag().to_ascii_lowercase());
    let config_path = node_dir.join("chuanyu.toml");
    if !config_path.exists() {
        crate::init(&node_dir, province.tag(), listen, None).await?;
    }
    let config = Config::load(Some(&config_path))?;
    anyhow::ensure!(
        config.member == province.tag(),
        "{} belongs to member {}, not {}",
        config_path.display(),
        config.member,
        province.tag()
    );
    let node = Node::open(config).await?;
    let spec = Spec::demo(province);
    let progress = crate::progress_counter(format!("{} 演示数据", province.name()));
    let work_dir = node.config.data_dir.join("synthetic");
    seed::synthetic(&node.db, &spec, "chuanyu-demo", &work_dir, &progress).await?;
    let accounts = seed::demo_accounts(&spec);
    seed::create_accounts(&node.db, &accounts, DEMO_PASSWORD).await?;
    let wanted = node.config.listen.clone();
    let (listener, moved_from) = match tokio::net::TcpListener::bind(&wanted).await {
        Ok(l) => (l, None),
        // Another program holds the port: a free one keeps the demo a single command.
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => (
            tokio::net::TcpListener::bind("127.0.0.1:0").await?,
            Some(wanted),
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot listen on {wanted}")),
    };
    Ok(Prepared {
        province,
        node,
        accounts,
        listener,
        moved_from,
    })
}

/// The text the demo prints: addresses, data directories and accounts for each role.
pub fn banner(nodes: &[DemoNode]) -> String {
    let mut out = String::from("\n川渝教育协同平台 chuanyu — 演示 demo\n\n");
    for n in nodes {
        out.push_str(&format!(
            "  {} ({})  {}    数据 data: {} (SQLite)\n",
            n.province.name(),
            n.province.tag(),
            n.running.url(),
            n.data_dir.display()
        ));
        if let Some(port) = &n.moved_from {
            out.push_str(&format!(
                "      {port} 已被占用，改用上面的地址 (port in use, moved)\n"
            ));
        }
    }
    out.push_str(&format!(
        "\n演示账号 demo accounts — 密码 password: {DEMO_PASSWORD}\n\n"
    ));
    // User names first: they are ASCII and line up in any terminal; CJK labels go last.
    if let Some(first) = nodes.first() {
        for (i, a) in first.accounts.iter().enumerate() {
            for n in nodes {
                out.push_str(&format!(
                    "  {:<16}",
                    n.accounts.get(i).map(|a| a.username.as_str()).unwrap_or("")
                ));
            }
            out.push_str(a.what);
            out.push('\n');
        }
    }
    // One cross-province look-up to try: a 四川 student asked for from 重庆.
    if let [cq, sc, ..] = nodes
        && let Some(no) = sc
            .accounts
            .iter()
            // The pupil (a graduate's person key is an ID number, not a 学籍号).
            .filter(|a| a.role == kernel::access::Role::Student && a.username.ends_with(".student"))
            .find_map(|a| a.person_key.clone())
    {
        out.push_str(&format!(
            "\n跨省查询 cross-node look-up (两节点同属一个联盟 one federation):\n  \
             curl -H \"Authorization: Bearer $TOKEN\" \"{}/api/v1/students/{no}?purpose=transfer-verification\"\n  \
             ($TOKEN: POST {}/api/v1/auth/token as cq.school)\n",
            cq.running.url(),
            cq.running.url()
        ));
        out.push_str(&format!(
            "
证书核验 certificate verification: {}/verify (sc.teacher 在 {} 打印证书，得到验证码 prints a code)
就业岗位 jobs of both provinces: {}/jobs?q=数据分析 (sc.graduate 可投递 applies; cq.employer 发布 posts)
",
            cq.running.url(),
            sc.running.url(),
            sc.running.url()
        ));
    }
    out.push_str("\n按 Ctrl-C 停止两个节点。 Press Ctrl-C to stop both nodes.\n");
    out
}
