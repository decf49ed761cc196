//! Shouzhen (首诊): makes the emergency-care rules of the COVID lockdowns checkable.
//! See ARCHITECTURE.md for the map of the code.

pub mod api;
pub mod auth;
pub mod cli;
pub mod demo;
pub mod error;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;
