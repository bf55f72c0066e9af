//! Form-encoded parameters (RFC 6749 Appendix B), parsed strictly: UTF-8,
//! and no parameter may appear twice (RFC 6749 §3.1, §3.2). Empty values
//! count as absent. Reading the body is `web::form`'s business.

use std::collections::HashMap;

use super::ProtocolError;

/// The parameters of a form body. Empty values count as absent (RFC 6749 §3.1).
#[derive(Default)]
pub struct Params(HashMap<String, String>);

/// Only the names: the values include secrets and tokens.
impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value.as_str()))
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
            if params.contains_key(&name) {
                repeated.get_or_insert(name);
                continue;
            }
            params.insert(name, value);
        }
        params.retain(|_, value| !value.is_empty());
        Ok((Self(params), repeated))
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
