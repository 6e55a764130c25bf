//! Attributes for generated types and fields (`[attributes]` of graphs.toml and
//! `Builder::type_attribute`): each path must select something, and each attribute must be
//! an outer attribute, so that a typo fails here and not as unparsable output.

use crate::config::{self, GraphsConfig};
use crate::error::{ConfigError, Diagnostic, Error};
use crate::model::{Attributes, Model, StepRef};
use crate::source::SourceFile;
use crate::TypeAttribute;

const PATH_HELP: &str = "use \".\" for every generated type, a table (`orders`), a graph (`NewOrderGraph`), an enum (`order_status`), or `table.column` / `Graph.field` for one field";

const ATTRIBUTE_HELP: &str = "write it as in Rust source, like \"#[derive(serde::Serialize)]\"";

/// A diagnostic at the `Builder::type_attribute` call that gave the attribute.
fn at_builder_call(given: &TypeAttribute, message: String) -> Diagnostic {
    match &given.given_at {
        Some(location) => Diagnostic {
            location: location.clone(),
            message: format!("{message} (given to `Builder::type_attribute`)"),
            source_line: None,
            help: None,
        },
        None => Diagnostic::at("<builder>", "", 0, message),
    }
}

/// Checks the attributes of graphs.toml, then the builder's, and puts each on the types and
/// fields of `model` its path selects.
pub fn attributes(
    model: &mut Model<'_>,
    config: &GraphsConfig,
    builder: &[TypeAttribute],
    graphs: Option<&SourceFile>,
) -> Result<(), Error> {
    let empty = SourceFile::new("graphs.toml", "");
    let file = graphs.unwrap_or(&empty);
    let mut errors = Vec::new();
    let mut out: Vec<(String, String)> = Vec::new();
    for (path, attributes) in &config.attributes {
        if !selects_something(model, path.get_ref()) {
            errors.push(
                config::error_at(
                    file,
                    path,
                    format!("attribute path `{}` selects nothing", path.get_ref()),
                )
                .with_help(PATH_HELP),
            );
        }
        for attribute in attributes {
            if !is_outer_attribute(attribute.get_ref()) {
                errors.push(
                    config::error_at(
                        file,
                        attribute,
                        format!("`{}` is not a Rust attribute", attribute.get_ref()),
                    )
                    .with_help(ATTRIBUTE_HELP),
                );
            }
            out.push((path.get_ref().clone(), attribute.get_ref().clone()));
        }
    }
    for given in builder {
        let (path, attribute) = (&given.path, &given.attribute);
        let problem = if !selects_something(model, path) {
            Some((
                format!("attribute path `{path}` selects nothing"),
                PATH_HELP,
            ))
        } else if !is_outer_attribute(attribute) {
            Some((
                format!("`{attribute}` (for `{path}`) is not a Rust attribute"),
                ATTRIBUTE_HELP,
            ))
        } else {
            None
        };
        if let Some((message, help)) = problem {
            errors.push(at_builder_call(given, message).with_help(help));
        }
        out.push((path.clone(), attribute.clone()));
    }
    if errors.is_empty() {
        distribute(model, &out);
        errors.extend(root_patch_derives(model, config, builder, file));
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(Error::Config(ConfigError::from(errors.remove(0)))),
        _ => Err(Error::Many(
            errors
                .into_iter()
                .map(|d| Error::Config(ConfigError::from(d)))
                .collect(),
        )),
    }
}

/// An update graph holds its root's patch (the field `root`), so the patch must derive what
/// the graph derives (serde's `Deserialize` of the graph reads the patch): for each update
/// graph whose root's table does not get a derive the graph gets, an error at the
/// attribute that gave it.
fn root_patch_derives(
    model: &Model<'_>,
    config: &GraphsConfig,
    builder: &[TypeAttribute],
    file: &SourceFile,
) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for graph in &model.update_graphs {
        let root = &model.tables[graph.root];
        let on_patch = root.attributes.derives();
        let missing: Vec<String> = graph
            .attributes
            .derives()
            .into_iter()
            .filter(|d| !on_patch.contains(d))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let derives_missing = |attribute: &str| {
            Attributes {
                on_type: vec![attribute.to_owned()],
                ..Attributes::default()
            }
            .derives()
            .iter()
            .any(|d| missing.contains(d))
        };
        let message = format!(
            "update graph `{}` derives {}, which its root patch `{}Patch` does not: the graph holds the patch of `{}` as its field `root`",
            graph.name,
            missing
                .iter()
                .map(|d| format!("`{d}`"))
                .collect::<Vec<_>>()
                .join(", "),
            root.rust_name,
            root.table.name
        );
        let help = format!(
            "give the table the same derive too (`\"{}\" = [..]` in [attributes]), or put it on \".\"",
            root.table.name.name
        );
        let in_config = config.attributes.iter().find_map(|(path, attributes)| {
            let given = attributes
                .iter()
                .find(|a| *path.get_ref() == graph.name && derives_missing(a.get_ref()))?;
            Some(config::error_at(file, given, message.clone()))
        });
        let diagnostic = in_config.or_else(|| {
            builder
                .iter()
                .find(|b| b.path == graph.name && derives_missing(&b.attribute))
                .map(|b| at_builder_call(b, message.clone()))
        });
        let diagnostic =
            diagnostic.unwrap_or_else(|| Diagnostic::at("<builder>", "", 0, message.clone()));
        errors.push(diagnostic.with_help(&help));
    }
    errors
}

/// Puts each `(path, attribute)` on what its path selects.
fn distribute(model: &mut Model<'_>, attributes: &[(String, String)]) {
    for (path, attribute) in attributes {
        let attribute = attribute.clone();
        for e in &mut model.enums {
            if path == "." || e.name.name == *path || e.name.to_string() == *path {
                e.attributes.on_type.push(attribute.clone());
            }
        }
        let mut root_fields: Vec<Vec<String>> = Vec::new();
        for t in &mut model.tables {
            let mut fields = Vec::new();
            if path == "." || is_table(t.table, path) {
                t.attributes.on_type.push(attribute.clone());
            } else if let Some((owner, column)) = path.rsplit_once('.') {
                if is_table(t.table, owner) {
                    for c in t.columns.iter().filter(|c| c.column.name == column) {
                        fields.push(c.field.clone());
                        push_field(&mut t.attributes, &c.field, &attribute);
                    }
                }
            }
            root_fields.push(fields);
        }
        let graphs = model
            .graphs
            .iter_mut()
            .map(|g| (&g.name, g.root, &mut g.attributes))
            .chain(
                model
                    .update_graphs
                    .iter_mut()
                    .map(|g| (&g.name, g.root, &mut g.attributes)),
            );
        for (name, root, on) in graphs {
            if path == "." || name == path {
                on.on_type.push(attribute.clone());
            }
            for field in &root_fields[root] {
                push_field(on, field, &attribute);
            }
            if let Some(field) = path
                .rsplit_once('.')
                .filter(|(owner, _)| owner == name)
                .map(|(_, field)| field)
            {
                push_field(on, field, &attribute);
            }
        }
    }
}

fn push_field(attributes: &mut Attributes, field: &str, attribute: &str) {
    attributes
        .on_field
        .entry(field.to_owned())
        .or_default()
        .push(attribute.to_owned());
}

/// `path` names the whole output, a table, a graph, an enum, or a field of one of them.
fn selects_something(model: &Model<'_>, path: &str) -> bool {
    if path == "." || selects_type(model, path) {
        return true;
    }
    let Some((owner, field)) = path.rsplit_once('.') else {
        return false;
    };
    let table_field = model
        .tables
        .iter()
        .filter(|t| is_table(t.table, owner))
        .any(|t| t.columns.iter().any(|c| c.column.name == field));
    let graph_field = model.graphs.iter().any(|g| {
        g.name == owner
            && (g
                .steps
                .iter()
                .any(|s| s.parent == StepRef::Root && s.field == field)
                || model.tables[g.root]
                    .columns
                    .iter()
                    .any(|c| c.field == field))
    }) || model.update_graphs.iter().any(|g| {
        // The root's columns are fields of its patch (`table.column` selects them).
        g.name == owner
            && (field == "root"
                || g.children.iter().any(|c| c.field == field)
                || g.connects.iter().any(|c| c.field == field))
    });
    table_field || graph_field
}

fn selects_type(model: &Model<'_>, path: &str) -> bool {
    model.tables.iter().any(|t| is_table(t.table, path))
        || model.graphs.iter().any(|g| g.name == path)
        || model.update_graphs.iter().any(|g| g.name == path)
        || model
            .enums
            .iter()
            .any(|e| e.name.name == path || e.name.to_string() == path)
}

/// `name` is `table` or `schema.table` of `table`.
pub(crate) fn is_table(table: &crate::catalog::Table, name: &str) -> bool {
    table.name.name == name || table.name.to_string() == name
}

fn is_outer_attribute(text: &str) -> bool {
    syn::parse_str::<syn::ItemStruct>(&format!("{text}\nstruct S;"))
        .is_ok_and(|item| !item.attrs.is_empty())
}

#[cfg(test)]
mod tests {
    use crate::{generate, Input, SourceFile};

    const SCHEMA: &str = "CREATE TABLE notes (id bigint PRIMARY KEY, body text NOT NULL, \
                          tag text DEFAULT 'x');
CREATE TABLE marks (id bigint PRIMARY KEY, note_id bigint NOT NULL REFERENCES notes (id));";

    const GRAPHS: &str = "[insert.NoteGraph]\nroot = \"notes\"\n\
                          [[insert.NoteGraph.has_many]]\nfield = \"marks\"\ntable = \"marks\"\n\
                          [attributes]\n\"notes.body\" = [\"#[doc(alias = \\\"text\\\")]\"]\n";

    /// The text of the item `pub struct {name}`, from the end of the item before it to its
    /// closing brace.
    fn struct_text<'a>(code: &'a str, name: &str) -> &'a str {
        let start = code.find(&format!("pub struct {name} {{")).unwrap_or(0);
        let start = code[..start].rfind("\n}").map_or(0, |e| e + 2);
        let end = code[start..].find("\n}").map_or(code.len(), |e| start + e);
        &code[start..end]
    }

    #[test]
    fn attributes_land_on_the_types_and_fields_their_paths_select(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let output = generate(&Input {
            schema: vec![SourceFile::new("schema.sql", SCHEMA)],
            graphs: Some(SourceFile::new("graphs.toml", GRAPHS)),
            attributes: vec![
                crate::TypeAttribute::new(
                    "NoteGraph",
                    "#[derive(serde::Serialize, serde::Deserialize)]",
                ),
                crate::TypeAttribute::new(
                    "marks",
                    "#[derive(serde::Serialize, serde::Deserialize)]",
                ),
            ],
            ..Input::default()
        })?;
        let code = &output.code;
        let graph = struct_text(code, "NoteGraph");
        assert!(
            graph.contains("#[derive(serde::Serialize, serde::Deserialize)]"),
            "{graph}"
        );
        // The column's attribute follows it into the graph rooted in its table.
        assert!(
            graph.contains("#[doc(alias = \"text\")]\n    pub body"),
            "{graph}"
        );
        assert!(
            graph.contains(
                "#[serde(default, deserialize_with = \"::writegraph::serde::double_option\")]\n    \
                 #[serde(skip_serializing_if = \"::std::option::Option::is_none\")]\n    pub tag:"
            ),
            "{graph}"
        );
        for name in ["Mark", "NewMark", "MarkPatch"] {
            assert!(
                struct_text(code, name).contains("serde::Deserialize"),
                "{name}"
            );
        }
        // Without serde's derives, no serde attributes.
        let new_note = struct_text(code, "NewNote");
        assert!(!new_note.contains("serde"), "{new_note}");
        assert!(new_note.contains("#[doc(alias = \"text\")]"), "{new_note}");
        assert!(!struct_text(code, "Note").contains("serde"));
        Ok(())
    }

    #[test]
    fn a_builder_path_that_selects_nothing_is_an_error() {
        let result = generate(&Input {
            schema: vec![SourceFile::new("schema.sql", SCHEMA)],
            attributes: vec![crate::TypeAttribute::new("notes.nope", "#[doc(hidden)]")],
            ..Input::default()
        });
        let message = result.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("attribute path `notes.nope` selects nothing"),
            "{message}"
        );
    }

    #[test]
    fn a_builder_error_points_at_the_type_attribute_call() {
        let dir = std::env::temp_dir().join(format!("writegraph-attr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let schema = dir.join("schema.sql");
        std::fs::write(&schema, SCHEMA).ok();
        let mut builder = crate::Builder::new();
        builder.schema(&schema);
        let line = line!() + 1;
        builder.type_attribute("notes", "derive(Debug)");
        let message = builder
            .generate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        std::fs::remove_dir_all(&dir).ok();
        let at = format!(
            "{}:{line}:17: error: `derive(Debug)` (for `notes`)",
            file!()
        );
        assert!(message.starts_with(&at), "{message}");
        assert!(
            message.contains("given to `Builder::type_attribute`"),
            "{message}"
        );
        assert!(
            message.contains("help: write it as in Rust source"),
            "{message}"
        );
    }
}
