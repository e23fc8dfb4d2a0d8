//! Quire's core: the content model (`domain`), Markdown (`markdown`),
//! signed values (`signing`) and secrets (`secret`). Pure data and rules shared by every layer;
//! nothing here does I/O, so every other crate may depend on it.

pub mod domain;
pub mod markdown;
pub mod secret;
pub mod signing;
pub mod toml_text;

#[cfg(test)]
mod properties;

/// Helpers for the randomised robustness tests.
#[cfg(any(test, feature = "test-support"))]
pub mod test_support {
    use std::time::Duration;

    /// Text built from the pieces a parser treats specially, so that
    /// generated cases hit its edges rather than plain letters.
    pub fn tricky(pieces: &'static [&'static str], max: usize) -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::strategy::Strategy;
        proptest::collection::vec(proptest::sample::select(pieces), 0..max).prop_map(|v| v.concat())
    }

    /// The number of cases every property test runs in `cargo test`.
    pub fn cases() -> proptest::test_runner::Config {
        proptest::test_runner::Config {
            cases: 128,
            ..proptest::test_runner::Config::default()
        }
    }

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
