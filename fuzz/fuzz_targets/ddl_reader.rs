//! The schema reader on arbitrary text: it reads or fails with a located diagnostic, and never
//! panics, loops or overflows its stack.
#![no_main]

use libfuzzer_sys::fuzz_target;
use writegraph_codegen::{ddl, SourceFile};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = SourceFile::new("fuzz.sql", text);
    if let Err(error) = ddl::read_schema(&[file]) {
        let message = error.to_string();
        assert!(
            message.starts_with("fuzz.sql:"),
            "unlocated error: {message}"
        );
    }
});
