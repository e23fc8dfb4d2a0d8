//! Who a request comes from: the
//! client's address (the connection's peer, or behind trusted proxies the
//! right-most untrusted address of the forwarding header).

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderName, header};
use ipnet::IpNet;
use quire_app::limits::canonical;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Which header trusted proxies name the client in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    XForwardedFor,
    /// RFC 7239: `Forwarded: for=client, for="[2001:db8::1]:4711"`.
    Forwarded,
}

/// The proxies whose word on the client is taken.
#[derive(Clone, Debug)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// From the settings (already validated: bad entries are skipped).
    pub fn new(entries: &[String], header: &str) -> TrustedProxies {
        TrustedProxies {
            nets: entries
                .iter()
                .filter_map(|e| quire_app::config::parse_proxy(e).ok())
                .collect(),
            header: if header.trim().eq_ignore_ascii_case("forwarded") {
                ForwardedHeader::Forwarded
            } else {
                ForwardedHeader::XForwardedFor
            },
        }
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The client of a request that arrived from `peer` with `headers`.
    /// The header is read only when the peer is a trusted proxy, from the
    /// right: each proxy appends the address it received from, so the
    /// right-most address that is not a trusted proxy is the client, and
    /// whatever stands left of it is the client's own say. Anything
    /// unreadable on the way leaves the peer as the client.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let name: HeaderName = match self.header {
            ForwardedHeader::XForwardedFor => HeaderName::from_static("x-forwarded-for"),
            ForwardedHeader::Forwarded => header::FORWARDED,
        };
        let values: Vec<&str> = headers.get_all(&name).iter().filter_map(|v| v.to_str().ok()).collect();
        let mut client = peer;
        for value in values.iter().rev() {
            for hop in value.rsplit(',') {
                let address = match self.header {
                    ForwardedHeader::XForwardedFor => parse_hop(hop),
                    ForwardedHeader::Forwarded => forwarded_for(hop).and_then(parse_hop),
                };
                let Some(address) = address else { return peer };
                if !self.trusts(address) {
                    return address;
                }
                client = address;
            }
        }
        client
    }
}

/// The `for=` value of one element of a `Forwarded` header.
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        key.trim().eq_ignore_ascii_case("for").then_some(value.trim())
    })
}

/// An address as a hop names it: bare, `"quoted"`, `[v6]`, with or
/// without a port.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(socket) = hop.parse::<SocketAddr>() {
        return Some(canonical(socket.ip()));
    }
    hop.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse::<Ipv6Addr>().ok())
        .map(|ip| canonical(IpAddr::V6(ip)))
}

/// The connection's peer address (tests without a socket: 127.0.0.1).
pub fn peer(extensions: &axum::http::Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use std::time::Duration;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn headers(name: &'static str, values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(name, HeaderValue::from_str(v).expect("value"));
        }
        h
    }

    #[test]
    fn forwarded_addresses_are_read_only_from_trusted_proxies_from_the_right() {
        let proxies = TrustedProxies::new(&["127.0.0.1".into(), "10.0.0.0/8".into()], "x-forwarded-for");
        let xff = |v: &[&str]| headers("x-forwarded-for", v);
        let proxy = ip("127.0.0.1");
        // A stranger's header is never read.
        assert_eq!(
            proxies.client(ip("198.51.100.7"), &xff(&["203.0.113.1"])),
            ip("198.51.100.7")
        );
        // Behind the proxy: the address it appended.
        assert_eq!(proxies.client(proxy, &xff(&["203.0.113.1"])), ip("203.0.113.1"));
        // What the client wrote itself stands left of it, and is passed over.
        assert_eq!(
            proxies.client(proxy, &xff(&["6.6.6.6, 203.0.113.1"])),
            ip("203.0.113.1")
        );
        // Through several trusted proxies, and split over several headers.
        assert_eq!(
            proxies.client(proxy, &xff(&["1.2.3.4, 203.0.113.1, 10.1.2.3", "10.9.9.9"])),
            ip("203.0.113.1")
        );
        // Junk to the right of every untrusted hop: the peer it is.
        assert_eq!(proxies.client(proxy, &xff(&["203.0.113.1, junk"])), proxy);
        assert_eq!(proxies.client(proxy, &xff(&[])), proxy);
        assert_eq!(
            proxies.client(proxy, &xff(&["10.0.0.1"])),
            ip("10.0.0.1"),
            "all trusted"
        );
        assert_eq!(proxies.client(proxy, &xff(&["[2001:db8::7]:443"])), ip("2001:db8::7"));
        assert_eq!(
            proxies.client(ip("::ffff:127.0.0.1"), &xff(&["203.0.113.2"])),
            ip("203.0.113.2")
        );
        // The Forwarded header only when it is the one configured.
        let fwd = |v: &[&str]| headers("forwarded", v);
        assert_eq!(proxies.client(proxy, &fwd(&["for=203.0.113.1"])), proxy);
        let rfc = TrustedProxies::new(&["127.0.0.1".into()], "forwarded");
        assert_eq!(
            rfc.client(
                proxy,
                &fwd(&["for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https"])
            ),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(rfc.client(proxy, &fwd(&["for=unknown"])), proxy);
        assert_eq!(
            rfc.client(proxy, &xff(&["203.0.113.1"])),
            proxy,
            "the other header is not read"
        );
        // No proxies trusted: the peer, whatever the headers say.
        let none = TrustedProxies::new(&[], "x-forwarded-for");
        assert_eq!(none.client(proxy, &xff(&["203.0.113.1"])), proxy);
    }

    #[test]
    fn a_long_forwarding_header_is_read_in_one_pass() {
        use quire_core::test_support::finishes_within;
        let proxies = TrustedProxies::new(&["10.0.0.0/8".into()], "x-forwarded-for");
        let mut value = "203.0.113.1".to_owned();
        for n in 0..20_000u32 {
            value.push_str(&format!(", 10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255));
        }
        let h = headers("x-forwarded-for", &[&value]);
        let client = finishes_within(Duration::from_secs(10), move || proxies.client(ip("10.0.0.1"), &h));
        assert_eq!(client, ip("203.0.113.1"));
    }
}
