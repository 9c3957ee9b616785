//! Cryptography: personal data at rest, and certificate signing.
pub mod sealing;
pub mod signing;

pub use sealing::{DataKey, SealError};
