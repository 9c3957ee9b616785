//! safescreen: screening of Dutch volunteers and staff deployed outside the EU.
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod bootstrap;
pub mod cache;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod domain;
pub mod engine;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod outbox;
pub mod pagination;
pub mod schemas;
pub mod services;
pub mod telemetry;
pub mod validation;
pub mod web;
pub mod workers;

pub use app::{router, serve};
pub use config::Config;
pub use services::AppState;
