//! Quire: a self-hosted publishing platform for research papers, briefs and
//! reports. This crate is the `quire` command (`cli`) and the generated demo
//! site (`demo`); the layers below it are crates of their own, and
//! ARCHITECTURE.md maps them.

pub mod cli;
pub mod demo;
