//! Property tests of the forwarding headers a stranger sends.

use proptest::prelude::*;
use quire_core::test_support::cases;

proptest! {
    #![proptest_config(cases())]
    #[test]
    fn the_client_is_the_peer_or_a_named_hop(hops in proptest::collection::vec(proptest::sample::select(&[
        "203.0.113.1", "10.0.0.1", "junk", "[2001:db8::1]:80", "", " ", "10.9.9.9", "unknown", "::ffff:10.0.0.2",
    ][..]), 0..8)) {
        let proxies = crate::client::TrustedProxies::new(&["10.0.0.0/8".into()], "x-forwarded-for");
        let value = hops.join(", ");
        let mut headers = axum::http::HeaderMap::new();
        if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
            headers.insert("x-forwarded-for", v);
        }
        let peer: std::net::IpAddr = "10.0.0.7".parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
        let client = proxies.client(peer, &headers);
        let named = hops.iter().any(|h| {
            h.trim().trim_start_matches('[').split(']').next().unwrap_or("").parse::<std::net::IpAddr>().ok()
                .map(|ip| match ip {
                    std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
                    v4 => v4,
                }) == Some(client)
        });
        prop_assert!(client == peer || named, "{client} from {value:?}");
    }
}
