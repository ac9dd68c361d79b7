//! Roles, organisation kinds, scopes and the one authorisation decision.
//!
//! Every handler asks [`authorize`]; no handler decides access on its own. A denial is
//! reported to users as "not found" for reads, so a refusal never reveals that a record
//! exists outside the caller's scope.

use serde::Serialize;

/// An enum with a stable slug (CLI, API, database), a parser and a label per language.
/// Attributes before the name (docs, extra derives) are kept.
#[macro_export]
macro_rules! labelled_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $slug:literal, $zh:literal, $en:literal;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The stable slug used in the CLI, the API and the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $slug),* }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s.trim() { $($slug => Some($name::$variant),)* _ => None }
            }

            pub fn label(self, lang: $crate::Lang) -> &'static str {
                match (self, lang) {
                    $(($name::$variant, $crate::Lang::Zh) => $zh, ($name::$variant, $crate::Lang::En) => $en,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

labelled_enum! {
    /// What a user may do is decided by their role and the organisation they belong to.
    Role {
        PlatformAdmin = "platform-admin", "平台管理员", "Platform administrator";
        JointOffice = "joint-office", "联合办公室", "Joint office";
        Bureau = "bureau", "教育行政部门", "Education bureau";
        SchoolAdmin = "school-admin", "学校管理员", "School administrator";
        Teacher = "teacher", "教师", "Teacher";
        Student = "student", "学生", "Student";
        Employer = "employer", "用人单位", "Employer";
    }
}

labelled_enum! {
    /// Kinds of organisation placed in the division hierarchy.
    OrgKind {
        ProvinceBureau = "province-bureau", "省级教育行政部门", "Provincial education authority";
        DistrictBureau = "district-bureau", "市县教育行政部门", "District education bureau";
        School = "school", "中小学校", "School";
        University = "university", "高等学校", "University or college";
        Employer = "employer", "用人单位", "Employer";
        JointOffice = "joint-office", "联席会议联合办公室", "Joint office";
    }
}

impl Role {
    /// The organisation kinds a user of this role may belong to (`None` = no organisation).
    pub fn allowed_org_kinds(self) -> &'static [OrgKind] {
        match self {
            Role::PlatformAdmin => &[],
            Role::JointOffice => &[OrgKind::JointOffice],
            Role::Bureau => &[OrgKind::ProvinceBureau, OrgKind::DistrictBureau],
            Role::SchoolAdmin | Role::Teacher | Role::Student => {
                &[OrgKind::School, OrgKind::University]
            }
            Role::Employer => &[OrgKind::Employer],
        }
    }

    pub fn needs_org(self) -> bool {
        !self.allowed_org_kinds().is_empty()
    }

    /// Whether this role sees full ID numbers by default (it needs them for its work).
    /// Everyone else sees the masked form.
    pub fn sees_full_ids(self) -> bool {
        matches!(self, Role::SchoolAdmin)
    }
}

/// What part of a node's data a signed-in user reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum Scope {
    /// The whole node (platform administrators).
    Node,
    /// Aggregates across the node, never personal rows (the joint office).
    Aggregates,
    /// Everything under a GB/T 2260 code prefix: "51" a province, "5101" a prefecture,
    /// "510104" a county (bureaus).
    Division(String),
    /// One organisation, by its code (schools, universities, employers).
    Org(String),
    /// One person's own records, by their person key (students).
    Person(String),
}

impl Scope {
    /// The scope a role receives from its organisation. `division_prefix` is the prefix of
    /// the organisation's division code (see [`crate::division::Division::prefix`]).
    pub fn for_role(
        role: Role,
        org_code: Option<&str>,
        division_prefix: Option<&str>,
        person_key: Option<&str>,
    ) -> Option<Scope> {
        Some(match role {
            Role::PlatformAdmin => Scope::Node,
            Role::JointOffice => Scope::Aggregates,
            Role::Bureau => Scope::Division(division_prefix?.to_owned()),
            Role::SchoolAdmin | Role::Teacher | Role::Employer => Scope::Org(org_code?.to_owned()),
            Role::Student => Scope::Person(person_key?.to_owned()),
        })
    }
}

/// The signed-in user as authorisation sees them.
#[derive(Debug, Clone, Serialize)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub scope: Scope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Write,
}

/// What is being accessed, described by the facts that scope decisions need.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    /// An organisation's profile and roster.
    Org { code: &'a str, division: &'a str },
    /// A person's record held by an organisation (a student, a teacher).
    PersonRecord {
        org_code: &'a str,
        division: &'a str,
        person_key: &'a str,
    },
    /// A decision a bureau takes over what happens in its area (verifying an employer,
    /// approving a job), by the division of the organisation concerned.
    Oversight { division: &'a str },
    /// The node-wide audit log and user administration.
    NodeAdministration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("access denied")]
pub struct Denied;

/// The single authorisation decision of the platform.
pub fn authorize(p: &Principal, action: Action, resource: Resource<'_>) -> Result<(), Denied> {
    let allowed = match (&p.scope, resource) {
        (Scope::Node, _) => true,
        (_, Resource::NodeAdministration) => false,
        // The joint office reads organisations, never personal rows, and writes nothing here.
        (Scope::Aggregates, Resource::Org { .. }) => action == Action::Read,
        (Scope::Aggregates, Resource::PersonRecord { .. }) => false,
        (Scope::Division(prefix), Resource::Oversight { division }) => {
            division.starts_with(prefix.as_str())
        }
        (_, Resource::Oversight { .. }) => false,
        (Scope::Division(prefix), Resource::Org { division, .. })
        | (Scope::Division(prefix), Resource::PersonRecord { division, .. }) => {
            division.starts_with(prefix.as_str())
        }
        (Scope::Org(own), Resource::Org { code, .. }) => {
            own == code
                && (action == Action::Read || matches!(p.role, Role::SchoolAdmin | Role::Employer))
        }
        (Scope::Org(own), Resource::PersonRecord { org_code, .. }) => {
            own == org_code
                && match action {
                    Action::Read => matches!(p.role, Role::SchoolAdmin | Role::Teacher),
                    Action::Write => p.role == Role::SchoolAdmin,
                }
        }
        (Scope::Person(own), Resource::PersonRecord { person_key, .. }) => {
            own == person_key && action == Action::Read
        }
        (Scope::Person(_), Resource::Org { .. }) => false,
    };
    if allowed { Ok(()) } else { Err(Denied) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, scope: Scope) -> Principal {
        Principal {
            user_id: 1,
            username: "u".into(),
            role,
            scope,
        }
    }

    const SCHOOL_A: Resource<'static> = Resource::PersonRecord {
        org_code: "2151010001",
        division: "510104",
        person_key: "G510104201001011234",
    };

    #[test]
    fn school_admin_reads_only_own_school() {
        let own = principal(Role::SchoolAdmin, Scope::Org("2151010001".into()));
        let other = principal(Role::SchoolAdmin, Scope::Org("2151010002".into()));
        assert!(authorize(&own, Action::Read, SCHOOL_A).is_ok());
        assert!(authorize(&own, Action::Write, SCHOOL_A).is_ok());
        assert_eq!(authorize(&other, Action::Read, SCHOOL_A), Err(Denied));
    }

    #[test]
    fn teacher_reads_but_does_not_write() {
        let t = principal(Role::Teacher, Scope::Org("2151010001".into()));
        assert!(authorize(&t, Action::Read, SCHOOL_A).is_ok());
        assert_eq!(authorize(&t, Action::Write, SCHOOL_A), Err(Denied));
    }

    #[test]
    fn bureau_scope_is_a_division_prefix() {
        let chengdu = principal(Role::Bureau, Scope::Division("5101".into()));
        let mianyang = principal(Role::Bureau, Scope::Division("5107".into()));
        let sichuan = principal(Role::Bureau, Scope::Division("51".into()));
        let chongqing = principal(Role::Bureau, Scope::Division("50".into()));
        assert!(authorize(&chengdu, Action::Read, SCHOOL_A).is_ok());
        assert!(authorize(&sichuan, Action::Read, SCHOOL_A).is_ok());
        assert_eq!(authorize(&mianyang, Action::Read, SCHOOL_A), Err(Denied));
        assert_eq!(authorize(&chongqing, Action::Read, SCHOOL_A), Err(Denied));
    }

    #[test]
    fn joint_office_never_sees_personal_rows() {
        let jo = principal(Role::JointOffice, Scope::Aggregates);
        assert_eq!(authorize(&jo, Action::Read, SCHOOL_A), Err(Denied));
        let org = Resource::Org {
            code: "2151010001",
            division: "510104",
        };
        assert!(authorize(&jo, Action::Read, org).is_ok());
        assert_eq!(authorize(&jo, Action::Write, org), Err(Denied));
    }

    #[test]
    fn student_reads_only_own_record() {
        let me = principal(Role::Student, Scope::Person("G510104201001011234".into()));
        let other = principal(Role::Student, Scope::Person("G510104201001015678".into()));
        assert!(authorize(&me, Action::Read, SCHOOL_A).is_ok());
        assert_eq!(authorize(&me, Action::Write, SCHOOL_A), Err(Denied));
        assert_eq!(authorize(&other, Action::Read, SCHOOL_A), Err(Denied));
    }

    #[test]
    fn employers_write_their_own_organisation_and_bureaus_oversee_it() {
        let employer = Resource::Org {
            code: "91500105MA5U0001X0",
            division: "500105",
        };
        let own = principal(Role::Employer, Scope::Org("91500105MA5U0001X0".into()));
        let other = principal(Role::Employer, Scope::Org("91510104MA6C0001X0".into()));
        assert!(authorize(&own, Action::Write, employer).is_ok());
        assert_eq!(authorize(&other, Action::Read, employer), Err(Denied));
        // Verifying and approving is the bureau's, never the employer's own.
        let oversight = Resource::Oversight { division: "500105" };
        assert_eq!(authorize(&own, Action::Write, oversight), Err(Denied));
        let district = principal(Role::Bureau, Scope::Division("500105".into()));
        let sichuan = principal(Role::Bureau, Scope::Division("51".into()));
        let jo = principal(Role::JointOffice, Scope::Aggregates);
        assert!(authorize(&district, Action::Write, oversight).is_ok());
        assert_eq!(authorize(&sichuan, Action::Write, oversight), Err(Denied));
        assert_eq!(authorize(&jo, Action::Write, oversight), Err(Denied));
    }

    #[test]
    fn only_platform_admin_administers_the_node() {
        for role in Role::ALL {
            let scope = match role {
                Role::PlatformAdmin => Scope::Node,
                _ => Scope::Division("51".into()),
            };
            let allowed = authorize(
                &principal(*role, scope),
                Action::Read,
                Resource::NodeAdministration,
            )
            .is_ok();
            assert_eq!(allowed, *role == Role::PlatformAdmin, "{role}");
        }
    }

    #[test]
    fn role_slugs_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(*role));
        }
        for kind in OrgKind::ALL {
            assert_eq!(OrgKind::parse(kind.as_str()), Some(*kind));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
