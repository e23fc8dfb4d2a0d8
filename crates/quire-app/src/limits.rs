//! How often a client may do something: the key rate limits count a
//! client under (IPv6 by /64), and limiters of fixed capacity. The
//! operations that strangers can repeat (posting a comment, signing up,
//! asking for a link) count here, whichever front door they came by.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Clients a limiter remembers; past it the least recently seen is
/// forgotten (in constant time), so no flood of addresses grows it.
pub const LIMITER_CLIENTS: usize = 65_536;

/// IPv4 written as IPv6 (`::ffff:192.0.2.1`) is IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
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

/// How failures slow the next attempt: `free` failures cost nothing, each
/// one past them doubles the wait (1 s, 2 s, 4 s…) up to `cap`; failures
/// older than `forget_after` are forgotten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackoffRule {
    pub free: u32,
    pub cap: Duration,
    pub forget_after: Duration,
}

impl BackoffRule {
    /// The wait after `failures` failures in a row.
    pub fn delay(&self, failures: u32) -> Duration {
        if failures < self.free {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free).min(30);
        Duration::from_secs(1u64 << doublings).min(self.cap)
    }

    /// How long to wait still, at `now` (seconds), after `failures`
    /// failures of which the last was at `last`; `None`: go ahead.
    pub fn wait(&self, failures: u32, last: i64, now: i64) -> Option<Duration> {
        let since = u64::try_from(now.saturating_sub(last)).unwrap_or(0);
        let delay = self.delay(failures).as_secs();
        (since < delay).then(|| Duration::from_secs(delay - since))
    }
}

/// Failures in a row per client, for at most [`LIMITER_CLIENTS`] clients
/// (the least recently failed forgotten first, in constant time), with
/// the wait before each client's next attempt growing under a
/// [`BackoffRule`]. Times are Unix seconds, so tests choose them.
pub struct Backoff<K: Hash + Eq = IpAddr> {
    rule: BackoffRule,
    failures: Mutex<lru::LruCache<K, (u32, i64)>>,
}

impl<K: Hash + Eq> Backoff<K> {
    pub fn new(rule: BackoffRule) -> Backoff<K> {
        Backoff::with_capacity(rule, LIMITER_CLIENTS)
    }

    /// A backoff that remembers at most `clients` clients.
    pub fn with_capacity(rule: BackoffRule, clients: usize) -> Backoff<K> {
        Backoff {
            rule,
            failures: Mutex::new(lru::LruCache::new(
                NonZeroUsize::new(clients).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// How long `key` must wait still at `now`; `None`: it may try.
    pub fn wait(&self, key: &K, now: i64) -> Option<Duration> {
        let Ok(mut failures) = self.failures.lock() else {
            return None;
        };
        let &(count, last) = failures.peek(key)?;
        if self.forgotten(last, now) {
            failures.pop(key);
            return None;
        }
        self.rule.wait(count, last, now)
    }

    /// Counts a failure of `key` at `now`; returns the failures in a row.
    pub fn fail(&self, key: K, now: i64) -> u32 {
        let Ok(mut failures) = self.failures.lock() else {
            return 0;
        };
        let entry = failures.get_or_insert_mut(key, || (0, now));
        if self.forgotten(entry.1, now) {
            entry.0 = 0;
        }
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now;
        entry.0
    }

    fn forgotten(&self, last: i64, now: i64) -> bool {
        u64::try_from(now.saturating_sub(last)).unwrap_or(0) >= self.rule.forget_after.as_secs()
    }

    /// Clients remembered now.
    pub fn len(&self) -> usize {
        self.failures.lock().map_or(0, |f| f.len())
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
    use std::net::Ipv4Addr;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
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
    fn backoff_grows_per_client_up_to_its_cap_and_is_forgotten() {
        let rule = BackoffRule {
            free: 3,
            cap: Duration::from_secs(60),
            forget_after: Duration::from_secs(3600),
        };
        assert_eq!(rule.delay(2), Duration::ZERO);
        assert_eq!(rule.delay(3), Duration::from_secs(1));
        assert_eq!(rule.delay(4), Duration::from_secs(2));
        assert_eq!(rule.delay(8), Duration::from_secs(32));
        assert_eq!(rule.delay(9), Duration::from_secs(60), "capped");
        assert_eq!(rule.delay(u32::MAX), Duration::from_secs(60), "no overflow");
        let backoff = Backoff::new(rule);
        let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
        for n in 1..=3 {
            assert_eq!(backoff.fail(a, 1000), n);
        }
        assert_eq!(backoff.wait(&a, 1000), Some(Duration::from_secs(1)));
        assert_eq!(backoff.wait(&a, 1001), None, "waited");
        assert_eq!(backoff.wait(&b, 1000), None, "another client");
        backoff.fail(a, 1001);
        assert_eq!(backoff.wait(&a, 1001), Some(Duration::from_secs(2)), "grows");
        for _ in 0..20 {
            backoff.fail(a, 1002);
        }
        assert_eq!(backoff.wait(&a, 1002), Some(Duration::from_secs(60)));
        assert_eq!(backoff.wait(&a, 1002 + 3600), None, "forgotten after an hour");
        assert_eq!(backoff.fail(a, 1002 + 3600), 1, "counting starts again");
        let small = Backoff::with_capacity(rule, 2);
        for n in 0..100u32 {
            small.fail(IpAddr::V4(Ipv4Addr::from(n)), 0);
        }
        assert_eq!(small.len(), 2, "bounded");
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
}
