//! `application_type` (OpenID Connect Dynamic Client Registration 1.0 §2):
//! whether a client is a web application or a native one, which decides
//! the redirect URIs it may register.

use serde::{Deserialize, Serialize};
use url::{Host, Url};

use super::RedirectUri;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationType {
    /// OpenID Registration §2: the default.
    #[default]
    Web,
    Native,
}

impl ApplicationType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Native => "native",
        }
    }

    /// Whether `uri` suits this kind of client, and if not, why.
    ///
    /// - A web client redirects to a server on the web: `https`, and not to
    ///   the machine the browser runs on (OpenID Registration §2: web
    ///   clients "MUST NOT use localhost as the hostname").
    /// - A native app redirects to itself (RFC 8252 §7): a private-use
    ///   scheme in reverse-domain form (§7.1), a claimed `https` URI
    ///   (§7.2), or `http` on the loopback interface (§7.3).
    pub fn check_redirect_uri(self, uri: &RedirectUri) -> Result<(), String> {
        let Ok(url) = Url::parse(uri.as_str()) else {
            return Err(format!("redirect URI {uri:?} is not an absolute URI"));
        };
        let loopback = is_loopback_host(&url);
        match (self, url.scheme()) {
            (Self::Web, "https") if !loopback => Ok(()),
            (Self::Web, _) => Err(format!(
                "redirect URI {uri:?}: a web client (application_type \"web\") must use https on a host \
                 other than localhost; register a native client (application_type \"native\") for \
                 loopback or app redirects"
            )),
            (Self::Native, "https") => Ok(()),
            (Self::Native, "http") if loopback => Ok(()),
            (Self::Native, scheme) if scheme.contains('.') => Ok(()),
            (Self::Native, _) => Err(format!(
                "redirect URI {uri:?}: a native client (application_type \"native\") uses a private-use \
                 scheme such as com.example.app:/cb, or http on 127.0.0.1, [::1] or localhost"
            )),
        }
    }
}

impl ApplicationType {
    /// The type of a registration that names none. OpenID Registration §2
    /// defaults to `web`, but RFC 7591 clients that follow RFC 8252 (CLIs,
    /// desktop and MCP clients) register loopback or private-use redirect
    /// URIs without saying `native`: when every redirect URI suits only a
    /// native app, the client is one, instead of being refused.
    pub fn inferred(redirect_uris: &[String]) -> Self {
        let native_only = |uri: &String| {
            RedirectUri::parse(uri).is_ok_and(|uri| {
                Self::Native.check_redirect_uri(&uri).is_ok() && Self::Web.check_redirect_uri(&uri).is_err()
            })
        };
        if !redirect_uris.is_empty() && redirect_uris.iter().all(native_only) {
            Self::Native
        } else {
            Self::Web
        }
    }
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(kind: ApplicationType, uri: &str) -> bool {
        kind.check_redirect_uri(&RedirectUri::parse(uri).unwrap()).is_ok()
    }

    #[test]
    fn a_web_client_uses_https_off_this_machine() {
        assert!(check(ApplicationType::Web, "https://app.example.com/cb"));
        for refused in [
            "https://localhost/cb",
            "https://127.0.0.1/cb",
            "http://127.0.0.1:8080/cb",
            "http://localhost/cb",
            "com.example.app:/cb",
        ] {
            assert!(!check(ApplicationType::Web, refused), "{refused}");
        }
    }

    #[test]
    fn a_registration_without_a_type_is_native_when_only_a_native_app_could_use_its_redirect_uris() {
        let uris = |list: &[&str]| list.iter().map(|u| u.to_string()).collect::<Vec<_>>();
        assert_eq!(
            ApplicationType::inferred(&uris(&["http://127.0.0.1:4000/callback"])),
            ApplicationType::Native
        );
        assert_eq!(
            ApplicationType::inferred(&uris(&["com.example.app:/cb", "http://localhost/cb"])),
            ApplicationType::Native
        );
        for web in [&["https://app.example/cb"][..], &["https://app.example/cb", "http://127.0.0.1/cb"], &[]]
        {
            assert_eq!(ApplicationType::inferred(&uris(web)), ApplicationType::Web, "{web:?}");
        }
    }

    #[test]
    fn a_native_client_uses_its_own_scheme_a_claimed_https_uri_or_loopback_http() {
        for allowed in [
            "com.example.app:/oauth2redirect",
            "https://app.example.com/cb",
            "http://127.0.0.1/cb",
            "http://[::1]:4000/cb",
            "http://localhost:3000/cb",
        ] {
            assert!(check(ApplicationType::Native, allowed), "{allowed}");
        }
    }
}
