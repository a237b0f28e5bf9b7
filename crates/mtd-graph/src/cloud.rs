//! National clouds and their endpoints. Tokens never cross clouds, so the
//! Graph host and the login host always come as a pair.

use serde::{Deserialize, Serialize};
use url::Url;

/// A Microsoft cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Cloud {
    /// Global Azure, including GCC.
    #[default]
    Global,
    /// US Government (GCC High).
    Usgov,
    /// US Government DoD.
    UsgovDod,
    /// China, operated by 21Vianet.
    China,
}

/// Where Graph and the token service are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Graph root, e.g. `https://graph.microsoft.com` (no version segment).
    pub graph: Url,
    /// Login root, e.g. `https://login.microsoftonline.com`.
    pub login: Url,
    /// The OAuth scope: the cloud's Graph resource (`{cloud graph}/.default`),
    /// kept when `graph` is overridden (a proxy still needs a Graph token),
    /// unless set explicitly with [`Endpoints::with_scope`].
    pub scope: String,
}

/// An endpoint override that is not acceptable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EndpointError {
    /// Not a URL.
    #[error("{name} {url:?} is not a valid URL: {reason}")]
    Invalid {
        /// Which setting.
        name: &'static str,
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// Plain http to a non-loopback host.
    #[error("{name} {url:?} uses plain http; only https is allowed, except for loopback addresses")]
    Insecure {
        /// Which setting.
        name: &'static str,
        /// The URL.
        url: String,
    },
}

impl Endpoints {
    /// The endpoints of a national cloud.
    pub fn for_cloud(cloud: Cloud) -> Self {
        let (graph, login) = match cloud {
            Cloud::Global => ("https://graph.microsoft.com", "https://login.microsoftonline.com"),
            Cloud::Usgov => ("https://graph.microsoft.us", "https://login.microsoftonline.us"),
            Cloud::UsgovDod => ("https://dod-graph.microsoft.us", "https://login.microsoftonline.us"),
            Cloud::China => ("https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
        };
        Endpoints {
            graph: Url::parse(graph).expect("static URL"),
            login: Url::parse(login).expect("static URL"),
            scope: format!("{graph}/.default"),
        }
    }

    /// A cloud's endpoints with optional explicit overrides (e.g. the emulator).
    pub fn with_overrides(
        cloud: Cloud,
        graph: Option<&str>,
        login: Option<&str>,
    ) -> Result<Self, EndpointError> {
        let mut e = Self::for_cloud(cloud);
        if let Some(g) = graph {
            e.graph = checked("graph-url", g)?;
        }
        if let Some(l) = login {
            e.login = checked("login-url", l)?;
        }
        Ok(e)
    }

    /// The OAuth scope for Graph: the cloud's, or the explicit override.
    pub fn scope(&self) -> String {
        self.scope.clone()
    }

    /// Replaces the scope (`[tenant] scope`).
    pub fn with_scope(mut self, scope: Option<&str>) -> Self {
        if let Some(s) = scope {
            self.scope = s.to_string();
        }
        self
    }

    /// `{login}/{tenant}/oauth2/v2.0/{leaf}`.
    pub fn oauth_url(&self, tenant: &str, leaf: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/{leaf}", self.login.as_str().trim_end_matches('/'))
    }

    /// `{graph}/{version}` with no trailing slash.
    pub fn graph_root(&self, version: &str) -> String {
        format!("{}/{version}", self.graph.as_str().trim_end_matches('/'))
    }
}

fn checked(name: &'static str, raw: &str) -> Result<Url, EndpointError> {
    let url = Url::parse(raw).map_err(|e| EndpointError::Invalid {
        name,
        url: raw.into(),
        reason: e.to_string(),
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(EndpointError::Insecure { name, url: raw.into() }),
        other => Err(EndpointError::Invalid {
            name,
            url: raw.into(),
            reason: format!("scheme {other} is not http(s)"),
        }),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clouds() {
        let e = Endpoints::for_cloud(Cloud::UsgovDod);
        assert_eq!(e.scope(), "https://dod-graph.microsoft.us/.default");
        assert_eq!(e.oauth_url("t", "token"), "https://login.microsoftonline.us/t/oauth2/v2.0/token");
        assert_eq!(
            Endpoints::for_cloud(Cloud::China).graph_root("beta"),
            "https://microsoftgraph.chinacloudapi.cn/beta"
        );
    }

    #[test]
    fn scope_stays_the_clouds_behind_a_proxy() {
        let e = Endpoints::with_overrides(Cloud::Usgov, Some("https://proxy.example.com"), None).unwrap();
        assert_eq!(e.scope(), "https://graph.microsoft.us/.default");
        assert_eq!(e.with_scope(Some("api://proxy/.default")).scope(), "api://proxy/.default");
    }

    #[test]
    fn overrides() {
        assert!(Endpoints::with_overrides(Cloud::Global, Some("http://127.0.0.1:8080"), None).is_ok());
        assert!(Endpoints::with_overrides(
            Cloud::Global,
            Some("http://[::1]:8080"),
            Some("http://localhost:1")
        )
        .is_ok());
        assert!(matches!(
            Endpoints::with_overrides(Cloud::Global, Some("http://graph.example.com"), None),
            Err(EndpointError::Insecure { .. })
        ));
        assert!(matches!(
            Endpoints::with_overrides(Cloud::Global, None, Some("not a url")),
            Err(EndpointError::Invalid { .. })
        ));
    }
}
