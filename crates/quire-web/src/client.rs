//! Who a request comes from, and how often they may do something: the
//! client's address (the connection's peer, or behind trusted proxies the
//! right-most untrusted address of the forwarding header), the key rate
//! limits count it under (IPv6 by /64), and limiters of fixed capacity.

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderName, header};
use ipnet::IpNet;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Clients a limiter remembers; past it the least recently seen is
/// forgotten (in constant time), so no flood of addresses grows it.
pub const LIMITER_CLIENTS: usize = 65_536;

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

/// IPv4 written as IPv6 (`::ffff:192.0.2.1`) is IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The connection's peer address (tests without a socket: 127.0.0.1).
pub fn peer(request: &Request) -> IpAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip())
}

/// What rate limits count a client under: an IPv4 address, or an IPv6
/// /64 (one subscriber line holds a whole /64, and can pick any address
/// in it for each request).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// Counts of actions per client (an address, or a hashed email address)
/// in sliding windows, for at most [`LIMITER_CLIENTS`] clients: the least
/// recently seen is forgotten first, in constant time. Each client keeps
/// only as many times as its largest limit, in seconds.
pub struct RateLimiter<K: Hash + Eq = IpAddr> {
    hits: Mutex<lru::LruCache<K, Vec<u32>>>,
    epoch: Instant,
}

impl<K: Hash + Eq> RateLimiter<K> {
    pub fn new() -> RateLimiter<K> {
        RateLimiter::with_capacity(LIMITER_CLIENTS)
    }

    /// A limiter that remembers at most `clients` clients.
    pub fn with_capacity(clients: usize) -> RateLimiter<K> {
        RateLimiter {
            hits: Mutex::new(lru::LruCache::new(
                NonZeroUsize::new(clients).unwrap_or(NonZeroUsize::MIN),
            )),
            epoch: Instant::now(),
        }
    }

    /// Counts a post from `key`, or says how long to wait when it is one
    /// too many in the last minute or hour. A limit of 0 is no limit.
    pub fn check(&self, key: K, per_minute: u32, per_hour: u32, now: Instant) -> Result<(), Duration> {
        self.check_within(
            key,
            &[
                (Duration::from_secs(60), per_minute),
                (Duration::from_secs(3600), per_hour),
            ],
            now,
        )
    }

    /// Counts an action of `key`, or says how long to wait, under limits
    /// given as (window, most actions in it); windows grow, and the last is
    /// how long actions are remembered. A limit of 0 is no limit.
    pub fn check_within(&self, key: K, limits: &[(Duration, u32)], now: Instant) -> Result<(), Duration> {
        let Some(&(longest, _)) = limits.last() else {
            return Ok(());
        };
        let kept = limits.iter().map(|l| l.1).max().unwrap_or(0) as usize;
        if kept == 0 {
            return Ok(());
        }
        let seconds = |d: Duration| u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
        let now_s = seconds(now.saturating_duration_since(self.epoch));
        let Ok(mut hits) = self.hits.lock() else { return Ok(()) };
        let times = hits.get_or_insert_mut(key, Vec::new);
        let expired = times
            .iter()
            .take_while(|t| now_s.saturating_sub(**t) >= seconds(longest))
            .count();
        times.drain(..expired);
        for &(window, most) in limits.iter().rev() {
            if most == 0 {
                continue;
            }
            let window_s = seconds(window);
            let mut within = times.iter().filter(|t| now_s.saturating_sub(**t) < window_s);
            let oldest = within.next().copied();
            let count = oldest.map_or(0, |_| 1 + within.count());
            if count >= most as usize {
                let age = now_s.saturating_sub(oldest.unwrap_or(now_s));
                return Err(Duration::from_secs(u64::from(window_s.saturating_sub(age))));
            }
        }
        times.push(now_s);
        if times.len() > kept {
            times.drain(..times.len() - kept);
        }
        Ok(())
    }

    /// Clients remembered now.
    pub fn len(&self) -> usize {
        self.hits.lock().map_or(0, |h| h.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: Hash + Eq> Default for RateLimiter<K> {
    fn default() -> Self {
        RateLimiter::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

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
    fn rate_limits_count_per_address_and_say_how_long_to_wait() {
        let limiter = RateLimiter::new();
        let a = ip("192.0.2.1");
        let b = ip("192.0.2.2");
        let t0 = Instant::now();
        for i in 0..5 {
            assert!(limiter.check(a, 5, 30, t0 + Duration::from_secs(i)).is_ok());
        }
        let wait = limiter
            .check(a, 5, 30, t0 + Duration::from_secs(10))
            .expect_err("sixth in a minute");
        assert_eq!(wait, Duration::from_secs(50));
        assert!(
            limiter.check(b, 5, 30, t0 + Duration::from_secs(10)).is_ok(),
            "another address"
        );
        assert!(
            limiter.check(a, 5, 30, t0 + Duration::from_secs(61)).is_ok(),
            "a minute later"
        );
        assert!(
            limiter.check(a, 0, 0, t0 + Duration::from_secs(61)).is_ok(),
            "0 is no limit"
        );
        let hourly = RateLimiter::new();
        // Times count from the limiter's making.
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(hourly.check(a, 0, 3, t0 + Duration::from_secs(i * 120)).is_ok());
        }
        let wait = hourly
            .check(a, 0, 3, t0 + Duration::from_secs(600))
            .expect_err("fourth in an hour");
        assert_eq!(wait, Duration::from_secs(3000));
        // Both windows hold together: five in a minute, thirty in an hour.
        let both = RateLimiter::new();
        let t0 = Instant::now();
        let mut allowed = 0;
        for i in 0..3600 {
            if both.check(a, 5, 30, t0 + Duration::from_secs(i)).is_ok() {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 30);
    }

    #[test]
    fn two_hundred_thousand_addresses_are_held_in_fixed_memory_and_time() {
        use quire_core::test_support::finishes_within;
        let limiter: std::sync::Arc<RateLimiter> = std::sync::Arc::new(RateLimiter::with_capacity(50_000));
        let l = limiter.clone();
        finishes_within(Duration::from_secs(30), move || {
            let t0 = Instant::now();
            for n in 0..200_000u32 {
                let addr = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n));
                assert!(l.check(addr, 5, 30, t0).is_ok());
            }
        });
        assert_eq!(limiter.len(), 50_000, "the least recently seen are forgotten");
        // An address still seen keeps its count.
        let busy = ip("192.0.2.9");
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(limiter.check(busy, 5, 30, t0).is_ok());
        }
        for n in 0..1000u32 {
            limiter
                .check(IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + n)), 5, 30, t0)
                .expect("new");
        }
        assert!(limiter.check(busy, 5, 30, t0).is_err());
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), ip("2001:db8:1:2::"));
        assert_ne!(limit_key(ip("2001:db8:1:3::1")), limit_key(ip("2001:db8:1:2::1")));
        assert_eq!(limit_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(limit_key(ip("192.0.2.7")), ip("192.0.2.7"));
        let limiter = RateLimiter::new();
        let t0 = Instant::now();
        for host in 1..=3 {
            let addr = ip(&format!("2001:db8::{host:x}"));
            assert!(limiter.check(limit_key(addr), 3, 0, t0).is_ok());
        }
        assert!(
            limiter.check(limit_key(ip("2001:db8::ffff")), 3, 0, t0).is_err(),
            "same /64"
        );
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
