//! Credentials on the command line:
//!
//! - `chuanyu verify FILE... [--trust-bundle PATH] [--trust-key DID_URL]... [--json]`: the
//!   offline verifier. Signature, issuer trust (from the bundle, or keys trusted directly),
//!   validity dates and status from the issuers' status lists, fetched once per list and
//!   kept in `--status-cache DIR` for their lifetime (`--offline`: the cache only). Exit 0
//!   when every file verifies, 1 when any does not, 2 on a usage error.
//! - `chuanyu federation trust-bundle`: the bundle from a signed directory.
//! - `chuanyu credentials export`: a node's issued credentials as JSON files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use certificates::verify::StatusCache;
use credential::TrustBundle;
use credential::verify::{Report, Verifier};
use time::OffsetDateTime;

/// What `chuanyu verify` is given.
pub struct VerifyArgs {
    pub files: Vec<PathBuf>,
    pub trust_bundle: Option<PathBuf>,
    pub trust_keys: Vec<String>,
    pub json: bool,
    pub status_cache: Option<PathBuf>,
    pub offline: bool,
}

pub async fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let now = OffsetDateTime::now_utc();
    let mut bundle = match &args.trust_bundle {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            TrustBundle::from_json(&bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{} ({})",
                    kernel::Localized::message(&e, kernel::Lang::Zh),
                    path.display()
                )
            })?
        }
        None => TrustBundle::new(now),
    };
    for key in &args.trust_keys {
        bundle.trust_key(key).map_err(|e| {
            anyhow::anyhow!(
                "--trust-key {key}: {}",
                kernel::Localized::message(&e, kernel::Lang::Zh)
            )
        })?;
    }
    anyhow::ensure!(
        !bundle.issuers.is_empty(),
        "nothing is trusted: give --trust-bundle PATH (chuanyu federation trust-bundle) or --trust-key DID_URL"
    );
    if let Some(dir) = &args.status_cache {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let client = (!args.offline).then(|| {
        reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_default()
    });
    let cache = StatusCache::new(client, args.status_cache.clone());
    let verifier = Verifier { bundle, now };
    let files = expand(&args.files)?;
    let bar = crate::progress_bar("核验 verifying".into());
    bar.set_length(files.len() as u64);
    let mut reports = Vec::with_capacity(files.len());
    for file in &files {
        reports.push(verify_file(&verifier, &cache, file).await);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let all_ok = reports.iter().all(|r| r.ok);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for r in &reports {
            let file = r.file.as_deref().unwrap_or("");
            match r.first_error() {
                None => println!(
                    "✓ {file} · 有效 valid · {}",
                    r.issuer.as_deref().unwrap_or("")
                ),
                Some((code, message)) => println!("✗ {file} · [{code}] {message}"),
            }
        }
        let failed = reports.iter().filter(|r| !r.ok).count();
        println!(
            "共 {} 份 files, 通过 verified {}, 未通过 failed {failed}",
            reports.len(),
            reports.len() - failed
        );
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The files to verify: each FILE, and every `*.json` in each directory given (what
/// `credentials export` writes), in name order.
fn expand(given: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in given {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    anyhow::ensure!(!files.is_empty(), "no credential files given");
    Ok(files)
}

async fn verify_file(verifier: &Verifier, cache: &StatusCache, file: &Path) -> Report {
    let name = file.display().to_string();
    let no_own = |_: String| async { None };
    match tokio::fs::read(file).await {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(doc) => certificates::verify::verify(verifier, cache, &doc, no_own).await,
            // Not JSON: the verifier reports why, the same way as for any bad input.
            Err(_) => verifier.verify_bytes(&bytes, &NoStatus),
        },
        Err(e) => verifier.verify_bytes(format!("cannot read: {e}").as_bytes(), &NoStatus),
    }
    .with_file(name)
}

struct NoStatus;

impl credential::verify::StatusSource for NoStatus {
    fn status_list(
        &self,
        _: &str,
    ) -> Result<std::sync::Arc<credential::verify::FetchedList>, String> {
        Err("未获取状态列表".into())
    }
}

/// The trust bundle of every member of a signed directory (checked against the
/// governance key first).
pub fn trust_bundle(
    directory: &Path,
    governance_key: &str,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(directory).with_context(|| format!("cannot read {}", directory.display()))?;
    let key = federation::directory::decode_public_key(governance_key.trim())
        .context("--governance-key is not a multibase Ed25519 key (z6Mk…)")?;
    let now = OffsetDateTime::now_utc();
    let directory = federation::directory::verify(&bytes, &key, now).map_err(|e| {
        anyhow::anyhow!(
            "{} ({})",
            kernel::Localized::message(&e, kernel::Lang::Zh),
            kernel::Localized::code(&e)
        )
    })?;
    let bundle = TrustBundle::from_directory(&directory, now);
    match out {
        Some(path) => {
            std::fs::write(path, bundle.to_json())
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "信任清单 trust bundle: {} ({} issuers)",
                path.display(),
                bundle.issuers.len()
            );
        }
        None => println!("{}", String::from_utf8_lossy(&bundle.to_json())),
    }
    Ok(())
}

/// Writes a node's issued credentials to `out`, one JSON file per credential.
pub async fn export(
    db: &platform::Db,
    out: &Path,
    kind: Option<&str>,
    limit: Option<u64>,
) -> anyhow::Result<u64> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let bar = crate::progress_counter("导出 exporting".into());
    let mut after = String::new();
    let mut written = 0u64;
    let limit = limit.unwrap_or(u64::MAX);
    while written < limit {
        let page = certificates::issue::page(db, kind, &after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        for issued in page.iter().take((limit - written) as usize) {
            let name = format!(
                "{}-{}.json",
                issued.kind,
                issued.id.trim_start_matches("urn:uuid:")
            );
            let pretty = serde_json::to_vec_pretty(&issued.document())?;
            std::fs::write(out.join(&name), pretty)
                .with_context(|| format!("cannot write {name}"))?;
            written += 1;
            bar.set_position(written);
        }
    }
    bar.finish_and_clear();
    Ok(written)
}
