//! The address of a request's client, for the login limits.
//!
//! It is the socket's peer address, unless that peer is one of `[server] trusted_proxies` (nginx
//! in front, say): then it is the address the proxy names. `X-Forwarded-For` is read from the
//! right: the entries the trusted proxies appended are skipped, and the first entry that is not
//! a trusted proxy is the client (entries further left were written by the client itself and are
//! never believed). Without `X-Forwarded-For`, `X-Real-IP` is used. Headers from a peer that is
//! not a trusted proxy are ignored, so a client cannot choose its own address.
//!
//! IPv6 clients are counted per /64 network (one host usually holds a whole /64), and an
//! IPv4-mapped IPv6 address is its IPv4 address.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, HeaderName, request::Parts},
};
use conversational_bi::Error;

use super::{AppState, error::ApiError};

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

/// An address or a CIDR block of `[server] trusted_proxies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `10.0.0.5`, `10.0.0.0/8`, `::1` or `fd00::/8`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (
                addr.parse::<IpAddr>().ok()?,
                Some(prefix.parse::<u8>().ok()?),
            ),
            None => (text.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return None;
        }
        // `::ffff:10.0.0.5` is 10.0.0.5.
        let (addr, prefix) = match addr {
            IpAddr::V6(v6) if prefix >= 96 => match v6.to_ipv4_mapped() {
                Some(v4) => (IpAddr::V4(v4), prefix - 96),
                None => (addr, prefix),
            },
            _ => (addr, prefix),
        };
        Some(Self { addr, prefix })
    }

    /// Whether `ip` is in this block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The proxies whose forwarding headers are believed (`[server] trusted_proxies`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

impl TrustedProxies {
    /// Parses `[server] trusted_proxies`; refuses, naming the key, an entry that is neither an
    /// address nor a CIDR block.
    pub fn from_config(entries: &[String]) -> Result<Self, Error> {
        let mut nets = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let net = IpNet::parse(entry).ok_or_else(|| Error::Config {
                message: format!(
                    "server.trusted_proxies[{i}] = {entry:?} is not an IP address or a CIDR block; write e.g. \"127.0.0.1\" (nginx on the same host) or \"10.0.0.0/24\""
                ),
                key: Some("server.trusted_proxies".into()),
                file: None,
                line: None,
            })?;
            nets.push(net);
        }
        Ok(Self { nets })
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(ip))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// The client of a request that came from `peer` with `headers` (see the module's
    /// documentation). `None` when the request came through no socket (tests).
    pub fn client_ip(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = canonical(peer?.ip());
        if !self.contains(peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = headers
            .get_all(&X_FORWARDED_FOR)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        if hops.is_empty() {
            return Some(
                headers
                    .get(&X_REAL_IP)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_hop)
                    .unwrap_or(peer),
            );
        }
        let mut last = peer;
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(ip) if self.contains(ip) => last = ip,
                Some(ip) => return Some(ip),
                // Not an address: written by someone the proxies do not vouch for.
                None => return Some(last),
            }
        }
        Some(last)
    }
}

/// The client address of a request: see the module's documentation. `None` when the request
/// came through no socket (the router driven directly, as in tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| *addr);
        Ok(Self(
            state.trusted_proxies().client_ip(peer, &parts.headers),
        ))
    }
}

/// An address of a forwarding header: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or
/// `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

/// An IPv4-mapped IPv6 address as IPv4; any other address as is.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The address a client is counted under: IPv4 as is, IPv6 by its /64 network.
pub fn counted_as(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::from_config(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("valid")
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).expect("value"));
        }
        h
    }

    fn at(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().expect("ip"), 40_000))
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("ip"))
    }

    #[test]
    fn entries_parse_as_addresses_or_blocks() {
        let t = proxies(&["127.0.0.1", "10.0.0.0/8", "fd00::/8", "::ffff:192.168.1.1"]);
        assert!(t.contains("127.0.0.1".parse().expect("ip")));
        assert!(!t.contains("127.0.0.2".parse().expect("ip")));
        assert!(t.contains("10.200.3.4".parse().expect("ip")));
        assert!(t.contains("fd12::1".parse().expect("ip")));
        assert!(t.contains("192.168.1.1".parse().expect("ip")));
        assert!(t.contains("::ffff:10.1.1.1".parse().expect("ip")));
        for bad in ["localhost", "10.0.0.0/33", "::/129", "", "10.0.0.1/"] {
            let e = TrustedProxies::from_config(&[bad.to_string()]).expect_err(bad);
            assert!(e.to_string().contains("server.trusted_proxies[0]"), "{e}");
        }
        assert!(proxies(&["0.0.0.0/0"]).contains("8.8.8.8".parse().expect("ip")));
    }

    #[test]
    fn headers_of_an_untrusted_peer_are_ignored() {
        let none = TrustedProxies::default();
        let h = headers(&[("x-forwarded-for", "6.6.6.6"), ("x-real-ip", "7.7.7.7")]);
        assert_eq!(none.client_ip(at("203.0.113.9"), &h), ip("203.0.113.9"));
        let t = proxies(&["127.0.0.1"]);
        assert_eq!(t.client_ip(at("203.0.113.9"), &h), ip("203.0.113.9"));
        assert_eq!(t.client_ip(None, &h), None);
    }

    #[test]
    fn a_trusted_proxy_names_the_client_from_the_right() {
        let t = proxies(&["127.0.0.1", "10.0.0.0/24"]);
        // nginx's $proxy_add_x_forwarded_for: what the client sent, then its own peer.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7")]);
        assert_eq!(t.client_ip(at("127.0.0.1"), &h), ip("198.51.100.7"));
        // A chain of trusted proxies is skipped.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.3")]);
        assert_eq!(t.client_ip(at("127.0.0.1"), &h), ip("198.51.100.7"));
        // Several header lines are one list.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "198.51.100.8:5555"),
        ]);
        assert_eq!(t.client_ip(at("127.0.0.1"), &h), ip("198.51.100.8"));
        // Garbage left of a trusted hop: the last trusted hop's view is the client.
        let h = headers(&[("x-forwarded-for", "unknown, 10.0.0.3")]);
        assert_eq!(t.client_ip(at("127.0.0.1"), &h), ip("10.0.0.3"));
        // No X-Forwarded-For: X-Real-IP, else the peer.
        let h = headers(&[("x-real-ip", "[2001:db8::5]:443")]);
        assert_eq!(t.client_ip(at("127.0.0.1"), &h), ip("2001:db8::5"));
        assert_eq!(
            t.client_ip(at("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn ipv6_clients_count_per_64() {
        assert_eq!(
            counted_as("2001:db8:1:2:aaaa::1".parse().expect("ip")),
            "2001:db8:1:2::".parse::<IpAddr>().expect("ip")
        );
        assert_eq!(
            counted_as("::ffff:1.2.3.4".parse().expect("ip")),
            "1.2.3.4".parse::<IpAddr>().expect("ip")
        );
    }
}
