//! Users, passwords (argon2id), portal sessions and API tokens.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use kernel::access::{OrgKind, Principal, Role, Scope};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::{self, AuditEntry};
use crate::db::{Db, DbError, Tx};
use crate::{on_db, on_tx, orgs};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub org_code: Option<String>,
    pub person_key: Option<String>,
    pub disabled: bool,
}

pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
    pub org_code: Option<String>,
    pub person_key: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("user name must be 3–64 characters of a–z, 0–9, '.', '_' or '-'")]
    Username,
    #[error("password must have at least {MIN_PASSWORD_CHARS} characters")]
    Password,
    #[error("role {role} needs an organisation of kind {allowed}")]
    OrgRequired { role: Role, allowed: String },
    #[error("organisation {0} does not exist")]
    UnknownOrg(String),
    #[error("role {role} cannot belong to a {kind} organisation")]
    OrgKind { role: Role, kind: String },
    #[error("a student account needs the student's 学籍号 as its person key")]
    PersonKey,
    #[error("user name {0} is taken")]
    Taken(String),
    #[error(transparent)]
    Db(DbError),
}

impl From<DbError> for UserError {
    fn from(e: DbError) -> Self {
        UserError::Db(e)
    }
}

pub const MIN_PASSWORD_CHARS: usize = 8;

/// Who performed a write, for the audit entry.
pub struct Actor<'a> {
    pub name: &'a str,
    pub role: &'a str,
}

fn valid_username(u: &str) -> bool {
    (3..=64).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    // Hashing a password with a fresh salt and default argon2id parameters cannot fail.
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

fn password_matches(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Creates a user, checking the role/organisation pairing, and audits it in the same
/// transaction.
pub async fn create(db: &Db, new: NewUser, actor: &Actor<'_>) -> Result<i64, UserError> {
    check_credentials(&new)?;
    let allowed = new.role.allowed_org_kinds();
    match (&new.org_code, allowed.is_empty()) {
        (None, false) => {
            let allowed = allowed
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(" / ");
            return Err(UserError::OrgRequired {
                role: new.role,
                allowed,
            });
        }
        (Some(code), _) => {
            let org = orgs::get(db, code)
                .await?
                .ok_or_else(|| UserError::UnknownOrg(code.clone()))?;
            let kind = OrgKind::parse(&org.kind);
            if !kind.is_some_and(|k| allowed.contains(&k)) {
                return Err(UserError::OrgKind {
                    role: new.role,
                    kind: org.kind,
                });
            }
        }
        (None, true) => {}
    }
    if new.role == Role::Student && new.person_key.as_deref().is_none_or(str::is_empty) {
        return Err(UserError::PersonKey);
    }
    let hash = hash_off_thread(new.password.clone()).await;
    let mut tx = db.begin().await?;
    let id = insert(&mut tx, &new, &hash, actor).await?;
    tx.commit().await?;
    Ok(id)
}

/// The user name and password rules, checked before anything is written.
pub fn check_credentials(new: &NewUser) -> Result<(), UserError> {
    if !valid_username(new.username.trim()) {
        return Err(UserError::Username);
    }
    if new.password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(UserError::Password);
    }
    Ok(())
}

/// argon2id on a blocking thread, so the hash's ~50 ms do not stall the runtime.
pub async fn hash_off_thread(password: String) -> String {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .unwrap_or_default()
}

/// Inserts a user whose credentials and organisation the caller has checked, with its audit
/// entry, inside the caller's transaction (which may create the organisation too).
pub async fn insert(
    tx: &mut Tx<'_>,
    new: &NewUser,
    password_hash: &str,
    actor: &Actor<'_>,
) -> Result<i64, UserError> {
    let username = new.username.trim().to_owned();
    let inserted: Result<i64, sqlx::Error> = on_tx!(&mut *tx, c => sqlx::query_scalar(
        "INSERT INTO users (username, display_name, password_hash, role, org_code, person_key, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
        .bind(&username)
        .bind(new.display_name.trim())
        .bind(password_hash)
        .bind(new.role.as_str())
        .bind(&new.org_code)
        .bind(&new.person_key)
        .bind(crate::now_ms())
        .fetch_one(&mut *c)
        .await);
    let id = inserted.map_err(|e| match DbError::from(e) {
        DbError::Duplicate { .. } => UserError::Taken(username.clone()),
        other => UserError::Db(other),
    })?;
    let entry = AuditEntry::new(actor.name, actor.role, "user.create", "账号管理").detail(
        serde_json::json!({"user_id": id, "username": username, "role": new.role.as_str(), "org": new.org_code}),
    );
    audit::append(tx, &[entry]).await?;
    Ok(id)
}

/// Checks a user name and password. Unknown users cost the same argon2 work as known ones,
/// so timing does not tell which user names exist.
pub async fn authenticate(
    db: &Db,
    username: &str,
    password: &str,
) -> Result<Option<User>, DbError> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let row: Option<(i64, String)> = on_db!(db, p => sqlx::query_as(
        "SELECT id, password_hash FROM users WHERE username = $1 AND NOT disabled")
        .bind(username.trim())
        .fetch_optional(p)
        .await?);
    let (id, hash) = match row {
        Some((id, hash)) => (Some(id), hash),
        None => (
            None,
            DUMMY
                .get_or_init(|| hash_password("not a real password"))
                .clone(),
        ),
    };
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || password_matches(&hash, &password))
        .await
        .unwrap_or(false);
    match (id, ok) {
        (Some(id), true) => get(db, id).await,
        _ => Ok(None),
    }
}

pub async fn get(db: &Db, id: i64) -> Result<Option<User>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT id, username, display_name, role, org_code, person_key, disabled FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(p)
        .await?))
}

pub async fn list_by_org(db: &Db, org_code: &str) -> Result<Vec<User>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT id, username, display_name, role, org_code, person_key, disabled FROM users \
         WHERE org_code = $1 ORDER BY username")
        .bind(org_code)
        .fetch_all(p)
        .await?))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionKind {
    /// A portal sign-in, carried in a cookie, with a CSRF token for forms.
    Web,
    /// An API bearer token.
    Api,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Web => "web",
            SessionKind::Api => "api",
        }
    }
}

pub struct NewSession {
    /// The secret handed to the client; only its hash is stored.
    pub token: String,
    pub csrf: String,
    pub expires_ms: i64,
}

/// A random 256-bit secret, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Starts a session or issues an API token, audited as a sign-in.
pub async fn start_session(
    db: &Db,
    user: &User,
    kind: SessionKind,
    ttl_minutes: i64,
    client: &str,
) -> Result<NewSession, DbError> {
    let session = NewSession {
        token: random_token(),
        csrf: random_token(),
        expires_ms: crate::now_ms() + ttl_minutes * 60_000,
    };
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, kind, csrf, created_ms, expires_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(token_hash(&session.token))
        .bind(user.id)
        .bind(kind.as_str())
        .bind(&session.csrf)
        .bind(crate::now_ms())
        .bind(session.expires_ms)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    let action = match kind {
        SessionKind::Web => "auth.sign_in",
        SessionKind::Api => "auth.token",
    };
    let entry = AuditEntry::new(&user.username, &user.role, action, "身份认证")
        .detail(serde_json::json!({"client": client}));
    audit::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(session)
}

pub async fn end_session(db: &Db, token: &str) -> Result<(), DbError> {
    on_db!(db, p => sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash(token))
        .execute(p)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// The signed-in user behind a session or token, with what the portal shows about them.
#[derive(Debug, Clone, Serialize)]
pub struct SessionUser {
    pub principal: Principal,
    pub display_name: String,
    pub org_code: Option<String>,
    pub org_name: Option<String>,
    pub person_key: Option<String>,
    #[serde(skip)]
    pub csrf: String,
    #[serde(skip)]
    pub expires_ms: i64,
}

/// Looks up a live session or token; `None` when unknown, expired or the user is disabled.
pub async fn session_user(
    db: &Db,
    token: &str,
    kind: SessionKind,
) -> Result<Option<SessionUser>, DbError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        username: String,
        display_name: String,
        role: String,
        org_code: Option<String>,
        person_key: Option<String>,
        org_name: Option<String>,
        division_code: Option<String>,
        csrf: String,
        expires_ms: i64,
    }
    let row: Option<Row> = on_db!(db, p => sqlx::query_as(
        "SELECT u.id, u.username, u.display_name, u.role, u.org_code, u.person_key, \
                o.name AS org_name, o.division_code, s.csrf, s.expires_ms \
         FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN orgs o ON o.code = u.org_code \
         WHERE s.token_hash = $1 AND s.kind = $2 AND s.expires_ms > $3 AND NOT u.disabled")
        .bind(token_hash(token))
        .bind(kind.as_str())
        .bind(crate::now_ms())
        .fetch_optional(p)
        .await?);
    let Some(row) = row else { return Ok(None) };
    // A role stored by an older or newer binary that this one does not know grants nothing.
    let Some(role) = Role::parse(&row.role) else {
        return Ok(None);
    };
    let prefix = row.division_code.as_deref().map(orgs::scope_prefix);
    let Some(scope) = Scope::for_role(
        role,
        row.org_code.as_deref(),
        prefix.as_deref(),
        row.person_key.as_deref(),
    ) else {
        return Ok(None);
    };
    Ok(Some(SessionUser {
        principal: Principal {
            user_id: row.id,
            username: row.username,
            role,
            scope,
        },
        display_name: row.display_name,
        org_code: row.org_code,
        org_name: row.org_name,
        person_key: row.person_key,
        csrf: row.csrf,
        expires_ms: row.expires_ms,
    }))
}

/// Removes expired sessions; called periodically by the server.
pub async fn purge_expired_sessions(db: &Db) -> Result<u64, DbError> {
    let done = on_db!(db, p => sqlx::query("DELETE FROM sessions WHERE expires_ms <= $1")
        .bind(crate::now_ms())
        .execute(p)
        .await?.rows_affected());
    Ok(done)
}

/// Recently seen sessions and tokens, so a busy client does not cost a database query per
/// request. An entry is trusted for `ttl` at most (and never past the session's expiry);
/// signing out removes it at once on this instance, and other instances of the node notice
/// within `ttl`.
pub struct SessionCache {
    ttl: std::time::Duration,
    entries: std::sync::Mutex<
        std::collections::HashMap<(String, SessionKind), (SessionUser, std::time::Instant)>,
    >,
}

/// More entries than this and the cache starts afresh (a bound, not an expected size).
const SESSION_CACHE_LIMIT: usize = 100_000;

impl SessionCache {
    pub fn new(ttl: std::time::Duration) -> SessionCache {
        SessionCache {
            ttl,
            entries: Default::default(),
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        std::collections::HashMap<(String, SessionKind), (SessionUser, std::time::Instant)>,
    > {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live session behind `token`, from the cache or the database.
    pub async fn get(
        &self,
        db: &Db,
        token: &str,
        kind: SessionKind,
    ) -> Result<Option<SessionUser>, DbError> {
        let key = (token_hash(token), kind);
        if let Some((user, seen)) = self.lock().get(&key)
            && seen.elapsed() < self.ttl
            && user.expires_ms > crate::now_ms()
        {
            return Ok(Some(user.clone()));
        }
        let loaded = session_user(db, token, kind).await?;
        let mut entries = self.lock();
        match &loaded {
            Some(user) => {
                if entries.len() >= SESSION_CACHE_LIMIT {
                    entries.clear();
                }
                entries.insert(key, (user.clone(), std::time::Instant::now()));
            }
            None => {
                entries.remove(&key);
            }
        }
        Ok(loaded)
    }

    /// Forgets a token (sign-out).
    pub fn forget(&self, token: &str) {
        let hash = token_hash(token);
        let mut entries = self.lock();
        entries.remove(&(hash.clone(), SessionKind::Web));
        entries.remove(&(hash, SessionKind::Api));
    }
}
