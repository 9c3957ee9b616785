//! Cryptography: personal data at rest, and certificate signing.
pub mod data_keys;
pub mod keyring;
pub mod sealing;
pub mod signing;

pub use keyring::{KeyPair, Keyring};
pub use sealing::{DataKey, SealError};
