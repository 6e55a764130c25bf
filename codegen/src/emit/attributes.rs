//! The user's attributes on generated types and fields (`Builder::type_attribute`,
//! `[attributes]` in graphs.toml), and the serde field attributes an `Option<Option<T>>`
//! field needs when its struct derives serde's traits: a missing key is `None`, `null` is
//! `Some(None)` (`writegraph::serde::double_option`, feature `serde` of the runtime), and
//! `None` is left out when written, so a round trip keeps the difference.

use crate::model::Attributes;

/// The attributes on a type, one a line.
pub(super) fn type_attributes(attributes: &Attributes) -> String {
    attributes
        .on_type
        .iter()
        .map(|a| format!("{a}\n"))
        .collect()
}

/// The attributes on the field `field` of type `field_type` of a struct with `attributes`.
pub(super) fn field_attributes(attributes: &Attributes, field: &str, field_type: &str) -> String {
    let mut code: String = attributes
        .on_field
        .get(field)
        .into_iter()
        .flatten()
        .map(|a| format!("{a}\n"))
        .collect();
    let double_option = field_type
        .replace(' ', "")
        .starts_with("::std::option::Option<::std::option::Option<");
    if double_option {
        let derives = attributes.derives();
        if derives.iter().any(|d| d == "Deserialize") {
            code.push_str(
                "#[serde(default, deserialize_with = \"::writegraph::serde::double_option\")]\n",
            );
        }
        if derives.iter().any(|d| d == "Serialize") {
            code.push_str("#[serde(skip_serializing_if = \"::std::option::Option::is_none\")]\n");
        }
    }
    code
}

/// `#[serde(flatten)]` for a field that holds a struct whose fields read and write as the
/// holder's own (an update graph's root patch), when the holder derives serde's traits.
pub(super) fn flattened(attributes: &Attributes) -> &'static str {
    let derives = attributes.derives();
    if derives
        .iter()
        .any(|d| d == "Serialize" || d == "Deserialize")
    {
        "#[serde(flatten)]\n"
    } else {
        ""
    }
}
