//! `chuanyu federation …`: the joint office's (川渝教育协同办公室) tool for the signed
//! federation directory (DESIGN.md §2, `federation::directory`).
//!
//! # The workspace
//!
//! Everything lives in one directory, `--dir DIR`, kept on the office's own machine:
//!
//! - `DIR/governance.key`: the governance signing key, Ed25519 PKCS#8 PEM, mode 0600, made by
//!   `platform::keys::generate` and never overwritten (not even by `init --force`). Its public
//!   half, multibase `z6Mk…`, is what every node puts in `federation_governance_key`.
//! - `DIR/directory.json`: the draft, a [`Directory`] as JSON without a signature. `init`
//!   writes version 0, no members, no rules and the standard purposes; `add-member` and
//!   `allow` edit it; `sign` records the version and validity it issued, so the draft's
//!   `version` is always the last issued one (0 before the first issue) and its `issued_at` /
//!   `expires_at` are those of the last issue (or of `init`) — `sign` replaces them.
//! - `DIR/directory.signed.json` (or `sign --out PATH`): the published
//!   [`federation::SignedDirectory`], `{"directory": …, "signature": {"alg": "ed25519",
//!   "kid": "z6Mk…", "value": "…"}}`, written to a temporary file in the same directory and
//!   renamed over the old one, so a node reading it never sees half a file.
//!
//! # Key ids
//!
//! A member key's `kid` is `CODE#` followed by the 16 characters after `z6Mk` of its multibase
//! public key, e.g. `CQ#tQ9bJ8x7Xk2Yv3Lp` ([`key_id`]): readable in logs and HTTP signatures,
//! derived from the key alone (16 base58 characters carry ~93 bits of it), and unique in
//! practice; uniqueness is still checked, and `add-member --kid` may choose another id.
//! Nodes find their own kid by looking their public key up in the directory.
//!
//! # Exit codes and errors
//!
//! 0 done; 1 `show --governance-key` refused the directory (unsigned, tampered, signed by
//! another key, expired, not yet valid or inconsistent); 2 usage or input error. Errors are
//! printed to standard error as `错误 error [stable.code]: 中文` followed by the English line.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use ed25519_dalek::VerifyingKey;
use federation::Directory;
use federation::directory::{
    self, ANY_MEMBER, DirectoryError, Member, MemberKey, Purpose, Rule, SignedDirectory,
    decode_public_key, encode_public_key,
};
use kernel::{Lang, Localized};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// The governance key's file name inside the workspace.
pub const GOVERNANCE_KEY_FILE: &str = "governance.key";
/// The draft's file name inside the workspace.
pub const DRAFT_FILE: &str = "directory.json";
/// Where `sign` writes by default, inside the workspace.
pub const SIGNED_FILE: &str = "directory.signed.json";
/// The service a new member offers when `add-member` names none.
pub const DEFAULT_SERVICE: &str = "student.lookup";

/// The purposes every new directory starts with: (id, 中文, English).
pub const STANDARD_PURPOSES: [(&str, &str, &str); 5] = [
    ("transfer-verification", "转学核验", "Transfer verification"),
    ("status-sharing", "学籍信息共享", "Student status sharing"),
    (
        "teacher-cert-verification",
        "教师资格核验",
        "Teacher qualification verification",
    ),
    ("employment", "就业服务", "Employment services"),
    ("notice", "工作通知", "Notices between authorities"),
];

#[derive(Subcommand)]
pub enum FederationCommand {
    /// Create a workspace: DIR/governance.key (0600, never overwritten) and an empty draft
    /// DIR/directory.json with the standard purposes. Prints the governance public key that
    /// every node configures as `federation_governance_key`.
    Init {
        /// The workspace: governance.key and the draft directory.json.
        #[arg(long)]
        dir: PathBuf,
        /// Reset an existing draft (members and rules are dropped; the version number is
        /// kept). The governance key is never replaced.
        #[arg(long)]
        force: bool,
    },
    /// Add a member, or update one: name, URL and services are replaced when given, a key
    /// given is added next to the existing ones (rotation), --remove-key drops one.
    AddMember {
        /// The workspace: governance.key and the draft directory.json.
        #[arg(long)]
        dir: PathBuf,
        #[command(flatten)]
        member: MemberArgs,
    },
    /// Allow CALLER to call SERVICE on CALLEE ('*' for any member) for PURPOSE, receiving
    /// only FIELDS. Replaces the rule for the same (caller, callee, service, purpose).
    Allow {
        /// The workspace: governance.key and the draft directory.json.
        #[arg(long)]
        dir: PathBuf,
        #[command(flatten)]
        rule: RuleArgs,
    },
    /// Validate the draft, sign it with DIR/governance.key and publish it atomically.
    /// Version: one more than the last issued (draft or previous output file).
    Sign {
        /// The workspace: governance.key and the draft directory.json.
        #[arg(long)]
        dir: PathBuf,
        /// Validity in days from the issue time.
        #[arg(
            long,
            default_value_t = 365,
            value_parser = clap::value_parser!(u32).range(1..=3660),
            conflicts_with = "expires_at"
        )]
        valid_days: u32,
        /// Expiry time (RFC 3339) instead of --valid-days.
        #[arg(long, value_parser = parse_time)]
        expires_at: Option<OffsetDateTime>,
        /// Issue time (RFC 3339; default now). Nodes refuse the directory before it.
        #[arg(long, value_parser = parse_time)]
        issued_at: Option<OffsetDateTime>,
        /// Output file (default DIR/directory.signed.json).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Export what this node logged for exchange MSGID (its evidence: both signatures and
    /// digests, no bodies) as JSON, for a third party to check with `verify-evidence`.
    /// Needs the node's configuration (--config).
    Evidence {
        /// Message ids are base64url and may start with '-'.
        #[arg(allow_hyphen_values = true)]
        message_id: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check evidence files as a third party holding only the directory would: the
    /// directory's signature (as of the exchange), both message signatures and digests, and
    /// that the signers are the caller and the callee. Exit 0 when all verify, 1 otherwise.
    VerifyEvidence {
        files: Vec<PathBuf>,
        /// The signed directory in force at the time of the exchange.
        #[arg(long)]
        directory: PathBuf,
        /// The governance public key (z6Mk…).
        #[arg(long)]
        governance_key: String,
    },
    /// Write the trust bundle for offline credential verification (`chuanyu verify`): every
    /// member's keys with their validity and status-list address, from a signed directory
    /// checked against the governance key.
    TrustBundle {
        /// The signed directory.
        #[arg(long)]
        directory: PathBuf,
        /// The governance public key (z6Mk…).
        #[arg(long)]
        governance_key: String,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print a directory (signed file, draft, or a workspace DIR's draft); with
    /// --governance-key, verify it first and exit 1 if it is refused.
    Show {
        path: PathBuf,
        /// The governance public key (z6Mk…) to verify against, as the nodes do.
        #[arg(long)]
        governance_key: Option<String>,
        /// Print the JSON document instead of the table.
        #[arg(long)]
        json: bool,
    },
}

/// Runs one `chuanyu federation` command; errors are printed here.
pub fn run(command: FederationCommand) -> ExitCode {
    let result = match command {
        FederationCommand::Init { dir, force } => init(&dir, force),
        FederationCommand::AddMember { dir, member } => add_member(&dir, member),
        FederationCommand::Allow { dir, rule } => allow(&dir, rule),
        FederationCommand::Sign {
            dir,
            valid_days,
            expires_at,
            issued_at,
            out,
        } => sign(&dir, valid_days, expires_at, issued_at, out),
        FederationCommand::Show {
            path,
            governance_key,
            json,
        } => show(&path, governance_key.as_deref(), json),
        FederationCommand::VerifyEvidence {
            files,
            directory,
            governance_key,
        } => verify_evidence_files(&files, &directory, &governance_key),
        FederationCommand::TrustBundle {
            directory,
            governance_key,
            out,
        } => crate::credentials_cli::trust_bundle(&directory, &governance_key, out.as_deref())
            .map_err(|e| {
                Failure::input("federation.cli.trust_bundle", e.to_string(), e.to_string())
            }),
        FederationCommand::Evidence { .. } => Err(Failure::input(
            "federation.cli.needs_node",
            "evidence 命令需要节点配置，由 chuanyu 主程序处理。",
            "The evidence command needs a node; main handles it.",
        )),
    };
    finish(result)
}

fn finish(result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("错误 error [{}]: {}", f.code, f.zh);
            eprintln!("  {}", f.en);
            ExitCode::from(f.exit)
        }
    }
}

/// The key id `add-member` gives a key: `CODE#` + the 16 characters after `z6Mk`.
pub fn key_id(code: &str, key: &VerifyingKey) -> String {
    let multibase = encode_public_key(key);
    let tail = multibase.strip_prefix("z6Mk").unwrap_or(&multibase);
    format!("{code}#{}", &tail[..tail.len().min(16)])
}

/// A failed command: exit code, stable code and the message in both languages.
#[derive(Debug)]
struct Failure {
    exit: u8,
    code: &'static str,
    zh: String,
    en: String,
}

type Result<T> = std::result::Result<T, Failure>;

impl Failure {
    /// A usage or input error (exit 2).
    fn input(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Failure {
        Failure {
            exit: 2,
            code,
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// A library error that the user's input caused (exit 2).
    fn localized(e: &dyn Localized) -> Failure {
        Failure::input(e.code(), e.message(Lang::Zh), e.message(Lang::En))
    }

    /// The directory was refused by verification (exit 1).
    fn refused(e: &DirectoryError) -> Failure {
        Failure {
            exit: 1,
            ..Failure::localized(e)
        }
    }

    fn io(action_zh: &str, action_en: &str, path: &Path, e: &std::io::Error) -> Failure {
        Failure::input(
            "federation.cli.io",
            format!("无法{action_zh} {}：{e}", path.display()),
            format!("cannot {action_en} {}: {e}", path.display()),
        )
    }
}

// ---------------------------------------------------------------------------------------
// evidence

/// `chuanyu federation evidence MSGID`: what this node logged, as a JSON array.
pub async fn export_evidence(db: &platform::Db, message_id: &str, out: Option<&Path>) -> ExitCode {
    let result = async {
        let logged = exchange::log::evidence(db, message_id).await.map_err(|e| {
            Failure::input(
                "federation.cli.db",
                format!("无法读取交换记录：{e}"),
                e.to_string(),
            )
        })?;
        if logged.is_empty() {
            return Err(Failure {
                exit: 1,
                ..Failure::input(
                    "federation.cli.message_unknown",
                    format!("本节点没有编号为 {message_id} 的交换记录。"),
                    format!("This node logged no exchange {message_id}."),
                )
            });
        }
        let text = serde_json::to_string_pretty(&logged).unwrap_or_default() + "\n";
        match out {
            Some(path) => write_atomic(path, text.as_bytes()),
            None => {
                print!("{text}");
                Ok(())
            }
        }
    }
    .await;
    finish(result)
}

fn verify_evidence_files(files: &[PathBuf], directory: &Path, governance_key: &str) -> Result<()> {
    let key = parse_public_key(governance_key)?;
    let bytes = std::fs::read(directory).map_err(|e| Failure::io("读取", "read", directory, &e))?;
    let mut failed = 0;
    for file in files {
        let text = std::fs::read(file).map_err(|e| Failure::io("读取", "read", file, &e))?;
        // One record, or the array `evidence` exports.
        let records: Vec<federation::Evidence> = serde_json::from_slice(&text)
            .or_else(|_| serde_json::from_slice(&text).map(|e| vec![e]))
            .map_err(|e| malformed(&e))?;
        for evidence in &records {
            // The directory must have been valid when the exchange happened.
            let outcome = federation::directory::verify(&bytes, &key, evidence.time)
                .map_err(|e| e.code())
                .and_then(|d| federation::verify_evidence(evidence, &d).map_err(|e| e.code()));
            match outcome {
                Ok(()) => println!(
                    "通过 verified  {}  {} {} → {} {} ({})",
                    file.display(),
                    evidence.message_id,
                    evidence.caller,
                    evidence.callee,
                    evidence.service,
                    evidence.purpose
                ),
                Err(code) => {
                    failed += 1;
                    println!(
                        "未通过 refused  {}  {}  [{code}]",
                        file.display(),
                        evidence.message_id
                    );
                }
            }
        }
    }
    if failed > 0 {
        return Err(Failure {
            exit: 1,
            ..Failure::input(
                "federation.cli.evidence_refused",
                format!("{failed} 条交换证据未通过验证。"),
                format!("{failed} evidence record(s) did not verify."),
            )
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// init

fn init(dir: &Path, force: bool) -> Result<()> {
    let key_path = dir.join(GOVERNANCE_KEY_FILE);
    let draft_path = dir.join(DRAFT_FILE);
    let existing: Vec<String> = [&key_path, &draft_path]
        .into_iter()
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() && !force {
        return Err(Failure::input(
            "federation.cli.workspace_exists",
            format!(
                "联盟目录工作区已存在（{}）；--force 可重置草稿，治理密钥保持不变",
                existing.join("，")
            ),
            format!(
                "a federation workspace already exists ({}); --force resets the draft and keeps the governance key",
                existing.join(", ")
            ),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| Failure::io("创建目录", "create", dir, &e))?;
    let (key, reused) = if key_path.exists() {
        (load_governance_key(dir)?, true)
    } else {
        let key = platform::keys::generate(&key_path).map_err(|e| key_failure(&key_path, &e))?;
        (key, false)
    };
    // A reset draft keeps its version so that the next issue still counts up.
    let version = if draft_path.exists() {
        load_draft(dir).map(|d| d.version).unwrap_or(0)
    } else {
        0
    };
    let governance_key = encode_public_key(&key.verifying_key());
    let now = now();
    let draft = Directory {
        version,
        issued_at: now,
        expires_at: now,
        governance_key: governance_key.clone(),
        purposes: STANDARD_PURPOSES
            .iter()
            .map(|(id, zh, en)| Purpose {
                id: (*id).into(),
                name: (*zh).into(),
                name_en: Some((*en).into()),
            })
            .collect(),
        members: Vec::new(),
        rules: Vec::new(),
    };
    save_draft(dir, &draft)?;
    println!(
        "已创建联盟目录工作区 federation workspace: {}",
        dir.display()
    );
    if reused {
        println!(
            "  治理密钥 governance key: {}（沿用已有密钥 existing key kept）",
            key_path.display()
        );
    } else {
        println!(
            "  治理密钥 governance key: {}（权限 0600，请离线妥善保管 mode 0600, keep it offline）",
            key_path.display()
        );
    }
    println!(
        "  目录草稿 draft: {}（版本 version {version}）",
        draft_path.display()
    );
    println!("治理公钥 governance public key: {governance_key}");
    println!("各节点配置 every node's config: federation_governance_key = \"{governance_key}\"");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// add-member

#[derive(clap::Args)]
pub struct MemberArgs {
    /// Member code, e.g. CQ or SC (uppercase letters and digits).
    #[arg(long)]
    code: String,
    /// Name of the authority, e.g. 重庆市教育委员会 (required for a new member).
    #[arg(long)]
    name: Option<String>,
    /// Where the member's node answers, e.g. https://cq.example.cn (required for a new
    /// member).
    #[arg(long)]
    url: Option<String>,
    /// The node's key file: its PKCS#8 private key PEM (as `chuanyu init` writes it;
    /// only the public half is used) or a SubjectPublicKeyInfo public key PEM.
    #[arg(long, conflicts_with = "public_key")]
    node_key: Option<PathBuf>,
    /// The node's public key in multibase form (z6Mk…).
    #[arg(long)]
    public_key: Option<String>,
    /// Key id for the added key (default: CODE# + 16 characters of the key).
    #[arg(long)]
    kid: Option<String>,
    /// A service the node offers (repeatable or comma-separated; replaces the list).
    /// Default for a new member: student.lookup.
    #[arg(long = "service", value_delimiter = ',')]
    services: Vec<String>,
    /// The added key is valid from this time (RFC 3339), inclusive.
    #[arg(long, value_parser = parse_time)]
    not_before: Option<OffsetDateTime>,
    /// The added key is valid until this time (RFC 3339), exclusive.
    #[arg(long, value_parser = parse_time)]
    not_after: Option<OffsetDateTime>,
    /// Remove this key id from the member (repeatable); done before adding a key.
    #[arg(long)]
    remove_key: Vec<String>,
}

fn add_member(dir: &Path, args: MemberArgs) -> Result<()> {
    let mut draft = load_draft(dir)?;
    let code = member_code(&args.code)?;
    let name = args.name.as_deref().map(member_name).transpose()?;
    let url = args.url.as_deref().map(base_url).transpose()?;
    let services = dedup(args.services.iter().map(|s| s.trim().to_owned()));
    if services.iter().any(String::is_empty) {
        return Err(invalid("服务名不能为空", "a service name is empty"));
    }
    let new_key = match (&args.node_key, &args.public_key) {
        (Some(path), _) => Some(read_node_public_key(path)?),
        (None, Some(text)) => Some(parse_public_key(text.trim())?),
        (None, None) => None,
    };
    if new_key.is_none()
        && (args.not_before.is_some() || args.not_after.is_some() || args.kid.is_some())
    {
        return Err(invalid(
            "--not-before、--not-after 和 --kid 只适用于用 --node-key 或 --public-key 给出的密钥",
            "--not-before, --not-after and --kid apply to the key given with --node-key or --public-key",
        ));
    }
    if let (Some(a), Some(b)) = (args.not_before, args.not_after)
        && a >= b
    {
        return Err(invalid(
            format!(
                "密钥有效期颠倒：生效 {} 不早于失效 {}",
                show_time(a),
                show_time(b)
            ),
            format!(
                "the key's validity is reversed: not-before {} is not before not-after {}",
                show_time(a),
                show_time(b)
            ),
        ));
    }

    // Printed once the draft is saved, so a refused command says only why.
    let mut notes = Vec::new();
    let index = match draft.members.iter().position(|m| m.code == code) {
        Some(i) => {
            let member = &mut draft.members[i];
            if let Some(name) = name {
                member.name = name;
            }
            if let Some(url) = url {
                member.base_url = url;
            }
            if !services.is_empty() {
                member.services = services;
            }
            notes.push(format!("更新成员 updated member {code}"));
            i
        }
        None => {
            let (Some(name), Some(url), Some(_)) = (name, url, &new_key) else {
                return Err(Failure::input(
                    "federation.cli.member_incomplete",
                    format!("新成员 {code} 需要 --name、--url 以及 --node-key 或 --public-key"),
                    format!(
                        "a new member {code} needs --name, --url and --node-key or --public-key"
                    ),
                ));
            };
            draft.members.push(Member {
                code: code.clone(),
                name,
                base_url: url,
                keys: Vec::new(),
                services: if services.is_empty() {
                    vec![DEFAULT_SERVICE.to_owned()]
                } else {
                    services
                },
            });
            notes.push(format!("添加成员 added member {code}"));
            draft.members.len() - 1
        }
    };

    for kid in &args.remove_key {
        let keys = &mut draft.members[index].keys;
        let Some(pos) = keys.iter().position(|k| &k.kid == kid) else {
            return Err(Failure::input(
                "federation.cli.key_not_found",
                format!("成员 {code} 没有密钥 {kid}"),
                format!("member {code} has no key {kid}"),
            ));
        };
        keys.remove(pos);
        notes.push(format!("  已移除密钥 key removed: {kid}"));
    }

    if let Some(key) = new_key {
        let public_key = encode_public_key(&key);
        let holder = draft.members.iter().enumerate().find_map(|(i, m)| {
            m.keys
                .iter()
                .position(|k| k.public_key == public_key)
                .map(|k| (i, k))
        });
        match holder {
            Some((i, _)) if i != index => {
                return Err(Failure::input(
                    "federation.cli.key_conflict",
                    format!(
                        "该公钥已登记给成员 {}，一把密钥只能属于一个成员",
                        draft.members[i].code
                    ),
                    format!(
                        "this public key is already listed for member {}; a key belongs to one member only",
                        draft.members[i].code
                    ),
                ));
            }
            Some((_, k)) => {
                let entry = &mut draft.members[index].keys[k];
                if args.kid.as_ref().is_some_and(|kid| kid != &entry.kid) {
                    return Err(Failure::input(
                        "federation.cli.key_conflict",
                        format!("该公钥已以标识 {} 登记", entry.kid),
                        format!("this public key is already listed as {}", entry.kid),
                    ));
                }
                if args.not_before.is_some() || args.not_after.is_some() {
                    if args.not_before.is_some() {
                        entry.not_before = args.not_before;
                    }
                    if args.not_after.is_some() {
                        entry.not_after = args.not_after;
                    }
                    notes.push(format!(
                        "  已更新密钥有效期 key validity updated: {} {}",
                        entry.kid,
                        validity(entry)
                    ));
                } else {
                    notes.push(format!(
                        "  密钥已在目录中 key already listed: {}",
                        entry.kid
                    ));
                }
            }
            None => {
                let kid = args.kid.unwrap_or_else(|| key_id(&code, &key));
                if let Some(owner) = draft
                    .members
                    .iter()
                    .find(|m| m.keys.iter().any(|k| k.kid == kid))
                {
                    return Err(Failure::input(
                        "federation.cli.key_conflict",
                        format!("密钥标识 {kid} 已被成员 {} 使用", owner.code),
                        format!("key id {kid} is already used by member {}", owner.code),
                    ));
                }
                let entry = MemberKey {
                    kid,
                    public_key,
                    not_before: args.not_before,
                    not_after: args.not_after,
                };
                notes.push(format!(
                    "  已添加密钥 key added: {} {} {}",
                    entry.kid,
                    entry.public_key,
                    validity(&entry)
                ));
                draft.members[index].keys.push(entry);
            }
        }
    }

    check_draft(&draft)?;
    save_draft(dir, &draft)?;
    let member = &draft.members[index];
    for note in notes {
        println!("{note}");
    }
    println!(
        "  {} · {} · 服务 services: {} · 密钥 keys: {}",
        member.name,
        member.base_url,
        member.services.join(", "),
        member
            .keys
            .iter()
            .map(|k| k.kid.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if member.keys.is_empty() {
        eprintln!(
            "警告 warning: 成员 {code} 没有任何密钥，其节点的请求都会被拒绝 / member {code} has no key: every request from its node will be refused"
        );
    }
    println!(
        "已保存草稿 draft saved; 用 chuanyu federation sign 发布 publish it with chuanyu federation sign"
    );
    Ok(())
}

fn member_code(text: &str) -> Result<String> {
    let code = text.trim().to_ascii_uppercase();
    if (1..=16).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(code)
    } else {
        Err(invalid(
            format!("成员代码“{text}”格式不正确：应为 1–16 位大写字母或数字，如 CQ"),
            format!(
                "member code “{text}” is not well-formed: 1–16 uppercase letters or digits, e.g. CQ"
            ),
        ))
    }
}

fn member_name(text: &str) -> Result<String> {
    let name = text.trim();
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(invalid(
            "成员名称不能为空，也不能含控制字符",
            "the member name must not be empty or contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// An absolute http(s) URL without query or fragment, stored without a trailing `/`.
fn base_url(text: &str) -> Result<String> {
    let text = text.trim();
    let bad = |why_zh: &str, why_en: &str| {
        invalid(
            format!("节点地址“{text}”不可用：{why_zh}"),
            format!("node URL “{text}” is not usable: {why_en}"),
        )
    };
    let parsed = url::Url::parse(text).map_err(|e| bad("无法解析", &e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad(
            "应以 http:// 或 https:// 开头",
            "use http:// or https://",
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("缺少主机名", "no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || !parsed.username().is_empty() {
        return Err(bad(
            "不能带查询参数、片段或用户名",
            "no query, fragment or user name",
        ));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// A node's public key from its key file: a PKCS#8 private key (as `chuanyu init` writes;
/// only the public half is kept) or a SubjectPublicKeyInfo public key.
fn read_node_public_key(path: &Path) -> Result<VerifyingKey> {
    let text = std::fs::read_to_string(path).map_err(|e| Failure::io("读取", "read", path, &e))?;
    if text.contains("-----BEGIN PUBLIC KEY-----") {
        use ed25519_dalek::pkcs8::DecodePublicKey as _;
        VerifyingKey::from_public_key_pem(&text).map_err(|e| {
            Failure::input(
                "federation.cli.key_file",
                format!("{} 不是 Ed25519 公钥 PEM：{e}", path.display()),
                format!("{} is not an Ed25519 public key PEM: {e}", path.display()),
            )
        })
    } else {
        platform::keys::load(path)
            .map(|k| k.verifying_key())
            .map_err(|e| key_failure(path, &e))
    }
}

fn parse_public_key(text: &str) -> Result<VerifyingKey> {
    decode_public_key(text).ok_or_else(|| {
        Failure::input(
            "federation.cli.public_key_invalid",
            format!("“{text}”不是 multibase 形式的 Ed25519 公钥（应以 z6Mk 开头）"),
            format!("“{text}” is not a multibase Ed25519 public key (z6Mk…)"),
        )
    })
}

// ---------------------------------------------------------------------------------------
// allow

#[derive(clap::Args)]
pub struct RuleArgs {
    #[arg(long)]
    caller: String,
    /// A member code or '*'.
    #[arg(long)]
    callee: String,
    #[arg(long)]
    service: String,
    /// A purpose id of the directory, e.g. transfer-verification.
    #[arg(long)]
    purpose: String,
    /// Answer fields the caller may receive, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        required_unless_present = "remove",
        conflicts_with = "remove"
    )]
    fields: Vec<String>,
    /// Remove the rule instead.
    #[arg(long)]
    remove: bool,
}

fn allow(dir: &Path, args: RuleArgs) -> Result<()> {
    let mut draft = load_draft(dir)?;
    let caller = args.caller.trim().to_ascii_uppercase();
    let callee = match args.callee.trim() {
        ANY_MEMBER => ANY_MEMBER.to_owned(),
        other => other.to_ascii_uppercase(),
    };
    for code in [&caller, &callee] {
        if code != ANY_MEMBER && draft.member(code).is_none() {
            return Err(unknown_member(&draft, code));
        }
    }
    let purpose = args.purpose.trim().to_owned();
    if draft.purpose(&purpose).is_none() {
        let known: Vec<_> = draft.purposes.iter().map(|p| p.id.as_str()).collect();
        return Err(Failure::input(
            "federation.cli.unknown_purpose",
            format!(
                "目录中没有用途“{purpose}”；已定义的用途：{}",
                known.join("、")
            ),
            format!(
                "the directory defines no purpose “{purpose}”; defined: {}",
                known.join(", ")
            ),
        ));
    }
    let service = args.service.trim().to_owned();
    let same = |r: &Rule| {
        r.caller == caller && r.callee == callee && r.service == service && r.purpose == purpose
    };
    let shown = format!("{caller} → {callee} {service} 用途 purpose {purpose}");
    if args.remove {
        let before = draft.rules.len();
        draft.rules.retain(|r| !same(r));
        if draft.rules.len() == before {
            return Err(Failure::input(
                "federation.cli.rule_not_found",
                format!("没有这条规则：{shown}"),
                format!("no such rule: {shown}"),
            ));
        }
        check_draft(&draft)?;
        save_draft(dir, &draft)?;
        println!("已移除规则 rule removed: {shown}");
        return Ok(());
    }
    let fields = dedup(args.fields.iter().map(|f| f.trim().to_owned()));
    if let Some(bad) = fields.iter().find(|f| !is_field_name(f)) {
        return Err(invalid(
            format!("字段名“{bad}”格式不正确：只能用字母、数字、_、-、."),
            format!("field name “{bad}” is not well-formed: letters, digits, _, - and . only"),
        ));
    }
    if fields.is_empty() {
        return Err(invalid(
            "--fields 至少要列出一个字段",
            "--fields must list at least one field",
        ));
    }
    if callee != ANY_MEMBER && !draft.offers(&callee, &service) {
        eprintln!(
            "警告 warning: {callee} 未提供服务 {service}，在其提供前此规则不起作用（add-member --service）/ \
             {callee} does not offer {service}; the rule has no effect until it does (add-member --service)"
        );
    }
    let rule = Rule {
        caller: caller.clone(),
        callee: callee.clone(),
        service: service.clone(),
        purpose: purpose.clone(),
        fields,
    };
    let replaced = match draft.rules.iter_mut().find(|r| same(r)) {
        Some(existing) => {
            *existing = rule.clone();
            true
        }
        None => {
            draft.rules.push(rule.clone());
            false
        }
    };
    check_draft(&draft)?;
    save_draft(dir, &draft)?;
    println!(
        "{} {shown} · 字段 fields: {}",
        if replaced {
            "已替换规则 rule replaced:"
        } else {
            "已添加规则 rule added:"
        },
        rule.fields.join(",")
    );
    Ok(())
}

fn is_field_name(f: &str) -> bool {
    (1..=64).contains(&f.len())
        && f.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn unknown_member(draft: &Directory, code: &str) -> Failure {
    let known: Vec<_> = draft.members.iter().map(|m| m.code.as_str()).collect();
    let known_zh = if known.is_empty() {
        "（尚无成员，先用 add-member 添加）".to_owned()
    } else {
        known.join("、")
    };
    let known_en = if known.is_empty() {
        "(none yet; add one with add-member)".to_owned()
    } else {
        known.join(", ")
    };
    Failure::input(
        "federation.cli.unknown_member",
        format!("目录中没有成员“{code}”；已有成员：{known_zh}"),
        format!("the directory has no member “{code}”; members: {known_en}"),
    )
}

// ---------------------------------------------------------------------------------------
// sign

fn sign(
    dir: &Path,
    valid_days: u32,
    expires_at: Option<OffsetDateTime>,
    issued_at: Option<OffsetDateTime>,
    out: Option<PathBuf>,
) -> Result<()> {
    let mut draft = load_draft(dir)?;
    let key = load_governance_key(dir)?;
    let out = out.unwrap_or_else(|| dir.join(SIGNED_FILE));
    let previous = previous_version(&out)?;
    let version = draft.version.max(previous.unwrap_or(0)) + 1;
    let issued_at = issued_at.unwrap_or_else(now);
    let expires_at = expires_at.unwrap_or(issued_at + Duration::days(i64::from(valid_days)));
    if expires_at <= issued_at {
        return Err(invalid(
            format!(
                "到期时间 {} 不晚于签发时间 {}",
                show_time(expires_at),
                show_time(issued_at)
            ),
            format!(
                "the expiry {} is not after the issue time {}",
                show_time(expires_at),
                show_time(issued_at)
            ),
        ));
    }
    let mut issue = draft.clone();
    issue.version = version;
    issue.issued_at = issued_at;
    issue.expires_at = expires_at;
    let signed = issue.sign(&key).map_err(|e| Failure::localized(&e))?;
    let mut bytes = signed.to_json();
    bytes.push(b'\n');
    // What we publish must be what a node accepts.
    directory::verify(&bytes, &key.verifying_key(), issued_at).map_err(|e| Failure {
        code: "federation.cli.internal",
        ..Failure::localized(&e)
    })?;
    write_atomic(&out, &bytes)?;
    draft.version = version;
    draft.issued_at = issued_at;
    draft.expires_at = expires_at;
    save_draft(dir, &draft)?;
    println!(
        "已签发联盟目录 directory signed: 版本 version {version}，{} 名成员 members，{} 条规则 rules",
        signed.directory.members.len(),
        signed.directory.rules.len()
    );
    println!("  签发 issued:  {}", show_time(issued_at));
    println!("  到期 expires: {}", show_time(expires_at));
    println!("  文件 file:    {}", out.display());
    if signed.directory.members.is_empty() {
        eprintln!("警告 warning: 目录中没有成员 the directory has no members");
    }
    if expires_at <= OffsetDateTime::now_utc() {
        eprintln!(
            "警告 warning: 该目录已过期，节点会拒绝它 / this directory has already expired; nodes will refuse it"
        );
    }
    Ok(())
}

/// The version of a directory already at `out`; refuses to overwrite a file that is not one.
fn previous_version(out: &Path) -> Result<Option<u64>> {
    let bytes = match std::fs::read(out) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Failure::io("读取", "read", out, &e)),
    };
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("directory")?.get("version")?.as_u64())
        .map(Some)
        .ok_or_else(|| {
            Failure::input(
                "federation.cli.output_not_directory",
                format!("{} 已存在但不是已签名的联盟目录，不会覆盖它", out.display()),
                format!(
                    "{} exists and is not a signed federation directory; refusing to overwrite it",
                    out.display()
                ),
            )
        })
}

// ---------------------------------------------------------------------------------------
// show

enum State {
    Verified,
    SignedUnverified(String),
    Draft,
}

fn show(path: &Path, governance_key: Option<&str>, json: bool) -> Result<()> {
    let path = if path.is_dir() {
        path.join(DRAFT_FILE)
    } else {
        path.to_owned()
    };
    let bytes = std::fs::read(&path).map_err(|e| Failure::io("读取", "read", &path, &e))?;
    let (directory, state) = match governance_key {
        Some(text) => {
            let key = parse_public_key(text.trim())?;
            let directory = directory::verify(&bytes, &key, OffsetDateTime::now_utc())
                .map_err(|e| Failure::refused(&e))?;
            (directory, State::Verified)
        }
        None => {
            let value: Value = serde_json::from_slice(&bytes).map_err(|e| malformed(&e))?;
            if value.get("signature").is_some_and(|s| !s.is_null()) {
                let signed: SignedDirectory =
                    serde_json::from_value(value).map_err(|e| malformed(&e))?;
                (
                    signed.directory,
                    State::SignedUnverified(signed.signature.kid),
                )
            } else {
                let draft: Directory = serde_json::from_value(value).map_err(|e| malformed(&e))?;
                (draft, State::Draft)
            }
        }
    };
    if json {
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| malformed(&e))?;
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
        return Ok(());
    }
    print_table(&path, &directory, &state);
    Ok(())
}

fn malformed(e: &serde_json::Error) -> Failure {
    Failure::localized(&DirectoryError::Malformed {
        detail: e.to_string(),
    })
}

fn print_table(path: &Path, d: &Directory, state: &State) {
    let now = OffsetDateTime::now_utc();
    println!("联盟目录 federation directory: {}", path.display());
    match state {
        State::Verified => {
            println!(
                "  签名 signature: 已验证 verified (治理密钥 governance key matches, in validity)"
            )
        }
        State::SignedUnverified(kid) => println!(
            "  签名 signature: 未核验 not verified — 签名密钥 signed by {kid}; 用 --governance-key 核验 pass --governance-key to verify"
        ),
        State::Draft => println!("  签名 signature: 无（草稿）none — unsigned draft"),
    }
    println!("  版本 version: {}", d.version);
    if !matches!(state, State::Draft) {
        let status = if now >= d.expires_at {
            "已过期 expired"
        } else if now < d.issued_at {
            "尚未生效 not yet valid"
        } else {
            "有效期内 in validity"
        };
        println!("  签发 issued:  {}", show_time(d.issued_at));
        println!("  到期 expires: {} ({status})", show_time(d.expires_at));
    }
    println!("  治理公钥 governance key: {}", d.governance_key);

    println!();
    println!("成员 members ({})", d.members.len());
    for m in &d.members {
        println!("  {}  {}  {}", m.code, m.name, m.base_url);
        println!("      服务 services: {}", m.services.join(", "));
        if m.keys.is_empty() {
            println!("      密钥 keys: （无 none）");
        }
        for k in &m.keys {
            let status = if k.valid_at(now) {
                "当前有效 valid now"
            } else if k.not_before.is_some_and(|t| now < t) {
                "尚未生效 not yet valid"
            } else {
                "已失效 expired"
            };
            println!("      密钥 key {}  {}", k.kid, k.public_key);
            println!("          {}  [{status}]", validity(k));
        }
    }

    println!();
    println!("用途 purposes ({})", d.purposes.len());
    for p in &d.purposes {
        println!(
            "  {:<28} {}  {}",
            p.id,
            p.name,
            p.name_en.as_deref().unwrap_or("")
        );
    }

    println!();
    println!("规则 rules ({})", d.rules.len());
    for r in &d.rules {
        println!(
            "  {} → {}  {}  用途 purpose {}",
            r.caller, r.callee, r.service, r.purpose
        );
        println!("      字段 fields: {}", r.fields.join(", "));
    }
}

// ---------------------------------------------------------------------------------------
// files and helpers

fn load_draft(dir: &Path) -> Result<Directory> {
    let path = dir.join(DRAFT_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure::input(
                "federation.cli.workspace_missing",
                format!(
                    "{} 不是联盟目录工作区（缺少 {DRAFT_FILE}）；先运行 chuanyu federation init --dir {}",
                    dir.display(),
                    dir.display()
                ),
                format!(
                    "{} is not a federation workspace (no {DRAFT_FILE}); run chuanyu federation init --dir {} first",
                    dir.display(),
                    dir.display()
                ),
            ));
        }
        Err(e) => return Err(Failure::io("读取", "read", &path, &e)),
    };
    serde_json::from_slice(&bytes).map_err(|e| malformed(&e))
}

fn save_draft(dir: &Path, draft: &Directory) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(draft).unwrap_or_default();
    bytes.push(b'\n');
    write_atomic(&dir.join(DRAFT_FILE), &bytes)
}

/// Checks the draft as `sign` will (names, duplicates, keys, references), so a mistake is
/// refused when it is made rather than at signing time.
fn check_draft(draft: &Directory) -> Result<()> {
    let mut probe = draft.clone();
    probe.expires_at = probe.issued_at + Duration::seconds(1);
    probe.validate().map_err(|e| Failure::localized(&e))
}

fn load_governance_key(dir: &Path) -> Result<ed25519_dalek::SigningKey> {
    let path = dir.join(GOVERNANCE_KEY_FILE);
    platform::keys::load(&path).map_err(|e| key_failure(&path, &e))
}

fn key_failure(path: &Path, e: &platform::keys::KeyError) -> Failure {
    Failure::input(
        "federation.cli.key_file",
        format!("密钥文件 {} 不可用", path.display()),
        e.to_string(),
    )
}

/// Replaces `path` whole (a node never reads half a directory); for the demo and tests.
pub fn publish(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomic(path, bytes).map_err(|f| anyhow::anyhow!("[{}] {} / {}", f.code, f.zh, f.en))
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it over `path`,
/// so a reader sees the old file or the new one, never a part.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Some(name) = path.file_name() else {
        return Err(invalid(
            format!("{} 不是文件路径", path.display()),
            format!("{} is not a file path", path.display()),
        ));
    };
    std::fs::create_dir_all(parent).map_err(|e| Failure::io("创建目录", "create", parent, &e))?;
    let tmp = parent.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Failure::io("写入", "write", path, &e));
    }
    // Make the rename itself durable; not every platform can sync a directory.
    if let Ok(d) = std::fs::File::open(parent) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn invalid(zh: impl Into<String>, en: impl Into<String>) -> Failure {
    Failure::input("federation.cli.invalid_input", zh, en)
}

/// Drops duplicates, keeping the order given.
fn dedup(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    items.filter(|s| seen.insert(s.clone())).collect()
}

fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(0).unwrap_or(t)
}

/// An RFC 3339 time from the command line, stored in UTC like every time the CLI writes.
fn parse_time(text: &str) -> std::result::Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .map(|t| t.to_offset(UtcOffset::UTC))
        .map_err(|e| {
        format!("时间应为 RFC 3339 格式 expected an RFC 3339 time such as 2026-01-01T00:00:00+08:00: {e}")
    })
}

/// Times are shown in UTC+8, as everywhere in the platform.
fn show_time(t: OffsetDateTime) -> String {
    let beijing = UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC);
    t.to_offset(beijing)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

fn validity(k: &MemberKey) -> String {
    let from = k
        .not_before
        .map_or_else(|| "不限 any".to_owned(), show_time);
    let until = k
        .not_after
        .map_or_else(|| "不限 open".to_owned(), show_time);
    format!("有效期 valid {from} → {until}")
}
