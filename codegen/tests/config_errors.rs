//! Golden tests for `graphs.toml` error messages: every `fixtures/config_errors/<case>.toml`,
//! checked against the example schema (`../schema`, or `<case>.sql` when the case has one),
//! must fail with exactly the text in `<case>.expected`, located in the case's `.toml` or
//! `.sql`. Each case's second line,
//! `# points at: <text>`, is the text the error's `line:col` must point at. Run with
//! `UPDATE_EXPECT=1` to rewrite the expected files after an intended change, then review the
//! diff.

use std::path::{Path, PathBuf};

use writegraph_codegen::{generate, Input, SourceFile};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config_errors")
}

/// The example's migrations, named as a user in the workspace root would name them.
fn example_schema() -> Result<Vec<SourceFile>, Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema");
    let mut names: Vec<String> = std::fs::read_dir(&dir)?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(dir.join(&name))?;
            Ok(SourceFile::new(format!("schema/{name}"), text))
        })
        .collect()
}

/// `path:line:col: error: ` at the start of `message`: the path and the 1-based line and column.
fn location(message: &str) -> Option<(&str, usize, usize)> {
    let (head, _) = message.split_once(": error: ")?;
    let mut parts = head.rsplitn(3, ':');
    let col = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    Some((parts.next()?, line, col))
}

/// The text of `source` from 1-based `line`:`col` to the end of that line.
fn text_at(source: &str, line: usize, col: usize) -> String {
    source
        .lines()
        .nth(line.saturating_sub(1))
        .map(|l| l.chars().skip(col.saturating_sub(1)).collect())
        .unwrap_or_default()
}

#[test]
fn bad_graphs_files_fail_with_located_messages() -> Result<(), Box<dyn std::error::Error>> {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let example = example_schema()?;
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 10,
        "expected at least 10 bad graphs.toml cases, found {}",
        cases.len()
    );

    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let toml_text = std::fs::read_to_string(case)?;
        let sql_path = case.with_extension("sql");
        // The error may be in the case's own schema, when it has one, or in its toml.
        let mut error_files = vec![(name.clone(), toml_text.clone())];
        let schema = if sql_path.exists() {
            let sql_name = format!("{}.sql", name.trim_end_matches(".toml"));
            let sql_text = std::fs::read_to_string(&sql_path)?;
            error_files.push((sql_name.clone(), sql_text.clone()));
            vec![SourceFile::new(sql_name, sql_text)]
        } else {
            example.clone()
        };
        let input = Input {
            schema,
            catalog: None,
            graphs: Some(SourceFile::new(name.clone(), toml_text.clone())),
            attributes: Vec::new(),
            ..Input::default()
        };
        let message = match generate(&input) {
            Ok(_) => format!("<no error: {name} was accepted>"),
            Err(e) => format!("{e}\n"),
        };

        // file:line:col of the file at fault, pointing at the text the case names.
        let points_at = toml_text
            .lines()
            .nth(1)
            .and_then(|l| l.strip_prefix("# points at: "))
            .unwrap_or_default();
        let error_file = location(&message).and_then(|(path, line, col)| {
            let (_, text) = error_files.iter().find(|(name, _)| name == path)?;
            Some((path, text, line, col))
        });
        match error_file {
            Some((path, text, line, col)) => {
                let found = text_at(text, line, col);
                if !found.starts_with(points_at) {
                    failures.push(format!(
                        "{name}: {path}:{line}:{col} points at `{found}`, not at `{points_at}`:\n{message}"
                    ));
                }
            }
            None => failures.push(format!(
                "{name}: message does not start with `{}:line:col: error:`:\n{message}",
                error_files
                    .iter()
                    .map(|(name, _)| name.as_str())
                    .collect::<Vec<_>>()
                    .join("` or `")
            )),
        }
        if message.lines().count() > 24 {
            failures.push(format!(
                "{name}: message is longer than a screen:\n{message}"
            ));
        }

        let expected_path = case.with_extension("expected");
        if update {
            std::fs::write(&expected_path, &message)?;
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != message {
            failures.push(format!(
                "{name}: message changed\n--- expected\n{expected}--- actual\n{message}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    Ok(())
}

/// The unsupported type of `unsupported_type.sql` generates once `[types]` maps it.
#[test]
fn a_types_mapping_makes_the_unsupported_type_generate() -> Result<(), Box<dyn std::error::Error>> {
    let sql = std::fs::read_to_string(fixtures().join("unsupported_type.sql"))?;
    let input = Input {
        schema: vec![SourceFile::new("unsupported_type.sql", sql)],
        catalog: None,
        graphs: Some(SourceFile::new(
            "graphs.toml",
            "[types]\nmoney = \"String\"\n",
        )),
        attributes: Vec::new(),
        ..Input::default()
    };
    let output = generate(&input).map_err(|e| e.to_string())?;
    assert!(
        output.code.contains("pub price: String"),
        "the money column is not a String field"
    );
    Ok(())
}

/// A field named in `[tables.<t>] fields` replaces the one made from the column's name, and
/// its setters follow; the column the other field came from keeps its own.
#[test]
fn a_fields_setting_names_the_field_and_its_setters() -> Result<(), Box<dyn std::error::Error>> {
    let sql = std::fs::read_to_string(fixtures().join("table_fields_setters_clash.sql"))?;
    let input = Input {
        schema: vec![SourceFile::new("notes.sql", sql)],
        catalog: None,
        graphs: Some(SourceFile::new(
            "graphs.toml",
            "[tables.notes]\nfields = { note_opt = \"second_note\" }\n",
        )),
        ..Input::default()
    };
    let code = generate(&input).map_err(|e| e.to_string())?.code;
    // Setters are listed in one `setters!` call, whose lines break anywhere.
    let code = code.split_whitespace().collect::<Vec<_>>().join(" ");
    for wanted in [
        "pub note: ::std::option::Option<::std::string::String>",
        "pub second_note: ::std::option::Option<::std::string::String>",
        "with_second_note / with_second_note_opt",
        "with_note / with_note_opt",
    ] {
        assert!(code.contains(wanted), "no `{wanted}` in the generated code");
    }
    assert!(
        !code.contains("note_opt_2"),
        "the named field took a suffix"
    );
    Ok(())
}
