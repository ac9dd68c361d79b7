//! Organisations placed in the GB/T 2260 division hierarchy.

use kernel::access::OrgKind;
use kernel::division;
use serde::Serialize;

use crate::db::{Db, DbError, Tx};
use crate::{on_db, on_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq, utoipa::ToSchema)]
pub struct Org {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub division_code: String,
    pub parent_code: Option<String>,
}

impl Org {
    pub fn kind(&self) -> Option<OrgKind> {
        OrgKind::parse(&self.kind)
    }

    /// "四川省成都市武侯区", or the bare code for a division outside the reference table.
    pub fn place(&self) -> String {
        division::lookup(&self.division_code)
            .map(|d| d.full_name())
            .unwrap_or_else(|| self.division_code.clone())
    }
}

/// The division-code prefix that a bureau at this division oversees: "51" for a province,
/// "5101" for a prefecture, the full code for a county. Codes outside the reference table
/// (another member's) scope to themselves.
pub fn scope_prefix(division_code: &str) -> String {
    division::lookup(division_code)
        .map(|d| d.prefix().to_owned())
        .unwrap_or_else(|| division_code.to_owned())
}

const COLUMNS: &str = "code, name, kind, division_code, parent_code";

/// Inserts organisations, leaving existing codes untouched (seeding is re-runnable).
pub async fn insert_missing(tx: &mut Tx<'_>, orgs: &[Org]) -> Result<u64, DbError> {
    let now = crate::now_ms();
    let mut inserted = 0;
    for org in orgs {
        inserted += on_tx!(&mut *tx, c => sqlx::query(
            "INSERT INTO orgs (code, name, kind, division_code, parent_code, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO NOTHING")
            .bind(&org.code)
            .bind(&org.name)
            .bind(&org.kind)
            .bind(&org.division_code)
            .bind(&org.parent_code)
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected());
    }
    Ok(inserted)
}

pub async fn get(db: &Db, code: &str) -> Result<Option<Org>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM orgs WHERE code = $1");
    Ok(
        on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(code).fetch_optional(p).await?),
    )
}

/// Organisations whose division code starts with `division_prefix` ("" for all), optionally
/// of one kind, ordered by code.
pub async fn list(
    db: &Db,
    division_prefix: &str,
    kind: Option<OrgKind>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Org>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM orgs WHERE division_code LIKE $1 AND ($2 = '' OR kind = $2) \
         ORDER BY code LIMIT $3 OFFSET $4"
    );
    let pattern = format!("{division_prefix}%");
    let kind = kind.map(|k| k.as_str()).unwrap_or("");
    Ok(on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(pattern).bind(kind).bind(limit).bind(offset).fetch_all(p).await?))
}

/// Number of organisations of each kind under each prefecture-level division: the joint
/// office's aggregate view (no personal data).
pub async fn counts_by_prefecture(db: &Db) -> Result<Vec<(String, String, i64)>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT SUBSTR(division_code, 1, 4) AS prefix, kind, COUNT(*) FROM orgs \
         GROUP BY SUBSTR(division_code, 1, 4), kind ORDER BY prefix, kind")
        .fetch_all(p)
        .await?))
}
