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
        let derives = derived(&attributes.on_type);
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

/// What the `#[derive(...)]` attributes among `attributes` derive, by the last segment of
/// each path (`serde::Deserialize` is `Deserialize`). Read as Rust, so that a doc comment or
/// a derive named `MyDeserialize` that mentions the word is not taken for serde's.
fn derived(attributes: &[String]) -> Vec<String> {
    let mut names = Vec::new();
    for attribute in attributes {
        // Validation made sure each is an outer attribute.
        let Ok(item) = syn::parse_str::<syn::ItemStruct>(&format!("{attribute}\nstruct S;")) else {
            continue;
        };
        for attr in item.attrs.iter().filter(|a| a.path().is_ident("derive")) {
            let _ = attr.parse_nested_meta(|meta| {
                if let Some(last) = meta.path.segments.last() {
                    names.push(last.ident.to_string());
                }
                Ok(())
            });
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::derived;

    #[test]
    fn only_derives_count_as_derives() {
        let attributes = [
            "#[derive(Debug, serde::Serialize)]".to_owned(),
            "#[doc = \"Deserialize me\"]".to_owned(),
            "#[derive(my::MyDeserialize)]".to_owned(),
            "#[serde(rename_all = \"camelCase\")]".to_owned(),
        ];
        assert_eq!(
            derived(&attributes),
            ["Debug", "Serialize", "MyDeserialize"]
        );
    }
}
