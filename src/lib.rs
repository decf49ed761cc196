//! Shouzhen (首诊): makes the emergency-care rules of the COVID lockdowns checkable.
//! See ARCHITECTURE.md for the map of the code.

pub mod accounts;
pub mod api;
pub mod auth;
pub mod board;
pub mod cli;
pub mod complaints;
pub mod config;
pub mod demo;
pub mod engine;
pub mod error;
pub mod import;
pub mod intake;
pub mod keys;
pub mod mail;
pub mod notify;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;
pub mod workflow;
