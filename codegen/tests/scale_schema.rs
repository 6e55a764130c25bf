//! The generated schema `examples/scale.rs` measures the generator on is one the generator
//! accepts: a 50-table schema generates, the output parses as Rust, and each table has its
//! row struct.

#[path = "support/scale_schema.rs"]
mod scale_schema;

use writegraph_codegen::{generate, Input, SourceFile};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn a_generated_schema_of_fifty_tables_generates_one_row_struct_per_table() -> TestResult {
    let schema = scale_schema::scale_schema(50);
    assert_eq!(schema.tables.len(), 50);
    // 5 groups of nine tables with four graphs each, then a chain of 5 tables.
    assert_eq!(schema.graph_count, 20);
    let input = Input {
        schema: vec![SourceFile::new("schema.sql", schema.sql.clone())],
        catalog: None,
        graphs: Some(SourceFile::new("graphs.toml", schema.graphs.clone())),
        attributes: Vec::new(),
        ..Input::default()
    };
    let output = generate(&input)?;
    assert_eq!(output.catalog.tables.len(), 50);

    let file = syn::parse_file(&output.code)?;
    let row_structs: Vec<String> = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(item) => Some(item),
            _ => None,
        })
        .filter(|item| {
            item.attrs.iter().any(|attr| {
                attr.path().is_ident("doc")
                    && quote_free_doc(attr).starts_with("A row of table `public.")
            })
        })
        .map(|item| item.ident.to_string())
        .collect();
    assert_eq!(row_structs.len(), 50, "row structs: {row_structs:?}");
    for table in &schema.tables {
        let doc = format!("A row of table `public.{table}`.");
        assert_eq!(
            output.code.matches(&doc).count(),
            1,
            "one row struct documented as {doc}"
        );
    }
    Ok(())
}

/// The text of a `#[doc = "..."]` attribute.
fn quote_free_doc(attr: &syn::Attribute) -> String {
    match &attr.meta {
        syn::Meta::NameValue(syn::MetaNameValue {
            value:
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }),
            ..
        }) => text.value(),
        _ => String::new(),
    }
}
