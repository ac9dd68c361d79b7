//! Identifiers, validation and the shared vocabulary of the platform.
//!
//! Architecture invariant: no IO, no async, no database. Everything here is a pure function
//! of its input, so it is tested exhaustively with property tests and reused by every crate
//! (and later by the offline verifier).

pub mod access;
pub mod division;
pub mod employment;
pub mod ids;
pub mod jcs;
pub mod lang;
pub mod student_status;

pub use lang::{Lang, Localized};
