//! The address a request comes from, for the per-address limits: the peer
//! of the connection, or, when that peer is a trusted reverse proxy, the
//! client it says it forwards for (`X-Forwarded-For`).

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// Reads `--trusted-proxies` values: an address (`10.0.0.5`, `::1`) or a
/// range in CIDR notation (`10.0.0.0/8`).
pub fn parse_trusted(value: &str) -> Result<IpNet, String> {
    let v = value.trim();
    v.parse::<IpNet>()
        .or_else(|_| v.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{value}` is neither an IP address nor a CIDR range such as 10.0.0.0/8"))
}

/// The client's address. `X-Forwarded-For` is read only when the peer is
/// trusted: anyone else could write any address there. Its entries are
/// read from the right (each proxy appends the address it got the request
/// from), skipping trusted proxies: the first untrusted one is the client.
/// An entry that is not an address ends the walk at the last hop known.
pub(crate) fn client(trusted: &[IpNet], peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    let is_trusted = |a: &IpAddr| trusted.iter().any(|net| net.contains(a));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let entries: Vec<&str> =
        headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).map(str::trim).collect();
    let mut known = peer;
    for entry in entries.iter().rev() {
        let Some(address) = parse_entry(entry) else { break };
        known = address;
        if !is_trusted(&address) {
            break;
        }
    }
    Some(known)
}

/// `192.0.2.1`, `2001:db8::1`, and the forms with a port some proxies
/// write: `192.0.2.1:4711`, `[2001:db8::1]:4711`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let address = entry.parse::<IpAddr>().or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip())).ok()?;
    Some(address.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for f in forwarded {
            h.append("x-forwarded-for", f.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_addresses_are_read_from_trusted_peers_only() {
        let trusted = vec![parse_trusted("10.0.0.0/8").unwrap(), parse_trusted("127.0.0.1").unwrap()];
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let from = |peer: &str, xff: &[&str]| client(&trusted, ip(peer), &headers(xff));
        assert_eq!(from("192.0.2.9", &["203.0.113.7"]), ip("192.0.2.9"), "an untrusted peer's header is ignored");
        assert_eq!(from("127.0.0.1", &["203.0.113.7"]), ip("203.0.113.7"));
        assert_eq!(from("127.0.0.1", &["198.51.100.1, 203.0.113.7"]), ip("203.0.113.7"), "the right-most untrusted");
        assert_eq!(from("127.0.0.1", &["203.0.113.7", "10.1.2.3"]), ip("203.0.113.7"), "trusted hops skipped, headers joined");
        assert_eq!(from("127.0.0.1", &["[2001:db8::1]:4711"]), ip("2001:db8::1"));
        assert_eq!(from("127.0.0.1", &["nimporte, 10.1.2.3"]), ip("10.1.2.3"), "stops at what is not an address");
        assert_eq!(from("127.0.0.1", &[]), ip("127.0.0.1"));
        assert_eq!(from("::ffff:127.0.0.1", &["203.0.113.7"]), ip("203.0.113.7"));
        assert_eq!(client(&trusted, None, &headers(&["203.0.113.7"])), None);
        assert!(parse_trusted("proxy.local").is_err());
        assert_eq!(parse_trusted(" ::1 ").unwrap().to_string(), "::1/128");
    }
}
