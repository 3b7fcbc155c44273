//! The guides are paste-ready: every crate a guide's Rust snippets name is in one of that
//! guide's dependency blocks (```toml with `[dependencies]` or `[dev-dependencies]`). A reader
//! who copies the block and then the code gets a crate that compiles; the snippets themselves
//! are compiled as doctests (see each crate's `lib.rs`), and show all of their code: no line is
//! hidden from the reader, who would paste the snippet without it.
//!
//! The rustdoc beside them cites no section of the unpublished specification (`§…`): a reader
//! cannot look it up.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

use regex::Regex;

/// Path roots that are not crates to depend on: the language's own crates and keywords, and the
/// primitive types (`str::to_owned`, `u64::MAX`).
const LANGUAGE: [&str; 22] = [
    "std", "core", "alloc", "crate", "self", "super", "str", "bool", "char", "u8", "u16", "u32",
    "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f64",
];

struct Block<'a> {
    info: &'a str,
    body: &'a str,
}

fn blocks(text: &str) -> Vec<Block<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let Some(line_end) = after.find('\n') else {
            break;
        };
        let info = after[..line_end].trim();
        let body_and_more = &after[line_end + 1..];
        let Some(end) = body_and_more.find("```") else {
            break;
        };
        out.push(Block {
            info,
            body: &body_and_more[..end],
        });
        rest = &body_and_more[end + 3..];
    }
    out
}

/// The dependency names (as Rust paths: `-` becomes `_`) of the guide's TOML blocks.
fn dependencies(blocks: &[Block<'_>]) -> BTreeSet<String> {
    let entry = Regex::new(r"^\s*([A-Za-z0-9_-]+)\s*=").unwrap();
    blocks
        .iter()
        .filter(|b| b.info.starts_with("toml") && b.body.contains("dependencies]"))
        .flat_map(|b| b.body.lines())
        .filter_map(|line| entry.captures(line))
        .map(|c| c[1].replace('-', "_"))
        .collect()
}

/// The crates a Rust snippet names but the dependency blocks lack.
fn missing(code: &str, deps: &BTreeSet<String>) -> BTreeSet<String> {
    let use_stmt = Regex::new(r"\buse\s+([^;]+);").unwrap();
    let ident = Regex::new(r"[A-Za-z_][A-Za-z0-9_]*").unwrap();
    let local = Regex::new(
        r"\b(?:mod|fn|let|struct|enum|const|static|type)\s+(?:mut\s+)?([a-z_][a-z0-9_]*)",
    )
    .unwrap();
    let root = Regex::new(r"(?:^|[^A-Za-z0-9_:.])([a-z_][a-z0-9_]*)::").unwrap();
    let mut known: BTreeSet<String> = LANGUAGE.iter().map(|s| (*s).to_owned()).collect();
    known.extend(deps.iter().cloned());
    let mut defined = BTreeSet::new();
    for u in use_stmt.captures_iter(code) {
        // Everything a `use` brings in may root a path later (`web::get`, `header::HOST`);
        // the `use`'s own first segment must be a crate.
        let names: Vec<&str> = ident.find_iter(&u[1]).map(|m| m.as_str()).collect();
        defined.extend(names.iter().skip(1).map(|s| (*s).to_owned()));
    }
    defined.extend(local.captures_iter(code).map(|c| c[1].to_owned()));
    root.captures_iter(code)
        .map(|c| c[1].to_owned())
        .filter(|r| !known.contains(r) && !defined.contains(r))
        .collect()
}

#[test]
fn every_crate_a_guide_names_is_in_its_dependency_block() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let mut checked = 0;
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&docs).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let blocks = blocks(&text);
        let deps = dependencies(&blocks);
        if deps.is_empty() {
            continue; // not a guide with a dependency block
        }
        checked += 1;
        let lacking: BTreeSet<String> = blocks
            .iter()
            .filter(|b| b.info.starts_with("rust"))
            .flat_map(|b| missing(b.body, &deps))
            .collect();
        if !lacking.is_empty() {
            problems.push(format!("{}: {lacking:?}", path.display()));
        }
    }
    assert!(
        checked >= 5,
        "only {checked} guides with a dependency block"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The lines of a Rust snippet that rustdoc would compile but not show (`# …`, a lone `#`).
fn hidden_lines(code: &str) -> Vec<&str> {
    code.lines()
        .filter(|line| {
            let line = line.trim_start();
            line == "#" || line.starts_with("# ")
        })
        .collect()
}

#[test]
fn no_guide_hides_lines_from_the_reader() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut guides = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            guides.push(path);
        }
    }
    let mut problems = Vec::new();
    for path in &guides {
        let text = std::fs::read_to_string(path).unwrap();
        for block in blocks(&text).iter().filter(|b| b.info.starts_with("rust")) {
            for line in hidden_lines(block.body) {
                problems.push(format!("{}: {line:?}", path.display()));
            }
        }
    }
    assert!(guides.len() >= 10, "only {} guides", guides.len());
    assert!(
        problems.is_empty(),
        "hidden lines in Rust snippets (show the complete code instead):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_sees_hidden_lines_but_not_attributes() {
    let code = "# use std::sync::Arc;\n#[derive(Debug)]\nstruct A;\n#\n    # let _ = A;\n#![allow(unused)]\n";
    assert_eq!(
        hidden_lines(code),
        ["# use std::sync::Arc;", "#", "    # let _ = A;"]
    );
}

/// The `.rs` files under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The doc-comment lines (`///`, `//!`) of `source` that cite a section (`§`): the specification
/// they would point to is not published, so rustdoc says what Clerk's SDK does instead. Plain
/// `//` comments, for maintainers, may cite it.
fn section_citations(source: &str) -> Vec<&str> {
    source
        .lines()
        .filter(|line| {
            let line = line.trim_start();
            (line.starts_with("///") || line.starts_with("//!")) && line.contains('§')
        })
        .collect()
}

#[test]
fn no_rustdoc_cites_an_unpublished_section() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&crates).unwrap() {
        let src = entry.unwrap().path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    assert!(files.len() >= 50, "only {} source files", files.len());
    let problems: Vec<String> = files
        .iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            section_citations(&text)
                .into_iter()
                .map(|line| format!("{}: {}", path.display(), line.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_citation_check_reads_doc_comments_only() {
    let source = "//! Cookies (§1.4).\n// Spec §1.5.\nfn f() {}\n    /// The suffix (§1.3).\n";
    assert_eq!(
        section_citations(source),
        ["//! Cookies (§1.4).", "    /// The suffix (§1.3)."]
    );
}

#[test]
fn the_check_finds_a_crate_the_block_lacks() {
    let deps: BTreeSet<String> = ["actix_web".to_owned()].into();
    let code = "use actix_web::web;\nfn f() { let v = serde_json::json!({}); web::get(); }";
    assert_eq!(missing(code, &deps), ["serde_json".to_owned()].into());
    let fine = "use actix_web::{web, HttpResponse};\nfn f() { web::get(); std::mem::drop(1); }";
    assert!(missing(fine, &deps).is_empty());
}
