//! Graduate employment on the portal (action plan §二.2 毕业生就业信息, §五.8 大学生就业信息
//! 共享平台): 就业岗位 (the search that answers for every node, one job, 投递简历), employers'
//! registration and 招聘管理 (their jobs, the job form, the applications they received with
//! the applicant's diploma verified), the bureaus' 就业审核 (employers and jobs awaiting them)
//! and the graduates' 我的求职 (their record, their résumé, their applications).
//!
//! Every decision is the `employment` crate's; the JSON API (`crate::employment`) calls the
//! same functions. This module parses forms, shows each problem next to its field, renders.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use employment::applications::{Application, ApplicationStatus};
use employment::employers::{Employer, EmployerStatus, Registration};
use employment::graduates::{Destination, Profile};
use employment::jobs::{Job, JobDecision, JobInput, JobStatus, Listing, place_name};
use employment::service::{FederatedResult, JobHit, JobQuery, PublicJob};
use employment::{EmployerType, EmploymentError, Level, Problem};
use kernel::Lang;
use kernel::access::{Principal, Role, Scope};
use platform::users::SessionUser;
use search::Facets;
use serde::Deserialize;

use crate::auth::{self, PageCtx};
use crate::employment::{application_detail, decide_application, diploma_issuer};
use crate::i18n::{self, Strings};
use crate::pages::{PageError, Shell, render};
use crate::{AppError, AppState};

/// Jobs per page of results.
const PAGE: usize = 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/jobs", get(search_page))
        .route("/jobs/review", get(job_review_page))
        .route("/jobs/{id}", get(job_page))
        .route("/jobs/{id}/apply", post(apply_page))
        .route("/jobs/{id}/decision", post(job_decision_page))
        .route(
            "/employers/register",
            get(register_form).post(register_page),
        )
        .route("/employers/review", get(employer_review_page))
        .route("/employers/{code}/review", post(employer_decision_page))
        .route("/employer/jobs", get(my_jobs_page).post(create_page))
        .route("/employer/jobs/new", get(new_job_page))
        .route(
            "/employer/jobs/{id}/edit",
            get(edit_job_page).post(update_page),
        )
        .route("/employer/applications", get(applications_page))
        .route("/employer/applications/{id}", get(application_page))
        .route(
            "/employer/applications/{id}/decision",
            post(application_decision_page),
        )
        .route("/graduate", get(graduate_page))
        .route("/graduate/profile", post(profile_page))
        .route("/graduate/applications/{id}", post(respond_page))
        .route("/graduate/subscriptions", post(subscribe_page))
        .route("/graduate/subscriptions/{id}", post(subscription_page))
}

// ---------------------------------------------------------------------------------------
// Navigation and the home page

/// The employment entries of the navigation: the role's own (招聘管理, 就业审核, 我的求职),
/// then 就业岗位 for everyone.
pub(crate) fn nav(
    who: Option<&Principal>,
    s: &'static Strings,
    nav: &mut Vec<(String, &'static str)>,
) {
    if let Some(p) = who {
        match p.role {
            Role::Employer => nav.push(("/employer/jobs".into(), s.nav_recruitment)),
            Role::Bureau | Role::PlatformAdmin => {
                nav.push(("/jobs/review".into(), s.nav_employment_review))
            }
            Role::Student => nav.push(("/graduate".into(), s.nav_job_search)),
            Role::JointOffice | Role::SchoolAdmin | Role::Teacher => {}
        }
        if employment::stats::may_see(p) {
            nav.push(("/employment/stats".into(), s.nav_employment_stats));
        }
    }
    nav.push(("/jobs".into(), s.nav_jobs));
}

pub(crate) struct HomeLink {
    pub href: &'static str,
    pub text: String,
}

/// What waits for a bureau's review, for its home page (like 待我办理 of transfers); nothing
/// for those who review nothing.
pub(crate) async fn home_links(
    state: &AppState,
    who: &Principal,
    lang: Lang,
) -> Result<Vec<HomeLink>, AppError> {
    let t = texts(lang);
    let (jobs, employers) = match review_counts(state, who).await {
        Ok(counts) => counts,
        Err(AppError::Forbidden) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(vec![
        HomeLink {
            href: "/jobs/review",
            text: format!("{}：{jobs}", t.jobs_waiting),
        },
        HomeLink {
            href: "/employers/review",
            text: format!("{}：{employers}", t.employers_waiting),
        },
    ])
}

async fn review_counts(state: &AppState, who: &Principal) -> Result<(usize, usize), AppError> {
    let jobs = employment::jobs::list(&state.db, who, Listing::ToReview)
        .await?
        .len();
    let employers = employment::employers::list(&state.db, who, Some(EmployerStatus::Pending))
        .await?
        .len();
    Ok((jobs, employers))
}

// ---------------------------------------------------------------------------------------
// Texts

/// The pages' own strings, once per language (a missing translation does not compile).
pub struct Texts {
    jobs_title: &'static str,
    jobs_intro: &'static str,
    employer_cta: &'static str,
    plan_22: &'static str,
    plan_22_source: &'static str,
    plan_58: &'static str,
    plan_58_source: &'static str,
    q_label: &'static str,
    q_hint: &'static str,
    search: &'static str,
    any: &'static str,
    city: &'static str,
    level: &'static str,
    salary: &'static str,
    employer_type: &'static str,
    major: &'static str,
    level_note: &'static str,
    clear_filters: &'static str,
    total: &'static str,
    total_capped: &'static str,
    no_jobs: &'static str,
    deadline: &'static str,
    source: &'static str,
    source_node: &'static str,
    page: &'static str,
    unanswered: &'static str,
    relaxed: &'static str,
    only_from: &'static str,
    employer: &'static str,
    place: &'static str,
    majors: &'static str,
    majors_any: &'static str,
    headcount: &'static str,
    contact: &'static str,
    published: &'static str,
    description: &'static str,
    status: &'static str,
    review_note: &'static str,
    decisions: &'static str,
    note: &'static str,
    note_hint: &'static str,
    submit: &'static str,
    approve: &'static str,
    send_back: &'static str,
    close: &'static str,
    edit: &'static str,
    see_applications: &'static str,
    apply_title: &'static str,
    apply_intro: &'static str,
    apply: &'static str,
    applied: &'static str,
    sign_in_to_apply: &'static str,
    not_graduate: &'static str,
    needs_phone: &'static str,
    fill_profile: &'static str,
    back_to_jobs: &'static str,
    register_title: &'static str,
    register_intro: &'static str,
    credit_code: &'static str,
    credit_code_hint: &'static str,
    employer_name: &'static str,
    division: &'static str,
    division_hint: &'static str,
    address: &'static str,
    contact_name: &'static str,
    contact_phone: &'static str,
    contact_phone_hint: &'static str,
    username_hint: &'static str,
    password_hint: &'static str,
    register: &'static str,
    fix_problems: &'static str,
    registered_title: &'static str,
    registered_body: &'static str,
    sign_in: &'static str,
    recruitment: &'static str,
    my_jobs: &'static str,
    my_jobs_none: &'static str,
    new_job: &'static str,
    received: &'static str,
    edit_job: &'static str,
    title: &'static str,
    description_hint: &'static str,
    work_place: &'static str,
    work_place_hint: &'static str,
    salary_min: &'static str,
    salary_max: &'static str,
    min_level: &'static str,
    choose: &'static str,
    majors_hint: &'static str,
    deadline_hint: &'static str,
    contact_hint: &'static str,
    save_draft: &'static str,
    submit_review: &'static str,
    edit_republish: &'static str,
    updated: &'static str,
    actions: &'static str,
    applications_title: &'static str,
    applications_none: &'static str,
    job_filter: &'static str,
    all_jobs: &'static str,
    filter: &'static str,
    applicant: &'static str,
    applicant_level: &'static str,
    applied_for: &'static str,
    institution: &'static str,
    applied_at: &'static str,
    from_member: &'static str,
    phone: &'static str,
    resume: &'static str,
    diploma: &'static str,
    diploma_none: &'static str,
    diploma_ok: &'static str,
    diploma_bad: &'static str,
    diploma_issuer: &'static str,
    diploma_facts: &'static str,
    node_suffix: &'static str,
    move_to: &'static str,
    employer_note: &'static str,
    back_to_applications: &'static str,
    review_title: &'static str,
    review_intro: &'static str,
    tab_jobs: &'static str,
    tab_employers: &'static str,
    jobs_waiting: &'static str,
    employers_waiting: &'static str,
    review_jobs_none: &'static str,
    review_employers_none: &'static str,
    submitted_at: &'static str,
    registered_at: &'static str,
    verify: &'static str,
    reject: &'static str,
    reason: &'static str,
    reason_hint: &'static str,
    graduate_title: &'static str,
    graduate_intro: &'static str,
    my_record: &'static str,
    record_note: &'static str,
    name: &'static str,
    citizen_id: &'static str,
    study_form: &'static str,
    graduation_date: &'static str,
    diploma_no: &'static str,
    not_recorded: &'static str,
    destination: &'static str,
    profile: &'static str,
    profile_intro: &'static str,
    skills: &'static str,
    preferred_cities: &'static str,
    save: &'static str,
    saved: &'static str,
    my_applications: &'static str,
    my_applications_none: &'static str,
    browse_jobs: &'static str,
    not_graduate_page: &'static str,
}

const ZH: Texts = Texts {
    jobs_title: "就业岗位",
    jobs_intro: "重庆、四川两地经教育行政部门审核发布的招聘岗位，一次检索两省市。",
    employer_cta: "招聘单位：注册并通过核验后即可发布岗位 →",
    plan_22: "“建设成渝地区双城经济圈教育共享公共服务平台，在学生学籍管理、毕业生就业信息、教师资格证书查询等方面实现数据共享。”",
    plan_22_source: "《成渝地区双城经济圈教育协同发展行动计划》二、2",
    plan_58: "“开展大学生就业指导服务能力提升行动，建设大学生就业信息共享平台。”",
    plan_58_source: "同上，五、8",
    q_label: "关键词",
    q_hint: "岗位、单位、专业或地点，如：重庆 Java 开发",
    search: "搜索",
    any: "不限",
    city: "工作地区",
    level: "我的学历层次",
    salary: "月薪",
    employer_type: "单位性质",
    major: "专业",
    level_note: "按学历层次筛选时，显示该学历可以投递的岗位（学历要求不高于所选层次）。括号内为符合当前条件的岗位数。",
    clear_filters: "清除筛选条件",
    total: "共找到 {} 个岗位",
    total_capped: "，最多显示前 {} 个，请增加关键词或筛选条件",
    no_jobs: "没有找到符合条件的岗位。可以减少关键词或放宽筛选条件再试。",
    deadline: "截止",
    source: "岗位来源",
    source_node: "节点",
    page: "第 {} 页",
    unanswered: "{}节点暂时无法连接",
    relaxed: "（没有同时包含全部关键词的岗位，以下为部分匹配）",
    only_from: "，以下仅为{}的岗位。",
    employer: "招聘单位",
    place: "工作地点",
    majors: "专业要求",
    majors_any: "专业不限",
    headcount: "招聘人数",
    contact: "联系方式",
    published: "发布日期",
    description: "岗位描述",
    status: "状态",
    review_note: "审核意见",
    decisions: "办理",
    note: "意见或原因",
    note_hint: "退回修改时必须填写原因",
    submit: "提交审核",
    approve: "批准发布",
    send_back: "退回修改",
    close: "关闭岗位",
    edit: "编辑",
    see_applications: "查看收到的申请",
    apply_title: "投递简历",
    apply_intro: "投递时，用人单位将收到您的姓名、院校、专业、学历层次、手机号、简历，以及可核验的学历电子证书（由您的院校所在省份节点签发）。投递记录可在“我的求职”中查看。",
    apply: "投递简历",
    applied: "您已投递该岗位，当前状态：",
    sign_in_to_apply: "毕业生登录后可投递简历",
    not_graduate: "只有所在院校已登记的毕业生可以投递岗位。",
    needs_phone: "投递前请先在“我的求职”中填写手机号，以便用人单位联系您。",
    fill_profile: "填写我的简历",
    back_to_jobs: "返回就业岗位",
    register_title: "用人单位注册",
    register_intro: "注册后，由单位注册地所在区县或市、省级教育行政部门核验单位信息；核验通过后即可发布岗位（核验前可以登录并保存岗位草稿）。",
    credit_code: "统一社会信用代码",
    credit_code_hint: "18 位，由数字和大写字母组成（不含 I、O、S、V、Z），见营业执照或登记证书",
    employer_name: "单位名称",
    division: "注册地行政区划代码",
    division_hint: "6 位区县代码，可输入后从列表选择，如 500103（重庆市渝中区）",
    address: "地址",
    contact_name: "联系人",
    contact_phone: "联系电话",
    contact_phone_hint: "11 位手机号或带区号的固定电话，如 023-63861234",
    username_hint: "3–64 位小写字母、数字或 . _ -，用于登录",
    password_hint: "至少 8 位",
    register: "提交注册",
    fix_problems: "请修改以下标出的问题后重新提交：",
    registered_title: "注册已提交",
    registered_body: "单位信息已提交，等待教育行政部门核验。您现在就可以用注册的用户名登录，查看核验进度并保存岗位草稿；核验通过后即可提交岗位审核。",
    sign_in: "登录",
    recruitment: "招聘管理",
    my_jobs: "本单位的岗位",
    my_jobs_none: "还没有岗位。",
    new_job: "发布新岗位",
    received: "收到的申请",
    edit_job: "编辑岗位",
    title: "岗位名称",
    description_hint: "工作内容、任职要求、待遇等，10–5000 字",
    work_place: "工作地点（行政区划代码）",
    work_place_hint: "6 位区县代码，可输入后从列表选择",
    salary_min: "最低月薪（元）",
    salary_max: "最高月薪（元）",
    min_level: "最低学历要求",
    choose: "请选择",
    majors_hint: "多个专业用顿号“、”分隔；不填为专业不限",
    deadline_hint: "今天起一年以内",
    contact_hint: "联系人与电话或邮箱",
    save_draft: "保存草稿",
    submit_review: "提交审核",
    edit_republish: "修改已发布或审核中的岗位后，岗位将重新进入审核。",
    updated: "更新时间",
    actions: "操作",
    applications_title: "收到的申请",
    applications_none: "还没有收到申请。",
    job_filter: "岗位",
    all_jobs: "全部岗位",
    filter: "筛选",
    applicant: "申请人",
    applicant_level: "学历层次",
    applied_for: "应聘岗位",
    institution: "院校",
    applied_at: "投递时间",
    from_member: "来自",
    phone: "手机号",
    resume: "个人简历",
    diploma: "学历证书",
    diploma_none: "未附学历电子证书（院校未登记毕业证书编号，或签发节点暂不可用）",
    diploma_ok: "已核验 ✓",
    diploma_bad: "核验未通过 ✗",
    diploma_issuer: "签发",
    diploma_facts: "证书内容",
    node_suffix: "节点",
    move_to: "处理申请",
    employer_note: "给申请人的说明（选填，申请人可见）",
    back_to_applications: "返回收到的申请",
    review_title: "就业审核",
    review_intro: "核验辖区内注册的用人单位，审核其提交的招聘岗位；批准后岗位即在川渝两地公开检索。",
    tab_jobs: "待审核岗位",
    tab_employers: "用人单位认证",
    jobs_waiting: "待我审核的岗位",
    employers_waiting: "待认证的用人单位",
    review_jobs_none: "目前没有等待您审核的岗位。",
    review_employers_none: "辖区内还没有用人单位注册。",
    submitted_at: "提交时间",
    registered_at: "注册时间",
    verify: "通过",
    reject: "不通过",
    reason: "原因",
    reason_hint: "不通过时必须填写原因",
    graduate_title: "我的求职",
    graduate_intro: "您的毕业生登记信息、简历和投递记录。投递到外省岗位的申请，状态由用人单位所在节点实时更新。",
    my_record: "毕业生登记信息",
    record_note: "由您的院校登记；如有错误请联系院校就业指导部门更正。证件号码已脱敏显示。",
    name: "姓名",
    citizen_id: "身份证件号码",
    study_form: "学习形式",
    graduation_date: "毕业日期",
    diploma_no: "毕业证书编号",
    not_recorded: "未登记",
    destination: "毕业去向",
    profile: "我的简历",
    profile_intro: "投递岗位时发送给用人单位。",
    skills: "技能特长",
    preferred_cities: "意向城市",
    save: "保存简历",
    saved: "简历已保存。",
    my_applications: "我的投递",
    my_applications_none: "还没有投递记录。",
    browse_jobs: "浏览就业岗位",
    not_graduate_page: "您的账号没有登记为毕业生。毕业生名单由所在院校上传，如有疑问请联系院校就业指导部门。",
};

const EN: Texts = Texts {
    jobs_title: "Jobs",
    jobs_intro: "Jobs in Chongqing and Sichuan, published after review by the education authorities; one search covers both.",
    employer_cta: "Employers: register, and post jobs once verified →",
    plan_22: "“Build a shared education public-service platform for the Chengdu–Chongqing economic circle, sharing data on student status, graduate employment and teacher qualification certificates.”",
    plan_22_source: "Joint action plan (2021), §2.2",
    plan_58: "“Improve employment guidance for university students and build a shared employment information platform for them.”",
    plan_58_source: "ibid., §5.8",
    q_label: "Keywords",
    q_hint: "Job, employer, major or place, e.g. 重庆 Java 开发",
    search: "Search",
    any: "Any",
    city: "Region",
    level: "My level",
    salary: "Monthly salary",
    employer_type: "Employer type",
    major: "Major",
    level_note: "Filtering by level shows the jobs open to that level (asking for no more). Numbers are the jobs matching the current search.",
    clear_filters: "Clear the filters",
    total: "{} jobs found",
    total_capped: "; only the first {} are shown, add words or filters",
    no_jobs: "No matching jobs. Try fewer words or wider filters.",
    deadline: "Apply by",
    source: "Held by",
    source_node: "node",
    page: "Page {}",
    unanswered: "The {} node cannot be reached",
    relaxed: " (no job has every word; these have some of them)",
    only_from: "; only jobs from {} are shown.",
    employer: "Employer",
    place: "Place of work",
    majors: "Majors",
    majors_any: "Any major",
    headcount: "Openings",
    contact: "Contact",
    published: "Published",
    description: "Description",
    status: "Status",
    review_note: "Review note",
    decisions: "Decide",
    note: "Note or reason",
    note_hint: "A reason is required to send it back",
    submit: "Submit for review",
    approve: "Approve and publish",
    send_back: "Send back",
    close: "Close the job",
    edit: "Edit",
    see_applications: "Applications received",
    apply_title: "Apply",
    apply_intro: "Applying sends the employer your name, institution, major, level, phone number, résumé and a verifiable diploma credential (issued by the node of your institution's province). Your applications are under “My job search”.",
    apply: "Apply",
    applied: "You applied for this job. Status: ",
    sign_in_to_apply: "Graduates sign in to apply",
    not_graduate: "Only graduates registered by their institution can apply.",
    needs_phone: "Add your phone number under “My job search” first, so the employer can reach you.",
    fill_profile: "Fill in my résumé",
    back_to_jobs: "Back to jobs",
    register_title: "Employer registration",
    register_intro: "After you register, the education authority of the place where the employer is registered verifies it; once verified you can publish jobs (before that you can sign in and keep drafts).",
    credit_code: "Unified social credit code",
    credit_code_hint: "18 digits and capital letters (never I, O, S, V or Z), as on the business licence",
    employer_name: "Employer name",
    division: "Registered division code",
    division_hint: "6-digit county code; type and pick from the list, e.g. 500103 (重庆市渝中区)",
    address: "Address",
    contact_name: "Contact person",
    contact_phone: "Contact phone",
    contact_phone_hint: "An 11-digit mobile or a landline with its area code, e.g. 023-63861234",
    username_hint: "3–64 lowercase letters, digits or . _ -, to sign in",
    password_hint: "At least 8 characters",
    register: "Register",
    fix_problems: "Please correct the problems marked below:",
    registered_title: "Registration received",
    registered_body: "Your employer is awaiting verification by the education authority. You can sign in now with your user name to follow it and keep drafts; once verified you can submit jobs for review.",
    sign_in: "Sign in",
    recruitment: "Recruitment",
    my_jobs: "Our jobs",
    my_jobs_none: "No jobs yet.",
    new_job: "Post a new job",
    received: "Applications received",
    edit_job: "Edit the job",
    title: "Job title",
    description_hint: "Duties, requirements, pay and benefits; 10–5000 characters",
    work_place: "Place of work (division code)",
    work_place_hint: "6-digit county code; type and pick from the list",
    salary_min: "Minimum monthly salary (yuan)",
    salary_max: "Maximum monthly salary (yuan)",
    min_level: "Minimum level",
    choose: "Choose",
    majors_hint: "Separate majors with 、; leave empty for any major",
    deadline_hint: "Within a year from today",
    contact_hint: "Contact person and phone or e-mail",
    save_draft: "Save draft",
    submit_review: "Submit for review",
    edit_republish: "Changing a published job or one under review sends it back to review.",
    updated: "Updated",
    actions: "Actions",
    applications_title: "Applications received",
    applications_none: "No applications yet.",
    job_filter: "Job",
    all_jobs: "All jobs",
    filter: "Filter",
    applicant: "Applicant",
    applicant_level: "Level",
    applied_for: "Applying for",
    institution: "Institution",
    applied_at: "Applied",
    from_member: "From",
    phone: "Phone",
    resume: "Résumé",
    diploma: "Diploma",
    diploma_none: "No diploma credential attached (no diploma number registered, or the issuing node was unavailable)",
    diploma_ok: "Verified ✓",
    diploma_bad: "Not verified ✗",
    diploma_issuer: "Issued by",
    diploma_facts: "Diploma",
    node_suffix: " node",
    move_to: "Move the application on",
    employer_note: "Note to the applicant (optional, they see it)",
    back_to_applications: "Back to applications",
    review_title: "Employment review",
    review_intro: "Verify the employers registered in your area and review the jobs they submit; approved jobs can be searched in both provinces.",
    tab_jobs: "Jobs to review",
    tab_employers: "Employer verification",
    jobs_waiting: "Jobs waiting for my review",
    employers_waiting: "Employers awaiting verification",
    review_jobs_none: "No jobs wait for your review.",
    review_employers_none: "No employers have registered in your area.",
    submitted_at: "Submitted",
    registered_at: "Registered",
    verify: "Verify",
    reject: "Reject",
    reason: "Reason",
    reason_hint: "A reason is required to reject",
    graduate_title: "My job search",
    graduate_intro: "Your graduate record, your résumé and your applications. Applications to the other province's jobs are updated from the employer's node.",
    my_record: "Graduate record",
    record_note: "Registered by your institution; ask its careers office to correct anything wrong. The ID number is masked.",
    name: "Name",
    citizen_id: "ID number",
    study_form: "Mode of study",
    graduation_date: "Graduation date",
    diploma_no: "Diploma number",
    not_recorded: "Not recorded",
    destination: "Destination",
    profile: "My résumé",
    profile_intro: "Sent to the employer with each application.",
    skills: "Skills",
    preferred_cities: "Preferred cities",
    save: "Save résumé",
    saved: "Résumé saved.",
    my_applications: "My applications",
    my_applications_none: "No applications yet.",
    browse_jobs: "Browse jobs",
    not_graduate_page: "Your account is not registered as a graduate. Graduate lists are uploaded by institutions; ask your careers office.",
};

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

// ---------------------------------------------------------------------------------------
// Shared pieces

fn here(state: &AppState) -> &str {
    &state.config.member
}

/// A member as people call it: 重庆 for CQ, 四川 for SC, otherwise the directory's name.
pub(crate) fn member_name(state: &AppState, code: &str, lang: Lang) -> String {
    match (code, lang) {
        ("CQ", Lang::Zh) => "重庆".into(),
        ("CQ", Lang::En) => "Chongqing".into(),
        ("SC", Lang::Zh) => "四川".into(),
        ("SC", Lang::En) => "Sichuan".into(),
        _ => state
            .federation
            .as_ref()
            .and_then(|f| f.current().ok())
            .and_then(|c| c.directory.member(code).map(|m| m.name.clone()))
            .unwrap_or_else(|| code.to_owned()),
    }
}

/// The members of the federation in force (this one alone when it runs alone).
fn members(state: &AppState) -> Vec<String> {
    state
        .federation
        .as_ref()
        .and_then(|f| f.current().ok())
        .map(|c| c.directory.members.iter().map(|m| m.code.clone()).collect())
        .filter(|m: &Vec<String>| !m.is_empty())
        .unwrap_or_else(|| vec![here(state).to_owned()])
}

/// A member badge: its code and name ("CQ 重庆").
struct Member {
    code: String,
    name: String,
}

impl Member {
    fn new(state: &AppState, code: &str, lang: Lang) -> Member {
        Member {
            code: code.to_owned(),
            name: member_name(state, code, lang),
        }
    }
}

/// A piece of text, marked when the search matched it. The template escapes both.
pub(crate) struct Piece {
    pub text: String,
    pub mark: bool,
}

/// Cuts `text` at the byte ranges a hit gives; ranges that are empty, out of bounds or not on
/// character boundaries are ignored, overlapping and adjacent ones merged. The text is never
/// treated as HTML: each piece is escaped where it is shown.
pub(crate) fn highlight(text: &str, ranges: &[(usize, usize)]) -> Vec<Piece> {
    let mut ranges: Vec<(usize, usize)> = ranges
        .iter()
        .copied()
        .filter(|&(a, b)| {
            a < b && b <= text.len() && text.is_char_boundary(a) && text.is_char_boundary(b)
        })
        .collect();
    ranges.sort_unstable();
    let mut out: Vec<Piece> = Vec::new();
    let mut at = 0;
    for (a, b) in ranges {
        if b <= at {
            continue;
        }
        let a = a.max(at);
        if a > at {
            out.push(Piece {
                text: text[at..a].to_owned(),
                mark: false,
            });
        }
        match out.last_mut() {
            Some(last) if last.mark && a == at => last.text.push_str(&text[a..b]),
            _ => out.push(Piece {
                text: text[a..b].to_owned(),
                mark: true,
            }),
        }
        at = b;
    }
    if at < text.len() {
        out.push(Piece {
            text: text[at..].to_owned(),
            mark: false,
        });
    }
    out
}

/// 12,000
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

pub(crate) fn salary(min: i64, max: i64, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("{}–{} 元/月", thousands(min), thousands(max)),
        Lang::En => format!("¥{}–{} a month", thousands(min), thousands(max)),
    }
}

/// A day as people read it: 2027年6月30日, or 2027-06-30 in English.
fn day(iso: &str, lang: Lang) -> String {
    let parts: Vec<&str> = iso.splitn(3, '-').collect();
    match (lang, parts.as_slice()) {
        (Lang::Zh, [y, m, d]) => match (m.parse::<u8>(), d.parse::<u8>()) {
            (Ok(m), Ok(d)) => format!("{y}年{m}月{d}日"),
            _ => iso.to_owned(),
        },
        _ => iso.to_owned(),
    }
}

/// The day (UTC+8) of a moment.
pub(crate) fn day_of_ms(ms: i64, lang: Lang) -> String {
    let full = i18n::format_ms(ms, lang);
    full.split(' ').next().unwrap_or(&full).to_owned()
}

pub(crate) fn level_label(slug: &str, lang: Lang) -> &'static str {
    Level::parse(slug).map_or("", |l| l.label(lang))
}

fn employer_type_label(slug: &str, lang: Lang) -> &'static str {
    EmployerType::parse(slug).map_or("", |t| t.label(lang))
}

/// The salary bands of the search (`search::SalaryBand` slugs) with their names.
fn salary_bands(lang: Lang) -> [(&'static str, &'static str); 5] {
    let zh = lang == Lang::Zh;
    [
        ("lt5k", if zh { "5千以下" } else { "Under ¥5k" }),
        ("5k-8k", if zh { "5千–8千" } else { "¥5k–8k" }),
        ("8k-12k", if zh { "8千–1.2万" } else { "¥8k–12k" }),
        ("12k-20k", if zh { "1.2万–2万" } else { "¥12k–20k" }),
        ("gte20k", if zh { "2万以上" } else { "¥20k and more" }),
    ]
}

/// One option of a select.
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The problems of a form, looked up by field.
#[derive(Default)]
pub(crate) struct Problems(Vec<Problem>);

impl Problems {
    pub fn get(&self, field: &str) -> Option<String> {
        let found: Vec<&str> = self
            .0
            .iter()
            .filter(|p| p.field == field)
            .map(|p| p.message.as_str())
            .collect();
        (!found.is_empty()).then(|| found.join(" "))
    }

    /// Names the field in the problems whose message does not (an identifier's rule says
    /// "行政区划代码不能为空", the form calls the field 工作地点).
    fn named(mut self, labels: &[(&str, &str)]) -> Problems {
        for p in &mut self.0 {
            if let Some((_, label)) = labels.iter().find(|(f, _)| *f == p.field)
                && !p.message.contains(label)
            {
                p.message = format!("{label}：{}", p.message);
            }
        }
        self
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|p| p.field == field)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn messages(&self) -> Vec<&str> {
        self.0.iter().map(|p| p.message.as_str()).collect()
    }
}

/// How a failed form is shown: its problems next to their fields, a sentence above the
/// form, or an error page.
enum Refused {
    Fields(Problems),
    Message(String),
    Page(AppError),
}

fn refused(e: EmploymentError, lang: Lang) -> Refused {
    match e {
        EmploymentError::Invalid(p) => Refused::Fields(Problems(p)),
        e @ EmploymentError::State(_) => Refused::Message(kernel::Localized::message(&e, lang)),
        e => Refused::Page(e.into()),
    }
}

/// The county-level divisions of 川渝 for the code inputs' suggestion list.
static COUNTIES: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    kernel::division::counties()
        .map(|d| (d.code.clone(), d.full_name()))
        .collect()
});

fn counties() -> &'static [(String, String)] {
    COUNTIES.as_slice()
}

/// "四川省成都市武侯区" for a valid code, nothing otherwise.
fn place_of(code: &str) -> String {
    kernel::division::DivisionCode::parse(code)
        .map(|d| d.division().full_name())
        .unwrap_or_default()
}

/// A status as words and a colour class (`st-<slug>`).
struct Status {
    label: &'static str,
    class: String,
}

fn job_status(s: JobStatus, lang: Lang) -> Status {
    Status {
        label: s.label(lang),
        class: format!("st-{}", s.as_str()),
    }
}

fn application_status(s: ApplicationStatus, lang: Lang) -> Status {
    Status {
        label: s.label(lang),
        class: format!("st-{}", s.as_str()),
    }
}

// ---------------------------------------------------------------------------------------
// 就业岗位: the search

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct SearchParams {
    q: String,
    city: String,
    level: String,
    major: String,
    salary: String,
    employer_type: String,
    page: String,
}

impl SearchParams {
    /// The search a saved query stands for, as the search page's parameters.
    fn of(q: &JobQuery) -> SearchParams {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        SearchParams {
            q: q.q.clone(),
            city: text(&q.city),
            level: text(&q.level),
            major: text(&q.major),
            salary: text(&q.salary),
            employer_type: text(&q.employer_type),
            page: String::new(),
        }
    }

    fn page(&self) -> usize {
        self.page.trim().parse::<usize>().unwrap_or(1).max(1)
    }

    fn query(&self) -> JobQuery {
        let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        JobQuery {
            q: self.q.clone(),
            city: some(&self.city),
            level: some(&self.level),
            major: some(&self.major),
            salary: some(&self.salary),
            employer_type: some(&self.employer_type),
            offset: Some(
                (self.page() - 1)
                    .saturating_mul(PAGE)
                    .min(employment::service::MAX_RESULTS),
            ),
            limit: Some(PAGE),
        }
    }

    fn filtered(&self) -> bool {
        [
            &self.city,
            &self.level,
            &self.major,
            &self.salary,
            &self.employer_type,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
    }

    /// The search as a query string for another page.
    fn href(&self, page: usize) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("q", &self.q),
            ("city", &self.city),
            ("level", &self.level),
            ("major", &self.major),
            ("salary", &self.salary),
            ("employer_type", &self.employer_type),
        ] {
            if !value.trim().is_empty() {
                out.append_pair(key, value.trim());
            }
        }
        if page > 1 {
            out.append_pair("page", &page.to_string());
        }
        let query = out.finish();
        if query.is_empty() {
            "/jobs".into()
        } else {
            format!("/jobs?{query}")
        }
    }
}

struct FacetSelect {
    id: &'static str,
    name: &'static str,
    label: &'static str,
    choices: Vec<Choice>,
}

fn counted(label: &str, n: u64, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("{label}（{n}）"),
        Lang::En => format!("{label} ({n})"),
    }
}

/// A prefecture-level code (4 digits) as people read it; 重庆's two groups of counties by
/// their kind.
fn prefecture_label(code4: &str) -> String {
    let Some(d) = kernel::division::lookup(&format!("{code4}00")) else {
        return code4.to_owned();
    };
    if matches!(d.name.as_str(), "市辖区" | "县") {
        let province = d.province().name.clone();
        format!("{province}（{}）", d.name)
    } else {
        d.name.clone()
    }
}

fn facet_selects(f: &Facets, p: &SearchParams, t: &Texts, lang: Lang) -> Vec<FacetSelect> {
    let any = |current: &str| Choice {
        value: String::new(),
        label: t.any.to_owned(),
        selected: current.trim().is_empty(),
    };
    let count = |list: &[(String, u64)], key: &str| {
        list.iter().find(|(k, _)| k == key).map_or(0, |(_, n)| *n)
    };
    // Regions: each province (all of it), then its prefectures by count.
    let mut provinces: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    for (code, n) in &f.city {
        if let Some(two) = code.get(..2) {
            provinces
                .entry(two.to_owned())
                .or_default()
                .push((code.clone(), *n));
        }
    }
    let city = p.city.trim();
    let mut cities = vec![any(city)];
    for (two, prefectures) in &provinces {
        let total: u64 = prefectures.iter().map(|(_, n)| n).sum();
        let name = kernel::division::lookup(&format!("{two}0000"))
            .map_or_else(|| two.clone(), |d| d.name.clone());
        cities.push(Choice {
            value: two.clone(),
            label: counted(&name, total, lang),
            selected: city == two,
        });
        for (code, n) in prefectures {
            cities.push(Choice {
                value: code.clone(),
                label: counted(&format!("　{}", prefecture_label(code)), *n, lang),
                selected: city == code,
            });
        }
    }
    if !city.is_empty() && !cities.iter().any(|c| c.selected) {
        let name = match city.len() {
            2 => kernel::division::lookup(&format!("{city}0000")).map(|d| d.name.clone()),
            4 => Some(prefecture_label(city)),
            _ => Some(place_name(city)).filter(|n| !n.is_empty()),
        };
        cities.push(Choice {
            value: city.to_owned(),
            label: counted(&name.unwrap_or_else(|| city.to_owned()), 0, lang),
            selected: true,
        });
    }
    let levels = std::iter::once(any(&p.level))
        .chain(Level::ALL.iter().map(|l| Choice {
            value: l.as_str().into(),
            label: counted(l.label(lang), count(&f.level, l.as_str()), lang),
            selected: p.level.trim() == l.as_str(),
        }))
        .collect();
    let salaries = std::iter::once(any(&p.salary))
        .chain(salary_bands(lang).into_iter().map(|(slug, label)| Choice {
            value: slug.into(),
            label: counted(label, count(&f.salary_band, slug), lang),
            selected: p.salary.trim() == slug,
        }))
        .collect();
    let types = std::iter::once(any(&p.employer_type))
        .chain(EmployerType::ALL.iter().map(|k| Choice {
            value: k.as_str().into(),
            label: counted(k.label(lang), count(&f.employer_type, k.as_str()), lang),
            selected: p.employer_type.trim() == k.as_str(),
        }))
        .collect();
    let major = p.major.trim();
    let mut majors: Vec<Choice> = std::iter::once(any(major))
        .chain(f.major.iter().map(|(m, n)| Choice {
            value: m.clone(),
            label: counted(m, *n, lang),
            selected: major == m,
        }))
        .collect();
    if !major.is_empty() && !majors.iter().any(|c| c.selected) {
        majors.push(Choice {
            value: major.to_owned(),
            label: counted(major, 0, lang),
            selected: true,
        });
    }
    vec![
        FacetSelect {
            id: "jobs-city",
            name: "city",
            label: t.city,
            choices: cities,
        },
        FacetSelect {
            id: "jobs-level",
            name: "level",
            label: t.level,
            choices: levels,
        },
        FacetSelect {
            id: "jobs-salary",
            name: "salary",
            label: t.salary,
            choices: salaries,
        },
        FacetSelect {
            id: "jobs-employer-type",
            name: "employer_type",
            label: t.employer_type,
            choices: types,
        },
        FacetSelect {
            id: "jobs-major",
            name: "major",
            label: t.major,
            choices: majors,
        },
    ]
}

struct HitRow {
    id: String,
    href: String,
    title: Vec<Piece>,
    snippet: Vec<Piece>,
    employer: String,
    place: String,
    level: &'static str,
    salary: String,
    deadline: String,
    source: Member,
}

fn hit_row(state: &AppState, found: &JobHit, lang: Lang) -> HitRow {
    let h = &found.hit;
    HitRow {
        id: h.key.clone(),
        href: format!("/jobs/{}", urlencode(&h.key)),
        title: highlight(&h.title, &h.title_highlights),
        snippet: highlight(&h.snippet, &h.highlights),
        employer: h.employer.clone(),
        place: place_name(&h.city),
        level: level_label(&h.level, lang),
        salary: salary(h.salary_min.into(), h.salary_max.into(), lang),
        deadline: day_of_ms(h.deadline_ms, lang),
        source: Member::new(state, &found.source, lang),
    }
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// "四川节点暂时无法连接，以下仅为重庆的岗位。", and why, for the notice's title.
fn unanswered_notice(
    state: &AppState,
    found: &FederatedResult,
    lang: Lang,
) -> Option<(String, String)> {
    if found.unanswered.is_empty() {
        return None;
    }
    let t = texts(lang);
    let sep = if lang == Lang::Zh { "、" } else { ", " };
    let missing: Vec<String> = found
        .unanswered
        .iter()
        .map(|u| member_name(state, &u.member, lang))
        .collect();
    let reasons: Vec<String> = found
        .unanswered
        .iter()
        .map(|u| {
            let why = match lang {
                Lang::Zh => &u.error.message,
                Lang::En => &u.error.message_en,
            };
            format!("{}: {why}", u.member)
        })
        .collect();
    let answered: Vec<String> = members(state)
        .into_iter()
        .filter(|m| !found.unanswered.iter().any(|u| &u.member == m))
        .map(|m| member_name(state, &m, lang))
        .collect();
    let notice = format!(
        "{}{}",
        t.unanswered.replacen("{}", &missing.join(sep), 1),
        t.only_from.replacen("{}", &answered.join(sep), 1)
    );
    Some((notice, reasons.join("; ")))
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct SearchPage {
    shell: Shell,
    t: &'static Texts,
    q: String,
    facets: Vec<FacetSelect>,
    filtered: bool,
    clear_href: String,
    problem: Option<String>,
    unanswered: Option<(String, String)>,
    total_text: String,
    hits: Vec<HitRow>,
    page_text: String,
    prev: Option<String>,
    next: Option<String>,
    /// A signed-in person may save this search (订阅): its parameters as hidden fields.
    subscribe: Option<Vec<(&'static str, String)>>,
}

async fn search_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(params): Query<SearchParams>,
) -> Response {
    let shell = Shell::new(&state, &ctx);
    let lang = ctx.lang;
    let t = texts(lang);
    let found = employment::service::search_everywhere(
        &state.jobs,
        state.federation.as_ref(),
        here(&state),
        &params.query(),
    )
    .await;
    let (found, problem) = match found {
        Ok(f) => (Some(f), None),
        Err(EmploymentError::Invalid(p)) => (
            None,
            Some(
                p.iter()
                    .map(|p| p.message.clone())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        ),
        Err(e) => (None, Some(kernel::Localized::message(&e, lang))),
    };
    let page = params.page();
    let (facets, hits, total, unanswered) = match &found {
        Some(f) => (
            facet_selects(&f.facets, &params, t, lang),
            f.results.iter().map(|h| hit_row(&state, h, lang)).collect(),
            f.total,
            unanswered_notice(&state, f, lang),
        ),
        None => (
            facet_selects(&Facets::default(), &params, t, lang),
            Vec::new(),
            0,
            None,
        ),
    };
    let reachable = total.min(employment::service::MAX_RESULTS);
    let mut total_text = t.total.replacen("{}", &total.to_string(), 1);
    if found.as_ref().is_some_and(|f| f.relaxed) {
        total_text.push_str(t.relaxed);
    }
    if total > employment::service::MAX_RESULTS {
        total_text.push_str(&t.total_capped.replacen(
            "{}",
            &employment::service::MAX_RESULTS.to_string(),
            1,
        ));
    }
    let clear = SearchParams {
        q: params.q.clone(),
        ..SearchParams::default()
    };
    render(SearchPage {
        t,
        q: params.q.clone(),
        facets,
        filtered: params.filtered(),
        clear_href: clear.href(1),
        problem,
        unanswered,
        total_text,
        hits,
        page_text: t.page.replacen("{}", &page.to_string(), 1),
        prev: (page > 1).then(|| params.href(page - 1)),
        next: (page * PAGE < reachable).then(|| params.href(page + 1)),
        subscribe: ctx
            .user
            .as_ref()
            .filter(|u| matches!(u.principal.scope, Scope::Person(_)))
            .map(|_| {
                vec![
                    ("q", params.q.clone()),
                    ("city", params.city.clone()),
                    ("level", params.level.clone()),
                    ("major", params.major.clone()),
                    ("salary", params.salary.clone()),
                    ("employer_type", params.employer_type.clone()),
                ]
            }),
        shell,
    })
}

// ---------------------------------------------------------------------------------------
// One job

/// How the caller stands to a job of this node: its employer's users may submit and edit
/// it, the bureaus over the employer approve or send it back; both may close it.
struct Managed {
    status: JobStatus,
    review_note: Option<String>,
    /// The employer's side (not the bureau's).
    employer_side: bool,
    oversees: bool,
}

impl Managed {
    fn of(p: &Principal, job: &Job) -> Option<Managed> {
        let employment::jobs::Standing { owns, oversees } = job.standing(p);
        (owns || oversees).then(|| Managed {
            status: job.status(),
            review_note: job.review_note.clone().filter(|n| !n.trim().is_empty()),
            employer_side: owns && !oversees,
            oversees,
        })
    }

    /// The decisions `employment::jobs::decide` accepts from this caller now.
    fn decisions(&self) -> Vec<JobDecision> {
        use JobStatus::*;
        let mut out = Vec::new();
        if self.employer_side && matches!(self.status, Draft | Rejected) {
            out.push(JobDecision::Submit);
        }
        if self.oversees && self.status == Pending {
            out.push(JobDecision::Approve);
            out.push(JobDecision::SendBack);
        }
        if !matches!(self.status, Closed | Expired) {
            out.push(JobDecision::Close);
        }
        out
    }

    fn may_edit(&self) -> bool {
        use JobStatus::*;
        self.employer_side && matches!(self.status, Draft | Rejected | Pending | Published)
    }
}

fn decision_slug(d: JobDecision) -> &'static str {
    match d {
        JobDecision::Submit => "submit",
        JobDecision::Approve => "approve",
        JobDecision::SendBack => "send-back",
        JobDecision::Close => "close",
    }
}

fn decision_label(d: JobDecision, t: &Texts) -> &'static str {
    match d {
        JobDecision::Submit => t.submit,
        JobDecision::Approve => t.approve,
        JobDecision::SendBack => t.send_back,
        JobDecision::Close => t.close,
    }
}

/// A job as the caller may see it: this node's in any status for its employer and the
/// bureaus over it, an open one from any node for everyone (`GET /api/v1/jobs/{id}` does
/// the same steps).
struct FoundJob {
    job: PublicJob,
    source: String,
    managed: Option<Managed>,
}

async fn find_job(
    state: &AppState,
    who: Option<&Principal>,
    id: &str,
) -> Result<FoundJob, AppError> {
    let (job, source, own) = crate::employment::find_job(state, who, id).await?;
    Ok(FoundJob {
        managed: who.zip(own.as_ref()).and_then(|(p, j)| Managed::of(p, j)),
        job,
        source,
    })
}

struct DecisionButton {
    value: &'static str,
    label: &'static str,
    secondary: bool,
}

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    shell: Shell,
    t: &'static Texts,
    id: String,
    title: String,
    employer: String,
    employer_type: &'static str,
    place: String,
    level: &'static str,
    salary: String,
    majors: String,
    headcount: i64,
    deadline: String,
    contact: String,
    published: String,
    description: String,
    source: Member,
    status: Option<Status>,
    review_note: Option<String>,
    decisions: Vec<DecisionButton>,
    may_edit: bool,
    employer_side: bool,
    /// `sign-in`, `not-graduate`, `apply`, `applied` or empty (nothing to show).
    apply_mode: &'static str,
    my_status: Option<Status>,
    needs_phone: bool,
    problem: Option<String>,
}

async fn job_view(
    state: &AppState,
    ctx: &PageCtx,
    id: &str,
    problem: Option<String>,
) -> Result<JobPage, AppError> {
    let lang = ctx.lang;
    let t = texts(lang);
    let who = ctx.user.as_ref().map(|u| &u.principal);
    let found = find_job(state, who, id).await?;
    let open = found
        .managed
        .as_ref()
        .is_none_or(|m| m.status == JobStatus::Published);
    let mut apply_mode = "";
    let mut my_status = None;
    let mut needs_phone = false;
    match who {
        None if open => apply_mode = "sign-in",
        Some(p) if found.managed.is_none() && open => {
            if let Some(g) = employment::graduates::of_person(&state.db, p).await? {
                let mine = employment::applications::mine(
                    &state.db,
                    state.federation.as_ref(),
                    here(state),
                    p,
                )
                .await?;
                match mine.iter().find(|a| a.job_id == found.job.id) {
                    Some(a) => {
                        apply_mode = "applied";
                        my_status = Some(application_status(a.status(), lang));
                    }
                    None => {
                        apply_mode = "apply";
                        needs_phone = employment::graduates::profile(&state.db, &g.citizen_id)
                            .await?
                            .phone
                            .trim()
                            .is_empty();
                    }
                }
            } else if matches!(p.scope, Scope::Person(_)) {
                apply_mode = "not-graduate";
            }
        }
        _ => {}
    }
    let job = found.job;
    let majors = if job.majors.is_empty() {
        t.majors_any.to_owned()
    } else {
        job.majors.join(if lang == Lang::Zh { "、" } else { ", " })
    };
    let managed = found.managed;
    Ok(JobPage {
        shell: Shell::new(state, ctx),
        t,
        id: job.id.clone(),
        employer_type: employer_type_label(&job.employer_type, lang),
        place: place_name(&job.city),
        level: level_label(&job.level, lang),
        salary: salary(job.salary_min, job.salary_max, lang),
        majors,
        headcount: job.headcount,
        deadline: day(&job.deadline, lang),
        published: job
            .published_ms
            .map(|ms| day_of_ms(ms, lang))
            .unwrap_or_default(),
        source: Member::new(state, &found.source, lang),
        status: managed.as_ref().map(|m| job_status(m.status, lang)),
        review_note: managed.as_ref().and_then(|m| m.review_note.clone()),
        decisions: managed
            .as_ref()
            .map(|m| {
                m.decisions()
                    .into_iter()
                    .map(|d| DecisionButton {
                        value: decision_slug(d),
                        label: decision_label(d, t),
                        secondary: matches!(d, JobDecision::SendBack | JobDecision::Close),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        may_edit: managed.as_ref().is_some_and(Managed::may_edit),
        employer_side: managed.as_ref().is_some_and(|m| m.employer_side),
        title: job.title,
        employer: job.employer_name,
        contact: job.contact,
        description: job.description,
        apply_mode,
        my_status,
        needs_phone,
        problem,
    })
}

async fn job_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    match job_view(&state, &ctx, &id, None).await {
        Ok(page) => Ok(render(page)),
        Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
    }
}

/// Shows the job again with a problem above its forms (status 400/409 kept).
async fn job_again(
    state: &AppState,
    ctx: &PageCtx,
    id: &str,
    error: AppError,
) -> Result<Response, PageError> {
    let status = error.status();
    let message = error.message(ctx.lang);
    match job_view(state, ctx, id, Some(message)).await {
        Ok(page) => Ok((status, render(page)).into_response()),
        Err(e) => Err(Shell::new(state, ctx).fail(e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CsrfOnly {
    csrf: String,
}

/// 投递简历: the signed-in graduate applies with their résumé and diploma credential.
async fn apply_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    let user = match ctx.check_csrf(&form.csrf) {
        Ok(u) => u,
        Err(e) => return Err(Shell::new(&state, &ctx).fail(e)),
    };
    let origin = crate::certificates::origin(&state, &headers);
    let applied = employment::applications::apply(
        &state.db,
        state.federation.as_ref(),
        here(&state),
        diploma_issuer(&state, &origin).as_ref(),
        &user.principal,
        &id,
    )
    .await;
    match applied {
        Ok(_) => Ok(Redirect::to(&format!("/jobs/{}", urlencode(&id))).into_response()),
        Err(e @ (EmploymentError::Db(_) | EmploymentError::Audit(_))) => {
            Err(Shell::new(&state, &ctx).fail(e))
        }
        Err(e) => job_again(&state, &ctx, &id, e.into()).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JobDecisionForm {
    csrf: String,
    decision: String,
    note: String,
    next: String,
}

/// 提交审核 / 批准发布 / 退回修改 / 关闭岗位.
async fn job_decision_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(form): Form<JobDecisionForm>,
) -> Result<Response, PageError> {
    let user = match ctx.check_csrf(&form.csrf) {
        Ok(u) => u,
        Err(e) => return Err(Shell::new(&state, &ctx).fail(e)),
    };
    let Some(decision) = JobDecision::parse(&form.decision) else {
        let e = AppError::bad_request("请选择办理意见。", "Choose a decision.");
        return job_again(&state, &ctx, &id, e).await;
    };
    match employment::jobs::decide(&state.db, &user.principal, &id, decision, &form.note).await {
        Ok(_) => {
            crate::employment::sync_index(&state).await;
            let back = if form.next.is_empty() {
                format!("/jobs/{}", urlencode(&id))
            } else {
                auth::safe_next(Some(&form.next))
            };
            Ok(Redirect::to(&back).into_response())
        }
        Err(e @ (EmploymentError::Db(_) | EmploymentError::Audit(_))) => {
            Err(Shell::new(&state, &ctx).fail(e))
        }
        Err(e) => job_again(&state, &ctx, &id, e.into()).await,
    }
}

// ---------------------------------------------------------------------------------------
// Employers: registration

struct TypeChoice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

fn type_choices(current: &str, lang: Lang) -> Vec<TypeChoice> {
    EmployerType::ALL
        .iter()
        .map(|k| TypeChoice {
            value: k.as_str(),
            label: k.label(lang),
            selected: current == k.as_str(),
        })
        .collect()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RegisterForm {
    csrf: String,
    credit_code: String,
    name: String,
    employer_type: String,
    division: String,
    address: String,
    contact_name: String,
    contact_phone: String,
    username: String,
    password: String,
}

impl RegisterForm {
    fn registration(&self) -> Registration {
        Registration {
            credit_code: self.credit_code.clone(),
            name: self.name.clone(),
            employer_type: self.employer_type.clone(),
            division: self.division.clone(),
            address: self.address.clone(),
            contact_name: self.contact_name.clone(),
            contact_phone: self.contact_phone.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "employer_register.html")]
struct RegisterPage {
    shell: Shell,
    t: &'static Texts,
    pre_session: String,
    form: RegisterForm,
    types: Vec<TypeChoice>,
    counties: &'static [(String, String)],
    division_name: String,
    problems: Problems,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "employer_registered.html")]
struct RegisteredPage {
    shell: Shell,
    t: &'static Texts,
    name: String,
    credit_code: String,
    username: String,
    status: &'static str,
}

async fn register_form(State(state): State<AppState>, ctx: PageCtx) -> Response {
    // The form has no session yet: it is protected like sign-in, by a pre-session token.
    let pre_session = platform::users::random_token();
    let jar = ctx.jar.clone().add(auth::cookie(
        auth::PRE_SESSION_COOKIE,
        pre_session.clone(),
        state.config.cookie_secure,
    ));
    let page = RegisterPage {
        shell: Shell::new(&state, &ctx),
        t: texts(ctx.lang),
        pre_session,
        form: RegisterForm::default(),
        types: type_choices("", ctx.lang),
        counties: counties(),
        division_name: String::new(),
        problems: Problems::default(),
        problem: None,
    };
    (jar, render(page)).into_response()
}

async fn register_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    crate::auth::ClientAddr(client): crate::auth::ClientAddr,
    Form(form): Form<RegisterForm>,
) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    // Each registration hashes a password: limited per client and per credit code.
    if let Err(e) = state.lookup_limiter.check(&client, &form.credit_code) {
        return Err(shell.fail(e));
    }
    let expected = ctx
        .jar
        .get(auth::PRE_SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if expected.is_empty() || !auth::same_secret(&expected, &form.csrf) {
        return Err(shell.fail(AppError::Csrf));
    }
    let t = texts(ctx.lang);
    match employment::employers::register(&state.db, &form.registration()).await {
        Ok(credit_code) => Ok(render(RegisteredPage {
            shell,
            t,
            name: form.name.trim().to_owned(),
            credit_code,
            username: form.username.trim().to_owned(),
            status: EmployerStatus::Pending.label(ctx.lang),
        })),
        Err(e) => {
            let (problems, problem) = match refused(e, ctx.lang) {
                Refused::Fields(p) => (
                    p.named(&[
                        ("credit_code", t.credit_code),
                        ("division", t.division),
                        ("employer_type", t.employer_type),
                    ]),
                    None,
                ),
                Refused::Message(m) => (Problems::default(), Some(m)),
                Refused::Page(e) => return Err(shell.fail(e)),
            };
            let form = RegisterForm {
                password: String::new(),
                ..form
            };
            let page = RegisterPage {
                shell,
                t,
                pre_session: expected,
                types: type_choices(&form.employer_type, ctx.lang),
                counties: counties(),
                division_name: place_of(&form.division),
                form,
                problems,
                problem,
            };
            Ok((axum::http::StatusCode::BAD_REQUEST, render(page)).into_response())
        }
    }
}

// ---------------------------------------------------------------------------------------
// 招聘管理: the employer's jobs and the job form

struct MyJobRow {
    id: String,
    href: String,
    title: String,
    status: Status,
    place: String,
    deadline: String,
    updated: String,
    review_note: Option<String>,
    editable: bool,
}

#[derive(Template)]
#[template(path = "employer_jobs.html")]
struct MyJobsPage {
    shell: Shell,
    t: &'static Texts,
    tab: &'static str,
    employer: Option<EmployerBox>,
    rows: Vec<MyJobRow>,
}

/// The employer's own verification, shown above its jobs.
struct EmployerBox {
    name: String,
    status: Status,
    note: Option<String>,
    verified: bool,
}

fn employer_status(s: EmployerStatus, lang: Lang) -> Status {
    Status {
        label: s.label(lang),
        class: format!("st-{}", s.as_str()),
    }
}

async fn own_employer(
    state: &AppState,
    user: &SessionUser,
    lang: Lang,
) -> Result<Option<EmployerBox>, AppError> {
    let Some(code) = &user.org_code else {
        return Ok(None);
    };
    let e: Employer = employment::employers::get(&state.db, &user.principal, code).await?;
    Ok(Some(EmployerBox {
        name: e.name.clone(),
        status: employer_status(e.status(), lang),
        verified: e.status() == EmployerStatus::Verified,
        note: e.review_note.clone().filter(|n| !n.trim().is_empty()),
    }))
}

async fn my_jobs_page(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    let lang = ctx.lang;
    let result: Result<MyJobsPage, AppError> = async {
        let user = ctx.require_user()?;
        let jobs = employment::jobs::list(&state.db, &user.principal, Listing::Own).await?;
        let employer = own_employer(&state, user, lang).await?;
        let rows = jobs
            .iter()
            .map(|j| {
                let m = Managed::of(&user.principal, j);
                MyJobRow {
                    id: j.id.clone(),
                    href: format!("/jobs/{}", urlencode(&j.id)),
                    title: j.title.clone(),
                    status: job_status(j.status(), lang),
                    place: place_name(&j.city),
                    deadline: day(&j.deadline, lang),
                    updated: i18n::format_ms(j.updated_ms, lang),
                    review_note: j.review_note.clone().filter(|n| !n.trim().is_empty()),
                    editable: m.is_some_and(|m| m.may_edit()),
                }
            })
            .collect();
        Ok(MyJobsPage {
            shell: Shell::new(&state, &ctx),
            t: texts(lang),
            tab: "jobs",
            employer,
            rows,
        })
    }
    .await;
    match result {
        Ok(page) => Ok(render(page)),
        Err(e) => Err(shell.fail(e)),
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct JobForm {
    csrf: String,
    action: String,
    title: String,
    description: String,
    city: String,
    salary_min: String,
    salary_max: String,
    level: String,
    majors: String,
    headcount: String,
    deadline: String,
    contact: String,
}

impl JobForm {
    fn input(&self) -> JobInput {
        JobInput {
            title: self.title.clone(),
            description: self.description.clone(),
            city: self.city.clone(),
            salary_min: self.salary_min.clone(),
            salary_max: self.salary_max.clone(),
            level: self.level.clone(),
            majors: self.majors.clone(),
            headcount: self.headcount.clone(),
            deadline: self.deadline.clone(),
            contact: self.contact.clone(),
        }
    }

    fn of(job: &Job) -> JobForm {
        JobForm {
            title: job.title.clone(),
            description: job.description.clone(),
            city: job.city.clone(),
            salary_min: job.salary_min.to_string(),
            salary_max: job.salary_max.to_string(),
            level: job.level.clone(),
            majors: job.majors().join("、"),
            headcount: job.headcount.to_string(),
            deadline: job.deadline.clone(),
            contact: job.contact.clone(),
            ..JobForm::default()
        }
    }

    fn submit(&self) -> bool {
        self.action == "submit"
    }
}

#[derive(Template)]
#[template(path = "employer_job_form.html")]
struct JobFormPage {
    shell: Shell,
    t: &'static Texts,
    tab: &'static str,
    /// Where the form posts.
    action: String,
    /// Set when editing: the job's id and status.
    editing: Option<(String, Status)>,
    form: JobForm,
    levels: Vec<TypeChoice>,
    counties: &'static [(String, String)],
    city_name: String,
    today: String,
    last_day: String,
    problems: Problems,
    problem: Option<String>,
}

fn job_form_page(
    state: &AppState,
    ctx: &PageCtx,
    editing: Option<(String, Status)>,
    form: JobForm,
    problems: Problems,
    problem: Option<String>,
) -> JobFormPage {
    let today = employment::jobs::today_cst();
    let last = today + time::Duration::days(366);
    JobFormPage {
        shell: Shell::new(state, ctx),
        t: texts(ctx.lang),
        tab: if editing.is_some() { "" } else { "new" },
        action: match &editing {
            Some((id, _)) => format!("/employer/jobs/{}/edit", urlencode(id)),
            None => "/employer/jobs".into(),
        },
        editing,
        levels: Level::ALL
            .iter()
            .map(|l| TypeChoice {
                value: l.as_str(),
                label: l.label(ctx.lang),
                selected: form.level == l.as_str(),
            })
            .collect(),
        counties: counties(),
        city_name: place_of(&form.city),
        today: today.to_string(),
        last_day: last.to_string(),
        form,
        problems,
        problem,
    }
}

async fn new_job_page(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    let user = match ctx.require_user() {
        Ok(u) => u,
        Err(e) => return Err(shell.fail(e)),
    };
    // Only an employer's users have jobs of their own.
    if let Err(e) = employment::jobs::list(&state.db, &user.principal, Listing::Own).await {
        return Err(shell.fail(e));
    }
    Ok(render(job_form_page(
        &state,
        &ctx,
        None,
        JobForm::default(),
        Problems::default(),
        None,
    )))
}

/// The form again with what was typed and every problem next to its field.
fn job_form_again(
    state: &AppState,
    ctx: &PageCtx,
    editing: Option<(String, Status)>,
    form: JobForm,
    e: EmploymentError,
) -> Response {
    let t = texts(ctx.lang);
    let (problems, problem) = match refused(e, ctx.lang) {
        Refused::Fields(p) => (p.named(&[("city", t.place)]), None),
        Refused::Message(m) => (Problems::default(), Some(m)),
        Refused::Page(e) => return Shell::new(state, ctx).fail(e).into_response(),
    };
    let status = if problem.is_some() {
        axum::http::StatusCode::CONFLICT
    } else {
        axum::http::StatusCode::BAD_REQUEST
    };
    (
        status,
        render(job_form_page(state, ctx, editing, form, problems, problem)),
    )
        .into_response()
}

async fn create_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(form): Form<JobForm>,
) -> Result<Response, PageError> {
    let user = match ctx.check_csrf(&form.csrf) {
        Ok(u) => u,
        Err(e) => return Err(Shell::new(&state, &ctx).fail(e)),
    };
    let created = employment::jobs::create(
        &state.db,
        &user.principal,
        here(&state),
        &form.input(),
        form.submit(),
    )
    .await;
    match created {
        Ok(id) => Ok(Redirect::to(&format!("/jobs/{}", urlencode(&id))).into_response()),
        Err(e) => Ok(job_form_again(&state, &ctx, None, form, e)),
    }
}

/// The caller's own job for the edit form (anyone else: not found).
async fn editable_job(state: &AppState, p: &Principal, id: &str) -> Result<Job, AppError> {
    let job = employment::jobs::get(&state.db, Some(p), id).await?;
    match Managed::of(p, &job) {
        Some(m) if m.employer_side => Ok(job),
        _ => Err(AppError::NotFound),
    }
}

async fn edit_job_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    let result: Result<Job, AppError> = async {
        let user = ctx.require_user()?;
        editable_job(&state, &user.principal, &id).await
    }
    .await;
    match result {
        Ok(job) => Ok(render(job_form_page(
            &state,
            &ctx,
            Some((job.id.clone(), job_status(job.status(), ctx.lang))),
            JobForm::of(&job),
            Problems::default(),
            None,
        ))),
        Err(e) => Err(shell.fail(e)),
    }
}

async fn update_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(form): Form<JobForm>,
) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    let user = match ctx.check_csrf(&form.csrf) {
        Ok(u) => u,
        Err(e) => return Err(shell.fail(e)),
    };
    let p = &user.principal;
    let job = match editable_job(&state, p, &id).await {
        Ok(j) => j,
        Err(e) => return Err(shell.fail(e)),
    };
    let editing = Some((job.id.clone(), job_status(job.status(), ctx.lang)));
    // A draft or a job sent back stays so when saved; 提交审核 then submits it. A job under
    // review or published goes back to review by being changed.
    let saved = async {
        employment::jobs::update(&state.db, p, &id, &form.input()).await?;
        if form.submit() && matches!(job.status(), JobStatus::Draft | JobStatus::Rejected) {
            employment::jobs::decide(&state.db, p, &id, JobDecision::Submit, "").await?;
        }
        Ok::<_, EmploymentError>(())
    }
    .await;
    crate::employment::sync_index(&state).await;
    match saved {
        Ok(()) => Ok(Redirect::to(&format!("/jobs/{}", urlencode(&id))).into_response()),
        Err(e) => Ok(job_form_again(&state, &ctx, editing, form, e)),
    }
}

// ---------------------------------------------------------------------------------------
// 招聘管理: applications received

struct ApplicationRow {
    id: String,
    href: String,
    name: String,
    institution: String,
    major: String,
    level: &'static str,
    job_title: String,
    job_href: String,
    from: Member,
    applied: String,
    status: Status,
}

fn application_row(state: &AppState, a: &Application, lang: Lang) -> ApplicationRow {
    ApplicationRow {
        id: a.id.clone(),
        href: format!("/employer/applications/{}", urlencode(&a.id)),
        name: a.name.clone(),
        institution: a.institution_name.clone(),
        major: a.major.clone(),
        level: level_label(&a.level, lang),
        job_title: a.job_title.clone(),
        job_href: format!("/jobs/{}", urlencode(&a.job_id)),
        from: Member::new(state, &a.applicant_member, lang),
        applied: i18n::format_ms(a.created_ms, lang),
        status: application_status(a.status(), lang),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ApplicationsQuery {
    job: String,
}

#[derive(Template)]
#[template(path = "employer_applications.html")]
struct ApplicationsPage {
    shell: Shell,
    t: &'static Texts,
    tab: &'static str,
    jobs: Vec<Choice>,
    rows: Vec<ApplicationRow>,
}

async fn applications_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ApplicationsQuery>,
) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    let lang = ctx.lang;
    let result: Result<ApplicationsPage, AppError> = async {
        let user = ctx.require_user()?;
        let p = &user.principal;
        let job = Some(q.job.trim()).filter(|j| !j.is_empty());
        let jobs = employment::jobs::list(&state.db, p, Listing::Own).await?;
        let apps = employment::applications::for_employer(&state.db, &state.audit, p, job).await?;
        let t = texts(lang);
        let choices = std::iter::once(Choice {
            value: String::new(),
            label: t.all_jobs.into(),
            selected: job.is_none(),
        })
        .chain(jobs.iter().map(|j| Choice {
            selected: job == Some(j.id.as_str()),
            value: j.id.clone(),
            label: j.title.clone(),
        }))
        .collect();
        Ok(ApplicationsPage {
            shell: Shell::new(&state, &ctx),
            t,
            tab: "applications",
            jobs: choices,
            rows: apps
                .iter()
                .map(|a| application_row(&state, a, lang))
                .collect(),
        })
    }
    .await;
    match result {
        Ok(page) => Ok(render(page)),
        Err(e) => Err(shell.fail(e)),
    }
}

/// The diploma the applicant sent, as it verifies here and now.
struct DiplomaBox {
    /// `ok`, `bad` or `none`.
    state: &'static str,
    verdict: &'static str,
    detail: String,
    facts: Vec<(&'static str, String)>,
}

fn status_words(s: credential::verify::StatusOutcome, lang: Lang) -> &'static str {
    use credential::verify::StatusOutcome::*;
    let zh = lang == Lang::Zh;
    match s {
        Valid => {
            if zh {
                "状态有效"
            } else {
                "in good standing"
            }
        }
        Revoked => {
            if zh {
                "已撤销"
            } else {
                "revoked"
            }
        }
        Suspended => {
            if zh {
                "已暂停"
            } else {
                "suspended"
            }
        }
        Unknown => {
            if zh {
                "状态无法确认"
            } else {
                "status could not be checked"
            }
        }
        None => {
            if zh {
                "无状态信息"
            } else {
                "no status information"
            }
        }
    }
}

fn diploma_box(
    state: &AppState,
    diploma: Option<&serde_json::Value>,
    report: Option<&credential::verify::Report>,
    lang: Lang,
) -> DiplomaBox {
    let t = texts(lang);
    let (Some(doc), Some(report)) = (diploma, report) else {
        return DiplomaBox {
            state: "none",
            verdict: t.diploma_none,
            detail: String::new(),
            facts: Vec::new(),
        };
    };
    let issuer = report.issuer.as_deref().map_or_else(
        || "?".to_owned(),
        |m| format!("{}{}", member_name(state, m, lang), t.node_suffix),
    );
    let sep = if lang == Lang::Zh { "，" } else { ", " };
    let mut detail = format!(
        "{}{}{issuer}{sep}{}",
        t.diploma_issuer,
        if lang == Lang::Zh { "：" } else { " " },
        status_words(report.status, lang)
    );
    if !report.ok
        && let Some(e) = report.first_failure()
    {
        detail = format!(
            "{}{sep}{detail}",
            kernel::Localized::message(e, lang).trim_end_matches('。')
        );
    }
    let subject = &doc["credentialSubject"];
    let zh = lang == Lang::Zh;
    let facts = [
        ("name", if zh { "姓名" } else { "Name" }),
        (
            "diplomaNumber",
            if zh { "证书编号" } else { "Diploma number" },
        ),
        ("institution", if zh { "院校" } else { "Institution" }),
        ("level", if zh { "层次" } else { "Level" }),
        ("major", if zh { "专业" } else { "Major" }),
        ("graduationDate", if zh { "毕业日期" } else { "Graduated" }),
    ]
    .into_iter()
    .filter_map(|(key, label)| subject[key].as_str().map(|v| (label, v.to_owned())))
    .collect();
    DiplomaBox {
        state: if report.ok { "ok" } else { "bad" },
        verdict: if report.ok {
            t.diploma_ok
        } else {
            t.diploma_bad
        },
        detail,
        facts,
    }
}

fn employer_action(to: ApplicationStatus, lang: Lang) -> &'static str {
    use ApplicationStatus::*;
    let zh = lang == Lang::Zh;
    match to {
        Reviewing => {
            if zh {
                "筛选"
            } else {
                "Move to screening"
            }
        }
        Interview => {
            if zh {
                "邀请面试"
            } else {
                "Invite to interview"
            }
        }
        Offer => {
            if zh {
                "发录用通知"
            } else {
                "Make an offer"
            }
        }
        Rejected => {
            if zh {
                "不通过"
            } else {
                "Not successful"
            }
        }
        Accepted => {
            if zh {
                "接受录用"
            } else {
                "Accept the offer"
            }
        }
        Declined => {
            if zh {
                "谢绝录用"
            } else {
                "Decline the offer"
            }
        }
        Withdrawn => {
            if zh {
                "撤回申请"
            } else {
                "Withdraw"
            }
        }
        Submitted => "",
    }
}

fn moves(next: &[ApplicationStatus], lang: Lang) -> Vec<DecisionButton> {
    next.iter()
        .map(|s| DecisionButton {
            value: s.as_str(),
            label: employer_action(*s, lang),
            secondary: matches!(
                s,
                ApplicationStatus::Rejected
                    | ApplicationStatus::Declined
                    | ApplicationStatus::Withdrawn
            ),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "employer_application.html")]
struct ApplicationPage {
    shell: Shell,
    t: &'static Texts,
    tab: &'static str,
    row: ApplicationRow,
    phone: String,
    resume: String,
    note: Option<String>,
    diploma: DiplomaBox,
    decisions: Vec<DecisionButton>,
    problem: Option<String>,
}

async fn application_view(
    state: &AppState,
    ctx: &PageCtx,
    headers: &HeaderMap,
    id: &str,
    problem: Option<String>,
) -> Result<ApplicationPage, AppError> {
    let user = ctx.require_user()?;
    let lang = ctx.lang;
    let detail = application_detail(state, headers, &user.principal, id).await?;
    // The graduate's own copy is on 我的求职; this page is the employer's.
    if detail.application.employer.is_none() {
        return Err(AppError::NotFound);
    }
    let a = &detail.application;
    Ok(ApplicationPage {
        shell: Shell::new(state, ctx),
        t: texts(lang),
        tab: "applications",
        row: application_row(state, a, lang),
        phone: a.phone.clone(),
        resume: a.resume.clone(),
        note: a.note.clone().filter(|n| !n.trim().is_empty()),
        diploma: diploma_box(
            state,
            detail.diploma.as_ref(),
            detail.diploma_report.as_ref(),
            lang,
        ),
        decisions: moves(a.status().employer_next(), lang),
        problem,
    })
}

async fn application_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    match application_view(&state, &ctx, &headers, &id, None).await {
        Ok(page) => Ok(render(page)),
        Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MoveForm {
    csrf: String,
    to: String,
    note: String,
}

async fn application_decision_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> Result<Response, PageError> {
    let user = match ctx.check_csrf(&form.csrf) {
        Ok(u) => u,
        Err(e) => return Err(Shell::new(&state, &ctx).fail(e)),
    };
    match decide_application(&state, &user.principal, &id, &form.to, &form.note).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/employer/applications/{}", urlencode(&id))).into_response())
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            let status = e.status();
            match application_view(&state, &ctx, &headers, &id, Some(e.message(ctx.lang))).await {
                Ok(page) => Ok((status, render(page)).into_response()),
                Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
            }
        }
        Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
    }
}

// ---------------------------------------------------------------------------------------
// 就业审核: the bureau's

struct ReviewJob {
    id: String,
    href: String,
    title: String,
    employer: String,
    place: String,
    level: &'static str,
    salary: String,
    headcount: i64,
    deadline: String,
    submitted: String,
    description: String,
}

#[derive(Template)]
#[template(path = "jobs_review.html")]
struct JobReviewPage {
    shell: Shell,
    t: &'static Texts,
    tab: &'static str,
    jobs_waiting: usize,
    employers_waiting: usize,
    rows: Vec<ReviewJob>,
}

/// The first `n` characters of a text, with … when cut.
fn excerpt(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

async fn job_review_page(
    State(state): State<AppState>,
    ctx: PageCtx,
) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &ctx);
    let lang = ctx.lang;
    let result: Result<JobReviewPage, AppError> = async {
        let user = ctx.require_user()?;
        let p = &user.principal;
        let jobs = employment::jobs::list(&state.db, p, Listing::ToReview).await?;
        let (_, employers_waiting) = review_counts(&state, p).await?;
        Ok(JobReviewPage {
            shell: Shell::new(&state, &ctx),
            t: texts(lang),
            tab: "jobs",
            jobs_waiting: jobs.len(),
            employers_waiting,
            rows: jobs
                .iter()
                .map(|j| ReviewJob {
                    id: j.id.clone(),
                    href: format!("/jobs/{}", urlencode(&j.id)),
                    title: j.title.clone(),
                    employer: j.employer_name.clone(),
                    place: place_name(&j.city),
                    level: level_label(&j.level, lang),
                    salary: salary(j.salary_min, j.salary_max, lang),
                    headcount: j.headcount,
                    deadline: day(&j.deadline, lang),
                    submitted: i18n::format_ms(j.updated_ms, lang),
                    description: excerpt(&j.description, 160),
                })
                .collect(),
        })
    }
    .await;
    match result {
        Ok(page) => Ok(render(page)),
        Err(e) => Err(shell.fail(e)),
    }
}

struct ReviewEmployer {
    code: String,
    name: String,
    kind: &'static str,
    place: String,
    address: String,
    contact: String,
    phone: String,
    status: Status,
    registered: String,
    note: Option<String>,
    may_verify: bool,
    may_reject: bool,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "employers_review.html")]
struct EmployerReviewPage {
    shell: Shell,
    t: &'static Texts,
    tab: &'static str,
    jobs_waiting: usize,
    employers_waiting: usize,
    rows: Vec<ReviewEmployer>,
}

async fn employer_review_view(
    state: &AppState,
    ctx: &PageCtx,
    problem: Option<(String, String)>,
) -> Result<EmployerReviewPage, AppError> {
    let user = ctx.require_user()?;
    let p = &user.principal;
    let lang = ctx.lang;
    let employers = employment::employers::list(&state.db, p, None).await?;
    let (jobs_waiting, _) = review_counts(state, p).await?;
    Ok(EmployerReviewPage {
        shell: Shell::new(state, ctx),
        t: texts(lang),
        tab: "employers",
        jobs_waiting,
        employers_waiting: employers
            .iter()
            .filter(|e| e.status() == EmployerStatus::Pending)
            .count(),
        rows: employers
            .iter()
            .map(|e| {
                let s = e.status();
                ReviewEmployer {
                    code: e.credit_code.clone(),
                    name: e.name.clone(),
                    kind: employer_type_label(&e.employer_type, lang),
                    place: place_name(&e.division),
                    address: e.address.clone(),
                    contact: e.contact_name.clone(),
                    phone: e.contact_phone.clone(),
                    status: employer_status(s, lang),
                    registered: i18n::format_ms(e.created_ms, lang),
                    note: e.review_note.clone().filter(|n| !n.trim().is_empty()),
                    may_verify: s != EmployerStatus::Verified,
                    may_reject: s != EmployerStatus::Rejected,
                    problem: problem
                        .as_ref()
                        .filter(|(code, _)| *code == e.credit_code)
                        .map(|(_, m)| m.clone()),
                }
            })
            .collect(),
    })
}

async fn employer_review_page(
    State(state): State<AppState>,
    ctx: PageCtx,
) -> Result<Response, PageError> {
    match employer_review_view(&state, &ctx, None).await {
        Ok(page) => Ok(render(page)),
        Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EmployerDecisionForm {
    csrf: String,
    decision: String,
    note: String,
}

async fn employer_decision_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    Form(form): Form<EmployerDecisionForm>,
) -> Result<Response, PageError> {
    let user = match ctx.check_csrf(&form.csrf) {
        Ok(u) => u,
        Err(e) => return Err(Shell::new(&state, &ctx).fail(e)),
    };
    let verified = match form.decision.as_str() {
        "verify" => true,
        "reject" => false,
        _ => {
            let e = AppError::bad_request("请选择通过或不通过。", "Choose verify or reject.");
            return Err(Shell::new(&state, &ctx).fail(e));
        }
    };
    let reviewed =
        employment::employers::review(&state.db, &user.principal, &code, verified, &form.note)
            .await;
    match reviewed {
        Ok(()) => Ok(Redirect::to("/employers/review").into_response()),
        Err(e) => {
            let message = match refused(e, ctx.lang) {
                Refused::Fields(p) => p.messages().join(" "),
                Refused::Message(m) => m,
                Refused::Page(e) => return Err(Shell::new(&state, &ctx).fail(e)),
            };
            match employer_review_view(&state, &ctx, Some((code, message))).await {
                Ok(page) => Ok((axum::http::StatusCode::BAD_REQUEST, render(page)).into_response()),
                Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// 我的求职: the graduate's

struct GraduateFacts {
    name: String,
    citizen_id: String,
    institution: String,
    major: String,
    level: &'static str,
    study_form: String,
    graduation_date: String,
    diploma_no: Option<String>,
    destination: &'static str,
}

struct MyApplication {
    id: String,
    job_title: String,
    job_href: String,
    employer: String,
    member: Member,
    applied: String,
    status: Status,
    note: Option<String>,
    moves: Vec<DecisionButton>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct ProfileForm {
    csrf: String,
    phone: String,
    skills: String,
    preferred_cities: String,
    resume: String,
}

impl ProfileForm {
    fn of(p: Profile) -> ProfileForm {
        ProfileForm {
            csrf: String::new(),
            phone: p.phone,
            skills: p.skills,
            preferred_cities: p.preferred_cities,
            resume: p.resume,
        }
    }

    fn profile(&self) -> Profile {
        Profile {
            phone: self.phone.clone(),
            skills: self.skills.clone(),
            preferred_cities: self.preferred_cities.clone(),
            resume: self.resume.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "graduate.html")]
struct GraduatePage {
    shell: Shell,
    t: &'static Texts,
    graduate: Option<GraduateFacts>,
    form: ProfileForm,
    problems: Problems,
    problem: Option<String>,
    saved: bool,
    applications: Vec<MyApplication>,
    /// 为你推荐: jobs for the graduate's major and level in their preferred places.
    recommended: Vec<HitRow>,
    subscriptions: Vec<Subscription>,
}

/// A saved search as 我的求职 lists it.
struct Subscription {
    id: String,
    name: String,
    href: String,
    new_matches: usize,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SavedQuery {
    saved: String,
}

async fn graduate_view(
    state: &AppState,
    ctx: &PageCtx,
    form: Option<ProfileForm>,
    problems: Problems,
    problem: Option<String>,
) -> Result<GraduatePage, AppError> {
    let user = ctx.require_user()?;
    let p = &user.principal;
    let Scope::Person(key) = &p.scope else {
        return Err(AppError::NotFound);
    };
    let lang = ctx.lang;
    let t = texts(lang);
    let graduate =
        match employment::graduates::read(&state.db, &state.audit, p, key, "我的就业档案").await
        {
            Ok(g) => Some(g),
            Err(EmploymentError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
    let Some(g) = graduate else {
        return Ok(GraduatePage {
            shell: Shell::new(state, ctx),
            t,
            graduate: None,
            form: ProfileForm::default(),
            problems,
            problem,
            saved: false,
            applications: Vec::new(),
            recommended: Vec::new(),
            subscriptions: Vec::new(),
        });
    };
    let form = match form {
        Some(f) => f,
        None => ProfileForm::of(employment::graduates::profile(&state.db, key).await?),
    };
    let applications =
        employment::applications::mine(&state.db, state.federation.as_ref(), here(state), p)
            .await?
            .iter()
            .map(|a| MyApplication {
                id: a.id.clone(),
                job_title: a.job_title.clone(),
                job_href: format!("/jobs/{}", urlencode(&a.job_id)),
                employer: a.employer_name.clone(),
                member: Member::new(state, &a.job_member, lang),
                applied: i18n::format_ms(a.created_ms, lang),
                status: application_status(a.status(), lang),
                note: a.note.clone().filter(|n| !n.trim().is_empty()),
                moves: moves(a.status().applicant_next(), lang),
            })
            .collect();
    // Recommendations and subscriptions are a convenience: a search that fails leaves them out.
    let recommended = employment::saved::recommendations(
        &state.db,
        &state.jobs,
        state.federation.as_ref(),
        here(state),
        p,
    )
    .await
    .map(|found| {
        found
            .results
            .iter()
            .map(|h| hit_row(state, h, lang))
            .collect()
    })
    .unwrap_or_default();
    let saved = employment::saved::list(&state.db, p).await?;
    let subscriptions =
        employment::saved::with_news(&state.jobs, state.federation.as_ref(), here(state), saved)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|s| Subscription {
                href: SearchParams::of(&s.query).href(1),
                id: s.id,
                name: s.name,
                new_matches: s.new_matches,
            })
            .collect();
    Ok(GraduatePage {
        recommended,
        subscriptions,
        shell: Shell::new(state, ctx),
        t,
        graduate: Some(GraduateFacts {
            level: level_label(&g.level, lang),
            destination: Destination::parse(&g.destination).map_or("", |d| d.label(lang)),
            name: g.name,
            citizen_id: g.citizen_id,
            institution: g.institution_name,
            major: g.major,
            study_form: g.study_form,
            graduation_date: day(&g.graduation_date, lang),
            diploma_no: g.diploma_no,
        }),
        form,
        problems,
        problem,
        saved: false,
        applications,
    })
}

async fn graduate_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    match graduate_view(&state, &ctx, None, Problems::default(), None).await {
        Ok(mut page) => {
            page.saved = !q.saved.is_empty() && page.graduate.is_some();
            Ok(render(page))
        }
        Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
    }
}

async fn profile_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(form): Form<ProfileForm>,
) -> Result<Response, PageError> {
    let user = match ctx.check_csrf(&form.csrf) {
        Ok(u) => u,
        Err(e) => return Err(Shell::new(&state, &ctx).fail(e)),
    };
    match employment::graduates::save_profile(&state.db, &user.principal, &form.profile()).await {
        Ok(()) => Ok(Redirect::to("/graduate?saved=1").into_response()),
        Err(e) => {
            let t = texts(ctx.lang);
            let (problems, problem) = match refused(e, ctx.lang) {
                Refused::Fields(p) => (p.named(&[("phone", t.phone)]), None),
                Refused::Message(m) => (Problems::default(), Some(m)),
                Refused::Page(e) => return Err(Shell::new(&state, &ctx).fail(e)),
            };
            match graduate_view(&state, &ctx, Some(form), problems, problem).await {
                Ok(page) => Ok((axum::http::StatusCode::BAD_REQUEST, render(page)).into_response()),
                Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
            }
        }
    }
}

/// 接受录用 / 谢绝录用 / 撤回申请, on the employer's node and then the graduate's copy.
async fn respond_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> Result<Response, PageError> {
    let user = match ctx.check_csrf(&form.csrf) {
        Ok(u) => u,
        Err(e) => return Err(Shell::new(&state, &ctx).fail(e)),
    };
    match decide_application(&state, &user.principal, &id, &form.to, "").await {
        Ok(()) => Ok(Redirect::to("/graduate").into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            let status = e.status();
            let message = e.message(ctx.lang);
            match graduate_view(&state, &ctx, None, Problems::default(), Some(message)).await {
                Ok(page) => Ok((status, render(page)).into_response()),
                Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
            }
        }
        Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(pieces: &[Piece]) -> String {
        pieces
            .iter()
            .map(|p| {
                if p.mark {
                    format!("[{}]", p.text)
                } else {
                    p.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn highlights_byte_ranges_of_chinese_text() {
        let title = "川渝智慧交通数据分析师";
        // 智慧 is bytes 6..12, 交通 12..18, 数据 18..24.
        let pieces = highlight(title, &[(18, 24), (6, 12), (12, 18)]);
        assert_eq!(marked(&pieces), "川渝[智慧交通数据]分析师");
    }

    #[test]
    fn ignores_ranges_it_cannot_trust() {
        let text = "数据<b>分析</b>";
        // Inside a character, reversed, empty, past the end: all ignored.
        let pieces = highlight(text, &[(1, 4), (6, 3), (5, 5), (10, 400)]);
        assert_eq!(marked(&pieces), text);
        // Overlapping ranges are merged; markup stays text (the template escapes it).
        let pieces = highlight(text, &[(0, 6), (3, 9)]);
        assert_eq!(marked(&pieces), "[数据<b>]分析</b>");
        assert!(highlight("", &[(0, 1)]).is_empty());
    }

    #[test]
    fn amounts_and_days_read_naturally() {
        assert_eq!(thousands(8000), "8,000");
        assert_eq!(thousands(950), "950");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(salary(8000, 12000, Lang::Zh), "8,000–12,000 元/月");
        assert_eq!(day("2027-06-30", Lang::Zh), "2027年6月30日");
        assert_eq!(day("2027-06-30", Lang::En), "2027-06-30");
    }

    #[test]
    fn regions_are_named() {
        assert_eq!(prefecture_label("5101"), "成都市");
        assert_eq!(prefecture_label("5001"), "重庆市（市辖区）");
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SubscribeForm {
    csrf: String,
    name: String,
    #[serde(flatten)]
    search: SearchParams,
}

/// 订阅此搜索: saves the search the graduate is looking at.
async fn subscribe_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(form): Form<SubscribeForm>,
) -> Result<Response, PageError> {
    let done: Result<(), AppError> = async {
        let user = ctx.check_csrf(&form.csrf)?;
        let name = if form.name.trim().is_empty() {
            form.search.q.trim().chars().take(40).collect::<String>()
        } else {
            form.name.clone()
        };
        let name = if name.trim().is_empty() {
            "全部岗位".to_owned()
        } else {
            name
        };
        employment::saved::save(&state.db, &user.principal, &name, &form.search.query()).await?;
        Ok(())
    }
    .await;
    match done {
        Ok(()) => Ok(Redirect::to("/graduate#subscriptions").into_response()),
        Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SubscriptionForm {
    csrf: String,
    /// `seen` or `delete`.
    action: String,
}

async fn subscription_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Form(form): Form<SubscriptionForm>,
) -> Result<Response, PageError> {
    let done: Result<(), AppError> = async {
        let user = ctx.check_csrf(&form.csrf)?;
        employment::saved::touch(&state.db, &user.principal, &id, form.action == "delete").await?;
        Ok(())
    }
    .await;
    match done {
        Ok(()) => Ok(Redirect::to("/graduate#subscriptions").into_response()),
        Err(e) => Err(Shell::new(&state, &ctx).fail(e)),
    }
}
