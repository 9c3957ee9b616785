//! Cryptography for data at rest (and, later, certificates).
pub mod sealing;

pub use sealing::{DataKey, SealError};
