//! Property tests of the signed links a stranger hands back.

use proptest::prelude::*;
use quire_core::test_support::cases;

proptest! {
    #![proptest_config(cases())]
    #[test]
    fn confirmation_tokens_round_trip(email in "[a-z]{1,8}@[a-z]{1,8}\\.org", name in ".{0,30}", topics in proptest::collection::vec("[a-z]{1,8}", 0..4)) {
        let signer = quire_core::signing::Signer::new(b"k");
        let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let signup = crate::links::SignUp { email, name, topics };
        let token = crate::links::confirm_token(&signer, &signup, now + time::Duration::hours(1));
        prop_assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)), "{token}");
        let opened = crate::links::open_confirm_token(&signer, &token, now).map(|(s, _)| s);
        prop_assert_eq!(opened, Ok(signup));
    }
}
