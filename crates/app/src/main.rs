//! `chuanyu`: one binary for a provincial node — init, serve, demo, synthetic data, audit
//! verification and user administration.
//!
//! Exit codes: 0 success; 1 a check found a problem (`audit verify`); 2 usage or I/O error;
//! 3 done but with rejected input.

use chuanyu::federation_cli;

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chuanyu::{Node, demo, seed};
use clap::{Parser, Subcommand};
use kernel::access::Role;
use platform::Config;
use platform::users::{Actor, NewUser};

// glibc's malloc was a tenth of a federated look-up's CPU (BENCHMARKS.md §3): a request makes
// many small allocations that are freed on other threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "chuanyu",
    version,
    about = "川渝教育协同平台 — a provincial node of the Chengdu–Chongqing education platform"
)]
struct Cli {
    /// Node configuration file (TOML). Defaults to $CHUANYU_CONFIG.
    #[arg(long, global = true, env = "CHUANYU_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a node: DIR/chuanyu.toml, its Ed25519 signing key and an empty database.
    Init {
        /// Member code of the authority running the node, e.g. CQ or SC.
        #[arg(long)]
        member: String,
        #[arg(long)]
        dir: PathBuf,
        /// Database URL (default: SQLite file under DIR/data).
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Serve the portal and the API.
    Serve {
        /// Address to listen on (overrides the config's `listen`).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Start two demo nodes (重庆 and 四川) on SQLite with synthetic data.
    Demo {
        /// Directory holding both nodes; reused on later runs.
        #[arg(long, default_value = "demo-data")]
        dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8081")]
        cq_listen: String,
        #[arg(long, default_value = "127.0.0.1:8082")]
        sc_listen: String,
    },
    /// Write deterministic synthetic data for a province as CSV and/or .xlsx.
    Gen {
        /// CQ or SC.
        #[arg(long)]
        member: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 200)]
        schools: u32,
        #[arg(long, default_value_t = 10_000)]
        students: u64,
        #[arg(long, default_value_t = 1_000)]
        teachers: u64,
        /// csv, xlsx, or both (comma-separated).
        #[arg(long, default_value = "csv,xlsx")]
        format: String,
    },
    /// Load synthetic organisations and students into the node (what the demo does).
    Seed {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 40)]
        schools: u32,
        #[arg(long, default_value_t = 2_000)]
        students: u64,
    },
    /// Import a school list or a student (学籍) list from .csv (UTF-8 or GBK) or .xlsx.
    /// Exit 3 when some rows were rejected (the others are stored).
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Export students to .csv or .xlsx (by the file extension); the file re-imports as is.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// User accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Cross-node consistency checks. Exit 1 when a check finds a violation.
    Check {
        #[command(subcommand)]
        command: CheckCommand,
    },
    /// Verify credential files offline (W3C VC, eddsa-jcs-2022): signature, trusted issuer,
    /// validity dates and status. Exit 0 when every file verifies, 1 when any does not.
    Verify {
        /// Credential files, or directories of them (every *.json inside).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Whom to trust: `chuanyu federation trust-bundle` writes it.
        #[arg(long)]
        trust_bundle: Option<PathBuf>,
        /// Trust one verification method directly (did:key:z…#z…).
        #[arg(long = "trust-key")]
        trust_keys: Vec<String>,
        /// Print one JSON report per file.
        #[arg(long)]
        json: bool,
        /// Keep fetched status lists here, for their lifetime.
        #[arg(long)]
        status_cache: Option<PathBuf>,
        /// Never fetch: status only from unexpired lists in --status-cache.
        #[arg(long)]
        offline: bool,
    },
    /// Issued credentials.
    Credentials {
        #[command(subcommand)]
        command: CredentialsCommand,
    },
    /// The signed federation directory, as the joint office keeps it: init, add-member,
    /// allow, sign, show. Exit 1 when `show --governance-key` refuses a directory.
    Federation {
        #[command(subcommand)]
        command: federation_cli::FederationCommand,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// 学校 list: 学校标识码, 学校名称, 办学类型, 所在地.
    Schools {
        file: PathBuf,
        #[command(flatten)]
        options: ImportFlags,
    },
    /// 学籍 list: 学籍号, 姓名, 性别, 出生日期, ... (see `chuanyu gen`).
    Students {
        file: PathBuf,
        #[command(flatten)]
        options: ImportFlags,
    },
    /// Teacher qualification certificates: 身份证件号码, 姓名, ..., 教师资格证书号码, 认定机构, 发证日期.
    Teachers {
        file: PathBuf,
        #[command(flatten)]
        options: ImportFlags,
    },
    /// Graduates of universities and colleges: 身份证件号码, 姓名, 性别, 院校代码, 专业, 学历层次, 毕业日期, 毕业证书编号, 毕业去向 ...
    Graduates {
        file: PathBuf,
        #[command(flatten)]
        options: ImportFlags,
    },
}

#[derive(Subcommand)]
enum CredentialsCommand {
    /// Write issued credentials as JSON files (bulk hand-over and backup).
    Export {
        #[arg(long)]
        out: PathBuf,
        /// teacher-certificate or diploma.
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        limit: Option<u64>,
    },
}

#[derive(clap::Args)]
struct ImportFlags {
    /// Validate only; store nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the rejected rows and why to this .csv or .xlsx file.
    #[arg(long)]
    report: Option<PathBuf>,
}

#[derive(Subcommand)]
enum ExportCommand {
    Students {
        /// Output file; .csv or .xlsx.
        #[arg(long)]
        out: PathBuf,
        /// Only this school (学校标识码).
        #[arg(long)]
        school: Option<String>,
        /// Only this grade, e.g. 三年级.
        #[arg(long)]
        grade: Option<String>,
        /// Only this status, e.g. 在读.
        #[arg(long)]
        status: Option<String>,
    },
}

#[derive(Subcommand)]
enum CheckCommand {
    /// Compare the nodes' copies of every cross-province transfer and the records they
    /// moved: a student active on two nodes, or on none after their transfer ended, copies
    /// that disagree, history lost on the way. Reads each node's database.
    Transfers {
        /// A node's config file (its member code and database); give every node once.
        #[arg(long = "node", required = true, num_args = 1)]
        nodes: Vec<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain and name the first broken link, if any. Exit 1 if broken.
    Verify {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// platform-admin, joint-office, bureau, school-admin, teacher, student, employer.
        #[arg(long)]
        role: String,
        /// Organisation code (required for every role but platform-admin).
        #[arg(long)]
        org: Option<String>,
        /// For students: their 学籍号.
        #[arg(long)]
        person: Option<String>,
        /// Name shown in the portal (defaults to the user name).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input (the only way; never from arguments).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CHUANYU_LOG")
                // sqlx reports PostgreSQL notices (e.g. "relation already exists, skipping"
                // from idempotent migrations) at info; they are not news to an operator.
                .unwrap_or_else(|_| "info,sqlx::postgres::notice=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("错误 error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误 error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config_path = cli.config;
    let load = || Config::load(config_path.as_deref()).context("cannot load the configuration");
    match cli.command {
        Command::Federation {
            command: federation_cli::FederationCommand::Evidence { message_id, out },
        } => {
            let node = Node::open(load()?).await?;
            let code = federation_cli::export_evidence(&node.db, &message_id, out.as_deref()).await;
            node.db.close().await;
            return Ok(code);
        }
        Command::Federation { command } => return Ok(federation_cli::run(command)),
        Command::Verify {
            files,
            trust_bundle,
            trust_keys,
            json,
            status_cache,
            offline,
        } => {
            return chuanyu::credentials_cli::verify(chuanyu::credentials_cli::VerifyArgs {
                files,
                trust_bundle,
                trust_keys,
                json,
                status_cache,
                offline,
            })
            .await;
        }
        Command::Credentials {
            command: CredentialsCommand::Export { out, kind, limit },
        } => {
            let node = Node::open(load()?).await?;
            let n =
                chuanyu::credentials_cli::export(&node.db, &out, kind.as_deref(), limit).await?;
            node.db.close().await;
            println!("已导出 exported {n} → {}", out.display());
        }
        Command::Init {
            member,
            dir,
            database,
            listen,
        } => {
            let path = chuanyu::init(&dir, &member, &listen, database.as_deref()).await?;
            println!("已创建节点 node created: {}", path.display());
            println!(
                "下一步 next: chuanyu user add --config {} --username admin --role platform-admin --password-stdin",
                path.display()
            );
        }
        Command::Serve { listen } => {
            let mut config = load()?;
            if let Some(l) = listen {
                config.listen = l;
            }
            let node = Node::open(config).await?;
            let listener = tokio::net::TcpListener::bind(&node.config.listen)
                .await
                .with_context(|| format!("cannot listen on {}", node.config.listen))?;
            let member = node.config.member.clone();
            let running = chuanyu::start(node, listener)?;
            tracing::info!(member, url = %running.url(), "serving");
            println!("{} 节点已启动 serving on {}", member, running.url());
            shutdown_signal().await;
            running.stop().await?;
        }
        Command::Demo {
            dir,
            cq_listen,
            sc_listen,
        } => {
            let nodes = demo::start(&dir, &cq_listen, &sc_listen).await?;
            println!("{}", demo::banner(&nodes));
            shutdown_signal().await;
            println!("正在停止 stopping…");
            for n in nodes {
                n.running.stop().await?;
            }
        }
        Command::Gen {
            member,
            out,
            seed,
            schools,
            students,
            teachers,
            format,
        } => {
            let province = synth::Province::parse(&member).with_context(|| {
                format!("unknown member {member:?}: synthetic data exists for CQ and SC")
            })?;
            let formats = format
                .split(',')
                .map(|f| match f.trim() {
                    "csv" => Ok(synth::Format::Csv),
                    "xlsx" => Ok(synth::Format::Xlsx),
                    other => Err(anyhow::anyhow!(
                        "unknown format {other:?}: use csv and/or xlsx"
                    )),
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let spec = synth::Spec {
                province,
                seed,
                schools,
                students,
                teachers,
            };
            let bar = chuanyu::progress_bar("生成 generating".into());
            let written = synth::write_all(&spec, &out, &formats, &bar)
                .with_context(|| format!("cannot write to {}", out.display()))?;
            bar.finish_and_clear();
            for w in written {
                println!("{}\t{} 行 rows", w.path.display(), w.rows);
            }
        }
        Command::Seed {
            seed,
            schools,
            students,
        } => {
            let node = Node::open(load()?).await?;
            let province = synth::Province::parse(&node.config.member).with_context(|| {
                format!(
                    "synthetic data exists for CQ and SC, not {}",
                    node.config.member
                )
            })?;
            let spec = synth::Spec {
                province,
                seed,
                schools,
                students,
                teachers: 0,
            };
            let bar = chuanyu::progress_counter("写入 seeding".into());
            let work_dir = node.config.data_dir.join("synthetic");
            let done = seed::synthetic(&node.db, &spec, &operator(), &work_dir, &bar).await?;
            println!(
                "新增机构 orgs added: {}, 新增学生 students added: {}",
                done.orgs, done.students
            );
            node.db.close().await;
        }
        Command::Import { command } => {
            let node = Node::open(load()?).await?;
            // The 学籍 lists go through the registry's import (with a progress bar).
            enum List {
                Registry(registry::files::Kind),
                Teachers,
                Graduates,
            }
            let (kind, file, flags) = match command {
                ImportCommand::Schools { file, options } => (
                    List::Registry(registry::files::Kind::Schools),
                    file,
                    options,
                ),
                ImportCommand::Students { file, options } => (
                    List::Registry(registry::files::Kind::Students),
                    file,
                    options,
                ),
                ImportCommand::Teachers { file, options } => (List::Teachers, file, options),
                ImportCommand::Graduates { file, options } => (List::Graduates, file, options),
            };
            let who = chuanyu::operator_principal(&operator());
            let bar = chuanyu::progress_counter("导入 importing".into());
            let name = display_name(&file);
            let outcome = match kind {
                List::Registry(kind) => {
                    registry::files::import_file(
                        &node.db,
                        &who,
                        kind,
                        &file,
                        &name,
                        flags.dry_run,
                        &bar,
                    )
                    .await?
                }
                List::Teachers => {
                    certificates::import::import_file(&node.db, &who, &file, &name, flags.dry_run)
                        .await?
                }
                List::Graduates => {
                    employment::graduates::import_file(&node.db, &who, &file, &name, flags.dry_run)
                        .await?
                }
            };
            bar.finish_and_clear();
            let s = &outcome.summary;
            println!(
                "读取 read {} · 新增 inserted {} · 更新 updated {} · 未变化 unchanged {} · 拒绝 rejected {} · {} 行/秒 rows/s{}",
                s.read,
                s.inserted,
                s.updated,
                s.unchanged,
                s.rejected,
                s.rows_per_second(),
                if s.dry_run {
                    " · 仅校验 dry run: nothing stored"
                } else {
                    ""
                }
            );
            for p in outcome.problems.iter().take(20) {
                println!(
                    "  第 {} 行 · {}“{}”：{}",
                    p.row_no, p.column_name, p.value, p.reason
                );
            }
            if s.rejected > 0 && outcome.problems.len() > 20 {
                println!(
                    "  …（共 {} 处问题 problems in all; --report PATH writes them all)",
                    outcome.problems.len()
                );
            }
            if let Some(path) = flags.report {
                registry::files::write_report(&node.db, &s.run_id, &path).await?;
                println!("问题清单 report: {}", path.display());
            }
            // A clean close lets SQLite checkpoint and remove its WAL; otherwise the next
            // process to open the node replays it.
            node.db.close().await;
            if s.rejected > 0 {
                return Ok(ExitCode::from(3));
            }
        }
        Command::Export {
            command:
                ExportCommand::Students {
                    out,
                    school,
                    grade,
                    status,
                },
        } => {
            let node = Node::open(load()?).await?;
            let who = chuanyu::operator_principal(&operator());
            let query = registry::StudentQuery {
                school,
                grade,
                status,
                ..Default::default()
            };
            let audit = platform::audit::AuditLog::start(node.db.clone());
            let rows =
                registry::files::export_students(&node.db, &audit, &who, &query, &out).await?;
            println!("已导出 exported {rows} 行 rows → {}", out.display());
            node.db.close().await;
        }
        Command::Check {
            command: CheckCommand::Transfers { nodes, json },
        } => {
            let mut opened = Vec::new();
            for path in &nodes {
                let node = Node::open(Config::load(Some(path))?).await?;
                opened.push(transfer::check::Node {
                    member: node.config.member.clone(),
                    db: node.db,
                });
            }
            let report = transfer::check::run(&opened).await?;
            for node in &opened {
                node.db.close().await;
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "转学 transfers: {}（已办结 ended {}，进行中 open {}），学生 students: {}，违规 violations: {}",
                    report.transfers,
                    report.ended,
                    report.open,
                    report.students,
                    report.violations.len()
                );
                for v in &report.violations {
                    println!(
                        "  {} {} {} {}",
                        v.kind,
                        v.student_no,
                        v.transfer_id.as_deref().unwrap_or("-"),
                        v.detail
                    );
                }
            }
            if !report.violations.is_empty() {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Audit {
            command: AuditCommand::Verify { json },
        } => {
            let node = Node::open(load()?).await?;
            let report = platform::audit::verify(&node.db).await?;
            node.db.close().await;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
            match &report.first_broken {
                None => {
                    if !json {
                        println!("审计链完整 audit chain intact: {} entries", report.entries);
                    }
                }
                Some(broken) => {
                    if !json {
                        println!(
                            "审计链断裂 audit chain broken at entry {}: {broken} ({} entries verified before it)",
                            broken.seq(),
                            report.entries
                        );
                    }
                    return Ok(ExitCode::from(1));
                }
            }
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    org,
                    person,
                    name,
                    password_stdin: _,
                },
        } => {
            let role = Role::parse(&role).with_context(|| {
                let all: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown role {role:?}; roles: {}", all.join(", "))
            })?;
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("cannot read the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let node = Node::open(load()?).await?;
            let operator = operator();
            let new = NewUser {
                display_name: name.unwrap_or_else(|| username.clone()),
                username,
                password,
                role,
                org_code: org,
                person_key: person,
            };
            let username = new.username.clone();
            let id = platform::users::create(
                &node.db,
                new,
                &Actor {
                    name: &operator,
                    role: "operator",
                },
            )
            .await?;
            node.db.close().await;
            println!("已创建用户 user created: {username} (id {id}, {role})");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A file's name as the user knows it (recorded with an import run).
fn display_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Who ran a CLI command, for the audit log.
fn operator() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
