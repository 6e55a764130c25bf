//! The `constraints` module: one const per constraint of the written tables, spelled as
//! PostgreSQL's catalog has it (implicit names included: `order_items_order_id_sku_key`), so
//! that a program matches a rejected write by name:
//! `e.constraint() == Some(constraints::ORDER_ITEMS_ORDER_ID_SKU_KEY)`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::{doc, upper_snake};
use crate::ident;
use crate::model::Model;

/// The `constraints` module's text.
pub(super) fn constraints_module(model: &Model<'_>) -> String {
    let mut code = String::from(
        "/// The constraints of the tables, by the names PostgreSQL reports them under\n\
         /// (`writegraph::Error::constraint`).\npub mod constraints {\n",
    );
    let mut used = BTreeSet::new();
    for table_model in &model.tables {
        let table = table_model.table;
        let mut named: Vec<(&str, String)> = Vec::new();
        if let Some(name) = &table.primary_key_name {
            named.push((
                name,
                format!("PRIMARY KEY ({})", table.primary_key.join(", ")),
            ));
        }
        for unique in &table.uniques {
            let what = if unique.is_constraint {
                "UNIQUE"
            } else {
                "unique index on"
            };
            named.push((
                &unique.name,
                format!("{what} ({})", unique.columns.join(", ")),
            ));
        }
        for fk in &table.foreign_keys {
            named.push((
                &fk.name,
                format!(
                    "FOREIGN KEY ({}) REFERENCES {} ({})",
                    fk.columns.join(", "),
                    fk.ref_table,
                    fk.ref_columns.join(", ")
                ),
            ));
        }
        for check in &table.checks {
            named.push((check, "CHECK".to_owned()));
        }
        for (name, what) in named {
            let const_name = const_name(name, &table_model.rust_name, &mut used);
            code.push_str(&doc(&format!("`{what}` of `{}`.", table.name)));
            let _ = writeln!(code, "pub const {const_name}: &str = {name:?};");
        }
    }
    code.push_str("}\n");
    code
}

/// `ORDER_ITEMS_ORDER_ID_SKU_KEY` for `order_items_order_id_sku_key`; a name another
/// table's constraint already took gets the table's row struct name in front
/// (`ORDER_ITEM_POSITIVE`), then a number.
fn const_name(constraint: &str, rust_name: &str, used: &mut BTreeSet<String>) -> String {
    let plain = ident::rust_field_name(constraint)
        .trim_end_matches('_')
        .to_ascii_uppercase();
    let plain = if plain.starts_with('_') {
        format!("C{plain}")
    } else {
        plain
    };
    let mut candidate = plain.clone();
    if used.contains(&candidate) {
        candidate = format!("{}_{plain}", upper_snake(rust_name));
    }
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = format!("{}_{plain}_{n}", upper_snake(rust_name));
        n += 1;
    }
    used.insert(candidate.clone());
    candidate
}
