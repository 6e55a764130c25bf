//! A Rust enum per SQL enum, sent as text and read from the enum type.

use std::fmt::Write as _;

use super::doc;
use crate::model::EnumModel;

pub(super) fn enum_code(e: &EnumModel) -> String {
    let name = &e.rust_name;
    let sql_name = e.name.name.as_str();
    let mut code = doc(&format!("Enum type `{}`.", e.name));
    code.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\n");
    code.push_str(&super::attributes::type_attributes(&e.attributes));
    let _ = writeln!(code, "pub enum {name} {{");
    for (label, variant) in &e.variants {
        code.push_str(&doc(&format!("`{label}`")));
        let _ = writeln!(code, "{variant},");
    }
    code.push_str("}\n");
    let arms: String = e
        .variants
        .iter()
        .map(|(label, variant)| format!("Self::{variant} => {label:?},"))
        .collect();
    let all: Vec<String> = e
        .variants
        .iter()
        .map(|(_, v)| format!("Self::{v}"))
        .collect();
    let _ = write!(
        code,
        r#"impl {name} {{
            /// Every value, in the enum's sort order.
            pub const ALL: &'static [Self] = &[{all}];
            /// The label PostgreSQL stores.
            pub fn label(self) -> &'static str {{ match self {{ {arms} }} }}
        }}
        impl ::writegraph::__private::ToSql for {name} {{
            fn to_sql(&self, _ty: &::writegraph::__private::Type, out: &mut ::writegraph::__private::BytesMut)
                -> ::std::result::Result<::writegraph::__private::IsNull, ::std::boxed::Box<dyn ::std::error::Error + ::std::marker::Sync + ::std::marker::Send>> {{
                ::writegraph::__private::enum_to_sql(self.label(), out)
            }}
            fn accepts(ty: &::writegraph::__private::Type) -> bool {{ ::writegraph::__private::enum_accepts(ty, {sql_name:?}) }}
            fn to_sql_checked(&self, ty: &::writegraph::__private::Type, out: &mut ::writegraph::__private::BytesMut)
                -> ::std::result::Result<::writegraph::__private::IsNull, ::std::boxed::Box<dyn ::std::error::Error + ::std::marker::Sync + ::std::marker::Send>> {{
                ::writegraph::__private::to_sql_checked(self, ty, out)
            }}
        }}
        impl<'a> ::writegraph::__private::FromSql<'a> for {name} {{
            fn from_sql(_ty: &::writegraph::__private::Type, raw: &'a [u8])
                -> ::std::result::Result<Self, ::std::boxed::Box<dyn ::std::error::Error + ::std::marker::Sync + ::std::marker::Send>> {{
                let labels: &[&str] = &[{labels}];
                let index = ::writegraph::__private::enum_from_sql(raw, {sql_name:?}, labels)?;
                Ok(Self::ALL[index])
            }}
            fn accepts(ty: &::writegraph::__private::Type) -> bool {{ ::writegraph::__private::enum_accepts(ty, {sql_name:?}) }}
        }}
        "#,
        all = all.join(", "),
        labels = e
            .variants
            .iter()
            .map(|(l, _)| format!("{l:?}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    code
}
