//! Quire: a self-hosted publishing platform for research papers, briefs and
//! reports. See ARCHITECTURE.md for the map of modules and how data flows.

pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod mail;
pub mod markdown;
pub mod render;
pub mod store;
pub mod web;

#[cfg(test)]
mod properties;

/// Helpers for the randomised robustness tests.
#[cfg(test)]
pub(crate) mod test_support {
    use std::time::Duration;

    /// Runs `f` on a thread of its own and fails the test unless it
    /// returns within `limit`. For inputs built to make quadratic code do
    /// billions of steps: linear code returns in milliseconds, the
    /// quadratic code it replaced in minutes, so the limit bounds
    /// termination with a wide margin rather than measuring speed.
    pub fn finishes_within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        match rx.recv_timeout(limit) {
            Ok(value) => value,
            Err(_) => panic!("did not finish within {limit:?}: the work is not linear in the input"),
        }
    }

    /// Deterministic random documents: `count` strings, each up to
    /// `max_pieces` pieces picked from `pieces` (xorshift from `seed`).
    pub fn random_documents(pieces: &[&str], seed: u64, count: usize, max_pieces: u64) -> Vec<String> {
        let mut state = seed;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..count)
            .map(|_| {
                let n = next() % max_pieces;
                (0..n)
                    .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }
}
