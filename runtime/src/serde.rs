//! Helpers for generated structs that derive serde's `Serialize` and `Deserialize` (given
//! with `Builder::type_attribute` or `[attributes]` in graphs.toml). Feature `serde`.
//!
//! An `Option<Option<T>>` field means three things: `None` leaves the column alone (its
//! DEFAULT, or unchanged in a patch), `Some(None)` is NULL, `Some(Some(v))` is `v`. serde's
//! own reading makes a JSON `null` `None`, like a missing key; the generated code marks such
//! fields `#[serde(default, deserialize_with = "::writegraph::serde::double_option")]` and
//! `#[serde(skip_serializing_if = "Option::is_none")]`, so that a missing key is `None`,
//! `null` is `Some(None)`, and writing the struct back out keeps the difference.

use serde::{Deserialize, Deserializer};

/// Reads a present value of an `Option<Option<T>>` field: `null` is `Some(None)`, a value
/// `Some(Some(v))`. With `#[serde(default)]` on the field, a missing key is `None`.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    #[derive(Debug, PartialEq, serde::Deserialize, serde::Serialize)]
    struct Patch {
        #[serde(
            default,
            deserialize_with = "super::double_option",
            skip_serializing_if = "Option::is_none"
        )]
        note: Option<Option<String>>,
    }

    #[test]
    fn missing_null_and_value_read_and_write_back_apart() -> Result<(), serde_json::Error> {
        for (json, value) in [
            ("{}", None),
            (r#"{"note":null}"#, Some(None)),
            (r#"{"note":"hi"}"#, Some(Some("hi".to_owned()))),
        ] {
            let read: Patch = serde_json::from_str(json)?;
            assert_eq!(read, Patch { note: value }, "{json}");
            assert_eq!(serde_json::to_string(&read)?, json);
        }
        Ok(())
    }
}
