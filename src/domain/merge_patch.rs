//! JSON Merge Patch (RFC 7396): a patch is a JSON document shaped like its
//! target; each member it names replaces the target's, `null` removes it,
//! and objects are merged member by member. Whatever the patch does not
//! name stays as it is. Generic over `serde_json::Value`: what a patched
//! resource may become is for that resource's own validation to say.

use serde_json::Value;

/// Applies `patch` to `target` in place (RFC 7396 §2, `MergePatch`).
///
/// A patch that is not an object replaces the target whole; an object patch
/// turns a non-object target into an object first. Recursion follows the
/// patch's own nesting, which the JSON parser already bounds.
pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    let Value::Object(target_members) = target else { return };
    for (name, value) in members {
        if value.is_null() {
            target_members.remove(name);
        } else {
            apply(target_members.entry(name.clone()).or_insert(Value::Null), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn patched(target: Value, patch: Value) -> Value {
        let mut target = target;
        apply(&mut target, &patch);
        target
    }

    /// The example of RFC 7396 §3.
    #[test]
    fn the_rfc_7396_section_3_example() {
        let target = json!({
            "title": "Goodbye!",
            "author": {"givenName": "John", "familyName": "Doe"},
            "tags": ["example", "sample"],
            "content": "This will be unchanged"
        });
        let patch = json!({
            "title": "Hello!",
            "phoneNumber": "+01-123-456-7890",
            "author": {"familyName": null},
            "tags": ["example"]
        });
        let expected = json!({
            "title": "Hello!",
            "author": {"givenName": "John"},
            "tags": ["example"],
            "content": "This will be unchanged",
            "phoneNumber": "+01-123-456-7890"
        });
        assert_eq!(patched(target, patch), expected);
    }

    /// Every row of RFC 7396 Appendix A, in order.
    #[test]
    fn the_rfc_7396_appendix_a_examples() {
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "b"}), json!({"b": "c"}), json!({"a": "b", "b": "c"})),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": "b", "b": "c"}), json!({"a": null}), json!({"b": "c"})),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
            (json!({"a": {"b": "c"}}), json!({"a": {"b": "d", "c": null}}), json!({"a": {"b": "d"}})),
            (json!({"a": [{"b": "c"}]}), json!({"a": [1]}), json!({"a": [1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a": "b"}), json!(["c"]), json!(["c"])),
            (json!({"a": "foo"}), json!(null), json!(null)),
            (json!({"a": "foo"}), json!("bar"), json!("bar")),
            (json!({"e": null}), json!({"a": 1}), json!({"e": null, "a": 1})),
            (json!([1, 2]), json!({"a": "b", "c": null}), json!({"a": "b"})),
            (json!({}), json!({"a": {"bb": {"ccc": null}}}), json!({"a": {"bb": {}}})),
        ];
        for (target, patch, expected) in cases {
            let description = format!("{target} + {patch}");
            assert_eq!(patched(target, patch), expected, "{description}");
        }
    }

    #[test]
    fn an_empty_patch_changes_nothing() {
        let target = json!({"a": [1, {"b": null}], "c": {"d": 1}});
        assert_eq!(patched(target.clone(), json!({})), target);
    }
}
