//! Which hosts a tenant may send the operator to (`--allowed-tenant-hosts`): patterns parsed
//! once at start-up, and the pure match a tenant's URL must pass before any client exists.
//!
//! Without this list, whoever may create an `Auth0Tenant` in one namespace could point its
//! `spec.domain` or `spec.endpoint.url` at any service the operator's network position
//! reaches, and have the operator call it with a client secret (docs/security.md).

use std::fmt;
use std::net::IpAddr;

use url::{Host, Url};

/// Auth0's public cloud tenant domains, the default of `--allowed-tenant-hosts`.
///
/// Source: Auth0's "Public Cloud Service Endpoints"
/// (<https://auth0.com/docs/troubleshoot/customer-support/operational-policies/public-cloud-service-endpoints>):
/// `{yourAccount}.us.auth0.com` and `{yourAccount}.[au|ca|eu|jp|uk].auth0.com`; and "Create
/// Tenants" (<https://auth0.com/docs/get-started/auth0-overview/create-tenants>) for the
/// regions (AU, CA, EU, JP, UK, US; sub-localities such as EU-2 or US-3 keep the region's
/// domain). `*.auth0.com` covers US tenants created before 11 June 2020
/// (`acme.auth0.com`). Private Cloud tenants (`identity.mycompany.auth0.com`), custom
/// domains and Customer-hosted Private Cloud are the customer's own and must be listed.
pub const DEFAULT_ALLOWED_TENANT_HOSTS: &[&str] = &[
    "*.auth0.com",
    "*.us.auth0.com",
    "*.eu.auth0.com",
    "*.au.auth0.com",
    "*.ca.auth0.com",
    "*.jp.auth0.com",
    "*.uk.auth0.com",
];

/// One entry of `--allowed-tenant-hosts`: `*` (any host), a DNS name whose labels may each
/// be `*` (exactly one label, as in a TLS certificate: `*.auth0.com` matches
/// `acme.auth0.com`, not `acme.eu.auth0.com` nor `auth0.com`), or an IP address (IPv6 in
/// brackets); optionally followed by `:PORT`, which then must match too (without it, any
/// port). Case-insensitive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPattern {
    host: PatternHost,
    port: Option<u16>,
    text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PatternHost {
    Any,
    Name(Vec<String>),
    Ip(IpAddr),
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for HostPattern {
    type Err = String;

    /// Parses one entry; the error says what is wrong with it.
    fn from_str(entry: &str) -> Result<Self, String> {
        let text = entry.trim().to_ascii_lowercase();
        let bad = |why: &str| format!("{entry:?} is not a host pattern: {why}");
        if text.is_empty() {
            return Err(bad("empty"));
        }
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (inside, after) = rest.split_once(']').ok_or_else(|| bad("no closing ']'"))?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?),
            };
            let ip: IpAddr = inside.parse().map_err(|_| bad("not an IPv6 address in brackets"))?;
            (PatternHost::Ip(ip), port)
        } else if text.matches(':').count() > 1 {
            return Err(bad("an IPv6 address goes in brackets, e.g. [::1]:8443"));
        } else {
            let (host, port) = match text.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (text.as_str(), None),
            };
            let host = host.strip_suffix('.').unwrap_or(host);
            if host == "*" {
                (PatternHost::Any, port)
            } else if let Ok(ip) = host.parse::<IpAddr>() {
                (PatternHost::Ip(ip), port)
            } else {
                let labels: Vec<String> = host.split('.').map(str::to_string).collect();
                for label in &labels {
                    let fine = label == "*"
                        || (!label.is_empty()
                            && label.len() <= 63
                            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
                    if !fine {
                        return Err(bad(
                            "each dot-separated part must be '*' or letters, digits and '-' (an IPv6 address goes in brackets)",
                        ));
                    }
                }
                if labels.len() < 2 && labels.iter().any(|l| l == "*") {
                    return Err(bad(
                        "a wildcard needs a fixed suffix, e.g. *.auth0.com (or '*' alone for any host)",
                    ));
                }
                (PatternHost::Name(labels), port)
            }
        };
        let port = port
            .map(|p| {
                p.parse::<u16>()
                    .map_err(|_| bad("the port is not a number from 0 to 65535"))
            })
            .transpose()?;
        Ok(HostPattern { host, port, text })
    }
}

impl HostPattern {
    /// Whether `host` (and its `port`, the URL's effective port) matches.
    pub fn matches(&self, host: &Host<&str>, port: Option<u16>) -> bool {
        if self.port.is_some() && self.port != port {
            return false;
        }
        match (&self.host, host) {
            (PatternHost::Any, _) => true,
            (PatternHost::Ip(want), Host::Ipv4(ip)) => *want == IpAddr::V4(*ip),
            (PatternHost::Ip(want), Host::Ipv6(ip)) => *want == IpAddr::V6(*ip),
            (PatternHost::Name(labels), Host::Domain(name)) => {
                let name = name.to_ascii_lowercase();
                let name = name.strip_suffix('.').unwrap_or(&name);
                let parts: Vec<&str> = name.split('.').collect();
                parts.len() == labels.len()
                    && labels
                        .iter()
                        .zip(&parts)
                        .all(|(want, got)| (want == "*" && !got.is_empty()) || want == got)
            }
            _ => false,
        }
    }
}

/// The hosts tenants may name; see [`HostPattern`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedHosts {
    patterns: Vec<HostPattern>,
}

impl Default for AllowedHosts {
    /// [`DEFAULT_ALLOWED_TENANT_HOSTS`].
    fn default() -> Self {
        AllowedHosts::new(
            DEFAULT_ALLOWED_TENANT_HOSTS
                .iter()
                .map(|p| p.parse().unwrap_or_else(|e| panic!("default host pattern: {e}")))
                .collect(),
        )
    }
}

impl fmt::Display for AllowedHosts {
    /// The patterns, comma-separated, as `--allowed-tenant-hosts` takes them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<&str> = self.patterns.iter().map(|p| p.text.as_str()).collect();
        f.write_str(&texts.join(","))
    }
}

impl AllowedHosts {
    pub fn new(patterns: Vec<HostPattern>) -> Self {
        AllowedHosts { patterns }
    }

    /// Whether a request to `url` may be sent: its host (and port) must match a pattern.
    /// A URL without a host (not http or https) never matches.
    pub fn allows(&self, url: &Url) -> bool {
        let Some(host) = url.host() else {
            return false;
        };
        let port = url.port_or_known_default();
        self.patterns.iter().any(|p| p.matches(&host, port))
    }
}

/// `host[:port]` of a URL, for messages (never the path, query or user info).
pub fn host_and_port(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        (None, _) => "(no host)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(patterns: &[&str]) -> AllowedHosts {
        AllowedHosts::new(patterns.iter().map(|p| p.parse().expect("pattern")).collect())
    }

    fn url(text: &str) -> Url {
        Url::parse(text).expect("url")
    }

    #[test]
    fn the_default_admits_auth0s_public_tenant_domains_only() {
        let hosts = AllowedHosts::default();
        for ok in [
            "https://acme.auth0.com/",
            "https://acme.us.auth0.com/",
            "https://acme.eu.auth0.com/",
            "https://acme.au.auth0.com/",
            "https://acme.ca.auth0.com/",
            "https://acme.jp.auth0.com/",
            "https://acme.uk.auth0.com/",
            "https://ACME.EU.AUTH0.COM./",
            "https://acme.eu.auth0.com:443/",
        ] {
            assert!(hosts.allows(&url(ok)), "{ok}");
        }
        for refused in [
            "https://auth0.com/",
            "https://evil.com/",
            "https://acme.auth0.com.evil.com/",
            "https://acme.fr.auth0.com/",
            "https://a.b.eu.auth0.com/",
            "https://10.0.0.1/",
            "https://[::1]/",
            "http://127.0.0.1:8080/",
            "https://kubernetes.default.svc/",
            "https://acme.auth0.com@evil.com/",
            "file:///etc/passwd",
        ] {
            assert!(!hosts.allows(&url(refused)), "{refused}");
        }
    }

    #[test]
    fn ports_ip_addresses_and_any() {
        let hosts = allowed(&["127.0.0.1", "proxy.internal:8443", "[::1]:9000", "*.corp.example"]);
        assert!(hosts.allows(&url("http://127.0.0.1:41234/")));
        assert!(hosts.allows(&url("https://proxy.internal:8443/auth0")));
        assert!(!hosts.allows(&url("https://proxy.internal/")), "443 is not 8443");
        assert!(hosts.allows(&url("https://[::1]:9000/")));
        assert!(!hosts.allows(&url("https://[::1]:9001/")));
        assert!(hosts.allows(&url("https://login.corp.example/")));
        assert!(!hosts.allows(&url("https://127.0.0.2/")));
        // The URL parser reads 2130706433 as 127.0.0.1, so a numeric spelling cannot slip by.
        assert!(allowed(&["127.0.0.1"]).allows(&url("https://2130706433/")));
        assert!(!allowed(&["10.0.0.1"]).allows(&url("https://2130706433/")));
        assert!(allowed(&["*"]).allows(&url("https://anything.example:1/")));
    }

    #[test]
    fn bad_patterns_are_refused_with_the_reason() {
        for (bad, why) in [
            ("", "empty"),
            ("*", ""),
            ("*.auth0.com:http", "port"),
            ("a*.auth0.com", "each dot-separated part"),
            ("*:443", ""),
            ("[::1", "closing"),
            ("::1", "brackets"),
            ("a..b", "each dot-separated part"),
        ] {
            let parsed = bad.parse::<HostPattern>();
            if why.is_empty() {
                assert!(parsed.is_ok(), "{bad}: {parsed:?}");
            } else {
                let err = parsed.expect_err(bad);
                assert!(err.contains(why), "{bad}: {err}");
            }
        }
        assert_eq!(
            allowed(&["*.Auth0.com", "127.0.0.1:80"]).to_string(),
            "*.auth0.com,127.0.0.1:80"
        );
    }

    #[test]
    fn messages_show_host_and_port_only() {
        assert_eq!(
            host_and_port(&url("https://user:pw@10.1.2.3:8443/x?y=1")),
            "10.1.2.3:8443"
        );
        assert_eq!(host_and_port(&url("https://acme.eu.auth0.com/")), "acme.eu.auth0.com");
    }
}
