//! Property tests of the search terms a stranger types.

use proptest::prelude::*;
use quire_core::test_support::{cases, tricky};

proptest! {
    #![proptest_config(cases())]
    #[test]
    fn search_terms_hand_the_engines_only_quoted_words(query in tricky(&[
        "\"", "a", "Harbour", "é", "*", "-", "NEAR", "AND", "OR", "(", ")", ":", "'", "&", "|", "!", "<->", " ",
        "\u{0}", "^", "1",
    ], 60)) {
        let terms = crate::SearchTerms::parse(&query);
        for word in terms.words() {
            prop_assert!(!word.is_empty() && word.chars().all(char::is_alphanumeric), "{word:?}");
        }
    }
}
