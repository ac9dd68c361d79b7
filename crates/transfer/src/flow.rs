//! The transfer workflow as pure rules: the steps, who acts at each, the states and the
//! messages the two nodes exchange. No IO.
//!
//! The chain, as schools and bureaus run it: receiving school applies → receiving district
//! bureau → (receiving provincial authority, if that member adds the step) → sending school
//! → sending district bureau → (sending provincial authority) → the record moves → receiving
//! school confirms enrolment. Each node runs the steps of its own side and tells the other
//! through the outbox; each node's chain is its own configuration.

use kernel::access::{Principal, Role, Scope};
use serde::{Deserialize, Serialize};

kernel::labelled_enum! {
    /// A step that waits for someone's decision.
    #[derive(utoipa::ToSchema)]
    Step {
        ReceivingDistrict = "receiving-district", "转入地教育局审核", "Receiving district bureau";
        ReceivingProvince = "receiving-province", "转入地省级教育行政部门审核", "Receiving provincial authority";
        SendingSchool = "sending-school", "转出学校同意", "Sending school";
        SendingDistrict = "sending-district", "转出地教育局审核", "Sending district bureau";
        SendingProvince = "sending-province", "转出地省级教育行政部门审核", "Sending provincial authority";
        ReceivingConfirm = "receiving-confirm", "转入学校确认报到", "Receiving school confirms enrolment";
    }
}

kernel::labelled_enum! {
    /// Where a transfer stands, on one node's copy.
    #[derive(utoipa::ToSchema)]
    State {
        Pending = "pending", "审核中", "Under review";
        HandingOver = "handing-over", "档案移交中", "File being handed over";
        Arrived = "arrived", "已转入，待报到", "Arrived, awaiting enrolment";
        Completed = "completed", "已完成", "Completed";
        Rejected = "rejected", "已驳回", "Rejected";
        Cancelled = "cancelled", "已撤销", "Cancelled";
    }
}

kernel::labelled_enum! {
    /// Which part this node plays.
    #[derive(utoipa::ToSchema)]
    Side {
        Receiving = "receiving", "转入", "Receiving";
        Sending = "sending", "转出", "Sending";
    }
}

impl State {
    /// Completed, rejected and cancelled transfers never change again.
    pub fn is_final(self) -> bool {
        matches!(self, State::Completed | State::Rejected | State::Cancelled)
    }
}

/// Who acts at a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    School,
    District,
    Province,
}

impl Step {
    pub fn side(self) -> Side {
        match self {
            Step::ReceivingDistrict | Step::ReceivingProvince | Step::ReceivingConfirm => {
                Side::Receiving
            }
            Step::SendingSchool | Step::SendingDistrict | Step::SendingProvince => Side::Sending,
        }
    }

    pub fn level(self) -> Level {
        match self {
            Step::SendingSchool | Step::ReceivingConfirm => Level::School,
            Step::ReceivingDistrict | Step::SendingDistrict => Level::District,
            Step::ReceivingProvince | Step::SendingProvince => Level::Province,
        }
    }
}

/// The level of a signed-in user, if they act in transfers at all: school administrators
/// at schools, bureaus by the length of their division prefix (2 digits: a province).
pub fn level_of(who: &Principal) -> Option<Level> {
    match (&who.scope, who.role) {
        (Scope::Org(_), Role::SchoolAdmin) => Some(Level::School),
        (Scope::Division(prefix), Role::Bureau) if prefix.len() <= 2 => Some(Level::Province),
        (Scope::Division(_), Role::Bureau) => Some(Level::District),
        _ => None,
    }
}

/// The level one up from `level`, which overdue items are flagged to.
pub fn escalation(level: Level) -> Option<Level> {
    match level {
        Level::School => Some(Level::District),
        Level::District => Some(Level::Province),
        Level::Province => None,
    }
}

/// One member's approval chain: its own steps on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Chain {
    /// The member adds a provincial step after the district bureau's, on both sides.
    pub provincial_step: bool,
}

impl Chain {
    /// The steps this member runs as `side`, in order (enrolment confirmation excluded).
    pub fn steps(self, side: Side) -> Vec<Step> {
        let mut steps = match side {
            Side::Receiving => vec![Step::ReceivingDistrict],
            Side::Sending => vec![Step::SendingSchool, Step::SendingDistrict],
        };
        if self.provincial_step {
            steps.push(match side {
                Side::Receiving => Step::ReceivingProvince,
                Side::Sending => Step::SendingProvince,
            });
        }
        steps
    }

    pub fn first(self, side: Side) -> Step {
        self.steps(side)[0]
    }

    /// The step after `step` on this member's side; `None` when `step` was its last.
    pub fn next(self, step: Step) -> Option<Step> {
        let steps = self.steps(step.side());
        let at = steps.iter().position(|s| *s == step)?;
        steps.get(at + 1).copied()
    }
}

/// What a user does to a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    Approve,
    Reject,
    Cancel,
    Confirm,
}

impl Decision {
    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "approve" => Some(Decision::Approve),
            "reject" => Some(Decision::Reject),
            "cancel" => Some(Decision::Cancel),
            "confirm" => Some(Decision::Confirm),
            _ => None,
        }
    }
}

/// Whether `decision` applies to a transfer in `state` at `step` on `side`; the message
/// says why not. Who may take it is checked separately (scope and level).
pub fn applies(
    decision: Decision,
    side: Side,
    state: State,
    step: Option<Step>,
) -> Result<(), &'static str> {
    let own_step = step.is_some_and(|s| s.side() == side);
    match decision {
        Decision::Approve | Decision::Reject
            if state == State::Pending && own_step && step != Some(Step::ReceivingConfirm) =>
        {
            Ok(())
        }
        Decision::Cancel if side == Side::Receiving && state == State::Pending => Ok(()),
        Decision::Confirm if state == State::Arrived && step == Some(Step::ReceivingConfirm) => {
            Ok(())
        }
        Decision::Cancel if side == Side::Sending => Err("只有转入学校可以撤销申请"),
        Decision::Cancel => Err("学籍已开始移交，不能再撤销"),
        Decision::Confirm => Err("学籍尚未转入，不能确认报到"),
        _ if state.is_final() => Err("该转学已办结"),
        _ => Err("该转学目前不在您所在环节"),
    }
}

/// A transfer as the receiving node sends it to the sending node.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Head {
    pub id: String,
    pub student_no: String,
    pub student_name: String,
    pub from_member: String,
    pub to_member: String,
    pub to_school: String,
    pub to_school_name: String,
    pub to_division: String,
    pub to_grade: String,
    pub reason: String,
    pub documents: String,
    pub applicant: String,
}

/// What the two nodes tell each other (`transfer.message`, through the outbox).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Message {
    /// Receiving → sending: the receiving side approved; the sending side's steps begin.
    Request { head: Head },
    /// Sending → receiving: a sending step was approved; `next` waits now.
    Progress {
        id: String,
        step: Step,
        next: Step,
        actor: String,
    },
    /// Sending → receiving: refused at `step` (or at once: the record is not active there).
    Rejected {
        id: String,
        step: Option<Step>,
        actor: String,
        reason: String,
    },
    /// Receiving → sending: the applicant withdrew before the record moved.
    Cancelled {
        id: String,
        actor: String,
        reason: String,
    },
    /// Sending → receiving: the last approval landed; the record is locked and this is it.
    Handoff {
        id: String,
        from_school: String,
        from_school_name: String,
        file: registry::transfer::StudentFile,
    },
    /// Receiving → sending: the record is active here now; end it there.
    Received { id: String },
    /// Receiving → sending: the record was not taken (the transfer had been cancelled, or
    /// it cannot be created here); give it back to its school.
    Declined {
        id: String,
        state: State,
        reason: String,
    },
    /// Receiving → sending: the student enrolled.
    Confirmed { id: String, actor: String },
}

impl Message {
    pub fn transfer_id(&self) -> &str {
        match self {
            Message::Request { head } => &head.id,
            Message::Progress { id, .. }
            | Message::Rejected { id, .. }
            | Message::Cancelled { id, .. }
            | Message::Handoff { id, .. }
            | Message::Received { id }
            | Message::Declined { id, .. }
            | Message::Confirmed { id, .. } => id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_with_and_without_the_provincial_step() {
        let plain = Chain::default();
        assert_eq!(plain.steps(Side::Receiving), vec![Step::ReceivingDistrict]);
        assert_eq!(plain.next(Step::ReceivingDistrict), None);
        assert_eq!(plain.next(Step::SendingSchool), Some(Step::SendingDistrict));
        assert_eq!(plain.next(Step::SendingDistrict), None);
        let provincial = Chain {
            provincial_step: true,
        };
        assert_eq!(
            provincial.next(Step::ReceivingDistrict),
            Some(Step::ReceivingProvince)
        );
        assert_eq!(
            provincial.next(Step::SendingDistrict),
            Some(Step::SendingProvince)
        );
        assert_eq!(provincial.next(Step::SendingProvince), None);
    }

    #[test]
    fn decisions_apply_only_at_their_side_and_state() {
        use Decision::*;
        assert!(
            applies(
                Approve,
                Side::Receiving,
                State::Pending,
                Some(Step::ReceivingDistrict)
            )
            .is_ok()
        );
        // The receiving node's copy waits while the sending side decides.
        assert!(
            applies(
                Approve,
                Side::Receiving,
                State::Pending,
                Some(Step::SendingSchool)
            )
            .is_err()
        );
        assert!(
            applies(
                Approve,
                Side::Sending,
                State::Pending,
                Some(Step::SendingSchool)
            )
            .is_ok()
        );
        assert!(
            applies(
                Cancel,
                Side::Receiving,
                State::Pending,
                Some(Step::SendingDistrict)
            )
            .is_ok()
        );
        assert!(
            applies(
                Cancel,
                Side::Receiving,
                State::Arrived,
                Some(Step::ReceivingConfirm)
            )
            .is_err()
        );
        assert!(
            applies(
                Cancel,
                Side::Sending,
                State::Pending,
                Some(Step::SendingSchool)
            )
            .is_err()
        );
        assert!(
            applies(
                Confirm,
                Side::Receiving,
                State::Arrived,
                Some(Step::ReceivingConfirm)
            )
            .is_ok()
        );
        assert!(
            applies(
                Approve,
                Side::Receiving,
                State::Arrived,
                Some(Step::ReceivingConfirm)
            )
            .is_err()
        );
        assert!(applies(Reject, Side::Sending, State::HandingOver, None).is_err());
        assert!(applies(Reject, Side::Sending, State::Rejected, None).is_err());
    }

    #[test]
    fn levels_follow_role_and_scope() {
        let p = |role, scope| Principal {
            user_id: 1,
            username: "u".into(),
            role,
            scope,
        };
        assert_eq!(
            level_of(&p(Role::SchoolAdmin, Scope::Org("1".into()))),
            Some(Level::School)
        );
        assert_eq!(level_of(&p(Role::Teacher, Scope::Org("1".into()))), None);
        assert_eq!(
            level_of(&p(Role::Bureau, Scope::Division("51".into()))),
            Some(Level::Province)
        );
        assert_eq!(
            level_of(&p(Role::Bureau, Scope::Division("5101".into()))),
            Some(Level::District)
        );
        assert_eq!(
            level_of(&p(Role::Bureau, Scope::Division("500101".into()))),
            Some(Level::District)
        );
        assert_eq!(level_of(&p(Role::PlatformAdmin, Scope::Node)), None);
    }

    #[test]
    fn messages_round_trip_as_tagged_json() {
        let m = Message::Progress {
            id: "t1".into(),
            step: Step::SendingSchool,
            next: Step::SendingDistrict,
            actor: "sc.school".into(),
        };
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["kind"], "progress");
        assert_eq!(json["step"], "sending-school");
        assert_eq!(serde_json::from_value::<Message>(json).unwrap(), m);
    }
}
