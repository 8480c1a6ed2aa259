//! String formats: email (HTML5 rule with RFC 5321 lengths), URL (WHATWG), UUID, RFC 3339
//! date-time. Each is a pure `fn(&str) -> bool`; valid input allocates nothing on the common
//! paths (ASCII email domains, simple `http(s)` URLs).
//!
//! With the `url` cargo feature (on by default) URLs are parsed by the `url` crate (WHATWG)
//! and internationalised email domains converted by `idna`. Without it, coord builds faster and
//! checks both by syntax alone: a URL is an RFC 3986 absolute URI (a scheme, `:`, no spaces or
//! control characters; `http`, `https`, `ws`, `wss` and `ftp` need a non-empty `//host` with
//! a port ≤ 65535), and a non-ASCII email domain is accepted when every label is 1..=63 bytes
//! of letters, digits and inner hyphens in any script. The shared WHATWG test vectors hold
//! only with the feature.

use std::net::IpAddr;

/// Email address per the HTML5 "valid e-mail address" rule, plus RFC 5321 lengths (local part
/// ≤ 64 chars, domain ≤ 255 chars), bracketed IPv4/IPv6 literals and internationalised domains
/// (checked after IDNA to-ASCII). Quoted local parts are refused.
pub fn is_email(s: &str) -> bool {
    let Some(at) = s.rfind('@') else {
        return false;
    };
    let (local, domain) = (&s[..at], &s[at + 1..]);
    if local.is_empty() || local.chars().count() > 64 || domain.chars().count() > 255 {
        return false;
    }
    let local_ok = local.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'.' | b'!'
                    | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'/'
                    | b'='
                    | b'?'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'{'
                    | b'|'
                    | b'}'
                    | b'~'
                    | b'-'
            )
    });
    if !local_ok {
        return false;
    }
    if is_dns_domain(domain) || is_ip_literal(domain) {
        return true;
    }
    if domain.is_ascii() {
        // To-ASCII only lowercases an ASCII domain, which cannot turn a refused one valid.
        return false;
    }
    is_international_domain(domain)
}

#[cfg(feature = "url")]
fn is_international_domain(domain: &str) -> bool {
    match idna::domain_to_ascii(domain) {
        Ok(ascii) => is_dns_domain(&ascii) || is_ip_literal(&ascii),
        Err(_) => false,
    }
}

/// Without IDNA: labels of letters and digits of any script and inner hyphens.
#[cfg(not(feature = "url"))]
fn is_international_domain(domain: &str) -> bool {
    domain.split('.').all(|label| {
        let ok_char = |c: char| c.is_alphanumeric() || c == '-';
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(ok_char)
    })
}

/// Dot-separated labels of 1..=63 ASCII letters, digits and inner hyphens.
fn is_dns_domain(d: &str) -> bool {
    !d.is_empty()
        && d.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        })
}

/// `[127.0.0.1]` or `[2001:db8::1]` (no `IPv6:` tag, as in the HTML5-based validators).
fn is_ip_literal(d: &str) -> bool {
    let Some(inner) = d.strip_prefix('[').and_then(|r| r.strip_suffix(']')) else {
        return false;
    };
    !inner.is_empty()
        && inner
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        && inner.parse::<IpAddr>().is_ok()
}

/// URL per the WHATWG URL standard (what browsers accept): any scheme; surrounding whitespace and
/// control characters are stripped as browsers do. Same verdict as `url::Url::parse(s).is_ok()`.
///
/// Without the `url` feature: the RFC 3986 syntax check described in the module docs.
pub fn is_url(s: &str) -> bool {
    match simple_url(s) {
        Some(verdict) => verdict,
        #[cfg(feature = "url")]
        None => url::Url::parse(s).is_ok(),
        #[cfg(not(feature = "url"))]
        None => is_absolute_uri(s),
    }
}

/// An RFC 3986 absolute URI, checked by syntax (the fallback without the `url` feature).
#[cfg(not(feature = "url"))]
fn is_absolute_uri(s: &str) -> bool {
    // Browsers strip leading and trailing C0 controls and spaces; so does the WHATWG parser.
    let s = s.trim_matches(|c: char| c <= ' ');
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let special = ["http", "https", "ws", "wss", "ftp"]
        .iter()
        .any(|name| scheme.eq_ignore_ascii_case(name));
    if !special {
        return true;
    }
    let Some(after_slashes) = rest.strip_prefix("//") else {
        return false;
    };
    let authority = after_slashes
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((v6, after)) if v6.parse::<std::net::Ipv6Addr>().is_ok() => (v6, after),
            _ => return false,
        },
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, port),
            None => (host_port, ""),
        },
    };
    let port = port.strip_prefix(':').unwrap_or(port);
    let port_ok = port.is_empty()
        || (port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| p <= 65535));
    !host.is_empty() && port_ok
}

/// Decides the common `scheme://host[:port][/...]` shape without allocating; `None` means
/// "ask the full parser". Only answers `Some(true)` where the WHATWG parser cannot fail: a
/// special scheme, a host of plain ASCII labels whose last label starts with a letter (so it is
/// not an IPv4 number) and is not punycode, a port ≤ 65535, and printable ASCII after it (path,
/// query and fragment parsing never fails).
fn simple_url(s: &str) -> Option<bool> {
    let b = s.as_bytes();
    let rest = strip_prefix_ci(b, b"https://").or_else(|| strip_prefix_ci(b, b"http://"))?;
    let host_end = rest
        .iter()
        .position(|c| matches!(c, b'/' | b'?' | b'#' | b':'))
        .unwrap_or(rest.len());
    let (host, mut tail) = rest.split_at(host_end);
    if host.is_empty() || host.len() > 253 {
        return None;
    }
    let mut last_label: &[u8] = &[];
    for label in host.split(|c| *c == b'.') {
        if label.is_empty()
            || label.len() > 63
            || !label
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            || (label.len() >= 4 && label[..4].eq_ignore_ascii_case(b"xn--"))
        {
            return None;
        }
        last_label = label;
    }
    if !last_label.first().is_some_and(u8::is_ascii_alphabetic) {
        return refused_ipv4(host);
    }
    if let Some(after_colon) = tail.strip_prefix(b":") {
        let digits = after_colon
            .iter()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(after_colon.len());
        if digits > 5 {
            return None;
        }
        let mut port: u32 = 0;
        for d in &after_colon[..digits] {
            port = port * 10 + u32::from(d - b'0');
        }
        if port > 65535 {
            return None;
        }
        tail = &after_colon[digits..];
        if !tail.is_empty() && !matches!(tail[0], b'/' | b'?' | b'#') {
            return None;
        }
    }
    if tail.iter().all(|c| (0x21..=0x7e).contains(c)) {
        Some(true)
    } else {
        None
    }
}

/// `Some(false)` for a dotted-decimal host that the WHATWG IPv4 parser refuses (such as
/// `999.999.999.999`: a host ending in a number must be an IPv4 address); `None` otherwise.
/// Only plain decimal parts are judged (hex and leading-zero octal parts go to the full parser).
fn refused_ipv4(host: &[u8]) -> Option<bool> {
    // A trailing dot is dropped before the parts are read.
    let host = host.strip_suffix(b".").unwrap_or(host);
    let count = host.split(|c| *c == b'.').count();
    if count > 4 {
        return Some(false);
    }
    let mut parts = [0u64; 4];
    for (slot, part) in parts.iter_mut().zip(host.split(|c| *c == b'.')) {
        if part.is_empty()
            || !part.iter().all(u8::is_ascii_digit)
            || (part.len() > 1 && part[0] == b'0')
        {
            return None;
        }
        *slot = part.iter().fold(0u64, |n, d| {
            n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        });
    }
    let (init, last) = parts[..count].split_at(count - 1);
    let too_big = init.iter().any(|p| *p > 255) || last[0] >= 1u64 << (8 * (5 - count));
    too_big.then_some(false)
}

fn strip_prefix_ci<'a>(s: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    (s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &s[prefix.len()..])
}

/// Hyphenated UUID, `8-4-4-4-12` hex digits, any case; version and variant nibbles are not
/// checked (as in JSON Schema).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, `T`/`Z` in either case, real
/// calendar days, and a leap second (`:60`) only where the UTC time is 23:59.
pub fn is_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 {
        return false;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let (Some(year), Some(month), Some(day)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return false;
    }
    let (Some(hour), Some(minute), Some(second)) = (num(11..13), num(14..16), num(17..19)) else {
        return false;
    };
    if b[13] != b':' || b[16] != b':' {
        return false;
    }
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return false;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    let offset_minutes: i64 = match &b[i..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (Some(oh), Some(om)) = (num(i + 1..i + 3), num(i + 4..i + 6)) else {
                return false;
            };
            if oh > 23 || om > 59 {
                return false;
            }
            let m = i64::from(oh * 60 + om);
            if *sign == b'-' { -m } else { m }
        }
        _ => return false,
    };
    if second == 60 {
        let utc = (i64::from(hour * 60 + minute) - offset_minutes).rem_euclid(24 * 60);
        return utc == 23 * 60 + 59;
    }
    true
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_basics() {
        assert!(is_email("a@b.co"));
        assert!(is_email("email@[127.0.0.1]"));
        assert!(!is_email("a@b..c"));
        assert!(!is_email("a@[127.0.0.256]"));
        assert!(!is_email("@b.c"));
    }

    #[cfg(feature = "url")]
    #[test]
    fn url_fast_path_agrees_with_the_parser() {
        for s in [
            "https://example.com",
            "http://a.b-c.org:8080/x?y#z",
            "http://localhost:65535",
            "https://EXAMPLE.com/ü",
            "http://1.2.3.4",
            "http://a:65536",
            "http://xn--a.com",
            "ftp://x",
            "http://a..b",
            "http://999.999.999.999/",
            "http://1.2.3.256/",
            "http://1.2.3.255/",
            "http://1.2.65536/",
            "http://1.2.65535/",
            "http://4294967296",
            "http://4294967295",
            "http://1.2.3.4.5",
            "http://1.2.3.999.",
            "http://1.2.3.4.",
            "http://300.1.1.1:80/x",
            "http://0300.1.1.1",
            "http://0x1ff.1.1.1",
            "http://1..2",
            "http://99999999999999999999999",
            "https://a.999",
        ] {
            if let Some(v) = simple_url(s) {
                assert_eq!(v, url::Url::parse(s).is_ok(), "{s}");
            }
            assert_eq!(is_url(s), url::Url::parse(s).is_ok(), "{s}");
        }
    }

    #[cfg(not(feature = "url"))]
    #[test]
    fn url_and_email_without_the_url_feature() {
        for good in [
            "https://example.com",
            "http://a.b-c.org:8080/x?y#z",
            "http://[::1]:80/",
            "HTTP://user:pw@host/ü",
            "mailto:someone@example.com",
            "urn:isbn:0451450523",
            "  https://trimmed.example  ",
        ] {
            assert!(is_url(good), "{good}");
        }
        for bad in [
            "",
            "example.com",
            "1http://x",
            "http://",
            "http:/x",
            "http://a:65536",
            "http://a:x",
            "http://[zz]/",
            "https://a b",
        ] {
            assert!(!is_url(bad), "{bad}");
        }
        assert!(is_email("name@例え.テスト"));
        assert!(!is_email("a@-bad.例"));
        assert!(!is_email("a@b..例"));
    }

    #[test]
    fn datetime_and_uuid() {
        assert!(is_datetime("2024-02-29T12:00:00Z"));
        assert!(!is_datetime("2023-02-29T12:00:00Z"));
        assert!(is_datetime("1998-12-31T15:59:60.123-08:00"));
        assert!(!is_datetime("1998-12-31T23:58:60Z"));
        assert!(is_uuid("2eb8aa08-aa98-11ea-b4aa-73b441d16380"));
        assert!(!is_uuid("2eb8aa08aa9811eab4aa73b441d16380"));
    }
}
