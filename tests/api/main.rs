//! Integration tests: the real service on 127.0.0.1:0 against a fresh database per test,
//! driven over HTTP. SQLite always; PostgreSQL when `SAFESCREEN_TEST_DATABASE_URL` is set.
mod helpers;

mod administration;
mod audit;
mod authorization;
mod backups;
mod bad_input;
mod certificates;
mod checkpoints;
mod cli;
mod console;
mod engine;
mod engine_faults;
mod faults;
mod identity;
mod keys;
mod layers;
mod migrations;
mod openapi;
mod operations;
mod org_view;
mod pages;
mod portal;
mod rate_limits;
mod sandbox;
mod scale_out;
mod screening;
mod sign_in;
mod subject;
mod webhooks;
