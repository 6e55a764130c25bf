//! The names PostgreSQL gives to objects the DDL leaves unnamed: `orders_pkey`,
//! `order_items_order_id_sku_key`, `order_items_order_id_fkey`, `orders_id_seq`. Users refer
//! to these names later (`DROP CONSTRAINT`, `conflict_constraint = ...`), so the catalog must
//! spell them exactly as PostgreSQL does (`makeObjectName` and `ChooseRelationName` in
//! PostgreSQL's `indexcmds.c`).

/// PostgreSQL's `NAMEDATALEN - 1`: identifiers longer than this are truncated.
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Truncates an identifier to 63 bytes at a character boundary, as PostgreSQL does.
pub fn truncate_identifier(name: &str) -> String {
    clip(name, MAX_IDENTIFIER_BYTES).to_owned()
}

fn clip(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `makeObjectName(name1, name2, label)`: `name1_name2_label`, shortening the longer of
/// `name1` and `name2` first until the whole fits in 63 bytes.
pub fn make_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let overhead = label.len() + 1 + usize::from(name2.is_some());
    let avail = MAX_IDENTIFIER_BYTES.saturating_sub(overhead);
    let mut len1 = name1.len();
    let mut len2 = name2.map_or(0, str::len);
    while len1 + len2 > avail {
        if len1 > len2 {
            len1 -= 1;
        } else {
            len2 -= 1;
        }
    }
    let mut out = clip(name1, len1).to_owned();
    if let Some(name2) = name2 {
        out.push('_');
        out.push_str(clip(name2, len2));
    }
    out.push('_');
    out.push_str(label);
    out
}

/// `ChooseRelationName`/`ChooseConstraintName`: the first of `name1_name2_label`,
/// `name1_name2_label1`, `..._label2`, ... that `taken` does not reject.
pub fn choose_name(
    name1: &str,
    name2: Option<&str>,
    label: &str,
    taken: impl Fn(&str) -> bool,
) -> String {
    let mut candidate = make_object_name(name1, name2, label);
    let mut pass = 0u32;
    while taken(&candidate) {
        pass += 1;
        candidate = make_object_name(name1, name2, &format!("{label}{pass}"));
    }
    candidate
}

/// `ChooseIndexNameAddition`: column names joined by `_`, stopping once the text reaches
/// the identifier length (the rest would be truncated anyway).
pub fn column_name_addition(columns: &[&str]) -> String {
    let mut out = String::new();
    for column in columns {
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(clip(column, MAX_IDENTIFIER_BYTES));
        if out.len() >= MAX_IDENTIFIER_BYTES {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_like_postgres() {
        assert_eq!(make_object_name("orders", None, "pkey"), "orders_pkey");
        assert_eq!(
            make_object_name("order_items", Some("order_id_sku"), "key"),
            "order_items_order_id_sku_key"
        );
        let long = "a".repeat(40);
        let name = make_object_name(&long, Some(&"b".repeat(40)), "fkey");
        assert_eq!(name.len(), 63);
        assert_eq!(name, format!("{}_{}_fkey", "a".repeat(29), "b".repeat(28)));
        let taken = ["t_a_key".to_owned(), "t_a_key1".to_owned()];
        assert_eq!(
            choose_name("t", Some("a"), "key", |n| taken.iter().any(|t| t == n)),
            "t_a_key2"
        );
        assert_eq!(truncate_identifier(&"é".repeat(40)).len(), 62);
    }
}
