//! Golden tests for the schema reader's error messages: every `fixtures/ddl_errors/<case>.sql`
//! must fail to read with exactly the text in `<case>.expected` (`file:line:col`, the line,
//! a caret and a help line). Run with `UPDATE_EXPECT=1` to rewrite the expected files after
//! an intended change, then review the diff.

use std::path::{Path, PathBuf};

use writegraph_codegen::{ddl, SourceFile};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ddl_errors")
}

#[test]
fn bad_schemas_fail_with_located_messages() -> Result<(), Box<dyn std::error::Error>> {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 15,
        "expected at least 15 bad-input cases, found {}",
        cases.len()
    );

    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = SourceFile::new(name.clone(), std::fs::read_to_string(case)?);
        let message = match ddl::read_schema(&[file]) {
            Ok(_) => format!("<no error: {name} was read without complaint>"),
            Err(e) => format!("{e}\n"),
        };
        // Every message names file:line:col of this file.
        if !message.starts_with(&format!("{name}:")) {
            failures.push(format!(
                "{name}: message does not start with `{name}:line:col`:\n{message}"
            ));
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
