//! Quire's application layer: the site's settings (`config`), read once
//! and handed to every front door (the command line, the web pages).
//! It sits above store, render and mail and below web and the binary.

pub mod config;
