//! The workflow engine: definitions as data, the pure transition function, and the command
//! path that runs an event to the next wait state in one transaction. It knows nothing of the
//! services, the API or the pages above it: what it needs of the process is [`Engine`].
use std::sync::Arc;

use crate::crypto::{DataKey, Keyring};

pub mod checks;
pub mod clearance;
pub mod commands;
pub mod definition;
pub mod definitions;
pub mod routing;
pub mod tasks;
pub mod timers;
pub mod transition;

/// What the engine needs of the process it runs in: the key that seals what it writes and
/// opens what it reads, the workflow definitions requests run by, and the keys and issuer
/// that sign a clearance's certificate.
#[derive(Clone)]
pub struct Engine {
    pub data_key: DataKey,
    pub definitions: Arc<definitions::Definitions>,
    pub keyring: Arc<Keyring>,
    /// The certificates' `iss`: the service's public URL (the subject's links start with it).
    pub issuer: String,
    /// Who runs the service, as the e-mails to subjects sign.
    pub operator: String,
}

impl Engine {
    pub fn new(data_key: DataKey, issuer: String, operator: String) -> Self {
        Engine {
            data_key,
            definitions: Arc::default(),
            keyring: Arc::default(),
            issuer,
            operator,
        }
    }
}
