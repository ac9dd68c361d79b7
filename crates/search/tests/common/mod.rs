//! Shared by the tests and the benchmark: synthetic jobs as index documents.

#![allow(dead_code)]

use search::JobDoc;

/// 2026-06-01T00:00:00Z, the "now" of the synthetic data.
pub const NOW_MS: i64 = 1_780_272_000_000;
pub const DAY_MS: i64 = 86_400_000;

pub fn job_doc(job: synth::jobs::Job) -> JobDoc {
    JobDoc {
        key: job.key,
        title: job.title,
        description: job.description,
        employer: job.employer,
        employer_type: job.employer_type.to_owned(),
        city: job.city,
        level: job.level.to_owned(),
        majors: job.majors,
        salary_min: job.salary_min,
        salary_max: job.salary_max,
        // Spread over the day so that recency ties are rare.
        published_ms: NOW_MS
            - i64::from(job.published_days_ago) * DAY_MS
            - (job.index as i64 * 7_919) % DAY_MS,
        deadline_ms: NOW_MS + i64::from(job.deadline_in_days) * DAY_MS,
    }
}

/// `count` jobs, half from each province.
pub fn synthetic(seed: u64, count: u64) -> impl Iterator<Item = JobDoc> {
    let half = count / 2;
    synth::jobs::jobs(synth::Province::CQ, seed, count - half)
        .chain(synth::jobs::jobs(synth::Province::SC, seed, half))
        .map(job_doc)
}
