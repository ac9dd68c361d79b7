//! Node configuration: defaults, then a TOML file, then `CHUANYU_*` environment variables.
//! Every key, its meaning and default is listed in `chuanyu.example.toml` at the repository
//! root; keep the two in step.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Federation member code of the authority running this node, e.g. "CQ" or "SC".
    pub member: String,
    /// Human name of the node shown in the portal.
    pub name: String,
    /// Address the HTTP server binds.
    pub listen: String,
    /// Directory for the SQLite file, keys and (later) search indexes. Relative paths are
    /// resolved against the directory of the config file.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://...`. Empty means `sqlite://<data_dir>/chuanyu.db`.
    pub database_url: String,
    /// PKCS#8 PEM file with the node's Ed25519 signing key. Empty means
    /// `<data_dir>/keys/node-ed25519.pem`.
    pub signing_key: PathBuf,
    /// Lifetime of a portal sign-in.
    pub session_ttl_minutes: i64,
    /// Lifetime of an API bearer token.
    pub api_token_ttl_minutes: i64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest file accepted by the import upload, in bytes.
    pub max_upload_bytes: usize,
    /// Sign-in attempts allowed per minute, per client address and per user name.
    pub login_attempts_per_minute: u32,
    /// Mark cookies `Secure` (set when the node is served over HTTPS).
    pub cookie_secure: bool,
    /// Database connection pool size.
    pub db_max_connections: u32,
    /// The signed federation directory (a file the joint office publishes). Empty: this
    /// node runs alone and answers nothing under `/federation/v1/`.
    pub federation_directory: PathBuf,
    /// The joint office's governance public key (multibase `z6Mk…`); a directory not signed
    /// by it is refused.
    pub federation_governance_key: String,
    /// The federation's shared blind-index key (a file holding 32 bytes in base64url).
    pub federation_index_key: PathBuf,
    /// How long to wait for a peer node before answering without it, in milliseconds.
    pub federation_timeout_ms: u64,
    /// This member adds a provincial step to its side of every cross-province transfer
    /// (after the district bureau's).
    pub transfer_provincial_step: bool,
    /// How long a transfer step may wait before it is overdue and flagged one level up.
    pub transfer_step_hours: u32,
    /// This node's address as others reach it (`https://jy.example.cn`): written into the
    /// credentials it issues (status-list URLs) and their QR codes. Empty: the federation
    /// directory's base URL for this member, else the address a request came in on.
    pub public_url: String,
    /// How long a published status list may be cached, in seconds: the longest a verifier
    /// elsewhere may take to see a revocation.
    pub status_list_ttl_seconds: u32,
    /// Public certificate look-ups and code verifications allowed per minute, per client
    /// address and per certificate number or code.
    pub lookup_per_minute: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            member: "CQ".into(),
            name: String::new(),
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            signing_key: PathBuf::new(),
            session_ttl_minutes: 8 * 60,
            api_token_ttl_minutes: 24 * 60,
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 512 * 1024 * 1024,
            login_attempts_per_minute: 10,
            cookie_secure: false,
            db_max_connections: 16,
            federation_directory: PathBuf::new(),
            federation_governance_key: String::new(),
            federation_index_key: PathBuf::new(),
            federation_timeout_ms: 3000,
            transfer_provincial_step: false,
            transfer_step_hours: 5 * 24,
            public_url: String::new(),
            status_list_ttl_seconds: 300,
            lookup_per_minute: 20,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name} is not valid: {message}")]
    Env { name: String, message: String },
    #[error("member code {0:?} must be 2 to 8 ASCII capital letters")]
    Member(String),
}

/// The environment variable that names the config file.
pub const CONFIG_ENV: &str = "CHUANYU_CONFIG";

impl Config {
    /// Loads `path` (or `$CHUANYU_CONFIG`, or defaults when neither is given), applies the
    /// environment and resolves relative paths.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let env_path = std::env::var_os(CONFIG_ENV).map(PathBuf::from);
        match path.map(Path::to_path_buf).or(env_path) {
            Some(p) => {
                let text = std::fs::read_to_string(&p).map_err(|source| ConfigError::Read {
                    path: p.clone(),
                    source,
                })?;
                let base = p.parent().map(Path::to_path_buf).unwrap_or_default();
                Config::from_toml(&text, &base).map_err(|e| match e {
                    ConfigError::Parse { message, .. } => ConfigError::Parse {
                        path: p.clone(),
                        message,
                    },
                    other => other,
                })
            }
            None => Config::from_toml("", Path::new("")),
        }
    }

    /// Parses config text, applies the environment and resolves relative paths against
    /// `base` (the config file's directory).
    pub fn from_toml(text: &str, base: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::new(),
            message: e.to_string(),
        })?;
        config.apply_env(|name| std::env::var(name).ok())?;
        config.resolve(base)?;
        Ok(config)
    }

    /// Overlays `CHUANYU_<KEY>` variables; `CHUANYU_DATABASE_URL_FILE` reads the secret
    /// from a file, as container secrets are usually mounted.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn parsed<T: std::str::FromStr>(name: &str, value: String) -> Result<T, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            value.trim().parse().map_err(|e: T::Err| ConfigError::Env {
                name: name.into(),
                message: e.to_string(),
            })
        }
        if let Some(v) = get("CHUANYU_MEMBER") {
            self.member = v;
        }
        if let Some(v) = get("CHUANYU_NAME") {
            self.name = v;
        }
        if let Some(v) = get("CHUANYU_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = get("CHUANYU_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(file) = get("CHUANYU_DATABASE_URL_FILE") {
            self.database_url = std::fs::read_to_string(&file)
                .map_err(|e| ConfigError::Env {
                    name: "CHUANYU_DATABASE_URL_FILE".into(),
                    message: format!("{file}: {e}"),
                })?
                .trim()
                .to_owned();
        }
        if let Some(v) = get("CHUANYU_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = get("CHUANYU_SIGNING_KEY") {
            self.signing_key = v.into();
        }
        if let Some(v) = get("CHUANYU_SESSION_TTL_MINUTES") {
            self.session_ttl_minutes = parsed("CHUANYU_SESSION_TTL_MINUTES", v)?;
        }
        if let Some(v) = get("CHUANYU_API_TOKEN_TTL_MINUTES") {
            self.api_token_ttl_minutes = parsed("CHUANYU_API_TOKEN_TTL_MINUTES", v)?;
        }
        if let Some(v) = get("CHUANYU_MAX_BODY_BYTES") {
            self.max_body_bytes = parsed("CHUANYU_MAX_BODY_BYTES", v)?;
        }
        if let Some(v) = get("CHUANYU_MAX_UPLOAD_BYTES") {
            self.max_upload_bytes = parsed("CHUANYU_MAX_UPLOAD_BYTES", v)?;
        }
        if let Some(v) = get("CHUANYU_LOGIN_ATTEMPTS_PER_MINUTE") {
            self.login_attempts_per_minute = parsed("CHUANYU_LOGIN_ATTEMPTS_PER_MINUTE", v)?;
        }
        if let Some(v) = get("CHUANYU_COOKIE_SECURE") {
            self.cookie_secure = parsed("CHUANYU_COOKIE_SECURE", v)?;
        }
        if let Some(v) = get("CHUANYU_DB_MAX_CONNECTIONS") {
            self.db_max_connections = parsed("CHUANYU_DB_MAX_CONNECTIONS", v)?;
        }
        if let Some(v) = get("CHUANYU_FEDERATION_DIRECTORY") {
            self.federation_directory = v.into();
        }
        if let Some(v) = get("CHUANYU_FEDERATION_GOVERNANCE_KEY") {
            self.federation_governance_key = v;
        }
        if let Some(v) = get("CHUANYU_FEDERATION_INDEX_KEY") {
            self.federation_index_key = v.into();
        }
        if let Some(v) = get("CHUANYU_FEDERATION_TIMEOUT_MS") {
            self.federation_timeout_ms = parsed("CHUANYU_FEDERATION_TIMEOUT_MS", v)?;
        }
        if let Some(v) = get("CHUANYU_TRANSFER_PROVINCIAL_STEP") {
            self.transfer_provincial_step = parsed("CHUANYU_TRANSFER_PROVINCIAL_STEP", v)?;
        }
        if let Some(v) = get("CHUANYU_TRANSFER_STEP_HOURS") {
            self.transfer_step_hours = parsed("CHUANYU_TRANSFER_STEP_HOURS", v)?;
        }
        if let Some(v) = get("CHUANYU_PUBLIC_URL") {
            self.public_url = v;
        }
        if let Some(v) = get("CHUANYU_LOOKUP_PER_MINUTE") {
            self.lookup_per_minute = parsed("CHUANYU_LOOKUP_PER_MINUTE", v)?;
        }
        if let Some(v) = get("CHUANYU_STATUS_LIST_TTL_SECONDS") {
            self.status_list_ttl_seconds = parsed("CHUANYU_STATUS_LIST_TTL_SECONDS", v)?;
        }
        Ok(())
    }

    /// Validates the member code and fills the path defaults that depend on `data_dir`.
    pub fn resolve(&mut self, base: &Path) -> Result<(), ConfigError> {
        self.member = self.member.trim().to_ascii_uppercase();
        let m = &self.member;
        if !(2..=8).contains(&m.len()) || !m.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ConfigError::Member(self.member.clone()));
        }
        if self.data_dir.is_relative() {
            self.data_dir = base.join(&self.data_dir);
        }
        if self.signing_key.as_os_str().is_empty() {
            self.signing_key = self.data_dir.join("keys").join("node-ed25519.pem");
        } else if self.signing_key.is_relative() {
            self.signing_key = base.join(&self.signing_key);
        }
        for path in [
            &mut self.federation_directory,
            &mut self.federation_index_key,
        ] {
            if !path.as_os_str().is_empty() && path.is_relative() {
                *path = base.join(&*path);
            }
        }
        if self.database_url.trim().is_empty() {
            self.database_url = format!("sqlite://{}", self.data_dir.join("chuanyu.db").display());
        }
        if self.name.trim().is_empty() {
            self.name = match self.member.as_str() {
                "CQ" => "重庆市教育委员会".into(),
                "SC" => "四川省教育厅".into(),
                other => other.to_owned(),
            };
        }
        Ok(())
    }

    /// The TOML text `chuanyu init` writes: only the keys a new node needs, the rest keep
    /// their documented defaults.
    pub fn init_toml(member: &str, listen: &str, database_url: Option<&str>) -> String {
        let mut text = format!(
            "# chuanyu node configuration. Every key and its default: chuanyu.example.toml\n\
             member = \"{member}\"\nlisten = \"{listen}\"\ndata_dir = \"data\"\n"
        );
        if let Some(url) = database_url {
            text.push_str(&format!("database_url = {}\n", toml::Value::from(url)));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn env_overrides_file_and_defaults_resolve() {
        let mut c: Config = toml::from_str("member = \"sc\"\nlisten = \"0.0.0.0:9000\"").unwrap();
        let env: HashMap<&str, &str> = [
            ("CHUANYU_LISTEN", "127.0.0.1:1"),
            ("CHUANYU_MAX_BODY_BYTES", "42"),
        ]
        .into();
        c.apply_env(|k| env.get(k).map(|v| v.to_string())).unwrap();
        c.resolve(Path::new("/srv/node")).unwrap();
        assert_eq!(c.member, "SC");
        assert_eq!(c.name, "四川省教育厅");
        assert_eq!(c.listen, "127.0.0.1:1");
        assert_eq!(c.max_body_bytes, 42);
        assert_eq!(c.data_dir, PathBuf::from("/srv/node/data"));
        assert_eq!(c.database_url, "sqlite:///srv/node/data/chuanyu.db");
        assert_eq!(
            c.signing_key,
            PathBuf::from("/srv/node/data/keys/node-ed25519.pem")
        );
    }

    #[test]
    fn bad_values_are_reported_not_ignored() {
        assert!(toml::from_str::<Config>("membr = \"CQ\"").is_err());
        let mut c = Config::default();
        let err = c
            .apply_env(|k| (k == "CHUANYU_MAX_BODY_BYTES").then(|| "lots".to_string()))
            .unwrap_err();
        assert!(matches!(err, ConfigError::Env { .. }));
        let mut c = Config {
            member: "C1".into(),
            ..Config::default()
        };
        assert!(matches!(
            c.resolve(Path::new("")),
            Err(ConfigError::Member(_))
        ));
    }

    #[test]
    fn init_toml_parses_back() {
        let text = Config::init_toml("SC", "127.0.0.1:8082", Some("postgres://x@h/db"));
        let c: Config = toml::from_str(&text).unwrap();
        assert_eq!(c.member, "SC");
        assert_eq!(c.database_url, "postgres://x@h/db");
    }
}

#[cfg(test)]
mod example_file {
    use super::*;

    /// The documented example must parse and equal the defaults it documents.
    #[test]
    fn example_documents_the_defaults() {
        let text = include_str!("../../../chuanyu.example.toml");
        let parsed: Config = toml::from_str(text).unwrap();
        assert_eq!(parsed, Config::default());
        for key in [
            "member",
            "name",
            "listen",
            "data_dir",
            "database_url",
            "signing_key",
            "session_ttl_minutes",
            "api_token_ttl_minutes",
            "max_body_bytes",
            "max_upload_bytes",
            "login_attempts_per_minute",
            "cookie_secure",
            "db_max_connections",
            "federation_directory",
            "federation_governance_key",
            "federation_index_key",
            "federation_timeout_ms",
        ] {
            assert!(text.contains(&format!("\n{key} = ")), "{key} is documented");
            let env = format!("CHUANYU_{}", key.to_uppercase());
            assert!(text.contains(&env), "{env} is documented");
        }
    }
}
