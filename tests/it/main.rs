//! Quire's whole-program tests, in one binary so that a change links them
//! once: the command line run as a program (`cli`), the site through its
//! router (`reader`, `web`, `comments`, `newsletter`), and the Store API
//! suite on each back end (`store_sqlite`, `store_postgres`, which needs
//! `QUIRE_TEST_POSTGRES_URL` and says when it skips). Run one part with a
//! filter, such as `cargo test --test it -- newsletter::`.

mod common;

mod admin;
mod cli;
mod comments;
mod newsletter;
mod reader;
mod store_postgres;
mod store_sqlite;
mod web;
