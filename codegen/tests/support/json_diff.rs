//! A small structural diff of two JSON values, made for catalog JSON: it names every
//! difference by its path (`tables[public.orders].columns[qty].type`) and says what each side
//! has, instead of showing two walls of text.
//!
//! Arrays of named things are matched by name, not position: tables, enums and domains by
//! `schema.name`, uniques and foreign keys by `name`, columns by `name` (their order is then
//! checked on its own). Other arrays (key column lists, enum labels) are compared as wholes.

use serde_json::Value;

/// Every difference between `left` and `right`, one line each, with `left_label` and
/// `right_label` naming the sides (`reader`, `postgres`). Empty when they are equal.
pub fn diff(left: &Value, right: &Value, left_label: &str, right_label: &str) -> Vec<String> {
    let mut out = Vec::new();
    let labels = Labels {
        left: left_label,
        right: right_label,
    };
    diff_at("", "", left, right, &labels, &mut out);
    out
}

struct Labels<'a> {
    left: &'a str,
    right: &'a str,
}

/// The name an element of the array under `field` is matched by, when it has one.
fn element_key(field: &str, element: &Value) -> Option<String> {
    let text = |key: &str| element.get(key).and_then(Value::as_str);
    match field {
        "tables" | "enums" | "domains" => Some(format!("{}.{}", text("schema")?, text("name")?)),
        "columns" | "uniques" | "foreign_keys" => text("name").map(str::to_owned),
        _ => None,
    }
}

fn diff_at(
    path: &str,
    field: &str,
    left: &Value,
    right: &Value,
    labels: &Labels<'_>,
    out: &mut Vec<String>,
) {
    match (left, right) {
        (Value::Object(l), Value::Object(r)) => {
            let mut keys: Vec<&String> = l.keys().chain(r.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let sub = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match (l.get(key), r.get(key)) {
                    (Some(a), Some(b)) => diff_at(&sub, key, a, b, labels, out),
                    (Some(a), None) => {
                        out.push(format!("{sub}: only {} has it: {}", labels.left, short(a)))
                    }
                    (None, Some(b)) => {
                        out.push(format!("{sub}: only {} has it: {}", labels.right, short(b)))
                    }
                    (None, None) => {}
                }
            }
        }
        (Value::Array(l), Value::Array(r)) => {
            let keyed_l: Option<Vec<String>> = l.iter().map(|e| element_key(field, e)).collect();
            let keyed_r: Option<Vec<String>> = r.iter().map(|e| element_key(field, e)).collect();
            match (keyed_l, keyed_r) {
                (Some(kl), Some(kr)) if !(l.is_empty() && r.is_empty()) => {
                    diff_keyed(path, field, (l, &kl), (r, &kr), labels, out);
                }
                _ => {
                    if left != right {
                        out.push(format!(
                            "{path}: {} {} vs {} {}",
                            labels.left,
                            short(left),
                            labels.right,
                            short(right)
                        ));
                    }
                }
            }
        }
        _ => {
            if left != right {
                out.push(format!(
                    "{path}: {} {} vs {} {}",
                    labels.left,
                    short(left),
                    labels.right,
                    short(right)
                ));
            }
        }
    }
}

fn diff_keyed(
    path: &str,
    field: &str,
    (l, kl): (&[Value], &[String]),
    (r, kr): (&[Value], &[String]),
    labels: &Labels<'_>,
    out: &mut Vec<String>,
) {
    for (element, key) in l.iter().zip(kl) {
        let sub = format!("{path}[{key}]");
        match kr.iter().position(|k| k == key) {
            Some(i) => diff_at(&sub, "", element, &r[i], labels, out),
            None => out.push(format!(
                "{sub}: only {} has it: {}",
                labels.left,
                short(element)
            )),
        }
    }
    for (element, key) in r.iter().zip(kr) {
        if !kl.contains(key) {
            out.push(format!(
                "{path}[{key}]: only {} has it: {}",
                labels.right,
                short(element)
            ));
        }
    }
    // Columns keep table order; the other keyed arrays are sets.
    if field == "columns" {
        let common_l: Vec<&String> = kl.iter().filter(|k| kr.contains(k)).collect();
        let common_r: Vec<&String> = kr.iter().filter(|k| kl.contains(k)).collect();
        if common_l != common_r {
            out.push(format!(
                "{path} order: {} {common_l:?} vs {} {common_r:?}",
                labels.left, labels.right
            ));
        }
    }
}

/// A value on one line, cut short when long.
fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 200 {
        let cut: String = text.chars().take(200).collect();
        format!("{cut}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_differences_by_path() {
        let reader = json!({"tables": [
            {"schema": "public", "name": "orders", "columns": [
                {"name": "id", "type": "bigint"}, {"name": "note", "type": "text"}
            ]},
            {"schema": "public", "name": "extra", "columns": []}
        ]});
        let postgres = json!({"tables": [
            {"schema": "public", "name": "orders", "columns": [
                {"name": "note", "type": "character varying(20)"}, {"name": "id", "type": "bigint"}
            ]}
        ]});
        let lines = diff(&reader, &postgres, "reader", "postgres");
        assert_eq!(
            lines,
            [
                r#"tables[public.orders].columns[note].type: reader "text" vs postgres "character varying(20)""#,
                r#"tables[public.orders].columns order: reader ["id", "note"] vs postgres ["note", "id"]"#,
                r#"tables[public.extra]: only reader has it: {"columns":[],"name":"extra","schema":"public"}"#,
            ]
        );
        assert!(diff(&reader, &reader, "a", "b").is_empty());
    }
}
