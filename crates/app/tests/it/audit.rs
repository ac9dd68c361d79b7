//! The audit chain: append-only in the database, concurrent appends stay one chain, and
//! every kind of tampering is named by `verify` at the first broken link.

use platform::audit::{
    self, AuditEntry, AuditedReadError, BrokenLink, KeyedRead, Param, Statement,
};
use platform::db::DbError;
use platform::{Db, on_db};

use crate::on_both_engines;
use crate::support::{Engine, TestApp};

on_both_engines!(
    concurrent_appends_form_one_chain,
    a_failing_write_is_undone_alone,
    two_writers_share_one_chain,
    an_audited_read_answers_once_recorded,
    the_subject_index_catches_up,
    newer_schema_is_refused
);

async fn exec(db: &Db, sql: &str) -> Result<u64, sqlx::Error> {
    let sql = sql.to_owned();
    on_db!(db, p => sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(p).await.map(|r| r.rows_affected()))
}

/// What an administrator with direct database access could do: lift the append-only guard.
async fn lift_guard(db: &Db, engine: Engine) {
    let sql = match engine {
        Engine::Sqlite => {
            "DROP TRIGGER audit_log_append_only_update; DROP TRIGGER audit_log_append_only_delete;"
        }
        Engine::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;",
    };
    exec(db, sql).await.unwrap();
}

async fn concurrent_appends_form_one_chain(app: TestApp) {
    let db = app.db.clone();
    let log = audit::AuditLog::start(db.clone());
    let reads: Vec<_> = (0..40)
        .map(|i| {
            let log = log.clone();
            tokio::spawn(async move {
                let entry = AuditEntry::new("t", "teacher", "student.read", "学籍管理")
                    .subject(&format!("G{i}"), None);
                log.record(entry).await.unwrap()
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for r in reads {
        seqs.push(r.await.unwrap());
    }
    seqs.sort();
    seqs.dedup();
    assert_eq!(seqs.len(), 40, "every entry got its own sequence number");
    let report = audit::verify(&db).await.unwrap();
    assert_eq!(report.first_broken, None);
    assert!(
        report.entries >= 49,
        "seeding, accounts and reads were audited: {}",
        report.entries
    );

    // The database itself refuses to change the log.
    assert!(
        exec(&db, "UPDATE audit_log SET purpose = 'x' WHERE seq = 3")
            .await
            .is_err()
    );
    assert!(
        exec(&db, "DELETE FROM audit_log WHERE seq = 3")
            .await
            .is_err()
    );
    app.stop().await;
}

async fn entries_about(db: &Db, subject: &str) -> i64 {
    let subject = subject.to_owned();
    on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE subject = $1")
        .bind(subject).fetch_one(p).await.unwrap())
}

type OrgRow = (String, String);

fn org_row(c: &rusqlite::Connection, sql: &str, code: &str) -> rusqlite::Result<Option<OrgRow>> {
    use rusqlite::OptionalExtension;
    c.query_row(sql, [code], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

/// Reads an organisation's code and name by its code, as `read_audited` asks on each engine.
fn org_read(code: &str) -> KeyedRead<OrgRow> {
    KeyedRead {
        key: code.to_owned(),
        sqlite: |c, k| org_row(c, "SELECT code, name FROM orgs WHERE code = $1", k),
        postgres: "SELECT code, name FROM orgs WHERE code = ANY($1)",
    }
}

/// [`org_read`] from a table that does not exist: the read fails on both engines.
fn failing_read(code: &str) -> KeyedRead<OrgRow> {
    KeyedRead {
        key: code.to_owned(),
        sqlite: |c, k| org_row(c, "SELECT code, name FROM no_such_table WHERE code = $1", k),
        postgres: "SELECT code, name FROM no_such_table WHERE code = ANY($1)",
    }
}

/// A read and the entry it calls for in one trip: the answer comes only once the entry is in
/// the log; a read that calls for no entry, finds nothing or fails records nothing. Many
/// reads at once (batched into one statement on PostgreSQL) each get their own row, the same
/// key twice included, and each is recorded once.
async fn an_audited_read_answers_once_recorded(app: TestApp) {
    let db = app.db.clone();
    let log = audit::AuditLog::start(db.clone());
    let entry = |subject: &str| {
        AuditEntry::new("t", "teacher", "student.read", "学籍管理").subject(subject, None)
    };
    let codes: Vec<(String, String)> = on_db!(&db, p => sqlx::query_as(
        "SELECT code, name FROM orgs ORDER BY code LIMIT 3").fetch_all(p).await.unwrap());
    assert_eq!(codes.len(), 3, "the test node has organisations");
    let (code, name) = codes[0].clone();

    let read = log
        .read_audited(org_read(&code), move |(c, _)| {
            Some(entry(&format!("read {c}")))
        })
        .await;
    assert_eq!(read.unwrap(), (Some((code.clone(), name.clone())), true));
    assert_eq!(
        entries_about(&db, &format!("read {code}")).await,
        1,
        "recorded before the answer"
    );

    let unrecorded = log.read_audited(org_read(&code), |_| None).await;
    assert_eq!(unrecorded.unwrap(), (Some((code.clone(), name)), false));

    let nothing = log
        .read_audited(org_read("NO-SUCH-ORG"), move |_| Some(entry("G-none")))
        .await;
    assert_eq!(nothing.unwrap(), (None, false));

    let failed = log
        .read_audited(failing_read(&code), move |_| Some(entry("G-failed")))
        .await;
    assert!(matches!(failed, Err(AuditedReadError::Db(_))), "{failed:?}");
    assert_eq!(entries_about(&db, "G-failed").await, 0);

    // At once: each existing code four times, and a code that does not exist.
    let reads: Vec<_> = (0..16)
        .map(|i| {
            let log = log.clone();
            let key = codes
                .get(i % 4)
                .map_or("NO-SUCH-ORG".to_owned(), |c| c.0.clone());
            tokio::spawn(async move {
                let read = log
                    .read_audited(org_read(&key), move |(c, _)| {
                        Some(entry(&format!("many {c}")))
                    })
                    .await
                    .unwrap();
                (key, read)
            })
        })
        .collect();
    for read in reads {
        let (key, (found, recorded)) = read.await.unwrap();
        let expected = codes.iter().find(|c| c.0 == key).cloned();
        assert_eq!(recorded, expected.is_some(), "{key}");
        assert_eq!(found, expected, "{key}");
    }
    for (code, _) in &codes {
        assert_eq!(
            entries_about(&db, &format!("many {code}")).await,
            4,
            "{code}"
        );
    }
    assert_eq!(audit::verify(&db).await.unwrap().first_broken, None);
    app.stop().await;
}

async fn a_failing_write_is_undone_alone(app: TestApp) {
    let db = app.db.clone();
    let log = audit::AuditLog::start(db.clone());
    let nonce = |n: &str| Statement {
        sql: "INSERT INTO federation_nonces (keyid, nonce, created) VALUES ($1, $2, $3)",
        params: vec![
            Param::Text("k".into()),
            Param::Text(n.into()),
            Param::Int(1),
        ],
    };
    let entry = |i: usize| {
        AuditEntry::new("node:SC", "federation", "federation.received", "p")
            .detail(serde_json::json!({ "i": i }))
    };
    log.append_with(vec![entry(0)], vec![nonce("n0")])
        .await
        .unwrap();
    // Twenty writes at once, one of them replaying n0.
    let writes: Vec<_> = (1..=20)
        .map(|i| {
            let log = log.clone();
            let n = if i == 10 {
                "n0".to_owned()
            } else {
                format!("n{i}")
            };
            let statement = nonce(&n);
            tokio::spawn(async move {
                log.append_with(vec![entry(i), entry(i)], vec![statement])
                    .await
            })
        })
        .collect();
    let mut committed = 0;
    for (i, w) in (1..=20).zip(writes) {
        match w.await.unwrap() {
            Ok(seqs) => {
                assert_eq!(seqs.len(), 2);
                committed += 1;
            }
            Err(DbError::Duplicate { .. }) => assert_eq!(i, 10, "only the replay fails"),
            Err(e) => panic!("write {i}: {e}"),
        }
    }
    assert_eq!(committed, 19);
    let received: (i64,) = on_db!(&db, p => sqlx::query_as(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'federation.received'")
        .fetch_one(p).await.unwrap());
    // n0's write, then two entries for each committed write and none for the replay.
    assert_eq!(received.0, 1 + 2 * 19);
    let nonces: (i64,) = on_db!(&db, p => sqlx::query_as("SELECT COUNT(*) FROM federation_nonces")
        .fetch_one(p).await.unwrap());
    assert_eq!(nonces.0, 20);
    assert_eq!(audit::verify(&db).await.unwrap().first_broken, None);
    app.stop().await;
}

/// Two group-commit writers on one database (two `serve` instances on one PostgreSQL, or a
/// CLI command beside the server) interleave without forking or breaking the chain.
async fn two_writers_share_one_chain(app: TestApp) {
    let (a, b) = (
        audit::AuditLog::start(app.db.clone()),
        audit::AuditLog::start(app.db.clone()),
    );
    let tasks: Vec<_> = (0..120)
        .map(|i| {
            let log = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                log.record(
                    AuditEntry::new("w", "teacher", "student.read", "学籍管理")
                        .subject(&format!("G{i}"), None),
                )
                .await
                .unwrap()
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap());
    }
    seqs.sort();
    seqs.dedup();
    assert_eq!(seqs.len(), 120);
    // Writes in their own transactions interleave too.
    let mut tx = app.db.begin().await.unwrap();
    audit::append(
        &mut tx,
        &[AuditEntry::new(
            "cli",
            "operator",
            "user.create",
            "账号管理",
        )],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    a.record(AuditEntry::new("w", "teacher", "student.read", "学籍管理"))
        .await
        .unwrap();
    assert_eq!(audit::verify(&app.db).await.unwrap().first_broken, None);
    app.stop().await;
}

/// Each kind of tampering on a fresh chain, on both engines.
async fn tampering_cases(engine: Engine) {
    type Expect = fn(i64) -> BrokenLink;
    let cases: [(&str, Expect); 4] = [
        ("DELETE FROM audit_log WHERE seq = 4", |_| {
            BrokenLink::Missing { seq: 4, found: 5 }
        }),
        (
            "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 5",
            |_| BrokenLink::Altered { seq: 5 },
        ),
        // Two rows swap places: the first one out of place no longer matches its hash.
        (
            "UPDATE audit_log SET seq = -1 WHERE seq = 6; UPDATE audit_log SET seq = 6 WHERE seq = 7; \
             UPDATE audit_log SET seq = 7 WHERE seq = -1;",
            |_| BrokenLink::Altered { seq: 6 },
        ),
        (
            "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)",
            |last| BrokenLink::Head {
                head_seq: last,
                last_seq: last - 1,
            },
        ),
    ];
    for (sql, expected) in cases {
        let Some(app) = TestApp::spawn(engine).await else {
            return;
        };
        let (last, _) = audit::head(&app.db).await.unwrap();
        assert!(last > 8);
        lift_guard(&app.db, engine).await;
        exec(&app.db, sql).await.unwrap();
        let report = audit::verify(&app.db).await.unwrap();
        assert_eq!(report.first_broken, Some(expected(last)), "{sql}");
        app.stop().await;
    }
}

mod tampering {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        tampering_cases(Engine::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        tampering_cases(Engine::Postgres).await;
    }
}

/// A person's accesses are the same whether the subject index has caught up with them or
/// not, or a pass stopped half-way (the node's own indexer runs meanwhile, as in service).
async fn the_subject_index_catches_up(app: TestApp) {
    let db = app.db.clone();
    let log = audit::AuditLog::start(db.clone());
    let read = |subject: &str| {
        AuditEntry::new("t", "teacher", "student.read", "学籍管理").subject(subject, None)
    };
    let mut mine = Vec::new();
    for _ in 0..3 {
        mine.push(log.record(read("G-indexed")).await.unwrap());
        log.record(read("G-other")).await.unwrap();
    }
    let seqs = |accesses: Vec<audit::Access>| accesses.iter().map(|a| a.seq).collect::<Vec<_>>();
    let newest_first = |mut v: Vec<i64>| {
        v.sort_by(|a, b| b.cmp(a));
        v
    };
    let shown = seqs(audit::accesses_to(&db, "G-indexed", 100).await.unwrap());
    assert_eq!(shown, newest_first(mine.clone()));

    audit::index_subjects(&db, &log).await.unwrap();
    let upto: (i64,) = on_db!(&db, p => sqlx::query_as(
        "SELECT seq FROM audit_subjects_upto WHERE id = 1").fetch_one(p).await.unwrap());
    assert_eq!(
        upto.0,
        audit::head(&db).await.unwrap().0,
        "the mark is at the head"
    );
    let indexed: Vec<(i64,)> = on_db!(&db, p => sqlx::query_as(
        "SELECT seq FROM audit_subjects WHERE subject = 'G-indexed' ORDER BY seq")
        .fetch_all(p).await.unwrap());
    assert_eq!(indexed.into_iter().map(|s| s.0).collect::<Vec<_>>(), mine);
    let shown = seqs(audit::accesses_to(&db, "G-indexed", 100).await.unwrap());
    assert_eq!(shown, newest_first(mine.clone()), "each access once");

    // A pass that added its chunk but stopped before moving the mark.
    let seq = log.record(read("G-indexed")).await.unwrap();
    mine.push(seq);
    exec(&db, &format!(
        "INSERT INTO audit_subjects (subject, seq) VALUES ('G-indexed', {seq}) ON CONFLICT DO NOTHING"
    ))
    .await
    .unwrap();
    let shown = seqs(audit::accesses_to(&db, "G-indexed", 100).await.unwrap());
    assert_eq!(shown, newest_first(mine.clone()), "each access once");
    audit::index_subjects(&db, &log).await.unwrap();
    let shown = seqs(audit::accesses_to(&db, "G-indexed", 2).await.unwrap());
    assert_eq!(shown, newest_first(mine.clone())[..2]);
    assert_eq!(
        audit::index_subjects(&db, &log).await.unwrap(),
        0,
        "nothing left"
    );
    assert_eq!(audit::verify(&db).await.unwrap().first_broken, None);
}

async fn newer_schema_is_refused(app: TestApp) {
    on_db!(&app.db, p => sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ($1, $2, TRUE, $3, 0)")
        .bind(99990101_i64)
        .bind("from a newer release")
        .bind(vec![0_u8])
        .execute(p)
        .await
        .unwrap()
        .rows_affected());
    assert!(
        app.db.migrate().await.is_err(),
        "a database migrated by a newer binary is refused"
    );
    app.stop().await;
}
