//! Quire: a self-hosted publishing platform for research papers, briefs and
//! reports. See ARCHITECTURE.md for the map of modules and how data flows.

pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod markdown;
pub mod render;
pub mod store;
pub mod web;
