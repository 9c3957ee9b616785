//! Work that leaves the service: webhook deliveries, written in the same transaction as the
//! change that causes them and delivered by a background worker.
pub mod ssrf;
pub mod webhooks;
