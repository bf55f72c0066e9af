//! Form-encoded parameters (RFC 6749 Appendix B), parsed strictly: UTF-8,
//! and no parameter may appear twice (RFC 6749 §3.1, §3.2) except
//! `resource`, which RFC 8707 §2 lets a request repeat. Empty values count
//! as absent. Reading the body is `web::form`'s business.

use std::collections::HashMap;

use super::ProtocolError;

/// RFC 8707 §2: the one parameter that may be repeated.
pub const RESOURCE: &str = "resource";

/// The parameters of a form body. Empty values count as absent (RFC 6749 §3.1).
#[derive(Default)]
pub struct Params {
    single: HashMap<String, String>,
    /// Every `resource` value, in order (bounded when parsed into a `ResourceSet`).
    resources: Vec<String>,
}

/// Only the names: the values include secrets and tokens.
impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.single.keys()).finish()
    }
}

impl Params {
    /// The value of a parameter that appears once; `resource` is read with [`Self::resources`].
    pub fn get(&self, name: &str) -> Option<&str> {
        self.single.get(name).map(String::as_str)
    }

    /// The `resource` values (RFC 8707 §2), as sent.
    pub fn resources(&self) -> impl Iterator<Item = &str> {
        self.resources.iter().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let single = self.single.iter().map(|(name, value)| (name.as_str(), value.as_str()));
        single.chain(self.resources.iter().map(|value| (RESOURCE, value.as_str())))
    }

    pub fn require(&self, name: &str) -> Result<&str, ProtocolError> {
        self.get(name)
            .ok_or_else(|| ProtocolError::invalid_request(format!("the {name} parameter is missing")))
    }

    pub fn parse(body: &[u8]) -> Result<Self, ProtocolError> {
        let (params, repeated) = Self::parse_keeping_first(body)?;
        match repeated {
            Some(name) => Err(ProtocolError::invalid_request(format!(
                "the {name} parameter is repeated (RFC 6749 §3.1)"
            ))),
            None => Ok(params),
        }
    }

    /// Like `parse`, but a repeated parameter keeps its first value and is
    /// named, for callers that must decide where to report it.
    pub fn parse_keeping_first(body: &[u8]) -> Result<(Self, Option<String>), ProtocolError> {
        let mut params = HashMap::new();
        let mut resources = Vec::new();
        let mut repeated = None;
        for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &b""[..]),
            };
            let name = decode_component(name)
                .ok_or_else(|| ProtocolError::invalid_request("the body is not valid UTF-8 form encoding"))?;
            let value = decode_component(value)
                .ok_or_else(|| ProtocolError::invalid_request("the body is not valid UTF-8 form encoding"))?;
            if name == RESOURCE {
                if !value.is_empty() {
                    resources.push(value);
                }
                continue;
            }
            if params.contains_key(&name) {
                repeated.get_or_insert(name);
                continue;
            }
            params.insert(name, value);
        }
        params.retain(|_, value| !value.is_empty());
        Ok((Self { single: params, resources }, repeated))
    }
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a
/// space, `%XX` a byte; the result must be UTF-8.
pub fn decode_component(input: &[u8]) -> Option<String> {
    let mut bytes = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = input.get(i + 1..i + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                bytes.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 2;
            }
            byte => bytes.push(byte),
        }
        i += 1;
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_and_percent_escapes_are_decoded() {
        let params = Params::parse(b"scope=a+b%20c&x=%C3%A9").unwrap();
        assert_eq!(params.get("scope"), Some("a b c"));
        assert_eq!(params.get("x"), Some("\u{e9}"));
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(Params::parse(b"grant_type=a&grant_type=b").is_err());
    }

    #[test]
    fn resource_alone_may_be_repeated() {
        let params = Params::parse(b"resource=https%3A%2F%2Fa&resource=urn%3Ab&scope=x").unwrap();
        assert_eq!(params.resources().collect::<Vec<_>>(), ["https://a", "urn:b"]);
        assert_eq!(params.get("resource"), None);
        assert_eq!(params.iter().filter(|(name, _)| *name == RESOURCE).count(), 2);
    }

    #[test]
    fn empty_values_count_as_absent() {
        assert_eq!(Params::parse(b"scope=&a=1").unwrap().get("scope"), None);
    }

    #[test]
    fn bad_escapes_and_non_utf8_are_refused() {
        assert!(Params::parse(b"a=%zz").is_err());
        assert!(Params::parse(b"a=%ff").is_err());
        assert!(Params::parse(b"a=%f").is_err());
        assert!(Params::parse(b"a=%+f").is_err());
        assert!(Params::parse(&[b'a', b'=', 0xff]).is_err());
    }
}
