//! Just enough HTML for Castellan's pages: forms with their inputs and
//! submit buttons, and character references. Not a general parser.

use url::Url;

/// An HTML form as a browser would submit it.
#[derive(Debug, Clone)]
pub struct Form {
    pub method: String,
    pub action: Url,
    /// `<input>` names and values (hidden ones included), in page order.
    pub fields: Vec<(String, String)>,
    /// Submit buttons: name (maybe empty), value, label.
    pub buttons: Vec<(String, String, String)>,
}

impl Form {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn has_field(&self, name: &str) -> bool {
        self.field(name).is_some()
    }
}

pub fn parse_forms(html: &str, base: &Url) -> Vec<Form> {
    let mut forms = Vec::new();
    let mut rest = 0;
    while let Some((start, attrs)) = next_tag(html, rest, "form") {
        let end = find_ci(html, start, "</form").unwrap_or(html.len());
        let inner = &html[start..end];
        let action = attr(&attrs, "action").unwrap_or_default();
        let mut form = Form {
            method: attr(&attrs, "method").unwrap_or_else(|| "get".into()),
            action: base.join(&action).expect("a valid form action"),
            fields: Vec::new(),
            buttons: Vec::new(),
        };
        let mut at = 0;
        while let Some((pos, attrs)) = next_tag(inner, at, "input") {
            let kind = attr(&attrs, "type").unwrap_or_default().to_ascii_lowercase();
            if let Some(name) = attr(&attrs, "name") {
                let value = attr(&attrs, "value").unwrap_or_default();
                if kind == "submit" {
                    form.buttons.push((name, value.clone(), value));
                } else {
                    form.fields.push((name, value));
                }
            }
            at = pos;
        }
        let mut at = 0;
        while let Some((pos, attrs)) = next_tag(inner, at, "button") {
            let close = find_ci(inner, pos, "</button").unwrap_or(inner.len());
            let label = decode_entities(strip_tags(&inner[pos..close]).trim());
            let kind = attr(&attrs, "type").unwrap_or_else(|| "submit".into());
            if kind.eq_ignore_ascii_case("submit") {
                let name = attr(&attrs, "name").unwrap_or_default();
                form.buttons.push((name, attr(&attrs, "value").unwrap_or_default(), label));
            }
            at = pos;
        }
        forms.push(form);
        rest = end;
    }
    forms
}

/// The next `<name ...>` tag at or after `from`: the index just past it and its attributes.
fn next_tag(html: &str, from: usize, name: &str) -> Option<(usize, Vec<(String, String)>)> {
    let mut at = from;
    loop {
        let start = find_ci(html, at, &format!("<{name}"))?;
        let after = start + name.len() + 1;
        match html[after..].chars().next() {
            Some(c) if c.is_ascii_whitespace() || c == '>' || c == '/' => {
                let (end, attrs) = parse_attributes(html, after);
                return Some((end, attrs));
            }
            _ => at = after,
        }
    }
}

/// Attributes from `at` to the tag's `>`; returns the index past `>`.
fn parse_attributes(html: &str, mut at: usize) -> (usize, Vec<(String, String)>) {
    let bytes = html.as_bytes();
    let mut attrs = Vec::new();
    loop {
        while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b'/') {
            at += 1;
        }
        if at >= bytes.len() {
            return (at, attrs);
        }
        if bytes[at] == b'>' {
            return (at + 1, attrs);
        }
        let start = at;
        while at < bytes.len() && !matches!(bytes[at], b'=' | b'>' | b'/') && !bytes[at].is_ascii_whitespace()
        {
            at += 1;
        }
        let name = html[start..at].to_ascii_lowercase();
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if at >= bytes.len() || bytes[at] != b'=' {
            attrs.push((name, String::new()));
            continue;
        }
        at += 1;
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let value = if at < bytes.len() && (bytes[at] == b'"' || bytes[at] == b'\'') {
            let quote = bytes[at];
            let start = at + 1;
            let end = start + bytes[start..].iter().position(|&b| b == quote).unwrap_or(bytes.len() - start);
            at = (end + 1).min(bytes.len());
            &html[start..end]
        } else {
            let start = at;
            while at < bytes.len() && !bytes[at].is_ascii_whitespace() && bytes[at] != b'>' {
                at += 1;
            }
            &html[start..at]
        };
        attrs.push((name, decode_entities(value)));
    }
}

fn attr(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

fn find_ci(haystack: &str, from: usize, needle: &str) -> Option<usize> {
    haystack[from..].to_ascii_lowercase().find(&needle.to_ascii_lowercase()).map(|i| i + from)
}

fn strip_tags(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// Decodes the character references a template engine emits.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ if entity.starts_with("#x") || entity.starts_with("#X") => {
                u32::from_str_radix(&entity[2..], 16).ok().and_then(char::from_u32)
            }
            _ if entity.starts_with('#') => entity[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parser reads a form as askama renders one: entities in values,
    /// hidden inputs, named and unnamed buttons, a relative action.
    #[test]
    fn forms_are_read_as_a_browser_would_submit_them() {
        let html = r#"<p role="alert">x</p><FORM method="post" action="/consent?a=1&#38;b=2">
            <input type="hidden" name="csrf_token" value="t&#43;k&quot;">
            <input name=rid value='r1'><input id="u" name="username" required>
            <button type="submit" name="decision" value="Allow" class="b">Allow</button>
            <button type="submit" name="decision" value="Deny">De<b>ny</b></button></form>
            <form action="https://other.example/x"><button>Go</button></form>"#;
        let base = Url::parse("http://127.0.0.1:1/login?rid=r1").unwrap();
        let forms = parse_forms(html, &base);
        assert_eq!(forms.len(), 2);
        let form = &forms[0];
        assert_eq!(form.action.as_str(), "http://127.0.0.1:1/consent?a=1&b=2");
        assert_eq!(form.field("csrf_token"), Some("t+k\""));
        assert_eq!(form.field("rid"), Some("r1"));
        assert_eq!(form.field("username"), Some(""));
        assert_eq!(form.buttons[1], ("decision".into(), "Deny".into(), "Deny".into()));
        assert_eq!(forms[1].buttons, [(String::new(), String::new(), "Go".into())]);
        assert_eq!(forms[1].method, "get");
    }
}
