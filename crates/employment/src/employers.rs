//! Employers (用人单位): registration with a unified social credit code, and verification by
//! the bureau over the division the employer is registered in. Only verified employers post.

use kernel::access::{Action, OrgKind, Principal, Resource, Role, authorize};
use kernel::division::DivisionCode;
use kernel::ids::CreditCode;
use kernel::labelled_enum;
use kernel::{Lang, Localized};
use platform::audit::{self, AuditEntry};
use platform::users::{self, Actor, NewUser, UserError};
use platform::{Db, DbError, on_db, on_tx};
use serde::{Deserialize, Serialize};

use crate::{EmployerType, EmploymentError, Problem};

labelled_enum! {
    /// Where an employer's verification stands.
    EmployerStatus {
        Pending = "pending", "待审核", "Awaiting verification";
        Verified = "verified", "已认证", "Verified";
        Rejected = "rejected", "未通过", "Rejected";
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Employer {
    pub credit_code: String,
    pub name: String,
    pub employer_type: String,
    pub division: String,
    pub address: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub status: String,
    pub review_note: Option<String>,
    pub reviewed_by: Option<String>,
    pub created_ms: i64,
}

impl Employer {
    pub fn status(&self) -> EmployerStatus {
        EmployerStatus::parse(&self.status).unwrap_or(EmployerStatus::Pending)
    }

    pub fn type_label(&self) -> &'static str {
        EmployerType::parse(&self.employer_type).map_or("其他", |t| t.label(Lang::Zh))
    }

    pub fn resource(&self) -> Resource<'_> {
        Resource::Org {
            code: &self.credit_code,
            division: &self.division,
        }
    }
}

/// What an employer fills in to register, and the account it will sign in with.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct Registration {
    pub credit_code: String,
    pub name: String,
    pub employer_type: String,
    /// The county-level division code where the employer is registered.
    pub division: String,
    #[serde(default)]
    pub address: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub username: String,
    pub password: String,
}

/// A registration whose every field was checked.
struct Checked {
    code: CreditCode,
    kind: EmployerType,
    division: DivisionCode,
}

fn check(r: &Registration) -> Result<Checked, EmploymentError> {
    let mut problems = Vec::new();
    let code = CreditCode::parse(&r.credit_code);
    if let Err(e) = &code {
        problems.push(Problem::new("credit_code", e.code(), e.to_string()));
    }
    if r.name.trim().is_empty() {
        problems.push(Problem::required("name", "单位名称"));
    } else if r.name.trim().chars().count() > 100 {
        problems.push(Problem::new(
            "name",
            "field.too_long",
            "单位名称不能超过 100 个字。",
        ));
    }
    let kind = EmployerType::parse(&r.employer_type);
    if kind.is_none() {
        problems.push(Problem::new(
            "employer_type",
            "field.choice",
            "请选择单位性质。",
        ));
    }
    let division = DivisionCode::parse(&r.division);
    if let Err(e) = &division {
        problems.push(Problem::new("division", e.code(), e.to_string()));
    }
    if r.contact_name.trim().is_empty() {
        problems.push(Problem::required("contact_name", "联系人"));
    }
    if !valid_phone(&r.contact_phone) {
        problems.push(Problem::new(
            "contact_phone",
            "field.phone",
            "联系电话应为 11 位手机号或带区号的固定电话，例如 023-63861234。",
        ));
    }
    let login = NewUser {
        username: r.username.clone(),
        display_name: String::new(),
        password: r.password.clone(),
        role: Role::Employer,
        org_code: None,
        person_key: None,
    };
    match users::check_credentials(&login) {
        Err(UserError::Username) => problems.push(Problem::new(
            "username",
            "user.username",
            "用户名应为 3–64 位小写字母、数字或 . _ -。",
        )),
        Err(_) => problems.push(Problem::new(
            "password",
            "user.password",
            format!("密码至少 {} 位。", users::MIN_PASSWORD_CHARS),
        )),
        Ok(()) => {}
    }
    match (code, kind, division) {
        (Ok(code), Some(kind), Ok(division)) if problems.is_empty() => Ok(Checked {
            code,
            kind,
            division,
        }),
        _ => Err(EmploymentError::Invalid(problems)),
    }
}

/// A mobile number (11 digits starting with 1) or a landline with its area code.
pub(crate) fn valid_phone(s: &str) -> bool {
    let s = kernel::ids::normalize_code(s);
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    let allowed = s
        .chars()
        .all(|c| c.is_ascii_digit() || c == '-' || c == ' ');
    allowed
        && ((digits.len() == 11 && digits.starts_with('1'))
            || (digits.starts_with('0') && (10..=12).contains(&digits.len())))
}

/// Registers an employer and its first account: the organisation, the employer awaiting
/// verification and the user, in one transaction.
pub async fn register(db: &Db, r: &Registration) -> Result<String, EmploymentError> {
    let checked = check(r)?;
    let code = checked.code.as_str().to_owned();
    let hash = users::hash_off_thread(r.password.clone()).await;
    let now = platform::now_ms();
    let mut tx = db.begin().await?;
    let inserted = on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO orgs (code, name, kind, division_code, parent_code, created_ms) \
         VALUES ($1, $2, $3, $4, NULL, $5) ON CONFLICT (code) DO NOTHING")
        .bind(&code).bind(r.name.trim()).bind(OrgKind::Employer.as_str())
        .bind(checked.division.as_str()).bind(now)
        .execute(&mut *c).await?.rows_affected());
    if inserted == 0 {
        return Err(EmploymentError::invalid(
            "credit_code",
            "employer.registered",
            "该统一社会信用代码已注册。如需新增账号，请联系本单位已有账号的管理员。",
        ));
    }
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO employers (credit_code, name, employer_type, division, address, contact_name, \
         contact_phone, status, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8)")
        .bind(&code).bind(r.name.trim()).bind(checked.kind.as_str()).bind(checked.division.as_str())
        .bind(r.address.trim()).bind(r.contact_name.trim()).bind(r.contact_phone.trim()).bind(now)
        .execute(&mut *c).await?.rows_affected());
    let user = NewUser {
        username: r.username.trim().to_owned(),
        display_name: r.contact_name.trim().to_owned(),
        password: String::new(),
        role: Role::Employer,
        org_code: Some(code.clone()),
        person_key: None,
    };
    let actor = Actor {
        name: user.username.as_str(),
        role: Role::Employer.as_str(),
    };
    users::insert(&mut tx, &user, &hash, &actor)
        .await
        .map_err(|e| match e {
            UserError::Taken(_) => {
                EmploymentError::invalid("username", "user.taken", "该用户名已被使用，请换一个。")
            }
            UserError::Db(e) => EmploymentError::Db(e),
            other => EmploymentError::invalid("username", "user.invalid", other.to_string()),
        })?;
    let entry = AuditEntry::new(
        &user.username,
        Role::Employer.as_str(),
        "employer.register",
        "用人单位注册",
    )
    .detail(serde_json::json!({ "credit_code": code, "name": r.name.trim() }));
    audit::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(code)
}

const COLUMNS: &str = "credit_code, name, employer_type, division, address, contact_name, \
    contact_phone, status, review_note, reviewed_by, created_ms";

pub(crate) async fn locate(db: &Db, code: &str) -> Result<Option<Employer>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM employers WHERE credit_code = $1");
    Ok(
        on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(code).fetch_optional(p).await?),
    )
}

/// One employer, if the caller's scope reaches it (its own users, the bureaus over it).
pub async fn get(db: &Db, who: &Principal, code: &str) -> Result<Employer, EmploymentError> {
    let e = locate(db, code).await?.ok_or(EmploymentError::NotFound)?;
    authorize(who, Action::Read, e.resource()).map_err(|_| EmploymentError::NotFound)?;
    Ok(e)
}

/// The employers registered within the caller's division scope, optionally by status,
/// pending first.
pub async fn list(
    db: &Db,
    who: &Principal,
    status: Option<EmployerStatus>,
) -> Result<Vec<Employer>, EmploymentError> {
    let prefix = match &who.scope {
        kernel::access::Scope::Node => String::new(),
        kernel::access::Scope::Division(p) => p.clone(),
        _ => return Err(EmploymentError::NotAllowed),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM employers WHERE division LIKE $1 AND ($2 = '' OR status = $2) \
         ORDER BY CASE status WHEN 'pending' THEN 0 ELSE 1 END, created_ms DESC LIMIT 500"
    );
    let status = status.map_or("", |s| s.as_str());
    Ok(on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(format!("{prefix}%")).bind(status).fetch_all(p).await?))
}

/// The bureau's decision on a registration: verified, or rejected with a reason (the
/// employer may correct it and be reviewed again).
pub async fn review(
    db: &Db,
    who: &Principal,
    code: &str,
    verified: bool,
    note: &str,
) -> Result<(), EmploymentError> {
    let e = locate(db, code).await?.ok_or(EmploymentError::NotFound)?;
    authorize(who, Action::Read, e.resource()).map_err(|_| EmploymentError::NotFound)?;
    authorize(
        who,
        Action::Write,
        Resource::Oversight {
            division: &e.division,
        },
    )
    .map_err(|_| EmploymentError::NotAllowed)?;
    let note = note.trim();
    if !verified && note.is_empty() {
        return Err(EmploymentError::invalid(
            "note",
            "field.required",
            "请填写不通过的原因。",
        ));
    }
    let to = if verified {
        EmployerStatus::Verified
    } else {
        EmployerStatus::Rejected
    };
    if e.status() == to {
        return Err(EmploymentError::State(format!(
            "该单位已是“{}”。",
            to.label(Lang::Zh)
        )));
    }
    let mut tx = db.begin().await?;
    let changed = on_tx!(&mut tx, c => sqlx::query(
        "UPDATE employers SET status = $2, review_note = $3, reviewed_by = $4, reviewed_ms = $5, updated_ms = $5 \
         WHERE credit_code = $1 AND status = $6")
        .bind(code).bind(to.as_str()).bind(note).bind(&who.username).bind(platform::now_ms())
        .bind(e.status().as_str())
        .execute(&mut *c).await?.rows_affected());
    if changed != 1 {
        return Err(DbError::Changed(code.to_owned()).into());
    }
    let entry = AuditEntry::new(
        &who.username,
        who.role.as_str(),
        "employer.review",
        "用人单位审核",
    )
    .detail(serde_json::json!({ "credit_code": code, "to": to.as_str(), "note": note }));
    audit::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(())
}
