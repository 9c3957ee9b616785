//! The workflow engine: definitions as data, the pure transition function, and the command
//! path that runs an event to the next wait state in one transaction.
pub mod checks;
pub mod commands;
pub mod definition;
pub mod routing;
pub mod tasks;
pub mod timers;
pub mod transition;
