//! `docs/testing.md` shows exactly the test files `tests/guide_testing_*.rs`: every ```rust block
//! of the guide is one of those files, byte for byte, and every file is shown. The files run as
//! tests, so the guide's code is compiled and passes, and the guide and the tests cannot drift.
//! (After changing a file, `cargo fmt` and copy it into the guide.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

/// The bodies of the guide's ```rust blocks, in order.
fn rust_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match current.as_mut() {
            None if line.trim_start().starts_with("```rust") => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_start().starts_with("```") => {
                blocks.extend(current.take());
            }
            Some(body) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    assert!(current.is_none(), "an unclosed ```rust block");
    blocks
}

/// The test files the guide shows, by name.
fn guide_files(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("guide_testing_") && n.ends_with(".rs"))
        })
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// Where `shown` first differs from `file`, for the failure message.
fn first_difference(shown: &str, file: &str) -> String {
    let mut shown_lines = shown.lines();
    let mut file_lines = file.lines();
    for number in 1.. {
        match (shown_lines.next(), file_lines.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (None, None) => return "only in line endings".to_owned(),
            (a, b) => return format!("line {number}: the guide has {a:?}, the file {b:?}"),
        }
    }
    unreachable!()
}

#[test]
fn the_guide_shows_exactly_the_compiled_test_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let guide = std::fs::read_to_string(root.join("../docs/testing.md")).unwrap();
    let blocks = rust_blocks(&guide);
    let mut files = guide_files(&root.join("tests"));
    assert!(
        files.len() >= 8,
        "only {} guide_testing_*.rs files",
        files.len()
    );

    let mut problems = Vec::new();
    for block in &blocks {
        let first = block.lines().next().unwrap_or_default();
        // A file is recognised by its first line (its `//!` summary).
        let same_start: Vec<String> = files
            .iter()
            .filter(|(_, text)| text.lines().next() == Some(first))
            .map(|(name, _)| name.clone())
            .collect();
        match same_start.as_slice() {
            [name] => {
                let file = files.remove(name).unwrap();
                if *block != file {
                    problems.push(format!(
                        "the block for tests/{name} differs from the file, {}",
                        first_difference(block, &file)
                    ));
                }
            }
            [] => problems.push(format!(
                "a ```rust block is no tests/guide_testing_*.rs file (it starts {first:?}): \
                 keep the guide's code in such a file, where it is compiled and run"
            )),
            _ => problems.push(format!("{same_start:?} start alike ({first:?})")),
        }
    }
    for name in files.keys() {
        problems.push(format!("tests/{name} is not shown in docs/testing.md"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_sees_a_changed_line() {
    let guide = "Text.\n\n```rust\n//! A.\nfn a() {}\n```\n\n```toml\n[x]\n```\n";
    assert_eq!(rust_blocks(guide), ["//! A.\nfn a() {}\n"]);
    assert_eq!(
        first_difference("//! A.\nfn a() {}\n", "//! A.\nfn b() {}\n"),
        r#"line 2: the guide has Some("fn a() {}"), the file Some("fn b() {}")"#
    );
}
